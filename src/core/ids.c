#include "core/ids.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

void ids_random_bytes(void *buf, size_t len) {
  unsigned char *p = buf;
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
