/* surface: one version of the fitted surface of one (venue, asset): every
 * expiry's fit, diagnostics, derived values and quotes, the constant-maturity
 * nodes and the freshness flags.  host/calib produces versions; gateway/
 * renders them (docs/protocol.md).
 *
 * Ownership: a published version is immutable.  It is made by surface_new in
 * one allocation (expiries and points inside it), handed over through a
 * surface_mailbox, and freed by whoever holds it last with surface_free. */
#ifndef VOLSURF_SURFACE_H
#define VOLSURF_SURFACE_H

#include <stdint.h>

#include "derived.h"
#include "diag.h"
#include "slice.h"
#include "svi_lm.h"

#define SURFACE_ID_LEN 48   /* "deribit.SOL_USDC" */
#define SURFACE_CODE_LEN 12 /* "27DEC26" */
#define SURFACE_MAX_EXPIRIES 128

/* One quoted strike as the smile view shows it (IVs as fractions, NaN when
 * absent). */
struct surface_point {
  double strike, k;
  double iv_bid, iv_ask, iv_mark;
};

struct surface_expiry {
  char code[SURFACE_CODE_LEN]; /* surface_code(expiry_us) */
  int64_t expiry_us;
  double T_years, forward;
  int forward_src;          /* enum slice_forward_src */
  int has_fit;              /* 0: never a usable fit; p, dv are then meaningless */
  int usable;               /* diag_usable of the latest fit */
  struct svi p;             /* the latest usable fit (the last good one when !usable) */
  struct svi_lm_result fit; /* the latest fit: status bits, n_iter, fit_time_us */
  struct diag diag;         /* of the latest fit */
  struct derived dv;        /* from p */
  struct slice_rejects rej;
  int n_points;
  struct surface_point *points; /* inside the surface's allocation */
  int64_t quote_ts_us;          /* newest quote receive time in this expiry */
  int64_t fit_ts_us;            /* when p was fitted */
  int stale;                    /* quotes older than the bound, or the venue is stale */
};

struct surface {
  char id[SURFACE_ID_LEN]; /* "<venue>.<ASSET>" */
  char venue[QUOTE_VENUE_LEN];
  char asset[QUOTE_ASSET_LEN];
  uint64_t version; /* +1 per published version of this surface */
  int64_t as_of_us;
  double index_price; /* NaN when unknown */
  int delta_conv;     /* enum derived_delta_conv */
  int stale;          /* venue link down or silent past the bound */
  char trace_id[17];  /* 16 hex digits: the quote batch that led to this version */
  int n_expiries;     /* sorted by expiry_us */
  struct surface_expiry *exp;
  struct derived_node nodes[DERIVED_N_NODES];
  /* Latency stamps, wall clock (CLOCK_REALTIME) in us, 0 when unknown (a
   * calib on another clock, e.g. replay, leaves them 0): host/latency.h. */
  int64_t tick_us;         /* start of the calibration tick that built it */
  int64_t oldest_quote_us; /* receive time of the oldest quote new in this version (0: none) */
  int64_t newest_quote_us; /* ... and of the newest (0: none) */
  int64_t publish_us;      /* when it was put into the mailbox */
};

/* One allocation holding a surface with n_expiries expiries and n_points
 * points in all (zeroed; expiry i's points are assigned by the caller with
 * surface_points_at).  Returns NULL on bad sizes or out of memory. */
struct surface *surface_new(int n_expiries, int n_points_total);
void surface_free(struct surface *s);
/* Points storage starting at 'offset' (0 <= offset < n_points_total). */
struct surface_point *surface_points_at(struct surface *s, int offset);
/* "<venue>.<asset>" into out (SURFACE_ID_LEN).  Returns 0 or ERR_RANGE. */
int surface_id(const char *venue, const char *asset, char *out);
/* Deribit-style expiry code of an expiry time: "5JUN20", "27DEC26". */
void surface_code(int64_t expiry_us, char out[SURFACE_CODE_LEN]);

/* A conflating hand-over point between the calibration worker and the I/O
 * thread: one slot per surface id holding the newest unread version.  A put
 * that finds an unread version of the same surface frees it (counted in
 * n_conflated): the reader only ever wants the newest.  Thread-safe (one
 * mutex); bounded by max_surfaces. */
struct surface_mailbox;
struct surface_mailbox *surface_mailbox_new(int max_surfaces);
void surface_mailbox_free(struct surface_mailbox *mb); /* frees unread versions */
/* Takes ownership of s.  Returns 0, or ERR_FULL (s freed, counted) when a
 * new id would exceed max_surfaces. */
int surface_mailbox_put(struct surface_mailbox *mb, struct surface *s);
/* Moves up to max unread versions to out (ownership passes to the caller),
 * oldest put first.  Returns how many.  Never blocks. */
int surface_mailbox_take(struct surface_mailbox *mb, struct surface **out, int max);
long surface_mailbox_n_conflated(const struct surface_mailbox *mb);

#endif
