/* JSON Schema validator (drafts 4 and 7, plus OpenAPI 3.0 `nullable`).
 *
 * Layout of this file:
 *   1. small utilities (growable strings, truncating output buffer)
 *   2. URI reference resolution (RFC 3986 section 5)
 *   3. compiled schema representation
 *   4. compilation: resource index ($id / id), $ref resolution, keywords
 *   5. validation
 *   6. public API
 *
 * Compilation turns the JSON schema into a graph of js_node.  Every $ref is
 * resolved to the node it points to while compiling, so validation never looks
 * at URIs.  Nodes reached through $ref are memoised by their JSON value, which
 * is what makes recursive schemas compile to a finite (cyclic) graph.  After
 * js_compile() returns, nothing in the graph is ever written again, so any
 * number of threads may validate with it concurrently; per-call state (the
 * PCRE2 match data, the error buffer) lives in js_vctx on the caller's stack. */

#define PCRE2_CODE_UNIT_WIDTH 8

#include "jsonschema.h"

#include <pcre2.h>

#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds recursion both while compiling and while validating.  jansson refuses
 * to parse documents nested deeper than 2048 levels, and a recursive schema
 * costs about two evaluation frames per instance level, so legitimate input
 * stays well below this while a schema that recurses without consuming the
 * instance (e.g. {"allOf":[{"$ref":"#"}]}) is stopped before the stack is. */
#define JS_MAX_DEPTH 4096

/* ------------------------------------------------------------------------ */
/* 1. Utilities                                                             */
/* ------------------------------------------------------------------------ */

/* Growable NUL-terminated string; `oom` latches so callers check once. */
typedef struct {
    char *p;
    size_t len;
    size_t cap;
    bool oom;
} js_str;

static void js_str_add(js_str *s, const char *data, size_t n)
{
    if (s->oom)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 64;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *p = realloc(s->p, cap);
        if (!p) {
            s->oom = true;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
    if (n)
        memcpy(s->p + s->len, data, n);
    s->len += n;
    s->p[s->len] = '\0';
}

/* Returns the string (owned by the caller) or NULL when an allocation failed. */
static char *js_str_take(js_str *s)
{
    if (!s->oom && !s->p)
        js_str_add(s, "", 0);
    if (s->oom) {
        free(s->p);
        return NULL;
    }
    return s->p;
}

static char *js_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static char *js_strdup(const char *s) { return js_strndup(s, strlen(s)); }

/* Fixed-size output that silently truncates: error messages must never
 * overflow the caller's buffer, whatever the schema or instance contain. */
typedef struct {
    char *p;
    size_t cap;
    size_t len;
} js_out;

static void js_out_add(js_out *o, const char *s, size_t n)
{
    if (!o->p || o->cap == 0)
        return;
    size_t room = o->cap - 1 - o->len;
    if (n > room)
        n = room;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void js_out_adds(js_out *o, const char *s) { js_out_add(o, s, strlen(s)); }

static void js_out_vprintf(js_out *o, const char *fmt, va_list ap)
{
    if (!o->p || o->cap == 0)
        return;
    size_t room = o->cap - o->len;
    int n = vsnprintf(o->p + o->len, room, fmt, ap);
    if (n < 0) {
        o->p[o->len] = '\0';
        return;
    }
    o->len += (size_t)n < room ? (size_t)n : room - 1;
}

static void js_out_printf(js_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void js_out_printf(js_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    js_out_vprintf(o, fmt, ap);
    va_end(ap);
}

/* Shortest decimal that reads back as the same double, so messages show the
 * number the schema author wrote ("0.1", not "0.10000000000000001"). */
static void js_num_text(const json_t *v, char *buf, size_t n)
{
    if (json_is_integer(v)) {
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return;
    }
    double d = json_real_value(v);
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

/* libm is deliberately avoided so the module links with nothing but jansson
 * and PCRE2. */
static double js_fabs(double d) { return d < 0 ? -d : d; }

static bool js_is_integral(double d)
{
    if (d != d || d - d != 0.0) /* NaN or infinite */
        return false;
    if (js_fabs(d) >= 9007199254740992.0) /* 2^53: every double is integral */
        return true;
    return (double)(long long)d == d;
}

static double js_round(double d)
{
    if (js_fabs(d) >= 9007199254740992.0)
        return d;
    return (double)(long long)(d < 0 ? d - 0.5 : d + 0.5);
}

/* ------------------------------------------------------------------------ */
/* 2. URI references (RFC 3986 section 5.2)                                 */
/* ------------------------------------------------------------------------ */

typedef struct {
    const char *s;
    size_t n;
    bool has;
} js_span;

typedef struct {
    js_span scheme, auth, path, query, frag;
} js_uri;

static bool js_in(char c, const char *set) { return c != '\0' && strchr(set, c) != NULL; }

static void js_uri_parse(const char *u, js_uri *o)
{
    memset(o, 0, sizeof *o);
    const char *p = u, *q = u;
    while (*q && !js_in(*q, ":/?#"))
        q++;
    if (*q == ':' && q > p) {
        o->scheme = (js_span){p, (size_t)(q - p), true};
        p = q + 1;
    }
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        q = p;
        while (*q && !js_in(*q, "/?#"))
            q++;
        o->auth = (js_span){p, (size_t)(q - p), true};
        p = q;
    }
    q = p;
    while (*q && *q != '?' && *q != '#')
        q++;
    o->path = (js_span){p, (size_t)(q - p), true};
    p = q;
    if (*p == '?') {
        q = ++p;
        while (*q && *q != '#')
            q++;
        o->query = (js_span){p, (size_t)(q - p), true};
        p = q;
    }
    if (*p == '#') {
        p++;
        o->frag = (js_span){p, strlen(p), true};
    }
}

static void js_drop_last_segment(js_str *out)
{
    while (out->len > 0 && out->p[out->len - 1] != '/')
        out->len--;
    if (out->len > 0)
        out->len--;
    if (out->p)
        out->p[out->len] = '\0';
}

/* RFC 3986 5.2.4, applied to a private copy so prefixes can be rewritten. */
static void js_remove_dots(js_str *out, const char *path, size_t n)
{
    char *in = js_strndup(path, n);
    if (!in) {
        out->oom = true;
        return;
    }
    size_t i = 0;
    while (i < n) {
        const char *r = in + i;
        size_t left = n - i;
        if (left >= 3 && memcmp(r, "../", 3) == 0) {
            i += 3;
        } else if (left >= 2 && memcmp(r, "./", 2) == 0) {
            i += 2;
        } else if (left >= 3 && memcmp(r, "/./", 3) == 0) {
            i += 2;
        } else if (left == 2 && memcmp(r, "/.", 2) == 0) {
            i += 1;
            in[i] = '/';
        } else if (left >= 4 && memcmp(r, "/../", 4) == 0) {
            i += 3;
            js_drop_last_segment(out);
        } else if (left == 3 && memcmp(r, "/..", 3) == 0) {
            i += 2;
            in[i] = '/';
            js_drop_last_segment(out);
        } else if ((left == 1 && r[0] == '.') || (left == 2 && memcmp(r, "..", 2) == 0)) {
            i = n;
        } else {
            size_t j = (r[0] == '/') ? 1 : 0;
            while (j < left && r[j] != '/')
                j++;
            js_str_add(out, r, j);
            i += j;
        }
    }
    free(in);
}

/* Resolves `ref` against `base`; both may be relative or empty (a schema
 * without any id has the empty base).  Returns a new string or NULL (OOM). */
static char *js_uri_resolve(const char *base, const char *ref)
{
    js_uri b, r;
    js_uri_parse(base, &b);
    js_uri_parse(ref, &r);

    js_span scheme, auth, query;
    js_str path = {0};
    if (r.scheme.has) {
        scheme = r.scheme;
        auth = r.auth;
        query = r.query;
        js_remove_dots(&path, r.path.s, r.path.n);
    } else {
        scheme = b.scheme;
        if (r.auth.has) {
            auth = r.auth;
            query = r.query;
            js_remove_dots(&path, r.path.s, r.path.n);
        } else {
            auth = b.auth;
            if (r.path.n == 0) {
                js_str_add(&path, b.path.s, b.path.n);
                query = r.query.has ? r.query : b.query;
            } else if (r.path.s[0] == '/') {
                js_remove_dots(&path, r.path.s, r.path.n);
                query = r.query;
            } else {
                js_str merged = {0};
                if (b.auth.has && b.path.n == 0) {
                    js_str_add(&merged, "/", 1);
                } else {
                    size_t k = b.path.n;
                    while (k > 0 && b.path.s[k - 1] != '/')
                        k--;
                    js_str_add(&merged, b.path.s, k);
                }
                js_str_add(&merged, r.path.s, r.path.n);
                if (merged.oom)
                    path.oom = true;
                else
                    js_remove_dots(&path, merged.p, merged.len);
                free(merged.p);
                query = r.query;
            }
        }
    }

    js_str out = {0};
    if (scheme.has) {
        js_str_add(&out, scheme.s, scheme.n);
        js_str_add(&out, ":", 1);
    }
    if (auth.has) {
        js_str_add(&out, "//", 2);
        js_str_add(&out, auth.s, auth.n);
    }
    if (path.oom)
        out.oom = true;
    else if (path.len)
        js_str_add(&out, path.p, path.len);
    free(path.p);
    if (query.has) {
        js_str_add(&out, "?", 1);
        js_str_add(&out, query.s, query.n);
    }
    if (r.frag.has) {
        js_str_add(&out, "#", 1);
        js_str_add(&out, r.frag.s, r.frag.n);
    }
    return js_str_take(&out);
}

static int js_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A JSON pointer inside a URI fragment is percent-encoded (RFC 6901 s6). */
static char *js_percent_decode(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = js_hexval(s[i + 1])) >= 0 &&
            (lo = js_hexval(s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* ------------------------------------------------------------------------ */
/* 3. Compiled representation                                               */
/* ------------------------------------------------------------------------ */

enum { JS_K_TRUE, JS_K_FALSE, JS_K_REF, JS_K_SCHEMA };

enum {
    JS_T_NULL = 1u << 0,
    JS_T_BOOLEAN = 1u << 1,
    JS_T_OBJECT = 1u << 2,
    JS_T_ARRAY = 1u << 3,
    JS_T_NUMBER = 1u << 4,
    JS_T_STRING = 1u << 5,
    JS_T_INTEGER = 1u << 6,
};

typedef struct js_node js_node;

typedef struct {
    const char *name; /* borrowed from the schema document */
    size_t len;
    js_node *schema;
} js_prop;

typedef struct {
    pcre2_code *re;
    const char *src;
    js_node *schema;
} js_patprop;

typedef struct {
    const char *name;
    size_t len;
    js_node *schema;         /* schema dependency, or NULL */
    const json_t *required; /* property dependency (array of strings), or NULL */
} js_dep;

/* Counts (maxLength, minItems, ...) use -1 for "keyword absent". */
struct js_node {
    int kind;
    const js_node *ref; /* JS_K_REF target */

    unsigned types; /* 0: no `type` keyword */
    const json_t *type_json;
    bool nullable;
    const json_t *enum_vals;
    const json_t *const_val;

    const json_t *multiple_of;
    const json_t *maximum, *minimum;
    bool maximum_excl, minimum_excl; /* boolean exclusive* (draft 4 / OpenAPI) */
    const json_t *excl_maximum, *excl_minimum; /* numeric exclusive* (draft 7) */

    long long max_length, min_length;
    pcre2_code *pattern;
    const char *pattern_src;

    js_node *items;    /* single schema for every item */
    js_node **tuple;   /* positional item schemas */
    size_t n_tuple;
    bool has_tuple;
    js_node *additional_items;
    js_node *contains;
    long long max_items, min_items;
    bool unique_items;

    long long max_props, min_props;
    const json_t *required;
    js_prop *props;
    size_t n_props;
    const json_t *props_obj;
    js_patprop *patprops;
    size_t n_patprops;
    js_node *additional_props;
    js_dep *deps;
    size_t n_deps;
    js_node *property_names;

    js_node *if_, *then_, *else_;
    js_node **all_of, **any_of, **one_of;
    size_t n_all_of, n_any_of, n_one_of;
    js_node *not_;
};

/* Backtracking steps one pattern match may take (PCRE2's default is ten
 * million). Patterns come from schemas but the strings from clients: a
 * pattern with nested repeats, such as the API's e-mail pattern, is
 * exponential on some strings, and one request must not hold a thread for
 * seconds. A string that needs more is answered "could not be matched". */
enum { JS_MATCH_LIMIT = 100000 };

struct js_schema {
    js_draft draft;
    js_node *root;
    pcre2_match_context *mctx; /* the match limit */
    json_t *docs; /* our private copies of the root and every remote document */
    js_node **nodes;
    size_t n_nodes, cap_nodes;
};

static void js_node_free(js_node *n)
{
    if (!n)
        return;
    if (n->pattern)
        pcre2_code_free(n->pattern);
    for (size_t i = 0; i < n->n_patprops; i++)
        pcre2_code_free(n->patprops[i].re);
    free(n->patprops);
    free(n->props);
    free(n->deps);
    free(n->tuple);
    free(n->all_of);
    free(n->any_of);
    free(n->one_of);
    free(n);
}

/* ------------------------------------------------------------------------ */
/* 4. Compilation                                                           */
/* ------------------------------------------------------------------------ */

/* A schema resource reachable by URI: a document, a subschema with an
 * absolute/relative id, or (key containing '#') a location-independent
 * identifier.  `base` is the base URI in force inside that schema. */
typedef struct {
    char *key;
    char *base;
    json_t *node;
} js_res;

/* Open-addressing map from schema JSON value to its compiled node. */
typedef struct {
    const json_t **keys;
    js_node **vals;
    size_t cap, n;
} js_memo;

typedef struct {
    js_schema *s;
    js_remote_loader loader;
    void *loader_ctx;
    js_res *res;
    size_t n_res, cap_res;
    js_memo memo;
    pcre2_compile_context *pcctx;
    char *err;
    size_t errlen;
    bool failed;
} js_cctx;

static void js_cerr(js_cctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void js_cerr(js_cctx *c, const char *fmt, ...)
{
    if (c->failed)
        return; /* keep the first, most specific reason */
    c->failed = true;
    if (!c->err || c->errlen == 0)
        return;
    js_out o = {c->err, c->errlen, 0};
    c->err[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    js_out_vprintf(&o, fmt, ap);
    va_end(ap);
}

static size_t js_ptr_hash(const void *p, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)p;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)(h & (uint64_t)(cap - 1));
}

static js_node *js_memo_get(const js_memo *m, const json_t *key)
{
    if (!m->cap)
        return NULL;
    for (size_t i = js_ptr_hash(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return NULL;
        if (m->keys[i] == key)
            return m->vals[i];
    }
}

static bool js_memo_put(js_memo *m, const json_t *key, js_node *val)
{
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        const json_t **keys = calloc(cap, sizeof *keys);
        js_node **vals = calloc(cap, sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return false;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->keys[i])
                continue;
            size_t j = js_ptr_hash(m->keys[i], cap);
            while (keys[j])
                j = (j + 1) & (cap - 1);
            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
        free(m->keys);
        free(m->vals);
        m->keys = keys;
        m->vals = vals;
        m->cap = cap;
    }
    size_t i = js_ptr_hash(key, m->cap);
    while (m->keys[i])
        i = (i + 1) & (m->cap - 1);
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    return true;
}

static const char *js_id_keyword(const js_cctx *c) { return c->s->draft == JS_DRAFT4 ? "id" : "$id"; }

static bool js_has_ref(const json_t *j) { return json_is_string(json_object_get(j, "$ref")); }

/* Base URI in force inside schema `j` whose parent's base is `parent_base`.
 * A $ref makes every sibling keyword, including the id, ignored.  When the id
 * is a plain-name fragment ("#foo"), *anchor receives its full URI. */
static char *js_own_base(const js_cctx *c, const json_t *j, const char *parent_base, char **anchor)
{
    if (anchor)
        *anchor = NULL;
    const json_t *id = json_is_object(j) && !js_has_ref(j) ? json_object_get(j, js_id_keyword(c)) : NULL;
    if (!json_is_string(id))
        return js_strdup(parent_base);
    char *full = js_uri_resolve(parent_base, json_string_value(id));
    if (!full)
        return NULL;
    char *hash = strchr(full, '#');
    if (!hash)
        return full;
    char *base = js_strndup(full, (size_t)(hash - full));
    if (hash[1] != '\0' && anchor && base)
        *anchor = full;
    else
        free(full);
    return base;
}

static const js_res *js_find_res(const js_cctx *c, const char *key)
{
    for (size_t i = 0; i < c->n_res; i++)
        if (strcmp(c->res[i].key, key) == 0)
            return &c->res[i];
    return NULL;
}

/* Takes ownership of key and base.  The first registration of a URI wins. */
static bool js_add_res(js_cctx *c, char *key, char *base, json_t *node)
{
    if (!key || !base || js_find_res(c, key)) {
        bool ok = key && base;
        free(key);
        free(base);
        if (!ok)
            js_cerr(c, "out of memory");
        return ok;
    }
    if (c->n_res == c->cap_res) {
        size_t cap = c->cap_res ? c->cap_res * 2 : 16;
        js_res *r = realloc(c->res, cap * sizeof *r);
        if (!r) {
            free(key);
            free(base);
            js_cerr(c, "out of memory");
            return false;
        }
        c->res = r;
        c->cap_res = cap;
    }
    c->res[c->n_res++] = (js_res){key, base, node};
    return true;
}

/* Keywords whose values are subschemas, used to find every id in a document
 * without mistaking data (enum, const, unknown keywords) for schemas. */
static const char *const js_kw_single[] = {"additionalItems", "additionalProperties", "contains",
                                           "propertyNames",   "if",                   "then",
                                           "else",            "not",                  "items",
                                           NULL};
static const char *const js_kw_array[] = {"allOf", "anyOf", "oneOf", "items", NULL};
static const char *const js_kw_map[] = {"properties", "patternProperties", "definitions", "dependencies",
                                        NULL};

static bool js_index(js_cctx *c, json_t *j, const char *parent_base, unsigned depth)
{
    if (!json_is_object(j))
        return true;
    if (depth > JS_MAX_DEPTH) {
        js_cerr(c, "schema nested too deeply");
        return false;
    }
    if (js_has_ref(j))
        return true;
    char *anchor = NULL;
    char *base = js_own_base(c, j, parent_base, &anchor);
    if (!base) {
        js_cerr(c, "out of memory");
        return false;
    }
    bool ok = true;
    if (json_is_string(json_object_get(j, js_id_keyword(c)))) {
        if (anchor)
            ok = js_add_res(c, anchor, js_strdup(base), j);
        else
            ok = js_add_res(c, js_strdup(base), js_strdup(base), j);
    }
    for (size_t k = 0; ok && js_kw_single[k]; k++)
        ok = js_index(c, json_object_get(j, js_kw_single[k]), base, depth + 1);
    for (size_t k = 0; ok && js_kw_array[k]; k++) {
        json_t *arr = json_object_get(j, js_kw_array[k]);
        size_t i;
        json_t *v;
        if (json_is_array(arr))
            json_array_foreach(arr, i, v)
            {
                if (!(ok = js_index(c, v, base, depth + 1)))
                    break;
            }
    }
    for (size_t k = 0; ok && js_kw_map[k]; k++) {
        json_t *map = json_object_get(j, js_kw_map[k]);
        const char *key;
        json_t *v;
        if (json_is_object(map))
            json_object_foreach(map, key, v)
            {
                if (!(ok = js_index(c, v, base, depth + 1)))
                    break;
            }
    }
    free(base);
    return ok;
}

/* Registers a whole document under the URI it was retrieved from (or "" for
 * the root schema) plus every identified subschema inside it. */
static bool js_index_doc(js_cctx *c, json_t *doc, const char *uri)
{
    char *base = js_own_base(c, doc, uri, NULL);
    if (!base) {
        js_cerr(c, "out of memory");
        return false;
    }
    if (!js_add_res(c, js_strdup(uri), base, doc))
        return false;
    return js_index(c, doc, uri, 0);
}

static bool js_load_remote(js_cctx *c, const char *uri, const char *ref)
{
    json_t *doc = c->loader ? c->loader(uri, c->loader_ctx) : NULL;
    if (!doc) {
        js_cerr(c, "cannot resolve $ref \"%s\"", ref);
        return false;
    }
    /* A private copy: the loader may hand out a shared document, and the
     * compiled graph points into it for as long as the schema lives. */
    json_t *copy = json_deep_copy(doc);
    json_decref(doc);
    if (!copy || json_array_append_new(c->s->docs, copy) != 0) {
        js_cerr(c, "out of memory");
        return false;
    }
    return js_index_doc(c, copy, uri);
}

static js_node *js_compile_node(js_cctx *c, json_t *j, const char *base, unsigned depth);

/* Follows a JSON pointer (already percent-decoded) from `root`, tracking the
 * base URI through any ids on the way.  *base is replaced accordingly. */
static json_t *js_walk_pointer(js_cctx *c, json_t *root, const char *ptr, char **base, const char *ref)
{
    json_t *cur = root;
    const char *p = ptr;
    if (*p && *p != '/') {
        js_cerr(c, "invalid JSON pointer in $ref \"%s\"", ref);
        return NULL;
    }
    while (*p == '/') {
        p++;
        size_t n = strcspn(p, "/");
        js_str tok = {0};
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
                js_str_add(&tok, p[i + 1] == '0' ? "~" : "/", 1);
                i++;
            } else {
                js_str_add(&tok, p + i, 1);
            }
        }
        char *t = js_str_take(&tok);
        if (!t) {
            js_cerr(c, "out of memory");
            return NULL;
        }
        json_t *next = NULL;
        if (json_is_object(cur)) {
            next = json_object_get(cur, t);
        } else if (json_is_array(cur)) {
            bool digits = *t != '\0' && (t[0] != '0' || t[1] == '\0');
            for (const char *d = t; digits && *d; d++)
                digits = *d >= '0' && *d <= '9';
            if (digits && strlen(t) < 19)
                next = json_array_get(cur, (size_t)strtoull(t, NULL, 10));
        }
        free(t);
        if (!next) {
            js_cerr(c, "cannot resolve $ref \"%s\"", ref);
            return NULL;
        }
        if (json_is_object(next)) {
            char *nb = js_own_base(c, next, *base, NULL);
            if (!nb) {
                js_cerr(c, "out of memory");
                return NULL;
            }
            free(*base);
            *base = nb;
        }
        cur = next;
        p += n;
    }
    return cur;
}

static js_node *js_compile_ref(js_cctx *c, const char *ref, const char *base, unsigned depth)
{
    js_node *result = NULL;
    char *full = js_uri_resolve(base, ref);
    char *doc = NULL, *frag = NULL, *tbase = NULL;
    if (!full)
        goto oom;
    char *hash = strchr(full, '#');
    doc = js_strndup(full, hash ? (size_t)(hash - full) : strlen(full));
    frag = js_percent_decode(hash ? hash + 1 : "");
    if (!doc || !frag)
        goto oom;

    if (*frag && *frag != '/') {
        /* Location-independent identifier: looked up by its full URI. */
        const js_res *r = js_find_res(c, full);
        if (!r && !js_find_res(c, doc)) {
            if (!js_load_remote(c, doc, ref))
                goto out;
            r = js_find_res(c, full);
        }
        if (!r) {
            js_cerr(c, "cannot resolve $ref \"%s\"", ref);
            goto out;
        }
        result = js_compile_node(c, r->node, r->base, depth + 1);
        goto out;
    }

    const js_res *r = js_find_res(c, doc);
    if (!r) {
        if (!js_load_remote(c, doc, ref))
            goto out;
        r = js_find_res(c, doc);
        if (!r) {
            js_cerr(c, "cannot resolve $ref \"%s\"", ref);
            goto out;
        }
    }
    json_t *root = r->node;
    tbase = js_strdup(r->base);
    if (!tbase)
        goto oom;
    json_t *target = js_walk_pointer(c, root, frag, &tbase, ref);
    if (target)
        result = js_compile_node(c, target, tbase, depth + 1);
    goto out;
oom:
    js_cerr(c, "out of memory");
out:
    free(full);
    free(doc);
    free(frag);
    free(tbase);
    return result;
}

static js_node *js_compile_child(js_cctx *c, json_t *j, const char *parent_base, unsigned depth)
{
    char *base = js_own_base(c, j, parent_base, NULL);
    if (!base) {
        js_cerr(c, "out of memory");
        return NULL;
    }
    js_node *n = js_compile_node(c, j, base, depth + 1);
    free(base);
    return n;
}

static pcre2_code *js_compile_regex(js_cctx *c, const char *src, size_t len)
{
    if (!c->pcctx) {
        c->pcctx = pcre2_compile_context_create(NULL);
        if (!c->pcctx) {
            js_cerr(c, "out of memory");
            return NULL;
        }
        /* ECMA-262 spells code points \uXXXX / \u{X}; PCRE2 can read those. */
        pcre2_set_compile_extra_options(c->pcctx, PCRE2_EXTRA_ALT_BSUX);
    }
    int errcode = 0;
    PCRE2_SIZE erroff = 0;
    /* No JIT: the interpreter is fast enough for request-sized strings, and
     * JIT needs executable memory and confuses valgrind.
     * DOLLAR_ENDONLY: in ECMA-262 `$` does not match before a final newline.
     * ALLOW_EMPTY_CLASS: ECMA-262 reads `[^]` as "any character".
     * MATCH_INVALID_UTF: instances built through the jansson API are not
     * guaranteed to be valid UTF-8, and matching must never be undefined. */
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, len,
                                   PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX | PCRE2_ALLOW_EMPTY_CLASS |
                                       PCRE2_MATCH_INVALID_UTF,
                                   &errcode, &erroff, c->pcctx);
    if (!re) {
        PCRE2_UCHAR msg[160];
        if (pcre2_get_error_message(errcode, msg, sizeof msg) < 0)
            strcpy((char *)msg, "invalid regular expression");
        js_cerr(c, "invalid pattern \"%s\": %s at offset %zu", src, (const char *)msg, (size_t)erroff);
        return NULL;
    }
    return re;
}

static bool js_get_count(js_cctx *c, const json_t *j, const char *kw, long long *out)
{
    const json_t *v = json_object_get(j, kw);
    if (!v)
        return true;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 9.2e18 &&
        js_is_integral(json_real_value(v))) {
        *out = (long long)json_real_value(v);
        return true;
    }
    js_cerr(c, "%s must be a non-negative integer", kw);
    return false;
}

static const json_t *js_get_number(js_cctx *c, const json_t *j, const char *kw, bool *ok)
{
    const json_t *v = json_object_get(j, kw);
    if (v && !json_is_number(v)) {
        js_cerr(c, "%s must be a number", kw);
        *ok = false;
        return NULL;
    }
    return v;
}

static js_node *js_get_schema(js_cctx *c, json_t *j, const char *kw, const char *base, unsigned depth, bool *ok)
{
    json_t *v = json_object_get(j, kw);
    if (!v)
        return NULL;
    js_node *n = js_compile_child(c, v, base, depth);
    if (!n)
        *ok = false;
    return n;
}

static bool js_get_schema_array(js_cctx *c, json_t *j, const char *kw, const char *base, unsigned depth,
                                js_node ***out, size_t *n_out)
{
    json_t *arr = json_object_get(j, kw);
    if (!arr)
        return true;
    if (!json_is_array(arr)) {
        js_cerr(c, "%s must be an array of schemas", kw);
        return false;
    }
    size_t n = json_array_size(arr);
    *out = calloc(n ? n : 1, sizeof **out);
    if (!*out) {
        js_cerr(c, "out of memory");
        return false;
    }
    *n_out = n;
    for (size_t i = 0; i < n; i++)
        if (!((*out)[i] = js_compile_child(c, json_array_get(arr, i), base, depth)))
            return false;
    return true;
}

static bool js_parse_type(js_cctx *c, js_node *n, const json_t *t)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"null", JS_T_NULL},     {"boolean", JS_T_BOOLEAN}, {"object", JS_T_OBJECT},
                 {"array", JS_T_ARRAY},   {"number", JS_T_NUMBER},   {"string", JS_T_STRING},
                 {"integer", JS_T_INTEGER}};
    size_t count = json_is_array(t) ? json_array_size(t) : 1;
    if (!json_is_array(t) && !json_is_string(t)) {
        js_cerr(c, "type must be a string or an array of strings");
        return false;
    }
    for (size_t i = 0; i < count; i++) {
        const json_t *e = json_is_array(t) ? json_array_get(t, i) : t;
        unsigned bit = 0;
        for (size_t k = 0; json_is_string(e) && k < sizeof names / sizeof names[0]; k++)
            if (strcmp(json_string_value(e), names[k].name) == 0)
                bit = names[k].bit;
        if (!bit) {
            js_cerr(c, "unknown type %s", json_is_string(e) ? json_string_value(e) : "(not a string)");
            return false;
        }
        n->types |= bit;
    }
    n->type_json = t;
    return true;
}

static bool js_compile_object_kw(js_cctx *c, js_node *n, json_t *j, const char *base, unsigned depth)
{
    bool ok = true;
    bool d7 = c->s->draft == JS_DRAFT7;

    if (!js_get_count(c, j, "maxProperties", &n->max_props) || !js_get_count(c, j, "minProperties", &n->min_props))
        return false;

    const json_t *req = json_object_get(j, "required");
    if (req) {
        size_t i;
        const json_t *v;
        bool good = json_is_array(req);
        if (good)
            json_array_foreach(req, i, v) good = good && json_is_string(v);
        if (!good) {
            js_cerr(c, "required must be an array of strings");
            return false;
        }
        n->required = req;
    }

    json_t *props = json_object_get(j, "properties");
    if (props) {
        if (!json_is_object(props)) {
            js_cerr(c, "properties must be an object");
            return false;
        }
        n->props_obj = props;
        n->props = calloc(json_object_size(props) + 1, sizeof *n->props);
        if (!n->props) {
            js_cerr(c, "out of memory");
            return false;
        }
        for (void *it = json_object_iter(props); it; it = json_object_iter_next(props, it)) {
            js_prop *p = &n->props[n->n_props++];
            p->name = json_object_iter_key(it);
            p->len = json_object_iter_key_len(it);
            if (!(p->schema = js_compile_child(c, json_object_iter_value(it), base, depth)))
                return false;
        }
    }

    json_t *pprops = json_object_get(j, "patternProperties");
    if (pprops) {
        if (!json_is_object(pprops)) {
            js_cerr(c, "patternProperties must be an object");
            return false;
        }
        n->patprops = calloc(json_object_size(pprops) + 1, sizeof *n->patprops);
        if (!n->patprops) {
            js_cerr(c, "out of memory");
            return false;
        }
        for (void *it = json_object_iter(pprops); it; it = json_object_iter_next(pprops, it)) {
            js_patprop *p = &n->patprops[n->n_patprops];
            p->src = json_object_iter_key(it);
            if (!(p->re = js_compile_regex(c, p->src, json_object_iter_key_len(it))))
                return false;
            n->n_patprops++; /* counted only once the regex needs freeing */
            if (!(p->schema = js_compile_child(c, json_object_iter_value(it), base, depth)))
                return false;
        }
    }

    n->additional_props = js_get_schema(c, j, "additionalProperties", base, depth, &ok);
    if (!ok)
        return false;

    json_t *deps = json_object_get(j, "dependencies");
    if (deps) {
        if (!json_is_object(deps)) {
            js_cerr(c, "dependencies must be an object");
            return false;
        }
        n->deps = calloc(json_object_size(deps) + 1, sizeof *n->deps);
        if (!n->deps) {
            js_cerr(c, "out of memory");
            return false;
        }
        for (void *it = json_object_iter(deps); it; it = json_object_iter_next(deps, it)) {
            js_dep *d = &n->deps[n->n_deps++];
            json_t *v = json_object_iter_value(it);
            d->name = json_object_iter_key(it);
            d->len = json_object_iter_key_len(it);
            if (json_is_array(v)) {
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e) if (!json_is_string(e))
                {
                    js_cerr(c, "dependencies of %s must be strings", d->name);
                    return false;
                }
                d->required = v;
            } else if (!(d->schema = js_compile_child(c, v, base, depth))) {
                return false;
            }
        }
    }

    if (d7) {
        n->property_names = js_get_schema(c, j, "propertyNames", base, depth, &ok);
        if (!ok)
            return false;
    }
    return true;
}

static bool js_compile_keywords(js_cctx *c, js_node *n, json_t *j, const char *base, unsigned depth)
{
    bool ok = true;
    bool d7 = c->s->draft == JS_DRAFT7;

    const json_t *t = json_object_get(j, "type");
    if (t && !js_parse_type(c, n, t))
        return false;
    /* OpenAPI 3.0 extension, honoured in either draft. */
    n->nullable = json_is_true(json_object_get(j, "nullable"));

    n->enum_vals = json_object_get(j, "enum");
    if (n->enum_vals && !json_is_array(n->enum_vals)) {
        js_cerr(c, "enum must be an array");
        return false;
    }
    if (d7)
        n->const_val = json_object_get(j, "const");

    /* numbers */
    n->multiple_of = js_get_number(c, j, "multipleOf", &ok);
    n->maximum = js_get_number(c, j, "maximum", &ok);
    n->minimum = js_get_number(c, j, "minimum", &ok);
    if (!ok)
        return false;
    if (n->multiple_of && !(json_number_value(n->multiple_of) > 0)) {
        js_cerr(c, "multipleOf must be greater than 0");
        return false;
    }
    const json_t *emax = json_object_get(j, "exclusiveMaximum");
    const json_t *emin = json_object_get(j, "exclusiveMinimum");
    /* Boolean exclusive* is draft 4; draft 7 made them numbers.  OpenAPI 3.0
     * keeps the boolean form, so it is accepted under draft 7 as well. */
    n->maximum_excl = json_is_true(emax);
    n->minimum_excl = json_is_true(emin);
    if (d7 && json_is_number(emax))
        n->excl_maximum = emax;
    if (d7 && json_is_number(emin))
        n->excl_minimum = emin;

    /* strings */
    if (!js_get_count(c, j, "maxLength", &n->max_length) || !js_get_count(c, j, "minLength", &n->min_length))
        return false;
    const json_t *pat = json_object_get(j, "pattern");
    if (pat) {
        if (!json_is_string(pat)) {
            js_cerr(c, "pattern must be a string");
            return false;
        }
        n->pattern_src = json_string_value(pat);
        if (!(n->pattern = js_compile_regex(c, n->pattern_src, json_string_length(pat))))
            return false;
    }

    /* arrays */
    json_t *items = json_object_get(j, "items");
    if (json_is_array(items)) {
        n->has_tuple = true;
        if (!js_get_schema_array(c, j, "items", base, depth, &n->tuple, &n->n_tuple))
            return false;
    } else if (items && !(n->items = js_compile_child(c, items, base, depth))) {
        return false;
    }
    n->additional_items = js_get_schema(c, j, "additionalItems", base, depth, &ok);
    if (d7)
        n->contains = js_get_schema(c, j, "contains", base, depth, &ok);
    if (!ok)
        return false;
    if (!js_get_count(c, j, "maxItems", &n->max_items) || !js_get_count(c, j, "minItems", &n->min_items))
        return false;
    n->unique_items = json_is_true(json_object_get(j, "uniqueItems"));

    if (!js_compile_object_kw(c, n, j, base, depth))
        return false;

    /* combinators */
    if (!js_get_schema_array(c, j, "allOf", base, depth, &n->all_of, &n->n_all_of) ||
        !js_get_schema_array(c, j, "anyOf", base, depth, &n->any_of, &n->n_any_of) ||
        !js_get_schema_array(c, j, "oneOf", base, depth, &n->one_of, &n->n_one_of))
        return false;
    n->not_ = js_get_schema(c, j, "not", base, depth, &ok);
    if (d7 && ok && json_object_get(j, "if")) {
        n->if_ = js_get_schema(c, j, "if", base, depth, &ok);
        if (ok)
            n->then_ = js_get_schema(c, j, "then", base, depth, &ok);
        if (ok)
            n->else_ = js_get_schema(c, j, "else", base, depth, &ok);
    }
    return ok;
}

/* Compiles schema `j` whose own base URI is `base`.  Each JSON value compiles
 * to exactly one node, registered before its children so cycles through $ref
 * terminate. */
static js_node *js_compile_node(js_cctx *c, json_t *j, const char *base, unsigned depth)
{
    js_node *n = js_memo_get(&c->memo, j);
    if (n)
        return n;
    if (c->failed)
        return NULL;
    if (depth > JS_MAX_DEPTH) {
        js_cerr(c, "schema nested too deeply");
        return NULL;
    }
    if (!json_is_object(j) && !json_is_boolean(j)) {
        js_cerr(c, "schema must be an object%s", c->s->draft == JS_DRAFT7 ? " or a boolean" : "");
        return NULL;
    }

    js_schema *s = c->s;
    if (s->n_nodes == s->cap_nodes) {
        size_t cap = s->cap_nodes ? s->cap_nodes * 2 : 32;
        js_node **nodes = realloc(s->nodes, cap * sizeof *nodes);
        if (!nodes) {
            js_cerr(c, "out of memory");
            return NULL;
        }
        s->nodes = nodes;
        s->cap_nodes = cap;
    }
    n = calloc(1, sizeof *n);
    if (!n || !js_memo_put(&c->memo, j, n)) {
        free(n);
        js_cerr(c, "out of memory");
        return NULL;
    }
    s->nodes[s->n_nodes++] = n;
    n->max_length = n->min_length = n->max_items = n->min_items = n->max_props = n->min_props = -1;

    /* Boolean schemas are draft 6+, but draft 4 allows booleans for
     * additionalItems/additionalProperties, which mean the same thing. */
    if (json_is_boolean(j)) {
        n->kind = json_is_true(j) ? JS_K_TRUE : JS_K_FALSE;
        return n;
    }
    const json_t *ref = json_object_get(j, "$ref");
    if (json_is_string(ref)) {
        n->kind = JS_K_REF;
        n->ref = js_compile_ref(c, json_string_value(ref), base, depth);
        return n->ref ? n : NULL;
    }
    n->kind = JS_K_SCHEMA;
    return js_compile_keywords(c, n, j, base, depth) ? n : NULL;
}

/* A chain of $refs that leads back to itself can never be evaluated. */
static bool js_check_ref_cycles(js_cctx *c)
{
    for (size_t i = 0; i < c->s->n_nodes; i++) {
        const js_node *slow = c->s->nodes[i], *fast = slow;
        while (fast->kind == JS_K_REF && fast->ref->kind == JS_K_REF) {
            fast = fast->ref->ref;
            slow = slow->ref;
            if (fast == slow) {
                js_cerr(c, "$ref cycle that never reaches a schema");
                return false;
            }
        }
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* 5. Validation                                                            */
/* ------------------------------------------------------------------------ */

/* Instance location, kept as a chain of stack frames and only rendered into
 * text when a failure is actually reported. */
typedef struct js_loc {
    const struct js_loc *parent;
    const char *key; /* NULL for an array index */
    size_t index;
} js_loc;

typedef struct {
    char *err;
    size_t errlen;
    const char *root_name;
    int quiet;     /* >0 inside anyOf/oneOf/not/if/contains: failures expected */
    bool reported; /* the first failure has been written */
    unsigned depth;
    bool draft4;
    pcre2_match_data *md;
    bool md_failed;
    pcre2_match_context *mctx;
    /* js_validate_normalize: whole reals accepted by an `integer` schema. */
    bool normalize;
    const json_t **ints;
    size_t n_ints, cap_ints;
} js_vctx;

static void js_render_loc(js_out *o, const js_loc *loc, const char *root)
{
    if (!loc) {
        js_out_adds(o, root);
        return;
    }
    if (loc->parent)
        js_render_loc(o, loc->parent, root);
    else if (!loc->key)
        js_out_adds(o, root);
    if (loc->key) {
        if (loc->parent)
            js_out_add(o, ".", 1);
        js_out_adds(o, loc->key);
    } else {
        js_out_printf(o, "[%zu]", loc->index);
    }
}

/* Starts the error message "<location>: " and returns the buffer for the
 * rule, or NULL when this failure is not to be reported. */
static js_out *js_fail_begin(js_vctx *c, const js_loc *loc, js_out *o)
{
    if (c->quiet || c->reported || !c->err || c->errlen == 0)
        return NULL;
    c->reported = true;
    *o = (js_out){c->err, c->errlen, 0};
    c->err[0] = '\0';
    js_render_loc(o, loc, c->root_name);
    js_out_add(o, ": ", 2);
    return o;
}

static bool js_fail(js_vctx *c, const js_loc *loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool js_fail(js_vctx *c, const js_loc *loc, const char *fmt, ...)
{
    js_out buf, *o = js_fail_begin(c, loc, &buf);
    if (o) {
        va_list ap;
        va_start(ap, fmt);
        js_out_vprintf(o, fmt, ap);
        va_end(ap);
    }
    return false;
}

static void js_out_json(js_out *o, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s) {
        js_out_adds(o, s);
        free(s);
    }
}

static int js_num_cmp(const json_t *a, const json_t *b)
{
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return x < y ? -1 : x > y;
    }
    /* long double holds every 64-bit integer exactly on the targets we use,
     * so mixed integer/real comparisons do not round. */
    long double x = json_is_integer(a) ? (long double)json_integer_value(a) : (long double)json_real_value(a);
    long double y = json_is_integer(b) ? (long double)json_integer_value(b) : (long double)json_real_value(b);
    return x < y ? -1 : x > y;
}

/* JSON equality as JSON Schema defines it: 1 and 1.0 are the same number. */
static bool js_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return js_num_cmp(a, b) == 0;
    if (json_typeof(a) != json_typeof(b))
        return false;
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY: {
        size_t n = json_array_size(a);
        if (n != json_array_size(b))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!js_equal(json_array_get(a, i), json_array_get(b, i)))
                return false;
        return true;
    }
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return false;
        for (void *it = json_object_iter((json_t *)a); it; it = json_object_iter_next((json_t *)a, it)) {
            const json_t *bv = json_object_getn(b, json_object_iter_key(it), json_object_iter_key_len(it));
            if (!bv || !js_equal(json_object_iter_value(it), bv))
                return false;
        }
        return true;
    }
    default: /* true, false, null: same type means same value */
        return true;
    }
}

static bool js_type_ok(unsigned types, const json_t *v, bool draft4)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        return types & JS_T_NULL;
    case JSON_TRUE:
    case JSON_FALSE:
        return types & JS_T_BOOLEAN;
    case JSON_OBJECT:
        return types & JS_T_OBJECT;
    case JSON_ARRAY:
        return types & JS_T_ARRAY;
    case JSON_STRING:
        return types & JS_T_STRING;
    case JSON_INTEGER:
        return types & (JS_T_NUMBER | JS_T_INTEGER);
    case JSON_REAL:
        /* Draft 6 made 1.0 an integer; draft 4 keeps it a number only. */
        return (types & JS_T_NUMBER) ||
               ((types & JS_T_INTEGER) && !draft4 && js_is_integral(json_real_value(v)));
    }
    return false;
}

static bool js_type_fail(js_vctx *c, const js_node *n, const js_loc *loc)
{
    js_out buf, *o = js_fail_begin(c, loc, &buf);
    if (!o)
        return false;
    js_out_adds(o, "must be ");
    size_t count = json_is_array(n->type_json) ? json_array_size(n->type_json) : 1;
    for (size_t i = 0; i < count; i++) {
        const json_t *e = json_is_array(n->type_json) ? json_array_get(n->type_json, i) : n->type_json;
        if (i)
            js_out_adds(o, " or ");
        js_out_adds(o, json_string_value(e));
    }
    if (n->nullable && !(n->types & JS_T_NULL))
        js_out_adds(o, " or null");
    return false;
}

static bool js_multiple_ok(const json_t *v, const json_t *m)
{
    if (json_is_integer(v) && json_is_integer(m))
        return json_integer_value(v) % json_integer_value(m) == 0;
    double q = json_number_value(v) / json_number_value(m);
    if (q != q || q - q != 0.0) /* overflow: cannot be a (representable) multiple */
        return false;
    /* Decimal fractions like 0.0001 are inexact in binary, so the quotient of
     * a true multiple lands within a few ulps of an integer. */
    double tol = 8.0 * DBL_EPSILON * (js_fabs(q) > 1.0 ? js_fabs(q) : 1.0);
    return js_fabs(q - js_round(q)) <= tol;
}

static size_t js_utf8_len(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

/* 1 on match, 0 on no match, -1 when PCRE2 could not decide. */
static int js_regex_match(js_vctx *c, const pcre2_code *re, const char *s, size_t n)
{
    if (!c->md) {
        if (c->md_failed)
            return -1;
        /* One pair is enough: only whether a match exists matters. */
        c->md = pcre2_match_data_create(1, NULL);
        if (!c->md) {
            c->md_failed = true;
            return -1;
        }
    }
    int rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, c->md, c->mctx);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

static bool js_valid(js_vctx *c, const js_node *n, const json_t *v, const js_loc *loc);

static bool js_valid_quiet(js_vctx *c, const js_node *n, const json_t *v, const js_loc *loc)
{
    size_t n_ints = c->n_ints;
    c->quiet++;
    bool ok = js_valid(c, n, v, loc);
    c->quiet--;
    /* A branch that failed accepted nothing, as integer or otherwise. */
    if (!ok)
        c->n_ints = n_ints;
    return ok;
}

/* Records a whole real that an `integer` schema accepted, so that
 * js_validate_normalize can turn it into the integer it stands for. */
static bool js_note_integer(js_vctx *c, const json_t *v, const js_loc *loc)
{
    double d = json_real_value(v);
    /* -2^63 is exact as a double; 2^63 is the first value out of range. */
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return js_fail(c, loc, "must be an integer from %lld to %lld", LLONG_MIN, LLONG_MAX);
    if (c->n_ints == c->cap_ints) {
        size_t cap = c->cap_ints ? 2 * c->cap_ints : 16;
        const json_t **ints = realloc(c->ints, cap * sizeof *ints);
        if (!ints)
            return js_fail(c, loc, "out of memory");
        c->ints = ints;
        c->cap_ints = cap;
    }
    c->ints[c->n_ints++] = v;
    return true;
}

static bool js_valid_number(js_vctx *c, const js_node *n, const json_t *v, const js_loc *loc)
{
    char num[40];
    if (n->multiple_of && !js_multiple_ok(v, n->multiple_of)) {
        js_num_text(n->multiple_of, num, sizeof num);
        return js_fail(c, loc, "must be a multiple of %s", num);
    }
    if (n->maximum) {
        int cmp = js_num_cmp(v, n->maximum);
        if (cmp > 0 || (n->maximum_excl && cmp == 0)) {
            js_num_text(n->maximum, num, sizeof num);
            return js_fail(c, loc, "must be %s %s", n->maximum_excl ? "<" : "<=", num);
        }
    }
    if (n->excl_maximum && js_num_cmp(v, n->excl_maximum) >= 0) {
        js_num_text(n->excl_maximum, num, sizeof num);
        return js_fail(c, loc, "must be < %s", num);
    }
    if (n->minimum) {
        int cmp = js_num_cmp(v, n->minimum);
        if (cmp < 0 || (n->minimum_excl && cmp == 0)) {
            js_num_text(n->minimum, num, sizeof num);
            return js_fail(c, loc, "must be %s %s", n->minimum_excl ? ">" : ">=", num);
        }
    }
    if (n->excl_minimum && js_num_cmp(v, n->excl_minimum) <= 0) {
        js_num_text(n->excl_minimum, num, sizeof num);
        return js_fail(c, loc, "must be > %s", num);
    }
    return true;
}

static bool js_valid_string(js_vctx *c, const js_node *n, const json_t *v, const js_loc *loc)
{
    const char *s = json_string_value(v);
    size_t bytes = json_string_length(v);
    if (n->max_length >= 0 || n->min_length >= 0) {
        long long len = (long long)js_utf8_len(s, bytes);
        if (n->max_length >= 0 && len > n->max_length)
            return js_fail(c, loc, "must have at most %lld character%s", n->max_length,
                           n->max_length == 1 ? "" : "s");
        if (n->min_length >= 0 && len < n->min_length)
            return js_fail(c, loc, "must have at least %lld character%s", n->min_length,
                           n->min_length == 1 ? "" : "s");
    }
    if (n->pattern) {
        int m = js_regex_match(c, n->pattern, s, bytes);
        if (m < 0)
            return js_fail(c, loc, "could not be matched against pattern %s", n->pattern_src);
        if (m == 0)
            return js_fail(c, loc, "must match pattern %s", n->pattern_src);
    }
    return true;
}

static bool js_valid_array(js_vctx *c, const js_node *n, const json_t *v, const js_loc *loc)
{
    size_t size = json_array_size(v);
    if (n->max_items >= 0 && (long long)size > n->max_items)
        return js_fail(c, loc, "must have at most %lld item%s", n->max_items, n->max_items == 1 ? "" : "s");
    if (n->min_items >= 0 && (long long)size < n->min_items)
        return js_fail(c, loc, "must have at least %lld item%s", n->min_items, n->min_items == 1 ? "" : "s");

    for (size_t i = 0; i < size; i++) {
        const js_node *s = n->items;
        if (n->has_tuple)
            s = i < n->n_tuple ? n->tuple[i] : n->additional_items;
        if (!s)
            continue;
        js_loc child = {loc, NULL, i};
        if (!js_valid(c, s, json_array_get(v, i), &child))
            return false;
    }

    if (n->unique_items) {
        for (size_t i = 1; i < size; i++)
            for (size_t k = 0; k < i; k++)
                if (js_equal(json_array_get(v, i), json_array_get(v, k)))
                    return js_fail(c, loc, "must have unique items (items %zu and %zu are equal)", k, i);
    }

    if (n->contains) {
        bool found = false;
        for (size_t i = 0; i < size && !found; i++) {
            js_loc child = {loc, NULL, i};
            found = js_valid_quiet(c, n->contains, json_array_get(v, i), &child);
        }
        if (!found)
            return js_fail(c, loc, "must contain at least one matching item");
    }
    return true;
}

static bool js_valid_object(js_vctx *c, const js_node *n, const json_t *v, const js_loc *loc)
{
    json_t *obj = (json_t *)v; /* jansson's iterator API is not const-qualified; nothing is written */
    size_t size = json_object_size(v);
    if (n->max_props >= 0 && (long long)size > n->max_props)
        return js_fail(c, loc, "must have at most %lld propert%s", n->max_props, n->max_props == 1 ? "y" : "ies");
    if (n->min_props >= 0 && (long long)size < n->min_props)
        return js_fail(c, loc, "must have at least %lld propert%s", n->min_props, n->min_props == 1 ? "y" : "ies");

    if (n->required) {
        size_t i;
        const json_t *name;
        json_array_foreach(n->required, i, name)
        {
            if (!json_object_getn(v, json_string_value(name), json_string_length(name))) {
                js_loc child = {loc, json_string_value(name), 0};
                return js_fail(c, &child, "is required");
            }
        }
    }

    for (size_t i = 0; i < n->n_props; i++) {
        const json_t *pv = json_object_getn(v, n->props[i].name, n->props[i].len);
        js_loc child = {loc, n->props[i].name, 0};
        if (pv && !js_valid(c, n->props[i].schema, pv, &child))
            return false;
    }

    if (n->n_patprops || n->additional_props) {
        for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
            const char *key = json_object_iter_key(it);
            size_t klen = json_object_iter_key_len(it);
            const json_t *pv = json_object_iter_value(it);
            js_loc child = {loc, key, 0};
            bool matched = n->props_obj && json_object_getn(n->props_obj, key, klen);
            for (size_t k = 0; k < n->n_patprops; k++) {
                int m = js_regex_match(c, n->patprops[k].re, key, klen);
                if (m < 0)
                    return js_fail(c, &child, "could not be matched against pattern %s", n->patprops[k].src);
                if (m == 0)
                    continue;
                matched = true;
                if (!js_valid(c, n->patprops[k].schema, pv, &child))
                    return false;
            }
            if (!matched && n->additional_props && !js_valid(c, n->additional_props, pv, &child))
                return false;
        }
    }

    for (size_t i = 0; i < n->n_deps; i++) {
        const js_dep *d = &n->deps[i];
        if (!json_object_getn(v, d->name, d->len))
            continue;
        if (d->schema && !js_valid(c, d->schema, v, loc))
            return false;
        size_t k;
        const json_t *name;
        if (d->required)
            json_array_foreach(d->required, k, name)
            {
                if (!json_object_getn(v, json_string_value(name), json_string_length(name))) {
                    js_loc child = {loc, json_string_value(name), 0};
                    return js_fail(c, &child, "is required when %s is present", d->name);
                }
            }
    }

    if (n->property_names) {
        for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
            const char *key = json_object_iter_key(it);
            json_t *name = json_stringn_nocheck(key, json_object_iter_key_len(it));
            if (!name)
                return js_fail(c, loc, "out of memory");
            js_loc child = {loc, key, 0};
            bool ok = js_valid_quiet(c, n->property_names, name, &child);
            json_decref(name);
            if (!ok)
                return js_fail(c, &child, "property name is not allowed");
        }
    }
    return true;
}

/* Reports a combinator none of whose branches matched, with why each
 * branch failed ("…: must match at least one schema: (1) status: must be one
 * of [\"succeeded\"]; (2) …"), so that the message names the field and the
 * rule instead of only the combinator. Each branch runs again, loudly, into
 * a buffer of its own; only on this failure path. */
enum { JS_BRANCHES_LISTED = 4, JS_BRANCH_MSG = 240 };
static bool js_fail_branches(js_vctx *c, const js_loc *loc, js_node *const *branches, size_t nb, const json_t *v,
                             const char *rule)
{
    js_out buf, *o = js_fail_begin(c, loc, &buf);
    if (!o)
        return false;
    js_out_adds(o, rule);
    char *saved_err = c->err;
    size_t saved_len = c->errlen;
    /* Branches that fail for the same reason (two patterns of one string
     * type, say) are reported once, without numbers when all agree. */
    char msgs[JS_BRANCHES_LISTED][JS_BRANCH_MSG];
    size_t n = 0;
    for (size_t i = 0; i < nb && i < JS_BRANCHES_LISTED; i++) {
        char *msg = msgs[n];
        msg[0] = '\0';
        c->err = msg;
        c->errlen = JS_BRANCH_MSG;
        c->reported = false;
        if (js_valid(c, branches[i], v, loc) || !msg[0])
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(msgs[k], msg) == 0;
        if (!seen)
            n++;
    }
    if (n == 1 && nb <= JS_BRANCHES_LISTED) {
        js_out_printf(o, ": %s", msgs[0]);
    } else {
        for (size_t k = 0; k < n; k++)
            js_out_printf(o, "%s(%zu) %s", k ? "; " : ": ", k + 1, msgs[k]);
    }
    if (nb > JS_BRANCHES_LISTED)
        js_out_printf(o, "; and %zu more", nb - JS_BRANCHES_LISTED);
    c->err = saved_err;
    c->errlen = saved_len;
    c->reported = true;
    return false;
}

static bool js_valid_node(js_vctx *c, const js_node *n, const json_t *v, const js_loc *loc)
{
    switch (n->kind) {
    case JS_K_TRUE:
        return true;
    case JS_K_FALSE:
        return js_fail(c, loc, "is not allowed");
    case JS_K_REF:
        return js_valid(c, n->ref, v, loc);
    default:
        break;
    }

    /* OpenAPI 3.0 nullable: null is an extra allowed value for the schema as
     * a whole, which is also what makes `nullable` + `allOf: [$ref]` work. */
    if (n->nullable && json_is_null(v))
        return true;

    if (n->types && !js_type_ok(n->types, v, c->draft4))
        return js_type_fail(c, n, loc);
    if (c->normalize && n->types && json_is_real(v) && (n->types & JS_T_INTEGER) && !(n->types & JS_T_NUMBER) &&
        !js_note_integer(c, v, loc))
        return false;

    if (n->enum_vals) {
        size_t i;
        const json_t *e;
        bool found = false;
        json_array_foreach(n->enum_vals, i, e) if (!found && js_equal(v, e)) found = true;
        if (!found) {
            js_out buf, *o = js_fail_begin(c, loc, &buf);
            if (o) {
                js_out_adds(o, "must be one of [");
                json_array_foreach(n->enum_vals, i, e)
                {
                    if (i)
                        js_out_adds(o, ", ");
                    js_out_json(o, e);
                }
                js_out_adds(o, "]");
            }
            return false;
        }
    }
    if (n->const_val && !js_equal(v, n->const_val)) {
        js_out buf, *o = js_fail_begin(c, loc, &buf);
        if (o) {
            js_out_adds(o, "must be equal to ");
            js_out_json(o, n->const_val);
        }
        return false;
    }

    bool ok = true;
    if (json_is_number(v))
        ok = js_valid_number(c, n, v, loc);
    else if (json_is_string(v))
        ok = js_valid_string(c, n, v, loc);
    else if (json_is_array(v))
        ok = js_valid_array(c, n, v, loc);
    else if (json_is_object(v))
        ok = js_valid_object(c, n, v, loc);
    if (!ok)
        return false;

    /* allOf reports the failing branch itself: it is the most useful message.
     * The other combinators expect branches to fail, so they run quietly and
     * report one summary rule instead. */
    for (size_t i = 0; i < n->n_all_of; i++)
        if (!js_valid(c, n->all_of[i], v, loc))
            return false;
    if (n->n_any_of) {
        bool any = false;
        for (size_t i = 0; i < n->n_any_of && !any; i++)
            any = js_valid_quiet(c, n->any_of[i], v, loc);
        if (!any)
            return js_fail_branches(c, loc, n->any_of, n->n_any_of, v, "must match at least one schema");
    }
    if (n->n_one_of) {
        size_t matched = 0;
        for (size_t i = 0; i < n->n_one_of; i++)
            if (js_valid_quiet(c, n->one_of[i], v, loc))
                matched++;
        if (matched == 0)
            return js_fail_branches(c, loc, n->one_of, n->n_one_of, v, "must match exactly one schema (matched 0)");
        if (matched != 1)
            return js_fail(c, loc, "must match exactly one schema (matched %zu)", matched);
    }
    if (n->not_ && js_valid_quiet(c, n->not_, v, loc))
        return js_fail(c, loc, "must not match the schema in not");
    if (n->if_) {
        const js_node *branch = js_valid_quiet(c, n->if_, v, loc) ? n->then_ : n->else_;
        if (branch && !js_valid(c, branch, v, loc))
            return false;
    }
    return true;
}

static bool js_valid(js_vctx *c, const js_node *n, const json_t *v, const js_loc *loc)
{
    if (c->depth >= JS_MAX_DEPTH)
        return js_fail(c, loc, "schema recursion too deep");
    c->depth++;
    bool ok = js_valid_node(c, n, v, loc);
    c->depth--;
    return ok;
}

/* ------------------------------------------------------------------------ */
/* 6. Public API                                                            */
/* ------------------------------------------------------------------------ */

js_schema *js_compile(json_t *schema, js_draft draft, js_remote_loader loader, void *loader_ctx, char *err,
                      size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    js_cctx c = {.loader = loader, .loader_ctx = loader_ctx, .err = err, .errlen = errlen};
    if (!schema) {
        js_cerr(&c, "no schema");
        return NULL;
    }
    if (draft != JS_DRAFT4 && draft != JS_DRAFT7) {
        js_cerr(&c, "unsupported draft %d", (int)draft);
        return NULL;
    }
    js_schema *s = calloc(1, sizeof *s);
    if (!s) {
        js_cerr(&c, "out of memory");
        return NULL;
    }
    s->draft = draft;
    c.s = s;
    /* A private copy, so later changes to the caller's document cannot
     * invalidate the pointers the compiled graph keeps into it. */
    json_t *root = json_deep_copy(schema);
    s->docs = json_array();
    if (!root || !s->docs || json_array_append_new(s->docs, root) != 0) {
        if (!s->docs)
            json_decref(root);
        js_cerr(&c, "out of memory");
    } else if (js_index_doc(&c, root, "")) {
        char *base = js_own_base(&c, root, "", NULL);
        if (!base)
            js_cerr(&c, "out of memory");
        else
            s->root = js_compile_node(&c, root, base, 0);
        free(base);
        if (s->root)
            (void)js_check_ref_cycles(&c);
    }

    for (size_t i = 0; i < c.n_res; i++) {
        free(c.res[i].key);
        free(c.res[i].base);
    }
    free(c.res);
    free(c.memo.keys);
    free(c.memo.vals);
    if (c.pcctx)
        pcre2_compile_context_free(c.pcctx);
    if (!c.failed && s->root) {
        s->mctx = pcre2_match_context_create(NULL);
        if (!s->mctx)
            js_cerr(&c, "out of memory");
        else
            pcre2_set_match_limit(s->mctx, JS_MATCH_LIMIT);
    }
    if (c.failed || !s->root) {
        if (!c.failed)
            js_cerr(&c, "invalid schema");
        js_free(s);
        return NULL;
    }
    return s;
}

void js_free(js_schema *schema)
{
    if (!schema)
        return;
    for (size_t i = 0; i < schema->n_nodes; i++)
        js_node_free(schema->nodes[i]);
    free(schema->nodes);
    json_decref(schema->docs);
    pcre2_match_context_free(schema->mctx);
    free(schema);
}

static bool js_run(js_vctx *c, const js_schema *schema, const json_t *instance, const char *root_name)
{
    c->root_name = root_name ? root_name : "body";
    if (c->err && c->errlen)
        c->err[0] = '\0';
    if (!schema || !instance) {
        (void)js_fail(c, NULL, "%s", schema ? "no instance" : "no schema");
        return false;
    }
    c->draft4 = schema->draft == JS_DRAFT4;
    c->mctx = schema->mctx;
    bool ok = js_valid(c, schema->root, instance, NULL);
    if (c->md)
        pcre2_match_data_free(c->md);
    return ok;
}

bool js_validate(const js_schema *schema, const json_t *instance, const char *root_name, char *err,
                 size_t errlen)
{
    js_vctx c = {.err = err, .errlen = errlen};
    return js_run(&c, schema, instance, root_name);
}

static int js_ptr_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t) * (const json_t *const *)a, y = (uintptr_t) * (const json_t *const *)b;
    return x < y ? -1 : x > y;
}

static bool js_is_noted(const js_vctx *c, const json_t *v)
{
    return json_is_real(v) && bsearch(&v, c->ints, c->n_ints, sizeof *c->ints, js_ptr_cmp) != NULL;
}

static json_t *js_integer_of(const json_t *v) { return json_integer((json_int_t)json_real_value(v)); }

/* Replaces every noted real below v by its integer. */
static bool js_replace_ints(const js_vctx *c, json_t *v)
{
    if (json_is_object(v)) {
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
            json_t *child = json_object_iter_value(it);
            if (js_is_noted(c, child)) {
                if (json_object_iter_set_new(v, it, js_integer_of(child)) != 0)
                    return false;
            } else if (!js_replace_ints(c, child)) {
                return false;
            }
        }
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *child = json_array_get(v, i);
            if (js_is_noted(c, child)) {
                if (json_array_set_new(v, i, js_integer_of(child)) != 0)
                    return false;
            } else if (!js_replace_ints(c, child)) {
                return false;
            }
        }
    }
    return true;
}

bool js_validate_normalize(const js_schema *schema, json_t *instance, const char *root_name, char *err,
                           size_t errlen)
{
    js_vctx c = {.err = err, .errlen = errlen, .normalize = true};
    bool ok = js_run(&c, schema, instance, root_name);
    if (ok && c.n_ints) {
        qsort(c.ints, c.n_ints, sizeof *c.ints, js_ptr_cmp);
        if (!js_replace_ints(&c, instance)) {
            ok = false;
            if (err && errlen)
                snprintf(err, errlen, "%s: out of memory", c.root_name);
        }
    }
    free(c.ints);
    return ok;
}
