#include "core/codec.h"

#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Decoding tables: symbol value, or -1 for bytes outside the alphabet. A
 * table, not strchr, because documents of megabytes pass through here. */
static signed char b64_std_values[256];
static signed char b64_url_values[256];
static pthread_once_t b64_tables_once = PTHREAD_ONCE_INIT;

static void b64_fill(signed char *values, const char *alphabet) {
  memset(values, -1, 256);
  for (int i = 0; i < 64; i++)
    values[(unsigned char)alphabet[i]] = (signed char)i;
}

static void b64_init_tables(void) {
  b64_fill(b64_std_values, b64_std);
  b64_fill(b64_url_values, b64_url);
}

static const signed char *b64_values(const char *alphabet) {
  pthread_once(&b64_tables_once, b64_init_tables);
  return alphabet == b64_std ? b64_std_values : b64_url_values;
}

static char *b64_encode(const void *data, size_t len, const char *alphabet,
                        bool pad) {
  const unsigned char *in = data;
  char *out = malloc(4 * ((len + 2) / 3) + 1);
  if (!out)
    return NULL;
  size_t o = 0;
  size_t i = 0;
  for (; i + 2 < len; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    out[o++] = alphabet[v >> 18 & 63];
    out[o++] = alphabet[v >> 12 & 63];
    out[o++] = alphabet[v >> 6 & 63];
    out[o++] = alphabet[v & 63];
  }
  if (i < len) {
    unsigned v = (unsigned)in[i] << 16;
    if (i + 1 < len)
      v |= (unsigned)in[i + 1] << 8;
    out[o++] = alphabet[v >> 18 & 63];
    out[o++] = alphabet[v >> 12 & 63];
    if (i + 1 < len)
      out[o++] = alphabet[v >> 6 & 63];
    else if (pad)
      out[o++] = '=';
    if (pad)
      out[o++] = '=';
  }
  out[o] = '\0';
  return out;
}

char *codec_b64_encode_alloc(const void *data, size_t len) {
  return b64_encode(data, len, b64_std, true);
}

char *codec_b64url_encode_alloc(const void *data, size_t len) {
  return b64_encode(data, len, b64_url, false);
}

/* Decodes groups of 4 symbols; `padded` demands a length multiple of 4 with
 * '=' only in the last one or two places. */
static unsigned char *b64_decode(const char *text, size_t n,
                                 const char *alphabet, bool padded,
                                 size_t *out_len) {
  size_t pad = 0;
  if (padded) {
    if (n % 4 != 0)
      return NULL;
    if (n >= 1 && text[n - 1] == '=')
      pad++;
    if (n >= 2 && text[n - 2] == '=')
      pad++;
  } else if (n % 4 == 1) {
    return NULL;
  }
  size_t symbols = n - pad;
  unsigned char *out = malloc(symbols * 3 / 4 + 3);
  if (!out)
    return NULL;
  const signed char *values = b64_values(alphabet);
  size_t o = 0;
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < symbols; i++) {
    int v = values[(unsigned char)text[i]];
    if (v < 0) {
      free(out);
      return NULL;
    }
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (unsigned char)(acc >> bits & 0xff);
    }
  }
  /* Leftover bits must be zero, or two texts would decode to the same bytes. */
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    free(out);
    return NULL;
  }
  *out_len = o;
  return out;
}

unsigned char *codec_b64_decode_alloc(const char *text, size_t text_len,
                                      size_t *out_len) {
  return b64_decode(text, text_len, b64_std, true, out_len);
}

unsigned char *codec_b64url_decode_alloc(const char *text, size_t *out_len) {
  return b64_decode(text, strlen(text), b64_url, false, out_len);
}

void codec_sha256_hex(const void *data, size_t len, char out[65]) {
  struct sha256_ctx ctx;
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_init(&ctx);
  sha256_update(&ctx, len, data);
  sha256_digest(&ctx, sizeof digest, digest);
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof digest; i++) {
    out[2 * i] = digits[digest[i] >> 4];
    out[2 * i + 1] = digits[digest[i] & 15];
  }
  out[64] = '\0';
}

void codec_hmac_sha256(const void *key, size_t key_len, const void *data,
                       size_t len, uint8_t out[32]) {
  struct hmac_sha256_ctx ctx;
  hmac_sha256_set_key(&ctx, key_len, key);
  hmac_sha256_update(&ctx, len, data);
  hmac_sha256_digest(&ctx, 32, out);
}

int codec_hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool codec_equal_ct(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  unsigned char diff = la != lb;
  size_t n = la < lb ? la : lb;
  for (size_t i = 0; i < n; i++)
    diff |= (unsigned char)(a[i] ^ b[i]);
  return diff == 0;
}
