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
 * [k_min - m_pad, k_max + m_pad].  See docs/calibration.md for the weights. */
#ifndef VOLSURF_SVI_LM_H
#define VOLSURF_SVI_LM_H

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

#endif
