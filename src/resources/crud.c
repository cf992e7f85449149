#include "resources/crud.h"

#include "resources/organizations.h"
#include "resources/paging.h"

#include "core/codec.h"

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
  json_object_set_new(obj, "createdBy", req->principal.id[0]
                                            ? json_string(req->principal.id)
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
  json_object_set_new(obj, "updatedBy", req->principal.id[0]
                                            ? json_string(req->principal.id)
                                            : json_null());
}

store_status crud_load(const api_request *req, const crud_kind *k,
                       const char *id, json_t **out) {
  store_obj_key key = {k->kind, req->principal.org_id, id};
  return store_obj_get(req->db, &key, out);
}

/* Writes obj's attributes and, when its blob field holds a string, the blob.
 * The stored attributes lack the blob field, so lists show it as unset (the
 * reference makes it an optional string, not nullable) without reading
 * blobs; obj keeps a string blob field. */
static store_status crud_store(const api_request *req, const crud_kind *k,
                               const char *id, const char *parent_id,
                               const char *group_id, json_t *obj,
                               bool insert) {
  store_obj_key key = {k->kind, req->principal.org_id, id};
  json_t *blob = k->blob_field ? json_object_get(obj, k->blob_field) : NULL;
  json_incref(blob);
  if (blob)
    json_object_del(obj, k->blob_field);
  store_status st =
      insert ? store_obj_insert(req->db, &key, parent_id, group_id, obj)
             : store_obj_update(req->db, &key, parent_id, group_id, obj);
  if (st == STORE_ONE && json_is_string(blob)) {
    /* The API's base64 is kept as the bytes it encodes (handlers have
     * checked it decodes). */
    size_t len = 0;
    unsigned char *bytes = codec_b64_decode_alloc(
        json_string_value(blob), json_string_length(blob), &len);
    st = bytes ? store_blob_put(req->db, id, bytes, len) : STORE_ERROR;
    free(bytes);
  }
  /* A null blob field is not put back: unset fields are omitted. */
  if (json_is_string(blob))
    json_object_set(obj, k->blob_field, blob);
  json_decref(blob);
  return st;
}

store_status crud_insert(const api_request *req, const crud_kind *k,
                         const char *id, const char *parent_id,
                         const char *group_id, json_t *obj) {
  return crud_store(req, k, id, parent_id, group_id, obj, true);
}

store_status crud_save(const api_request *req, const crud_kind *k,
                       const char *id, const char *parent_id,
                       const char *group_id, json_t *obj) {
  return crud_store(req, k, id, parent_id, group_id, obj, false);
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
  json_t *items = k->list_field ? json_object_get(resp.body, k->list_field)
                                : NULL;
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

api_response crud_get(api_request *req, const crud_kind *k) {
  const char *id = crud_path_id(req);
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

/* Names the list and its filters, so a token only continues that list. */
static void crud_list_context(const api_request *req, const crud_kind *k,
                              const json_t *parent_ids,
                              const json_t *group_ids, char *buf,
                              size_t len) {
  /* The filters enter as a digest: they can be longer than the buffer. */
  json_t *filters = json_pack("[OO]", parent_ids ? parent_ids : json_null(),
                              group_ids ? group_ids : json_null());
  char *text = json_dumps(filters, JSON_COMPACT);
  json_decref(filters);
  char digest[65] = "";
  if (text)
    codec_sha256_hex(text, strlen(text), digest);
  free(text);
  snprintf(buf, len, "%s|%s|%s", k->kind, req->principal.org_id, digest);
}

/* A list page straight from the stored JSON text: the objects are neither
 * parsed nor re-serialised, which is most of the cost of a large page. */
static api_response crud_list_text(api_request *req, const crud_kind *k,
                                   const store_page_query *q,
                                   const char *context) {
  char *items = NULL;
  size_t items_len = 0;
  int64_t last = 0;
  bool more = false;
  store_status st =
      store_obj_page_text(req->db, q, &items, &items_len, &last, &more);
  if (st != STORE_ONE)
    return api_store_err(st);
  json_t *token = paging_next_token(context, last, more);
  char *token_text = json_dumps(token, JSON_ENCODE_ANY);
  json_decref(token);
  size_t cap = items_len + strlen(k->list_field) + 64 +
               (token_text ? strlen(token_text) : 4);
  char *out = malloc(cap);
  if (!out || !token_text) {
    free(out);
    free(items);
    free(token_text);
    return api_err(ERR_INTERNAL);
  }
  int n = snprintf(out, cap, "{\"%s\":%s,\"nextToken\":%s}", k->list_field,
                   items, token_text);
  free(items);
  free(token_text);
  return api_ok_raw(out, (size_t)n);
}

api_response crud_list(api_request *req, const crud_kind *k,
                       const json_t *parent_ids, const json_t *group_ids) {
  char context[900];
  crud_list_context(req, k, parent_ids, group_ids, context, sizeof context);
  paging_args page;
  api_response fail;
  if (!paging_parse(req, context, &page, &fail))
    return fail;
  store_page_query q = {k->kind, req->principal.org_id, parent_ids,
                        group_ids, page.after_seq, page.limit};
  json_t *items = NULL;
  int64_t last = 0;
  bool more = false;
  bool deleting = strcmp(req->method, "DELETE") == 0;
  if (!deleting && !k->present)
    return crud_list_text(req, k, &q, context);
  store_status st = deleting
                        ? store_obj_delete_page(req->db, &q, &items, &last, &more)
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
