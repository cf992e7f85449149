/* Local programs run on behalf of the emulator (docker transitions in
 * command mode): one thread of its own forks them, reads their output and
 * reaps them, so that neither the engine thread nor request threads ever
 * wait for a child. Each child runs in its own process group with stdin
 * from /dev/null and stdout and stderr into one pipe, gets only the
 * environment it is given, inherits no other descriptor, and is killed
 * (SIGKILL) when the emulator's runner thread goes away. */
#ifndef LAS_ENGINE_RUNNER_H
#define LAS_ENGINE_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

/* How a child ended. */
typedef struct runner_exit {
  int status;        /* exit status 0..255, or -1 when killed by a signal */
  int signal;        /* the signal that killed it, or 0 */
  size_t dropped;    /* output bytes beyond RUNNER_OUTPUT_CAP, not delivered */
  bool spawn_failed; /* it never ran (fork failed, or it was killed first) */
} runner_exit;

/* Output kept per child; what comes after is counted in `dropped`. */
#define RUNNER_OUTPUT_CAP (64 * 1024)

/* Called on the runner thread with output of child `id` (its `tag` as
 * given to runner_spawn): the whole lines of each read as soon as they are
 * read; an unfinished line when it has waited 300 ms, and whatever is left
 * before the exit callback. */
typedef void (*runner_output_fn)(const char *id, const char *tag,
                                 const char *text, size_t len);
/* Called on the runner thread once per child, after its last output. */
typedef void (*runner_exit_fn)(const char *id, const char *tag,
                               const runner_exit *how);

/* Starts the runner thread. */
bool runner_start(runner_output_fn on_output, runner_exit_fn on_exit, char *err,
                  size_t errlen);
/* Queues a child: argv[0] is the program (a path), argv and envp are
 * NULL-terminated and copied. `id` names the child (runner_kill); `tag` is
 * handed back to the callbacks. false when the runner is not running or out
 * of memory. */
bool runner_spawn(const char *id, const char *tag, const char *const *argv,
                  const char *const *envp);
/* Kills child `id` and its process group with SIGKILL, if it runs (a queued
 * one is dropped and reported as killed). Any thread; never waits. */
void runner_kill(const char *id);
/* Kills every child, as runner_kill does each (a reset of the data). */
void runner_kill_every(void);
/* Kills every child, waits for them, stops the thread. No callbacks run
 * after this starts. */
void runner_stop(void);

#endif
