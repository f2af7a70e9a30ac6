/* black: Black-76 prices, greeks and implied volatility (r = 0, undiscounted:
 * crypto option premiums are paid at trade and the venues quote IVs on the
 * forward with zero rate).
 *
 * Implied vol follows Jaeckel, "Let's be rational" (2015): normalised price,
 * rational initial guess, two Householder(3) steps; accurate to ~1e-12
 * relative wherever the price carries the information.  Pure functions,
 * thread-safe, no allocation. */
#ifndef VOLSURF_BLACK_H
#define VOLSURF_BLACK_H

enum { BLACK_PUT = 0, BLACK_CALL = 1 };

/* Standard normal cdf and pdf, accurate to full double precision in the tails. */
double black_norm_cdf(double x);
double black_norm_pdf(double x);

/* Inverse of black_norm_cdf: -inf at 0, +inf at 1, NaN outside [0, 1];
 * relative accuracy near eps in both tails down to p = DBL_MIN. */
double black_norm_inv(double p);

/* Undiscounted Black-76 price of a call or put on forward F, strike K, vol
 * sigma (fraction), time T (years).  NaN for F, K <= 0 or T < 0. */
double black_price(double F, double K, double sigma, double T_years, int is_call);

/* dPrice/dsigma. */
double black_vega(double F, double K, double sigma, double T_years);

/* Implied vol from an undiscounted price in the same currency as F and K.
 * Returns NaN when the price is at or below intrinsic, at or above the upper
 * bound (F for calls, K for puts), or any input is invalid. */
double black_iv(double price, double F, double K, double T_years, int is_call);

/* Deribit-style coin premium: price_in_coin = black_price(F,K,sigma,T)/F. */
double black_iv_coin(double price_in_coin, double F, double K, double T_years, int is_call);

/* Forward delta N(d1) (call) or N(d1)-1 (put); with premium_adjusted,
 * (K/F)N(d2) (call) or -(K/F)N(-d2) (put), the delta of a coin-settled option. */
double black_delta(double F, double K, double sigma, double T_years, int is_call,
                   int premium_adjusted);

#endif
