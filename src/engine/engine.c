#include "engine/engine.h"

#include "core/clock.h"
#include "core/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum { ENGINE_MAX_KINDS = 16 };

static struct {
  const char *kind;
  engine_job_fn fn;
} engine_kinds[ENGINE_MAX_KINDS];
static size_t engine_nkinds;

static pthread_t engine_thread;
static pthread_mutex_t engine_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t engine_cond;
static bool engine_running;
static bool engine_stopping;
static bool engine_woken;
static _Atomic int64_t engine_delay_us = 3000000;
/* Held while jobs run: by the engine thread and by engine_run_due_now. */
static pthread_mutex_t engine_jobs_lock = PTHREAD_MUTEX_INITIALIZER;

void engine_register(const char *kind, engine_job_fn fn) {
  if (engine_nkinds < ENGINE_MAX_KINDS) {
    engine_kinds[engine_nkinds].kind = kind;
    engine_kinds[engine_nkinds].fn = fn;
    engine_nkinds++;
  }
}

void engine_set_processing_delay_ms(unsigned ms) {
  atomic_store(&engine_delay_us, (int64_t)ms * 1000);
}

int64_t engine_processing_delay_us(void) { return atomic_load(&engine_delay_us); }

static engine_job_fn engine_handler(const char *kind) {
  for (size_t i = 0; i < engine_nkinds; i++)
    if (strcmp(engine_kinds[i].kind, kind) == 0)
      return engine_kinds[i].fn;
  return NULL;
}

typedef struct {
  const store_job *job;
  engine_job_fn fn;
  bool drop_only;
} engine_tx;

static store_status engine_run_tx(store *s, void *arg) {
  engine_tx *tx = arg;
  store_status st = STORE_ONE;
  if (!tx->drop_only)
    st = tx->fn(s, tx->job, clock_now_us());
  if (st != STORE_ONE)
    return st;
  return store_job_delete(s, tx->job->id);
}

static void engine_run_job(const store_job *job) {
  engine_tx tx = {job, engine_handler(job->kind), false};
  store_status st = STORE_ERROR;
  if (tx.fn)
    st = store_write_tx(engine_run_tx, &tx);
  if (st == STORE_ONE)
    return;
  log_msg(LOG_WARN, "engine: job %lld (%s %s) failed; dropped",
          (long long)job->id, job->kind, job->target_id);
  tx.drop_only = true;
  store_write_tx(engine_run_tx, &tx);
}

/* Runs every job that is due, at most limit (0: no limit); returns the
 * number run, -1 when the store failed. The caller holds engine_jobs_lock:
 * a job is read and then run, so two threads draining at once could both
 * read the same job. */
static long engine_drain(store *s, size_t limit, bool *more) {
  store_job job;
  long ran = 0;
  if (more)
    *more = false;
  for (;;) {
    store_status st = store_job_take_due(s, clock_now_us(), &job);
    if (st == STORE_NONE)
      return ran;
    if (st != STORE_ONE)
      return -1;
    if (limit && (size_t)ran == limit) {
      if (more)
        *more = true;
      return ran;
    }
    engine_run_job(&job);
    ran++;
  }
}

long engine_run_due_now(size_t limit, bool *more) {
  store *s = store_thread();
  if (!s)
    return -1;
  pthread_mutex_lock(&engine_jobs_lock);
  long ran = engine_drain(s, limit, more);
  pthread_mutex_unlock(&engine_jobs_lock);
  engine_wake();
  return ran;
}

void engine_hold(void) {
  pthread_mutex_lock(&engine_jobs_lock);
}

void engine_release(void) {
  pthread_mutex_unlock(&engine_jobs_lock);
  engine_wake();
}

static void *engine_main(void *arg) {
  (void)arg;
  store *s = store_thread();
  pthread_mutex_lock(&engine_lock);
  while (!engine_stopping) {
    engine_woken = false;
    pthread_mutex_unlock(&engine_lock);

    int64_t next = 0;
    store_status st = STORE_ERROR;
    pthread_mutex_lock(&engine_jobs_lock);
    bool drained = s && engine_drain(s, 0, NULL) >= 0;
    pthread_mutex_unlock(&engine_jobs_lock);
    if (drained)
      st = store_job_next_due(s, &next);
    if (st != STORE_ONE && st != STORE_NONE) {
      log_msg(LOG_ERROR, "engine: cannot read the job table; retrying in 1 s");
      next = clock_now_us() + 1000000;
      st = STORE_ONE;
    }

    pthread_mutex_lock(&engine_lock);
    if (engine_woken || engine_stopping)
      continue;
    if (st == STORE_NONE) {
      pthread_cond_wait(&engine_cond, &engine_lock);
    } else {
      int64_t wait = next - clock_now_us();
      if (wait > 0) {
        struct timespec ts;
        clock_mono_deadline(wait, &ts);
        pthread_cond_timedwait(&engine_cond, &engine_lock, &ts);
      }
    }
  }
  pthread_mutex_unlock(&engine_lock);
  store_thread_release();
  return NULL;
}

bool engine_start(char *err, size_t errlen) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&engine_cond, &attr);
  pthread_condattr_destroy(&attr);
  engine_stopping = false;
  if (pthread_create(&engine_thread, NULL, engine_main, NULL) != 0) {
    snprintf(err, errlen, "engine: cannot start its thread");
    return false;
  }
  /* Named so that tests and operators can find it in /proc. */
  pthread_setname_np(engine_thread, "las-engine");
  engine_running = true;
  return true;
}

void engine_wake(void) {
  pthread_mutex_lock(&engine_lock);
  engine_woken = true;
  pthread_cond_signal(&engine_cond);
  pthread_mutex_unlock(&engine_lock);
}

void engine_stop(void) {
  if (!engine_running)
    return;
  pthread_mutex_lock(&engine_lock);
  engine_stopping = true;
  pthread_cond_signal(&engine_cond);
  pthread_mutex_unlock(&engine_lock);
  pthread_join(engine_thread, NULL);
  pthread_cond_destroy(&engine_cond);
  engine_running = false;
}
