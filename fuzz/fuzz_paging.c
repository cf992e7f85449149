/* Fuzz target: the page-token decoder and maxResults, through paging_parse
 * as list handlers call it. The input is three lines: the list context, the
 * maxResults value (absent when the line is empty), then the nextToken
 * value (the rest). Tokens are signed with the key of a throw-away database.
 *
 * Findings, besides crashes and sanitizer reports: an accepted limit outside
 * 1..PAGING_LIMIT; an accepted token that is not the one paging_next_token
 * makes for its position (an edited or foreign token passed the MAC); a
 * token made for a position not read back, or accepted on another list. */
#include "fuzz_env.h"

#include "resources/paging.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of [*p, end) as a NEW string; *p moves past it. */
static char *fuzz_line(const char **p, const char *end, bool rest) {
  const char *nl = rest ? NULL : memchr(*p, '\n', (size_t)(end - *p));
  const char *stop = nl ? nl : end;
  char *s = strndup(*p, (size_t)(stop - *p));
  *p = nl ? nl + 1 : end;
  return s;
}

static bool fuzz_parse(const char *context, const char *max, const char *token,
                       paging_args *out) {
  api_param q[2];
  size_t n = 0;
  if (max)
    q[n++] = (api_param){"maxResults", max};
  if (token)
    q[n++] = (api_param){"nextToken", token};
  api_request req = {.query = q, .n_query = n};
  api_response fail = {0};
  bool ok = paging_parse(&req, context, out, &fail);
  if (!ok && (fail.status != 400 ||
              !json_is_string(json_object_get(fail.body, "message"))))
    fuzz_fail("refused without a 400 and a message");
  api_response_free(&fail);
  return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static fuzz_env env;
  static bool ready;
  if (!ready) {
    fuzz_env_open(&env);
    ready = true;
  }
  const char *p = (const char *)data, *end = p + size;
  char *context = fuzz_line(&p, end, false);
  char *max = fuzz_line(&p, end, false);
  char *token = fuzz_line(&p, end, true);

  paging_args args;
  if (fuzz_parse(context, max[0] ? max : NULL, token, &args)) {
    if (args.limit < 1 || args.limit > PAGING_LIMIT)
      fuzz_fail("limit %d accepted", args.limit);
    if (token[0]) {
      json_t *again = paging_next_token(context, args.after_seq, true);
      if (args.after_seq < 0 || strcmp(json_string_value(again), token) != 0)
        fuzz_fail("token %s accepted for position %lld", token,
                  (long long)args.after_seq);
      json_decref(again);
    }
  }

  /* Round trip: a position taken from the input's bytes. */
  uint64_t u = 0;
  for (size_t i = 0; i < size && i < 8; i++)
    u = u << 8 | data[i];
  int64_t seq = (int64_t)(u >> 1);
  json_t *made = paging_next_token(context, seq, true);
  if (!fuzz_parse(context, NULL, json_string_value(made), &args) ||
      args.after_seq != seq)
    fuzz_fail("token for position %lld not read back", (long long)seq);
  size_t clen = strlen(context);
  char *other = malloc(clen + 2);
  memcpy(other, context, clen);
  memcpy(other + clen, "x", 2);
  if (fuzz_parse(other, NULL, json_string_value(made), &args))
    fuzz_fail("token of list '%s' accepted on another list", context);
  free(other);
  json_decref(made);
  free(context);
  free(max);
  free(token);
  return 0;
}
