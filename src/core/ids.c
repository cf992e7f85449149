#include "core/ids.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

/* Deterministic mode: splitmix64 (Steele, Lea, Flood 2014), whose outputs
 * over a 64-bit counter are all distinct, so seeded ids never collide. */
static pthread_mutex_t ids_seed_lock = PTHREAD_MUTEX_INITIALIZER;
static bool ids_seeded;
static uint64_t ids_seed_value, ids_seed_state;

static uint64_t ids_splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void ids_set_seed_stream(uint64_t seed, uint64_t stream) {
  pthread_mutex_lock(&ids_seed_lock);
  ids_seeded = true;
  ids_seed_value = seed;
  /* An odd multiplier: distinct streams start far apart on splitmix64's
   * one cycle of 2^64 states. */
  ids_seed_state = seed + stream * 0xd1b54a32d192ed03ULL;
  pthread_mutex_unlock(&ids_seed_lock);
}

void ids_set_seed(uint64_t seed) {
  ids_set_seed_stream(seed, 0);
}

void ids_clear_seed(void) {
  pthread_mutex_lock(&ids_seed_lock);
  ids_seeded = false;
  pthread_mutex_unlock(&ids_seed_lock);
}

bool ids_get_seed(uint64_t *seed) {
  pthread_mutex_lock(&ids_seed_lock);
  bool on = ids_seeded;
  if (on && seed)
    *seed = ids_seed_value;
  pthread_mutex_unlock(&ids_seed_lock);
  return on;
}

/* Fills buf from the seeded sequence; false when not in that mode. */
static bool ids_seeded_bytes(unsigned char *p, size_t len) {
  pthread_mutex_lock(&ids_seed_lock);
  bool on = ids_seeded;
  while (on && len > 0) {
    uint64_t r = ids_splitmix64(&ids_seed_state);
    size_t take = len < sizeof r ? len : sizeof r;
    for (size_t i = 0; i < take; i++)
      p[i] = (unsigned char)(r >> (8 * i));
    p += take;
    len -= take;
  }
  pthread_mutex_unlock(&ids_seed_lock);
  return on;
}

static _Thread_local char ids_forced_kind[32];
static _Thread_local char ids_forced_id[IDS_MAX_LEN];

void ids_force_next(const char *kind, const char *id) {
  snprintf(ids_forced_kind, sizeof ids_forced_kind, "%s", kind);
  snprintf(ids_forced_id, sizeof ids_forced_id, "%s", id);
}

void ids_force_clear(void) {
  ids_forced_kind[0] = '\0';
  ids_forced_id[0] = '\0';
}

void ids_random_bytes(void *buf, size_t len) {
  unsigned char *p = buf;
  if (ids_seeded_bytes(p, len))
    return;
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n <= 0) {
      /* getrandom only fails before the pool is seeded or on EINTR; libuuid
       * has its own fallbacks, so use it rather than leaving bytes unset. */
      uuid_t u;
      uuid_generate(u);
      size_t take = len < sizeof u ? len : sizeof u;
      memcpy(p, u, take);
      n = (ssize_t)take;
    }
    p += n;
    len -= (size_t)n;
  }
}

static void ids_hex(const unsigned char *bytes, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * n] = '\0';
}

void ids_random_hex(size_t nbytes, char *buf) {
  unsigned char tmp[64];
  if (nbytes > sizeof tmp)
    nbytes = sizeof tmp;
  ids_random_bytes(tmp, nbytes);
  ids_hex(tmp, nbytes, buf);
}

void ids_new(const char *kind, char *buf, size_t len) {
  if (ids_forced_kind[0] && strcmp(ids_forced_kind, kind) == 0) {
    snprintf(buf, len, "%s", ids_forced_id);
    ids_force_clear();
    return;
  }
  /* A version 4 UUID, as uuid_generate_random makes, from one getrandom
   * call instead of its six system calls per id. */
  unsigned char u[16];
  ids_random_bytes(u, sizeof u);
  u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
  u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
  char hex[33];
  ids_hex(u, sizeof u, hex);
  snprintf(buf, len, "las:%s:%s", kind, hex);
}

bool ids_valid(const char *kind, const char *id) {
  size_t klen = strlen(kind);
  if (strncmp(id, "las:", 4) != 0 || strncmp(id + 4, kind, klen) != 0 ||
      id[4 + klen] != ':')
    return false;
  const char *hex = id + 5 + klen;
  size_t n = 0;
  for (; hex[n]; n++)
    if (!((hex[n] >= '0' && hex[n] <= '9') || (hex[n] >= 'a' && hex[n] <= 'f')))
      return false;
  return n == 32;
}
