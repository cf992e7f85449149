/* The control API's request journal, fault rules and throttle (see
 * http/journal.h and routing/faults.h for what they keep and do).
 *
 *   GET    /_emulator/requests   filters (query, all optional):
 *          method=GET, path=/documents/{documentId} (a path, or a pattern
 *          of routing/faults.h: {name}, '*' and '**'; /v1 ignored),
 *          status=404 | 4xx | 400-499, organization=ID | none,
 *          from=, to= (times as the API writes them, inclusive),
 *          order=newest (default) | oldest, limit=1..journal size (100).
 *          -> {"requests": [entry…], "size", "bodyBytes", "recorded",
 *              "evicted"}
 *   DELETE /_emulator/requests   -> 204, the journal is empty
 *   GET    /_emulator/faults     -> {"faults": [rule…], "throttleRps"}
 *   POST   /_emulator/faults     a rule -> the rule as listed (with id)
 *   DELETE /_emulator/faults     -> 204, every rule removed
 *   DELETE /_emulator/faults/{faultId} -> 204; 404 when there is none
 *   GET    /_emulator/throttle   -> {"rps": N} (0: off)
 *   POST   /_emulator/throttle   {"rps": N} -> {"rps": N}
 * A reset puts the rules and the throttle back as they were at start and
 * empties the journal (emulator_journal.h). */
#include "resources/emulator_journal.h"

#include "core/clock.h"
#include "core/log.h"
#include "http/journal.h"
#include "resources/resources.h"
#include "routing/faults.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool emulator_parse_uint(const char *text, unsigned long long max,
                                unsigned long long *out) {
  if (!text || !*text || *text == '-' || *text == '+')
    return false;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno || *end || v > max)
    return false;
  *out = v;
  return true;
}

/* status=404, 4xx or 400-499. */
static bool emulator_parse_status(const char *text, journal_filter *f) {
  unsigned long long lo = 0, hi = 0;
  if (strlen(text) == 3 && text[0] >= '1' && text[0] <= '5' &&
      strcmp(text + 1, "xx") == 0) {
    f->status_lo = (unsigned)(text[0] - '0') * 100;
    f->status_hi = f->status_lo + 99;
    return true;
  }
  const char *dash = strchr(text, '-');
  if (dash) {
    char first[16];
    size_t n = (size_t)(dash - text);
    if (n == 0 || n >= sizeof first)
      return false;
    memcpy(first, text, n);
    first[n] = '\0';
    if (!emulator_parse_uint(first, 599, &lo) ||
        !emulator_parse_uint(dash + 1, 599, &hi) || lo > hi)
      return false;
  } else {
    if (!emulator_parse_uint(text, 599, &lo))
      return false;
    hi = lo;
  }
  if (hi == 0)
    return false;
  f->status_lo = (unsigned)lo;
  f->status_hi = (unsigned)hi;
  return true;
}

LAS_HANDLER(emulator_requests_list) {
  static const char *const names[] = {"method",       "path", "status",
                                      "organization", "from", "to",
                                      "order",        "limit"};
  static const char *const methods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                        "PATCH", "DELETE", "OPTIONS"};
  journal_filter f = {.from_us = INT64_MIN, .to_us = INT64_MAX, .limit = 100};
  for (size_t i = 0; i < req->n_query; i++) {
    bool known = false;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
      known = known || strcmp(req->query[i].key, names[k]) == 0;
    if (!known)
      return api_errf(ERR_BAD_REQUEST,
                      "%.100s: is not a filter (method, path, status, "
                      "organization, from, to, order, limit)",
                      req->query[i].key);
  }
  const char *v = api_query(req, "method");
  if (v) {
    bool ok = false;
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++)
      ok = ok || strcmp(v, methods[k]) == 0;
    if (!ok)
      return api_errf(ERR_BAD_REQUEST,
                      "method: must be one of GET, HEAD, POST, PUT, PATCH, "
                      "DELETE, OPTIONS");
    f.method = v;
  }
  v = api_query(req, "path");
  if (v) {
    char why[200];
    if (!faults_pattern_check(v, why, sizeof why))
      return api_errf(ERR_BAD_REQUEST, "path: %s", why);
    f.path = v;
  }
  v = api_query(req, "status");
  if (v && !emulator_parse_status(v, &f))
    return api_errf(ERR_BAD_REQUEST,
                    "status: must be a status (404), a class (4xx) or a range "
                    "(400-499) from 100 to 599");
  v = api_query(req, "organization");
  if (v)
    f.organization = strcmp(v, "none") == 0 ? "" : v;
  const char *times[] = {"from", "to"};
  int64_t *bounds[] = {&f.from_us, &f.to_us};
  for (size_t k = 0; k < 2; k++) {
    v = api_query(req, times[k]);
    if (v && !clock_parse_iso(v, bounds[k]))
      return api_errf(ERR_BAD_REQUEST,
                      "%s: must be a time as the API writes it, e.g. "
                      "2021-04-14T14:13:02.021412+0000",
                      times[k]);
  }
  v = api_query(req, "order");
  if (v) {
    if (strcmp(v, "oldest") != 0 && strcmp(v, "newest") != 0)
      return api_errf(ERR_BAD_REQUEST,
                      "order: must be one of [\"newest\", \"oldest\"]");
    f.oldest_first = strcmp(v, "oldest") == 0;
  }
  v = api_query(req, "limit");
  if (v) {
    unsigned long long n = 0;
    if (!emulator_parse_uint(v, JOURNAL_MAX_ENTRIES, &n) || n == 0)
      return api_errf(ERR_BAD_REQUEST, "limit: must be an integer from 1 to %u",
                      JOURNAL_MAX_ENTRIES);
    f.limit = (size_t)n;
  }
  return api_ok(journal_query(&f));
}

LAS_HANDLER(emulator_requests_clear) {
  (void)req;
  journal_clear();
  return api_no_content();
}

LAS_HANDLER(emulator_faults_list) {
  (void)req;
  return api_ok(faults_list());
}

LAS_HANDLER(emulator_faults_add) {
  char err[512];
  json_t *added = NULL;
  if (!faults_add_json(req->body, "body", &added, err, sizeof err)) {
    /* Fields are named without the root, as in the API's messages. */
    const char *msg = strncmp(err, "body.", 5) == 0 ? err + 5 : err;
    return api_errf(ERR_BAD_REQUEST, "%s", msg);
  }
  return api_ok(added);
}

LAS_HANDLER(emulator_faults_clear) {
  (void)req;
  faults_clear();
  return api_no_content();
}

LAS_HANDLER(emulator_faults_remove) {
  const char *id = req->path_params[0];
  unsigned long long n = 0;
  if (!emulator_parse_uint(id, 0xffffffffULL, &n) || n == 0)
    return api_errf(ERR_BAD_REQUEST,
                    "faultId: must be a rule id (a positive integer)");
  if (!faults_remove((unsigned)n))
    return api_errf(ERR_NOT_FOUND, "fault rule %llu: not found", n);
  return api_no_content();
}

LAS_HANDLER(emulator_throttle_get) {
  (void)req;
  return api_ok(json_pack("{s:I}", "rps", (json_int_t)faults_throttle()));
}

LAS_HANDLER(emulator_throttle_set) {
  api_response fail;
  const json_t *v = api_body_only_field(req, "rps", &fail);
  if (!v)
    return fail;
  if (!json_is_integer(v) || json_integer_value(v) < 0 ||
      json_integer_value(v) > 1000000)
    return api_errf(ERR_BAD_REQUEST,
                    "rps: must be an integer from 0 (off) to 1000000");
  faults_set_throttle((unsigned)json_integer_value(v));
  return api_ok(json_pack("{s:I}", "rps", (json_int_t)faults_throttle()));
}

/* What emulator_journal_start was given, for resets. */
static char emulator_faults_file[1024];
static unsigned emulator_throttle_rps;

/* Rules and throttle as at start (the flag's throttle wins). */
static bool emulator_faults_initial(char *err, size_t errlen) {
  faults_clear();
  faults_set_throttle(0);
  if (emulator_faults_file[0] &&
      !faults_load_file(emulator_faults_file, err, errlen))
    return false;
  if (emulator_throttle_rps)
    faults_set_throttle(emulator_throttle_rps);
  return true;
}

bool emulator_journal_start(const char *faults_file, unsigned throttle_rps,
                            char *err, size_t errlen) {
  snprintf(emulator_faults_file, sizeof emulator_faults_file, "%s",
           faults_file ? faults_file : "");
  emulator_throttle_rps = throttle_rps;
  return emulator_faults_initial(err, errlen);
}

void emulator_journal_after_reset(bool restored) {
  if (restored)
    return;
  journal_clear();
  char err[512];
  /* The file may have changed since the start: the rules then stay
   * cleared, and the log says why. */
  if (!emulator_faults_initial(err, sizeof err))
    log_msg(LOG_WARN, "reset: fault rules not restored: %s", err);
}
