/* Byte codecs and digests: base64 (RFC 4648, strict; nettle underneath),
 * SHA-256, HMAC-SHA-256.
 *
 * Strict means one spelling per byte string, as the API's document and
 * asset `content` (standard base64) needs: no whitespace or line breaks
 * anywhere, no characters outside the alphabet, and unused bits of the last
 * symbol zero ("aGVsbG9=" is refused, only "aGVsbG8=" is "hello"). */
#ifndef LAS_CORE_CODEC_H
#define LAS_CORE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes strict standard base64 (RFC 4648 §4): the length a multiple of 4,
 * '=' only as one or two padding characters at the end. Returns
 * a malloc'ed buffer the caller frees, and its length in *out_len; NULL when
 * the text is not valid base64. The empty text is zero bytes. */
unsigned char *codec_b64_decode_alloc(const char *text, size_t text_len,
                                      size_t *out_len);
/* Standard base64 of `len` bytes, padded; malloc'ed NUL-terminated string. */
char *codec_b64_encode_alloc(const void *data, size_t len);

/* Lowercase hex SHA-256 of data into out (65 bytes). */
void codec_sha256_hex(const void *data, size_t len, char out[65]);
/* HMAC-SHA-256 of data with key into out (32 bytes). */
void codec_hmac_sha256(const void *key, size_t key_len, const void *data,
                       size_t len, uint8_t out[32]);
/* Constant-time comparison of two NUL-terminated strings. */
bool codec_equal_ct(const char *a, const char *b);

/* The value of a hex digit (either case), or -1. */
int codec_hex_value(char c);

/* Percent-decodes in[0..len) into out (room for len + 1 bytes) and ends it
 * with a NUL; with `plus`, '+' is a space (form encoding). A '%' not
 * followed by two hex digits stays as it is, and *well_formed (when not
 * NULL) is then cleared. Returns the decoded length (NULs inside count). */
size_t codec_percent_decode(const char *in, size_t len, bool plus, char *out,
                            bool *well_formed);

/* URL-safe base64 (RFC 4648 §5) without padding; malloc'ed. */
char *codec_b64url_encode_alloc(const void *data, size_t len);
/* Decodes URL-safe base64 without padding ('=' refused; a length of 4k+1 is
 * refused); malloc'ed, NULL when invalid. The empty text is zero bytes. */
unsigned char *codec_b64url_decode_alloc(const char *text, size_t *out_len);

#endif
