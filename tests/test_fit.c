/* test_fit: the raw-SVI fitter (kernels/svi_lm.h through host/fit.c).
 * Oracles: the deterministic fit of ../shared/reference/calibration.md (two
 * independent solvers), known true parameters (noise-free recovery), the
 * noise level (noisy recovery), and the constraints themselves. */
#include <stdint.h>

#include "err.h"
#include "fit.h"
#include "kernels.h"
#include "svi.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static void rng_seed(uint64_t s)
{
  rng_state = s ? s : 1;
}

static double rng_uniform(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_range(double lo, double hi)
{
  return lo + (hi - lo) * rng_uniform();
}

static double rng_normal(void)
{
  double u = rng_uniform(), v = rng_uniform();
  if (u < 1e-300)
    u = 1e-300;
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static struct svi_lm_config cfg(void)
{
  struct svi_lm_config c;
  fit_config_default(&c);
  return c;
}

/* Fills a slice's k, w and weight from explicit arrays (T in years). */
static void slice_fill(struct slice *s, const double *k, const double *w, const double *wt, int n,
                       double T)
{
  memset(s, 0, sizeof *s);
  s->n = n;
  s->T_years = T;
  for (int i = 0; i < n; i++) {
    s->k[i] = k[i];
    s->w[i] = w[i];
    s->weight[i] = wt ? wt[i] : 1.0;
  }
}

/* The constraints of svi_lm.h hold at p (with the m window of the data). */
static void assert_within_constraints(const struct svi *p, double k_min, double k_max)
{
  struct svi_lm_config c = cfg();
  CU_ASSERT(isfinite(p->a) && isfinite(p->b) && isfinite(p->rho) && isfinite(p->m) &&
            isfinite(p->sigma));
  CU_ASSERT(p->b >= 0.0);
  CU_ASSERT(fabs(p->rho) <= SVI_LM_RHO_MAX);
  CU_ASSERT(p->sigma >= c.sigma_min && p->sigma <= c.sigma_max);
  CU_ASSERT(p->m >= k_min - c.m_pad && p->m <= k_max + c.m_pad);
  CU_ASSERT(p->b * (1.0 + fabs(p->rho)) <= 2.0 + 1e-12);
  CU_ASSERT(svi_min_variance(p, NULL) >= -1e-14);
}

/* A random raw SVI smile in crypto ranges: ATM vol 30%-150%, T 1 day - 1
 * year, rho in [-0.7, 0.5], sigma and m on the scale of the ATM standard
 * deviation s = vol sqrt(T), minimum variance at least 20% of ATM, Lee
 * satisfied.  Writes n points over about [-4s, 4s] (sometimes skewed). */
struct smile {
  struct svi p;
  double T, atm_vol, s;
  int n;
  double k[64], w[64], wt[64], iv[64];
};

static void smile_random(struct smile *z)
{
  for (;;) {
    z->atm_vol = rng_range(0.3, 1.5);
    z->T = exp(rng_range(log(1.0 / 365.0), 0.0));
    z->s = z->atm_vol * sqrt(z->T);
    double w0 = z->atm_vol * z->atm_vol * z->T;
    struct svi p;
    p.rho = rng_range(-0.7, 0.5);
    p.sigma = z->s * rng_range(0.3, 2.0);
    p.m = z->s * rng_range(-0.5, 0.5);
    p.b = w0 * rng_range(0.3, 1.5) / p.sigma;
    p.a = w0 - p.b * (-p.rho * p.m + sqrt(p.m * p.m + p.sigma * p.sigma));
    if (p.b * (1.0 + fabs(p.rho)) > 2.0 || svi_min_variance(&p, NULL) < 0.2 * w0)
      continue;
    z->p = p;
    z->n = 15 + (int)(rng_uniform() * 45.0);
    double lo = -z->s * rng_range(2.5, 5.0), hi = z->s * rng_range(2.0, 4.0);
    for (int i = 0; i < z->n; i++) {
      z->k[i] = lo + (hi - lo) * i / (z->n - 1);
      z->w[i] = svi_w(&p, z->k[i]);
      z->iv[i] = sqrt(z->w[i] / z->T);
      z->wt[i] = 1.0;
    }
    return;
  }
}

static double atm_vol_of(const struct svi *p, double T)
{
  return sqrt(svi_w(p, 0.0) / T);
}

/* ---- the reference case ------------------------------------------------- */

static void reference_points(double *k, double *w)
{
  struct svi t = {.a = 0.002, .b = 0.05, .rho = -0.2, .m = 0.02, .sigma = 0.1};
  for (int i = 0; i < 50; i++) {
    k[i] = -0.6 + 1.2 * i / 49.0;
    w[i] = svi_w(&t, k[i]) * (1.0 + 0.01 * sin(1.7 * i));
  }
}

static void fit_reproduces_deterministic_reference_vector(void)
{
  static struct slice s;
  double k[50], w[50];
  reference_points(k, w);
  slice_fill(&s, k, w, NULL, 50, 1.0);
  struct svi_lm_config c = cfg();
  struct svi_lm_result r;
  CU_ASSERT_EQUAL(fit_slice(&s, NULL, &c, &r), 0);
  CU_ASSERT(r.status & SVI_LM_CONVERGED);
  CU_ASSERT_FALSE(r.status & (SVI_LM_BOUND | SVI_LM_WARM | SVI_LM_MAX_ITER));
  ASSERT_NEAR(r.p.a, 0.001914340866, 1e-8);
  ASSERT_NEAR(r.p.b, 0.05017943645, 1e-8);
  ASSERT_NEAR(r.p.rho, -0.19919477031, 1e-8);
  ASSERT_NEAR(r.p.m, 0.02002034848, 1e-8);
  ASSERT_NEAR(r.p.sigma, 0.10156464142, 1e-8);
  ASSERT_REL(r.sse, 1.049687136882e-06, 1e-10);
  CU_ASSERT_EQUAL(r.n_points, 50);
  CU_ASSERT(r.fit_time_us >= 0.0);
}

/* ---- recovery ----------------------------------------------------------- */

static void fit_recovers_random_crypto_smiles_without_noise(void)
{
  struct svi_lm_config c = cfg();
  int n_cases = 300, n_conv = 0, n_ok = 0;
  rng_seed(20261124);
  for (int t = 0; t < n_cases; t++) {
    struct smile z;
    smile_random(&z);
    struct svi_lm_result r;
    svi_lm_fit(z.k, z.w, z.wt, z.n, z.T, NULL, &c, 0, 1, &r);
    n_conv += (r.status & SVI_LM_CONVERGED) != 0;
    double w0 = z.atm_vol * z.atm_vol * z.T, ew = 0.0;
    for (int i = 0; i < z.n; i++)
      ew = fmax(ew, fabs(svi_w(&r.p, z.k[i]) - z.w[i]));
    int ok = fabs(r.p.a - z.p.a) <= 1e-6 * w0 && fabs(r.p.b - z.p.b) <= 1e-6 * z.p.b &&
             fabs(r.p.rho - z.p.rho) <= 1e-6 && fabs(r.p.m - z.p.m) <= 1e-6 * z.s &&
             fabs(r.p.sigma - z.p.sigma) <= 1e-6 * z.p.sigma && ew <= 1e-9;
    if (!ok)
      fprintf(stderr,
              "\n  case %d: true (%g %g %g %g %g) fit (%g %g %g %g %g) max|dw| %g status %#x "
              "it %d",
              t, z.p.a, z.p.b, z.p.rho, z.p.m, z.p.sigma, r.p.a, r.p.b, r.p.rho, r.p.m, r.p.sigma,
              ew, r.status, r.n_iter);
    n_ok += ok;
  }
  CU_ASSERT_EQUAL(n_conv, n_cases);
  CU_ASSERT_EQUAL(n_ok, n_cases);
}

static void fit_with_vol_noise_has_rmse_near_the_noise_level(void)
{
  struct svi_lm_config c = cfg();
  const double noise = 0.005; /* 0.5 vol points, a typical half-spread */
  int n_cases = 300, n_bad = 0;
  double sum_ratio = 0.0;
  rng_seed(777);
  for (int t = 0; t < n_cases; t++) {
    struct smile z;
    smile_random(&z);
    double ivn[64];
    for (int i = 0; i < z.n; i++) {
      ivn[i] = z.iv[i] + noise * rng_normal();
      z.w[i] = ivn[i] * ivn[i] * z.T;
      /* docs/calibration.md: wt = 1/(2 iv T spread), spread = 2 x noise. */
      z.wt[i] = 1.0 / (2.0 * ivn[i] * z.T * (2.0 * noise));
    }
    struct svi_lm_result r;
    svi_lm_fit(z.k, z.w, z.wt, z.n, z.T, NULL, &c, 0, 1, &r);
    double e_data = 0.0, e_true = 0.0, sse_true = 0.0;
    for (int i = 0; i < z.n; i++) {
      double v = sqrt(fmax(svi_w(&r.p, z.k[i]), 0.0) / z.T);
      double et = z.wt[i] * (svi_w(&z.p, z.k[i]) - z.w[i]);
      e_data += (v - ivn[i]) * (v - ivn[i]);
      e_true += (v - z.iv[i]) * (v - z.iv[i]);
      sse_true += et * et;
    }
    e_data = sqrt(e_data / z.n);
    e_true = sqrt(e_true / z.n);
    sum_ratio += e_data / noise;
    /* The true parameters are feasible, so a global minimum has an SSE no
     * larger than theirs: the oracle against local minima.  Five parameters
     * absorb about 5/n of the noise variance, so the RMSE against the data
     * sits a little below the noise (with the spread of a chi-square on
     * 10-55 degrees of freedom), the error against the truth below it. */
    int ok = (r.status & SVI_LM_CONVERGED) && r.sse <= sse_true * (1.0 + 1e-9) &&
             e_data >= 0.3 * noise && e_data <= 1.5 * noise && e_true <= noise;
    if (!ok) {
      fprintf(stderr,
              "\n  noisy case %d: rmse vs data %g, vs truth %g, sse %g (truth %g), status %#x", t,
              e_data, e_true, r.sse, sse_true, r.status);
      n_bad++;
    }
  }
  CU_ASSERT_EQUAL(n_bad, 0);
  double mean_ratio = sum_ratio / n_cases;
  CU_ASSERT(mean_ratio > 0.75 && mean_ratio < 1.05);
}

/* ---- edge cases --------------------------------------------------------- */

/* Fits noise-free points of p on [k_lo, k_hi] and checks constraints, the
 * fit quality and the ATM level against the data. */
static void check_edge_fit(const struct svi *p, double T, double k_lo, double k_hi, int n,
                           double max_rmse_vol)
{
  double k[128], w[128], wt[128];
  for (int i = 0; i < n; i++) {
    k[i] = k_lo + (k_hi - k_lo) * i / (n - 1);
    w[i] = svi_w(p, k[i]);
    wt[i] = 1.0 / (2.0 * sqrt(w[i] / T) * T * 0.01);
  }
  struct svi_lm_config c = cfg();
  struct svi_lm_result r;
  svi_lm_fit(k, w, wt, n, T, NULL, &c, 0, 1, &r);
  CU_ASSERT(r.status & SVI_LM_CONVERGED);
  CU_ASSERT_FALSE(r.status & (SVI_LM_NONFINITE | SVI_LM_TOO_FEW));
  assert_within_constraints(&r.p, k_lo, k_hi);
  double ev = 0.0;
  for (int i = 0; i < n; i++) {
    double d = sqrt(fmax(svi_w(&r.p, k[i]), 0.0) / T) - sqrt(w[i] / T);
    ev += d * d;
  }
  ev = sqrt(ev / n);
  if (ev > max_rmse_vol)
    fprintf(stderr, "\n  rmse in vol %g > %g", ev, max_rmse_vol);
  CU_ASSERT(ev <= max_rmse_vol);
  /* The ATM level of the data (true smile at k = 0, inside or near every
   * range used here), not a far-away local minimum. */
  ASSERT_NEAR(atm_vol_of(&r.p, T), atm_vol_of(p, T), 0.01);
}

static void fit_stays_feasible_with_rho_near_plus_and_minus_one(void)
{
  struct svi up = {.a = 0.01, .b = 0.4, .rho = 0.98, .m = 0.05, .sigma = 0.1};
  struct svi dn = {.a = 0.01, .b = 0.4, .rho = -0.98, .m = -0.05, .sigma = 0.1};
  check_edge_fit(&up, 0.25, -0.8, 0.8, 40, 2e-4);
  check_edge_fit(&dn, 0.25, -0.8, 0.8, 40, 2e-4);
}

static void fit_handles_a_near_kink_smile_with_tiny_sigma(void)
{
  struct svi p = {.a = 0.02, .b = 0.3, .rho = -0.3, .m = 0.01, .sigma = 0.002};
  check_edge_fit(&p, 0.1, -0.5, 0.5, 41, 1e-3);
}

static void fit_fits_exactly_five_points(void)
{
  struct svi p = {.a = 0.03, .b = 0.15, .rho = -0.3, .m = 0.02, .sigma = 0.2};
  check_edge_fit(&p, 0.25, -0.4, 0.4, 5, 1e-4);
}

static void fit_handles_one_sided_chains(void)
{
  struct svi p = {.a = 0.03, .b = 0.15, .rho = -0.3, .m = 0.02, .sigma = 0.2};
  check_edge_fit(&p, 0.25, 0.0, 0.8, 20, 1e-4);
  check_edge_fit(&p, 0.25, -0.8, 0.0, 20, 1e-4);
}

static void fit_handles_an_expiry_hours_away(void)
{
  /* 4 hours, ATM 80%: s = 0.8 sqrt(4/8760) = 1.7% of log-moneyness. */
  double T = 4.0 / 8760.0, w0 = 0.64 * T;
  struct svi p = {.a = 0.0, .b = 0.0, .rho = -0.1, .m = 0.002, .sigma = 0.012};
  p.b = 0.8 * w0 / p.sigma;
  p.a = w0 - p.b * (-p.rho * p.m + sqrt(p.m * p.m + p.sigma * p.sigma));
  check_edge_fit(&p, T, -0.05, 0.05, 9, 1e-3);
}

static void fit_on_wide_strikes_with_high_vol_keeps_the_atm_level(void)
{
  /* ATM 120% at T = 0.5 over k in [-2, 2]. */
  struct svi p = {.a = 0.45, .b = 0.5, .rho = 0.1, .m = 0.05, .sigma = 0.5};
  check_edge_fit(&p, 0.5, -2.0, 2.0, 60, 1e-4);
}

static void fit_on_wide_strikes_avoids_the_high_atm_local_minimum(void)
{
  /* The trap of calibration.md: ATM 20% where bad starts give 100-300%. */
  double T = 1.0, w0 = 0.04;
  struct svi p = {.a = 0.0, .b = 0.25, .rho = -0.4, .m = 0.1, .sigma = 0.15};
  p.a = w0 - p.b * (-p.rho * p.m + sqrt(p.m * p.m + p.sigma * p.sigma));
  check_edge_fit(&p, T, -2.0, 2.0, 50, 1e-4);
}

static void degenerate_inputs_stay_finite_and_feasible(void)
{
  /* All strikes equal, a flat smile, negative total variance quotes, wing
   * slopes beyond Lee: none may produce NaN or leave the constraints. */
  double same_k[6] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
  double k[6] = {-0.2, -0.1, 0.0, 0.1, 0.2, 0.3}, wt[6] = {1, 1, 1, 1, 1, 1};
  double noisy[6] = {0.04, 0.04, 0.041, 0.039, 0.04, 0.04};
  double flat[6] = {0.04, 0.04, 0.04, 0.04, 0.04, 0.04};
  double neg[6] = {0.01, 0.0, -0.01, 0.0, 0.01, 0.02};
  double steep[6] = {1.0, 0.5, 0.2, 0.5, 1.0, 3.0};
  const double *ks[4] = {same_k, k, k, k}, *ws[4] = {noisy, flat, neg, steep};
  struct svi_lm_config c = cfg();
  for (int t = 0; t < 4; t++) {
    struct svi_lm_result r;
    svi_lm_fit(ks[t], ws[t], wt, 6, 0.25, NULL, &c, 0, 1, &r);
    CU_ASSERT(r.status & SVI_LM_CONVERGED);
    CU_ASSERT(isfinite(r.sse) && isfinite(r.rmse_w));
    assert_within_constraints(&r.p, ks[t][0], ks[t][5]);
  }
}

/* ---- warm start, threads, errors, backends ------------------------------ */

static void warm_start_from_the_previous_fit_needs_fewer_iterations(void)
{
  /* A live slice: noisy quotes (0.3 vol points), refitted after the level
   * moved by one vol point and the noise was redrawn. */
  struct svi_lm_config c = cfg();
  int it_cold = 0, it_warm = 0, n_warm = 0, n_same = 0, n_cases = 100;
  rng_seed(31337);
  for (int t = 0; t < n_cases; t++) {
    struct smile z;
    smile_random(&z);
    for (int i = 0; i < z.n; i++) {
      double iv = z.iv[i] + 0.003 * rng_normal();
      z.w[i] = iv * iv * z.T;
      z.wt[i] = 1.0 / (2.0 * iv * z.T * 0.01);
    }
    struct svi_lm_result prev, cold, warm;
    svi_lm_fit(z.k, z.w, z.wt, z.n, z.T, NULL, &c, 0, 1, &prev);
    for (int i = 0; i < z.n; i++) {
      double iv = z.iv[i] + 0.01 + 0.003 * rng_normal();
      z.w[i] = iv * iv * z.T;
    }
    svi_lm_fit(z.k, z.w, z.wt, z.n, z.T, NULL, &c, 0, 1, &cold);
    svi_lm_fit(z.k, z.w, z.wt, z.n, z.T, &prev.p, &c, 0, 1, &warm);
    CU_ASSERT(warm.status & SVI_LM_CONVERGED);
    it_cold += cold.n_iter;
    it_warm += warm.n_iter;
    n_warm += (warm.status & SVI_LM_WARM) != 0;
    n_same += fabs(warm.sse - cold.sse) <= 1e-8 * cold.sse &&
              fabs(atm_vol_of(&warm.p, z.T) - atm_vol_of(&cold.p, z.T)) <= 1e-6;
  }
  fprintf(stderr, " [iterations cold %d, warm %d; warm used %d/%d] ", it_cold, it_warm, n_warm,
          n_cases);
  /* A one-point move is large against 0.3-point noise: the grid sometimes wins
   * by the margin, and then the cold path runs (docs/calibration.md). */
  CU_ASSERT(n_warm >= 60);
  CU_ASSERT(it_warm < it_cold);
  CU_ASSERT_EQUAL(n_same, n_cases);
}

static void warm_start_from_the_exact_answer_needs_no_iteration(void)
{
  double k[50], w[50], wt[50];
  reference_points(k, w);
  for (int i = 0; i < 50; i++)
    wt[i] = 1.0;
  struct svi_lm_config c = cfg();
  struct svi_lm_result cold, warm;
  svi_lm_fit(k, w, wt, 50, 1.0, NULL, &c, 0, 1, &cold);
  svi_lm_fit(k, w, wt, 50, 1.0, &cold.p, &c, 0, 1, &warm);
  CU_ASSERT(warm.status & SVI_LM_WARM);
  CU_ASSERT(warm.status & SVI_LM_CONVERGED);
  CU_ASSERT(warm.n_iter <= 1);
  ASSERT_REL(warm.sse, cold.sse, 1e-12);
}

static void a_far_off_warm_start_loses_to_the_quasi_explicit_start(void)
{
  double k[50], w[50], wt[50];
  reference_points(k, w);
  for (int i = 0; i < 50; i++)
    wt[i] = 1.0;
  struct svi_lm_config c = cfg();
  struct svi bad = {.a = 0.5, .b = 1.0, .rho = 0.5, .m = -0.5, .sigma = 1.0};
  struct svi_lm_result r;
  svi_lm_fit(k, w, wt, 50, 1.0, &bad, &c, 0, 1, &r);
  CU_ASSERT_FALSE(r.status & SVI_LM_WARM);
  ASSERT_REL(r.sse, 1.049687136882e-06, 1e-10);
}

static int same_result(const struct svi_lm_result *x, const struct svi_lm_result *y)
{
  return memcmp(&x->p, &y->p, sizeof x->p) == 0 && x->status == y->status &&
         x->n_iter == y->n_iter && x->n_points == y->n_points &&
         memcmp(&x->sse, &y->sse, sizeof x->sse) == 0 &&
         memcmp(&x->rmse_w, &y->rmse_w, sizeof x->rmse_w) == 0;
}

#define BATCH_SLICES 37
static double batch_k[BATCH_SLICES * 64], batch_w[BATCH_SLICES * 64], batch_wt[BATCH_SLICES * 64];
static double batch_T[BATCH_SLICES];
static int64_t batch_off[BATCH_SLICES + 1];

static struct svi_lm_batch batch_random(void)
{
  rng_seed(4242);
  batch_off[0] = 0;
  for (int s = 0; s < BATCH_SLICES; s++) {
    struct smile z;
    smile_random(&z);
    int64_t o = batch_off[s];
    for (int i = 0; i < z.n; i++) {
      double iv = z.iv[i] + 0.003 * rng_normal();
      batch_k[o + i] = z.k[i];
      batch_w[o + i] = iv * iv * z.T;
      batch_wt[o + i] = 1.0 / (2.0 * iv * z.T * 0.01);
    }
    batch_T[s] = z.T;
    batch_off[s + 1] = o + z.n;
  }
  struct svi_lm_batch b = {.n_slices = BATCH_SLICES,
                           .offset = batch_off,
                           .k = batch_k,
                           .w = batch_w,
                           .wt = batch_wt,
                           .T_years = batch_T};
  return b;
}

static void batch_results_are_identical_for_one_and_two_threads(void)
{
  struct svi_lm_batch b = batch_random();
  struct svi_lm_config c = cfg();
  static struct svi_lm_result r1[BATCH_SLICES], r2[BATCH_SLICES], r0[BATCH_SLICES];
  CU_ASSERT_EQUAL(fit_batch_cpu(&b, &c, 1, r1), 0);
  CU_ASSERT_EQUAL(fit_batch_cpu(&b, &c, 2, r2), 0);
  CU_ASSERT_EQUAL(fit_batch_cpu(&b, &c, 0, r0), 0);
  int same = 0;
  for (int s = 0; s < BATCH_SLICES; s++) {
    same += same_result(&r1[s], &r2[s]) && same_result(&r1[s], &r0[s]);
    CU_ASSERT(r1[s].status & SVI_LM_CONVERGED);
  }
  CU_ASSERT_EQUAL(same, BATCH_SLICES);
}

static void too_few_points_are_refused_with_err_input(void)
{
  static struct slice s;
  double k[4] = {-0.1, 0.0, 0.1, 0.2}, w[4] = {0.05, 0.04, 0.05, 0.06};
  slice_fill(&s, k, w, NULL, 4, 0.5);
  struct svi_lm_config c = cfg();
  struct svi_lm_result r;
  CU_ASSERT_EQUAL(fit_slice(&s, NULL, &c, &r), ERR_INPUT);
  CU_ASSERT(r.status & SVI_LM_TOO_FEW);
  CU_ASSERT(isnan(r.p.a) && isnan(r.p.b) && isnan(r.p.rho) && isnan(r.p.m) && isnan(r.p.sigma));
  /* Five points of which only four carry weight are too few as well. */
  double k5[5] = {-0.2, -0.1, 0.0, 0.1, 0.2}, w5[5] = {0.06, 0.05, 0.04, 0.05, 0.06};
  double wt5[5] = {1, 1, 0, 1, 1};
  slice_fill(&s, k5, w5, wt5, 5, 0.5);
  CU_ASSERT_EQUAL(fit_slice(&s, NULL, &c, &r), ERR_INPUT);
  CU_ASSERT(r.status & SVI_LM_TOO_FEW);
}

static void nan_in_the_data_is_reported_as_nonfinite(void)
{
  double k[50], w[50], wt[50];
  reference_points(k, w);
  for (int i = 0; i < 50; i++)
    wt[i] = 1.0;
  w[17] = NAN;
  struct svi_lm_config c = cfg();
  struct svi_lm_result r;
  svi_lm_fit(k, w, wt, 50, 1.0, NULL, &c, 0, 1, &r);
  CU_ASSERT(r.status & SVI_LM_NONFINITE);
  CU_ASSERT_FALSE(r.status & SVI_LM_CONVERGED);
  CU_ASSERT(isnan(r.p.a));
  w[17] = 0.01;
  k[3] = INFINITY;
  svi_lm_fit(k, w, wt, 50, 1.0, NULL, &c, 0, 1, &r);
  CU_ASSERT(r.status & SVI_LM_NONFINITE);
}

static void fitter_auto_without_a_gpu_falls_back_to_cpu_and_fits(void)
{
  if (kernels_device_count() > 0)
    return; /* the GPU path is tested in test_kernels */
  struct fitter *f = NULL;
  char err[256] = "";
  CU_ASSERT_EQUAL(fitter_new(FIT_BACKEND_AUTO, 2, &f, err, sizeof err), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_STRING_EQUAL(fitter_backend_name(f), "cpu");
  CU_ASSERT_EQUAL(fitter_n_fallbacks(f), 1);
  struct svi_lm_batch b = batch_random();
  struct svi_lm_config c = cfg();
  static struct svi_lm_result r[BATCH_SLICES], ref[BATCH_SLICES];
  CU_ASSERT_EQUAL(fitter_run(f, &b, &c, r), 0);
  CU_ASSERT_EQUAL(fit_batch_cpu(&b, &c, 1, ref), 0);
  for (int s = 0; s < BATCH_SLICES; s++)
    CU_ASSERT(same_result(&r[s], &ref[s]));
  CU_ASSERT_EQUAL(fitter_n_fallbacks(f), 1);
  fitter_free(f);
}

static void fitter_gpu_without_a_device_returns_err_nodev(void)
{
  if (kernels_device_count() > 0)
    return;
  struct fitter *f = (struct fitter *)&f; /* must be reset to NULL */
  char err[256] = "";
  CU_ASSERT_EQUAL(fitter_new(FIT_BACKEND_GPU, 1, &f, err, sizeof err), ERR_NODEV);
  CU_ASSERT_PTR_NULL(f);
  CU_ASSERT(strlen(err) > 0);
}

static void fitter_cpu_backend_reports_cpu(void)
{
  struct fitter *f = NULL;
  CU_ASSERT_EQUAL(fitter_new(FIT_BACKEND_CPU, 1, &f, NULL, 0), 0);
  CU_ASSERT_STRING_EQUAL(fitter_backend_name(f), "cpu");
  CU_ASSERT_EQUAL(fitter_n_fallbacks(f), 0);
  fitter_free(f);
  fitter_free(NULL);
}

static void backend_names_parse(void)
{
  CU_ASSERT_EQUAL(fit_backend_parse("auto"), FIT_BACKEND_AUTO);
  CU_ASSERT_EQUAL(fit_backend_parse("cpu"), FIT_BACKEND_CPU);
  CU_ASSERT_EQUAL(fit_backend_parse("gpu"), FIT_BACKEND_GPU);
  CU_ASSERT_EQUAL(fit_backend_parse("GPU"), ERR_INPUT);
  CU_ASSERT_EQUAL(fit_backend_parse(""), ERR_INPUT);
  CU_ASSERT_EQUAL(fit_backend_parse(NULL), ERR_INPUT);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(fit_reproduces_deterministic_reference_vector),
      TEST_CASE(fit_recovers_random_crypto_smiles_without_noise),
      TEST_CASE(fit_with_vol_noise_has_rmse_near_the_noise_level),
      TEST_CASE(fit_stays_feasible_with_rho_near_plus_and_minus_one),
      TEST_CASE(fit_handles_a_near_kink_smile_with_tiny_sigma),
      TEST_CASE(fit_fits_exactly_five_points),
      TEST_CASE(fit_handles_one_sided_chains),
      TEST_CASE(fit_handles_an_expiry_hours_away),
      TEST_CASE(fit_on_wide_strikes_with_high_vol_keeps_the_atm_level),
      TEST_CASE(fit_on_wide_strikes_avoids_the_high_atm_local_minimum),
      TEST_CASE(degenerate_inputs_stay_finite_and_feasible),
      TEST_CASE(warm_start_from_the_previous_fit_needs_fewer_iterations),
      TEST_CASE(warm_start_from_the_exact_answer_needs_no_iteration),
      TEST_CASE(a_far_off_warm_start_loses_to_the_quasi_explicit_start),
      TEST_CASE(batch_results_are_identical_for_one_and_two_threads),
      TEST_CASE(too_few_points_are_refused_with_err_input),
      TEST_CASE(nan_in_the_data_is_reported_as_nonfinite),
      TEST_CASE(fitter_auto_without_a_gpu_falls_back_to_cpu_and_fits),
      TEST_CASE(fitter_gpu_without_a_device_returns_err_nodev),
      TEST_CASE(fitter_cpu_backend_reports_cpu),
      TEST_CASE(backend_names_parse),
  };
  return test_run("fit", cases, TEST_COUNT(cases));
}
