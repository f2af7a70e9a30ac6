/* test_derived: ATM, delta-strike vols, RR/fly and constant-maturity nodes.
 * Oracles: closed-form delta strikes of a flat smile, black_delta at the
 * returned strikes, hand-computed total-variance interpolation. */
#include "black.h"
#include "derived.h"
#include "err.h"
#include "svi.h"
#include "testutil.h"

static struct svi flat(double vol, double T)
{
  struct svi p = {.a = vol * vol * T, .b = 0.0, .rho = 0.0, .m = 0.0, .sigma = 0.1};
  return p;
}

static const struct svi skew_neg = {.a = 0.01, .b = 0.08, .rho = -0.5, .m = 0.05, .sigma = 0.2};
static const struct svi skew_pos = {.a = 0.01, .b = 0.08, .rho = 0.5, .m = -0.05, .sigma = 0.2};

/* Forward delta of a flat smile: N(d1) = delta with d1 = -k/s + s/2, so
 * k = s^2/2 - s N^-1(delta) (call) and s^2/2 + s N^-1(|delta|) (put). */
static void flat_smile_has_closed_form_strikes_and_zero_rr_fly(void)
{
  const double vol = 0.65, T = 0.25, s = vol * sqrt(T);
  struct svi p = flat(vol, T);
  struct derived d;
  CU_ASSERT_EQUAL(derived_slice(&p, T, DERIVED_DELTA_FORWARD, &d), 0);
  ASSERT_REL(d.atm_vol, vol, 1e-15);
  ASSERT_NEAR(d.k_c25, s * s / 2 - s * black_norm_inv(0.25), 1e-12);
  ASSERT_NEAR(d.k_c10, s * s / 2 - s * black_norm_inv(0.10), 1e-12);
  ASSERT_NEAR(d.k_p25, s * s / 2 + s * black_norm_inv(0.25), 1e-12);
  ASSERT_NEAR(d.k_p10, s * s / 2 + s * black_norm_inv(0.10), 1e-12);
  ASSERT_NEAR(d.rr25, 0.0, 1e-15);
  ASSERT_NEAR(d.fly25, 0.0, 1e-15);
  ASSERT_NEAR(d.rr10, 0.0, 1e-15);
  ASSERT_NEAR(d.fly10, 0.0, 1e-15);
  CU_ASSERT_STRING_EQUAL(derived_delta_conv_name(d.delta_conv), "forward");
}

static void delta_at_the_returned_strikes_equals_the_target(void)
{
  const struct svi *smiles[] = {&skew_neg, &skew_pos};
  const double Ts[] = {2.0 / 365, 30.0 / 365, 1.0, 3.0};
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < TEST_COUNT(Ts); j++)
      for (int conv = 0; conv <= 1; conv++) {
        struct derived d;
        CU_ASSERT_EQUAL_FATAL(derived_slice(smiles[i], Ts[j], conv, &d), 0);
        const double ks[4] = {d.k_c25, d.k_p25, d.k_c10, d.k_p10};
        const double vols[4] = {d.vol_c25, d.vol_p25, d.vol_c10, d.vol_p10};
        const double targets[4] = {0.25, -0.25, 0.10, -0.10};
        for (int m = 0; m < 4; m++) {
          ASSERT_REL(vols[m], sqrt(svi_w(smiles[i], ks[m]) / Ts[j]), 1e-15);
          double delta = black_delta(1.0, exp(ks[m]), vols[m], Ts[j], targets[m] > 0, conv);
          ASSERT_NEAR(delta, targets[m], 1e-10);
        }
      }
}

/* A smile symmetric in k is not symmetric in delta: the s^2/2 term in d1
 * pushes both delta strikes right, so the call strike lies farther from
 * k = 0 and RR is small and positive, of order w(0), vanishing as T -> 0
 * with the smile held in vol terms. */
static void symmetric_smile_has_rr_near_zero(void)
{
  struct svi p = {.a = 0.0, .b = 0.1, .rho = 0.0, .m = 0.0, .sigma = 0.1};
  struct derived d;
  double prev = INFINITY;
  for (double scale = 1.0; scale >= 1.0 / 64; scale /= 4) {
    struct svi q = p;
    q.a *= scale;
    q.b *= scale;
    CU_ASSERT_EQUAL(derived_slice(&q, scale, DERIVED_DELTA_FORWARD, &d), 0);
    CU_ASSERT(d.rr25 >= 0.0);
    CU_ASSERT(d.rr25 < 0.5 * d.fly25);
    CU_ASSERT(d.rr25 < prev);
    CU_ASSERT(d.fly25 > 0.0);
    prev = d.rr25;
  }
  CU_ASSERT(prev < 1e-4 * d.atm_vol); /* 6.6e-6 at T = 1/64 (4.1e-3 at T = 1) */
}

static void skewed_smiles_give_rr_of_the_skew_sign(void)
{
  struct derived d;
  CU_ASSERT_EQUAL(derived_slice(&skew_neg, 0.5, DERIVED_DELTA_FORWARD, &d), 0);
  CU_ASSERT(d.rr25 < 0.0);
  CU_ASSERT(d.rr10 < d.rr25);
  CU_ASSERT(d.fly25 > 0.0 && d.fly10 > d.fly25);
  CU_ASSERT(d.k_p10 < d.k_p25 && d.k_p25 < 0.0 && 0.0 < d.k_c25 && d.k_c25 < d.k_c10);
  CU_ASSERT_EQUAL(derived_slice(&skew_pos, 0.5, DERIVED_DELTA_FORWARD, &d), 0);
  CU_ASSERT(d.rr25 > 0.0);
  CU_ASSERT(d.rr10 > d.rr25);
}

/* Premium-adjusted call delta (K/F)N(d2) rises from 0 deep in the money,
 * peaks, and falls again, so 25 delta has two roots.  At vol 100%, T 1 the
 * peak is 0.313 at k = -0.2 (mpmath): the out-of-the-money root is the one
 * right of the peak, on the falling side.  At vol 150% the peak is 0.231:
 * no 25-delta strike exists and the result is NaN. */
static void premium_adjusted_call_takes_the_out_of_the_money_root(void)
{
  struct svi p = flat(1.0, 1.0);
  struct derived d;
  CU_ASSERT_EQUAL(derived_slice(&p, 1.0, DERIVED_DELTA_PREMIUM_ADJUSTED, &d), 0);
  CU_ASSERT(d.k_c25 > -0.2);
  ASSERT_NEAR(black_delta(1, exp(d.k_c25), 1.0, 1.0, BLACK_CALL, 1), 0.25, 1e-10);
  double h = 1e-6;
  double slope = (black_delta(1, exp(d.k_c25 + h), 1.0, 1.0, BLACK_CALL, 1) -
                  black_delta(1, exp(d.k_c25 - h), 1.0, 1.0, BLACK_CALL, 1)) /
                 (2 * h);
  CU_ASSERT(slope < 0.0);
  /* The other (in-the-money) root exists further left. */
  double k = d.k_c25, best = 0.0;
  for (int i = 0; i < 1000; i++, k -= 0.01)
    best = fmax(best, black_delta(1, exp(k), 1.0, 1.0, BLACK_CALL, 1));
  CU_ASSERT(best > 0.3);
  CU_ASSERT(black_delta(1, exp(k), 1.0, 1.0, BLACK_CALL, 1) < 0.25);
  CU_ASSERT_STRING_EQUAL(derived_delta_conv_name(d.delta_conv), "premium_adjusted");

  p = flat(1.5, 1.0);
  CU_ASSERT_EQUAL(derived_slice(&p, 1.0, DERIVED_DELTA_PREMIUM_ADJUSTED, &d), 0);
  CU_ASSERT(isnan(d.k_c25) && isnan(d.vol_c25) && isnan(d.rr25) && isnan(d.fly25));
  CU_ASSERT(isfinite(d.k_p25) && isfinite(d.atm_vol));
}

/* Premium-adjusted delta = forward delta - V/F: for the same target the call
 * strike moves towards the money and the put strike away from it. */
static void premium_adjusted_strikes_shift_as_the_premium_says(void)
{
  struct derived f, pa;
  CU_ASSERT_EQUAL(derived_slice(&skew_neg, 0.5, DERIVED_DELTA_FORWARD, &f), 0);
  CU_ASSERT_EQUAL(derived_slice(&skew_neg, 0.5, DERIVED_DELTA_PREMIUM_ADJUSTED, &pa), 0);
  CU_ASSERT(pa.k_c25 < f.k_c25 && pa.k_c25 > 0.0);
  CU_ASSERT(pa.k_p25 < f.k_p25);
  CU_ASSERT(pa.k_p10 < f.k_p10);
}

static void nodes_interpolate_total_variance_between_expiries(void)
{
  const double T[3] = {10.0 / 365, 45.0 / 365, 120.0 / 365};
  const struct svi p[3] = {skew_neg,
                           {.a = 0.02, .b = 0.09, .rho = -0.4, .m = 0.0, .sigma = 0.25},
                           {.a = 0.05, .b = 0.10, .rho = -0.3, .m = 0.02, .sigma = 0.3}};
  struct derived_node nodes[DERIVED_N_NODES];
  CU_ASSERT_EQUAL(derived_nodes(T, p, NULL, 3, DERIVED_DELTA_FORWARD, nodes), DERIVED_N_NODES);
  /* 1m = 30/365 lies between 10 and 45 days: weight (30-10)/(45-10). */
  const struct derived_node *m1 = &nodes[3];
  CU_ASSERT_STRING_EQUAL(m1->name, "1m");
  ASSERT_NEAR(m1->T_years, 30.0 / 365, 1e-17);
  CU_ASSERT(m1->valid && !m1->extrapolated);
  double u = 20.0 / 35.0, Tn = 30.0 / 365;
  double w0 = (1 - u) * svi_w(&p[0], 0.0) + u * svi_w(&p[1], 0.0);
  ASSERT_REL(m1->d.atm_vol, sqrt(w0 / Tn), 1e-14);
  double kc = m1->d.k_c25;
  double wc = (1 - u) * svi_w(&p[0], kc) + u * svi_w(&p[1], kc);
  ASSERT_REL(m1->d.vol_c25, sqrt(wc / Tn), 1e-14);
  ASSERT_NEAR(black_delta(1, exp(kc), sqrt(wc / Tn), Tn, BLACK_CALL, 0), 0.25, 1e-10);
  /* 3m = 91 days between 45 and 120. */
  u = (91.0 - 45.0) / (120.0 - 45.0);
  Tn = 91.0 / 365;
  w0 = (1 - u) * svi_w(&p[1], 0.0) + u * svi_w(&p[2], 0.0);
  ASSERT_REL(nodes[5].d.atm_vol, sqrt(w0 / Tn), 1e-14);
}

static void nodes_outside_the_expiries_hold_vol_flat_and_are_flagged(void)
{
  const double T[2] = {5.0 / 365, 40.0 / 365};
  const struct svi p[2] = {skew_neg, skew_pos};
  struct derived_node nodes[DERIVED_N_NODES];
  CU_ASSERT_EQUAL(derived_nodes(T, p, NULL, 2, DERIVED_DELTA_FORWARD, nodes), DERIVED_N_NODES);
  struct derived first, last;
  derived_slice(&p[0], T[0], DERIVED_DELTA_FORWARD, &first);
  derived_slice(&p[1], T[1], DERIVED_DELTA_FORWARD, &last);
  CU_ASSERT(nodes[0].extrapolated); /* 1d < 5d */
  ASSERT_REL(nodes[0].d.atm_vol, first.atm_vol, 1e-14);
  CU_ASSERT(!nodes[1].extrapolated); /* 1w inside */
  for (int i = 4; i < DERIVED_N_NODES; i++) {
    CU_ASSERT(nodes[i].valid && nodes[i].extrapolated); /* 2m .. 1y > 40d */
    ASSERT_REL(nodes[i].d.atm_vol, last.atm_vol, 1e-14);
  }
}

static void nodes_skip_unusable_expiries(void)
{
  const double T[3] = {10.0 / 365, 25.0 / 365, 45.0 / 365};
  const struct svi p[3] = {skew_neg, skew_pos, skew_neg};
  const int usable[3] = {1, 0, 1};
  struct derived_node nodes[DERIVED_N_NODES];
  derived_nodes(T, p, usable, 3, DERIVED_DELTA_FORWARD, nodes);
  /* 1m interpolates 10d and 45d, ignoring 25d: both are skew_neg, so the
   * interpolated w(0) is skew_neg's. */
  ASSERT_REL(nodes[3].d.atm_vol, sqrt(svi_w(&skew_neg, 0.0) / (30.0 / 365)), 1e-14);
  const int none[3] = {0, 0, 0};
  CU_ASSERT_EQUAL(derived_nodes(T, p, none, 3, DERIVED_DELTA_FORWARD, nodes), 0);
  CU_ASSERT(!nodes[0].valid && isnan(nodes[0].d.atm_vol));
}

static void node_names_and_tenors_are_act365(void)
{
  static const char *names[] = {"1d", "1w", "2w", "1m", "2m", "3m", "6m", "1y"};
  static const double days[] = {1, 7, 14, 30, 61, 91, 182, 365};
  for (int i = 0; i < DERIVED_N_NODES; i++) {
    CU_ASSERT_STRING_EQUAL(derived_node_name(i), names[i]);
    ASSERT_NEAR(derived_node_years(i), days[i] / 365.0, 1e-17);
  }
}

static void invalid_inputs_are_rejected_with_nan_results(void)
{
  struct derived d;
  struct svi bad = skew_neg;
  bad.rho = 1.5;
  CU_ASSERT_EQUAL(derived_slice(&bad, 0.5, DERIVED_DELTA_FORWARD, &d), ERR_INPUT);
  CU_ASSERT(isnan(d.atm_vol) && isnan(d.rr25));
  CU_ASSERT_EQUAL(derived_slice(&skew_neg, 0.0, DERIVED_DELTA_FORWARD, &d), ERR_INPUT);
  CU_ASSERT_EQUAL(derived_slice(&skew_neg, 0.5, 7, &d), ERR_INPUT);
  struct svi negw = {.a = -0.5, .b = 0.1, .rho = 0.0, .m = 0.0, .sigma = 0.1};
  CU_ASSERT_EQUAL(derived_slice(&negw, 0.5, DERIVED_DELTA_FORWARD, &d), ERR_INPUT);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(flat_smile_has_closed_form_strikes_and_zero_rr_fly),
      TEST_CASE(delta_at_the_returned_strikes_equals_the_target),
      TEST_CASE(symmetric_smile_has_rr_near_zero),
      TEST_CASE(skewed_smiles_give_rr_of_the_skew_sign),
      TEST_CASE(premium_adjusted_call_takes_the_out_of_the_money_root),
      TEST_CASE(premium_adjusted_strikes_shift_as_the_premium_says),
      TEST_CASE(nodes_interpolate_total_variance_between_expiries),
      TEST_CASE(nodes_outside_the_expiries_hold_vol_flat_and_are_flagged),
      TEST_CASE(nodes_skip_unusable_expiries),
      TEST_CASE(node_names_and_tenors_are_act365),
      TEST_CASE(invalid_inputs_are_rejected_with_nan_results),
  };
  return test_run("derived", cases, TEST_COUNT(cases));
}
