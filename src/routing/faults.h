/* Injected faults and throttling (the control API's /_emulator/faults and
 * /_emulator/throttle, --faults and --throttle-rps). The dispatcher asks
 * faults_decide once a request's route and organization are known; the
 * HTTP layer carries out what it answers (a replaced answer, a delay, a
 * dropped connection). Control API routes are never faulted or throttled.
 *
 * A rule, as given and as listed (JSON):
 *   {"id": N (assigned; ignored when given, so a listed rule can be
 *        added again),
 *    "method": "GET" (optional; any method when absent or "*"),
 *    "path": pattern (required; see faults_path_matches),
 *    "organization": "las:organization:…" (optional; then only requests
 *        authenticated as that organization match),
 *    "probability": 0..1 (optional, default 1: every matching request),
 *    "count": N >= 1 (optional: applied N times, then removed; listed as
 *        the number of applications left),
 *    and at least one of
 *    "status": 200..599 with optional "body" (any JSON; default
 *        {"message": the status's message}): answered instead of the
 *        handler (which does not run);
 *    "latencyMs": 0..600000: the answer (the handler's, or the rule's
 *        status, or the drop) waits this long;
 *    "drop": true: the connection is closed without an answer (not with
 *        "status").}
 * The first rule (in the order added) that matches and whose probability
 * draw succeeds applies; only one rule applies to a request.
 *
 * Thread-safe. With no rules and no throttle, faults_decide costs one
 * atomic load. */
#ifndef LAS_ROUTING_FAULTS_H
#define LAS_ROUTING_FAULTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAULTS_MAX_RULES 1024
#define FAULTS_MAX_LATENCY_MS 600000u

typedef struct fault_action {
  unsigned status; /* non-zero: answer this instead of the handler */
  char *body;      /* its JSON text (malloc'ed; the caller frees) */
  size_t body_len;
  unsigned latency_ms;
  bool drop;
  bool throttled;   /* status is the throttle's 429 */
  unsigned rule_id; /* the rule that applied; 0 for the throttle */
} fault_action;

/* Whether a path matches a pattern. Both are compared without a leading
 * "/v1". A pattern is '/'-separated segments, each one of
 *   literal text, compared exactly (a trailing '/' on either is ignored);
 *   "{name}": any one non-empty segment (route templates are patterns:
 *     "/documents/{documentId}");
 *   text with '*': '*' matches any run of characters within one segment
 *     ("/documents/las:document:*");
 *   "**": any number of segments, none included: "/documents" followed
 *     by a "**" segment matches /documents and every path under it.
 * Linear-backtracking: time O(pattern × path) at worst. */
bool faults_path_matches(const char *pattern, const char *path);
/* Whether pattern is well-formed (as above, starting with '/', at most
 * 1024 bytes); false with the rule in err. */
bool faults_pattern_check(const char *pattern, char *err, size_t errlen);

/* Parses one rule and adds it. `where` names it in messages ("rule",
 * "faults[2]"): false with "faults[2].probability: must be a number from 0
 * to 1" in err. *added (may be NULL) receives the rule as listed (NEW). */
bool faults_add_json(const json_t *rule, const char *where, json_t **added,
                     char *err, size_t errlen);
/* A rules file's text: a JSON array of rules, or an object
 * {"faults": [rules], "throttleRps": N} (both optional). Replaces every
 * rule (and the throttle when given) only when all of it is valid. */
bool faults_load_text(const char *text, size_t len, char *err, size_t errlen);
/* faults_load_text of a file's contents; err names the file. */
bool faults_load_file(const char *path, char *err, size_t errlen);

/* {"faults": [rules as listed], "throttleRps": N} (NEW). */
json_t *faults_list(void);
/* Removes rule id; false when there is none. */
bool faults_remove(unsigned id);
/* Removes every rule (the throttle stays). */
void faults_clear(void);

/* Requests per second per organization before 429; 0: no throttle. */
void faults_set_throttle(unsigned rps);
unsigned faults_throttle(void);

/* The random source of probabilities: a splitmix64 sequence, seeded from
 * the real clock at start; a seed makes the draws reproducible. */
void faults_seed_random(uint64_t seed);

/* What to do with a request (path as received, with or without /v1;
 * organization NULL when unauthenticated; mono_us from clock_mono_us).
 * The throttle counts requests with an organization only; it answers 429
 * {"message": "Too Many Requests"} past the limit in the current second.
 * False (and *out zeroed) when nothing applies. */
bool faults_decide(const char *method, const char *path,
                   const char *organization, int64_t mono_us,
                   fault_action *out);

#endif
