/* okx: OKX v5 option channels -> merged quotes (see okx.h).  The cache is an
 * open-addressing hash on instId, sized once in okx_new; a row for a new
 * instrument when it is full is counted FEEDS_REJ_FULL. */
#include "okx.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define OKX_VENUE "okx"
#define OKX_MAX_INDEXES 32

struct okx_inst {
  char inst_id[QUOTE_SYMBOL_LEN]; /* "" = free slot */
  double bid_iv, ask_iv, mark_iv, fwd, delta;
  double bid_px, ask_px, bid_sz, ask_sz, last;
  double mark_px, oi;
  int64_t ts_us; /* newest exchange time of any part */
};

struct okx_index {
  char inst_id[QUOTE_INDEX_LEN]; /* "BTC-USD" */
  double px;
};

struct okx {
  struct okx_inst *slot;
  int cap; /* power of two, > 2 x max_instruments */
  int n, max;
  struct okx_index idx[OKX_MAX_INDEXES];
  int n_idx;
};

enum okx_channel { OKX_CH_SUMMARY, OKX_CH_TICKERS, OKX_CH_MARK, OKX_CH_OI, OKX_CH_INDEX };

struct okx *okx_new(int max_instruments)
{
  if (max_instruments <= 0 || max_instruments > (1 << 20))
    return NULL;
  struct okx *o = calloc(1, sizeof *o);
  if (!o)
    goto fail;
  o->max = max_instruments;
  o->cap = 4;
  while (o->cap < 2 * max_instruments)
    o->cap *= 2;
  o->slot = calloc((size_t)o->cap, sizeof *o->slot);
  if (!o->slot)
    goto fail;
  return o;
fail:
  okx_free(o);
  return NULL;
}

void okx_free(struct okx *o)
{
  if (!o)
    return;
  free(o->slot);
  free(o);
}

static uint32_t okx_hash(const char *s)
{
  uint32_t h = 2166136261u; /* FNV-1a */
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 16777619u;
  }
  return h;
}

/* Finds or creates the cache slot of inst_id; NULL when full. */
static struct okx_inst *okx_inst_get(struct okx *o, const char *inst_id)
{
  uint32_t mask = (uint32_t)o->cap - 1;
  for (uint32_t i = okx_hash(inst_id) & mask;; i = (i + 1) & mask) {
    struct okx_inst *s = &o->slot[i];
    if (s->inst_id[0] == '\0') {
      if (o->n >= o->max)
        return NULL;
      norm_copy_n(s->inst_id, sizeof s->inst_id, inst_id, strlen(inst_id));
      s->bid_iv = s->ask_iv = s->mark_iv = s->fwd = s->delta = NAN;
      s->bid_px = s->ask_px = s->bid_sz = s->ask_sz = s->last = NAN;
      s->mark_px = s->oi = NAN;
      o->n++;
      return s;
    }
    if (strcmp(s->inst_id, inst_id) == 0)
      return s;
  }
}

int okx_symbol_parse(const char *symbol, struct listing_entry *out)
{
  const char *part[5];
  size_t len[5];
  memset(out, 0, sizeof *out);
  out->strike = NAN;
  if (!symbol || norm_split_dash(symbol, part, len, 5) != 5)
    return ERR_PARSE;
  if (len[4] != 1 || (part[4][0] != 'C' && part[4][0] != 'P') || len[2] != 6)
    return ERR_PARSE;
  int um = len[1] > 3 && memcmp(part[1] + len[1] - 3, "_UM", 3) == 0;
  if (norm_copy_n(out->symbol, sizeof out->symbol, symbol, strlen(symbol)) ||
      norm_copy_n(out->asset, sizeof out->asset - 3, part[0], len[0]) ||
      quote_parse_expiry(part[2], (int)len[2], &out->expiry_us) != 0 ||
      norm_parse_strike(part[3], len[3], '.', &out->strike) != 0)
    return ERR_PARSE;
  if (um)
    strcat(out->asset, "_UM");
  out->kind = part[4][0] == 'C' ? QUOTE_CALL : QUOTE_PUT;
  out->premium_in_coin = !um;
  out->active = 1;
  return 0;
}

/* Index key of an instrument: "BTC-USD" for BTC-USD-... and BTC-USD_UM-...
 * (both families price off the BTC-USD index). */
static void okx_index_key(const char *inst_id, char *key, size_t cap)
{
  const char *part[5];
  size_t len[5];
  key[0] = '\0';
  if (norm_split_dash(inst_id, part, len, 5) != 5)
    return;
  size_t l1 = len[1];
  if (l1 > 3 && memcmp(part[1] + l1 - 3, "_UM", 3) == 0)
    l1 -= 3;
  size_t n = (size_t)(part[1] - part[0]) + l1;
  norm_copy_n(key, cap, inst_id, n);
}

static double okx_index_px(const struct okx *o, const char *key)
{
  for (int i = 0; i < o->n_idx; i++) {
    if (strcmp(o->idx[i].inst_id, key) == 0)
      return o->idx[i].px;
  }
  return NAN;
}

static void okx_index_row(struct okx *o, const cJSON *row, struct feeds_batch *b,
                          struct feeds_stats *st)
{
  char id[QUOTE_INDEX_LEN];
  double px;
  if (norm_copy_str(row, "instId", id, sizeof id) || norm_num_required(row, "idxPx", &px)) {
    norm_reject_row(b, st, FEEDS_REJ_FIELD);
    return;
  }
  for (int i = 0; i < o->n_idx; i++) {
    if (strcmp(o->idx[i].inst_id, id) == 0) {
      o->idx[i].px = norm_price(px);
      return;
    }
  }
  if (o->n_idx >= OKX_MAX_INDEXES) {
    norm_reject_row(b, st, FEEDS_REJ_FULL);
    return;
  }
  norm_copy_n(o->idx[o->n_idx].inst_id, sizeof o->idx[0].inst_id, id, strlen(id));
  o->idx[o->n_idx].px = norm_price(px);
  o->n_idx++;
}

/* Updates the cached part that this channel carries. */
static void okx_update(struct okx_inst *s, int ch, const cJSON *row)
{
  switch (ch) {
  case OKX_CH_SUMMARY:
    s->bid_iv = norm_iv(norm_num(row, "bidVol"), 1.0);
    s->ask_iv = norm_iv(norm_num(row, "askVol"), 1.0);
    s->mark_iv = norm_iv(norm_num(row, "markVol"), 1.0);
    s->fwd = norm_price(norm_num(row, "fwdPx"));
    /* delta is the price-adjusted (coin) delta; deltaBS the Black-Scholes
     * one.  The quote carries the BS delta, comparable across venues. */
    s->delta = norm_num(row, "deltaBS");
    break;
  case OKX_CH_TICKERS:
    s->bid_px = norm_price(norm_num(row, "bidPx"));
    s->ask_px = norm_price(norm_num(row, "askPx"));
    s->bid_sz = isnan(s->bid_px) ? NAN : norm_price(norm_num(row, "bidSz"));
    s->ask_sz = isnan(s->ask_px) ? NAN : norm_price(norm_num(row, "askSz"));
    s->last = norm_price(norm_num(row, "last"));
    break;
  case OKX_CH_MARK:
    s->mark_px = norm_price(norm_num(row, "markPx"));
    break;
  default:
    s->oi = norm_num(row, "oi");
    break;
  }
}

static void okx_option_row(struct okx *o, const struct listing *l, int ch, const cJSON *row,
                           int64_t local_ts_us, struct feeds_batch *b, struct feeds_stats *st)
{
  char sym[QUOTE_SYMBOL_LEN];
  double ts_ms;
  if (!cJSON_IsObject(row) || norm_copy_str(row, "instId", sym, sizeof sym) ||
      norm_num_required(row, "ts", &ts_ms)) {
    norm_reject_row(b, st, FEEDS_REJ_FIELD);
    return;
  }
  /* tickers/mark-price/open-interest also serve futures and swaps. */
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(row, "instType");
  if (cJSON_IsString(type) && strcmp(type->valuestring, "OPTION") != 0) {
    norm_reject_row(b, st, FEEDS_REJ_UNKNOWN);
    return;
  }
  unsigned flags;
  struct listing_entry parsed;
  const struct listing_entry *e = listing_resolve(l, sym, okx_symbol_parse, &parsed, &flags, b, st);
  if (!e)
    return;
  struct okx_inst *s = okx_inst_get(o, sym);
  if (!s) {
    norm_reject_row(b, st, FEEDS_REJ_FULL);
    return;
  }
  okx_update(s, ch, row);
  int64_t ts_us = norm_ms_to_us(ts_ms);
  if (ts_us > s->ts_us)
    s->ts_us = ts_us;

  struct quote *q = norm_next_quote(b, st, OKX_VENUE, local_ts_us);
  if (!q)
    return;
  listing_fill_quote(e, q);
  q->ts_us = s->ts_us;
  q->bid_iv = s->bid_iv;
  q->ask_iv = s->ask_iv;
  q->mark_iv = s->mark_iv;
  q->delta = s->delta;
  q->bid_price = s->bid_px;
  q->ask_price = s->ask_px;
  q->bid_amount = s->bid_sz;
  q->ask_amount = s->ask_sz;
  q->last_price = s->last;
  q->mark_price = s->mark_px;
  q->open_interest = s->oi;
  q->underlying_price = s->fwd;
  char key[QUOTE_INDEX_LEN];
  okx_index_key(sym, key, sizeof key);
  norm_copy_n(q->underlying_index, sizeof q->underlying_index, key, strlen(key));
  q->index_price = okx_index_px(o, key);
  norm_commit_quote(b, st, flags);
}

static int okx_channel_of(const char *name)
{
  static const struct {
    const char *name;
    int ch;
  } map[] = {{"opt-summary", OKX_CH_SUMMARY},
             {"tickers", OKX_CH_TICKERS},
             {"mark-price", OKX_CH_MARK},
             {"open-interest", OKX_CH_OI},
             {"index-tickers", OKX_CH_INDEX}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    if (strcmp(map[i].name, name) == 0)
      return map[i].ch;
  }
  return -1;
}

static void okx_rows(struct okx *o, const struct listing *l, int ch, const cJSON *data,
                     int64_t local_ts_us, struct feeds_batch *b, struct feeds_stats *st)
{
  b->msg = FEEDS_MSG_DATA;
  const cJSON *row;
  cJSON_ArrayForEach(row, data)
  {
    if (ch == OKX_CH_INDEX)
      okx_index_row(o, row, b, st);
    else
      okx_option_row(o, l, ch, row, local_ts_us, b, st);
  }
}

/* OKX sends codes and ids as strings ("60012"). */
static long long okx_int(const cJSON *obj, const char *name, long long dflt)
{
  return norm_int(norm_num(obj, name), dflt);
}

static void okx_event(const cJSON *root, const char *ev, struct feeds_batch *b,
                      struct feeds_stats *st)
{
  b->id = okx_int(root, "id", -1);
  if (strcmp(ev, "subscribe") == 0 || strcmp(ev, "unsubscribe") == 0) {
    b->msg = FEEDS_MSG_ACK;
    st->n_acks++;
  } else if (strcmp(ev, "error") == 0) {
    b->msg = FEEDS_MSG_ERROR;
    b->error_code = okx_int(root, "code", 0);
    st->n_venue_errors++;
  } else if (strcmp(ev, "notice") == 0) {
    b->msg = FEEDS_MSG_NOTICE;
    b->error_code = okx_int(root, "code", 0);
  } else {
    norm_reject(b, st, FEEDS_REJ_UNKNOWN);
  }
}

int okx_parse(struct okx *o, const struct listing *listing, const char *msg, size_t len,
              int64_t local_ts_us, struct feeds_batch *b, struct feeds_stats *st)
{
  /* The heartbeat reply is the bare text "pong", not JSON. */
  if (msg && len == 4 && memcmp(msg, "pong", 4) == 0) {
    feeds_batch_reset(b);
    st->n_messages++;
    st->n_heartbeats++;
    b->msg = FEEDS_MSG_HEARTBEAT;
    return 0;
  }
  cJSON *root = norm_json_parse(msg, len, FEEDS_MSG_MAX, b, st);
  if (!root)
    return 0;
  const cJSON *ev = cJSON_GetObjectItemCaseSensitive(root, "event");
  const cJSON *arg = cJSON_GetObjectItemCaseSensitive(root, "arg");
  const cJSON *ch = cJSON_GetObjectItemCaseSensitive(arg, "channel");
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
  if (!cJSON_IsObject(root)) {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
  } else if (cJSON_IsString(ev)) {
    okx_event(root, ev->valuestring, b, st);
  } else if (!cJSON_IsString(ch) || !cJSON_IsArray(data)) {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
  } else if (okx_channel_of(ch->valuestring) < 0) {
    norm_reject(b, st, FEEDS_REJ_UNKNOWN);
  } else {
    okx_rows(o, listing, okx_channel_of(ch->valuestring), data, local_ts_us, b, st);
  }
  norm_json_free(root);
  return b->n;
}

int okx_parse_rest(struct okx *o, const struct listing *listing, const char *channel,
                   const char *msg, size_t len, int64_t local_ts_us, struct feeds_batch *b,
                   struct feeds_stats *st)
{
  cJSON *root = norm_json_parse(msg, len, FEEDS_MSG_MAX, b, st);
  if (!root)
    return 0;
  int ch = channel ? okx_channel_of(channel) : -1;
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
  if (ch < 0) {
    norm_reject(b, st, FEEDS_REJ_UNKNOWN);
  } else if (!cJSON_IsString(code) || !cJSON_IsArray(data)) {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
  } else if (strcmp(code->valuestring, "0") != 0) {
    b->msg = FEEDS_MSG_ERROR;
    b->error_code = okx_int(root, "code", 0);
    st->n_venue_errors++;
  } else {
    okx_rows(o, listing, ch, data, local_ts_us, b, st);
  }
  norm_json_free(root);
  return b->n;
}
