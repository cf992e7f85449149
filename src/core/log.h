/* Leveled logging to stderr. Lines never interleave: each is written whole.
 * Info and debug lines are collected per thread and written in batches,
 * within 50 ms (and at exit); warnings and errors are written at once. */
#ifndef LAS_CORE_LOG_H
#define LAS_CORE_LOG_H

#include <stdarg.h>

typedef enum {
  LOG_DEBUG = 0,
  LOG_INFO,
  LOG_WARN,
  LOG_ERROR,
  LOG_OFF
} log_level;

void log_set_level(log_level level);
log_level log_get_level(void);
/* Parses "debug|info|warn|error|off"; returns -1 when unknown. */
int log_parse_level(const char *name);
void log_msg(log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* log_msg with its arguments as a va_list (for libraries' log callbacks);
 * a trailing line end in the message is dropped. */
void log_vmsg(log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
