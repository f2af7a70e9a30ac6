/* test_black: Black-76 prices against calibration.md, the normal cdf against
 * 40-digit values (mpmath), implied-vol round trips over a wide grid, the
 * bounds that give NaN, a recorded Deribit coin quote and the two delta
 * conventions against finite differences. */
#include "black.h"
#include "testutil.h"

#include <float.h>

static void price_matches_reference_values(void)
{
  ASSERT_REL(black_price(100, 100, 0.2, 0.5, BLACK_CALL), 5.637197779701664, 2e-15);
  ASSERT_REL(black_price(100, 100, 0.232323232, 0.5, BLACK_CALL), 6.5463554338677718905, 2e-15);
  /* 40-digit values: a far OTM call and put (K/F = 5 and 0.2, sigma 0.3, T 1). */
  ASSERT_REL(black_price(1, 5, 0.3, 1, BLACK_CALL), 4.713631078437342872e-9, 1e-14);
  ASSERT_REL(black_price(1, 0.2, 0.3, 1, BLACK_PUT), 9.4272621568746959593e-10, 1e-14);
}

static void normalized_vega_matches_reference_value(void)
{
  ASSERT_REL(black_vega(1, 1, 0.2, 1), 0.3969525474770118, 1e-15);
  ASSERT_REL(black_norm_pdf(0.1), 0.3969525474770118, 1e-15);
}

static void vega_matches_finite_difference_of_price(void)
{
  const double h = 1e-6;
  for (double kf = 0.5; kf <= 2.0; kf += 0.25) {
    double fd = (black_price(100, 100 * kf, 0.6 + h, 0.3, BLACK_CALL) -
                 black_price(100, 100 * kf, 0.6 - h, 0.3, BLACK_CALL)) /
                (2 * h);
    ASSERT_REL(black_vega(100, 100 * kf, 0.6, 0.3), fd, 1e-8);
  }
}

static void norm_cdf_is_accurate_in_the_lower_tail(void)
{
  /* mpmath ncdf at 40 digits. */
  static const double x[] = {-37, -30, -20, -10, -5, -1.5, -1, -0.3, 0.7, 3};
  static const double v[] = {5.7255712225245768227e-300, 4.9067139271481870595e-198,
                             2.7536241186062336951e-89,  7.619853024160526066e-24,
                             2.8665157187919391167e-7,   0.066807201268858066004,
                             0.15865525393145705141,     0.38208857781104736693,
                             0.75803634777692697138,     0.99865010196836990547};
  for (int i = 0; i < TEST_COUNT(x); i++)
    ASSERT_REL(black_norm_cdf(x[i]), v[i], 4 * DBL_EPSILON);
  /* At -38 the value is subnormal (2.885e-316): only absolute accuracy in
   * units of the smallest subnormal is possible. */
  ASSERT_NEAR(black_norm_cdf(-38), 2.8854283600687843084e-316, 4 * 4.9406564584124654e-324);
  CU_ASSERT(black_norm_cdf(-INFINITY) == 0.0);
  CU_ASSERT(black_norm_cdf(INFINITY) == 1.0);
  CU_ASSERT(isnan(black_norm_cdf(NAN)));
}

/* Above z = 3 the cdf rounds 1 - p to eps/(1 - p) relative, so only the
 * lower tail and the centre can be inverted to ~1e-13. */
static void norm_inv_inverts_the_cdf(void)
{
  for (double z = -37.0; z <= 3.0; z += 0.37) {
    double p = black_norm_cdf(z);
    ASSERT_NEAR(black_norm_inv(p), z, 1e-13 * fmax(1.0, fabs(z)));
  }
  CU_ASSERT(isinf(black_norm_inv(0.0)) && black_norm_inv(0.0) < 0);
  CU_ASSERT(isnan(black_norm_inv(1.5)));
}

static void put_call_parity_holds(void)
{
  for (double kf = 0.2; kf <= 5.0; kf *= 1.3)
    for (double sig = 0.05; sig <= 3.0; sig *= 2.1) {
      double F = 9440.73, K = F * kf;
      double c = black_price(F, K, sig, 0.7, BLACK_CALL),
             p = black_price(F, K, sig, 0.7, BLACK_PUT);
      ASSERT_NEAR(c - p, F - K, 1e-15 * (F + K));
    }
}

/* Round trip price -> iv -> vol over sigma 0.01..5, T 1 hour..3 years, K/F
 * 0.2..5, calls and puts.  Criterion: the price's own rounding (eps * price)
 * moves the vol by kappa * eps relative, kappa = price / (sigma vega); where
 * kappa <= 1e3 (a 1e-12 vol change moves the price by at least ~4 ulps) the
 * vol must come back to 1e-12 relative.  Elsewhere the vol is not carried by
 * the price, and only the repriced value must match to a few ulps of the
 * price (scaled by the elasticity 1/kappa where that exceeds 1), or the
 * time value must have rounded away (NaN).  Subnormal time
 * values (below DBL_MIN, i.e. |ln(K/F)|/(sigma sqrt T) > ~37.5) carry fewer
 * bits and are checked separately. */
static void implied_vol_round_trips_over_a_wide_grid(void)
{
  static const double sigmas[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.35, 0.5,
                                  0.8,  1.0,  1.5,  2.0, 3.0, 5.0};
  static const double Ts[] = {1.0 / 8760, 6.0 / 8760, 1.0 / 365, 7.0 / 365, 30.0 / 365,
                              0.25,       0.5,        1.0,       2.0,       3.0};
  double worst = 0, worst_s = 0, worst_T = 0, worst_kf = 0;
  int n_checked = 0, n_ill = 0, worst_call = 0;
  for (int is = 0; is < TEST_COUNT(sigmas); is++)
    for (int it = 0; it < TEST_COUNT(Ts); it++)
      for (int ik = 0; ik <= 80; ik++) {
        double kf = 0.2 * pow(25.0, ik / 80.0);
        for (int call = 0; call <= 1; call++) {
          double F = 1.0, K = kf, sig = sigmas[is], T = Ts[it];
          double p = black_price(F, K, sig, T, call);
          double intrinsic = call ? fmax(F - K, 0) : fmax(K - F, 0);
          double kappa = p / (sig * black_vega(F, K, sig, T));
          double iv = black_iv(p, F, K, T, call);
          if (kappa <= 1e3 && p - intrinsic >= DBL_MIN) {
            double err = fabs(iv - sig) / sig;
            n_checked++;
            if (!(err < 1e-12))
              fprintf(stderr, "\n  sigma %g T %g K/F %g %s: iv %.17g err %.3g\n", sig, T, kf,
                      call ? "call" : "put", iv, err);
            CU_ASSERT(err < 1e-12);
            if (err > worst) {
              worst = err;
              worst_s = sig;
              worst_T = T;
              worst_kf = kf;
              worst_call = call;
            }
          } else {
            n_ill++;
            if (p > intrinsic && !isnan(iv)) {
              double rp = black_price(F, K, iv, T, call);
              double tol =
                  fmax(16 * DBL_EPSILON * p * fmax(1.0, 1.0 / kappa), 64 * 4.9406564584124654e-324);
              if (!(fabs(rp - p) <= tol))
                fprintf(stderr, "\n  sigma %g T %g K/F %g %s: price %.17g repriced %.17g\n", sig, T,
                        kf, call ? "call" : "put", p, rp);
              CU_ASSERT(fabs(rp - p) <= tol);
            }
          }
        }
      }
  printf("\n    %d well-conditioned points, worst relative vol error %.3g at sigma %g T %g K/F "
         "%g %s; %d ill-conditioned points skipped\n",
         n_checked, worst, worst_s, worst_T, worst_kf, worst_call ? "call" : "put", n_ill);
}

/* The inversion must work on the normalised price alone, down to 1e-12 of F
 * and beyond, where plain Newton from a fixed start fails. */
static void deep_out_of_the_money_prices_invert(void)
{
  static const double targets[] = {1e-12, 1e-20, 1e-50, 1e-100, 1e-200};
  for (int i = 0; i < TEST_COUNT(targets); i++)
    for (double kf = 1.5; kf <= 5.0; kf += 0.5) {
      double iv = black_iv(targets[i], 1.0, kf, 0.25, BLACK_CALL);
      CU_ASSERT(iv > 0 && isfinite(iv));
      /* The price moves by elasticity * (dsigma/sigma): 16 ulps of vol. */
      double el = iv * black_vega(1.0, kf, iv, 0.25) / targets[i];
      ASSERT_REL(black_price(1.0, kf, iv, 0.25, BLACK_CALL), targets[i], 16 * DBL_EPSILON * el);
      double ivp = black_iv(targets[i], 1.0, 1.0 / kf, 0.25, BLACK_PUT);
      ASSERT_REL(black_price(1.0, 1.0 / kf, ivp, 0.25, BLACK_PUT), targets[i],
                 16 * DBL_EPSILON * el);
    }
}

/* Time values below DBL_MIN (about 1e-308 of F) are still inverted: the
 * price keeps ~1e-9 relative precision there, the vol ~1e-12. */
static void subnormal_prices_still_invert(void)
{
  double p = black_price(1, 3.77268, 0.05, 0.5, BLACK_CALL); /* 1.05e-311 */
  CU_ASSERT(p > 0 && p < DBL_MIN);
  ASSERT_REL(black_iv(p, 1, 3.77268, 0.5, BLACK_CALL), 0.05, 1e-9);
  p = black_price(1, 1.04106, 0.1, 1.0 / 8760, BLACK_CALL); /* 3.0e-315 */
  ASSERT_REL(black_iv(p, 1, 1.04106, 1.0 / 8760, BLACK_CALL), 0.1, 1e-9);
}

static void iv_is_nan_at_or_below_intrinsic_and_above_the_bound(void)
{
  CU_ASSERT(isnan(black_iv(10.0, 110, 100, 1, BLACK_CALL)));  /* = intrinsic */
  CU_ASSERT(isnan(black_iv(9.0, 110, 100, 1, BLACK_CALL)));   /* below */
  CU_ASSERT(isnan(black_iv(0.0, 100, 110, 1, BLACK_CALL)));   /* OTM at zero */
  CU_ASSERT(isnan(black_iv(110.0, 110, 100, 1, BLACK_CALL))); /* call at F */
  CU_ASSERT(isnan(black_iv(120.0, 110, 100, 1, BLACK_CALL))); /* call above F */
  CU_ASSERT(isnan(black_iv(100.0, 110, 100, 1, BLACK_PUT)));  /* put at K */
  CU_ASSERT(isnan(black_iv(101.0, 110, 100, 1, BLACK_PUT)));
  CU_ASSERT(isfinite(black_iv(109.99, 110, 100, 1, BLACK_CALL)));
}

static void invalid_inputs_give_nan(void)
{
  CU_ASSERT(isnan(black_price(-1, 100, 0.2, 1, BLACK_CALL)));
  CU_ASSERT(isnan(black_price(100, 0, 0.2, 1, BLACK_CALL)));
  CU_ASSERT(isnan(black_price(100, 100, 0.2, -1, BLACK_CALL)));
  CU_ASSERT(isnan(black_price(100, 100, -0.2, 1, BLACK_CALL)));
  CU_ASSERT(isnan(black_price(NAN, 100, 0.2, 1, BLACK_CALL)));
  CU_ASSERT(isnan(black_iv(5, 100, 100, 0, BLACK_CALL)));
  CU_ASSERT(isnan(black_iv(5, 100, 100, -1, BLACK_CALL)));
  CU_ASSERT(isnan(black_iv(NAN, 100, 100, 1, BLACK_CALL)));
  CU_ASSERT(isnan(black_iv(5, NAN, 100, 1, BLACK_CALL)));
  CU_ASSERT(isnan(black_iv(5, 100, -100, 1, BLACK_CALL)));
  CU_ASSERT(isnan(black_iv(5, INFINITY, 100, 1, BLACK_CALL)));
  CU_ASSERT(isnan(black_delta(100, 100, 0.2, NAN, BLACK_CALL, 0)));
  /* Zero vol or time is the intrinsic value, not an error. */
  ASSERT_NEAR(black_price(110, 100, 0.0, 1, BLACK_CALL), 10.0, 0);
  ASSERT_NEAR(black_price(110, 100, 0.2, 0, BLACK_PUT), 0.0, 0);
}

/* Deribit ticker BTC-5JUN20-9250-C at 1590969652595 ms (exchanges.md):
 * mark_price 0.03847784 BTC, underlying_price 9440.73, mark_iv 63.21%,
 * expiry 5 Jun 2020 08:00 UTC (1591344000000 ms), T ACT/365.  Observed
 * iv 0.63209697 (3.0e-6 below).  Tolerance 5e-5: mark_iv is shown to 0.01%
 * (+-5e-5); the 1e-8 BTC rounding of the mark price is ~1e-7 in vol here. */
static void deribit_coin_premium_gives_the_venue_mark_iv(void)
{
  double T = (1591344000000.0 - 1590969652595.0) / (365.0 * 86400e3);
  double iv = black_iv_coin(0.03847784, 9440.73, 9250, T, BLACK_CALL);
  printf("\n    BTC-5JUN20-9250-C: iv %.8f vs mark_iv 0.6321 (diff %.2e)\n", iv, iv - 0.6321);
  ASSERT_NEAR(iv, 0.6321, 5e-5);
  ASSERT_NEAR(black_price(9440.73, 9250, iv, T, BLACK_CALL) / 9440.73, 0.03847784, 1e-15);
  /* Deribit's greeks.delta 0.62959 is the forward delta N(d1). */
  ASSERT_NEAR(black_delta(9440.73, 9250, 0.6321, T, BLACK_CALL, 0), 0.62959, 5e-5);
}

static void forward_delta_matches_finite_difference_of_price(void)
{
  const double F = 100, T = 0.4, sig = 0.7;
  for (double kf = 0.3; kf <= 3.0; kf *= 1.25)
    for (int call = 0; call <= 1; call++) {
      double h = 1e-4 * F;
      double fd =
          (black_price(F + h, F * kf, sig, T, call) - black_price(F - h, F * kf, sig, T, call)) /
          (2 * h);
      ASSERT_NEAR(black_delta(F, F * kf, sig, T, call, 0), fd, 1e-8);
    }
}

/* Premium-adjusted delta is the delta of the coin-denominated price V/F
 * times F: d(V/F)/dF * F = delta_fwd - V/F.  Checked against that finite
 * difference and against the closed forms (K/F)N(d2), -(K/F)N(-d2). */
static void premium_adjusted_delta_matches_its_formula(void)
{
  const double F = 100, T = 0.4, sig = 0.7;
  for (double kf = 0.3; kf <= 3.0; kf *= 1.25)
    for (int call = 0; call <= 1; call++) {
      double K = F * kf, h = 1e-4 * F;
      double fd = (black_price(F + h, K, sig, T, call) / (F + h) -
                   black_price(F - h, K, sig, T, call) / (F - h)) /
                  (2 * h) * F;
      double pa = black_delta(F, K, sig, T, call, 1);
      ASSERT_NEAR(pa, black_delta(F, K, sig, T, call, 0) - black_price(F, K, sig, T, call) / F,
                  1e-14);
      ASSERT_NEAR(pa, fd, 1e-6); /* O(h^2) truncation of the difference */
      double s = sig * sqrt(T), d2 = log(F / K) / s - 0.5 * s;
      ASSERT_NEAR(pa, call ? kf * black_norm_cdf(d2) : -kf * black_norm_cdf(-d2), 1e-15);
    }
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(price_matches_reference_values),
      TEST_CASE(normalized_vega_matches_reference_value),
      TEST_CASE(vega_matches_finite_difference_of_price),
      TEST_CASE(norm_cdf_is_accurate_in_the_lower_tail),
      TEST_CASE(norm_inv_inverts_the_cdf),
      TEST_CASE(put_call_parity_holds),
      TEST_CASE(implied_vol_round_trips_over_a_wide_grid),
      TEST_CASE(deep_out_of_the_money_prices_invert),
      TEST_CASE(subnormal_prices_still_invert),
      TEST_CASE(iv_is_nan_at_or_below_intrinsic_and_above_the_bound),
      TEST_CASE(invalid_inputs_give_nan),
      TEST_CASE(deribit_coin_premium_gives_the_venue_mark_iv),
      TEST_CASE(forward_delta_matches_finite_difference_of_price),
      TEST_CASE(premium_adjusted_delta_matches_its_formula),
  };
  return test_run("black", cases, TEST_COUNT(cases));
}
