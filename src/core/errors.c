#include "core/errors.h"

static const struct {
  unsigned status;
  const char *message;
} err_table[] = {
#define LAS_ERR_ROW(code, status, msg) [code] = {status, msg},
    LAS_ERRORS(LAS_ERR_ROW)
#undef LAS_ERR_ROW
};

unsigned err_status(err_code code) {
  return code < ERR__COUNT ? err_table[code].status : 500;
}

const char *err_message(err_code code) {
  return code < ERR__COUNT ? err_table[code].message : "Internal Server Error";
}
