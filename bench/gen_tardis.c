/* gen_tardis: writes a synthetic tardis.dev options_chain CSV (the header of
 * ../shared/reference/exchanges.md 6.1) to stdout, for the chain_parse
 * benchmark.  Not a test and not market data: a Deribit-like BTC chain (8
 * expiries x 60 strikes x call/put) repeated as snapshots 1 s apart, with
 * prices and IVs jittered by a fixed-seed LCG so every run writes the same
 * bytes.  Usage: gen_tardis [rows] > file.csv   (default 2,000,000). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t lcg_state = 88172645463325252ULL;

static double uniform(void)
{
  lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(lcg_state >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
  long rows = argc > 1 ? atol(argv[1]) : 2000000L;
  static const char *exp_code[8] = {"27NOV26", "28NOV26", "4DEC26",  "11DEC26",
                                    "25DEC26", "29JAN27", "26MAR27", "25JUN27"};
  static const int exp_days[8] = {3, 4, 10, 17, 31, 66, 122, 213};
  const int64_t t0 = 1795939200000000LL; /* 2026-11-24 08:00 UTC */
  const double spot = 91234.5;
  printf("exchange,symbol,timestamp,local_timestamp,type,strike_price,expiration,open_interest,"
         "last_price,bid_price,bid_amount,bid_iv,ask_price,ask_amount,ask_iv,mark_price,mark_iv,"
         "underlying_index,underlying_price,delta,gamma,vega,theta,rho\n");
  long n = 0;
  for (int64_t snap = 0; n < rows; snap++) {
    for (int e = 0; e < 8 && n < rows; e++) {
      double T = exp_days[e] / 365.0;
      double fwd = spot * (1.0 + 0.05 * T);
      int64_t expiry = t0 + exp_days[e] * 86400000000LL;
      for (int s = 0; s < 60 && n < rows; s++) {
        int strike = 60000 + 1000 * s;
        for (int call = 0; call < 2 && n < rows; call++, n++) {
          int64_t ts = t0 + snap * 1000000LL + (int64_t)(uniform() * 999000.0);
          double k = log(strike / fwd);
          double iv = 45.0 + 30.0 * k * k - 5.0 * k + uniform();
          double mark = 0.0005 + 0.2 * uniform();
          double half = 0.0005 * (1 + (int)(uniform() * 10));
          double bid = mark - half > 0.0 ? mark - half : 0.0;
          double delta = call ? 0.5 + 0.5 * tanh(-3 * k) : -0.5 + 0.5 * tanh(-3 * k);
          printf("deribit,BTC-%s-%d-%c,%lld,%lld,%s,%d,%lld,%.1f,%.4f,%.4f,%.1f,%.2f,%.4f,%.1f,"
                 "%.2f,%.8f,%.2f,SYN.BTC-%s,%.2f,%.5f,%.5f,%.5f,%.5f,%.5f\n",
                 exp_code[e], strike, call ? 'C' : 'P', (long long)ts, (long long)(ts + 731),
                 call ? "call" : "put", strike, (long long)expiry, 100.0 * uniform(), mark, bid,
                 10.0 * uniform(), bid > 0 ? iv - 2.0 : 0.0, mark + half, 10.0 * uniform(),
                 iv + 2.0, mark, iv, exp_code[e], fwd + uniform(), delta, 0.00001 * uniform(),
                 50.0 * uniform(), -100.0 * uniform(), 10.0 * (uniform() - 0.5));
        }
      }
    }
  }
  return 0;
}
