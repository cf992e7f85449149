/* /documents: base64 content checked against contentType by its file
 * signature; ground truth; consentId; datasetId must exist; list and bulk
 * delete filtered by consentId/datasetId (repeatable), paginated. */
#include "resources/documents.h"
#include "resources/crud.h"
#include "resources/datasets.h"
#include "resources/organizations.h"
#include "resources/resources.h"

#include "core/clock.h"
#include "core/codec.h"
#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const crud_kind document_kind = {
    .kind = "document",
    .id_field = "documentId",
    .list_field = "documents",
    .blob_field = "content",
};

enum { DOCUMENT_DEFAULT_RETENTION_DAYS = 1825 };

/* The leading bytes each accepted content type starts with. */
static const struct {
  const char *content_type;
  const unsigned char *magic;
  size_t len;
} document_signatures[] = {
    {"application/pdf", (const unsigned char *)"%PDF-", 5},
    {"image/jpeg", (const unsigned char *)"\xff\xd8\xff", 3},
    {"image/png", (const unsigned char *)"\x89PNG\r\n\x1a\n", 8},
    {"image/tiff", (const unsigned char *)"II*\0", 4},
    {"image/tiff", (const unsigned char *)"MM\0*", 4},
};

static api_response document_check_content(const json_t *body,
                                           unsigned char **raw_out,
                                           size_t *len_out) {
  json_t *content = json_object_get(body, "content");
  const char *type = json_string_value(json_object_get(body, "contentType"));
  size_t len = 0;
  unsigned char *raw = codec_b64_decode_alloc(
      json_string_value(content), json_string_length(content), &len);
  if (!raw)
    return api_errf(ERR_BAD_REQUEST, "content: must be base64 encoded");
  bool known = false, matches = false;
  for (size_t i = 0;
       i < sizeof document_signatures / sizeof document_signatures[0]; i++) {
    if (strcmp(document_signatures[i].content_type, type) != 0)
      continue;
    known = true;
    matches |= len >= document_signatures[i].len &&
               memcmp(raw, document_signatures[i].magic,
                      document_signatures[i].len) == 0;
  }
  if (known && !matches) {
    free(raw);
    return api_errf(ERR_BAD_REQUEST,
                    "content: does not match contentType %s (wrong file "
                    "signature)",
                    type);
  }
  *raw_out = raw;
  *len_out = len;
  api_response ok = {.status = 0};
  return ok;
}

/* 400 unless the body's datasetId names a dataset of the caller. */
static api_response document_check_dataset(const api_request *req) {
  const char *ds_id =
      json_string_value(json_object_get(req->body, "datasetId"));
  api_response ok = {.status = 0};
  if (!ds_id)
    return ok;
  json_t *ds = NULL;
  store_status st = datasets_load(req, ds_id, &ds);
  json_decref(ds);
  if (st == STORE_NONE)
    return api_errf(ERR_BAD_REQUEST, "datasetId: dataset %s does not exist",
                    ds_id);
  if (st != STORE_ONE)
    return api_store_err(st);
  return ok;
}

static const char *document_str(const json_t *doc, const char *field) {
  return json_string_value(json_object_get(doc, field));
}

/* Reads a repeatable id filter, checking each value's pattern. */
static bool document_filter(const api_request *req, const char *name,
                            const char *kind, json_t **out,
                            api_response *fail) {
  *out = api_query_all(req, name);
  size_t i;
  json_t *v;
  json_array_foreach(*out, i, v) {
    if (!ids_valid(kind, json_string_value(v))) {
      *fail =
          api_errf(ERR_BAD_REQUEST,
                   "%s: must match pattern ^las:%s:[a-f0-9]{32}$", name, kind);
      json_decref(*out);
      *out = NULL;
      return false;
    }
  }
  return true;
}

static api_response document_list_filtered(api_request *req) {
  json_t *datasets = NULL, *consents = NULL;
  api_response fail;
  if (!document_filter(req, "datasetId", "dataset", &datasets, &fail))
    return fail;
  if (!document_filter(req, "consentId", "consent", &consents, &fail)) {
    json_decref(datasets);
    return fail;
  }
  api_response resp = crud_list(req, &document_kind, datasets, consents);
  json_decref(datasets);
  json_decref(consents);
  return resp;
}

enum { DOCUMENT_EXPIRY_BATCH = 500 };
static const int64_t document_day_us = 86400LL * 1000000;

/* When a document expires: createdTime + retentionInDays. False when that
 * is not a time (the schemas cap retentionInDays at 1,000,000 days, so this
 * only guards against stored rows made otherwise). */
static bool document_expiry(const json_t *doc, int64_t *expires) {
  int64_t created = 0, span = 0;
  json_t *days = json_object_get(doc, "retentionInDays");
  return clock_parse_iso(document_str(doc, "createdTime"), &created) &&
         json_is_integer(days) && json_integer_value(days) >= 0 &&
         !__builtin_mul_overflow((int64_t)json_integer_value(days),
                                 document_day_us, &span) &&
         !__builtin_add_overflow(created, span, expires);
}

/* Records when a document expires and makes sure the engine wakes up by
 * then. */
static api_response document_schedule_expiry(const api_request *req,
                                             const char *id,
                                             const json_t *doc) {
  int64_t expires = 0;
  if (!document_expiry(doc, &expires))
    return api_errf(ERR_BAD_REQUEST,
                    "retentionInDays: createdTime + retentionInDays is not a "
                    "representable time");
  store_obj_key key = {document_kind.kind, req->principal.org_id, id};
  store_status st = store_obj_set_expiry(req->db, &key, expires);
  if (st == STORE_ONE)
    st = store_job_ensure(req->db, "retention", "documents",
                          req->principal.org_id, expires);
  api_response ok = {.status = 0};
  return st == STORE_ONE ? ok : api_store_err(st);
}

store_status documents_expire(store *s, const store_job *job, int64_t now_us) {
  (void)job;
  int deleted = 0;
  store_status st =
      store_obj_delete_expired(s, now_us, DOCUMENT_EXPIRY_BATCH, &deleted);
  if (st != STORE_ONE)
    return st;
  if (deleted > 0)
    log_msg(LOG_INFO, "retention: deleted %d expired documents", deleted);
  /* The next sweep: when the next document expires (at once when this batch
   * did not take them all). */
  int64_t next = 0;
  st = store_obj_next_expiry(s, &next);
  if (st == STORE_NONE)
    return STORE_ONE;
  if (st != STORE_ONE)
    return st;
  return store_job_add(s, "retention", "documents", "", next);
}

LAS_HANDLER(documents_list) {
  return document_list_filtered(req);
}

/* Bumps the version of every dataset the deleted documents were in: the
 * response is one document, or a page of them under "documents". */
static api_response document_bump_deleted(api_request *req, api_response resp) {
  if (resp.status != 200)
    return resp;
  json_t *page = json_object_get(resp.body, "documents");
  json_t *seen = json_object();
  store_status st = STORE_ONE;
  size_t n = page ? json_array_size(page) : 1;
  for (size_t i = 0; i < n && st == STORE_ONE; i++) {
    const char *ds =
        document_str(page ? json_array_get(page, i) : resp.body, "datasetId");
    if (!ds || json_object_get(seen, ds))
      continue;
    json_object_set_new(seen, ds, json_true());
    st = datasets_bump_version(req, ds);
  }
  json_decref(seen);
  if (st == STORE_ONE)
    return resp;
  api_response_free(&resp);
  return api_store_err(st);
}

LAS_HANDLER(documents_delete_many) {
  return document_bump_deleted(req, document_list_filtered(req));
}

/* The content is decoded and checked before the write transaction (it
 * needs no storage); the handler stores the bytes. */
LAS_PREPARE(documents_prepare) {
  unsigned char *raw = NULL;
  size_t len = 0;
  api_response check = document_check_content(req->body, &raw, &len);
  if (check.status) {
    api_response_free(&check);
    return;
  }
  req->prepared.bytes = raw;
  req->prepared.bytes_len = len;
}

LAS_HANDLER(documents_create) {
  /* The content is decoded once: checked, then stored as these bytes. */
  unsigned char *raw = req->prepared.bytes, *own = NULL;
  size_t raw_len = req->prepared.bytes_len;
  api_response check = {.status = 0};
  if (!raw) {
    check = document_check_content(req->body, &own, &raw_len);
    raw = own;
  }
  if (!check.status)
    check = document_check_dataset(req);
  if (!check.status)
    check = organizations_consume(req, "documents");
  if (check.status) {
    free(own);
    return check;
  }
  char id[IDS_MAX_LEN];
  json_t *doc = crud_new(req, &document_kind, id);
  json_object_set_new(doc, "contentType",
                      json_string(document_str(req->body, "contentType")));
  /* consentId and datasetId stay unset (omitted, not null) unless given. */
  json_object_set_new(doc, "groundTruth", json_array());
  json_object_set_new(doc, "retentionInDays",
                      json_integer(DOCUMENT_DEFAULT_RETENTION_DAYS));
  static const char *const fields[] = {"consentId",   "datasetId",
                                       "groundTruth", "retentionInDays",
                                       "content",     NULL};
  crud_copy_fields(doc, req->body, fields);
  /* The answer is the stored text: the attributes without the upload. */
  char *stored = NULL;
  store_status st = crud_insert_decoded(
      req, &document_kind, id, document_str(doc, "datasetId"),
      document_str(doc, "consentId"), doc, raw, raw_len, &stored);
  free(own);
  if (st == STORE_ONE) {
    check = document_schedule_expiry(req, id, doc);
    if (check.status) {
      json_decref(doc);
      free(stored);
      return check;
    }
    st = datasets_bump_version(req, document_str(doc, "datasetId"));
  }
  json_decref(doc);
  if (st != STORE_ONE) {
    free(stored);
    return api_store_err(st);
  }
  /* The upload is not echoed back; GET /documents/{id} returns it. */
  return api_ok_raw(stored, strlen(stored));
}

LAS_HANDLER(documents_get) {
  return crud_get(req, &document_kind);
}

LAS_HANDLER(documents_update) {
  api_response check = document_check_dataset(req);
  if (check.status)
    return check;
  const char *id = crud_path_id(req);
  json_t *doc = NULL;
  store_status st = crud_load(req, &document_kind, id, &doc);
  if (st != STORE_ONE)
    return api_store_err(st);
  static const char *const fields[] = {"groundTruth", "retentionInDays",
                                       "datasetId", NULL};
  /* The datasets the document leaves and joins both change. */
  char old_ds[IDS_MAX_LEN] = "";
  if (document_str(doc, "datasetId"))
    snprintf(old_ds, sizeof old_ds, "%s", document_str(doc, "datasetId"));
  bool content_changed = json_object_get(req->body, "groundTruth") ||
                         json_object_get(req->body, "datasetId");
  crud_copy_fields(doc, req->body, fields);
  crud_touch(doc, req);
  st = crud_save(req, &document_kind, id, document_str(doc, "datasetId"),
                 document_str(doc, "consentId"), doc);
  if (st == STORE_ONE && json_object_get(req->body, "retentionInDays")) {
    check = document_schedule_expiry(req, id, doc);
    if (check.status) {
      json_decref(doc);
      return check;
    }
  }
  const char *new_ds = document_str(doc, "datasetId");
  if (st == STORE_ONE && content_changed && old_ds[0])
    st = datasets_bump_version(req, old_ds);
  if (st == STORE_ONE && content_changed && new_ds &&
      strcmp(new_ds, old_ds) != 0)
    st = datasets_bump_version(req, new_ds);
  if (st != STORE_ONE) {
    json_decref(doc);
    return api_store_err(st);
  }
  return api_ok(doc);
}

LAS_HANDLER(documents_delete) {
  return document_bump_deleted(req, crud_delete(req, &document_kind));
}
