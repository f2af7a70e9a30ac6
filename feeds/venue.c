/* venue: per-venue protocol adapter for the live connectors (see venue.h).
 * Requests are written with snprintf: every string that goes into them is a
 * topic built here from a listing symbol that passed symbol_safe (letters,
 * digits, '_', '-', '.'), so nothing needs JSON escaping. */
#include "venue.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binance.h"
#include "bybit.h"
#include "deribit.h"
#include "err.h"
#include "okx.h"

/* Rates: Deribit public/subscribe ~3.3 req/s sustained and get_instruments
 * 1 req/s sustained on a credit pool that allows short bursts; OKX allows
 * 480 subscribe ops per hour per connection (and 64 KB of args per op), so
 * it gets few, big requests; Bybit's option stream takes at most 2000 args
 * per connection and 21,000 characters per request (tardis sends 10 args);
 * Binance accepts 10 incoming messages/s and 200 streams per connection.
 * Deribit documents no channel count per subscribe; 250 channels (~9 KB)
 * per request subscribes a 3000-option listing in 12 requests, about 2.5 s
 * at burst 5 then 3/s. */
static const struct venue_rules rules[VENUE_N] = {
    [VENUE_DERIBIT] = {"deribit", "wss://www.deribit.com/ws/api/v2", NULL, "BTC,ETH,USDC", 250,
                       32000, 3.0, 5, 20000, 0, 0, 0},
    [VENUE_OKX] = {"okx", "wss://ws.okx.com:8443/ws/v5/public", "https://www.okx.com",
                   "BTC,ETH,BTC_UM,ETH_UM", 200, 60000, 480.0 / 3600.0, 20, 20000, 25000, 1, 0},
    [VENUE_BYBIT] = {"bybit", "wss://stream.bybit.com/v5/public/option", "https://api.bybit.com",
                     "BTC,ETH,SOL", 10, 20000, 10.0, 20, 2000, 20000, 0, 0},
    [VENUE_BINANCE] = {"binance", "wss://fstream.binance.com/market/ws", "https://eapi.binance.com",
                       NULL, 50, 8000, 5.0, 5, 200, 60000, 1, 1},
};

int venue_from_name(const char *name)
{
  for (int v = 0; name && v < VENUE_N; v++)
    if (strcmp(name, rules[v].name) == 0)
      return v;
  return ERR_INPUT;
}

const struct venue_rules *venue_rules(int v)
{
  return v >= 0 && v < VENUE_N ? &rules[v] : NULL;
}

/* Next comma-separated token of *s (spaces trimmed) into tok; 0 at the end. */
static int next_token(const char **s, char *tok, size_t cap)
{
  while (**s == ',' || **s == ' ')
    (*s)++;
  if (!**s)
    return 0;
  size_t n = 0;
  while (**s && **s != ',') {
    if (n + 1 < cap && **s != ' ')
      tok[n++] = **s;
    (*s)++;
  }
  tok[n] = '\0';
  return 1;
}

int venue_asset_wanted(const char *assets, const char *asset)
{
  if (!assets || !*assets)
    return 1;
  size_t root = strcspn(asset, "_");
  char tok[VENUE_KEY_LEN];
  const char *s = assets;
  while (next_token(&s, tok, sizeof tok)) {
    if (strcmp(tok, asset) == 0)
      return 1;
    if (strlen(tok) == root && strncmp(tok, asset, root) == 0)
      return 1;
  }
  return 0;
}

/* Adds key to keys[] unless present; returns the new count. */
static int add_key(char keys[][VENUE_KEY_LEN], int n, const char *key)
{
  for (int i = 0; i < n; i++)
    if (strcmp(keys[i], key) == 0)
      return n;
  if (n >= VENUE_MAX_KEYS || strlen(key) >= VENUE_KEY_LEN)
    return n;
  strcpy(keys[n], key);
  return n + 1;
}

/* Listing key of one asset token. */
static void key_of(int v, const char *tok, char *key, size_t cap)
{
  size_t root = strcspn(tok, "_");
  const char *suffix = tok + root;
  switch (v) {
  case VENUE_DERIBIT:
    /* BTC and ETH inverse options list under their own currency; USDC
     * linear ones (BTC_USDC, SOL_USDC, and "SOL" meaning SOL_USDC) under
     * USDC. */
    if (!*suffix &&
        (strcmp(tok, "BTC") == 0 || strcmp(tok, "ETH") == 0 || strcmp(tok, "USDC") == 0))
      snprintf(key, cap, "%s", tok);
    else
      snprintf(key, cap, "USDC");
    break;
  case VENUE_OKX:
    if (strcmp(suffix, "_UM") == 0)
      snprintf(key, cap, "%.*s-USD_UM", (int)root, tok);
    else
      snprintf(key, cap, "%.*s-USD", (int)root, tok);
    break;
  case VENUE_BYBIT:
    snprintf(key, cap, "%.*s", (int)root, tok);
    break;
  default:
    key[0] = '\0';
  }
}

int venue_listing_keys(int v, const char *assets, char keys[][VENUE_KEY_LEN])
{
  if (v == VENUE_BINANCE) {
    keys[0][0] = '\0';
    return 1;
  }
  if (!assets || !*assets)
    assets = rules[v].default_assets;
  int n = 0;
  char tok[VENUE_KEY_LEN], key[VENUE_KEY_LEN + 8];
  const char *s = assets;
  while (next_token(&s, tok, sizeof tok)) {
    key_of(v, tok, key, sizeof key);
    if (key[0])
      n = add_key(keys, n, key);
  }
  return n;
}

/* Percent-encodes s into dst (cap incl. NUL); ERR_FULL when it does not fit. */
static int url_escape(const char *s, char *dst, size_t cap)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    int plain = isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
    if (n + (plain ? 1 : 3) >= cap)
      return ERR_FULL;
    if (plain) {
      dst[n++] = (char)c;
    } else {
      dst[n++] = '%';
      dst[n++] = hex[c >> 4];
      dst[n++] = hex[c & 15];
    }
  }
  dst[n] = '\0';
  return 0;
}

static int fit(int n, size_t cap)
{
  return n < 0 || (size_t)n >= cap ? ERR_FULL : n;
}

int venue_listing_url(int v, const char *rest_base, const char *key, const char *cursor, char *buf,
                      size_t cap)
{
  char ekey[3 * VENUE_KEY_LEN], ecur[512];
  if (!rest_base || !key || url_escape(key, ekey, sizeof ekey) < 0)
    return ERR_INPUT;
  switch (v) {
  case VENUE_OKX:
    return fit(snprintf(buf, cap, "%s/api/v5/public/instruments?instType=OPTION&instFamily=%s",
                        rest_base, ekey),
               cap);
  case VENUE_BYBIT:
    if (url_escape(cursor ? cursor : "", ecur, sizeof ecur) < 0)
      return ERR_FULL;
    return fit(snprintf(buf, cap,
                        "%s/v5/market/instruments-info?category=option&baseCoin=%s&limit=1000%s%s",
                        rest_base, ekey, ecur[0] ? "&cursor=" : "", ecur),
               cap);
  case VENUE_BINANCE:
    return fit(snprintf(buf, cap, "%s/eapi/v1/exchangeInfo", rest_base), cap);
  default:
    return ERR_INPUT;
  }
}

int venue_listing_request(long long id, const char *currency, char *buf, size_t cap)
{
  return fit(snprintf(buf, cap,
                      "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"public/get_instruments\","
                      "\"params\":{\"currency\":\"%s\",\"kind\":\"option\",\"expired\":false}}",
                      id, currency),
             cap);
}

int venue_listing_load(int v, struct listing *l, const char *body, size_t len, char *cursor,
                       size_t cursor_cap, struct feeds_stats *st)
{
  if (cursor && cursor_cap)
    cursor[0] = '\0';
  switch (v) {
  case VENUE_DERIBIT:
    return listing_add_deribit(l, body, len, st);
  case VENUE_OKX:
    return listing_add_okx(l, body, len, st);
  case VENUE_BYBIT:
    return listing_add_bybit(l, body, len, cursor, cursor_cap, st);
  case VENUE_BINANCE:
    return listing_add_binance(l, body, len, st);
  default:
    return ERR_INPUT;
  }
}

/* Venue symbols are letters, digits, '_', '-' and '.'; anything else is
 * refused so that topics can be pasted into JSON and URLs as they are. */
static int symbol_safe(const char *s)
{
  if (!*s)
    return 0;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
      return 0;
  return 1;
}

static int topic_cmp(const void *a, const void *b)
{
  return strcmp(((const struct venue_topic *)a)->name, ((const struct venue_topic *)b)->name);
}

/* Appends a topic unless the array is full; counts it either way. */
static void put_topic(struct venue_topic *out, int cap, int *n, const char *name, int64_t expiry_us)
{
  if (*n < cap && strlen(name) < VENUE_TOPIC_LEN) {
    snprintf(out[*n].name, VENUE_TOPIC_LEN, "%s", name);
    out[*n].expiry_us = expiry_us;
  }
  (*n)++;
}

/* Family topics (OKX per instFamily, Binance per underlying) come once per
 * instrument of the family; this remembers the ones already written. */
#define VENUE_MAX_FAMILIES 128
struct families {
  char name[VENUE_MAX_FAMILIES][VENUE_TOPIC_LEN];
  int n;
};

static void put_family(struct venue_topic *out, int cap, int *n, struct families *f,
                       const char *name)
{
  for (int i = 0; i < f->n; i++)
    if (strcmp(f->name[i], name) == 0)
      return;
  if (f->n == VENUE_MAX_FAMILIES || strlen(name) >= VENUE_TOPIC_LEN)
    return;
  snprintf(f->name[f->n++], VENUE_TOPIC_LEN, "%s", name);
  put_topic(out, cap, n, name, 0);
}

/* Sorts the written topics and removes duplicates; returns the count. */
static int sort_unique(struct venue_topic *out, int n)
{
  if (n < 2)
    return n;
  qsort(out, (size_t)n, sizeof *out, topic_cmp);
  int w = 1;
  for (int i = 1; i < n; i++)
    if (strcmp(out[i].name, out[w - 1].name) != 0)
      out[w++] = out[i];
  return w;
}

int venue_topics(int v, const struct listing *l, const char *assets, int64_t now_us,
                 struct venue_topic *out, int cap, int *n_over)
{
  int n = 0;
  char name[2 * VENUE_TOPIC_LEN];
  struct families fam = {0};
  for (int i = 0; l && i < l->n; i++) {
    const struct listing_entry *e = &l->e[i];
    if (!e->active || e->expiry_us <= now_us || !symbol_safe(e->symbol) || !symbol_safe(e->asset) ||
        !venue_asset_wanted(assets, e->asset))
      continue;
    size_t root = strcspn(e->asset, "_");
    switch (v) {
    case VENUE_DERIBIT:
      snprintf(name, sizeof name, "ticker.%s.100ms", e->symbol);
      put_topic(out, cap, &n, name, e->expiry_us);
      break;
    case VENUE_OKX:
      /* Asset "BTC" is family BTC-USD, "BTC_UM" is BTC-USD_UM; both use
       * the BTC-USD index. */
      snprintf(name, sizeof name, "tickers:%s", e->symbol);
      put_topic(out, cap, &n, name, e->expiry_us);
      snprintf(name, sizeof name, "opt-summary:%.*s-USD%s", (int)root, e->asset,
               strcmp(e->asset + root, "_UM") == 0 ? "_UM" : "");
      put_family(out, cap, &n, &fam, name);
      snprintf(name, sizeof name, "index-tickers:%.*s-USD", (int)root, e->asset);
      put_family(out, cap, &n, &fam, name);
      break;
    case VENUE_BYBIT:
      snprintf(name, sizeof name, "tickers.%s", e->symbol);
      put_topic(out, cap, &n, name, e->expiry_us);
      break;
    case VENUE_BINANCE: {
      char und[QUOTE_ASSET_LEN];
      size_t k = 0;
      for (; k < root && k + 1 < sizeof und; k++)
        und[k] = (char)tolower((unsigned char)e->asset[k]);
      und[k] = '\0';
      snprintf(name, sizeof name, "%susdt@optionMarkPrice", und);
      put_family(out, cap, &n, &fam, name);
      break;
    }
    default:
      return ERR_INPUT;
    }
  }
  if (n_over)
    *n_over = n > cap ? n - cap : 0;
  return sort_unique(out, n < cap ? n : cap);
}

/* Writes one topic as a JSON array element. */
static int topic_arg(int v, const char *t, char *buf, size_t cap)
{
  if (v == VENUE_OKX) {
    const char *colon = strchr(t, ':');
    if (!colon)
      return ERR_INPUT;
    int ch = (int)(colon - t);
    const char *key = strncmp(t, "opt-summary", (size_t)ch) == 0 ? "instFamily" : "instId";
    return snprintf(buf, cap, "{\"channel\":\"%.*s\",\"%s\":\"%s\"}", ch, t, key, colon + 1);
  }
  return snprintf(buf, cap, "\"%s\"", t);
}

int venue_subscribe(int v, int unsub, const char *const *topics, int n, long long id, char *buf,
                    size_t cap, int *n_used)
{
  *n_used = 0;
  if (n <= 0 || v < 0 || v >= VENUE_N)
    return ERR_INPUT;
  const char *tail;
  int len;
  switch (v) {
  case VENUE_DERIBIT:
    len = snprintf(buf, cap,
                   "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"public/%s\",\"params\":{"
                   "\"channels\":[",
                   id, unsub ? "unsubscribe" : "subscribe");
    tail = "]}}";
    break;
  case VENUE_OKX:
    len = snprintf(buf, cap, "{\"id\":\"%lld\",\"op\":\"%s\",\"args\":[", id,
                   unsub ? "unsubscribe" : "subscribe");
    tail = "]}";
    break;
  case VENUE_BYBIT:
    len = snprintf(buf, cap, "{\"req_id\":\"%lld\",\"op\":\"%s\",\"args\":[", id,
                   unsub ? "unsubscribe" : "subscribe");
    tail = "]}";
    break;
  default:
    len = snprintf(buf, cap, "{\"method\":\"%s\",\"id\":%lld,\"params\":[",
                   unsub ? "UNSUBSCRIBE" : "SUBSCRIBE", id);
    tail = "]}";
    break;
  }
  size_t tail_len = strlen(tail);
  if (len < 0 || (size_t)len + tail_len >= cap)
    return ERR_FULL;
  int max = n < rules[v].topics_per_request ? n : rules[v].topics_per_request;
  char arg[2 * VENUE_TOPIC_LEN];
  int used = 0;
  for (; used < max; used++) {
    int a = topic_arg(v, topics[used], arg, sizeof arg);
    if (a < 0)
      return ERR_INPUT;
    size_t need = (size_t)a + (used ? 1 : 0);
    if ((size_t)a >= sizeof arg || (size_t)len + need + tail_len >= cap)
      break;
    len += snprintf(buf + len, cap - (size_t)len, "%s%s", used ? "," : "", arg);
  }
  if (used == 0)
    return ERR_FULL;
  memcpy(buf + len, tail, tail_len + 1);
  *n_used = used;
  return len + (int)tail_len;
}

int venue_ping(int v, long long id, char *buf, size_t cap)
{
  if (v == VENUE_OKX)
    return fit(snprintf(buf, cap, "ping"), cap);
  if (v == VENUE_BYBIT)
    return fit(snprintf(buf, cap, "{\"req_id\":\"%lld\",\"op\":\"ping\"}", id), cap);
  return 0;
}

int venue_hello(int v, long long id, int interval_s, char *buf, size_t cap)
{
  if (v != VENUE_DERIBIT)
    return 0;
  if (interval_s < 10)
    interval_s = 10;
  return fit(snprintf(buf, cap,
                      "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"public/set_heartbeat\","
                      "\"params\":{\"interval\":%d}}",
                      id, interval_s),
             cap);
}

int venue_heartbeat_answer(int v, long long id, char *buf, size_t cap)
{
  if (v != VENUE_DERIBIT)
    return 0;
  return fit(snprintf(buf, cap,
                      "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"public/test\",\"params\":{}}",
                      id),
             cap);
}

int venue_parse(int v, struct okx *okx, const struct listing *l, const char *msg, size_t len,
                int64_t local_ts_us, struct feeds_batch *b, struct feeds_stats *st)
{
  switch (v) {
  case VENUE_DERIBIT:
    return deribit_parse(l, msg, len, local_ts_us, b, st);
  case VENUE_OKX:
    return okx_parse(okx, l, msg, len, local_ts_us, b, st);
  case VENUE_BYBIT:
    return bybit_parse(l, msg, len, local_ts_us, b, st);
  case VENUE_BINANCE:
    return binance_parse(l, msg, len, local_ts_us, b, st);
  default:
    feeds_batch_reset(b);
    norm_reject(b, st, FEEDS_REJ_SHAPE);
    return 0;
  }
}

static uint64_t splitmix64(uint64_t *s)
{
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int64_t venue_backoff_ms(int attempt, int64_t min_ms, int64_t max_ms, uint64_t *rng)
{
  if (min_ms < 1)
    min_ms = 1;
  if (max_ms < min_ms)
    max_ms = min_ms;
  int64_t ceil = min_ms;
  for (int i = 0; i < attempt && ceil < max_ms; i++)
    ceil *= 2;
  if (ceil > max_ms)
    ceil = max_ms;
  return (int64_t)(splitmix64(rng) % (uint64_t)(ceil + 1));
}
