/* las-emulator: a stateful emulator of the Lucidtech AI Services REST API. */
#include "auth/auth.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/ids.h"
#include "core/log.h"
#include "engine/engine.h"
#include "http/endpoints.h"
#include "http/journal.h"
#include "http/server.h"
#include "http/tls.h"
#include "resources/bootstrap.h"
#include "resources/canned.h"
#include "resources/control.h"
#include "resources/data_bundles.h"
#include "resources/documents.h"
#include "resources/emulator_journal.h"
#include "resources/organizations.h"
#include "resources/paging.h"
#include "resources/seed.h"
#include "resources/state.h"
#include "resources/transition_runtime.h"
#include "routing/dispatch.h"
#include "routing/faults.h"
#include "storage/store.h"
#include "validation/schemas.h"
#include "workflows/scheduler.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool main_is_loopback(const char *host) {
  struct in_addr a4;
  struct in6_addr a6;
  if (inet_pton(AF_INET, host, &a4) == 1)
    return (ntohl(a4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, host, &a6) == 1)
    return IN6_IS_ADDR_LOOPBACK(&a6);
  return strcmp(host, "localhost") == 0;
}

/* Prints NAME=value so that the line can be pasted into a POSIX shell:
 * values with characters a shell would interpret are single-quoted. */
static void main_print_var(const char *name, const char *value) {
  size_t plain = strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
                               "vwxyz0123456789_-.,:/+=%@");
  if (value[plain] == '\0') {
    printf("%s=%s\n", name, value);
    return;
  }
  printf("%s='", name);
  for (const char *p = value; *p; p++)
    if (*p == '\'')
      fputs("'\\''", stdout);
    else
      putchar(*p);
  puts("'");
}

/* Counts this start of the database (meta ids.starts). With --id-seed the
 * nth start (n from 0) draws from a sequence of its own, derived from the
 * seed and n: a fresh database starts at the seed itself (two runs on fresh
 * databases give the same ids), and a restart on a kept database (a
 * container's volume) does not hand out the ids and tokens of an earlier
 * run again. A reset keeps the count. */
static bool main_count_start(store *db, bool seeded, uint64_t seed, char *err,
                             size_t errlen) {
  char *text = NULL;
  store_status st = store_meta_get(db, "ids.starts", &text);
  uint64_t starts = 0;
  if (st == STORE_ONE)
    starts = strtoull(text, NULL, 10);
  free(text);
  if (st == STORE_ERROR || st == STORE_BUSY) {
    snprintf(err, errlen, "cannot read the database's start count");
    return false;
  }
  if (seeded && starts > 0)
    ids_set_seed_stream(seed, starts);
  char next[32];
  snprintf(next, sizeof next, "%llu", (unsigned long long)(starts + 1));
  if (store_meta_put(db, "ids.starts", next) != STORE_ONE) {
    snprintf(err, errlen, "cannot write the database's start count");
    return false;
  }
  return true;
}

static int main_fail(const char *what) {
  fprintf(stderr, "las-emulator: %s\n", what);
  return 1;
}

int main(int argc, char **argv) {
  config cfg;
  char err[512];
  switch (config_load(&cfg, argc, argv, err, sizeof err)) {
  case CONFIG_HELP:
    config_print_help(stdout, argv[0]);
    return 0;
  case CONFIG_ERROR:
    return main_fail(err);
  case CONFIG_OK:
    break;
  }
  log_set_level((log_level)cfg.log_level);
  /* config_load bounds the offset to 100 years: no overflow. */
  clock_shift_us((int64_t)cfg.clock_offset_s * 1000000);
  if (cfg.no_auth && !main_is_loopback(cfg.host) && !cfg.allow_remote_no_auth)
    return main_fail("--no-auth serves anyone without credentials; it only "
                     "runs on a loopback --host unless --allow-remote-no-auth "
                     "is also given");

  /* Signals are taken by sigwait below; worker threads inherit the mask. */
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (!organizations_configure(cfg.allowances, err, sizeof err))
    return main_fail(err);
  if (!journal_configure(cfg.journal_size, cfg.journal_body_bytes))
    return main_fail("--journal-size: out of memory");
  if (!emulator_journal_start(cfg.faults_file, cfg.throttle_rps, err,
                              sizeof err)) {
    journal_configure(0, 0);
    return main_fail(err);
  }
  control_on_reset(NULL, emulator_journal_after_reset);
  if (!transitions_configure(cfg.docker_mode, cfg.docker_commands,
                             cfg.docker_commands_file, err, sizeof err))
    return main_fail(err);
  /* Given certificate files are checked before anything is written: a
   * start that fails on them leaves no database behind. */
  tls_material tls = {0};
  bool use_tls = cfg.tls_cert[0] || cfg.tls_self_signed;
  if (cfg.tls_cert[0] &&
      !tls_load(cfg.tls_cert, cfg.tls_key, &tls, err, sizeof err)) {
    tls_material_free(&tls);
    return main_fail(err);
  }
  if (!schemas_init(err, sizeof err)) {
    tls_material_free(&tls);
    return main_fail(err);
  }
  /* Before anything draws random bytes: the paging key of a new database
   * and the bootstrap's ids come from the sequence too. */
  if (cfg.id_seed[0])
    ids_set_seed(cfg.id_seed_value);
  if (!store_global_open(cfg.db_path, err, sizeof err)) {
    tls_material_free(&tls);
    schemas_free();
    return main_fail(err);
  }
  if (cfg.restore_snapshot[0] &&
      store_state_restore(cfg.restore_snapshot, "--restore-snapshot", NULL,
                          NULL, err, sizeof err) != STORE_STATE_OK) {
    tls_material_free(&tls);
    store_global_close();
    schemas_free();
    return main_fail(err);
  }
  store *db = store_thread();
  if (db && !main_count_start(db, cfg.id_seed[0] != '\0', cfg.id_seed_value,
                              err, sizeof err)) {
    tls_material_free(&tls);
    store_global_close();
    schemas_free();
    return main_fail(err);
  }
  bootstrap_info boot;
  if (!db || !paging_init(db, err, sizeof err) ||
      !bootstrap_run(&cfg, &boot, err, sizeof err)) {
    tls_material_free(&tls);
    store_global_close();
    schemas_free();
    return main_fail(db ? err : "cannot open the database");
  }
  size_t seeded = 0;
  bool seed_skipped = false;
  if ((cfg.seed_path[0] && !seed_configure(cfg.seed_path, err, sizeof err)) ||
      !seed_startup(&seeded, &seed_skipped, err, sizeof err)) {
    seed_free();
    store_global_close();
    schemas_free();
    return main_fail(err);
  }
  /* A reset brings the fixtures back and empties the canned results. */
  control_on_reset(seed_on_reset, NULL);
  control_on_reset(canned_on_reset, NULL);
  auth_set_default_principal(&boot.principal);
  state_configure(&cfg, &boot);
  dispatch_settings ds = {cfg.no_auth, cfg.validate_responses, cfg.admin_token};
  dispatch_configure(&ds);

  engine_set_processing_delay_ms(cfg.processing_delay_ms);
  engine_register("data-bundle", data_bundles_process);
  engine_register("retention", documents_expire);
  engine_register(SCHEDULER_JOB, scheduler_step);
  transition_exec_set_end_hook(scheduler_transition_ended);
  store_set_job_hook(engine_wake);
  if (!transitions_start(err, sizeof err) || !engine_start(err, sizeof err)) {
    tls_material_free(&tls);
    transitions_stop();
    store_global_close();
    schemas_free();
    return main_fail(err);
  }

  /* The self-signed certificate lives beside the database (a throw-away
   * database's is removed with it at exit). */
  if (cfg.tls_self_signed &&
      !tls_self_signed(store_global_path(), &tls, err, sizeof err)) {
    tls_material_free(&tls);
    engine_stop();
    transitions_stop();
    store_global_close();
    schemas_free();
    return main_fail(err);
  }
  bool temp_db = strcmp(cfg.db_path, ":memory:") == 0;

  http_settings hs = {
      .host = cfg.host,
      .port = cfg.port,
      .threads = cfg.threads,
      .max_body_bytes = cfg.max_body_bytes,
      .max_uri_bytes = cfg.max_uri_bytes,
      .max_query_params = cfg.max_query_params,
      .max_header_bytes = cfg.max_header_bytes,
      .max_headers = cfg.max_headers,
      .header_timeout_ms = cfg.header_timeout_ms,
      .body_timeout_ms = cfg.body_timeout_ms,
      .idle_timeout_s = cfg.idle_timeout_s,
      .max_connections = cfg.max_connections,
      .max_connections_per_address = cfg.max_connections_per_address,
      .tls_cert_pem = use_tls ? tls.cert_pem : NULL,
      .tls_key_pem = use_tls ? tls.key_pem : NULL,
  };
  http_server *srv = http_start(&hs, err, sizeof err);
  /* The plain listener: the same server on another port, without TLS. */
  http_server *plain = NULL;
  if (srv && cfg.plain_port[0]) {
    http_settings ps = hs;
    ps.port = cfg.plain_port_num;
    ps.tls_cert_pem = ps.tls_key_pem = NULL;
    char perr[480];
    plain = http_start(&ps, perr, sizeof perr);
    if (!plain) {
      snprintf(err, sizeof err, "--plain-port: %s", perr);
      http_stop(srv);
      srv = NULL;
    }
  }
  if (!srv) {
    if (temp_db && tls.made) {
      unlink(tls.cert_path);
      unlink(tls.key_path);
    }
    tls_material_free(&tls);
    engine_stop();
    transitions_stop();
    store_global_close();
    schemas_free();
    return main_fail(err);
  }
  const char *shown_host = strchr(cfg.host, ':') ? "[%s]" : "%s";
  char host[300];
  snprintf(host, sizeof host, shown_host, cfg.host);
  printf("las-emulator listening on %s://%s:%u (also under /v1)\n",
         use_tls ? "https" : "http", host, http_port(srv));
  if (plain) {
    http_endpoints plain_ep;
    http_endpoints_make(NULL, false, cfg.host, http_port(plain), &plain_ep);
    printf("plain HTTP also on %s (--plain-port)\n", plain_ep.base);
  }
  if (use_tls)
    printf("TLS certificate: %s%s\n", tls.cert_path,
           !cfg.tls_self_signed ? ""
           : tls.made           ? " (self-signed, made now)"
                                : " (self-signed, reused)");
  printf("database: %s%s\n", temp_db ? "temporary, removed at exit: " : "",
         store_global_path());
  printf("organization: %s\n", boot.principal.org_id);
  if (cfg.seed_path[0] && seed_skipped)
    printf("seed: %s applied to this database before; not applied again\n",
           cfg.seed_path);
  else if (cfg.seed_path[0])
    printf("seed: %s: %zu objects created\n", cfg.seed_path, seeded);
  main_print_var("LAS_CLIENT_ID", boot.client_id);
  if (boot.client_secret[0])
    main_print_var("LAS_CLIENT_SECRET", boot.client_secret);
  else
    printf("# LAS_CLIENT_SECRET: not printed, it was configured when this "
           "client was made and is stored hashed only\n");
  main_print_var("LAS_API_KEY", boot.api_key);
  /* What a client can use: a reachable address or the public URL, the
   * scheme served, and over HTTPS the official SDK's form of the auth
   * endpoint (http/endpoints.h). */
  http_endpoints shown, local;
  http_endpoints_make(cfg.public_url, use_tls, cfg.host, http_port(srv),
                      &shown);
  if (cfg.public_url[0] && shown.https != use_tls)
    log_msg(LOG_WARN,
            "--public-url %s says %s, but --port serves %s: clients told "
            "this URL will fail",
            cfg.public_url, shown.https ? "https" : "http",
            use_tls ? "HTTPS" : "plain HTTP");
  main_print_var("LAS_AUTH_ENDPOINT", shown.auth);
  main_print_var("LAS_API_ENDPOINT", shown.api);
  if (use_tls && tls.self_signed)
    main_print_var("REQUESTS_CA_BUNDLE", tls.cert_path);
  if (shown.https)
    printf("# token endpoint: %s (the official SDKs request "
           "https://$LAS_AUTH_ENDPOINT/token)\n",
           shown.token_url);
  /* Commands of docker transitions run on this machine: they reach the
   * server at its own address, whatever the public URL says. */
  http_endpoints_make(NULL, use_tls, cfg.host, http_port(srv), &local);
  if (use_tls && tls.self_signed)
    transitions_set_ca_file(tls.cert_path);
  transitions_set_endpoints(local.api, local.auth);
  if (cfg.no_auth)
    printf("--no-auth: requests without credentials act as the bootstrap app "
           "client\n");
  fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  log_msg(LOG_INFO, "signal %d: finishing in-flight requests", sig);
  http_stop(srv);
  http_stop(plain);
  engine_stop();
  transitions_stop();
  int status = 0;
  if (cfg.snapshot_on_exit[0]) {
    int64_t bytes = 0;
    if (state_export(cfg.snapshot_on_exit, &bytes, err, sizeof err) ==
        STATE_OK) {
      log_msg(LOG_INFO, "snapshot of %lld bytes written to %s",
              (long long)bytes, cfg.snapshot_on_exit);
    } else {
      log_msg(LOG_ERROR, "--snapshot-on-exit: %s", err);
      status = 1;
    }
  }
  store_thread_release();
  store_global_close();
  seed_free();
  schemas_free();
  if (temp_db && tls.made) {
    unlink(tls.cert_path);
    unlink(tls.key_path);
  }
  tls_material_free(&tls);
  journal_configure(0, 0);
  faults_clear();
  log_msg(LOG_INFO, "stopped");
  return status;
}
