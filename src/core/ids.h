/* Resource identifiers `las:<kind>:<32 lowercase hex>` and random secrets. */
#ifndef LAS_CORE_IDS_H
#define LAS_CORE_IDS_H

#include <stdbool.h>
#include <stddef.h>

#define IDS_MAX_LEN 64

/* Writes a fresh id for `kind` (e.g. "document") into buf (IDS_MAX_LEN). */
void ids_new(const char *kind, char *buf, size_t len);
/* true when `id` is exactly `las:<kind>:` followed by 32 lowercase hex. */
bool ids_valid(const char *kind, const char *id);
/* Writes `nbytes` random bytes as lowercase hex (buf needs 2*nbytes+1). */
void ids_random_hex(size_t nbytes, char *buf);
/* Fills buf with cryptographically random bytes. */
void ids_random_bytes(void *buf, size_t len);

#endif
