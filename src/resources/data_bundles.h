/* Data bundles: a model's snapshot of datasets, processed in the background. */
#ifndef LAS_RESOURCES_DATA_BUNDLES_H
#define LAS_RESOURCES_DATA_BUNDLES_H

#include "storage/store.h"

#include <stdint.h>

/* The engine job ("data-bundle") that moves a bundle from processing to
 * ready, with its summary, or to failed, with the reason. */
store_status data_bundles_process(store *s, const store_job *job,
                                  int64_t now_us);

#endif
