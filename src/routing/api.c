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

void api_prepared_free(api_prepared *p) {
  json_decref(p->obj);
  free(p->text);
  free(p->answer);
  free(p->bytes);
  *p = (api_prepared){0};
}

api_response api_ok(json_t *body) {
  api_response r = {.status = 200, .body = body};
  return r;
}

api_response api_no_content(void) {
  api_response r = {.status = 204};
  return r;
}

/* The message as a JSON string. Messages are cut to fit their buffers, which
 * can split a UTF-8 sequence of a name the client sent; jansson refuses
 * such text, and the answer would lose its message. The split sequence is
 * dropped instead. */
static json_t *api_message_text(err_code code, const char *message) {
  json_t *text = json_string(message);
  size_t len = strlen(message);
  for (size_t cut = 1; !text && cut <= 3 && cut <= len; cut++)
    text = json_stringn(message, len - cut);
  return text ? text : json_string(err_message(code));
}

static api_response api_message(err_code code, const char *message) {
  json_t *body = json_object();
  json_object_set_new(body, "message", api_message_text(code, message));
  api_response r = {.status = err_status(code), .body = body};
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
    /* Held whole even when it is not UTF-8 (json_string would refuse it and
     * the value would vanish from the filter): callers check every value
     * against its pattern or enum, which such a value never matches. */
    const char *v = req->query[i].value;
    json_array_append_new(all, json_stringn_nocheck(v, strlen(v)));
  }
  return all;
}

static bool api_in(const char *const *allowed, const char *v) {
  for (const char *const *a = allowed; *a; a++)
    if (strcmp(*a, v) == 0)
      return true;
  return false;
}

static api_response api_not_in(const char *key, const char *const *allowed) {
  char list[512];
  size_t used = 0;
  for (const char *const *a = allowed; *a && used < sizeof list; a++)
    used += (size_t)snprintf(list + used, sizeof list - used, "%s\"%s\"",
                             a == allowed ? "" : ", ", *a);
  return api_errf(ERR_BAD_REQUEST, "%s: must be one of [%s]", key, list);
}

bool api_query_enum(const api_request *req, const char *key,
                    const char *const *allowed, const char **out,
                    api_response *fail) {
  const char *v = api_query(req, key);
  if (v && !api_in(allowed, v)) {
    *fail = api_not_in(key, allowed);
    return false;
  }
  *out = v;
  return true;
}

bool api_query_enum_all(const api_request *req, const char *key,
                        const char *const *allowed, json_t **out,
                        api_response *fail) {
  json_t *values = api_query_all(req, key);
  size_t i;
  json_t *v;
  json_array_foreach(values, i, v) {
    if (!api_in(allowed, json_string_value(v))) {
      json_decref(values);
      *fail = api_not_in(key, allowed);
      return false;
    }
  }
  *out = values;
  return true;
}

json_t *api_now_json(const api_request *req) {
  char buf[CLOCK_ISO_LEN];
  clock_format_iso(req->now_us, buf, sizeof buf);
  return json_string(buf);
}

const json_t *api_body_only_field(const api_request *req, const char *name,
                                  api_response *fail) {
  const json_t *body = req->body;
  if (!json_is_object(body)) {
    *fail = api_errf(ERR_BAD_REQUEST, "body: must be object");
    return NULL;
  }
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)body, key, v) {
    if (strcmp(key, name) != 0) {
      *fail = api_errf(ERR_BAD_REQUEST,
                       "%.100s: is not a field of this request (only %s)", key,
                       name);
      return NULL;
    }
  }
  v = json_object_get(body, name);
  if (!v)
    *fail = api_errf(ERR_BAD_REQUEST, "%s: is required", name);
  return v;
}
