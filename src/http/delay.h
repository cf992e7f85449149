/* A timer thread for delayed answers (latency faults): the HTTP layer
 * suspends a connection and adds it here; at its due time the thread calls
 * `fire` with it (which resumes the connection), so no worker thread waits
 * out the delay. Independent of libmicrohttpd. */
#ifndef LAS_HTTP_DELAY_H
#define LAS_HTTP_DELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct delay_queue delay_queue;
typedef void (*delay_fire)(void *arg);

/* NULL with a reason in err when the thread cannot start. */
delay_queue *delay_start(delay_fire fire, char *err, size_t errlen);
/* Schedules fire(arg) at due_mono_us (clock_mono_us). False when the queue
 * is stopping or out of memory: then nothing will fire for arg. */
bool delay_add(delay_queue *q, void *arg, int64_t due_mono_us);
/* Fires everything still waiting at once and joins the thread; later
 * delay_add calls answer false. */
void delay_stop(delay_queue *q);
/* Frees a stopped queue. */
void delay_free(delay_queue *q);

#endif
