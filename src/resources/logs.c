/* /logs (being written) */
#include "resources/resources.h"

LAS_HANDLER(logs_list) {
  (void)req;
  return api_err(ERR_NOT_IMPLEMENTED);
}

LAS_HANDLER(logs_get) {
  (void)req;
  return api_err(ERR_NOT_IMPLEMENTED);
}
