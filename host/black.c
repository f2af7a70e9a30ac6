/* black: Black-76 (r = 0) prices, greeks and implied vol.  Sits under
 * quote.c (IVs from venue prices) and derived.c (delta strikes).
 *
 * Everything is computed on the normalised price b(x, s) = price / sqrt(FK)
 * with x = ln(F/K), s = sigma sqrt(T): a call with x <= 0 (out of the money)
 * is the only case the inversion solves; other cases are mapped onto it by
 * put-call parity on the time value, which is taken in price space (price -
 * max(F - K, 0)) so that no digits are lost to exp(x/2) - exp(-x/2).
 *
 * The inversion is Jaeckel's "Let's be rational" (2015): four branches of a
 * rational-cubic initial guess (lower map, two middle segments, upper map),
 * then two Householder(3) steps on the branch's objective (1/ln b in the low
 * wing, b itself in the middle, ln(b_max - b) near the upper bound), with a
 * bisection bracket as a safety net for extreme |x|.  Invariant: no function
 * here allocates or keeps state. */
#include "black.h"

#include <float.h>
#include <math.h>

#define BLACK_SQRT_2PI 2.5066282746310005024
#define BLACK_INV_SQRT_2PI 0.39894228040143267794
#define BLACK_INV_SQRT_PI 0.56418958354775628695
#define BLACK_SQRT_HALF 0.70710678118654752440
#define BLACK_SQRT_THREE 1.7320508075688772935
#define BLACK_SQRT_ONE_THIRD 0.57735026918962576451
#define BLACK_PI_OVER_SIX 0.52359877559829887308
#define BLACK_TWO_PI 6.2831853071795864769
#define BLACK_TWO_PI_OVER_SQRT_27 1.2091995761561452337
#define BLACK_SQRT_PI_OVER_TWO 1.2533141373155002512
/* Rational cubic control bounds (Delbourgo & Gregory via Jaeckel). */
#define BLACK_RC_MIN (-(1.0 - 1.4901161193847656e-08))
#define BLACK_RC_MAX (2.0 / (DBL_EPSILON * DBL_EPSILON))
/* Below t = s/2 of 2 eps^(1/6) the two erfcx terms cancel too much; the
 * midpoint Taylor series in t takes over. */
#define BLACK_SMALL_T 0.0049215666011518482
#define BLACK_ITERATIONS 2
/* A subnormal price has lost bits, and so has the rational guess built from
 * it: iterate to convergence (the bracket keeps it safe) instead of twice. */
#define BLACK_ITERATIONS_SUBNORMAL 12

static double sq(double v)
{
  return v * v;
}

static int below_horizon(double v)
{
  return fabs(v) < DBL_MIN;
}

/* exp(-z*z/2) without the rounding of z*z: the product is split exactly
 * (fma) so the tails keep full relative precision.  Results below DBL_MIN
 * are formed with one rounding only. */
static double exp_minus_half_sq(double z)
{
  double hi = z * z, lo = fma(z, z, -hi);
  double corr = 1.0 - 0.5 * lo;
  if (hi > 1400.0)
    return exp(-0.5 * hi + 600.0) * corr * exp(-600.0);
  return exp(-0.5 * hi) * corr;
}

/* Scaled complementary error function exp(u^2) erfc(u).  libm's erfc is
 * accurate to an ulp or so; the exp(u^2) factor is formed from the exact
 * split of u^2.  Large u uses the asymptotic series (its smallest term is
 * ~exp(-u^2), far below eps for u >= 8). */
static double erfcx(double u)
{
  if (u >= 8.0) {
    double r = 1.0 / (2.0 * u * u), term = 1.0, sum = 1.0;
    for (int n = 1; n < 60; n++) {
      term *= -(2.0 * n - 1.0) * r;
      sum += term;
      if (fabs(term) < 1e-17 * sum)
        break;
    }
    return BLACK_INV_SQRT_PI / u * sum;
  }
  double hi = u * u, lo = fma(u, u, -hi);
  return exp(hi) * (1.0 + lo) * erfc(u);
}

double black_norm_pdf(double x)
{
  return BLACK_INV_SQRT_2PI * exp_minus_half_sq(x);
}

/* Below -1 the cdf is erfcx(-x/sqrt2)/2 * exp(-x^2/2): erfcx is insensitive
 * to the rounding of x/sqrt2 (relative slope ~1/u), unlike erfc (slope ~2u),
 * which would cost |x|^2 ulps at x = -38. */
double black_norm_cdf(double x)
{
  if (isnan(x))
    return x;
  if (isinf(x))
    return x > 0.0 ? 1.0 : 0.0;
  if (x < -1.0)
    return 0.5 * erfcx(-x * BLACK_SQRT_HALF) * exp_minus_half_sq(x);
  if (x <= 1.0)
    return 0.5 * erfc(-x * BLACK_SQRT_HALF);
  return 1.0 - 0.5 * erfcx(x * BLACK_SQRT_HALF) * exp_minus_half_sq(x);
}

/* Inverse normal cdf: Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4), then
 * two Halley steps on the accurate cdf (cubic convergence: ~1e-10, then
 * below eps).  Relative precision holds in the tails down to DBL_MIN. */
double black_norm_inv(double p)
{
  if (!(p > 0.0 && p < 1.0)) {
    if (p == 0.0)
      return -INFINITY;
    if (p == 1.0)
      return INFINITY;
    return NAN;
  }
  double q = p < 0.5 ? p : 1.0 - p;
  double t = sqrt(-2.0 * log(q));
  double z = t - (2.515517 + t * (0.802853 + t * 0.010328)) /
                     (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308)));
  if (p < 0.5)
    z = -z;
  for (int i = 0; i < 2; i++) {
    /* Work on the smaller tail so that the residual keeps its digits. */
    double e = z < 0.0 ? black_norm_cdf(z) - p : (1.0 - p) - black_norm_cdf(-z);
    double u = e * BLACK_SQRT_2PI / exp_minus_half_sq(z);
    z -= u / (1.0 + 0.5 * z * u);
  }
  return z;
}

/* ---- normalised Black function, call, x <= 0 ---- */

/* Time-value form with h = x/s, t = s/2:
 * b = exp(-(h^2+t^2)/2)/2 * [erfcx(-(h+t)/sqrt2) - erfcx(-(h-t)/sqrt2)].
 * Both arguments are positive when h + t <= 0.85 and x <= 0. */
static double nb_erfcx(double h, double t)
{
  double scale = 0.5 * exp(-0.5 * (h * h + t * t));
  return scale * (erfcx(-(h + t) * BLACK_SQRT_HALF) - erfcx(-(h - t) * BLACK_SQRT_HALF));
}

/* Small t: the erfcx difference as an odd Taylor series around the midpoint
 * z0 = -h/sqrt2 with half-width d = t/sqrt2, using the derivative recurrence
 * Y' = 2zY - 2/sqrtpi, Y^(n+1) = 2z Y^(n) + 2n Y^(n-1).  Terms to d^9 keep
 * the truncation below eps for t < BLACK_SMALL_T. */
static double nb_small_t(double h, double t)
{
  double z = -h * BLACK_SQRT_HALF, d = t * BLACK_SQRT_HALF;
  double y[10];
  y[0] = erfcx(z);
  y[1] = 2.0 * z * y[0] - 2.0 * BLACK_INV_SQRT_PI;
  for (int n = 1; n < 9; n++)
    y[n + 1] = 2.0 * z * y[n] + 2.0 * n * y[n - 1];
  double d2 = d * d, sum = 0.0, fact = 1.0, pw = d;
  for (int k = 1; k <= 9; k += 2) {
    sum += y[k] * pw / fact;
    pw *= d2;
    fact *= (double)(k + 1) * (k + 2);
  }
  return -exp(-0.5 * (h * h + t * t)) * sum;
}

/* Direct form, for b close to b_max where the first term dominates. */
static double nb_cdf(double x, double s)
{
  double h = x / s, t = 0.5 * s;
  double b = exp(0.5 * x) * black_norm_cdf(h + t) - exp(-0.5 * x) * black_norm_cdf(h - t);
  return b > 0.0 ? b : 0.0;
}

/* Normalised out-of-the-money call price, x <= 0, s >= 0. */
static double nb_otm(double x, double s)
{
  if (!(s > 0.0))
    return 0.0;
  if (isinf(s))
    return exp(0.5 * x);
  double h = x / s, t = 0.5 * s;
  if (x == 0.0)
    return erf(t * BLACK_SQRT_HALF);
  if (t < BLACK_SMALL_T)
    return nb_small_t(h, t);
  if (h + t > 0.85)
    return nb_cdf(x, s);
  return nb_erfcx(h, t);
}

/* b_max - b for x <= 0, computed without the subtraction:
 * exp(x/2) N(-(h+t)) + exp(-x/2) N(h-t). */
static double nb_otm_complement(double x, double s)
{
  double h = x / s, t = 0.5 * s;
  return exp(0.5 * x) * black_norm_cdf(-(h + t)) + exp(-0.5 * x) * black_norm_cdf(h - t);
}

/* db/ds = exp(-(h^2+t^2)/2)/sqrt(2pi). */
static double nb_vega(double x, double s)
{
  double h = x / s, t = 0.5 * s;
  return BLACK_INV_SQRT_2PI * exp(-0.5 * (h * h + t * t));
}

/* ---- rational cubic interpolation (Delbourgo & Gregory 1985) ---- */

static double rc_interpolate(double x, double xl, double xr, double yl, double yr, double dl,
                             double dr, double r)
{
  double h = xr - xl;
  if (fabs(h) <= 0.0)
    return 0.5 * (yl + yr);
  double t = (x - xl) / h;
  if (!(r >= BLACK_RC_MAX)) {
    double omt = 1.0 - t, t2 = t * t, omt2 = omt * omt;
    return (yr * t2 * t + (r * yr - h * dr) * t2 * omt + (r * yl + h * dl) * t * omt2 +
            yl * omt2 * omt) /
           (1.0 + (r - 3.0) * t * omt);
  }
  return yr * t + yl * (1.0 - t);
}

static double rc_fit_left(double xl, double xr, double yl, double yr, double dl, double dr,
                          double d2l)
{
  double h = xr - xl, num = 0.5 * h * d2l + (dr - dl);
  if (below_horizon(num))
    return 0.0;
  double den = (yr - yl) / h - dl;
  if (below_horizon(den))
    return num > 0.0 ? BLACK_RC_MAX : BLACK_RC_MIN;
  return num / den;
}

static double rc_fit_right(double xl, double xr, double yl, double yr, double dl, double dr,
                           double d2r)
{
  double h = xr - xl, num = 0.5 * h * d2r + (dr - dl);
  if (below_horizon(num))
    return 0.0;
  double den = dr - (yr - yl) / h;
  if (below_horizon(den))
    return num > 0.0 ? BLACK_RC_MAX : BLACK_RC_MIN;
  return num / den;
}

/* Smallest control parameter that keeps the interpolant monotone and
 * convex/concave where the data are (Delbourgo & Gregory (3.8), (3.18)). */
static double rc_min_control(double dl, double dr, double s, int prefer_shape)
{
  int monotonic = dl * s >= 0.0 && dr * s >= 0.0;
  int convex = dl <= s && s <= dr, concave = dl >= s && s >= dr;
  if (!monotonic && !convex && !concave)
    return BLACK_RC_MIN;
  double r1 = -DBL_MAX, r2 = -DBL_MAX;
  if (monotonic) {
    if (!below_horizon(s))
      r1 = (dr + dl) / s;
    else if (prefer_shape)
      r1 = BLACK_RC_MAX;
  }
  if (convex || concave) {
    double s_m_dl = s - dl, dr_m_s = dr - s, dr_m_dl = dr - dl;
    if (!(below_horizon(s_m_dl) || below_horizon(dr_m_s)))
      r2 = fmax(fabs(dr_m_dl / dr_m_s), fabs(dr_m_dl / s_m_dl));
    else if (prefer_shape)
      r2 = BLACK_RC_MAX;
  } else if (monotonic && prefer_shape) {
    r2 = BLACK_RC_MAX;
  }
  return fmax(BLACK_RC_MIN, fmax(r1, r2));
}

static double rc_convex_left(double xl, double xr, double yl, double yr, double dl, double dr,
                             double d2l, int prefer_shape)
{
  double r = rc_fit_left(xl, xr, yl, yr, dl, dr, d2l);
  return fmax(r, rc_min_control(dl, dr, (yr - yl) / (xr - xl), prefer_shape));
}

static double rc_convex_right(double xl, double xr, double yl, double yr, double dl, double dr,
                              double d2r, int prefer_shape)
{
  double r = rc_fit_right(xl, xr, yl, yr, dl, dr, d2r);
  return fmax(r, rc_min_control(dl, dr, (yr - yl) / (xr - xl), prefer_shape));
}

/* ---- Jaeckel's lower and upper maps ---- */

/* f(b) = 2pi/sqrt27 |x| N(-|x|/(sqrt3 s))^3 as a function of b near 0, with
 * df/db and d2f/db2 at s. */
static void lower_map(double x, double s, double *f, double *fp, double *fpp)
{
  double ax = fabs(x), z = BLACK_SQRT_ONE_THIRD * ax / s, y = z * z, s2 = s * s;
  double Phi = black_norm_cdf(-z), phi = black_norm_pdf(z);
  *fpp = BLACK_PI_OVER_SIX * y / (s2 * s) * Phi *
         (8.0 * BLACK_SQRT_THREE * s * ax + (3.0 * s2 * (s2 - 8.0) - 8.0 * x * x) * Phi / phi) *
         exp(2.0 * y + 0.25 * s2);
  if (below_horizon(s)) {
    *fp = 1.0;
    *f = 0.0;
    return;
  }
  double Phi2 = Phi * Phi;
  *fp = BLACK_TWO_PI * y * Phi2 * exp(y + 0.125 * s2);
  *f = below_horizon(x) ? 0.0 : BLACK_TWO_PI_OVER_SQRT_27 * ax * (Phi2 * Phi);
}

/* Only f = 0 maps to s = 0: a subnormal f (a price near 1e-310) still
 * carries the vol to ~1e-9/h^2 relative, so it is inverted, not zeroed. */
static double lower_map_inverse(double x, double f)
{
  if (!(f > 0.0))
    return 0.0;
  double p = cbrt(f / (BLACK_TWO_PI_OVER_SQRT_27 * fabs(x)));
  return fabs(x / (BLACK_SQRT_THREE * black_norm_inv(p)));
}

/* f(b) = N(-s/2) near b_max, with df/db and d2f/db2 at s. */
static void upper_map(double x, double s, double *f, double *fp, double *fpp)
{
  *f = black_norm_cdf(-0.5 * s);
  if (below_horizon(x)) {
    *fp = -0.5;
    *fpp = 0.0;
    return;
  }
  double w = sq(x / s);
  *fp = -0.5 * exp(0.5 * w);
  *fpp = BLACK_SQRT_PI_OVER_TWO * exp(w + 0.125 * s * s) * w / s;
}

static double upper_map_inverse(double f)
{
  return -2.0 * black_norm_inv(f);
}

static double householder_factor(double newton, double halley, double hh3)
{
  return (1.0 + 0.5 * halley * newton) / (1.0 + newton * (halley + hh3 * newton / 6.0));
}

/* Bracket bookkeeping shared by the three iterations: returns the step to
 * use when the last one left the bracket or oscillated (bisection), or NAN
 * when the Householder step should be taken. */
struct nb_iter {
  double s, ds, ds_prev, s_left, s_right;
  int reversals;
  int n_max; /* iteration cap */
};

static int iter_guard(struct nb_iter *it, int i)
{
  if (it->ds * it->ds_prev < 0.0)
    it->reversals++;
  if (i > 0 && (it->reversals == 3 || !(it->s > it->s_left && it->s < it->s_right))) {
    it->s = 0.5 * (it->s_left + it->s_right);
    if (it->s_right - it->s_left <= DBL_EPSILON * it->s)
      return 1;
    it->reversals = 0;
    it->ds = 0.0;
  }
  it->ds_prev = it->ds;
  return 0;
}

static void iter_tighten(struct nb_iter *it, double b, double beta)
{
  if (b > beta && it->s < it->s_right)
    it->s_right = it->s;
  else if (b < beta && it->s > it->s_left)
    it->s_left = it->s;
}

/* Low wing: g(s) = 1/ln b(s) - 1/ln beta. */
static double solve_low(double beta, double x, struct nb_iter *it)
{
  for (int i = 0; i < it->n_max && fabs(it->ds) > DBL_EPSILON * it->s; i++) {
    if (iter_guard(it, i))
      break;
    double s = it->s, b = nb_otm(x, s), bp = nb_vega(x, s);
    iter_tighten(it, b, beta);
    if (b <= 0.0 || bp <= 0.0) {
      it->ds = 0.5 * (it->s_left + it->s_right) - s;
    } else {
      double ln_b = log(b), ln_beta = log(beta), bpob = bp / b, h = x / s;
      double b_halley = h * h / s - s / 4.0;
      double newton = (ln_beta - ln_b) * ln_b / ln_beta / bpob;
      double halley = b_halley - bpob * (1.0 + 2.0 / ln_b);
      double b_hh3 = b_halley * b_halley - 3.0 * sq(h / s) - 0.25;
      double hh3 = b_hh3 + 2.0 * sq(bpob) * (1.0 + 3.0 / ln_b * (1.0 + 1.0 / ln_b)) -
                   3.0 * b_halley * bpob * (1.0 + 2.0 / ln_b);
      it->ds = newton * householder_factor(newton, halley, hh3);
    }
    it->ds = fmax(-0.5 * s, it->ds);
    it->s = s + it->ds;
  }
  return it->s;
}

/* Near the bound: g(s) = ln((b_max - beta)/(b_max - b(s))); b_max - b is
 * evaluated directly, not by subtraction. */
static double solve_high(double beta, double x, double b_max, struct nb_iter *it)
{
  for (int i = 0; i < it->n_max && fabs(it->ds) > DBL_EPSILON * it->s; i++) {
    if (iter_guard(it, i))
      break;
    double s = it->s, bc = nb_otm_complement(x, s), b = b_max - bc, bp = nb_vega(x, s);
    iter_tighten(it, b, beta);
    if (bc <= 0.0 || bp <= DBL_MIN) {
      it->ds = 0.5 * (it->s_left + it->s_right) - s;
    } else {
      double g = log((b_max - beta) / bc), gp = bp / bc;
      double b_halley = sq(x / s) / s - s / 4.0;
      double b_hh3 = b_halley * b_halley - 3.0 * sq(x / (s * s)) - 0.25;
      double newton = -g / gp, halley = b_halley + gp,
             hh3 = b_hh3 + gp * (2.0 * gp + 3.0 * b_halley);
      it->ds = newton * householder_factor(newton, halley, hh3);
    }
    it->ds = fmax(-0.5 * s, it->ds);
    it->s = s + it->ds;
  }
  return it->s;
}

/* Middle: g(s) = b(s) - beta. */
static double solve_mid(double beta, double x, struct nb_iter *it)
{
  for (int i = 0; i < it->n_max && fabs(it->ds) > DBL_EPSILON * it->s; i++) {
    if (iter_guard(it, i))
      break;
    double s = it->s, b = nb_otm(x, s), bp = nb_vega(x, s);
    iter_tighten(it, b, beta);
    double newton = (beta - b) / bp, halley = sq(x / s) / s - s / 4.0;
    double hh3 = halley * halley - 3.0 * sq(x / (s * s)) - 0.25;
    it->ds = fmax(-0.5 * s, newton * householder_factor(newton, halley, hh3));
    it->s = s + it->ds;
  }
  return it->s;
}

/* s = sigma sqrt(T) with b(x, s) = beta, for x <= 0 and 0 < beta < exp(x/2). */
static double nb_implied_s(double beta, double x)
{
  double b_max = exp(0.5 * x);
  struct nb_iter it = {.s = -DBL_MAX,
                       .ds = -DBL_MAX,
                       .ds_prev = 0.0,
                       .s_left = DBL_MIN,
                       .s_right = DBL_MAX,
                       .reversals = 0,
                       .n_max = beta < DBL_MIN ? BLACK_ITERATIONS_SUBNORMAL : BLACK_ITERATIONS};
  double s_c = sqrt(fabs(2.0 * x)), b_c = nb_otm(x, s_c), v_c = nb_vega(x, s_c);
  if (beta < b_c) {
    double s_l = s_c - b_c / v_c, b_l = nb_otm(x, s_l);
    if (beta < b_l) {
      double f_l, fp_l, fpp_l;
      lower_map(x, s_l, &f_l, &fp_l, &fpp_l);
      double r_ll = rc_convex_right(0.0, b_l, 0.0, f_l, 1.0, fp_l, fpp_l, 1);
      double f = rc_interpolate(beta, 0.0, b_l, 0.0, f_l, 1.0, fp_l, r_ll);
      if (!(f > 0.0)) {
        /* Round-off for extreme |x|: quadratic through f(0)=0, f'(0)=1, f(b_l). */
        double t = beta / b_l;
        f = (f_l * t + b_l * (1.0 - t)) * t;
      }
      it.s = lower_map_inverse(x, f);
      it.s_right = s_l;
      return solve_low(beta, x, &it);
    }
    double v_l = nb_vega(x, s_l);
    double r_lm = rc_convex_right(b_l, b_c, s_l, s_c, 1.0 / v_l, 1.0 / v_c, 0.0, 0);
    it.s = rc_interpolate(beta, b_l, b_c, s_l, s_c, 1.0 / v_l, 1.0 / v_c, r_lm);
    it.s_left = s_l;
    it.s_right = s_c;
    return solve_mid(beta, x, &it);
  }
  double s_h = v_c > DBL_MIN ? s_c + (b_max - b_c) / v_c : s_c, b_h = nb_otm(x, s_h);
  if (beta <= b_h) {
    double v_h = nb_vega(x, s_h);
    double r_hm = rc_convex_left(b_c, b_h, s_c, s_h, 1.0 / v_c, 1.0 / v_h, 0.0, 0);
    it.s = rc_interpolate(beta, b_c, b_h, s_c, s_h, 1.0 / v_c, 1.0 / v_h, r_hm);
    it.s_left = s_c;
    it.s_right = s_h;
    return solve_mid(beta, x, &it);
  }
  double f_h, fp_h, fpp_h, f = -DBL_MAX;
  upper_map(x, s_h, &f_h, &fp_h, &fpp_h);
  if (fpp_h > -1.3407807929942596e154 && fpp_h < 1.3407807929942596e154) {
    double r_hh = rc_convex_left(b_h, b_max, f_h, 0.0, fp_h, -0.5, fpp_h, 1);
    f = rc_interpolate(beta, b_h, b_max, f_h, 0.0, fp_h, -0.5, r_hh);
  }
  if (f <= 0.0) {
    /* Quadratic through f(b_h), f(b_max)=0, f'(b_max)=-1/2. */
    double h = b_max - b_h, t = (beta - b_h) / h;
    f = (f_h * (1.0 - t) + 0.5 * h * t) * (1.0 - t);
  }
  it.s = upper_map_inverse(f);
  it.s_left = s_h;
  if (beta > 0.5 * b_max)
    return solve_high(beta, x, b_max, &it);
  return solve_mid(beta, x, &it);
}

/* ---- public API ---- */

double black_price(double F, double K, double sigma, double T_years, int is_call)
{
  if (!(F > 0.0 && K > 0.0 && T_years >= 0.0 && sigma >= 0.0) || isinf(F) || isinf(K))
    return NAN;
  double intrinsic = is_call ? fmax(F - K, 0.0) : fmax(K - F, 0.0);
  double s = sigma * sqrt(T_years);
  /* The out-of-the-money twin carries the time value: x <= 0 as a call. */
  double x = -fabs(log(F / K));
  return intrinsic + sqrt(F * K) * nb_otm(x, s);
}

double black_vega(double F, double K, double sigma, double T_years)
{
  if (!(F > 0.0 && K > 0.0 && T_years >= 0.0 && sigma >= 0.0))
    return NAN;
  double sqrt_t = sqrt(T_years), s = sigma * sqrt_t;
  if (!(s > 0.0))
    return 0.0;
  return sqrt(F * K) * nb_vega(log(F / K), s) * sqrt_t;
}

double black_iv(double price, double F, double K, double T_years, int is_call)
{
  if (!(F > 0.0 && K > 0.0 && T_years > 0.0 && price > 0.0) || isinf(F) || isinf(K) ||
      isinf(T_years))
    return NAN;
  double intrinsic = is_call ? fmax(F - K, 0.0) : fmax(K - F, 0.0);
  double bound = is_call ? F : K;
  if (!(price > intrinsic && price < bound))
    return NAN;
  double x = -fabs(log(F / K));
  double beta = (price - intrinsic) / sqrt(F * K);
  if (!(beta > 0.0 && beta < exp(0.5 * x)))
    return NAN;
  double s = nb_implied_s(beta, x);
  if (!(s > 0.0) || isinf(s))
    return NAN;
  return s / sqrt(T_years);
}

double black_iv_coin(double price_in_coin, double F, double K, double T_years, int is_call)
{
  return black_iv(price_in_coin * F, F, K, T_years, is_call);
}

double black_delta(double F, double K, double sigma, double T_years, int is_call,
                   int premium_adjusted)
{
  if (!(F > 0.0 && K > 0.0 && T_years >= 0.0 && sigma >= 0.0))
    return NAN;
  double x = log(F / K), s = sigma * sqrt(T_years), d1, d2;
  if (s > 0.0) {
    d1 = x / s + 0.5 * s;
    d2 = d1 - s;
  } else {
    /* Zero vol: the delta of the intrinsic value (1/2 at the money). */
    d1 = x > 0.0 ? INFINITY : (x < 0.0 ? -INFINITY : 0.0);
    d2 = d1;
  }
  if (premium_adjusted) {
    double kf = K / F;
    return is_call ? kf * black_norm_cdf(d2) : -kf * black_norm_cdf(-d2);
  }
  return is_call ? black_norm_cdf(d1) : -black_norm_cdf(-d1);
}
