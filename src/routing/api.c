#include "routing/api.h"

#include "core/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

api_response api_ok_raw(char *text, size_t len) {
  api_response r = {.status = 200, .raw = text, .raw_len = len};
  return r;
}

void api_response_free(api_response *resp) {
  json_decref(resp->body);
  free(resp->raw);
  resp->body = NULL;
  resp->raw = NULL;
}

api_response api_ok(json_t *body) {
  api_response r = {.status = 200, .body = body};
  return r;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0. */
static size_t api_utf8_len(const unsigned char *s) {
  if (s[0] < 0x80)
    return 1;
  size_t n = s[0] >= 0xC2 && s[0] <= 0xDF   ? 2
             : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
             : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4
                                            : 0;
  unsigned char lo = s[0] == 0xE0 ? 0xA0 : s[0] == 0xF0 ? 0x90 : 0x80;
  unsigned char hi = s[0] == 0xED ? 0x9F : s[0] == 0xF4 ? 0x8F : 0xBF;
  if (n == 0 || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if (s[i] < 0x80 || s[i] > 0xBF)
      return 0;
  return n;
}

/* Messages may quote what a client sent (a method, an e-mail): bytes that
 * are not UTF-8 become U+FFFD, so the message is still a JSON string. */
static json_t *api_message_text(const char *message) {
  json_t *text = json_string(message);
  if (text)
    return text;
  char fixed[3 * 1024];
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)message;
       *p && o + 4 < sizeof fixed;) {
    size_t n = api_utf8_len(p);
    if (n == 0) {
      memcpy(fixed + o, "\xEF\xBF\xBD", 3);
      o += 3;
      p++;
    } else {
      memcpy(fixed + o, p, n);
      o += n;
      p += n;
    }
  }
  fixed[o] = '\0';
  return json_string(fixed);
}

static api_response api_message(err_code code, const char *message) {
  api_response r = {
      .status = err_status(code),
      .body = json_pack("{s:o}", "message", api_message_text(message))};
  return r;
}

api_response api_err(err_code code) {
  return api_message(code, err_message(code));
}

api_response api_errf(err_code code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return api_message(code, msg);
}

api_response api_store_err(store_status st) {
  switch (st) {
  case STORE_NONE:
    return api_err(ERR_NOT_FOUND);
  case STORE_BUSY:
    return api_err(ERR_UNAVAILABLE);
  default:
    return api_err(ERR_INTERNAL);
  }
}

const char *api_query(const api_request *req, const char *key) {
  for (size_t i = 0; i < req->n_query; i++)
    if (strcmp(req->query[i].key, key) == 0)
      return req->query[i].value;
  return NULL;
}

json_t *api_query_all(const api_request *req, const char *key) {
  json_t *all = NULL;
  for (size_t i = 0; i < req->n_query; i++) {
    if (strcmp(req->query[i].key, key) != 0)
      continue;
    if (!all)
      all = json_array();
    json_array_append_new(all, json_string(req->query[i].value));
  }
  return all;
}

json_t *api_now_json(const api_request *req) {
  char buf[CLOCK_ISO_LEN];
  clock_format_iso(req->now_us, buf, sizeof buf);
  return json_string(buf);
}
