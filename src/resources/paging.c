#include "resources/paging.h"

#include "core/codec.h"
#include "core/ids.h"

#include <errno.h>
#include <nettle/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PAGING_KEY_LEN = 32, PAGING_MAC_LEN = 16 };

/* The HMAC state right after the key was set (hmac_sha256_set_key costs
 * two of the four SHA-256 blocks of a token's MAC, so it is done once per
 * key). Replaced by a reset or a restore while lists are served: read and
 * written under the lock. */
static struct hmac_sha256_ctx paging_keyed;
static pthread_mutex_t paging_key_lock = PTHREAD_MUTEX_INITIALIZER;

bool paging_init(store *s, char *err, size_t errlen) {
  char *hex = NULL;
  store_status st = store_meta_get(s, "paging_key", &hex);
  if (st == STORE_NONE) {
    char fresh[2 * PAGING_KEY_LEN + 1];
    ids_random_hex(PAGING_KEY_LEN, fresh);
    if (store_meta_put(s, "paging_key", fresh) != STORE_ONE) {
      snprintf(err, errlen, "cannot store the paging key");
      return false;
    }
    hex = strdup(fresh);
  } else if (st != STORE_ONE) {
    snprintf(err, errlen, "cannot read the paging key");
    return false;
  }
  if (!hex || strlen(hex) != 2 * PAGING_KEY_LEN) {
    free(hex);
    snprintf(err, errlen, "paging key is malformed");
    return false;
  }
  unsigned char key[PAGING_KEY_LEN];
  for (int i = 0; i < PAGING_KEY_LEN; i++)
    key[i] = (unsigned char)(codec_hex_value(hex[2 * i]) << 4 |
                             codec_hex_value(hex[2 * i + 1]));
  free(hex);
  struct hmac_sha256_ctx keyed;
  hmac_sha256_set_key(&keyed, sizeof key, key);
  pthread_mutex_lock(&paging_key_lock);
  paging_keyed = keyed;
  pthread_mutex_unlock(&paging_key_lock);
  return true;
}

/* HMAC over "<seq>|<context>" (or "<key>|<seq>|<context>" for a position
 * with a sort key), the whole context however long: a token must not
 * continue a list that differs from its own only past some length. */
static void paging_mac(const char *context, const int64_t *key, int64_t seq,
                       unsigned char out[PAGING_MAC_LEN]) {
  char head[64];
  int n = key ? snprintf(head, sizeof head, "%lld|%lld|", (long long)*key,
                         (long long)seq)
              : snprintf(head, sizeof head, "%lld|", (long long)seq);
  struct hmac_sha256_ctx ctx;
  pthread_mutex_lock(&paging_key_lock);
  ctx = paging_keyed;
  pthread_mutex_unlock(&paging_key_lock);
  hmac_sha256_update(&ctx, (size_t)n, (const uint8_t *)head);
  hmac_sha256_update(&ctx, strlen(context), (const uint8_t *)context);
  hmac_sha256_digest(&ctx, PAGING_MAC_LEN, out);
}

static void paging_put64(unsigned char *raw, int64_t v) {
  for (int i = 0; i < 8; i++)
    raw[i] = (unsigned char)((uint64_t)v >> (56 - 8 * i));
}

static int64_t paging_get64(const unsigned char *raw) {
  uint64_t u = 0;
  for (int i = 0; i < 8; i++)
    u = u << 8 | raw[i];
  return (int64_t)u;
}

static json_t *paging_token_text(const unsigned char *raw, size_t len) {
  char *text = codec_b64url_encode_alloc(raw, len);
  json_t *token = json_string(text);
  free(text);
  return token;
}

json_t *paging_next_token(const char *context, int64_t last_seq, bool more) {
  if (!more)
    return json_null();
  unsigned char raw[8 + PAGING_MAC_LEN];
  paging_put64(raw, last_seq);
  paging_mac(context, NULL, last_seq, raw + 8);
  return paging_token_text(raw, sizeof raw);
}

json_t *paging_next_token_at(const char *context, int64_t key, int64_t seq,
                             bool more) {
  if (!more)
    return json_null();
  unsigned char raw[16 + PAGING_MAC_LEN];
  paging_put64(raw, key);
  paging_put64(raw + 8, seq);
  paging_mac(context, &key, seq, raw + 16);
  return paging_token_text(raw, sizeof raw);
}

static bool paging_mac_ok(const char *context, const int64_t *key, int64_t seq,
                          const unsigned char *mac_in) {
  unsigned char mac[PAGING_MAC_LEN];
  paging_mac(context, key, seq, mac);
  unsigned char diff = 0;
  for (int i = 0; i < PAGING_MAC_LEN; i++)
    diff |= (unsigned char)(mac[i] ^ mac_in[i]);
  return diff == 0;
}

static bool paging_max_results(const api_request *req, paging_args *out,
                               api_response *fail) {
  out->limit = PAGING_DEFAULT_MAX;
  out->after_seq = 0;
  const char *max = api_query(req, "maxResults");
  if (max) {
    char *end = NULL;
    errno = 0;
    long v = strtol(max, &end, 10);
    /* Digits only: strtol would also take spaces and signs. */
    if (*max < '0' || *max > '9' || errno || *end || v < 1 ||
        v > PAGING_LIMIT) {
      *fail =
          api_errf(ERR_BAD_REQUEST,
                   "maxResults: must be an integer from 1 to %d", PAGING_LIMIT);
      return false;
    }
    out->limit = (int)v;
  }
  return true;
}

static api_response paging_bad_token(void) {
  return api_errf(ERR_BAD_REQUEST,
                  "nextToken: is not a token this list returned");
}

bool paging_parse_at(const api_request *req, const char *context,
                     paging_args *out, int64_t *key, bool *has,
                     api_response *fail) {
  *has = false;
  *key = 0;
  if (!paging_max_results(req, out, fail))
    return false;
  const char *token = api_query(req, "nextToken");
  if (!token || !*token)
    return true;
  size_t len = 0;
  unsigned char *raw = codec_b64url_decode_alloc(token, &len);
  bool ok = raw && len == 16 + PAGING_MAC_LEN;
  if (ok) {
    *key = paging_get64(raw);
    out->after_seq = paging_get64(raw + 8);
    ok = paging_mac_ok(context, key, out->after_seq, raw + 16);
  }
  free(raw);
  if (!ok) {
    *fail = paging_bad_token();
    return false;
  }
  *has = true;
  return true;
}

bool paging_parse(const api_request *req, const char *context, paging_args *out,
                  api_response *fail) {
  if (!paging_max_results(req, out, fail))
    return false;
  const char *token = api_query(req, "nextToken");
  if (token && *token) {
    size_t len = 0;
    unsigned char *raw = codec_b64url_decode_alloc(token, &len);
    bool ok = raw && len == 8 + PAGING_MAC_LEN;
    int64_t seq = 0;
    if (ok) {
      seq = paging_get64(raw);
      ok = paging_mac_ok(context, NULL, seq, raw + 8) && seq >= 0;
    }
    free(raw);
    if (!ok) {
      *fail = paging_bad_token();
      return false;
    }
    out->after_seq = seq;
  }
  return true;
}
