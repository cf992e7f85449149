/* The data side of the Amazon States Language (states-language.net): input
 * and output processing (InputPath, Parameters with `.$` keys, ResultSelector,
 * ResultPath, OutputPath), Choice rules, Wait deadlines, Retry and Catch
 * matching, and the spec's error names. Pure functions of (state, input,
 * context, now): no I/O and no clock of their own, so the engine can replay
 * them. A state here is the JSON object of one state of a definition. */
#ifndef LAS_WORKFLOWS_ASL_DATA_H
#define LAS_WORKFLOWS_ASL_DATA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The spec's predefined error names. */
#define ASL_ERR_ALL "States.ALL"
#define ASL_ERR_TIMEOUT "States.Timeout"
#define ASL_ERR_TASK_FAILED "States.TaskFailed"
#define ASL_ERR_PERMISSIONS "States.Permissions"
#define ASL_ERR_RESULT_PATH "States.ResultPathMatchFailure"
#define ASL_ERR_PARAMETER_PATH "States.ParameterPathFailure"
#define ASL_ERR_BRANCH_FAILED "States.BranchFailed"
#define ASL_ERR_NO_CHOICE "States.NoChoiceMatched"
#define ASL_ERR_INTRINSIC "States.IntrinsicFailure"
#define ASL_ERR_RUNTIME "States.Runtime"

/* A runtime failure of a state: the error name (one of the above) and a
 * cause a person can read, naming the field and the value. */
typedef struct asl_error {
  char error[128];
  char cause[512];
} asl_error;

/* InputPath, then Parameters (context is the `$$` context object, may be
 * NULL): the state's effective input, *out NEW. False with err set (e.g.
 * States.Runtime for an InputPath that matches nothing,
 * States.ParameterPathFailure for a `.$` path that does). */
bool asl_effective_input(const json_t *state, const json_t *raw_input,
                         const json_t *context, json_t **out, asl_error *err);

/* ResultSelector (Task and Parallel), ResultPath, then OutputPath: the
 * state's output from its raw input and its result (borrowed), *out NEW.
 * For a Pass state the caller passes Result (or the effective input) as
 * result. False with err set (States.ResultPathMatchFailure, …). */
bool asl_effective_output(const json_t *state, const json_t *raw_input,
                          const json_t *result, const json_t *context,
                          json_t **out, asl_error *err);

/* Choice: the Next of the first rule that matches input, else Default
 * (*next borrowed from state). False with States.NoChoiceMatched when none,
 * or States.Runtime when a rule cannot be evaluated. Timestamps compare as
 * instants (RFC 3339, any offset, fractional seconds). */
bool asl_choose(const json_t *state, const json_t *input, const char **next,
                asl_error *err);

/* Wait: the epoch-microsecond instant a Wait state entered at now_us with
 * input ends (Seconds, Timestamp, SecondsPath, TimestampPath). False with
 * States.Runtime when a …Path is missing or of the wrong type. */
bool asl_wait_until(const json_t *state, const json_t *input, int64_t now_us,
                    int64_t *until_us, asl_error *err);

/* Whether an ErrorEquals array matches error: exact names, States.ALL
 * matches everything, States.TaskFailed matches every error but
 * States.Timeout. */
bool asl_error_matches(const json_t *error_equals, const char *error);

/* Retry: finds the first Retrier of state matching error. attempts is an
 * array of per-Retrier attempt counts (created by the caller as [], grown
 * and incremented here). True when the state is to be retried after
 * *delay_us (IntervalSeconds × BackoffRate^(attempt-1)); false when no
 * Retrier matches or its MaxAttempts is spent. */
bool asl_retry(const json_t *state, const char *error, json_t *attempts,
               int64_t *delay_us);

/* Catch: the first Catcher of state matching error (borrowed), or NULL.
 * asl_catch_output then gives the next state's input: the raw input with
 * {"Error": error, "Cause": cause} placed at the Catcher's ResultPath. */
const json_t *asl_catcher(const json_t *state, const char *error);
bool asl_catch_output(const json_t *catcher, const json_t *raw_input,
                      const char *error, const char *cause, json_t **out,
                      asl_error *err);

/* Parses an RFC 3339 timestamp (offsets, fractional seconds) into epoch
 * microseconds; false when it is not one. */
bool asl_parse_timestamp(const char *text, int64_t *epoch_us);

#endif
