/* Resource identifiers `las:<kind>:<32 lowercase hex>` and random secrets.
 *
 * Deterministic mode (the control API's id seed): after ids_set_seed, every
 * random byte (ids, tokens, client secrets, API keys, salts) comes from a
 * reproducible generator, so the same requests in the same order give the
 * same ids run after run. It is for tests only: the bytes are predictable.
 *
 * Fixed ids (seed fixtures): ids_force_next makes the next ids_new of that
 * kind on the calling thread return a given id instead of a fresh one. */
#ifndef LAS_CORE_IDS_H
#define LAS_CORE_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDS_MAX_LEN 64

/* Writes a fresh id for `kind` (e.g. "document") into buf (IDS_MAX_LEN). */
void ids_new(const char *kind, char *buf, size_t len);
/* true when `id` is exactly `las:<kind>:` followed by 32 lowercase hex. */
bool ids_valid(const char *kind, const char *id);
/* Writes `nbytes` random bytes as lowercase hex (buf needs 2*nbytes+1). */
void ids_random_hex(size_t nbytes, char *buf);
/* Fills buf with random bytes: from the system's generator, or from the
 * seeded sequence in deterministic mode. Any thread. */
void ids_random_bytes(void *buf, size_t len);

/* Deterministic mode from now on, the sequence restarting at `seed`
 * (setting the same seed again restarts it). Any thread. */
void ids_set_seed(uint64_t seed);
/* The same seed (ids_get_seed reports it), sequence number `stream` of
 * it: stream 0 is ids_set_seed's; others are reproducible too but do not
 * repeat it (a restart on a kept database uses the next stream). */
void ids_set_seed_stream(uint64_t seed, uint64_t stream);
/* Back to the system's generator. */
void ids_clear_seed(void);
/* true (and *seed, may be NULL) when in deterministic mode. */
bool ids_get_seed(uint64_t *seed);

/* The next ids_new(kind) on this thread returns `id` (which the caller
 * has checked with ids_valid) instead of a fresh id. One pending id per
 * thread; ids_force_clear drops it if unused. */
void ids_force_next(const char *kind, const char *id);
void ids_force_clear(void);

#endif
