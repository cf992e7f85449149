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
 *        EMULATOR_MAX_JOBS were due; advancing by 0 runs the rest).
 *   PUT  /_emulator/clock          {"now": ISO 8601}: the clock reads that
 *        instant now (from 1970-01-01T00:00:00Z to 9998-12-31T23:59:59Z,
 *        "Z", "+0000" or "+HH:MM" offsets, fractions to the microsecond);
 *        then runs what is due, as an advance does. Answer: the clock's
 *        fields, "movedSeconds" (negative when it moved back), "jobsRun",
 *        "moreDue".
 *   DELETE /_emulator/clock        back to real time (offset 0); the same
 *        answer.
 * Moving the clock back undoes nothing: what ran stays done, jobs keep their
 * due times (so they are further away and the engine sleeps until then),
 * and objects made afterwards get times earlier than older ones. Access
 * tokens live by real time whatever the clock says (clock_real_us). */
#include "core/clock.h"
#include "core/config.h"
#include "engine/engine.h"
#include "resources/resources.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Jobs one advance runs at most, so that a job that keeps scheduling
 * itself cannot hold the request for ever. */
#define EMULATOR_MAX_JOBS 100000

/* The latest the clock may be moved to: 9998-12-31T23:59:59.999999, a
 * year before the last instant clock_format_iso can write (9999-12-31),
 * so that the clock running on from there never writes a five-digit
 * year. */
#define EMULATOR_MAX_NOW_US 253370764799999999LL

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

/* After the clock moved: runs what became due and answers the clock with
 * `key` (the seconds it moved), jobsRun and moreDue. */
static api_response emulator_clock_moved(const char *key, double seconds) {
  bool more = false;
  long ran = engine_run_due_now(EMULATOR_MAX_JOBS, &more);
  if (ran < 0)
    return api_errf(ERR_UNAVAILABLE,
                    "the clock moved, but the job table could not be read; "
                    "the engine runs what is due when it can");
  json_t *out = emulator_clock_json(clock_now_us());
  json_object_set_new(out, key, json_real(seconds));
  json_object_set_new(out, "jobsRun", json_integer(ran));
  json_object_set_new(out, "moreDue", json_boolean(more));
  return api_ok(out);
}

LAS_HANDLER(emulator_clock_advance) {
  api_response fail;
  const json_t *v = api_body_only_field(req, "seconds", &fail);
  if (!v)
    return fail;
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
                                     "9998-12-31T23:59:59Z");
  clock_shift_us(us);
  return emulator_clock_moved("advancedSeconds", (double)us / 1e6);
}

/* Parses YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HHMM|±HH:MM); false otherwise. */
static bool emulator_parse_now(const char *text, int64_t *out_us) {
  int y, mo, d, h, mi, sec, n = 0;
  if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
             &n) != 6 ||
      n != 19)
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59)
    return false;
  const char *p = text + n;
  int64_t micros = 0;
  if (*p == '.') {
    int digits = 0;
    for (p++; *p >= '0' && *p <= '9'; p++, digits++)
      if (digits < 6)
        micros = micros * 10 + (*p - '0');
    if (digits == 0)
      return false;
    for (; digits < 6; digits++)
      micros *= 10;
  }
  int64_t zone_s = 0;
  if (*p == 'Z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    int zh, zm, used = 0;
    if (sscanf(p + 1, "%2d:%2d%n", &zh, &zm, &used) == 2 && used == 5) {
    } else if (sscanf(p + 1, "%2d%2d%n", &zh, &zm, &used) == 2 && used == 4) {
    } else {
      return false;
    }
    if (zh > 23 || zm > 59)
      return false;
    zone_s = (*p == '-' ? -1 : 1) * (int64_t)(zh * 3600 + zm * 60);
    p += 1 + used;
  } else {
    return false;
  }
  if (*p != '\0')
    return false;
  struct tm tm = {0};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  /* timegm normalises 31 April to 1 May: refuse what it had to change. */
  struct tm back;
  if (!gmtime_r(&t, &back) || back.tm_mday != d || back.tm_mon != mo - 1)
    return false;
  *out_us = ((int64_t)t - zone_s) * 1000000 + micros;
  return true;
}

/* Sets the offset, runs what is due, answers like an advance. */
static api_response emulator_clock_move(int64_t offset_us) {
  int64_t before = clock_now_us();
  clock_set_offset_us(offset_us);
  int64_t moved = clock_now_us() - before;
  /* To the millisecond: the request's own run time is in `moved`. */
  return emulator_clock_moved("movedSeconds",
                              (double)llround((double)moved / 1e3) / 1e3);
}

LAS_HANDLER(emulator_clock_set) {
  api_response fail;
  const json_t *v = api_body_only_field(req, "now", &fail);
  if (!v)
    return fail;
  if (!json_is_string(v))
    return api_errf(ERR_BAD_REQUEST, "now: must be a string");
  int64_t target = 0;
  if (!emulator_parse_now(json_string_value(v), &target))
    return api_errf(ERR_BAD_REQUEST,
                    "now: must be an ISO 8601 date and time with a zone, e.g. "
                    "2030-01-31T12:00:00Z or 2030-01-31T12:00:00.000000+0000");
  if (target < 0 || target > EMULATOR_MAX_NOW_US)
    return api_errf(ERR_BAD_REQUEST,
                    "now: must be from 1970-01-01T00:00:00Z to "
                    "9998-12-31T23:59:59Z");
  return emulator_clock_move(target - clock_real_us());
}

LAS_HANDLER(emulator_clock_reset) {
  (void)req;
  return emulator_clock_move(0);
}
