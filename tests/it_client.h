/* Harness of the integration tests: runs the real las-emulator binary as a
 * child process on a fresh database and talks HTTP to it with libcurl.
 *
 * Nothing here depends on Check: functions report problems through their
 * return values (and a line on stderr) and the tests assert on them. */
#ifndef LAS_TESTS_IT_CLIENT_H
#define LAS_TESTS_IT_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Bootstrap credentials every server is started with. */
#define IT_CLIENT_ID "it-client-id"
#define IT_CLIENT_SECRET "it-client-secret-0123456789"
#define IT_API_KEY "it-api-key-0123456789"

enum { IT_MAX_ARGS = 16 };

typedef struct it_server {
  pid_t pid;  /* 0 when not running */
  int out_fd; /* read end of the server's stdout */
  unsigned port;
  char dir[256];                 /* mkdtemp directory holding the database */
  char db[320];                  /* database file */
  char base_url[64];             /* http(s)://127.0.0.1:PORT */
  char ca_file[1100];            /* non-empty: requests verify TLS with it */
  char org_id[64];               /* bootstrap organization, from the banner */
  char banner[4096];             /* everything the server printed on stdout */
  const char *args[IT_MAX_ARGS]; /* extra flags, kept for restarts */
  size_t n_args;
} it_server;

/* Starts the server on a fresh database in a new directory under $TMPDIR
 * (or /tmp), with
 * `--port 0 --db FILE --validate-responses --log-level warn` plus `extra`
 * (NULL-terminated, may be NULL; the strings must outlive the server). */
bool it_server_start(it_server *s, const char *const *extra);
/* Starts it again on the same database and flags (after a stop or kill). */
bool it_server_restart(it_server *s);
/* SIGTERM and wait: the exit status (0..255), 128+signal when it died of a
 * signal, -1 when it did not stop within the time limit (then killed). */
int it_server_stop(it_server *s);
/* SIGKILL and reap. */
void it_server_kill9(it_server *s);
/* Removes the temporary directory (the server must be stopped). */
void it_server_cleanup(it_server *s);
/* rm -r */
bool it_remove_tree(const char *path);

/* Runs the binary with `args` (NULL-terminated, no implicit flags) and
 * expects it to exit by itself: returns its exit status, or -1 when it was
 * still running after timeout_ms (it is then killed). The first bytes of
 * what it writes to stdout and stderr are copied to out. */
int it_run_to_exit(const char *const *args, int timeout_ms, char *out,
                   size_t outlen);

/* A plain TCP connection to the server (-1 on failure), for tests of what
 * HTTP clients do not do on their own, such as stalling mid-request. */
int it_connect(const it_server *s);

/* ---- HTTP ---- */

typedef struct it_request {
  const char *method;
  const char *path;          /* with query string */
  const char *token;         /* sends Authorization: Bearer TOKEN */
  const char *api_key;       /* sends x-api-key */
  const char *authorization; /* raw Authorization header (overrides token) */
  const char *content_type;  /* sent when not NULL; "" sends none */
  const char *body;          /* NULL: no body */
  size_t body_len;           /* 0: strlen(body) */
  bool chunked;              /* send the body without Content-Length */
  const char *extra_header;  /* one more "Name: value" line (replaces curl's
                                own field of that name, e.g. Host) */
} it_request;

typedef struct it_response {
  long status;    /* 0 when the request failed */
  char what[300]; /* "METHOD path", for messages */
  char *body;     /* raw, NUL-terminated */
  size_t body_len;
  json_t *json; /* parsed body, NULL when not JSON */
  char allow[256];
  char content_type[128];
  char cors_origin[128];  /* Access-Control-Allow-Origin */
  char cors_methods[256]; /* Access-Control-Allow-Methods */
  char cors_headers[256]; /* Access-Control-Allow-Headers */
  char error[256];        /* curl's error text when status is 0 */
} it_response;

/* One HTTP exchange; never NULL. Free with it_response_free. */
it_response *it_request_send(const it_server *s, const it_request *r);
void it_response_free(it_response *r);

/* Who is calling: a token and an api key, either may be empty. */
typedef struct it_session {
  const it_server *srv;
  char token[256];
  char api_key[128];
} it_session;

/* JSON requests in a session. `body` is stolen (may be NULL); the path is a
 * printf format. */
it_response *it_send(const it_session *c, const char *method, json_t *body,
                     const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
it_response *it_get(const it_session *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
it_response *it_delete(const it_session *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* POST /oauth2/token?grant_type=client_credentials with HTTP Basic and an
 * empty form body, like the official SDKs. scope may be NULL. */
it_response *it_token_request(const it_server *s, const char *client_id,
                              const char *secret, const char *scope);
/* A session for these client credentials; false when no token came back. */
bool it_login(const it_server *s, const char *client_id, const char *secret,
              const char *api_key, it_session *out);
/* The bootstrap client's session. */
bool it_login_bootstrap(const it_server *s, it_session *out);
/* POST /signup with a unique e-mail, then a password-grant token: a session
 * in a brand-new organization. org_id (64 bytes) receives its id when not
 * NULL. */
bool it_signup(const it_server *s, it_session *out, char *org_id);

/* ---- small utilities ---- */

/* Base64 (standard alphabet, padded). Both return malloc'ed buffers. */
char *it_b64_encode(const void *data, size_t len);
unsigned char *it_b64_decode(const char *text, size_t *len);
/* URL-encodes text for a query string (malloc'ed). */
char *it_url_encode(const char *text);
/* `las:<kind>:` followed by exactly 32 lowercase hex digits. */
bool it_id_valid(const char *kind, const char *id);
/* 2021-04-14T14:13:02.021412+0000 */
bool it_timestamp_valid(const char *text);
/* CLOCK_MONOTONIC in milliseconds. */
int64_t it_now_ms(void);
/* A process-unique counter, for unique names and e-mails. */
unsigned it_unique(void);
/* Field of an object as a string, NULL when absent or not a string. */
const char *it_str(const json_t *obj, const char *key);

#endif
