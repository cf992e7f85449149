/* Scanning JSON text without parsing it: the ends of strings and values,
 * for code that splices stored or answered JSON (crud.c's answers built
 * from stored text, the journal's redaction of possibly cut bodies). Both
 * functions take the text s[0, len), which need not be NUL-terminated or
 * whole: a string or value cut short ends at len. */
#ifndef LAS_CORE_JSONTEXT_H
#define LAS_CORE_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* s[i] is '"': the index after the string's closing quote, or len when it
 * is cut. `escapes`: false when the text is known to hold no backslash
 * (then the closing quote is the next one, found with memchr). */
size_t jsontext_string_end(const char *s, size_t len, size_t i, bool escapes);

/* The index after the value starting at s[i] (a string, an object or array
 * with everything nested in it, or a scalar up to the next , } ] or
 * whitespace), or len when it is cut. */
size_t jsontext_value_end(const char *s, size_t len, size_t i, bool escapes);

#endif
