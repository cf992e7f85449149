/* wf_bench: workflow executions started over HTTP and run to an end.
 *
 * Usage: wf_bench PORT WORKFLOW_ID TOKEN API_KEY CONNECTIONS SECONDS
 *                 [WARMUP_SECONDS [POLL_US [THREADS]]]
 *
 * THREADS (default 2, like bench/run.sh's wrk) event loops (epoll) share
 * CONNECTIONS keep-alive HTTP/1.1 connections to 127.0.0.1:PORT. Each
 * connection loops: POST /workflows/WORKFLOW_ID/executions with a small
 * input, then GET /workflows/WORKFLOW_ID/executions/{id} until its status
 * is no longer running or retry (the first GET right after the POST's
 * answer, the next ones POLL_US microseconds apart, default 1000). The
 * latency of an execution is from just before its POST is sent to the
 * arrival of the GET that shows it ended. Executions that start after
 * WARMUP_SECONDS (default 1) and end within the SECONDS after it are
 * counted. Prints one line:
 *   executions=N rate=R p50_ms=A p99_ms=B not_succeeded=K errors=E polls=P
 * Exits 1 when nothing was measured.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { BUF = 1 << 16 };

static unsigned port;
static const char *workflow, *token, *api_key;
static long long t_measure, t_end;
static long poll_us = 1000;
static atomic_long polls, errors, not_succeeded;

typedef enum { C_POST, C_GET, C_PAUSE } conn_phase;

typedef struct conn {
  int fd;
  conn_phase phase;
  char out[2048];
  size_t out_len, out_off;
  char in[BUF];
  size_t in_len;
  char id[128];
  long long t0;      /* the POST's start */
  long long wake_at; /* C_PAUSE: when to poll again */
} conn;

typedef struct worker {
  conn *conns;
  int n;
  long long *lat;
  size_t nlat, cap;
} worker;

static long long now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int dial(void) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static const char body_json[] = "{\"input\":{\"documentId\":\"las:document:"
                                "0123456789abcdef0123456789abcdef\",\"n\":1}}";

static void prepare_post(conn *c) {
  c->out_len = (size_t)snprintf(
      c->out, sizeof c->out,
      "POST /workflows/%s/executions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer %s\r\nx-api-key: %s\r\n"
      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
      workflow, token, api_key, sizeof body_json - 1, body_json);
  c->out_off = 0;
  c->in_len = 0;
  c->phase = C_POST;
  c->t0 = now_us();
}

static void prepare_get(conn *c) {
  c->out_len = (size_t)snprintf(
      c->out, sizeof c->out,
      "GET /workflows/%s/executions/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Authorization: Bearer %s\r\nx-api-key: %s\r\n\r\n",
      workflow, c->id, token, api_key);
  c->out_off = 0;
  c->in_len = 0;
  c->phase = C_GET;
}

/* Writes what is pending; false on error. */
static bool flush_out(conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return true;
    if (n <= 0)
      return false;
    c->out_off += (size_t)n;
  }
  return true;
}

/* 1 when a whole answer is in c->in (*status, *body set), 0 when more is
 * needed, -1 on error. */
static int answer(conn *c, int *status, char **body) {
  c->in[c->in_len] = '\0';
  char *head_end = strstr(c->in, "\r\n\r\n");
  if (!head_end)
    return c->in_len + 1 >= BUF ? -1 : 0;
  const char *cl = strcasestr(c->in, "\r\nContent-Length:");
  if (!cl || cl > head_end)
    return -1;
  long clen = strtol(cl + 17, NULL, 10);
  size_t need = (size_t)(head_end + 4 - c->in) + (size_t)clen;
  if (need >= BUF)
    return -1;
  if (c->in_len < need)
    return 0;
  *status = atoi(c->in + 9);
  *body = head_end + 4;
  return 1;
}

static bool find_str(const char *body, const char *key, char *out, size_t cap) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  const char *p = strstr(body, pat);
  if (!p)
    return false;
  p += strlen(pat);
  const char *e = strchr(p, '"');
  if (!e || (size_t)(e - p) >= cap)
    return false;
  memcpy(out, p, (size_t)(e - p));
  out[e - p] = '\0';
  return true;
}

static void record(worker *w, conn *c, const char *status, long long t1) {
  if (c->t0 < t_measure || t1 > t_end)
    return;
  if (strcmp(status, "succeeded") != 0) {
    atomic_fetch_add(&not_succeeded, 1);
    return;
  }
  if (w->nlat == w->cap) {
    w->cap = w->cap ? w->cap * 2 : 4096;
    w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
  }
  w->lat[w->nlat++] = t1 - c->t0;
}

/* A whole answer arrived: the next request of the loop. */
static bool advance(worker *w, conn *c, int status, char *body) {
  if (c->phase == C_POST) {
    if (status != 200 || !find_str(body, "executionId", c->id, sizeof c->id))
      return false;
    prepare_get(c);
    return true;
  }
  char st[32];
  atomic_fetch_add(&polls, 1);
  if (status != 200 || !find_str(body, "status", st, sizeof st))
    return false;
  long long t1 = now_us();
  if (strcmp(st, "running") == 0 || strcmp(st, "retry") == 0) {
    if (t1 > t_end + 10000000LL)
      return false;
    c->phase = C_PAUSE;
    c->wake_at = t1 + poll_us;
    return true;
  }
  record(w, c, st, t1);
  prepare_post(c);
  return true;
}

static void reconnect(int ep, conn *c) {
  atomic_fetch_add(&errors, 1);
  if (c->fd >= 0) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
  }
  c->fd = dial();
  if (c->fd < 0) {
    usleep(10000);
    return;
  }
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET,
                           .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
  prepare_post(c);
}

static void *run(void *arg) {
  worker *w = arg;
  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < w->n; i++) {
    conn *c = &w->conns[i];
    c->fd = -1;
    reconnect(ep, c);
    atomic_fetch_sub(&errors, 1);
  }
  struct epoll_event evs[64];
  while (now_us() < t_end) {
    long long now = now_us(), next = now + 100000;
    for (int i = 0; i < w->n; i++) {
      conn *c = &w->conns[i];
      if (c->phase == C_PAUSE && c->wake_at <= now) {
        prepare_get(c);
        if (!flush_out(c))
          reconnect(ep, c);
      }
      if (c->phase == C_PAUSE && c->wake_at < next)
        next = c->wake_at;
      if (c->phase != C_PAUSE && c->out_off < c->out_len && !flush_out(c))
        reconnect(ep, c);
    }
    int timeout = (int)((next - now + 999) / 1000);
    int n = epoll_wait(ep, evs, 64, timeout < 0 ? 0 : timeout);
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
        reconnect(ep, c);
        continue;
      }
      if ((evs[i].events & EPOLLOUT) && !flush_out(c)) {
        reconnect(ep, c);
        continue;
      }
      if (!(evs[i].events & EPOLLIN))
        continue;
      for (;;) {
        ssize_t got = read(c->fd, c->in + c->in_len, BUF - 1 - c->in_len);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
          break;
        if (got <= 0) {
          reconnect(ep, c);
          break;
        }
        c->in_len += (size_t)got;
        int status = 0;
        char *body = NULL;
        int a = answer(c, &status, &body);
        if (a == 0)
          continue;
        if (a < 0 || !advance(w, c, status, body) ||
            (c->phase != C_PAUSE && !flush_out(c)))
          reconnect(ep, c);
        break;
      }
    }
  }
  for (int i = 0; i < w->n; i++)
    if (w->conns[i].fd >= 0)
      close(w->conns[i].fd);
  close(ep);
  return NULL;
}

static int cmp(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: wf_bench PORT WORKFLOW_ID TOKEN API_KEY "
                    "CONNECTIONS SECONDS [WARMUP_SECONDS [POLL_US "
                    "[THREADS]]]\n");
    return 2;
  }
  port = (unsigned)atoi(argv[1]);
  workflow = argv[2];
  token = argv[3];
  api_key = argv[4];
  int conns = atoi(argv[5]);
  int secs = atoi(argv[6]);
  int warm = argc > 7 ? atoi(argv[7]) : 1;
  if (argc > 8)
    poll_us = atol(argv[8]);
  int threads = argc > 9 ? atoi(argv[9]) : 2;
  if (conns < 1 || secs < 1 || warm < 0 || threads < 1 || poll_us < 0)
    return 2;
  if (threads > conns)
    threads = conns;
  t_measure = now_us() + warm * 1000000LL;
  t_end = t_measure + secs * 1000000LL;
  pthread_t *th = calloc((size_t)threads, sizeof *th);
  worker *ws = calloc((size_t)threads, sizeof *ws);
  conn *all_conns = calloc((size_t)conns, sizeof *all_conns);
  for (int i = 0, at = 0; i < threads; i++) {
    ws[i].n = conns / threads + (i < conns % threads);
    ws[i].conns = all_conns + at;
    at += ws[i].n;
    pthread_create(&th[i], NULL, run, &ws[i]);
  }
  size_t total = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(th[i], NULL);
    total += ws[i].nlat;
  }
  long long *lat = malloc((total ? total : 1) * sizeof *lat);
  size_t k = 0;
  for (int i = 0; i < threads; i++) {
    memcpy(lat + k, ws[i].lat, ws[i].nlat * sizeof *lat);
    k += ws[i].nlat;
    free(ws[i].lat);
  }
  qsort(lat, total, sizeof *lat, cmp);
  double p50 = total ? (double)lat[total / 2] / 1000.0 : 0;
  double p99 = total ? (double)lat[(total * 99) / 100] / 1000.0 : 0;
  printf("executions=%zu rate=%.0f p50_ms=%.2f p99_ms=%.2f not_succeeded=%ld "
         "errors=%ld polls=%ld\n",
         total, (double)total / secs, p50, p99, atomic_load(&not_succeeded),
         atomic_load(&errors), atomic_load(&polls));
  free(lat);
  free(all_conns);
  free(th);
  free(ws);
  return total ? 0 : 1;
}
