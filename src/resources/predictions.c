/* /predictions (being written) */
#include "resources/resources.h"

LAS_HANDLER(predictions_list) {
  (void)req;
  return api_err(ERR_NOT_IMPLEMENTED);
}

LAS_HANDLER(predictions_create) {
  (void)req;
  return api_err(ERR_NOT_IMPLEMENTED);
}
