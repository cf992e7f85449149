/* Every API handler, one file per resource under src/resources/. The route
 * table (src/routing/routes.c) maps paths and methods to these. */
#ifndef LAS_RESOURCES_RESOURCES_H
#define LAS_RESOURCES_RESOURCES_H

#include "routing/api.h"

#define LAS_HANDLER(name) api_response name(api_request *req)
/* A route's prepare step (router.h): work done before the write
 * transaction. */
#define LAS_PREPARE(name) void name(api_request *req)

/* common.c */
LAS_HANDLER(options_any);
LAS_HANDLER(health_get);

/* emulator.c: the control API */
LAS_HANDLER(emulator_clock_get);
LAS_HANDLER(emulator_clock_advance);
LAS_HANDLER(emulator_clock_set);
LAS_HANDLER(emulator_clock_reset);
/* emulator_journal.c: the journal, faults and throttle */
LAS_HANDLER(emulator_requests_list);
LAS_HANDLER(emulator_requests_clear);
LAS_HANDLER(emulator_faults_list);
LAS_HANDLER(emulator_faults_add);
LAS_HANDLER(emulator_faults_clear);
LAS_HANDLER(emulator_faults_remove);
LAS_HANDLER(emulator_throttle_get);
LAS_HANDLER(emulator_throttle_set);

/* emulator_state.c: reset, snapshots, id seed */
LAS_HANDLER(emulator_reset);
LAS_HANDLER(emulator_snapshot_write);
LAS_HANDLER(emulator_snapshot_restore);
LAS_HANDLER(emulator_snapshot_download);
LAS_HANDLER(emulator_snapshot_upload);
LAS_HANDLER(emulator_ids_get);
LAS_HANDLER(emulator_ids_put);
LAS_HANDLER(emulator_ids_delete);

/* seed.c: fixtures at run time */
LAS_HANDLER(emulator_seed_post);

/* canned.c: canned prediction results */
LAS_HANDLER(emulator_canned_post);
LAS_HANDLER(emulator_canned_get);
LAS_HANDLER(emulator_canned_delete);

/* oauth.c */
LAS_HANDLER(oauth_token);

/* app_clients.c */
LAS_HANDLER(app_clients_list);
LAS_HANDLER(app_clients_create);
LAS_HANDLER(app_clients_update);
LAS_HANDLER(app_clients_delete);

/* assets.c */
LAS_HANDLER(assets_list);
LAS_HANDLER(assets_create);
LAS_HANDLER(assets_get);
LAS_HANDLER(assets_update);
LAS_HANDLER(assets_delete);

/* data_bundles.c */
LAS_HANDLER(data_bundles_list);
LAS_HANDLER(data_bundles_create);
LAS_HANDLER(data_bundles_update);
LAS_HANDLER(data_bundles_delete);

/* datasets.c */
LAS_HANDLER(datasets_list);
LAS_HANDLER(datasets_create);
LAS_HANDLER(datasets_get);
LAS_HANDLER(datasets_update);
LAS_HANDLER(datasets_delete);

/* documents.c */
LAS_HANDLER(documents_list);
LAS_HANDLER(documents_create);
LAS_PREPARE(documents_prepare);
LAS_HANDLER(documents_delete_many);
LAS_HANDLER(documents_get);
LAS_HANDLER(documents_update);
LAS_HANDLER(documents_delete);

/* models.c */
LAS_HANDLER(models_list);
LAS_HANDLER(models_create);
LAS_HANDLER(models_get);
LAS_HANDLER(models_update);
LAS_HANDLER(models_delete);

/* organizations.c */
LAS_HANDLER(organizations_get);
LAS_HANDLER(organizations_update);

/* predictions.c */
LAS_HANDLER(predictions_list);
LAS_HANDLER(predictions_create);
LAS_PREPARE(predictions_prepare);

/* logs.c */
LAS_HANDLER(logs_list);
LAS_HANDLER(logs_get);

/* secrets.c */
LAS_HANDLER(secrets_list);
LAS_HANDLER(secrets_create);
LAS_HANDLER(secrets_update);
LAS_HANDLER(secrets_delete);

/* signup.c */
LAS_HANDLER(signup_create);

/* transitions.c */
LAS_HANDLER(transitions_list);
LAS_HANDLER(transitions_create);
LAS_HANDLER(transitions_get);
LAS_HANDLER(transitions_update);
LAS_HANDLER(transitions_delete);

/* transition_executions.c */
LAS_HANDLER(transition_executions_list);
LAS_HANDLER(transition_executions_create);
LAS_HANDLER(transition_executions_get);
LAS_HANDLER(transition_executions_update);
LAS_HANDLER(transition_executions_heartbeat);

/* users.c */
LAS_HANDLER(users_list);
LAS_HANDLER(users_create);
LAS_HANDLER(users_get);
LAS_HANDLER(users_update);
LAS_HANDLER(users_delete);

/* workflows.c */
LAS_HANDLER(workflows_list);
LAS_HANDLER(workflows_create);
LAS_HANDLER(workflows_get);
LAS_HANDLER(workflows_update);
LAS_HANDLER(workflows_delete);

/* workflow_executions.c */
LAS_HANDLER(workflow_executions_list);
LAS_HANDLER(workflow_executions_create);
LAS_HANDLER(workflow_executions_get);
LAS_HANDLER(workflow_executions_update);
LAS_HANDLER(workflow_executions_delete);

#endif
