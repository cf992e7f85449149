/* Canned prediction results in SQLite (see store_canned.h). */
#include "storage/store_canned.h"
#include "storage/store_internal.h"

#include <stdlib.h>

static const char canned_model_sql[] =
    "SELECT 1 FROM objects WHERE id = ?1 AND kind = 'model'";
static const char canned_push_sql[] =
    "INSERT INTO canned_predictions (model_id, result) VALUES (?1, ?2)";
static const char canned_head_sql[] =
    "SELECT seq, result FROM canned_predictions WHERE model_id = ?1 ORDER BY "
    "seq LIMIT 1";
static const char canned_delete_sql[] =
    "DELETE FROM canned_predictions WHERE seq = ?1";
static const char canned_list_sql[] =
    "SELECT result FROM canned_predictions WHERE model_id = ?1 ORDER BY seq";
static const char canned_count_sql[] =
    "SELECT count(*) FROM canned_predictions WHERE model_id = ?1";
static const char canned_clear_sql[] =
    "DELETE FROM canned_predictions WHERE model_id = ?1";
static const char canned_clear_all_sql[] = "DELETE FROM canned_predictions";

store_status store_canned_model_exists(store *s, const char *model_id) {
  return store_row_exists(s, canned_model_sql, model_id, "canned model");
}

store_status store_canned_push(store *s, const char *model_id,
                               const char *result) {
  sqlite3_stmt *st = store_stmt_sql(s, canned_push_sql);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, model_id);
  store_bind_text(st, 2, result);
  return store_run(s, st, "canned push");
}

store_status store_canned_take(store *s, const char *model_id, char **result) {
  sqlite3_stmt *st = store_stmt_sql(s, canned_head_sql);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, model_id);
  int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    store_status none =
        rc == SQLITE_DONE ? STORE_NONE : store_fail(s, "canned head");
    sqlite3_reset(st);
    return none;
  }
  sqlite3_int64 seq = sqlite3_column_int64(st, 0);
  size_t len = 0;
  store_status got = store_col_copy(st, 1, result, &len);
  sqlite3_reset(st);
  if (got != STORE_ONE)
    return got;
  sqlite3_stmt *del = store_stmt_sql(s, canned_delete_sql);
  store_status done = STORE_ERROR;
  if (del) {
    sqlite3_bind_int64(del, 1, seq);
    done = store_run(s, del, "canned take");
  }
  if (done != STORE_ONE) {
    free(*result);
    *result = NULL;
    /* A constraint cannot fail a delete: anything else is a failure. */
    return done == STORE_NONE ? STORE_ERROR : done;
  }
  return STORE_ONE;
}

store_status store_canned_list(store *s, const char *model_id, json_t **items) {
  sqlite3_stmt *st = store_stmt_sql(s, canned_list_sql);
  if (!st)
    return STORE_ERROR;
  store_bind_text(st, 1, model_id);
  json_t *out = json_array();
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const void *text = sqlite3_column_blob(st, 0);
    int len = sqlite3_column_bytes(st, 0);
    json_t *item = json_loadb(text, (size_t)len, 0, NULL);
    if (!item) {
      rc = SQLITE_CORRUPT;
      break;
    }
    json_array_append_new(out, item);
  }
  store_status result = STORE_ONE;
  if (rc == SQLITE_CORRUPT) {
    result = STORE_ERROR;
  } else if (rc != SQLITE_DONE) {
    result = store_fail(s, "canned list");
  }
  sqlite3_reset(st);
  if (result != STORE_ONE) {
    json_decref(out);
    return result;
  }
  *items = out;
  return STORE_ONE;
}

int64_t store_canned_count(store *s, const char *model_id) {
  sqlite3_stmt *st = store_stmt_sql(s, canned_count_sql);
  if (!st)
    return -1;
  store_bind_text(st, 1, model_id);
  int64_t n = -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    n = sqlite3_column_int64(st, 0);
  else
    store_fail(s, "canned count");
  sqlite3_reset(st);
  return n;
}

store_status store_canned_clear(store *s, const char *model_id, int64_t *n) {
  sqlite3_stmt *st =
      store_stmt_sql(s, model_id ? canned_clear_sql : canned_clear_all_sql);
  if (!st)
    return STORE_ERROR;
  if (model_id)
    store_bind_text(st, 1, model_id);
  store_status result = store_run(s, st, "canned clear");
  if (result == STORE_NONE)
    result = STORE_ERROR;
  if (n)
    *n = result == STORE_ONE ? sqlite3_changes64(sqlite3_db_handle(st)) : 0;
  return result;
}
