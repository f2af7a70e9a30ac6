/* test_svi: raw SVI values, derivatives, jump-wings round trips and the
 * Durrleman/Lee checks against ../shared/reference/calibration.md. */
#include "err.h"
#include "svi.h"
#include "testutil.h"

static const struct svi vogt = {
    .a = -0.0410, .b = 0.1331, .rho = 0.3060, .m = 0.3586, .sigma = 0.4153};

static void vogt_minimum_variance_matches_reference(void)
{
  double k;
  ASSERT_NEAR(svi_min_variance(&vogt, &k), 0.011624903235, 1e-11);
  ASSERT_NEAR(k, 0.22512, 1e-5);
  double l, r;
  svi_wing_slopes(&vogt, &l, &r);
  ASSERT_NEAR(l, 0.0924, 1e-4);
  ASSERT_NEAR(r, 0.1738, 1e-4);
}

static void vogt_g_values_match_reference(void)
{
  ASSERT_NEAR(svi_durrleman_g(&vogt, 0.0), 1.0386497313, 1e-9);
  ASSERT_NEAR(svi_durrleman_g(&vogt, 0.8), -0.0298184615, 1e-9);
  ASSERT_NEAR(svi_durrleman_g(&vogt, 1.0), -0.0277416959, 1e-9);
}

static void vogt_scan_finds_the_arbitrage_interval(void)
{
  struct svi_arb arb;
  CU_ASSERT_EQUAL(svi_butterfly_scan(&vogt, -2.0, 3.0, 501, &arb), 0);
  CU_ASSERT_EQUAL(arb.n_intervals, 1);
  ASSERT_NEAR(arb.lo[0], 0.6424078779, 1e-9);
  ASSERT_NEAR(arb.hi[0], 1.2569129919, 1e-9);
  ASSERT_NEAR(arb.g_min, -0.0328635735, 1e-9);
  ASSERT_NEAR(arb.k_at_g_min, 0.8792625472, 1e-6);
  CU_ASSERT(svi_lee_ok(&vogt));
}

static struct svi ssvi(double theta, double rho, double phi)
{
  struct svi p = {.a = theta * (1 - rho * rho) / 2,
                  .b = theta * phi / 2,
                  .rho = rho,
                  .m = -rho / phi,
                  .sigma = sqrt(1 - rho * rho) / phi};
  return p;
}

static void ssvi_phi_cases_match_reference(void)
{
  struct svi_arb arb;
  struct svi p12 = ssvi(0.04, -0.7, 12.0), p15 = ssvi(0.04, -0.7, 15.0);
  CU_ASSERT_EQUAL(svi_butterfly_scan(&p12, -1.5, 1.5, 3001, &arb), 0);
  ASSERT_NEAR(arb.g_min, 0.099140, 1e-6);
  CU_ASSERT_EQUAL(arb.n_intervals, 0);
  CU_ASSERT_EQUAL(svi_butterfly_scan(&p15, -1.5, 1.5, 3001, &arb), 0);
  ASSERT_NEAR(arb.g_min, -0.113084, 1e-6);
  ASSERT_NEAR(arb.k_at_g_min, -0.1049, 1e-3);
  CU_ASSERT(arb.n_intervals >= 1);
  /* phi* = 13.527455015 is where min g first touches 0. */
  struct svi lo = ssvi(0.04, -0.7, 13.527455015 - 1e-6), hi = ssvi(0.04, -0.7, 13.527455015 + 1e-6);
  svi_butterfly_scan(&lo, -1.5, 1.5, 3001, &arb);
  CU_ASSERT(arb.g_min > 0.0);
  svi_butterfly_scan(&hi, -1.5, 1.5, 3001, &arb);
  CU_ASSERT(arb.g_min < 0.0);
}

static void derivatives_match_finite_differences(void)
{
  const double h = 1e-5;
  for (double k = -1.5; k <= 1.5; k += 0.1) {
    double w, w1, w2;
    svi_eval(&vogt, k, &w, &w1, &w2);
    ASSERT_NEAR(w, svi_w(&vogt, k), 1e-15);
    ASSERT_NEAR(w1, (svi_w(&vogt, k + h) - svi_w(&vogt, k - h)) / (2 * h), 1e-8);
    ASSERT_NEAR(w2, (svi_w(&vogt, k + h) - 2 * w + svi_w(&vogt, k - h)) / (h * h), 1e-4);
  }
}

static void jump_wings_round_trip(void)
{
  unsigned s = 12345;
  for (int i = 0; i < 2000; i++) {
    s = s * 1103515245u + 12345u;
    double u1 = (s >> 8) / 16777216.0;
    s = s * 1103515245u + 12345u;
    double u2 = (s >> 8) / 16777216.0;
    s = s * 1103515245u + 12345u;
    double u3 = (s >> 8) / 16777216.0;
    s = s * 1103515245u + 12345u;
    double u4 = (s >> 8) / 16777216.0;
    struct svi p = {.a = 0.001 + 0.05 * u1,
                    .b = 0.02 + 0.5 * u2,
                    .rho = -0.9 + 1.8 * u3,
                    .m = -0.3 + 0.6 * u4,
                    .sigma = 0.02 + 0.4 * u1 * u2 + 0.01};
    double T = 0.01 + 2.0 * u4;
    struct svi_jw jw;
    struct svi q;
    CU_ASSERT_EQUAL_FATAL(svi_to_jw(&p, T, &jw), 0);
    CU_ASSERT_EQUAL_FATAL(svi_from_jw(&jw, T, &q), 0);
    ASSERT_NEAR(q.a, p.a, 1e-9);
    ASSERT_NEAR(q.b, p.b, 1e-9);
    ASSERT_NEAR(q.rho, p.rho, 1e-9);
    ASSERT_NEAR(q.m, p.m, 1e-8);
    ASSERT_NEAR(q.sigma, p.sigma, 1e-8);
  }
}

static void jump_wings_of_symmetric_smile_has_m_zero(void)
{
  struct svi p = {.a = 0.01, .b = 0.2, .rho = -0.3, .m = 0.0, .sigma = 0.1}, q;
  struct svi_jw jw;
  CU_ASSERT_EQUAL(svi_to_jw(&p, 0.5, &jw), 0);
  ASSERT_NEAR(jw.v * 0.5, svi_w(&p, 0.0), 1e-15);
  CU_ASSERT_EQUAL(svi_from_jw(&jw, 0.5, &q), 0);
  ASSERT_NEAR(q.m, 0.0, 1e-12);
  ASSERT_NEAR(q.sigma, 0.1, 1e-10);
}

static void lee_bound_and_validation_reject_bad_parameters(void)
{
  struct svi steep = {.a = 0.0, .b = 1.5, .rho = 0.5, .m = 0.0, .sigma = 0.1};
  CU_ASSERT_FALSE(svi_lee_ok(&steep));
  struct svi bad = {.a = 0.0, .b = 0.1, .rho = 1.0, .m = 0.0, .sigma = 0.1};
  CU_ASSERT_EQUAL(svi_validate(&bad), ERR_INPUT);
  bad.rho = 0.0;
  bad.sigma = NAN;
  CU_ASSERT_EQUAL(svi_validate(&bad), ERR_INPUT);
  struct svi_arb arb;
  CU_ASSERT_EQUAL(svi_butterfly_scan(&vogt, 1.0, 1.0, 10, &arb), ERR_INPUT);
  CU_ASSERT_EQUAL(svi_butterfly_scan(&vogt, -1.0, 1.0, 2, &arb), ERR_INPUT);
}

/* QuantLib SviSmileSection (r = 0), stored as (a, b, sigma, rho, m): the
 * values are read by name here, so the order cannot leak in. */
static void quantlib_smile_section_values_match(void)
{
  struct svi q1 = {.a = -0.0666, .b = 0.229, .rho = 0.439, .m = 0.193, .sigma = 0.337};
  ASSERT_NEAR(svi_w(&q1, q1.m), 0.010573, 1e-12); /* a + b sigma at K = F e^m */
  struct svi q2 = {.a = 0.04, .b = 0.1, .rho = -0.4, .m = 0.0, .sigma = 0.3};
  const double T = 181.0 / 365.0, F = 100.0;
  const double K[5] = {80, 90, 100, 110, 120};
  const double vol[5] = {0.41720490140741484, 0.39151169130572527, 0.37571295026186569,
                         0.36939401760694596, 0.36979681352227545};
  for (int i = 0; i < 5; i++)
    ASSERT_NEAR(sqrt(svi_w(&q2, log(K[i] / F)) / T), vol[i], 1e-14);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(vogt_minimum_variance_matches_reference),
      TEST_CASE(vogt_g_values_match_reference),
      TEST_CASE(vogt_scan_finds_the_arbitrage_interval),
      TEST_CASE(ssvi_phi_cases_match_reference),
      TEST_CASE(derivatives_match_finite_differences),
      TEST_CASE(jump_wings_round_trip),
      TEST_CASE(jump_wings_of_symmetric_smile_has_m_zero),
      TEST_CASE(lee_bound_and_validation_reject_bad_parameters),
      TEST_CASE(quantlib_smile_section_values_match),
  };
  return test_run("svi", cases, TEST_COUNT(cases));
}
