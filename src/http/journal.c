#include "http/journal.h"

#include "core/clock.h"
#include "core/codec.h"
#include "core/jsontext.h"
#include "routing/faults.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One entry: the fixed fields, then its texts in one allocation. */
typedef struct jentry {
  uint64_t seq;
  int64_t time_us, duration_us;
  unsigned status;
  bool http_layer, req_cut, resp_cut;
  size_t n_query; /* pairs "name\0value\0" in query */
  const char *method, *path, *query, *org, *route, *nearest, *reason, *fault;
  const char *req_body, *resp_body;
  char data[];
} jentry;

static pthread_mutex_t journal_mu = PTHREAD_MUTEX_INITIALIZER;
static jentry **journal_ring;
static size_t journal_cap;  /* entries */
static size_t journal_next; /* slot of the next record */
static size_t journal_body_limit;
static uint64_t journal_seq;
static uint64_t journal_evicted;
static atomic_bool journal_on;

bool journal_configure(size_t entries, size_t body_bytes) {
  if (entries > JOURNAL_MAX_ENTRIES || body_bytes > JOURNAL_MAX_BODY_BYTES)
    return false;
  jentry **ring = entries ? calloc(entries, sizeof *ring) : NULL;
  if (entries && !ring)
    return false;
  journal_clear();
  free(journal_ring);
  journal_ring = ring;
  journal_cap = entries;
  journal_next = 0;
  journal_body_limit = body_bytes;
  atomic_store(&journal_on, entries > 0);
  return true;
}

bool journal_enabled(void) {
  return atomic_load(&journal_on);
}

size_t journal_body_bytes(void) {
  return journal_body_limit;
}

/* ---- redaction ---- */

#define JOURNAL_NAME(s)                                                        \
  { s, sizeof s - 1 }
static const struct {
  const char *name;
  size_t len;
} journal_secret_names[] = {
    JOURNAL_NAME("clientSecret"), JOURNAL_NAME("client_secret"),
    JOURNAL_NAME("apiKey"),       JOURNAL_NAME("api_key"),
    JOURNAL_NAME("x-api-key"),    JOURNAL_NAME("password"),
    JOURNAL_NAME("secret"),       JOURNAL_NAME("token"),
    JOURNAL_NAME("accessToken"),  JOURNAL_NAME("access_token"),
    JOURNAL_NAME("refreshToken"), JOURNAL_NAME("refresh_token"),
    JOURNAL_NAME("id_token"),     JOURNAL_NAME("adminToken"),
    JOURNAL_NAME("admin_token"),  JOURNAL_NAME("client_assertion")};
#undef JOURNAL_NAME

/* Every answer's keys are checked: lengths first, then the first letter
 * (ASCII case folded), then the text. */
static bool journal_is_secret_name(const char *name, size_t len) {
  for (size_t i = 0;
       i < sizeof journal_secret_names / sizeof journal_secret_names[0]; i++)
    if (journal_secret_names[i].len == len &&
        (journal_secret_names[i].name[0] | 0x20) == (name[0] | 0x20) &&
        strncasecmp(journal_secret_names[i].name, name, len) == 0)
      return true;
  return false;
}

static bool journal_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

typedef struct jbuf {
  char *p;
  size_t len, cap;
  bool oom;
} jbuf;

static void jbuf_put(jbuf *b, const char *s, size_t n) {
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *grown = realloc(b->p, cap);
    if (!grown) {
      b->oom = true;
      return;
    }
    b->p = grown;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

/* One allocation for the usual case (a redaction adds a few bytes). */
static void jbuf_reserve(jbuf *b, size_t cap) {
  b->p = malloc(cap);
  b->cap = b->p ? cap : 0;
  b->oom = !b->p;
  if (b->p)
    b->p[0] = '\0';
}

/* The name of the string s[start, end) (its quotes excluded) with escapes
 * undone where they are ASCII (so "client\u0053ecret" is seen as
 * clientSecret); 0 when longer than cap. */
static size_t journal_unescape(const char *s, size_t start, size_t end,
                               char *name, size_t cap) {
  size_t n = 0;
  for (size_t i = start; i < end; i++) {
    char c = s[i];
    if (c == '\\' && i + 1 < end) {
      c = s[++i];
      if (c == 'u' && i + 4 < end) {
        size_t v = 0;
        for (size_t k = 1; k <= 4; k++) {
          int d = codec_hex_value(s[i + k]);
          v = v * 16 + (d < 0 ? 16 : (size_t)d); /* not a digit: '?' */
        }
        c = v < 128 ? (char)v : '?';
        i += 4;
      }
    }
    if (n == cap)
      return 0;
    name[n++] = c;
  }
  return n;
}

char *journal_redact_json(const char *s, size_t len, bool secret_data,
                          size_t *out_len) {
  jbuf b = {0};
  jbuf_reserve(&b, len + 16);
  bool escapes = memchr(s, '\\', len) != NULL;
  /* s[0, done) is in b; text is copied only up to a redaction (most answers
   * have none: one copy at the end). */
  size_t i = 0, done = 0;
  while (i < len && !b.oom) {
    const char *q = memchr(s + i, '"', len - i);
    if (!q)
      break;
    size_t start = (size_t)(q - s) + 1;
    size_t end = jsontext_string_end(s, len, start - 1, escapes);
    i = end;
    size_t colon = i;
    while (colon < len && journal_space(s[colon]))
      colon++;
    if (colon >= len || s[colon] != ':' || end == len)
      continue;
    /* A name: compared as written, or unescaped. */
    const char *name = s + start;
    size_t name_len = end - 1 - start;
    char unescaped[32];
    if (escapes && memchr(name, '\\', name_len)) {
      name_len =
          journal_unescape(s, start, end - 1, unescaped, sizeof unescaped);
      name = unescaped;
    }
    bool secret =
        journal_is_secret_name(name, name_len) ||
        (secret_data && name_len == 4 && memcmp(name, "data", 4) == 0);
    if (!secret)
      continue;
    size_t v = colon + 1;
    while (v < len && journal_space(s[v]))
      v++;
    jbuf_put(&b, s + done, v - done);
    jbuf_put(&b, "\"***\"", 5);
    i = done = jsontext_value_end(s, len, v, escapes);
  }
  jbuf_put(&b, s + done, len - done);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  *out_len = b.len;
  return b.p;
}

/* A form (or any text that is not JSON): values kept only for names known
 * to be harmless. */
static char *journal_redact_form(const char *s, size_t len, size_t *out_len) {
  static const char *const keep[] = {"grant_type", "scope", "client_id",
                                     "username"};
  jbuf b = {0};
  jbuf_reserve(&b, len + 16);
  size_t i = 0;
  while (i <= len && !b.oom) {
    const char *amp = memchr(s + i, '&', len - i);
    size_t stop = amp ? (size_t)(amp - s) : len;
    const char *eq = memchr(s + i, '=', stop - i);
    if (!eq) {
      jbuf_put(&b, s + i, stop - i);
    } else {
      size_t klen = (size_t)(eq - (s + i));
      bool kept = false;
      for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++)
        kept = kept ||
               (strlen(keep[k]) == klen && memcmp(keep[k], s + i, klen) == 0);
      jbuf_put(&b, s + i, klen + 1);
      if (kept)
        jbuf_put(&b, eq + 1, stop - klen - 1 - i);
      else if (stop > klen + 1 + i)
        jbuf_put(&b, "***", 3);
    }
    if (!amp)
      break;
    jbuf_put(&b, "&", 1);
    i = stop + 1;
  }
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  *out_len = b.len;
  return b.p;
}

static char *journal_redact_body(const char *s, size_t len, bool secret_data,
                                 size_t *out_len) {
  size_t i = 0;
  while (i < len && journal_space(s[i]))
    i++;
  if (i == len || s[i] == '{' || s[i] == '[')
    return journal_redact_json(s, len, secret_data, out_len);
  return journal_redact_form(s, len, out_len);
}

/* Makes text valid UTF-8 without NULs (JSON strings must be): other bytes,
 * and a character cut at the end, become '?'. The length stays. */
static void journal_utf8(char *t, size_t len) {
  size_t i = 0;
  while (i < len) {
    /* Eight ASCII bytes without a NUL at a time (most text). */
    if (i + 8 <= len) {
      uint64_t w;
      memcpy(&w, t + i, 8);
      const uint64_t high = 0x8080808080808080ULL;
      if (!(w & high) && !((w - 0x0101010101010101ULL) & ~w & high)) {
        i += 8;
        continue;
      }
    }
    unsigned char c = (unsigned char)t[i];
    size_t n = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 0;
    if (c == 0 || n == 0) {
      t[i++] = '?';
      continue;
    }
    if (i + n > len) {
      t[i++] = '?';
      continue;
    }
    bool ok = true;
    for (size_t k = 1; k < n; k++)
      ok = ok && ((unsigned char)t[i + k] >> 6) == 2;
    /* Overlong forms and surrogates, which jansson refuses. */
    if (ok && n == 2 && c < 0xc2)
      ok = false;
    if (ok && n == 3) {
      unsigned c1 = (unsigned char)t[i + 1];
      if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0))
        ok = false;
    }
    if (ok && n == 4) {
      unsigned c1 = (unsigned char)t[i + 1];
      if ((c == 0xf0 && c1 < 0x90) || c > 0xf4 || (c == 0xf4 && c1 >= 0x90))
        ok = false;
    }
    if (!ok) {
      t[i++] = '?';
      continue;
    }
    i += n;
  }
}

/* ---- recording ---- */

typedef struct jtext {
  const char *s;
  size_t len;
} jtext;

static void jtext_cap(jtext *t, size_t cap, bool *cut) {
  if (t->len > cap) {
    t->len = cap;
    if (cut)
      *cut = true;
  }
}

void journal_record_add(const journal_record *r) {
  if (!journal_enabled())
    return;
  const char *path = r->path ? r->path : "";
  const char *bare = strncmp(path, "/v1/", 4) == 0 ? path + 3 : path;
  bool secret_data =
      strncmp(bare, "/secrets", 8) == 0 && (bare[8] == '\0' || bare[8] == '/');
  size_t limit = journal_body_limit;
  bool req_cut = false, resp_cut = r->response_cut;

  /* Bodies: cut first (so the scan is bounded), then redacted. */
  size_t rq_len = r->request_body_len;
  if (rq_len > limit) {
    rq_len = limit;
    req_cut = true;
  }
  size_t rs_len = r->response_body_len;
  if (rs_len > limit) {
    rs_len = limit;
    resp_cut = true;
  }
  size_t rq_out = 0, rs_out = 0;
  char *rq =
      journal_redact_body(r->request_body ? r->request_body : "",
                          r->request_body ? rq_len : 0, secret_data, &rq_out);
  char *rs =
      journal_redact_body(r->response_body ? r->response_body : "",
                          r->response_body ? rs_len : 0, secret_data, &rs_out);
  if (!rq || !rs) {
    free(rq);
    free(rs);
    return;
  }
  /* "***" can be longer than what it replaced: the limit holds after. */
  if (rq_out > limit) {
    rq_out = limit;
    req_cut = true;
  }
  if (rs_out > limit) {
    rs_out = limit;
    resp_cut = true;
  }
  journal_utf8(rq, rq_out);
  journal_utf8(rs, rs_out);

  /* The query: name\0value\0 pairs, secret values redacted. */
  jbuf q = {0};
  jbuf_put(&q, "", 0);
  size_t n_query = 0;
  for (size_t i = 0; i < r->n_query && !q.oom; i++) {
    /* A target refused half-parsed can leave a value unset. */
    const char *k = r->query[i].key ? r->query[i].key : "";
    const char *v = r->query[i].value ? r->query[i].value : "";
    if (journal_is_secret_name(k, strlen(k)))
      v = "***";
    size_t kl = strlen(k), vl = strlen(v);
    if (q.len + kl + vl + 2 > JOURNAL_MAX_QUERY)
      break;
    jbuf_put(&q, k, kl + 1);
    jbuf_put(&q, v, vl + 1);
    n_query++;
  }
  if (q.oom) {
    free(rq);
    free(rs);
    free(q.p);
    return;
  }

  jtext texts[] = {
      {r->method ? r->method : "", 0},
      {path, 0},
      {r->organization, 0},
      {r->route, 0},
      {r->nearest, 0},
      {r->reason, 0},
      {r->fault, 0},
  };
  enum { T_METHOD, T_PATH, T_ORG, T_ROUTE, T_NEAREST, T_REASON, T_FAULT, T_N };
  size_t total = sizeof(jentry) + q.len + 1 + rq_out + 1 + rs_out + 1;
  for (size_t i = 0; i < T_N; i++) {
    texts[i].len = texts[i].s ? strlen(texts[i].s) : 0;
    jtext_cap(&texts[i], i == T_PATH ? JOURNAL_MAX_PATH : 512, NULL);
    total += texts[i].len + 1;
  }
  jentry *e = malloc(total);
  if (!e) {
    free(rq);
    free(rs);
    free(q.p);
    return;
  }
  memset(e, 0, sizeof *e);
  char *out = e->data;
  const char **slots[T_N] = {&e->method,  &e->path,   &e->org,  &e->route,
                             &e->nearest, &e->reason, &e->fault};
  for (size_t i = 0; i < T_N; i++) {
    if (!texts[i].s) {
      *slots[i] = NULL;
      continue;
    }
    memcpy(out, texts[i].s, texts[i].len);
    out[texts[i].len] = '\0';
    journal_utf8(out, texts[i].len);
    *slots[i] = out;
    out += texts[i].len + 1;
  }
  /* Query names and values hold no NUL (the HTTP layer refuses them). */
  memcpy(out, q.p, q.len + 1);
  for (size_t i = 0; i < q.len;) {
    size_t piece = strlen(out + i);
    journal_utf8(out + i, piece);
    i += piece + 1;
  }
  e->query = out;
  e->n_query = n_query;
  out += q.len + 1;
  memcpy(out, rq, rq_out);
  out[rq_out] = '\0';
  e->req_body = out;
  out += rq_out + 1;
  memcpy(out, rs, rs_out);
  out[rs_out] = '\0';
  e->resp_body = out;
  free(rq);
  free(rs);
  free(q.p);

  e->time_us = r->time_us;
  e->duration_us = r->duration_us;
  e->status = r->status;
  e->http_layer = r->http_layer;
  e->req_cut = req_cut;
  e->resp_cut = resp_cut;

  pthread_mutex_lock(&journal_mu);
  if (!journal_cap) {
    pthread_mutex_unlock(&journal_mu);
    free(e);
    return;
  }
  e->seq = ++journal_seq;
  jentry *old = journal_ring[journal_next];
  journal_ring[journal_next] = e;
  journal_next = (journal_next + 1) % journal_cap;
  if (old)
    journal_evicted++;
  pthread_mutex_unlock(&journal_mu);
  free(old);
}

void journal_clear(void) {
  pthread_mutex_lock(&journal_mu);
  for (size_t i = 0; i < journal_cap; i++) {
    free(journal_ring[i]);
    journal_ring[i] = NULL;
  }
  journal_next = 0;
  journal_seq = 0;
  journal_evicted = 0;
  pthread_mutex_unlock(&journal_mu);
}

/* ---- reading ---- */

/* A string that is valid UTF-8 (journal_utf8 made it so); "" if not. */
static json_t *journal_str(const char *s) {
  if (!s)
    return json_null();
  json_t *v = json_string(s);
  return v ? v : json_string("");
}

static json_t *journal_query_json(const jentry *e) {
  json_t *q = json_object();
  const char *p = e->query;
  for (size_t i = 0; i < e->n_query; i++) {
    const char *k = p;
    const char *v = k + strlen(k) + 1;
    p = v + strlen(v) + 1;
    char kbuf[256];
    snprintf(kbuf, sizeof kbuf, "%s", k);
    json_t *have = json_object_get(q, kbuf);
    json_t *val = journal_str(v);
    if (!have) {
      json_object_set_new(q, kbuf, val);
    } else if (json_is_array(have)) {
      json_array_append_new(have, val);
    } else {
      json_t *arr = json_pack("[O, o]", have, val);
      json_object_set_new(q, kbuf, arr);
    }
  }
  return q;
}

static json_t *journal_entry_json(const jentry *e) {
  char iso[CLOCK_ISO_LEN];
  clock_format_iso(e->time_us, iso, sizeof iso);
  json_t *o = json_object();
  json_object_set_new(o, "id", json_integer((json_int_t)e->seq));
  json_object_set_new(o, "time", json_string(iso));
  json_object_set_new(o, "organization", journal_str(e->org));
  json_object_set_new(o, "method", journal_str(e->method));
  json_object_set_new(o, "path", journal_str(e->path));
  json_object_set_new(o, "query", journal_query_json(e));
  json_object_set_new(o, "status",
                      e->status ? json_integer(e->status) : json_null());
  json_object_set_new(o, "dropped", json_boolean(e->status == 0));
  json_object_set_new(o, "durationMs",
                      json_real((double)e->duration_us / 1000.0));
  json_object_set_new(o, "route", journal_str(e->route));
  json_object_set_new(o, "unmatched",
                      e->nearest
                          ? json_pack("{s:o, s:o}", "nearestRoute",
                                      journal_str(e->nearest), "reason",
                                      journal_str(e->reason ? e->reason : ""))
                          : json_null());
  json_object_set_new(o, "fault", journal_str(e->fault));
  json_object_set_new(o, "answeredBy",
                      json_string(e->http_layer ? "http" : "api"));
  json_object_set_new(o, "requestBody", journal_str(e->req_body));
  json_object_set_new(o, "requestBodyTruncated", json_boolean(e->req_cut));
  json_object_set_new(o, "responseBody", journal_str(e->resp_body));
  json_object_set_new(o, "responseBodyTruncated", json_boolean(e->resp_cut));
  return o;
}

static bool journal_matches(const jentry *e, const journal_filter *f) {
  if (f->method && strcmp(f->method, e->method) != 0)
    return false;
  if (f->status_hi && (e->status < f->status_lo || e->status > f->status_hi))
    return false;
  if (f->organization) {
    if (!f->organization[0] ? e->org != NULL
                            : !e->org || strcmp(e->org, f->organization) != 0)
      return false;
  }
  if (e->time_us < f->from_us || e->time_us > f->to_us)
    return false;
  if (f->path && !faults_path_matches(f->path, e->path))
    return false;
  return true;
}

json_t *journal_query(const journal_filter *f) {
  json_t *list = json_array();
  pthread_mutex_lock(&journal_mu);
  size_t cap = journal_cap;
  for (size_t k = 0; k < cap && json_array_size(list) < f->limit; k++) {
    /* journal_next is the oldest slot (or an empty one). */
    size_t i = f->oldest_first ? (journal_next + k) % cap
                               : (journal_next + cap - 1 - k) % cap;
    const jentry *e = journal_ring[i];
    if (e && journal_matches(e, f))
      json_array_append_new(list, journal_entry_json(e));
  }
  json_t *out = json_pack("{s:o, s:I, s:I, s:I, s:I}", "requests", list, "size",
                          (json_int_t)journal_cap, "bodyBytes",
                          (json_int_t)journal_body_limit, "recorded",
                          (json_int_t)journal_seq, "evicted",
                          (json_int_t)journal_evicted);
  pthread_mutex_unlock(&journal_mu);
  return out;
}
