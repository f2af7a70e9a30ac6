/* svi: raw SVI evaluation, jump-wings conversion and arbitrage checks.
 * Formulas: ../shared/reference/calibration.md; Gatheral & Jacquier (2014),
 * "Arbitrage-free SVI volatility surfaces", sections 3 and 4. */
#include "svi.h"

#include <math.h>

#include "err.h"

double svi_w(const struct svi *p, double k)
{
  double x = k - p->m;
  return p->a + p->b * (p->rho * x + sqrt(x * x + p->sigma * p->sigma));
}

void svi_eval(const struct svi *p, double k, double *w, double *w1, double *w2)
{
  double x = k - p->m;
  double s2 = p->sigma * p->sigma;
  double r = sqrt(x * x + s2);
  if (w)
    *w = p->a + p->b * (p->rho * x + r);
  if (w1)
    *w1 = p->b * (p->rho + x / r);
  if (w2)
    *w2 = p->b * s2 / (r * r * r);
}

double svi_min_variance(const struct svi *p, double *k_at)
{
  double q = sqrt(1.0 - p->rho * p->rho);
  if (k_at)
    *k_at = p->m - p->rho * p->sigma / q;
  return p->a + p->b * p->sigma * q;
}

void svi_wing_slopes(const struct svi *p, double *left, double *right)
{
  if (left)
    *left = p->b * (1.0 - p->rho);
  if (right)
    *right = p->b * (1.0 + p->rho);
}

int svi_lee_ok(const struct svi *p)
{
  return p->b * (1.0 + fabs(p->rho)) <= SVI_LEE_MAX_SLOPE + 1e-12;
}

int svi_validate(const struct svi *p)
{
  if (!isfinite(p->a) || !isfinite(p->b) || !isfinite(p->rho) || !isfinite(p->m) ||
      !isfinite(p->sigma))
    return ERR_INPUT;
  if (p->b < 0.0 || !(fabs(p->rho) < 1.0) || !(p->sigma > 0.0))
    return ERR_INPUT;
  return 0;
}

double svi_durrleman_g(const struct svi *p, double k)
{
  double w, w1, w2;
  svi_eval(p, k, &w, &w1, &w2);
  if (!(w > 0.0))
    return -INFINITY;
  double t = 1.0 - k * w1 / (2.0 * w);
  return t * t - 0.25 * w1 * w1 * (1.0 / w + 0.25) + 0.5 * w2;
}

/* Golden-section search for the minimum of g on [lo, hi]; g is smooth and,
 * within one grid cell around the grid minimum, unimodal. */
static double g_argmin(const struct svi *p, double lo, double hi)
{
  const double r = 0.6180339887498949;
  double x1 = hi - r * (hi - lo), x2 = lo + r * (hi - lo);
  double f1 = svi_durrleman_g(p, x1), f2 = svi_durrleman_g(p, x2);
  for (int i = 0; i < 200 && hi - lo > 1e-12 * (1.0 + fabs(lo)); i++) {
    if (f1 < f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - r * (hi - lo);
      f1 = svi_durrleman_g(p, x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + r * (hi - lo);
      f2 = svi_durrleman_g(p, x2);
    }
  }
  return 0.5 * (lo + hi);
}

/* Bisection for the sign change of g between lo and hi (g(lo) and g(hi)
 * have opposite signs). */
static double g_root(const struct svi *p, double lo, double hi)
{
  double glo = svi_durrleman_g(p, lo);
  for (int i = 0; i < 200 && hi - lo > 1e-12; i++) {
    double mid = 0.5 * (lo + hi);
    double gm = svi_durrleman_g(p, mid);
    if ((gm < 0.0) == (glo < 0.0)) {
      lo = mid;
      glo = gm;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

int svi_butterfly_scan(const struct svi *p, double k_lo, double k_hi, int n_grid,
                       struct svi_arb *out)
{
  if (n_grid < 3 || !(k_hi > k_lo) || !isfinite(k_lo) || !isfinite(k_hi))
    return ERR_INPUT;
  double h = (k_hi - k_lo) / (n_grid - 1);
  int i_min = 0;
  double g_min = INFINITY;
  double g_prev = 0.0;
  out->n_intervals = 0;
  int open = 0;
  double open_lo = k_lo;
  for (int i = 0; i < n_grid; i++) {
    double k = k_lo + h * i;
    double g = svi_durrleman_g(p, k);
    if (g < g_min) {
      g_min = g;
      i_min = i;
    }
    int neg = g < 0.0;
    if (i == 0) {
      open = neg;
      open_lo = k_lo;
    } else if (neg && !open) {
      open = 1;
      open_lo = g_root(p, k - h, k);
    } else if (!neg && open) {
      double hi = (g_prev < 0.0 && g >= 0.0) ? g_root(p, k - h, k) : k;
      if (out->n_intervals < SVI_ARB_MAX_INTERVALS) {
        out->lo[out->n_intervals] = open_lo;
        out->hi[out->n_intervals] = hi;
      }
      out->n_intervals++;
      open = 0;
    }
    g_prev = g;
  }
  if (open) {
    if (out->n_intervals < SVI_ARB_MAX_INTERVALS) {
      out->lo[out->n_intervals] = open_lo;
      out->hi[out->n_intervals] = k_hi;
    }
    out->n_intervals++;
  }
  double a = k_lo + h * (i_min > 0 ? i_min - 1 : 0);
  double b = k_lo + h * (i_min < n_grid - 1 ? i_min + 1 : n_grid - 1);
  double k_star = g_argmin(p, a, b);
  double g_star = svi_durrleman_g(p, k_star);
  if (g_star < g_min) {
    out->g_min = g_star;
    out->k_at_g_min = k_star;
  } else {
    out->g_min = g_min;
    out->k_at_g_min = k_lo + h * i_min;
  }
  return 0;
}

int svi_to_jw(const struct svi *p, double T_years, struct svi_jw *out)
{
  if (!(T_years > 0.0) || svi_validate(p) != 0)
    return ERR_INPUT;
  double r0 = sqrt(p->m * p->m + p->sigma * p->sigma);
  double w0 = p->a + p->b * (-p->rho * p->m + r0);
  if (!(w0 > 0.0))
    return ERR_INPUT;
  double sw = sqrt(w0);
  out->v = w0 / T_years;
  out->psi = 0.5 * p->b * (p->rho - p->m / r0) / sw;
  out->p = p->b * (1.0 - p->rho) / sw;
  out->c = p->b * (1.0 + p->rho) / sw;
  out->vt = (p->a + p->b * p->sigma * sqrt(1.0 - p->rho * p->rho)) / T_years;
  return 0;
}

int svi_from_jw(const struct svi_jw *jw, double T_years, struct svi *out)
{
  if (!(T_years > 0.0) || !(jw->v > 0.0) || !(jw->c + jw->p > 0.0))
    return ERR_RANGE;
  double w0 = jw->v * T_years;
  double sw = sqrt(w0);
  double b = 0.5 * sw * (jw->c + jw->p);
  double rho = 1.0 - jw->p * sw / b;
  double beta = rho - 2.0 * jw->psi * sw / b;
  if (!(fabs(rho) < 1.0) || !(fabs(beta) <= 1.0))
    return ERR_RANGE;
  double q = sqrt(1.0 - rho * rho);
  double m, sigma;
  if (beta == 0.0) {
    /* psi at its symmetric value: alpha -> infinity, i.e. m = 0. */
    m = 0.0;
    double gap = (jw->v - jw->vt) * T_years; /* w(0) - w_min = b sigma (1 - q) */
    if (!(1.0 - q > 0.0) || !(gap > 0.0))
      return ERR_RANGE;
    sigma = gap / (b * (1.0 - q));
  } else {
    double alpha = (beta > 0.0 ? 1.0 : -1.0) * sqrt(1.0 / (beta * beta) - 1.0);
    double sa = alpha >= 0.0 ? 1.0 : -1.0;
    double den = b * (-rho + sa * sqrt(1.0 + alpha * alpha) - alpha * q);
    if (den == 0.0)
      return ERR_RANGE;
    m = (jw->v - jw->vt) * T_years / den;
    sigma = alpha * m;
  }
  if (!(sigma > 0.0))
    return ERR_RANGE;
  out->b = b;
  out->rho = rho;
  out->m = m;
  out->sigma = sigma;
  out->a = jw->vt * T_years - b * sigma * q;
  return 0;
}
