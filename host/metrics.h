/* metrics: the service's counters, gauges and latency summaries, rendered as
 * Prometheus text (GET /metrics) and as CloudWatch Embedded Metric Format
 * lines (--metrics-emf).  Every thread may update; one mutex.
 *
 * A series is (name, labels): labels is the Prometheus label text without
 * braces, e.g. "venue=\"deribit\"", or NULL.  Series are created on first
 * use, up to METRICS_MAX_SERIES; updates beyond that are dropped and counted
 * in volsurf_metrics_overflow_total.  Names used by the service (Prometheus
 * name -> EMF name, docs/deploy.md "Metrics"):
 *   volsurf_feed_age_ms{venue}                 gauge    -> FeedAgeMs
 *   volsurf_feed_connected{venue}              gauge
 *   volsurf_feed_reconnects_total{venue}       counter
 *   volsurf_feed_quotes_total{venue}           counter
 *   volsurf_feed_rejected_total{venue,reason}  counter
 *   volsurf_quote_queue_depth                  gauge    -> QuoteQueueDepth
 *   volsurf_quote_queue_dropped_total          counter
 *   volsurf_fit_batch_ms                       summary  -> FitBatchMs
 *   volsurf_fit_slices_total{backend}          counter
 *   volsurf_fit_rmse_vol_pts{venue,asset,expiry} gauge  -> FitRmseVolPts
 *   volsurf_tick_to_patch_ms                   summary  (host/latency.h)
 *   volsurf_quote_to_patch_ms                  summary  -> QuoteToPatchMs
 *   volsurf_gateway_wake_ms                    summary
 *   volsurf_quote_burst_ms                     summary  (oldest -> newest quote of a version)
 *   volsurf_ws_connections                     gauge    -> WebsocketConnections
 *   volsurf_ws_dropped_total{reason}           counter  -> DroppedMessages (sum)
 *   volsurf_ws_conflated_total                 counter
 *   volsurf_ws_client_errors_total{code}       counter
 *   volsurf_ws_messages_total{type}            counter
 *   volsurf_ws_closed_total{code}              counter  (4000, 4001, 1009, 1013, 1001)
 * volsurf_ws_dropped_total reasons: conflated (a patch replaced by a
 * snapshot), queue_full (a heartbeat or reply that did not fit),
 * too_big_frame, server_full, bad_origin, publish (a version not rendered). */
#ifndef VOLSURF_METRICS_H
#define VOLSURF_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_MAX_SERIES 1024
#define METRICS_NAME_LEN 64
#define METRICS_LABELS_LEN 160

enum metrics_type { METRICS_COUNTER = 0, METRICS_GAUGE = 1, METRICS_SUMMARY = 2 };

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);
/* Adds v (>= 0) to a counter. */
void metrics_add(struct metrics *m, const char *name, const char *labels, double v);
/* Sets a gauge. */
void metrics_set(struct metrics *m, const char *name, const char *labels, double v);
/* Records one observation of a summary (kept: count, sum, and the last 1024
 * observations for the 0.5/0.9/0.99 quantiles). */
void metrics_observe(struct metrics *m, const char *name, const char *labels, double v);
/* Removes a series (an expiry that rolled off).  No-op when absent. */
void metrics_remove(struct metrics *m, const char *name, const char *labels);
/* Renders every series in the Prometheus text format 0.0.4 (# TYPE lines,
 * summaries with quantile labels, _sum and _count) into buf.  Returns the
 * length written (NUL-terminated), or the length needed when it exceeds cap. */
size_t metrics_render_prom(struct metrics *m, char *buf, size_t cap);
/* Writes one EMF JSON line per series with an EMF name (list above) to f:
 * namespace 'ns', dimension sets [Role] and [Role, <its labels>], Role =
 * 'role', timestamp now_ms; summaries report their p99 over the interval
 * since the last call.  Returns the number of lines. */
int metrics_write_emf(struct metrics *m, FILE *f, const char *ns, const char *role, int64_t now_ms);

#endif
