/* Fuzz target: the seed fixture loader (resources/seed.h). The input is a
 * fixture document, JSON text, parsed with seed_parse and applied with
 * seed_apply inside a write transaction on a throw-away database with the
 * bootstrap tenant, which is then rolled back, so every input starts from
 * the same state. Relative contentFile paths resolve in a directory holding
 * a.pdf, b.png, empty (0 bytes) and the directory d.
 *
 * Findings, besides crashes, sanitizer reports, leaks and hangs:
 * - a store failure or a 5xx from a handler (STORE_ERROR / STORE_BUSY):
 *   whatever a fixture holds, it is applied or refused;
 * - a refusal without a message, or one that does not start with the
 *   entry, section or rule it is about ("datasets[2]…", "widgets: …",
 *   "must be an object…", a parse error), or that is not UTF-8;
 * - an applied document whose count differs from its number of entries, or
 *   from what `created` lists, or one of whose fixed ids is not in the
 *   database afterwards;
 * - a fixed id left pending (ids_force_next) after the loader returns: the
 *   next object made on this thread would take it. */
#include "fuzz_env.h"

#include "core/ids.h"
#include "resources/seed.h"
#include "storage/store.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fuzz_env env;
static char fuzz_dir[256];

static int fuzz_rm(const char *path, const struct stat *sb, int flag,
                   struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void fuzz_seed_cleanup(void) {
  if (fuzz_dir[0])
    nftw(fuzz_dir, fuzz_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static void fuzz_put(const char *name, const void *bytes, size_t len) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", fuzz_dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(bytes, 1, len, f) != len)
    fuzz_fail("cannot write %s", path);
  fclose(f);
}

static void fuzz_seed_init(void) {
  fuzz_env_open(&env);
  const char *tmp = getenv("TMPDIR");
  snprintf(fuzz_dir, sizeof fuzz_dir, "%s/las-fuzz-seed-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(fuzz_dir))
    fuzz_fail("mkdtemp %s", fuzz_dir);
  atexit(fuzz_seed_cleanup);
  fuzz_put("a.pdf", "%PDF-1.4\n", 9);
  fuzz_put("b.png", "\x89PNG\r\n\x1a\n\x01\x02", 10);
  fuzz_put("empty", "", 0);
  char sub[300];
  snprintf(sub, sizeof sub, "%s/d", fuzz_dir);
  mkdir(sub, 0700);
}

typedef struct {
  const json_t *doc;
  json_t *created;
  size_t count;
  store_status st;
  char err[1024];
} fuzz_seed_run;

/* The field of a section's entries that fixes their id. */
static const char *fuzz_own_id_field(const char *section) {
  static const struct {
    const char *section, *field;
  } map[] = {{"organizations", "organizationId"},
             {"users", "userId"},
             {"appClients", "appClientId"},
             {"secrets", "secretId"},
             {"assets", "assetId"},
             {"datasets", "datasetId"},
             {"documents", "documentId"},
             {"models", "modelId"},
             {"transitions", "transitionId"},
             {"workflows", "workflowId"}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(map[i].section, section) == 0)
      return map[i].field;
  return NULL;
}

static void fuzz_check_applied(store *s, fuzz_seed_run *r) {
  size_t entries = 0, listed = 0;
  const char *section;
  json_t *list;
  json_object_foreach((json_t *)r->doc, section, list) {
    entries += json_array_size(list);
    const char *own = fuzz_own_id_field(section);
    size_t i;
    json_t *entry;
    json_array_foreach(list, i, entry) {
      const char *id = json_string_value(json_object_get(entry, own));
      if (own && id && store_seed_id_used(s, id) != STORE_ONE)
        fuzz_fail("%s[%zu]: fixed id %s is not in the database", section, i,
                  id);
    }
  }
  json_object_foreach(r->created, section, list) listed +=
      json_array_size(list);
  if (r->count != entries || listed != entries)
    fuzz_fail("applied %zu entries (%zu listed) of %zu", r->count, listed,
              entries);
  /* Nothing pending: a fresh id of each kind is a fresh one. */
  static const char *const kinds[] = {
      "organization", "user",     "app-client", "secret",     "asset",
      "dataset",      "document", "model",      "transition", "workflow"};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    char id[IDS_MAX_LEN];
    ids_new(kinds[i], id, sizeof id);
    if (store_seed_id_used(s, id) != STORE_NONE)
      fuzz_fail("ids_new(%s) gave %s, an id in use: a fixed id was left "
                "pending",
                kinds[i], id);
  }
}

static bool fuzz_utf8(const char *s) {
  json_t *j = json_string(s);
  json_decref(j);
  return j != NULL;
}

static void fuzz_check_refusal(const fuzz_seed_run *r) {
  const char *m = r->err;
  if (!m[0])
    fuzz_fail("refused without a message");
  if (!fuzz_utf8(m))
    fuzz_fail("message is not UTF-8: %s", m);
  static const char *const starts[] = {
      "organizations", "users",     "appClients",        "secrets",
      "assets",        "datasets",  "documents",         "models",
      "transitions",   "workflows", "must be an object", NULL};
  for (const char *const *p = starts; *p; p++)
    if (strncmp(m, *p, strlen(*p)) == 0)
      return;
  /* An unknown section is named by its key. */
  if (strstr(m, ": is not a section of a seed ("))
    return;
  fuzz_fail("message names no entry or section: %s", m);
}

static store_status fuzz_seed_tx(store *s, void *arg) {
  fuzz_seed_run *r = arg;
  json_object_clear(r->created);
  r->st = seed_apply(s, r->doc, fuzz_dir, &r->count, r->created, r->err,
                     sizeof r->err);
  if (r->st == STORE_ONE)
    fuzz_check_applied(s, r);
  /* Always rolled back: the next input starts from the same database. */
  return STORE_NONE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static bool ready;
  if (!ready) {
    fuzz_seed_init();
    ready = true;
  }
  char err[512] = "";
  json_t *doc = seed_parse((const char *)data, size, err, sizeof err);
  if (!doc) {
    if (!err[0] || !fuzz_utf8(err))
      fuzz_fail("parse refused without a readable message");
    return 0;
  }
  fuzz_seed_run r = {.doc = doc, .created = json_object()};
  store_status st = store_write_tx(fuzz_seed_tx, &r);
  if (st != STORE_NONE)
    fuzz_fail("the transaction ended %d, not rolled back", st);
  /* FUZZ_VERBOSE=1: one line per input, to see what seeds reach. */
  if (getenv("FUZZ_VERBOSE"))
    fprintf(stderr, "seed: %s %zu: %s\n",
            r.st == STORE_ONE    ? "applied"
            : r.st == STORE_NONE ? "refused"
                                 : "failed",
            r.count, r.err);
  if (r.st == STORE_NONE)
    fuzz_check_refusal(&r);
  else if (r.st != STORE_ONE)
    fuzz_fail("store failure %d: %s", r.st, r.err);
  json_decref(r.created);
  json_decref(doc);
  return 0;
}
