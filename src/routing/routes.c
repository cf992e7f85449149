/* The route table: every documented operation, plus OPTIONS on each of the
 * 31 documented paths, plus the token and health endpoints. Scopes are the
 * reference's `api.lucidtech.ai/<scope>`. The control API's rows
 * (/_emulator/…) are the emulator's own. */
#include "resources/resources.h"
#include "routing/router.h"

#define OPT(path) {"OPTIONS", path, options_any, NULL, NULL, NULL, ROUTE_PUBLIC}

const route routes[] = {
    /* method, path, handler, request schema, response schema, scope, flags */
    {"GET", "/health", health_get, NULL, NULL, NULL, ROUTE_PUBLIC},
    {"POST", "/oauth2/token", oauth_token, NULL, NULL, NULL,
     ROUTE_PUBLIC | ROUTE_FORM_BODY},
    {"POST", "/token", oauth_token, NULL, NULL, NULL,
     ROUTE_PUBLIC | ROUTE_FORM_BODY},

    /* The emulator's control API (not in the reference). */
    {"GET", "/_emulator/clock", emulator_clock_get, NULL, NULL, NULL, ROUTE_CONTROL},
    {"POST", "/_emulator/clock/advance", emulator_clock_advance, NULL, NULL, NULL, ROUTE_CONTROL},
    {"PUT", "/_emulator/clock", emulator_clock_set, NULL, NULL, NULL, ROUTE_CONTROL},
    {"DELETE", "/_emulator/clock", emulator_clock_reset, NULL, NULL, NULL, ROUTE_CONTROL},
    {"GET", "/_emulator/requests", emulator_requests_list, NULL, NULL, NULL, ROUTE_CONTROL},
    {"DELETE", "/_emulator/requests", emulator_requests_clear, NULL, NULL, NULL, ROUTE_CONTROL},
    {"GET", "/_emulator/faults", emulator_faults_list, NULL, NULL, NULL, ROUTE_CONTROL},
    {"POST", "/_emulator/faults", emulator_faults_add, NULL, NULL, NULL, ROUTE_CONTROL},
    {"DELETE", "/_emulator/faults", emulator_faults_clear, NULL, NULL, NULL, ROUTE_CONTROL},
    {"DELETE", "/_emulator/faults/{faultId}", emulator_faults_remove, NULL, NULL, NULL, ROUTE_CONTROL},
    {"GET", "/_emulator/throttle", emulator_throttle_get, NULL, NULL, NULL, ROUTE_CONTROL},
    {"POST", "/_emulator/throttle", emulator_throttle_set, NULL, NULL, NULL, ROUTE_CONTROL},
    {"POST", "/_emulator/reset", emulator_reset, NULL, NULL, NULL, ROUTE_CONTROL | ROUTE_RAW_BODY},
    {"POST", "/_emulator/snapshots", emulator_snapshot_write, NULL, NULL, NULL, ROUTE_CONTROL},
    {"POST", "/_emulator/snapshots/restore", emulator_snapshot_restore, NULL, NULL, NULL, ROUTE_CONTROL},
    {"GET", "/_emulator/snapshot", emulator_snapshot_download, NULL, NULL, NULL, ROUTE_CONTROL},
    {"PUT", "/_emulator/snapshot", emulator_snapshot_upload, NULL, NULL, NULL, ROUTE_CONTROL | ROUTE_RAW_BODY},
    {"GET", "/_emulator/ids", emulator_ids_get, NULL, NULL, NULL, ROUTE_CONTROL},
    {"PUT", "/_emulator/ids", emulator_ids_put, NULL, NULL, NULL, ROUTE_CONTROL},
    {"DELETE", "/_emulator/ids", emulator_ids_delete, NULL, NULL, NULL, ROUTE_CONTROL},

    {"GET", "/appClients", app_clients_list, NULL, "AppClients", "appclients:read", 0},
    {"POST", "/appClients", app_clients_create, "PostAppClients", "AppClient", "appclients:write", 0},
    OPT("/appClients"),
    {"DELETE", "/appClients/{appClientId}", app_clients_delete, NULL, "AppClient", "appclients:write", 0},
    {"PATCH", "/appClients/{appClientId}", app_clients_update, "PatchAppClientId", "AppClient", "appclients:write", 0},
    OPT("/appClients/{appClientId}"),

    {"GET", "/assets", assets_list, NULL, "Assets", "assets:read", 0},
    {"POST", "/assets", assets_create, "PostAssets", "Asset", "assets:write", 0},
    OPT("/assets"),
    {"DELETE", "/assets/{assetId}", assets_delete, NULL, "Asset", "assets:write", 0},
    {"GET", "/assets/{assetId}", assets_get, NULL, "Asset", "assets:read", 0},
    {"PATCH", "/assets/{assetId}", assets_update, "PatchAssetId", "Asset", "assets:write", 0},
    OPT("/assets/{assetId}"),

    {"GET", "/datasets", datasets_list, NULL, "Datasets", "datasets:read", 0},
    {"POST", "/datasets", datasets_create, "PostDatasets", "Dataset", "datasets:write", 0},
    OPT("/datasets"),
    {"DELETE", "/datasets/{datasetId}", datasets_delete, NULL, "Dataset", "datasets:write", 0},
    {"GET", "/datasets/{datasetId}", datasets_get, NULL, "Dataset", "datasets:read", 0},
    {"PATCH", "/datasets/{datasetId}", datasets_update, "PatchDatasetId", "Dataset", "datasets:write", 0},
    OPT("/datasets/{datasetId}"),

    {"DELETE", "/documents", documents_delete_many, NULL, "Documents", "documents:write", 0},
    {"GET", "/documents", documents_list, NULL, "Documents", "documents:read", 0},
    {"POST", "/documents", documents_create, "PostDocuments", "Document", "documents:write", 0},
    OPT("/documents"),
    {"DELETE", "/documents/{documentId}", documents_delete, NULL, "Document", "documents:write", 0},
    {"GET", "/documents/{documentId}", documents_get, NULL, "Document", "documents:read", 0},
    {"PATCH", "/documents/{documentId}", documents_update, "PatchDocumentId", "Document", "documents:write", 0},
    OPT("/documents/{documentId}"),

    {"GET", "/logs", logs_list, NULL, "Logs", "logs:read", 0},
    OPT("/logs"),
    {"GET", "/logs/{logId}", logs_get, NULL, "Log", "logs:read", 0},
    OPT("/logs/{logId}"),

    {"GET", "/models", models_list, NULL, "Models", "models:read", 0},
    {"POST", "/models", models_create, "PostModels", "Model", "models:write", 0},
    OPT("/models"),
    {"DELETE", "/models/{modelId}", models_delete, NULL, "Model", "models:write", 0},
    {"GET", "/models/{modelId}", models_get, NULL, "Model", "models:read", 0},
    {"PATCH", "/models/{modelId}", models_update, "PatchModelId", "Model", "models:write", 0},
    OPT("/models/{modelId}"),

    {"GET", "/models/{modelId}/dataBundles", data_bundles_list, NULL, "DataBundles", "databundles:read", 0},
    {"POST", "/models/{modelId}/dataBundles", data_bundles_create, "PostDataBundles", "DataBundle", "databundles:write", 0},
    OPT("/models/{modelId}/dataBundles"),
    {"DELETE", "/models/{modelId}/dataBundles/{dataBundleId}", data_bundles_delete, NULL, "DataBundle", "databundles:write", 0},
    {"PATCH", "/models/{modelId}/dataBundles/{dataBundleId}", data_bundles_update, "PatchDataBundleId", "DataBundle", "databundles:write", 0},
    OPT("/models/{modelId}/dataBundles/{dataBundleId}"),

    OPT("/organizations"),
    {"GET", "/organizations/{organizationId}", organizations_get, NULL, "Organization", "organizations:read", 0},
    {"PATCH", "/organizations/{organizationId}", organizations_update, "PatchOrganizationId", "Organization", "organizations:write", 0},
    OPT("/organizations/{organizationId}"),

    {"GET", "/predictions", predictions_list, NULL, "Predictions", "predictions:read", 0},
    {"POST", "/predictions", predictions_create, "PostPredictions", "Prediction", "predictions:write", 0},
    OPT("/predictions"),

    {"GET", "/secrets", secrets_list, NULL, "Secrets", "secrets:read", 0},
    {"POST", "/secrets", secrets_create, "PostSecrets", "Secret", "secrets:write", 0},
    OPT("/secrets"),
    {"DELETE", "/secrets/{secretId}", secrets_delete, NULL, "Secret", "secrets:write", 0},
    {"PATCH", "/secrets/{secretId}", secrets_update, "PatchSecretId", "Secret", "secrets:write", 0},
    OPT("/secrets/{secretId}"),

    OPT("/signup"),
    {"POST", "/signup", signup_create, "PostSignUp", "SignUp", NULL, ROUTE_PUBLIC},

    {"GET", "/transitions", transitions_list, NULL, "Transitions", "transitions:read", 0},
    {"POST", "/transitions", transitions_create, "PostTransitions", "Transition", "transitions:write", 0},
    OPT("/transitions"),
    {"DELETE", "/transitions/{transitionId}", transitions_delete, NULL, "Transition", "transitions:write", 0},
    {"GET", "/transitions/{transitionId}", transitions_get, NULL, "Transition", "transitions:read", 0},
    {"PATCH", "/transitions/{transitionId}", transitions_update, "PatchTransitionId", "Transition", "transitions:write", 0},
    OPT("/transitions/{transitionId}"),
    {"GET", "/transitions/{transitionId}/executions", transition_executions_list, NULL, "TransitionExecutions", "transitions.executions:read", 0},
    {"POST", "/transitions/{transitionId}/executions", transition_executions_create, "PostTransitionExecution", "TransitionExecution", "transitions.executions:write", 0},
    OPT("/transitions/{transitionId}/executions"),
    {"GET", "/transitions/{transitionId}/executions/{executionId}", transition_executions_get, NULL, "TransitionExecution", "transitions.executions:read", 0},
    {"PATCH", "/transitions/{transitionId}/executions/{executionId}", transition_executions_update, "PatchTransistionExecutionId", "TransitionExecution", "transitions.executions:write", 0},
    OPT("/transitions/{transitionId}/executions/{executionId}"),
    {"POST", "/transitions/{transitionId}/executions/{executionId}/heartbeats", transition_executions_heartbeat, "PostHeartbeats", NULL, "transitions.executions.heartbeats:write", 0},
    OPT("/transitions/{transitionId}/executions/{executionId}/heartbeats"),

    {"GET", "/users", users_list, NULL, "Users", "users:read", 0},
    {"POST", "/users", users_create, "PostUsers", "User", "users:write", 0},
    OPT("/users"),
    {"DELETE", "/users/{userId}", users_delete, NULL, "User", "users:write", 0},
    {"GET", "/users/{userId}", users_get, NULL, "User", "users:read", 0},
    {"PATCH", "/users/{userId}", users_update, "PatchUserId", "User", "users:write", 0},
    OPT("/users/{userId}"),

    {"GET", "/workflows", workflows_list, NULL, "Workflows", "workflows:read", 0},
    {"POST", "/workflows", workflows_create, "PostWorkflows", "Workflow", "workflows:write", 0},
    OPT("/workflows"),
    {"DELETE", "/workflows/{workflowId}", workflows_delete, NULL, "Workflow", "workflows:write", 0},
    {"GET", "/workflows/{workflowId}", workflows_get, NULL, "Workflow", "workflows:read", 0},
    {"PATCH", "/workflows/{workflowId}", workflows_update, "PatchWorkflowId", "Workflow", "workflows:write", 0},
    OPT("/workflows/{workflowId}"),
    {"GET", "/workflows/{workflowId}/executions", workflow_executions_list, NULL, "WorkflowExecutions", "workflows.executions:read", 0},
    {"POST", "/workflows/{workflowId}/executions", workflow_executions_create, "PostWorkflowExecutions", "WorkflowExecution", "workflows.executions:write", 0},
    OPT("/workflows/{workflowId}/executions"),
    {"DELETE", "/workflows/{workflowId}/executions/{executionId}", workflow_executions_delete, NULL, "WorkflowExecution", "workflows.executions:write", 0},
    {"GET", "/workflows/{workflowId}/executions/{executionId}", workflow_executions_get, NULL, "WorkflowExecution", "workflows.executions:read", 0},
    {"PATCH", "/workflows/{workflowId}/executions/{executionId}", workflow_executions_update, "PatchWorkflowExecutionId", "WorkflowExecution", "workflows.executions:write", 0},
    OPT("/workflows/{workflowId}/executions/{executionId}"),
};

const size_t routes_count = sizeof routes / sizeof routes[0];
