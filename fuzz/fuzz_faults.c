/* Fuzz target: fault rules and path patterns (routing/faults.h) and the
 * journal's redaction (http/journal.h). The input is two lines and a rest:
 * a path pattern, a request path, then a faults file's text (a JSON array
 * of rules or {"faults": [...], "throttleRps": N}).
 *
 * Findings, besides crashes, sanitizer reports, leaks and hangs: a refusal
 * without a reason; a well-formed pattern that does not match its own text;
 * accepted rules that, listed and given back, are refused or list
 * differently; a redaction that changes when applied again. */
#include "http/journal.h"
#include "routing/faults.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static _Noreturn void fuzz_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

static char *fuzz_line(const char **p, const char *end) {
  const char *nl = memchr(*p, '\n', (size_t)(end - *p));
  const char *stop = nl ? nl : end;
  char *s = strndup(*p, (size_t)(stop - *p));
  *p = nl ? nl + 1 : end;
  return s;
}

/* The listed rules without their ids (NEW). */
static json_t *fuzz_rules_without_ids(void) {
  json_t *list = faults_list();
  json_t *rules = json_object_get(list, "faults");
  size_t i;
  json_t *r;
  json_array_foreach(rules, i, r) json_object_del(r, "id");
  return list;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = (const char *)data, *end = p + size;
  char *pattern = fuzz_line(&p, end);
  char *path = fuzz_line(&p, end);
  const char *rest = p;
  size_t rest_len = (size_t)(end - p);

  char err[512];
  err[0] = '\0';
  if (faults_pattern_check(pattern, err, sizeof err)) {
    if (!faults_path_matches(pattern, pattern))
      fuzz_fail("pattern %s does not match itself", pattern);
  } else if (!err[0]) {
    fuzz_fail("pattern %s refused without a reason", pattern);
  }
  faults_path_matches(pattern, path);
  faults_path_matches(path, pattern);

  err[0] = '\0';
  if (faults_load_text(rest, rest_len, err, sizeof err)) {
    json_t *before = fuzz_rules_without_ids();
    char *text = json_dumps(before, JSON_COMPACT);
    if (!text)
      fuzz_fail("listed rules cannot be written");
    if (!faults_load_text(text, strlen(text), err, sizeof err))
      fuzz_fail("listed rules refused: %s\n%s", err, text);
    json_t *after = fuzz_rules_without_ids();
    if (!json_equal(before, after))
      fuzz_fail("rules list differently after a round trip: %s", text);
    free(text);
    json_decref(before);
    json_decref(after);
    fault_action a;
    for (int i = 0; i < 3; i++) {
      faults_decide(i ? "GET" : "POST", path, i == 2 ? NULL : "org", i, &a);
      free(a.body);
    }
  } else if (!err[0]) {
    fuzz_fail("rules refused without a reason");
  }
  faults_clear();
  faults_set_throttle(0);

  bool secret_data = size > 0 && (data[0] & 1);
  size_t n1 = 0, n2 = 0;
  char *once = journal_redact_json(rest, rest_len, secret_data, &n1);
  if (once) {
    char *twice = journal_redact_json(once, n1, secret_data, &n2);
    if (twice && (n1 != n2 || memcmp(once, twice, n1) != 0))
      fuzz_fail("redaction not idempotent:\n%.*s\n%.*s", (int)n1, once, (int)n2,
                twice);
    free(twice);
  }
  free(once);
  free(pattern);
  free(path);
  return 0;
}
