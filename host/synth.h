/* synth: deterministic synthetic crypto option markets: true SVI smiles of
 * realistic shape, quoted points with bid/ask widening in the wings and
 * noise, and whole chains written as tardis options_chain CSV.  Used by
 * `volsurf bench`, the bundled sample of `make run` and round-trip tests
 * (known parameters in, fitted parameters out).  Seeded; no global state. */
#ifndef VOLSURF_SYNTH_H
#define VOLSURF_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "svi.h"

struct synth_rng {
  uint64_t s;
};

void synth_rng_seed(struct synth_rng *r, uint64_t seed);
/* Uniform on [0, 1). */
double synth_uniform(struct synth_rng *r);
/* Standard normal (Box-Muller). */
double synth_normal(struct synth_rng *r);

/* Draws a smile for maturity T with crypto shape: ATM vol 35-120%, skew
 * rho in [-0.6, 0.4], wings within Lee, minimum variance positive. */
void synth_draw_smile(struct synth_rng *r, double T_years, struct svi *out);

/* M quoted points of smile p: k evenly over +-3.5 ATM standard deviations
 * (clipped to [-2, 2]), bid/ask IV band 0.5 vol points wide at the money and
 * widening in the wings, noisy mid inside the band (noise_vol is the noise
 * standard deviation, fraction; 0 for exact points).  Writes k, target total
 * variance w, weight wt (as the slice builder does), iv_bid, iv_ask; any of
 * iv_bid / iv_ask may be NULL. */
void synth_points(struct synth_rng *r, const struct svi *p, double T_years, int M, double noise_vol,
                  double *k, double *w, double *wt, double *iv_bid, double *iv_ask);

/* The SSVI slice of total ATM variance theta (> 0) with skew rho (|rho| < 1)
 * and power-law curvature phi = eta / sqrt(theta), as raw SVI (Gatheral &
 * Jacquier 2014, eq. 4.1): a = theta(1 - rho^2)/2, b = theta phi/2,
 * m = -rho/phi, sigma = sqrt(1 - rho^2)/phi.  With eta(1 + |rho|) <= 2 and
 * theta increasing in T, the surface has no calendar or butterfly
 * arbitrage (ibid., Thm 4.1-4.2). */
void synth_ssvi_slice(double theta, double rho, double eta, struct svi *out);

/* Deribit-style expiry token of a UTC time, e.g. "27DEC24", "5JUN20" (day
 * without leading zero) into buf (cap >= 8). */
void synth_expiry_token(int64_t expiry_us, char *buf, size_t cap);

/* Writes a tardis options_chain CSV (gzip when 'path' ends in .gz) of a
 * synthetic Deribit-like market at as_of_us: assets BTC and ETH with coin
 * premiums, SOL_USDC with USD premiums, daily/weekly/monthly/quarterly
 * expiries, strike grids around the forward, missing bids in the far wings.
 * Each asset's smiles come from one arbitrage-free SSVI surface; marks are
 * exact, bid/ask +-(0.25 + 0.2 z^2) vol points around them.
 * Returns the number of rows written, or ERR_IO / ERR_UNSUPPORTED. */
long synth_write_chain(const char *path, uint64_t seed, int64_t as_of_us);

#endif
