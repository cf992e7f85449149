/* The emulator's control API (/_emulator/…): not part of the reference API.
 * The dispatcher lets only the admin token, or loopback clients when none
 * is configured, reach it (ROUTE_CONTROL), and runs these handlers outside
 * a transaction.
 *
 *   GET  /_emulator/clock          {"now": ISO 8601, "epochMilliseconds",
 *                                   "offsetSeconds" (from real time)}
 *   POST /_emulator/clock/advance  {"seconds": N}: N from 0 to 100 years,
 *        fractions kept to the microsecond. Moves the clock forward, then
 *        runs every engine job that is due (waits, retries, timeouts,
 *        processing, retention, and whatever those make due at once)
 *        before it answers: the clock's fields, plus "advancedSeconds",
 *        "jobsRun" and "moreDue" (true when more than
 *        EMULATOR_MAX_JOBS were due; advancing by 0 runs the rest). */
#include "core/clock.h"
#include "core/config.h"
#include "engine/engine.h"
#include "resources/resources.h"

#include <math.h>
#include <string.h>

/* Jobs one advance runs at most, so that a job that keeps scheduling
 * itself cannot hold the request for ever. */
#define EMULATOR_MAX_JOBS 100000

/* The last instant clock_format_iso can write: 9999-12-31T23:59:59.999999. */
#define EMULATOR_MAX_NOW_US 253402300799999999LL

static json_t *emulator_clock_json(int64_t now_us) {
  char iso[CLOCK_ISO_LEN];
  clock_format_iso(now_us, iso, sizeof iso);
  /* Floor division: epoch milliseconds of an instant before 1970 too. */
  int64_t ms = now_us / 1000 - (now_us % 1000 < 0);
  return json_pack("{s:s, s:I, s:f}", "now", iso, "epochMilliseconds",
                   (json_int_t)ms, "offsetSeconds",
                   (double)clock_offset_us() / 1e6);
}

LAS_HANDLER(emulator_clock_get) {
  (void)req;
  return api_ok(emulator_clock_json(clock_now_us()));
}

LAS_HANDLER(emulator_clock_advance) {
  const json_t *body = req->body;
  if (!json_is_object(body))
    return api_errf(ERR_BAD_REQUEST, "body: must be object");
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)body, key, v) {
    if (strcmp(key, "seconds") != 0)
      return api_errf(ERR_BAD_REQUEST,
                      "%.100s: is not a field of this request (only seconds)",
                      key);
  }
  v = json_object_get(body, "seconds");
  if (!v)
    return api_errf(ERR_BAD_REQUEST, "seconds: is required");
  if (!json_is_number(v))
    return api_errf(ERR_BAD_REQUEST, "seconds: must be a number");
  double seconds = json_number_value(v);
  if (!(seconds >= 0))
    return api_errf(ERR_BAD_REQUEST, "seconds: must be >= 0");
  if (seconds > (double)CONFIG_MAX_CLOCK_OFFSET_S)
    return api_errf(ERR_BAD_REQUEST, "seconds: must be <= %llu (100 years)",
                    (unsigned long long)CONFIG_MAX_CLOCK_OFFSET_S);
  int64_t us = (int64_t)llround(seconds * 1e6);
  if (clock_now_us() > EMULATOR_MAX_NOW_US - us)
    return api_errf(ERR_BAD_REQUEST, "seconds: would move the clock past "
                                     "9999-12-31T23:59:59Z");
  clock_shift_us(us);
  bool more = false;
  long ran = engine_run_due_now(EMULATOR_MAX_JOBS, &more);
  if (ran < 0)
    return api_errf(ERR_UNAVAILABLE,
                    "the clock moved, but the job table could not be read; "
                    "the engine runs what is due when it can");
  json_t *out = emulator_clock_json(clock_now_us());
  json_object_set_new(out, "advancedSeconds", json_real((double)us / 1e6));
  json_object_set_new(out, "jobsRun", json_integer(ran));
  json_object_set_new(out, "moreDue", json_boolean(more));
  return api_ok(out);
}
