/* Server settings from flags and environment variables (flags win). */
#ifndef LAS_CORE_CONFIG_H
#define LAS_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The largest clock offset and the largest single advance of the control
 * API: 100 years of 365.25 days, in seconds. */
#define CONFIG_MAX_CLOCK_OFFSET_S 3155760000ULL

typedef struct config {
  char host[256];
  unsigned port;
  char db_path[1024];
  size_t max_body_bytes;
  /* Limits and deadlines of the HTTP layer (see http_settings). */
  size_t max_uri_bytes;
  unsigned max_query_params;
  size_t max_header_bytes;
  unsigned max_headers;
  unsigned header_timeout_ms;
  unsigned body_timeout_ms;
  unsigned idle_timeout_s;
  unsigned max_connections;
  unsigned max_connections_per_address;
  int log_level;
  bool no_auth;
  bool allow_remote_no_auth;
  unsigned threads; /* 0: one per core */
  bool validate_responses;
  unsigned processing_delay_ms;
  uint64_t clock_offset_s; /* the emulator's clock runs this far ahead */
  /* Bearer token of the control API (/_emulator/…); empty: loopback only. */
  char admin_token[256];
  /* The request journal and faults (/_emulator/requests, /_emulator/faults). */
  size_t journal_size;       /* requests kept; 0: no journal */
  size_t journal_body_bytes; /* of each body kept */
  char faults_file[1024];    /* rules at start; "" none */
  unsigned throttle_rps;     /* 0: no throttle */
  char allowances[1024]; /* "field=N,…" over the organizations' defaults */
  char seed_path[1024]; /* seed fixtures (JSON) applied at start; "" none */
  /* Docker transitions: auto|external|command, IMAGE=COMMAND lines (each
   * --docker-command adds one) and a JSON file of more. */
  char docker_mode[16];
  char docker_commands[16384];
  char docker_commands_file[1024];
  /* HTTPS (see http/tls.h): PEM files, or a certificate made at start; a
   * plain HTTP listener beside it (plain_port: "" none, "0" any free
   * port; checked, and kept as a number in plain_port_num); the base URL
   * clients reach the server at, when not the listening address. */
  char tls_cert[1024];
  char tls_key[1024];
  bool tls_self_signed;
  char plain_port[16];
  unsigned plain_port_num;
  char public_url[512];
  /* Deterministic ids from the start (--id-seed; 0 to 2^63-1): the text,
   * and the number when id_seed[0] is set. */
  char id_seed[32];
  uint64_t id_seed_value;
  /* Snapshots: written at a clean stop, restored at start. */
  char snapshot_on_exit[1024];
  char restore_snapshot[1024];
  /* Bootstrap credentials; empty means "generate". */
  char client_id[256];
  char client_secret[256];
  char api_key[256];
} config;

typedef enum { CONFIG_OK, CONFIG_HELP, CONFIG_ERROR } config_result;

/* Fills cfg from defaults, then the environment, then argv. On CONFIG_ERROR
 * a reason is written into err. */
config_result config_load(config *cfg, int argc, char **argv, char *err,
                          size_t errlen);
void config_print_help(FILE *out, const char *prog);

#endif
