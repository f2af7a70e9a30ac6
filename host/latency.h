/* latency: how long a surface version took from its quotes and its
 * calibration tick to the gateway's encoded patch (issue 4's "quote ->
 * patch" goal), from the wall-clock stamps the calib puts in struct surface.
 *
 *   quote received (surface.oldest_quote_us)   -- rest of burst + step -+
 *   step starts    (surface.tick_us)           -- drain, fit, build ----+
 *   put in mailbox (surface.publish_us)        -- gateway wake-up ------+
 *   gateway takes it (drain_us)                -- render, diff, encode -+
 *   patch queued to every subscriber (queued_us)
 *
 * Metrics (summaries, ms; host/metrics.h, docs/service.md):
 *   volsurf_tick_to_patch_ms   tick start -> patch queued (processing)
 *   volsurf_quote_to_patch_ms  oldest new quote received -> patch queued
 *   volsurf_gateway_wake_ms    mailbox put -> gateway takes the version
 *   volsurf_quote_burst_ms     oldest -> newest quote new in the version (how
 *                              long its burst took to land: a feed or an I/O
 *                              thread falling behind shows here first)
 * The socket write that follows is not included (one frame per client in
 * the next writable callbacks; bench/results/quote-to-patch.md measures it
 * from the client side). */
#ifndef VOLSURF_LATENCY_H
#define VOLSURF_LATENCY_H

#include <stdint.h>

#include "metrics.h"
#include "surface.h"

/* Milliseconds; NaN where a stamp is 0 (unknown) or later than the end. */
struct latency_sample {
  double tick_to_patch_ms;
  double quote_to_patch_ms;
  double gateway_wake_ms;
  double calib_ms;  /* tick start -> mailbox put (drain, fit, build) */
  double render_ms; /* gateway takes it -> patch queued (render, diff, encode, fan-out) */
  double burst_ms;  /* oldest -> newest quote new in the version: how long its burst took to land */
};

/* Pure: the sample of version s taken by the gateway at drain_us whose
 * patch was queued at queued_us.  Any thread. */
struct latency_sample latency_of(const struct surface *s, int64_t drain_us, int64_t queued_us);

/* Records tick_to_patch, quote_to_patch, gateway_wake and burst, where
 * finite, in m (NULL: no-op) and writes one debug log line ("patch latency": surface,
 * version, all six values) for bench/latency.sh.  Any thread.  The stamps
 * are on the wall clock (now_wall_us). */
void latency_observe(struct metrics *m, const struct surface *s, int64_t drain_us,
                     int64_t queued_us);

#endif
