/* Datasets group documents; documents refer to them by datasetId. */
#ifndef LAS_RESOURCES_DATASETS_H
#define LAS_RESOURCES_DATASETS_H

#include "routing/api.h"

/* Loads a dataset of the caller's organization (NEW reference on ONE). */
store_status datasets_load(const api_request *req, const char *id,
                           json_t **out);

#endif
