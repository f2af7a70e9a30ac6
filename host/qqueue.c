/* qqueue: bounded multi-producer, single-consumer ring of quotes and link
 * events (feeds -> calib).  One mutex guards the ring and the counters; one
 * condition variable wakes the consumer.  Pushes copy in and never block:
 * overflow is dropped and counted.  All memory is taken in qq_new. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, pthread_condattr_setclock */
#include "qqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define QQ_MAX_CAP (1 << 24)

struct qqueue {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int cap;
  int head; /* next item to pop */
  int n;    /* items in the ring */
  int closed;
  int woken; /* qq_wake not yet consumed by a qq_wait */
  long n_dropped, n_pushed;
  struct qq_item *ring;
};

struct qqueue *qq_new(int cap)
{
  if (cap < 1 || cap > QQ_MAX_CAP)
    return NULL;
  struct qqueue *qq = calloc(1, sizeof(*qq));
  if (!qq)
    return NULL;
  qq->ring = malloc((size_t)cap * sizeof(*qq->ring));
  if (!qq->ring) {
    free(qq);
    return NULL;
  }
  qq->cap = cap;
  pthread_mutex_init(&qq->mu, NULL);
  /* CLOCK_MONOTONIC so that a wall-clock step cannot stretch a wait. */
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&qq->cv, &ca);
  pthread_condattr_destroy(&ca);
  return qq;
}

void qq_free(struct qqueue *qq)
{
  if (!qq)
    return;
  pthread_mutex_destroy(&qq->mu);
  pthread_cond_destroy(&qq->cv);
  free(qq->ring);
  free(qq);
}

/* Appends one item; the lock is held.  Returns 1 or 0 (dropped). */
static int push_locked(struct qqueue *qq, int kind, uint64_t trace_id, const struct quote *q)
{
  if (qq->closed || qq->n == qq->cap) {
    qq->n_dropped++;
    return 0;
  }
  struct qq_item *it = &qq->ring[(qq->head + qq->n) % qq->cap];
  it->kind = kind;
  it->trace_id = trace_id;
  it->q = *q;
  qq->n++;
  qq->n_pushed++;
  return 1;
}

int qq_push_quotes(struct qqueue *qq, const struct quote *q, int n, uint64_t trace_id)
{
  if (!qq || !q || n <= 0)
    return 0;
  int taken = 0;
  pthread_mutex_lock(&qq->mu);
  int was_empty = qq->n == 0;
  for (int i = 0; i < n; i++)
    taken += push_locked(qq, QQ_QUOTE, trace_id, &q[i]);
  if (taken && was_empty)
    pthread_cond_signal(&qq->cv);
  pthread_mutex_unlock(&qq->mu);
  return taken;
}

int qq_push_link(struct qqueue *qq, const char *venue, int kind, int64_t ts_us)
{
  if (!qq || !venue || kind < QQ_LINK_UP || kind > QQ_LINK_ALIVE)
    return 0;
  struct quote q;
  quote_init(&q);
  snprintf(q.venue, sizeof(q.venue), "%s", venue);
  q.ts_us = ts_us;
  q.local_ts_us = ts_us;
  pthread_mutex_lock(&qq->mu);
  int was_empty = qq->n == 0;
  int taken = push_locked(qq, kind, 0, &q);
  if (taken && was_empty)
    pthread_cond_signal(&qq->cv);
  pthread_mutex_unlock(&qq->mu);
  return taken;
}

/* Waits, the lock held, until an item, close, wake or wait_us passed. */
static void wait_locked(struct qqueue *qq, int64_t wait_us)
{
  if (qq->n > 0 || qq->closed || qq->woken || wait_us <= 0)
    return;
  struct timespec dl;
  clock_gettime(CLOCK_MONOTONIC, &dl);
  int64_t ns = dl.tv_nsec + (wait_us % 1000000) * 1000;
  dl.tv_sec += (time_t)(wait_us / 1000000 + ns / 1000000000);
  dl.tv_nsec = (long)(ns % 1000000000);
  while (qq->n == 0 && !qq->closed && !qq->woken)
    if (pthread_cond_timedwait(&qq->cv, &qq->mu, &dl) == ETIMEDOUT)
      break;
}

int qq_pop(struct qqueue *qq, struct qq_item *out, int max, int64_t wait_us)
{
  if (!qq || !out || max <= 0)
    return 0;
  pthread_mutex_lock(&qq->mu);
  wait_locked(qq, wait_us);
  int got = 0;
  if (!qq->closed) {
    while (got < max && qq->n > 0) {
      out[got++] = qq->ring[qq->head];
      qq->head = (qq->head + 1) % qq->cap;
      qq->n--;
    }
  }
  pthread_mutex_unlock(&qq->mu);
  return got;
}

int qq_wait(struct qqueue *qq, int64_t wait_us)
{
  if (!qq)
    return 0;
  pthread_mutex_lock(&qq->mu);
  wait_locked(qq, wait_us);
  qq->woken = 0;
  int ready = qq->n > 0 && !qq->closed;
  pthread_mutex_unlock(&qq->mu);
  return ready;
}

void qq_wake(struct qqueue *qq)
{
  if (!qq)
    return;
  pthread_mutex_lock(&qq->mu);
  qq->woken = 1;
  pthread_cond_broadcast(&qq->cv);
  pthread_mutex_unlock(&qq->mu);
}

void qq_close(struct qqueue *qq)
{
  if (!qq)
    return;
  pthread_mutex_lock(&qq->mu);
  qq->closed = 1;
  pthread_cond_broadcast(&qq->cv);
  pthread_mutex_unlock(&qq->mu);
}

int qq_depth(struct qqueue *qq)
{
  if (!qq)
    return 0;
  pthread_mutex_lock(&qq->mu);
  int n = qq->n;
  pthread_mutex_unlock(&qq->mu);
  return n;
}

long qq_n_dropped(struct qqueue *qq)
{
  if (!qq)
    return 0;
  pthread_mutex_lock(&qq->mu);
  long n = qq->n_dropped;
  pthread_mutex_unlock(&qq->mu);
  return n;
}

long qq_n_pushed(struct qqueue *qq)
{
  if (!qq)
    return 0;
  pthread_mutex_lock(&qq->mu);
  long n = qq->n_pushed;
  pthread_mutex_unlock(&qq->mu);
  return n;
}
