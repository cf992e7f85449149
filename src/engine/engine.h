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
/* Stops and joins the thread; a job in progress finishes first. */
void engine_stop(void);

#endif
