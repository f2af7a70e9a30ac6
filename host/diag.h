/* diag: fit diagnostics after calibration: RMSE and max error in vol, share
 * of the fitted vols inside the bid/ask band, Durrleman butterfly scan, Lee
 * bound, calendar crossings between neighbouring expiries.  Sets the FIT_*
 * bits of svi_lm_result.status, so a fit that fails a check is flagged,
 * never silently broadcast as good.  Pure, thread-safe, no allocation. */
#ifndef VOLSURF_DIAG_H
#define VOLSURF_DIAG_H

#include "slice.h"
#include "svi.h"
#include "svi_lm.h"

struct diag_config {
  double k_pad;         /* check grid spans [k_min - k_pad, k_max + k_pad] of the data */
  int n_grid;           /* points on the check grid (default 401) */
  double poor_rmse_vol; /* RMSE (vol fraction) above which FIT_POOR is set (default 0.02) */
};

struct diag {
  double rmse_vol;      /* vs the slice's target IV, fraction */
  double max_err_vol;   /* largest |model - target| IV, fraction */
  double rmse_vol_mark; /* vs mark IV where present; NaN when no mark */
  double inside_share;  /* of points with both bid and ask IV: share with model inside */
  int n_two_sided;
  double k_lo, k_hi;  /* the check grid */
  struct svi_arb arb; /* butterfly: g minimum and the k-intervals with g < 0 */
  int lee_ok;
  int calendar_prev; /* 1: w of the earlier expiry exceeds this one's somewhere */
  int calendar_next; /* 1: this w exceeds the later expiry's somewhere */
  double cal_prev_lo, cal_prev_hi, cal_next_lo, cal_next_hi; /* where (NaN if none) */
};

/* Defaults: k_pad 0.25, n_grid 401, poor_rmse_vol 0.02. */
void diag_config_default(struct diag_config *c);

/* Per-slice checks (everything but calendar).  Borrows s; updates f->status;
 * writes out (calendar fields cleared).  Returns 0 or ERR_INPUT. */
int diag_slice(const struct slice *s, struct svi_lm_result *f, const struct diag_config *c,
               struct diag *out);

/* Calendar check of an earlier and a later smile on [k_lo, k_hi]: returns 1
 * when w_earlier(k) > w_later(k) somewhere (the first crossing interval in
 * *lo, *hi), 0 when not, ERR_INPUT on bad arguments. */
int diag_calendar_pair(const struct svi *earlier, const struct svi *later, double k_lo, double k_hi,
                       int n_grid, double *lo, double *hi);

/* Calendar checks along the n slices of one (venue, asset), sorted by expiry:
 * compares each usable fit with its usable neighbours on the union of their
 * grids, fills the calendar fields of d[] and sets FIT_CALENDAR on f[]. */
void diag_calendar_chain(const struct slice *s, struct svi_lm_result *f, struct diag *d, int n,
                         const struct diag_config *c);

/* 1 when a fit may be used for derived values and broadcast as good. */
int diag_usable(const struct svi_lm_result *f);

#endif
