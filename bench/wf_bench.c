/* wf_bench: workflow executions started over HTTP and run to an end.
 *
 * Usage: wf_bench PORT WORKFLOW_ID TOKEN API_KEY CONNECTIONS SECONDS
 *                 [WARMUP_SECONDS [POLL_US]]
 *
 * Each of CONNECTIONS threads keeps one HTTP/1.1 connection to
 * 127.0.0.1:PORT and loops: POST /workflows/WORKFLOW_ID/executions with
 * {"input": {...}}, then GET /workflows/WORKFLOW_ID/executions/{id} every
 * POLL_US microseconds (default 1000) until its status is no longer
 * running. The latency of an execution is from just before its POST is
 * written to the arrival of the first GET that shows it ended. Executions
 * that end during the measured SECONDS (after WARMUP_SECONDS of the same
 * load, not counted) are counted; prints one line:
 *   executions=N rate=R p50_ms=A p99_ms=B not_succeeded=K errors=E polls=P
 * Exits 1 when nothing could be measured.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static unsigned port;
static const char *workflow, *token, *api_key;
static long long t_start, t_measure, t_end;
static long poll_us = 1000;
static atomic_long polls, errors, not_succeeded;

typedef struct {
  long long *lat; /* microseconds, measured executions */
  size_t n, cap;
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
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* One request and its whole answer (Content-Length framed) into buf; the
 * status, or -1. */
static int exchange(int fd, const char *req, size_t len, char *buf, size_t cap,
                    char **body) {
  size_t off = 0;
  while (off < len) {
    ssize_t n = write(fd, req + off, len - off);
    if (n <= 0)
      return -1;
    off += (size_t)n;
  }
  size_t got = 0;
  long clen = -1;
  char *head_end = NULL;
  for (;;) {
    if (got + 1 >= cap)
      return -1;
    ssize_t n = read(fd, buf + got, cap - 1 - got);
    if (n <= 0)
      return -1;
    got += (size_t)n;
    buf[got] = '\0';
    if (!head_end && (head_end = strstr(buf, "\r\n\r\n")) != NULL) {
      const char *cl = strcasestr(buf, "\r\nContent-Length:");
      if (!cl || cl > head_end)
        return -1;
      clen = strtol(cl + 17, NULL, 10);
    }
    if (head_end && (long)(got - (size_t)(head_end + 4 - buf)) >= clen)
      break;
  }
  *body = head_end + 4;
  return atoi(buf + 9);
}

static const char *find_str(const char *body, const char *key, char *out,
                            size_t cap) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":\"", key);
  const char *p = strstr(body, pat);
  if (!p)
    return NULL;
  p += strlen(pat);
  const char *e = strchr(p, '"');
  if (!e || (size_t)(e - p) >= cap)
    return NULL;
  memcpy(out, p, (size_t)(e - p));
  out[e - p] = '\0';
  return out;
}

static void *run(void *arg) {
  worker *w = arg;
  static const char body_json[] = "{\"input\":{\"documentId\":\"las:document:"
                                  "0123456789abcdef0123456789abcdef\","
                                  "\"n\":1}}";
  char post[2048], get[1024];
  int plen =
      snprintf(post, sizeof post,
               "POST /workflows/%s/executions HTTP/1.1\r\n"
               "Host: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
               "x-api-key: %s\r\nContent-Type: application/json\r\n"
               "Content-Length: %zu\r\n\r\n%s",
               workflow, token, api_key, sizeof body_json - 1, body_json);
  size_t cap = 1 << 20;
  char *buf = malloc(cap);
  int fd = dial();
  while (buf && now_us() < t_end) {
    if (fd < 0) {
      atomic_fetch_add(&errors, 1);
      usleep(10000);
      fd = dial();
      continue;
    }
    char *body = NULL, id[128];
    long long t0 = now_us();
    int st = exchange(fd, post, (size_t)plen, buf, cap, &body);
    if (st != 200 || !find_str(body, "executionId", id, sizeof id)) {
      atomic_fetch_add(&errors, 1);
      close(fd);
      fd = dial();
      continue;
    }
    int glen = snprintf(get, sizeof get,
                        "GET /workflows/%s/executions/%s HTTP/1.1\r\n"
                        "Host: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                        "x-api-key: %s\r\n\r\n",
                        workflow, id, token, api_key);
    char status[32] = "running";
    while (strcmp(status, "running") == 0 || strcmp(status, "retry") == 0) {
      if (now_us() > t_end + 10000000LL)
        break;
      usleep((useconds_t)poll_us);
      st = exchange(fd, get, (size_t)glen, buf, cap, &body);
      atomic_fetch_add(&polls, 1);
      if (st != 200 || !find_str(body, "status", status, sizeof status)) {
        atomic_fetch_add(&errors, 1);
        break;
      }
    }
    long long t1 = now_us();
    if (t0 < t_measure || t1 > t_end)
      continue;
    if (strcmp(status, "succeeded") != 0) {
      atomic_fetch_add(&not_succeeded, 1);
      continue;
    }
    if (w->n == w->cap) {
      w->cap = w->cap ? w->cap * 2 : 4096;
      w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
    }
    w->lat[w->n++] = t1 - t0;
  }
  if (fd >= 0)
    close(fd);
  free(buf);
  return NULL;
}

static int cmp(const void *a, const void *b) {
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: wf_bench PORT WORKFLOW_ID TOKEN API_KEY "
                    "CONNECTIONS SECONDS [WARMUP_SECONDS [POLL_US]]\n");
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
  if (conns < 1 || secs < 1 || warm < 0)
    return 2;
  t_start = now_us();
  t_measure = t_start + warm * 1000000LL;
  t_end = t_measure + secs * 1000000LL;
  pthread_t *th = calloc((size_t)conns, sizeof *th);
  worker *ws = calloc((size_t)conns, sizeof *ws);
  for (int i = 0; i < conns; i++)
    pthread_create(&th[i], NULL, run, &ws[i]);
  size_t total = 0;
  for (int i = 0; i < conns; i++) {
    pthread_join(th[i], NULL);
    total += ws[i].n;
  }
  long long *all = malloc((total ? total : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; i < conns; i++) {
    memcpy(all + k, ws[i].lat, ws[i].n * sizeof *all);
    k += ws[i].n;
    free(ws[i].lat);
  }
  qsort(all, total, sizeof *all, cmp);
  double p50 = total ? (double)all[total / 2] / 1000.0 : 0;
  double p99 = total ? (double)all[(total * 99) / 100] / 1000.0 : 0;
  printf("executions=%zu rate=%.0f p50_ms=%.2f p99_ms=%.2f not_succeeded=%ld "
         "errors=%ld polls=%ld\n",
         total, (double)total / secs, p50, p99, atomic_load(&not_succeeded),
         atomic_load(&errors), atomic_load(&polls));
  free(all);
  free(th);
  free(ws);
  return total ? 0 : 1;
}
