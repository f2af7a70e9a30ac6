/* svi_lm: the Levenberg-Marquardt raw-SVI fitter core, shared word for word
 * by the CPU fitter (host/fit.c) and the CUDA kernels (kernels/fit_gpu.cu).
 *
 * Plain C11 that nvcc also compiles as device code: every function is
 * SVI_LM_HD static inline, allocates nothing, and streams over the points of
 * one slice (no per-point scratch), so one thread (or warp) fits one slice.
 * This header is the single definition of the algorithm: start guess,
 * constraints, step control and stopping rule; the CPU and GPU differ only in
 * how they schedule slices.
 *
 * Problem: minimise sum_i wt_i^2 (w(k_i; p) - w_i)^2 over p = (a,b,rho,m,sigma)
 * subject to  b >= 0, |rho| <= SVI_LM_RHO_MAX, sigma in [sigma_min, sigma_max],
 * a + b sigma sqrt(1-rho^2) >= 0, b(1+|rho|) <= 2 (Lee), m in
 * [k_min - m_pad, k_max + m_pad].  See docs/calibration.md for the weights.
 *
 * Algorithm (docs/calibration.md has the reasoning):
 *  1. Scan (one pass): k_min/k_max, non-finite values, points with a
 *     positive weight, and the (m, sigma)-free weighted moments.  Non-finite
 *     data -> SVI_LM_NONFINITE, fewer than SVI_LM_MIN_POINTS points (or
 *     weighted points) -> SVI_LM_TOO_FEW; p is NaN then.
 *  2. Start (quasi-explicit, Zeliade 2009): for fixed (m, sigma),
 *     w = a + d y + c sqrt(y^2+1), y = (k-m)/sigma, is linear in (a, d, c):
 *     three sums per candidate (the others follow from the scan's moments;
 *     up to SVI_LM_QE_BATCH candidates share one pass) and a 3x3 solve
 *     with 0 <= c, |d| <= c (interior solution, else the best of the faces
 *     d = c, d = -c, c = d = 0), then Lee clamp (c + |d| <= 2 sigma, scaling
 *     c and d and refitting a).  Searched on a start_grid x start_grid grid
 *     -- m evenly over [k_min, k_max], sigma log-spaced over [span/50, span],
 *     span = k_max - k_min, clamped to [sigma_min, sigma_max] -- then
 *     refined by a compass search on the reduced objective SSE(m, sigma)
 *     (8 neighbours, steps halved when none improves, SVI_LM_REFINE_EVALS
 *     evaluations).  Lowest SSE wins, first on ties.
 *  3. Warm start: a valid 'warm' (finite, b >= 0, |rho| < 1, sigma > 0) is
 *     projected and its exact SSE computed; the fit starts from it (status
 *     SVI_LM_WARM, lambda0 SVI_LM_LAMBDA0_WARM, refinement skipped) unless
 *     the start grid's best has less than SVI_LM_WARM_MARGIN times its SSE:
 *     then the market moved enough that the old shape is not the better
 *     basin, and the cold path runs.
 *  4. LM with projection: r_i = wt_i (w(k_i;p) - w_i), analytic Jacobian;
 *     one fused pass per trial point gives the SSE and 14 moments from
 *     which J^T J and J^T r are assembled (one sqrt and one division per
 *     point).  Step: (J^T J + lambda D) v = -J^T r, D = diag(J^T J) floored
 *     at 1e-12 max diag, guarded 5x5 Cholesky in registers; parameters on a
 *     bound with the gradient pushing out are frozen for that step (their
 *     row is the identity).  Geodesic acceleration (Transtrum & Sethna
 *     2012) from the analytic second directional derivative (one more
 *     pass), on the first iteration and after a rejected or poorly
 *     predicted trial (gain below SVI_LM_ACCEL_GAIN): step v + a/2 while
 *     2|a|/|v| <= SVI_LM_ACCEL_ALPHA, else v.  The trial point is projected
 *     onto the constraints (b >= 0, rho, sigma, m clamps, then Lee on b,
 *     then a >= -b sigma sqrt(1-rho^2)) and accepted iff its SSE is
 *     strictly lower.  lambda: SVI_LM_LAMBDA0 (cold), then Nielsen's update
 *     (x max(1/3, 1-(2g-1)^3) on accept, g the gain ratio; x nu, nu
 *     doubling, on reject or a failed factorisation).
 *  5. Stop (SVI_LM_CONVERGED): the linear model predicts a relative SSE
 *     decrease below tol_rel_sse with lambda < 1 (no trial pass spent); an
 *     accepted step whose relative SSE decrease is below tol_rel_sse or
 *     whose step is below tol_step (|p| + tol_step); SSE at the rounding
 *     floor of the data (1e-26 sum (wt w)^2); free gradient exactly 0;
 *     lambda above 1e16 (no descent at working precision).  Otherwise
 *     SVI_LM_MAX_ITER after max_iter trial iterations.  SVI_LM_BOUND when a
 *     constraint is active at p.
 *
 * Lanes: every per-point loop runs i = lane, lane + n_lanes, ...; every sum,
 * min and max goes through svi_lm_allreduce_*, so all control decisions use
 * lane-identical values.  n_lanes is 1 (CPU, any thread) or 32 (one warp per
 * slice on the GPU; the xor butterfly gives bitwise identical sums on every
 * lane because a + b == b + a in IEEE arithmetic).  Sums on the GPU are
 * taken in a different order than on the CPU, so the two agree to rounding,
 * not bitwise. */
#ifndef VOLSURF_SVI_LM_H
#define VOLSURF_SVI_LM_H

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define SVI_LM_HD __host__ __device__ static inline
#else
#define SVI_LM_HD static inline
#endif

/* Raw SVI parameters; total variance w(k) = a + b(rho(k-m) + sqrt((k-m)^2+sigma^2)). */
struct svi {
  double a, b, rho, m, sigma;
};

/* Status bits of a fit (svi_lm_result.status).  The first group is set by the
 * solver, the second by host/diag.c after the fit. */
enum {
  SVI_LM_CONVERGED = 1u << 0, /* stopping rule met */
  SVI_LM_MAX_ITER = 1u << 1,  /* iteration cap reached first */
  SVI_LM_TOO_FEW = 1u << 2,   /* fewer than SVI_LM_MIN_POINTS points: not fitted */
  SVI_LM_BOUND = 1u << 3,     /* a constraint is active at the solution */
  SVI_LM_NONFINITE = 1u << 4, /* NaN or Inf met in data or iteration */
  SVI_LM_WARM = 1u << 5,      /* started from the warm-start parameters */
  FIT_BUTTERFLY = 1u << 8,    /* Durrleman g < 0 somewhere on the check grid */
  FIT_CALENDAR = 1u << 9,     /* total variance crosses a neighbouring expiry */
  FIT_LEE = 1u << 10,         /* b(1+|rho|) > 2 */
  FIT_POOR = 1u << 11,        /* RMSE in vol above the configured bound */
  FIT_STALE = 1u << 12        /* the slice's quotes are stale */
};

#define SVI_LM_MIN_POINTS 5
#define SVI_LM_RHO_MAX 0.999

struct svi_lm_config {
  int max_iter;       /* fixed iteration cap (default 60) */
  double tol_rel_sse; /* stop when the relative SSE decrease of an accepted step is below this */
  double tol_step;    /* ... or the relative parameter step is below this */
  double m_pad;       /* m within [k_min - m_pad, k_max + m_pad] */
  double sigma_min, sigma_max;
  int start_grid; /* quasi-explicit start: start_grid x start_grid (m, sigma) grid */
};

/* Result of one fit.  sse is the weighted sum of squares at p; rmse_w the
 * unweighted RMSE in total variance. */
struct svi_lm_result {
  struct svi p;
  unsigned status;
  int n_iter;
  int n_points;
  double sse;
  double rmse_w;
  double fit_time_us; /* CPU: this fit; GPU: batch time / n_slices */
};

/* A batch in structure-of-arrays form: the layout the GPU takes.  The points
 * of slice i are [offset[i], offset[i+1]); k = ln(K/F), w = iv^2 T, wt = the
 * residual weight.  warm may be NULL (no warm starts); otherwise warm[i] is
 * used when has_warm[i] is non-zero.  Everything is borrowed. */
struct svi_lm_batch {
  int64_t n_slices;
  const int64_t *offset;
  const double *k, *w, *wt;
  const double *T_years;
  const struct svi *warm;
  const unsigned char *has_warm;
};

/* The quasi-explicit start must beat the warm start's SSE by this factor
 * (its SSE below 0.5 x the warm SSE) to replace it. */
#define SVI_LM_WARM_MARGIN 0.5
/* Most points of the start grid per axis (the grid is computed on the fly;
 * the cap only bounds the work). */
#define SVI_LM_MAX_START_GRID 16
/* Evaluations of the compass refinement after the start grid. */
#define SVI_LM_REFINE_EVALS 16
/* Initial LM damping (relative to diag(J^T J)): a cold start is a grid
 * point, a warm start is usually within a Gauss-Newton step of the answer. */
#define SVI_LM_LAMBDA0 1e-4
/* Geodesic acceleration is used while 2|a|/|v| stays below this
 * (Transtrum & Sethna's alpha). */
#define SVI_LM_ACCEL_ALPHA 0.75
/* ... and only after a trial whose gain ratio (actual / predicted SSE
 * decrease) was below this, or a rejected one: near the solution the model
 * is linear and the extra pass is pure cost. */
#define SVI_LM_ACCEL_GAIN 0.75
#define SVI_LM_LAMBDA0_WARM 1e-6

/* Number of values one fused pass reduces: 9 moments that give J^T J, 5
 * residual moments that give J^T r, weighted SSE, unweighted sum of squares
 * (svi_lm_pass, svi_lm_normal). */
#define SVI_LM_NACC 16
#define SVI_LM_ACC_SSE 14
#define SVI_LM_ACC_SSU 15

/* Sums v[0..len) over the n_lanes lanes of a warp, leaving the total on
 * every lane.  Identity when n_lanes == 1 (the CPU, and any single-thread
 * device fit). */
SVI_LM_HD void svi_lm_allreduce_sum(double *v, int len, int n_lanes)
{
#if defined(__CUDA_ARCH__)
  if (n_lanes == 32) {
    for (int j = 0; j < len; j++) {
      double x = v[j];
      for (int o = 16; o > 0; o >>= 1)
        x += __shfl_xor_sync(0xffffffffu, x, o);
      v[j] = x;
    }
  }
#else
  (void)v;
  (void)len;
  (void)n_lanes;
#endif
}

/* Minimum of v[0..len) over the lanes (fmin ignores NaN). */
SVI_LM_HD void svi_lm_allreduce_min(double *v, int len, int n_lanes)
{
#if defined(__CUDA_ARCH__)
  if (n_lanes == 32) {
    for (int j = 0; j < len; j++) {
      double x = v[j];
      for (int o = 16; o > 0; o >>= 1)
        x = fmin(x, __shfl_xor_sync(0xffffffffu, x, o));
      v[j] = x;
    }
  }
#else
  (void)v;
  (void)len;
  (void)n_lanes;
#endif
}

/* Maximum of v[0..len) over the lanes. */
SVI_LM_HD void svi_lm_allreduce_max(double *v, int len, int n_lanes)
{
#if defined(__CUDA_ARCH__)
  if (n_lanes == 32) {
    for (int j = 0; j < len; j++) {
      double x = v[j];
      for (int o = 16; o > 0; o >>= 1)
        x = fmax(x, __shfl_xor_sync(0xffffffffu, x, o));
      v[j] = x;
    }
  }
#else
  (void)v;
  (void)len;
  (void)n_lanes;
#endif
}

/* The box of the simple bounds; Lee and the minimum-variance bound depend on
 * the other parameters and are applied by svi_lm_project. */
struct svi_lm_box {
  double m_lo, m_hi, s_lo, s_hi;
};

/* Parameter vector order inside the solver: a, b, rho, m, sigma. */
SVI_LM_HD double svi_lm_b_max(double rho)
{
  return 2.0 / (1.0 + fabs(rho));
}

SVI_LM_HD double svi_lm_a_min(const double *x)
{
  return -x[1] * x[4] * sqrt(1.0 - x[2] * x[2]);
}

/* Projects x onto the constraints.  Order matters: the simple clamps first,
 * then Lee on b (needs the clamped rho), then the minimum-variance bound on
 * a (needs b, rho, sigma final).  Idempotent. */
SVI_LM_HD void svi_lm_project(double *x, const struct svi_lm_box *bx)
{
  x[1] = fmax(x[1], 0.0);
  x[2] = fmin(fmax(x[2], -SVI_LM_RHO_MAX), SVI_LM_RHO_MAX);
  x[3] = fmin(fmax(x[3], bx->m_lo), bx->m_hi);
  x[4] = fmin(fmax(x[4], bx->s_lo), bx->s_hi);
  x[1] = fmin(x[1], svi_lm_b_max(x[2]));
  x[0] = fmax(x[0], svi_lm_a_min(x));
}

/* Adds the terms of one point (k_i, w_i, wt_i) to v[SVI_LM_NACC] (see
 * svi_lm_pass); s2 = sigma^2. */
SVI_LM_HD void svi_lm_pass_point(const double *x, double s2, double ki, double wi, double wti,
                                 double *v)
{
  double d = ki - x[3];
  double R = sqrt(d * d + s2);
  double iR = 1.0 / R;
  double q = wti * wti;
  double qd = q * d, qiR = q * iR, qdiR = qd * iR;
  double f = x[2] * d + R;
  double e = x[0] + x[1] * f - wi;
  double qe = q * e;
  v[0] += q;
  v[1] += qd;
  v[2] += qd * d;
  v[3] += q * R;
  v[4] += qd * R;
  v[5] += qiR;
  v[6] += qdiR;
  v[7] += qiR * iR;
  v[8] += qdiR * iR;
  v[9] += qe;
  v[10] += qe * f;
  v[11] += qd * e;
  v[12] += qdiR * e;
  v[13] += qiR * e;
  v[14] += qe * e;
  v[15] += e * e;
}

/* One fused pass at x, reduced over the lanes into acc[SVI_LM_NACC].
 * J^T J is not summed entry by entry: with q = wt^2, d = k - m,
 * R = sqrt(d^2 + sigma^2), every entry is a combination of the nine moments
 * sum q {1, d, d^2, R, dR, 1/R, d/R, 1/R^2, d/R^2} (svi_lm_normal), and J^T r
 * one of sum q e {1, f, d, d/R, 1/R}, e = w(k) - w_i, f = rho d + R.  That is
 * 16 sums instead of 22 and about half the multiplications; the SSE itself
 * is summed from the residuals, never from moments (it must be exact to
 * accept or reject a step near the minimum).  Each lane takes its points in
 * pairs into two independent sets of sums, added at the end (a fixed order,
 * deterministic): two dependency chains per sum instead of one, so the
 * latency of the square root and division of one point overlaps the
 * other's. */
SVI_LM_HD void svi_lm_pass(const double *x, const double *k, const double *w, const double *wt,
                           int n, int lane, int n_lanes, double *acc)
{
  const double s2 = x[4] * x[4];
  double v[SVI_LM_NACC], u[SVI_LM_NACC];
  for (int j = 0; j < SVI_LM_NACC; j++)
    v[j] = u[j] = 0.0;
  int i = lane;
  for (; i + n_lanes < n; i += 2 * n_lanes) {
    svi_lm_pass_point(x, s2, k[i], w[i], wt[i], v);
    svi_lm_pass_point(x, s2, k[i + n_lanes], w[i + n_lanes], wt[i + n_lanes], u);
  }
  if (i < n)
    svi_lm_pass_point(x, s2, k[i], w[i], wt[i], v);
  for (int j = 0; j < SVI_LM_NACC; j++)
    v[j] += u[j];
  svi_lm_allreduce_sum(v, SVI_LM_NACC, n_lanes);
  for (int j = 0; j < SVI_LM_NACC; j++)
    acc[j] = v[j];
}

/* J^T J (H, full) and J^T r (g) at x from the moments of svi_lm_pass.
 * Columns of J/wt: 1, f, b d, -b(rho + d/R), b sigma/R; the identities
 * d^2/R = R - sigma^2/R and d^2/R^2 = 1 - sigma^2/R^2 close the basis. */
SVI_LM_HD void svi_lm_normal(const double *acc, const double *x, double H[5][5], double *g)
{
  const double b = x[1], p = x[2], s = x[4], s2 = s * s, b2 = b * b;
  const double B0 = acc[0], B1 = acc[1], B2 = acc[2], B3 = acc[3], B4 = acc[4];
  const double B5 = acc[5], B6 = acc[6], B7 = acc[7], B8 = acc[8];
  const double d2iR = B3 - s2 * B5;  /* sum q d^2/R */
  const double d2iR2 = B0 - s2 * B7; /* sum q d^2/R^2 */
  H[0][0] = B0;
  H[0][1] = p * B1 + B3;
  H[0][2] = b * B1;
  H[0][3] = -b * (p * B0 + B6);
  H[0][4] = b * s * B5;
  H[1][1] = p * p * B2 + 2.0 * p * B4 + B2 + s2 * B0;
  H[1][2] = b * (p * B2 + B4);
  H[1][3] = -b * (p * p * B1 + p * d2iR + p * B3 + B1);
  H[1][4] = b * s * (p * B6 + B0);
  H[2][2] = b2 * B2;
  H[2][3] = -b2 * (p * B1 + d2iR);
  H[2][4] = b2 * s * B6;
  H[3][3] = b2 * (p * p * B0 + 2.0 * p * B6 + d2iR2);
  H[3][4] = -b2 * s * (p * B5 + B8);
  H[4][4] = b2 * s2 * B7;
  for (int u = 0; u < 5; u++)
    for (int v = 0; v < u; v++)
      H[u][v] = H[v][u];
  g[0] = acc[9];
  g[1] = acc[10];
  g[2] = b * acc[11];
  g[3] = -b * (p * acc[9] + acc[12]);
  g[4] = b * s * acc[13];
}

/* Cholesky factor of a symmetric 5x5 M, in place (lower triangle).
 * Returns 0, or -1 when a pivot is not positive and finite (the guard: the
 * caller raises lambda and tries again). */
SVI_LM_HD int svi_lm_cholesky(double M[5][5])
{
  for (int j = 0; j < 5; j++) {
    double d = M[j][j];
    for (int l = 0; l < j; l++)
      d -= M[j][l] * M[j][l];
    if (!(d > 0.0) || !isfinite(d))
      return -1;
    d = sqrt(d);
    M[j][j] = d;
    for (int i = j + 1; i < 5; i++) {
      double s = M[i][j];
      for (int l = 0; l < j; l++)
        s -= M[i][l] * M[j][l];
      M[i][j] = s / d;
    }
  }
  return 0;
}

/* Solves L L^T x = rhs in place with the factor of svi_lm_cholesky. */
SVI_LM_HD void svi_lm_cholesky_subst(double L[5][5], double *rhs)
{
  for (int i = 0; i < 5; i++) {
    double s = rhs[i];
    for (int l = 0; l < i; l++)
      s -= L[i][l] * rhs[l];
    rhs[i] = s / L[i][i];
  }
  for (int i = 4; i >= 0; i--) {
    double s = rhs[i];
    for (int l = i + 1; l < 5; l++)
      s -= L[l][i] * rhs[l];
    rhs[i] = s / L[i][i];
  }
}

/* Geodesic acceleration (Transtrum & Sethna 2012), the right-hand side:
 * -J^T r_vv with r_vv_i = wt_i D^2_v w(k_i) the second directional
 * derivative of the model along the LM velocity v, analytically:
 * f = rho d + R, d = k - m, R = sqrt(d^2 + sigma^2),
 * D_v f = v_rho d - rho v_m + (sigma v_sigma - d v_m)/R,
 * D^2_v f = -2 v_rho v_m + (v_m^2 + v_sigma^2)/R - (sigma v_sigma - d v_m)^2/R^3,
 * D^2_v w = 2 v_b D_v f + b D^2_v f.  One pass at x, reduced. */
SVI_LM_HD void svi_lm_accel_rhs(const double *x, const double *v, const double *k, const double *wt,
                                int n, int lane, int n_lanes, double *out)
{
  const double b = x[1], rho = x[2], m = x[3], sg = x[4];
  const double s2 = sg * sg;
  const double vmm = v[3] * v[3] + v[4] * v[4];
  for (int j = 0; j < 5; j++)
    out[j] = 0.0;
  for (int i = lane; i < n; i += n_lanes) {
    double dk = k[i] - m;
    double R = sqrt(dk * dk + s2);
    double iR = 1.0 / R;
    double q = wt[i];
    double h = (sg * v[4] - dk * v[3]) * iR;
    double df = v[2] * dk - rho * v[3] + h;
    double d2f = -2.0 * v[2] * v[3] + (vmm - h * h) * iR;
    double rvv = q * (2.0 * v[1] * df + b * d2f);
    out[0] -= q * rvv;
    out[1] -= q * (rho * dk + R) * rvv;
    out[2] -= q * b * dk * rvv;
    out[3] += q * b * (rho + dk * iR) * rvv;
    out[4] -= q * b * sg * iR * rvv;
  }
  svi_lm_allreduce_sum(out, 5, n_lanes);
}

/* Lower and upper bound of each parameter given the others (the box, Lee on
 * b, minimum variance on a). */
SVI_LM_HD void svi_lm_bounds(const double *x, const struct svi_lm_box *bx, double *lo, double *hi)
{
  lo[0] = svi_lm_a_min(x);
  hi[0] = INFINITY;
  lo[1] = 0.0;
  hi[1] = svi_lm_b_max(x[2]);
  lo[2] = -SVI_LM_RHO_MAX;
  hi[2] = SVI_LM_RHO_MAX;
  lo[3] = bx->m_lo;
  hi[3] = bx->m_hi;
  lo[4] = bx->s_lo;
  hi[4] = bx->s_hi;
}

/* 1 when parameter j sits on a bound: exactly for the clamped ones, to
 * rounding for a (its bound is recomputed from the others). */
SVI_LM_HD int svi_lm_at_lo(const double *x, const double *lo, int j)
{
  if (j == 0)
    return x[0] <= lo[0] + 1e-13 * (fabs(x[0]) + x[1] * x[4]);
  return x[j] <= lo[j];
}

SVI_LM_HD int svi_lm_at_hi(const double *x, const double *hi, int j)
{
  if (j == 1)
    return x[1] >= hi[1] * (1.0 - 1e-14);
  return x[j] >= hi[j];
}

/* Weighted sums of the quasi-explicit reduction at one (m, sigma). */
struct svi_lm_qe {
  double s1, sy, sz, syy, syz, szz, sw, syw, szw, sww;
};

/* SSE of w ~ a + d y + c z from the sums (quadratic form). */
SVI_LM_HD double svi_lm_qe_sse(const struct svi_lm_qe *s, double a, double d, double c)
{
  double lin = a * s->sw + d * s->syw + c * s->szw;
  double quad = a * a * s->s1 + d * d * s->syy + c * c * s->szz +
                2.0 * (a * d * s->sy + a * c * s->sz + d * c * s->syz);
  return s->sww - 2.0 * lin + quad;
}

/* Least squares on w ~ a + c u with u = z + sgn y (the face d = sgn c).
 * Returns 0 and writes (a, c) when c >= 0 is obtained, else -1. */
SVI_LM_HD int svi_lm_qe_face(const struct svi_lm_qe *s, double sgn, double *a, double *c)
{
  double su = s->sz + sgn * s->sy;
  double suu = s->szz + 2.0 * sgn * s->syz + s->syy;
  double suw = s->szw + sgn * s->syw;
  double det = s->s1 * suu - su * su;
  if (!(det > 1e-14 * s->s1 * suu))
    return -1;
  double cc = (s->s1 * suw - su * s->sw) / det;
  if (!(cc >= 0.0))
    return -1;
  *c = cc;
  *a = (s->sw - cc * su) / s->s1;
  return 0;
}

/* The constrained 3x3 solve at one (m, sigma): writes (a, d, c) and returns
 * its SSE.  0 <= c, |d| <= c; then Lee, (c + |d|)/sigma <= 2. */
SVI_LM_HD double svi_lm_qe_solve(const struct svi_lm_qe *s, double sigma, double *pa, double *pd,
                                 double *pc)
{
  /* Always feasible: the flat smile. */
  double a = s->sw / s->s1, d = 0.0, c = 0.0;
  int ok = 0;
  /* Interior: Cramer on the 3x3 normal equations (a, d, c). */
  double A00 = s->s1, A01 = s->sy, A02 = s->sz, A11 = s->syy, A12 = s->syz, A22 = s->szz;
  double c00 = A11 * A22 - A12 * A12;
  double c01 = A02 * A12 - A01 * A22;
  double c02 = A01 * A12 - A02 * A11;
  double det = A00 * c00 + A01 * c01 + A02 * c02;
  if (fabs(det) > 1e-14 * A00 * A11 * A22) {
    double c11 = A00 * A22 - A02 * A02;
    double c12 = A01 * A02 - A00 * A12;
    double c22 = A00 * A11 - A01 * A01;
    double ia = (c00 * s->sw + c01 * s->syw + c02 * s->szw) / det;
    double id = (c01 * s->sw + c11 * s->syw + c12 * s->szw) / det;
    double ic = (c02 * s->sw + c12 * s->syw + c22 * s->szw) / det;
    if (ic >= 0.0 && fabs(id) <= ic) {
      a = ia;
      d = id;
      c = ic;
      ok = 1;
    }
  }
  if (!ok) {
    /* The constrained optimum of a convex QP lies on a face: try both. */
    double best = svi_lm_qe_sse(s, a, 0.0, 0.0);
    for (int f = 0; f < 2; f++) {
      double sgn = f == 0 ? 1.0 : -1.0, fa, fc;
      if (svi_lm_qe_face(s, sgn, &fa, &fc) == 0) {
        double e = svi_lm_qe_sse(s, fa, sgn * fc, fc);
        if (e < best) {
          best = e;
          a = fa;
          d = sgn * fc;
          c = fc;
        }
      }
    }
  }
  if (c + fabs(d) > 2.0 * sigma) {
    double g = 2.0 * sigma / (c + fabs(d));
    c *= g;
    d *= g;
    a = (s->sw - d * s->sy - c * s->sz) / s->s1;
  }
  *pa = a;
  *pd = d;
  *pc = c;
  return svi_lm_qe_sse(s, a, d, c);
}

/* What one scan of the points gives: validity counts, the k range and the
 * weighted moments that do not depend on (m, sigma), taken about k0 = k[0]
 * (q = wt^2, d = k - k0): s0 = sum q, d1 = sum q d, d2 = sum q d^2,
 * w0 = sum q w, wd = sum q w d, sww = sum q w^2. */
struct svi_lm_scan {
  double n_bad, n_pos, k_min, k_max;
  double k0, s0, d1, d2, w0, wd, sww;
};

SVI_LM_HD void svi_lm_scan_points(const double *k, const double *w, const double *wt, int n,
                                  int lane, int n_lanes, struct svi_lm_scan *sc)
{
  double v[8] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  double lo[1] = {INFINITY}, hi[1] = {-INFINITY};
  const double k0 = k[0];
  for (int i = lane; i < n; i += n_lanes) {
    if (!isfinite(k[i]) || !isfinite(w[i]) || !isfinite(wt[i]))
      v[0] += 1.0;
    if (wt[i] > 0.0)
      v[1] += 1.0;
    double q = wt[i] * wt[i], d = k[i] - k0, qw = q * w[i];
    v[2] += q;
    v[3] += q * d;
    v[4] += q * d * d;
    v[5] += qw;
    v[6] += qw * d;
    v[7] += qw * w[i];
    lo[0] = fmin(lo[0], k[i]);
    hi[0] = fmax(hi[0], k[i]);
  }
  svi_lm_allreduce_sum(v, 8, n_lanes);
  svi_lm_allreduce_min(lo, 1, n_lanes);
  svi_lm_allreduce_max(hi, 1, n_lanes);
  sc->n_bad = v[0];
  sc->n_pos = v[1];
  sc->k_min = lo[0];
  sc->k_max = hi[0];
  sc->k0 = k0;
  sc->s0 = v[2];
  sc->d1 = v[3];
  sc->d2 = v[4];
  sc->w0 = v[5];
  sc->wd = v[6];
  sc->sww = v[7];
}

/* A point of the quasi-explicit search: (m, sigma), its linear parameters
 * (a, d, c) and SSE. */
struct svi_lm_qe_pt {
  double m, s, e, abc[3];
};

/* Candidates (m, sigma) evaluated together by one quasi-explicit pass. */
#define SVI_LM_QE_BATCH 8

/* One pass for the candidates (cm[c], 1/sigma = ci[c]), c < width:
 * v[j][c] = sum q z, sum q y z, sum q w z with y = (k - m)/sigma,
 * z = sqrt(y^2 + 1), q = wt^2.  The candidates share the loads and q, and
 * the inner loop over candidates has no cross-iteration dependency; width is
 * a constant at every call (SVI_LM_QE_BATCH or 2), so an optimising
 * compiler turns the loop into vector instructions (several square roots
 * per instruction) without reordering any sum, at -O2 too. */
SVI_LM_HD void svi_lm_qe_pass(const double *k, const double *w, const double *wt, int n,
                              const double *cm, const double *ci, const int width, int lane,
                              int n_lanes, double v[3][SVI_LM_QE_BATCH])
{
  for (int j = 0; j < 3; j++)
    for (int c = 0; c < SVI_LM_QE_BATCH; c++)
      v[j][c] = 0.0;
  for (int i = lane; i < n; i += n_lanes) {
    double ki = k[i], wi = w[i], q = wt[i] * wt[i];
    for (int c = 0; c < width; c++) {
      double y = (ki - cm[c]) * ci[c];
      double qz = q * sqrt(y * y + 1.0);
      v[0][c] += qz;
      v[1][c] += qz * y;
      v[2][c] += qz * wi;
    }
  }
  for (int j = 0; j < 3; j++)
    svi_lm_allreduce_sum(v[j], width, n_lanes);
}

/* The quasi-explicit solve at (m, sigma) from the pass's three z sums; the
 * sums without z follow from the scan's moments (y = (k - m)/sigma is
 * affine in k, z^2 = y^2 + 1).  Writes (a, d, c), returns the SSE. */
SVI_LM_HD double svi_lm_qe_finish(const struct svi_lm_scan *sc, double m, double sg, double sz,
                                  double syz, double szw, double *abc)
{
  double inv = 1.0 / sg, mu = m - sc->k0;
  struct svi_lm_qe s;
  s.s1 = sc->s0;
  s.sy = (sc->d1 - mu * sc->s0) * inv;
  s.syy = (sc->d2 - 2.0 * mu * sc->d1 + mu * mu * sc->s0) * inv * inv;
  s.sz = sz;
  s.syz = syz;
  s.szz = s.syy + sc->s0;
  s.sw = sc->w0;
  s.syw = (sc->wd - mu * sc->w0) * inv;
  s.szw = szw;
  s.sww = sc->sww;
  return svi_lm_qe_solve(&s, sg, &abc[0], &abc[1], &abc[2]);
}

/* Evaluates nc candidates and keeps the first with the lowest SSE below
 * best->e in 'best'.  Returns 1 when best changed. */
SVI_LM_HD int svi_lm_qe_candidates(const double *k, const double *w, const double *wt, int n,
                                   const struct svi_lm_scan *sc, const double *cm, const double *cs,
                                   int nc, int lane, int n_lanes, struct svi_lm_qe_pt *best)
{
  /* Slots past nc repeat the last candidate (a valid point, ignored). */
  double ci[SVI_LM_QE_BATCH], pm[SVI_LM_QE_BATCH], v[3][SVI_LM_QE_BATCH], abc[3];
  int changed = 0;
  for (int c = 0; c < SVI_LM_QE_BATCH; c++) {
    ci[c] = 1.0 / cs[c < nc ? c : nc - 1];
    pm[c] = cm[c < nc ? c : nc - 1];
  }
  if (nc <= 2)
    svi_lm_qe_pass(k, w, wt, n, pm, ci, 2, lane, n_lanes, v);
  else
    svi_lm_qe_pass(k, w, wt, n, pm, ci, SVI_LM_QE_BATCH, lane, n_lanes, v);
  for (int c = 0; c < nc; c++) {
    double e = svi_lm_qe_finish(sc, cm[c], cs[c], v[0][c], v[1][c], v[2][c], abc);
    if (e < best->e) {
      best->e = e;
      best->m = cm[c];
      best->s = cs[c];
      best->abc[0] = abc[0];
      best->abc[1] = abc[1];
      best->abc[2] = abc[2];
      changed = 1;
    }
  }
  return changed;
}

/* The start grid (see the file comment); writes its best point, the steps
 * the refinement starts from and the refinement evaluations already
 * settled (*done).  When the best is interior, its 8 neighbours at the grid
 * spacing are grid points, none better: the refinement's first round is
 * known to fail, so it starts at half the spacing with 8 evaluations done,
 * which is what evaluating that round would have led to, without the pass. */
SVI_LM_HD void svi_lm_start_grid(const double *k, const double *w, const double *wt, int n,
                                 const struct svi_lm_scan *sc, const struct svi_lm_config *c,
                                 int lane, int n_lanes, struct svi_lm_qe_pt *best, double *dm,
                                 double *fs, int *done)
{
  const double k_min = sc->k_min, k_max = sc->k_max;
  int g = c->start_grid;
  if (g < 1)
    g = 1;
  if (g > SVI_LM_MAX_START_GRID)
    g = SVI_LM_MAX_START_GRID;
  double span = k_max - k_min;
  double s_lo = fmin(fmax(span / 50.0, c->sigma_min), c->sigma_max);
  double s_hi = fmin(fmax(span, c->sigma_min), c->sigma_max);
  double ratio = g > 1 ? exp(log(s_hi / s_lo) / (g - 1)) : 2.0;
  double cm[SVI_LM_QE_BATCH], cs[SVI_LM_QE_BATCH];
  int nc = 0;
  best->e = INFINITY;
  best->m = 0.5 * (k_min + k_max);
  best->s = sqrt(s_lo * s_hi);
  best->abc[0] = best->abc[1] = best->abc[2] = 0.0;
  /* Row-major over (m, sigma), SVI_LM_QE_BATCH candidates per pass. */
  for (int im = 0; im < g; im++) {
    double m = g > 1 ? k_min + span * im / (g - 1) : 0.5 * (k_min + k_max);
    double sg = g > 1 ? s_lo : sqrt(s_lo * s_hi);
    for (int is = 0; is < g; is++, sg *= ratio) {
      cm[nc] = m;
      cs[nc] = sg;
      nc++;
      if (nc == SVI_LM_QE_BATCH || (im == g - 1 && is == g - 1)) {
        svi_lm_qe_candidates(k, w, wt, n, sc, cm, cs, nc, lane, n_lanes, best);
        nc = 0;
      }
    }
  }
  *dm = g > 1 ? span / (g - 1) : 0.5 * span;
  *fs = ratio;
  *done = 0;
  if (g >= 3 && best->m > k_min && best->m < k_max && best->s > s_lo * (1.0 + 1e-9) &&
      best->s < s_hi * (1.0 - 1e-9)) {
    *dm *= 0.5;
    *fs = sqrt(ratio);
    *done = 8;
  }
}

/* Compass search on the reduced objective SSE(m, sigma) (the linear
 * parameters always optimal) from the grid's best point: the four
 * neighbours at the current steps, move to the best if it improves, else
 * halve the steps; at most SVI_LM_REFINE_EVALS evaluations.  The reduced
 * problem has no a-b-sigma valley, which is where a full 5-parameter LM
 * from a coarse grid point crawls. */
SVI_LM_HD void svi_lm_start_refine(const double *k, const double *w, const double *wt, int n,
                                   const struct svi_lm_scan *sc, const struct svi_lm_config *c,
                                   int lane, int n_lanes, struct svi_lm_qe_pt *best, double dm,
                                   double fs, int done)
{
  const double k_min = sc->k_min, k_max = sc->k_max;
  double span = k_max - k_min;
  double m_lo = k_min - c->m_pad, m_hi = k_max + c->m_pad;
  double cm[SVI_LM_QE_BATCH], cs[SVI_LM_QE_BATCH];
  for (int ev = done; ev + 8 <= SVI_LM_REFINE_EVALS && dm > 1e-6 * (span + 1e-300); ev += 8) {
    int nc = 0;
    for (int d = 0; d < 9; d++) {
      int um = d % 3 - 1, us = d / 3 - 1;
      if (um == 0 && us == 0)
        continue;
      double sg = us > 0 ? best->s * fs : us < 0 ? best->s / fs : best->s;
      cm[nc] = fmin(fmax(best->m + um * dm, m_lo), m_hi);
      cs[nc] = fmin(fmax(sg, c->sigma_min), c->sigma_max);
      nc++;
    }
    if (!svi_lm_qe_candidates(k, w, wt, n, sc, cm, cs, nc, lane, n_lanes, best)) {
      dm *= 0.5;
      fs = sqrt(fs);
    }
  }
}

/* Raw SVI parameters x[5] of a quasi-explicit point (not yet projected):
 * a = a~, b = c/sigma, rho = d/c. */
SVI_LM_HD void svi_lm_qe_to_x(const struct svi_lm_qe_pt *q, double *x)
{
  x[0] = q->abc[0];
  x[1] = q->abc[2] / q->s;
  x[2] = q->abc[2] > 0.0 ? q->abc[1] / q->abc[2] : 0.0;
  x[3] = q->m;
  x[4] = q->s;
}

SVI_LM_HD int svi_lm_svi_usable(const struct svi *p)
{
  return isfinite(p->a) && isfinite(p->b) && isfinite(p->rho) && isfinite(p->m) &&
         isfinite(p->sigma) && p->b >= 0.0 && fabs(p->rho) < 1.0 && p->sigma > 0.0;
}

/* Fits raw SVI to the points k[0..n), w, wt (see the file comment).  'warm'
 * may be NULL.  Called by all n_lanes lanes of a warp with the same
 * arguments except 'lane' (CPU: lane 0, n_lanes 1); every lane writes the
 * same 'out', so the caller stores it from one lane.  out->fit_time_us is
 * left 0 (the caller times).  Borrows everything; no allocation. */
SVI_LM_HD void svi_lm_fit(const double *k, const double *w, const double *wt, int n, double T_years,
                          const struct svi *warm, const struct svi_lm_config *c, int lane,
                          int n_lanes, struct svi_lm_result *out)
{
  /* T is not needed: w already is total variance.  It stays in the
   * signature so a later objective in vol units can use it. */
  (void)T_years;
  out->p.a = out->p.b = out->p.rho = out->p.m = out->p.sigma = NAN;
  out->status = 0;
  out->n_iter = 0;
  out->n_points = n > 0 ? n : 0;
  out->sse = NAN;
  out->rmse_w = NAN;
  out->fit_time_us = 0.0;
  if (n < SVI_LM_MIN_POINTS) {
    out->status = SVI_LM_TOO_FEW;
    return;
  }

  /* 1. Scan. */
  struct svi_lm_scan sc;
  svi_lm_scan_points(k, w, wt, n, lane, n_lanes, &sc);
  /* SSE at the rounding floor of the data: an exact fit, stop. */
  double sse_floor = 1e-26 * sc.sww;
  if (sc.n_bad > 0.0) {
    out->status = SVI_LM_NONFINITE;
    return;
  }
  if (sc.n_pos < SVI_LM_MIN_POINTS) {
    out->status = SVI_LM_TOO_FEW;
    return;
  }
  struct svi_lm_box bx;
  bx.m_lo = sc.k_min - c->m_pad;
  bx.m_hi = sc.k_max + c->m_pad;
  bx.s_lo = c->sigma_min;
  bx.s_hi = c->sigma_max;

  /* 2. Quasi-explicit start grid. */
  double x[5], acc[SVI_LM_NACC], dm, fs;
  int done_ev;
  unsigned status = 0;
  struct svi_lm_qe_pt qe;
  svi_lm_start_grid(k, w, wt, n, &sc, c, lane, n_lanes, &qe, &dm, &fs, &done_ev);

  /* 3. Warm start: kept unless the grid's best is clearly better; then the
   * refinement is skipped, which is most of the warm start's saving. */
  int use_warm = 0;
  if (warm && svi_lm_svi_usable(warm)) {
    x[0] = warm->a;
    x[1] = warm->b;
    x[2] = warm->rho;
    x[3] = warm->m;
    x[4] = warm->sigma;
    svi_lm_project(x, &bx);
    svi_lm_pass(x, k, w, wt, n, lane, n_lanes, acc);
    double sw = acc[SVI_LM_ACC_SSE];
    use_warm = isfinite(sw) && !(qe.e < SVI_LM_WARM_MARGIN * sw);
  }
  if (use_warm) {
    status |= SVI_LM_WARM;
  } else {
    svi_lm_start_refine(k, w, wt, n, &sc, c, lane, n_lanes, &qe, dm, fs, done_ev);
    svi_lm_qe_to_x(&qe, x);
    svi_lm_project(x, &bx);
    svi_lm_pass(x, k, w, wt, n, lane, n_lanes, acc);
  }
  if (!isfinite(acc[SVI_LM_ACC_SSE])) {
    out->status = status | SVI_LM_NONFINITE;
    return;
  }

  /* 4. Projected Levenberg-Marquardt. */
  double lambda = use_warm ? SVI_LM_LAMBDA0_WARM : SVI_LM_LAMBDA0, nu = 2.0;
  /* The linear model was poor at the last trial (or there was none yet):
   * geodesic acceleration pays for its pass. */
  int nonlinear = 1;
  int it = 0, done = 0;
  double lo[5], hi[5];
  while (!done && it < c->max_iter) {
    double sse = acc[SVI_LM_ACC_SSE];
    if (sse <= sse_floor) {
      done = 1;
      break;
    }
    double M[5][5], gr5[5], rhs[5], dg[5] = {0.0, 0.0, 0.0, 0.0, 0.0}, dmax = 0.0;
    int frz[5];
    svi_lm_normal(acc, x, M, gr5);
    for (int u = 0; u < 5; u++)
      dmax = fmax(dmax, M[u][u]);
    if (!(dmax > 0.0))
      dmax = 1.0;
    /* Freeze parameters on a bound whose descent direction points out. */
    svi_lm_bounds(x, &bx, lo, hi);
    double gfree = 0.0;
    for (int u = 0; u < 5; u++) {
      double gr = gr5[u];
      int frozen = (svi_lm_at_lo(x, lo, u) && gr > 0.0) || (svi_lm_at_hi(x, hi, u) && gr < 0.0);
      frz[u] = frozen;
      rhs[u] = -gr;
      if (frozen) {
        for (int v = 0; v < 5; v++) {
          M[u][v] = 0.0;
          M[v][u] = 0.0;
        }
        M[u][u] = 1.0;
        rhs[u] = 0.0;
      } else {
        dg[u] = fmax(M[u][u], 1e-12 * dmax);
        M[u][u] += lambda * dg[u];
        gfree = fmax(gfree, fabs(gr));
      }
    }
    if (gfree == 0.0) {
      done = 1;
      break;
    }
    if (svi_lm_cholesky(M) != 0) {
      it++;
      lambda *= 10.0;
      if (lambda > 1e16)
        done = 1;
      continue;
    }
    svi_lm_cholesky_subst(M, rhs);
    /* Predicted SSE decrease of the linear model: dp^T (lambda D dp - g). */
    double pred = 0.0;
    for (int u = 0; u < 5; u++)
      pred += rhs[u] * (lambda * dg[u] * rhs[u] - gr5[u]);
    /* Converged without spending a trial pass: the linear model promises a
     * decrease below tol_rel_sse, and lambda is small enough (< 1, relative
     * to diag(J^T J)) that this is not merely a short damped step. */
    if (lambda < 1.0 && pred <= c->tol_rel_sse * sse) {
      done = 1;
      break;
    }
    it++;
    /* Geodesic acceleration: the second-order correction along the
     * curved valleys of SVI (a-b-sigma, rho-m on one-sided chains), where
     * plain LM crawls at a fixed small step.  Added only while it is a
     * correction, 2|acc|/|v| <= SVI_LM_ACCEL_ALPHA in the D norm; otherwise
     * the plain LM step is tried (cheaper than Transtrum's rejection). */
    if (nonlinear) {
      double ga[5], na = 0.0, nv = 0.0;
      svi_lm_accel_rhs(x, rhs, k, wt, n, lane, n_lanes, ga);
      for (int u = 0; u < 5; u++)
        if (frz[u])
          ga[u] = 0.0;
      svi_lm_cholesky_subst(M, ga);
      for (int u = 0; u < 5; u++) {
        na += dg[u] * ga[u] * ga[u];
        nv += dg[u] * rhs[u] * rhs[u];
      }
      if (4.0 * na <= SVI_LM_ACCEL_ALPHA * SVI_LM_ACCEL_ALPHA * nv)
        for (int u = 0; u < 5; u++)
          rhs[u] += 0.5 * ga[u];
    }
    double xt[5];
    for (int u = 0; u < 5; u++)
      xt[u] = x[u] + rhs[u];
    svi_lm_project(xt, &bx);
    double acct[SVI_LM_NACC];
    svi_lm_pass(xt, k, w, wt, n, lane, n_lanes, acct);
    double sset = acct[SVI_LM_ACC_SSE];
    if (isfinite(sset) && sset < sse) {
      double dn = 0.0, xn = 0.0;
      for (int u = 0; u < 5; u++) {
        dn += (xt[u] - x[u]) * (xt[u] - x[u]);
        xn += xt[u] * xt[u];
        x[u] = xt[u];
      }
      for (int j = 0; j < SVI_LM_NACC; j++)
        acc[j] = acct[j];
      /* Nielsen (1999): shrink lambda by how well the linear model
       * predicted the decrease, between 1/3 and 1. */
      double gain = pred > 0.0 ? (sse - sset) / pred : 0.0;
      nonlinear = gain < SVI_LM_ACCEL_GAIN;
      double t3 = 2.0 * gain - 1.0;
      lambda = fmax(lambda * fmax(1.0 / 3.0, 1.0 - t3 * t3 * t3), 1e-15);
      nu = 2.0;
      if ((sse - sset) <= c->tol_rel_sse * sse ||
          sqrt(dn) <= c->tol_step * (sqrt(xn) + c->tol_step))
        done = 1;
    } else {
      lambda *= nu;
      nu *= 2.0;
      nonlinear = 1;
      if (lambda > 1e16)
        done = 1;
    }
  }

  /* 5. Result. */
  status |= done ? SVI_LM_CONVERGED : SVI_LM_MAX_ITER;
  svi_lm_bounds(x, &bx, lo, hi);
  for (int u = 0; u < 5; u++)
    if (svi_lm_at_lo(x, lo, u) || svi_lm_at_hi(x, hi, u))
      status |= SVI_LM_BOUND;
  out->p.a = x[0];
  out->p.b = x[1];
  out->p.rho = x[2];
  out->p.m = x[3];
  out->p.sigma = x[4];
  out->status = status;
  out->n_iter = it;
  out->sse = acc[SVI_LM_ACC_SSE];
  out->rmse_w = sqrt(acc[SVI_LM_ACC_SSU] / n);
}

#endif
