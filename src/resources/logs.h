/* Logs: what the background engine did, with timestamped events. */
#ifndef LAS_RESOURCES_LOGS_H
#define LAS_RESOURCES_LOGS_H

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
/* A NEW log event {"timestamp": ISO time, "message": message}. */
json_t *logs_event(int64_t at_us, const char *message);

#endif
