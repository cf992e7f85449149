/* The JSONPath subset of ASL. Supported syntax (anything else is
 * JSONPATH_INVALID with the reason and the byte offset):
 *
 *   root      `$` (also `$$`: the context object, passed by the caller as doc)
 *   .name     a member; name is one or more bytes other than . [ ] * ' " ( )
 *             ? @ , : \ and whitespace or control characters (any other
 *             name, including the empty one, is written ['...'])
 *   ['name']  a member, quoted with ' or "; inside, \\ \' \" are escapes
 *   [n]       an array element; n < 0 counts from the end ([-1] is the last)
 *   Paths only (not Reference Paths):
 *   .* [*]    every member of an object or element of an array, in order
 *   [a:b]     a slice of an array, a and b optional and possibly negative
 *             (Python's rules); no step
 *   ..sel     descent: sel (a name, `*` or any bracket above) applied to the
 *             node and to each of its descendants, in document order
 *
 * Not supported: unions ([0,1], ['a','b']), filters ([?(...)]), script
 * expressions, slice steps, functions. A path has at most JSONPATH_MAX_STEPS
 * steps; an evaluation that would select more than JSONPATH_MAX_NODES nodes
 * or visit more than JSONPATH_MAX_VISITS is refused as JSONPATH_NO_MATCH
 * with that reason (a bound on what a definition can make the engine do). */
#include "workflows/jsonpath.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSONPATH_MAX_STEPS 128
#define JSONPATH_MAX_NODES 100000
#define JSONPATH_MAX_VISITS 1000000
#define JSONPATH_MAX_INDEX 1000000000LL
#define JSONPATH_MAX_DEPTH 10000

typedef enum { SEL_NAME, SEL_INDEX, SEL_WILD, SEL_SLICE } sel_kind;

typedef struct {
  sel_kind kind;
  bool descent;
  const char *name; /* into the parse's name buffer, NUL-terminated */
  long long index;  /* SEL_INDEX; slice start */
  long long end;    /* slice end */
  bool has_start, has_end;
} step;

typedef struct {
  step steps[JSONPATH_MAX_STEPS];
  size_t n;
  bool definite; /* selects at most one node */
  char *names;   /* owned buffer of unescaped names */
} parsed;

static void set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t whylen, const char *fmt, ...) {
  if (!why || whylen == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, whylen, fmt, ap);
  va_end(ap);
}

static bool name_byte(unsigned char c) {
  if (c <= 0x20 || c == 0x7f)
    return false;
  return !strchr(".[]*'\"()?@,:\\", c);
}

/* Describes the byte at p for a message: the character, or "end". */
static void describe(const char *p, char *buf, size_t len) {
  unsigned char c = (unsigned char)*p;
  if (!c)
    snprintf(buf, len, "end of path");
  else if (c < 0x20 || c >= 0x7f)
    snprintf(buf, len, "byte 0x%02x", c);
  else
    snprintf(buf, len, "'%c'", c);
}

static bool parse_int(const char **pp, long long *out) {
  const char *p = *pp;
  bool neg = false;
  if (*p == '-') {
    neg = true;
    p++;
  }
  if (*p < '0' || *p > '9')
    return false;
  long long v = 0;
  while (*p >= '0' && *p <= '9') {
    if (v > JSONPATH_MAX_INDEX)
      return false;
    v = v * 10 + (*p - '0');
    p++;
  }
  if (v > JSONPATH_MAX_INDEX)
    return false;
  *out = neg ? -v : v;
  *pp = p;
  return true;
}

static jsonpath_status fail(const char *path, const char *p, char *why,
                            size_t whylen, const char *what) {
  char got[32];
  describe(p, got, sizeof got);
  set_why(why, whylen, "%s at %zu (found %s)", what, (size_t)(p - path), got);
  return JSONPATH_INVALID;
}

/* Parses the bracket at p (just after '['); *pp is left after ']'. */
static jsonpath_status parse_bracket(const char *path, const char **pp,
                                     step *st, char **names, char *why,
                                     size_t whylen) {
  const char *p = *pp;
  if (*p == '\'' || *p == '"') {
    char quote = *p++;
    st->kind = SEL_NAME;
    st->name = *names;
    char *w = *names;
    for (;;) {
      if (!*p)
        return fail(path, p, why, whylen, "unterminated quoted name");
      if (*p == quote) {
        p++;
        break;
      }
      if (*p == '\\') {
        p++;
        if (*p != '\\' && *p != '\'' && *p != '"')
          return fail(path, p, why, whylen,
                      "only \\\\, \\' and \\\" are escapes in a quoted name");
      }
      *w++ = *p++;
    }
    *w++ = '\0';
    *names = w;
    if (*p == ',')
      return fail(path, p, why, whylen, "unions are not supported");
    if (*p != ']')
      return fail(path, p, why, whylen, "expected ']' after a quoted name");
    *pp = p + 1;
    return JSONPATH_OK;
  }
  if (*p == '*') {
    p++;
    if (*p != ']')
      return fail(path, p, why, whylen, "expected ']' after '*'");
    st->kind = SEL_WILD;
    *pp = p + 1;
    return JSONPATH_OK;
  }
  if (*p == '?')
    return fail(path, p, why, whylen, "filter expressions are not supported");
  if (*p == '(')
    return fail(path, p, why, whylen, "script expressions are not supported");
  long long a = 0;
  bool has_a = false;
  if (*p == '-' || (*p >= '0' && *p <= '9')) {
    if (!parse_int(&p, &a))
      return fail(path, p, why, whylen,
                  "expected an integer of at most 10 digits");
    has_a = true;
  }
  if (*p == ']' && has_a) {
    st->kind = SEL_INDEX;
    st->index = a;
    *pp = p + 1;
    return JSONPATH_OK;
  }
  if (*p == ',')
    return fail(path, p, why, whylen, "unions are not supported");
  if (has_a && *p != ':')
    return fail(path, p, why, whylen, "expected ']' after an index");
  if (*p != ':')
    return fail(path, p, why, whylen,
                "expected a quoted name, an index, '*' or a slice");
  p++;
  long long b = 0;
  bool has_b = false;
  if (*p == '-' || (*p >= '0' && *p <= '9')) {
    if (!parse_int(&p, &b))
      return fail(path, p, why, whylen,
                  "expected an integer of at most 10 digits");
    has_b = true;
  }
  if (*p == ':')
    return fail(path, p, why, whylen, "slice steps are not supported");
  if (*p != ']')
    return fail(path, p, why, whylen, "expected ']' to end the slice");
  st->kind = SEL_SLICE;
  st->index = a;
  st->has_start = has_a;
  st->end = b;
  st->has_end = has_b;
  *pp = p + 1;
  return JSONPATH_OK;
}

/* Length of the UTF-8 sequence at p, or 0 when it is not one (overlong
 * forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_len(const unsigned char *p) {
  if (p[0] < 0x80)
    return 1;
  size_t n;
  unsigned cp;
  if ((p[0] & 0xe0) == 0xc0) {
    n = 2;
    cp = p[0] & 0x1fu;
  } else if ((p[0] & 0xf0) == 0xe0) {
    n = 3;
    cp = p[0] & 0x0fu;
  } else if ((p[0] & 0xf8) == 0xf0) {
    n = 4;
    cp = p[0] & 0x07u;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
    cp = cp << 6 | (p[i] & 0x3fu);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
      (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

/* Parses path into out (out->names must be freed by the caller, also on
 * failure). */
static jsonpath_status parse(const char *path, bool reference, parsed *out,
                             char *why, size_t whylen) {
  memset(out, 0, sizeof *out);
  out->definite = true;
  if (!path) {
    set_why(why, whylen, "no path");
    return JSONPATH_INVALID;
  }
  out->names = malloc(strlen(path) + 1);
  if (!out->names) {
    set_why(why, whylen, "out of memory");
    return JSONPATH_INVALID;
  }
  char *names = out->names;
  const char *p = path;
  /* Names become JSON member names, which are UTF-8. */
  for (const unsigned char *u = (const unsigned char *)path; *u;) {
    size_t n = utf8_len(u);
    if (!n)
      return fail(path, (const char *)u, why, whylen,
                  "a path must be UTF-8 text");
    u += n;
  }
  if (*p != '$')
    return fail(path, p, why, whylen, "a path must start with '$'");
  p++;
  if (*p == '$')
    p++;
  while (*p) {
    if (out->n == JSONPATH_MAX_STEPS) {
      set_why(why, whylen, "a path has at most %d steps", JSONPATH_MAX_STEPS);
      return JSONPATH_INVALID;
    }
    step *st = &out->steps[out->n];
    memset(st, 0, sizeof *st);
    if (*p == '.') {
      p++;
      if (*p == '.') {
        st->descent = true;
        p++;
        if (*p == '[') {
          p++;
          jsonpath_status rc = parse_bracket(path, &p, st, &names, why, whylen);
          if (rc != JSONPATH_OK)
            return rc;
          out->n++;
          continue;
        }
      }
      if (*p == '*') {
        st->kind = SEL_WILD;
        p++;
      } else {
        if (!name_byte((unsigned char)*p))
          return fail(path, p, why, whylen,
                      "expected a name or '*' after '.' (other names are "
                      "written ['...'])");
        st->kind = SEL_NAME;
        st->name = names;
        while (name_byte((unsigned char)*p))
          *names++ = *p++;
        *names++ = '\0';
      }
    } else if (*p == '[') {
      p++;
      jsonpath_status rc = parse_bracket(path, &p, st, &names, why, whylen);
      if (rc != JSONPATH_OK)
        return rc;
    } else {
      return fail(path, p, why, whylen, "expected '.' or '['");
    }
    out->n++;
  }
  for (size_t i = 0; i < out->n; i++) {
    const step *st = &out->steps[i];
    if (st->descent || st->kind == SEL_WILD || st->kind == SEL_SLICE) {
      out->definite = false;
      if (reference) {
        set_why(why, whylen,
                "a Reference Path selects one node: no '*', slices or '..' "
                "(step %zu)",
                i + 1);
        return JSONPATH_INVALID;
      }
    }
  }
  return JSONPATH_OK;
}

jsonpath_status jsonpath_check(const char *path, bool reference, char *why,
                               size_t whylen) {
  parsed pp;
  jsonpath_status rc = parse(path, reference, &pp, why, whylen);
  free(pp.names);
  return rc;
}

/* ---- evaluation ---- */

typedef struct {
  const json_t **v;
  size_t n, cap;
} nodes;

typedef struct {
  size_t visits;
  bool exceeded;
  char *why;
  size_t whylen;
} budget;

static bool push(nodes *ns, const json_t *node, budget *b) {
  if (ns->n == JSONPATH_MAX_NODES) {
    if (!b->exceeded)
      set_why(b->why, b->whylen, "the path selects more than %d nodes",
              JSONPATH_MAX_NODES);
    b->exceeded = true;
    return false;
  }
  if (ns->n == ns->cap) {
    size_t cap = ns->cap ? ns->cap * 2 : 8;
    const json_t **v = realloc(ns->v, cap * sizeof *v);
    if (!v) {
      set_why(b->why, b->whylen, "out of memory");
      b->exceeded = true;
      return false;
    }
    ns->v = v;
    ns->cap = cap;
  }
  ns->v[ns->n++] = node;
  return true;
}

/* The array position a (possibly negative) index names, or -1. */
static long long resolve_index(long long index, size_t size) {
  long long n = (long long)size;
  long long i = index < 0 ? n + index : index;
  return i >= 0 && i < n ? i : -1;
}

static long long clamp_slice(long long v, size_t size) {
  long long n = (long long)size;
  if (v < 0)
    v += n;
  if (v < 0)
    v = 0;
  if (v > n)
    v = n;
  return v;
}

/* Applies the selector of st (without descent) to node. */
static bool select_one(const step *st, const json_t *node, nodes *out,
                       budget *b) {
  switch (st->kind) {
  case SEL_NAME: {
    if (!json_is_object(node))
      return true;
    const json_t *v = json_object_get(node, st->name);
    return v ? push(out, v, b) : true;
  }
  case SEL_INDEX: {
    if (!json_is_array(node))
      return true;
    long long i = resolve_index(st->index, json_array_size(node));
    return i >= 0 ? push(out, json_array_get(node, (size_t)i), b) : true;
  }
  case SEL_WILD:
    if (json_is_object(node)) {
      const char *k;
      const json_t *v;
      json_object_foreach((json_t *)node, k, v) {
        if (!push(out, v, b))
          return false;
      }
    } else if (json_is_array(node)) {
      for (size_t i = 0; i < json_array_size(node); i++)
        if (!push(out, json_array_get(node, i), b))
          return false;
    }
    return true;
  case SEL_SLICE: {
    if (!json_is_array(node))
      return true;
    size_t size = json_array_size(node);
    long long from = st->has_start ? clamp_slice(st->index, size) : 0;
    long long to = st->has_end ? clamp_slice(st->end, size) : (long long)size;
    for (long long i = from; i < to; i++)
      if (!push(out, json_array_get(node, (size_t)i), b))
        return false;
    return true;
  }
  }
  return true;
}

static bool descend(const step *st, const json_t *node, nodes *out, budget *b,
                    unsigned depth) {
  if (++b->visits > JSONPATH_MAX_VISITS || depth > JSONPATH_MAX_DEPTH) {
    if (!b->exceeded)
      set_why(b->why, b->whylen,
              "the path's '..' would visit more than %d nodes or descend "
              "deeper than %d",
              JSONPATH_MAX_VISITS, JSONPATH_MAX_DEPTH);
    b->exceeded = true;
    return false;
  }
  if (!select_one(st, node, out, b))
    return false;
  if (json_is_object(node)) {
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)node, k, v) {
      if (!descend(st, v, out, b, depth + 1))
        return false;
    }
  } else if (json_is_array(node)) {
    for (size_t i = 0; i < json_array_size(node); i++)
      if (!descend(st, json_array_get(node, i), out, b, depth + 1))
        return false;
  }
  return true;
}

jsonpath_status jsonpath_get(const json_t *doc, const char *path, json_t **out,
                             char *why, size_t whylen) {
  *out = NULL;
  parsed pp;
  jsonpath_status rc = parse(path, false, &pp, why, whylen);
  if (rc != JSONPATH_OK) {
    free(pp.names);
    return rc;
  }
  if (!doc) {
    free(pp.names);
    set_why(why, whylen, "no document");
    return JSONPATH_NO_MATCH;
  }
  if (pp.definite) {
    const json_t *cur = doc;
    for (size_t i = 0; i < pp.n && cur; i++) {
      const step *st = &pp.steps[i];
      if (st->kind == SEL_NAME)
        cur = json_is_object(cur) ? json_object_get(cur, st->name) : NULL;
      else {
        long long at = json_is_array(cur)
                           ? resolve_index(st->index, json_array_size(cur))
                           : -1;
        cur = at >= 0 ? json_array_get(cur, (size_t)at) : NULL;
      }
      if (!cur)
        set_why(why, whylen, "nothing at step %zu of %s", i + 1, path);
    }
    free(pp.names);
    if (!cur)
      return JSONPATH_NO_MATCH;
    *out = json_incref((json_t *)cur);
    return JSONPATH_OK;
  }
  budget b = {0, false, why, whylen};
  nodes cur = {0}, next = {0};
  bool ok = push(&cur, doc, &b);
  for (size_t i = 0; ok && i < pp.n; i++) {
    const step *st = &pp.steps[i];
    next.n = 0;
    for (size_t j = 0; ok && j < cur.n; j++)
      ok = st->descent ? descend(st, cur.v[j], &next, &b, 0)
                       : select_one(st, cur.v[j], &next, &b);
    nodes t = cur;
    cur = next;
    next = t;
  }
  json_t *arr = NULL;
  if (ok) {
    arr = json_array();
    for (size_t j = 0; arr && j < cur.n; j++)
      if (json_array_append(arr, (json_t *)cur.v[j]) != 0) {
        json_decref(arr);
        arr = NULL;
      }
    if (!arr)
      set_why(why, whylen, "out of memory");
  }
  free(cur.v);
  free(next.v);
  free(pp.names);
  if (!arr)
    return JSONPATH_NO_MATCH;
  *out = arr;
  return JSONPATH_OK;
}

/* ---- set ---- */

/* A container another holder may see: copy before changing it. */
static bool shared(const json_t *v) {
  return v->refcount != 1;
}

jsonpath_status jsonpath_set(json_t **doc, const char *path, json_t *value,
                             char *why, size_t whylen) {
  parsed pp;
  jsonpath_status rc = parse(path, true, &pp, why, whylen);
  if (rc != JSONPATH_OK) {
    free(pp.names);
    json_decref(value);
    return rc;
  }
  if (!value) {
    free(pp.names);
    set_why(why, whylen, "no value");
    return JSONPATH_INVALID;
  }
  if (pp.n == 0) {
    free(pp.names);
    json_decref(*doc);
    *doc = value;
    return JSONPATH_OK;
  }
  if (!*doc) {
    set_why(why, whylen, "no document");
    goto no_match;
  }
  /* Dry run first, so that a path that fails changes nothing. */
  const json_t *cur = *doc;
  for (size_t i = 0; i < pp.n; i++) {
    const step *st = &pp.steps[i];
    bool last = i + 1 == pp.n;
    if (!cur) {
      /* Missing: created as objects, which only names can go through. */
      if (st->kind != SEL_NAME) {
        set_why(why, whylen,
                "step %zu of %s indexes an array that does not exist", i + 1,
                path);
        goto no_match;
      }
      continue;
    }
    if (st->kind == SEL_NAME) {
      if (!json_is_object(cur)) {
        set_why(why, whylen, "step %zu of %s: the value there is not an object",
                i + 1, path);
        goto no_match;
      }
      cur = last ? NULL : json_object_get(cur, st->name);
    } else {
      long long at = json_is_array(cur)
                         ? resolve_index(st->index, json_array_size(cur))
                         : -1;
      if (at < 0) {
        set_why(why, whylen, "step %zu of %s: no such array element", i + 1,
                path);
        goto no_match;
      }
      cur = last ? NULL : json_array_get(cur, (size_t)at);
    }
  }
  /* Copy on write: containers along the path that are shared (with the
   * caller's other documents, or with value) are copied, never changed. */
  if (shared(*doc)) {
    json_t *copy = json_copy(*doc);
    if (!copy)
      goto oom;
    json_decref(*doc);
    *doc = copy;
  }
  json_t *node = *doc;
  for (size_t i = 0; i < pp.n; i++) {
    const step *st = &pp.steps[i];
    bool last = i + 1 == pp.n;
    if (st->kind == SEL_NAME) {
      if (last) {
        if (json_object_set_new(node, st->name, value) != 0) {
          value = NULL;
          goto oom;
        }
        break;
      }
      json_t *child = json_object_get(node, st->name);
      if (!child) {
        child = json_object();
        if (!child || json_object_set_new(node, st->name, child) != 0)
          goto oom;
      } else if (shared(child)) {
        json_t *fresh = json_copy(child);
        if (!fresh || json_object_set_new(node, st->name, fresh) != 0)
          goto oom;
        child = fresh;
      }
      node = child;
    } else {
      size_t at = (size_t)resolve_index(st->index, json_array_size(node));
      if (last) {
        if (json_array_set_new(node, at, value) != 0) {
          value = NULL;
          goto oom;
        }
        break;
      }
      json_t *child = json_array_get(node, at);
      if ((json_is_object(child) || json_is_array(child)) && shared(child)) {
        json_t *fresh = json_copy(child);
        if (!fresh || json_array_set_new(node, at, fresh) != 0)
          goto oom;
        child = fresh;
      }
      node = child;
    }
  }
  free(pp.names);
  return JSONPATH_OK;
no_match:
  free(pp.names);
  json_decref(value);
  return JSONPATH_NO_MATCH;
oom:
  free(pp.names);
  json_decref(value);
  set_why(why, whylen, "out of memory");
  return JSONPATH_NO_MATCH;
}
