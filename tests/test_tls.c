/* HTTPS: the steps of the official SDK's session over TLS with certificate
 * verification on (the self-signed certificate as the only CA), the plain
 * listener beside it, a plain request to the TLS port, the printed
 * endpoints, and the flags' refusals. */
#include "ck_run.h"
#include "http/endpoints.h"
#include "it_client.h"

#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXPECT_STATUS(resp, code)                                              \
  ck_assert_msg((resp)->status == (code), "%s: %ld, wanted %d: %s %s",         \
                (resp)->what, (resp)->status, (code), (resp)->body,            \
                (resp)->error)

/* %PDF-1.4 */
static const char *const pdf_b64 = "JVBERi0xLjQK";

/* The value of a `NAME=value` line of the banner (unquoted values only). */
static bool banner_var(const it_server *s, const char *name, char *out,
                       size_t outlen) {
  char key[64];
  snprintf(key, sizeof key, "\n%s=", name);
  const char *at = strstr(s->banner, key);
  if (!at)
    return false;
  at += strlen(key);
  size_t n = strcspn(at, "\n");
  if (n >= outlen)
    return false;
  memcpy(out, at, n);
  out[n] = '\0';
  return true;
}

/* Starts an HTTPS server with --tls-self-signed (plus extra, NULL-ended)
 * and takes the certificate from its banner as the only CA. */
static void start_tls(it_server *srv, const char *const *extra) {
  const char *args[IT_MAX_ARGS] = {"--tls-self-signed"};
  size_t n = 1;
  for (size_t i = 0; extra && extra[i] && n + 1 < IT_MAX_ARGS; i++)
    args[n++] = extra[i];
  args[n] = NULL;
  ck_assert(it_server_start(srv, args));
  ck_assert_msg(strncmp(srv->base_url, "https://127.0.0.1:", 18) == 0, "%s",
                srv->banner);
  const char *line = strstr(srv->banner, "TLS certificate: ");
  ck_assert_ptr_nonnull(line);
  line += strlen("TLS certificate: ");
  size_t n_path = strcspn(line, " \n");
  ck_assert_uint_lt(n_path, sizeof srv->ca_file);
  memcpy(srv->ca_file, line, n_path);
  srv->ca_file[n_path] = '\0';
}

/* A copy of srv's handle that talks to another base URL. */
static it_server at(const it_server *srv, const char *fmt, unsigned port) {
  it_server other = *srv;
  snprintf(other.base_url, sizeof other.base_url, fmt, port);
  return other;
}

/* The token as the SDK fetches it: POST https://<auth endpoint>/token with
 * Basic client credentials and an empty form body. */
static void sdk_login(const it_server *srv, it_session *out) {
  char *raw = NULL;
  size_t len = (size_t)asprintf(&raw, "%s:%s", IT_CLIENT_ID, IT_CLIENT_SECRET);
  char *b64 = it_b64_encode(raw, len);
  char basic[256];
  snprintf(basic, sizeof basic, "Basic %s", b64);
  it_request req = {.method = "POST",
                    .path = "/token?grant_type=client_credentials",
                    .authorization = basic,
                    .content_type = "application/x-www-form-urlencoded",
                    .body = ""};
  it_response *r = it_request_send(srv, &req);
  EXPECT_STATUS(r, 200);
  ck_assert_ptr_nonnull(it_str(r->json, "access_token"));
  memset(out, 0, sizeof *out);
  out->srv = srv;
  snprintf(out->token, sizeof out->token, "%s",
           it_str(r->json, "access_token"));
  it_response_free(r);
  free(b64);
  free(raw);
}

START_TEST(test_sdk_session_over_https) {
  it_server srv;
  start_tls(&srv, (const char *const[]){"--plain-port", "0", NULL});

  /* What is printed is what the SDK needs. */
  char want[128], got[1200];
  snprintf(want, sizeof want, "127.0.0.1:%u", srv.port);
  ck_assert(banner_var(&srv, "LAS_AUTH_ENDPOINT", got, sizeof got));
  ck_assert_str_eq(got, want);
  snprintf(want, sizeof want, "https://127.0.0.1:%u/v1", srv.port);
  ck_assert(banner_var(&srv, "LAS_API_ENDPOINT", got, sizeof got));
  ck_assert_str_eq(got, want);
  ck_assert(banner_var(&srv, "REQUESTS_CA_BUNDLE", got, sizeof got));
  ck_assert_str_eq(got, srv.ca_file);
  char beside[400];
  snprintf(beside, sizeof beside, "%s-cert.pem", srv.db);
  ck_assert_str_eq(srv.ca_file, beside);
  struct stat st;
  snprintf(beside, sizeof beside, "%s-key.pem", srv.db);
  ck_assert_int_eq(stat(beside, &st), 0);
  ck_assert_uint_eq(st.st_mode & 0777, 0600);
  const char *pl = strstr(srv.banner, "plain HTTP also on http://127.0.0.1:");
  ck_assert_ptr_nonnull(pl);
  unsigned plain_port = (unsigned)strtoul(
      pl + strlen("plain HTTP also on http://127.0.0.1:"), NULL, 10);
  ck_assert_uint_gt(plain_port, 0);

  /* /health and both token endpoints over HTTPS. */
  it_response *r =
      it_request_send(&srv, &(it_request){.method = "GET", .path = "/health"});
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  it_session s;
  sdk_login(&srv, &s);
  it_session s2;
  ck_assert(it_login_bootstrap(&srv, &s2)); /* /oauth2/token */

  json_t *fc =
      json_pack("{s:{s:s, s:i}}", "total", "type", "amount", "maxLength", 10);
  r = it_send(&s, "POST",
              json_pack("{s:i, s:i, s:o}", "width", 300, "height", 200,
                        "fieldConfig", fc),
              "/v1/models");
  EXPECT_STATUS(r, 200);
  char model[64];
  snprintf(model, sizeof model, "%s", it_str(r->json, "modelId"));
  it_response_free(r);
  r = it_send(&s, "POST",
              json_pack("{s:s, s:s}", "content", pdf_b64, "contentType",
                        "application/pdf"),
              "/v1/documents");
  EXPECT_STATUS(r, 200);
  char doc[64];
  snprintf(doc, sizeof doc, "%s", it_str(r->json, "documentId"));
  it_response_free(r);
  r = it_send(&s, "POST",
              json_pack("{s:s, s:s}", "documentId", doc, "modelId", model),
              "/v1/predictions");
  EXPECT_STATUS(r, 200);
  char pred[64];
  snprintf(pred, sizeof pred, "%s", it_str(r->json, "predictionId"));
  ck_assert_int_eq(json_array_size(json_object_get(r->json, "predictions")), 1);
  it_response_free(r);

  it_response *tls_doc = it_get(&s, "/v1/documents/%s", doc);
  EXPECT_STATUS(tls_doc, 200);
  ck_assert_str_eq(it_str(tls_doc->json, "content"), pdf_b64);
  r = it_get(&s2, "/v1/predictions");
  EXPECT_STATUS(r, 200);
  ck_assert_str_eq(
      it_str(json_array_get(json_object_get(r->json, "predictions"), 0),
             "predictionId"),
      pred);
  it_response_free(r);

  /* The certificate also names localhost. */
  it_server local = at(&srv, "https://localhost:%u", srv.port);
  it_session ls = s;
  ls.srv = &local;
  r = it_get(&ls, "/documents/%s", doc);
  EXPECT_STATUS(r, 200);
  it_response_free(r);

  /* The plain listener serves the same data with the same token. */
  it_server plain = at(&srv, "http://127.0.0.1:%u", plain_port);
  plain.ca_file[0] = '\0';
  it_session ps = s;
  ps.srv = &plain;
  r = it_get(&ps, "/v1/documents/%s", doc);
  EXPECT_STATUS(r, 200);
  ck_assert(json_equal(r->json, tls_doc->json));
  it_response_free(r);
  it_response_free(tls_doc);

  /* Verification is on: without the certificate as CA, no answer. */
  it_server untrusted = srv;
  untrusted.ca_file[0] = '\0';
  r = it_request_send(&untrusted,
                      &(it_request){.method = "GET", .path = "/health"});
  ck_assert_int_eq(r->status, 0);
  ck_assert_msg(strstr(r->error, "certificate") || strstr(r->error, "SSL"),
                "%s", r->error);
  it_response_free(r);

  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* A plain HTTP request to the TLS port is answered at once in plain HTTP
 * (400 saying so) and closed: no hang, no garbage. */
START_TEST(test_plain_request_to_tls_port) {
  it_server srv;
  start_tls(&srv, NULL);
  int fd = it_connect(&srv);
  ck_assert_int_ge(fd, 0);
  static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  ck_assert_int_eq(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
  int64_t t0 = it_now_ms();
  char buf[2048];
  size_t used = 0;
  ssize_t n = 1;
  while (n > 0 && used + 1 < sizeof buf && it_now_ms() - t0 < 5000) {
    struct pollfd p = {fd, POLLIN, 0};
    ck_assert_int_eq(poll(&p, 1, 5000), 1);
    n = read(fd, buf + used, sizeof buf - used - 1);
    if (n > 0)
      used += (size_t)n;
  }
  buf[used] = '\0';
  ck_assert_msg(n == 0, "the connection was not closed cleanly: %zd", n);
  ck_assert_int_lt(it_now_ms() - t0, 5000);
  ck_assert_msg(strncmp(buf, "HTTP/1.1 400 ", 13) == 0, "%s", buf);
  ck_assert_ptr_nonnull(strstr(buf, "this port serves HTTPS only"));
  close(fd);
  /* The same through curl, with a body, and the JSON parses. */
  it_server plain = srv;
  snprintf(plain.base_url, sizeof plain.base_url, "http://127.0.0.1:%u",
           srv.port);
  it_response *r =
      it_request_send(&plain, &(it_request){.method = "POST",
                                            .path = "/v1/models",
                                            .content_type = "application/json",
                                            .body = "{\"width\": 1}"});
  EXPECT_STATUS(r, 400);
  ck_assert_ptr_nonnull(strstr(it_str(r->json, "message"), "--plain-port"));
  it_response_free(r);
  /* A connection that sends nothing yet, then a TLS client: unharmed. */
  int idle = it_connect(&srv);
  ck_assert_int_ge(idle, 0);
  r = it_request_send(&srv, &(it_request){.method = "GET", .path = "/health"});
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  close(idle);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

/* A client that connects (TLS handshake done) ahead of its request is not
 * taken for a trickling request: the request it sends well after several
 * header timeouts is served on that connection. */
START_TEST(test_idle_after_handshake) {
  it_server srv;
  start_tls(&srv, (const char *const[]){"--header-timeout-ms", "200", NULL});
  CURL *curl = curl_easy_init();
  ck_assert_ptr_nonnull(curl);
  char url[128];
  snprintf(url, sizeof url, "%s/", srv.base_url);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CAINFO, srv.ca_file);
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  ck_assert_int_eq(curl_easy_perform(curl), CURLE_OK);
  usleep(900 * 1000); /* four header timeouts */
  curl_socket_t sock = CURL_SOCKET_BAD;
  ck_assert_int_eq(curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &sock),
                   CURLE_OK);
  static const char req[] =
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  size_t sent = 0;
  ck_assert_int_eq(curl_easy_send(curl, req, sizeof req - 1, &sent), CURLE_OK);
  ck_assert_uint_eq(sent, sizeof req - 1);
  char buf[1024];
  size_t used = 0;
  CURLcode rc = CURLE_AGAIN;
  for (int64_t t0 = it_now_ms(); it_now_ms() - t0 < 5000;) {
    size_t n = 0;
    rc = curl_easy_recv(curl, buf + used, sizeof buf - used - 1, &n);
    if (rc == CURLE_AGAIN) {
      struct pollfd p = {(int)sock, POLLIN, 0};
      poll(&p, 1, 200);
      continue;
    }
    if (rc != CURLE_OK || n == 0 || used + n + 1 >= sizeof buf)
      break;
    used += n;
  }
  buf[used] = '\0';
  curl_easy_cleanup(curl);
  ck_assert_msg(strncmp(buf, "HTTP/1.1 200 ", 13) == 0, "got (%d): %s", rc,
                buf);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
}
END_TEST

static char *read_all(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = calloc(1, 65536);
  if (buf)
    (void)fread(buf, 1, 65535, f);
  fclose(f);
  return buf;
}

static bool write_all(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return false;
  bool ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

/* The self-signed certificate survives a restart (clients keep trusting
 * it), and the same files work as --tls-cert/--tls-key. */
START_TEST(test_certificate_reused_and_given) {
  it_server srv;
  start_tls(&srv, NULL);
  ck_assert_ptr_nonnull(strstr(srv.banner, "(self-signed, made now)"));
  char *first = read_all(srv.ca_file);
  ck_assert_ptr_nonnull(first);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  ck_assert(it_server_restart(&srv));
  ck_assert_ptr_nonnull(strstr(srv.banner, "(self-signed, reused)"));
  char *second = read_all(srv.ca_file);
  ck_assert_str_eq(first, second);
  it_response *r =
      it_request_send(&srv, &(it_request){.method = "GET", .path = "/health"});
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);

  char cert[400], key[400];
  snprintf(cert, sizeof cert, "%s/given-cert.pem", srv.dir);
  snprintf(key, sizeof key, "%s/given-key.pem", srv.dir);
  char *key_text = NULL;
  char old_key[400];
  snprintf(old_key, sizeof old_key, "%s-key.pem", srv.db);
  key_text = read_all(old_key);
  ck_assert(write_all(cert, first) && write_all(key, key_text));
  it_server given;
  ck_assert(
      it_server_start(&given, (const char *const[]){"--tls-cert", cert,
                                                    "--tls-key", key, NULL}));
  snprintf(given.ca_file, sizeof given.ca_file, "%s", cert);
  r = it_request_send(&given,
                      &(it_request){.method = "GET", .path = "/health"});
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&given), 0);
  it_server_cleanup(&given);

  /* Files that are not a good pair any more are replaced. */
  ck_assert(write_all(srv.ca_file, "-----BEGIN CERTIFICATE-----\nx\n"));
  ck_assert(it_server_restart(&srv));
  ck_assert_ptr_nonnull(strstr(srv.banner, "(self-signed, made now)"));
  r = it_request_send(&srv, &(it_request){.method = "GET", .path = "/health"});
  EXPECT_STATUS(r, 200);
  it_response_free(r);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
  free(first);
  free(second);
  free(key_text);
}
END_TEST

START_TEST(test_bad_flags_stop_startup) {
  char dir[256];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/las-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char cert[400], key[400], junk[400], other_cert[400], db[300];
  snprintf(db, sizeof db, "%s/made.db", dir);
  snprintf(cert, sizeof cert, "%s-cert.pem", db);
  snprintf(key, sizeof key, "%s-key.pem", db);
  snprintf(junk, sizeof junk, "%s/junk.pem", dir);
  snprintf(other_cert, sizeof other_cert, "%s/other-cert.pem", dir);
  ck_assert(write_all(junk, "not a certificate\n"));
  /* Two self-signed pairs: a certificate and a key of different pairs. */
  char out[2048];
  it_server a;
  start_tls(&a, NULL);
  char a_cert[1100];
  snprintf(a_cert, sizeof a_cert, "%s", a.ca_file);
  char *a_text = read_all(a_cert);
  ck_assert(write_all(other_cert, a_text));
  free(a_text);
  ck_assert_int_eq(it_server_stop(&a), 0);
  it_server_cleanup(&a);
  it_server b;
  ck_assert(
      it_server_start(&b, (const char *const[]){"--tls-self-signed", NULL}));
  char b_key[400];
  snprintf(b_key, sizeof b_key, "%s-key.pem", b.db);
  char *b_text = read_all(b_key);
  ck_assert(write_all(key, b_text));
  free(b_text);
  ck_assert_int_eq(it_server_stop(&b), 0);
  it_server_cleanup(&b);

  static const char *const mem[] = {"--port", "0", "--db", ":memory:"};
  struct {
    const char *args[6];
    const char *needle;
  } cases[] = {
      {{"--tls-cert", "/nonexistent/cert.pem", "--tls-key", key},
       "--tls-cert: /nonexistent/cert.pem: No such file"},
      {{"--tls-cert", junk, "--tls-key", key}, "--tls-cert: "},
      {{"--tls-cert", other_cert, "--tls-key", junk}, "--tls-key: "},
      {{"--tls-cert", other_cert, "--tls-key", key},
       "the key does not belong to the certificate of --tls-cert"},
      {{"--tls-cert", other_cert, NULL}, "--tls-cert needs --tls-key"},
      {{"--tls-key", key, NULL}, "--tls-key needs --tls-cert"},
      {{"--plain-port", "0", NULL}, "--plain-port adds plain HTTP"},
      {{"--plain-port", "x", "--tls-self-signed", NULL},
       "--plain-port: 'x' is not a port"},
      {{"--tls-self-signed", "--tls-cert", other_cert, "--tls-key", key, NULL},
       "--tls-self-signed and --tls-cert/--tls-key"},
      {{"--public-url", "127.0.0.1:8080", NULL}, "--public-url: "},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *args[16];
    size_t n = 0;
    for (size_t k = 0; k < 4; k++)
      args[n++] = mem[k];
    for (size_t k = 0; k < 6 && cases[i].args[k]; k++)
      args[n++] = cases[i].args[k];
    args[n] = NULL;
    ck_assert_int_eq(it_run_to_exit(args, 10000, out, sizeof out), 1);
    ck_assert_msg(strstr(out, cases[i].needle), "case %zu: wanted '%s' in: %s",
                  i, cases[i].needle, out);
    ck_assert_msg(!strstr(out, "listening"), "%s", out);
  }
  unlink(junk);
  unlink(other_cert);
  unlink(key);
  ck_assert(it_remove_tree(dir));
}
END_TEST

/* The printed certificate path is used from other folders
 * (REQUESTS_CA_BUNDLE): absolute even for a relative --db; and a start that
 * fails on its certificate files leaves no database behind. */
START_TEST(test_paths_absolute_and_no_database_on_failure) {
  char dir[256];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/las-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  ck_assert_int_eq(chdir(dir), 0);
  it_server srv;
  ck_assert(
      it_server_start(&srv, (const char *const[]){"--tls-self-signed", "--db",
                                                  "rel.db", NULL}));
  char want[400];
  snprintf(want, sizeof want, "REQUESTS_CA_BUNDLE=%s/rel.db-cert.pem\n", dir);
  ck_assert_msg(strstr(srv.banner, want), "no '%s' in %s", want, srv.banner);
  snprintf(want, sizeof want, "TLS certificate: %s/rel.db-cert.pem", dir);
  ck_assert_msg(strstr(srv.banner, want), "no '%s' in %s", want, srv.banner);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);

  char out[2048];
  const char *args[] = {"--port",     "0",
                        "--db",       "never.db",
                        "--tls-cert", "rel.db-cert.pem",
                        "--tls-key",  "/nonexistent.pem",
                        NULL};
  ck_assert_int_eq(it_run_to_exit(args, 10000, out, sizeof out), 1);
  ck_assert_int_ne(access("never.db", F_OK), 0);
  ck_assert(it_remove_tree(dir));
}
END_TEST

/* A docker transition's command over HTTPS, as the SDK does it: the token
 * from https://$LAS_AUTH_ENDPOINT/token, the execution read and completed
 * at $LAS_API_ENDPOINT, the certificate trusted through the CA variables
 * the emulator sets (curl reads CURL_CA_BUNDLE, the SDK REQUESTS_CA_BUNDLE). */
static const char worker_script[] =
    "#!/bin/sh\n"
    "[ \"$REQUESTS_CA_BUNDLE\" = \"$CURL_CA_BUNDLE\" ] && "
    "[ -f \"$REQUESTS_CA_BUNDLE\" ] && echo \"ca ok\"\n"
    "echo \"auth=$LAS_AUTH_ENDPOINT api=$LAS_API_ENDPOINT\"\n"
    "tok=$(curl -sS -X POST -u \"$LAS_CLIENT_ID:$LAS_CLIENT_SECRET\" "
    "-H 'Content-Type: application/x-www-form-urlencoded' "
    "\"https://$LAS_AUTH_ENDPOINT/token?grant_type=client_credentials\" | "
    "sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n"
    "url=\"$LAS_API_ENDPOINT/transitions/$TRANSITION_ID/executions/"
    "$EXECUTION_ID\"\n"
    "echo \"read $(curl -sS -o /dev/null -w '%{http_code}' \"$url\" "
    "-H \"Authorization: Bearer $tok\")\"\n"
    "echo \"patched $(curl -sS -o /dev/null -w '%{http_code}' -X PATCH "
    "\"$url\" -H \"Authorization: Bearer $tok\" "
    "-H 'Content-Type: application/json' "
    "-d '{\"status\": \"succeeded\", \"output\": {}}')\"\n";

/* The messages of an execution's log, one per line. */
static char *log_text(const it_session *s, const json_t *exec) {
  it_response *r = it_get(s, "/logs/%s", it_str(exec, "logId"));
  EXPECT_STATUS(r, 200);
  size_t i;
  json_t *ev;
  size_t cap = 1, len = 0;
  json_array_foreach(json_object_get(r->json, "events"), i, ev) cap +=
      strlen(it_str(ev, "message") ? it_str(ev, "message") : "") + 1;
  char *text = calloc(1, cap);
  json_array_foreach(json_object_get(r->json, "events"), i, ev) {
    const char *m = it_str(ev, "message");
    len += (size_t)sprintf(text + len, "%s\n", m ? m : "");
  }
  it_response_free(r);
  return text;
}

START_TEST(test_docker_command_over_https) {
  char dir[256];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/las-tlscmd-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(dir));
  char worker[320], map[400];
  snprintf(worker, sizeof worker, "%s/worker.sh", dir);
  ck_assert(write_all(worker, worker_script));
  snprintf(map, sizeof map, "example/sdk=sh %s", worker);
  it_server srv;
  start_tls(&srv, (const char *const[]){"--docker-mode", "command",
                                        "--docker-command", map, NULL});
  it_session s;
  sdk_login(&srv, &s);
  it_response *r =
      it_send(&s, "POST",
              json_pack("{s:s, s:{s:s}}", "transitionType", "docker",
                        "parameters", "imageUrl", "example/sdk"),
              "/transitions");
  EXPECT_STATUS(r, 200);
  char tid[96];
  snprintf(tid, sizeof tid, "%s", it_str(r->json, "transitionId"));
  it_response_free(r);
  r = it_send(&s, "POST", json_object(), "/transitions/%s/executions", tid);
  EXPECT_STATUS(r, 200);
  char eid[128];
  snprintf(eid, sizeof eid, "%s", it_str(r->json, "executionId"));
  it_response_free(r);
  json_t *exec = NULL;
  for (int64_t t0 = it_now_ms(); it_now_ms() - t0 < 30000; usleep(50000)) {
    r = it_get(&s, "/transitions/%s/executions/%s", tid, eid);
    EXPECT_STATUS(r, 200);
    if (strcmp(it_str(r->json, "status"), "running") != 0) {
      exec = json_incref(r->json);
      it_response_free(r);
      break;
    }
    it_response_free(r);
  }
  ck_assert_ptr_nonnull(exec);
  /* The PATCH can be answered before the command prints "patched 200":
   * its output is complete once its exit is logged. */
  char *text = log_text(&s, exec);
  for (int64_t t0 = it_now_ms();
       !strstr(text, "the command exited") && it_now_ms() - t0 < 10000;
       usleep(50000)) {
    free(text);
    text = log_text(&s, exec);
  }
  ck_assert_msg(strcmp(it_str(exec, "status"), "succeeded") == 0, "%s: %s",
                it_str(exec, "status"), text);
  char want[200];
  snprintf(want, sizeof want, "auth=127.0.0.1:%u api=https://127.0.0.1:%u/v1",
           srv.port, srv.port);
  ck_assert_msg(strstr(text, want), "%s", text);
  ck_assert_msg(strstr(text, "ca ok\n"), "%s", text);
  ck_assert_msg(strstr(text, "read 200\n"), "%s", text);
  ck_assert_msg(strstr(text, "patched 200\n"), "%s", text);
  free(text);
  json_decref(exec);
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
  unlink(worker);
  ck_assert(it_remove_tree(dir));
}
END_TEST

/* --public-url wins in what is printed; the SDK form over https. */
START_TEST(test_public_url_printed) {
  it_server srv;
  start_tls(&srv, (const char *const[]){"--public-url",
                                        "https://emulator.test:9443/", NULL});
  char got[600];
  ck_assert(banner_var(&srv, "LAS_AUTH_ENDPOINT", got, sizeof got));
  ck_assert_str_eq(got, "emulator.test:9443");
  ck_assert(banner_var(&srv, "LAS_API_ENDPOINT", got, sizeof got));
  ck_assert_str_eq(got, "https://emulator.test:9443/v1");
  ck_assert_int_eq(it_server_stop(&srv), 0);
  it_server_cleanup(&srv);
  it_server pl;
  ck_assert(it_server_start(
      &pl, (const char *const[]){"--public-url", "http://emu:80", NULL}));
  ck_assert(banner_var(&pl, "LAS_AUTH_ENDPOINT", got, sizeof got));
  ck_assert_str_eq(got, "http://emu:80/oauth2/token");
  ck_assert(!banner_var(&pl, "REQUESTS_CA_BUNDLE", got, sizeof got));
  ck_assert_int_eq(it_server_stop(&pl), 0);
  it_server_cleanup(&pl);
}
END_TEST

/* Wildcard binds are printed as the loopback address of their family. */
START_TEST(test_endpoints_reachable) {
  http_endpoints e;
  http_endpoints_make(NULL, false, "0.0.0.0", 8080, &e);
  ck_assert_str_eq(e.api, "http://127.0.0.1:8080/v1");
  ck_assert_str_eq(e.auth, "http://127.0.0.1:8080/oauth2/token");
  ck_assert(!e.https);
  http_endpoints_make(NULL, true, "::", 8443, &e);
  ck_assert_str_eq(e.api, "https://[::1]:8443/v1");
  ck_assert_str_eq(e.auth, "[::1]:8443");
  ck_assert_str_eq(e.token_url, "https://[::1]:8443/token");
  http_endpoints_make(NULL, true, "fe80::1", 1, &e);
  ck_assert_str_eq(e.auth, "[fe80::1]:1");
  http_endpoints_make(NULL, true, "192.0.2.7", 443, &e);
  ck_assert_str_eq(e.api, "https://192.0.2.7:443/v1");
  http_endpoints_make("https://h.test/las", false, "0.0.0.0", 1, &e);
  ck_assert_str_eq(e.auth, "h.test/las");
  ck_assert_str_eq(e.api, "https://h.test/las/v1");
  ck_assert(e.https);
}
END_TEST

static Suite *tls_suite(void) {
  Suite *s = suite_create("tls");
  TCase *tc = tcase_create("https");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_endpoints_reachable);
  tcase_add_test(tc, test_sdk_session_over_https);
  tcase_add_test(tc, test_plain_request_to_tls_port);
  tcase_add_test(tc, test_idle_after_handshake);
  tcase_add_test(tc, test_certificate_reused_and_given);
  tcase_add_test(tc, test_bad_flags_stop_startup);
  tcase_add_test(tc, test_paths_absolute_and_no_database_on_failure);
  tcase_add_test(tc, test_public_url_printed);
  tcase_add_test(tc, test_docker_command_over_https);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  return ck_run(tls_suite(), CK_NORMAL);
}
