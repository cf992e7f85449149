/* kill -9 trials: several client threads write (POST documents with
 * content, POST and PATCH datasets, PATCH documents) while the real binary
 * is killed with SIGKILL at a random moment; it is then restarted on the
 * same database and everything is checked:
 *
 *   - every write answered 2xx survives with its content: document bytes,
 *     contentType, datasetId and groundTruth; dataset name and description;
 *   - a write that was in flight at the kill (no answer) is either wholly
 *     there or wholly absent: a document that nobody was told about must be
 *     byte for byte one of the POSTs in flight, a field may hold the last
 *     acknowledged value or the one of the PATCH in flight, nothing else;
 *   - derived counts equal what exists: each dataset's numberOfDocuments is
 *     the number of documents listed with its datasetId, the organization's
 *     numberOfDatasetsCreated the number of datasets listed and its
 *     monthlyNumberOfDocumentsCreated the number of documents listed (no
 *     document is ever deleted here).
 *
 * One server and database serve all trials, so later trials also check what
 * the earlier ones wrote, across several restarts.
 *
 * Usage: crash_trials [--trials N] [--seed S] [--threads T]
 *                     [--min-ms A] [--max-ms B]
 * (the kill comes A..B ms after the writers start). Exit status 0 when every
 * trial passed. Needs LAS_EMULATOR_BIN (see it_client.h). */
#include "it_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { MAX_THREADS = 16 };

/* What a client knows about one object it made. `acked` holds the checked
 * fields as last acknowledged; `pending` (or NULL) the fields of a PATCH
 * that was sent but never answered. */
typedef struct rec {
  char id[64];
  bool is_doc;
  unsigned char *content; /* documents: the bytes sent */
  size_t content_len;
  json_t *acked;
  json_t *pending;
  bool dirty; /* written in this trial: checked after its restart */
} rec;

typedef struct rec_list {
  rec *items;
  size_t n, cap;
} rec_list;

/* A POST that got no answer: it may or may not have made its object. */
typedef struct lost_post {
  bool is_doc;
  unsigned char *content;
  size_t content_len;
  json_t *fields; /* what the object must then hold */
} lost_post;

typedef struct client {
  int no;
  unsigned seed;
  rec_list recs;
  lost_post lost[64];
  size_t n_lost;
  /* this trial */
  long ops, acked, unanswered;
  char failure[512];
} client;

static it_server srv;
static it_session sess;
static atomic_bool stop_writers;
static client clients[MAX_THREADS];
static int n_threads = 4;
static long total_ops, total_acked, total_unanswered, total_adopted,
    checked_reads;

static unsigned rnd(unsigned *seed) {
  *seed = *seed * 1103515245u + 12345u;
  return (*seed >> 8) & 0xffffffu;
}

static void fail_in(client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fail_in(client *c, const char *fmt, ...) {
  if (c->failure[0])
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->failure, sizeof c->failure, fmt, ap);
  va_end(ap);
}

static rec *rec_add(rec_list *l) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 64;
    l->items = realloc(l->items, l->cap * sizeof *l->items);
    if (!l->items)
      abort();
  }
  rec *r = &l->items[l->n++];
  memset(r, 0, sizeof *r);
  r->dirty = true;
  return r;
}

/* A random acknowledged record of this client of the given type, or NULL. */
static rec *rec_pick(client *c, bool doc) {
  size_t n = 0;
  for (size_t i = 0; i < c->recs.n; i++)
    n += c->recs.items[i].is_doc == doc;
  if (n == 0)
    return NULL;
  size_t k = rnd(&c->seed) % n;
  for (size_t i = 0; i < c->recs.n; i++)
    if (c->recs.items[i].is_doc == doc && k-- == 0)
      return &c->recs.items[i];
  return NULL;
}

/* ------------------------------------------------------------ writers */

/* Sends one write. 2xx: returns the response. No answer (the server died):
 * returns NULL and counts it. Any other answer is a failure: the server
 * was alive and refused or broke a well-formed request. */
static it_response *write_req(client *c, const char *method, json_t *body,
                              const char *path, bool *unanswered) {
  c->ops++;
  it_response *r = it_send(&sess, method, body, "%s", path);
  *unanswered = false;
  if (r->status == 0) {
    *unanswered = true;
    c->unanswered++;
    it_response_free(r);
    return NULL;
  }
  if (r->status < 200 || r->status > 299 || !r->json) {
    if (!atomic_load(&stop_writers))
      fail_in(c, "%s %s answered %ld: %.200s", method, path, r->status,
              r->body ? r->body : "");
    it_response_free(r);
    return NULL;
  }
  c->acked++;
  return r;
}

static json_t *ground_truth(client *c) {
  char v[32];
  snprintf(v, sizeof v, "%u.%02u", rnd(&c->seed) % 100000, rnd(&c->seed) % 100);
  return json_pack("[{s:s,s:s},{s:s,s:b}]", "label", "total", "value", v,
                   "label", "paid", "value", (int)(rnd(&c->seed) & 1));
}

static void lose(client *c, bool doc, unsigned char *content, size_t len,
                 json_t *fields) {
  if (c->n_lost == sizeof c->lost / sizeof c->lost[0]) {
    fail_in(c, "too many unanswered POSTs to keep track of");
    free(content);
    json_decref(fields);
    return;
  }
  c->lost[c->n_lost++] = (lost_post){doc, content, len, fields};
}

static void post_document(client *c) {
  /* Now and then a large one, whose commit spans many WAL writes. */
  size_t len = rnd(&c->seed) % 25 == 0 ? 150000 + rnd(&c->seed) % 450000
                                       : 64 + rnd(&c->seed) % 3000;
  unsigned char *bytes = malloc(len);
  memcpy(bytes, "%PDF-1.4\n", 9);
  for (size_t i = 9; i < len; i++)
    bytes[i] = (unsigned char)rnd(&c->seed);
  char *b64 = it_b64_encode(bytes, len);
  json_t *fields = json_pack("{s:s,s:o}", "contentType", "application/pdf",
                             "groundTruth", ground_truth(c));
  rec *ds = (rnd(&c->seed) & 1) ? rec_pick(c, false) : NULL;
  if (ds)
    json_object_set_new(fields, "datasetId", json_string(ds->id));
  json_t *body = json_deep_copy(fields);
  json_object_set_new(body, "content", json_string(b64));
  free(b64);
  bool lost;
  it_response *r = write_req(c, "POST", body, "/documents", &lost);
  if (!r) {
    if (lost)
      lose(c, true, bytes, len, fields);
    else {
      free(bytes);
      json_decref(fields);
    }
    return;
  }
  const char *id = it_str(r->json, "documentId");
  if (!id || !it_id_valid("document", id)) {
    fail_in(c, "POST /documents: no documentId in %.200s", r->body);
  } else {
    rec *d = rec_add(&c->recs);
    snprintf(d->id, sizeof d->id, "%s", id);
    d->is_doc = true;
    d->content = bytes;
    d->content_len = len;
    d->acked = fields;
    bytes = NULL;
    fields = NULL;
  }
  free(bytes);
  json_decref(fields);
  it_response_free(r);
}

static void post_dataset(client *c) {
  char name[64], desc[64];
  snprintf(name, sizeof name, "crash-%d-%u-%u", c->no, it_unique(),
           rnd(&c->seed));
  snprintf(desc, sizeof desc, "made by client %d", c->no);
  json_t *fields = json_pack("{s:s,s:s}", "name", name, "description", desc);
  bool lost;
  it_response *r =
      write_req(c, "POST", json_deep_copy(fields), "/datasets", &lost);
  if (!r) {
    if (lost)
      lose(c, false, NULL, 0, fields);
    else
      json_decref(fields);
    return;
  }
  const char *id = it_str(r->json, "datasetId");
  if (!id || !it_id_valid("dataset", id)) {
    fail_in(c, "POST /datasets: no datasetId in %.200s", r->body);
    json_decref(fields);
  } else {
    rec *d = rec_add(&c->recs);
    snprintf(d->id, sizeof d->id, "%s", id);
    d->acked = fields;
  }
  it_response_free(r);
}

/* PATCHes some of a record's fields; the new values become the record's
 * acknowledged ones, or its pending ones when no answer came. */
static void patch(client *c, rec *o, json_t *changes) {
  char path[128];
  snprintf(path, sizeof path, "/%s/%s", o->is_doc ? "documents" : "datasets",
           o->id);
  json_t *after = json_deep_copy(o->acked);
  json_object_update(after, changes);
  o->dirty = true;
  bool lost;
  it_response *r = write_req(c, "PATCH", changes, path, &lost);
  if (r) {
    json_decref(o->acked);
    o->acked = after;
    it_response_free(r);
  } else if (lost) {
    o->pending = after;
  } else {
    json_decref(after);
  }
}

static void patch_document(client *c) {
  rec *d = rec_pick(c, true);
  if (!d)
    return;
  json_t *changes = json_pack("{s:o}", "groundTruth", ground_truth(c));
  rec *ds = (rnd(&c->seed) % 3 == 0) ? rec_pick(c, false) : NULL;
  if (ds)
    json_object_set_new(changes, "datasetId", json_string(ds->id));
  patch(c, d, changes);
}

static void patch_dataset(client *c) {
  rec *ds = rec_pick(c, false);
  if (!ds)
    return;
  char name[64];
  snprintf(name, sizeof name, "renamed-%d-%u", c->no, rnd(&c->seed));
  patch(c, ds, json_pack("{s:s,s:s}", "name", name, "description", name + 8));
}

static void *writer(void *arg) {
  client *c = arg;
  while (!atomic_load(&stop_writers) && !c->failure[0]) {
    unsigned pick = rnd(&c->seed) % 100;
    long before = c->unanswered;
    if (pick < 40)
      post_document(c);
    else if (pick < 55)
      post_dataset(c);
    else if (pick < 80)
      patch_document(c);
    else
      patch_dataset(c);
    /* The server is gone: at most one request of each client is left
     * unanswered, so what it may have done stays known. */
    if (c->unanswered != before)
      break;
  }
  return NULL;
}

/* ------------------------------------------------------------ checks */

typedef struct listed {
  json_t *by_id; /* id -> listed object */
  size_t n;
} listed;

/* Every object of a list, all pages. */
static bool list_all(const char *what, const char *field, listed *out,
                     char *err, size_t errlen) {
  out->by_id = json_object();
  out->n = 0;
  char token[512] = "";
  for (int page = 0; page < 100000; page++) {
    it_response *r =
        token[0] ? it_get(&sess, "/%s?maxResults=100&nextToken=%s", what, token)
                 : it_get(&sess, "/%s?maxResults=100", what);
    json_t *items = r->json ? json_object_get(r->json, what) : NULL;
    if (r->status != 200 || !json_is_array(items)) {
      snprintf(err, errlen, "GET /%s answered %ld: %.200s", what, r->status,
               r->body ? r->body : "");
      it_response_free(r);
      return false;
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
      const char *id = it_str(item, field);
      if (id && !json_object_get(out->by_id, id))
        out->n++;
      if (id)
        json_object_set(out->by_id, id, item);
    }
    const char *next = it_str(r->json, "nextToken");
    if (!next) {
      it_response_free(r);
      return true;
    }
    char *enc = it_url_encode(next);
    snprintf(token, sizeof token, "%s", enc);
    free(enc);
    it_response_free(r);
  }
  snprintf(err, errlen, "GET /%s: pages never end", what);
  return false;
}

/* The checked fields of a served object, unset ones as null (a response may
 * omit an unset field or send it as null). */
static bool fields_match(const json_t *served, const json_t *want) {
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)want, k, v) {
    json_t *got = json_object_get(served, k);
    if (!got)
      got = json_null();
    if (!json_equal(got, v))
      return false;
  }
  return true;
}

static char *dumps(const json_t *j) {
  char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
  return s ? s : strdup("?");
}

/* GET one object and compare it with what its client knows; a pending
 * PATCH resolves here into the record's new acknowledged state. */
static bool check_rec(rec *o, char *err, size_t errlen) {
  it_response *r =
      it_get(&sess, "/%s/%s", o->is_doc ? "documents" : "datasets", o->id);
  bool ok = false;
  if (r->status != 200 || !r->json) {
    snprintf(err, errlen, "acknowledged %s is gone: GET answered %ld: %.200s",
             o->id, r->status, r->body ? r->body : "");
    goto out;
  }
  if (fields_match(r->json, o->acked)) {
    ok = true;
  } else if (o->pending && fields_match(r->json, o->pending)) {
    json_decref(o->acked);
    o->acked = json_incref(o->pending);
    total_adopted++;
    ok = true;
  }
  if (!ok) {
    char *a = dumps(o->acked), *g = dumps(r->json);
    char *p = o->pending ? dumps(o->pending) : strdup("none");
    snprintf(err, errlen,
             "%s: served %.600s\n  acknowledged %.400s\n  "
             "in flight %.400s",
             o->id, g, a, p);
    free(a);
    free(g);
    free(p);
    goto out;
  }
  if (o->is_doc) {
    size_t len = 0;
    const char *b64 = it_str(r->json, "content");
    unsigned char *bytes = b64 ? it_b64_decode(b64, &len) : NULL;
    ok = bytes && len == o->content_len && memcmp(bytes, o->content, len) == 0;
    if (!ok)
      snprintf(err, errlen,
               "%s: content differs (%zu bytes served, %zu "
               "sent)",
               o->id, bytes ? len : 0, o->content_len);
    free(bytes);
  }
out:
  json_decref(o->pending);
  o->pending = NULL;
  it_response_free(r);
  return ok;
}

static rec *find_rec(const char *id) {
  for (int t = 0; t < n_threads; t++)
    for (size_t i = 0; i < clients[t].recs.n; i++)
      if (strcmp(clients[t].recs.items[i].id, id) == 0)
        return &clients[t].recs.items[i];
  return NULL;
}

/* An object nobody was told about must be one of the unanswered POSTs,
 * whole; it then joins its client's records. */
static bool adopt(const char *id, bool doc, char *err, size_t errlen) {
  it_response *r = it_get(&sess, "/%s/%s", doc ? "documents" : "datasets", id);
  if (r->status != 200 || !r->json) {
    snprintf(err, errlen, "listed %s but GET answered %ld", id, r->status);
    it_response_free(r);
    return false;
  }
  size_t len = 0;
  const char *b64 = doc ? it_str(r->json, "content") : NULL;
  unsigned char *bytes = b64 ? it_b64_decode(b64, &len) : NULL;
  for (int t = 0; t < n_threads; t++) {
    client *c = &clients[t];
    for (size_t i = 0; i < c->n_lost; i++) {
      lost_post *l = &c->lost[i];
      if (l->is_doc != doc || !fields_match(r->json, l->fields))
        continue;
      if (doc && !(bytes && len == l->content_len &&
                   memcmp(bytes, l->content, len) == 0))
        continue;
      rec *o = rec_add(&c->recs);
      snprintf(o->id, sizeof o->id, "%s", id);
      o->is_doc = doc;
      o->content = l->content;
      o->content_len = l->content_len;
      o->acked = l->fields;
      c->lost[i] = c->lost[--c->n_lost];
      total_adopted++;
      free(bytes);
      it_response_free(r);
      return true;
    }
  }
  char *g = dumps(r->json);
  snprintf(err, errlen,
           "%s exists, was never acknowledged and matches no POST in flight "
           "(content %s): %.600s",
           id, bytes ? "present" : "absent", g);
  free(g);
  free(bytes);
  it_response_free(r);
  return false;
}

static bool check_all(unsigned *seed, char *err, size_t errlen) {
  listed docs, sets;
  bool ok = list_all("documents", "documentId", &docs, err, errlen) &&
            list_all("datasets", "datasetId", &sets, err, errlen);
  if (!ok)
    goto out;
  /* Acknowledged objects first (they resolve pending PATCHes), then the
   * ones nobody was told about. */
  /* Every object is checked to be listed; its content is read back when
   * it was written in this trial, and for a sample of the older ones (all
   * were read back after the restart that followed their write), so that a
   * trial costs the same however many came before. */
  size_t total = 0;
  for (int t = 0; t < n_threads; t++)
    total += clients[t].recs.n;
  for (int t = 0; t < n_threads && ok; t++)
    for (size_t i = 0; i < clients[t].recs.n && ok; i++) {
      rec *o = &clients[t].recs.items[i];
      if (!json_object_get(o->is_doc ? docs.by_id : sets.by_id, o->id)) {
        snprintf(err, errlen, "acknowledged %s is not listed", o->id);
        ok = false;
      } else if (o->dirty || rnd(seed) % (unsigned)(total / 200 + 1) == 0) {
        ok = check_rec(o, err, errlen);
        o->dirty = false;
        checked_reads++;
      }
    }
  const char *id;
  json_t *v;
  json_object_foreach(sets.by_id, id, v) {
    if (ok && !find_rec(id))
      ok = adopt(id, false, err, errlen);
  }
  json_object_foreach(docs.by_id, id, v) {
    if (ok && !find_rec(id))
      ok = adopt(id, true, err, errlen);
  }
  /* POSTs that made nothing are forgotten. */
  for (int t = 0; t < n_threads; t++) {
    for (size_t i = 0; i < clients[t].n_lost; i++) {
      free(clients[t].lost[i].content);
      json_decref(clients[t].lost[i].fields);
    }
    clients[t].n_lost = 0;
  }
  if (!ok)
    goto out;
  /* Derived counts against what exists: every dataset's numberOfDocuments
   * as listed, and for a sample the filtered document list too. */
  json_t *sizes = json_object(); /* datasetId -> documents naming it */
  json_object_foreach(docs.by_id, id, v) {
    const char *in = it_str(v, "datasetId");
    if (in)
      json_object_set_new(
          sizes, in,
          json_integer(json_integer_value(json_object_get(sizes, in)) + 1));
  }
  json_object_foreach(sets.by_id, id, v) {
    size_t members = (size_t)json_integer_value(json_object_get(sizes, id));
    json_t *n = json_object_get(v, "numberOfDocuments");
    if (!json_is_integer(n) || json_integer_value(n) != (json_int_t)members) {
      snprintf(err, errlen,
               "%s: numberOfDocuments %lld, but %zu documents name it", id,
               (long long)json_integer_value(n), members);
      ok = false;
      break;
    }
    if (rnd(seed) % (unsigned)(sets.n / 20 + 1) != 0)
      continue;
    it_response *r =
        it_get(&sess, "/documents?datasetId=%s&maxResults=1000", id);
    json_t *items = r->json ? json_object_get(r->json, "documents") : NULL;
    if (r->status != 200 || json_array_size(items) != members) {
      snprintf(err, errlen,
               "GET /documents?datasetId=%s lists %zu, %zu "
               "documents name it",
               id, json_array_size(items), members);
      ok = false;
    }
    it_response_free(r);
    if (!ok)
      break;
  }
  json_decref(sizes);
  if (!ok)
    goto out;
  it_response *r = it_get(&sess, "/organizations/me");
  json_t *nds =
      r->json ? json_object_get(r->json, "numberOfDatasetsCreated") : NULL;
  json_t *ndocs =
      r->json ? json_object_get(r->json, "monthlyNumberOfDocumentsCreated")
              : NULL;
  if (r->status != 200 || !json_is_integer(nds) || !json_is_integer(ndocs)) {
    snprintf(err, errlen, "GET /organizations/me answered %ld: %.300s",
             r->status, r->body ? r->body : "");
    ok = false;
  } else if (json_integer_value(nds) != (json_int_t)sets.n ||
             json_integer_value(ndocs) != (json_int_t)docs.n) {
    snprintf(err, errlen,
             "organization counts numberOfDatasetsCreated %lld and "
             "monthlyNumberOfDocumentsCreated %lld, but %zu datasets and %zu "
             "documents exist",
             (long long)json_integer_value(nds),
             (long long)json_integer_value(ndocs), sets.n, docs.n);
    ok = false;
  }
  it_response_free(r);
out:
  if (ok)
    fprintf(stderr, "  state: %zu documents, %zu datasets\n", docs.n, sets.n);
  json_decref(docs.by_id);
  json_decref(sets.by_id);
  return ok;
}

/* ------------------------------------------------------------ trials */

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static bool trial(int no, unsigned *seed, long min_ms, long max_ms) {
  atomic_store(&stop_writers, false);
  pthread_t th[MAX_THREADS];
  for (int t = 0; t < n_threads; t++) {
    clients[t].ops = clients[t].acked = clients[t].unanswered = 0;
    clients[t].failure[0] = '\0';
    pthread_create(&th[t], NULL, writer, &clients[t]);
  }
  long delay = min_ms + (long)(rnd(seed) % (unsigned)(max_ms - min_ms + 1));
  sleep_ms(delay);
  it_server_kill9(&srv);
  atomic_store(&stop_writers, true);
  for (int t = 0; t < n_threads; t++)
    pthread_join(th[t], NULL);
  long ops = 0, acked = 0, lost = 0;
  bool ok = true;
  for (int t = 0; t < n_threads; t++) {
    ops += clients[t].ops;
    acked += clients[t].acked;
    lost += clients[t].unanswered;
    if (clients[t].failure[0]) {
      fprintf(stderr, "trial %d: client %d: %s\n", no, t, clients[t].failure);
      ok = false;
    }
  }
  total_ops += ops;
  total_acked += acked;
  total_unanswered += lost;
  fprintf(stderr,
          "trial %d: killed after %ld ms: %ld writes, %ld acknowledged, %ld "
          "unanswered\n",
          no, delay, ops, acked, lost);
  if (!it_server_restart(&srv)) {
    fprintf(stderr, "trial %d: the server did not restart\n", no);
    return false;
  }
  char err[2048] = "";
  if (!check_all(seed, err, sizeof err)) {
    fprintf(stderr, "trial %d: FAILED: %s\n", no, err);
    return false;
  }
  return ok;
}

int main(int argc, char **argv) {
  int trials = 5;
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  long min_ms = 100, max_ms = 1500;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--trials") == 0)
      trials = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--seed") == 0)
      seed = (unsigned)strtoul(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--threads") == 0)
      n_threads = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--min-ms") == 0)
      min_ms = atol(argv[i + 1]);
    else if (strcmp(argv[i], "--max-ms") == 0)
      max_ms = atol(argv[i + 1]);
    else {
      fprintf(stderr, "crash_trials: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (trials < 1 || n_threads < 1 || n_threads > MAX_THREADS || min_ms < 0 ||
      max_ms < min_ms) {
    fprintf(stderr, "crash_trials: bad options\n");
    return 2;
  }
  fprintf(stderr,
          "crash_trials: %d trials, %d writers, seed %u (--seed to "
          "repeat)\n",
          trials, n_threads, seed);
  curl_global_init(CURL_GLOBAL_ALL);
  /* The trials share one database and add a few hundred datasets each: the
   * default allowance (10,000) was reached within 30 trials once writes got
   * faster, and every write answered 429. */
  static const char *const allowances[] = {
      "--allowances", "numberOfDatasetsAllowed=100000000", NULL};
  if (!it_server_start(&srv, allowances) || !it_login_bootstrap(&srv, &sess)) {
    fprintf(stderr, "crash_trials: cannot start the server\n");
    return 1;
  }
  for (int t = 0; t < n_threads; t++) {
    clients[t].no = t;
    clients[t].seed = seed * 31u + (unsigned)t * 7919u + 1u;
  }
  int passed = 0;
  for (int i = 1; i <= trials; i++) {
    if (!trial(i, &seed, min_ms, max_ms))
      break;
    passed++;
  }
  fprintf(stderr,
          "crash_trials: %d of %d trials passed; %ld writes, %ld "
          "acknowledged and found intact, %ld unanswered at a kill (%ld of "
          "those found applied, whole); %ld objects read back\n",
          passed, trials, total_ops, total_acked, total_unanswered,
          total_adopted, checked_reads);
  it_server_stop(&srv);
  if (passed == trials)
    it_server_cleanup(&srv);
  else
    fprintf(stderr, "crash_trials: database kept in %s\n", srv.dir);
  for (int t = 0; t < n_threads; t++) {
    for (size_t i = 0; i < clients[t].recs.n; i++) {
      free(clients[t].recs.items[i].content);
      json_decref(clients[t].recs.items[i].acked);
      json_decref(clients[t].recs.items[i].pending);
    }
    free(clients[t].recs.items);
    for (size_t i = 0; i < clients[t].n_lost; i++) {
      free(clients[t].lost[i].content);
      json_decref(clients[t].lost[i].fields);
    }
  }
  curl_global_cleanup();
  return passed == trials ? 0 : 1;
}
