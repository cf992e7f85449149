/* What the store's concern files (src/storage/store_*.c) share with
 * store.c. Nothing outside src/storage/ includes this: the rest of the
 * program sees only store.h. */
#ifndef LAS_STORAGE_STORE_INTERNAL_H
#define LAS_STORAGE_STORE_INTERNAL_H

#include "storage/store.h"

#include <sqlite3.h>

/* The connection's prepared statement for `sql`, reset and with its
 * bindings cleared; NULL (logged) when it cannot be prepared. `sql` must be
 * a string literal (or otherwise live for the whole process): statements are
 * cached per connection under the pointer, so each concern file keeps its
 * queries as static constants and prepares each once per connection. */
sqlite3_stmt *store_stmt_sql(store *s, const char *sql);

/* STORE_BUSY for lock contention, otherwise logs `what` and the SQLite
 * message and returns STORE_ERROR. */
store_status store_fail(store *s, const char *what);
/* Binds text (copied) or, for NULL, SQL NULL. */
void store_bind_text(sqlite3_stmt *st, int idx, const char *v);
/* Steps a statement that returns no rows: STORE_ONE when done, STORE_NONE on
 * a constraint violation, otherwise store_fail. Resets the statement. */
store_status store_run(store *s, sqlite3_stmt *st, const char *what);
/* store_run of the cached statement `sql` (store_stmt_sql) with `value`
 * bound to ?1. */
store_status store_run_text(store *s, const char *sql, const char *value,
                            const char *what);
/* Whether the cached query `sql` with `value` bound to ?1 returns a row:
 * STORE_ONE, STORE_NONE, or store_fail. */
store_status store_row_exists(store *s, const char *sql, const char *value,
                              const char *what);
/* Copies a text column into dst (empty for NULL), truncated to size. */
void store_copy_col(sqlite3_stmt *st, int col, char *dst, size_t size);
/* Copies column col of the current row into *out (malloc'ed, with a NUL
 * after its *len bytes; caller frees): STORE_ONE, or STORE_ERROR when out
 * of memory. */
store_status store_col_copy(sqlite3_stmt *st, int col, char **out, size_t *len);
/* A page answered as text: the rows' stored JSON texts copied into
 * "[body,body,…]", never parsed. */
typedef struct store_text_page {
  int limit;    /* rows taken; the statement asks for limit + 1 */
  int body_col; /* the column holding a row's JSON text */
  /* Called for each row taken, to read its keys (may be NULL). */
  void (*on_row)(sqlite3_stmt *st, void *arg);
  void *arg;
  size_t guess;       /* initial capacity in bytes, 0 for a default */
  const char *prefix; /* text before the '[', or NULL */
  const char *what;   /* for the log on failure, or NULL */
} store_text_page;
/* A store_text_page.on_row for pages keyed by column 0: arg is the
 * int64_t that receives the key of the last row taken. */
void store_row_key0(sqlite3_stmt *st, void *last_key);
/* Steps a bound page statement into *text (malloc'ed, caller frees; *len
 * bytes); *more says whether a row beyond the limit exists. Resets st. */
store_status store_page_text(store *s, sqlite3_stmt *st,
                             const store_text_page *p, char **text, size_t *len,
                             bool *more);
/* EXPLAIN QUERY PLAN of `sql` on this connection, one line per step
 * ("SEARCH t USING INDEX …"), into out; for tests that check a query is
 * served from an index. */
store_status store_explain(store *s, const char *sql, char *out, size_t len);
/* Tells the open write transaction that it scheduled background work, so
 * that the job hook runs after it commits (as store_job_add does). */
void store_note_jobs_added(store *s);
/* Tells the open write transaction that it removed credentials, so that
 * caches of token lookups are dropped after it commits. */
void store_note_credentials_revoked(store *s);
/* Tells the open write transaction that it replaced the data (a reset):
 * the generation of store_state.h changes when it commits, before the
 * write lock is released. store_state_bump_generation does it. */
void store_note_state_replaced(store *s);
void store_state_bump_generation(void);

/* For the state concern (store_state.c): a connection to another database
 * file (configured like the per-thread ones; store_free closes it), its
 * SQLite handle, the migrations of store_global_open applied to any
 * connection, and fn run on the writer connection under the write lock but
 * outside a transaction (for the backup API, which opens its own); the
 * credentials and job notes of store_write_tx apply. */
store *store_open_path(const char *path, char *err, size_t errlen);
void store_free(store *s);
sqlite3 *store_sqlite(store *s);
bool store_migrate(store *s, char *err, size_t errlen);
store_status store_writer_run(store_tx_fn fn, void *arg);

#endif
