/* synth: synthetic markets for bench, samples and round-trip tests.  The
 * shapes are drawn to look like Deribit crypto smiles (high ATM vol, put or
 * call skew, convex wings); nothing here is used on live data. */
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "black.h"
#include "civil.h"
#include "err.h"
#ifdef VOLSURF_HAVE_ZLIB
#include <zlib.h>
#endif

void synth_rng_seed(struct synth_rng *r, uint64_t seed)
{
  r->s = seed ^ 0x9E3779B97F4A7C15ull;
}

/* splitmix64: tiny, fast, good enough for synthetic data. */
static uint64_t rng_next(struct synth_rng *r)
{
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double synth_uniform(struct synth_rng *r)
{
  return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double synth_normal(struct synth_rng *r)
{
  double u1 = synth_uniform(r), u2 = synth_uniform(r);
  if (u1 < 1e-300)
    u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void synth_draw_smile(struct synth_rng *r, double T_years, struct svi *out)
{
  double atm = 0.35 + 0.85 * synth_uniform(r);
  double sqt = sqrt(T_years);
  double rho = -0.6 + 1.0 * synth_uniform(r);
  /* sigma in units of the ATM standard deviation keeps the curvature sane
   * from one-day to one-year expiries. */
  double sigma = atm * sqt * (0.3 + 1.2 * synth_uniform(r));
  /* Wing slope b(1+|rho|) between 0.2 and 1.2 of the Lee bound's half. */
  double b = (0.1 + 0.5 * synth_uniform(r)) * atm * sqt / (1.0 + fabs(rho));
  if (b * (1.0 + fabs(rho)) > 1.5)
    b = 1.5 / (1.0 + fabs(rho));
  double m = (synth_uniform(r) - 0.5) * 0.4 * atm * sqt;
  /* Choose a so that w(0) = atm^2 T. */
  double w0 = atm * atm * T_years;
  double a = w0 - b * (-rho * m + sqrt(m * m + sigma * sigma));
  double wmin = a + b * sigma * sqrt(1.0 - rho * rho);
  if (wmin < 0.05 * w0)
    a += 0.05 * w0 - wmin;
  out->a = a;
  out->b = b;
  out->rho = rho;
  out->m = m;
  out->sigma = sigma;
}

void synth_points(struct synth_rng *r, const struct svi *p, double T_years, int M, double noise_vol,
                  double *k, double *w, double *wt, double *iv_bid, double *iv_ask)
{
  double atm = sqrt(fmax(svi_w(p, 0.0), 1e-12) / T_years);
  double span = fmin(3.5 * atm * sqrt(T_years), 2.0);
  for (int i = 0; i < M; i++) {
    double ki = M > 1 ? -span + 2.0 * span * i / (M - 1) : 0.0;
    double iv = sqrt(fmax(svi_w(p, ki), 1e-12) / T_years);
    double z = fabs(ki) / (atm * sqrt(T_years));
    double spread = 0.005 + 0.004 * z * z; /* widening in the wings */
    double mid = iv + noise_vol * synth_normal(r);
    if (mid < 0.01)
      mid = 0.01;
    k[i] = ki;
    w[i] = mid * mid * T_years;
    wt[i] = 1.0 / (2.0 * mid * T_years * spread);
    if (iv_bid)
      iv_bid[i] = mid - 0.5 * spread;
    if (iv_ask)
      iv_ask[i] = mid + 0.5 * spread;
  }
}

/* Minimal writer over plain stdio or zlib. */
struct out {
  FILE *f;
#ifdef VOLSURF_HAVE_ZLIB
  gzFile gz;
#endif
};

static int out_open(struct out *o, const char *path)
{
  memset(o, 0, sizeof(*o));
  size_t n = strlen(path);
  if (n > 3 && strcmp(path + n - 3, ".gz") == 0) {
#ifdef VOLSURF_HAVE_ZLIB
    o->gz = gzopen(path, "wb6");
    return o->gz ? 0 : ERR_IO;
#else
    return ERR_UNSUPPORTED;
#endif
  }
  o->f = fopen(path, "w");
  return o->f ? 0 : ERR_IO;
}

static void out_puts(struct out *o, const char *s)
{
#ifdef VOLSURF_HAVE_ZLIB
  if (o->gz) {
    gzputs(o->gz, s);
    return;
  }
#endif
  fputs(s, o->f);
}

static int out_close(struct out *o)
{
#ifdef VOLSURF_HAVE_ZLIB
  if (o->gz)
    return gzclose(o->gz) == Z_OK ? 0 : ERR_IO;
#endif
  return fclose(o->f) == 0 ? 0 : ERR_IO;
}

void synth_ssvi_slice(double theta, double rho, double eta, struct svi *out)
{
  double phi = eta / sqrt(theta);
  out->a = theta * (1.0 - rho * rho) / 2.0;
  out->b = theta * phi / 2.0;
  out->rho = rho;
  out->m = -rho / phi;
  out->sigma = sqrt(1.0 - rho * rho) / phi;
}

void synth_expiry_token(int64_t expiry_us, char *buf, size_t cap)
{
  civil_expiry_code(expiry_us, buf, cap);
}

long synth_write_chain(const char *path, uint64_t seed, int64_t as_of_us)
{
  /* Per asset an SSVI surface: ATM vol term structure v_inf + (v0 - v_inf)
   * exp(-T/0.1) (theta = atm^2 T stays increasing), power-law phi = eta /
   * sqrt(theta), skew rho.  With gamma = 1/2 and eta(1 + |rho|) <= 2 the
   * surface is free of calendar and butterfly arbitrage (Gatheral & Jacquier
   * 2014, Thm 4.1-4.2), so a fit of it must not be flagged. */
  static const struct {
    const char *root;
    double spot, strike_step;
    int coin;
    double v0, v_inf, rho, eta;
  } assets[] = {{"BTC", 95000.0, 1000.0, 1, 0.62, 0.52, -0.25, 1.1},
                {"ETH", 3400.0, 50.0, 1, 0.78, 0.66, -0.15, 1.2},
                {"SOL_USDC", 180.0, 5.0, 0, 0.95, 0.80, 0.05, 1.3}};
  /* Days to expiry of the listed expiries: dailies, weeklies, monthlies, quarterlies. */
  static const double days[] = {1, 2, 3, 7, 14, 21, 35, 63, 91, 182, 273};
  const int64_t day_us = 86400000000LL;
  struct out o;
  int rc = out_open(&o, path);
  if (rc < 0)
    return rc;
  struct synth_rng rng;
  synth_rng_seed(&rng, seed);
  out_puts(&o, "exchange,symbol,timestamp,local_timestamp,type,strike_price,expiration,"
               "open_interest,last_price,bid_price,bid_amount,bid_iv,ask_price,ask_amount,"
               "ask_iv,mark_price,mark_iv,underlying_index,underlying_price,delta,gamma,vega,"
               "theta,rho\n");
  long rows = 0;
  int64_t today8 = as_of_us - as_of_us % day_us + 8 * 3600000000LL;
  for (size_t a = 0; a < sizeof(assets) / sizeof(assets[0]); a++) {
    for (size_t e = 0; e < sizeof(days) / sizeof(days[0]); e++) {
      int64_t expiry = today8 + (int64_t)days[e] * day_us;
      double T = (double)(expiry - as_of_us) / (365.0 * 86400e6);
      if (T <= 0.0)
        continue;
      double F = assets[a].spot * (1.0 + 0.08 * T);
      double atm_T = assets[a].v_inf + (assets[a].v0 - assets[a].v_inf) * exp(-T / 0.1);
      double theta = atm_T * atm_T * T, rho = assets[a].rho;
      struct svi p;
      synth_ssvi_slice(theta, rho, assets[a].eta, &p);
      char tok[16];
      synth_expiry_token(expiry, tok, sizeof(tok));
      double atm = sqrt(svi_w(&p, 0.0) / T);
      double step = assets[a].strike_step * (T < 0.05 ? 1.0 : T < 0.3 ? 2.0 : 5.0);
      for (int j = -25; j <= 25; j++) {
        double K = round(F / step) * step + j * step;
        double k = log(K / F);
        if (K <= 0.0 || fabs(k) > 4.0 * atm * sqrt(T) + 0.05)
          continue;
        double iv = sqrt(svi_w(&p, k) / T);
        double z = fabs(k) / (atm * sqrt(T));
        double half = 0.5 * (0.005 + 0.004 * z * z);
        for (int kind = 0; kind < 2; kind++) {
          double scale = assets[a].coin ? 1.0 / F : 1.0;
          double mark = black_price(F, K, iv, T, kind) * scale;
          double bid = black_price(F, K, iv - half, T, kind) * scale;
          double ask = black_price(F, K, iv + half, T, kind) * scale;
          int no_bid = z > 3.0 || bid <= 0.0;
          double ivp = 100.0; /* Deribit IVs in percent */
          char line[512];
          char sym[64];
          snprintf(sym, sizeof(sym), "%s-%s-%.10g-%c", assets[a].root, tok, K, kind ? 'C' : 'P');
          char bidbuf[64] = "", bidiv[32] = "";
          if (!no_bid) {
            snprintf(bidbuf, sizeof(bidbuf), "%.10g", bid);
            snprintf(bidiv, sizeof(bidiv), "%.4f", (iv - half) * ivp);
          }
          int64_t ts = as_of_us - (int64_t)(synth_uniform(&rng) * 5e6);
          snprintf(line, sizeof(line),
                   "deribit,%s,%lld,%lld,%s,%.10g,%lld,%.1f,,%s,%s,%s,%.10g,10,%.4f,%.10g,%.4f,"
                   "SYN.%s-%s,%.2f,,,,,\n",
                   sym, (long long)ts, (long long)(ts + 1500), kind ? "call" : "put", K,
                   (long long)expiry, 100.0 * synth_uniform(&rng), bidbuf, no_bid ? "" : "10",
                   bidiv, ask, (iv + half) * ivp, mark, iv * ivp, assets[a].root, tok, F);
          out_puts(&o, line);
          rows++;
        }
      }
    }
  }
  rc = out_close(&o);
  return rc < 0 ? rc : rows;
}
