/* Seed fixtures and canned prediction results.
 *
 * Over HTTP against the real binary (every response checked against its
 * schema, --validate-responses): a --seed file with every section, fixed
 * ids and fixed credentials that log in; contents from base64 and from a
 * file; each kind of bad fixture refused at start (exit 1, the message
 * naming the entry and the rule) and at run time (400, same message), with
 * nothing of the file applied either way; canned results in order, then
 * the generator; canned failures; the queue's checks, listing and clearing.
 *
 * In this process, on a database of its own: the loader inside a caller's
 * write transaction (what POST /_emulator/reset does through the control
 * hooks), committed or rolled back by the caller; a restore applies
 * nothing; the canned queues emptied by a reset. */
#include "it_client.h"

#include "core/config.h"
#include "resources/bootstrap.h"
#include "resources/canned.h"
#include "resources/control.h"
#include "resources/seed.h"
#include "storage/store.h"
#include "validation/schemas.h"

#include "ck_run.h"
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXPECT_STATUS(resp, code)                                              \
  do {                                                                         \
    it_response *r_ = (resp);                                                  \
    ck_assert_msg(r_->status == (code), "%s: expected %d, got %ld: %s",        \
                  r_->what, (int)(code), r_->status, r_->body);                \
  } while (0)

/* Fixed ids the fixtures use. */
#define ORG2 "las:organization:00000000000000000000000000000002"
#define APP1 "las:app-client:00000000000000000000000000000001"
#define USER1 "las:user:00000000000000000000000000000001"
#define SECRET1 "las:secret:00000000000000000000000000000001"
#define ASSET1 "las:asset:00000000000000000000000000000001"
#define DS1 "las:dataset:00000000000000000000000000000001"
#define DS2 "las:dataset:00000000000000000000000000000002"
#define DOC1 "las:document:00000000000000000000000000000001"
#define DOC2 "las:document:00000000000000000000000000000002"
#define MODEL1 "las:model:00000000000000000000000000000001"
#define MODEL2 "las:model:00000000000000000000000000000002"
#define TR1 "las:transition:00000000000000000000000000000001"
#define TR2 "las:transition:00000000000000000000000000000002"
#define WF1 "las:workflow:00000000000000000000000000000001"

/* The bytes of files/scan.png, a PNG by its signature. */
static const unsigned char png_bytes[] = {0x89, 'P',  'N',  'G',  '\r', '\n',
                                          0x1a, '\n', 0x00, 0x01, 0x02, 0xff};
/* %PDF-1.4\n */
static const char *const pdf_b64 = "JVBERi0xLjQK";

/* A full fixture document: every section, fixed ids, references in both
 * directions of the file (documents come before datasets in the text). */
static const char seed_full[] =
    "{\n"
    " \"documents\": [\n"
    "  {\"documentId\": \"" DOC1 "\", \"contentType\": \"image/png\",\n"
    "   \"contentFile\": \"files/scan.png\", \"datasetId\": \"" DS1 "\",\n"
    "   \"groundTruth\": [{\"label\": \"total\", \"value\": \"120.50\"}]},\n"
    "  {\"documentId\": \"" DOC2 "\", \"contentType\": \"application/pdf\",\n"
    "   \"content\": \"JVBERi0xLjQK\"}\n"
    " ],\n"
    " \"organizations\": [\n"
    "  {\"bootstrap\": true, \"name\": \"Acme\", \"description\": \"test\"},\n"
    "  {\"organizationId\": \"" ORG2 "\", \"name\": \"Other\"}\n"
    " ],\n"
    " \"appClients\": [\n"
    "  {\"appClientId\": \"" APP1 "\", \"name\": \"ci\", \"clientId\": "
    "\"ci-client\",\n"
    "   \"clientSecret\": \"ci-secret:with-colon\", \"apiKey\": \"ci-key\"},\n"
    "  {\"organizationId\": \"" ORG2 "\", \"clientId\": \"other-client\",\n"
    "   \"clientSecret\": \"other-secret\"}\n"
    " ],\n"
    " \"users\": [{\"userId\": \"" USER1 "\", \"email\": \"a@example.com\"}],\n"
    " \"secrets\": [{\"secretId\": \"" SECRET1
    "\", \"data\": {\"k\": \"v\"}}],\n"
    " \"assets\": [{\"assetId\": \"" ASSET1 "\", \"contentFile\": "
    "\"files/scan.png\"}],\n"
    " \"datasets\": [\n"
    "  {\"datasetId\": \"" DS1 "\", \"name\": \"Invoices\"},\n"
    "  {\"datasetId\": \"" DS2 "\", \"organizationId\": \"" ORG2 "\"}\n"
    " ],\n"
    " \"models\": [{\"modelId\": \"" MODEL1 "\", \"width\": 800, \"height\": "
    "1200,\n"
    "   \"fieldConfig\": {\"total\": {\"type\": \"amount\", \"maxLength\": 10, "
    "\"description\": \"\"},\n"
    "                   \"due\": {\"type\": \"date\", \"maxLength\": 10, "
    "\"description\": "
    "\"\"}}}],\n"
    " \"transitions\": [\n"
    "  {\"transitionId\": \"" TR1 "\", \"transitionType\": \"manual\"},\n"
    "  {\"transitionId\": \"" TR2 "\", \"transitionType\": \"docker\",\n"
    "   \"parameters\": {\"imageUrl\": \"example/image\", \"secretId\": "
    "\"" SECRET1 "\"}}\n"
    " ],\n"
    " \"workflows\": [{\"workflowId\": \"" WF1 "\", \"name\": \"Review\",\n"
    "   \"specification\": {\"definition\": {\"StartAt\": \"R\", \"States\": "
    "{\"R\": {\"Type\": \"Task\", \"Resource\": \"" TR1 "\", \"End\": "
    "true}}}}}]\n"
    "}\n";
enum { SEED_FULL_OBJECTS = 15 };

static void write_file(const char *dir, const char *name, const void *data,
                       size_t len) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *slash = strrchr(path, '/');
  if (slash && slash > path + strlen(dir)) {
    *slash = '\0';
    mkdir(path, 0700);
    *slash = '/';
  }
  FILE *f = fopen(path, "wb");
  ck_assert_msg(f != NULL, "cannot write %s", path);
  ck_assert_uint_eq(fwrite(data, 1, len, f), len);
  fclose(f);
}

static void write_text(const char *dir, const char *name, const char *text) {
  write_file(dir, name, text, strlen(text));
}

/* Runs the binary with args, its stdout and stderr into out; the exit
 * status, or -1 when it did not exit within 20 s (then killed). */
static int run_capture(const char *const *args, char *out, size_t outlen) {
  const char *bin = getenv("LAS_EMULATOR_BIN");
  ck_assert(bin != NULL);
  const char *argv[32];
  size_t n = 0;
  argv[n++] = bin;
  for (size_t i = 0; args[i] && n < 31; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t pid = fork();
  ck_assert(pid >= 0);
  if (pid == 0) {
    dup2(p[1], STDOUT_FILENO);
    dup2(p[1], STDERR_FILENO);
    close(p[0]);
    close(p[1]);
    execv(bin, (char *const *)argv);
    _exit(127);
  }
  close(p[1]);
  size_t used = 0;
  int64_t deadline = it_now_ms() + 20000;
  for (;;) {
    int64_t left = deadline - it_now_ms();
    struct pollfd pfd = {p[0], POLLIN, 0};
    if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
      break;
    char buf[1024];
    ssize_t got = read(p[0], buf, sizeof buf);
    if (got <= 0)
      break;
    size_t take =
        (size_t)got < outlen - 1 - used ? (size_t)got : outlen - 1 - used;
    memcpy(out + used, buf, take);
    used += take;
  }
  out[used] = '\0';
  close(p[0]);
  int status = 0;
  for (int i = 0; i < 200; i++) {
    if (waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    usleep(50000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

static char *b64_of(const void *data, size_t len) {
  char *b = it_b64_encode(data, len);
  ck_assert(b != NULL);
  return b;
}

/* Names of every dataset the session's organization has, joined by '|'. */
static void dataset_names(const it_session *c, char *out, size_t len) {
  it_response *r = it_get(c, "/datasets?maxResults=1000");
  EXPECT_STATUS(r, 200);
  size_t used = 0, i;
  json_t *ds;
  out[0] = '\0';
  json_array_foreach(json_object_get(r->json, "datasets"), i, ds) {
    const char *name = it_str(ds, "name");
    used +=
        (size_t)snprintf(out + used, len - used, "%s|", name ? name : "(null)");
    if (used >= len)
      break;
  }
  it_response_free(r);
}

static long count_of(const it_session *c, const char *path, const char *list) {
  it_response *r = it_get(c, "%s?maxResults=1000", path);
  EXPECT_STATUS(r, 200);
  long n = (long)json_array_size(json_object_get(r->json, list));
  it_response_free(r);
  return n;
}

/* ---- a seed that succeeds ---- */

static void check_full_seed(const it_server *srv) {
  it_session ci;
  ck_assert_msg(
      it_login(srv, "ci-client", "ci-secret:with-colon", "ci-key", &ci),
      "the fixture's fixed credentials do not log in");
  /* Every fixed id is served. */
  static const char *const paths[] = {
      "/appClients",     "/users/" USER1,     "/assets/" ASSET1,
      "/datasets/" DS1,  "/documents/" DOC1,  "/documents/" DOC2,
      "/models/" MODEL1, "/transitions/" TR1, "/transitions/" TR2,
      "/workflows/" WF1, "/organizations/me"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    it_response *r = it_get(&ci, "%s", paths[i]);
    EXPECT_STATUS(r, 200);
    it_response_free(r);
  }
  it_response *r = it_get(&ci, "/organizations/me");
  ck_assert_str_eq(it_str(r->json, "name"), "Acme");
  ck_assert_str_eq(it_str(r->json, "description"), "test");
  ck_assert_str_eq(it_str(r->json, "organizationId"), srv->org_id);
  it_response_free(r);
  /* Content from a file and from base64, byte for byte. */
  char *png = b64_of(png_bytes, sizeof png_bytes);
  r = it_get(&ci, "/documents/" DOC1);
  ck_assert_str_eq(it_str(r->json, "content"), png);
  ck_assert_str_eq(it_str(r->json, "datasetId"), DS1);
  it_response_free(r);
  r = it_get(&ci, "/assets/" ASSET1);
  ck_assert_str_eq(it_str(r->json, "content"), png);
  it_response_free(r);
  free(png);
  r = it_get(&ci, "/documents/" DOC2);
  ck_assert_str_eq(it_str(r->json, "content"), pdf_b64);
  it_response_free(r);
  r = it_get(&ci, "/datasets/" DS1);
  ck_assert_int_eq(
      json_integer_value(json_object_get(r->json, "numberOfDocuments")), 1);
  it_response_free(r);
  /* The app client has the id asked for and the api key given. */
  r = it_get(&ci, "/appClients");
  size_t i;
  json_t *c;
  bool found = false;
  json_array_foreach(json_object_get(r->json, "appClients"), i, c) {
    if (strcmp(it_str(c, "appClientId"), APP1) == 0) {
      found = true;
      ck_assert_str_eq(it_str(c, "clientId"), "ci-client");
      ck_assert_str_eq(it_str(c, "apiKey"), "ci-key");
    }
  }
  ck_assert(found);
  it_response_free(r);
  /* The bootstrap client sees the same organization. */
  it_session boot;
  ck_assert(it_login_bootstrap(srv, &boot));
  r = it_get(&boot, "/workflows/" WF1);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  /* The other organization: its own client, its own dataset, nothing of
   * the bootstrap organization's. */
  it_session other;
  ck_assert(it_login(srv, "other-client", "other-secret", NULL, &other));
  r = it_get(&other, "/organizations/me");
  ck_assert_str_eq(it_str(r->json, "organizationId"), ORG2);
  ck_assert_str_eq(it_str(r->json, "name"), "Other");
  it_response_free(r);
  r = it_get(&other, "/datasets/" DS2);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  r = it_get(&other, "/datasets/" DS1);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  r = it_get(&ci, "/datasets/" DS2);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  /* A wrong secret does not log in. */
  it_session nobody;
  ck_assert(!it_login(srv, "ci-client", "ci-secret", NULL, &nobody));
}

START_TEST(test_seed_file_at_start) {
  it_server srv;
  char dir[] = "/tmp/las-seed-XXXXXX";
  ck_assert(mkdtemp(dir));
  write_text(dir, "seed.json", seed_full);
  write_file(dir, "files/scan.png", png_bytes, sizeof png_bytes);
  char seed_path[600];
  snprintf(seed_path, sizeof seed_path, "%s/seed.json", dir);
  const char *const args[] = {"--seed", seed_path, NULL};
  ck_assert(it_server_start(&srv, args));
  char want[700];
  snprintf(want, sizeof want, "seed: %s: %d objects created", seed_path,
           SEED_FULL_OBJECTS);
  ck_assert_msg(strstr(srv.banner, want), "banner lacks \"%s\":\n%s", want,
                srv.banner);
  check_full_seed(&srv);
  /* A restart on the same database does not apply it again (its fixed ids
   * exist), and everything is still there. */
  ck_assert_int_eq(it_server_stop(&srv), 0);
  ck_assert(it_server_restart(&srv));
  ck_assert_msg(strstr(srv.banner, "applied to this database before"), "%s",
                srv.banner);
  check_full_seed(&srv);
  it_session ci;
  ck_assert(it_login(&srv, "ci-client", "ci-secret:with-colon", NULL, &ci));
  ck_assert_int_eq(count_of(&ci, "/datasets", "datasets"), 1);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  /* A changed file is applied on top: its fixed ids exist, so the start
   * fails, saying why. */
  write_text(dir, "seed.json",
             "{\"datasets\": [{\"datasetId\": \"" DS1 "\"}]}");
  const char *const changed[] = {"--port", "0",       "--db", srv.db,
                                 "--seed", seed_path, NULL};
  char out[4096];
  ck_assert_int_eq(run_capture(changed, out, sizeof out), 1);
  ck_assert_msg(strstr(out, "datasets[0].datasetId: " DS1 " exists already "
                            "(this database has the objects of another "
                            "version of the seed file"),
                "%s", out);
  write_text(dir, "seed.json", seed_full);
  it_server_cleanup(&srv);
  /* The same through the environment variable, relative to its file. */
  setenv("LAS_SEED", seed_path, 1);
  ck_assert(it_server_start(&srv, NULL));
  unsetenv("LAS_SEED");
  ck_assert_msg(strstr(srv.banner, want), "%s", srv.banner);
  check_full_seed(&srv);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
  it_remove_tree(dir);
}
END_TEST

/* The example the README points to (and docker/compose.yaml mounts) is
 * applied whole, and its credentials log in. */
START_TEST(test_example_seed_file) {
  const char *example = getenv("SEED_EXAMPLE");
  ck_assert_msg(example != NULL, "SEED_EXAMPLE is not set");
  const char *const args[] = {"--seed", example, NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, args));
  ck_assert_msg(strstr(srv.banner, "objects created"), "%s", srv.banner);
  it_session ci, partner;
  ck_assert(
      it_login(&srv, "ci-client", "ci-secret-change-me", "ci-api-key", &ci));
  ck_assert(it_login(&srv, "partner-client", "partner-secret-change-me", NULL,
                     &partner));
  it_response *r =
      it_get(&ci, "/workflows/las:workflow:00000000000000000000000000000001");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  r = it_get(&ci, "/documents/las:document:00000000000000000000000000000001");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* ---- bad fixtures ---- */

/* Each is a document with a good dataset entry ("marker") applied before
 * the bad entry, so that "nothing applied" is visible. */
typedef struct bad_seed {
  const char *what;
  const char *text;
  const char *message; /* the start's stderr and the 400 contain this */
} bad_seed;

#define MARKER "{\"name\": \"marker\"}"

static const bad_seed bad_seeds[] = {
    {"bad JSON", "{\"datasets\": [" MARKER ",]}", "malformed JSON at line 1"},
    {"not an object", "[1, 2]", "must be an object of sections"},
    {"unknown section", "{\"datasets\": [" MARKER "], \"widgets\": []}",
     "widgets: is not a section of a seed"},
    {"section not an array", "{\"datasets\": {\"name\": \"x\"}}",
     "datasets: must be array"},
    {"entry not an object", "{\"datasets\": [" MARKER ", 3]}",
     "datasets[1]: must be object"},
    {"unknown field", "{\"datasets\": [" MARKER ", {\"colour\": \"red\"}]}",
     "datasets[1].colour: is not allowed"},
    {"schema violation",
     "{\"datasets\": [" MARKER "], \"models\": [{\"width\": 10, \"height\": "
     "100, \"fieldConfig\": {}}]}",
     "models[0].width: must be >= 97"},
    {"NUL in a string",
     "{\"datasets\": [" MARKER ", {\"name\": \"a\\u0000\"}]}",
     "datasets[1].name: must not contain the NUL character"},
    {"dangling reference",
     "{\"datasets\": [" MARKER "], \"documents\": [{\"contentType\": "
     "\"application/pdf\", \"content\": \"JVBERi0xLjQK\", \"datasetId\": "
     "\"" DS2 "\"}]}",
     "documents[0].datasetId: dataset " DS2 " does not exist"},
    {"dangling workflow resource",
     "{\"datasets\": [" MARKER "], \"workflows\": [{\"specification\": "
     "{\"definition\": {\"StartAt\": \"A\", \"States\": {\"A\": {\"Type\": "
     "\"Task\", \"Resource\": \"" TR2 "\", \"End\": true}}}}}]}",
     "workflows[0].specification.definition.States.A.Resource"},
    {"unknown organization",
     "{\"datasets\": [" MARKER ", {\"organizationId\": \"" ORG2 "\"}]}",
     "datasets[1].organizationId: organization " ORG2 " does not exist"},
    {"duplicate id",
     "{\"datasets\": [{\"datasetId\": \"" DS1 "\", \"name\": \"marker\"}, "
     "{\"datasetId\": \"" DS1 "\"}]}",
     "datasets[1].datasetId: " DS1 " exists already"},
    {"id of another kind",
     "{\"datasets\": [" MARKER ", {\"datasetId\": \"" DOC1 "\"}]}",
     "datasets[1].datasetId: must match pattern ^las:dataset:[a-f0-9]{32}$"},
    {"duplicate client id",
     "{\"datasets\": [" MARKER "], \"appClients\": [{\"clientId\": \"c1\"}, "
     "{\"clientId\": \"c1\"}]}",
     "appClients[1].clientId: c1 is used by another app client"},
    {"client id with a colon",
     "{\"datasets\": [" MARKER "], \"appClients\": [{\"clientId\": \"a:b\"}]}",
     "appClients[0].clientId: must be 1 to 127 printable ASCII"},
    {"secret of a public client",
     "{\"datasets\": [" MARKER "], \"appClients\": [{\"clientSecret\": \"s\", "
     "\"generateSecret\": false}]}",
     "appClients[0].generateSecret: must not be false"},
    {"unreadable content file",
     "{\"datasets\": [" MARKER "], \"documents\": [{\"contentType\": "
     "\"application/pdf\", \"contentFile\": \"missing.pdf\"}]}",
     "documents[0].contentFile: cannot read"},
    {"content file is a directory",
     "{\"datasets\": [" MARKER "], \"documents\": [{\"contentType\": "
     "\"application/pdf\", \"contentFile\": \"/tmp\"}]}",
     "documents[0].contentFile: cannot read /tmp: not a regular file"},
    {"content and contentFile",
     "{\"datasets\": [" MARKER "], \"documents\": [{\"contentType\": "
     "\"application/pdf\", \"content\": \"JVBERi0xLjQK\", \"contentFile\": "
     "\"x.pdf\"}]}",
     "documents[0].contentFile: must not be given together with content"},
    {"content of the wrong type",
     "{\"datasets\": [" MARKER "], \"documents\": [{\"contentType\": "
     "\"image/png\", \"content\": \"JVBERi0xLjQK\"}]}",
     "documents[0].content: does not match contentType image/png"},
    {"fixed id on the bootstrap organization",
     "{\"datasets\": [" MARKER "], \"organizations\": [{\"bootstrap\": true, "
     "\"organizationId\": \"" ORG2 "\"}]}",
     "organizations[0].organizationId: must not be given with bootstrap"},
};
#define N_BAD (sizeof bad_seeds / sizeof bad_seeds[0])

START_TEST(test_bad_seed_stops_start) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  ck_assert_int_eq(it_server_stop(&srv), 0);
  for (size_t i = 0; i < N_BAD; i++) {
    write_text(srv.dir, "bad.json", bad_seeds[i].text);
    char seed_path[600];
    snprintf(seed_path, sizeof seed_path, "%s/bad.json", srv.dir);
    const char *const args[] = {"--port", "0",       "--db", srv.db,
                                "--seed", seed_path, NULL};
    char out[4096];
    int status = run_capture(args, out, sizeof out);
    ck_assert_msg(status == 1, "%s: exit %d:\n%s", bad_seeds[i].what, status,
                  out);
    char want[700];
    snprintf(want, sizeof want, "las-emulator: seed %s: ", seed_path);
    ck_assert_msg(strstr(out, want) && strstr(out, bad_seeds[i].message),
                  "%s: output lacks \"%s\" / \"%s\":\n%s", bad_seeds[i].what,
                  want, bad_seeds[i].message, out);
  }
  /* A file that cannot be read at all. */
  const char *const missing[] = {
      "--port", "0", "--db", srv.db, "--seed", "/nonexistent/seed.json", NULL};
  char out[4096];
  ck_assert_int_eq(run_capture(missing, out, sizeof out), 1);
  ck_assert_msg(strstr(out, "seed /nonexistent/seed.json: cannot read it: No "
                            "such file or directory"),
                "%s", out);
  /* Nothing of any of them was applied. */
  ck_assert(it_server_restart(&srv));
  it_session c;
  ck_assert(it_login_bootstrap(&srv, &c));
  char names[4096];
  dataset_names(&c, names, sizeof names);
  ck_assert_str_eq(names, "");
  ck_assert_int_eq(count_of(&c, "/appClients", "appClients"), 1);
  ck_assert_int_eq(count_of(&c, "/models", "models"), 0);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

static it_response *post_seed(const it_server *srv, const char *text) {
  it_request rq = {.method = "POST",
                   .path = "/_emulator/seed",
                   .content_type = "application/json",
                   .body = text};
  return it_request_send(srv, &rq);
}

START_TEST(test_seed_at_run_time) {
  it_server srv;
  ck_assert(it_server_start(&srv, NULL));
  it_session c;
  ck_assert(it_login_bootstrap(&srv, &c));
  /* Each bad document: 400 with the same message, nothing applied. */
  for (size_t i = 0; i < N_BAD; i++) {
    it_response *r = post_seed(&srv, bad_seeds[i].text);
    const char *m = it_str(r->json, "message");
    ck_assert_msg(r->status == 400 && m && strstr(m, bad_seeds[i].message),
                  "%s: %ld %s", bad_seeds[i].what, r->status, r->body);
    it_response_free(r);
  }
  char names[4096];
  dataset_names(&c, names, sizeof names);
  ck_assert_str_eq(names, "");
  ck_assert_int_eq(count_of(&c, "/appClients", "appClients"), 1);
  /* A good one: what it made, with generated credentials that work. */
  char *png = b64_of(png_bytes, sizeof png_bytes);
  char *text = NULL;
  ck_assert(asprintf(&text,
                     "{\"appClients\": [{\"name\": \"gen\"}], \"datasets\": "
                     "[{\"datasetId\": \"" DS1 "\", \"name\": \"run\"}], "
                     "\"documents\": [{\"documentId\": \"" DOC1 "\", "
                     "\"datasetId\": \"" DS1 "\", \"contentType\": "
                     "\"image/png\", \"content\": \"%s\"}]}",
                     png) > 0);
  it_response *r = post_seed(&srv, text);
  free(text);
  EXPECT_STATUS(r, 200);
  ck_assert_int_eq(json_integer_value(json_object_get(r->json, "count")), 3);
  json_t *created = json_object_get(r->json, "created");
  json_t *client = json_array_get(json_object_get(created, "appClients"), 0);
  ck_assert_str_eq(
      it_str(json_array_get(json_object_get(created, "datasets"), 0),
             "datasetId"),
      DS1);
  it_session gen;
  ck_assert(it_login(&srv, it_str(client, "clientId"),
                     it_str(client, "clientSecret"), it_str(client, "apiKey"),
                     &gen));
  it_response_free(r);
  r = it_get(&gen, "/documents/" DOC1);
  EXPECT_STATUS(r, 200);
  ck_assert_str_eq(it_str(r->json, "content"), png);
  it_response_free(r);
  free(png);
  /* The same fixed id again: refused, and the rest of that file too. */
  r = post_seed(&srv,
                "{\"datasets\": [" MARKER ", {\"datasetId\": \"" DS1 "\"}]}");
  EXPECT_STATUS(r, 400);
  ck_assert_str_eq(it_str(r->json, "message"),
                   "datasets[1].datasetId: " DS1 " exists already");
  it_response_free(r);
  dataset_names(&c, names, sizeof names);
  ck_assert_str_eq(names, "run|");
  /* The dispatcher's own checks apply to the body. */
  it_request rq = {.method = "POST",
                   .path = "/_emulator/seed",
                   .content_type = "text/plain",
                   .body = "{}"};
  r = it_request_send(&srv, &rq);
  EXPECT_STATUS(r, 415);
  it_response_free(r);
  r = post_seed(&srv, "[]");
  EXPECT_STATUS(r, 400);
  it_response_free(r);
  /* An API token does not open the control API to a non-loopback... it is
   * the admin token that does when one is configured (test_control covers
   * the gate); the seed route is behind the same gate. */
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
  static const char *const admin[] = {"--admin-token", "seed-admin", NULL};
  ck_assert(it_server_start(&srv, admin));
  r = post_seed(&srv, "{\"datasets\": [" MARKER "]}");
  EXPECT_STATUS(r, 403);
  it_response_free(r);
  it_request with_token = {.method = "POST",
                           .path = "/_emulator/seed",
                           .authorization = "Bearer seed-admin",
                           .content_type = "application/json",
                           .body = "{\"datasets\": [" MARKER "]}"};
  r = it_request_send(&srv, &with_token);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* A relative contentFile at run time is read from the --seed file's
 * directory. */
START_TEST(test_run_time_content_file_is_relative_to_the_seed) {
  char dir[] = "/tmp/las-seed-XXXXXX";
  ck_assert(mkdtemp(dir));
  write_text(dir, "seed.json", "{\"datasets\": [{\"name\": \"start\"}]}");
  write_file(dir, "files/scan.png", png_bytes, sizeof png_bytes);
  char seed_path[600];
  snprintf(seed_path, sizeof seed_path, "%s/seed.json", dir);
  const char *const args[] = {"--seed", seed_path, NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, args));
  it_response *r = post_seed(
      &srv, "{\"documents\": [{\"documentId\": \"" DOC2 "\", \"contentType\": "
            "\"image/png\", \"contentFile\": \"files/scan.png\"}]}");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  it_session c;
  ck_assert(it_login_bootstrap(&srv, &c));
  r = it_get(&c, "/documents/" DOC2);
  char *png = b64_of(png_bytes, sizeof png_bytes);
  ck_assert_str_eq(it_str(r->json, "content"), png);
  free(png);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
  it_remove_tree(dir);
}
END_TEST

/* ---- canned prediction results ---- */

static it_response *canned(const it_server *srv, const char *method,
                           const char *model, const char *body) {
  char path[256];
  snprintf(path, sizeof path, "/_emulator/models/%s/predictions", model);
  it_request rq = {.method = method,
                   .path = path,
                   .content_type = body ? "application/json" : NULL,
                   .body = body};
  return it_request_send(srv, &rq);
}

static it_response *predict(const it_session *c, const char *doc,
                            const char *model) {
  return it_send(c, "POST",
                 json_pack("{s:s, s:s}", "documentId", doc, "modelId", model),
                 "/predictions");
}

static const char seed_canned[] =
    "{\"documents\": [{\"documentId\": \"" DOC1 "\", \"contentType\": "
    "\"application/pdf\", \"content\": \"JVBERi0xLjQK\"}],"
    " \"models\": ["
    "  {\"modelId\": \"" MODEL1 "\", \"width\": 800, \"height\": 1200,"
    "   \"fieldConfig\": {\"total\": {\"type\": \"amount\", \"maxLength\": 10, "
    "\"description\": "
    "\"\"}}},"
    "  {\"modelId\": \"" MODEL2 "\", \"width\": 800, \"height\": 1200,"
    "   \"fieldConfig\": {\"name\": {\"type\": \"letter\", \"maxLength\": 10, "
    "\"description\": "
    "\"\"}}}]}";

/* c's session points at *srv, which must stay where it is. */
static void canned_server(it_server *srv, it_session *c) {
  ck_assert(it_server_start(srv, NULL));
  it_response *r = post_seed(srv, seed_canned);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  ck_assert(it_login_bootstrap(srv, c));
}

START_TEST(test_canned_results_then_generator) {
  it_session c;
  it_server srv;
  canned_server(&srv, &c);
  /* What the generator answers, before anything is queued. */
  it_response *before = predict(&c, DOC1, MODEL1);
  EXPECT_STATUS(before, 200);
  it_response *r =
      canned(&srv, "POST", MODEL1,
             "{\"results\": ["
             "{\"predictions\": [{\"label\": \"total\", \"value\": \"1.00\", "
             "\"confidence\": 0.5}], \"inferenceTime\": 2.5},"
             "{\"predictions\": [{\"label\": \"other\", \"value\": null, "
             "\"confidence\": 0}, {\"label\": \"x\", \"value\": \"y\", "
             "\"confidence\": 1}]},"
             "{\"status\": 503, \"message\": \"model busy, try again\"},"
             "{\"status\": 400},"
             "{\"predictions\": []}]}");
  EXPECT_STATUS(r, 200);
  ck_assert_int_eq(json_integer_value(json_object_get(r->json, "queued")), 5);
  ck_assert_int_eq(json_integer_value(json_object_get(r->json, "length")), 5);
  it_response_free(r);
  /* Another model's predictions are not affected. */
  r = predict(&c, DOC1, MODEL2);
  EXPECT_STATUS(r, 200);
  ck_assert_str_eq(
      it_str(json_array_get(json_object_get(r->json, "predictions"), 0),
             "label"),
      "name");
  it_response_free(r);
  /* A request refused for its own fault uses nothing up. */
  r = predict(&c, DOC2, MODEL1);
  EXPECT_STATUS(r, 400);
  it_response_free(r);
  r = canned(&srv, "GET", MODEL1, NULL);
  EXPECT_STATUS(r, 200);
  ck_assert_int_eq(json_array_size(json_object_get(r->json, "results")), 5);
  ck_assert_int_eq(
      json_integer_value(json_object_get(
          json_array_get(json_object_get(r->json, "results"), 2), "status")),
      503);
  it_response_free(r);
  /* In order. */
  r = predict(&c, DOC1, MODEL1);
  EXPECT_STATUS(r, 200);
  json_t *p = json_object_get(r->json, "predictions");
  ck_assert_int_eq(json_array_size(p), 1);
  ck_assert_str_eq(it_str(json_array_get(p, 0), "value"), "1.00");
  ck_assert(json_real_value(
                json_object_get(json_array_get(p, 0), "confidence")) == 0.5);
  ck_assert(json_number_value(json_object_get(r->json, "inferenceTime")) ==
            2.5);
  ck_assert_str_eq(it_str(r->json, "documentId"), DOC1);
  ck_assert(it_id_valid("prediction", it_str(r->json, "predictionId")));
  it_response_free(r);
  r = predict(&c, DOC1, MODEL1);
  EXPECT_STATUS(r, 200);
  p = json_object_get(r->json, "predictions");
  ck_assert_int_eq(json_array_size(p), 2);
  ck_assert(json_is_null(json_object_get(json_array_get(p, 0), "value")));
  ck_assert_str_eq(it_str(json_array_get(p, 1), "label"), "x");
  it_response_free(r);
  r = predict(&c, DOC1, MODEL1);
  EXPECT_STATUS(r, 503);
  ck_assert_str_eq(it_str(r->json, "message"), "model busy, try again");
  it_response_free(r);
  r = predict(&c, DOC1, MODEL1);
  EXPECT_STATUS(r, 400);
  ck_assert_str_eq(it_str(r->json, "message"), "Bad Request");
  it_response_free(r);
  r = predict(&c, DOC1, MODEL1);
  EXPECT_STATUS(r, 200);
  ck_assert_int_eq(json_array_size(json_object_get(r->json, "predictions")), 0);
  it_response_free(r);
  /* Then the generator again: the same answer as before. */
  r = predict(&c, DOC1, MODEL1);
  EXPECT_STATUS(r, 200);
  ck_assert(json_equal(json_object_get(r->json, "predictions"),
                       json_object_get(before->json, "predictions")));
  it_response_free(r);
  it_response_free(before);
  r = canned(&srv, "GET", MODEL1, NULL);
  ck_assert_int_eq(json_array_size(json_object_get(r->json, "results")), 0);
  it_response_free(r);
  /* A canned result is a prediction like any other: stored and counted;
   * the failures are neither. */
  r = it_get(&c, "/predictions?maxResults=100");
  EXPECT_STATUS(r, 200);
  ck_assert_int_eq(json_array_size(json_object_get(r->json, "predictions")), 6);
  it_response_free(r);
  r = it_get(&c, "/organizations/me");
  ck_assert_int_eq(json_integer_value(json_object_get(
                       r->json, "monthlyNumberOfPredictionsCreated")),
                   6);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

START_TEST(test_canned_queue_checks_and_clearing) {
  it_session c;
  it_server srv;
  canned_server(&srv, &c);
  static const struct {
    const char *body;
    long status;
    const char *message;
  } bad[] = {
      {"{}", 400, "results: is required"},
      {"{\"results\": []}", 400, "results: must be an array of 1 to 1000"},
      {"{\"results\": {}}", 400, "results: must be an array of 1 to 1000"},
      {"{\"results\": [1]}", 400, "results[0]: must be object"},
      {"{\"results\": [{}]}", 400,
       "results[0]: must have either predictions (a result) or status"},
      {"{\"results\": [{\"status\": 500, \"predictions\": []}]}", 400,
       "results[0]: must have either predictions"},
      {"{\"results\": [{\"predictions\": [], \"extra\": 1}]}", 400,
       "results[0].extra: is not a field of a canned result"},
      {"{\"results\": [{\"status\": 418}]}", 400,
       "results[0].status: must be one of 400, 403, 404, 415, 429, 500, 503"},
      {"{\"results\": [{\"status\": \"500\"}]}", 400,
       "results[0].status: must be one of"},
      {"{\"results\": [{\"status\": 500, \"message\": 3}]}", 400,
       "results[0].message: must be a string of 1 to 1000 bytes"},
      {"{\"results\": [{\"predictions\": [{\"label\": \"a\", \"value\": \"b\", "
       "\"confidence\": 1.5}]}]}",
       400, "results[0].predictions[0].confidence: must be <= 1"},
      {"{\"results\": [{\"predictions\": [{\"label\": \"a-b\", \"value\": "
       "\"b\", \"confidence\": 1}]}]}",
       400, "results[0].predictions[0].label: must match pattern"},
      {"{\"results\": [{\"predictions\": [{\"label\": \"a\", \"confidence\": "
       "1}]}]}",
       400, "results[0].predictions[0].value: is required"},
      {"{\"results\": [{\"predictions\": [], \"inferenceTime\": -1}]}", 400,
       "results[0].inferenceTime: must be >= 0"},
      {"{\"results\": [{\"predictions\": []}, {\"predictions\": 3}]}", 400,
       "results[1].predictions: must be array"},
      {"{\"results\": [], \"x\": 1}", 400, "x: is not a field of this request"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    it_response *r = canned(&srv, "POST", MODEL1, bad[i].body);
    const char *m = it_str(r->json, "message");
    ck_assert_msg(r->status == bad[i].status && m && strstr(m, bad[i].message),
                  "%s: %ld %s", bad[i].body, r->status, r->body);
    it_response_free(r);
  }
  /* Nothing was queued by any of them. */
  it_response *r = canned(&srv, "GET", MODEL1, NULL);
  EXPECT_STATUS(r, 200);
  ck_assert_int_eq(json_array_size(json_object_get(r->json, "results")), 0);
  it_response_free(r);
  /* Unknown and malformed models. */
  static const char *const unknown =
      "las:model:0000000000000000000000000000ffff";
  r = canned(&srv, "POST", unknown, "{\"results\": [{\"status\": 500}]}");
  EXPECT_STATUS(r, 404);
  ck_assert_str_eq(it_str(r->json, "message"),
                   "modelId: model las:model:0000000000000000000000000000ffff "
                   "does not exist");
  it_response_free(r);
  r = canned(&srv, "GET", unknown, NULL);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  r = canned(&srv, "DELETE", "las:model:x", NULL);
  EXPECT_STATUS(r, 400);
  it_response_free(r);
  /* Queued, listed in order, cleared for one model only. */
  for (int i = 0; i < 3; i++) {
    char body[200];
    snprintf(body, sizeof body,
             "{\"results\": [{\"status\": 500, \"message\": \"m%d\"}]}", i);
    r = canned(&srv, "POST", i < 2 ? MODEL1 : MODEL2, body);
    EXPECT_STATUS(r, 200);
    it_response_free(r);
  }
  r = canned(&srv, "GET", MODEL1, NULL);
  json_t *results = json_object_get(r->json, "results");
  ck_assert_int_eq(json_array_size(results), 2);
  ck_assert_str_eq(it_str(json_array_get(results, 0), "message"), "m0");
  ck_assert_str_eq(it_str(json_array_get(results, 1), "message"), "m1");
  it_response_free(r);
  r = canned(&srv, "DELETE", MODEL1, NULL);
  EXPECT_STATUS(r, 200);
  ck_assert_int_eq(json_integer_value(json_object_get(r->json, "cleared")), 2);
  it_response_free(r);
  r = predict(&c, DOC1, MODEL1);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  /* At most 1,000 items per request and 10,000 in a queue. */
  json_t *many = json_array();
  for (int i = 0; i < 1001; i++)
    json_array_append_new(many, json_pack("{s:i}", "status", 500));
  json_t *wrap = json_pack("{s:o}", "results", many);
  char *text = json_dumps(wrap, JSON_COMPACT);
  r = canned(&srv, "POST", MODEL2, text);
  EXPECT_STATUS(r, 400);
  ck_assert_str_eq(it_str(r->json, "message"),
                   "results: must be an array of 1 to 1000 items");
  it_response_free(r);
  json_array_remove(many, 0);
  free(text);
  text = json_dumps(wrap, JSON_COMPACT);
  json_decref(wrap);
  r = canned(&srv, "DELETE", MODEL2, NULL);
  ck_assert_int_eq(json_integer_value(json_object_get(r->json, "cleared")), 1);
  it_response_free(r);
  for (int i = 0; i < 10; i++) {
    r = canned(&srv, "POST", MODEL2, text);
    EXPECT_STATUS(r, 200);
    it_response_free(r);
  }
  r = canned(&srv, "POST", MODEL2, "{\"results\": [{\"status\": 500}]}");
  EXPECT_STATUS(r, 400);
  ck_assert_str_eq(it_str(r->json, "message"),
                   "results: the queue of model " MODEL2
                   " would hold 10001 results, more than 10000");
  it_response_free(r);
  free(text);
  /* Deleting a model takes its queue with it. */
  r = it_delete(&c, "/models/" MODEL2);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  r = canned(&srv, "GET", MODEL2, NULL);
  EXPECT_STATUS(r, 404);
  it_response_free(r);
  /* The queue survives a restart (it is in the database). */
  r = canned(&srv, "POST", MODEL1, "{\"results\": [{\"status\": 403}]}");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  ck_assert(it_server_restart(&srv));
  ck_assert(it_login_bootstrap(&srv, &c));
  r = predict(&c, DOC1, MODEL1);
  EXPECT_STATUS(r, 403);
  ck_assert_str_eq(it_str(r->json, "message"), "Forbidden");
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* Four clients predict at once: every queued result is answered exactly
 * once, and the rest come from the generator. */
typedef struct {
  const it_session *c;
  int n;
  char values[32][16];
  int got;
} predict_arg;

static void *predict_many(void *p) {
  predict_arg *a = p;
  for (int i = 0; i < a->n; i++) {
    it_response *r = predict(a->c, DOC1, MODEL1);
    if (r->status == 200) {
      const char *v = it_str(
          json_array_get(json_object_get(r->json, "predictions"), 0), "value");
      if (v && strncmp(v, "c", 1) == 0 && a->got < 32)
        snprintf(a->values[a->got++], sizeof a->values[0], "%s", v);
    }
    it_response_free(r);
  }
  return NULL;
}

START_TEST(test_canned_results_under_concurrent_predictions) {
  it_session c;
  it_server srv;
  canned_server(&srv, &c);
  enum { QUEUED = 40, THREADS = 4, EACH = 20 };
  json_t *results = json_array();
  for (int i = 0; i < QUEUED; i++) {
    char value[16];
    snprintf(value, sizeof value, "c%d", i);
    json_array_append_new(
        results, json_pack("{s:[{s:s, s:s, s:f}]}", "predictions", "label",
                           "total", "value", value, "confidence", 0.5));
  }
  json_t *body = json_pack("{s:o}", "results", results);
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  it_response *r = canned(&srv, "POST", MODEL1, text);
  free(text);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  pthread_t t[THREADS];
  predict_arg args[THREADS];
  for (int i = 0; i < THREADS; i++) {
    args[i] = (predict_arg){.c = &c, .n = EACH, .got = 0};
    pthread_create(&t[i], NULL, predict_many, &args[i]);
  }
  int seen[QUEUED] = {0};
  int total = 0;
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    for (int j = 0; j < args[i].got; j++) {
      int k = atoi(args[i].values[j] + 1);
      ck_assert(k >= 0 && k < QUEUED);
      seen[k]++;
      total++;
    }
  }
  ck_assert_int_eq(total, QUEUED);
  for (int k = 0; k < QUEUED; k++)
    ck_assert_msg(seen[k] == 1, "c%d answered %d times", k, seen[k]);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* ---- POST /_emulator/reset and snapshots ---- */

static it_response *control_post(const it_server *srv, const char *path,
                                 const char *body) {
  it_request rq = {.method = "POST",
                   .path = path,
                   .content_type = "application/json",
                   .body = body};
  return it_request_send(srv, &rq);
}

/* A reset wipes everything and brings the --seed fixtures back, with the
 * same fixed ids and credentials, and empties the canned queues; what was
 * posted at run time is gone. A snapshot restore brings back the
 * snapshot's state (its queues included) and applies no fixtures. */
START_TEST(test_reset_brings_the_fixtures_back) {
  char dir[] = "/tmp/las-seed-XXXXXX";
  ck_assert(mkdtemp(dir));
  write_text(dir, "seed.json", seed_full);
  write_file(dir, "files/scan.png", png_bytes, sizeof png_bytes);
  char seed_path[600], snap[600];
  snprintf(seed_path, sizeof seed_path, "%s/seed.json", dir);
  snprintf(snap, sizeof snap, "%s/snap.db", dir);
  const char *const args[] = {"--seed", seed_path, NULL};
  it_server srv;
  ck_assert(it_server_start(&srv, args));
  it_session ci;
  ck_assert(it_login(&srv, "ci-client", "ci-secret:with-colon", NULL, &ci));
  it_response *r = post_seed(&srv, "{\"datasets\": [{\"name\": \"runtime\"}]}");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  r = canned(&srv, "POST", MODEL1, "{\"results\": [{\"status\": 500}]}");
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  char names[4096];
  dataset_names(&ci, names, sizeof names);
  ck_assert_str_eq(names, "Invoices|runtime|");
  char body[700];
  snprintf(body, sizeof body, "{\"path\": \"%s\"}", snap);
  r = control_post(&srv, "/_emulator/snapshots", body);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  for (int round = 0; round < 2; round++) {
    r = control_post(&srv, "/_emulator/reset", "{}");
    EXPECT_STATUS(r, 200);
    it_response_free(r);
    check_full_seed(&srv);
    /* The token an SDK has cached still works: the fixture's client came
     * back as the same app client (it answered 403 after a reset). */
    dataset_names(&ci, names, sizeof names);
    ck_assert_str_eq(names, "Invoices|");
    ck_assert(it_login(&srv, "ci-client", "ci-secret:with-colon", NULL, &ci));
    dataset_names(&ci, names, sizeof names);
    ck_assert_str_eq(names, "Invoices|");
    r = canned(&srv, "GET", MODEL1, NULL);
    EXPECT_STATUS(r, 200);
    ck_assert_int_eq(json_array_size(json_object_get(r->json, "results")), 0);
    it_response_free(r);
  }
  /* The snapshot: the run-time dataset and the queued failure are back,
   * and the fixtures were not applied on top (their ids would clash). */
  r = control_post(&srv, "/_emulator/snapshots/restore", body);
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  ck_assert(it_login(&srv, "ci-client", "ci-secret:with-colon", NULL, &ci));
  dataset_names(&ci, names, sizeof names);
  ck_assert_str_eq(names, "Invoices|runtime|");
  r = predict(&ci, DOC1, MODEL1);
  EXPECT_STATUS(r, 500);
  it_response_free(r);
  /* A fixture that fails at a reset (its content file is gone) fails the
   * reset, naming the entry; nothing changes. The reset answers 409: the
   * server's configuration no longer applies (a 5xx would say the server
   * broke). */
  char png_path[600];
  snprintf(png_path, sizeof png_path, "%s/files/scan.png", dir);
  ck_assert_int_eq(unlink(png_path), 0);
  r = control_post(&srv, "/_emulator/reset", "{}");
  EXPECT_STATUS(r, 409);
  ck_assert_msg(
      strstr(it_str(r->json, "message"), "assets[0].contentFile: cannot read"),
      "%s", r->body);
  it_response_free(r);
  dataset_names(&ci, names, sizeof names);
  ck_assert_str_eq(names, "Invoices|runtime|");
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
  it_remove_tree(dir);
}
END_TEST

/* ---- the loader inside a caller's transaction (the reset hooks) ---- */

typedef struct {
  bool restored;
  bool commit;
  bool ok;
  char err[1024];
} hook_arg;

static store_status run_hooks(store *s, void *p) {
  hook_arg *a = p;
  a->ok = control_run_in_tx_hooks(s, a->restored, a->err, sizeof a->err);
  if (!a->ok)
    return STORE_NONE;
  return a->commit ? STORE_ONE : STORE_NONE;
}

static bool id_used(const char *id) {
  store *s = store_thread();
  ck_assert(s != NULL);
  return store_seed_id_used(s, id) == STORE_ONE;
}

static store_status queue_one(store *s, void *p) {
  (void)p;
  return store_canned_push(s, MODEL1, "{\"status\": 500}");
}

typedef struct {
  bool restored;
  bool ok;
  int64_t left;
} canned_arg;

static store_status canned_hook(store *s, void *p) {
  canned_arg *a = p;
  char err[256];
  a->ok = canned_on_reset(s, a->restored, err, sizeof err);
  a->left = store_canned_count(s, MODEL1);
  return STORE_ONE;
}

typedef struct {
  json_t *doc;
  size_t n;
  char err[1024];
} apply_arg;

static store_status apply_doc(store *s, void *p) {
  apply_arg *a = p;
  return seed_apply(s, a->doc, NULL, &a->n, NULL, a->err, sizeof a->err);
}

START_TEST(test_reset_hooks_in_the_callers_transaction) {
  char dir[] = "/tmp/las-seed-XXXXXX";
  ck_assert(mkdtemp(dir));
  write_text(dir, "seed.json", seed_canned);
  char db[600], seed_path[600], err[1024];
  snprintf(db, sizeof db, "%s/las.db", dir);
  snprintf(seed_path, sizeof seed_path, "%s/seed.json", dir);
  ck_assert_msg(schemas_init(err, sizeof err), "%s", err);
  ck_assert_msg(store_global_open(db, err, sizeof err), "%s", err);
  config cfg;
  char *argv[] = {"t", NULL};
  ck_assert(config_load(&cfg, 1, argv, err, sizeof err) == CONFIG_OK);
  bootstrap_info boot;
  ck_assert_msg(bootstrap_run(&cfg, &boot, err, sizeof err), "%s", err);
  ck_assert_msg(seed_configure(seed_path, err, sizeof err), "%s", err);
  ck_assert(control_on_reset(seed_on_reset, NULL));
  ck_assert(control_on_reset(canned_on_reset, NULL));

  /* A restore applies nothing. */
  hook_arg a = {.restored = true, .commit = true};
  ck_assert_int_eq(store_write_tx(run_hooks, &a), STORE_ONE);
  ck_assert(a.ok);
  ck_assert(!id_used(MODEL1));
  /* Applied in the caller's transaction: gone when the caller rolls back,
   * there when it commits. */
  a = (hook_arg){.restored = false, .commit = false};
  ck_assert_int_eq(store_write_tx(run_hooks, &a), STORE_NONE);
  ck_assert_msg(a.ok, "%s", a.err);
  ck_assert(!id_used(MODEL1) && !id_used(DOC1));
  a = (hook_arg){.restored = false, .commit = true};
  ck_assert_int_eq(store_write_tx(run_hooks, &a), STORE_ONE);
  ck_assert_msg(a.ok, "%s", a.err);
  ck_assert(id_used(MODEL1) && id_used(MODEL2) && id_used(DOC1));
  /* Without a wipe before it the fixed ids exist: the hook fails, naming
   * the entry, and the caller's transaction is rolled back. */
  ck_assert_int_eq(store_write_tx(queue_one, NULL), STORE_ONE);
  a = (hook_arg){.restored = false, .commit = true};
  ck_assert_int_eq(store_write_tx(run_hooks, &a), STORE_NONE);
  ck_assert(!a.ok);
  ck_assert_msg(
      strstr(a.err, "documents[0].documentId: " DOC1 " exists already"), "%s",
      a.err);
  /* The canned hook alone: a reset empties the queues, a restore keeps
   * them. */
  canned_arg ca = {.restored = true};
  ck_assert_int_eq(store_write_tx(canned_hook, &ca), STORE_ONE);
  ck_assert(ca.ok);
  ck_assert_int_eq(ca.left, 1);
  ca = (canned_arg){.restored = false};
  ck_assert_int_eq(store_write_tx(canned_hook, &ca), STORE_ONE);
  ck_assert(ca.ok);
  ck_assert_int_eq(ca.left, 0);

  /* seed_apply directly: the count, and a refusal with its message. */
  apply_arg aa = {
      .doc = seed_parse("{\"datasets\": [{}, {}]}", 22, err, sizeof err)};
  ck_assert(aa.doc != NULL);
  ck_assert_int_eq(store_write_tx(apply_doc, &aa), STORE_ONE);
  ck_assert_uint_eq(aa.n, 2);
  json_decref(aa.doc);
  aa = (apply_arg){
      .doc = seed_parse("{\"datasets\": [{\"x\": 1}]}", 24, err, sizeof err)};
  ck_assert(aa.doc != NULL);
  ck_assert_int_eq(store_write_tx(apply_doc, &aa), STORE_NONE);
  ck_assert_str_eq(aa.err, "datasets[0].x: is not allowed");
  json_decref(aa.doc);
  ck_assert(seed_parse("{\"datasets\": [}", 15, err, sizeof err) == NULL);
  ck_assert_msg(strstr(err, "malformed JSON at line 1 column"), "%s", err);

  seed_free();
  store_thread_release();
  store_global_close();
  schemas_free();
  it_remove_tree(dir);
}
END_TEST

static Suite *seed_suite(void) {
  Suite *s = suite_create("seed");
  TCase *tc = tcase_create("seed");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_seed_file_at_start);
  tcase_add_test(tc, test_example_seed_file);
  tcase_add_test(tc, test_bad_seed_stops_start);
  tcase_add_test(tc, test_seed_at_run_time);
  tcase_add_test(tc, test_run_time_content_file_is_relative_to_the_seed);
  tcase_add_test(tc, test_canned_results_then_generator);
  tcase_add_test(tc, test_canned_queue_checks_and_clearing);
  tcase_add_test(tc, test_canned_results_under_concurrent_predictions);
  tcase_add_test(tc, test_reset_brings_the_fixtures_back);
  tcase_add_test(tc, test_reset_hooks_in_the_callers_transaction);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  return ck_run(seed_suite(), CK_NORMAL);
}
