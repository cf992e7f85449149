/* The request journal (GET/DELETE /_emulator/requests): the last N
 * requests the server answered (or dropped), in a ring buffer. Entries are
 * redacted when recorded, so no secret is kept in memory either.
 *
 * Memory is bounded whatever the load: N entries (--journal-size), each
 * at most 2 × --journal-body-bytes of bodies plus JOURNAL_MAX_PATH bytes of
 * path and JOURNAL_MAX_QUERY bytes of query, plus small fixed fields.
 *
 * Redaction ("***"):
 * - headers are not kept at all (Authorization tokens, Basic credentials,
 *   x-api-key, the admin token);
 * - in JSON bodies, the value of every field named (case-insensitively)
 *   clientSecret, client_secret, apiKey, api_key, x-api-key, password,
 *   secret, token, accessToken, access_token, refreshToken, refresh_token,
 *   id_token, adminToken, and `data` on paths under /secrets (secret
 *   values);
 *   the scan works on truncated text (a value cut short is redacted to the
 *   end);
 * - bodies that are not JSON (they do not start with '{' or '[') are read
 *   as forms (the token endpoint's): every value but grant_type, scope,
 *   client_id and username;
 * - in the query, values of the same secret names as JSON fields.
 * Thread-safe. */
#ifndef LAS_HTTP_JOURNAL_H
#define LAS_HTTP_JOURNAL_H

#include "routing/api.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_MAX_PATH 2048
#define JOURNAL_MAX_QUERY 4096
#define JOURNAL_MAX_ENTRIES 1000000u
#define JOURNAL_MAX_BODY_BYTES (1u << 20)

/* entries 0 turns the journal off. Call before serving (not thread-safe
 * with journal_record). */
bool journal_configure(size_t entries, size_t body_bytes);
bool journal_enabled(void);
/* The body limit: how much of a response body a recorder copies (one byte
 * more tells that it was cut). */
size_t journal_body_bytes(void);

typedef struct journal_record {
  int64_t time_us; /* the emulator's clock when the request arrived */
  int64_t duration_us;
  const char *method;
  const char *path; /* decoded, as received */
  const api_param *query;
  size_t n_query;
  unsigned status;          /* 0: dropped without an answer */
  const char *organization; /* as authenticated; NULL when none */
  const char *route;        /* "METHOD /template"; NULL when none */
  const char *nearest;      /* unmatched: nearest route, reason */
  const char *reason;
  const char *fault; /* "rule 3", "throttle"; NULL */
  bool http_layer;   /* answered by the HTTP layer (a limit) */
  const char *request_body;
  size_t request_body_len;
  const char *response_body; /* at most body_bytes + 1 bytes of it */
  size_t response_body_len;
  bool response_cut; /* the response body was longer than what is given */
} journal_record;

/* Copies, redacts and keeps the record (evicting the oldest). */
void journal_record_add(const journal_record *r);
void journal_clear(void);

typedef struct journal_filter {
  const char *method; /* NULL: any */
  const char *path;   /* exact path, or a faults_path_matches pattern */
  unsigned status_lo, status_hi; /* 0, 0: any */
  const char *organization;      /* NULL: any; "" : none (unauthenticated) */
  int64_t from_us, to_us;        /* INT64_MIN/INT64_MAX: unbounded */
  bool oldest_first;
  size_t limit;
} journal_filter;

/* {"requests": [entries], "size": N, "bodyBytes": B, "recorded": total
 * since start or clear, "evicted": overwritten by newer ones} (NEW). */
json_t *journal_query(const journal_filter *f);

/* Redacts a JSON (or JSON-like, possibly truncated) text in place into
 * out (malloc'ed, NUL-terminated); exposed for tests and the fuzzer. */
char *journal_redact_json(const char *text, size_t len, bool secret_data,
                          size_t *out_len);

#endif
