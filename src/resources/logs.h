/* Logs: what the background engine did, with timestamped events. */
#ifndef LAS_RESOURCES_LOGS_H
#define LAS_RESOURCES_LOGS_H

#include "core/ids.h"
#include "storage/store.h"

#include <jansson.h>
#include <stdint.h>

/* The transition id logs of data bundle processing carry: the Log schema
 * requires one, and the work is the service's own, like its commons-*
 * transitions. */
#define LOGS_DATA_BUNDLE_TRANSITION "las:transition:commons-data-bundles"

/* Writes a log of org_id for the work of transition_id that started at
 * start_us, with `events` (array of {timestamp, message}; stolen). */
store_status logs_write(store *s, const char *org_id,
                        const char *transition_id, int64_t start_us,
                        json_t *events);
/* What a log belongs to; NULL members are answered as null. */
typedef struct logs_ref {
  const char *transition_id;
  const char *transition_execution_id;
  const char *workflow_id;
  const char *workflow_execution_id;
} logs_ref;

/* Writes a new log of org_id starting at start_us with `events` (array of
 * logs_event objects; stolen; NULL for none). id_out (may be NULL) receives
 * the new log's id on STORE_ONE. */
store_status logs_create(store *s, const char *org_id, const logs_ref *ref,
                         int64_t start_us, json_t *events,
                         char id_out[IDS_MAX_LEN]);
/* Appends `events` (array; stolen) to an existing log; STORE_NONE when the
 * log does not exist. */
store_status logs_append(store *s, const char *org_id, const char *log_id,
                         json_t *events);

/* A NEW log event {"timestamp": ISO time, "message": message}. */
json_t *logs_event(int64_t at_us, const char *message);

#endif
