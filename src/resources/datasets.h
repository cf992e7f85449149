/* Datasets group documents; documents refer to them by datasetId. */
#ifndef LAS_RESOURCES_DATASETS_H
#define LAS_RESOURCES_DATASETS_H

#include "routing/api.h"

#include <stdbool.h>

/* Loads a dataset of the caller's organization (NEW reference on ONE). */
store_status datasets_load(const api_request *req, const char *id,
                           json_t **out);

/* Adds the derived numberOfDocuments to a dataset; false on a store error. */
bool datasets_present(const api_request *req, json_t *ds);

#endif
