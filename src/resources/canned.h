/* Canned prediction results: the control API queues results (or failures)
 * for a model, and the next POST /predictions of that model answer with
 * them, oldest first, before the built-in generator takes over again.
 *
 *   POST   /_emulator/models/{modelId}/predictions  {"results": [item, …]}
 *   GET    /_emulator/models/{modelId}/predictions  the queue, oldest first
 *   DELETE /_emulator/models/{modelId}/predictions  empties it
 *
 * An item is a result, {"predictions": [{label, value, confidence}, …],
 * "inferenceTime": seconds (optional)}, checked against the Prediction
 * response schema when queued, or a failure, {"status": 400|403|404|415|
 * 429|500|503, "message": text (optional; the status's usual message)}.
 * The queues live in the database (store_canned.h): taking a result is
 * part of the prediction's transaction, a reset empties them (in its
 * transaction), a snapshot restore brings back the snapshot's. */
#ifndef LAS_RESOURCES_CANNED_H
#define LAS_RESOURCES_CANNED_H

#include "routing/api.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  CANNED_NONE,    /* nothing queued: the generator answers */
  CANNED_RESULT,  /* *predictions (NEW array), *inference_s (< 0: unset) */
  CANNED_FAILURE, /* *answer is the queued failure (commit_error set) */
  CANNED_ERROR    /* *answer is the store's failure (503 or 500) */
} canned_outcome;

/* Takes the oldest queued item of model_id in the request's transaction.
 * Called by POST /predictions once the document and the model are known to
 * exist, so a request refused for its own fault uses nothing up. */
canned_outcome canned_next(api_request *req, const char *model_id,
                           json_t **predictions, double *inference_s,
                           api_response *answer);

/* A control_in_tx_hook: a reset empties every queue; a restore keeps the
 * snapshot's. */
bool canned_on_reset(store *s, bool restored, char *err, size_t errlen);

#endif
