/* listing: instrument listings from the four venues' REST endpoints (see
 * listing.h).  Loads append rows, then sort by (symbol, load order) and keep
 * the newest row of each symbol, so a reload is an upsert and lookups are a
 * binary search. */
#include "listing.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define US_PER_DAY 86400000000LL
#define US_0800 28800000000LL

struct listing *listing_new(int max_entries)
{
  if (max_entries <= 0 || max_entries > (1 << 22))
    return NULL;
  struct listing *l = calloc(1, sizeof *l);
  if (!l)
    goto fail;
  l->e = calloc((size_t)max_entries, sizeof *l->e);
  if (!l->e)
    goto fail;
  l->cap = max_entries;
  return l;
fail:
  listing_free(l);
  return NULL;
}

void listing_free(struct listing *l)
{
  if (!l)
    return;
  free(l->e);
  free(l);
}

static int entry_cmp(const void *a, const void *b)
{
  const struct listing_entry *x = a, *y = b;
  int c = strcmp(x->symbol, y->symbol);
  if (c)
    return c;
  return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

/* Sorts and keeps the newest row of each symbol. */
static void listing_compact(struct listing *l)
{
  if (l->n < 2)
    return;
  qsort(l->e, (size_t)l->n, sizeof *l->e, entry_cmp);
  int w = 0;
  for (int i = 0; i < l->n; i++) {
    if (i + 1 < l->n && strcmp(l->e[i].symbol, l->e[i + 1].symbol) == 0)
      continue; /* a newer row of the same symbol follows */
    l->e[w++] = l->e[i];
  }
  l->n = w;
}

const struct listing_entry *listing_find(const struct listing *l, const char *symbol)
{
  if (!l || !symbol)
    return NULL;
  int lo = 0, hi = l->n - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    int c = strcmp(l->e[mid].symbol, symbol);
    if (c == 0)
      return &l->e[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return NULL;
}

void listing_fill_quote(const struct listing_entry *e, struct quote *q)
{
  norm_copy_n(q->symbol, sizeof q->symbol, e->symbol, strlen(e->symbol));
  norm_copy_n(q->asset, sizeof q->asset, e->asset, strlen(e->asset));
  q->kind = e->kind;
  q->strike = e->strike;
  q->expiry_us = e->expiry_us;
  q->premium_in_coin = e->premium_in_coin;
}

const struct listing_entry *listing_resolve(const struct listing *l, const char *sym,
                                            listing_symbol_parse_fn parse,
                                            struct listing_entry *scratch, unsigned *flags,
                                            struct feeds_batch *b, struct feeds_stats *st)
{
  const struct listing_entry *e = listing_find(l, sym);
  *flags = 0;
  if (!e) {
    if (parse(sym, scratch)) {
      norm_reject_row(b, st, FEEDS_REJ_SYMBOL);
      return NULL;
    }
    *flags = FEEDS_QF_EXPIRY_FROM_SYMBOL;
    return scratch;
  }
  if (!e->active) {
    norm_reject_row(b, st, FEEDS_REJ_CLOSED);
    return NULL;
  }
  return e;
}

/* Slot for one more row, or NULL (row counted FULL). */
static struct listing_entry *listing_slot(struct listing *l, struct feeds_stats *st)
{
  if (l->n >= l->cap) {
    /* Duplicates of a reload may free room. */
    listing_compact(l);
    if (l->n >= l->cap) {
      st->n_rejected[FEEDS_REJ_FULL]++;
      return NULL;
    }
  }
  struct listing_entry *e = &l->e[l->n];
  memset(e, 0, sizeof *e);
  e->strike = NAN;
  return e;
}

static void listing_push(struct listing *l, struct listing_entry *e)
{
  e->seq = l->next_seq++;
  if (((e->expiry_us % US_PER_DAY) + US_PER_DAY) % US_PER_DAY != US_0800)
    l->n_expiry_not_0800++;
  l->n++;
}

static cJSON *listing_parse_body(const char *body, size_t len, struct feeds_stats *st)
{
  st->n_messages++;
  if (len > LISTING_BODY_MAX) {
    st->n_rejected[FEEDS_REJ_TOO_BIG]++;
    return NULL;
  }
  cJSON *root = body && len ? cJSON_ParseWithLength(body, len) : NULL;
  if (!root)
    st->n_rejected[FEEDS_REJ_JSON]++;
  return root;
}

/* Copies the symbol root (text before the first '-') into asset. */
static int root_of(const char *symbol, char *asset, size_t cap)
{
  const char *dash = strchr(symbol, '-');
  if (!dash || dash == symbol)
    return ERR_PARSE;
  return norm_copy_n(asset, cap, symbol, (size_t)(dash - symbol));
}

static int str_is(const cJSON *obj, const char *name, const char *value)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
  return cJSON_IsString(it) && strcmp(it->valuestring, value) == 0;
}

/* Ends a load: returns the count, or ERR_FULL if rows were dropped. */
static int listing_done(struct listing *l, int n_added, uint64_t full_before,
                        const struct feeds_stats *st)
{
  listing_compact(l);
  return st->n_rejected[FEEDS_REJ_FULL] != full_before ? ERR_FULL : n_added;
}

static int deribit_row(struct listing *l, const cJSON *r, struct feeds_stats *st)
{
  if (!str_is(r, "kind", "option"))
    return 0;
  struct listing_entry *e = listing_slot(l, st);
  if (!e)
    return 0;
  double strike, exp_ms;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(r, "option_type");
  if (norm_copy_str(r, "instrument_name", e->symbol, sizeof e->symbol) ||
      root_of(e->symbol, e->asset, sizeof e->asset) || norm_num_required(r, "strike", &strike) ||
      !(strike > 0) || norm_num_required(r, "expiration_timestamp", &exp_ms) ||
      !cJSON_IsString(type)) {
    st->n_rejected[FEEDS_REJ_FIELD]++;
    return 0;
  }
  if (strcmp(type->valuestring, "call") == 0) {
    e->kind = QUOTE_CALL;
  } else if (strcmp(type->valuestring, "put") == 0) {
    e->kind = QUOTE_PUT;
  } else {
    st->n_rejected[FEEDS_REJ_FIELD]++;
    return 0;
  }
  e->strike = strike;
  e->expiry_us = norm_ms_to_us(exp_ms);
  /* "reversed" = inverse: premium in BTC/ETH.  Older payloads (the OpenAPI
   * example) lack instrument_type; there quote_currency == base_currency
   * says the same. */
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(r, "instrument_type");
  if (cJSON_IsString(it)) {
    e->premium_in_coin = strcmp(it->valuestring, "reversed") == 0;
  } else {
    const cJSON *qc = cJSON_GetObjectItemCaseSensitive(r, "quote_currency");
    const cJSON *bc = cJSON_GetObjectItemCaseSensitive(r, "base_currency");
    e->premium_in_coin =
        cJSON_IsString(qc) && cJSON_IsString(bc) && strcmp(qc->valuestring, bc->valuestring) == 0;
  }
  const cJSON *active = cJSON_GetObjectItemCaseSensitive(r, "is_active");
  e->active = !cJSON_IsFalse(active) && !str_is(r, "state", "closed");
  listing_push(l, e);
  return 1;
}

int listing_add_deribit(struct listing *l, const char *body, size_t len, struct feeds_stats *st)
{
  cJSON *root = listing_parse_body(body, len, st);
  if (!root)
    return ERR_PARSE;
  uint64_t full_before = st->n_rejected[FEEDS_REJ_FULL];
  int n = 0, rc;
  const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result");
  if (cJSON_IsArray(res)) {
    const cJSON *r;
    cJSON_ArrayForEach(r, res) n += deribit_row(l, r, st);
  } else if (cJSON_IsObject(res)) {
    n += deribit_row(l, res, st);
  } else {
    st->n_rejected[FEEDS_REJ_SHAPE]++;
    cJSON_Delete(root);
    return ERR_PARSE;
  }
  rc = listing_done(l, n, full_before, st);
  cJSON_Delete(root);
  return rc;
}

/* OKX asset: family "BTC-USD" -> "BTC", "BTC-USD_UM" -> "BTC_UM". */
static int okx_asset(const char *family, char *asset, size_t cap)
{
  const char *dash = strchr(family, '-');
  if (!dash || dash == family)
    return ERR_PARSE;
  if (norm_copy_n(asset, cap, family, (size_t)(dash - family)))
    return ERR_PARSE;
  const char *um = strstr(dash, "_UM");
  if (um && strlen(asset) + 4 <= cap - 1)
    strcat(asset, "_UM");
  return 0;
}

static int okx_row(struct listing *l, const cJSON *r, struct feeds_stats *st)
{
  if (!str_is(r, "instType", "OPTION"))
    return 0;
  struct listing_entry *e = listing_slot(l, st);
  if (!e)
    return 0;
  char family[QUOTE_INDEX_LEN];
  double strike, exp_ms;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(r, "optType");
  if (norm_copy_str(r, "instFamily", family, sizeof family) &&
      norm_copy_str(r, "uly", family, sizeof family)) {
    st->n_rejected[FEEDS_REJ_FIELD]++;
    return 0;
  }
  if (norm_copy_str(r, "instId", e->symbol, sizeof e->symbol) ||
      okx_asset(family, e->asset, sizeof e->asset) || norm_num_required(r, "stk", &strike) ||
      !(strike > 0) || norm_num_required(r, "expTime", &exp_ms) || !cJSON_IsString(type) ||
      (strcmp(type->valuestring, "C") != 0 && strcmp(type->valuestring, "P") != 0)) {
    st->n_rejected[FEEDS_REJ_FIELD]++;
    return 0;
  }
  e->kind = type->valuestring[0] == 'C' ? QUOTE_CALL : QUOTE_PUT;
  e->strike = strike;
  e->expiry_us = norm_ms_to_us(exp_ms);
  /* Coin-margined when settled in the coin the family is named after
   * (BTC-USD settles in BTC); the _UM families settle in USD(T/C). */
  char settle[QUOTE_ASSET_LEN];
  if (norm_copy_str(r, "settleCcy", settle, sizeof settle) == 0)
    e->premium_in_coin = strncmp(family, settle, strlen(settle)) == 0 &&
                         family[strlen(settle)] == '-' && !strstr(family, "_UM");
  else
    e->premium_in_coin = !strstr(family, "_UM");
  const cJSON *state = cJSON_GetObjectItemCaseSensitive(r, "state");
  e->active = !cJSON_IsString(state) || strcmp(state->valuestring, "live") == 0 ||
              strcmp(state->valuestring, "preopen") == 0;
  listing_push(l, e);
  return 1;
}

int listing_add_okx(struct listing *l, const char *body, size_t len, struct feeds_stats *st)
{
  cJSON *root = listing_parse_body(body, len, st);
  if (!root)
    return ERR_PARSE;
  uint64_t full_before = st->n_rejected[FEEDS_REJ_FULL];
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
  if (!cJSON_IsArray(data) || !str_is(root, "code", "0")) {
    st->n_rejected[FEEDS_REJ_SHAPE]++;
    cJSON_Delete(root);
    return ERR_PARSE;
  }
  int n = 0;
  const cJSON *r;
  cJSON_ArrayForEach(r, data) n += okx_row(l, r, st);
  int rc = listing_done(l, n, full_before, st);
  cJSON_Delete(root);
  return rc;
}

static int bybit_row(struct listing *l, const cJSON *r, struct feeds_stats *st)
{
  struct listing_entry *e = listing_slot(l, st);
  if (!e)
    return 0;
  double exp_ms;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(r, "optionsType");
  char base[QUOTE_ASSET_LEN], settle[QUOTE_ASSET_LEN];
  if (norm_copy_str(r, "symbol", e->symbol, sizeof e->symbol) ||
      norm_copy_str(r, "baseCoin", base, sizeof base) ||
      norm_num_required(r, "deliveryTime", &exp_ms) || !cJSON_IsString(type) ||
      (strcmp(type->valuestring, "Call") != 0 && strcmp(type->valuestring, "Put") != 0)) {
    st->n_rejected[FEEDS_REJ_FIELD]++;
    return 0;
  }
  /* The listing has no strike field: it is the third part of the symbol
   * (BTC-27MAR26-70000-P-USDT). */
  const char *part[5];
  size_t plen[5];
  int np = norm_split_dash(e->symbol, part, plen, 5);
  if (np < 4 || norm_parse_strike(part[2], plen[2], '.', &e->strike)) {
    st->n_rejected[FEEDS_REJ_SYMBOL]++;
    return 0;
  }
  e->kind = type->valuestring[0] == 'C' ? QUOTE_CALL : QUOTE_PUT;
  e->expiry_us = norm_ms_to_us(exp_ms);
  e->premium_in_coin = 0;
  int usdt =
      norm_copy_str(r, "settleCoin", settle, sizeof settle) == 0 && strcmp(settle, "USDT") == 0;
  size_t n_base = strlen(base);
  /* memcpy rather than snprintf: gcc -O0 cannot see the length check and
   * warns about truncation (-Wformat-truncation under -Werror). */
  if (usdt && n_base + sizeof "_USDT" <= sizeof e->asset) {
    memcpy(e->asset, base, n_base);
    memcpy(e->asset + n_base, "_USDT", sizeof "_USDT");
  } else
    norm_copy_n(e->asset, sizeof e->asset, base, strlen(base));
  const cJSON *status = cJSON_GetObjectItemCaseSensitive(r, "status");
  e->active = !cJSON_IsString(status) || strcmp(status->valuestring, "Trading") == 0;
  listing_push(l, e);
  return 1;
}

int listing_add_bybit(struct listing *l, const char *body, size_t len, char *cursor,
                      size_t cursor_cap, struct feeds_stats *st)
{
  if (cursor && cursor_cap)
    cursor[0] = '\0';
  cJSON *root = listing_parse_body(body, len, st);
  if (!root)
    return ERR_PARSE;
  uint64_t full_before = st->n_rejected[FEEDS_REJ_FULL];
  const cJSON *ret = cJSON_GetObjectItemCaseSensitive(root, "retCode");
  const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result");
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(res, "list");
  if (!cJSON_IsNumber(ret) || ret->valuedouble != 0 || !cJSON_IsArray(list)) {
    st->n_rejected[FEEDS_REJ_SHAPE]++;
    cJSON_Delete(root);
    return ERR_PARSE;
  }
  int n = 0;
  const cJSON *r;
  cJSON_ArrayForEach(r, list) n += bybit_row(l, r, st);
  if (cursor && cursor_cap)
    norm_copy_str(res, "nextPageCursor", cursor, cursor_cap);
  int rc = listing_done(l, n, full_before, st);
  cJSON_Delete(root);
  return rc;
}

static int binance_row(struct listing *l, const cJSON *r, struct feeds_stats *st)
{
  struct listing_entry *e = listing_slot(l, st);
  if (!e)
    return 0;
  double strike, exp_ms;
  const cJSON *side = cJSON_GetObjectItemCaseSensitive(r, "side");
  if (norm_copy_str(r, "symbol", e->symbol, sizeof e->symbol) ||
      root_of(e->symbol, e->asset, sizeof e->asset) ||
      norm_num_required(r, "strikePrice", &strike) || !(strike > 0) ||
      norm_num_required(r, "expiryDate", &exp_ms) || !cJSON_IsString(side) ||
      (strcmp(side->valuestring, "CALL") != 0 && strcmp(side->valuestring, "PUT") != 0)) {
    st->n_rejected[FEEDS_REJ_FIELD]++;
    return 0;
  }
  e->kind = side->valuestring[0] == 'C' ? QUOTE_CALL : QUOTE_PUT;
  e->strike = strike;
  /* Kept as stated even when it is not 08:00 (the doc example is 00:00);
   * listing.n_expiry_not_0800 makes that visible. */
  e->expiry_us = norm_ms_to_us(exp_ms);
  e->premium_in_coin = 0;
  const cJSON *status = cJSON_GetObjectItemCaseSensitive(r, "status");
  e->active = !cJSON_IsString(status) || strcmp(status->valuestring, "TRADING") == 0;
  listing_push(l, e);
  return 1;
}

int listing_add_binance(struct listing *l, const char *body, size_t len, struct feeds_stats *st)
{
  cJSON *root = listing_parse_body(body, len, st);
  if (!root)
    return ERR_PARSE;
  uint64_t full_before = st->n_rejected[FEEDS_REJ_FULL];
  const cJSON *syms = cJSON_GetObjectItemCaseSensitive(root, "optionSymbols");
  if (!cJSON_IsArray(syms)) {
    st->n_rejected[FEEDS_REJ_SHAPE]++;
    cJSON_Delete(root);
    return ERR_PARSE;
  }
  int n = 0;
  const cJSON *r;
  cJSON_ArrayForEach(r, syms) n += binance_row(l, r, st);
  int rc = listing_done(l, n, full_before, st);
  cJSON_Delete(root);
  return rc;
}
