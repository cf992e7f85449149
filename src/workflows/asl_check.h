/* Checks a workflow definition (the `definition` of a specification, ASL
 * 1.0.0) before it is stored, so that an execution never meets something
 * the engine cannot run: StartAt exists; every state has a valid Type and
 * only the fields its Type allows, with the right types; every Next,
 * Default and Catch Next exists; Next or End where the spec demands one;
 * every path is a valid (Reference) Path; Choice rules are well formed;
 * Retry/Catch are well formed (States.ALL alone and last); Parallel
 * branches are checked as machines of their own; every Task Resource is a
 * transition of the organization. Pure except for the resource callback. */
#ifndef LAS_WORKFLOWS_ASL_CHECK_H
#define LAS_WORKFLOWS_ASL_CHECK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Answers whether a Task's Resource (a transition id) exists; false also
 * when it cannot tell. */
typedef bool (*asl_resource_fn)(void *ctx, const char *resource);

/* True when definition can be run. Otherwise false with why naming the
 * place and the rule, e.g. "definition.States.Approve.Next: state
 * \"Nowhere\" does not exist". resource_exists may be NULL (no Resource
 * check). */
bool asl_check(const json_t *definition, asl_resource_fn resource_exists,
               void *ctx, char *why, size_t whylen);

#endif
