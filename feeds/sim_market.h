/* sim_market: a deterministic, Deribit-like option market for the embedded
 * default run and for tests.  Pure model: no I/O, no wall clock (time is a
 * parameter), no global state.  feeds/sim_server serves it on the Deribit
 * wire protocol, so the real Deribit connector is what the default run
 * exercises:
 *
 *   sim_market (model) --sim_ticker--> sim_server (JSON-RPC on loopback)
 *     --ws--> Deribit connector --quotes--> book --> calibration
 *
 * Model (docs/simulator.md): per asset a spot following a GBM, a forward per
 * expiry (small basis for the inverse BTC/ETH options, none for the linear
 * USDC altcoins), true smiles from an arbitrage-free SSVI surface whose
 * parameters mean-revert slowly (Ornstein-Uhlenbeck, exact steps), bid/ask
 * IVs around the true IV widening in the wings and at short tenors, prices
 * from Black-76 rounded to Deribit's ticks, missing bids in the far wings
 * and occasional crossed quotes.  Listings follow Deribit's schedule:
 * dailies, Friday weeklies, last-Friday monthlies and quarterlies at 08:00
 * UTC; new expiries list and expired ones roll off as time advances;
 * strikes are added (never removed) as the forward moves.
 *
 * Determinism: the state after a sequence of sim_market_advance calls is a
 * function of the seed, the configuration and the times passed; a ticker is
 * a function of that state, the instrument and the time.  Same seed + same
 * time sequence -> byte-identical listings and tickers.
 *
 * Thread use: one market belongs to one thread; nothing here locks. */
#ifndef VOLSURF_FEEDS_SIM_MARKET_H
#define VOLSURF_FEEDS_SIM_MARKET_H

#include <stddef.h>
#include <stdint.h>

#include "quote.h"
#include "svi.h"

#define SIM_MAX_ASSETS 8
#define SIM_MAX_EXPIRIES 24 /* per asset */
#define SIM_MAX_STRIKES 96  /* per expiry */
#define SIM_ASSETS_DEFAULT "BTC,ETH,SOL_USDC,XRP_USDC"

/* Deribit settlement_period of an expiry. */
enum sim_period { SIM_PERIOD_DAY = 0, SIM_PERIOD_WEEK = 1, SIM_PERIOD_MONTH = 2 };

struct sim_config {
  uint64_t seed;
  const char *assets;  /* comma list of known roots; NULL: SIM_ASSETS_DEFAULT */
  int64_t start_us;    /* market time of sim_market_new */
  double crossed_prob; /* chance a quote is crossed (bid above ask); default 0.002 */
  double no_bid_prob;  /* chance a bid is missing inside the wings; default 0.01 */
  double no_ask_prob;  /* chance an ask is missing (ask_iv 500 sentinel); default 0.003 */
  double vol_scale;    /* multiplies spot vol and smile-parameter vol; default 1 */
};

/* One listed option (Deribit public/get_instruments terms). */
struct sim_instrument {
  char name[QUOTE_SYMBOL_LEN]; /* "BTC-27DEC24-100000-C", "XRP_USDC-5JUN25-2d2-P" */
  char asset[QUOTE_ASSET_LEN]; /* symbol root: "BTC", "SOL_USDC" */
  char base[QUOTE_ASSET_LEN];  /* base currency: "BTC", "SOL" */
  int kind;                    /* enum quote_kind */
  int coin;                    /* 1: inverse, premium in coin; 0: linear USDC */
  int period;                  /* enum sim_period */
  double strike;
  double tick_size;                        /* below tick_step_above */
  double tick_step_above, tick_size_above; /* Deribit tick_size_steps[0]; 0: none */
  double contract_size, min_trade_amount;
  int64_t expiry_us, created_us;
  long id; /* instrument_id: increases in listing order */
};

/* One ticker, in Deribit's units: prices in the quote currency (coin for
 * inverse), IVs in percent.  Sentinels as Deribit sends them: no bid ->
 * best_bid_price 0, amount 0, bid_iv 0; no ask -> price 0, amount 0,
 * ask_iv 500; an ask whose IV is above the cap -> ask_iv 500.  NaN fields
 * are written as null. */
struct sim_ticker {
  int64_t timestamp_ms;
  double best_bid_price, best_bid_amount, best_ask_price, best_ask_amount;
  double bid_iv, ask_iv, mark_iv;
  double mark_price, last_price, min_price, max_price, settlement_price;
  double underlying_price, index_price, estimated_delivery_price, interest_rate;
  char underlying_index[QUOTE_INDEX_LEN]; /* "SYN.BTC-5JUN20", "BTC-27DEC24", "index_price" */
  double delta, gamma, vega, theta, rho;
  double open_interest, volume, volume_usd;
  /* Not on the wire: the model's truth, for tests. */
  double true_iv; /* fraction */
  double forward; /* = underlying_price */
  double T_years;
  int crossed;
};

void sim_config_default(struct sim_config *c);

struct sim_market;

/* Creates a market at c->start_us with its listing.  Copies c (the assets
 * string included).  Returns NULL on an unknown asset, a bad start time or
 * allocation failure.  Caller frees with sim_market_free. */
struct sim_market *sim_market_new(const struct sim_config *c);
void sim_market_free(struct sim_market *m);

/* Moves the market to now_us: spot and smile parameters evolve, expired
 * expiries roll off, new ones list, strike grids widen around the forward.
 * Returns 0, or ERR_RANGE when now_us is before the market's time (the
 * market never goes back).  Instrument indices may change; names and ids
 * of instruments still listed do not. */
int sim_market_advance(struct sim_market *m, int64_t now_us);
int64_t sim_market_now(const struct sim_market *m);

/* Listed instruments, sorted by name; index i valid until the next advance. */
int sim_market_count(const struct sim_market *m);
const struct sim_instrument *sim_market_instrument(const struct sim_market *m, int i);
/* Index of a listed instrument by name, or -1. */
int sim_market_find(const struct sim_market *m, const char *name);

/* Number of assets and their spot (index) prices at the market's time. */
int sim_market_n_assets(const struct sim_market *m);
const char *sim_market_asset(const struct sim_market *m, int a);
double sim_market_spot(const struct sim_market *m, int a);

/* The true smile (raw SVI in total variance), forward and T of the expiry
 * of instrument i at the market's time.  Returns 0, or ERR_INPUT on a bad
 * index. */
int sim_market_truth(const struct sim_market *m, int i, struct svi *svi, double *forward,
                     double *T_years);

/* The ticker of instrument i at the market's time.  Returns 0, or ERR_INPUT
 * on a bad index. */
int sim_market_ticker(const struct sim_market *m, int i, struct sim_ticker *out);

#endif
