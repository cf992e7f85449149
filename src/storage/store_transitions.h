/* Storage of transition executions (migration 006): each is an object of
 * kind "transition-execution" whose parent is its transition and whose body
 * is the API's answer, plus a row of transition_executions with what lists
 * sort and filter by and what the engine needs (deadline, workflow links,
 * result). All functions run on the connection given; writes belong in the
 * caller's transaction. */
#ifndef LAS_STORAGE_STORE_TRANSITIONS_H
#define LAS_STORAGE_STORE_TRANSITIONS_H

#include "storage/store.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_TEXEC_KIND "transition-execution"

/* The engine's view of one execution. Times in microseconds since the
 * epoch; end_us is -1 and deadline_us the timeout while it runs. */
typedef struct store_texec {
  char transition_id[64];
  char status[16]; /* running, succeeded, failed, rejected, retry */
  int64_t start_us;
  int64_t end_us;
  int64_t timeout_us;
  int64_t deadline_us;            /* -1 once ended */
  char workflow_id[64];           /* empty when started directly */
  char workflow_execution_id[64]; /* empty when started directly */
  bool detached;
} store_texec;

/* Inserts execution `id` of org_id (body borrowed) with its row. */
store_status store_texec_insert(store *s, const char *org_id, const char *id,
                                const json_t *body, const store_texec *row);
/* The row of execution `id` of org_id: STORE_ONE, STORE_NONE, failure. */
store_status store_texec_get(store *s, const char *org_id, const char *id,
                             store_texec *out);
/* Ends an execution: replaces its body and sets the row's status, end and
 * deadline from `row` (the transition, start and workflow links are left
 * as they are); result_json (may be NULL) is the output or error as JSON
 * text. STORE_NONE when unknown. */
store_status store_texec_finish(store *s, const char *org_id, const char *id,
                                const json_t *body, const store_texec *row,
                                const char *result_json);
/* Moves an execution's start: replaces its body and its start_us. */
store_status store_texec_set_start(store *s, const char *org_id, const char *id,
                                   const json_t *body, int64_t start_us);
/* Moves the deadline of a running execution: STORE_NONE when it is unknown
 * or no longer running. */
store_status store_texec_heartbeat(store *s, const char *org_id, const char *id,
                                   int64_t deadline_us);
/* Marks an execution as detached from its workflow execution. */
store_status store_texec_detach(store *s, const char *org_id, const char *id);

/* A keyset page of a transition's executions: sorted by creation (seq), by
 * start_us or by end_key (running ones last), ascending or descending,
 * optionally filtered by statuses and/or ids (JSON arrays of strings,
 * borrowed, may be NULL). The position is (after_key, after_seq), the last
 * row of the previous page; has_after false for the first page. */
typedef enum {
  STORE_TEXEC_BY_CREATION,
  STORE_TEXEC_BY_START,
  STORE_TEXEC_BY_END
} store_texec_sort;
typedef struct store_texec_query {
  const char *org_id;
  const char *transition_id;
  store_texec_sort sort;
  bool descending;
  const json_t *statuses;
  const json_t *ids;
  bool has_after;
  int64_t after_key;
  int64_t after_seq;
  int limit;
} store_texec_query;
/* The page as JSON text "[body,…]" (malloc'ed; caller frees), with the
 * position of its last row and whether more rows follow. */
store_status store_texec_page_text(store *s, const store_texec_query *q,
                                   char **text, size_t *len, int64_t *last_key,
                                   int64_t *last_seq, bool *more);

/* The ids of a transition's running executions as a NEW JSON array. */
store_status store_texec_running(store *s, const char *org_id,
                                 const char *transition_id, json_t **ids);
/* Deletes every execution of a transition (objects and rows). */
store_status store_texec_delete_all(store *s, const char *org_id,
                                    const char *transition_id);

/* EXPLAIN QUERY PLAN of the page statement for these query settings (only
 * sort, descending and which filters are set matter), one line per step,
 * into out; for tests that check that pages are served from indexes. */
store_status store_texec_page_plan(store *s, const store_texec_query *q,
                                   char *out, size_t len);

#endif
