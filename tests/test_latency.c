/* test_latency: a surface version's tick -> patch, quote -> patch and
 * gateway wake-up times from its wall-clock stamps (host/latency.h); unknown
 * or out-of-order stamps give NaN and record nothing. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "latency.h"
#include "testutil.h"

static struct surface *stamped(int64_t quote_us, int64_t tick_us, int64_t publish_us)
{
  struct surface *s = surface_new(1, 0);
  snprintf(s->id, sizeof(s->id), "deribit.BTC");
  s->oldest_quote_us = quote_us;
  s->newest_quote_us = quote_us ? quote_us + 12500 : 0;
  s->tick_us = tick_us;
  s->publish_us = publish_us;
  return s;
}

static void spans_run_from_each_stamp_to_the_patch(void)
{
  struct surface *s = stamped(1000000, 1060000, 1070500);
  struct latency_sample r = latency_of(s, 1071000, 1075250);
  CU_ASSERT_DOUBLE_EQUAL(r.quote_to_patch_ms, 75.25, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(r.tick_to_patch_ms, 15.25, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(r.gateway_wake_ms, 0.5, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(r.calib_ms, 10.5, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(r.render_ms, 4.25, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(r.burst_ms, 12.5, 1e-9);
  surface_free(s);
}

static void unknown_or_reversed_stamps_give_nan(void)
{
  struct surface *s = stamped(0, 2000000, 0);
  struct latency_sample r = latency_of(s, 1000000, 1000000); /* before the tick */
  CU_ASSERT(isnan(r.quote_to_patch_ms));
  CU_ASSERT(isnan(r.tick_to_patch_ms));
  CU_ASSERT(isnan(r.gateway_wake_ms));
  CU_ASSERT(isnan(r.burst_ms));
  r = latency_of(NULL, 1, 2);
  CU_ASSERT(isnan(r.tick_to_patch_ms));
  surface_free(s);
}

static void observe_records_only_known_spans(void)
{
  struct metrics *m = metrics_new();
  struct surface *s = stamped(0, 1000000, 1001000);
  latency_observe(m, s, 1002000, 1003000);
  latency_observe(NULL, s, 1002000, 1003000); /* no metrics: no-op */
  static char buf[1 << 14];
  metrics_render_prom(m, buf, sizeof(buf));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_tick_to_patch_ms_count 1\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_gateway_wake_ms_count 1\n"));
  CU_ASSERT_PTR_NULL(strstr(buf, "volsurf_quote_to_patch_ms"));
  CU_ASSERT_PTR_NULL(strstr(buf, "volsurf_quote_burst_ms"));
  struct surface *q = stamped(900000, 1000000, 1001000); /* a burst of 12.5 ms */
  latency_observe(m, q, 1002000, 1003000);
  metrics_render_prom(m, buf, sizeof(buf));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_quote_to_patch_ms_count 1\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_quote_burst_ms_count 1\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_quote_burst_ms_sum 12.5\n"));
  surface_free(q);
  surface_free(s);
  metrics_free(m);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(spans_run_from_each_stamp_to_the_patch),
      TEST_CASE(unknown_or_reversed_stamps_give_nan),
      TEST_CASE(observe_records_only_known_spans),
  };
  return test_run("latency", cases, TEST_COUNT(cases));
}
