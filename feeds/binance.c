/* binance: Binance eapi optionMarkPrice and /eapi/v1/mark -> quotes (see
 * binance.h). */
#include "binance.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "err.h"

#define BINANCE_VENUE "binance"

int binance_symbol_parse(const char *symbol, struct listing_entry *out)
{
  const char *part[4];
  size_t len[4];
  memset(out, 0, sizeof *out);
  out->strike = NAN;
  if (!symbol || norm_split_dash(symbol, part, len, 4) != 4)
    return ERR_PARSE;
  if (len[3] != 1 || (part[3][0] != 'C' && part[3][0] != 'P') || len[1] != 6)
    return ERR_PARSE;
  if (norm_copy_n(out->symbol, sizeof out->symbol, symbol, strlen(symbol)) ||
      norm_copy_n(out->asset, sizeof out->asset, part[0], len[0]) ||
      quote_parse_expiry(part[1], (int)len[1], &out->expiry_us) != 0 ||
      norm_parse_strike(part[2], len[2], '.', &out->strike) != 0)
    return ERR_PARSE;
  out->kind = part[3][0] == 'C' ? QUOTE_CALL : QUOTE_PUT;
  out->premium_in_coin = 0;
  out->active = 1;
  return 0;
}

/* Resolves the instrument into a fresh quote slot; NULL when the row was
 * counted (bad symbol, closed, batch full). */
static struct quote *binance_quote(const struct listing *l, const char *sym, int64_t local_ts_us,
                                   unsigned *flags, struct feeds_batch *b, struct feeds_stats *st)
{
  struct listing_entry parsed;
  const struct listing_entry *e =
      listing_resolve(l, sym, binance_symbol_parse, &parsed, flags, b, st);
  if (!e)
    return NULL;
  struct quote *q = norm_next_quote(b, st, BINANCE_VENUE, local_ts_us);
  if (q)
    listing_fill_quote(e, q);
  return q;
}

static void binance_mark_event(const struct listing *l, const cJSON *ev, int64_t local_ts_us,
                               struct feeds_batch *b, struct feeds_stats *st)
{
  char sym[QUOTE_SYMBOL_LEN];
  double e_ms;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "e");
  if (!cJSON_IsObject(ev)) {
    norm_reject_row(b, st, FEEDS_REJ_FIELD);
    return;
  }
  if (cJSON_IsString(type) && strcmp(type->valuestring, "markPrice") != 0) {
    norm_reject_row(b, st, FEEDS_REJ_UNKNOWN);
    return;
  }
  if (norm_copy_str(ev, "s", sym, sizeof sym) || norm_num_required(ev, "E", &e_ms)) {
    norm_reject_row(b, st, FEEDS_REJ_FIELD);
    return;
  }
  unsigned flags;
  struct quote *q = binance_quote(l, sym, local_ts_us, &flags, b, st);
  if (!q)
    return;
  q->ts_us = norm_ms_to_us(e_ms);
  q->bid_price = norm_price(norm_num(ev, "bo"));
  q->ask_price = norm_price(norm_num(ev, "ao"));
  q->bid_amount = isnan(q->bid_price) ? NAN : norm_price(norm_num(ev, "bq"));
  q->ask_amount = isnan(q->ask_price) ? NAN : norm_price(norm_num(ev, "aq"));
  q->bid_iv = norm_iv(norm_num(ev, "b"), 1.0); /* "-1.0" = none */
  q->ask_iv = norm_iv(norm_num(ev, "a"), 1.0);
  q->mark_iv = norm_iv(norm_num(ev, "vo"), 1.0);
  q->mark_price = norm_price(norm_num(ev, "mp"));
  q->index_price = norm_price(norm_num(ev, "i"));
  q->underlying_price = NAN; /* no forward on this venue */
  q->delta = norm_num(ev, "d");
  norm_commit_quote(b, st, flags);
}

/* {"error":{"code":..},"id":..} (websocket API) or {"code":..,"msg":..}
 * (REST); returns 1 if root is one of them. */
static int binance_error(const cJSON *root, struct feeds_batch *b, struct feeds_stats *st)
{
  const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
  if (!cJSON_IsObject(root) || (!err && !(code && cJSON_HasObjectItem(root, "msg"))))
    return 0;
  double c = err ? norm_num(err, "code") : norm_num(root, "code");
  b->error_code = norm_int(c, 0);
  b->msg = FEEDS_MSG_ERROR;
  st->n_venue_errors++;
  return 1;
}

int binance_parse(const struct listing *listing, const char *msg, size_t len, int64_t local_ts_us,
                  struct feeds_batch *b, struct feeds_stats *st)
{
  cJSON *root = norm_json_parse(msg, len, FEEDS_MSG_MAX, b, st);
  if (!root)
    return 0;
  const cJSON *payload = root;
  const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
  if (cJSON_IsString(stream))
    payload = cJSON_GetObjectItemCaseSensitive(root, "data");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
  b->id = norm_int(norm_num(root, "id"), -1);

  if (binance_error(root, b, st)) {
    /* counted */
  } else if (cJSON_IsObject(root) && cJSON_HasObjectItem(root, "result") && id) {
    b->msg = FEEDS_MSG_ACK;
    st->n_acks++;
  } else if (cJSON_IsArray(payload)) {
    b->msg = FEEDS_MSG_DATA;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, payload) binance_mark_event(listing, ev, local_ts_us, b, st);
  } else if (cJSON_IsObject(payload) && cJSON_HasObjectItem(payload, "e")) {
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(payload, "e");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "markPrice") == 0) {
      b->msg = FEEDS_MSG_DATA;
      binance_mark_event(listing, payload, local_ts_us, b, st);
    } else {
      norm_reject(b, st, FEEDS_REJ_UNKNOWN);
    }
  } else {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
  }
  norm_json_free(root);
  return b->n;
}

static void binance_rest_row(const struct listing *l, const cJSON *row, int64_t local_ts_us,
                             struct feeds_batch *b, struct feeds_stats *st)
{
  char sym[QUOTE_SYMBOL_LEN];
  if (!cJSON_IsObject(row) || norm_copy_str(row, "symbol", sym, sizeof sym)) {
    norm_reject_row(b, st, FEEDS_REJ_FIELD);
    return;
  }
  unsigned flags;
  struct quote *q = binance_quote(l, sym, local_ts_us, &flags, b, st);
  if (!q)
    return;
  q->ts_us = local_ts_us;
  q->bid_iv = norm_iv(norm_num(row, "bidIV"), 1.0);
  q->ask_iv = norm_iv(norm_num(row, "askIV"), 1.0);
  q->mark_iv = norm_iv(norm_num(row, "markIV"), 1.0);
  q->mark_price = norm_price(norm_num(row, "markPrice"));
  q->delta = norm_num(row, "delta");
  norm_commit_quote(b, st, flags);
}

int binance_parse_rest_mark(const struct listing *listing, const char *msg, size_t len,
                            int64_t local_ts_us, struct feeds_batch *b, struct feeds_stats *st)
{
  cJSON *root = norm_json_parse(msg, len, FEEDS_MSG_MAX, b, st);
  if (!root)
    return 0;
  if (binance_error(root, b, st)) {
    /* counted */
  } else if (!cJSON_IsArray(root)) {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
  } else {
    b->msg = FEEDS_MSG_DATA;
    const cJSON *row;
    cJSON_ArrayForEach(row, root) binance_rest_row(listing, row, local_ts_us, b, st);
  }
  norm_json_free(root);
  return b->n;
}
