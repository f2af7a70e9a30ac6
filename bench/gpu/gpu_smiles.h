/* gpu_smiles: random crypto-shaped SVI smiles, the CPU oracle and the
 * GPU-vs-CPU comparison shared by bench/gpu/gpu_check.c and tests/test_gpu.c.
 *
 * A smile set is a batch in the layout kernels_fit takes (struct svi_lm_batch)
 * plus the true parameters it was drawn from.  Slices look like Deribit
 * expiries: T from 1 day to 1 year, ATM vol 35-120 %, skew of either sign,
 * strikes over 1.5-3.5 (wide: 6-8) standard deviations, weights 1 / (bid-ask
 * half-width in total variance) with the spread widening in the wings, and
 * 0.3 % multiplicative noise.  Deterministic from the seed (splitmix64), so a
 * failure can be replayed.  The CPU oracle is svi_lm_fit with lane 0 of 1:
 * the same code the GPU runs, scheduled differently. */
#ifndef VOLSURF_GPU_SMILES_H
#define VOLSURF_GPU_SMILES_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"
#include "svi_lm.h"

/* Kinds of slice: random, then the edge cases. */
enum {
  SMILE_RANDOM = 0,
  SMILE_FIVE_POINTS, /* exactly SVI_LM_MIN_POINTS */
  SMILE_RHO_HIGH,    /* rho = +0.97 */
  SMILE_RHO_LOW,     /* rho = -0.97 */
  SMILE_TINY_SIGMA,  /* sigma = 1e-3: nearly a kink */
  SMILE_WIDE,        /* strikes over 6-8 standard deviations */
  SMILE_TOO_FEW,     /* SVI_LM_MIN_POINTS - 1 points: not fitted */
  SMILE_NONFINITE,   /* one w is NaN */
  SMILE_N_KINDS
};

struct smiles {
  int64_t n_slices, n_points;
  int64_t *offset; /* n_slices + 1 */
  double *k, *w, *wt, *T_years;
  struct svi *truth;       /* the parameters each slice was drawn from */
  struct svi *warm;        /* truth perturbed by ~1 %: a previous fit */
  unsigned char *has_warm; /* all 1 */
};

static inline uint64_t smiles_next(uint64_t *s)
{
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static inline double smiles_uniform(uint64_t *s, double lo, double hi)
{
  return lo + (hi - lo) * ((double)(smiles_next(s) >> 11) * 0x1.0p-53);
}

static inline double smiles_normal(uint64_t *s)
{
  double u = smiles_uniform(s, 1e-12, 1.0), v = smiles_uniform(s, 0.0, 1.0);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static inline double smiles_w(const struct svi *p, double k)
{
  double d = k - p->m;
  return p->a + p->b * (p->rho * d + sqrt(d * d + p->sigma * p->sigma));
}

/* Number of points a slice of 'kind' gets when the set asks for m_points
 * (0: random 5..100; negative: random 20..60, the live universe's range). */
static inline int smiles_points_of(uint64_t *rng, int kind, int m_points)
{
  if (kind == SMILE_FIVE_POINTS)
    return SVI_LM_MIN_POINTS;
  if (kind == SMILE_TOO_FEW)
    return SVI_LM_MIN_POINTS - 1;
  if (m_points > 0)
    return m_points;
  if (m_points < 0)
    return 20 + (int)(smiles_next(rng) % 41);
  return 5 + (int)(smiles_next(rng) % 96);
}

/* Draws one slice of 'kind' with n points into k, w, wt (n each). */
static inline void smiles_draw(uint64_t *rng, int kind, int n, double *T_years, struct svi *p,
                               double *k, double *w, double *wt)
{
  double T = exp(smiles_uniform(rng, log(1.0 / 365.0), 0.0));
  double atm = smiles_uniform(rng, 0.35, 1.2);
  double kw = atm * sqrt(T); /* one standard deviation in log-moneyness */
  double reach = kind == SMILE_WIDE ? smiles_uniform(rng, 6.0, 8.0) : smiles_uniform(rng, 1.5, 3.5);
  p->sigma = kind == SMILE_TINY_SIGMA ? 1e-3 : smiles_uniform(rng, 0.2, 1.0) * kw;
  p->m = smiles_uniform(rng, -0.3, 0.3) * kw;
  p->rho = smiles_uniform(rng, -0.5, 0.3);
  if (kind == SMILE_RHO_HIGH)
    p->rho = 0.97;
  if (kind == SMILE_RHO_LOW)
    p->rho = -0.97;
  p->b = smiles_uniform(rng, 0.1, 0.6) * atm * atm * T / kw;
  if (p->b * (1.0 + fabs(p->rho)) > 1.9)
    p->b = 1.9 / (1.0 + fabs(p->rho));
  /* a puts the ATM total variance at atm^2 T, then is raised if needed so the
   * smile's minimum stays at >= 20 % of it. */
  p->a = atm * atm * T - p->b * (-p->rho * p->m + sqrt(p->m * p->m + p->sigma * p->sigma));
  double w_min = p->a + p->b * p->sigma * sqrt(1.0 - p->rho * p->rho);
  if (w_min < 0.2 * atm * atm * T)
    p->a += 0.2 * atm * atm * T - w_min;
  *T_years = T;
  double lo = -reach * kw, hi = 1.2 * reach * kw; /* calls reach further out */
  for (int i = 0; i < n; i++) {
    double x = n > 1 ? (double)i / (double)(n - 1) : 0.5;
    double jitter = n > 1 ? smiles_uniform(rng, -0.3, 0.3) / (double)(n - 1) : 0.0;
    k[i] = lo + (hi - lo) * (x + (i > 0 && i < n - 1 ? jitter : 0.0));
    double wi = smiles_w(p, k[i]) * (1.0 + 0.003 * smiles_normal(rng));
    double iv = sqrt(wi / T);
    double half_spread_vol = 0.005 + 0.02 * fabs(k[i]) / kw;
    w[i] = wi;
    wt[i] = 1.0 / (2.0 * iv * T * half_spread_vol);
  }
  if (kind == SMILE_NONFINITE)
    w[n / 2] = NAN;
}

static inline void smiles_free(struct smiles *s)
{
  free(s->offset);
  free(s->k);
  free(s->w);
  free(s->wt);
  free(s->T_years);
  free(s->truth);
  free(s->warm);
  free(s->has_warm);
  memset(s, 0, sizeof *s);
}

/* Fills 's' with n slices.  kind < 0 cycles through every kind (edge set),
 * otherwise every slice is of that kind.  m_points 0: random 5..100 per
 * slice, negative: random 20..60.  Sets larger than 4099 slices tile a pool of 4099 distinct slices
 * (so 1e7-slice timings do not spend minutes drawing).  Returns 0 or -1 when
 * out of memory. */
static inline int smiles_make(struct smiles *s, int64_t n, int kind, int m_points, uint64_t seed)
{
  const int64_t pool = n < 4099 ? n : 4099;
  uint64_t rng = seed;
  int *len = NULL;
  memset(s, 0, sizeof *s);
  s->n_slices = n;
  len = (int *)malloc((size_t)(pool > 0 ? pool : 1) * sizeof *len);
  s->offset = (int64_t *)malloc((size_t)(n + 1) * sizeof *s->offset);
  s->T_years = (double *)malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
  s->truth = (struct svi *)malloc((size_t)(n > 0 ? n : 1) * sizeof(struct svi));
  s->warm = (struct svi *)malloc((size_t)(n > 0 ? n : 1) * sizeof(struct svi));
  s->has_warm = (unsigned char *)malloc((size_t)(n > 0 ? n : 1));
  if (!len || !s->offset || !s->T_years || !s->truth || !s->warm || !s->has_warm)
    goto fail;
  for (int64_t i = 0; i < pool; i++)
    len[i] = smiles_points_of(&rng, kind < 0 ? (int)(i % SMILE_N_KINDS) : kind, m_points);
  s->offset[0] = 0;
  for (int64_t i = 0; i < n; i++)
    s->offset[i + 1] = s->offset[i] + len[i % pool];
  s->n_points = s->offset[n];
  s->k = (double *)malloc((size_t)(s->n_points > 0 ? s->n_points : 1) * sizeof(double));
  s->w = (double *)malloc((size_t)(s->n_points > 0 ? s->n_points : 1) * sizeof(double));
  s->wt = (double *)malloc((size_t)(s->n_points > 0 ? s->n_points : 1) * sizeof(double));
  if (!s->k || !s->w || !s->wt)
    goto fail;
  for (int64_t i = 0; i < pool; i++) {
    int64_t o = s->offset[i];
    int kd = kind < 0 ? (int)(i % SMILE_N_KINDS) : kind;
    smiles_draw(&rng, kd, len[i], &s->T_years[i], &s->truth[i], s->k + o, s->w + o, s->wt + o);
    s->warm[i] = s->truth[i];
    s->warm[i].a *= 1.0 + 0.01 * smiles_normal(&rng);
    s->warm[i].b *= 1.0 + 0.01 * smiles_normal(&rng);
    s->warm[i].m += 0.01 * s->truth[i].sigma * smiles_normal(&rng);
    s->warm[i].sigma *= 1.0 + 0.01 * smiles_normal(&rng);
    s->has_warm[i] = 1;
  }
  for (int64_t i = pool; i < n; i++) {
    int64_t src = i % pool, o = s->offset[i], os = s->offset[src];
    size_t bytes = (size_t)len[src] * sizeof(double);
    memcpy(s->k + o, s->k + os, bytes);
    memcpy(s->w + o, s->w + os, bytes);
    memcpy(s->wt + o, s->wt + os, bytes);
    s->T_years[i] = s->T_years[src];
    s->truth[i] = s->truth[src];
    s->warm[i] = s->warm[src];
    s->has_warm[i] = 1;
  }
  free(len);
  return 0;
fail:
  free(len);
  smiles_free(s);
  return -1;
}

/* The batch view of 's', with or without warm starts. */
static inline struct svi_lm_batch smiles_batch(const struct smiles *s, int with_warm)
{
  struct svi_lm_batch b;
  b.n_slices = s->n_slices;
  b.offset = s->offset;
  b.k = s->k;
  b.w = s->w;
  b.wt = s->wt;
  b.T_years = s->T_years;
  b.warm = with_warm ? s->warm : NULL;
  b.has_warm = with_warm ? s->has_warm : NULL;
  return b;
}

/* Copies 's' into staging from kernels_stage (n_slices, n_points, with
 * warm starts) and returns the batch that points at it. */
static inline struct svi_lm_batch smiles_fill_stage(const struct smiles *s,
                                                    const struct kernels_stage *st)
{
  struct svi_lm_batch b;
  size_t np = (size_t)s->n_points, n = (size_t)s->n_slices;
  memcpy(st->offset, s->offset, (n + 1) * sizeof *s->offset);
  memcpy(st->T_years, s->T_years, n * sizeof(double));
  memcpy(st->warm, s->warm, n * sizeof(struct svi));
  memcpy(st->has_warm, s->has_warm, n);
  memcpy(st->k, s->k, np * sizeof(double));
  memcpy(st->w, s->w, np * sizeof(double));
  memcpy(st->wt, s->wt, np * sizeof(double));
  b.n_slices = s->n_slices;
  b.offset = st->offset;
  b.T_years = st->T_years;
  b.warm = st->warm;
  b.has_warm = st->has_warm;
  b.k = st->k;
  b.w = st->w;
  b.wt = st->wt;
  return b;
}

/* The CPU oracle: svi_lm_fit on one thread, lane 0 of 1, slice by slice. */
static inline void smiles_fit_cpu(const struct smiles *s, const struct svi_lm_config *c,
                                  int with_warm, struct svi_lm_result *out)
{
  for (int64_t i = 0; i < s->n_slices; i++) {
    int64_t o = s->offset[i];
    svi_lm_fit(s->k + o, s->w + o, s->wt + o, (int)(s->offset[i + 1] - o), s->T_years[i],
               with_warm ? &s->warm[i] : NULL, c, 0, 1, &out[i]);
  }
}

/* Byte pattern written over output buffers before a GPU run: every double
 * becomes NaN, status 0xFFFFFFFF, counts -1, so an unwritten result shows. */
#define SMILES_POISON 0xFF

struct smiles_diff {
  int64_t n;                /* results compared */
  int64_t n_unwritten;      /* GPU result still poisoned */
  int64_t n_status;         /* status differs */
  int64_t n_w_bad;          /* max |w_gpu - w_cpu| on the dense grid above tol_w */
  int64_t n_p_bad;          /* a parameter differs by more than tol_p (1 + |p|) */
  double max_dw, max_dp;    /* over fitted slices */
  int64_t worst_w, worst_p; /* slice of max_dw, max_dp (-1: none) */
  int max_diter;            /* max |n_iter difference| */
  int64_t first_status;     /* first slice whose status differs (-1: none) */
};

static inline int smiles_poisoned(const struct svi_lm_result *r)
{
  return r->status == 0xFFFFFFFFu || r->n_points == -1 || r->n_iter == -1;
}

static inline int smiles_params_finite(const struct svi *p)
{
  return isfinite(p->a) && isfinite(p->b) && isfinite(p->rho) && isfinite(p->m) &&
         isfinite(p->sigma);
}

/* Compares GPU and CPU results slice by slice: written, same status, and for
 * fitted slices w on a 201-point grid over the slice's strikes (absolute
 * tolerance tol_w) and the parameters (tol_p relative to 1 + |p|; tol_p <= 0
 * skips them: ill-posed edge slices can agree in w and not in p). */
static inline void smiles_compare(const struct smiles *s, const struct svi_lm_result *gpu,
                                  const struct svi_lm_result *cpu, double tol_w, double tol_p,
                                  struct smiles_diff *d)
{
  memset(d, 0, sizeof *d);
  d->worst_w = d->worst_p = d->first_status = -1;
  for (int64_t i = 0; i < s->n_slices; i++) {
    const struct svi_lm_result *g = &gpu[i], *c = &cpu[i];
    d->n++;
    if (smiles_poisoned(g) || g->n_points != c->n_points) {
      d->n_unwritten++;
      continue;
    }
    if (g->status != c->status) {
      if (d->n_status == 0)
        d->first_status = i;
      d->n_status++;
    }
    int diter = abs(g->n_iter - c->n_iter);
    if (diter > d->max_diter)
      d->max_diter = diter;
    if ((c->status & SVI_LM_TOO_FEW) || !smiles_params_finite(&c->p))
      continue;
    if (!smiles_params_finite(&g->p)) {
      d->n_w_bad++;
      continue;
    }
    int64_t o = s->offset[i], n = s->offset[i + 1] - o;
    double lo = s->k[o], hi = s->k[o + n - 1], dw = 0.0;
    for (int j = 0; j <= 200; j++) {
      double k = lo + (hi - lo) * j / 200.0;
      double e = fabs(smiles_w(&g->p, k) - smiles_w(&c->p, k));
      if (e > dw)
        dw = e;
    }
    if (dw > d->max_dw) {
      d->max_dw = dw;
      d->worst_w = i;
    }
    if (!(dw <= tol_w))
      d->n_w_bad++;
    const double gp[5] = {g->p.a, g->p.b, g->p.rho, g->p.m, g->p.sigma};
    const double cp[5] = {c->p.a, c->p.b, c->p.rho, c->p.m, c->p.sigma};
    double dp = 0.0;
    for (int j = 0; j < 5; j++) {
      double e = fabs(gp[j] - cp[j]) / (1.0 + fabs(cp[j]));
      if (e > dp)
        dp = e;
    }
    if (dp > d->max_dp) {
      d->max_dp = dp;
      d->worst_p = i;
    }
    if (tol_p > 0.0 && !(dp <= tol_p))
      d->n_p_bad++;
  }
}

/* Number of results that differ bitwise between two runs (parameters,
 * status, iterations, points, SSE; fit_time_us is ignored).  The GPU fit is
 * deterministic, so anything but 0 is a race or a read of unwritten memory. */
static inline int64_t smiles_count_unequal(const struct svi_lm_result *x,
                                           const struct svi_lm_result *y, int64_t n)
{
  int64_t bad = 0;
  for (int64_t i = 0; i < n; i++)
    if (memcmp(&x[i].p, &y[i].p, sizeof x[i].p) != 0 || x[i].status != y[i].status ||
        x[i].n_iter != y[i].n_iter || x[i].n_points != y[i].n_points ||
        memcmp(&x[i].sse, &y[i].sse, sizeof x[i].sse) != 0)
      bad++;
  return bad;
}

#endif
