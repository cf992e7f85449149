#include "routing/faults.h"

#include "core/clock.h"
#include "core/errors.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fault_rule {
  unsigned id;
  char method[16]; /* "" : any */
  char *path;
  char *org; /* NULL: any */
  double probability;
  unsigned count; /* applications left; 0: unlimited */
  unsigned status;
  json_t *body; /* as given, NULL when the default */
  char *body_text;
  size_t body_len;
  unsigned latency_ms;
  bool drop;
} fault_rule;

static pthread_mutex_t faults_mu = PTHREAD_MUTEX_INITIALIZER;
static fault_rule *faults_rules[FAULTS_MAX_RULES];
static size_t faults_n;
static unsigned faults_next_id = 1;
/* Read without the lock on every request: rules in place, throttle. */
static _Atomic size_t faults_n_live;
static _Atomic unsigned faults_rps;
static _Atomic uint64_t faults_rng;
static atomic_bool faults_rng_seeded;

/* ---- patterns ---- */

static const char *faults_strip_v1(const char *p) {
  if (strncmp(p, "/v1", 3) == 0 && (p[3] == '/' || p[3] == '\0'))
    return p[3] ? p + 3 : "/";
  return p;
}

/* Where p's text ends, one trailing '/' (not the root's) left out. */
static const char *faults_effective_end(const char *p) {
  size_t n = strlen(p);
  if (n > 1 && p[n - 1] == '/')
    n--;
  return p + n;
}

/* One segment of pattern against one of the path: '{name}' or '*' runs. */
static bool faults_segment_matches(const char *pat, size_t plen, const char *s,
                                   size_t slen) {
  if (plen > 1 && pat[0] == '{' && pat[plen - 1] == '}')
    return slen > 0;
  size_t p = 0, i = 0, star = SIZE_MAX, mark = 0;
  while (i < slen) {
    if (p < plen && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < plen && pat[p] == s[i]) {
      p++;
      i++;
    } else if (star != SIZE_MAX) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < plen && pat[p] == '*')
    p++;
  return p == plen;
}

/* The segment after *pos (which is at a '/'): its text and length; moves
 * *pos to the segment's end. False at end. */
static bool faults_next_segment(const char **pos, const char *end,
                                const char **seg, size_t *len) {
  if (*pos >= end)
    return false;
  const char *s = *pos + 1;
  const char *e = s < end ? memchr(s, '/', (size_t)(end - s)) : NULL;
  if (!e)
    e = end;
  *seg = s;
  *len = (size_t)(e - s);
  *pos = e;
  return true;
}

bool faults_path_matches(const char *pattern, const char *path) {
  pattern = faults_strip_v1(pattern);
  path = faults_strip_v1(path);
  if (pattern[0] != '/' || path[0] != '/')
    return false;
  const char *pend = faults_effective_end(pattern);
  const char *send = faults_effective_end(path);
  if (pend == pattern + 1 && pattern[0] == '/' && pend[-1] == '/')
    pend = pattern; /* "/" has no segments */
  if (send == path + 1 && path[0] == '/')
    send = path;
  const char *pp = pattern, *sp = path;
  const char *star_pp = NULL, *star_sp = NULL;
  while (sp < send) {
    const char *pseg = NULL, *sseg = NULL;
    size_t plen = 0, slen = 0;
    const char *pnext = pp, *snext = sp;
    bool have_p = faults_next_segment(&pnext, pend, &pseg, &plen);
    faults_next_segment(&snext, send, &sseg, &slen);
    if (have_p && plen == 2 && pseg[0] == '*' && pseg[1] == '*') {
      star_pp = pnext;
      star_sp = sp;
      pp = pnext;
      continue;
    }
    if (have_p && faults_segment_matches(pseg, plen, sseg, slen)) {
      pp = pnext;
      sp = snext;
      continue;
    }
    if (star_pp) {
      /* "**" takes one more segment. */
      const char *skip = star_sp;
      faults_next_segment(&skip, send, &sseg, &slen);
      star_sp = skip;
      sp = skip;
      pp = star_pp;
      continue;
    }
    return false;
  }
  const char *pseg = NULL;
  size_t plen = 0;
  while (faults_next_segment(&pp, pend, &pseg, &plen))
    if (!(plen == 2 && pseg[0] == '*' && pseg[1] == '*'))
      return false;
  return true;
}

bool faults_pattern_check(const char *pattern, char *err, size_t errlen) {
  size_t n = strlen(pattern);
  if (pattern[0] != '/') {
    snprintf(err, errlen, "must start with '/'");
    return false;
  }
  if (n > 1024) {
    snprintf(err, errlen, "must be at most 1024 bytes");
    return false;
  }
  if (strchr(pattern, '?')) {
    snprintf(err, errlen, "must be a path without a query ('?')");
    return false;
  }
  const char *pos = pattern, *end = pattern + n, *seg = NULL;
  size_t len = 0;
  while (faults_next_segment(&pos, end, &seg, &len)) {
    bool brace = memchr(seg, '{', len) || memchr(seg, '}', len);
    if (brace) {
      bool whole = len > 2 && seg[0] == '{' && seg[len - 1] == '}' &&
                   !memchr(seg + 1, '{', len - 2) &&
                   !memchr(seg + 1, '}', len - 2) && !memchr(seg, '*', len);
      if (!whole) {
        snprintf(err, errlen,
                 "a parameter must be a whole segment, '{name}' ('%.*s')",
                 (int)(len > 64 ? 64 : len), seg);
        return false;
      }
    }
    for (size_t i = 0; i + 1 < len; i++)
      if (seg[i] == '*' && seg[i + 1] == '*' && len != 2) {
        snprintf(err, errlen, "'**' must be a whole segment ('%.*s')",
                 (int)(len > 64 ? 64 : len), seg);
        return false;
      }
  }
  return true;
}

/* ---- rules ---- */

static void faults_rule_free(fault_rule *r) {
  if (!r)
    return;
  free(r->path);
  free(r->org);
  json_decref(r->body);
  free(r->body_text);
  free(r);
}

static const char *faults_status_message(unsigned status) {
  if (status == err_status(ERR_TOO_MANY_REQUESTS))
    return err_message(ERR_TOO_MANY_REQUESTS);
  for (int c = 0; c < ERR__COUNT; c++)
    if (err_status((err_code)c) == status)
      return err_message((err_code)c);
  return "Fault injected by the emulator";
}

static bool faults_fail(char *err, size_t errlen, const char *where,
                        const char *field, const char *rule) {
  snprintf(err, errlen, "%s%s%s: %s", where, field ? "." : "",
           field ? field : "", rule);
  return false;
}

/* An integer field from lo to hi; *present false when absent. */
static bool faults_int_field(const json_t *j, const char *where,
                             const char *name, long long lo, long long hi,
                             long long *out, bool *present, char *err,
                             size_t errlen) {
  const json_t *v = json_object_get(j, name);
  *present = v != NULL;
  if (!v)
    return true;
  char rule[96];
  snprintf(rule, sizeof rule, "must be an integer from %lld to %lld", lo, hi);
  /* A whole real counts as an integer; the range is checked before the
   * conversion (5e30 converted first was undefined behaviour). */
  double d = json_is_real(v) ? json_real_value(v) : 0;
  if (json_is_real(v) && d >= (double)lo && d <= (double)hi && d == floor(d)) {
    *out = (long long)d;
    return true;
  }
  if (!json_is_integer(v) || json_integer_value(v) < lo ||
      json_integer_value(v) > hi)
    return faults_fail(err, errlen, where, name, rule);
  *out = json_integer_value(v);
  return true;
}

static bool faults_parse_rule(const json_t *j, const char *where,
                              fault_rule **out, char *err, size_t errlen) {
  /* "id" is ignored, so that a listed rule can be given back. */
  static const char *const fields[] = {
      "method", "path", "organization", "probability", "count",
      "status", "body", "latencyMs",    "drop",        "id"};
  static const char *const methods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                        "PATCH", "DELETE", "OPTIONS"};
  *out = NULL;
  if (!json_is_object(j))
    return faults_fail(err, errlen, where, NULL, "must be an object");
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)j, key, v) {
    bool known = false;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
      known = known || strcmp(key, fields[i]) == 0;
    if (!known) {
      char rule[300];
      snprintf(rule, sizeof rule,
               "%.100s: is not a field of a rule (method, path, "
               "organization, probability, count, status, body, latencyMs, "
               "drop)",
               key);
      return faults_fail(err, errlen, where, NULL, rule);
    }
  }
  fault_rule *r = calloc(1, sizeof *r);
  if (!r)
    return faults_fail(err, errlen, where, NULL, "out of memory");
  r->probability = 1;
  bool ok = false;
  v = json_object_get(j, "method");
  if (v) {
    const char *m = json_string_value(v);
    bool known = m && strcmp(m, "*") == 0;
    for (size_t i = 0; m && i < sizeof methods / sizeof methods[0]; i++)
      known = known || strcmp(m, methods[i]) == 0;
    if (!known) {
      faults_fail(err, errlen, where, "method",
                  "must be one of GET, HEAD, POST, PUT, PATCH, DELETE, "
                  "OPTIONS or *");
      goto done;
    }
    if (strcmp(m, "*") != 0)
      snprintf(r->method, sizeof r->method, "%s", m);
  }
  v = json_object_get(j, "path");
  if (!v) {
    faults_fail(err, errlen, where, "path", "is required");
    goto done;
  }
  if (!json_is_string(v) ||
      strlen(json_string_value(v)) != json_string_length(v)) {
    faults_fail(err, errlen, where, "path",
                "must be a string (without NUL characters)");
    goto done;
  }
  char why[200];
  if (!faults_pattern_check(json_string_value(v), why, sizeof why)) {
    faults_fail(err, errlen, where, "path", why);
    goto done;
  }
  r->path = strdup(json_string_value(v));
  v = json_object_get(j, "organization");
  if (v) {
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > 63 ||
        strlen(json_string_value(v)) != json_string_length(v)) {
      faults_fail(err, errlen, where, "organization",
                  "must be an organization id (a string of 1 to 63 bytes)");
      goto done;
    }
    r->org = strdup(json_string_value(v));
  }
  v = json_object_get(j, "probability");
  if (v) {
    if (!json_is_number(v) || !(json_number_value(v) >= 0) ||
        json_number_value(v) > 1) {
      faults_fail(err, errlen, where, "probability",
                  "must be a number from 0 to 1");
      goto done;
    }
    r->probability = json_number_value(v);
  }
  long long n = 0;
  bool present = false;
  if (!faults_int_field(j, where, "count", 1, 1000000000, &n, &present, err,
                        errlen))
    goto done;
  r->count = present ? (unsigned)n : 0;
  if (!faults_int_field(j, where, "status", 200, 599, &n, &present, err,
                        errlen))
    goto done;
  r->status = present ? (unsigned)n : 0;
  if (!faults_int_field(j, where, "latencyMs", 0, FAULTS_MAX_LATENCY_MS, &n,
                        &present, err, errlen))
    goto done;
  r->latency_ms = present ? (unsigned)n : 0;
  bool has_latency = present;
  v = json_object_get(j, "drop");
  if (v && !json_is_boolean(v)) {
    faults_fail(err, errlen, where, "drop", "must be a boolean");
    goto done;
  }
  r->drop = v && json_is_true(v);
  v = json_object_get(j, "body");
  if (v && !r->status) {
    faults_fail(err, errlen, where, "body", "needs status");
    goto done;
  }
  if (r->drop && r->status) {
    faults_fail(err, errlen, where, "drop", "cannot be combined with status");
    goto done;
  }
  if (!r->status && !r->drop && !has_latency) {
    faults_fail(err, errlen, where, NULL,
                "needs one of status, latencyMs or drop");
    goto done;
  }
  if (r->status) {
    if (v) {
      r->body = json_incref((json_t *)v);
      r->body_text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    } else {
      json_t *dflt =
          json_pack("{s:s}", "message", faults_status_message(r->status));
      r->body_text = dflt ? json_dumps(dflt, JSON_COMPACT) : NULL;
      json_decref(dflt);
    }
    if (!r->body_text) {
      faults_fail(err, errlen, where, "body", "cannot be written as JSON");
      goto done;
    }
    r->body_len = strlen(r->body_text);
  }
  if (!r->path || (json_object_get(j, "organization") && !r->org)) {
    faults_fail(err, errlen, where, NULL, "out of memory");
    goto done;
  }
  ok = true;
done:
  if (!ok) {
    faults_rule_free(r);
    return false;
  }
  *out = r;
  return true;
}

/* The rule as listed (NEW). */
static json_t *faults_rule_json(const fault_rule *r) {
  json_t *o = json_object();
  json_object_set_new(o, "id", json_integer(r->id));
  json_object_set_new(o, "method", json_string(r->method[0] ? r->method : "*"));
  json_object_set_new(o, "path", json_string(r->path));
  if (r->org)
    json_object_set_new(o, "organization", json_string(r->org));
  json_object_set_new(o, "probability", json_real(r->probability));
  if (r->count)
    json_object_set_new(o, "count", json_integer(r->count));
  if (r->status) {
    json_object_set_new(o, "status", json_integer(r->status));
    json_error_t jerr;
    json_t *body =
        r->body ? json_incref(r->body)
                : json_loadb(r->body_text, r->body_len, JSON_DECODE_ANY, &jerr);
    if (body)
      json_object_set_new(o, "body", body);
  }
  json_object_set_new(o, "latencyMs", json_integer(r->latency_ms));
  json_object_set_new(o, "drop", json_boolean(r->drop));
  return o;
}

static void faults_publish_locked(void) {
  atomic_store(&faults_n_live, faults_n);
}

bool faults_add_json(const json_t *rule, const char *where, json_t **added,
                     char *err, size_t errlen) {
  fault_rule *r = NULL;
  if (added)
    *added = NULL;
  if (!faults_parse_rule(rule, where, &r, err, errlen))
    return false;
  pthread_mutex_lock(&faults_mu);
  if (faults_n == FAULTS_MAX_RULES) {
    pthread_mutex_unlock(&faults_mu);
    faults_rule_free(r);
    snprintf(err, errlen, "%s: there are already %d rules (the most kept)",
             where, FAULTS_MAX_RULES);
    return false;
  }
  r->id = faults_next_id++;
  faults_rules[faults_n++] = r;
  if (added)
    *added = faults_rule_json(r);
  faults_publish_locked();
  pthread_mutex_unlock(&faults_mu);
  return true;
}

bool faults_load_text(const char *text, size_t len, char *err, size_t errlen) {
  json_error_t jerr;
  json_t *doc = json_loadb(text, len, 0, &jerr);
  if (!doc) {
    snprintf(err, errlen, "malformed JSON at line %d column %d: %s", jerr.line,
             jerr.column, jerr.text);
    return false;
  }
  const json_t *list = doc;
  long long rps = -1;
  if (json_is_object(doc)) {
    const char *key;
    const json_t *v;
    json_object_foreach(doc, key, v) {
      if (strcmp(key, "faults") != 0 && strcmp(key, "throttleRps") != 0) {
        snprintf(err, errlen,
                 "%.100s: is not a field of a faults file (faults, "
                 "throttleRps)",
                 key);
        json_decref(doc);
        return false;
      }
    }
    bool present = false;
    if (!faults_int_field(doc, "", "throttleRps", 0, 1000000, &rps, &present,
                          err, errlen)) {
      /* faults_int_field wrote ".throttleRps: …" */
      memmove(err, err + 1, strlen(err));
      json_decref(doc);
      return false;
    }
    if (!present)
      rps = -1;
    list = json_object_get(doc, "faults");
  }
  if (list && !json_is_array(list)) {
    snprintf(err, errlen, "faults: must be an array of rules");
    json_decref(doc);
    return false;
  }
  size_t n = list ? json_array_size(list) : 0;
  if (n > FAULTS_MAX_RULES) {
    snprintf(err, errlen, "faults: more than %d rules", FAULTS_MAX_RULES);
    json_decref(doc);
    return false;
  }
  fault_rule **parsed = calloc(n ? n : 1, sizeof *parsed);
  if (!parsed) {
    json_decref(doc);
    snprintf(err, errlen, "out of memory");
    return false;
  }
  bool ok = true;
  for (size_t i = 0; i < n && ok; i++) {
    char where[32];
    snprintf(where, sizeof where, "faults[%zu]", i);
    ok = faults_parse_rule(json_array_get(list, i), where, &parsed[i], err,
                           errlen);
  }
  json_decref(doc);
  if (!ok) {
    for (size_t i = 0; i < n; i++)
      faults_rule_free(parsed[i]);
    free(parsed);
    return false;
  }
  pthread_mutex_lock(&faults_mu);
  for (size_t i = 0; i < faults_n; i++)
    faults_rule_free(faults_rules[i]);
  for (size_t i = 0; i < n; i++) {
    parsed[i]->id = faults_next_id++;
    faults_rules[i] = parsed[i];
  }
  faults_n = n;
  faults_publish_locked();
  pthread_mutex_unlock(&faults_mu);
  free(parsed);
  if (rps >= 0)
    faults_set_throttle((unsigned)rps);
  return true;
}

bool faults_load_file(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "--faults %s: %s", path, strerror(errno));
    return false;
  }
  char *text = NULL;
  size_t len = 0, cap = 0;
  char chunk[8192];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (len + got > cap) {
      cap = (len + got) * 2;
      char *grown = realloc(text, cap);
      if (!grown) {
        free(text);
        fclose(f);
        snprintf(err, errlen, "--faults %s: out of memory", path);
        return false;
      }
      text = grown;
    }
    memcpy(text + len, chunk, got);
    len += got;
  }
  fclose(f);
  char why[512];
  bool ok = faults_load_text(text ? text : "", len, why, sizeof why);
  free(text);
  if (!ok)
    snprintf(err, errlen, "--faults %s: %s", path, why);
  return ok;
}

json_t *faults_list(void) {
  json_t *list = json_array();
  pthread_mutex_lock(&faults_mu);
  for (size_t i = 0; i < faults_n; i++)
    json_array_append_new(list, faults_rule_json(faults_rules[i]));
  pthread_mutex_unlock(&faults_mu);
  return json_pack("{s:o, s:I}", "faults", list, "throttleRps",
                   (json_int_t)faults_throttle());
}

static void faults_remove_at_locked(size_t i) {
  faults_rule_free(faults_rules[i]);
  memmove(&faults_rules[i], &faults_rules[i + 1],
          (faults_n - i - 1) * sizeof faults_rules[0]);
  faults_n--;
  faults_publish_locked();
}

bool faults_remove(unsigned id) {
  bool found = false;
  pthread_mutex_lock(&faults_mu);
  for (size_t i = 0; i < faults_n && !found; i++)
    if (faults_rules[i]->id == id) {
      faults_remove_at_locked(i);
      found = true;
    }
  pthread_mutex_unlock(&faults_mu);
  return found;
}

void faults_clear(void) {
  pthread_mutex_lock(&faults_mu);
  for (size_t i = 0; i < faults_n; i++)
    faults_rule_free(faults_rules[i]);
  faults_n = 0;
  faults_publish_locked();
  pthread_mutex_unlock(&faults_mu);
}

/* ---- throttle ---- */

/* Per-organization counts of the current second. Slots are taken over
 * when their second has passed, never emptied, so probe chains stay
 * whole; when every slot holds an organization active this second, a
 * further organization is not throttled (the memory stays bounded). */
#define FAULTS_THROTTLE_SLOTS 512
static struct {
  char org[64];
  int64_t second;
  unsigned count;
} faults_slots[FAULTS_THROTTLE_SLOTS];
static pthread_mutex_t faults_throttle_mu = PTHREAD_MUTEX_INITIALIZER;

void faults_set_throttle(unsigned rps) {
  atomic_store(&faults_rps, rps);
}

unsigned faults_throttle(void) {
  return atomic_load(&faults_rps);
}

static bool faults_throttle_hit(const char *org, int64_t mono_us,
                                unsigned rps) {
  uint32_t h = 2166136261u;
  for (const char *p = org; *p; p++)
    h = (h ^ (unsigned char)*p) * 16777619u;
  int64_t second = mono_us / 1000000;
  bool hit = false;
  pthread_mutex_lock(&faults_throttle_mu);
  size_t free_slot = SIZE_MAX;
  for (size_t k = 0; k < FAULTS_THROTTLE_SLOTS; k++) {
    size_t i = (h + k) % FAULTS_THROTTLE_SLOTS;
    if (faults_slots[i].org[0] == '\0') {
      if (free_slot == SIZE_MAX)
        free_slot = i;
      break;
    }
    if (strcmp(faults_slots[i].org, org) == 0) {
      if (faults_slots[i].second != second) {
        faults_slots[i].second = second;
        faults_slots[i].count = 0;
      }
      hit = ++faults_slots[i].count > rps;
      pthread_mutex_unlock(&faults_throttle_mu);
      return hit;
    }
    if (faults_slots[i].second != second && free_slot == SIZE_MAX)
      free_slot = i;
  }
  if (free_slot != SIZE_MAX) {
    snprintf(faults_slots[free_slot].org, sizeof faults_slots[0].org, "%s",
             org);
    faults_slots[free_slot].second = second;
    faults_slots[free_slot].count = 1;
    hit = 1 > rps;
  }
  pthread_mutex_unlock(&faults_throttle_mu);
  return hit;
}

/* ---- deciding ---- */

void faults_seed_random(uint64_t seed) {
  atomic_store(&faults_rng, seed);
  atomic_store(&faults_rng_seeded, true);
}

/* A draw from [0, 1): splitmix64. */
static double faults_draw(void) {
  if (!atomic_load(&faults_rng_seeded)) {
    bool expected = false;
    if (atomic_compare_exchange_strong(&faults_rng_seeded, &expected, true))
      atomic_store(&faults_rng,
                   (uint64_t)clock_real_us() ^ ((uint64_t)getpid() << 32));
  }
  uint64_t z = atomic_fetch_add(&faults_rng, 0x9e3779b97f4a7c15ULL) +
               0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

static bool faults_method_matches(const char *rule, const char *method) {
  if (!rule[0] || strcmp(rule, method) == 0)
    return true;
  /* A HEAD is answered as its GET. */
  return strcmp(rule, "GET") == 0 && strcmp(method, "HEAD") == 0;
}

bool faults_decide(const char *method, const char *path,
                   const char *organization, int64_t mono_us,
                   fault_action *out) {
  memset(out, 0, sizeof *out);
  unsigned rps = atomic_load(&faults_rps);
  if (rps && organization && organization[0] &&
      faults_throttle_hit(organization, mono_us, rps)) {
    json_t *b =
        json_pack("{s:s}", "message", err_message(ERR_TOO_MANY_REQUESTS));
    out->body = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    out->body_len = out->body ? strlen(out->body) : 0;
    out->status = err_status(ERR_TOO_MANY_REQUESTS);
    out->throttled = true;
    return true;
  }
  if (atomic_load(&faults_n_live) == 0)
    return false;
  bool applied = false;
  pthread_mutex_lock(&faults_mu);
  for (size_t i = 0; i < faults_n && !applied; i++) {
    fault_rule *r = faults_rules[i];
    if (!faults_method_matches(r->method, method))
      continue;
    if (r->org && (!organization || strcmp(r->org, organization) != 0))
      continue;
    if (!faults_path_matches(r->path, path))
      continue;
    if (r->probability < 1 && !(faults_draw() < r->probability))
      continue;
    applied = true;
    out->rule_id = r->id;
    out->status = r->status;
    out->latency_ms = r->latency_ms;
    out->drop = r->drop;
    if (r->status) {
      out->body = malloc(r->body_len + 1);
      if (out->body) {
        memcpy(out->body, r->body_text, r->body_len + 1);
        out->body_len = r->body_len;
      }
    }
    if (r->count && --r->count == 0)
      faults_remove_at_locked(i);
  }
  pthread_mutex_unlock(&faults_mu);
  return applied;
}
