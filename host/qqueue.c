/* qqueue: bounded multi-producer / single-consumer queue of quotes and link
 * events (contract in qqueue.h).  A ring of cap items under one mutex; the
 * consumer waits on one condition variable.  Pushes never block: what does
 * not fit is dropped and counted.
 *
 * Placeholder written on the feedconn branch so that the connectors can be
 * built and tested before the service helper's qqueue.c lands; the
 * coordinator keeps one of the two. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "qqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct qqueue {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct qq_item *items;
  int cap, head, n;
  int closed;
  long n_dropped, n_pushed;
};

struct qqueue *qq_new(int cap)
{
  if (cap <= 0 || cap > (1 << 24))
    return NULL;
  struct qqueue *qq = calloc(1, sizeof *qq);
  if (!qq)
    return NULL;
  qq->items = calloc((size_t)cap, sizeof *qq->items);
  if (!qq->items) {
    free(qq);
    return NULL;
  }
  qq->cap = cap;
  pthread_mutex_init(&qq->mu, NULL);
  pthread_cond_init(&qq->cv, NULL);
  return qq;
}

void qq_free(struct qqueue *qq)
{
  if (!qq)
    return;
  pthread_mutex_destroy(&qq->mu);
  pthread_cond_destroy(&qq->cv);
  free(qq->items);
  free(qq);
}

/* Appends one item; the caller holds the mutex.  Returns 1 or 0 (dropped). */
static int push_locked(struct qqueue *qq, int kind, uint64_t trace_id, const struct quote *q)
{
  if (qq->closed || qq->n == qq->cap) {
    qq->n_dropped++;
    return 0;
  }
  struct qq_item *it = &qq->items[(qq->head + qq->n) % qq->cap];
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
  for (int i = 0; i < n; i++)
    taken += push_locked(qq, QQ_QUOTE, trace_id, &q[i]);
  if (taken)
    pthread_cond_signal(&qq->cv);
  pthread_mutex_unlock(&qq->mu);
  return taken;
}

int qq_push_link(struct qqueue *qq, const char *venue, int kind, int64_t ts_us)
{
  if (!qq || !venue)
    return 0;
  struct quote q;
  quote_init(&q);
  strncpy(q.venue, venue, sizeof q.venue - 1);
  q.local_ts_us = ts_us;
  pthread_mutex_lock(&qq->mu);
  int ok = push_locked(qq, kind, 0, &q);
  if (ok)
    pthread_cond_signal(&qq->cv);
  pthread_mutex_unlock(&qq->mu);
  return ok;
}

int qq_pop(struct qqueue *qq, struct qq_item *out, int max, int64_t wait_us)
{
  if (!qq || !out || max <= 0)
    return 0;
  pthread_mutex_lock(&qq->mu);
  if (qq->n == 0 && !qq->closed && wait_us > 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + (wait_us % 1000000) * 1000;
    ts.tv_sec += (time_t)(wait_us / 1000000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    while (qq->n == 0 && !qq->closed) {
      if (pthread_cond_timedwait(&qq->cv, &qq->mu, &ts) == ETIMEDOUT)
        break;
    }
  }
  int k = 0;
  while (k < max && qq->n > 0) {
    out[k++] = qq->items[qq->head];
    qq->head = (qq->head + 1) % qq->cap;
    qq->n--;
  }
  pthread_mutex_unlock(&qq->mu);
  return k;
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
  pthread_mutex_lock(&qq->mu);
  int n = qq->n;
  pthread_mutex_unlock(&qq->mu);
  return n;
}

long qq_n_dropped(struct qqueue *qq)
{
  pthread_mutex_lock(&qq->mu);
  long n = qq->n_dropped;
  pthread_mutex_unlock(&qq->mu);
  return n;
}

long qq_n_pushed(struct qqueue *qq)
{
  pthread_mutex_lock(&qq->mu);
  long n = qq->n_pushed;
  pthread_mutex_unlock(&qq->mu);
  return n;
}
