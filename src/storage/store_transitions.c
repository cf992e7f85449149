/* Transition executions in SQLite: objects plus transition_executions rows
 * (see store_transitions.h and migration 006). */
#include "storage/store_transitions.h"
#include "storage/store_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char texec_insert_sql[] =
    "INSERT INTO transition_executions (seq, org_id, transition_id, status, "
    "start_us, end_key, timeout_us, deadline_us, workflow_id, "
    "workflow_execution_id, detached) SELECT seq, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
    "?9, ?10, 0 FROM objects WHERE id = ?1 AND org_id = ?2";

static const char texec_get_sql[] =
    "SELECT t.transition_id, t.status, t.start_us, t.end_key, t.timeout_us, "
    "t.deadline_us, t.workflow_id, t.workflow_execution_id, t.detached FROM "
    "objects o JOIN transition_executions t ON t.seq = o.seq WHERE o.id = ?1 "
    "AND o.org_id = ?2";

/* Each update sets only the columns it changes: SQLite rewrites the entries
 * of every index whose columns an UPDATE assigns, changed or not, and an
 * execution's end is the engine's most frequent write (crowds of
 * timeouts). */
static const char texec_body_sql[] =
    "UPDATE objects SET body = ?3 WHERE id = ?1 AND org_id = ?2 AND kind = "
    "'transition-execution'";

static const char texec_finish_sql[] =
    "UPDATE transition_executions SET status = ?3, end_key = ?4, deadline_us "
    "= ?5, result = ?6 WHERE seq = (SELECT seq FROM objects WHERE id = ?1 AND "
    "org_id = ?2)";

static const char texec_start_sql[] =
    "UPDATE transition_executions SET start_us = ?3 WHERE seq = (SELECT seq "
    "FROM objects WHERE id = ?1 AND org_id = ?2)";

static const char texec_heartbeat_sql[] =
    "UPDATE transition_executions SET deadline_us = ?3 WHERE seq = (SELECT "
    "seq FROM objects WHERE id = ?1 AND org_id = ?2) AND status = 'running'";

static const char texec_detach_sql[] =
    "UPDATE transition_executions SET detached = 1 WHERE seq = (SELECT seq "
    "FROM objects WHERE id = ?1 AND org_id = ?2)";

static const char texec_running_sql[] =
    "SELECT o.id FROM transition_executions t INDEXED BY "
    "transition_executions_by_status JOIN objects o ON o.seq = t.seq WHERE "
    "t.org_id = ?1 AND t.transition_id = ?2 AND t.status = 'running' ORDER BY "
    "t.seq";

/* The objects go; their rows follow through the trigger of migration 006. */
static const char texec_delete_all_sql[] =
    "DELETE FROM objects WHERE org_id = ?1 AND kind = 'transition-execution' "
    "AND parent_id = ?2";

/* ---- pages ----
 * Parameters: ?1 org, ?2 transition, ?3/?4 the position (key, seq), ?5
 * statuses and ?6 ids (JSON arrays or NULL), ?7 the row limit. Each sort
 * and filter shape has its own statement, so that the planner never has to
 * guess: unfiltered pages walk the sort's index from the position; a status
 * filter reads the matching rows through the status index and sorts them
 * (cost follows the filtered set, never the whole table); an id filter
 * looks each id up. */
#define TX_SEL(key) "SELECT t.seq, o.body, " key " "
#define TX_FROM_T(index)                                                       \
  "FROM transition_executions t INDEXED BY " index " JOIN objects o ON "       \
  "o.seq = t.seq WHERE t.org_id = ?1 AND t.transition_id = ?2 "
#define TX_FROM_PARENT                                                         \
  "FROM objects o INDEXED BY objects_by_parent JOIN transition_executions t "  \
  "ON t.seq = o.seq WHERE o.org_id = ?1 AND o.kind = 'transition-execution' "  \
  "AND o.parent_id = ?2 "
#define TX_FROM_IDS                                                            \
  "FROM (SELECT DISTINCT value AS id FROM json_each(?6)) j CROSS JOIN "        \
  "objects o ON o.id = j.id CROSS JOIN transition_executions t ON t.seq = "    \
  "o.seq WHERE o.org_id = ?1 AND o.kind = 'transition-execution' AND "         \
  "t.transition_id = ?2 AND (?5 IS NULL OR t.status IN (SELECT value FROM "    \
  "json_each(?5))) "
#define TX_STATUS_IN "AND t.status IN (SELECT value FROM json_each(?5)) "
#define TX_BY_STATUS TX_FROM_T("transition_executions_by_status") TX_STATUS_IN
#define TX_SEQ(col, op, dir)                                                   \
  "AND " col " " op " ?4 ORDER BY " col " " dir " LIMIT ?7"
#define TX_KEY(key, op, dir)                                                   \
  "AND (" key ", t.seq) " op " (?3, ?4) ORDER BY " key " " dir ", t.seq " dir  \
  " LIMIT ?7"

enum { TX_NONE, TX_STATUSES, TX_IDS, TX_FILTERS };

static const char *const texec_page_sql[3][2][TX_FILTERS] =
    {
        [STORE_TEXEC_BY_CREATION] =
            {
                {
                    TX_SEL("o.seq") TX_FROM_PARENT TX_SEQ("o.seq", ">", "ASC"),
                    TX_SEL("t.seq") TX_BY_STATUS TX_SEQ("t.seq", ">", "ASC"),
                    TX_SEL("t.seq") TX_FROM_IDS TX_SEQ("t.seq", ">", "ASC"),
                },
                {
                    TX_SEL("o.seq") TX_FROM_PARENT TX_SEQ("o.seq", "<", "DESC"),
                    TX_SEL("t.seq") TX_BY_STATUS TX_SEQ("t.seq", "<", "DESC"),
                    TX_SEL("t.seq") TX_FROM_IDS TX_SEQ("t.seq", "<", "DESC"),
                },
            },
        [STORE_TEXEC_BY_START] =
            {
                {
                    TX_SEL("t.start_us")
                        TX_FROM_T("transition_executions_by_start")
                            TX_KEY("t.start_us", ">", "ASC"),
                    TX_SEL("t.start_us")
                        TX_BY_STATUS TX_KEY("t.start_us", ">", "ASC"),
                    TX_SEL("t.start_us")
                        TX_FROM_IDS TX_KEY("t.start_us", ">", "ASC"),
                },
                {
                    TX_SEL("t.start_us")
                        TX_FROM_T("transition_executions_by_start")
                            TX_KEY("t.start_us", "<", "DESC"),
                    TX_SEL("t.start_us")
                        TX_BY_STATUS TX_KEY("t.start_us", "<", "DESC"),
                    TX_SEL("t.start_us")
                        TX_FROM_IDS TX_KEY("t.start_us", "<", "DESC"),
                },
            },
        [STORE_TEXEC_BY_END] =
            {
                {
                    TX_SEL("t.end_key")
                        TX_FROM_T("transition_executions_by_end")
                            TX_KEY("t.end_key", ">", "ASC"),
                    TX_SEL("t.end_key")
                        TX_BY_STATUS TX_KEY("t.end_key", ">", "ASC"),
                    TX_SEL("t.end_key")
                        TX_FROM_IDS TX_KEY("t.end_key", ">", "ASC"),
                },
                {
                    TX_SEL("t.end_key")
                        TX_FROM_T("transition_executions_by_end")
                            TX_KEY("t.end_key", "<", "DESC"),
                    TX_SEL("t.end_key")
                        TX_BY_STATUS TX_KEY("t.end_key", "<", "DESC"),
                    TX_SEL("t.end_key")
                        TX_FROM_IDS TX_KEY("t.end_key", "<", "DESC"),
                },
            },
};

static bool texec_running_key(int64_t end_key) {
  return end_key == INT64_MAX;
}

store_status store_texec_insert(store *s, const char *org_id, const char *id,
                                const json_t *body, const store_texec *row) {
  store_obj_key key = {STORE_TEXEC_KIND, org_id, id};
  store_status st = store_obj_insert(s, &key, row->transition_id, NULL, body);
  if (st != STORE_ONE)
    return st;
  sqlite3_stmt *q = store_stmt_sql(s, texec_insert_sql);
  if (!q)
    return STORE_ERROR;
  store_bind_text(q, 1, id);
  store_bind_text(q, 2, org_id);
  store_bind_text(q, 3, row->transition_id);
  store_bind_text(q, 4, row->status);
  sqlite3_bind_int64(q, 5, row->start_us);
  sqlite3_bind_int64(q, 6, row->end_us < 0 ? INT64_MAX : row->end_us);
  sqlite3_bind_int64(q, 7, row->timeout_us);
  if (row->deadline_us >= 0)
    sqlite3_bind_int64(q, 8, row->deadline_us);
  store_bind_text(q, 9, row->workflow_id[0] ? row->workflow_id : NULL);
  store_bind_text(
      q, 10, row->workflow_execution_id[0] ? row->workflow_execution_id : NULL);
  return store_run(s, q, "transition execution insert");
}

store_status store_texec_get(store *s, const char *org_id, const char *id,
                             store_texec *out) {
  sqlite3_stmt *q = store_stmt_sql(s, texec_get_sql);
  if (!q)
    return STORE_ERROR;
  store_bind_text(q, 1, id);
  store_bind_text(q, 2, org_id);
  int rc = sqlite3_step(q);
  store_status r = STORE_NONE;
  if (rc == SQLITE_ROW) {
    store_copy_col(q, 0, out->transition_id, sizeof out->transition_id);
    store_copy_col(q, 1, out->status, sizeof out->status);
    out->start_us = sqlite3_column_int64(q, 2);
    int64_t end = sqlite3_column_int64(q, 3);
    out->end_us = texec_running_key(end) ? -1 : end;
    out->timeout_us = sqlite3_column_int64(q, 4);
    out->deadline_us = sqlite3_column_type(q, 5) == SQLITE_NULL
                           ? -1
                           : sqlite3_column_int64(q, 5);
    store_copy_col(q, 6, out->workflow_id, sizeof out->workflow_id);
    store_copy_col(q, 7, out->workflow_execution_id,
                   sizeof out->workflow_execution_id);
    out->detached = sqlite3_column_int(q, 8) != 0;
    r = STORE_ONE;
  } else if (rc != SQLITE_DONE) {
    r = store_fail(s, "transition execution get");
  }
  sqlite3_reset(q);
  return r;
}

/* Runs q: STORE_NONE when it changed no row. */
static store_status texec_run_changed(store *s, sqlite3_stmt *q,
                                      const char *what) {
  store_status st = store_run(s, q, what);
  if (st == STORE_ONE && sqlite3_changes(sqlite3_db_handle(q)) == 0)
    return STORE_NONE;
  return st;
}

static store_status texec_put_body(store *s, const char *org_id, const char *id,
                                   const json_t *body) {
  sqlite3_stmt *q = store_stmt_sql(s, texec_body_sql);
  char *text = store_dump(body);
  if (!q || !text) {
    free(text);
    return STORE_ERROR;
  }
  store_bind_text(q, 1, id);
  store_bind_text(q, 2, org_id);
  sqlite3_bind_text(q, 3, text, -1, free);
  return texec_run_changed(s, q, "transition execution body");
}

store_status store_texec_finish(store *s, const char *org_id, const char *id,
                                const json_t *body, const store_texec *row,
                                const char *result_json) {
  store_status st = texec_put_body(s, org_id, id, body);
  if (st != STORE_ONE)
    return st;
  sqlite3_stmt *q = store_stmt_sql(s, texec_finish_sql);
  if (!q)
    return STORE_ERROR;
  store_bind_text(q, 1, id);
  store_bind_text(q, 2, org_id);
  store_bind_text(q, 3, row->status);
  sqlite3_bind_int64(q, 4, row->end_us < 0 ? INT64_MAX : row->end_us);
  if (row->deadline_us >= 0)
    sqlite3_bind_int64(q, 5, row->deadline_us);
  store_bind_text(q, 6, result_json);
  return texec_run_changed(s, q, "transition execution finish");
}

store_status store_texec_set_start(store *s, const char *org_id, const char *id,
                                   const json_t *body, int64_t start_us) {
  store_status st = texec_put_body(s, org_id, id, body);
  if (st != STORE_ONE)
    return st;
  sqlite3_stmt *q = store_stmt_sql(s, texec_start_sql);
  if (!q)
    return STORE_ERROR;
  store_bind_text(q, 1, id);
  store_bind_text(q, 2, org_id);
  sqlite3_bind_int64(q, 3, start_us);
  return texec_run_changed(s, q, "transition execution start");
}

store_status store_texec_heartbeat(store *s, const char *org_id, const char *id,
                                   int64_t deadline_us) {
  sqlite3_stmt *q = store_stmt_sql(s, texec_heartbeat_sql);
  if (!q)
    return STORE_ERROR;
  store_bind_text(q, 1, id);
  store_bind_text(q, 2, org_id);
  sqlite3_bind_int64(q, 3, deadline_us);
  return texec_run_changed(s, q, "transition execution heartbeat");
}

store_status store_texec_detach(store *s, const char *org_id, const char *id) {
  sqlite3_stmt *q = store_stmt_sql(s, texec_detach_sql);
  if (!q)
    return STORE_ERROR;
  store_bind_text(q, 1, id);
  store_bind_text(q, 2, org_id);
  return texec_run_changed(s, q, "transition execution detach");
}

static int texec_filter(const store_texec_query *q) {
  if (q->ids)
    return TX_IDS;
  return q->statuses ? TX_STATUSES : TX_NONE;
}

static sqlite3_stmt *texec_page_stmt(store *s, const store_texec_query *q) {
  const char *sql =
      texec_page_sql[q->sort][q->descending ? 1 : 0][texec_filter(q)];
  sqlite3_stmt *st = store_stmt_sql(s, sql);
  if (!st)
    return NULL;
  store_bind_text(st, 1, q->org_id);
  store_bind_text(st, 2, q->transition_id);
  int64_t key = q->after_key, seq = q->after_seq;
  if (!q->has_after) {
    key = q->descending ? INT64_MAX : INT64_MIN;
    seq = q->descending ? INT64_MAX : INT64_MIN;
  }
  sqlite3_bind_int64(st, 3, key);
  sqlite3_bind_int64(st, 4, seq);
  char *statuses = q->statuses ? store_dump(q->statuses) : NULL;
  char *ids = q->ids ? store_dump(q->ids) : NULL;
  if (statuses)
    sqlite3_bind_text(st, 5, statuses, -1, free);
  if (ids)
    sqlite3_bind_text(st, 6, ids, -1, free);
  sqlite3_bind_int(st, 7, q->limit + 1);
  return st;
}

/* store_text_page.on_row of execution pages: seq (column 0) and the
 * sort key (column 2) of the last row taken. */
typedef struct {
  int64_t *last_seq;
  int64_t *last_key;
} texec_page_keys;

static void texec_page_row(sqlite3_stmt *st, void *arg) {
  texec_page_keys *k = arg;
  *k->last_seq = sqlite3_column_int64(st, 0);
  *k->last_key = sqlite3_column_int64(st, 2);
}

store_status store_texec_page_text(store *s, const store_texec_query *q,
                                   char **text, size_t *len, int64_t *last_key,
                                   int64_t *last_seq, bool *more) {
  sqlite3_stmt *st = texec_page_stmt(s, q);
  if (!st)
    return STORE_ERROR;
  *last_key = q->after_key;
  *last_seq = q->after_seq;
  texec_page_keys keys = {last_seq, last_key};
  store_text_page p = {.limit = q->limit,
                       .body_col = 1,
                       .on_row = texec_page_row,
                       .arg = &keys,
                       .what = "transition execution page"};
  return store_page_text(s, st, &p, text, len, more);
}

store_status store_texec_running(store *s, const char *org_id,
                                 const char *transition_id, json_t **ids) {
  sqlite3_stmt *q = store_stmt_sql(s, texec_running_sql);
  if (!q)
    return STORE_ERROR;
  store_bind_text(q, 1, org_id);
  store_bind_text(q, 2, transition_id);
  json_t *out = json_array();
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW)
    json_array_append_new(out,
                          json_string((const char *)sqlite3_column_text(q, 0)));
  store_status r =
      rc == SQLITE_DONE ? STORE_ONE : store_fail(s, "running executions");
  sqlite3_reset(q);
  if (r != STORE_ONE) {
    json_decref(out);
    return r;
  }
  *ids = out;
  return STORE_ONE;
}

store_status store_texec_delete_all(store *s, const char *org_id,
                                    const char *transition_id) {
  sqlite3_stmt *q = store_stmt_sql(s, texec_delete_all_sql);
  if (!q)
    return STORE_ERROR;
  store_bind_text(q, 1, org_id);
  store_bind_text(q, 2, transition_id);
  return store_run(s, q, "transition executions delete");
}

store_status store_texec_page_plan(store *s, const store_texec_query *q,
                                   char *out, size_t len) {
  const char *sql =
      texec_page_sql[q->sort][q->descending ? 1 : 0][texec_filter(q)];
  return store_explain(s, sql, out, len);
}
