/* The control API's state operations over HTTP: POST /_emulator/reset
 * (under concurrent requests, and of 10,000 documents), snapshots (round
 * trip under concurrent writes, the download/upload form, bad files, the
 * command line flags), deterministic ids across two runs, and setting the
 * clock to an absolute time and back to real time. */
#include "it_client.h"

#include "ck_run.h"
#include <check.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXPECT_STATUS(resp, code)                                              \
  do {                                                                         \
    it_response *r_ = (resp);                                                  \
    ck_assert_msg(r_->status == (code), "%s: expected %d, got %ld: %s",        \
                  r_->what, (int)(code), r_->status, r_->body);                \
  } while (0)

static it_response *control(const it_server *srv, const char *method,
                            const char *path, const char *body) {
  it_request rq = {.method = method,
                   .path = path,
                   .content_type = body ? "application/json" : NULL,
                   .body = body};
  return it_request_send(srv, &rq);
}

static const char *message(const it_response *r) {
  return it_str(r->json, "message");
}

static void reset_ok(const it_server *srv) {
  it_response *r = control(srv, "POST", "/_emulator/reset", NULL);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
}

static size_t list_size(const it_session *s, const char *path,
                        const char *field) {
  it_response *r = it_get(s, "%s", path);
  EXPECT_STATUS(r, 200);
  size_t n = json_array_size(json_object_get(r->json, field));
  it_response_free(r);
  return n;
}

static void make_document(const it_session *s, const char *dataset,
                          char *id_out) {
  json_t *body = json_pack("{s:s, s:s}", "content", "JVBERi0xLjQK",
                           "contentType", "application/pdf");
  if (dataset)
    json_object_set_new(body, "datasetId", json_string(dataset));
  it_response *r = it_send(s, "POST", body, "/documents");
  EXPECT_STATUS(r, 200);
  if (id_out)
    snprintf(id_out, 64, "%s", it_str(r->json, "documentId"));
  it_response_free(r);
}

static void make_dataset(const it_session *s, const char *name, char *id_out) {
  it_response *r =
      it_send(s, "POST", json_pack("{s:s}", "name", name), "/datasets");
  EXPECT_STATUS(r, 200);
  if (id_out)
    snprintf(id_out, 64, "%s", it_str(r->json, "datasetId"));
  it_response_free(r);
}

/* Only the bootstrap: its organization, user and app client; nothing
 * else. */
static void expect_bootstrap_only(const it_session *s) {
  static const struct {
    const char *path, *field;
    size_t n;
  } lists[] = {
      {"/documents", "documents", 0}, {"/datasets", "datasets", 0},
      {"/models", "models", 0},       {"/assets", "assets", 0},
      {"/secrets", "secrets", 0},     {"/transitions", "transitions", 0},
      {"/workflows", "workflows", 0}, {"/appClients", "appClients", 1},
      {"/users", "users", 1},
  };
  for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
    size_t n = list_size(s, lists[i].path, lists[i].field);
    ck_assert_msg(n == lists[i].n, "%s: %zu, expected %zu", lists[i].path, n,
                  lists[i].n);
  }
  it_response *r = it_get(s, "/organizations/me");
  EXPECT_STATUS(r, 200);
  ck_assert_int_eq(
      json_integer_value(json_object_get(r->json, "numberOfAppClientsCreated")),
      1);
  it_response_free(r);
}

/* ---- reset ---- */

typedef struct {
  const it_server *srv;
  const it_session *s;
  atomic_bool *stop;
  int bad; /* answers that were neither 2xx nor 4xx */
  int ok, conflicts;
  char first_bad[1024];
} hammer_arg;

static void hammer_note(hammer_arg *a, it_response *r) {
  if (r->status >= 200 && r->status < 300) {
    a->ok++;
  } else if (r->status >= 400 && r->status < 500) {
    a->conflicts += r->status == 409;
  } else {
    if (!a->bad)
      snprintf(a->first_bad, sizeof a->first_bad, "%s: %ld %.200s %.400s",
               r->what, r->status, r->error, r->body ? r->body : "");
    a->bad++;
  }
  it_response_free(r);
}

static void *hammer(void *p) {
  hammer_arg *a = p;
  for (unsigned i = 0; !atomic_load(a->stop); i++) {
    switch (i % 4) {
    case 0:
      hammer_note(a, it_send(a->s, "POST", json_pack("{s:s}", "name", "h"),
                             "/datasets"));
      break;
    case 1:
      hammer_note(a, it_send(a->s, "POST",
                             json_pack("{s:s, s:s}", "content", "JVBERi0xLjQK",
                                       "contentType", "application/pdf"),
                             "/documents"));
      break;
    case 2:
      hammer_note(a, it_get(a->s, "/documents?maxResults=50"));
      break;
    default:
      hammer_note(a, it_get(a->s, "/datasets"));
      break;
    }
  }
  return NULL;
}

START_TEST(test_reset_under_concurrent_requests) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  /* A second organization, whose token dies with the reset. */
  it_session other;
  ck_assert(it_signup(&srv, &other, NULL));
  make_dataset(&other, "theirs", NULL);

  enum { THREADS = 4, RESETS = 15 };
  atomic_bool stop = false;
  hammer_arg args[THREADS];
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) {
    args[i] = (hammer_arg){.srv = &srv, .s = &s, .stop = &stop};
    ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, &args[i]), 0);
  }
  for (int i = 0; i < RESETS; i++) {
    usleep(60000);
    it_response *r = control(&srv, "POST", "/_emulator/reset", NULL);
    EXPECT_STATUS(r, 200);
    /* The bootstrap comes back as it was: same organization and client. */
    ck_assert_str_eq(it_str(r->json, "organizationId"), srv.org_id);
    ck_assert_str_eq(it_str(r->json, "clientId"), IT_CLIENT_ID);
    ck_assert(json_is_null(json_object_get(r->json, "idSeed")));
    it_response_free(r);
  }
  atomic_store(&stop, true);
  int ok = 0, conflicts = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    ck_assert_msg(args[i].bad == 0, "%d answers were not 2xx/4xx; first: %s",
                  args[i].bad, args[i].first_bad);
    ok += args[i].ok;
    conflicts += args[i].conflicts;
  }
  fprintf(stderr, "reset under load: %d answers 2xx, %d answers 409\n", ok,
          conflicts);
  ck_assert_int_gt(ok, 100);

  reset_ok(&srv);
  /* The bootstrap client's token survived every reset; the other
   * organization's did not, and its data is gone. */
  expect_bootstrap_only(&s);
  it_response *r = it_get(&other, "/datasets");
  EXPECT_STATUS(r, 403);
  it_response_free(r);
  /* The printed credentials still log in; a fresh token works. */
  it_session again;
  ck_assert(it_login_bootstrap(&srv, &again));
  expect_bootstrap_only(&again);
  /* A nextToken of the data before the reset is refused, not continued
   * into the new data. */
  for (int i = 0; i < 3; i++)
    make_dataset(&s, "p", NULL);
  r = it_get(&s, "/datasets?maxResults=1");
  EXPECT_STATUS(r, 200);
  char next[512];
  snprintf(next, sizeof next, "%s", it_str(r->json, "nextToken"));
  it_response_free(r);
  reset_ok(&srv);
  for (int i = 0; i < 3; i++)
    make_dataset(&s, "q", NULL);
  char *enc = it_url_encode(next);
  r = it_get(&s, "/datasets?maxResults=1&nextToken=%s", enc);
  free(enc);
  EXPECT_STATUS(r, 400);
  it_response_free(r);
  /* A reset takes no body, and only POST. */
  r = control(&srv, "GET", "/_emulator/reset", NULL);
  EXPECT_STATUS(r, 405);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* Running, neither gone nor a zombie waiting to be reaped. */
static bool process_running(long pid) {
  char path[64], stat[256];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  size_t n = fread(stat, 1, sizeof stat - 1, f);
  fclose(f);
  stat[n] = '\0';
  const char *close_paren = strrchr(stat, ')');
  return close_paren && close_paren[1] == ' ' && close_paren[2] != 'Z';
}

START_TEST(test_reset_kills_running_commands) {
  char pidfile[128], command[256];
  snprintf(pidfile, sizeof pidfile, "/tmp/las-state-cmd-%d.pid", (int)getpid());
  unlink(pidfile);
  snprintf(command, sizeof command,
           "example/sleeper=echo $$ > %s; exec sleep 300", pidfile);
  const char *const args[] = {"--docker-mode", "command", "--docker-command",
                              command, NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, args));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  it_response *r =
      it_send(&s, "POST",
              json_pack("{s:s, s:{s:s}}", "transitionType", "docker",
                        "parameters", "imageUrl", "example/sleeper"),
              "/transitions");
  EXPECT_STATUS(r, 200);
  char tid[64];
  snprintf(tid, sizeof tid, "%s", it_str(r->json, "transitionId"));
  it_response_free(r);
  r = it_send(&s, "POST", json_pack("{s:{}}", "input"),
              "/transitions/%s/executions", tid);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  long pid = 0;
  for (int i = 0; i < 200 && pid <= 0; i++) {
    FILE *f = fopen(pidfile, "r");
    if (f) {
      if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
      fclose(f);
    }
    if (pid <= 0)
      usleep(50000);
  }
  ck_assert_msg(pid > 0, "the command did not start");
  ck_assert(process_running(pid));
  reset_ok(&srv);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; i++) {
    gone = !process_running(pid);
    if (!gone)
      usleep(50000);
  }
  ck_assert_msg(gone, "the command %ld still runs after the reset", pid);
  unlink(pidfile);
  /* Its end is not recorded anywhere: nothing of the old data is back. */
  usleep(200000);
  expect_bootstrap_only(&s);
  ck_assert_uint_eq(list_size(&s, "/logs", "logs"), 0);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

typedef struct {
  const it_session *s;
  int from, to;
  int failed;
} bulk_arg;

static void *bulk_documents(void *p) {
  bulk_arg *a = p;
  for (int i = a->from; i < a->to; i++) {
    it_response *r = it_send(a->s, "POST",
                             json_pack("{s:s, s:s}", "content", "JVBERi0xLjQK",
                                       "contentType", "application/pdf"),
                             "/documents");
    a->failed += r->status != 200;
    it_response_free(r);
  }
  return NULL;
}

START_TEST(test_reset_of_ten_thousand_documents) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  enum { DOCS = 10000, THREADS = 4 };
  bulk_arg args[THREADS];
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) {
    args[i] = (bulk_arg){&s, i * DOCS / THREADS, (i + 1) * DOCS / THREADS, 0};
    ck_assert_int_eq(pthread_create(&t[i], NULL, bulk_documents, &args[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    ck_assert_int_eq(args[i].failed, 0);
  }
  it_response *r = it_get(&s, "/organizations/me");
  EXPECT_STATUS(r, 200);
  ck_assert_int_eq(json_integer_value(json_object_get(
                       r->json, "monthlyNumberOfDocumentsCreated")),
                   DOCS);
  it_response_free(r);
  r = control(&srv, "POST", "/_emulator/reset", NULL);
  EXPECT_STATUS(r, 200);
  /* Its time is reported (bench/state.sh measures it; no timing assertion
   * here). */
  fprintf(stderr, "reset of %d documents: %.1f ms\n", DOCS,
          json_real_value(json_object_get(r->json, "tookMilliseconds")));
  it_response_free(r);
  expect_bootstrap_only(&s);
  /* Usage counters start again too. */
  r = it_get(&s, "/organizations/me");
  ck_assert_int_eq(json_integer_value(json_object_get(
                       r->json, "monthlyNumberOfDocumentsCreated")),
                   0);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* ---- snapshots ---- */

/* The GET answers a restored emulator must give byte for byte. */
typedef struct {
  char *bodies[16];
  size_t n;
} answers;

static void answers_take(const it_session *s, const char *doc,
                         const char *dataset, answers *out) {
  const char *paths[] = {
      "/documents",    "/datasets",    "/models",
      "/appClients",   "/users",       "/organizations/me",
      "/documents/%s", "/datasets/%s", "/documents?datasetId=%s"};
  out->n = 0;
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    char path[256];
    snprintf(path, sizeof path, paths[i], i == 6 ? doc : dataset);
    it_response *r = it_get(s, "%s", path);
    EXPECT_STATUS(r, 200);
    out->bodies[out->n++] = strdup(r->body);
    it_response_free(r);
  }
}

static void answers_compare(const answers *a, const answers *b) {
  ck_assert_uint_eq(a->n, b->n);
  for (size_t i = 0; i < a->n; i++)
    ck_assert_str_eq(a->bodies[i], b->bodies[i]);
}

static void answers_free(answers *a) {
  for (size_t i = 0; i < a->n; i++)
    free(a->bodies[i]);
  a->n = 0;
}

/* Writes datasets in order into another organization: a consistent
 * snapshot holds a prefix of them, never a later one without an earlier. */
typedef struct {
  const it_session *s;
  atomic_bool *stop;
  char (*ids)[64];
  int max, made, failed;
} writer_arg;

static void *writer(void *p) {
  writer_arg *a = p;
  while (!atomic_load(a->stop) && a->made < a->max) {
    it_response *r =
        it_send(a->s, "POST", json_pack("{s:s}", "name", "w"), "/datasets");
    if (r->status == 200)
      snprintf(a->ids[a->made++], 64, "%s", it_str(r->json, "datasetId"));
    else
      a->failed++;
    it_response_free(r);
  }
  return NULL;
}

static void change_things(const it_session *s, const char *doc,
                          const char *dataset) {
  it_response *r = it_delete(s, "/documents/%s", doc);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  r = it_send(s, "PATCH", json_pack("{s:s}", "name", "renamed"), "/datasets/%s",
              dataset);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  make_dataset(s, "after", NULL);
  make_document(s, dataset, NULL);
}

START_TEST(test_snapshot_round_trip_under_concurrent_writes) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char dataset[64], doc[64];
  make_dataset(&s, "mine", dataset);
  make_document(&s, dataset, doc);
  make_document(&s, NULL, NULL);
  it_response *r = it_send(&s, "POST",
                           json_pack("{s:i, s:i, s:{s:{s:s, s:i}}}", "width",
                                     300, "height", 300, "fieldConfig", "total",
                                     "type", "amount", "maxLength", 10),
                           "/models");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  answers before;
  answers_take(&s, doc, dataset, &before);

  it_session other;
  ck_assert(it_signup(&srv, &other, NULL));
  enum { MAX = 4000 };
  static char written[MAX][64];
  atomic_bool stop = false;
  writer_arg w = {&other, &stop, written, MAX, 0, 0};
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, writer, &w), 0);
  usleep(100000);
  char snap[400];
  snprintf(snap, sizeof snap, "%s/snap.db", srv.dir);
  char body[600];
  snprintf(body, sizeof body, "{\"path\": \"%s\"}", snap);
  r = control(&srv, "POST", "/_emulator/snapshots", body);
  EXPECT_STATUS(r, 200);
  ck_assert_str_eq(it_str(r->json, "path"), snap);
  struct stat sb;
  ck_assert_int_eq(stat(snap, &sb), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(r->json, "bytes")),
                   sb.st_size);
  it_response_free(r);
  usleep(100000);
  atomic_store(&stop, true);
  pthread_join(t, NULL);
  ck_assert_int_eq(w.failed, 0);
  ck_assert_int_gt(w.made, 0);

  change_things(&s, doc, dataset);

  /* Restored while the other organization keeps writing: the answers are
   * those of the moment of the snapshot. */
  int made_before = w.made;
  atomic_store(&stop, false);
  ck_assert_int_eq(pthread_create(&t, NULL, writer, &w), 0);
  snprintf(body, sizeof body, "{\"path\": \"%s\"}", snap);
  r = control(&srv, "POST", "/_emulator/snapshots/restore", body);
  EXPECT_STATUS(r, 200);
  ck_assert_str_eq(it_str(r->json, "restored"), snap);
  ck_assert_str_eq(it_str(r->json, "organizationId"), srv.org_id);
  it_response_free(r);
  atomic_store(&stop, true);
  pthread_join(t, NULL);
  (void)made_before;

  answers after;
  answers_take(&s, doc, dataset, &after);
  answers_compare(&before, &after);
  answers_free(&after);

  /* The other organization's datasets in the snapshot: a prefix of what
   * its writer made, in order. Writes after the restore began may have
   * landed too (they are newer than the snapshot), so compare the
   * prefix up to the first that is not one of the first made. */
  r = it_get(&other, "/datasets?maxResults=1000");
  if (r->status == 200) {
    json_t *list = json_object_get(r->json, "datasets");
    size_t n = json_array_size(list);
    size_t i = 0;
    for (; i < n && (int)i < made_before; i++) {
      const char *id = it_str(json_array_get(list, i), "datasetId");
      if (strcmp(id, written[i]) != 0)
        break;
    }
    /* Everything after that prefix was made after the restore (with a
     * token that is in the snapshot). */
    for (size_t j = i; j < n; j++) {
      const char *id = it_str(json_array_get(list, j), "datasetId");
      bool later = false;
      for (int k = made_before; k < w.made && !later; k++)
        later = strcmp(id, written[k]) == 0;
      ck_assert_msg(later, "dataset %s of the snapshot is out of order", id);
    }
    ck_assert_uint_gt(i, 0);
  } else {
    EXPECT_STATUS(r, 200);
  }
  it_response_free(r);

  /* The download/upload form: the file itself, then put back. */
  it_request rq = {.method = "GET", .path = "/_emulator/snapshot"};
  it_response *file = it_request_send(&srv, &rq);
  EXPECT_STATUS(file, 200);
  ck_assert_str_eq(file->content_type, "application/octet-stream");
  ck_assert_uint_gt(file->body_len, 4096);
  ck_assert_int_eq(memcmp(file->body, "SQLite format 3", 16), 0);
  answers now;
  answers_take(&s, doc, dataset, &now);
  change_things(&s, doc, dataset);
  rq = (it_request){.method = "PUT",
                    .path = "/_emulator/snapshot",
                    .content_type = "application/octet-stream",
                    .body = file->body,
                    .body_len = file->body_len};
  r = it_request_send(&srv, &rq);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  it_response_free(file);
  answers_take(&s, doc, dataset, &after);
  answers_compare(&now, &after);
  answers_free(&after);
  answers_free(&now);
  answers_free(&before);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

static bool write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return false;
  bool ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok;
}

START_TEST(test_restore_of_a_bad_file) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char dataset[64];
  make_dataset(&s, "kept", dataset);

  char text[400], foreign[400], damaged[400], snap[400], dir[400];
  snprintf(text, sizeof text, "%s/text.db", srv.dir);
  snprintf(foreign, sizeof foreign, "%s/foreign.db", srv.dir);
  snprintf(damaged, sizeof damaged, "%s/damaged.db", srv.dir);
  snprintf(snap, sizeof snap, "%s/good.db", srv.dir);
  snprintf(dir, sizeof dir, "%s", srv.dir);
  ck_assert(write_file(text, "hello, world\n", 13));
  sqlite3 *db = NULL;
  ck_assert_int_eq(sqlite3_open(foreign, &db), SQLITE_OK);
  ck_assert_int_eq(sqlite3_exec(db,
                                "CREATE TABLE objects (x); INSERT INTO objects "
                                "VALUES (1)",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  /* A real snapshot, then one cut short. */
  char body[600];
  snprintf(body, sizeof body, "{\"path\": \"%s\"}", snap);
  it_response *r = control(&srv, "POST", "/_emulator/snapshots", body);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  FILE *f = fopen(snap, "rb");
  ck_assert_ptr_nonnull(f);
  static char head[12288];
  size_t got = fread(head, 1, sizeof head, f);
  fclose(f);
  ck_assert_uint_eq(got, sizeof head);
  ck_assert(write_file(damaged, head, sizeof head));

  const struct {
    const char *path; /* NULL: the body as given */
    const char *body;
    const char *message; /* prefix */
  } bad[] = {
      {text, NULL,
       "path: is not a snapshot of las-emulator (not an SQLite database)"},
      {foreign, NULL,
       "path: is not a snapshot of las-emulator (an SQLite database, but "
       "without this program's tables)"},
      {damaged, NULL, "path: is not a snapshot of las-emulator"},
      {dir, NULL, "path: "},
      {"/nonexistent/snapshot.db", NULL, "path: cannot read /nonexistent"},
      {NULL, "{\"path\": \"relative.db\"}", "path: must be an absolute path"},
      {NULL, "{\"path\": 1}", "path: must be a string"},
      {NULL, "{}", "path: is required"},
      {NULL, "{\"path\": \"/x\", \"y\": 1}",
       "y: is not a field of this request (only path)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (bad[i].path)
      snprintf(body, sizeof body, "{\"path\": \"%s\"}", bad[i].path);
    else
      snprintf(body, sizeof body, "%s", bad[i].body);
    r = control(&srv, "POST", "/_emulator/snapshots/restore", body);
    EXPECT_STATUS(r, 400);
    ck_assert_msg(message(r) && strncmp(message(r), bad[i].message,
                                        strlen(bad[i].message)) == 0,
                  "%s: %s", body, r->body);
    it_response_free(r);
  }
  /* A snapshot of a newer version is refused; one of an older version
   * (here without migration 007's table) is brought up to date. */
  char newer[400], older[400], paged[400];
  snprintf(newer, sizeof newer, "%s/newer.db", srv.dir);
  snprintf(older, sizeof older, "%s/older.db", srv.dir);
  snprintf(paged, sizeof paged, "%s/paged.db", srv.dir);
  static const struct {
    const char *sql;
    const char *path_field;
  } edits[] = {
      {"INSERT INTO schema_migrations VALUES (999, '999_future.sql', 0)",
       "newer"},
      {"DROP TABLE workflow_executions; DELETE FROM schema_migrations WHERE "
       "version = 7",
       "older"},
      /* Another page size than the live database's (which the backup
       * into a WAL database needs): converted on the copy. */
      {"PRAGMA page_size=8192; VACUUM", "paged"},
  };
  for (size_t i = 0; i < 3; i++) {
    const char *to = i == 0 ? newer : i == 1 ? older : paged;
    snprintf(body, sizeof body, "{\"path\": \"%s\"}", to);
    r = control(&srv, "POST", "/_emulator/snapshots", body);
    EXPECT_STATUS(r, 200);
    it_response_free(r);
    ck_assert_int_eq(sqlite3_open(to, &db), SQLITE_OK);
    /* The newest migration this build knows, as the snapshot records it. */
    sqlite3_stmt *q = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT max(version) FROM "
                                        "schema_migrations",
                                        -1, &q, NULL),
                     SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    int known = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    ck_assert_int_eq(sqlite3_exec(db, edits[i].sql, NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    r = control(&srv, "POST", "/_emulator/snapshots/restore", body);
    if (i == 0) {
      EXPECT_STATUS(r, 400);
      char want[160];
      snprintf(want, sizeof want,
               "path: is a snapshot of a newer las-emulator (schema version "
               "999; this one knows up to %d)",
               known);
      ck_assert_str_eq(message(r), want);
    } else {
      EXPECT_STATUS(r, 200);
    }
    it_response_free(r);
  }
  /* Restored from the older one: workflow executions work again. */
  json_t *definition = json_pack("{s:s, s:{s:{s:s, s:b}}}", "StartAt", "P",
                                 "States", "P", "Type", "Pass", "End", 1);
  r = it_send(&s, "POST",
              json_pack("{s:s, s:{s:s, s:s, s:o}}", "name", "w",
                        "specification", "language", "ASL", "version", "1.0.0",
                        "definition", definition),
              "/workflows");
  EXPECT_STATUS(r, 200);
  char wf[64];
  snprintf(wf, sizeof wf, "%s", it_str(r->json, "workflowId"));
  it_response_free(r);
  r = it_send(&s, "POST", json_pack("{s:{}}", "input"),
              "/workflows/%s/executions", wf);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  /* Uploads: empty, text, a foreign database. */
  it_request rq = {.method = "PUT",
                   .path = "/_emulator/snapshot",
                   .content_type = "application/octet-stream",
                   .body = ""};
  r = it_request_send(&srv, &rq);
  EXPECT_STATUS(r, 400);
  ck_assert_str_eq(message(r), "body: must be a snapshot file (as GET "
                               "/_emulator/snapshot answers it), is empty");
  it_response_free(r);
  rq.body = "not a database at all";
  r = it_request_send(&srv, &rq);
  EXPECT_STATUS(r, 400);
  ck_assert_str_eq(message(r), "body: is not a snapshot of las-emulator (not "
                               "an SQLite database)");
  it_response_free(r);
  rq.body = head;
  rq.body_len = sizeof head;
  r = it_request_send(&srv, &rq);
  EXPECT_STATUS(r, 400);
  it_response_free(r);
  /* Never over the live database. */
  snprintf(body, sizeof body, "{\"path\": \"%s\"}", srv.db);
  r = control(&srv, "POST", "/_emulator/snapshots", body);
  EXPECT_STATUS(r, 400);
  ck_assert_msg(strstr(message(r), "is the emulator's own database") != NULL,
                "%s", r->body);
  it_response_free(r);
  /* Writing to a place that cannot be written. */
  r = control(&srv, "POST", "/_emulator/snapshots",
              "{\"path\": \"/nonexistent/dir/snap.db\"}");
  EXPECT_STATUS(r, 400);
  ck_assert_msg(strncmp(message(r), "path: cannot write", 18) == 0, "%s",
                r->body);
  it_response_free(r);
  /* Nothing changed, and the server serves on. */
  r = it_get(&s, "/datasets/%s", dataset);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  ck_assert_uint_eq(list_size(&s, "/datasets", "datasets"), 1);
  /* Without leftovers beside the database. */
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* A snapshot replaces only an earlier snapshot (a mistyped path must not
 * turn a file into a database), and is as large as its data: the live file
 * keeps the pages a reset freed, the snapshot does not, so it can be
 * uploaded again. */
START_TEST(test_snapshot_overwrites_only_snapshots_and_is_compact) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char victim[400], snap[400], body[600];
  snprintf(victim, sizeof victim, "%s/notes.txt", srv.dir);
  snprintf(snap, sizeof snap, "%s/snap.db", srv.dir);
  ck_assert(write_file(victim, "important\n", 10));
  snprintf(body, sizeof body, "{\"path\": \"%s\"}", victim);
  it_response *r = control(&srv, "POST", "/_emulator/snapshots", body);
  EXPECT_STATUS(r, 400);
  ck_assert_msg(strstr(message(r), "exists and is not a snapshot"), "%s",
                r->body);
  it_response_free(r);
  char text[32] = {0};
  FILE *f = fopen(victim, "r");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fread(text, 1, sizeof text - 1, f), 10);
  fclose(f);
  ck_assert_str_eq(text, "important\n");

  /* 20 documents of 256 KiB, then a reset: the live file keeps ~5 MB. */
  size_t n = 256 * 1024;
  char *raw = malloc(n);
  ck_assert_ptr_nonnull(raw);
  memcpy(raw, "%PDF-1.4\n", 9);
  for (size_t i = 9; i < n; i++)
    raw[i] = (char)('a' + i % 26);
  char *b64 = malloc(n * 4 / 3 + 8);
  ck_assert_ptr_nonnull(b64);
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i + 2 < n; i += 3) {
    unsigned v = ((unsigned)(unsigned char)raw[i] << 16) |
                 ((unsigned)(unsigned char)raw[i + 1] << 8) |
                 (unsigned char)raw[i + 2];
    b64[o++] = tab[v >> 18];
    b64[o++] = tab[(v >> 12) & 63];
    b64[o++] = tab[(v >> 6) & 63];
    b64[o++] = tab[v & 63];
  }
  b64[o] = '\0';
  free(raw);
  for (int i = 0; i < 20; i++) {
    r = it_send(&s, "POST",
                json_pack("{s:s, s:s}", "content", b64, "contentType",
                          "application/pdf"),
                "/documents");
    EXPECT_STATUS(r, 200);
    it_response_free(r);
  }
  free(b64);
  reset_ok(&srv);
  snprintf(body, sizeof body, "{\"path\": \"%s\"}", snap);
  for (int round = 0; round < 2; round++) {
    /* The second round replaces the first snapshot. */
    r = control(&srv, "POST", "/_emulator/snapshots", body);
    EXPECT_STATUS(r, 200);
    json_int_t bytes = json_integer_value(json_object_get(r->json, "bytes"));
    ck_assert_msg(bytes > 0 && bytes < 1024 * 1024,
                  "a snapshot of the bootstrap state is %lld bytes",
                  (long long)bytes);
    it_response_free(r);
  }
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_snapshot_flags) {
  it_server srv;
  char snap[400];
  snprintf(snap, sizeof snap, "/tmp/las-state-flags-%d.db", (int)getpid());
  unlink(snap);
  const char *const on_exit[] = {"--snapshot-on-exit", snap, NULL};
  ck_assert(it_server_start(&srv, on_exit));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char dataset[64], doc[64];
  make_dataset(&s, "flags", dataset);
  make_document(&s, dataset, doc);
  answers before;
  answers_take(&s, doc, dataset, &before);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
  struct stat sb;
  ck_assert_int_eq(stat(snap, &sb), 0);

  /* A new server on a new database, from the snapshot. */
  const char *const from[] = {"--restore-snapshot", snap, NULL};
  ck_assert(it_server_start(&srv, from));
  ck_assert(it_login_bootstrap(&srv, &s));
  answers after;
  answers_take(&s, doc, dataset, &after);
  answers_compare(&before, &after);
  answers_free(&after);
  answers_free(&before);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
  unlink(snap);
  /* A start from a file that is not a snapshot stops with a reason. */
  const char *const bad[] = {"--db", ":memory:",           "--port",
                             "0",    "--restore-snapshot", "/etc/hostname",
                             NULL};
  char out[512];
  ck_assert_int_eq(it_run_to_exit(bad, 10000, out, sizeof out), 1);
}
END_TEST

/* ---- deterministic ids ---- */

/* What a fixed series of requests answers that is random otherwise. */
static json_t *id_trace(const it_server *srv) {
  json_t *trace = json_array();
  it_response *tok =
      it_token_request(srv, IT_CLIENT_ID, IT_CLIENT_SECRET, NULL);
  ck_assert_int_eq(tok->status, 200);
  json_array_append(trace, json_object_get(tok->json, "access_token"));
  it_session s = {.srv = srv};
  snprintf(s.token, sizeof s.token, "%s", it_str(tok->json, "access_token"));
  snprintf(s.api_key, sizeof s.api_key, "%s", IT_API_KEY);
  it_response_free(tok);
  it_response *r =
      it_send(&s, "POST", json_pack("{s:s}", "name", "ds"), "/datasets");
  EXPECT_STATUS(r, 200);
  json_array_append(trace, json_object_get(r->json, "datasetId"));
  it_response_free(r);
  r = it_send(&s, "POST",
              json_pack("{s:s, s:s}", "content", "JVBERi0xLjQK", "contentType",
                        "application/pdf"),
              "/documents");
  EXPECT_STATUS(r, 200);
  json_array_append(trace, json_object_get(r->json, "documentId"));
  it_response_free(r);
  r = it_send(&s, "POST",
              json_pack("{s:s, s:b}", "name", "c", "generateSecret", 1),
              "/appClients");
  EXPECT_STATUS(r, 200);
  static const char *const fields[] = {"appClientId", "clientId",
                                       "clientSecret", "apiKey"};
  for (size_t i = 0; i < 4; i++)
    json_array_append(trace, json_object_get(r->json, fields[i]));
  it_response_free(r);
  for (int i = 0; i < 3; i++)
    make_dataset(&s, "page", NULL);
  r = it_get(&s, "/datasets?maxResults=2");
  EXPECT_STATUS(r, 200);
  json_array_append(trace, json_object_get(r->json, "nextToken"));
  it_response_free(r);
  return trace;
}

START_TEST(test_ids_are_the_same_across_two_runs) {
  const char *const seeded[] = {"--id-seed", "12345", NULL};
  json_t *traces[2];
  char orgs[2][64];
  for (int run = 0; run < 2; run++) {
    it_server srv;
    ck_assert(it_server_start(&srv, seeded));
    snprintf(orgs[run], 64, "%s", srv.org_id);
    it_response *r = control(&srv, "GET", "/_emulator/ids", NULL);
    EXPECT_STATUS(r, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r->json, "seed")),
                     12345);
    ck_assert(json_is_true(json_object_get(r->json, "deterministic")));
    it_response_free(r);
    traces[run] = id_trace(&srv);
    /* After a reset the sequence starts again: the same ids again. */
    reset_ok(&srv);
    json_t *again = id_trace(&srv);
    ck_assert_msg(json_equal(again, traces[run]), "after a reset: %s vs %s",
                  json_dumps(again, 0), json_dumps(traces[run], 0));
    json_decref(again);
    ck_assert_int_eq(it_server_stop(&srv), 0);
    it_server_cleanup(&srv);
  }
  ck_assert_str_eq(orgs[0], orgs[1]);
  char *a = json_dumps(traces[0], 0), *b = json_dumps(traces[1], 0);
  ck_assert_str_eq(a, b);
  free(a);
  free(b);
  json_decref(traces[0]);
  json_decref(traces[1]);
}
END_TEST

/* A restart with the same --id-seed on a kept database (a container's
 * volume) continues on a sequence of its own: the third start's login
 * answered 500 when the sequence began at the seed again and repeated the
 * first run's tokens. A reset still gives a fresh start's ids. */
START_TEST(test_id_seed_restarts_do_not_repeat) {
  const char *const seeded[] = {"--id-seed", "42", NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, seeded));
  json_t *first = id_trace(&srv);
  for (int run = 0; run < 3; run++) {
    it_server_stop(&srv);
    ck_assert(it_server_restart(&srv));
    json_t *t = id_trace(&srv);
    ck_assert_msg(!json_equal(t, first), "restart %d repeated the ids", run);
    json_decref(t);
  }
  /* After a reset: the ids of a fresh start with that seed. */
  reset_ok(&srv);
  json_t *again = id_trace(&srv);
  ck_assert_msg(json_equal(again, first), "after a reset: %s vs %s",
                json_dumps(again, 0), json_dumps(first, 0));
  json_decref(again);
  json_decref(first);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_id_seed_control_calls) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_response *r = control(&srv, "GET", "/_emulator/ids", NULL);
  EXPECT_STATUS(r, 200);
  ck_assert(json_is_null(json_object_get(r->json, "seed")));
  ck_assert(json_is_false(json_object_get(r->json, "deterministic")));
  it_response_free(r);
  /* The same seed set twice gives the same ids after it. */
  char first[2][64];
  for (int i = 0; i < 2; i++) {
    r = control(&srv, "PUT", "/_emulator/ids", "{\"seed\": 99}");
    EXPECT_STATUS(r, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r->json, "seed")), 99);
    it_response_free(r);
    r = control(&srv, "POST", "/_emulator/reset", NULL);
    EXPECT_STATUS(r, 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r->json, "idSeed")),
                     99);
    it_response_free(r);
    it_session s;
    ck_assert(it_login_bootstrap(&srv, &s));
    make_dataset(&s, "x", first[i]);
  }
  ck_assert_str_eq(first[0], first[1]);
  /* Back to random: different ids. */
  r = control(&srv, "DELETE", "/_emulator/ids", NULL);
  EXPECT_STATUS(r, 200);
  ck_assert(json_is_null(json_object_get(r->json, "seed")));
  it_response_free(r);
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  char third[64];
  make_dataset(&s, "x", third);
  ck_assert_str_ne(third, first[0]);
  static const struct {
    const char *body, *message;
  } bad[] = {
      {"{}", "seed: is required"},
      {"{\"seed\": -1}", "seed: must be >= 0"},
      {"{\"seed\": \"1\"}", "seed: must be an integer"},
      {"{\"seed\": 1.5}", "seed: must be an integer"},
      {"{\"seed\": 1, \"x\": 2}", "x: is not a field of this request (only "
                                  "seed)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    r = control(&srv, "PUT", "/_emulator/ids", bad[i].body);
    EXPECT_STATUS(r, 400);
    ck_assert_str_eq(message(r), bad[i].message);
    it_response_free(r);
  }
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
  const char *const bad_flag[] = {"--db",      ":memory:", "--port", "0",
                                  "--id-seed", "-3",       NULL};
  char out[256];
  ck_assert_int_eq(it_run_to_exit(bad_flag, 5000, out, sizeof out), 1);
}
END_TEST

/* ---- the clock ---- */

static int64_t clock_ms(const it_server *srv) {
  it_response *r = control(srv, "GET", "/_emulator/clock", NULL);
  EXPECT_STATUS(r, 200);
  int64_t ms =
      json_integer_value(json_object_get(r->json, "epochMilliseconds"));
  it_response_free(r);
  return ms;
}

START_TEST(test_clock_set_and_reset) {
  static const char *const slow[] = {"--processing-delay-ms", "600000", NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, slow));
  it_session s;
  ck_assert(it_login_bootstrap(&srv, &s));
  /* Some work due in ten minutes. */
  it_response *r = it_send(&s, "POST",
                           json_pack("{s:i, s:i, s:{s:{s:s, s:i}}}", "width",
                                     300, "height", 300, "fieldConfig", "total",
                                     "type", "amount", "maxLength", 10),
                           "/models");
  EXPECT_STATUS(r, 200);
  char model[64];
  snprintf(model, sizeof model, "%s", it_str(r->json, "modelId"));
  it_response_free(r);
  char dataset[64];
  make_dataset(&s, "d", dataset);
  make_document(&s, dataset, NULL);
  r = it_send(&s, "POST",
              json_pack("{s:[s], s:s}", "datasetIds", dataset, "name", "b"),
              "/models/%s/dataBundles", model);
  EXPECT_STATUS(r, 200);
  it_response_free(r);

  /* Far ahead, in every accepted zone form: the same instant. */
  static const char *const forms[] = {
      "{\"now\": \"2100-01-01T12:00:00Z\"}",
      "{\"now\": \"2100-01-01T12:00:00.000000+0000\"}",
      "{\"now\": \"2100-01-01T13:30:00+01:30\"}",
      "{\"now\": \"2100-01-01T10:00:00-0200\"}",
  };
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    r = control(&srv, "PUT", "/_emulator/clock", forms[i]);
    EXPECT_STATUS(r, 200);
    int64_t ms =
        json_integer_value(json_object_get(r->json, "epochMilliseconds"));
    /* 2100-01-01T12:00:00Z, give or take the request's own time. */
    ck_assert_msg(ms >= 4102488000000LL && ms < 4102488000000LL + 5000,
                  "%s: %lld", forms[i], (long long)ms);
    /* The bundle was due: it ran before the answer (here, or on the
     * engine thread if that was awake: the answer waits for it). */
    if (i == 0)
      ck_assert(json_real_value(json_object_get(r->json, "movedSeconds")) > 0);
    it_response_free(r);
  }
  r = it_get(&s, "/models/%s/dataBundles", model);
  EXPECT_STATUS(r, 200);
  ck_assert_str_eq(
      it_str(json_array_get(json_object_get(r->json, "dataBundles"), 0),
             "status"),
      "ready");
  it_response_free(r);
  /* Objects made now carry the set time. */
  r = it_send(&s, "POST", json_pack("{s:s}", "name", "future"), "/datasets");
  EXPECT_STATUS(r, 200);
  ck_assert_msg(
      strncmp(it_str(r->json, "createdTime"), "2100-01-01T12:0", 15) == 0, "%s",
      it_str(r->json, "createdTime"));
  it_response_free(r);

  /* Backwards: allowed, nothing runs, and the token (real time) works. */
  r = control(&srv, "PUT", "/_emulator/clock",
              "{\"now\": \"2001-02-03T04:05:06Z\"}");
  EXPECT_STATUS(r, 200);
  ck_assert(json_real_value(json_object_get(r->json, "movedSeconds")) < 0);
  ck_assert_int_eq(json_integer_value(json_object_get(r->json, "jobsRun")), 0);
  ck_assert(json_real_value(json_object_get(r->json, "offsetSeconds")) < 0);
  it_response_free(r);
  int64_t ms = clock_ms(&srv);
  ck_assert(ms >= 981173106000LL && ms < 981173106000LL + 5000);
  ck_assert_uint_eq(list_size(&s, "/datasets", "datasets"), 2);

  /* Back to real time. */
  r = control(&srv, "DELETE", "/_emulator/clock", NULL);
  EXPECT_STATUS(r, 200);
  ck_assert(json_real_value(json_object_get(r->json, "offsetSeconds")) == 0);
  it_response_free(r);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t real_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  ms = clock_ms(&srv);
  ck_assert_msg(ms >= real_ms - 5000 && ms <= real_ms + 5000, "%lld vs %lld",
                (long long)ms, (long long)real_ms);
  /* A reset keeps the clock's offset. */
  r = control(&srv, "PUT", "/_emulator/clock",
              "{\"now\": \"2100-01-01T00:00:00Z\"}");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  reset_ok(&srv);
  ck_assert(clock_ms(&srv) >= 4102444800000LL);

  static const struct {
    const char *body, *message;
  } bad[] = {
      {"{}", "now: is required"},
      {"{\"now\": 1}", "now: must be a string"},
      {"{\"now\": \"2100-01-01\"}", NULL},
      {"{\"now\": \"2100-01-01T00:00:00\"}", NULL},
      {"{\"now\": \"2100-02-30T00:00:00Z\"}", NULL},
      {"{\"now\": \"2100-01-01T24:00:00Z\"}", NULL},
      {"{\"now\": \"2100-01-01T00:00:00.Z\"}", NULL},
      {"{\"now\": \"2100-01-01T00:00:00Zjunk\"}", NULL},
      {"{\"now\": \"1969-12-31T23:59:59Z\"}",
       "now: must be from 1970-01-01T00:00:00Z to 9998-12-31T23:59:59Z"},
      /* A year of headroom: the running clock never writes year 10000. */
      {"{\"now\": \"9999-12-31T23:59:58Z\"}",
       "now: must be from 1970-01-01T00:00:00Z to 9998-12-31T23:59:59Z"},
      {"{\"now\": \"2100-01-01T00:00:00Z\", \"seconds\": 1}",
       "seconds: is not a field of this request (only now)"},
      {"[]", "body: must be object"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    r = control(&srv, "PUT", "/_emulator/clock", bad[i].body);
    EXPECT_STATUS(r, 400);
    if (bad[i].message)
      ck_assert_str_eq(message(r), bad[i].message);
    else
      ck_assert_msg(strncmp(message(r), "now: must be an ISO 8601", 24) == 0,
                    "%s", r->body);
    it_response_free(r);
  }
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

static Suite *state_suite(void) {
  Suite *s = suite_create("state");
  TCase *tc = tcase_create("state");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_reset_under_concurrent_requests);
  tcase_add_test(tc, test_reset_of_ten_thousand_documents);
  tcase_add_test(tc, test_reset_kills_running_commands);
  tcase_add_test(tc, test_snapshot_round_trip_under_concurrent_writes);
  tcase_add_test(tc, test_restore_of_a_bad_file);
  tcase_add_test(tc, test_snapshot_flags);
  tcase_add_test(tc, test_snapshot_overwrites_only_snapshots_and_is_compact);
  tcase_add_test(tc, test_ids_are_the_same_across_two_runs);
  tcase_add_test(tc, test_id_seed_restarts_do_not_repeat);
  tcase_add_test(tc, test_id_seed_control_calls);
  tcase_add_test(tc, test_clock_set_and_reset);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ck_run(state_suite(), CK_NORMAL);
}
