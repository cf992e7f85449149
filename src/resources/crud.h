/* What most resources share: building a new object, loading it within the
 * caller's organization, patching listed fields, listing a page, deleting.
 * A resource file describes its kind once and calls these. */
#ifndef LAS_RESOURCES_CRUD_H
#define LAS_RESOURCES_CRUD_H

#include "core/ids.h"
#include "routing/api.h"

typedef struct crud_kind {
  const char *kind;       /* id kind and store kind, e.g. "asset" */
  const char *id_field;   /* e.g. "assetId" */
  const char *list_field; /* e.g. "assets" */
  const char *blob_field; /* base64 attribute kept (decoded) in the blob
                             table, or NULL */
  const char
      *allowed_field; /* organization limit, e.g. "numberOfAssetsAllowed" */
  /* Adds derived attributes (counts) to an object about to be answered;
   * false on a store error. NULL when there are none. */
  bool (*present)(const api_request *req, json_t *obj);
} crud_kind;

/* A NEW object with a fresh id (also written into id), createdTime/By set
 * and updatedTime/By null. */
json_t *crud_new(const api_request *req, const crud_kind *k,
                 char id[IDS_MAX_LEN]);
/* Copies each listed field present in `from` (null included) into obj. */
void crud_copy_fields(json_t *obj, const json_t *from,
                      const char *const *fields);
/* Sets every listed field that obj lacks to null. */
void crud_default_null(json_t *obj, const char *const *fields);
/* Marks obj as updated now by the caller. */
void crud_touch(json_t *obj, const api_request *req);

/* Loads an object of the caller's organization: NEW reference on ONE. */
store_status crud_load(const api_request *req, const crud_kind *k,
                       const char *id, json_t **out);
/* Stores obj (insert or update), moving the blob field, when present as a
 * string, into the blob table. */
store_status crud_insert(const api_request *req, const crud_kind *k,
                         const char *id, const char *parent_id,
                         const char *group_id, json_t *obj);
store_status crud_save(const api_request *req, const crud_kind *k,
                       const char *id, const char *parent_id,
                       const char *group_id, json_t *obj);
/* crud_insert for a handler that has decoded the blob field's base64 (to
 * check it): `decoded` (len bytes, borrowed) is stored as the blob instead
 * of decoding the field a second time. On STORE_ONE, *stored (when not NULL)
 * is the attributes' stored text (malloc'ed; the blob field is not in it),
 * for an answer that shows exactly that. */
store_status crud_insert_decoded(const api_request *req, const crud_kind *k,
                                 const char *id, const char *parent_id,
                                 const char *group_id, json_t *obj,
                                 const unsigned char *decoded, size_t len,
                                 char **stored);
/* Puts the stored blob back into obj's blob field (removed when none). */
store_status crud_attach_blob(const api_request *req, const crud_kind *k,
                              const char *id, json_t *obj);

/* 429 when the organization's allowance for this kind is used up. */
bool crud_within_limit(const api_request *req, const crud_kind *k,
                       api_response *fail);

/* Runs the kind's present hook on a 200 response's object, or on every item
 * of a list response; a failing hook turns the response into a 503. */
api_response crud_reply(const api_request *req, const crud_kind *k,
                        api_response resp);

/* Whole operations, for resources with nothing special about them. The
 * object id is the last path parameter.
 * crud_get answers from the stored JSON text without parsing it: the blob
 * and the present hook's attributes are spliced in. So the present hook of
 * a kind served by crud_get must only add attributes, computed from the
 * object's id alone (it is run on an object holding just the id field). */
api_response crud_get(api_request *req, const crud_kind *k);
api_response crud_delete(api_request *req, const crud_kind *k);
api_response crud_patch(api_request *req, const crud_kind *k,
                        const char *const *fields);
/* Lists a page; parent_ids/group_ids filters are borrowed (may be NULL). */
api_response crud_list(api_request *req, const crud_kind *k,
                       const json_t *parent_ids, const json_t *group_ids);
/* Creates from the body's listed fields (unlisted ones default to null). */
api_response crud_create(api_request *req, const crud_kind *k,
                         const char *const *fields);

/* The id in the path: the last path parameter. */
const char *crud_path_id(const api_request *req);

#endif
