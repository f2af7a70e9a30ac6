/* test_diag: fit diagnostics on slices made from known smiles: RMSE and
 * band statistics, butterfly and Lee flags, calendar crossings. */
#include "diag.h"
#include "err.h"
#include "testutil.h"

/* Fills s with n points of smile p at maturity T over [k0, k1], bid/ask
 * band of +-half_spread around the model vol. */
static void slice_from_smile(struct slice *s, const struct svi *p, double T, double k0, double k1,
                             int n, double half_spread)
{
  memset(s, 0, sizeof(*s));
  s->T_years = T;
  s->n = n;
  s->expiry_us = (int64_t)(T * SLICE_US_PER_YEAR);
  for (int i = 0; i < n; i++) {
    double k = k0 + (k1 - k0) * i / (n - 1);
    double iv = sqrt(svi_w(p, k) / T);
    s->k[i] = k;
    s->iv[i] = iv;
    s->w[i] = iv * iv * T;
    s->weight[i] = 1.0;
    s->iv_mark[i] = iv;
    s->iv_bid[i] = iv - half_spread;
    s->iv_ask[i] = iv + half_spread;
  }
}

static struct svi_lm_result result_of(const struct svi *p)
{
  struct svi_lm_result f;
  memset(&f, 0, sizeof(f));
  f.p = *p;
  f.status = SVI_LM_CONVERGED;
  return f;
}

static void exact_fit_has_zero_error_and_all_points_inside(void)
{
  struct svi p = {.a = 0.01, .b = 0.1, .rho = -0.3, .m = 0.0, .sigma = 0.2};
  struct slice s;
  slice_from_smile(&s, &p, 0.25, -0.5, 0.5, 21, 0.01);
  struct svi_lm_result f = result_of(&p);
  struct diag_config c;
  diag_config_default(&c);
  struct diag d;
  CU_ASSERT_EQUAL(diag_slice(&s, &f, &c, &d), 0);
  ASSERT_NEAR(d.rmse_vol, 0.0, 1e-14);
  ASSERT_NEAR(d.max_err_vol, 0.0, 1e-14);
  ASSERT_NEAR(d.rmse_vol_mark, 0.0, 1e-14);
  ASSERT_NEAR(d.inside_share, 1.0, 0.0);
  CU_ASSERT_EQUAL(d.n_two_sided, 21);
  CU_ASSERT(d.lee_ok);
  CU_ASSERT_EQUAL(d.arb.n_intervals, 0);
  CU_ASSERT_EQUAL(f.status & (FIT_BUTTERFLY | FIT_LEE | FIT_POOR), 0u);
  CU_ASSERT(diag_usable(&f));
}

static void shifted_fit_reports_rmse_and_band_share(void)
{
  struct svi p = {.a = 0.04, .b = 0.0, .rho = 0.0, .m = 0.0, .sigma = 0.1}; /* flat 40% at T=0.25 */
  struct slice s;
  slice_from_smile(&s, &p, 0.25, -0.3, 0.3, 11, 0.005);
  struct svi q = p;
  q.a = 0.25 * 0.41 * 0.41; /* flat 41%: 1 vol point above every point */
  struct svi_lm_result f = result_of(&q);
  struct diag_config c;
  diag_config_default(&c);
  c.poor_rmse_vol = 0.005;
  struct diag d;
  diag_slice(&s, &f, &c, &d);
  ASSERT_NEAR(d.rmse_vol, 0.01, 1e-12);
  ASSERT_NEAR(d.max_err_vol, 0.01, 1e-12);
  ASSERT_NEAR(d.inside_share, 0.0, 0.0);
  CU_ASSERT(f.status & FIT_POOR);
}

static void vogt_smile_is_flagged_for_butterfly_arbitrage(void)
{
  struct svi vogt = {.a = -0.0410, .b = 0.1331, .rho = 0.3060, .m = 0.3586, .sigma = 0.4153};
  struct slice s;
  slice_from_smile(&s, &vogt, 1.0, -0.5, 1.2, 30, 0.01);
  struct svi_lm_result f = result_of(&vogt);
  struct diag_config c;
  diag_config_default(&c);
  struct diag d;
  diag_slice(&s, &f, &c, &d);
  CU_ASSERT(f.status & FIT_BUTTERFLY);
  CU_ASSERT_EQUAL(d.arb.n_intervals, 1);
  ASSERT_NEAR(d.arb.lo[0], 0.6424078779, 1e-8);
  ASSERT_NEAR(d.arb.hi[0], 1.2569129919, 1e-8);
}

static void steep_wings_are_flagged_by_lee_and_not_usable(void)
{
  struct svi p = {.a = 0.0, .b = 1.6, .rho = 0.4, .m = 0.0, .sigma = 0.1};
  struct slice s;
  slice_from_smile(&s, &p, 0.5, -0.4, 0.4, 15, 0.01);
  struct svi_lm_result f = result_of(&p);
  struct diag_config c;
  diag_config_default(&c);
  struct diag d;
  diag_slice(&s, &f, &c, &d);
  CU_ASSERT(f.status & FIT_LEE);
  CU_ASSERT_FALSE(d.lee_ok);
  CU_ASSERT_FALSE(diag_usable(&f));
}

static void crossing_expiries_are_flagged_where_they_cross(void)
{
  /* Later smile is steeper on the left but lower on the right of k = 0.2. */
  struct svi early = {.a = 0.02, .b = 0.05, .rho = 0.5, .m = 0.0, .sigma = 0.1};
  struct svi late = {.a = 0.025, .b = 0.05, .rho = -0.5, .m = 0.0, .sigma = 0.1};
  double lo, hi;
  int r = diag_calendar_pair(&early, &late, -1.0, 1.0, 2001, &lo, &hi);
  CU_ASSERT_EQUAL(r, 1);
  /* w_early - w_late = -0.005 + 0.05 k: crossing for k > 0.1 */
  ASSERT_NEAR(lo, 0.1, 1e-3);
  ASSERT_NEAR(hi, 1.0, 1e-12);
  CU_ASSERT_EQUAL(diag_calendar_pair(&early, &early, -1.0, 1.0, 101, &lo, &hi), 0);
  CU_ASSERT_EQUAL(diag_calendar_pair(&early, &late, 1.0, -1.0, 101, &lo, &hi), ERR_INPUT);

  static struct slice s[3];
  struct svi mid = {.a = 0.05, .b = 0.05, .rho = 0.0, .m = 0.0, .sigma = 0.1};
  slice_from_smile(&s[0], &early, 0.1, -0.5, 0.5, 11, 0.01);
  slice_from_smile(&s[1], &late, 0.2, -0.5, 0.5, 11, 0.01);
  slice_from_smile(&s[2], &mid, 0.3, -0.5, 0.5, 11, 0.01);
  struct svi_lm_result f[3] = {result_of(&early), result_of(&late), result_of(&mid)};
  struct diag d[3];
  struct diag_config c;
  diag_config_default(&c);
  for (int i = 0; i < 3; i++)
    diag_slice(&s[i], &f[i], &c, &d[i]);
  diag_calendar_chain(s, f, d, 3, &c);
  CU_ASSERT(d[0].calendar_next);
  CU_ASSERT(d[1].calendar_prev);
  CU_ASSERT(f[0].status & FIT_CALENDAR);
  CU_ASSERT(f[1].status & FIT_CALENDAR);
  CU_ASSERT_FALSE(d[1].calendar_next);
  CU_ASSERT_FALSE(f[2].status & FIT_CALENDAR);
}

static void unfitted_slice_gets_no_statistics(void)
{
  struct svi p = {.a = 0.01, .b = 0.1, .rho = -0.3, .m = 0.0, .sigma = 0.2};
  struct slice s;
  slice_from_smile(&s, &p, 0.25, -0.5, 0.5, 3, 0.01);
  struct svi_lm_result f = result_of(&p);
  f.status = SVI_LM_TOO_FEW;
  struct diag_config c;
  diag_config_default(&c);
  struct diag d;
  CU_ASSERT_EQUAL(diag_slice(&s, &f, &c, &d), 0);
  CU_ASSERT(isnan(d.rmse_vol));
  CU_ASSERT_FALSE(diag_usable(&f));
  s.n = 0;
  CU_ASSERT_EQUAL(diag_slice(&s, &f, &c, &d), ERR_INPUT);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(exact_fit_has_zero_error_and_all_points_inside),
      TEST_CASE(shifted_fit_reports_rmse_and_band_share),
      TEST_CASE(vogt_smile_is_flagged_for_butterfly_arbitrage),
      TEST_CASE(steep_wings_are_flagged_by_lee_and_not_usable),
      TEST_CASE(crossing_expiries_are_flagged_where_they_cross),
      TEST_CASE(unfitted_slice_gets_no_statistics),
  };
  return test_run("diag", cases, TEST_COUNT(cases));
}
