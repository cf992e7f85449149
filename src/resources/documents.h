/* Documents. */
#ifndef LAS_RESOURCES_DOCUMENTS_H
#define LAS_RESOURCES_DOCUMENTS_H

#include "storage/store.h"

#include <stdint.h>

/* The engine job ("retention") that deletes documents whose retentionInDays
 * has passed, then schedules itself for the next expiry. */
store_status documents_expire(store *s, const store_job *job, int64_t now_us);

#endif
