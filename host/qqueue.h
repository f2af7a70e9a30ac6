/* qqueue: the bounded queue of quotes and link events from the feeds (I/O
 * thread, or a replay/record thread) to the calibration worker.  The one
 * narrow interface between feeds/ and host/ at run time; later a Kafka topic
 * takes its place without either side changing.
 *
 * Items are copied in (the producer keeps its storage).  A push never blocks:
 * what does not fit is dropped and counted (the book keeps only the latest
 * quote per instrument, and venues resend, so a dropped quote delays that
 * instrument by one update; the drop count is a metric and an alarm).
 * Multi-producer, single-consumer; one mutex and one condition variable. */
#ifndef VOLSURF_QQUEUE_H
#define VOLSURF_QQUEUE_H

#include <stdint.h>

#include "quote.h"

enum qq_kind {
  QQ_QUOTE = 0,     /* q is a normalized quote */
  QQ_LINK_UP = 1,   /* venue connected and subscribed (q.venue, q.local_ts_us) */
  QQ_LINK_DOWN = 2, /* venue disconnected: its surfaces go stale at once */
  QQ_LINK_ALIVE = 3 /* venue heartbeat: the link is alive though quotes may be quiet */
};

struct qq_item {
  int kind;          /* enum qq_kind */
  uint64_t trace_id; /* producer's batch id (one per received message); 0 if none */
  struct quote q;
};

struct qqueue;

/* Queue for at most cap items.  NULL on bad cap or out of memory. */
struct qqueue *qq_new(int cap);
void qq_free(struct qqueue *qq);
/* Copies n quotes in as QQ_QUOTE items with one trace id.  Returns how many
 * were taken; the rest are dropped and counted. */
int qq_push_quotes(struct qqueue *qq, const struct quote *q, int n, uint64_t trace_id);
/* Pushes a link event for 'venue' at ts_us.  Returns 1, or 0 (dropped,
 * counted) when full. */
int qq_push_link(struct qqueue *qq, const char *venue, int kind, int64_t ts_us);
/* Moves up to max items to out, waiting at most wait_us for the first one
 * (0: do not wait).  Returns how many (0 on timeout or after qq_close). */
int qq_pop(struct qqueue *qq, struct qq_item *out, int max, int64_t wait_us);
/* Waits at most wait_us until the queue holds an item, without taking it.
 * Returns 1 when it does, 0 on timeout, qq_wake or qq_close. */
int qq_wait(struct qqueue *qq, int64_t wait_us);
/* Ends the consumer's current (or next) qq_wait early, once (qq_pop leaves
 * the wake for the next qq_wait): how a worker asked to stop is woken while
 * it waits for quotes. */
void qq_wake(struct qqueue *qq);
/* Wakes a waiting consumer for good; later pushes are dropped. */
void qq_close(struct qqueue *qq);
int qq_depth(struct qqueue *qq);
long qq_n_dropped(struct qqueue *qq);
long qq_n_pushed(struct qqueue *qq);

#endif
