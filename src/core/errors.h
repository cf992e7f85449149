/* The one error registry: every error the API can answer, with its HTTP
 * status and default message. Nobody writes a status code by hand. */
#ifndef LAS_CORE_ERRORS_H
#define LAS_CORE_ERRORS_H

#define LAS_ERRORS(X)                                                          \
  X(ERR_BAD_REQUEST, 400, "Bad Request")                                       \
  X(ERR_INVALID_GRANT, 400, "invalid_grant")                                   \
  X(ERR_UNAUTHORIZED_CLIENT, 401, "invalid_client")                            \
  X(ERR_FORBIDDEN, 403, "Forbidden")                                           \
  X(ERR_NOT_FOUND, 404, "Not Found")                                           \
  X(ERR_METHOD_NOT_ALLOWED, 405, "Method Not Allowed")                         \
  X(ERR_REQUEST_TIMEOUT, 408, "Request Timeout")                               \
  X(ERR_CONFLICT, 409, "Conflict")                                             \
  X(ERR_PAYLOAD_TOO_LARGE, 413, "Payload Too Large")                           \
  X(ERR_URI_TOO_LONG, 414, "URI Too Long")                                     \
  X(ERR_UNSUPPORTED_MEDIA_TYPE, 415, "Unsupported Media Type")                 \
  X(ERR_LIMIT_EXCEEDED, 429, "Limit Exceeded")                                 \
  X(ERR_TOO_MANY_REQUESTS, 429, "Too Many Requests")                           \
  X(ERR_HEADERS_TOO_LARGE, 431, "Request Header Fields Too Large")             \
  X(ERR_INTERNAL, 500, "Internal Server Error")                                \
  X(ERR_UNAVAILABLE, 503, "Service Unavailable")                               \
  X(ERR_HTTP_VERSION_NOT_SUPPORTED, 505, "HTTP Version Not Supported")

typedef enum {
#define LAS_ERR_ENUM(code, status, msg) code,
  LAS_ERRORS(LAS_ERR_ENUM)
#undef LAS_ERR_ENUM
      ERR__COUNT
} err_code;

unsigned err_status(err_code code);
const char *err_message(err_code code);

#endif
