/* calib: the calibration worker of `volsurf serve` / `volsurf replay`.  It
 * drains the quote queue into the book, fits the slices whose quotes changed
 * (all due assets in one fitter call, warm-started from the previous fit),
 * runs the diagnostics and derived values, and puts a new surface version of
 * every changed (venue, asset) into the mailbox.
 *
 *   qqueue --> [calib thread: book, fitter, diag, derived] --> surface_mailbox
 *
 * Schedule (the worker, calib_poll): quotes come in bursts (Deribit's
 * .100ms channels, OKX's opt-summary, the simulator), so a surface is refit
 * when its new quotes have been quiet for quiet_us (the burst has landed),
 * or at the latest cadence_us after its oldest new quote (a stream that
 * never pauses), and never sooner than min_gap_us after its previous
 * version.  A quote thus waits for the rest of its burst, not for a clock
 * tick; a surface gets one version per burst, at most 1/min_gap_us per
 * second.  Replay and tests use calib_tick instead: everything at once.
 *
 * Staleness: a venue is stale after QQ_LINK_DOWN, or when nothing (quote or
 * QQ_LINK_ALIVE) arrived for venue_stale_us; an expiry is stale when its
 * newest quote is older than quote_stale_us or its venue is stale.  Stale
 * surfaces are republished with the flags set and the last good fits kept.
 * Fits that fail diag_usable keep the previous good parameters (usable = 0).
 *
 * Threads: calib_start runs one worker thread; 'on_publish' is called from it
 * once after each step that put versions into the mailbox (cmd_serve passes
 * lws_cancel_service to wake the I/O loop: one wake-up, one walk of the
 * loop's sockets, per step, not per surface).  calib_stop joins it.
 * Nothing else is shared. */
#ifndef VOLSURF_CALIB_H
#define VOLSURF_CALIB_H

#include <stdint.h>

#include "fit.h"
#include "metrics.h"
#include "qqueue.h"
#include "slice.h"
#include "surface.h"

struct calib_config {
  int64_t cadence_us;        /* longest a new quote waits for its refit, and the
                                staleness/roll-off check period; default 100 ms */
  int64_t quiet_us;          /* a surface's quotes quiet this long: refit; default 3 ms */
  int64_t min_gap_us;        /* least time between two versions of a surface; default 20 ms */
  int64_t venue_stale_us;    /* default 5 s */
  int64_t quote_stale_us;    /* default 60 s */
  int backend;               /* enum fit_backend, default AUTO */
  int n_threads;             /* CPU fitter threads, default 1 (the I/O loop has the other core) */
  int max_instruments;       /* book cap, default 200000 */
  int delta_conv;            /* enum derived_delta_conv, default forward */
  int max_points_per_expiry; /* smile points sent per expiry, default 256 */
  int64_t points_every_us;   /* refresh of those points, default 1 s (0: every tick);
                                fits, ATM, RR/fly follow every tick */
  struct slice_config slice;
  /* Time source (NULL: the wall clock).  Replay passes the recording's
   * clock so that a replay reproduces its fits. */
  int64_t (*now_us)(void *ctx);
  void *now_ctx;
};

/* Called from the worker after each step that published; must be
 * thread-safe. */
typedef void (*calib_publish_fn)(void *ctx);

void calib_config_default(struct calib_config *c);

struct calib;
/* Borrows in, out and metrics (metrics may be NULL) for the calib's life.
 * Returns 0, ERR_NOMEM, or ERR_NODEV (backend gpu without a device; err says
 * why). */
int calib_new(const struct calib_config *c, struct qqueue *in, struct surface_mailbox *out,
              struct metrics *metrics, calib_publish_fn on_publish, void *publish_ctx,
              struct calib **out_calib, char *err, size_t errlen);
/* Runs one tick on the caller's thread: drain, fit everything that changed,
 * publish.  Returns the number of surfaces published.  For tests and
 * replay; not to be mixed with a running worker. */
int calib_tick(struct calib *cb);
/* One step of the worker's schedule (see above) on the caller's thread:
 * drain, then fit and publish the surfaces that are due.  Returns the time
 * (on the config's clock) when the next step is due; *idle (may be NULL)
 * is set when no surface waits for a refit, so the caller may also wake
 * at the next push (qq_wait).  *n_published (may be NULL) gets the number
 * published.  calib_start runs this in a loop; tests call it directly with
 * their own clock. */
int64_t calib_poll(struct calib *cb, int *n_published, int *idle);
int calib_start(struct calib *cb);
/* Stops and joins the worker (closes nothing it borrowed). */
void calib_stop(struct calib *cb);
void calib_free(struct calib *cb);
/* Wall time of the worker's last completed tick (0 before the first);
 * thread-safe, for /healthz. */
int64_t calib_last_tick_us(const struct calib *cb);

#endif
