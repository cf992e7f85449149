/* SQLite behind the store interface: connections, migrations, transactions
 * and one prepared statement per query. */
#include "storage/store.h"
#include "storage/store_internal.h"

#include "storage/walbuf.h"

#include "core/clock.h"
#include "core/codec.h"
#include "core/embedded.h"
#include "core/ids.h"
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STORE_PAGE_SELECT "SELECT seq, id, body FROM objects "
#define STORE_PAGE_WHERE "WHERE org_id = ?1 AND kind = ?2 AND seq > ?3 "
#define STORE_PAGE_ORDER "ORDER BY seq LIMIT ?4"
/* Filtered pages read the matching objects through their (partial) index and
 * sort them: the cost follows the filtered set, never the whole table, which
 * the planner would otherwise walk in seq order hoping to fill the page. */
#define STORE_PARENT_SQL "AND parent_id IN (SELECT value FROM json_each(?5)) "
#define STORE_GROUP_SQL "AND group_id IN (SELECT value FROM json_each(?6)) "
/* Logs are filtered through log_refs (migration 006): the most selective
 * filter given (or the empty ref, which every log has) drives the primary
 * key (org_id, ref, seq) in seq order, and each other filter is one more
 * primary-key probe of the same row. No log that does not match is read. */
#define STORE_LOG_REF(param)                                                   \
  "AND (" param " IS NULL OR EXISTS (SELECT 1 FROM log_refs x WHERE "          \
  "x.org_id = ?1 AND x.ref = " param " AND x.seq = r.seq)) "
#define STORE_LOG_SELECT                                                       \
  "SELECT o.seq, o.id, o.body FROM log_refs r JOIN objects o ON o.seq = "      \
  "r.seq WHERE r.org_id = ?1 AND r.ref = ?2 " STORE_LOG_REF("?5")              \
      STORE_LOG_REF("?6") STORE_LOG_REF("?7") STORE_LOG_REF("?8")

/* Every query the project runs, prepared once per connection. */
#define STORE_STATEMENTS(X)                                                    \
  X(ST_BEGIN, "BEGIN IMMEDIATE")                                               \
  X(ST_BEGIN_READ, "BEGIN")                                                    \
  X(ST_END_READ, "COMMIT")                                                     \
  X(ST_COMMIT, "COMMIT")                                                       \
  X(ST_ROLLBACK, "ROLLBACK")                                                   \
  X(ST_OBJ_INSERT, "INSERT INTO objects (kind, id, org_id, parent_id, "        \
                   "group_id, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")          \
  X(ST_OBJ_GET, "SELECT body FROM objects WHERE id = ?1 AND kind = ?2 AND "    \
                "org_id = ?3")                                                 \
  X(ST_OBJ_UPDATE, "UPDATE objects SET parent_id = ?4, group_id = ?5, "        \
                   "body = ?6 WHERE id = ?1 AND kind = ?2 AND org_id = ?3")    \
  X(ST_OBJ_DELETE, "DELETE FROM objects WHERE id = ?1 AND kind = ?2 AND "      \
                   "org_id = ?3")                                              \
  X(ST_OBJ_COUNT, "SELECT count(*) FROM objects WHERE org_id = ?1 AND "        \
                  "kind = ?2")                                                 \
  X(ST_OBJ_COUNT_PARENT, "SELECT count(*) FROM objects WHERE org_id = ?1 AND " \
                         "kind = ?2 AND parent_id = ?3")                       \
  X(ST_OBJ_PAGE, STORE_PAGE_SELECT STORE_PAGE_WHERE STORE_PAGE_ORDER)          \
  X(ST_OBJ_PAGE_PARENT, STORE_PAGE_SELECT                                      \
    "INDEXED BY objects_by_parent " STORE_PAGE_WHERE STORE_PARENT_SQL          \
        STORE_PAGE_ORDER)                                                      \
  X(ST_OBJ_PAGE_GROUP, STORE_PAGE_SELECT                                       \
    "INDEXED BY objects_by_group " STORE_PAGE_WHERE STORE_GROUP_SQL            \
        STORE_PAGE_ORDER)                                                      \
  X(ST_OBJ_PAGE_BOTH, STORE_PAGE_SELECT                                        \
    "INDEXED BY objects_by_group " STORE_PAGE_WHERE STORE_PARENT_SQL           \
        STORE_GROUP_SQL STORE_PAGE_ORDER)                                      \
  X(ST_LOG_PAGE_ASC,                                                           \
    STORE_LOG_SELECT "AND r.seq > ?3 ORDER BY r.seq LIMIT ?4")                 \
  X(ST_LOG_PAGE_DESC,                                                          \
    STORE_LOG_SELECT "AND r.seq < ?3 ORDER BY r.seq DESC LIMIT ?4")            \
  X(ST_BLOB_PUT, "INSERT OR REPLACE INTO blobs (seq, data) SELECT seq, ?2 "    \
                 "FROM objects WHERE id = ?1")                                 \
  X(ST_BLOB_GET, "SELECT b.data FROM objects o JOIN blobs b ON b.seq = o.seq " \
                 "WHERE o.id = ?1")                                            \
  X(ST_CLIENT_PUT, "INSERT INTO clients (client_id, app_client_id, org_id, "   \
                   "secret_salt, secret_hash, api_key) VALUES (?1, ?2, ?3, "   \
                   "?4, ?5, ?6)")                                              \
  X(ST_CLIENT_SET_SECRET, "UPDATE clients SET secret_salt = ?2, "              \
                          "secret_hash = ?3 WHERE client_id = ?1")             \
  X(ST_CLIENT_GET, "SELECT app_client_id, org_id, secret_salt, secret_hash, "  \
                   "api_key FROM clients WHERE client_id = ?1")                \
  X(ST_TOKEN_PUT, "INSERT INTO tokens (token, client_id, principal, scopes, "  \
                  "expires_us) VALUES (?1, ?2, ?3, ?4, ?5)")                   \
  X(ST_TOKEN_GET, "SELECT t.client_id, c.app_client_id, c.org_id, "            \
                  "t.principal, c.api_key, t.scopes, t.expires_us FROM "       \
                  "tokens t JOIN clients c ON c.client_id = t.client_id "      \
                  "WHERE t.token = ?1")                                        \
  X(ST_TOKEN_PRUNE, "DELETE FROM tokens WHERE client_id = ?1 AND "             \
                    "expires_us <= ?2")                                        \
  X(ST_TOKEN_DELETE_PRINCIPAL, "DELETE FROM tokens WHERE principal = ?1")      \
  X(ST_PASSWORD_PUT, "INSERT INTO passwords (username, user_id, org_id, "      \
                     "salt, hash) VALUES (?1, ?2, ?3, ?4, ?5)")                \
  X(ST_PASSWORD_GET, "SELECT user_id, org_id, salt, hash FROM passwords "      \
                     "WHERE username = ?1")                                    \
  X(ST_USAGE_BUMP, "UPDATE usage SET count = count + 1 WHERE org_id = ?1 "     \
                   "AND month = ?2 AND kind = ?3")                             \
  X(ST_USAGE_FIRST, "INSERT INTO usage (org_id, month, kind, count) VALUES "   \
                    "(?1, ?2, ?3, 1)")                                         \
  X(ST_USAGE_GET, "SELECT count FROM usage WHERE org_id = ?1 AND month = ?2 "  \
                  "AND kind = ?3")                                             \
  X(ST_OBJ_SET_EXPIRY, "UPDATE objects SET expires_us = ?4 WHERE id = ?1 AND " \
                       "kind = ?2 AND org_id = ?3")                            \
  X(ST_OBJ_NEXT_EXPIRY, "SELECT min(expires_us) FROM objects WHERE "           \
                        "expires_us IS NOT NULL")                              \
  X(ST_OBJ_EXPIRED, "SELECT id, kind, org_id FROM objects WHERE expires_us "   \
                    "IS NOT NULL AND expires_us <= ?1 ORDER BY expires_us "    \
                    "LIMIT ?2")                                                \
  X(ST_JOB_EXISTS, "SELECT 1 FROM jobs WHERE kind = ?1 AND due_us <= ?2 "      \
                   "LIMIT 1")                                                  \
  X(ST_JOB_ADD, "INSERT INTO jobs (kind, target_id, org_id, due_us) VALUES "   \
                "(?1, ?2, ?3, ?4)")                                            \
  X(ST_JOB_NEXT, "SELECT min(due_us) FROM jobs")                               \
  X(ST_JOB_DUE, "SELECT id, kind, target_id, org_id, due_us FROM jobs WHERE "  \
                "due_us <= ?1 ORDER BY due_us, id LIMIT 1")                    \
  X(ST_JOB_DELETE, "DELETE FROM jobs WHERE id = ?1")                           \
  X(ST_JOB_DUE_KIND, "SELECT id, kind, target_id, org_id, due_us FROM jobs "   \
                     "WHERE due_us <= ?2 AND kind = ?1 AND id != ?3 ORDER BY " \
                     "due_us, id LIMIT ?4")                                    \
  X(ST_META_GET, "SELECT value FROM meta WHERE key = ?1")                      \
  X(ST_META_PUT, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)")

typedef enum {
#define STORE_ENUM(name, sql) name,
  STORE_STATEMENTS(STORE_ENUM)
#undef STORE_ENUM
      ST__COUNT
} store_stmt_id;

static const char *const store_sql[] = {
#define STORE_SQL(name, sql) [name] = sql,
    STORE_STATEMENTS(STORE_SQL)
#undef STORE_SQL
};

/* Recently parsed objects of a connection, keyed by their stored text: an
 * object read again with the same text is copied from its parsed tree
 * instead of parsed again (a copy costs a fraction of a parse). The text
 * is the key, so a changed object can never be served stale. */
enum { STORE_PARSED_SLOTS = 64, STORE_PARSED_MAX_TEXT = 8192 };
typedef struct store_parsed {
  char *text;
  size_t len;
  json_t *tree;
} store_parsed;

/* Statements of the concern files, keyed by their SQL text's address (see
 * store_stmt_sql); open addressing, never full in practice. */
enum { STORE_SQL_SLOTS = 256 };
typedef struct store_sql_slot {
  const char *sql;
  sqlite3_stmt *st;
} store_sql_slot;

struct store {
  sqlite3 *db;
  sqlite3_stmt *stmts[ST__COUNT];
  store_sql_slot sql_slots[STORE_SQL_SLOTS];
  store_parsed parsed[STORE_PARSED_SLOTS];
  bool revoked_credentials; /* in the open transaction */
  bool added_jobs;          /* in the open transaction */
  bool replaced_state;      /* in the open transaction (a reset) */
};

enum { STORE_TX_ATTEMPTS = 8, STORE_BUSY_TIMEOUT_MS = 5000 };

static char store_path[1100];
static _Atomic uint64_t store_epoch = 1;
static void (*store_job_hook)(void);
static bool store_is_temp;
static pthread_key_t store_key;
static pthread_once_t store_key_once = PTHREAD_ONCE_INIT;
/* Serialises this process's writers: SQLite allows one writer at a time and
 * its busy handler sleeps, which shows up as tail latency under load. All
 * write transactions run on one connection, guarded by this lock, so its page
 * cache stays warm instead of every thread's connection re-reading the pages
 * the others changed. */
static pthread_mutex_t store_write_lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
static store *store_writer;

static bool store_ckpt_start(void);
static void store_ckpt_stop(void);

static void store_close(store *s) {
  if (!s)
    return;
  for (int i = 0; i < ST__COUNT; i++)
    sqlite3_finalize(s->stmts[i]);
  for (int i = 0; i < STORE_SQL_SLOTS; i++)
    sqlite3_finalize(s->sql_slots[i].st);
  for (int i = 0; i < STORE_PARSED_SLOTS; i++) {
    free(s->parsed[i].text);
    json_decref(s->parsed[i].tree);
  }
  sqlite3_close(s->db);
  free(s);
}

static void store_key_destroy(void *p) {
  store_close(p);
}
static void store_key_make(void) {
  pthread_key_create(&store_key, store_key_destroy);
}

store_status store_fail(store *s, const char *what) {
  int code = sqlite3_extended_errcode(s->db);
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
    return STORE_BUSY;
  log_msg(LOG_ERROR, "store: %s: %s", what, sqlite3_errmsg(s->db));
  return STORE_ERROR;
}

static store *store_connect_to(const char *path, char *err, size_t errlen) {
  store *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  int rc = sqlite3_open_v2(
      path, &s->db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    /* The usual cause in a container: a bind-mounted folder this user
     * (not root there) cannot write. */
    int sys = 0;
    char dir[sizeof store_path];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
      snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
      dir[1] = '\0';
    else
      *slash = '\0';
    if (access(path, F_OK) == 0 ? access(path, W_OK) != 0
                                : access(dir, W_OK) != 0)
      sys = errno;
    char hint[sizeof dir + 64] = "";
    if (sys == EACCES || sys == EPERM || sys == EROFS)
      snprintf(hint, sizeof hint,
               " (%s: the file and its folder must be writable by uid %u)",
               strerror(sys), (unsigned)getuid());
    else if (sys == ENOENT || sys == ENOTDIR)
      snprintf(hint, sizeof hint, " (its folder %s does not exist)", dir);
    snprintf(err, errlen, "cannot open %s: %s%s", path,
             s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc), hint);
    store_close(s);
    return NULL;
  }
  sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
  /* synchronous=NORMAL in WAL mode keeps every committed transaction across
   * a crash of this process (kill -9); only power loss can drop the tail. */
  char *msg = NULL;
  rc = sqlite3_exec(s->db,
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
                    NULL, NULL, &msg);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "cannot configure %s: %s", path, msg ? msg : "?");
    sqlite3_free(msg);
    store_close(s);
    return NULL;
  }
  return s;
}

static store *store_connect(char *err, size_t errlen) {
  return store_connect_to(store_path, err, errlen);
}

store *store_open_path(const char *path, char *err, size_t errlen) {
  return store_connect_to(path, err, errlen);
}

void store_free(store *s) {
  store_close(s);
}

sqlite3 *store_sqlite(store *s) {
  return s->db;
}

void store_note_credentials_revoked(store *s) {
  s->revoked_credentials = true;
}

void store_note_state_replaced(store *s) {
  s->replaced_state = true;
}

static sqlite3_stmt *store_stmt(store *s, store_stmt_id id) {
  sqlite3_stmt *st = s->stmts[id];
  if (!st) {
    if (sqlite3_prepare_v3(s->db, store_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                           &s->stmts[id], NULL) != SQLITE_OK) {
      log_msg(LOG_ERROR, "store: prepare failed: %s: %s", store_sql[id],
              sqlite3_errmsg(s->db));
      return NULL;
    }
    st = s->stmts[id];
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return st;
}

sqlite3_stmt *store_stmt_sql(store *s, const char *sql) {
  size_t h = ((uintptr_t)sql >> 3) % STORE_SQL_SLOTS;
  for (size_t n = 0; n < STORE_SQL_SLOTS; n++, h = (h + 1) % STORE_SQL_SLOTS) {
    store_sql_slot *slot = &s->sql_slots[h];
    if (slot->sql == sql) {
      sqlite3_reset(slot->st);
      sqlite3_clear_bindings(slot->st);
      return slot->st;
    }
    if (slot->sql)
      continue;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &slot->st,
                           NULL) != SQLITE_OK) {
      log_msg(LOG_ERROR, "store: prepare failed: %s: %s", sql,
              sqlite3_errmsg(s->db));
      sqlite3_finalize(slot->st);
      slot->st = NULL;
      return NULL;
    }
    slot->sql = sql;
    return slot->st;
  }
  log_msg(LOG_ERROR, "store: more than %d cached statements", STORE_SQL_SLOTS);
  return NULL;
}

void store_note_jobs_added(store *s) {
  s->added_jobs = true;
}

store_status store_col_copy(sqlite3_stmt *st, int col, char **out,
                            size_t *len) {
  /* blob before bytes: the order SQLite documents as safe. */
  const void *data = sqlite3_column_blob(st, col);
  size_t n = (size_t)sqlite3_column_bytes(st, col);
  *out = malloc(n + 1);
  if (!*out)
    return STORE_ERROR;
  if (n)
    memcpy(*out, data, n);
  (*out)[n] = '\0';
  *len = n;
  return STORE_ONE;
}

store_status store_explain(store *s, const char *sql, char *out, size_t len) {
  char *text = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
  sqlite3_stmt *st = NULL;
  if (!text || sqlite3_prepare_v2(s->db, text, -1, &st, NULL) != SQLITE_OK) {
    sqlite3_free(text);
    return store_fail(s, "explain");
  }
  sqlite3_free(text);
  size_t used = 0;
  out[0] = '\0';
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && used < len) {
    int n = snprintf(out + used, len - used, "%s\n",
                     (const char *)sqlite3_column_text(st, 3));
    used += n > 0 ? (size_t)n : 0;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? STORE_ONE : STORE_ERROR;
}

void store_bind_text(sqlite3_stmt *st, int idx, const char *v) {
  if (v)
    sqlite3_bind_text(st, idx, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, idx);
}

/* Runs a statement that returns no rows. */
store_status store_run(store *s, sqlite3_stmt *st, const char *what) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc == SQLITE_DONE)
    return STORE_ONE;
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    log_msg(LOG_DEBUG, "store: %s: constraint: %s", what,
            sqlite3_errmsg(s->db));
    return STORE_NONE;
  }
  return store_fail(s, what);
}

store_status store_run_text(store *s, const char *sql, const char *value,
                            const char *what) {
  sqlite3_stmt *st = store_stmt_sql(s, sql);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, value);
  return store_run(s, st, what);
}

store_status store_row_exists(store *s, const char *sql, const char *value,
                              const char *what) {
  sqlite3_stmt *st = store_stmt_sql(s, sql);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, value);
  int rc = sqlite3_step(st);
  store_status result = rc == SQLITE_ROW    ? STORE_ONE
                        : rc == SQLITE_DONE ? STORE_NONE
                                            : store_fail(s, what);
  sqlite3_reset(st);
  return result;
}

void store_copy_col(sqlite3_stmt *st, int col, char *dst, size_t size) {
  const unsigned char *v = sqlite3_column_text(st, col);
  snprintf(dst, size, "%s", v ? (const char *)v : "");
}

/* ---- migrations ---- */

/* Every pending migration is applied in one transaction: a start either
 * brings the database to the binary's schema or leaves it as it was (and a
 * fresh database costs one commit, not one per migration). */
bool store_migrate(store *s, char *err, size_t errlen) {
  char *msg = NULL;
  if (sqlite3_exec(s->db,
                   "CREATE TABLE IF NOT EXISTS schema_migrations ("
                   "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                   "applied_us INTEGER NOT NULL)",
                   NULL, NULL, &msg) != SQLITE_OK ||
      sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(err, errlen, "migrations: %s", msg ? msg : "?");
    sqlite3_free(msg);
    return false;
  }
  sqlite3_stmt *applied_q = NULL, *record_q = NULL;
  sqlite3_prepare_v2(s->db,
                     "SELECT 1 FROM schema_migrations WHERE version = ?1", -1,
                     &applied_q, NULL);
  sqlite3_prepare_v2(s->db,
                     "INSERT INTO schema_migrations (version, name, "
                     "applied_us) VALUES (?1, ?2, ?3)",
                     -1, &record_q, NULL);
  bool ok = applied_q && record_q;
  if (!ok)
    snprintf(err, errlen, "migrations: %s", sqlite3_errmsg(s->db));
  size_t applied_now = 0;
  for (size_t i = 0; ok && i < embedded_migrations_count; i++) {
    const struct embedded_text *m = &embedded_migrations[i];
    long version = strtol(m->name, NULL, 10);
    if (version <= 0) {
      snprintf(err, errlen, "migration %s: name must start with a number",
               m->name);
      ok = false;
      break;
    }
    sqlite3_reset(applied_q);
    sqlite3_bind_int64(applied_q, 1, version);
    if (sqlite3_step(applied_q) == SQLITE_ROW)
      continue;
    if (sqlite3_exec(s->db, m->text, NULL, NULL, &msg) != SQLITE_OK) {
      snprintf(err, errlen, "migration %s: %s", m->name, msg ? msg : "?");
      sqlite3_free(msg);
      msg = NULL;
      ok = false;
      break;
    }
    sqlite3_reset(record_q);
    sqlite3_bind_int64(record_q, 1, version);
    sqlite3_bind_text(record_q, 2, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(record_q, 3, clock_now_us());
    if (sqlite3_step(record_q) != SQLITE_DONE) {
      snprintf(err, errlen, "migration %s: %s", m->name, sqlite3_errmsg(s->db));
      ok = false;
      break;
    }
    applied_now++;
  }
  sqlite3_finalize(applied_q);
  sqlite3_finalize(record_q);
  if (ok && sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(err, errlen, "migrations: commit: %s", msg ? msg : "?");
    sqlite3_free(msg);
    ok = false;
  }
  if (!ok) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return false;
  }
  if (applied_now)
    log_msg(LOG_INFO, "store: applied %zu migration%s, up to %s", applied_now,
            applied_now == 1 ? "" : "s",
            embedded_migrations[embedded_migrations_count - 1].name);
  return true;
}

bool store_global_open(const char *path, char *err, size_t errlen) {
  pthread_once(&store_key_once, store_key_make);
  /* SQLite's allocation statistics take a global mutex on every malloc;
   * nothing here reads them, and server threads contend on it. */
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  if (!walbuf_install())
    log_msg(LOG_WARN, "store: WAL write buffering unavailable");
  store_is_temp = strcmp(path, ":memory:") == 0;
  if (store_is_temp) {
    /* Every server thread has its own connection, and private in-memory
     * databases cannot be shared between connections, so a throw-away run
     * uses a temporary file that is removed at shutdown. */
    const char *tmp = getenv("TMPDIR");
    snprintf(store_path, sizeof store_path, "%s/las-emulator-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(store_path);
    if (fd < 0) {
      snprintf(err, errlen, "cannot create a temporary database in %s",
               store_path);
      return false;
    }
    close(fd);
  } else {
    snprintf(store_path, sizeof store_path, "%s", path);
  }
  store *s = store_connect(err, errlen);
  if (!s)
    return false;
  bool ok = store_migrate(s, err, errlen);
  store_close(s);
  if (ok && !store_ckpt_start()) {
    snprintf(err, errlen, "cannot start the checkpoint thread");
    ok = false;
  }
  return ok;
}

const char *store_global_path(void) {
  return store_path;
}

void store_global_close(void) {
  store_thread_release();
  pthread_mutex_lock(&store_write_lock);
  store_close(store_writer);
  store_writer = NULL;
  pthread_mutex_unlock(&store_write_lock);
  store_ckpt_stop();
  if (store_is_temp) {
    char side[1200];
    unlink(store_path);
    snprintf(side, sizeof side, "%s-wal", store_path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", store_path);
    unlink(side);
  }
}

store *store_thread(void) {
  store *s = pthread_getspecific(store_key);
  if (s)
    return s;
  char err[512];
  s = store_connect(err, sizeof err);
  if (!s) {
    log_msg(LOG_ERROR, "store: %s", err);
    return NULL;
  }
  pthread_setspecific(store_key, s);
  return s;
}

void store_thread_release(void) {
  store *s = pthread_getspecific(store_key);
  if (s) {
    pthread_setspecific(store_key, NULL);
    store_close(s);
  }
}

/* ---- checkpoints ----
 * SQLite checkpoints the WAL inside a commit by default: the committing
 * request then copies pages and fsyncs while every other writer waits, which
 * shows as write latency spikes. Here the writer only reports the WAL's
 * size, and a thread of the store's own, with its own connection, runs
 * PASSIVE checkpoints (which never block writers) when it has grown. */

/* A passive checkpoint cannot finish while writes keep coming, and the WAL
 * only starts over after one that did: past STORE_WAL_CAP_PAGES the writer
 * itself restarts the WAL (little is left to copy by then). */
enum { STORE_CHECKPOINT_PAGES = 1000, STORE_WAL_CAP_PAGES = 4000 };
/* Over the cap, a commit tries the restart only now and then: an attempt
 * that finds a reader in the way still costs its locking system calls. */
enum { STORE_RESTART_EVERY = 32 };
static unsigned store_restart_tries; /* under store_write_lock */
static _Atomic int store_wal_pages;
static _Atomic int store_ckpt_copied; /* WAL frames the last checkpoint left
                                         copied */

static pthread_t store_ckpt_thread;
static pthread_mutex_t store_ckpt_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t store_ckpt_cond = PTHREAD_COND_INITIALIZER;
static bool store_ckpt_running;
static bool store_ckpt_due;
static bool store_ckpt_stopping;

static int store_wal_grew(void *arg, sqlite3 *db, const char *name, int pages) {
  (void)arg;
  (void)db;
  (void)name;
  atomic_store(&store_wal_pages, pages);
  /* Due when STORE_CHECKPOINT_PAGES frames arrived since the last
   * checkpoint copied what there was, not whenever the WAL is that long:
   * under steady writes that ran checkpoints back to back, each with its
   * fsyncs, for a few new frames. */
  int copied = atomic_load(&store_ckpt_copied);
  if (pages < copied) { /* the WAL started over */
    copied = 0;
    atomic_store(&store_ckpt_copied, 0);
  }
  if (pages - copied >= STORE_CHECKPOINT_PAGES) {
    pthread_mutex_lock(&store_ckpt_lock);
    store_ckpt_due = true;
    pthread_cond_signal(&store_ckpt_cond);
    pthread_mutex_unlock(&store_ckpt_lock);
  }
  return SQLITE_OK;
}

static void *store_ckpt_main(void *arg) {
  (void)arg;
  char err[512];
  store *s = store_connect(err, sizeof err);
  if (!s)
    log_msg(LOG_ERROR, "store: checkpointer: %s", err);
  pthread_mutex_lock(&store_ckpt_lock);
  while (!store_ckpt_stopping) {
    if (!store_ckpt_due) {
      pthread_cond_wait(&store_ckpt_cond, &store_ckpt_lock);
      continue;
    }
    store_ckpt_due = false;
    pthread_mutex_unlock(&store_ckpt_lock);
    int frames = 0, copied = 0;
    if (s && sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                       &frames, &copied) == SQLITE_OK)
      atomic_store(&store_ckpt_copied, copied);
    pthread_mutex_lock(&store_ckpt_lock);
  }
  pthread_mutex_unlock(&store_ckpt_lock);
  store_close(s);
  return NULL;
}

static bool store_ckpt_start(void) {
  store_ckpt_stopping = false;
  store_ckpt_due = false;
  store_ckpt_running =
      pthread_create(&store_ckpt_thread, NULL, store_ckpt_main, NULL) == 0;
  if (store_ckpt_running)
    pthread_setname_np(store_ckpt_thread, "las-checkpoint");
  return store_ckpt_running;
}

static void store_ckpt_stop(void) {
  if (!store_ckpt_running)
    return;
  pthread_mutex_lock(&store_ckpt_lock);
  store_ckpt_stopping = true;
  pthread_cond_signal(&store_ckpt_cond);
  pthread_mutex_unlock(&store_ckpt_lock);
  pthread_join(store_ckpt_thread, NULL);
  store_ckpt_running = false;
}

/* ---- transactions ---- */

/* The writer connection, opened on first use; the caller holds
 * store_write_lock. */
static store *store_writer_get(void) {
  if (!store_writer) {
    char err[512];
    store_writer = store_connect(err, sizeof err);
    if (!store_writer) {
      log_msg(LOG_ERROR, "store: writer: %s", err);
      return NULL;
    }
    /* Checkpoints run on the checkpointer's thread (store_wal_grew), not
     * in a commit that holds the write lock; the writer's larger cache keeps
     * the indexes it updates in memory. */
    sqlite3_exec(store_writer->db,
                 "PRAGMA wal_autocheckpoint=0; PRAGMA cache_size=-16384; "
                 "PRAGMA journal_size_limit=67108864;",
                 NULL, NULL, NULL);
    sqlite3_wal_hook(store_writer->db, store_wal_grew, NULL);
  }
  return store_writer;
}

store_status store_writer_run(store_tx_fn fn, void *arg) {
  pthread_mutex_lock(&store_write_lock);
  store *s = store_writer_get();
  store_status st = STORE_ERROR;
  bool jobs = false;
  if (s) {
    s->revoked_credentials = false;
    s->added_jobs = false;
    st = fn(s, arg);
    if (st == STORE_ONE && s->revoked_credentials)
      atomic_fetch_add(&store_epoch, 1);
    jobs = st == STORE_ONE && s->added_jobs;
  }
  pthread_mutex_unlock(&store_write_lock);
  if (jobs && store_job_hook)
    store_job_hook();
  return st;
}

store_status store_write_tx(store_tx_fn fn, void *arg) {
  store_status result = STORE_BUSY;
  pthread_mutex_lock(&store_write_lock);
  store *s = store_writer_get();
  if (!s) {
    pthread_mutex_unlock(&store_write_lock);
    return STORE_ERROR;
  }
  bool jobs_committed = false;
  for (int attempt = 0; attempt < STORE_TX_ATTEMPTS; attempt++) {
    sqlite3_stmt *st = store_stmt(s, ST_BEGIN);
    if (!st) {
      result = STORE_ERROR;
      break;
    }
    result = store_run(s, st, "begin");
    if (result != STORE_ONE) {
      if (result == STORE_BUSY)
        continue;
      break;
    }
    s->revoked_credentials = false;
    s->added_jobs = false;
    s->replaced_state = false;
    result = fn(s, arg);
    if (result == STORE_ONE) {
      st = store_stmt(s, ST_COMMIT);
      result = st ? store_run(s, st, "commit") : STORE_ERROR;
      if (result == STORE_ONE) {
        if (s->revoked_credentials)
          atomic_fetch_add(&store_epoch, 1);
        /* After the commit and before the write lock is released: see
         * store_state_generation. */
        if (s->replaced_state)
          store_state_bump_generation();
        jobs_committed = s->added_jobs;
        if (atomic_load(&store_wal_pages) >= STORE_WAL_CAP_PAGES &&
            ++store_restart_tries % STORE_RESTART_EVERY == 1) {
          /* Without waiting: with a reader or the checkpointer in the way
           * the busy handler would sleep (milliseconds) while every writer
           * waits; a later commit tries again. */
          sqlite3_busy_timeout(s->db, 0);
          int rc = sqlite3_wal_checkpoint_v2(
              s->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
          sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
          if (rc == SQLITE_OK) {
            atomic_store(&store_wal_pages, 0);
            atomic_store(&store_ckpt_copied, 0);
            store_restart_tries = 0;
          }
        }
        break;
      }
    }
    if (sqlite3_get_autocommit(s->db) == 0) {
      st = store_stmt(s, ST_ROLLBACK);
      if (st)
        store_run(s, st, "rollback");
    }
    if (result != STORE_BUSY)
      break;
  }
  pthread_mutex_unlock(&store_write_lock);
  if (jobs_committed && store_job_hook)
    store_job_hook();
  return result;
}

store_status store_read_begin(store *s) {
  sqlite3_stmt *st = store_stmt(s, ST_BEGIN_READ);
  return st ? store_run(s, st, "begin read") : STORE_ERROR;
}

void store_read_end(store *s) {
  sqlite3_stmt *st = store_stmt(s, ST_END_READ);
  if (st && sqlite3_get_autocommit(s->db) == 0)
    store_run(s, st, "end read");
}

/* ---- objects ---- */

char *store_dump(const json_t *body) {
  return json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

static void bind_key(sqlite3_stmt *st, const store_obj_key *key) {
  store_bind_text(st, 1, key->id);
  store_bind_text(st, 2, key->kind);
  store_bind_text(st, 3, key->org_id);
}

store_status store_obj_insert_text(store *s, const store_obj_key *key,
                                   const char *parent_id, const char *group_id,
                                   const char *text) {
  sqlite3_stmt *st = store_stmt(s, ST_OBJ_INSERT);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, key->kind);
  store_bind_text(st, 2, key->id);
  store_bind_text(st, 3, key->org_id);
  store_bind_text(st, 4, parent_id);
  store_bind_text(st, 5, group_id);
  /* Static: the text outlives the step, and store_stmt clears the bindings
   * before the statement is used again. */
  sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
  return store_run(s, st, "insert");
}

store_status store_obj_insert(store *s, const store_obj_key *key,
                              const char *parent_id, const char *group_id,
                              const json_t *body) {
  char *text = store_dump(body);
  if (!text)
    return STORE_ERROR;
  store_status st = store_obj_insert_text(s, key, parent_id, group_id, text);
  free(text);
  return st;
}

static json_t *store_load_body(sqlite3_stmt *st, int col) {
  const void *text = sqlite3_column_blob(st, col);
  int len = sqlite3_column_bytes(st, col);
  return json_loadb(text, (size_t)len, JSON_DISABLE_EOF_CHECK, NULL);
}

static uint64_t store_fnv1a(const char *text, size_t len) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
  return h;
}

/* The object stored as text[0..len) (whose store_fnv1a is h), from the
 * connection's cache of parsed texts when it holds this text: a NEW
 * reference to the cached tree when `shared` (the caller only reads it),
 * else a NEW tree of its own. */
static json_t *store_parse_cached(store *s, const char *text, size_t len,
                                  uint64_t h, bool shared) {
  if (len > STORE_PARSED_MAX_TEXT)
    return json_loadb(text, len, JSON_DISABLE_EOF_CHECK, NULL);
  store_parsed *slot = &s->parsed[h % STORE_PARSED_SLOTS];
  if (slot->tree && slot->len == len && memcmp(slot->text, text, len) == 0)
    return shared ? json_incref(slot->tree) : json_deep_copy(slot->tree);
  json_t *tree = json_loadb(text, len, JSON_DISABLE_EOF_CHECK, NULL);
  if (!tree)
    return tree;
  char *copy = malloc(len);
  json_t *kept = !copy    ? NULL
                 : shared ? json_incref(tree)
                          : json_deep_copy(tree);
  if (!kept) {
    free(copy);
    return tree;
  }
  memcpy(copy, text, len);
  free(slot->text);
  json_decref(slot->tree);
  *slot = (store_parsed){copy, len, kept};
  return tree;
}

static store_status store_obj_load(store *s, const store_obj_key *key,
                                   json_t **out, bool shared,
                                   uint64_t *version) {
  sqlite3_stmt *st = store_stmt(s, ST_OBJ_GET);
  if (!st)
    return STORE_ERROR;
  bind_key(st, key);
  int rc = sqlite3_step(st);
  store_status result;
  if (rc == SQLITE_ROW) {
    const char *text = sqlite3_column_blob(st, 0);
    size_t len = (size_t)sqlite3_column_bytes(st, 0);
    /* Texts too long to cache need no hash unless asked for. */
    uint64_t h =
        version || len <= STORE_PARSED_MAX_TEXT ? store_fnv1a(text, len) : 0;
    if (version)
      *version = h;
    *out = store_parse_cached(s, text, len, h, shared);
    result = *out ? STORE_ONE : STORE_ERROR;
  } else if (rc == SQLITE_DONE) {
    result = STORE_NONE;
  } else {
    result = store_fail(s, "get");
  }
  sqlite3_reset(st);
  return result;
}

store_status store_obj_get(store *s, const store_obj_key *key, json_t **out) {
  return store_obj_load(s, key, out, false, NULL);
}

store_status store_obj_get_shared(store *s, const store_obj_key *key,
                                  json_t **out, uint64_t *version) {
  return store_obj_load(s, key, out, true, version);
}

store_status store_obj_version(store *s, const store_obj_key *key,
                               uint64_t *version) {
  sqlite3_stmt *st = store_stmt(s, ST_OBJ_GET);
  if (!st)
    return STORE_ERROR;
  bind_key(st, key);
  int rc = sqlite3_step(st);
  store_status result = STORE_ONE;
  if (rc == SQLITE_ROW)
    *version = store_fnv1a(sqlite3_column_blob(st, 0),
                           (size_t)sqlite3_column_bytes(st, 0));
  else
    result = rc == SQLITE_DONE ? STORE_NONE : store_fail(s, "get");
  sqlite3_reset(st);
  return result;
}

store_status store_obj_get_text(store *s, const store_obj_key *key, char **text,
                                size_t *len) {
  sqlite3_stmt *st = store_stmt(s, ST_OBJ_GET);
  if (!st)
    return STORE_ERROR;
  bind_key(st, key);
  int rc = sqlite3_step(st);
  store_status result;
  if (rc == SQLITE_ROW) {
    result = store_col_copy(st, 0, text, len);
  } else if (rc == SQLITE_DONE) {
    result = STORE_NONE;
  } else {
    result = store_fail(s, "get");
  }
  sqlite3_reset(st);
  return result;
}

store_status store_obj_update(store *s, const store_obj_key *key,
                              const char *parent_id, const char *group_id,
                              const json_t *body) {
  sqlite3_stmt *st = store_stmt(s, ST_OBJ_UPDATE);
  char *text = store_dump(body);
  if (!st || !text) {
    free(text);
    return STORE_ERROR;
  }
  bind_key(st, key);
  store_bind_text(st, 4, parent_id);
  store_bind_text(st, 5, group_id);
  sqlite3_bind_text(st, 6, text, -1, free);
  store_status r = store_run(s, st, "update");
  if (r == STORE_ONE && sqlite3_changes(s->db) == 0)
    return STORE_NONE;
  return r;
}

uint64_t store_credentials_epoch(void) {
  return atomic_load(&store_epoch);
}

store_status store_obj_delete(store *s, const store_obj_key *key) {
  /* Deleting an app client cascades to its credentials and tokens; a user's
   * tokens go with the user. Either way cached token checks must expire. */
  if (strcmp(key->kind, "app-client") == 0) {
    s->revoked_credentials = true;
  } else if (strcmp(key->kind, "user") == 0) {
    sqlite3_stmt *tokens = store_stmt(s, ST_TOKEN_DELETE_PRINCIPAL);
    if (!tokens)
      return STORE_ERROR;
    store_bind_text(tokens, 1, key->id);
    store_status r = store_run(s, tokens, "user tokens");
    if (r != STORE_ONE)
      return r;
    s->revoked_credentials = true;
  }
  sqlite3_stmt *st = store_stmt(s, ST_OBJ_DELETE);
  if (!st)
    return STORE_ERROR;
  bind_key(st, key);
  store_status r = store_run(s, st, "delete");
  if (r == STORE_ONE && sqlite3_changes(s->db) == 0)
    return STORE_NONE;
  return r;
}

static int64_t store_count_stmt(store *s, sqlite3_stmt *st) {
  int64_t n = -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  else
    store_fail(s, "count");
  sqlite3_reset(st);
  return n;
}

int64_t store_obj_count(store *s, const char *kind, const char *org_id) {
  sqlite3_stmt *st = store_stmt(s, ST_OBJ_COUNT);
  if (!st)
    return -1;
  store_bind_text(st, 1, org_id);
  store_bind_text(st, 2, kind);
  return store_count_stmt(s, st);
}

int64_t store_obj_count_parent(store *s, const char *kind, const char *org_id,
                               const char *parent_id) {
  sqlite3_stmt *st = store_stmt(s, ST_OBJ_COUNT_PARENT);
  if (!st)
    return -1;
  store_bind_text(st, 1, org_id);
  store_bind_text(st, 2, kind);
  store_bind_text(st, 3, parent_id);
  return store_count_stmt(s, st);
}

/* Where the rows of a page go when parsed: a JSON array (with their ids,
 * for bulk deletes). Lists answered as text use store_page_text. */
typedef struct {
  json_t *items;
  json_t *ids;
} store_page_sink;

static bool sink_row(store_page_sink *k, sqlite3_stmt *st) {
  json_t *body = store_load_body(st, 2);
  if (!body)
    return false;
  json_array_append_new(k->items, body);
  if (k->ids)
    json_array_append_new(
        k->ids, json_string((const char *)sqlite3_column_text(st, 1)));
  return true;
}

/* Steps a bound page statement (columns seq, id, body; LIMIT limit + 1)
 * into the sink. */
static store_status store_page_collect(store *s, sqlite3_stmt *st, int limit,
                                       store_page_sink *sink, int64_t *last_seq,
                                       bool *more) {
  *more = false;
  int rc;
  int n = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == limit) {
      *more = true;
      break;
    }
    if (!sink_row(sink, st)) {
      rc = SQLITE_ERROR;
      break;
    }
    *last_seq = sqlite3_column_int64(st, 0);
    n++;
  }
  store_status r = STORE_ONE;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    r = rc == SQLITE_ERROR ? STORE_ERROR : store_fail(s, "page");
  sqlite3_reset(st);
  return r;
}

/* Appends n bytes to the growing NUL-terminated text *buf. */
static bool text_append(char **buf, size_t *len, size_t *cap, const void *data,
                        size_t n) {
  if (*len + n + 1 > *cap) {
    size_t c = *cap ? *cap : 4096;
    while (c < *len + n + 1)
      c *= 2;
    char *grown = realloc(*buf, c);
    if (!grown)
      return false;
    *buf = grown;
    *cap = c;
  }
  memcpy(*buf + *len, data, n);
  *len += n;
  (*buf)[*len] = '\0';
  return true;
}

store_status store_page_text(store *s, sqlite3_stmt *st,
                             const store_text_page *p, char **text, size_t *len,
                             bool *more) {
  *more = false;
  char *buf = NULL;
  size_t n = 0, cap = 0;
  if (p->guess) {
    buf = malloc(p->guess);
    cap = buf ? p->guess : 0;
  }
  bool ok = (!p->prefix ||
             text_append(&buf, &n, &cap, p->prefix, strlen(p->prefix))) &&
            text_append(&buf, &n, &cap, "[", 1);
  int rows = 0, rc = SQLITE_DONE;
  while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (rows == p->limit) {
      *more = true;
      break;
    }
    const void *body = sqlite3_column_blob(st, p->body_col);
    size_t blen = (size_t)sqlite3_column_bytes(st, p->body_col);
    ok = (rows == 0 || text_append(&buf, &n, &cap, ",", 1)) &&
         text_append(&buf, &n, &cap, body, blen);
    if (ok && p->on_row)
      p->on_row(st, p->arg);
    rows++;
  }
  store_status r = STORE_ONE;
  if (!ok)
    r = STORE_ERROR;
  else if (!*more && rc != SQLITE_DONE)
    r = store_fail(s, p->what ? p->what : "page");
  else if (!text_append(&buf, &n, &cap, "]", 1))
    r = STORE_ERROR;
  sqlite3_reset(st);
  if (r != STORE_ONE) {
    free(buf);
    return r;
  }
  *text = buf;
  *len = n;
  return STORE_ONE;
}

void store_row_key0(sqlite3_stmt *st, void *last_key) {
  *(int64_t *)last_key = sqlite3_column_int64(st, 0);
}

/* The bound page statement of q (columns seq, id, body; LIMIT limit + 1),
 * or NULL. */
static sqlite3_stmt *store_page_stmt(store *s, const store_page_query *q) {
  store_stmt_id which = ST_OBJ_PAGE;
  if (q->parent_ids && q->group_ids)
    which = ST_OBJ_PAGE_BOTH;
  else if (q->parent_ids)
    which = ST_OBJ_PAGE_PARENT;
  else if (q->group_ids)
    which = ST_OBJ_PAGE_GROUP;
  sqlite3_stmt *st = store_stmt(s, which);
  if (!st)
    return NULL;
  store_bind_text(st, 1, q->org_id);
  store_bind_text(st, 2, q->kind);
  sqlite3_bind_int64(st, 3, q->after_seq);
  sqlite3_bind_int(st, 4, q->limit + 1);
  char *p = q->parent_ids ? store_dump(q->parent_ids) : NULL;
  char *g = q->group_ids ? store_dump(q->group_ids) : NULL;
  if (p)
    sqlite3_bind_text(st, 5, p, -1, free);
  if (g)
    sqlite3_bind_text(st, 6, g, -1, free);
  return st;
}

static store_status store_page_read(store *s, const store_page_query *q,
                                    store_page_sink *sink, int64_t *last_seq,
                                    bool *more) {
  sqlite3_stmt *st = store_page_stmt(s, q);
  if (!st)
    return STORE_ERROR;
  *last_seq = q->after_seq;
  return store_page_collect(s, st, q->limit, sink, last_seq, more);
}

store_status store_log_page(store *s, const char *org_id,
                            const store_log_filter *f, int64_t after_seq,
                            int limit, json_t **items, int64_t *last_seq,
                            bool *more) {
  sqlite3_stmt *st =
      store_stmt(s, f->descending ? ST_LOG_PAGE_DESC : ST_LOG_PAGE_ASC);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, org_id);
  sqlite3_bind_int64(st, 3,
                     f->descending && after_seq == 0 ? INT64_MAX : after_seq);
  sqlite3_bind_int(st, 4, limit + 1);
  /* Execution ids name the fewest logs, then workflows, then transitions. */
  const char *drive = f->transition_execution_id ? f->transition_execution_id
                      : f->workflow_execution_id ? f->workflow_execution_id
                      : f->workflow_id           ? f->workflow_id
                      : f->transition_id         ? f->transition_id
                                                 : "";
  store_bind_text(st, 2, drive);
  store_bind_text(st, 5, f->transition_id);
  store_bind_text(st, 6, f->transition_execution_id);
  store_bind_text(st, 7, f->workflow_id);
  store_bind_text(st, 8, f->workflow_execution_id);
  store_page_sink sink = {.items = json_array()};
  *last_seq = after_seq;
  store_status r = store_page_collect(s, st, limit, &sink, last_seq, more);
  if (r != STORE_ONE) {
    json_decref(sink.items);
    return r;
  }
  *items = sink.items;
  return STORE_ONE;
}

store_status store_log_page_plan(store *s, bool descending, char *out,
                                 size_t len) {
  return store_explain(
      s, store_sql[descending ? ST_LOG_PAGE_DESC : ST_LOG_PAGE_ASC], out, len);
}

store_status store_obj_page(store *s, const store_page_query *q, json_t **items,
                            int64_t *last_seq, bool *more) {
  store_page_sink sink = {.items = json_array()};
  store_status r = store_page_read(s, q, &sink, last_seq, more);
  if (r != STORE_ONE) {
    json_decref(sink.items);
    return r;
  }
  *items = sink.items;
  return STORE_ONE;
}

store_status store_obj_page_text(store *s, const store_page_query *q,
                                 const char *prefix, char **text, size_t *len,
                                 int64_t *last_seq, bool *more) {
  sqlite3_stmt *st = store_page_stmt(s, q);
  if (!st)
    return STORE_ERROR;
  *last_seq = q->after_seq;
  /* Sized for a page of typical objects (~600 bytes), so that a page is
   * one allocation rather than a series of copying reallocs. */
  store_text_page p = {
      .limit = q->limit,
      .body_col = 2,
      .on_row = store_row_key0,
      .arg = last_seq,
      .guess = (size_t)(q->limit > 0 ? q->limit : 1) * 768 + 64,
      .prefix = prefix,
  };
  return store_page_text(s, st, &p, text, len, more);
}

store_status store_obj_delete_page(store *s, const store_page_query *q,
                                   json_t **items, int64_t *last_seq,
                                   bool *more) {
  json_t *ids = json_array();
  store_page_sink sink = {.items = json_array(), .ids = ids};
  store_status r = store_page_read(s, q, &sink, last_seq, more);
  *items = sink.items;
  size_t i;
  json_t *id;
  json_array_foreach(ids, i, id) {
    if (r != STORE_ONE)
      break;
    store_obj_key key = {q->kind, q->org_id, json_string_value(id)};
    r = store_obj_delete(s, &key);
  }
  json_decref(ids);
  if (r != STORE_ONE && *items) {
    json_decref(*items);
    *items = NULL;
  }
  return r;
}

/* ---- blobs ---- */

store_status store_blob_put(store *s, const char *id, const void *data,
                            size_t len) {
  sqlite3_stmt *st = store_stmt(s, ST_BLOB_PUT);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, id);
  sqlite3_bind_blob64(st, 2, data, len, SQLITE_STATIC);
  return store_run(s, st, "blob put");
}

store_status store_blob_get(store *s, const char *id, char **out, size_t *len) {
  sqlite3_stmt *st = store_stmt(s, ST_BLOB_GET);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, id);
  int rc = sqlite3_step(st);
  store_status result = STORE_NONE;
  if (rc == SQLITE_ROW) {
    result = store_col_copy(st, 0, out, len);
  } else if (rc != SQLITE_DONE) {
    result = store_fail(s, "blob get");
  }
  sqlite3_reset(st);
  return result;
}

/* ---- credentials ---- */

static void store_salted_hash(const char *salt, const char *secret,
                              char out[65]) {
  size_t ls = strlen(salt), lp = strlen(secret);
  char *buf = malloc(ls + lp + 1);
  if (!buf) {
    out[0] = '\0';
    return;
  }
  memcpy(buf, salt, ls);
  memcpy(buf + ls, secret, lp + 1);
  codec_sha256_hex(buf, ls + lp, out);
  free(buf);
}

/* Binds a fresh salt at index i and the salted hash of secret at i + 1. */
static void bind_salted_hash(sqlite3_stmt *st, int i, const char *secret) {
  char salt[33], hash[65];
  ids_random_hex(16, salt);
  store_salted_hash(salt, secret, hash);
  store_bind_text(st, i, salt);
  store_bind_text(st, i + 1, hash);
}

store_status store_client_put(store *s, const char *client_id,
                              const char *app_client_id, const char *org_id,
                              const char *secret, const char *api_key) {
  sqlite3_stmt *st = store_stmt(s, ST_CLIENT_PUT);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, client_id);
  store_bind_text(st, 2, app_client_id);
  store_bind_text(st, 3, org_id);
  if (secret)
    bind_salted_hash(st, 4, secret);
  store_bind_text(st, 6, api_key);
  return store_run(s, st, "client put");
}

store_status store_client_set_secret(store *s, const char *client_id,
                                     const char *secret) {
  sqlite3_stmt *st = store_stmt(s, ST_CLIENT_SET_SECRET);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, client_id);
  bind_salted_hash(st, 2, secret);
  return store_run(s, st, "client set secret");
}

store_status store_client_check(store *s, const char *client_id,
                                const char *secret, store_client *out) {
  sqlite3_stmt *st = store_stmt(s, ST_CLIENT_GET);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, client_id);
  int rc = sqlite3_step(st);
  store_status result = STORE_NONE;
  if (rc == SQLITE_ROW) {
    const char *salt = (const char *)sqlite3_column_text(st, 2);
    const char *hash = (const char *)sqlite3_column_text(st, 3);
    bool ok = true;
    if (secret) {
      char computed[65];
      ok = salt && hash;
      if (ok) {
        store_salted_hash(salt, secret, computed);
        ok = codec_equal_ct(computed, hash);
      }
    }
    if (ok) {
      snprintf(out->client_id, sizeof out->client_id, "%s", client_id);
      store_copy_col(st, 0, out->app_client_id, sizeof out->app_client_id);
      store_copy_col(st, 1, out->org_id, sizeof out->org_id);
      store_copy_col(st, 4, out->api_key, sizeof out->api_key);
      out->has_secret = hash != NULL;
      result = STORE_ONE;
    }
  } else if (rc != SQLITE_DONE) {
    result = store_fail(s, "client get");
  }
  sqlite3_reset(st);
  return result;
}

store_status store_token_put(store *s, const char *token, const char *client_id,
                             const char *principal, const char *scopes,
                             int64_t expires_us) {
  /* Expired tokens of this client go when it gets a new one, so the table
   * stays as large as the tokens in use. */
  sqlite3_stmt *prune = store_stmt(s, ST_TOKEN_PRUNE);
  if (!prune)
    return STORE_ERROR;
  store_bind_text(prune, 1, client_id);
  sqlite3_bind_int64(prune, 2, clock_real_us());
  store_status pruned = store_run(s, prune, "token prune");
  if (pruned != STORE_ONE)
    return pruned;
  sqlite3_stmt *st = store_stmt(s, ST_TOKEN_PUT);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, token);
  store_bind_text(st, 2, client_id);
  store_bind_text(st, 3, principal);
  store_bind_text(st, 4, scopes);
  sqlite3_bind_int64(st, 5, expires_us);
  return store_run(s, st, "token put");
}

store_status store_token_get(store *s, const char *token,
                             store_token_info *out) {
  sqlite3_stmt *st = store_stmt(s, ST_TOKEN_GET);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, token);
  int rc = sqlite3_step(st);
  store_status result = STORE_NONE;
  if (rc == SQLITE_ROW) {
    store_copy_col(st, 0, out->client_id, sizeof out->client_id);
    store_copy_col(st, 1, out->app_client_id, sizeof out->app_client_id);
    store_copy_col(st, 2, out->org_id, sizeof out->org_id);
    store_copy_col(st, 3, out->principal, sizeof out->principal);
    store_copy_col(st, 4, out->api_key, sizeof out->api_key);
    store_copy_col(st, 5, out->scopes, sizeof out->scopes);
    out->expires_us = sqlite3_column_int64(st, 6);
    result = STORE_ONE;
  } else if (rc != SQLITE_DONE) {
    result = store_fail(s, "token get");
  }
  sqlite3_reset(st);
  return result;
}

store_status store_password_put(store *s, const char *username,
                                const char *user_id, const char *org_id,
                                const char *password) {
  sqlite3_stmt *st = store_stmt(s, ST_PASSWORD_PUT);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, username);
  store_bind_text(st, 2, user_id);
  store_bind_text(st, 3, org_id);
  bind_salted_hash(st, 4, password);
  return store_run(s, st, "password put");
}

store_status store_password_check(store *s, const char *username,
                                  const char *password, char user_id[64],
                                  char org_id[64]) {
  sqlite3_stmt *st = store_stmt(s, ST_PASSWORD_GET);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, username);
  int rc = sqlite3_step(st);
  store_status result = STORE_NONE;
  if (rc == SQLITE_ROW) {
    char computed[65];
    store_salted_hash((const char *)sqlite3_column_text(st, 2), password,
                      computed);
    if (codec_equal_ct(computed, (const char *)sqlite3_column_text(st, 3))) {
      store_copy_col(st, 0, user_id, 64);
      store_copy_col(st, 1, org_id, 64);
      result = STORE_ONE;
    }
  } else if (rc != SQLITE_DONE) {
    result = store_fail(s, "password get");
  }
  sqlite3_reset(st);
  return result;
}

/* ---- expiry ---- */

store_status store_obj_set_expiry(store *s, const store_obj_key *key,
                                  int64_t expires_us) {
  sqlite3_stmt *st = store_stmt(s, ST_OBJ_SET_EXPIRY);
  if (!st)
    return STORE_ERROR;
  bind_key(st, key);
  if (expires_us >= 0)
    sqlite3_bind_int64(st, 4, expires_us);
  return store_run(s, st, "set expiry");
}

static store_status store_min(store *s, store_stmt_id id, int64_t *out) {
  sqlite3_stmt *st = store_stmt(s, id);
  if (!st)
    return STORE_ERROR;
  store_status r = STORE_NONE;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
      *out = sqlite3_column_int64(st, 0);
      r = STORE_ONE;
    }
  } else {
    r = store_fail(s, "min");
  }
  sqlite3_reset(st);
  return r;
}

store_status store_obj_next_expiry(store *s, int64_t *out) {
  return store_min(s, ST_OBJ_NEXT_EXPIRY, out);
}

store_status store_obj_delete_expired(store *s, int64_t now_us, int limit,
                                      int *deleted) {
  sqlite3_stmt *st = store_stmt(s, ST_OBJ_EXPIRED);
  if (!st)
    return STORE_ERROR;
  sqlite3_bind_int64(st, 1, now_us);
  sqlite3_bind_int(st, 2, limit);
  /* Collect first: deleting while stepping the same index is undefined. */
  json_t *keys = json_array();
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    json_array_append_new(keys, json_pack("[sss]", sqlite3_column_text(st, 0),
                                          sqlite3_column_text(st, 1),
                                          sqlite3_column_text(st, 2)));
  store_status r = rc == SQLITE_DONE ? STORE_ONE : store_fail(s, "expired");
  sqlite3_reset(st);
  *deleted = 0;
  size_t i;
  json_t *k;
  json_array_foreach(keys, i, k) {
    if (r != STORE_ONE)
      break;
    store_obj_key key = {json_string_value(json_array_get(k, 1)),
                         json_string_value(json_array_get(k, 2)),
                         json_string_value(json_array_get(k, 0))};
    r = store_obj_delete(s, &key);
    if (r == STORE_ONE)
      (*deleted)++;
  }
  json_decref(keys);
  return r;
}

/* ---- usage ---- */

/* An UPDATE, then the count read back (an INSERT for a month's first
 * object of a kind): an upsert with RETURNING costs three times as much
 * (SQLite runs RETURNING through a temporary table), and this runs in the
 * write transaction of every create. */
store_status store_usage_add(store *s, const char *org_id, const char *month,
                             const char *kind, int64_t *count) {
  sqlite3_stmt *st = store_stmt(s, ST_USAGE_BUMP);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, org_id);
  store_bind_text(st, 2, month);
  store_bind_text(st, 3, kind);
  store_status r = store_run(s, st, "usage add");
  if (r != STORE_ONE)
    return r == STORE_NONE ? STORE_ERROR : r;
  if (sqlite3_changes(s->db) == 0) {
    st = store_stmt(s, ST_USAGE_FIRST);
    if (!st)
      return STORE_ERROR;
    store_bind_text(st, 1, org_id);
    store_bind_text(st, 2, month);
    store_bind_text(st, 3, kind);
    *count = 1;
    r = store_run(s, st, "usage add");
    return r == STORE_NONE ? STORE_ERROR : r;
  }
  int64_t n = store_usage_get(s, org_id, month, kind);
  if (n < 1)
    return STORE_ERROR;
  *count = n;
  return STORE_ONE;
}

int64_t store_usage_get(store *s, const char *org_id, const char *month,
                        const char *kind) {
  sqlite3_stmt *st = store_stmt(s, ST_USAGE_GET);
  if (!st)
    return -1;
  store_bind_text(st, 1, org_id);
  store_bind_text(st, 2, month);
  store_bind_text(st, 3, kind);
  int64_t n = 0;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  else if (rc != SQLITE_DONE) {
    store_fail(s, "usage get");
    n = -1;
  }
  sqlite3_reset(st);
  return n;
}

/* ---- jobs ---- */

void store_set_job_hook(void (*hook)(void)) {
  store_job_hook = hook;
}

store_status store_job_add(store *s, const char *kind, const char *target_id,
                           const char *org_id, int64_t due_us) {
  sqlite3_stmt *st = store_stmt(s, ST_JOB_ADD);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, kind);
  store_bind_text(st, 2, target_id);
  store_bind_text(st, 3, org_id);
  sqlite3_bind_int64(st, 4, due_us);
  store_status r = store_run(s, st, "job add");
  if (r == STORE_ONE)
    s->added_jobs = true;
  return r;
}

store_status store_job_next_due(store *s, int64_t *due_us) {
  return store_min(s, ST_JOB_NEXT, due_us);
}

store_status store_job_ensure(store *s, const char *kind, const char *target_id,
                              const char *org_id, int64_t due_us) {
  sqlite3_stmt *st = store_stmt(s, ST_JOB_EXISTS);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, kind);
  sqlite3_bind_int64(st, 2, due_us);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc == SQLITE_ROW)
    return STORE_ONE;
  if (rc != SQLITE_DONE)
    return store_fail(s, "job exists");
  return store_job_add(s, kind, target_id, org_id, due_us);
}

store_status store_job_take_due(store *s, int64_t now_us, store_job *out) {
  sqlite3_stmt *st = store_stmt(s, ST_JOB_DUE);
  if (!st)
    return STORE_ERROR;
  sqlite3_bind_int64(st, 1, now_us);
  store_status r = STORE_NONE;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    out->id = sqlite3_column_int64(st, 0);
    store_copy_col(st, 1, out->kind, sizeof out->kind);
    store_copy_col(st, 2, out->target_id, sizeof out->target_id);
    store_copy_col(st, 3, out->org_id, sizeof out->org_id);
    out->due_us = sqlite3_column_int64(st, 4);
    r = STORE_ONE;
  } else if (rc != SQLITE_DONE) {
    r = store_fail(s, "job due");
  }
  sqlite3_reset(st);
  return r;
}

store_status store_job_delete(store *s, int64_t id) {
  sqlite3_stmt *st = store_stmt(s, ST_JOB_DELETE);
  if (!st)
    return STORE_ERROR;
  sqlite3_bind_int64(st, 1, id);
  return store_run(s, st, "job delete");
}

store_status store_job_due_of_kind(store *s, const char *kind, int64_t now_us,
                                   int64_t except, store_job *out, int max,
                                   int *n) {
  sqlite3_stmt *st = store_stmt(s, ST_JOB_DUE_KIND);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, kind);
  sqlite3_bind_int64(st, 2, now_us);
  sqlite3_bind_int64(st, 3, except);
  sqlite3_bind_int(st, 4, max);
  *n = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
    store_job *j = &out[(*n)++];
    j->id = sqlite3_column_int64(st, 0);
    store_copy_col(st, 1, j->kind, sizeof j->kind);
    store_copy_col(st, 2, j->target_id, sizeof j->target_id);
    store_copy_col(st, 3, j->org_id, sizeof j->org_id);
    j->due_us = sqlite3_column_int64(st, 4);
  }
  store_status r = rc == SQLITE_ROW || rc == SQLITE_DONE
                       ? STORE_ONE
                       : store_fail(s, "jobs due of kind");
  sqlite3_reset(st);
  return r;
}

store_status store_meta_get(store *s, const char *key, char **out) {
  sqlite3_stmt *st = store_stmt(s, ST_META_GET);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, key);
  int rc = sqlite3_step(st);
  store_status result = STORE_NONE;
  if (rc == SQLITE_ROW) {
    *out = strdup((const char *)sqlite3_column_text(st, 0));
    result = *out ? STORE_ONE : STORE_ERROR;
  } else if (rc != SQLITE_DONE) {
    result = store_fail(s, "meta get");
  }
  sqlite3_reset(st);
  return result;
}

store_status store_meta_put(store *s, const char *key, const char *value) {
  sqlite3_stmt *st = store_stmt(s, ST_META_PUT);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, key);
  store_bind_text(st, 2, value);
  return store_run(s, st, "meta put");
}
