/* The storage interface. Everything the API keeps lives behind these calls;
 * SQL stays inside src/storage/. Each server thread has its own connection
 * with cached prepared statements; all writes of one request run in one
 * transaction (see store_write_tx). */
#ifndef LAS_STORAGE_STORE_H
#define LAS_STORAGE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
  STORE_ERROR = -2, /* anything unexpected; logged */
  STORE_BUSY = -1,  /* lock contention: the transaction may be retried */
  STORE_NONE = 0,   /* no such row */
  STORE_ONE = 1     /* done / found */
} store_status;

typedef struct store store;

/* Opens the database at path (":memory:" makes a throw-away file that is
 * removed by store_global_close), applies pending migrations and remembers
 * the path for per-thread connections. Returns false with a reason in err. */
bool store_global_open(const char *path, char *err, size_t errlen);
void store_global_close(void);
/* The effective database path (differs from the argument for :memory:). */
const char *store_global_path(void);

/* This thread's connection, opened on first use; NULL on failure. It is
 * closed when the thread exits, or by store_thread_release(). */
store *store_thread(void);
void store_thread_release(void);

/* Runs fn inside BEGIN IMMEDIATE … COMMIT on the process's one writer
 * connection, which fn receives as `s` and must use for everything it reads
 * and writes. fn returning STORE_ERROR or STORE_NONE rolls back and that
 * status is returned; STORE_BUSY (from fn or from SQLite) rolls back and
 * retries fn a bounded number of times. Writers of this process are
 * serialised so they never wait in SQLite's busy loop. */
typedef store_status (*store_tx_fn)(store *s, void *arg);
store_status store_write_tx(store_tx_fn fn, void *arg);

/* Brackets the reads of one request in one snapshot: they then see the
 * same state, and SQLite takes its read lock once instead of per query. */
store_status store_read_begin(store *s);
void store_read_end(store *s);

/* ---- resources: one row per API object, attributes as JSON ---- */

typedef struct store_obj_key {
  const char *kind;   /* "document", "model", ... */
  const char *org_id; /* owning organization */
  const char *id;     /* las:<kind>:<hex> */
} store_obj_key;

/* Inserts a new object. parent_id (e.g. a document's dataset) and group_id
 * (e.g. a document's consent) are indexed for filtering; either may be NULL.
 * `body` is borrowed. */
store_status store_obj_insert(store *s, const store_obj_key *key,
                              const char *parent_id, const char *group_id,
                              const json_t *body);
/* The stored form of attributes: compact JSON text of body, keys in their
 * order (malloc'ed; caller frees), NULL on failure. */
char *store_dump(const json_t *body);
/* store_obj_insert with the attributes already serialised (`text`,
 * borrowed; store_dump's form), for a handler that made the text before its
 * transaction. */
store_status store_obj_insert_text(store *s, const store_obj_key *key,
                                   const char *parent_id, const char *group_id,
                                   const char *text);
/* A fingerprint of an object's stored attributes (64-bit FNV-1a of their
 * text): what a prepare step built from an object is still right when the
 * fingerprint in the transaction is the one it read. STORE_NONE when the
 * object does not exist. */
store_status store_obj_version(store *s, const store_obj_key *key,
                               uint64_t *version);
/* Loads an object's attributes: *out is a NEW reference on STORE_ONE. */
store_status store_obj_get(store *s, const store_obj_key *key, json_t **out);
/* The same for a caller that only reads the object: *out is a NEW reference
 * to a tree that may be shared with the connection's cache of parsed texts
 * (no copy is made), so it must not be modified. *version, when not NULL,
 * is set to store_obj_version's fingerprint. */
store_status store_obj_get_shared(store *s, const store_obj_key *key,
                                  json_t **out, uint64_t *version);
/* The same as stored JSON text (malloc'ed, NUL-terminated, *len bytes;
 * caller frees) on STORE_ONE, for answers built without parsing it. */
store_status store_obj_get_text(store *s, const store_obj_key *key, char **text,
                                size_t *len);
/* Replaces attributes (and the indexed parent/group ids). */
store_status store_obj_update(store *s, const store_obj_key *key,
                              const char *parent_id, const char *group_id,
                              const json_t *body);
store_status store_obj_delete(store *s, const store_obj_key *key);
/* Number of objects of a kind in an organization, or -1 on error. */
int64_t store_obj_count(store *s, const char *kind, const char *org_id);
/* Number of objects of a kind whose parent is parent_id, or -1 on error. */
int64_t store_obj_count_parent(store *s, const char *kind, const char *org_id,
                               const char *parent_id);

/* Sets (or, with expires_us < 0, clears) when an object expires. */
store_status store_obj_set_expiry(store *s, const store_obj_key *key,
                                  int64_t expires_us);
/* The earliest expiry of any object: STORE_ONE with *out, or STORE_NONE. */
store_status store_obj_next_expiry(store *s, int64_t *out);
/* Deletes up to `limit` objects that expired at or before now_us; *deleted
 * receives how many. */
store_status store_obj_delete_expired(store *s, int64_t now_us, int limit,
                                      int *deleted);

/* Keyset page: objects with seq > after_seq in creation order, at most
 * `limit`. parent_ids / group_ids, when not NULL, are JSON arrays of ids the
 * object's parent / group must be in. *items is a NEW array; *last_seq is the
 * seq of the last item and *more says whether another page exists. */
typedef struct store_page_query {
  const char *kind;
  const char *org_id;
  const json_t *parent_ids;
  const json_t *group_ids;
  int64_t after_seq;
  int limit;
} store_page_query;
store_status store_obj_page(store *s, const store_page_query *q, json_t **items,
                            int64_t *last_seq, bool *more);
/* The same page as JSON text "[{…},{…}]" exactly as stored (malloc'ed,
 * caller frees), for lists answered without touching the objects; `prefix`
 * (when not NULL) is put before the '[' (the start of the answer around
 * it: the page is then copied once). */
store_status store_obj_page_text(store *s, const store_page_query *q,
                                 const char *prefix, char **text, size_t *len,
                                 int64_t *last_seq, bool *more);
/* Deletes one page of the matching objects (with their blobs), collecting
 * the deleted attributes into *items (NEW array). Same paging as above. */
store_status store_obj_delete_page(store *s, const store_page_query *q,
                                   json_t **items, int64_t *last_seq,
                                   bool *more);

/* A page of logs (kind "log") of org_id filtered by the attributes that are
 * not NULL (each compared for equality), in creation order or, when
 * descending, newest first (after_seq is then an upper bound; 0 means the
 * start). Same outputs as store_obj_page. */
typedef struct store_log_filter {
  const char *transition_id;
  const char *transition_execution_id;
  const char *workflow_id;
  const char *workflow_execution_id;
  bool descending;
} store_log_filter;
store_status store_log_page(store *s, const char *org_id,
                            const store_log_filter *f, int64_t after_seq,
                            int limit, json_t **items, int64_t *last_seq,
                            bool *more);

/* EXPLAIN QUERY PLAN of the statement store_log_page runs (ascending or
 * descending), one line per step, into out; for tests. */
store_status store_log_page_plan(store *s, bool descending, char *out,
                                 size_t len);

/* Large payloads (document and asset content, as bytes) kept apart from
 * attributes so lists never read them. */
store_status store_blob_put(store *s, const char *id, const void *data,
                            size_t len);
/* *out is malloc'ed (with a NUL after the bytes) on STORE_ONE; caller
 * frees. */
store_status store_blob_get(store *s, const char *id, char **out, size_t *len);

/* ---- credentials and tokens ---- */

typedef struct store_client {
  char client_id[128];
  char app_client_id[64];
  char org_id[64];
  char api_key[128];
  bool has_secret;
} store_client;

/* Registers client credentials for an app client; secret may be NULL (a
 * public client), api_key may be NULL. */
store_status store_client_put(store *s, const char *client_id,
                              const char *app_client_id, const char *org_id,
                              const char *secret, const char *api_key);
/* Replaces a client's secret (stored salted and hashed). */
store_status store_client_set_secret(store *s, const char *client_id,
                                     const char *secret);
/* Looks up a client and, when secret is not NULL, checks it. STORE_NONE when
 * unknown or the secret is wrong. */
store_status store_client_check(store *s, const char *client_id,
                                const char *secret, store_client *out);

typedef struct store_token_info {
  char client_id[128];
  char app_client_id[64];
  char org_id[64];
  char principal[64]; /* createdBy: app client or user id */
  char api_key[128];
  char scopes[1024]; /* space separated; empty means every scope */
  int64_t expires_us;
} store_token_info;

store_status store_token_put(store *s, const char *token, const char *client_id,
                             const char *principal, const char *scopes,
                             int64_t expires_us);
store_status store_token_get(store *s, const char *token,
                             store_token_info *out);

/* Changes whenever credentials may have been revoked (an app client was
 * deleted, and its tokens with it), after the deleting transaction commits.
 * Caches of token lookups compare it to know they are still valid. */
uint64_t store_credentials_epoch(void);

/* Password login for users made by /signup. */
store_status store_password_put(store *s, const char *username,
                                const char *user_id, const char *org_id,
                                const char *password);
/* STORE_ONE with the user id and org when the password matches. */
store_status store_password_check(store *s, const char *username,
                                  const char *password, char user_id[64],
                                  char org_id[64]);

/* ---- monthly usage ---- */

/* Adds one to what org_id created of `kind` in `month` ("YYYY-MM");
 * *count receives the new total. */
store_status store_usage_add(store *s, const char *org_id, const char *month,
                             const char *kind, int64_t *count);
/* What org_id created of `kind` in `month`, or -1 on error. */
int64_t store_usage_get(store *s, const char *org_id, const char *month,
                        const char *kind);

/* ---- background jobs ---- */

typedef struct store_job {
  int64_t id;
  char kind[32];
  char target_id[64];
  char org_id[64];
  int64_t due_us;
} store_job;

/* Schedules a job; after the enclosing write transaction commits, the commit
 * hook (store_set_job_hook) runs so that the engine can wake up. */
store_status store_job_add(store *s, const char *kind, const char *target_id,
                           const char *org_id, int64_t due_us);
/* Makes sure a job of `kind` is due no later than due_us: adds one at
 * due_us unless such a job exists already. */
store_status store_job_ensure(store *s, const char *kind, const char *target_id,
                              const char *org_id, int64_t due_us);
/* The earliest due time: STORE_ONE with *due_us, or STORE_NONE (no jobs). */
store_status store_job_next_due(store *s, int64_t *due_us);
/* The earliest job due at or before now_us, if any. */
store_status store_job_take_due(store *s, int64_t now_us, store_job *out);
store_status store_job_delete(store *s, int64_t id);
/* Up to `max` jobs of `kind` due at or before now_us, earliest first,
 * other than job `except` (the one running): *n receives how many. For a
 * job that takes its due siblings along in its own transaction. */
store_status store_job_due_of_kind(store *s, const char *kind, int64_t now_us,
                                   int64_t except, store_job *out, int max,
                                   int *n);
/* Called (outside the write lock) after a transaction that added jobs. */
void store_set_job_hook(void (*hook)(void));

/* Small key/value settings (server keys, bootstrap markers). *out is
 * malloc'ed on STORE_ONE. */
store_status store_meta_get(store *s, const char *key, char **out);
store_status store_meta_put(store *s, const char *key, const char *value);

#include "storage/store_canned.h"
#include "storage/store_seed.h"
#include "storage/store_state.h"
#include "storage/store_transitions.h"
#include "storage/store_workflows.h"

#endif
