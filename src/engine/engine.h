/* The background engine: one thread with its own SQLite connection that runs
 * the jobs of the durable job table (store_job_*) when they fall due. It
 * sleeps until the next due job or until engine_wake(); it never polls. Time
 * comes only from the clock module. */
#ifndef LAS_ENGINE_ENGINE_H
#define LAS_ENGINE_ENGINE_H

#include "storage/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Runs one job inside a write transaction (s is the writer connection).
 * STORE_ONE commits; anything else rolls back and the job is dropped with a
 * log line (a job that cannot run now will not run later either). */
typedef store_status (*engine_job_fn)(store *s, const store_job *job,
                                      int64_t now_us);

/* Registers the handler of a job kind; call before engine_start. */
void engine_register(const char *kind, engine_job_fn fn);

/* How long simulated processing (data bundles, later executions) takes. */
void engine_set_processing_delay_ms(unsigned ms);
int64_t engine_processing_delay_us(void);

bool engine_start(char *err, size_t errlen);
/* Asks the engine to look at the job table again. Cheap; any thread. */
void engine_wake(void);

/* Runs on the calling thread, before it returns, every job due by the
 * clock module's now, and the jobs those schedule that are due already, up
 * to limit jobs; then wakes the engine thread so that it recomputes its
 * sleep (for after clock_shift_us). Jobs never run on two threads at once:
 * this waits while the engine thread runs jobs, and the engine thread
 * waits while this does, so no job runs twice. Call it outside any
 * transaction (jobs open their own) and never from a job handler (the
 * lock is not recursive), from any thread with a store connection; the
 * engine thread need not be running. Returns the number of
 * jobs run, -1 when the store failed; *more (may be NULL) tells whether
 * jobs were still due when limit stopped it. */
long engine_run_due_now(size_t limit, bool *more);
/* Holds off every job run (the engine thread's and engine_run_due_now's)
 * until engine_release, which then wakes the engine so that it recomputes
 * its sleep: a reset or restore replaces the job table between a job's
 * read and its run otherwise. Waits for a job in progress; not from a job
 * handler, and not around engine_run_due_now. */
void engine_hold(void);
void engine_release(void);
/* Stops and joins the thread; a job in progress finishes first. */
void engine_stop(void);

#endif
