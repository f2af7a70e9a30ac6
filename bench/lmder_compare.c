/* lmder_compare: our svi_lm_fit against MINPACK's lmder (cminpack, analytic
 * Jacobian) on the same M = 50 synthetic crypto smiles, from the same start.
 * Not a test: results are recorded in bench/results/cpu_vs_lmder.md with the
 * machine, command and date.
 *
 * Smiles: ATM vol 30%-150%, T 1 day - 1 year, rho -0.7..0.5, sigma and m on
 * the scale of the ATM standard deviation, 15-60 strikes over about
 * [-4s, 3s], iid vol noise of 0.5 vol points, weights 1/(2 iv T spread) with
 * a 1 vol point spread (docs/calibration.md).
 *
 * (a) ours: svi_lm_fit, cold, single thread, start included in the time.
 * (b) lmder: started from our quasi-explicit start (grid + refinement,
 *     projected), computed outside its timed region; its time with the start
 *     added is reported as well.  lmder has no bounds: it fits unconstrained.
 * Then fit_batch_cpu with 1 and 2 threads on many copies of the 50 smiles.
 *
 * Usage: lmder_compare [seconds_per_measurement (default 1)] */
#define _POSIX_C_SOURCE 200809L
#include <cminpack.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fit.h"
#include "svi.h"

#define M_SMILES 50
#define MAX_PTS 64

struct smile {
  int n;
  double T;
  struct svi truth;
  double k[MAX_PTS], w[MAX_PTS], wt[MAX_PTS], iv[MAX_PTS];
};

static struct smile smiles[M_SMILES];
static uint64_t rng = 0x243f6a8885a308d3ull;

static double urand(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) * (1.0 / 9007199254740992.0);
}

static double uniform(double lo, double hi)
{
  return lo + (hi - lo) * urand();
}

static double gauss(void)
{
  double u = fmax(urand(), 1e-300), v = urand();
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static void smiles_make(void)
{
  const double noise = 0.005, spread = 0.01;
  for (int j = 0; j < M_SMILES;) {
    struct smile *z = &smiles[j];
    double vol = uniform(0.3, 1.5), T = exp(uniform(log(1.0 / 365.0), 0.0));
    double s = vol * sqrt(T), w0 = vol * vol * T;
    struct svi p;
    p.rho = uniform(-0.7, 0.5);
    p.sigma = s * uniform(0.3, 2.0);
    p.m = s * uniform(-0.5, 0.5);
    p.b = w0 * uniform(0.3, 1.5) / p.sigma;
    p.a = w0 - p.b * (-p.rho * p.m + sqrt(p.m * p.m + p.sigma * p.sigma));
    if (p.b * (1.0 + fabs(p.rho)) > 2.0 || svi_min_variance(&p, NULL) < 0.2 * w0)
      continue;
    z->truth = p;
    z->T = T;
    z->n = 15 + (int)(urand() * 46.0);
    double lo = -s * uniform(2.5, 5.0), hi = s * uniform(2.0, 4.0);
    for (int i = 0; i < z->n; i++) {
      z->k[i] = lo + (hi - lo) * i / (z->n - 1);
      double iv = sqrt(svi_w(&p, z->k[i]) / T) + noise * gauss();
      z->iv[i] = iv;
      z->w[i] = iv * iv * T;
      z->wt[i] = 1.0 / (2.0 * iv * T * spread);
    }
    j++;
  }
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* RMSE in vol of p against the smile's quotes. */
static double rmse_vol(const struct smile *z, const struct svi *p)
{
  double e = 0.0;
  for (int i = 0; i < z->n; i++) {
    double v = sqrt(fmax(svi_w(p, z->k[i]), 0.0) / z->T) - z->iv[i];
    e += v * v;
  }
  return sqrt(e / z->n);
}

static double wsse(const struct smile *z, const struct svi *p)
{
  double e = 0.0;
  for (int i = 0; i < z->n; i++) {
    double r = z->wt[i] * (svi_w(p, z->k[i]) - z->w[i]);
    e += r * r;
  }
  return e;
}

/* lmder's callback: residuals wt (w(k;x) - w) and their Jacobian
 * (column-major, ldfjac rows). */
static int lm_fcn(void *ctx, int m, int n, const double *x, double *fvec, double *fjac, int ldfjac,
                  int iflag)
{
  const struct smile *z = ctx;
  (void)n;
  for (int i = 0; i < m; i++) {
    double dk = z->k[i] - x[3];
    double R = sqrt(dk * dk + x[4] * x[4]);
    double q = z->wt[i];
    if (iflag == 1) {
      fvec[i] = q * (x[0] + x[1] * (x[2] * dk + R) - z->w[i]);
    } else if (iflag == 2) {
      fjac[i + 0 * ldfjac] = q;
      fjac[i + 1 * ldfjac] = q * (x[2] * dk + R);
      fjac[i + 2 * ldfjac] = q * x[1] * dk;
      fjac[i + 3 * ldfjac] = -q * x[1] * (x[2] + dk / R);
      fjac[i + 4 * ldfjac] = q * x[1] * x[4] / R;
    }
  }
  return 0;
}

struct lm_ws {
  double fvec[MAX_PTS], fjac[MAX_PTS * 5], diag[5], qtf[5], wa1[5], wa2[5], wa3[5], wa4[MAX_PTS];
  int ipvt[5];
};

static int lmder_fit(const struct smile *z, const double *x0, double *x, struct lm_ws *ws)
{
  int nfev, njev;
  memcpy(x, x0, 5 * sizeof *x);
  lmder(lm_fcn, (void *)z, z->n, 5, x, ws->fvec, ws->fjac, MAX_PTS, 1e-12, 1e-10, 0.0, 2000,
        ws->diag, 1, 100.0, 0, &nfev, &njev, ws->ipvt, ws->qtf, ws->wa1, ws->wa2, ws->wa3, ws->wa4);
  return nfev;
}

/* Our start (grid + refinement, projected), as svi_lm_fit computes it. */
static void our_start(const struct smile *z, const struct svi_lm_config *c, double *x)
{
  double dm, fs;
  int done;
  struct svi_lm_scan sc;
  struct svi_lm_qe_pt q;
  svi_lm_scan_points(z->k, z->w, z->wt, z->n, 0, 1, &sc);
  struct svi_lm_box bx = {sc.k_min - c->m_pad, sc.k_max + c->m_pad, c->sigma_min, c->sigma_max};
  svi_lm_start_grid(z->k, z->w, z->wt, z->n, &sc, c, 0, 1, &q, &dm, &fs, &done);
  svi_lm_start_refine(z->k, z->w, z->wt, z->n, &sc, c, 0, 1, &q, dm, fs, done);
  svi_lm_qe_to_x(&q, x);
  svi_lm_project(x, &bx);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double quantile(double *v, int n, double q)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  int i = (int)ceil(q * n) - 1;
  if (i < 0)
    i = 0;
  if (i >= n)
    i = n - 1;
  return v[i];
}

#define MAX_SAMPLES 400000

int main(int argc, char **argv)
{
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  struct svi_lm_config c;
  fit_config_default(&c);
  smiles_make();

  static struct svi_lm_result ours[M_SMILES];
  static double x0[M_SMILES][5], xl[M_SMILES][5];
  static struct lm_ws ws;
  double rm_ours[M_SMILES], rm_lm[M_SMILES], it_ours = 0, fev_lm = 0;
  int n_better = 0, n_conv = 0;
  for (int j = 0; j < M_SMILES; j++) {
    const struct smile *z = &smiles[j];
    svi_lm_fit(z->k, z->w, z->wt, z->n, z->T, NULL, &c, 0, 1, &ours[j]);
    our_start(z, &c, x0[j]);
    fev_lm += lmder_fit(z, x0[j], xl[j], &ws);
    struct svi pl = {xl[j][0], xl[j][1], xl[j][2], xl[j][3], xl[j][4]};
    rm_ours[j] = rmse_vol(z, &ours[j].p);
    rm_lm[j] = rmse_vol(z, &pl);
    it_ours += ours[j].n_iter;
    n_conv += (ours[j].status & SVI_LM_CONVERGED) != 0;
    n_better += ours[j].sse <= wsse(z, &pl) * (1.0 + 1e-9);
  }

  /* Throughput: 5 interleaved rounds of ours, lmder and the start alone,
   * each running whole passes over the 50 smiles for secs/5; the best round
   * of each counts (the machine may be shared), per-fit times are pooled
   * over all rounds. */
  double ours_fps = 0, lm_fps = 0, start_us = INFINITY, t0, t;
  static double s_ours[MAX_SAMPLES], s_lm[MAX_SAMPLES];
  int ns_ours = 0, ns_lm = 0;
  volatile double sink = 0.0;
  for (int round = 0; round < 5; round++) {
    long n_fit = 0;
    t0 = now_s();
    do {
      for (int j = 0; j < M_SMILES; j++) {
        const struct smile *z = &smiles[j];
        struct svi_lm_result r;
        double a = now_s();
        svi_lm_fit(z->k, z->w, z->wt, z->n, z->T, NULL, &c, 0, 1, &r);
        double b = now_s();
        if (ns_ours < MAX_SAMPLES)
          s_ours[ns_ours++] = (b - a) * 1e6;
        sink += r.sse;
      }
      n_fit += M_SMILES;
      t = now_s();
    } while (t - t0 < secs / 5.0);
    ours_fps = fmax(ours_fps, n_fit / (t - t0));

    n_fit = 0;
    t0 = now_s();
    do {
      for (int j = 0; j < M_SMILES; j++) {
        double x[5];
        double a = now_s();
        lmder_fit(&smiles[j], x0[j], x, &ws);
        double b = now_s();
        if (ns_lm < MAX_SAMPLES)
          s_lm[ns_lm++] = (b - a) * 1e6;
        sink += x[0];
      }
      n_fit += M_SMILES;
      t = now_s();
    } while (t - t0 < secs / 5.0);
    lm_fps = fmax(lm_fps, n_fit / (t - t0));

    /* The start alone, to split our time and to charge lmder with it. */
    n_fit = 0;
    t0 = now_s();
    do {
      for (int j = 0; j < M_SMILES; j++) {
        double x[5];
        our_start(&smiles[j], &c, x);
        sink += x[0];
      }
      n_fit += M_SMILES;
      t = now_s();
    } while (t - t0 < secs / 5.0);
    start_us = fmin(start_us, (t - t0) / n_fit * 1e6);
  }
  double ours_med = quantile(s_ours, ns_ours, 0.5), ours_p99 = quantile(s_ours, ns_ours, 0.99);
  double lm_med = quantile(s_lm, ns_lm, 0.5), lm_p99 = quantile(s_lm, ns_lm, 0.99);

  /* fit_batch_cpu: 200 copies of the 50 smiles per batch. */
  enum { REPS = 200 };
  int64_t nb = (int64_t)M_SMILES * REPS, npts = 0;
  for (int j = 0; j < M_SMILES; j++)
    npts += smiles[j].n;
  npts *= REPS;
  int64_t *off = malloc((size_t)(nb + 1) * sizeof *off);
  double *bk = malloc((size_t)npts * sizeof *bk), *bw = malloc((size_t)npts * sizeof *bw);
  double *bwt = malloc((size_t)npts * sizeof *bwt), *bT = malloc((size_t)nb * sizeof *bT);
  struct svi_lm_result *br = malloc((size_t)nb * sizeof *br);
  if (!off || !bk || !bw || !bwt || !bT || !br)
    return 1;
  off[0] = 0;
  for (int64_t s = 0; s < nb; s++) {
    const struct smile *z = &smiles[s % M_SMILES];
    memcpy(bk + off[s], z->k, (size_t)z->n * sizeof(double));
    memcpy(bw + off[s], z->w, (size_t)z->n * sizeof(double));
    memcpy(bwt + off[s], z->wt, (size_t)z->n * sizeof(double));
    bT[s] = z->T;
    off[s + 1] = off[s] + z->n;
  }
  struct svi_lm_batch batch = {
      .n_slices = nb, .offset = off, .k = bk, .w = bw, .wt = bwt, .T_years = bT};
  /* Best of 5 rounds per thread count, interleaved: the machine may be
   * shared, and a busy second core would read as poor scaling. */
  double batch_fps[3] = {0, 0, 0};
  for (int round = 0; round < 5; round++) {
    for (int th = 1; th <= 2; th++) {
      long done = 0;
      t0 = now_s();
      do {
        fit_batch_cpu(&batch, &c, th, br);
        done += nb;
        t = now_s();
      } while (t - t0 < secs / 5.0);
      if (done / (t - t0) > batch_fps[th])
        batch_fps[th] = done / (t - t0);
    }
  }
  printf("lmder_compare: M = %d smiles, %d-%d points, vol noise 0.5 pt\n", M_SMILES, 15, 60);
  printf("ours : %9.0f fits/s  median %7.2f us  p99 %7.2f us  mean iter %.1f  converged %d/%d\n",
         ours_fps, ours_med, ours_p99, it_ours / M_SMILES, n_conv, M_SMILES);
  printf("lmder: %9.0f fits/s  median %7.2f us  p99 %7.2f us  mean nfev %.1f  (start excluded)\n",
         lm_fps, lm_med, lm_p99, fev_lm / M_SMILES);
  printf("start (grid + refinement) alone: %.2f us per fit\n", start_us);
  printf("lmder incl. the same start: %9.0f fits/s\n", 1e6 / (1e6 / lm_fps + start_us));
  printf("speedup ours / lmder: %.2fx (start excluded from lmder), %.2fx (start included); "
         "median per-fit time ratio %.2fx\n",
         ours_fps / lm_fps, ours_fps * (1e6 / lm_fps + start_us) / 1e6, lm_med / ours_med);
  double rmo = quantile(rm_ours, M_SMILES, 0.5), rml = quantile(rm_lm, M_SMILES, 0.5);
  printf("median RMSE in vol: ours %.5f  lmder %.5f\n", rmo, rml);
  printf("weighted SSE ours <= lmder (1e-9 rel): %d/%d smiles\n", n_better, M_SMILES);
  printf(
      "fit_batch_cpu %lld slices: 1 thread %9.0f fits/s, 2 threads %9.0f fits/s, scaling %.2fx\n",
      (long long)nb, batch_fps[1], batch_fps[2], batch_fps[2] / batch_fps[1]);
  free(off);
  free(bk);
  free(bw);
  free(bwt);
  free(bT);
  free(br);
  return sink == 12345.0;
}
