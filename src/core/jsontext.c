#include "core/jsontext.h"

#include <string.h>

size_t jsontext_string_end(const char *s, size_t len, size_t i, bool escapes) {
  for (i++; i < len;) {
    const char *q = memchr(s + i, '"', len - i);
    if (!q)
      return len;
    size_t qi = (size_t)(q - s);
    if (!escapes)
      return qi + 1;
    /* An odd run of backslashes before the quote escapes it. */
    size_t bs = 0;
    while (qi - bs > i && s[qi - bs - 1] == '\\')
      bs++;
    if (bs % 2 == 0)
      return qi + 1;
    i = qi + 1;
  }
  return len;
}

size_t jsontext_value_end(const char *s, size_t len, size_t i, bool escapes) {
  if (i >= len)
    return len;
  if (s[i] == '"')
    return jsontext_string_end(s, len, i, escapes);
  if (s[i] == '{' || s[i] == '[') {
    size_t depth = 0;
    while (i < len) {
      char c = s[i];
      if (c == '"') {
        i = jsontext_string_end(s, len, i, escapes);
        continue;
      }
      if (c == '{' || c == '[')
        depth++;
      else if ((c == '}' || c == ']') && --depth == 0)
        return i + 1;
      i++;
    }
    return len;
  }
  while (i < len && !strchr(",}] \t\r\n", s[i]))
    i++;
  return i;
}
