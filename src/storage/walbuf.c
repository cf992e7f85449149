/* See walbuf.h. SQLite writes a WAL frame as two pwrite calls (its 24-byte
 * header, then the page), so a commit of n pages costs 2n system calls, each
 * a few microseconds on a VM and all of them under the writer lock. This VFS
 * keeps the contiguous writes to a WAL file in a buffer and hands them to the
 * kernel in one write at the commit:
 *
 *   - a frame header whose "database size" field is not zero marks the
 *     commit frame; the buffer is written out right after that frame's page,
 *     before SQLite publishes the new frames in the wal-index, so readers and
 *     a kill -9 after COMMIT returned find them in the file;
 *   - as a safety net, the thread that buffered writes flushes them in its
 *     next xShmBarrier (SQLite calls it while publishing a wal-index header);
 *   - every other operation on the WAL file (read, sync, truncate, size,
 *     file control, close) and any write that does not continue the buffer
 *     writes the buffer out first, so the file is never seen out of order.
 *
 * Files other than WALs use the underlying VFS's methods untouched. */
#include "storage/walbuf.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The unix VFS writes at most 0x1ffff bytes per call (seekAndWriteFd masks
 * the size, and a larger write then fails as SQLITE_FULL), so the buffer
 * stays below that: 23 frames of 4 KB pages. */
enum {
  WALBUF_CAP = 96 * 1024, /* bytes buffered before a write regardless */
  WALBUF_HDR = 32,        /* WAL file header */
  WALBUF_FRAME_HDR = 24   /* frame header */
};

/* State of one open WAL file. Kept apart from the sqlite3_file (which
 * SQLite frees after xClose) and never freed, only reused: a thread's
 * pointer to the last one it buffered into can then never dangle. */
typedef struct walbuf_state {
  pthread_mutex_t lock;
  sqlite3_file *file; /* NULL while not open */
  const sqlite3_io_methods *real;
  unsigned char *buf;
  size_t len;
  sqlite3_int64 off; /* file offset of buf[0] */
  bool commit_next;  /* the last write was a commit frame's header */
  struct walbuf_state *next_free;
} walbuf_state;

/* The file as SQLite holds it: the underlying VFS's file first, so that
 * its methods work on it unchanged, then a pointer to our state. */
typedef struct {
  walbuf_state *st;
} walbuf_ext;

static sqlite3_vfs walbuf_vfs;
static sqlite3_vfs *walbuf_real;
/* The wrapped methods tables, made from the underlying VFS's tables for
 * WALs and for databases when first seen (a file whose table differs from
 * the first one seen is left unwrapped). */
static pthread_mutex_t walbuf_tables_lock = PTHREAD_MUTEX_INITIALIZER;
static sqlite3_io_methods walbuf_methods;
static const sqlite3_io_methods *walbuf_wal_real;
static sqlite3_io_methods walbuf_db_methods;
static const sqlite3_io_methods *walbuf_db_real;
static pthread_mutex_t walbuf_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static walbuf_state *walbuf_pool;
static _Thread_local walbuf_state *walbuf_mine;

static int walbuf_ext_offset(void) {
  return (walbuf_real->szOsFile + 15) & ~15;
}

static walbuf_state *walbuf_of(sqlite3_file *f) {
  return ((walbuf_ext *)((char *)f + walbuf_ext_offset()))->st;
}

/* Writes the buffer out; called with st->lock held. */
static int walbuf_flush_locked(walbuf_state *st) {
  if (st->len == 0 || !st->file)
    return SQLITE_OK;
  int rc = st->real->xWrite(st->file, st->buf, (int)st->len, st->off);
  st->len = 0;
  st->commit_next = false;
  return rc;
}

static int walbuf_flush(walbuf_state *st) {
  pthread_mutex_lock(&st->lock);
  int rc = walbuf_flush_locked(st);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

static int walbuf_write(sqlite3_file *f, const void *data, int amt,
                        sqlite3_int64 off) {
  walbuf_state *st = walbuf_of(f);
  int rc = SQLITE_OK;
  pthread_mutex_lock(&st->lock);
  size_t n = (size_t)amt;
  if (st->len &&
      (off != st->off + (sqlite3_int64)st->len || st->len + n > WALBUF_CAP))
    rc = walbuf_flush_locked(st);
  if (rc == SQLITE_OK && n > WALBUF_CAP) {
    rc = st->real->xWrite(f, data, amt, off);
  } else if (rc == SQLITE_OK) {
    if (st->len == 0)
      st->off = off;
    memcpy(st->buf + st->len, data, n);
    st->len += n;
    walbuf_mine = st;
    const unsigned char *p = data;
    if (n == WALBUF_FRAME_HDR && off >= WALBUF_HDR) {
      /* Bytes 4..7 of a frame header: the database size after a commit,
       * zero for other frames. */
      st->commit_next = (p[4] | p[5] | p[6] | p[7]) != 0;
    } else if (st->commit_next) {
      rc = walbuf_flush_locked(st);
      /* Written out: this thread's barriers need not look at it (a reader
       * flushing another transaction's frames early would only cost
       * batching). */
      walbuf_mine = NULL;
    }
  }
  pthread_mutex_unlock(&st->lock);
  return rc;
}

static int walbuf_close(sqlite3_file *f) {
  walbuf_state *st = walbuf_of(f);
  pthread_mutex_lock(&st->lock);
  walbuf_flush_locked(st);
  st->file = NULL;
  pthread_mutex_unlock(&st->lock);
  int rc = st->real->xClose(f);
  pthread_mutex_lock(&walbuf_pool_lock);
  st->next_free = walbuf_pool;
  walbuf_pool = st;
  pthread_mutex_unlock(&walbuf_pool_lock);
  return rc;
}

static int walbuf_read(sqlite3_file *f, void *data, int amt,
                       sqlite3_int64 off) {
  walbuf_state *st = walbuf_of(f);
  int rc = walbuf_flush(st);
  return rc == SQLITE_OK ? st->real->xRead(f, data, amt, off) : rc;
}

static int walbuf_truncate(sqlite3_file *f, sqlite3_int64 size) {
  walbuf_state *st = walbuf_of(f);
  int rc = walbuf_flush(st);
  return rc == SQLITE_OK ? st->real->xTruncate(f, size) : rc;
}

static int walbuf_sync(sqlite3_file *f, int flags) {
  walbuf_state *st = walbuf_of(f);
  int rc = walbuf_flush(st);
  return rc == SQLITE_OK ? st->real->xSync(f, flags) : rc;
}

static int walbuf_size(sqlite3_file *f, sqlite3_int64 *size) {
  walbuf_state *st = walbuf_of(f);
  int rc = walbuf_flush(st);
  return rc == SQLITE_OK ? st->real->xFileSize(f, size) : rc;
}

static int walbuf_control(sqlite3_file *f, int op, void *arg) {
  walbuf_state *st = walbuf_of(f);
  int rc = walbuf_flush(st);
  return rc == SQLITE_OK ? st->real->xFileControl(f, op, arg) : rc;
}

static int walbuf_fetch(sqlite3_file *f, sqlite3_int64 off, int amt,
                        void **pp) {
  walbuf_state *st = walbuf_of(f);
  int rc = walbuf_flush(st);
  return rc == SQLITE_OK ? st->real->xFetch(f, off, amt, pp) : rc;
}

/* Installed on the files that are not WALs (the database): the safety net
 * of the header comment. */
static void walbuf_barrier(sqlite3_file *f) {
  walbuf_state *st = walbuf_mine;
  if (st) {
    walbuf_mine = NULL;
    walbuf_flush(st);
  }
  walbuf_db_real->xShmBarrier(f);
}

static walbuf_state *walbuf_state_new(void) {
  pthread_mutex_lock(&walbuf_pool_lock);
  walbuf_state *st = walbuf_pool;
  if (st)
    walbuf_pool = st->next_free;
  pthread_mutex_unlock(&walbuf_pool_lock);
  if (st)
    return st;
  st = calloc(1, sizeof *st);
  if (!st)
    return NULL;
  st->buf = malloc(WALBUF_CAP);
  if (!st->buf) {
    free(st);
    return NULL;
  }
  pthread_mutex_init(&st->lock, NULL);
  return st;
}

static int walbuf_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f,
                       int flags, int *out_flags) {
  (void)vfs;
  walbuf_ext *ext = (walbuf_ext *)((char *)f + walbuf_ext_offset());
  ext->st = NULL;
  walbuf_state *st = NULL;
  if (flags & SQLITE_OPEN_WAL) {
    st = walbuf_state_new();
    if (!st)
      return SQLITE_NOMEM;
  }
  int rc = walbuf_real->xOpen(walbuf_real, name, f, flags, out_flags);
  if (rc != SQLITE_OK || !f->pMethods) {
    if (st) {
      pthread_mutex_lock(&walbuf_pool_lock);
      st->next_free = walbuf_pool;
      walbuf_pool = st;
      pthread_mutex_unlock(&walbuf_pool_lock);
    }
    return rc;
  }
  bool wrap = false;
  pthread_mutex_lock(&walbuf_tables_lock);
  if (st) {
    if (!walbuf_wal_real) {
      walbuf_wal_real = f->pMethods;
      walbuf_methods = *f->pMethods;
      walbuf_methods.xClose = walbuf_close;
      walbuf_methods.xRead = walbuf_read;
      walbuf_methods.xWrite = walbuf_write;
      walbuf_methods.xTruncate = walbuf_truncate;
      walbuf_methods.xSync = walbuf_sync;
      walbuf_methods.xFileSize = walbuf_size;
      walbuf_methods.xFileControl = walbuf_control;
      if (walbuf_methods.iVersion >= 3 && walbuf_methods.xFetch)
        walbuf_methods.xFetch = walbuf_fetch;
    }
    wrap = f->pMethods == walbuf_wal_real;
  } else if (flags & SQLITE_OPEN_MAIN_DB) {
    if (!walbuf_db_real && f->pMethods->iVersion >= 2 &&
        f->pMethods->xShmBarrier) {
      walbuf_db_real = f->pMethods;
      walbuf_db_methods = *f->pMethods;
      walbuf_db_methods.xShmBarrier = walbuf_barrier;
    }
    wrap = f->pMethods == walbuf_db_real;
  }
  pthread_mutex_unlock(&walbuf_tables_lock);
  if (st && wrap) {
    pthread_mutex_lock(&st->lock);
    st->file = f;
    st->real = f->pMethods;
    st->len = 0;
    st->commit_next = false;
    pthread_mutex_unlock(&st->lock);
    ext->st = st;
    f->pMethods = &walbuf_methods;
  } else if (st) {
    pthread_mutex_lock(&walbuf_pool_lock);
    st->next_free = walbuf_pool;
    walbuf_pool = st;
    pthread_mutex_unlock(&walbuf_pool_lock);
  } else if (wrap) {
    f->pMethods = &walbuf_db_methods;
  }
  return rc;
}

static pthread_once_t walbuf_once = PTHREAD_ONCE_INIT;
static bool walbuf_ok;

static void walbuf_init(void) {
  walbuf_real = sqlite3_vfs_find(NULL);
  if (!walbuf_real)
    return;
  walbuf_vfs = *walbuf_real;
  walbuf_vfs.zName = "las-walbuf";
  walbuf_vfs.szOsFile = walbuf_ext_offset() + (int)sizeof(walbuf_ext);
  walbuf_vfs.xOpen = walbuf_open;
  walbuf_vfs.pNext = NULL;
  walbuf_ok = sqlite3_vfs_register(&walbuf_vfs, 1) == SQLITE_OK;
}

bool walbuf_install(void) {
  pthread_once(&walbuf_once, walbuf_init);
  return walbuf_ok;
}
