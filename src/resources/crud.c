#include "resources/crud.h"

#include "resources/organizations.h"
#include "resources/paging.h"

#include "core/codec.h"
#include "core/jsontext.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *crud_path_id(const api_request *req) {
  return req->n_path_params ? req->path_params[req->n_path_params - 1] : "";
}

json_t *crud_new(const api_request *req, const crud_kind *k,
                 char id[IDS_MAX_LEN]) {
  ids_new(k->kind, id, IDS_MAX_LEN);
  json_t *obj = json_object();
  json_object_set_new(obj, k->id_field, json_string(id));
  json_object_set_new(obj, "createdTime", api_now_json(req));
  json_object_set_new(obj, "createdBy",
                      req->principal.id[0] ? json_string(req->principal.id)
                                           : json_null());
  json_object_set_new(obj, "updatedTime", json_null());
  json_object_set_new(obj, "updatedBy", json_null());
  return obj;
}

void crud_copy_fields(json_t *obj, const json_t *from,
                      const char *const *fields) {
  if (!from)
    return;
  for (const char *const *f = fields; *f; f++) {
    json_t *v = json_object_get(from, *f);
    if (v)
      json_object_set(obj, *f, v);
  }
}

void crud_default_null(json_t *obj, const char *const *fields) {
  for (const char *const *f = fields; *f; f++)
    if (!json_object_get(obj, *f))
      json_object_set_new(obj, *f, json_null());
}

void crud_touch(json_t *obj, const api_request *req) {
  json_object_set_new(obj, "updatedTime", api_now_json(req));
  json_object_set_new(obj, "updatedBy",
                      req->principal.id[0] ? json_string(req->principal.id)
                                           : json_null());
}

store_status crud_load(const api_request *req, const crud_kind *k,
                       const char *id, json_t **out) {
  store_obj_key key = {k->kind, req->principal.org_id, id};
  return store_obj_get(req->db, &key, out);
}

/* Writes obj's attributes and, when its blob field holds a string, the blob:
 * `decoded` (len bytes) when the handler has decoded that string already,
 * else decoded here. The stored attributes lack the blob field, so lists
 * show it as unset (the reference makes it an optional string, not
 * nullable) without reading blobs; obj keeps a string blob field. */
static store_status crud_store(const api_request *req, const crud_kind *k,
                               const char *id, const char *parent_id,
                               const char *group_id, json_t *obj, bool insert,
                               const unsigned char *decoded, size_t len,
                               char **stored) {
  store_obj_key key = {k->kind, req->principal.org_id, id};
  json_t *blob = k->blob_field ? json_object_get(obj, k->blob_field) : NULL;
  json_incref(blob);
  if (blob)
    json_object_del(obj, k->blob_field);
  char *text = insert ? store_dump(obj) : NULL;
  store_status st =
      !insert ? store_obj_update(req->db, &key, parent_id, group_id, obj)
      : text  ? store_obj_insert_text(req->db, &key, parent_id, group_id, text)
              : STORE_ERROR;
  if (st == STORE_ONE && json_is_string(blob)) {
    /* The API's base64 is kept as the bytes it encodes (handlers have
     * checked it decodes). */
    unsigned char *bytes = NULL;
    if (!decoded)
      decoded = bytes = codec_b64_decode_alloc(json_string_value(blob),
                                               json_string_length(blob), &len);
    st = decoded ? store_blob_put(req->db, id, decoded, len) : STORE_ERROR;
    free(bytes);
  }
  if (stored && st == STORE_ONE)
    *stored = text;
  else
    free(text);
  /* A null blob field is not put back: unset fields are omitted. */
  if (json_is_string(blob))
    json_object_set(obj, k->blob_field, blob);
  json_decref(blob);
  return st;
}

store_status crud_insert(const api_request *req, const crud_kind *k,
                         const char *id, const char *parent_id,
                         const char *group_id, json_t *obj) {
  return crud_store(req, k, id, parent_id, group_id, obj, true, NULL, 0, NULL);
}

store_status crud_insert_decoded(const api_request *req, const crud_kind *k,
                                 const char *id, const char *parent_id,
                                 const char *group_id, json_t *obj,
                                 const unsigned char *decoded, size_t len,
                                 char **stored) {
  return crud_store(req, k, id, parent_id, group_id, obj, true, decoded, len,
                    stored);
}

store_status crud_save(const api_request *req, const crud_kind *k,
                       const char *id, const char *parent_id,
                       const char *group_id, json_t *obj) {
  return crud_store(req, k, id, parent_id, group_id, obj, false, NULL, 0, NULL);
}

store_status crud_attach_blob(const api_request *req, const crud_kind *k,
                              const char *id, json_t *obj) {
  if (!k->blob_field)
    return STORE_ONE;
  char *data = NULL;
  size_t len = 0;
  store_status st = store_blob_get(req->db, id, &data, &len);
  if (st == STORE_ONE) {
    char *text = codec_b64_encode_alloc(data, len);
    free(data);
    if (!text)
      return STORE_ERROR;
    json_object_set_new(obj, k->blob_field, json_string(text));
    free(text);
  } else if (st == STORE_NONE) {
    json_object_del(obj, k->blob_field);
    st = STORE_ONE;
  }
  return st;
}

bool crud_within_limit(const api_request *req, const crud_kind *k,
                       api_response *fail) {
  if (!k->allowed_field)
    return true;
  int64_t allowed = organizations_allowance(k->allowed_field);
  int64_t used = store_obj_count(req->db, k->kind, req->principal.org_id);
  if (used < 0) {
    *fail = api_err(ERR_UNAVAILABLE);
    return false;
  }
  if (used >= allowed) {
    *fail = api_err(ERR_LIMIT_EXCEEDED);
    return false;
  }
  return true;
}

api_response crud_reply(const api_request *req, const crud_kind *k,
                        api_response resp) {
  if (!k->present || resp.status != 200)
    return resp;
  bool ok = true;
  json_t *items =
      k->list_field ? json_object_get(resp.body, k->list_field) : NULL;
  if (json_is_array(items)) {
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) ok = ok && k->present(req, item);
  } else {
    ok = k->present(req, resp.body);
  }
  if (ok)
    return resp;
  json_decref(resp.body);
  return api_err(ERR_UNAVAILABLE);
}

/* ---- answering from the stored text ----
 * A stored object is the compact JSON text of one object. A GET adds at
 * most a few top-level attributes to it (the blob, derived counts), so
 * instead of parsing the text into a tree and serialising the tree again,
 * those attributes are spliced into the text: replaced in place when the
 * key is there, appended otherwise, which is where json_object_set would
 * put them, so the answer is byte for byte what the tree would give. */

static size_t crud_ws(const char *t, size_t i, size_t n) {
  while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
    i++;
  return i;
}

/* Looks for a top-level key of the object text t: 1 with the value's span
 * [*vs, *ve), 0 when absent (*vs is then the index of the closing brace and
 * *ve says whether the object has members), -1 when t is not an object. */
static int crud_text_find(const char *t, size_t n, const char *key, size_t *vs,
                          size_t *ve) {
  size_t klen = strlen(key);
  size_t i = crud_ws(t, 0, n);
  if (i >= n || t[i] != '{')
    return -1;
  bool members = false;
  for (i = crud_ws(t, i + 1, n); i < n;) {
    if (t[i] == '}') {
      *vs = i;
      *ve = members;
      return crud_ws(t, i + 1, n) == n ? 0 : -1;
    }
    if (members) {
      if (t[i] != ',')
        return -1;
      i = crud_ws(t, i + 1, n);
    }
    if (i >= n || t[i] != '"')
      return -1;
    size_t kend = jsontext_string_end(t, n, i, true);
    bool match = kend - i == klen + 2 && memcmp(t + i + 1, key, klen) == 0;
    i = crud_ws(t, kend, n);
    if (i >= n || t[i] != ':')
      return -1;
    size_t start = crud_ws(t, i + 1, n);
    size_t end = jsontext_value_end(t, n, start, true);
    if (end >= n)
      return -1;
    if (match) {
      *vs = start;
      *ve = end;
      return 1;
    }
    members = true;
    i = crud_ws(t, end, n);
  }
  return -1;
}

/* Sets top-level key of the object text *t to the JSON text value. */
static bool crud_text_set(char **t, size_t *n, const char *key,
                          const char *value, size_t vlen) {
  size_t vs = 0, ve = 0;
  int found = crud_text_find(*t, *n, key, &vs, &ve);
  if (found < 0)
    return false;
  size_t klen = strlen(key);
  /* Appended: [,]"key":value before the closing brace. */
  size_t add = found ? vlen : (ve ? 1 : 0) + klen + 3 + vlen;
  size_t cut = found ? ve - vs : 0;
  size_t len = *n - cut + add;
  char *out = malloc(len + 1);
  if (!out)
    return false;
  size_t o = 0;
  memcpy(out, *t, vs);
  o = vs;
  if (!found) {
    if (ve)
      out[o++] = ',';
    out[o++] = '"';
    memcpy(out + o, key, klen);
    o += klen;
    out[o++] = '"';
    out[o++] = ':';
  }
  memcpy(out + o, value, vlen);
  o += vlen;
  size_t rest = found ? ve : vs;
  memcpy(out + o, *t + rest, *n - rest);
  o += *n - rest;
  out[o] = '\0';
  free(*t);
  *t = out;
  *n = o;
  return true;
}

/* The blob into text as crud_attach_blob puts it into a tree. */
static store_status crud_blob_text(const api_request *req, const crud_kind *k,
                                   const char *id, char **text, size_t *len) {
  char *data = NULL;
  size_t n = 0;
  store_status st = store_blob_get(req->db, id, &data, &n);
  if (st == STORE_NONE) {
    /* No blob: the field is left out, as crud_attach_blob does. Stored
     * texts lack it; one that has it goes the parsing way. */
    size_t vs = 0, ve = 0;
    return crud_text_find(*text, *len, k->blob_field, &vs, &ve) == 0
               ? STORE_ONE
               : STORE_NONE;
  }
  if (st != STORE_ONE)
    return st;
  char *b64 = codec_b64_encode_alloc(data, n);
  free(data);
  if (!b64)
    return STORE_ERROR;
  /* Base64 needs no escaping: quoting it makes the JSON string. */
  size_t blen = strlen(b64);
  char *quoted = malloc(blen + 3);
  if (!quoted) {
    free(b64);
    return STORE_ERROR;
  }
  quoted[0] = '"';
  memcpy(quoted + 1, b64, blen);
  quoted[blen + 1] = '"';
  quoted[blen + 2] = '\0';
  free(b64);
  bool ok = crud_text_set(text, len, k->blob_field, quoted, blen + 2);
  free(quoted);
  return ok ? STORE_ONE : STORE_NONE;
}

/* The present hook's attributes, computed on an object holding only the id
 * (see crud_get in crud.h), spliced into text. */
static store_status crud_present_text(const api_request *req,
                                      const crud_kind *k, const char *id,
                                      char **text, size_t *len) {
  json_t *extra = json_object();
  json_object_set_new(extra, k->id_field, json_string(id));
  if (!k->present(req, extra)) {
    json_decref(extra);
    return STORE_BUSY;
  }
  bool ok = true;
  const char *key;
  json_t *value;
  json_object_foreach(extra, key, value) {
    if (!ok || strcmp(key, k->id_field) == 0)
      continue;
    char *v =
        json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    ok = v && crud_text_set(text, len, key, v, strlen(v));
    free(v);
  }
  json_decref(extra);
  return ok ? STORE_ONE : STORE_NONE;
}

/* The parse-and-serialise answer, for a stored text the splicer does not
 * take (never expected: stored texts are compact objects). */
static api_response crud_get_tree(api_request *req, const crud_kind *k,
                                  const char *id) {
  json_t *obj = NULL;
  store_status st = crud_load(req, k, id, &obj);
  if (st == STORE_ONE)
    st = crud_attach_blob(req, k, id, obj);
  if (st != STORE_ONE) {
    json_decref(obj);
    return api_store_err(st);
  }
  return crud_reply(req, k, api_ok(obj));
}

api_response crud_get(api_request *req, const crud_kind *k) {
  const char *id = crud_path_id(req);
  store_obj_key key = {k->kind, req->principal.org_id, id};
  char *text = NULL;
  size_t len = 0;
  store_status st = store_obj_get_text(req->db, &key, &text, &len);
  if (st != STORE_ONE)
    return api_store_err(st);
  /* STORE_NONE from the splicers: a text they do not take. */
  if (k->blob_field)
    st = crud_blob_text(req, k, id, &text, &len);
  if (st == STORE_ONE && k->present)
    st = crud_present_text(req, k, id, &text, &len);
  if (st == STORE_ONE)
    return api_ok_raw(text, len);
  free(text);
  if (st == STORE_NONE)
    return crud_get_tree(req, k, id);
  return api_err(st == STORE_BUSY ? ERR_UNAVAILABLE : ERR_INTERNAL);
}

api_response crud_delete(api_request *req, const crud_kind *k) {
  const char *id = crud_path_id(req);
  json_t *obj = NULL;
  store_status st = crud_load(req, k, id, &obj);
  if (st == STORE_ONE)
    st = crud_attach_blob(req, k, id, obj);
  if (st == STORE_ONE) {
    store_obj_key key = {k->kind, req->principal.org_id, id};
    st = store_obj_delete(req->db, &key);
  }
  if (st != STORE_ONE) {
    json_decref(obj);
    return api_store_err(st);
  }
  return crud_reply(req, k, api_ok(obj));
}

api_response crud_patch(api_request *req, const crud_kind *k,
                        const char *const *fields) {
  const char *id = crud_path_id(req);
  json_t *obj = NULL;
  store_status st = crud_load(req, k, id, &obj);
  if (st != STORE_ONE)
    return api_store_err(st);
  crud_copy_fields(obj, req->body, fields);
  crud_touch(obj, req);
  st = crud_save(req, k, id, NULL, NULL, obj);
  if (st == STORE_ONE && k->blob_field &&
      !json_is_string(json_object_get(obj, k->blob_field)))
    st = crud_attach_blob(req, k, id, obj);
  if (st != STORE_ONE) {
    json_decref(obj);
    return api_store_err(st);
  }
  return crud_reply(req, k, api_ok(obj));
}

static void crud_filters_digest(const json_t *parent_ids,
                                const json_t *group_ids, char digest[65]) {
  json_t *filters = json_pack("[OO]", parent_ids ? parent_ids : json_null(),
                              group_ids ? group_ids : json_null());
  char *text = json_dumps(filters, JSON_COMPACT);
  json_decref(filters);
  digest[0] = '\0';
  if (text)
    codec_sha256_hex(text, strlen(text), digest);
  free(text);
}

static char crud_unfiltered_digest[65];
static void crud_unfiltered_digest_make(void) {
  crud_filters_digest(NULL, NULL, crud_unfiltered_digest);
}

/* Names the list and its filters, so a token only continues that list. */
static void crud_list_context(const api_request *req, const crud_kind *k,
                              const json_t *parent_ids, const json_t *group_ids,
                              char *buf, size_t len) {
  /* The filters enter as a digest: they can be longer than the buffer. An
   * unfiltered list (the common case) has the same digest every time. */
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  char digest[65] = "";
  if (!parent_ids && !group_ids) {
    pthread_once(&once, crud_unfiltered_digest_make);
    memcpy(digest, crud_unfiltered_digest, sizeof digest);
  } else {
    crud_filters_digest(parent_ids, group_ids, digest);
  }
  snprintf(buf, len, "%s|%s|%s", k->kind, req->principal.org_id, digest);
}

/* A list page straight from the stored JSON text: the objects are neither
 * parsed nor re-serialised, which is most of the cost of a large page. */
static api_response crud_list_text(api_request *req, const crud_kind *k,
                                   const store_page_query *q,
                                   const char *context) {
  /* {"<list_field>":<items>,"nextToken":<token>}: the page is read into
   * the answer's own buffer after its start, and the end is appended. */
  char start[64];
  snprintf(start, sizeof start, "{\"%s\":", k->list_field);
  char *out = NULL;
  size_t n = 0;
  int64_t last = 0;
  bool more = false;
  store_status st =
      store_obj_page_text(req->db, q, start, &out, &n, &last, &more);
  if (st != STORE_ONE)
    return api_store_err(st);
  json_t *token = paging_next_token(context, last, more);
  char *token_text = json_dumps(token, JSON_ENCODE_ANY);
  json_decref(token);
  static const char next[] = ",\"nextToken\":";
  size_t token_len = token_text ? strlen(token_text) : 0;
  /* Usually in place: the page's buffer was sized for larger rows. */
  char *grown =
      token_text ? realloc(out, n + sizeof next + token_len + 1) : NULL;
  if (!grown) {
    free(out);
    free(token_text);
    return api_err(ERR_INTERNAL);
  }
  out = grown;
  memcpy(out + n, next, sizeof next - 1);
  n += sizeof next - 1;
  memcpy(out + n, token_text, token_len);
  n += token_len;
  out[n++] = '}';
  out[n] = '\0';
  free(token_text);
  return api_ok_raw(out, n);
}

api_response crud_list(api_request *req, const crud_kind *k,
                       const json_t *parent_ids, const json_t *group_ids) {
  char context[900];
  crud_list_context(req, k, parent_ids, group_ids, context, sizeof context);
  paging_args page;
  api_response fail;
  if (!paging_parse(req, context, &page, &fail))
    return fail;
  store_page_query q = {k->kind,   req->principal.org_id, parent_ids,
                        group_ids, page.after_seq,        page.limit};
  json_t *items = NULL;
  int64_t last = 0;
  bool more = false;
  bool deleting = strcmp(req->method, "DELETE") == 0;
  if (!deleting && !k->present)
    return crud_list_text(req, k, &q, context);
  store_status st =
      deleting ? store_obj_delete_page(req->db, &q, &items, &last, &more)
               : store_obj_page(req->db, &q, &items, &last, &more);
  if (st != STORE_ONE)
    return api_store_err(st);
  json_t *out = json_object();
  json_object_set_new(out, k->list_field, items);
  json_object_set_new(out, "nextToken", paging_next_token(context, last, more));
  return crud_reply(req, k, api_ok(out));
}

api_response crud_create(api_request *req, const crud_kind *k,
                         const char *const *fields) {
  api_response fail;
  if (!crud_within_limit(req, k, &fail))
    return fail;
  char id[IDS_MAX_LEN];
  json_t *obj = crud_new(req, k, id);
  crud_copy_fields(obj, req->body, fields);
  crud_default_null(obj, fields);
  store_status st = crud_insert(req, k, id, NULL, NULL, obj);
  if (st != STORE_ONE) {
    json_decref(obj);
    return api_store_err(st);
  }
  return crud_reply(req, k, api_ok(obj));
}
