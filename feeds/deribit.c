/* deribit: Deribit JSON-RPC messages -> quotes (see deribit.h for the
 * venue rules).  One cJSON tree per message, freed before returning. */
#include "deribit.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "err.h"

#define DERIBIT_VENUE "deribit"

int deribit_symbol_parse(const char *symbol, struct listing_entry *out)
{
  const char *part[4];
  size_t len[4];
  memset(out, 0, sizeof *out);
  out->strike = NAN;
  if (!symbol || norm_split_dash(symbol, part, len, 4) != 4)
    return ERR_PARSE;
  if (len[3] != 1 || (part[3][0] != 'C' && part[3][0] != 'P'))
    return ERR_PARSE;
  if (norm_copy_n(out->symbol, sizeof out->symbol, symbol, strlen(symbol)) ||
      norm_copy_n(out->asset, sizeof out->asset, part[0], len[0]) ||
      quote_parse_expiry(part[1], (int)len[1], &out->expiry_us) != 0 ||
      norm_parse_strike(part[2], len[2], 'd', &out->strike) != 0)
    return ERR_PARSE;
  out->kind = part[3][0] == 'C' ? QUOTE_CALL : QUOTE_PUT;
  /* Inverse BTC/ETH options have a bare root; linear ones are BASE_USDC. */
  out->premium_in_coin = memchr(part[0], '_', len[0]) == NULL;
  out->active = 1;
  return 0;
}

/* Resolves the instrument of one row into q.  Returns the quote flags, or
 * -1 after counting the row (bad symbol, or closed in the listing). */
static int deribit_instrument(const struct listing *l, const cJSON *row, struct quote *q,
                              struct feeds_batch *b, struct feeds_stats *st)
{
  char sym[QUOTE_SYMBOL_LEN];
  if (norm_copy_str(row, "instrument_name", sym, sizeof sym)) {
    norm_reject_row(b, st, FEEDS_REJ_FIELD);
    return -1;
  }
  unsigned flags;
  struct listing_entry parsed;
  const struct listing_entry *e =
      listing_resolve(l, sym, deribit_symbol_parse, &parsed, &flags, b, st);
  if (!e)
    return -1;
  listing_fill_quote(e, q);
  return (int)flags;
}

/* Forward, its name and the index. */
static void deribit_underlying(const cJSON *row, struct quote *q)
{
  q->underlying_price = norm_price(norm_num(row, "underlying_price"));
  q->index_price = norm_price(norm_num(row, "index_price"));
  const cJSON *ui = cJSON_GetObjectItemCaseSensitive(row, "underlying_index");
  if (cJSON_IsString(ui))
    norm_copy_n(q->underlying_index, sizeof q->underlying_index, ui->valuestring,
                strlen(ui->valuestring)); /* too long: left "" */
  /* "index_price" means the venue priced off the index itself. */
  if (isnan(q->index_price) && strcmp(q->underlying_index, "index_price") == 0)
    q->index_price = q->underlying_price;
}

static void deribit_ticker_row(const struct listing *l, const cJSON *data, int64_t local_ts_us,
                               struct feeds_batch *b, struct feeds_stats *st)
{
  double ts_ms;
  if (!cJSON_IsObject(data) || norm_num_required(data, "timestamp", &ts_ms)) {
    norm_reject_row(b, st, FEEDS_REJ_FIELD);
    return;
  }
  const cJSON *state = cJSON_GetObjectItemCaseSensitive(data, "state");
  if (cJSON_IsString(state) && strcmp(state->valuestring, "closed") == 0) {
    norm_reject_row(b, st, FEEDS_REJ_CLOSED);
    return;
  }
  struct quote *q = norm_next_quote(b, st, DERIBIT_VENUE, local_ts_us);
  if (!q)
    return;
  int flags = deribit_instrument(l, data, q, b, st);
  if (flags < 0)
    return;
  q->ts_us = norm_ms_to_us(ts_ms);
  q->bid_price = norm_price(norm_num(data, "best_bid_price"));
  q->ask_price = norm_price(norm_num(data, "best_ask_price"));
  q->bid_amount = isnan(q->bid_price) ? NAN : norm_price(norm_num(data, "best_bid_amount"));
  q->ask_amount = isnan(q->ask_price) ? NAN : norm_price(norm_num(data, "best_ask_amount"));
  q->mark_price = norm_price(norm_num(data, "mark_price"));
  q->last_price = norm_price(norm_num(data, "last_price"));
  /* Percent on this venue.  bid_iv 0 = no bid; ask_iv 500 (Deribit's cap)
   * = no ask: both mean "no quote", not a vol of 0% or 500%. */
  double ask_iv_pct = norm_num(data, "ask_iv");
  q->bid_iv = norm_iv(norm_num(data, "bid_iv"), 0.01);
  q->ask_iv = ask_iv_pct >= DERIBIT_IV_CAP ? NAN : norm_iv(ask_iv_pct, 0.01);
  q->mark_iv = norm_iv(norm_num(data, "mark_iv"), 0.01);
  q->open_interest = norm_num(data, "open_interest");
  q->delta = norm_num(cJSON_GetObjectItemCaseSensitive(data, "greeks"), "delta");
  deribit_underlying(data, q);
  norm_commit_quote(b, st, (unsigned)flags);
}

static void deribit_subscription(const struct listing *l, const cJSON *params, int64_t local_ts_us,
                                 struct feeds_batch *b, struct feeds_stats *st)
{
  const cJSON *ch = cJSON_GetObjectItemCaseSensitive(params, "channel");
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(params, "data");
  if (!cJSON_IsString(ch) || !data) {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
    return;
  }
  if (strncmp(ch->valuestring, "ticker.", 7) != 0) {
    norm_reject(b, st, FEEDS_REJ_UNKNOWN);
    return;
  }
  b->msg = FEEDS_MSG_DATA;
  deribit_ticker_row(l, data, local_ts_us, b, st);
}

static void deribit_heartbeat(const cJSON *params, struct feeds_batch *b, struct feeds_stats *st)
{
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(params, "type");
  if (!cJSON_IsString(type)) {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
    return;
  }
  st->n_heartbeats++;
  b->msg =
      strcmp(type->valuestring, "test_request") == 0 ? FEEDS_MSG_TEST_REQUEST : FEEDS_MSG_HEARTBEAT;
}

/* Reads the JSON-RPC id and error; returns 1 if the message was an error. */
static int deribit_response(const cJSON *root, struct feeds_batch *b, struct feeds_stats *st)
{
  b->id = norm_int(norm_num(root, "id"), -1);
  const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
  if (err) {
    b->error_code = norm_int(norm_num(err, "code"), 0);
    b->msg = FEEDS_MSG_ERROR;
    st->n_venue_errors++;
    return 1;
  }
  return 0;
}

int deribit_parse(const struct listing *listing, const char *msg, size_t len, int64_t local_ts_us,
                  struct feeds_batch *b, struct feeds_stats *st)
{
  cJSON *root = norm_json_parse(msg, len, FEEDS_MSG_MAX, b, st);
  if (!root)
    return 0;
  const cJSON *method = cJSON_GetObjectItemCaseSensitive(root, "method");
  const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "params");
  if (!cJSON_IsObject(root)) {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
  } else if (cJSON_IsString(method) && strcmp(method->valuestring, "subscription") == 0) {
    deribit_subscription(listing, params, local_ts_us, b, st);
  } else if (cJSON_IsString(method) && strcmp(method->valuestring, "heartbeat") == 0) {
    deribit_heartbeat(params, b, st);
  } else if (cJSON_HasObjectItem(root, "error")) {
    deribit_response(root, b, st);
  } else if (cJSON_HasObjectItem(root, "result") && cJSON_HasObjectItem(root, "id")) {
    deribit_response(root, b, st);
    b->msg = FEEDS_MSG_ACK;
    st->n_acks++;
  } else {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
  }
  norm_json_free(root);
  return b->n;
}

static void deribit_summary_row(const struct listing *l, const cJSON *row, int64_t local_ts_us,
                                struct feeds_batch *b, struct feeds_stats *st)
{
  if (!cJSON_IsObject(row)) {
    norm_reject_row(b, st, FEEDS_REJ_FIELD);
    return;
  }
  struct quote *q = norm_next_quote(b, st, DERIBIT_VENUE, local_ts_us);
  if (!q)
    return;
  int flags = deribit_instrument(l, row, q, b, st);
  if (flags < 0)
    return;
  /* Without the listing, the row's own currencies say whether it is inverse
   * (the official example is an ETH option quoted in USD). */
  const cJSON *qc = cJSON_GetObjectItemCaseSensitive(row, "quote_currency");
  const cJSON *bc = cJSON_GetObjectItemCaseSensitive(row, "base_currency");
  if ((flags & FEEDS_QF_EXPIRY_FROM_SYMBOL) && cJSON_IsString(qc) && cJSON_IsString(bc))
    q->premium_in_coin = strcmp(qc->valuestring, bc->valuestring) == 0;
  double ts_ms = norm_num(row, "creation_timestamp");
  q->ts_us = isnan(ts_ms) ? local_ts_us : norm_ms_to_us(ts_ms);
  q->bid_price = norm_price(norm_num(row, "bid_price"));
  q->ask_price = norm_price(norm_num(row, "ask_price"));
  q->mark_price = norm_price(norm_num(row, "mark_price"));
  q->last_price = norm_price(norm_num(row, "last"));
  q->mark_iv = norm_iv(norm_num(row, "mark_iv"), 0.01);
  q->open_interest = norm_num(row, "open_interest");
  deribit_underlying(row, q);
  norm_commit_quote(b, st, (unsigned)flags);
}

int deribit_parse_book_summary(const struct listing *listing, const char *msg, size_t len,
                               int64_t local_ts_us, struct feeds_batch *b, struct feeds_stats *st)
{
  cJSON *root = norm_json_parse(msg, len, FEEDS_MSG_MAX, b, st);
  if (!root)
    return 0;
  const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result");
  if (deribit_response(root, b, st)) {
    /* counted as a venue error; nothing else to do */
  } else if (!cJSON_IsArray(res)) {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
  } else {
    b->msg = FEEDS_MSG_DATA;
    const cJSON *row;
    cJSON_ArrayForEach(row, res) deribit_summary_row(listing, row, local_ts_us, b, st);
  }
  norm_json_free(root);
  return b->n;
}
