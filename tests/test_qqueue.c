/* test_qqueue: the bounded quote queue (feeds -> calib): FIFO order, trace
 * ids, link events, drop counting when full, close, wait and wake, and a two-thread
 * producer/consumer run in which every item is either delivered or counted
 * as dropped. */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "err.h"
#include "now.h"
#include "qqueue.h"
#include "testutil.h"

static struct quote mkq(int i)
{
  struct quote q;
  quote_init(&q);
  snprintf(q.venue, sizeof(q.venue), "deribit");
  snprintf(q.symbol, sizeof(q.symbol), "BTC-%d", i);
  q.strike = i;
  return q;
}

static void items_come_out_in_push_order_with_their_trace_ids(void)
{
  struct qqueue *qq = qq_new(8);
  CU_ASSERT_PTR_NOT_NULL_FATAL(qq);
  struct quote q[3] = {mkq(1), mkq(2), mkq(3)};
  CU_ASSERT_EQUAL(qq_push_quotes(qq, q, 2, 77), 2);
  CU_ASSERT_EQUAL(qq_push_link(qq, "okx", QQ_LINK_DOWN, 123), 1);
  CU_ASSERT_EQUAL(qq_push_quotes(qq, q + 2, 1, 78), 1);
  CU_ASSERT_EQUAL(qq_depth(qq), 4);
  struct qq_item out[8];
  CU_ASSERT_EQUAL(qq_pop(qq, out, 8, 0), 4);
  CU_ASSERT_EQUAL(out[0].kind, QQ_QUOTE);
  CU_ASSERT_EQUAL(out[0].trace_id, 77);
  CU_ASSERT_EQUAL(out[1].q.strike, 2.0);
  CU_ASSERT_EQUAL(out[2].kind, QQ_LINK_DOWN);
  CU_ASSERT_STRING_EQUAL(out[2].q.venue, "okx");
  CU_ASSERT_EQUAL(out[2].q.local_ts_us, 123);
  CU_ASSERT_EQUAL(out[3].trace_id, 78);
  CU_ASSERT_EQUAL(qq_depth(qq), 0);
  CU_ASSERT_EQUAL(qq_n_pushed(qq), 4);
  qq_free(qq);
}

static void a_full_queue_drops_and_counts_the_rest(void)
{
  struct qqueue *qq = qq_new(3);
  struct quote q[5] = {mkq(1), mkq(2), mkq(3), mkq(4), mkq(5)};
  CU_ASSERT_EQUAL(qq_push_quotes(qq, q, 5, 1), 3);
  CU_ASSERT_EQUAL(qq_push_link(qq, "deribit", QQ_LINK_UP, 1), 0);
  CU_ASSERT_EQUAL(qq_n_dropped(qq), 3);
  struct qq_item out[2];
  CU_ASSERT_EQUAL(qq_pop(qq, out, 2, 0), 2);
  CU_ASSERT_EQUAL(out[0].q.strike, 1.0);
  /* Room again: the ring wraps. */
  CU_ASSERT_EQUAL(qq_push_quotes(qq, q + 3, 2, 2), 2);
  struct qq_item rest[4];
  CU_ASSERT_EQUAL(qq_pop(qq, rest, 4, 0), 3);
  CU_ASSERT_EQUAL(rest[0].q.strike, 3.0);
  CU_ASSERT_EQUAL(rest[2].q.strike, 5.0);
  qq_free(qq);
}

static void bad_arguments_are_refused(void)
{
  CU_ASSERT_PTR_NULL(qq_new(0));
  struct qqueue *qq = qq_new(2);
  CU_ASSERT_EQUAL(qq_push_link(qq, "deribit", 99, 0), 0);
  CU_ASSERT_EQUAL(qq_push_quotes(qq, NULL, 1, 0), 0);
  struct qq_item it;
  CU_ASSERT_EQUAL(qq_pop(qq, &it, 1, 1000), 0); /* times out empty */
  qq_free(qq);
}

static void close_wakes_the_consumer_and_refuses_later_pushes(void)
{
  struct qqueue *qq = qq_new(4);
  qq_close(qq);
  struct qq_item it;
  CU_ASSERT_EQUAL(qq_pop(qq, &it, 1, 5000000), 0); /* returns at once */
  struct quote q = mkq(1);
  CU_ASSERT_EQUAL(qq_push_quotes(qq, &q, 1, 0), 0);
  CU_ASSERT_EQUAL(qq_n_dropped(qq), 1);
  qq_free(qq);
}

static void *wake_soon(void *arg)
{
  usleep(20000);
  qq_wake(arg);
  return NULL;
}

static void wait_sees_items_without_taking_them_and_a_wake_ends_it_once(void)
{
  struct qqueue *qq = qq_new(4);
  CU_ASSERT_EQUAL(qq_wait(qq, 1000), 0); /* times out empty */
  /* A wake from another thread ends a long wait early (30 s: a broken wake
   * fails the bound below, not a timing goal). */
  pthread_t t;
  pthread_create(&t, NULL, wake_soon, qq);
  int64_t t0 = now_mono_us();
  CU_ASSERT_EQUAL(qq_wait(qq, 30000000), 0);
  CU_ASSERT(now_mono_us() - t0 < 20000000);
  pthread_join(t, NULL);
  /* A wake before the wait is kept for it, and a pop does not eat it. */
  qq_wake(qq);
  struct qq_item it;
  CU_ASSERT_EQUAL(qq_pop(qq, &it, 1, 0), 0);
  t0 = now_mono_us();
  CU_ASSERT_EQUAL(qq_wait(qq, 30000000), 0);
  CU_ASSERT(now_mono_us() - t0 < 20000000);
  /* Consumed: the next wait times out. */
  CU_ASSERT_EQUAL(qq_wait(qq, 1000), 0);
  struct quote q = mkq(1);
  qq_push_quotes(qq, &q, 1, 7);
  CU_ASSERT_EQUAL(qq_wait(qq, 30000000), 1);
  CU_ASSERT_EQUAL(qq_depth(qq), 1);
  CU_ASSERT_EQUAL(qq_pop(qq, &it, 1, 0), 1);
  CU_ASSERT_EQUAL(it.trace_id, 7);
  qq_free(qq);
}

#define N_PRODUCED 200000

struct run {
  struct qqueue *qq;
  long consumed;
  int in_order;
};

static void *producer(void *arg)
{
  struct qqueue *qq = arg;
  struct quote q = mkq(0);
  for (int i = 0; i < N_PRODUCED; i++) {
    q.strike = i;
    qq_push_quotes(qq, &q, 1, (uint64_t)i);
  }
  return NULL;
}

static void *consumer(void *arg)
{
  struct run *r = arg;
  struct qq_item it[64];
  double last = -1.0;
  for (;;) {
    int n = qq_pop(r->qq, it, 64, 200000);
    if (n == 0)
      break; /* closed, or idle for 200 ms after the producer finished */
    for (int i = 0; i < n; i++) {
      if (it[i].q.strike <= last || it[i].trace_id != (uint64_t)it[i].q.strike)
        r->in_order = 0;
      last = it[i].q.strike;
    }
    r->consumed += n;
  }
  return NULL;
}

static void producer_and_consumer_threads_lose_nothing_uncounted(void)
{
  struct run r = {qq_new(256), 0, 1};
  pthread_t pt, ct;
  pthread_create(&ct, NULL, consumer, &r);
  pthread_create(&pt, NULL, producer, r.qq);
  pthread_join(pt, NULL);
  pthread_join(ct, NULL);
  /* Drain what the consumer may have left when it gave up waiting. */
  struct qq_item it[256];
  r.consumed += qq_pop(r.qq, it, 256, 0);
  CU_ASSERT_EQUAL(r.consumed + qq_n_dropped(r.qq), N_PRODUCED);
  CU_ASSERT_EQUAL(qq_n_pushed(r.qq), r.consumed);
  CU_ASSERT(r.in_order);
  CU_ASSERT(r.consumed > 0);
  qq_free(r.qq);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(items_come_out_in_push_order_with_their_trace_ids),
      TEST_CASE(a_full_queue_drops_and_counts_the_rest),
      TEST_CASE(bad_arguments_are_refused),
      TEST_CASE(close_wakes_the_consumer_and_refuses_later_pushes),
      TEST_CASE(producer_and_consumer_threads_lose_nothing_uncounted),
      TEST_CASE(wait_sees_items_without_taking_them_and_a_wake_ends_it_once),
  };
  return test_run("qqueue", cases, TEST_COUNT(cases));
}
