/* diag: fit diagnostics, run after every fit on the CPU (the GPU returns
 * parameters and status; the checks below are the same for both backends).
 * Sets FIT_BUTTERFLY / FIT_CALENDAR / FIT_LEE / FIT_POOR so a failing fit is
 * flagged rather than broadcast as good. */
#include "diag.h"

#include <math.h>

#include "err.h"

void diag_config_default(struct diag_config *c)
{
  c->k_pad = 0.25;
  c->n_grid = 401;
  c->poor_rmse_vol = 0.02;
}

int diag_usable(const struct svi_lm_result *f)
{
  const unsigned bad = SVI_LM_TOO_FEW | SVI_LM_NONFINITE | FIT_LEE;
  return !(f->status & bad) && svi_validate(&f->p) == 0;
}

/* Model IV at k, or NaN where the model variance is not positive. */
static double model_iv(const struct svi *p, double k, double T)
{
  double w = svi_w(p, k);
  return w > 0.0 ? sqrt(w / T) : NAN;
}

static void calendar_clear(struct diag *d)
{
  d->calendar_prev = 0;
  d->calendar_next = 0;
  d->cal_prev_lo = d->cal_prev_hi = NAN;
  d->cal_next_lo = d->cal_next_hi = NAN;
}

int diag_slice(const struct slice *s, struct svi_lm_result *f, const struct diag_config *c,
               struct diag *out)
{
  calendar_clear(out);
  out->rmse_vol = out->max_err_vol = out->rmse_vol_mark = out->inside_share = NAN;
  out->n_two_sided = 0;
  out->lee_ok = 0;
  out->arb.n_intervals = 0;
  out->arb.g_min = out->arb.k_at_g_min = NAN;
  out->k_lo = out->k_hi = NAN;
  if (s->n < 1 || !(s->T_years > 0.0) || c->n_grid < 3)
    return ERR_INPUT;
  out->k_lo = s->k[0] - c->k_pad;
  out->k_hi = s->k[s->n - 1] + c->k_pad;
  if (!diag_usable(f) && (f->status & (SVI_LM_TOO_FEW | SVI_LM_NONFINITE)))
    return 0;

  double sse = 0.0, sse_mark = 0.0, max_err = 0.0;
  int n_mark = 0, n_inside = 0, n_bad = 0;
  for (int i = 0; i < s->n; i++) {
    double iv = model_iv(&f->p, s->k[i], s->T_years);
    if (!isfinite(iv)) {
      n_bad++;
      continue;
    }
    double e = iv - s->iv[i];
    sse += e * e;
    if (fabs(e) > max_err)
      max_err = fabs(e);
    if (isfinite(s->iv_mark[i])) {
      double em = iv - s->iv_mark[i];
      sse_mark += em * em;
      n_mark++;
    }
    if (isfinite(s->iv_bid[i]) && isfinite(s->iv_ask[i])) {
      out->n_two_sided++;
      if (iv >= s->iv_bid[i] && iv <= s->iv_ask[i])
        n_inside++;
    }
  }
  int n_ok = s->n - n_bad;
  out->rmse_vol = n_ok > 0 && n_bad == 0 ? sqrt(sse / n_ok) : INFINITY;
  out->max_err_vol = n_bad == 0 ? max_err : INFINITY;
  out->rmse_vol_mark = n_mark > 0 ? sqrt(sse_mark / n_mark) : NAN;
  out->inside_share = out->n_two_sided > 0 ? (double)n_inside / out->n_two_sided : NAN;

  out->lee_ok = svi_lee_ok(&f->p);
  if (!out->lee_ok)
    f->status |= FIT_LEE;
  if (svi_butterfly_scan(&f->p, out->k_lo, out->k_hi, c->n_grid, &out->arb) == 0 &&
      out->arb.n_intervals > 0)
    f->status |= FIT_BUTTERFLY;
  if (!(out->rmse_vol <= c->poor_rmse_vol))
    f->status |= FIT_POOR;
  return 0;
}

int diag_calendar_pair(const struct svi *earlier, const struct svi *later, double k_lo, double k_hi,
                       int n_grid, double *lo, double *hi)
{
  if (n_grid < 2 || !(k_hi > k_lo))
    return ERR_INPUT;
  /* A tiny tolerance keeps rounding in equal smiles from reading as arbitrage. */
  const double tol = 1e-12;
  double h = (k_hi - k_lo) / (n_grid - 1);
  int found = 0;
  *lo = *hi = NAN;
  for (int i = 0; i < n_grid; i++) {
    double k = k_lo + h * i;
    int cross = svi_w(earlier, k) > svi_w(later, k) + tol;
    if (cross && !found) {
      found = 1;
      *lo = *hi = k;
    } else if (cross && found && *hi >= k - 1.5 * h) {
      *hi = k;
    } else if (!cross && found) {
      break;
    }
  }
  return found;
}

void diag_calendar_chain(const struct slice *s, struct svi_lm_result *f, struct diag *d, int n,
                         const struct diag_config *c)
{
  int prev = -1;
  for (int i = 0; i < n; i++) {
    if (!diag_usable(&f[i]))
      continue;
    if (prev >= 0) {
      double k_lo = fmin(d[prev].k_lo, d[i].k_lo), k_hi = fmax(d[prev].k_hi, d[i].k_hi);
      double lo, hi;
      if (s[prev].expiry_us < s[i].expiry_us &&
          diag_calendar_pair(&f[prev].p, &f[i].p, k_lo, k_hi, c->n_grid, &lo, &hi) == 1) {
        d[prev].calendar_next = 1;
        d[prev].cal_next_lo = lo;
        d[prev].cal_next_hi = hi;
        d[i].calendar_prev = 1;
        d[i].cal_prev_lo = lo;
        d[i].cal_prev_hi = hi;
        f[prev].status |= FIT_CALENDAR;
        f[i].status |= FIT_CALENDAR;
      }
    }
    prev = i;
  }
}
