#include "core/config.h"

#include "core/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* OPT_LIST: repeatable; each value is appended as one more line. */
typedef enum {
  OPT_STR,
  OPT_UINT,
  OPT_SIZE,
  OPT_U64,
  OPT_BOOL,
  OPT_LEVEL,
  OPT_LIST
} opt_kind;

typedef struct {
  const char *flag;
  const char *env;
  opt_kind kind;
  size_t offset;
  size_t size;
  const char *help;
} opt_spec;

#define OPT(flag, env, kind, field, help)                                      \
  { flag, env, kind, offsetof(config, field), sizeof(((config *)0)->field), help }

/* The single list of settings: --help, env and flag parsing all read it. */
static const opt_spec config_opts[] = {
    OPT("--host", "LAS_HOST", OPT_STR, host, "address to listen on (default 127.0.0.1)"),
    OPT("--port", "LAS_PORT", OPT_UINT, port, "TCP port (default 8080; 0 picks a free port)"),
    OPT("--db", "LAS_DB", OPT_STR, db_path, "SQLite database file (default ./las-emulator.db; :memory: for a throw-away store)"),
    OPT("--max-body-bytes", "LAS_MAX_BODY_BYTES", OPT_SIZE, max_body_bytes, "request body limit in bytes (default 10485760)"),
    OPT("--max-uri-bytes", "LAS_MAX_URI_BYTES", OPT_SIZE, max_uri_bytes, "request target (path and query) limit in bytes; longer answers 414 (default 65536)"),
    OPT("--max-query-params", "LAS_MAX_QUERY_PARAMS", OPT_UINT, max_query_params, "query parameters per request; more answers 400 (default 1024)"),
    OPT("--max-header-bytes", "LAS_MAX_HEADER_BYTES", OPT_SIZE, max_header_bytes, "header fields' size in bytes; larger answers 431 (default 8192)"),
    OPT("--max-headers", "LAS_MAX_HEADERS", OPT_UINT, max_headers, "header fields per request; more answers 431 (default 100)"),
    OPT("--header-timeout-ms", "LAS_HEADER_TIMEOUT_MS", OPT_UINT, header_timeout_ms, "a request's line and headers must arrive within this once they start (default 5000)"),
    OPT("--body-timeout-ms", "LAS_BODY_TIMEOUT_MS", OPT_UINT, body_timeout_ms, "a request's body must arrive within this after its headers (default 30000; at most --idle-timeout less 0.5 s)"),
    OPT("--idle-timeout", "LAS_IDLE_TIMEOUT", OPT_UINT, idle_timeout_s, "seconds an idle keep-alive connection is kept (default 60)"),
    OPT("--max-connections", "LAS_MAX_CONNECTIONS", OPT_UINT, max_connections, "open connections; when full the oldest idle one is dropped (default 4096, capped by the open-files limit)"),
    OPT("--max-connections-per-address", "LAS_MAX_CONNECTIONS_PER_ADDRESS", OPT_UINT, max_connections_per_address, "open connections per client address; 0: no limit (default 1024)"),
    OPT("--log-level", "LAS_LOG_LEVEL", OPT_LEVEL, log_level, "debug|info|warn|error|off (default info: one line per request)"),
    OPT("--threads", "LAS_THREADS", OPT_UINT, threads, "HTTP worker threads (default: one per core)"),
    OPT("--no-auth", "LAS_NO_AUTH", OPT_BOOL, no_auth, "serve requests without credentials as the bootstrap organization"),
    OPT("--allow-remote-no-auth", "LAS_ALLOW_REMOTE_NO_AUTH", OPT_BOOL, allow_remote_no_auth, "permit --no-auth on a non-loopback address"),
    OPT("--validate-responses", "LAS_VALIDATE_RESPONSES", OPT_BOOL, validate_responses, "test mode: check every response against its schema; a mismatch is a 500"),
    OPT("--processing-delay-ms", "LAS_PROCESSING_DELAY_MS", OPT_UINT, processing_delay_ms, "simulated processing time of background work, e.g. data bundles (default 3000)"),
    OPT("--clock-offset-seconds", "LAS_CLOCK_OFFSET_SECONDS", OPT_U64, clock_offset_s, "run the emulator's clock this far ahead, up to 100 years (tests of expiry and retention)"),
    OPT("--admin-token", "LAS_ADMIN_TOKEN", OPT_STR, admin_token, "bearer token of the control API (/_emulator/...); unset: served to loopback clients only"),
    OPT("--journal-size", "LAS_JOURNAL_SIZE", OPT_SIZE, journal_size, "requests kept by the request journal (GET /_emulator/requests); 0 turns it off (default 1000)"),
    OPT("--journal-body-bytes", "LAS_JOURNAL_BODY_BYTES", OPT_SIZE, journal_body_bytes, "bytes of each request and response body the journal keeps (default 4096)"),
    OPT("--faults", "LAS_FAULTS", OPT_STR, faults_file, "a JSON file of fault rules applied from the start (the shape of POST /_emulator/faults)"),
    OPT("--throttle-rps", "LAS_THROTTLE_RPS", OPT_UINT, throttle_rps, "requests per second per organization before 429 Too Many Requests; 0: no throttle (default)"),
    OPT("--docker-mode", "LAS_DOCKER_MODE", OPT_STR, docker_mode, "what executions of docker transitions do: auto (completed after --processing-delay-ms, output = input; default), external (run until a client PATCHes them), command (run the local command mapped to the image)"),
    OPT("--docker-command", "LAS_DOCKER_COMMAND", OPT_LIST, docker_commands, "IMAGE=COMMAND: the command line (run with /bin/sh -c) of an image in --docker-mode command; repeatable; IMAGE * maps every other image"),
    OPT("--docker-commands", "LAS_DOCKER_COMMANDS", OPT_STR, docker_commands_file, "a JSON file {\"IMAGE\": \"COMMAND\", ...} of more mappings (--docker-command wins for the same image)"),
    OPT("--allowances", "LAS_ALLOWANCES", OPT_STR, allowances, "organization allowances, e.g. monthlyNumberOfDocumentsAllowed=100,numberOfModelsAllowed=5 (defaults are generous)"),
    OPT("--seed", "LAS_SEED", OPT_STR, seed_path, "a JSON file of fixtures (organizations, app clients, datasets, documents, models, transitions, workflows, ...) created at start, once per database, and again by POST /_emulator/reset; a bad entry stops the start"),
    OPT("--tls-cert", "LAS_TLS_CERT", OPT_STR, tls_cert, "PEM certificate (chain, server's first): --port serves HTTPS, every route (needs --tls-key)"),
    OPT("--tls-key", "LAS_TLS_KEY", OPT_STR, tls_key, "PEM private key (unencrypted) of --tls-cert"),
    OPT("--tls-self-signed", "LAS_TLS_SELF_SIGNED", OPT_BOOL, tls_self_signed, "HTTPS with a self-signed certificate for localhost/127.0.0.1/::1, kept beside the database (DB-cert.pem, DB-key.pem; reused while valid); its path is printed"),
    OPT("--plain-port", "LAS_PLAIN_PORT", OPT_STR, plain_port, "with HTTPS: also serve plain HTTP on this port of --host (0 picks a free port, printed)"),
    OPT("--public-url", "LAS_PUBLIC_URL", OPT_STR, public_url, "base URL clients reach the server at, e.g. https://localhost:8443 behind a port mapping; the printed endpoints use it"),
    OPT("--id-seed", "LAS_ID_SEED", OPT_STR, id_seed, "deterministic ids and tokens from the start: the same requests give the same ids run after run (0 to 9223372036854775807; for tests: the values are predictable)"),
    OPT("--snapshot-on-exit", "LAS_SNAPSHOT_ON_EXIT", OPT_STR, snapshot_on_exit, "write a snapshot of the whole state to this file at a clean stop (SIGTERM, SIGINT)"),
    OPT("--restore-snapshot", "LAS_RESTORE_SNAPSHOT", OPT_STR, restore_snapshot, "start from this snapshot: it replaces what --db holds (migrations applied), then the bootstrap runs as on any start"),
    OPT("--client-id", "LAS_CLIENT_ID", OPT_STR, client_id, "bootstrap app client id (generated when unset)"),
    OPT("--client-secret", "LAS_CLIENT_SECRET", OPT_STR, client_secret, "bootstrap app client secret (generated when unset)"),
    OPT("--api-key", "LAS_API_KEY", OPT_STR, api_key, "bootstrap api key (generated when unset)"),
};
#define CONFIG_NOPTS (sizeof config_opts / sizeof config_opts[0])

static bool config_set(config *cfg, const opt_spec *o, const char *value,
                       char *err, size_t errlen) {
  char *field = (char *)cfg + o->offset;
  char *end = NULL;
  switch (o->kind) {
  case OPT_LIST: {
    size_t used = strlen(field);
    if (used + strlen(value) + 2 > o->size) {
      snprintf(err, errlen, "%s: values too long", o->flag);
      return false;
    }
    if (used)
      field[used++] = '\n';
    memcpy(field + used, value, strlen(value) + 1);
    return true;
  }
  case OPT_STR:
    if (strlen(value) >= o->size) {
      snprintf(err, errlen, "%s: value too long", o->flag);
      return false;
    }
    memcpy(field, value, strlen(value) + 1);
    return true;
  case OPT_UINT:
  case OPT_SIZE:
  case OPT_U64: {
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (errno || !end || *end || !*value || value[0] == '-' ||
        (o->kind == OPT_UINT && v > 0xffffffffULL)) {
      snprintf(err, errlen, "%s: '%s' is not a valid number", o->flag, value);
      return false;
    }
    if (o->kind == OPT_UINT)
      *(unsigned *)(void *)field = (unsigned)v;
    else if (o->kind == OPT_U64)
      *(uint64_t *)(void *)field = (uint64_t)v;
    else
      *(size_t *)(void *)field = (size_t)v;
    return true;
  }
  case OPT_BOOL: {
    bool on = strcmp(value, "1") == 0 || strcmp(value, "true") == 0 ||
              strcmp(value, "yes") == 0;
    bool off = strcmp(value, "0") == 0 || strcmp(value, "false") == 0 ||
               strcmp(value, "no") == 0 || value[0] == '\0';
    if (!on && !off) {
      snprintf(err, errlen, "%s: '%s' is not a boolean", o->env, value);
      return false;
    }
    *(bool *)(void *)field = on;
    return true;
  }
  case OPT_LEVEL: {
    int level = log_parse_level(value);
    if (level < 0) {
      snprintf(err, errlen, "%s: '%s' is not one of debug|info|warn|error|off",
               o->flag, value);
      return false;
    }
    *(int *)(void *)field = level;
    return true;
  }
  }
  return false;
}

/* The TLS flags go together as described in config.h; a public URL is an
 * http or https URL without query or fragment (trailing slashes dropped). */
static bool config_check_tls(config *cfg, char *err, size_t errlen) {
  bool files = cfg->tls_cert[0] || cfg->tls_key[0];
  if (files && (!cfg->tls_cert[0] || !cfg->tls_key[0])) {
    snprintf(err, errlen, "%s needs %s as well",
             cfg->tls_cert[0] ? "--tls-cert" : "--tls-key",
             cfg->tls_cert[0] ? "--tls-key" : "--tls-cert");
    return false;
  }
  if (files && cfg->tls_self_signed) {
    snprintf(err, errlen, "--tls-self-signed and --tls-cert/--tls-key: give "
                          "one or the other");
    return false;
  }
  if (cfg->plain_port[0]) {
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(cfg->plain_port, &end, 10);
    if (errno || !end || *end || cfg->plain_port[0] == '-' || v > 65535) {
      snprintf(err, errlen, "--plain-port: '%s' is not a port (0 to 65535)",
               cfg->plain_port);
      return false;
    }
    if (!files && !cfg->tls_self_signed) {
      snprintf(err, errlen,
               "--plain-port adds plain HTTP beside HTTPS: it needs "
               "--tls-cert/--tls-key or --tls-self-signed (without them "
               "--port serves plain HTTP)");
      return false;
    }
    if (v != 0 && v == cfg->port) {
      snprintf(err, errlen, "--plain-port %lu: --port is that port already",
               v);
      return false;
    }
    cfg->plain_port_num = (unsigned)v;
  }
  if (cfg->public_url[0]) {
    const char *u = cfg->public_url;
    const char *rest = strncmp(u, "https://", 8) == 0  ? u + 8
                       : strncmp(u, "http://", 7) == 0 ? u + 7
                                                       : NULL;
    if (!rest || !*rest || *rest == '/' || strpbrk(u, "?# \t\r\n")) {
      snprintf(err, errlen,
               "--public-url: '%s' is not an http:// or https:// URL with a "
               "host (and no query or fragment)",
               u);
      return false;
    }
    size_t n = strlen(u);
    while (n > 0 && u[n - 1] == '/')
      cfg->public_url[--n] = '\0';
  }
  return true;
}

config_result config_load(config *cfg, int argc, char **argv, char *err,
                          size_t errlen) {
  memset(cfg, 0, sizeof *cfg);
  strcpy(cfg->host, "127.0.0.1");
  cfg->port = 8080;
  strcpy(cfg->db_path, "las-emulator.db");
  cfg->max_body_bytes = 10u * 1024u * 1024u;
  cfg->max_uri_bytes = 65536;
  cfg->max_query_params = 1024;
  cfg->max_header_bytes = 8192;
  cfg->max_headers = 100;
  cfg->header_timeout_ms = 5000;
  cfg->body_timeout_ms = 30000;
  cfg->idle_timeout_s = 60;
  cfg->max_connections = 4096;
  cfg->max_connections_per_address = 1024;
  cfg->log_level = LOG_INFO;
  cfg->processing_delay_ms = 3000;
  cfg->journal_size = 1000;
  cfg->journal_body_bytes = 4096;

  for (size_t i = 0; i < CONFIG_NOPTS; i++) {
    const char *v = getenv(config_opts[i].env);
    if (v && !config_set(cfg, &config_opts[i], v, err, errlen))
      return CONFIG_ERROR;
  }
  /* A repeatable flag replaces its variable's list, then adds to its own. */
  bool list_from_flags[CONFIG_NOPTS] = {false};
  for (int a = 1; a < argc; a++) {
    if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0)
      return CONFIG_HELP;
    const opt_spec *o = NULL;
    const char *value = NULL;
    for (size_t i = 0; i < CONFIG_NOPTS && !o; i++) {
      size_t fl = strlen(config_opts[i].flag);
      if (strncmp(argv[a], config_opts[i].flag, fl) != 0)
        continue;
      if (argv[a][fl] == '=') {
        o = &config_opts[i];
        value = argv[a] + fl + 1;
      } else if (argv[a][fl] == '\0') {
        o = &config_opts[i];
      }
    }
    if (!o) {
      snprintf(err, errlen, "unknown option '%s' (see --help)", argv[a]);
      return CONFIG_ERROR;
    }
    if (!value) {
      if (o->kind == OPT_BOOL) {
        value = "true";
      } else if (a + 1 < argc) {
        value = argv[++a];
      } else {
        snprintf(err, errlen, "%s needs a value", o->flag);
        return CONFIG_ERROR;
      }
    }
    size_t which = (size_t)(o - config_opts);
    if (o->kind == OPT_LIST && !list_from_flags[which]) {
      list_from_flags[which] = true;
      ((char *)cfg + o->offset)[0] = '\0';
    }
    if (!config_set(cfg, o, value, err, errlen))
      return CONFIG_ERROR;
  }
  if (cfg->id_seed[0]) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(cfg->id_seed, &end, 10);
    if (cfg->id_seed[0] < '0' || cfg->id_seed[0] > '9' || *end || errno ||
        v > (unsigned long long)INT64_MAX) {
      snprintf(err, errlen, "--id-seed must be an integer from 0 to %lld",
               (long long)INT64_MAX);
      return CONFIG_ERROR;
    }
    cfg->id_seed_value = v;
  }
  if (cfg->port > 65535) {
    snprintf(err, errlen, "--port must be from 0 to 65535");
    return CONFIG_ERROR;
  }
  if (!config_check_tls(cfg, err, errlen))
    return CONFIG_ERROR;
  struct {
    const char *flag;
    unsigned long long value, lo, hi;
  } ranges[] = {
      {"--max-body-bytes", cfg->max_body_bytes, 1, 1ull << 40},
      {"--max-uri-bytes", cfg->max_uri_bytes, 64, 16u << 20},
      {"--max-query-params", cfg->max_query_params, 1, 1u << 20},
      {"--max-header-bytes", cfg->max_header_bytes, 256, 16u << 20},
      {"--max-headers", cfg->max_headers, 4, 1u << 16},
      {"--header-timeout-ms", cfg->header_timeout_ms, 1, 86400000},
      {"--body-timeout-ms", cfg->body_timeout_ms, 1, 86400000},
      {"--idle-timeout", cfg->idle_timeout_s, 1, 86400},
      {"--max-connections", cfg->max_connections, 1, 1u << 20},
      {"--max-connections-per-address", cfg->max_connections_per_address, 0,
       1u << 20},
      {"--clock-offset-seconds", cfg->clock_offset_s, 0,
       CONFIG_MAX_CLOCK_OFFSET_S},
      {"--journal-size", cfg->journal_size, 0, 1000000},
      {"--journal-body-bytes", cfg->journal_body_bytes, 0, 1u << 20},
      {"--throttle-rps", cfg->throttle_rps, 0, 1000000},
  };
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
    if (ranges[i].value < ranges[i].lo || ranges[i].value > ranges[i].hi) {
      snprintf(err, errlen, "%s must be from %llu to %llu", ranges[i].flag,
               ranges[i].lo, ranges[i].hi);
      return CONFIG_ERROR;
    }
  }
  return CONFIG_OK;
}

void config_print_help(FILE *out, const char *prog) {
  fprintf(out, "Usage: %s [options]\n\nOptions (each also read from the "
               "environment variable shown):\n", prog);
  for (size_t i = 0; i < CONFIG_NOPTS; i++)
    fprintf(out, "  %-29s %-31s %s\n", config_opts[i].flag,
            config_opts[i].env, config_opts[i].help);
  fprintf(out, "  %-29s %-31s %s\n", "--help", "", "show this help");
}
