/* chain_json_loader: reads the normalized Deribit BTC surface snapshot of
 * ../shared/data/deribit_btc_chain_20260526T1927Z_maksm05.json into quotes,
 * for tests only (cJSON stays out of host/).  Header-only, static inline.
 *
 * The file has per-expiry "forwards" (forward_price, index_price), an
 * "instruments" list (strike, option_type C/P, expiry) and "option_quotes"
 * (best_bid/best_ask/mark_price in BTC, some null bids, deribit_mark_iv in
 * percent).  No bid/ask IV: the quotes carry prices only and leave every IV
 * NaN, so slice_build implies them (quote_fill_iv) on the forward given as
 * underlying_price.  All quotes are stamped with "snapshot_time".
 *
 * Only compiled with VOLSURF_HAVE_CJSON; callers skip otherwise. */
#ifndef VOLSURF_CHAIN_JSON_LOADER_H
#define VOLSURF_CHAIN_JSON_LOADER_H

#ifdef VOLSURF_HAVE_CJSON

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "err.h"
#include "quote.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
/* "2026-05-27T08:00:00+00:00" or "...Z" -> microseconds; -1 when unreadable
 * or not UTC. */
static inline int64_t cjl_parse_utc(const char *s)
{
  int y, mo, d, h, mi, se, used = 0;
  if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &used) != 6)
    return -1;
  const char *tz = s + used;
  if (strcmp(tz, "Z") != 0 && strcmp(tz, "+00:00") != 0)
    return -1;
  int64_t days = civil_days_from(y, mo, d);
  return ((days * 86400) + h * 3600 + mi * 60 + se) * 1000000LL;
}

static inline double cjl_num(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static inline const char *cjl_str(const cJSON *o, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static inline char *cjl_slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) != 0)
    goto done;
  long len = ftell(f);
  if (len < 0 || fseek(f, 0, SEEK_SET) != 0)
    goto done;
  buf = malloc((size_t)len + 1);
  if (!buf)
    goto done;
  if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
    free(buf);
    buf = NULL;
    goto done;
  }
  buf[len] = '\0';
done:
  fclose(f);
  return buf;
}

/* Loads the snapshot at 'path'.  On success returns the number of quotes and
 * sets *out (caller frees with free()) and *as_of_us (snapshot_time).
 * Returns ERR_IO (cannot read), ERR_PARSE (not the expected document) or
 * ERR_NOMEM.  Quotes whose instrument or expiry's forward is missing are
 * skipped. */
static inline int chain_json_load(const char *path, struct quote **out, int64_t *as_of_us)
{
  int rc = ERR_IO, n = 0;
  struct quote *q = NULL;
  cJSON *doc = NULL;
  *out = NULL;
  char *text = cjl_slurp(path);
  if (!text)
    goto fail;
  rc = ERR_PARSE;
  doc = cJSON_Parse(text);
  const cJSON *fwds = cJSON_GetObjectItemCaseSensitive(doc, "forwards");
  const cJSON *insts = cJSON_GetObjectItemCaseSensitive(doc, "instruments");
  const cJSON *quotes = cJSON_GetObjectItemCaseSensitive(doc, "option_quotes");
  int64_t as_of = cjl_parse_utc(cjl_str(doc, "snapshot_time"));
  if (!cJSON_IsArray(fwds) || !cJSON_IsArray(insts) || !cJSON_IsArray(quotes) || as_of < 0)
    goto fail;
  rc = ERR_NOMEM;
  q = malloc((size_t)(cJSON_GetArraySize(quotes) + 1) * sizeof(*q));
  if (!q)
    goto fail;

  const cJSON *oq;
  cJSON_ArrayForEach(oq, quotes)
  {
    const char *name = cjl_str(oq, "instrument_name");
    if (!name || strlen(name) >= QUOTE_SYMBOL_LEN)
      continue;
    const cJSON *inst = NULL, *it;
    cJSON_ArrayForEach(it, insts)
    {
      const char *iname = cjl_str(it, "instrument_name");
      if (iname && strcmp(iname, name) == 0) {
        inst = it;
        break;
      }
    }
    if (!inst)
      continue;
    const char *exp_text = cjl_str(inst, "expiry");
    const char *type = cjl_str(inst, "option_type");
    int64_t expiry = cjl_parse_utc(exp_text);
    if (expiry < 0 || !type)
      continue;
    double fwd = NAN, idx = NAN;
    const cJSON *fw;
    cJSON_ArrayForEach(fw, fwds)
    {
      if (cjl_parse_utc(cjl_str(fw, "expiry")) == expiry) {
        fwd = cjl_num(fw, "forward_price");
        idx = cjl_num(fw, "index_price");
        break;
      }
    }
    if (!(fwd > 0.0))
      continue;

    struct quote *x = &q[n];
    quote_init(x);
    strcpy(x->venue, "deribit");
    strcpy(x->symbol, name);
    quote_asset_from_symbol(name, x->asset, QUOTE_ASSET_LEN);
    x->kind = type[0] == 'C' ? QUOTE_CALL : QUOTE_PUT;
    x->premium_in_coin = 1;
    x->strike = cjl_num(inst, "strike");
    x->expiry_us = expiry;
    x->ts_us = x->local_ts_us = as_of;
    /* null or 0 = no order on that side. */
    x->bid_price = cjl_num(oq, "best_bid");
    x->ask_price = cjl_num(oq, "best_ask");
    if (!(x->bid_price > 0.0))
      x->bid_price = NAN;
    if (!(x->ask_price > 0.0))
      x->ask_price = NAN;
    x->mark_price = cjl_num(oq, "mark_price");
    x->open_interest = cjl_num(oq, "open_interest");
    x->delta = cjl_num(oq, "deribit_delta");
    x->underlying_price = fwd;
    x->index_price = idx;
    n++;
  }
  cJSON_Delete(doc);
  free(text);
  *out = q;
  *as_of_us = as_of;
  return n;
fail:
  cJSON_Delete(doc);
  free(text);
  free(q);
  return rc;
}

#endif /* VOLSURF_HAVE_CJSON */
#endif
