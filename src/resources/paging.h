/* List pagination: maxResults and opaque, tamper-evident nextTokens. A token
 * carries the position (the last object's seq) and a MAC over the position
 * and the list it belongs to, so a token cannot be edited or reused on
 * another list. */
#ifndef LAS_RESOURCES_PAGING_H
#define LAS_RESOURCES_PAGING_H

#include "routing/api.h"

#include <stdbool.h>
#include <stdint.h>

#define PAGING_DEFAULT_MAX 100
#define PAGING_LIMIT 1000

/* Loads (or creates and stores) the key tokens are signed with, and uses
 * it from now on: called again after a reset or restore changed it. */
bool paging_init(store *s, char *err, size_t errlen);

typedef struct paging_args {
  int limit;
  int64_t after_seq;
} paging_args;

/* Reads maxResults and nextToken. `context` names the list (kind plus its
 * filters). false with a 400 in *fail when either is invalid. */
bool paging_parse(const api_request *req, const char *context,
                  paging_args *out, api_response *fail);
/* The nextToken value: a NEW JSON string, or JSON null on the last page. */
json_t *paging_next_token(const char *context, int64_t last_seq, bool more);

/* Pages sorted by something other than creation: the position is the last
 * row's sort key and seq. paging_parse_at reads maxResults and nextToken
 * like paging_parse, with the position in *key / out->after_seq and *has
 * false on the first page; tokens of one form are refused by the other. */
bool paging_parse_at(const api_request *req, const char *context,
                     paging_args *out, int64_t *key, bool *has,
                     api_response *fail);
json_t *paging_next_token_at(const char *context, int64_t key, int64_t seq,
                             bool more);

#endif
