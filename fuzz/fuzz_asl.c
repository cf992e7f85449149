/* Fuzz target: JSONPath (check, get, set), RFC 3339 timestamps and the ASL
 * definition checker, then the data side on what the checker accepted. The
 * input is a first line, used as a path and as a timestamp, and the rest, a
 * JSON text used as a document and as a definition (Task Resources that
 * start with "las:transition:" exist). An accepted definition runs on its
 * Comment as input when that is a JSON text.
 *
 * Findings, besides crashes, sanitizer reports, leaks and hangs: a refusal
 * without a reason; a Reference Path that is valid but not a valid Path;
 * jsonpath_get or jsonpath_set disagreeing with jsonpath_check; a value set
 * at a path and not read back there; a set that changes a document another
 * holder shares; a timestamp that does not read back as the same instant; a
 * checker message that does not name its place; for a definition the
 * checker accepted, a state that fails at run time with an error the
 * checker should have prevented (an intrinsic function, a Choice rule or
 * Wait field it could not evaluate) or with an error name outside the
 * spec's. */
#include "fuzz_env.h"

#include "core/clock.h"
#include "workflows/asl_check.h"
#include "workflows/asl_data.h"
#include "workflows/jsonpath.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool transition_exists(void *ctx, const char *resource) {
  (void)ctx;
  return strncmp(resource, "las:transition:", 15) == 0;
}

static void fuzz_paths(const char *path, const json_t *doc) {
  char why[256] = "";
  jsonpath_status ref = jsonpath_check(path, true, why, sizeof why);
  if (ref == JSONPATH_INVALID && !why[0])
    fuzz_fail("reference path refused without a reason");
  why[0] = '\0';
  jsonpath_status any = jsonpath_check(path, false, why, sizeof why);
  if (any == JSONPATH_INVALID && !why[0])
    fuzz_fail("path refused without a reason");
  if (ref == JSONPATH_OK && any != JSONPATH_OK)
    fuzz_fail("a valid Reference Path is not a valid Path");
  if (!doc)
    return;
  json_t *got = NULL;
  why[0] = '\0';
  jsonpath_status rc = jsonpath_get(doc, path, &got, why, sizeof why);
  if ((rc == JSONPATH_INVALID) != (any == JSONPATH_INVALID))
    fuzz_fail("jsonpath_get %d where jsonpath_check said %d", rc, any);
  if (rc != JSONPATH_OK && (!why[0] || got))
    fuzz_fail("jsonpath_get failed without a reason or with a result");
  if (rc == JSONPATH_OK && !got)
    fuzz_fail("jsonpath_get succeeded without a result");
  if (rc == JSONPATH_OK && any == JSONPATH_OK && ref != JSONPATH_OK &&
      !json_is_array(got))
    fuzz_fail("a path of many nodes gave no array");
  json_decref(got);

  /* Set, on a document another holder shares: that holder sees nothing. */
  json_t *mine = json_deep_copy(doc);
  json_t *before = json_deep_copy(doc);
  json_t *shared = json_incref(mine);
  why[0] = '\0';
  rc = jsonpath_set(&mine, path, json_string("fuzz-value"), why, sizeof why);
  if ((rc == JSONPATH_INVALID) != (ref == JSONPATH_INVALID))
    fuzz_fail("jsonpath_set %d where jsonpath_check said %d", rc, ref);
  if (rc != JSONPATH_OK && !why[0])
    fuzz_fail("jsonpath_set failed without a reason");
  if (!json_equal(shared, before))
    fuzz_fail("jsonpath_set changed a shared document");
  if (rc == JSONPATH_OK) {
    got = NULL;
    if (jsonpath_get(mine, path, &got, why, sizeof why) != JSONPATH_OK ||
        !json_is_string(got) ||
        strcmp(json_string_value(got), "fuzz-value") != 0)
      fuzz_fail("a value set at a path is not read back there");
    json_decref(got);
  } else if (!json_equal(mine, before)) {
    fuzz_fail("a failed jsonpath_set changed the document");
  }
  json_decref(shared);
  json_decref(mine);
  json_decref(before);
}

static void fuzz_timestamp(const char *text) {
  int64_t us = 0;
  if (!asl_parse_timestamp(text, &us) || us < 0)
    return;
  char iso[CLOCK_ISO_LEN];
  clock_format_iso(us, iso, sizeof iso);
  int64_t again = -1;
  if (!asl_parse_timestamp(iso, &again) || again != us)
    fuzz_fail("timestamp %s -> %s does not read back", text, iso);
}

static bool known_error(const char *name) {
  static const char *const names[] = {ASL_ERR_RESULT_PATH,
                                      ASL_ERR_PARAMETER_PATH, ASL_ERR_NO_CHOICE,
                                      ASL_ERR_RUNTIME};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strcmp(name, names[i]) == 0)
      return true;
  return false;
}

static void expect(bool ok, const asl_error *err, const char *what,
                   const char *state) {
  if (ok)
    return;
  json_t *text = json_string(err->cause);
  json_decref(text);
  if (!known_error(err->error) || !err->cause[0] || !text)
    fuzz_fail("%s of accepted state %s: %s (%s)", what, state, err->error,
              err->cause);
}

/* Runs the data side over the states of an accepted machine, with the
 * definition itself as input. */
static void fuzz_machine(const json_t *machine, const json_t *input,
                         unsigned depth) {
  static const char *const context_text =
      "{\"Execution\": {\"Id\": \"e\", \"Input\": {}}, \"State\": {\"Name\": "
      "\"s\"}}";
  json_t *context = json_loads(context_text, 0, NULL);
  const char *name;
  const json_t *state;
  json_object_foreach(json_object_get(machine, "States"), name, state) {
    const char *type = json_string_value(json_object_get(state, "Type"));
    asl_error err = {"", ""};
    json_t *eff = NULL, *out = NULL;
    if (strcmp(type, "Fail") == 0)
      continue;
    bool ok = asl_effective_input(state, input, context, &eff, &err);
    expect(ok, &err, "input", name);
    if (!ok)
      continue;
    if (strcmp(type, "Choice") == 0) {
      const char *next = NULL;
      ok = asl_choose(state, eff, &next, &err);
      if (ok ? !json_object_get(json_object_get(machine, "States"), next)
             : strcmp(err.error, ASL_ERR_NO_CHOICE) != 0 &&
                   strncmp(err.cause, "Invalid path", 12) != 0)
        fuzz_fail("choice of accepted state %s: %s (%s)", name, err.error,
                  err.cause);
    } else if (strcmp(type, "Wait") == 0) {
      int64_t until = 0;
      ok = asl_wait_until(state, eff, 1700000000000000, &until, &err);
      if (ok && until < 1700000000000000)
        fuzz_fail("wait of accepted state %s ends before it starts", name);
      if (!ok && !json_object_get(state, "SecondsPath") &&
          !json_object_get(state, "TimestampPath"))
        fuzz_fail("wait of accepted state %s: %s", name, err.cause);
      expect(ok, &err, "wait", name);
    } else if (strcmp(type, "Task") == 0 || strcmp(type, "Parallel") == 0) {
      json_t *attempts = json_array();
      int64_t delay = 0;
      for (int i = 0; i < 4; i++)
        if (asl_retry(state, ASL_ERR_TASK_FAILED, attempts, &delay) &&
            (delay < 0 || delay > 99999999LL * 1000000))
          fuzz_fail("retry delay %lld of state %s", (long long)delay, name);
      json_decref(attempts);
      const json_t *catcher = asl_catcher(state, ASL_ERR_TIMEOUT);
      if (catcher) {
        ok = asl_catch_output(catcher, input, ASL_ERR_TIMEOUT, "c", &out, &err);
        expect(ok, &err, "catch", name);
        json_decref(out);
        out = NULL;
      }
      if (depth < 3 && strcmp(type, "Parallel") == 0) {
        const json_t *branches = json_object_get(state, "Branches");
        for (size_t i = 0; i < json_array_size(branches); i++)
          fuzz_machine(json_array_get(branches, i), eff, depth + 1);
      }
    }
    const json_t *result = json_object_get(state, "Result");
    ok = asl_effective_output(state, input, result ? result : eff, context,
                              &out, &err);
    expect(ok, &err, "output", name);
    json_decref(out);
    json_decref(eff);
  }
  json_decref(context);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *p = (const char *)data, *end = p + size;
  const char *nl = memchr(p, '\n', size);
  char *line = strndup(p, (size_t)((nl ? nl : end) - p));
  const char *rest = nl ? nl + 1 : end;
  json_error_t jerr;
  json_t *doc = json_loadb(rest, (size_t)(end - rest), JSON_DECODE_ANY, &jerr);

  fuzz_paths(line, doc);
  fuzz_timestamp(line);
  if (doc) {
    char why[512] = "";
    if (asl_check(doc, transition_exists, NULL, why, sizeof why)) {
      /* The input: the machine's Comment when that is JSON, else the
       * definition itself. */
      const char *comment = json_string_value(json_object_get(doc, "Comment"));
      json_t *input =
          comment ? json_loads(comment, JSON_DECODE_ANY, &jerr) : NULL;
      fuzz_machine(doc, input ? input : doc, 0);
      json_decref(input);
    } else if (strncmp(why, "definition", 10) != 0 || !strstr(why, ": ")) {
      fuzz_fail("checker message without its place: %s", why);
    } else {
      json_t *text = json_string(why);
      if (!text)
        fuzz_fail("checker message is not UTF-8: %s", why);
      json_decref(text);
    }
  }
  json_decref(doc);
  free(line);
  return 0;
}
