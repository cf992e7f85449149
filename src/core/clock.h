/* The only place that reads the time. The control API moves the wall clock
 * with clock_shift_us and clock_set_offset_us. */
#ifndef LAS_CORE_CLOCK_H
#define LAS_CORE_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wall clock, microseconds since the Unix epoch (adjusted by any offset). */
int64_t clock_now_us(void);
/* Monotonic clock in microseconds, for durations only. */
int64_t clock_mono_us(void);
/* The CLOCK_MONOTONIC instant `wait_us` from now, for timed waits on a
 * condition variable that uses that clock. */
struct timespec;
void clock_mono_deadline(int64_t wait_us, struct timespec *out);
/* Wall clock without the emulator's offset: for what clients time by their
 * own clocks, such as access token lifetimes (an SDK caches its token for
 * expires_in seconds of real time, so moving the emulator's clock must not
 * expire it under the client). */
int64_t clock_real_us(void);
/* Shift the wall clock by `offset_us` (cumulative with earlier shifts). */
void clock_shift_us(int64_t offset_us);
/* Sets how far the wall clock runs ahead of the system's (negative: behind),
 * replacing earlier shifts; 0 is real time. */
void clock_set_offset_us(int64_t offset_us);
/* How far the wall clock runs ahead of the system's (the sum of shifts). */
int64_t clock_offset_us(void);

/* ISO 8601 UTC with microseconds, e.g. 2021-04-14T14:13:02.021412+0000.
 * Writes into buf (at least CLOCK_ISO_LEN bytes). */
#define CLOCK_ISO_LEN 32
void clock_format_iso(int64_t epoch_us, char *buf, size_t len);

/* Parses what clock_format_iso writes; false when text is not that form. */
bool clock_parse_iso(const char *text, int64_t *epoch_us);

/* The UTC calendar month of a time, "YYYY-MM" (buf of at least 8 bytes). */
void clock_format_month(int64_t epoch_us, char *buf, size_t len);

#endif
