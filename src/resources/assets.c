/* /assets: named blobs of base64 content, returned byte for byte. */
#include "resources/crud.h"
#include "resources/resources.h"

#include "core/codec.h"

#include <stdlib.h>

static const crud_kind asset_kind = {
    .kind = "asset",
    .id_field = "assetId",
    .list_field = "assets",
    .blob_field = "content",
    .allowed_field = "numberOfAssetsAllowed",
};

static const char *const asset_fields[] = {"name", "description", "content",
                                           NULL};

/* Content is documented as base64; refuse anything else up front. */
static bool asset_content_ok(const api_request *req, api_response *fail) {
  json_t *content = json_object_get(req->body, "content");
  if (!content)
    return true;
  size_t len = 0;
  unsigned char *raw = codec_b64_decode_alloc(
      json_string_value(content), json_string_length(content), &len);
  if (!raw) {
    *fail = api_errf(ERR_BAD_REQUEST, "content: must be base64 encoded");
    return false;
  }
  free(raw);
  return true;
}

LAS_HANDLER(assets_list) { return crud_list(req, &asset_kind, NULL, NULL); }

LAS_HANDLER(assets_create) {
  api_response fail;
  if (!asset_content_ok(req, &fail))
    return fail;
  return crud_create(req, &asset_kind, asset_fields);
}

LAS_HANDLER(assets_get) { return crud_get(req, &asset_kind); }

LAS_HANDLER(assets_update) {
  api_response fail;
  if (!asset_content_ok(req, &fail))
    return fail;
  return crud_patch(req, &asset_kind, asset_fields);
}

LAS_HANDLER(assets_delete) { return crud_delete(req, &asset_kind); }
