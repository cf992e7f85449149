/* Workflow executions: see store_workflows.h and 007_workflow_executions.sql.
 */
#include "storage/store_workflows.h"
#include "storage/store_internal.h"

#include <stdlib.h>
#include <string.h>

/* Running executions sort after every ended one (see the migration). */
#define WFX_RUNNING_KEY "4611686018427387904"

/* seq is chosen here (rowids are max + 1 anyway) so that end_key, which
 * depends on it, is written by the same statement. */
static const char wfx_insert_sql[] =
    "INSERT INTO workflow_executions (seq, id, org_id, workflow_id, status, "
    "end_key, body, state) SELECT n, ?1, ?2, ?3, ?4, CASE WHEN ?7 THEN "
    "(SELECT coalesce(max(end_key), 0) + 1 FROM workflow_executions WHERE "
    "workflow_id = ?3 AND end_key < " WFX_RUNNING_KEY ") ELSE " WFX_RUNNING_KEY
    " + n END, ?5, ?6 FROM (SELECT coalesce(max(seq), 0) + 1 AS n FROM "
    "workflow_executions)";
static const char wfx_get_sql[] =
    "SELECT workflow_id, body, state FROM workflow_executions WHERE id = ?1 "
    "AND org_id = ?2";
static const char wfx_get_body_sql[] =
    "SELECT workflow_id, body FROM workflow_executions WHERE id = ?1 AND "
    "org_id = ?2";
/* An execution that ends takes the next end number of its workflow, once;
 * one that runs again goes back among the running. */
static const char wfx_update_sql[] =
    "UPDATE workflow_executions SET status = ?2, body = ?3, "
    "state = coalesce(?4, state), end_key = CASE WHEN ?5 THEN (CASE WHEN "
    "end_key < " WFX_RUNNING_KEY " THEN end_key ELSE (SELECT "
    "coalesce(max(w.end_key), 0) + 1 FROM workflow_executions w WHERE "
    "w.workflow_id = workflow_executions.workflow_id AND w.end_key "
    "< " WFX_RUNNING_KEY ") END) ELSE " WFX_RUNNING_KEY
    " + seq END WHERE id = ?1";
static const char wfx_delete_sql[] =
    "DELETE FROM workflow_executions WHERE id = ?1";
static const char wfx_delete_workflow_sql[] =
    "DELETE FROM workflow_executions WHERE workflow_id = ?1";
static const char wfx_count_running_sql[] =
    "SELECT count(*) FROM workflow_executions WHERE workflow_id = ?1 AND "
    "status IN ('running', 'retry')";

#define WFX_PAGE_WHERE                                                         \
  "WHERE workflow_id = ?1 AND org_id = ?2 AND (?5 IS NULL OR status IN "       \
  "(SELECT value FROM json_each(?5))) "
static const char wfx_page_start_asc_sql[] =
    "SELECT seq, body FROM workflow_executions " WFX_PAGE_WHERE
    "AND seq > ?3 ORDER BY seq LIMIT ?4";
static const char wfx_page_start_desc_sql[] =
    "SELECT seq, body FROM workflow_executions " WFX_PAGE_WHERE
    "AND seq < ?3 ORDER BY seq DESC LIMIT ?4";
static const char wfx_page_end_asc_sql[] =
    "SELECT end_key, body FROM workflow_executions " WFX_PAGE_WHERE
    "AND end_key > ?3 ORDER BY end_key LIMIT ?4";
static const char wfx_page_end_desc_sql[] =
    "SELECT end_key, body FROM workflow_executions " WFX_PAGE_WHERE
    "AND end_key < ?3 ORDER BY end_key DESC LIMIT ?4";

static void bind_json(sqlite3_stmt *st, int idx, const json_t *v, char **keep) {
  *keep = v ? store_dump(v) : NULL;
  if (*keep)
    sqlite3_bind_text(st, idx, *keep, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, idx);
}

store_status store_wfx_insert(store *s, const char *org_id,
                              const char *workflow_id, const char *id,
                              const char *status, bool ended,
                              const json_t *body, const json_t *state) {
  sqlite3_stmt *st = store_stmt_sql(s, wfx_insert_sql);
  if (!st)
    return STORE_ERROR;
  char *b = NULL, *x = NULL;
  store_bind_text(st, 1, id);
  store_bind_text(st, 2, org_id);
  store_bind_text(st, 3, workflow_id);
  store_bind_text(st, 4, status);
  bind_json(st, 5, body, &b);
  bind_json(st, 6, state, &x);
  sqlite3_bind_int(st, 7, ended);
  store_status r = b && x ? store_run(s, st, "execution insert") : STORE_ERROR;
  sqlite3_clear_bindings(st);
  free(b);
  free(x);
  return r;
}

static json_t *load_col(sqlite3_stmt *st, int col) {
  const char *text = (const char *)sqlite3_column_text(st, col);
  return text ? json_loadb(text, (size_t)sqlite3_column_bytes(st, col), 0, NULL)
              : NULL;
}

store_status store_wfx_get(store *s, const char *org_id, const char *id,
                           char *workflow_id, json_t **body, json_t **state) {
  sqlite3_stmt *st = store_stmt_sql(s, state ? wfx_get_sql : wfx_get_body_sql);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, id);
  store_bind_text(st, 2, org_id);
  store_status r = STORE_NONE;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    if (workflow_id)
      store_copy_col(st, 0, workflow_id, 64);
    *body = load_col(st, 1);
    if (state)
      *state = load_col(st, 2);
    r = STORE_ONE;
    if (!*body || (state && !*state)) {
      json_decref(*body);
      *body = NULL;
      if (state) {
        json_decref(*state);
        *state = NULL;
      }
      r = STORE_ERROR;
    }
  } else if (rc != SQLITE_DONE) {
    r = store_fail(s, "execution get");
  }
  sqlite3_reset(st);
  return r;
}

store_status store_wfx_get_text(store *s, const char *org_id, const char *id,
                                char workflow_id[64], char **text,
                                size_t *len) {
  sqlite3_stmt *st = store_stmt_sql(s, wfx_get_body_sql);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, id);
  store_bind_text(st, 2, org_id);
  store_status r = STORE_NONE;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    store_copy_col(st, 0, workflow_id, 64);
    r = store_col_copy(st, 1, text, len);
  } else if (rc != SQLITE_DONE) {
    r = store_fail(s, "execution get");
  }
  sqlite3_reset(st);
  return r;
}

store_status store_wfx_update(store *s, const char *id, const char *status,
                              bool ended, const json_t *body,
                              const json_t *state) {
  sqlite3_stmt *st = store_stmt_sql(s, wfx_update_sql);
  if (!st)
    return STORE_ERROR;
  char *b = NULL, *x = NULL;
  store_bind_text(st, 1, id);
  store_bind_text(st, 2, status);
  bind_json(st, 3, body, &b);
  bind_json(st, 4, state, &x);
  sqlite3_bind_int(st, 5, ended);
  store_status r =
      b && (x || !state) ? store_run(s, st, "execution update") : STORE_ERROR;
  sqlite3_clear_bindings(st);
  free(b);
  free(x);
  if (r == STORE_ONE && sqlite3_changes(sqlite3_db_handle(st)) == 0)
    r = STORE_NONE;
  return r;
}

store_status store_wfx_delete(store *s, const char *id) {
  return store_run_text(s, wfx_delete_sql, id, "execution delete");
}

store_status store_wfx_delete_workflow(store *s, const char *workflow_id) {
  return store_run_text(s, wfx_delete_workflow_sql, workflow_id,
                        "workflow executions delete");
}

int64_t store_wfx_count_running(store *s, const char *workflow_id) {
  sqlite3_stmt *st = store_stmt_sql(s, wfx_count_running_sql);
  if (!st)
    return -1;
  store_bind_text(st, 1, workflow_id);
  int64_t n = -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  else
    store_fail(s, "running executions");
  sqlite3_reset(st);
  return n;
}

store_status store_wfx_page_text(store *s, const store_wfx_query *q,
                                 char **text, size_t *len, int64_t *last,
                                 bool *more) {
  const char *sql =
      q->by_end
          ? (q->descending ? wfx_page_end_desc_sql : wfx_page_end_asc_sql)
          : (q->descending ? wfx_page_start_desc_sql : wfx_page_start_asc_sql);
  sqlite3_stmt *st = store_stmt_sql(s, sql);
  if (!st)
    return STORE_ERROR;
  char *filter = NULL;
  store_bind_text(st, 1, q->workflow_id);
  store_bind_text(st, 2, q->org_id);
  sqlite3_bind_int64(st, 3,
                     q->descending && q->after == 0 ? INT64_MAX : q->after);
  sqlite3_bind_int(st, 4, q->limit + 1);
  bind_json(st, 5, q->statuses, &filter);
  *last = q->after;
  store_text_page p = {.limit = q->limit,
                       .body_col = 1,
                       .on_row = store_row_key0,
                       .arg = last,
                       .what = "execution page"};
  store_status r = store_page_text(s, st, &p, text, len, more);
  /* The filter was bound without a copy. */
  sqlite3_clear_bindings(st);
  free(filter);
  return r;
}
