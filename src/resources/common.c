/* Handlers shared by every path: CORS preflight and health. */
#include "resources/resources.h"

LAS_HANDLER(options_any) {
  (void)req;
  return api_ok(json_object());
}

LAS_HANDLER(health_get) {
  if (!req->db)
    return api_err(ERR_UNAVAILABLE);
  int64_t n = store_obj_count(req->db, "organization", "");
  if (n < 0)
    return api_err(ERR_UNAVAILABLE);
  return api_ok(json_pack("{s:s, s:s}", "status", "ok", "store", "ready"));
}
