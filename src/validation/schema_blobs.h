#ifndef LAS_VALIDATION_SCHEMA_BLOBS_H
#define LAS_VALIDATION_SCHEMA_BLOBS_H
#include <stddef.h>
struct schema_blob { const char *name; const char *json; };
extern const struct schema_blob schema_blobs[];
extern const size_t schema_blobs_count;
#endif
