/* Queues of canned prediction results (migration 008): per model, results
 * that the next POST /predictions of that model answer with, oldest first.
 * A result is kept as the JSON text the control API accepted. Writes belong
 * in the caller's transaction, so that taking a result commits or rolls back
 * with the prediction that used it. */
#ifndef LAS_STORAGE_STORE_CANNED_H
#define LAS_STORAGE_STORE_CANNED_H

#include "storage/store.h"

#include <jansson.h>
#include <stdint.h>

/* Whether a model (of any organization) has this id: STORE_ONE, STORE_NONE
 * or a failure. */
store_status store_canned_model_exists(store *s, const char *model_id);
/* Appends `result` (JSON text, borrowed) to model_id's queue. */
store_status store_canned_push(store *s, const char *model_id,
                               const char *result);
/* Removes the oldest result of model_id's queue: STORE_ONE with *result
 * (malloc'ed JSON text; caller frees), STORE_NONE when the queue is empty. */
store_status store_canned_take(store *s, const char *model_id, char **result);
/* model_id's queue, oldest first: *items is a NEW array of the parsed
 * results. */
store_status store_canned_list(store *s, const char *model_id, json_t **items);
/* How many results model_id's queue holds, or -1 on error. */
int64_t store_canned_count(store *s, const char *model_id);
/* Empties model_id's queue, or every queue when model_id is NULL; *n (may
 * be NULL) receives how many results went. */
store_status store_canned_clear(store *s, const char *model_id, int64_t *n);

#endif
