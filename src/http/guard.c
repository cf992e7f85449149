#include "http/guard.h"

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum {
  GC_IDLE, /* waiting for a request (or its first bytes) */
  GC_HEAD, /* a request head is arriving */
  GC_BODY, /* its body is arriving */
  GC_BUSY, /* being answered: no deadline of ours */
  GC_DEAD  /* cut off; waiting for libmicrohttpd to close it */
} gc_state;

/* Deadline lists. Every entry of one list got its deadline as "now + the
 * list's constant", under the shard's lock, so each list is a FIFO sorted by
 * deadline: adding and checking are O(1). */
enum { GL_IDLE, GL_HEAD, GL_BODY, GL_COUNT, GL_NONE = -1 };

typedef struct glink {
  struct guard_conn *prev, *next;
} glink;

typedef struct glist {
  struct guard_conn *head, *tail;
} glist;

struct guard_addr;
struct guard_shard;

struct guard_conn {
  guard *g;
  struct guard_shard *shard;
  struct guard_addr *addr;
  int fd;
  _Atomic int state; /* gc_state; DEAD is set at most once */
  /* Under the shard's lock: */
  int list;
  int64_t deadline_us;
  uint64_t bytes_seen; /* tcpi_bytes_received at the last look */
  bool baseline;       /* bytes_seen is valid */
  glink dl;            /* deadline list */
  /* Under addr_mu: */
  glink al; /* the address's connections, oldest first */
  glink gl; /* all connections, oldest first */
};

typedef struct guard_shard {
  pthread_mutex_t mu;
  glist lists[GL_COUNT];
} guard_shard;

enum { GUARD_ADDR_KEY = 16, GUARD_BUCKETS = 4096 };

typedef struct guard_addr {
  unsigned char key[GUARD_ADDR_KEY];
  size_t key_len;
  _Atomic unsigned live; /* connections not cut off */
  unsigned open;         /* registered connections (addr_mu) */
  glist conns;
  struct guard_addr *next; /* hash chain */
} guard_addr;

struct guard {
  guard_settings s;
  int64_t head_us, body_us;
  int64_t slack_us; /* due entries are taken together up to this late */
  guard_shard *shards;
  _Atomic unsigned next_shard;

  pthread_mutex_t addr_mu; /* connection start/close, limits, eviction */
  glist all;
  guard_addr *buckets[GUARD_BUCKETS];
  _Atomic unsigned live;

  pthread_mutex_t mu; /* the sweeper's sleep */
  pthread_cond_t cond;
  bool kick, stop;
  _Atomic int64_t next_wake; /* when the sweeper wakes; INT64_MAX: awake */
  pthread_t thread;
};

/* ---- intrusive lists ---- */

#define GLINK(c, off) ((glink *)(void *)((char *)(c) + (off)))

static void glist_push(glist *l, guard_conn *c, size_t off) {
  glink *k = GLINK(c, off);
  k->next = NULL;
  k->prev = l->tail;
  if (l->tail)
    GLINK(l->tail, off)->next = c;
  else
    l->head = c;
  l->tail = c;
}

static void glist_remove(glist *l, guard_conn *c, size_t off) {
  glink *k = GLINK(c, off);
  if (k->prev)
    GLINK(k->prev, off)->next = k->next;
  else
    l->head = k->next;
  if (k->next)
    GLINK(k->next, off)->prev = k->prev;
  else
    l->tail = k->prev;
  k->prev = k->next = NULL;
}

/* ---- deadlines ---- */

/* Moves conn to list (GL_NONE: none) with deadline at_us; the shard's lock
 * is held. True when the list was empty: the sweeper may sleep past it. */
static bool guard_set_list(guard_conn *c, int list, int64_t at_us) {
  guard_shard *sh = c->shard;
  if (c->list != GL_NONE)
    glist_remove(&sh->lists[c->list], c, offsetof(guard_conn, dl));
  c->list = list;
  if (list == GL_NONE)
    return false;
  bool was_empty = sh->lists[list].head == NULL;
  c->deadline_us = at_us;
  glist_push(&sh->lists[list], c, offsetof(guard_conn, dl));
  return was_empty;
}

/* Wakes the sweeper when it would sleep past at_us. */
static void guard_kick(guard *g, int64_t at_us) {
  if (at_us >= atomic_load(&g->next_wake))
    return;
  pthread_mutex_lock(&g->mu);
  g->kick = true;
  pthread_cond_signal(&g->cond);
  pthread_mutex_unlock(&g->mu);
}

/* Answers a canned JSON error on a socket libmicrohttpd is not writing to
 * (it is reading a request head or body, or has not started). Not on a TLS
 * listener: plain bytes there would be a broken TLS record, and the TLS
 * session is libmicrohttpd's; the socket is only shut down. */
static void guard_answer(const guard *g, int fd, err_code code, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));
static void guard_answer(const guard *g, int fd, err_code code, const char *fmt,
                         ...) {
  if (g->s.tls)
    return;
  char msg[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char body[256];
  int blen = snprintf(body, sizeof body, "{\"message\":\"%s\"}", msg);
  char buf[512];
  int n = snprintf(buf, sizeof buf,
                   "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
                   "Access-Control-Allow-Origin: *\r\nConnection: close\r\n"
                   "Content-Length: %d\r\n\r\n%s",
                   err_status(code), err_message(code), blen, body);
  if (n > 0 && (size_t)n < sizeof buf)
    (void)send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Marks conn cut off (once) and shuts its socket down; libmicrohttpd then
 * sees the end of the stream and closes it. The caller holds a lock that
 * keeps conn registered (addr_mu or its shard's), so fd is still its own. */
static bool guard_cut(guard_conn *c) {
  if (atomic_exchange(&c->state, GC_DEAD) == GC_DEAD)
    return false;
  atomic_fetch_sub(&c->g->live, 1);
  atomic_fetch_sub(&c->addr->live, 1);
  return true;
}

static void guard_shut(guard_conn *c) {
  (void)shutdown(c->fd, SHUT_RDWR);
}

static bool guard_bytes_received(int fd, uint64_t *out) {
  struct tcp_info ti;
  socklen_t len = sizeof ti;
  memset(&ti, 0, sizeof ti);
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
      len < offsetof(struct tcp_info, tcpi_bytes_received) +
                sizeof ti.tcpi_bytes_received)
    return false;
  *out = ti.tcpi_bytes_received;
  return true;
}

/* One due entry of a list; the shard's lock is held. */
static void guard_due(guard *g, guard_conn *c, int list, int64_t now) {
  if (atomic_load(&c->state) == GC_DEAD) {
    guard_set_list(c, GL_NONE, 0);
    return;
  }
  if (list == GL_IDLE) {
    uint64_t bytes = 0;
    if (!guard_bytes_received(c->fd, &bytes)) {
      /* Not TCP: only libmicrohttpd's idle timeout applies. */
      guard_set_list(c, GL_NONE, 0);
      return;
    }
    int idle = GC_IDLE;
    if (c->baseline && bytes != c->bytes_seen &&
        atomic_compare_exchange_strong(&c->state, &idle, GC_HEAD)) {
      /* A request started since the last look. (A failed exchange lost to
       * an eviction; the entry goes when it comes due again.) */
      guard_set_list(c, GL_HEAD, now + g->head_us);
      return;
    }
    c->baseline = true;
    c->bytes_seen = bytes;
    guard_set_list(c, GL_IDLE, now + g->head_us);
    return;
  }
  guard_set_list(c, GL_NONE, 0);
  if (!guard_cut(c))
    return;
  if (list == GL_HEAD)
    guard_answer(g, c->fd, ERR_REQUEST_TIMEOUT,
                 "request headers did not arrive within the header timeout "
                 "of %u ms",
                 g->s.header_timeout_ms);
  else
    guard_answer(g, c->fd, ERR_REQUEST_TIMEOUT,
                 "request body did not arrive within the body timeout of %u "
                 "ms",
                 g->s.body_timeout_ms);
  guard_shut(c);
}

static void *guard_sweeper(void *arg) {
  guard *g = arg;
  pthread_mutex_lock(&g->mu);
  while (!g->stop) {
    atomic_store(&g->next_wake, INT64_MAX);
    g->kick = false;
    pthread_mutex_unlock(&g->mu);

    int64_t next = INT64_MAX;
    for (unsigned i = 0; i < g->s.shards; i++) {
      guard_shard *sh = &g->shards[i];
      pthread_mutex_lock(&sh->mu);
      /* Read under the lock, as the workers do: deadlines stay in order. */
      int64_t now = clock_mono_us();
      for (int l = 0; l < GL_COUNT; l++) {
        guard_conn *c;
        while ((c = sh->lists[l].head) && c->deadline_us <= now)
          guard_due(g, c, l, now);
        if (c && c->deadline_us < next)
          next = c->deadline_us;
      }
      pthread_mutex_unlock(&sh->mu);
    }

    pthread_mutex_lock(&g->mu);
    atomic_store(&g->next_wake, next);
    if (g->kick || g->stop)
      continue;
    if (next == INT64_MAX) {
      pthread_cond_wait(&g->cond, &g->mu);
    } else {
      struct timespec ts;
      int64_t wait = next + g->slack_us - clock_mono_us();
      clock_mono_deadline(wait > 0 ? wait : 0, &ts);
      pthread_cond_timedwait(&g->cond, &g->mu, &ts);
    }
  }
  pthread_mutex_unlock(&g->mu);
  return NULL;
}

/* ---- addresses ---- */

static size_t guard_addr_key(const struct sockaddr *sa, unsigned char *key) {
  if (sa && sa->sa_family == AF_INET) {
    memcpy(key, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    return 4;
  }
  if (sa && sa->sa_family == AF_INET6) {
    const struct in6_addr *a =
        &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a)) {
      memcpy(key, a->s6_addr + 12, 4);
      return 4;
    }
    memcpy(key, a->s6_addr, 16);
    return 16;
  }
  return 0; /* unknown family: one shared entry */
}

static unsigned guard_addr_hash(const unsigned char *key, size_t len) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < len; i++)
    h = (h ^ key[i]) * 16777619u;
  return h % GUARD_BUCKETS;
}

/* Finds or makes the entry of an address; addr_mu is held. */
static guard_addr *guard_addr_get(guard *g, const unsigned char *key,
                                  size_t len) {
  unsigned b = guard_addr_hash(key, len);
  for (guard_addr *a = g->buckets[b]; a; a = a->next)
    if (a->key_len == len && memcmp(a->key, key, len) == 0)
      return a;
  guard_addr *a = calloc(1, sizeof *a);
  if (!a)
    return NULL;
  memcpy(a->key, key, len);
  a->key_len = len;
  a->next = g->buckets[b];
  g->buckets[b] = a;
  return a;
}

static void guard_addr_release(guard *g, guard_addr *a) {
  if (--a->open > 0)
    return;
  guard_addr **p = &g->buckets[guard_addr_hash(a->key, a->key_len)];
  while (*p != a)
    p = &(*p)->next;
  *p = a->next;
  free(a);
}

/* Cuts off the oldest idle connection of a list; addr_mu is held. */
static bool guard_evict_idle(glist *l, size_t off) {
  for (guard_conn *c = l->head; c; c = GLINK(c, off)->next) {
    int st = GC_IDLE;
    if (atomic_load(&c->state) == GC_IDLE &&
        atomic_compare_exchange_strong(&c->state, &st, GC_BUSY)) {
      /* Claimed from IDLE; now cut it. */
      guard_cut(c);
      guard_shut(c);
      return true;
    }
  }
  return false;
}

/* ---- the interface ---- */

static _Thread_local guard_shard *guard_tls_shard;
static _Thread_local const guard *guard_tls_owner;

guard_conn *guard_open(guard *g, int fd, const struct sockaddr *addr) {
  guard_conn *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  if (guard_tls_owner != g) {
    unsigned i = atomic_fetch_add(&g->next_shard, 1) % g->s.shards;
    guard_tls_shard = &g->shards[i];
    guard_tls_owner = g;
  }
  c->g = g;
  c->shard = guard_tls_shard;
  c->fd = fd;
  c->list = GL_NONE;
  atomic_store(&c->state, GC_IDLE);

  unsigned char key[GUARD_ADDR_KEY];
  size_t key_len = guard_addr_key(addr, key);
  const char *refused = NULL;
  pthread_mutex_lock(&g->addr_mu);
  c->addr = guard_addr_get(g, key, key_len);
  if (!c->addr) {
    pthread_mutex_unlock(&g->addr_mu);
    free(c);
    return NULL;
  }
  c->addr->open++;
  if (g->s.max_per_address &&
      atomic_load(&c->addr->live) >= g->s.max_per_address &&
      !guard_evict_idle(&c->addr->conns, offsetof(guard_conn, al)))
    refused = "this address";
  else if (atomic_load(&g->live) >= g->s.max_connections &&
           !guard_evict_idle(&g->all, offsetof(guard_conn, gl)))
    refused = "the server";
  glist_push(&c->addr->conns, c, offsetof(guard_conn, al));
  glist_push(&g->all, c, offsetof(guard_conn, gl));
  if (refused) {
    atomic_store(&c->state, GC_DEAD);
  } else {
    atomic_fetch_add(&g->live, 1);
    atomic_fetch_add(&c->addr->live, 1);
  }
  pthread_mutex_unlock(&g->addr_mu);

  if (refused) {
    /* libmicrohttpd has not read from the socket yet: it is ours to answer
     * on. */
    unsigned limit = strcmp(refused, "the server") == 0 ? g->s.max_connections
                                                        : g->s.max_per_address;
    guard_answer(g, fd, ERR_UNAVAILABLE,
                 "too many connections from %s (limit %u), none of them idle",
                 refused, limit);
    guard_shut(c);
    return c;
  }
  pthread_mutex_lock(&c->shard->mu);
  /* A new connection has received nothing yet that anyone has read. On a
   * TLS listener the handshake comes first and is no request: the first
   * look only takes the baseline, as on a kept-alive connection (a client
   * that connects ahead of its first request is not cut off). */
  c->baseline = !g->s.tls;
  c->bytes_seen = 0;
  int64_t at = clock_mono_us() + g->head_us;
  bool first = guard_set_list(c, GL_IDLE, at);
  pthread_mutex_unlock(&c->shard->mu);
  if (first)
    guard_kick(g, at);
  return c;
}

void guard_close(guard *g, guard_conn *c) {
  if (!c)
    return;
  pthread_mutex_lock(&g->addr_mu);
  glist_remove(&c->addr->conns, c, offsetof(guard_conn, al));
  glist_remove(&g->all, c, offsetof(guard_conn, gl));
  pthread_mutex_lock(&c->shard->mu);
  guard_set_list(c, GL_NONE, 0);
  guard_cut(c);
  pthread_mutex_unlock(&c->shard->mu);
  guard_addr_release(g, c->addr);
  pthread_mutex_unlock(&g->addr_mu);
  free(c);
}

/* Moves a live connection from its state to `to` with a deadline list. */
static bool guard_move(guard *g, guard_conn *c, gc_state to, int list,
                       int64_t span_us) {
  if (!c)
    return true;
  pthread_mutex_lock(&c->shard->mu);
  int st = atomic_load(&c->state);
  if (st == GC_DEAD) {
    pthread_mutex_unlock(&c->shard->mu);
    return false;
  }
  /* A lost race with an eviction (which claims IDLE first) reads DEAD
   * above; otherwise only this thread and the sweeper, under this lock,
   * change the state. */
  if (!atomic_compare_exchange_strong(&c->state, &st, (int)to)) {
    pthread_mutex_unlock(&c->shard->mu);
    return false;
  }
  int64_t at = list == GL_NONE ? 0 : clock_mono_us() + span_us;
  bool first = guard_set_list(c, list, at);
  if (list == GL_IDLE)
    c->baseline = false;
  pthread_mutex_unlock(&c->shard->mu);
  if (first)
    guard_kick(g, at);
  return true;
}

bool guard_head_done(guard *g, guard_conn *c, bool body_expected) {
  return body_expected ? guard_move(g, c, GC_BODY, GL_BODY, g->body_us)
                       : guard_move(g, c, GC_BUSY, GL_NONE, 0);
}

bool guard_body_done(guard *g, guard_conn *c) {
  if (c && atomic_load(&c->state) == GC_BUSY)
    return true;
  return guard_move(g, c, GC_BUSY, GL_NONE, 0);
}

void guard_idle(guard *g, guard_conn *c) {
  guard_move(g, c, GC_IDLE, GL_IDLE, g->head_us);
}

guard *guard_start(const guard_settings *settings, char *err, size_t errlen) {
  guard *g = calloc(1, sizeof *g);
  if (!g) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  g->s = *settings;
  if (g->s.shards == 0)
    g->s.shards = 1;
  g->head_us = (int64_t)g->s.header_timeout_ms * 1000;
  g->body_us = (int64_t)g->s.body_timeout_ms * 1000;
  /* Connections opened together fall due together: one wake-up for them
   * rather than one each, at a small cost in precision. */
  g->slack_us = (g->head_us < g->body_us ? g->head_us : g->body_us) / 16;
  if (g->slack_us > 250000)
    g->slack_us = 250000;
  g->shards = calloc(g->s.shards, sizeof *g->shards);
  if (!g->shards) {
    free(g);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  for (unsigned i = 0; i < g->s.shards; i++)
    pthread_mutex_init(&g->shards[i].mu, NULL);
  pthread_mutex_init(&g->addr_mu, NULL);
  pthread_mutex_init(&g->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&g->cond, &ca);
  pthread_condattr_destroy(&ca);
  atomic_store(&g->next_wake, INT64_MAX);
  if (pthread_create(&g->thread, NULL, guard_sweeper, g) != 0) {
    snprintf(err, errlen, "cannot start the connection guard thread");
    pthread_cond_destroy(&g->cond);
    free(g->shards);
    free(g);
    return NULL;
  }
  return g;
}

void guard_stop(guard *g) {
  if (!g)
    return;
  pthread_mutex_lock(&g->mu);
  g->stop = true;
  pthread_cond_signal(&g->cond);
  pthread_mutex_unlock(&g->mu);
  pthread_join(g->thread, NULL);
  for (unsigned i = 0; i < GUARD_BUCKETS; i++) {
    while (g->buckets[i]) {
      guard_addr *a = g->buckets[i];
      g->buckets[i] = a->next;
      free(a);
    }
  }
  for (unsigned i = 0; i < g->s.shards; i++)
    pthread_mutex_destroy(&g->shards[i].mu);
  pthread_mutex_destroy(&g->addr_mu);
  pthread_mutex_destroy(&g->mu);
  pthread_cond_destroy(&g->cond);
  free(g->shards);
  free(g);
}
