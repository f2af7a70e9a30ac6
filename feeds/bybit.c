/* bybit: Bybit v5 option tickers -> quotes (see bybit.h). */
#include "bybit.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

#define BYBIT_VENUE "bybit"

/* The same ticker under its REST and its WS field names. */
struct bybit_names {
  const char *bid_px, *bid_sz, *bid_iv, *ask_px, *ask_sz, *ask_iv, *mark_iv;
};
static const struct bybit_names bybit_rest = {"bid1Price", "bid1Size", "bid1Iv", "ask1Price",
                                              "ask1Size",  "ask1Iv",   "markIv"};
static const struct bybit_names bybit_ws = {"bidPrice", "bidSize", "bidIv",      "askPrice",
                                            "askSize",  "askIv",   "markPriceIv"};

int bybit_symbol_parse(const char *symbol, struct listing_entry *out)
{
  const char *part[5];
  size_t len[5];
  memset(out, 0, sizeof *out);
  out->strike = NAN;
  if (!symbol)
    return ERR_PARSE;
  int np = norm_split_dash(symbol, part, len, 5);
  if (np != 4 && np != 5)
    return ERR_PARSE;
  if (len[3] != 1 || (part[3][0] != 'C' && part[3][0] != 'P'))
    return ERR_PARSE;
  int usdt = np == 5;
  if (usdt && (len[4] != 4 || memcmp(part[4], "USDT", 4) != 0))
    return ERR_PARSE;
  if (norm_copy_n(out->symbol, sizeof out->symbol, symbol, strlen(symbol)) ||
      norm_copy_n(out->asset, sizeof out->asset - 5, part[0], len[0]) ||
      quote_parse_expiry(part[1], (int)len[1], &out->expiry_us) != 0 ||
      norm_parse_strike(part[2], len[2], '.', &out->strike) != 0)
    return ERR_PARSE;
  if (usdt)
    strcat(out->asset, "_USDT");
  out->kind = part[3][0] == 'C' ? QUOTE_CALL : QUOTE_PUT;
  out->premium_in_coin = 0;
  out->active = 1;
  return 0;
}

static void bybit_row(const struct listing *l, const cJSON *row, const struct bybit_names *nm,
                      int64_t ts_us, int64_t local_ts_us, struct feeds_batch *b,
                      struct feeds_stats *st)
{
  char sym[QUOTE_SYMBOL_LEN];
  if (!cJSON_IsObject(row) || norm_copy_str(row, "symbol", sym, sizeof sym)) {
    norm_reject_row(b, st, FEEDS_REJ_FIELD);
    return;
  }
  unsigned flags;
  struct listing_entry parsed;
  const struct listing_entry *e =
      listing_resolve(l, sym, bybit_symbol_parse, &parsed, &flags, b, st);
  if (!e)
    return;
  struct quote *q = norm_next_quote(b, st, BYBIT_VENUE, local_ts_us);
  if (!q)
    return;
  listing_fill_quote(e, q);
  q->ts_us = ts_us;
  q->bid_price = norm_price(norm_num(row, nm->bid_px));
  q->ask_price = norm_price(norm_num(row, nm->ask_px));
  q->bid_amount = isnan(q->bid_price) ? NAN : norm_price(norm_num(row, nm->bid_sz));
  q->ask_amount = isnan(q->ask_price) ? NAN : norm_price(norm_num(row, nm->ask_sz));
  q->bid_iv = norm_iv(norm_num(row, nm->bid_iv), 1.0);
  q->ask_iv = norm_iv(norm_num(row, nm->ask_iv), 1.0);
  q->mark_iv = norm_iv(norm_num(row, nm->mark_iv), 1.0);
  q->mark_price = norm_price(norm_num(row, "markPrice"));
  q->last_price = norm_price(norm_num(row, "lastPrice"));
  q->underlying_price = norm_price(norm_num(row, "underlyingPrice"));
  q->index_price = norm_price(norm_num(row, "indexPrice"));
  q->open_interest = norm_num(row, "openInterest");
  q->delta = norm_num(row, "delta");
  norm_commit_quote(b, st, flags);
}

/* Acks: COMMAND_RESP (option endpoint) or {"op":"subscribe","success":..}. */
static void bybit_ack(const cJSON *root, struct feeds_batch *b, struct feeds_stats *st)
{
  const cJSON *ok = cJSON_GetObjectItemCaseSensitive(root, "success");
  const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
  const cJSON *fail = cJSON_GetObjectItemCaseSensitive(data, "failTopics");
  b->id = norm_int(norm_num(root, "req_id"), -1);
  if (cJSON_IsTrue(ok) && cJSON_GetArraySize(fail) == 0) {
    b->msg = FEEDS_MSG_ACK;
    st->n_acks++;
  } else {
    b->msg = FEEDS_MSG_ERROR;
    st->n_venue_errors++;
  }
}

int bybit_parse(const struct listing *listing, const char *msg, size_t len, int64_t local_ts_us,
                struct feeds_batch *b, struct feeds_stats *st)
{
  cJSON *root = norm_json_parse(msg, len, FEEDS_MSG_MAX, b, st);
  if (!root)
    return 0;
  const cJSON *op = cJSON_GetObjectItemCaseSensitive(root, "op");
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
  const cJSON *topic = cJSON_GetObjectItemCaseSensitive(root, "topic");
  const cJSON *retmsg = cJSON_GetObjectItemCaseSensitive(root, "ret_msg");
  const char *ops = cJSON_IsString(op) ? op->valuestring : "";
  if (!cJSON_IsObject(root)) {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
  } else if (strcmp(ops, "pong") == 0 || (strcmp(ops, "ping") == 0 && cJSON_IsString(retmsg) &&
                                          strcmp(retmsg->valuestring, "pong") == 0)) {
    b->msg = FEEDS_MSG_HEARTBEAT;
    st->n_heartbeats++;
  } else if ((cJSON_IsString(type) && strcmp(type->valuestring, "COMMAND_RESP") == 0) ||
             strcmp(ops, "subscribe") == 0 || strcmp(ops, "unsubscribe") == 0) {
    bybit_ack(root, b, st);
  } else if (!cJSON_IsString(topic)) {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
  } else if (strncmp(topic->valuestring, "tickers.", 8) != 0) {
    norm_reject(b, st, FEEDS_REJ_UNKNOWN);
  } else {
    double ts_ms;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
    if (norm_num_required(root, "ts", &ts_ms) || !cJSON_IsObject(data)) {
      norm_reject(b, st, FEEDS_REJ_FIELD);
    } else {
      b->msg = FEEDS_MSG_DATA;
      bybit_row(listing, data, &bybit_ws, norm_ms_to_us(ts_ms), local_ts_us, b, st);
    }
  }
  norm_json_free(root);
  return b->n;
}

int bybit_parse_rest_tickers(const struct listing *listing, const char *msg, size_t len,
                             int64_t local_ts_us, struct feeds_batch *b, struct feeds_stats *st)
{
  cJSON *root = norm_json_parse(msg, len, FEEDS_MSG_MAX, b, st);
  if (!root)
    return 0;
  const cJSON *ret = cJSON_GetObjectItemCaseSensitive(root, "retCode");
  const cJSON *list =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "result"), "list");
  if (!cJSON_IsNumber(ret)) {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
  } else if (ret->valuedouble != 0) {
    b->msg = FEEDS_MSG_ERROR;
    b->error_code = norm_int(ret->valuedouble, 0);
    st->n_venue_errors++;
  } else if (!cJSON_IsArray(list)) {
    norm_reject(b, st, FEEDS_REJ_SHAPE);
  } else {
    double t_ms = norm_num(root, "time");
    int64_t ts_us = isnan(t_ms) ? local_ts_us : norm_ms_to_us(t_ms);
    b->msg = FEEDS_MSG_DATA;
    const cJSON *row;
    cJSON_ArrayForEach(row, list) bybit_row(listing, row, &bybit_rest, ts_us, local_ts_us, b, st);
  }
  norm_json_free(root);
  return b->n;
}
