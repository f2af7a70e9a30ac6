/* quote: the normalized option quote (see quote.h).  Feeds fill these in;
 * this file gives them defaults, converts coin premiums to USD, fills IVs a
 * venue did not send, and parses the expiry tokens of instrument names.
 *
 * Invariant kept here: a number that is not known is NaN, never 0, so a
 * missing bid never turns into a vol of 0%. */
#include "quote.h"

#include "black.h"
#include "civil.h"
#include "err.h"

#include <math.h>
#include <string.h>

#define QUOTE_US_PER_DAY 86400000000LL
/* ACT/365 year in microseconds. */
#define QUOTE_US_PER_YEAR (365.0 * 86400e6)
/* All four venues expire options at 08:00 UTC. */
#define QUOTE_EXPIRY_HOUR_US (8LL * 3600 * 1000000)

void quote_init(struct quote *q)
{
  memset(q, 0, sizeof *q);
  q->strike = NAN;
  q->bid_price = q->ask_price = q->mark_price = q->last_price = NAN;
  q->bid_amount = q->ask_amount = NAN;
  q->bid_iv = q->ask_iv = q->mark_iv = NAN;
  q->underlying_price = q->index_price = NAN;
  q->open_interest = NAN;
  q->delta = NAN;
}

double quote_price_usd(const struct quote *q, double price)
{
  return q->premium_in_coin ? price * q->underlying_price : price;
}

/* One IV from one price; NaN when the price says nothing (missing, at or
 * below intrinsic, above the bound). */
static double quote_iv_of(const struct quote *q, double price, double T_years)
{
  if (isnan(price))
    return NAN;
  if (q->premium_in_coin)
    return black_iv_coin(price, q->underlying_price, q->strike, T_years, q->kind);
  return black_iv(price, q->underlying_price, q->strike, T_years, q->kind);
}

int quote_fill_iv(struct quote *q)
{
  double T = (double)(q->expiry_us - q->ts_us) / QUOTE_US_PER_YEAR;
  if (!(T > 0.0) || !(q->underlying_price > 0.0) || !(q->strike > 0.0))
    return 0;
  double *ivs[3] = {&q->bid_iv, &q->ask_iv, &q->mark_iv};
  const double prices[3] = {q->bid_price, q->ask_price, q->mark_price};
  int n_filled = 0;
  for (int i = 0; i < 3; i++) {
    if (!isnan(*ivs[i]))
      continue;
    *ivs[i] = quote_iv_of(q, prices[i], T);
    if (!isnan(*ivs[i]))
      n_filled++;
  }
  return n_filled;
}

void quote_asset_from_symbol(const char *symbol, char *asset, int cap)
{
  if (!asset || cap <= 0)
    return;
  int n = 0;
  if (symbol)
    while (n < cap - 1 && symbol[n] && symbol[n] != '-')
      n++;
  if (n > 0)
    memcpy(asset, symbol, (size_t)n);
  asset[n] = '\0';
}

static int quote_days_in_month(int y, int m)
{
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

static int quote_digits(const char *s, int n, int *out)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return ERR_PARSE;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

/* "JUN" -> 6, case-insensitive; 0 when unknown. */
static int quote_month(const char *s)
{
  static const char names[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
  char up[3];
  for (int i = 0; i < 3; i++)
    up[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
  for (int m = 0; m < 12; m++)
    if (memcmp(names + 3 * m, up, 3) == 0)
      return m + 1;
  return 0;
}

int quote_parse_expiry(const char *token, int len, int64_t *expiry_us)
{
  int y, m, d;
  if (!token || !expiry_us)
    return ERR_PARSE;
  if (len == 6 && quote_digits(token, 6, &d) == 0) {
    /* OKX / Binance: YYMMDD. */
    y = 2000 + d / 10000;
    m = d / 100 % 100;
    d = d % 100;
  } else if (len == 6 || len == 7) {
    /* Deribit / Bybit: D or DD, then MON, then YY; the day has no leading 0
     * on Deribit but a padded one is accepted. */
    int nd = len - 5;
    if (quote_digits(token, nd, &d) != 0 || quote_digits(token + nd + 3, 2, &y) != 0)
      return ERR_PARSE;
    m = quote_month(token + nd);
    y += 2000;
  } else {
    return ERR_PARSE;
  }
  if (m < 1 || m > 12 || d < 1 || d > quote_days_in_month(y, m))
    return ERR_PARSE;
  *expiry_us = civil_days_from(y, m, d) * QUOTE_US_PER_DAY + QUOTE_EXPIRY_HOUR_US;
  return 0;
}
