/* Text files compiled into the binary (see tools/embed_text.c). */
#ifndef LAS_CORE_EMBEDDED_H
#define LAS_CORE_EMBEDDED_H

#include <stddef.h>

struct embedded_text {
  const char *name;
  const char *text;
};

/* migrations/NNN_*.sql in ascending order */
extern const struct embedded_text embedded_migrations[];
extern const size_t embedded_migrations_count;

#endif
