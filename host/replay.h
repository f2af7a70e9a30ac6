/* replay: a recording (tardis options_chain CSV, as `volsurf record` writes
 * it) fed through the live pipeline -- qqueue -> calib -> surface versions
 * -- on the recording's own clock.  Quotes are pushed in file order; before
 * the first quote received at or after a cadence boundary the calibration
 * ticks with now = that boundary, so the fits depend only on the file and
 * the configuration, never on the replay speed or the machine's load.
 *
 *   file --chain_next--> qqueue --calib_tick(now = boundary)--> surfaces --> JSON lines
 *
 * Used by `volsurf replay`; runs on the caller's thread. */
#ifndef VOLSURF_REPLAY_H
#define VOLSURF_REPLAY_H

#include <stdint.h>
#include <stdio.h>

#include "calib.h"
#include "chain.h"
#include "surface.h"

struct replay_config {
  const char *path; /* the recording ("-" = stdin, .gz gunzipped) */
  int format;       /* enum chain_format, default AUTO */
  double speed;     /* 1: real time, 10: ten times faster, 0: as fast as possible */
  int queue_cap;    /* quotes between two ticks (default 1 << 20; more are dropped, counted) */
  struct calib_config calib; /* now_us is set by replay_run */
};

struct replay_stats {
  struct chain_stats chain;
  int64_t n_ticks;
  int64_t n_published;
  long n_dropped;            /* quotes the queue refused (a cadence interval over queue_cap) */
  int64_t first_us, last_us; /* recorded time span */
};

void replay_config_default(struct replay_config *c);

/* Replays c->path; each published surface version is passed to on_surface
 * (which takes ownership; NULL: freed).  Returns 0, or a negative ERR_*
 * (the file cannot be read, the backend cannot start: 'err' says why).
 * Fills *st (may be NULL). */
int replay_run(const struct replay_config *c, void (*on_surface)(void *ctx, struct surface *s),
               void *ctx, struct replay_stats *st, char *err, size_t errlen);

/* Writes one surface version as one JSON line: id, version, as_of, stale,
 * trace, and per expiry its code, T, forward, status bits, SVI parameters,
 * RMSE, derived values and point count; the constant-maturity nodes.  Only
 * values that depend on the data (no fit wall times), with fixed
 * precision, so equal fits give equal bytes. */
void replay_write_surface(FILE *f, const struct surface *s);

#endif
