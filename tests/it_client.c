/* Harness of the integration tests: see it_client.h. */
#include "it_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
  IT_START_TIMEOUT_MS = 60000, /* generous: sanitizer builds start slowly */
  IT_STOP_TIMEOUT_MS = 30000,
  IT_HTTP_TIMEOUT_S = 60,
};

/* ------------------------------------------------------------------ */
/* processes                                                           */

int64_t it_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void it_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static const char *it_binary(void) {
  const char *bin = getenv("LAS_EMULATOR_BIN");
  return bin && *bin ? bin : "las-emulator";
}

/* The server reads its settings from LAS_* variables too: only what the
 * tests choose may reach it. */
static void it_child_environment(void) {
  static const char *const settings[] = {
      "LAS_HOST",
      "LAS_PORT",
      "LAS_DB",
      "LAS_MAX_BODY_BYTES",
      "LAS_LOG_LEVEL",
      "LAS_THREADS",
      "LAS_NO_AUTH",
      "LAS_ALLOW_REMOTE_NO_AUTH",
      "LAS_VALIDATE_RESPONSES",
      "LAS_DOCKER_MODE",
      "LAS_DOCKER_COMMAND",
      "LAS_DOCKER_COMMANDS",
  };
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
    unsetenv(settings[i]);
  setenv("LAS_CLIENT_ID", IT_CLIENT_ID, 1);
  setenv("LAS_CLIENT_SECRET", IT_CLIENT_SECRET, 1);
  setenv("LAS_API_KEY", IT_API_KEY, 1);
}

/* fork + exec of argv with stdout (and stderr too when with_stderr) on a
 * pipe; *out_fd is its read end. */
static pid_t it_spawn(const char *const *argv, int *out_fd, bool with_stderr) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    perror("it_spawn: pipe2");
    return -1;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    perror("it_spawn: fork");
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    /* Never outlive the test process that started us. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fds[1], STDOUT_FILENO);
    if (with_stderr)
      dup2(fds[1], STDERR_FILENO);
    it_child_environment();
    execv(argv[0], (char *const *)argv);
    fprintf(stderr, "it_spawn: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  *out_fd = fds[0];
  return pid;
}

/* Waits up to timeout_ms for pid: exit status, 128+signal, or -1. */
static int it_wait(pid_t pid, int timeout_ms) {
  int64_t deadline = it_now_ms() + timeout_ms;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid)
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (r < 0 && errno != EINTR)
      return -1;
    if (it_now_ms() > deadline)
      return -1;
    it_sleep_ms(5);
  }
}

/* Reads what is available within the deadline; -1 on EOF or timeout. */
static ssize_t it_read_some(int fd, char *buf, size_t len, int64_t deadline) {
  for (;;) {
    int64_t left = deadline - it_now_ms();
    if (left <= 0)
      return -1;
    struct pollfd p = {fd, POLLIN, 0};
    int n = poll(&p, 1, (int)left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return -1;
    ssize_t got = read(fd, buf, len);
    if (got < 0 && errno == EINTR)
      continue;
    return got > 0 ? got : -1;
  }
}

/* Reads the banner up to its last fixed line and takes the port and the
 * organization from it. */
static bool it_read_banner(it_server *s) {
  size_t used = 0;
  int64_t deadline = it_now_ms() + IT_START_TIMEOUT_MS;
  s->banner[0] = '\0';
  while (!strstr(s->banner, "LAS_API_ENDPOINT=") ||
         s->banner[used - 1] != '\n') {
    if (used + 1 >= sizeof s->banner)
      break;
    ssize_t n = it_read_some(s->out_fd, s->banner + used,
                             sizeof s->banner - used - 1, deadline);
    if (n < 0) {
      fprintf(stderr, "it_server: no complete banner; got:\n%s\n", s->banner);
      return false;
    }
    used += (size_t)n;
    s->banner[used] = '\0';
  }
  /* las-emulator listening on http(s)://HOST:PORT (also under /v1) */
  const char *line = strstr(s->banner, "las-emulator listening on http");
  const char *tail = line ? strstr(line, " (also under /v1)\n") : NULL;
  const char *colon = tail;
  while (colon && colon > line && *colon != ':')
    colon--;
  unsigned long port = colon && colon > line ? strtoul(colon + 1, NULL, 10) : 0;
  if (port == 0 || port > 65535) {
    fprintf(stderr, "it_server: no listening line in:\n%s\n", s->banner);
    return false;
  }
  s->port = (unsigned)port;
  bool tls = strncmp(line, "las-emulator listening on https://", 34) == 0;
  snprintf(s->base_url, sizeof s->base_url, "%s://127.0.0.1:%lu",
           tls ? "https" : "http", port);
  const char *org = strstr(s->banner, "organization: ");
  if (org)
    sscanf(org, "organization: %63s", s->org_id);
  return true;
}

static bool it_launch(it_server *s) {
  const char *argv[IT_MAX_ARGS + 12];
  size_t n = 0;
  argv[n++] = it_binary();
  argv[n++] = "--port";
  argv[n++] = "0";
  argv[n++] = "--db";
  argv[n++] = s->db;
  argv[n++] = "--validate-responses";
  argv[n++] = "--log-level";
  argv[n++] = "warn";
  for (size_t i = 0; i < s->n_args; i++)
    argv[n++] = s->args[i];
  argv[n] = NULL;
  s->pid = it_spawn(argv, &s->out_fd, false);
  if (s->pid <= 0) {
    s->pid = 0;
    return false;
  }
  if (it_read_banner(s))
    return true;
  it_server_kill9(s);
  return false;
}

bool it_server_start(it_server *s, const char *const *extra) {
  memset(s, 0, sizeof *s);
  s->out_fd = -1;
  const char *tmp = getenv("TMPDIR");
  snprintf(s->dir, sizeof s->dir, "%s/las-it-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(s->dir)) {
    perror("it_server_start: mkdtemp");
    return false;
  }
  snprintf(s->db, sizeof s->db, "%s/las.db", s->dir);
  for (; extra && extra[s->n_args] && s->n_args < IT_MAX_ARGS; s->n_args++)
    s->args[s->n_args] = extra[s->n_args];
  return it_launch(s);
}

bool it_server_restart(it_server *s) {
  if (s->pid)
    return false;
  return it_launch(s);
}

static void it_close_output(it_server *s) {
  if (s->out_fd >= 0)
    close(s->out_fd);
  s->out_fd = -1;
}

int it_server_stop(it_server *s) {
  if (!s->pid)
    return -1;
  kill(s->pid, SIGTERM);
  int status = it_wait(s->pid, IT_STOP_TIMEOUT_MS);
  if (status < 0) {
    fprintf(stderr, "it_server: pid %d ignored SIGTERM; killing it\n",
            (int)s->pid);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
  }
  s->pid = 0;
  it_close_output(s);
  return status;
}

void it_server_kill9(it_server *s) {
  if (!s->pid)
    return;
  kill(s->pid, SIGKILL);
  waitpid(s->pid, NULL, 0);
  s->pid = 0;
  it_close_output(s);
}

static int it_remove_entry(const char *path, const struct stat *sb, int flag,
                           struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

bool it_remove_tree(const char *path) {
  return nftw(path, it_remove_entry, 8, FTW_DEPTH | FTW_PHYS) == 0;
}

void it_server_cleanup(it_server *s) {
  if (s->pid || !s->dir[0])
    return;
  it_remove_tree(s->dir);
  s->dir[0] = '\0';
}

int it_run_to_exit(const char *const *args, int timeout_ms, char *out,
                   size_t outlen) {
  const char *argv[IT_MAX_ARGS + 2];
  size_t n = 0;
  argv[n++] = it_binary();
  for (size_t i = 0; args[i] && n < IT_MAX_ARGS + 1; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  int fd = -1;
  pid_t pid = it_spawn(argv, &fd, true);
  if (pid <= 0)
    return -1;
  size_t used = 0;
  int64_t deadline = it_now_ms() + timeout_ms;
  char sink[512];
  for (;;) {
    bool room = used + 1 < outlen;
    ssize_t got =
        it_read_some(fd, room ? out + used : sink,
                     room ? outlen - used - 1 : sizeof sink, deadline);
    if (got < 0)
      break;
    if (room)
      used += (size_t)got;
  }
  if (outlen)
    out[used] = '\0';
  close(fd);
  int64_t left = deadline - it_now_ms();
  int status = it_wait(pid, left > 0 ? (int)left : 0);
  if (status < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
  }
  return status;
}

int it_connect(const it_server *s) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in addr = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)s->port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */

typedef struct {
  char *data;
  size_t len;
  size_t cap;
} it_buf;

typedef struct {
  const char *data;
  size_t left;
} it_upload;

static size_t it_on_body(char *ptr, size_t size, size_t nmemb, void *arg) {
  it_buf *b = arg;
  size_t n = size * nmemb;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown)
      return 0;
    b->data = grown;
    b->cap = cap;
  }
  memcpy(b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

/* Keeps the response headers the tests look at. */
static size_t it_on_header(char *ptr, size_t size, size_t nmemb, void *arg) {
  it_response *r = arg;
  size_t n = size * nmemb;
  static const struct {
    const char *name;
    size_t offset;
    size_t size;
  } wanted[] = {
      {"Allow", offsetof(it_response, allow), sizeof r->allow},
      {"Content-Type", offsetof(it_response, content_type),
       sizeof r->content_type},
      {"Access-Control-Allow-Origin", offsetof(it_response, cors_origin),
       sizeof r->cors_origin},
      {"Access-Control-Allow-Methods", offsetof(it_response, cors_methods),
       sizeof r->cors_methods},
      {"Access-Control-Allow-Headers", offsetof(it_response, cors_headers),
       sizeof r->cors_headers},
  };
  const char *colon = memchr(ptr, ':', n);
  if (!colon)
    return n;
  size_t name_len = (size_t)(colon - ptr);
  const char *value = colon + 1;
  size_t value_len = n - name_len - 1;
  while (value_len && (*value == ' ' || *value == '\t')) {
    value++;
    value_len--;
  }
  while (value_len &&
         (value[value_len - 1] == '\r' || value[value_len - 1] == '\n' ||
          value[value_len - 1] == ' '))
    value_len--;
  for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
    if (strlen(wanted[i].name) != name_len ||
        strncasecmp(wanted[i].name, ptr, name_len) != 0)
      continue;
    char *dst = (char *)r + wanted[i].offset;
    snprintf(dst, wanted[i].size, "%.*s", (int)value_len, value);
  }
  return n;
}

static size_t it_on_upload(char *ptr, size_t size, size_t nmemb, void *arg) {
  it_upload *u = arg;
  size_t n = size * nmemb;
  /* Small pieces, so the body really arrives in several chunks. */
  if (n > 1000)
    n = 1000;
  if (n > u->left)
    n = u->left;
  memcpy(ptr, u->data, n);
  u->data += n;
  u->left -= n;
  return n;
}

static struct curl_slist *it_headers(const it_request *r) {
  char line[1024];
  struct curl_slist *h = curl_slist_append(NULL, "Expect:");
  if (r->authorization) {
    snprintf(line, sizeof line, "Authorization: %s", r->authorization);
    h = curl_slist_append(h, line);
  } else if (r->token && *r->token) {
    snprintf(line, sizeof line, "Authorization: Bearer %s", r->token);
    h = curl_slist_append(h, line);
  }
  if (r->api_key && *r->api_key) {
    snprintf(line, sizeof line, "x-api-key: %s", r->api_key);
    h = curl_slist_append(h, line);
  }
  if (r->content_type) {
    snprintf(line, sizeof line, "Content-Type:%s%s",
             *r->content_type ? " " : "", r->content_type);
    h = curl_slist_append(h, line);
  }
  if (r->chunked)
    h = curl_slist_append(h, "Transfer-Encoding: chunked");
  if (r->extra_header)
    h = curl_slist_append(h, r->extra_header);
  return h;
}

static bool it_method_has_body(const char *method) {
  return strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0 ||
         strcmp(method, "PUT") == 0;
}

it_response *it_request_send(const it_server *s, const it_request *r) {
  it_response *resp = calloc(1, sizeof *resp);
  if (!resp)
    abort();
  size_t shown = strlen(r->path) > 160 ? 160 : strlen(r->path);
  snprintf(resp->what, sizeof resp->what, "%s %.*s%s", r->method, (int)shown,
           r->path, shown < strlen(r->path) ? "..." : "");
  CURL *curl = curl_easy_init();
  if (!curl)
    abort();
  char url[4096];
  snprintf(url, sizeof url, "%s%s", s->base_url, r->path);
  it_buf body = {NULL, 0, 0};
  const char *payload = r->body;
  if (!payload && it_method_has_body(r->method))
    payload = "";
  size_t payload_len =
      payload ? (r->body_len ? r->body_len : strlen(payload)) : 0;
  it_upload upload = {payload, payload_len};
  struct curl_slist *headers = it_headers(r);

  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, r->method);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, it_on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, it_on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, resp);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)IT_HTTP_TIMEOUT_S);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, resp->error);
  if (s->ca_file[0])
    curl_easy_setopt(curl, CURLOPT_CAINFO, s->ca_file);
  if (strcmp(r->method, "HEAD") == 0)
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (payload && r->chunked) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, it_on_upload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  } else if (payload) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)payload_len);
  }

  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
  else if (!resp->error[0])
    snprintf(resp->error, sizeof resp->error, "%s", curl_easy_strerror(rc));
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);

  resp->body = body.data ? body.data : strdup("");
  resp->body_len = body.len;
  if (resp->body_len)
    resp->json = json_loadb(resp->body, resp->body_len, 0, NULL);
  return resp;
}

void it_response_free(it_response *r) {
  if (!r)
    return;
  json_decref(r->json);
  free(r->body);
  free(r);
}

static it_response *it_vsend(const it_session *c, const char *method,
                             json_t *body, const char *fmt, va_list ap) {
  char path[4096];
  vsnprintf(path, sizeof path, fmt, ap);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  it_request r = {
      .method = method,
      .path = path,
      .token = c->token,
      .api_key = c->api_key,
      .content_type = body ? "application/json" : NULL,
      .body = text,
  };
  it_response *resp = it_request_send(c->srv, &r);
  free(text);
  json_decref(body);
  return resp;
}

it_response *it_send(const it_session *c, const char *method, json_t *body,
                     const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  it_response *r = it_vsend(c, method, body, fmt, ap);
  va_end(ap);
  return r;
}

it_response *it_get(const it_session *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  it_response *r = it_vsend(c, "GET", NULL, fmt, ap);
  va_end(ap);
  return r;
}

it_response *it_delete(const it_session *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  it_response *r = it_vsend(c, "DELETE", NULL, fmt, ap);
  va_end(ap);
  return r;
}

/* ------------------------------------------------------------------ */
/* credentials                                                         */

it_response *it_token_request(const it_server *s, const char *client_id,
                              const char *secret, const char *scope) {
  char pair[1024], auth[1500], path[1200];
  snprintf(pair, sizeof pair, "%s:%s", client_id, secret);
  char *b64 = it_b64_encode(pair, strlen(pair));
  snprintf(auth, sizeof auth, "Basic %s", b64);
  free(b64);
  char *enc = scope ? it_url_encode(scope) : NULL;
  snprintf(path, sizeof path, "/oauth2/token?grant_type=client_credentials%s%s",
           enc ? "&scope=" : "", enc ? enc : "");
  free(enc);
  it_request r = {.method = "POST",
                  .path = path,
                  .authorization = auth,
                  .content_type = "application/x-www-form-urlencoded",
                  .body = ""};
  return it_request_send(s, &r);
}

static bool it_take_token(it_response *r, it_session *out) {
  const char *token = r->status == 200 ? it_str(r->json, "access_token") : NULL;
  if (!token) {
    fprintf(stderr, "it_login: %s answered %ld: %s\n", r->what, r->status,
            r->body);
    it_response_free(r);
    return false;
  }
  snprintf(out->token, sizeof out->token, "%s", token);
  it_response_free(r);
  return true;
}

bool it_login(const it_server *s, const char *client_id, const char *secret,
              const char *api_key, it_session *out) {
  memset(out, 0, sizeof *out);
  out->srv = s;
  snprintf(out->api_key, sizeof out->api_key, "%s", api_key ? api_key : "");
  return it_take_token(it_token_request(s, client_id, secret, NULL), out);
}

bool it_login_bootstrap(const it_server *s, it_session *out) {
  return it_login(s, IT_CLIENT_ID, IT_CLIENT_SECRET, IT_API_KEY, out);
}

bool it_signup(const it_server *s, it_session *out, char *org_id) {
  memset(out, 0, sizeof *out);
  out->srv = s;
  char email[128];
  snprintf(email, sizeof email, "it-%d-%u@example.com", (int)getpid(),
           it_unique());
  const char *password = "correct horse battery staple";
  it_session anon = {.srv = s};
  it_response *r = it_send(&anon, "POST",
                           json_pack("{s:s, s:s, s:s, s:s}", "email", email,
                                     "password", password, "reCaptchaResponse",
                                     "it", "name", "Integration Test Org"),
                           "/signup");
  const char *client_id = r->status == 200 ? it_str(r->json, "clientId") : NULL;
  if (!client_id) {
    fprintf(stderr, "it_signup: %ld %s\n", r->status, r->body);
    it_response_free(r);
    return false;
  }
  char *e_user = it_url_encode(email), *e_pass = it_url_encode(password),
       *e_client = it_url_encode(client_id);
  char form[1024];
  snprintf(form, sizeof form,
           "grant_type=password&username=%s&password=%s&client_id=%s", e_user,
           e_pass, e_client);
  free(e_user);
  free(e_pass);
  free(e_client);
  it_response_free(r);
  it_request tr = {.method = "POST",
                   .path = "/oauth2/token",
                   .content_type = "application/x-www-form-urlencoded",
                   .body = form};
  if (!it_take_token(it_request_send(s, &tr), out))
    return false;
  if (!org_id)
    return true;
  r = it_get(out, "/organizations/me");
  const char *id = r->status == 200 ? it_str(r->json, "organizationId") : NULL;
  snprintf(org_id, 64, "%s", id ? id : "");
  it_response_free(r);
  return id != NULL;
}

/* ------------------------------------------------------------------ */
/* utilities                                                           */

static const char it_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *it_b64_encode(const void *data, size_t len) {
  const unsigned char *in = data;
  char *out = malloc(4 * ((len + 2) / 3) + 1);
  if (!out)
    abort();
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < len)
      v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < len)
      v |= in[i + 2];
    out[o++] = it_b64_alphabet[v >> 18 & 63];
    out[o++] = it_b64_alphabet[v >> 12 & 63];
    out[o++] = i + 1 < len ? it_b64_alphabet[v >> 6 & 63] : '=';
    out[o++] = i + 2 < len ? it_b64_alphabet[v & 63] : '=';
  }
  out[o] = '\0';
  return out;
}

/* Value of a base64 digit, -1 for anything else. */
static int it_b64_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  return c == '+' ? 62 : c == '/' ? 63 : -1;
}

unsigned char *it_b64_decode(const char *text, size_t *len) {
  size_t n = strlen(text);
  if (n % 4)
    return NULL;
  unsigned char *out = malloc(n / 4 * 3 + 1);
  if (!out)
    abort();
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; k++) {
      int d = it_b64_value(text[i + k]);
      if (text[i + k] == '=' && i + 4 == n && k >= 2) {
        pad++;
        v <<= 6;
      } else if (d >= 0 && !pad) {
        v = v << 6 | (uint32_t)d;
      } else {
        free(out);
        return NULL;
      }
    }
    out[o++] = (unsigned char)(v >> 16);
    if (pad < 2)
      out[o++] = (unsigned char)(v >> 8);
    if (pad < 1)
      out[o++] = (unsigned char)v;
  }
  *len = o;
  return out;
}

char *it_url_encode(const char *text) {
  char *out = malloc(3 * strlen(text) + 1);
  if (!out)
    abort();
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
        (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
      out[o++] = (char)*p;
    } else {
      o += (size_t)sprintf(out + o, "%%%02X", *p);
    }
  }
  out[o] = '\0';
  return out;
}

static bool it_matches(const char *pattern, const char *text) {
  regex_t re;
  if (!text || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
    return false;
  bool ok = regexec(&re, text, 0, NULL, 0) == 0;
  regfree(&re);
  return ok;
}

bool it_id_valid(const char *kind, const char *id) {
  char pattern[128];
  snprintf(pattern, sizeof pattern, "^las:%s:[0-9a-f]{32}$", kind);
  return it_matches(pattern, id);
}

bool it_timestamp_valid(const char *text) {
  return it_matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                    "\\.[0-9]{6}\\+0000$",
                    text);
}

unsigned it_unique(void) {
  /* Forked test processes inherit the counter: reseed in each process so
   * that their values differ too. */
  static unsigned counter;
  static pid_t owner;
  if (owner != getpid()) {
    owner = getpid();
    if (getrandom(&counter, sizeof counter, 0) != sizeof counter)
      counter = (unsigned)time(NULL) ^ (unsigned)owner;
    counter &= 0x7fff0000u;
  }
  return ++counter;
}

const char *it_str(const json_t *obj, const char *key) {
  return json_string_value(json_object_get(obj, key));
}
