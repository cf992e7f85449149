#include "http/server.h"

#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"
#include "http/delay.h"
#include "http/guard.h"
#include "http/journal.h"
#include "http/tls.h"
#include "routing/dispatch.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* How libmicrohttpd 0.9.75 meets limits, read in its source
 * (src/microhttpd/connection.c) and why this file is built as it is:
 *
 * - Everything of a request head lives in one per-connection memory pool
 *   (MHD_OPTION_CONNECTION_MEMORY_LIMIT, 32 KiB by default): the request
 *   line and header lines as received, plus a 64-byte record per header
 *   field and per query argument. When the read buffer cannot grow it
 *   answers 414 (no URL yet) or 431 itself.
 * - When the records of the query arguments exhaust the pool
 *   (connection_add_header from MHD_parse_arguments_), it queues that 431
 *   but parse_initial_message_line ignores the failure and sets the state
 *   back to "URL received": the request hangs until the idle timeout. That
 *   is the silence of ~300 repeated filters (16 KiB of query, ~19 KiB of
 *   records).
 * - Our URI callback (MHD_OPTION_URI_LOG_CALLBACK) runs after the request
 *   line is complete and before the query is parsed, on the line in the
 *   read buffer. We copy and parse the request target ourselves (limits,
 *   NUL checks, whole values) and end the buffer's query right after the
 *   '?', so libmicrohttpd parses no arguments and spends no pool on them.
 *   The same order holds in 0.9.76, 0.9.77 and 1.0.
 * - The pool is sized from our limits, so every head within them (and a
 *   little beyond) reaches our handler, which answers with the exact
 *   figures. A head beyond the pool, a malformed request or header line,
 *   an unparsable Content-Length or chunked body are answered by
 *   libmicrohttpd before any callback of ours; the patched build
 *   (subprojects/libmicrohttpd.wrap) lets http_own_answer word those
 *   answers, so they are JSON naming the rule or the flag like ours. */
#if MHD_VERSION != 0x00097500 || !defined(MHD_HAVE_OWN_ANSWER_CALLBACK)
#error                                                                         \
    "needs the patched libmicrohttpd 0.9.75 of subprojects/libmicrohttpd.wrap"
#endif

struct http_server {
  struct MHD_Daemon *daemon;
  guard *guard;
  delay_queue *delays;      /* latency faults: suspended connections */
  _Atomic unsigned delayed; /* suspended or resumed, not yet answered */
  unsigned port;
  http_settings s;
};

/* One request in flight: made by http_on_uri when the request line is
 * complete, freed by http_completed. The decoded path and query live in
 * `text` after the parameter array, in the same allocation. */
typedef struct http_req {
  int64_t start_us;
  const char *path;
  api_param *query;
  size_t n_query;
  api_response early;  /* status != 0: refused before dispatch */
  const char *uri_end; /* where the target ended in libmicrohttpd's buffer */
  bool head_done;
  bool answered;
  unsigned status;
  char *body;
  size_t body_len;
  size_t body_cap;
  bool too_large;
  char *method;     /* copy, for the log */
  char *trimmed[5]; /* header values with trailing whitespace removed */
  /* The journal and faults (http/journal.h, routing/faults.h). */
  int64_t time_us; /* the emulator's clock at arrival */
  bool dispatched; /* answered by the API, not the HTTP layer */
  bool dropped;    /* closed without an answer (a fault) */
  bool delayed;    /* suspended; `pending` is sent when resumed */
  /* Resumed and being answered: still counted in srv->delayed until the
   * answer is sent (http_completed), so that http_stop waits for it. */
  bool resumed;
  api_response pending;
  char *resp_copy; /* the answer's first journal_body_bytes() + 1 */
  size_t resp_copy_len;
  dispatch_info info;
  char text[];
} http_req;

static const char http_cors_headers[] =
    "Authorization, Content-Type, x-api-key, X-Amz-Date, X-Amz-Security-Token";

/* The control API's answers carry no CORS header: a web page must not
 * read them (a snapshot is the whole database, secrets included). */
static void http_add_common_headers(struct MHD_Response *r,
                                    const char *content_type, bool cors) {
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                          content_type ? content_type : "application/json");
  if (cors)
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
}

/* The libmicrohttpd response for resp (released); NULL when out of
 * memory. *status is set to its status. */
/* Keeps the start of an answer for the journal. */
static void http_journal_copy(http_req *hr, const char *text, size_t len) {
  if (!hr || !journal_enabled() || !text)
    return;
  size_t keep = journal_body_bytes() + 1;
  if (len < keep)
    keep = len;
  free(hr->resp_copy);
  hr->resp_copy = malloc(keep + 1);
  if (!hr->resp_copy)
    return;
  memcpy(hr->resp_copy, text, keep);
  hr->resp_copy[keep] = '\0';
  hr->resp_copy_len = keep;
}

static struct MHD_Response *http_response(const char *method,
                                          api_response *resp,
                                          unsigned *status_out, http_req *hr) {
  char *text = resp->raw;
  size_t len = resp->raw_len;
  resp->raw = NULL;
  if (!text && resp->body) {
    text = json_dumps(resp->body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    len = text ? strlen(text) : 0;
  }
  char allow[sizeof resp->allow];
  memcpy(allow, resp->allow, sizeof allow);
  unsigned status = resp->status;
  const char *content_type = resp->content_type; /* static */
  api_response_free(resp);
  bool empty = status == MHD_HTTP_NO_CONTENT;
  if (empty) {
    /* RFC 9110 §15.3.5: no content, so no body at all (the SDKs read a
     * 204 as "nothing to parse"). */
    free(text);
    text = NULL;
    len = 0;
  } else if (!text) {
    text = strdup("{}");
    len = 2;
  }
  if (!text && !empty)
    return NULL;
  http_journal_copy(hr, text, len);
  struct MHD_Response *r =
      empty ? MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT)
            : MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(text);
    return NULL;
  }
  bool cors = !(hr && hr->info.control);
  if (empty && cors)
    MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
  else if (!empty)
    http_add_common_headers(r, content_type, cors);
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED && allow[0])
    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
  if (strcmp(method, "OPTIONS") == 0 && allow[0]) {
    MHD_add_response_header(r, "Access-Control-Allow-Methods", allow);
    MHD_add_response_header(r, "Access-Control-Allow-Headers",
                            http_cors_headers);
  }
  *status_out = status;
  return r;
}

static void http_journal(const http_req *hr);

static enum MHD_Result http_send(struct MHD_Connection *c, http_req *hr,
                                 const char *method, api_response *resp) {
  unsigned status = 0;
  struct MHD_Response *r = http_response(method, resp, &status, hr);
  if (!r)
    return MHD_NO;
  hr->status = status;
  hr->answered = true;
  /* Kept before the answer leaves: a client that reads the journal right
   * after its answer finds the request there. */
  if (journal_enabled())
    http_journal(hr);
  enum MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

/* ---- the request target ---- */

/* Parses a request target that is within the length limit. */
static http_req *http_parse_target(const http_server *srv, const char *uri,
                                   size_t len) {
  const char *q = memchr(uri, '?', len);
  size_t path_len = q ? (size_t)(q - uri) : len;
  size_t n = 0;
  if (q) {
    /* Empty pieces ("a&&b", a trailing '&') are no parameters. */
    const char *end = uri + len;
    for (const char *p = q + 1; p < end;) {
      const char *amp = memchr(p, '&', (size_t)(end - p));
      const char *stop = amp ? amp : end;
      if (stop > p)
        n++;
      p = stop + 1;
    }
  }
  size_t too_many = n > srv->s.max_query_params ? n : 0;
  if (too_many)
    n = 0;
  /* Decoded text never outgrows the raw target: decoding only shrinks,
   * the '?', each '=' and each separating '&' make room for the NUL
   * terminators, so len + 2 bytes hold the path and every name and value. */
  size_t params = n * sizeof(api_param);
  http_req *hr = calloc(1, sizeof *hr + params + len + 2);
  if (!hr)
    return NULL;
  if (too_many) {
    hr->early = api_errf(ERR_BAD_REQUEST,
                         "query: %zu parameters, more than the limit of %u "
                         "(--max-query-params)",
                         too_many, srv->s.max_query_params);
    return hr;
  }
  hr->query = (api_param *)(void *)hr->text;
  char *out = hr->text + params;
  hr->path = out;
  size_t dlen = codec_percent_decode(uri, path_len, false, out, NULL);
  if (memchr(out, '\0', dlen)) {
    hr->early = api_errf(ERR_BAD_REQUEST, "path: contains a NUL byte (%%00)");
    return hr;
  }
  out += dlen + 1;
  if (!q)
    return hr;
  const char *end = uri + len;
  for (const char *p = q + 1; p < end;) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *stop = amp ? amp : end;
    if (stop > p) {
      const char *eq = memchr(p, '=', (size_t)(stop - p));
      const char *kend = eq ? eq : stop;
      api_param *a = &hr->query[hr->n_query++];
      a->key = out;
      size_t klen =
          codec_percent_decode(p, (size_t)(kend - p), true, out, NULL);
      if (memchr(out, '\0', klen)) {
        hr->early = api_errf(ERR_BAD_REQUEST,
                             "query: the name of parameter %zu contains a NUL "
                             "byte",
                             hr->n_query);
        return hr;
      }
      out += klen + 1;
      if (!eq) {
        /* No room is taken: a piece without '=' has no byte to spare for
         * a second terminator (see the size above). */
        a->value = "";
        p = stop + 1;
        continue;
      }
      a->value = out;
      size_t vlen = codec_percent_decode(eq + 1, (size_t)(stop - eq - 1), true,
                                         out, NULL);
      if (memchr(out, '\0', vlen)) {
        hr->early = api_errf(ERR_BAD_REQUEST,
                             "query: value of %s contains a NUL byte", a->key);
        return hr;
      }
      out += vlen + 1;
    }
    p = stop + 1;
  }
  return hr;
}

/* Called by libmicrohttpd with the raw request target as soon as the
 * request line is complete; what it returns is the request's *con_cls. */
static void *http_on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
  (void)c;
  const http_server *srv = cls;
  size_t len = strlen(uri);
  http_req *hr;
  if (len > srv->s.max_uri_bytes) {
    hr = calloc(1, sizeof *hr);
    if (hr)
      hr->early = api_errf(ERR_URI_TOO_LONG,
                           "request target: %zu bytes, longer than the limit "
                           "of %zu (--max-uri-bytes)",
                           len, srv->s.max_uri_bytes);
  } else {
    hr = http_parse_target(srv, uri, len);
  }
  if (hr) {
    hr->start_us = clock_mono_us();
    if (journal_enabled())
      hr->time_us = clock_now_us();
    hr->uri_end = uri + len;
  }
  /* The query is ours now: end libmicrohttpd's copy of it after the '?'
   * (see the top of this file) so it records no arguments. The line is in
   * its writable read buffer; the pointer is only const by declaration. */
  char *qmark = strchr(uri, '?');
  if (qmark)
    qmark[1] = '\0';
  return hr;
}

/* ---- the head ---- */

/* Header fields in arrival order, with the end of the previous one's value:
 * what a NUL check needs (http_nul_cut). */
typedef struct {
  size_t n;
  size_t bytes;
  const char *head, *head_end; /* the request head in the read buffer */
  const char *prev_key, *prev_end;
  const char *nul_in;   /* first field whose value a NUL cut short */
  const char *folded;   /* first field continued on a second line */
  const char *bad_name; /* first field name that is not a token */
  size_t bad_name_len;
  const char *length; /* the first Content-Length value */
  size_t length_len;
  bool lengths_differ; /* a later Content-Length says otherwise */
  size_t hosts;        /* Host fields */
} http_head_scan;

/* Client text for a message: at most 64 bytes, bytes outside printable
 * ASCII as '?' (a message must be valid UTF-8 to be sent at all). */
static const char *http_printable(const char *text, size_t len, char *out,
                                  size_t outlen) {
  size_t n = len < outlen - 1 ? len : outlen - 1;
  if (n > 64)
    n = 64;
  for (size_t i = 0; i < n; i++)
    out[i] = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';
  out[n] = '\0';
  return out;
}

/* RFC 9110 section 5.1: a field name is a token. */
static bool http_is_token(const char *s, size_t len) {
  static const char tchar_punct[] = "!#$%&'*+-.^_`|~";
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (!isalnum(ch) && (ch == '\0' || !strchr(tchar_punct, ch)))
      return false;
  }
  return true;
}

/* libmicrohttpd 0.9.x ends a header value at its first NUL (strlen) and
 * offers no way to see the rest. It leaves the head in its read buffer as
 * received, with each line's CR LF (or LF) and the ':' overwritten by NULs
 * and the fields in arrival order; so between where a value ends and where
 * the next line starts there must be nothing but its 1 or 2 terminator
 * bytes (2 to 4 after the last field, with the empty line). More, or a
 * byte that is not NUL, is the rest of a value cut at a NUL. Only values
 * inside the buffer are judged (a folded line is copied elsewhere). */
static bool http_nul_cut(const char *value_end, const char *next,
                         size_t max_gap, const http_head_scan *s) {
  if (!value_end || value_end < s->head || next > s->head_end ||
      next < value_end)
    return false;
  if ((size_t)(next - value_end) > max_gap)
    return true;
  for (const char *p = value_end; p < next; p++)
    if (*p != '\0')
      return true;
  return false;
}

static enum MHD_Result http_scan_header(void *cls, enum MHD_ValueKind kind,
                                        const char *key, size_t key_size,
                                        const char *value, size_t value_size) {
  (void)kind;
  http_head_scan *s = cls;
  s->n++;
  s->bytes += key_size + value_size + 4; /* ": " and CRLF */
  if (s->head && (key < s->head || key >= s->head_end)) {
    /* libmicrohttpd copies a field continued on a second line out of the
     * buffer (and glues the continuation to its name). */
    if (!s->folded)
      s->folded = key;
    s->prev_key = NULL;
    return MHD_YES;
  }
  if (s->head && !s->nul_in && s->prev_key &&
      http_nul_cut(s->prev_end, key, 2, s))
    s->nul_in = s->prev_key;
  /* libmicrohttpd takes everything before the colon as the name, so that
   * "Content-Length : 5" is a field it does not know, and uses the first
   * of several Content-Length fields: both let a proxy in front and this
   * server disagree on where a request ends. */
  if (!s->bad_name && !http_is_token(key, key_size)) {
    s->bad_name = key;
    s->bad_name_len = key_size;
  }
  if (key_size == 4 && strncasecmp(key, "Host", 4) == 0)
    s->hosts++;
  if (key_size == 14 && strncasecmp(key, "Content-Length", 14) == 0) {
    if (!s->length) {
      s->length = value ? value : "";
      s->length_len = value_size;
    } else if (value_size != s->length_len ||
               (value_size && memcmp(value, s->length, value_size) != 0)) {
      s->lengths_differ = true;
    }
  }
  s->prev_key = key;
  s->prev_end = value ? value + value_size : NULL;
  return MHD_YES;
}

/* A header's value as RFC 9110 section 5.5 reads it: libmicrohttpd drops
 * the leading whitespace, this drops the trailing (a copy, owned by hr). */
static const char *http_header(struct MHD_Connection *c, http_req *hr,
                               const char *name, size_t slot) {
  const char *v = NULL;
  size_t len = 0;
  if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, name, strlen(name), &v,
                                    &len) != MHD_YES ||
      !v)
    return NULL;
  size_t n = len;
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
    n--;
  if (n == len)
    return v;
  char *copy = strndup(v, n);
  if (!copy)
    return v;
  free(hr->trimmed[slot]);
  hr->trimmed[slot] = copy;
  return copy;
}

/* The checks of a complete head; sets hr->early on the first failure. */
static void http_check_head(const http_server *srv, struct MHD_Connection *c,
                            const char *method, const char *version,
                            http_req *hr, bool *body_expected) {
  const char *cl = http_header(c, hr, MHD_HTTP_HEADER_CONTENT_LENGTH, 0);
  const char *te = MHD_lookup_connection_value(
      c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
  unsigned long long body_len = cl ? strtoull(cl, NULL, 10) : 0;
  *body_expected = body_len > 0 || te != NULL;
  if (hr->early.status)
    return;
  http_head_scan scan;
  memset(&scan, 0, sizeof scan);
#if MHD_VERSION < 0x00097800
  const union MHD_ConnectionInfo *size =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
  if (size) {
    scan.head = method;
    scan.head_end = method + size->header_size;
  }
#endif
  /* The request line as received is "METHOD SP target SP version" with
   * the spaces overwritten by NULs; a target that ends before the space in
   * front of the version was cut at a raw NUL. */
  if (scan.head && version > hr->uri_end + 1 && version < scan.head_end &&
      hr->uri_end > scan.head) {
    hr->early =
        api_errf(ERR_BAD_REQUEST, "request target: contains a NUL byte");
    return;
  }
  MHD_get_connection_values_n(c, MHD_HEADER_KIND, http_scan_header, &scan);
  if (scan.head && !scan.nul_in && scan.prev_key &&
      http_nul_cut(scan.prev_end, scan.head_end, 4, &scan))
    scan.nul_in = scan.prev_key;
  if (scan.folded) {
    hr->early = api_errf(ERR_BAD_REQUEST,
                         "header %.64s: continued on a second line (obsolete "
                         "line folding, RFC 9112 section 5.2)",
                         scan.folded);
    return;
  }
  if (scan.bad_name) {
    char name[80];
    hr->early = api_errf(
        ERR_BAD_REQUEST,
        "header '%s': the name is not a token (no whitespace before the "
        "colon, RFC 9110 section 5.1 and RFC 9112 section 5.1)",
        http_printable(scan.bad_name, scan.bad_name_len, name, sizeof name));
    return;
  }
  if (scan.nul_in) {
    hr->early =
        api_errf(ERR_BAD_REQUEST, "header %.64s: value contains a NUL byte",
                 scan.nul_in);
    return;
  }
  if (scan.lengths_differ) {
    hr->early = api_errf(ERR_BAD_REQUEST,
                         "header Content-Length: given more than once with "
                         "different values (RFC 9110 section 8.6)");
    return;
  }
  if (scan.length && te) {
    hr->early =
        api_errf(ERR_BAD_REQUEST, "header Content-Length: not allowed with "
                                  "Transfer-Encoding (RFC 9112 section 6.1)");
    return;
  }
  if (scan.n > srv->s.max_headers) {
    hr->early = api_errf(ERR_HEADERS_TOO_LARGE,
                         "header fields: %zu, more than the limit of %u "
                         "(--max-headers)",
                         scan.n, srv->s.max_headers);
    return;
  }
  if (scan.bytes > srv->s.max_header_bytes) {
    hr->early = api_errf(ERR_HEADERS_TOO_LARGE,
                         "header fields: %zu bytes, more than the limit of "
                         "%zu (--max-header-bytes)",
                         scan.bytes, srv->s.max_header_bytes);
    return;
  }
  /* RFC 9112 section 3.2: an HTTP/1.1 request without Host (or with more
   * than one) is a 400; HTTP/1.0 clients need not send it. */
  if (version && strcmp(version, MHD_HTTP_VERSION_1_1) == 0 &&
      scan.hosts != 1) {
    hr->early = api_errf(ERR_BAD_REQUEST,
                         scan.hosts ? "header Host: given more than once (RFC "
                                      "9112 section 3.2)"
                                    : "header Host: is required in HTTP/1.1 "
                                      "(RFC 9112 section 3.2)");
    return;
  }
  /* libmicrohttpd decodes "chunked" alone (compared whole, ignoring case);
   * with any other value it would read the body until the client closes,
   * and the request would hang until the body deadline (RFC 9112 section
   * 6.3 asks for a 400 when chunked is not the final coding; we also
   * decode no other coding before it). */
  if (te && strcasecmp(te, "chunked") != 0) {
    char shown[80];
    hr->early = api_errf(ERR_BAD_REQUEST,
                         "header Transfer-Encoding: '%s' is not supported "
                         "(only chunked)",
                         http_printable(te, strlen(te), shown, sizeof shown));
    return;
  }
  if (body_len > srv->s.max_body_bytes)
    hr->early = api_errf(ERR_PAYLOAD_TOO_LARGE,
                         "body: larger than the limit of %zu bytes "
                         "(--max-body-bytes)",
                         srv->s.max_body_bytes);
}

static bool http_append(http_req *hr, const char *data, size_t len,
                        size_t limit) {
  if (hr->too_large || hr->body_len + len > limit) {
    hr->too_large = true;
    return true;
  }
  if (hr->body_len + len + 1 > hr->body_cap) {
    size_t cap = hr->body_cap ? hr->body_cap : 1024;
    while (cap < hr->body_len + len + 1)
      cap *= 2;
    char *grown = realloc(hr->body, cap);
    if (!grown)
      return false;
    hr->body = grown;
    hr->body_cap = cap;
  }
  memcpy(hr->body + hr->body_len, data, len);
  hr->body_len += len;
  hr->body[hr->body_len] = '\0';
  return true;
}

static guard_conn *http_guard_conn(struct MHD_Connection *c) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

/* ---- libmicrohttpd's own answers ---- */

static api_response http_body_too_large(const http_server *srv) {
  return api_errf(ERR_PAYLOAD_TOO_LARGE,
                  "body: larger than the limit of %zu bytes "
                  "(--max-body-bytes)",
                  srv->s.max_body_bytes);
}

typedef struct {
  size_t n, bytes;
} http_head_count;

static enum MHD_Result http_count_header(void *cls, enum MHD_ValueKind kind,
                                         const char *key, size_t key_size,
                                         const char *value, size_t value_size) {
  (void)kind;
  (void)key;
  (void)value;
  http_head_count *n = cls;
  n->n++;
  n->bytes += key_size + value_size + 4;
  return MHD_YES;
}

/* What libmicrohttpd refuses by itself, before any other callback of ours
 * sees the request, worded as our own refusals: which rule, or which flag
 * (the pool holds every head within the limits, so a head it cannot hold
 * is over one of them). A refusal of ours already decided for this request
 * (in http_on_uri) comes first. */
static api_response http_own_refusal(const http_server *srv,
                                     struct MHD_Connection *c, http_req *hr,
                                     enum MHD_OwnAnswer what) {
  if (hr && hr->early.status) {
    api_response early = hr->early;
    memset(&hr->early, 0, sizeof hr->early);
    return early;
  }
  switch (what) {
  case MHD_OWN_REQUEST_LINE_TOO_LONG:
    return api_errf(ERR_URI_TOO_LONG,
                    "request target: longer than the limit of %zu bytes "
                    "(--max-uri-bytes)",
                    srv->s.max_uri_bytes);
  case MHD_OWN_HEADERS_TOO_LARGE: {
    http_head_count n = {0, 0};
    MHD_get_connection_values_n(c, MHD_HEADER_KIND, http_count_header, &n);
    if (n.n > srv->s.max_headers)
      return api_errf(ERR_HEADERS_TOO_LARGE,
                      "header fields: more than the limit of %u "
                      "(--max-headers)",
                      srv->s.max_headers);
    return api_errf(ERR_HEADERS_TOO_LARGE,
                    "header fields: more than the limit of %zu bytes "
                    "(--max-header-bytes)",
                    srv->s.max_header_bytes);
  }
  case MHD_OWN_REQUEST_LINE_MALFORMED:
    return api_errf(ERR_BAD_REQUEST,
                    "request line: not method, target and HTTP version "
                    "separated by single spaces (RFC 9112 section 3)");
  case MHD_OWN_HTTP_VERSION_NOT_SUPPORTED:
    return api_errf(ERR_HTTP_VERSION_NOT_SUPPORTED,
                    "request line: HTTP version not supported (HTTP/1.0 and "
                    "HTTP/1.1 are)");
  case MHD_OWN_HEADER_LINE_MALFORMED:
    return api_errf(ERR_BAD_REQUEST,
                    "header line: not name: value (no colon, or no name; RFC "
                    "9112 section 5)");
  case MHD_OWN_TRAILER_LINE_MALFORMED:
    return api_errf(ERR_BAD_REQUEST,
                    "trailer line: not name: value (no colon, or no name; "
                    "RFC 9112 section 7.1.2)");
  case MHD_OWN_HOST_MISSING:
    return api_errf(ERR_BAD_REQUEST, "header Host: missing");
  case MHD_OWN_CONTENT_LENGTH_MALFORMED: {
    const char *cl = NULL;
    size_t cl_len = 0;
    char shown[80];
    MHD_lookup_connection_value_n(
        c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH,
        strlen(MHD_HTTP_HEADER_CONTENT_LENGTH), &cl, &cl_len);
    return api_errf(
        ERR_BAD_REQUEST, "header Content-Length: '%s' is not a decimal number",
        http_printable(cl ? cl : "", cl ? cl_len : 0, shown, sizeof shown));
  }
  case MHD_OWN_CONTENT_LENGTH_TOO_LARGE:
  case MHD_OWN_CHUNK_TOO_LARGE:
    return http_body_too_large(srv);
  case MHD_OWN_CHUNKED_MALFORMED:
    return api_errf(ERR_BAD_REQUEST,
                    "body: malformed chunked encoding (RFC 9112 section 7.1)");
  case MHD_OWN_INTERNAL_ERROR:
  case MHD_OWN_UPLOAD_REFUSED: /* out of memory for the body */
    break;
  }
  return api_err(ERR_INTERNAL);
}

/* libmicrohttpd's own messages are about single connections (a client that
 * closed mid-request, a failed send): what a client did is already in the
 * request log, so they are debug lines, not noise on every disconnect. */
static void http_mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  log_vmsg(LOG_DEBUG, fmt, ap);
}

/* MHD_OPTION_OWN_ANSWER_CALLBACK (our patch of libmicrohttpd): the answer
 * is JSON like every other, logged like every other, and the connection is
 * closed after it. */
static struct MHD_Response *http_own_answer(void *cls, struct MHD_Connection *c,
                                            void **req_cls,
                                            enum MHD_OwnAnswer what,
                                            unsigned int *status_code) {
  http_server *srv = cls;
  http_req *hr = *req_cls;
  /* No deadline of ours while libmicrohttpd writes the answer; false: the
   * guard has cut the connection off and answered it already. */
  if (!guard_head_done(srv->guard, http_guard_conn(c), false))
    return NULL;
  api_response resp = http_own_refusal(srv, c, hr, what);
  unsigned status = 0;
  struct MHD_Response *r =
      http_response(hr && hr->method ? hr->method : "", &resp, &status, hr);
  if (!r)
    return NULL;
  *status_code = status;
  if (hr) {
    hr->status = status;
    hr->answered = true;
    if (journal_enabled())
      http_journal(hr);
  } else {
    log_msg(LOG_INFO, "- - %u (request line refused)", status);
  }
  return r;
}

static void http_resume(void *arg) {
  MHD_resume_connection(arg);
}

/* Carries out a fault the dispatcher decided: a latency suspends the
 * connection (no worker waits) until the delay thread resumes it; a drop
 * closes the connection without an answer. */
static enum MHD_Result http_fault(http_server *srv, struct MHD_Connection *c,
                                  http_req *hr, const char *method,
                                  api_response *resp) {
  if (hr->info.fault.latency_ms) {
    hr->pending = *resp;
    hr->delayed = true;
    atomic_fetch_add(&srv->delayed, 1);
    MHD_suspend_connection(c);
    int64_t due = clock_mono_us() + (int64_t)hr->info.fault.latency_ms * 1000;
    /* Stopping: answered now instead. */
    if (!delay_add(srv->delays, c, due))
      MHD_resume_connection(c);
    return MHD_YES;
  }
  if (hr->info.fault.drop) {
    api_response_free(resp);
    hr->dropped = true;
    if (journal_enabled())
      http_journal(hr);
    return MHD_NO;
  }
  return http_send(c, hr, method, resp);
}

/* The request as the journal keeps it (control API requests are not
 * kept: reading the journal would fill it). */
static void http_journal(const http_req *hr) {
  if (hr->info.control || (!hr->status && !hr->dropped))
    return;
  const char *path = hr->path ? hr->path : "";
  const char *bare = strncmp(path, "/v1/", 4) == 0 ? path + 3 : path;
  if (strncmp(bare, "/_emulator/", 11) == 0)
    return;
  char route[200];
  if (hr->info.route_path)
    snprintf(route, sizeof route, "%s %s", hr->info.route_method,
             hr->info.route_path);
  char fault[32];
  if (hr->info.faulted)
    snprintf(fault, sizeof fault,
             hr->info.fault.throttled ? "throttle" : "rule %u",
             hr->info.fault.rule_id);
  size_t limit = journal_body_bytes();
  journal_record rec = {
      .time_us = hr->time_us,
      .duration_us = clock_mono_us() - hr->start_us,
      .method = hr->method ? hr->method : "",
      .path = path,
      .query = hr->query,
      .n_query = hr->n_query,
      .status = hr->dropped ? 0 : hr->status,
      .organization = hr->info.organization[0] ? hr->info.organization : NULL,
      .route = hr->info.route_path ? route : NULL,
      .nearest = hr->info.unmatched ? hr->info.nearest : NULL,
      .reason = hr->info.unmatched ? hr->info.reason : NULL,
      .fault = hr->info.faulted ? fault : NULL,
      .http_layer = !hr->dispatched,
      .request_body = hr->body,
      .request_body_len = hr->body_len,
      .response_body = hr->dropped ? NULL : hr->resp_copy,
      .response_body_len = hr->dropped ? 0 : hr->resp_copy_len,
      .response_cut = hr->resp_copy_len > limit,
  };
  journal_record_add(&rec);
}

static enum MHD_Result http_on_request(void *cls, struct MHD_Connection *c,
                                       const char *url, const char *method,
                                       const char *version,
                                       const char *upload_data,
                                       size_t *upload_data_size,
                                       void **con_cls) {
  (void)url;
  (void)version;
  http_server *srv = cls;
  http_req *hr = *con_cls;
  if (!hr)
    return MHD_NO; /* out of memory in http_on_uri */
  if (!hr->head_done) {
    hr->head_done = true;
    hr->method = strdup(method);
    if (!hr->method)
      return MHD_NO;
    bool body_expected = false;
    /* libmicrohttpd's `method` is the start of the head in its buffer. */
    http_check_head(srv, c, method, version, hr, &body_expected);
    /* A refused request is being answered: no body deadline may fire
     * while libmicrohttpd writes the answer. */
    if (!guard_head_done(srv->guard, http_guard_conn(c),
                         body_expected && !hr->early.status))
      return MHD_NO; /* cut off by a deadline: already answered */
    if (hr->early.status && body_expected) {
      /* Refused before reading the body; the connection closes after. */
      return http_send(c, hr, method, &hr->early);
    }
    /* Otherwise answering on a later call keeps the connection alive. */
    return MHD_YES;
  }
  if (hr->delayed) {
    /* Resumed after a latency fault. */
    hr->delayed = false;
    hr->resumed = true;
    if (hr->info.fault.drop) {
      api_response_free(&hr->pending);
      hr->dropped = true;
      if (journal_enabled())
        http_journal(hr);
      return MHD_NO;
    }
    return http_send(c, hr, method, &hr->pending);
  }
  if (hr->answered) {
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    if (!http_append(hr, upload_data, *upload_data_size, srv->s.max_body_bytes))
      return MHD_NO;
    *upload_data_size = 0;
    if (hr->too_large && !hr->early.status) {
      /* A body without a declared length (chunked) that outgrows the
       * limit: refused now, not once all of it has arrived. MHD_NO makes
       * libmicrohttpd (patch 7) answer through http_own_answer, which
       * sends this, and stop reading. */
      hr->early = http_body_too_large(srv);
      return MHD_NO;
    }
    return MHD_YES;
  }
  if (!guard_body_done(srv->guard, http_guard_conn(c)))
    return MHD_NO;
  if (hr->early.status)
    return http_send(c, hr, method, &hr->early);
  if (hr->too_large) {
    api_response resp = http_body_too_large(srv);
    return http_send(c, hr, method, &resp);
  }
  const union MHD_ConnectionInfo *peer =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  dispatch_input in = {
      .method = method,
      .path = hr->path,
      .query = hr->query,
      .n_query = hr->n_query,
      .content_type = http_header(c, hr, MHD_HTTP_HEADER_CONTENT_TYPE, 1),
      .authorization = http_header(c, hr, MHD_HTTP_HEADER_AUTHORIZATION, 2),
      .api_key = http_header(c, hr, "x-api-key", 0),
      .origin = http_header(c, hr, "Origin", 3),
      .host = http_header(c, hr, MHD_HTTP_HEADER_HOST, 4),
      .body = hr->body ? hr->body : "",
      .body_len = hr->body_len,
      .peer = peer ? peer->client_addr : NULL,
  };
  api_response resp = dispatch_request_info(&in, &hr->info);
  hr->dispatched = true;
  if (hr->info.faulted)
    return http_fault(srv, c, hr, method, &resp);
  return http_send(c, hr, method, &resp);
}

static void http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                           enum MHD_RequestTerminationCode toe) {
  http_server *srv = cls;
  if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
    guard_idle(srv->guard, http_guard_conn(c));
  http_req *hr = *con_cls;
  if (!hr)
    return;
  /* Answered, or closed before it was. */
  if (hr->delayed || hr->resumed)
    atomic_fetch_sub(&srv->delayed, 1);
  if (hr->status)
    log_msg(LOG_INFO, "%s %s %u %.3fms", hr->method ? hr->method : "-",
            hr->path ? hr->path : "-", hr->status,
            (double)(clock_mono_us() - hr->start_us) / 1000.0);
  api_response_free(&hr->early);
  api_response_free(&hr->pending);
  free(hr->info.fault.body);
  free(hr->resp_copy);
  for (size_t i = 0; i < sizeof hr->trimmed / sizeof hr->trimmed[0]; i++)
    free(hr->trimmed[i]);
  free(hr->method);
  free(hr->body);
  free(hr);
  *con_cls = NULL;
}

static void http_on_connection(void *cls, struct MHD_Connection *c,
                               void **socket_context,
                               enum MHD_ConnectionNotificationCode code) {
  http_server *srv = cls;
  if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
    /* libmicrohttpd closes the descriptor only after this returns. */
    guard_close(srv->guard, *socket_context);
    *socket_context = NULL;
    return;
  }
  const union MHD_ConnectionInfo *fd =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  const union MHD_ConnectionInfo *addr =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  *socket_context = fd ? guard_open(srv->guard, fd->connect_fd,
                                    addr ? addr->client_addr : NULL)
                       : NULL;
  if (srv->s.tls_cert_pem) {
    const union MHD_ConnectionInfo *tls =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (tls && tls->tls_session)
      tls_answer_plain_http(tls->tls_session);
  }
}

/* Room for the open-files limit: connections, plus what cut-off ones take
 * until libmicrohttpd closes them, plus the database and the process. */
static unsigned http_fit_connections(unsigned wanted, unsigned threads) {
  rlim_t reserve = 64 + (rlim_t)threads * 8;
  rlim_t need = (rlim_t)wanted + wanted / 4 + reserve;
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return wanted;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
    rlim_t raised =
        rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
    struct rlimit nl = {raised, rl.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
      rl.rlim_cur = raised;
  }
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
    return wanted;
  rlim_t room = rl.rlim_cur > reserve ? rl.rlim_cur - reserve : 16;
  unsigned fit = (unsigned)(room * 4 / 5);
  if (fit < 1)
    fit = 1;
  log_msg(LOG_WARN,
          "--max-connections %u does not fit the open-files limit %llu; "
          "using %u",
          wanted, (unsigned long long)rl.rlim_cur, fit);
  return fit;
}

http_server *http_start(const http_settings *settings, char *err,
                        size_t errlen) {
  http_server *srv = calloc(1, sizeof *srv);
  if (!srv) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  srv->s = *settings;

  struct sockaddr_storage addr;
  memset(&addr, 0, sizeof addr);
  struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_PASSIVE,
                           .ai_socktype = SOCK_STREAM};
  struct addrinfo *res = NULL;
  if (getaddrinfo(settings->host, NULL, &hints, &res) != 0 || !res) {
    snprintf(err, errlen, "--host %s is not a numeric IPv4/IPv6 address",
             settings->host);
    free(srv);
    return NULL;
  }
  memcpy(&addr, res->ai_addr, res->ai_addrlen);
  bool v6 = res->ai_family == AF_INET6;
  freeaddrinfo(res);
  if (v6)
    ((struct sockaddr_in6 *)&addr)->sin6_port = htons((uint16_t)settings->port);
  else
    ((struct sockaddr_in *)&addr)->sin_port = htons((uint16_t)settings->port);

  unsigned threads = settings->threads;
  if (threads == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (unsigned)n : 1;
  }
  srv->s.max_connections =
      http_fit_connections(settings->max_connections, threads);

  /* A stalled body also trips libmicrohttpd's idle timeout, which closes
   * without an answer: the body deadline ends before it, so the client
   * gets its 408. */
  unsigned body_ms = settings->body_timeout_ms;
  unsigned idle_ms = settings->idle_timeout_s * 1000u;
  if (idle_ms > 0 && body_ms + 500 > idle_ms)
    body_ms = idle_ms > 1000 ? idle_ms - 500 : idle_ms / 2 + 1;
  guard_settings gs = {
      .header_timeout_ms = settings->header_timeout_ms,
      .body_timeout_ms = body_ms,
      .max_connections = srv->s.max_connections,
      .max_per_address = settings->max_connections_per_address,
      .shards = threads,
      .tls = settings->tls_cert_pem != NULL,
  };
  srv->guard = guard_start(&gs, err, errlen);
  if (!srv->guard) {
    free(srv);
    return NULL;
  }
  srv->delays = delay_start(http_resume, err, errlen);
  if (!srv->delays) {
    guard_stop(srv->guard);
    free(srv);
    return NULL;
  }

  /* The pool holds a whole head within our limits: the read buffer grows
   * by an eighth of what is free each time it fills, so what stays free
   * covers the records of the header fields (64 bytes each, 8/7 of that
   * for the last step) plus the response's own headers; the query takes no
   * records (http_on_uri). Beyond this libmicrohttpd answers 414/431
   * itself, worded by http_own_answer. The pool is mapped, not touched:
   * with our patch libmicrohttpd clears only what a request used (it
   * cleared all of it per kept-alive request, ~14 % of the CPU of a small
   * GET, and every idle kept-alive connection held all 83 KiB), so a
   * connection costs what its requests use (~9 KiB each with 2,000 idle
   * kept-alive connections). */
  size_t pool = settings->max_uri_bytes + settings->max_header_bytes +
                (size_t)settings->max_headers * 64 * 8 / 7 + 4096;
  /* Connections the guard has cut off or refused still count until
   * libmicrohttpd closes them; its own hard limit sits above ours. */
  unsigned hard_limit =
      srv->s.max_connections + srv->s.max_connections / 4 + 16;
  unsigned backlog =
      srv->s.max_connections < 4096 ? srv->s.max_connections : 4096;
  /* "::" is every address, IPv4 ones too (as 0.0.0.0 is for IPv4): the
   * socket is dual-stack, not IPv6 only. */
  bool v6_any =
      v6 && IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&addr)->sin6_addr);
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                   MHD_ALLOW_SUSPEND_RESUME |
                   (v6_any ? MHD_USE_DUAL_STACK
                    : v6   ? MHD_USE_IPv6
                           : 0);
  flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES
               ? MHD_USE_EPOLL
               : MHD_USE_POLL;
  /* TLS is libmicrohttpd's (GnuTLS, its default priorities); every route
   * is served the same over it. */
  struct MHD_OptionItem tls_opts[4] = {{MHD_OPTION_END, 0, NULL}};
  if (settings->tls_cert_pem) {
    flags |= MHD_USE_TLS;
    tls_opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
                                          (void *)settings->tls_cert_pem};
    tls_opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
                                          (void *)settings->tls_key_pem};
    /* TLS 1.2 and 1.3 only (RFC 8996 deprecates 1.0 and 1.1). */
    tls_opts[2] = (struct MHD_OptionItem){
        MHD_OPTION_HTTPS_PRIORITIES, 0,
        (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"};
    tls_opts[3] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  }
  srv->daemon = MHD_start_daemon(
      flags, (uint16_t)settings->port, NULL, NULL, http_on_request, srv,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT,
      settings->idle_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool,
      MHD_OPTION_CONNECTION_LIMIT, hard_limit, MHD_OPTION_LISTEN_BACKLOG_SIZE,
      backlog, MHD_OPTION_URI_LOG_CALLBACK, http_on_uri, srv,
      MHD_OPTION_NOTIFY_CONNECTION, http_on_connection, srv,
      MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
      MHD_OPTION_OWN_ANSWER_CALLBACK, http_own_answer, srv,
      MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL, MHD_OPTION_ARRAY,
      tls_opts, MHD_OPTION_END);
  if (!srv->daemon) {
    snprintf(err, errlen, "cannot listen on %s:%u (in use or not allowed)",
             settings->host, settings->port);
    delay_free(srv->delays);
    guard_stop(srv->guard);
    free(srv);
    return NULL;
  }
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
  srv->port = info ? info->port : settings->port;
  return srv;
}

unsigned http_port(const http_server *server) {
  return server->port;
}

void http_stop(http_server *server) {
  if (!server)
    return;
  /* Suspended connections are resumed (answered) first: libmicrohttpd
   * refuses to stop with any still suspended. */
  delay_stop(server->delays);
  /* Let the worker threads answer what was resumed (up to 2 s): stopping
   * the daemon closes connections it has not served yet. */
  for (int i = 0; i < 2000 && atomic_load(&server->delayed) > 0; i++)
    usleep(1000);
  MHD_stop_daemon(server->daemon);
  delay_free(server->delays);
  guard_stop(server->guard);
  free(server);
}
