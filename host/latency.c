/* latency: quote/tick -> patch latency of a surface version (latency.h). */
#include "latency.h"

#include <math.h>
#include <stdlib.h>

#include "log.h"

static double span_ms(int64_t from_us, int64_t to_us)
{
  if (from_us <= 0 || to_us <= 0 || to_us < from_us)
    return NAN;
  return (double)(to_us - from_us) / 1e3;
}

struct latency_sample latency_of(const struct surface *s, int64_t drain_us, int64_t queued_us)
{
  struct latency_sample r = {NAN, NAN, NAN, NAN, NAN, NAN};
  if (!s)
    return r;
  r.tick_to_patch_ms = span_ms(s->tick_us, queued_us);
  r.quote_to_patch_ms = span_ms(s->oldest_quote_us, queued_us);
  r.gateway_wake_ms = span_ms(s->publish_us, drain_us);
  r.calib_ms = span_ms(s->tick_us, s->publish_us);
  r.render_ms = span_ms(drain_us, queued_us);
  r.burst_ms = span_ms(s->oldest_quote_us, s->newest_quote_us);
  return r;
}

void latency_observe(struct metrics *m, const struct surface *s, int64_t drain_us,
                     int64_t queued_us)
{
  struct latency_sample r = latency_of(s, drain_us, queued_us);
  if (m && isfinite(r.tick_to_patch_ms))
    metrics_observe(m, "volsurf_tick_to_patch_ms", NULL, r.tick_to_patch_ms);
  if (m && isfinite(r.quote_to_patch_ms))
    metrics_observe(m, "volsurf_quote_to_patch_ms", NULL, r.quote_to_patch_ms);
  if (m && isfinite(r.gateway_wake_ms))
    metrics_observe(m, "volsurf_gateway_wake_ms", NULL, r.gateway_wake_ms);
  if (m && isfinite(r.burst_ms))
    metrics_observe(m, "volsurf_quote_burst_ms", NULL, r.burst_ms);
  if (!s || log_get_level() > LOG_DEBUG)
    return;
  struct log_line l;
  log_begin(&l, LOG_DEBUG, "patch latency", strtoull(s->trace_id, NULL, 16));
  log_str(&l, "surface", s->id);
  log_int(&l, "version", (long long)s->version);
  log_num(&l, "tick_to_patch_ms", r.tick_to_patch_ms);
  log_num(&l, "quote_to_patch_ms", r.quote_to_patch_ms);
  log_num(&l, "gateway_wake_ms", r.gateway_wake_ms);
  log_num(&l, "calib_ms", r.calib_ms);
  log_num(&l, "render_ms", r.render_ms);
  log_num(&l, "burst_ms", r.burst_ms);
  log_end(&l);
}
