#include "http/delay.h"

#include "core/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct delay_item {
  int64_t due_us;
  void *arg;
} delay_item;

struct delay_queue {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  delay_fire fire;
  delay_item *heap; /* min-heap on due_us */
  size_t n, cap;
  bool stopping;
};

static void delay_swap(delay_item *a, delay_item *b) {
  delay_item t = *a;
  *a = *b;
  *b = t;
}

static void delay_push(delay_queue *q, delay_item it) {
  size_t i = q->n++;
  q->heap[i] = it;
  while (i > 0 && q->heap[(i - 1) / 2].due_us > q->heap[i].due_us) {
    delay_swap(&q->heap[(i - 1) / 2], &q->heap[i]);
    i = (i - 1) / 2;
  }
}

static delay_item delay_pop(delay_queue *q) {
  delay_item top = q->heap[0];
  q->heap[0] = q->heap[--q->n];
  size_t i = 0;
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < q->n && q->heap[l].due_us < q->heap[m].due_us)
      m = l;
    if (r < q->n && q->heap[r].due_us < q->heap[m].due_us)
      m = r;
    if (m == i)
      break;
    delay_swap(&q->heap[m], &q->heap[i]);
    i = m;
  }
  return top;
}

static void *delay_main(void *arg) {
  delay_queue *q = arg;
  pthread_mutex_lock(&q->mu);
  for (;;) {
    if (q->stopping && q->n == 0)
      break;
    if (q->n == 0) {
      pthread_cond_wait(&q->cond, &q->mu);
      continue;
    }
    int64_t now = clock_mono_us();
    if (!q->stopping && q->heap[0].due_us > now) {
      struct timespec ts;
      clock_mono_deadline(q->heap[0].due_us - now, &ts);
      pthread_cond_timedwait(&q->cond, &q->mu, &ts);
      continue;
    }
    delay_item it = delay_pop(q);
    /* fire may take the HTTP layer's locks: not under ours. */
    pthread_mutex_unlock(&q->mu);
    q->fire(it.arg);
    pthread_mutex_lock(&q->mu);
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

delay_queue *delay_start(delay_fire fire, char *err, size_t errlen) {
  delay_queue *q = calloc(1, sizeof *q);
  if (!q) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  q->fire = fire;
  pthread_mutex_init(&q->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&q->cond, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&q->thread, NULL, delay_main, q) != 0) {
    snprintf(err, errlen, "cannot start the delay thread");
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->mu);
    free(q);
    return NULL;
  }
  return q;
}

bool delay_add(delay_queue *q, void *arg, int64_t due_mono_us) {
  pthread_mutex_lock(&q->mu);
  if (q->stopping) {
    pthread_mutex_unlock(&q->mu);
    return false;
  }
  if (q->n == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 16;
    delay_item *grown = realloc(q->heap, cap * sizeof *grown);
    if (!grown) {
      pthread_mutex_unlock(&q->mu);
      return false;
    }
    q->heap = grown;
    q->cap = cap;
  }
  delay_push(q, (delay_item){due_mono_us, arg});
  pthread_cond_signal(&q->cond);
  pthread_mutex_unlock(&q->mu);
  return true;
}

void delay_stop(delay_queue *q) {
  if (!q)
    return;
  pthread_mutex_lock(&q->mu);
  bool joined = q->stopping;
  q->stopping = true;
  pthread_cond_signal(&q->cond);
  pthread_mutex_unlock(&q->mu);
  if (!joined)
    pthread_join(q->thread, NULL);
}

void delay_free(delay_queue *q) {
  if (!q)
    return;
  delay_stop(q);
  pthread_cond_destroy(&q->cond);
  pthread_mutex_destroy(&q->mu);
  free(q->heap);
  free(q);
}
