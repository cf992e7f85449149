/* The runner thread: forks children, polls their output pipes and pidfds,
 * reaps them. See runner.h. */
#include "engine/runner.h"

#include "core/clock.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
  RUNNER_FLUSH_US = 300000,
  RUNNER_READ = 16 * 1024,
};

typedef struct runner_child {
  struct runner_child *next;
  char *id;
  char *tag;
  char **argv; /* queued children only */
  char **envp;
  bool killed; /* runner_kill before it was forked */
  pid_t pid;
  int pidfd;
  int outfd;
  char *pending; /* output not yet delivered */
  size_t pending_len;
  size_t kept; /* bytes accepted so far (at most RUNNER_OUTPUT_CAP) */
  size_t dropped;
  int64_t pending_since; /* monotonic µs of the oldest undelivered byte */
} runner_child;

static pthread_mutex_t runner_lock = PTHREAD_MUTEX_INITIALIZER;
static runner_child *runner_queue;   /* waiting to be forked */
static runner_child *runner_running; /* forked, not yet reaped */
static pthread_t runner_thread;
static bool runner_started;
static _Atomic bool runner_stopping;
static int runner_wake_fd = -1;
static runner_output_fn runner_on_output;
static runner_exit_fn runner_on_exit;

static char **runner_copy_vec(const char *const *v) {
  size_t n = 0;
  while (v[n])
    n++;
  char **out = calloc(n + 1, sizeof *out);
  if (!out)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    out[i] = strdup(v[i]);
    if (!out[i]) {
      for (size_t j = 0; j < i; j++)
        free(out[j]);
      free(out);
      return NULL;
    }
  }
  return out;
}

static void runner_free_vec(char **v) {
  if (!v)
    return;
  for (char **p = v; *p; p++)
    free(*p);
  free(v);
}

static void runner_child_free(runner_child *c) {
  if (!c)
    return;
  free(c->id);
  free(c->tag);
  runner_free_vec(c->argv);
  runner_free_vec(c->envp);
  free(c->pending);
  if (c->pidfd >= 0)
    close(c->pidfd);
  if (c->outfd >= 0)
    close(c->outfd);
  free(c);
}

static void runner_wake(void) {
  uint64_t one = 1;
  if (runner_wake_fd >= 0 && write(runner_wake_fd, &one, sizeof one) < 0 &&
      errno != EAGAIN)
    log_msg(LOG_WARN, "runner: cannot wake the runner thread");
}

bool runner_spawn(const char *id, const char *tag, const char *const *argv,
                  const char *const *envp) {
  runner_child *c = calloc(1, sizeof *c);
  if (!c)
    return false;
  c->pidfd = c->outfd = -1;
  c->id = strdup(id);
  c->tag = strdup(tag ? tag : "");
  c->argv = runner_copy_vec(argv);
  c->envp = runner_copy_vec(envp);
  if (!c->id || !c->tag || !c->argv || !c->envp || !c->argv[0]) {
    runner_child_free(c);
    return false;
  }
  pthread_mutex_lock(&runner_lock);
  bool ok = runner_started && !runner_stopping;
  if (ok) {
    /* FIFO: children start in the order they were asked for. */
    runner_child **tail = &runner_queue;
    while (*tail)
      tail = &(*tail)->next;
    *tail = c;
  }
  pthread_mutex_unlock(&runner_lock);
  if (!ok) {
    runner_child_free(c);
    return false;
  }
  runner_wake();
  return true;
}

void runner_kill(const char *id) {
  pthread_mutex_lock(&runner_lock);
  for (runner_child *c = runner_queue; c; c = c->next)
    if (strcmp(c->id, id) == 0)
      c->killed = true;
  for (runner_child *c = runner_running; c; c = c->next) {
    if (strcmp(c->id, id) == 0 && c->pid > 0) {
      /* The group takes the shell's children too; the pid itself in case
       * the child has not made its group yet. */
      kill(-c->pid, SIGKILL);
      kill(c->pid, SIGKILL);
    }
  }
  pthread_mutex_unlock(&runner_lock);
}

void runner_kill_every(void) {
  pthread_mutex_lock(&runner_lock);
  for (runner_child *c = runner_queue; c; c = c->next)
    c->killed = true;
  for (runner_child *c = runner_running; c; c = c->next) {
    if (c->pid > 0) {
      kill(-c->pid, SIGKILL);
      kill(c->pid, SIGKILL);
    }
  }
  pthread_mutex_unlock(&runner_lock);
}

/* ---- on the runner thread ---- */

static int runner_pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  return (int)syscall(SYS_pidfd_open, pid, 0);
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void runner_exec_child(runner_child *c, int devnull, int out) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  /* The server blocks SIGINT/SIGTERM in every thread and ignores SIGPIPE;
   * a program must start with the defaults. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGPIPE, &dfl, NULL);
  if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
    _exit(127);
#ifdef SYS_close_range
  if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
#endif
  {
    long max = sysconf(_SC_OPEN_MAX);
    for (int fd = 3; fd < (max > 0 ? max : 1024); fd++)
      close(fd);
  }
  execve(c->argv[0], c->argv, c->envp);
  _exit(127);
}

static void runner_deliver(runner_child *c, bool all) {
  if (!c->pending_len)
    return;
  size_t n = c->pending_len;
  if (!all) {
    while (n > 0 && c->pending[n - 1] != '\n')
      n--;
    if (n == 0)
      return;
  }
  if (runner_on_output && !runner_stopping)
    runner_on_output(c->id, c->tag, c->pending, n);
  memmove(c->pending, c->pending + n, c->pending_len - n);
  c->pending_len -= n;
  c->pending_since = c->pending_len ? clock_mono_us() : 0;
}

static void runner_take(runner_child *c, const char *buf, size_t n) {
  size_t room = RUNNER_OUTPUT_CAP - c->kept;
  size_t keep = n < room ? n : room;
  c->dropped += n - keep;
  if (!keep)
    return;
  char *grown = realloc(c->pending, c->pending_len + keep);
  if (!grown) {
    c->dropped += keep;
    return;
  }
  c->pending = grown;
  memcpy(c->pending + c->pending_len, buf, keep);
  if (!c->pending_len)
    c->pending_since = clock_mono_us();
  c->pending_len += keep;
  c->kept += keep;
}

/* Reads what the pipe holds now; closes it at end of file or error. */
static void runner_read(runner_child *c) {
  char buf[RUNNER_READ];
  for (;;) {
    ssize_t n = read(c->outfd, buf, sizeof buf);
    if (n > 0) {
      runner_take(c, buf, (size_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    close(c->outfd);
    c->outfd = -1;
    return;
  }
}

static void runner_report(runner_child *c, const runner_exit *how) {
  runner_deliver(c, true);
  if (runner_on_exit && !runner_stopping)
    runner_on_exit(c->id, c->tag, how);
}

/* Forks one queued child (it is on neither list while this runs). */
static void runner_fork(runner_child *c) {
  runner_exit failed = {.status = -1, .signal = SIGKILL, .spawn_failed = true};
  if (c->killed) {
    runner_report(c, &failed);
    runner_child_free(c);
    return;
  }
  int pipefd[2] = {-1, -1};
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = -1;
  if (devnull >= 0 && pipe2(pipefd, O_CLOEXEC) == 0)
    pid = fork();
  if (pid == 0)
    runner_exec_child(c, devnull, pipefd[1]);
  if (devnull >= 0)
    close(devnull);
  if (pipefd[1] >= 0)
    close(pipefd[1]);
  if (pid < 0) {
    log_msg(LOG_WARN, "runner: cannot start %s: %s", c->argv[0],
            strerror(errno));
    if (pipefd[0] >= 0)
      close(pipefd[0]);
    failed.signal = 0;
    runner_report(c, &failed);
    runner_child_free(c);
    return;
  }
  setpgid(pid, pid); /* also in the child: whichever runs first */
  c->pid = pid;
  c->outfd = pipefd[0];
  fcntl(c->outfd, F_SETFL, fcntl(c->outfd, F_GETFL) | O_NONBLOCK);
  c->pidfd = runner_pidfd_open(pid);
  if (c->pidfd < 0) {
    /* Without a pidfd its end cannot be watched: stop it now. */
    log_msg(LOG_ERROR, "runner: pidfd_open: %s", strerror(errno));
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    runner_report(c, &failed);
    runner_child_free(c);
    return;
  }
  runner_free_vec(c->argv);
  runner_free_vec(c->envp);
  c->argv = c->envp = NULL;
  pthread_mutex_lock(&runner_lock);
  c->next = runner_running;
  runner_running = c;
  pthread_mutex_unlock(&runner_lock);
}

/* The child's pidfd is readable: it has ended. Reaped and unlinked under
 * the lock, so that runner_kill never signals a pid the system may have
 * given to another process since. */
static void runner_reap(runner_child *c) {
  int wstatus = 0;
  pid_t r;
  pthread_mutex_lock(&runner_lock);
  do
    r = waitpid(c->pid, &wstatus, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r != 0) {
    for (runner_child **p = &runner_running; *p; p = &(*p)->next) {
      if (*p == c) {
        *p = c->next;
        break;
      }
    }
  }
  pthread_mutex_unlock(&runner_lock);
  if (r == 0)
    return; /* not yet (spurious wake) */
  /* What it wrote before it ended is in the pipe; a grandchild that keeps
   * the pipe open does not hold the report back. */
  if (c->outfd >= 0)
    runner_read(c);
  runner_exit how = {.status = -1};
  if (r > 0 && WIFEXITED(wstatus))
    how.status = WEXITSTATUS(wstatus);
  else if (r > 0 && WIFSIGNALED(wstatus))
    how.signal = WTERMSIG(wstatus);
  how.dropped = c->dropped;
  runner_report(c, &how);
  runner_child_free(c);
}

static void runner_take_queue(void) {
  for (;;) {
    pthread_mutex_lock(&runner_lock);
    runner_child *c = runner_queue;
    if (c)
      runner_queue = c->next;
    pthread_mutex_unlock(&runner_lock);
    if (!c)
      return;
    c->next = NULL;
    runner_fork(c);
  }
}

static void runner_kill_all(void) {
  pthread_mutex_lock(&runner_lock);
  runner_child *queued = runner_queue;
  runner_queue = NULL;
  runner_child *running = runner_running;
  runner_running = NULL;
  pthread_mutex_unlock(&runner_lock);
  while (queued) {
    runner_child *next = queued->next;
    runner_child_free(queued);
    queued = next;
  }
  while (running) {
    runner_child *next = running->next;
    kill(-running->pid, SIGKILL);
    kill(running->pid, SIGKILL);
    while (waitpid(running->pid, NULL, 0) < 0 && errno == EINTR)
      ;
    runner_child_free(running);
    running = next;
  }
}

static void *runner_main(void *arg) {
  (void)arg;
  for (;;) {
    runner_take_queue();
    pthread_mutex_lock(&runner_lock);
    bool stopping = runner_stopping;
    size_t n = 0;
    for (runner_child *c = runner_running; c; c = c->next)
      n++;
    /* The list only changes on this thread (runner_kill reads it), so a
     * snapshot of the children stays valid until this thread changes it. */
    runner_child **kids = calloc(n ? n : 1, sizeof *kids);
    struct pollfd *fds = calloc(1 + 2 * n, sizeof *fds);
    size_t k = 0;
    for (runner_child *c = runner_running; c && kids; c = c->next)
      kids[k++] = c;
    pthread_mutex_unlock(&runner_lock);
    if (stopping || !kids || !fds) {
      free(kids);
      free(fds);
      if (stopping)
        break;
      log_msg(LOG_ERROR, "runner: out of memory; retrying");
      struct timespec ts = {0, 100000000};
      nanosleep(&ts, NULL);
      continue;
    }
    fds[0] = (struct pollfd){.fd = runner_wake_fd, .events = POLLIN};
    int64_t now = clock_mono_us(), wait_us = -1;
    for (size_t i = 0; i < n; i++) {
      runner_child *c = kids[i];
      fds[1 + 2 * i] = (struct pollfd){.fd = c->outfd, .events = POLLIN};
      fds[2 + 2 * i] = (struct pollfd){.fd = c->pidfd, .events = POLLIN};
      if (c->pending_len) {
        int64_t left = c->pending_since + RUNNER_FLUSH_US - now;
        left = left < 0 ? 0 : left;
        if (wait_us < 0 || left < wait_us)
          wait_us = left;
      }
    }
    /* Nothing pending: sleep until a child writes or ends, or work is
     * queued; no timer runs while nothing happens. */
    int timeout_ms = wait_us < 0 ? -1 : (int)((wait_us + 999) / 1000);
    int rc = poll(fds, 1 + 2 * n, timeout_ms);
    if (rc < 0 && errno != EINTR)
      log_msg(LOG_ERROR, "runner: poll: %s", strerror(errno));
    if (rc > 0 && (fds[0].revents & POLLIN)) {
      uint64_t v;
      if (read(runner_wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
        log_msg(LOG_WARN, "runner: wake read: %s", strerror(errno));
    }
    for (size_t i = 0; i < n; i++) {
      runner_child *c = kids[i];
      /* Whole lines go as soon as they are read, so that the log keeps
       * them in order with what the program did through the API; a line
       * still being written waits for its end, or RUNNER_FLUSH_US. */
      if (rc > 0 && c->outfd >= 0 && fds[1 + 2 * i].revents) {
        runner_read(c);
        runner_deliver(c, false);
      }
      if (c->pending_len &&
          clock_mono_us() - c->pending_since >= RUNNER_FLUSH_US)
        runner_deliver(c, true);
      if (rc > 0 && fds[2 + 2 * i].revents)
        runner_reap(c); /* may free c */
    }
    free(kids);
    free(fds);
  }
  runner_kill_all();
  return NULL;
}

bool runner_start(runner_output_fn on_output, runner_exit_fn on_exit, char *err,
                  size_t errlen) {
  if (runner_started)
    return true;
  runner_on_output = on_output;
  runner_on_exit = on_exit;
  runner_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (runner_wake_fd < 0) {
    snprintf(err, errlen, "runner: eventfd: %s", strerror(errno));
    return false;
  }
  runner_stopping = false;
  if (pthread_create(&runner_thread, NULL, runner_main, NULL) != 0) {
    snprintf(err, errlen, "runner: cannot start its thread");
    close(runner_wake_fd);
    runner_wake_fd = -1;
    return false;
  }
  pthread_setname_np(runner_thread, "las-runner");
  pthread_mutex_lock(&runner_lock);
  runner_started = true;
  pthread_mutex_unlock(&runner_lock);
  return true;
}

void runner_stop(void) {
  pthread_mutex_lock(&runner_lock);
  bool started = runner_started;
  runner_stopping = true;
  pthread_mutex_unlock(&runner_lock);
  if (!started)
    return;
  runner_wake();
  pthread_join(runner_thread, NULL);
  close(runner_wake_fd);
  runner_wake_fd = -1;
  pthread_mutex_lock(&runner_lock);
  runner_started = false;
  pthread_mutex_unlock(&runner_lock);
}
