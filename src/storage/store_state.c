/* Reset and snapshots of the whole database (see store_state.h). */
#include "storage/store_state.h"
#include "storage/store_internal.h"

#include "core/embedded.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static _Atomic uint64_t store_state_gen = 1;

uint64_t store_state_generation(void) {
  return atomic_load(&store_state_gen);
}

void store_state_bump_generation(void) {
  atomic_fetch_add(&store_state_gen, 1);
}

/* ---- reset ---- */

/* Children before parents: the foreign keys' cascades then find nothing
 * left to delete, and objects (with its triggers) goes last. */
static const char *const STATE_WIPE[] = {
    "DELETE FROM tokens",
    "DELETE FROM clients",
    "DELETE FROM passwords",
    "DELETE FROM blobs",
    "DELETE FROM log_refs",
    "DELETE FROM transition_executions",
    "DELETE FROM workflow_executions",
    "DELETE FROM jobs",
    "DELETE FROM usage",
    /* ids.starts counts the starts of this database (src/main.c): the
     * id sequence of a later start must not repeat an earlier one's. */
    "DELETE FROM meta WHERE key <> 'ids.starts'",
    "DELETE FROM objects",
};

/* Temporary tables of the writer connection: what a reset keeps of the
 * bootstrap client while its rows are deleted and made again. */
static const char STATE_KEEP_TABLES[] =
    "CREATE TEMP TABLE IF NOT EXISTS state_kept_tokens (token TEXT, "
    "client_id TEXT, principal TEXT, scopes TEXT, expires_us INTEGER, "
    "app_client_id TEXT, org_id TEXT); "
    "CREATE TEMP TABLE IF NOT EXISTS state_kept_client (client_id TEXT, "
    "secret_salt TEXT, secret_hash TEXT); "
    "DELETE FROM temp.state_kept_tokens; DELETE FROM temp.state_kept_client;";
/* Every client's tokens: the bootstrap client and the --seed fixtures'
 * clients come back with the same credentials, and an SDK keeps using the
 * token it has cached (for an hour). */
static const char STATE_KEEP_TOKENS[] =
    "INSERT INTO temp.state_kept_tokens SELECT t.token, t.client_id, "
    "t.principal, t.scopes, t.expires_us, c.app_client_id, c.org_id FROM "
    "main.tokens t JOIN main.clients c ON c.client_id = t.client_id";
static const char STATE_KEEP_CLIENT[] =
    "INSERT INTO temp.state_kept_client SELECT client_id, secret_salt, "
    "secret_hash FROM main.clients WHERE client_id = ?1";
/* Only to a client made again as the same app client of the same
 * organization: the token's principal then still names what exists. */
static const char STATE_PUT_BACK_TOKENS[] =
    "INSERT OR IGNORE INTO main.tokens (token, client_id, principal, scopes, "
    "expires_us) SELECT k.token, k.client_id, k.principal, k.scopes, "
    "k.expires_us FROM temp.state_kept_tokens k JOIN main.clients c ON "
    "c.client_id = k.client_id AND c.app_client_id = k.app_client_id AND "
    "c.org_id = k.org_id";
static const char STATE_PUT_BACK_SECRET[] =
    "UPDATE main.clients SET secret_salt = k.secret_salt, secret_hash = "
    "k.secret_hash FROM temp.state_kept_client k WHERE main.clients.client_id "
    "= k.client_id";
static const char STATE_FIRST_USER[] =
    "SELECT id FROM objects WHERE org_id = ?1 AND kind = 'user' ORDER BY seq "
    "LIMIT 1";

static store_status state_exec(store *s, const char *sql, const char *what) {
  char *msg = NULL;
  if (sqlite3_exec(store_sqlite(s), sql, NULL, NULL, &msg) == SQLITE_OK)
    return STORE_ONE;
  sqlite3_free(msg);
  return store_fail(s, what);
}

store_status store_state_wipe(store *s, const char *keep_client_id) {
  store_status st = state_exec(s, STATE_KEEP_TABLES, "reset: keep tables");
  if (st == STORE_ONE && keep_client_id) {
    st = state_exec(s, STATE_KEEP_TOKENS, "reset: tokens");
    if (st == STORE_ONE)
      st =
          store_run_text(s, STATE_KEEP_CLIENT, keep_client_id, "reset: client");
  }
  for (size_t i = 0;
       st == STORE_ONE && i < sizeof STATE_WIPE / sizeof STATE_WIPE[0]; i++) {
    sqlite3_stmt *q = store_stmt_sql(s, STATE_WIPE[i]);
    st = q ? store_run(s, q, STATE_WIPE[i]) : STORE_ERROR;
  }
  if (st == STORE_ONE) {
    store_note_credentials_revoked(s);
    store_note_state_replaced(s);
  }
  return st;
}

store_status store_state_put_back(store *s, bool with_secret) {
  store_status st = STORE_ONE;
  if (with_secret) {
    sqlite3_stmt *q = store_stmt_sql(s, STATE_PUT_BACK_SECRET);
    st = q ? store_run(s, q, "reset: put back secret") : STORE_ERROR;
  }
  if (st == STORE_ONE) {
    sqlite3_stmt *q = store_stmt_sql(s, STATE_PUT_BACK_TOKENS);
    st = q ? store_run(s, q, "reset: put back tokens") : STORE_ERROR;
  }
  return st;
}

store_status store_state_first_user(store *s, const char *org_id, char *out) {
  sqlite3_stmt *q = store_stmt_sql(s, STATE_FIRST_USER);
  if (!q)
    return STORE_ERROR;
  store_bind_text(q, 1, org_id);
  int rc = sqlite3_step(q);
  store_status st = STORE_NONE;
  if (rc == SQLITE_ROW) {
    store_copy_col(q, 0, out, 64);
    st = STORE_ONE;
  } else if (rc != SQLITE_DONE) {
    st = store_fail(s, "reset: first user");
  }
  sqlite3_reset(q);
  return st;
}

/* ---- snapshots ---- */

bool store_temp_beside(const char *path, const char *tag, char *out,
                       size_t len) {
  int n = snprintf(out, len, "%s.%s-XXXXXX", path, tag);
  if (n < 0 || (size_t)n >= len) {
    errno = ENAMETOOLONG;
    return false;
  }
  int fd = mkstemp(out);
  if (fd < 0)
    return false;
  close(fd);
  return true;
}

static void state_unlink_db(const char *path) {
  static const char *const sides[] = {"", "-wal", "-shm", "-journal"};
  char side[1200];
  for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
    snprintf(side, sizeof side, "%s%s", path, sides[i]);
    unlink(side);
  }
}

/* Copies all of src into dest in one step (one read transaction on src). */
static int state_backup(sqlite3 *dest, sqlite3 *src) {
  sqlite3_backup *b = sqlite3_backup_init(dest, "main", src, "main");
  if (!b)
    return sqlite3_errcode(dest);
  int rc = sqlite3_backup_step(b, -1);
  int fin = sqlite3_backup_finish(b);
  if (rc == SQLITE_DONE)
    rc = fin;
  return rc;
}

static sqlite3 *state_open(const char *path, int flags) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

static int64_t state_int(sqlite3 *db, const char *sql, int64_t fallback) {
  sqlite3_stmt *q = NULL;
  int64_t v = fallback;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return v;
}

/* Whether path is the live database or one of its side files: a rename
 * over it would pull the file from under every open connection. */
static bool state_is_live(const char *path) {
  struct stat target, live;
  if (stat(path, &target) != 0)
    return false;
  static const char *const sides[] = {"", "-wal", "-shm", "-journal"};
  char side[1200];
  for (size_t i = 0; i < sizeof sides / sizeof sides[0]; i++) {
    snprintf(side, sizeof side, "%s%s", store_global_path(), sides[i]);
    if (stat(side, &live) == 0 && live.st_dev == target.st_dev &&
        live.st_ino == target.st_ino)
      return true;
  }
  return false;
}

store_state_result store_state_export(const char *path, int64_t *bytes,
                                      char *err, size_t errlen) {
  if (state_is_live(path)) {
    snprintf(err, errlen,
             "path: %s is the emulator's own database (or one of its files); "
             "a snapshot goes to another file",
             path);
    return STORE_STATE_BAD_FILE;
  }
  /* Only a snapshot (or nothing) is replaced: a mistyped path must not
   * turn someone's file into a database. */
  struct stat existing;
  if (stat(path, &existing) == 0) {
    char head[16] = {0};
    FILE *f = S_ISREG(existing.st_mode) ? fopen(path, "rb") : NULL;
    bool sqlite_file = f && fread(head, 1, sizeof head, f) == sizeof head &&
                       memcmp(head, "SQLite format 3", 16) == 0;
    if (f)
      fclose(f);
    if (!sqlite_file && existing.st_size > 0) {
      snprintf(err, errlen,
               "path: %s exists and is not a snapshot (not an SQLite "
               "database); a snapshot replaces only an earlier snapshot",
               path);
      return STORE_STATE_BAD_FILE;
    }
  }
  char tmp[1100];
  if (!store_temp_beside(path, "part", tmp, sizeof tmp)) {
    snprintf(err, errlen, "path: cannot write %s: %s", path, strerror(errno));
    return STORE_STATE_BAD_FILE;
  }
  store *src = store_open_path(store_global_path(), err, errlen);
  sqlite3 *dest = state_open(tmp, SQLITE_OPEN_READWRITE);
  store_state_result res = STORE_STATE_FAILED;
  int rc = SQLITE_ERROR;
  if (src && dest)
    rc = state_backup(dest, store_sqlite(src));
  /* The copy keeps the source's WAL mode in its header; a snapshot is one
   * self-contained file. */
  /* The live file never shrinks (a reset frees its pages, it keeps them):
   * the copy is compacted, off the live database, so that a snapshot is as
   * large as its data and can be uploaded again. */
  if (rc == SQLITE_OK &&
      sqlite3_exec(dest, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) ==
          SQLITE_OK &&
      sqlite3_exec(dest, "VACUUM", NULL, NULL, NULL) == SQLITE_OK)
    res = STORE_STATE_OK;
  else
    snprintf(err, errlen, "snapshot: the copy failed: %s",
             dest ? sqlite3_errmsg(dest) : "cannot open the file");
  if (src)
    store_free(src);
  if (dest && sqlite3_close(dest) != SQLITE_OK)
    res = STORE_STATE_FAILED;
  struct stat sb;
  if (res == STORE_STATE_OK && (stat(tmp, &sb) != 0 || rename(tmp, path))) {
    snprintf(err, errlen, "path: cannot write %s: %s", path, strerror(errno));
    res = STORE_STATE_BAD_FILE;
  }
  if (res == STORE_STATE_OK && bytes)
    *bytes = (int64_t)sb.st_size;
  if (res != STORE_STATE_OK)
    state_unlink_db(tmp);
  return res;
}

static int64_t state_newest_migration(void) {
  int64_t newest = 0;
  for (size_t i = 0; i < embedded_migrations_count; i++) {
    long v = strtol(embedded_migrations[i].name, NULL, 10);
    if (v > newest)
      newest = v;
  }
  return newest;
}

/* Is the copy one of ours, and can this program use it? */
static store_state_result state_check(sqlite3 *db, const char *what, char *err,
                                      size_t errlen) {
  sqlite3_stmt *q = NULL;
  bool ok = false;
  if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW) {
    const unsigned char *v = sqlite3_column_text(q, 0);
    ok = v && strcmp((const char *)v, "ok") == 0;
  }
  sqlite3_finalize(q);
  if (!ok) {
    snprintf(err, errlen,
             "%s: is not a snapshot of las-emulator (the SQLite database is "
             "damaged)",
             what);
    return STORE_STATE_BAD_FILE;
  }
  if (state_int(db,
                "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                "name IN ('schema_migrations', 'objects', 'blobs', 'clients', "
                "'tokens', 'meta')",
                0) != 6 ||
      state_int(db, "SELECT count(*) FROM schema_migrations WHERE version = 1",
                0) != 1) {
    snprintf(err, errlen,
             "%s: is not a snapshot of las-emulator (an SQLite database, but "
             "without this program's tables)",
             what);
    return STORE_STATE_BAD_FILE;
  }
  int64_t newest = state_newest_migration();
  int64_t theirs =
      state_int(db, "SELECT max(version) FROM schema_migrations", 0);
  if (theirs > newest) {
    snprintf(err, errlen,
             "%s: is a snapshot of a newer las-emulator (schema version %lld; "
             "this one knows up to %lld)",
             what, (long long)theirs, (long long)newest);
    return STORE_STATE_BAD_FILE;
  }
  return STORE_STATE_OK;
}

/* Copies path into tmp and makes it usable: our tables, our page size,
 * migrated, fixed up. */
static store_state_result state_prepare(const char *path, const char *tmp,
                                        const char *what,
                                        store_state_fixup fixup, void *arg,
                                        char *err, size_t errlen) {
  struct stat sb;
  if (stat(path, &sb) != 0) {
    snprintf(err, errlen, "%s: cannot read %s: %s", what, path,
             strerror(errno));
    return STORE_STATE_BAD_FILE;
  }
  if (!S_ISREG(sb.st_mode)) {
    snprintf(err, errlen, "%s: %s is not a regular file", what, path);
    return STORE_STATE_BAD_FILE;
  }
  /* Our own header check first: SQLite reads anything shorter than a page
   * as an empty database. */
  char head[16] = {0};
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t got = fd >= 0 ? read(fd, head, sizeof head) : -1;
  if (fd >= 0)
    close(fd);
  if (got != (ssize_t)sizeof head ||
      memcmp(head, "SQLite format 3", sizeof head) != 0) {
    snprintf(err, errlen,
             "%s: is not a snapshot of las-emulator (not an SQLite database)",
             what);
    return STORE_STATE_BAD_FILE;
  }
  sqlite3 *src = state_open(path, SQLITE_OPEN_READONLY);
  sqlite3 *dest = state_open(tmp, SQLITE_OPEN_READWRITE);
  int rc = src && dest ? state_backup(dest, src) : SQLITE_CANTOPEN;
  sqlite3_close(src);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen,
             "%s: is not a snapshot of las-emulator (SQLite cannot read it: "
             "%s)",
             what, sqlite3_errstr(rc));
    sqlite3_close(dest);
    return STORE_STATE_BAD_FILE;
  }
  store_state_result res = state_check(dest, what, err, errlen);
  /* A WAL destination needs the source's page size (backup API). */
  store *mine = store_thread();
  int64_t want =
      mine ? state_int(store_sqlite(mine), "PRAGMA page_size", 0) : 0;
  if (res == STORE_STATE_OK &&
      (sqlite3_exec(dest, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) !=
           SQLITE_OK ||
       (want > 0 && state_int(dest, "PRAGMA page_size", want) != want &&
        (sqlite3_exec(dest,
                      want == 512     ? "PRAGMA page_size=512; VACUUM"
                      : want == 1024  ? "PRAGMA page_size=1024; VACUUM"
                      : want == 2048  ? "PRAGMA page_size=2048; VACUUM"
                      : want == 4096  ? "PRAGMA page_size=4096; VACUUM"
                      : want == 8192  ? "PRAGMA page_size=8192; VACUUM"
                      : want == 16384 ? "PRAGMA page_size=16384; VACUUM"
                      : want == 32768 ? "PRAGMA page_size=32768; VACUUM"
                                      : "PRAGMA page_size=65536; VACUUM",
                      NULL, NULL, NULL) != SQLITE_OK ||
         state_int(dest, "PRAGMA page_size", 0) != want)))) {
    snprintf(err, errlen, "snapshot: cannot prepare the copy: %s",
             sqlite3_errmsg(dest));
    res = STORE_STATE_FAILED;
  }
  sqlite3_close(dest);
  if (res != STORE_STATE_OK)
    return res;

  store *s = store_open_path(tmp, err, errlen);
  if (!s)
    return STORE_STATE_FAILED;
  char why[512];
  if (!store_migrate(s, why, sizeof why)) {
    snprintf(err, errlen, "%s: cannot be brought to this version's schema: %s",
             what, why);
    store_free(s);
    return STORE_STATE_BAD_FILE;
  }
  if (fixup) {
    store_status st = state_exec(s, "BEGIN IMMEDIATE", "restore: begin");
    if (st == STORE_ONE)
      st = fixup(s, arg);
    if (st == STORE_ONE)
      st = state_exec(s, "COMMIT", "restore: commit");
    if (st != STORE_ONE) {
      sqlite3_exec(store_sqlite(s), "ROLLBACK", NULL, NULL, NULL);
      if (!err[0])
        snprintf(err, errlen, "%s: the restored data could not be set up",
                 what);
      store_free(s);
      return st == STORE_NONE ? STORE_STATE_BAD_FILE : STORE_STATE_FAILED;
    }
  }
  /* Back to one file: the install reads it from another connection. */
  state_exec(s, "PRAGMA journal_mode=DELETE", "restore: journal mode");
  store_free(s);
  return STORE_STATE_OK;
}

typedef struct {
  const char *tmp;
  int rc;
  char msg[256];
} state_install;

static store_status state_install_fn(store *w, void *arg) {
  state_install *in = arg;
  sqlite3 *src = state_open(in->tmp, SQLITE_OPEN_READONLY);
  in->rc = src ? state_backup(store_sqlite(w), src) : SQLITE_CANTOPEN;
  snprintf(in->msg, sizeof in->msg, "%s",
           in->rc == SQLITE_OK ? "" : sqlite3_errmsg(store_sqlite(w)));
  sqlite3_close(src);
  if (in->rc != SQLITE_OK)
    return STORE_ERROR;
  store_note_credentials_revoked(w);
  store_note_jobs_added(w);
  /* Committed (the backup step is its own transaction), and the write
   * lock still held: see store_state_generation. */
  store_state_bump_generation();
  return STORE_ONE;
}

store_state_result store_state_restore(const char *path, const char *what,
                                       store_state_fixup fixup, void *arg,
                                       char *err, size_t errlen) {
  err[0] = '\0';
  char tmp[1100];
  if (!store_temp_beside(store_global_path(), "restore", tmp, sizeof tmp)) {
    snprintf(err, errlen,
             "snapshot: cannot make a temporary file beside %s: "
             "%s",
             store_global_path(), strerror(errno));
    return STORE_STATE_FAILED;
  }
  store_state_result res =
      state_prepare(path, tmp, what, fixup, arg, err, errlen);
  if (res == STORE_STATE_OK) {
    state_install in = {.tmp = tmp};
    if (store_writer_run(state_install_fn, &in) != STORE_ONE) {
      snprintf(err, errlen, "snapshot: copying into the database failed: %s",
               in.msg[0] ? in.msg : sqlite3_errstr(in.rc));
      log_msg(LOG_ERROR, "%s", err);
      res = STORE_STATE_FAILED;
    }
  }
  state_unlink_db(tmp);
  return res;
}
