#include "core/codec.h"

#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>

/* Base64 is nettle's (RFC 4648 §4 and §5). Nettle's decoder is lenient
 * where ours is not: it skips whitespace, and it accepts up to three '='
 * ("A===") and no padding at all for the URL alphabet. What it lets through
 * is checked here first, so that a text has exactly one accepted spelling. */

/* Decodes text (n bytes, a multiple of 4) with ctx: malloc'ed bytes, NULL
 * when the text is not base64 of that alphabet. */
static unsigned char *b64_decode(struct base64_decode_ctx *ctx,
                                 const char *text, size_t n, size_t *out_len) {
  if (n % 4 != 0)
    return NULL;
  /* '=' only in the last two places (nettle takes up to three). */
  const char *pad = memchr(text, '=', n);
  if (pad && (size_t)(pad - text) + 2 < n)
    return NULL;
  size_t pads = (size_t)(n > 0 && text[n - 1] == '=') +
                (size_t)(n > 1 && pad == text + n - 2);
  unsigned char *out = malloc(BASE64_DECODE_LENGTH(n) + 1);
  if (!out)
    return NULL;
  size_t len = BASE64_DECODE_LENGTH(n) + 1;
  /* Nettle rejects padding that follows non-zero leftover bits, so two
   * texts never decode to the same bytes. It skips whitespace: a text with
   * any decodes to fewer bytes than its length promises (a missing symbol
   * is either a byte less or leftover bits, which nettle refuses). */
  if (!base64_decode_update(ctx, &len, out, n, text) ||
      !base64_decode_final(ctx) || len != n / 4 * 3 - pads) {
    free(out);
    return NULL;
  }
  *out_len = len;
  return out;
}

char *codec_b64_encode_alloc(const void *data, size_t len) {
  char *out = malloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);
  if (!out)
    return NULL;
  base64_encode_raw(out, len, data);
  out[BASE64_ENCODE_RAW_LENGTH(len)] = '\0';
  return out;
}

char *codec_b64url_encode_alloc(const void *data, size_t len) {
  struct base64_encode_ctx ctx;
  base64url_encode_init(&ctx);
  char *out =
      malloc(BASE64_ENCODE_LENGTH(len) + BASE64_ENCODE_FINAL_LENGTH + 1);
  if (!out)
    return NULL;
  size_t n = base64_encode_update(&ctx, out, len, data);
  n += base64_encode_final(&ctx, out + n);
  while (n > 0 && out[n - 1] == '=')
    n--;
  out[n] = '\0';
  return out;
}

unsigned char *codec_b64_decode_alloc(const char *text, size_t text_len,
                                      size_t *out_len) {
  struct base64_decode_ctx ctx;
  base64_decode_init(&ctx);
  return b64_decode(&ctx, text, text_len, out_len);
}

unsigned char *codec_b64url_decode_alloc(const char *text, size_t *out_len) {
  size_t n = strlen(text);
  /* Unpadded by contract: pad it for nettle, which wants whole groups. A
   * lone symbol in the last group is no byte at all. */
  if (n % 4 == 1 || memchr(text, '=', n))
    return NULL;
  size_t padded = n + (4 - n % 4) % 4;
  char *buf = malloc(padded);
  if (!buf)
    return NULL;
  memcpy(buf, text, n);
  memset(buf + n, '=', padded - n);
  struct base64_decode_ctx ctx;
  base64url_decode_init(&ctx);
  unsigned char *out = b64_decode(&ctx, buf, padded, out_len);
  free(buf);
  return out;
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

size_t codec_percent_decode(const char *in, size_t len, bool plus, char *out,
                            bool *well_formed) {
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    int hi, lo;
    if (in[i] == '%' && i + 2 < len && (hi = codec_hex_value(in[i + 1])) >= 0 &&
        (lo = codec_hex_value(in[i + 2])) >= 0) {
      out[o++] = (char)(hi * 16 + lo);
      i += 2;
    } else {
      if (in[i] == '%' && well_formed)
        *well_formed = false;
      out[o++] = plus && in[i] == '+' ? ' ' : in[i];
    }
  }
  out[o] = '\0';
  return o;
}

bool codec_equal_ct(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  unsigned char diff = la != lb;
  size_t n = la < lb ? la : lb;
  for (size_t i = 0; i < n; i++)
    diff |= (unsigned char)(a[i] ^ b[i]);
  return diff == 0;
}
