/* What the files of the ASL data side share (not part of the contract). */
#ifndef LAS_WORKFLOWS_ASL_INTERNAL_H
#define LAS_WORKFLOWS_ASL_INTERNAL_H

#include "workflows/asl_data.h"

/* Sets err (may be NULL) to the error name and a formatted cause. */
void asl_error_set(asl_error *err, const char *error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Replaces each byte of text that does not belong to a UTF-8 sequence
 * with '?': messages quote parts of values cut to a length, and must stay
 * text a JSON string can hold. */
void asl_utf8_clean(char *text);

/* A JSON type's name for messages: "string", "number", "null", … */
const char *asl_type_name(const json_t *v);

/* The comparison operators of Choice rules. */
typedef enum {
  ASL_CMP_STRING,
  ASL_CMP_NUMERIC,
  ASL_CMP_BOOLEAN,
  ASL_CMP_TIMESTAMP,
  ASL_CMP_MATCHES, /* StringMatches */
  ASL_CMP_IS_NULL,
  ASL_CMP_IS_PRESENT,
  ASL_CMP_IS_NUMERIC,
  ASL_CMP_IS_STRING,
  ASL_CMP_IS_BOOLEAN,
  ASL_CMP_IS_TIMESTAMP
} asl_cmp_type;

typedef enum {
  ASL_REL_EQ,
  ASL_REL_LT,
  ASL_REL_GT,
  ASL_REL_LE,
  ASL_REL_GE
} asl_rel;

typedef struct {
  const char *name;
  asl_cmp_type type;
  asl_rel rel;
  bool path; /* the …Path form: the operand is a Reference Path */
} asl_operator;

/* The operator called name, or NULL. */
const asl_operator *asl_operator_find(const char *name);

/* Whether pattern is a valid StringMatches pattern: `\` is followed only
 * by `*` or `\`. */
bool asl_pattern_valid(const char *pattern);

#endif
