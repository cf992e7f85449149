#include "core/clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static _Atomic int64_t clock_offset;

int64_t clock_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 +
         atomic_load(&clock_offset);
}

int64_t clock_real_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t clock_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void clock_mono_deadline(int64_t wait_us, struct timespec *out) {
  clock_gettime(CLOCK_MONOTONIC, out);
  int64_t ns = (int64_t)out->tv_nsec + (wait_us % 1000000) * 1000;
  out->tv_sec += (time_t)(wait_us / 1000000 + ns / 1000000000);
  out->tv_nsec = (long)(ns % 1000000000);
}

void clock_shift_us(int64_t offset_us) {
  atomic_fetch_add(&clock_offset, offset_us);
}

void clock_set_offset_us(int64_t offset_us) {
  atomic_store(&clock_offset, offset_us);
}

int64_t clock_offset_us(void) {
  return atomic_load(&clock_offset);
}

bool clock_parse_iso(const char *text, int64_t *epoch_us) {
  struct tm tm = {0};
  long micros = 0;
  int consumed = 0;
  if (!text ||
      sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d.%6ld+0000%n", &tm.tm_year,
             &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
             &micros, &consumed) != 7 ||
      text[consumed] != '\0')
    return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  *epoch_us = (int64_t)timegm(&tm) * 1000000 + micros;
  return true;
}

void clock_format_month(int64_t epoch_us, char *buf, size_t len) {
  time_t secs = (time_t)(epoch_us / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  snprintf(buf, len, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
}

void clock_format_iso(int64_t epoch_us, char *buf, size_t len) {
  time_t secs = (time_t)(epoch_us / 1000000);
  long micros = (long)(epoch_us % 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld+0000",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, micros);
}
