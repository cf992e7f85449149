#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static log_level log_current = LOG_INFO;

void log_set_level(log_level level) { log_current = level; }
log_level log_get_level(void) { return log_current; }

int log_parse_level(const char *name) {
  static const char *const names[] = {"debug", "info", "warn", "error", "off"};
  for (int i = 0; i < 5; i++)
    if (strcmp(name, names[i]) == 0)
      return i;
  return -1;
}

void log_msg(log_level level, const char *fmt, ...) {
  if (level < log_current)
    return;
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  size_t len = (size_t)n < sizeof line - 2 ? (size_t)n : sizeof line - 2;
  line[len++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, len);
  (void)ignored;
}
