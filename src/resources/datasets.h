/* Datasets group documents; documents refer to them by datasetId. */
#ifndef LAS_RESOURCES_DATASETS_H
#define LAS_RESOURCES_DATASETS_H

#include "routing/api.h"

#include <stdbool.h>

/* Loads a dataset of the caller's organization (NEW reference on ONE). */
store_status datasets_load(const api_request *req, const char *id,
                           json_t **out);

/* A dataset's version counts changes to its documents (added, removed,
 * ground truth changed), so a data bundle's snapshot says which state of
 * the dataset it was made from. No-op when ds_id is NULL. */
store_status datasets_bump_version(const api_request *req, const char *ds_id);

/* Adds the derived numberOfDocuments to a dataset; false on a store error. */
bool datasets_present(const api_request *req, json_t *ds);

#endif
