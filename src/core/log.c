#include "core/log.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static log_level log_current = LOG_INFO;

void log_set_level(log_level level) {
  log_current = level;
}
log_level log_get_level(void) {
  return log_current;
}

int log_parse_level(const char *name) {
  static const char *const names[] = {"debug", "info", "warn", "error", "off"};
  for (int i = 0; i < 5; i++)
    if (strcmp(name, names[i]) == 0)
      return i;
  return -1;
}

/* Lines below LOG_WARN (the per-request lines) are collected per thread and
 * written by a flusher thread at most LOG_FLUSH_MS after the first one: one
 * write(2) for many lines instead of one per request. Warnings and errors
 * are written at once, after what their thread has collected, so a thread's
 * lines keep their order. The flusher waits on a condition while nothing is
 * collected, so an idle server does not wake up for it. */
enum { LOG_BUF_BYTES = 16384, LOG_FLUSH_MS = 50 };

typedef struct log_buf {
  pthread_mutex_t lock;
  size_t len;
  struct log_buf *next;
  char data[LOG_BUF_BYTES];
} log_buf;

static _Thread_local log_buf *log_mine;
static pthread_mutex_t log_list_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t log_list_cond = PTHREAD_COND_INITIALIZER;
static log_buf *log_all; /* every thread's buffer; never freed */
static bool log_pending;
static pthread_once_t log_flusher_once = PTHREAD_ONCE_INIT;
static bool log_flusher_running;

static void log_write_all(const char *data, size_t len) {
  while (len > 0) {
    ssize_t n = write(STDERR_FILENO, data, len);
    if (n <= 0)
      return;
    data += n;
    len -= (size_t)n;
  }
}

/* Writes out what b holds; called with b->lock held. */
static void log_buf_flush(log_buf *b) {
  log_write_all(b->data, b->len);
  b->len = 0;
}

static void log_flush_all(void) {
  pthread_mutex_lock(&log_list_lock);
  for (log_buf *b = log_all; b; b = b->next) {
    pthread_mutex_lock(&b->lock);
    log_buf_flush(b);
    pthread_mutex_unlock(&b->lock);
  }
  pthread_mutex_unlock(&log_list_lock);
}

static void *log_flusher(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&log_list_lock);
    while (!log_pending)
      pthread_cond_wait(&log_list_cond, &log_list_lock);
    log_pending = false;
    pthread_mutex_unlock(&log_list_lock);
    struct timespec ts = {0, LOG_FLUSH_MS * 1000000L};
    nanosleep(&ts, NULL);
    log_flush_all();
  }
  return NULL;
}

static void log_flusher_start(void) {
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  /* Signals go to the threads that handle them, never to this one. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  log_flusher_running = pthread_create(&t, &attr, log_flusher, NULL) == 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (log_flusher_running) {
    pthread_setname_np(t, "las-log");
    atexit(log_flush_all);
  }
}

/* This thread's buffer, made on first use; NULL when lines must be
 * written directly. */
static log_buf *log_buf_mine(void) {
  if (log_mine)
    return log_mine;
  pthread_once(&log_flusher_once, log_flusher_start);
  if (!log_flusher_running)
    return NULL;
  log_buf *b = malloc(sizeof *b);
  if (!b)
    return NULL;
  pthread_mutex_init(&b->lock, NULL);
  b->len = 0;
  pthread_mutex_lock(&log_list_lock);
  b->next = log_all;
  log_all = b;
  pthread_mutex_unlock(&log_list_lock);
  log_mine = b;
  return b;
}

void log_msg(log_level level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_vmsg(level, fmt, ap);
  va_end(ap);
}

void log_vmsg(log_level level, const char *fmt, va_list ap) {
  if (level < log_current)
    return;
  char line[2048];
  int n = vsnprintf(line, sizeof line - 1, fmt, ap);
  if (n < 0)
    return;
  size_t len = (size_t)n < sizeof line - 2 ? (size_t)n : sizeof line - 2;
  /* A message that brings its own line end (libmicrohttpd's do) gets one. */
  while (len > 0 && line[len - 1] == '\n')
    len--;
  line[len++] = '\n';
  log_buf *b = level < LOG_WARN ? log_buf_mine() : log_mine;
  if (!b) {
    log_write_all(line, len);
    return;
  }
  pthread_mutex_lock(&b->lock);
  if (level >= LOG_WARN || b->len + len > sizeof b->data)
    log_buf_flush(b);
  bool first = false;
  if (level >= LOG_WARN) {
    log_write_all(line, len);
  } else {
    first = b->len == 0;
    memcpy(b->data + b->len, line, len);
    b->len += len;
  }
  pthread_mutex_unlock(&b->lock);
  if (first) {
    pthread_mutex_lock(&log_list_lock);
    if (!log_pending) {
      log_pending = true;
      pthread_cond_signal(&log_list_cond);
    }
    pthread_mutex_unlock(&log_list_lock);
  }
}
