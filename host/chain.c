/* chain: recorded option chains (tardis options_chain CSV, raw Deribit CSV)
 * -> quotes.  The batch path of `volsurf fit`: chain_next -> book_put.
 *
 * The reader keeps one large buffer (CHAIN_BUF_BYTES) and hands out lines as
 * [start, end) ranges inside it; fields are (offset, length) pairs into the
 * line, and only the columns a quote needs are converted.  Nothing is
 * allocated per row.  A line never spans more than CHAIN_MAX_LINE bytes, so
 * the buffer always has room for one whole line plus a read.
 *
 * Invariants of a returned quote: IVs are fractions, "no quote" sentinels are
 * NaN (0 prices and IVs, empty cells), strike > 0, expiry and timestamp set. */
#include "chain.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef VOLSURF_HAVE_ZLIB
#include <zlib.h>
#endif

#include "err.h"

#define CHAIN_BUF_BYTES (1 << 20)
#define CHAIN_MAX_FIELDS 64
#define CHAIN_NUM_MAX 64 /* longest number text handed to strtod */

/* Columns a quote is made of; each format maps its header names onto these. */
enum col {
  COL_VENUE,
  COL_SYMBOL,
  COL_TS,
  COL_LOCAL_TS,
  COL_KIND,
  COL_STRIKE,
  COL_EXPIRY,
  COL_OI,
  COL_LAST,
  COL_BID,
  COL_BID_AMT,
  COL_BID_IV,
  COL_ASK,
  COL_ASK_AMT,
  COL_ASK_IV,
  COL_MARK,
  COL_MARK_IV,
  COL_UND_INDEX,
  COL_UND_PRICE,
  COL_INDEX_PRICE,
  COL_DELTA,
  COL_GREEKS, /* Deribit CSV: Python-repr dict holding 'delta' */
  COL_COUNT
};

struct col_name {
  int col;
  const char *name;
  int required;
};

/* docs.tardis.dev options_chain (exchanges.md 6.1); matched by name. */
static const struct col_name tardis_cols[] = {
    {COL_VENUE, "exchange", 1},
    {COL_SYMBOL, "symbol", 1},
    {COL_TS, "timestamp", 1},
    {COL_LOCAL_TS, "local_timestamp", 0},
    {COL_KIND, "type", 1},
    {COL_STRIKE, "strike_price", 1},
    {COL_EXPIRY, "expiration", 1},
    {COL_OI, "open_interest", 0},
    {COL_LAST, "last_price", 0},
    {COL_BID, "bid_price", 1},
    {COL_BID_AMT, "bid_amount", 0},
    {COL_BID_IV, "bid_iv", 0},
    {COL_ASK, "ask_price", 1},
    {COL_ASK_AMT, "ask_amount", 0},
    {COL_ASK_IV, "ask_iv", 0},
    {COL_MARK, "mark_price", 0},
    {COL_MARK_IV, "mark_iv", 0},
    {COL_UND_INDEX, "underlying_index", 0},
    {COL_UND_PRICE, "underlying_price", 1},
    {COL_DELTA, "delta", 0},
    {COL_INDEX_PRICE, "index_price", 0}, /* not tardis: added by chain_write */
};

/* Deribit public/get_order_book rows as dumped by pandas (schepal collector). */
static const struct col_name deribit_cols[] = {
    {COL_SYMBOL, "instrument_name", 1},
    {COL_TS, "timestamp", 1},
    {COL_KIND, "option_type", 1},
    {COL_STRIKE, "strike", 1},
    {COL_EXPIRY, "expiration_timestamp", 1},
    {COL_OI, "open_interest", 0},
    {COL_LAST, "last_price", 0},
    {COL_BID, "best_bid_price", 1},
    {COL_BID_AMT, "best_bid_amount", 0},
    {COL_BID_IV, "bid_iv", 0},
    {COL_ASK, "best_ask_price", 1},
    {COL_ASK_AMT, "best_ask_amount", 0},
    {COL_ASK_IV, "ask_iv", 0},
    {COL_MARK, "mark_price", 0},
    {COL_MARK_IV, "mark_iv", 0},
    {COL_UND_INDEX, "underlying_index", 0},
    {COL_UND_PRICE, "underlying_price", 1},
    {COL_INDEX_PRICE, "index_price", 0},
    {COL_GREEKS, "greeks", 0},
};

struct chain_reader {
  int format;
  FILE *fp;
  int close_fp; /* 0 for stdin */
#ifdef VOLSURF_HAVE_ZLIB
  gzFile gz;
#endif
  char *buf;
  size_t start, end; /* unread bytes are buf[start, end) */
  int eof, io_error;
  int64_t bytes;   /* bytes handed to us by the file layer (uncompressed) */
  int64_t line_no; /* physical line number of the last line returned */
  int n_cols;      /* header field count: every row must have as many */
  int col[COL_COUNT];
  int fstart[CHAIN_MAX_FIELDS], flen[CHAIN_MAX_FIELDS];
  /* The exchange column rarely changes between rows: its last mapping. */
  char last_exch[32];
  int last_exch_len;
  char last_venue[QUOTE_VENUE_LEN];
  struct chain_stats st;
};

/* ---- numbers --------------------------------------------------------- */

static const double pow10_tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_space(char c)
{
  return c == ' ' || c == '\t';
}

static void trim(const char **s, int *len)
{
  while (*len > 0 && is_space(**s)) {
    (*s)++;
    (*len)--;
  }
  while (*len > 0 && is_space((*s)[*len - 1]))
    (*len)--;
}

static int parse_slow(const char *s, int len, double *out)
{
  char tmp[CHAIN_NUM_MAX + 1];
  char *end;
  if (len > CHAIN_NUM_MAX)
    return -1;
  memcpy(tmp, s, (size_t)len);
  tmp[len] = '\0';
  errno = 0;
  double v = strtod(tmp, &end);
  if (end != tmp + len)
    return -1;
  *out = v;
  return 0;
}

/* Words that mean "no value" in the files we read: pandas/Python writes
 * NaN/nan/None, JSON dumps write null. */
static int is_null_word(const char *s, int len)
{
  static const char *words[] = {"nan", "NaN", "NAN", "None", "null"};
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
    if ((int)strlen(words[i]) == len && memcmp(s, words[i], (size_t)len) == 0)
      return 1;
  return 0;
}

/* Decimal text -> double.  Empty or a null word gives NaN.  Returns 0 or -1
 * (not a number).  Fast path (Clinger 1990): a mantissa below 2^53 scaled by
 * an exact power of ten <= 1e22 is correctly rounded by one multiply or
 * divide; everything else (long mantissas, big exponents) goes to strtod. */
static int parse_num(const char *s, int len, double *out)
{
  trim(&s, &len);
  if (len == 0) {
    *out = NAN;
    return 0;
  }
  /* Null words start with a letter; numbers never do ("e" needs digits). */
  if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')) {
    *out = NAN;
    return is_null_word(s, len) ? 0 : -1;
  }
  const char *p = s, *e = s + len;
  int neg = 0;
  if (*p == '-' || *p == '+') {
    neg = *p == '-';
    p++;
  }
  uint64_t mant = 0;
  int n_digits = 0, exp10 = 0, any = 0;
  while (p < e && *p >= '0' && *p <= '9') {
    if (n_digits < 19) {
      mant = mant * 10 + (uint64_t)(*p - '0');
      if (mant)
        n_digits++;
    } else {
      exp10++;
    }
    any = 1;
    p++;
  }
  if (p < e && *p == '.') {
    p++;
    while (p < e && *p >= '0' && *p <= '9') {
      if (n_digits < 19) {
        mant = mant * 10 + (uint64_t)(*p - '0');
        if (mant)
          n_digits++;
        exp10--;
      }
      any = 1;
      p++;
    }
  }
  if (!any)
    return -1;
  if (p < e && (*p == 'e' || *p == 'E')) {
    p++;
    int eneg = 0, ev = 0, edig = 0;
    if (p < e && (*p == '-' || *p == '+')) {
      eneg = *p == '-';
      p++;
    }
    while (p < e && *p >= '0' && *p <= '9') {
      if (ev < 100000)
        ev = ev * 10 + (*p - '0');
      edig = 1;
      p++;
    }
    if (!edig)
      return -1;
    exp10 += eneg ? -ev : ev;
  }
  if (p != e)
    return -1;
  if (n_digits >= 19 || mant > (1ULL << 53) || exp10 < -22 || exp10 > 22)
    return parse_slow(s, len, out);
  double v = (double)mant;
  if (exp10 < 0)
    v /= pow10_tab[-exp10];
  else
    v *= pow10_tab[exp10];
  *out = neg ? -v : v;
  return 0;
}

/* Integer timestamps; a float rendering ("1589434896486.0") is accepted. */
static int parse_i64(const char *s, int len, int64_t *out)
{
  trim(&s, &len);
  if (len == 0)
    return -1;
  const char *p = s, *e = s + len;
  int neg = 0;
  if (*p == '-') {
    neg = 1;
    p++;
  }
  int64_t v = 0;
  int any = 0;
  while (p < e && *p >= '0' && *p <= '9') {
    if (v > (INT64_MAX - 9) / 10)
      return -1;
    v = v * 10 + (*p - '0');
    any = 1;
    p++;
  }
  if (p == e && any) {
    *out = neg ? -v : v;
    return 0;
  }
  double d;
  if (parse_num(s, len, &d) != 0 || !isfinite(d) || fabs(d) > 9.0e18)
    return -1;
  *out = (int64_t)llround(d);
  return 0;
}

/* ---- input ----------------------------------------------------------- */

static long read_more(struct chain_reader *r, char *dst, size_t cap)
{
#ifdef VOLSURF_HAVE_ZLIB
  if (r->gz) {
    unsigned want = cap > (1u << 30) ? (1u << 30) : (unsigned)cap;
    int got = gzread(r->gz, dst, want);
    if (got < 0) {
      r->io_error = 1;
      return -1;
    }
    if (got == 0 && !gzeof(r->gz)) {
      r->io_error = 1;
      return -1;
    }
    return got;
  }
#endif
  size_t got = fread(dst, 1, cap, r->fp);
  if (got == 0 && ferror(r->fp)) {
    r->io_error = 1;
    return -1;
  }
  return (long)got;
}

/* Fills the buffer after moving the unread tail to the front. */
static int fill(struct chain_reader *r)
{
  size_t have = r->end - r->start;
  if (r->start > 0 && have > 0)
    memmove(r->buf, r->buf + r->start, have);
  r->start = 0;
  r->end = have;
  long got = read_more(r, r->buf + r->end, CHAIN_BUF_BYTES - r->end);
  if (got < 0)
    return ERR_IO;
  if (got == 0)
    r->eof = 1;
  r->end += (size_t)got;
  r->bytes += got;
  return 0;
}

enum { LINE_OK = 1, LINE_EOF = 0, LINE_TOO_LONG = 2 };

/* Next physical line without its "\n" or "\r\n".  An over-long line is
 * consumed up to its newline and reported as LINE_TOO_LONG. */
static int next_line(struct chain_reader *r, char **line, int *len)
{
  int too_long = 0;
  for (;;) {
    char *base = r->buf + r->start;
    size_t have = r->end - r->start;
    char *nl = have ? memchr(base, '\n', have) : NULL;
    if (nl) {
      size_t n = (size_t)(nl - base);
      r->start += n + 1;
      r->line_no++;
      if (too_long || n > CHAIN_MAX_LINE)
        return LINE_TOO_LONG;
      if (n > 0 && base[n - 1] == '\r')
        n--;
      *line = base;
      *len = (int)n;
      return LINE_OK;
    }
    if (have > CHAIN_MAX_LINE) {
      /* Drop what we have of it and keep reading to its newline. */
      too_long = 1;
      r->start = r->end;
      have = 0;
    }
    if (r->eof) {
      if (have == 0 && !too_long)
        return LINE_EOF;
      r->start = r->end;
      r->line_no++;
      if (too_long)
        return LINE_TOO_LONG;
      if (have > 0 && base[have - 1] == '\r')
        have--;
      *line = base;
      *len = (int)have;
      return LINE_OK;
    }
    if (fill(r) != 0)
      return ERR_IO;
  }
}

/* Splits a CSV line into fields (offsets into 'line'; quotes stripped, a
 * doubled quote inside a quoted field is left as two characters: no column
 * we convert contains one).  Returns the field count, or -1 for an
 * unterminated quote or more than CHAIN_MAX_FIELDS fields. */
static int split(struct chain_reader *r, const char *line, int len)
{
  int n = 0, i = 0;
  for (;;) {
    if (n == CHAIN_MAX_FIELDS)
      return -1;
    if (i < len && line[i] == '"') {
      int s = ++i;
      for (;;) {
        if (i >= len)
          return -1;
        if (line[i] == '"') {
          if (i + 1 < len && line[i + 1] == '"') {
            i += 2;
            continue;
          }
          break;
        }
        i++;
      }
      r->fstart[n] = s;
      r->flen[n] = i - s;
      i++; /* closing quote; anything up to the comma is ignored */
      while (i < len && line[i] != ',')
        i++;
    } else {
      int s = i;
      while (i < len && line[i] != ',')
        i++;
      r->fstart[n] = s;
      r->flen[n] = i - s;
    }
    n++;
    if (i >= len)
      return n;
    i++; /* the comma */
  }
}

/* ---- header ---------------------------------------------------------- */

static int field_is(const char *line, int start, int len, const char *name)
{
  const char *s = line + start;
  trim(&s, &len);
  return (int)strlen(name) == len && memcmp(s, name, (size_t)len) == 0;
}

/* Maps the header onto COL_*; returns how many required columns matched and
 * the first missing one in *missing (NULL when complete). */
static int map_header(struct chain_reader *r, const char *line, int nf, const struct col_name *cols,
                      int n_cols, int col[COL_COUNT], const char **missing)
{
  int matched = 0;
  *missing = NULL;
  for (int c = 0; c < COL_COUNT; c++)
    col[c] = -1;
  for (int j = 0; j < n_cols; j++) {
    for (int f = 0; f < nf; f++) {
      if (field_is(line, r->fstart[f], r->flen[f], cols[j].name)) {
        col[cols[j].col] = f;
        break;
      }
    }
    if (cols[j].required) {
      if (col[cols[j].col] >= 0)
        matched++;
      else if (!*missing)
        *missing = cols[j].name;
    }
  }
  return matched;
}

static int read_header(struct chain_reader *r, int format, char *err, size_t errlen)
{
  char *line = NULL;
  int len = 0, rc;
  do {
    rc = next_line(r, &line, &len);
    if (rc == LINE_OK) {
      while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    }
  } while (rc == LINE_OK && len == 0);
  if (rc == ERR_IO) {
    snprintf(err, errlen, "read error");
    return ERR_IO;
  }
  if (rc == LINE_EOF) {
    snprintf(err, errlen, "empty file");
    return ERR_PARSE;
  }
  if (rc == LINE_TOO_LONG) {
    snprintf(err, errlen, "header line longer than %d bytes", CHAIN_MAX_LINE);
    return ERR_PARSE;
  }
  /* A UTF-8 byte-order mark is not part of the first column's name. */
  if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
    line += 3;
    len -= 3;
  }
  int nf = split(r, line, len);
  if (nf < 0) {
    snprintf(err, errlen, "unreadable header (unterminated quote or over %d columns)",
             CHAIN_MAX_FIELDS);
    return ERR_PARSE;
  }
  int col_t[COL_COUNT], col_d[COL_COUNT];
  const char *miss_t, *miss_d;
  int n_req_t = 0, n_req_d = 0;
  for (size_t j = 0; j < sizeof(tardis_cols) / sizeof(tardis_cols[0]); j++)
    n_req_t += tardis_cols[j].required;
  for (size_t j = 0; j < sizeof(deribit_cols) / sizeof(deribit_cols[0]); j++)
    n_req_d += deribit_cols[j].required;
  int mt = map_header(r, line, nf, tardis_cols, (int)(sizeof(tardis_cols) / sizeof(tardis_cols[0])),
                      col_t, &miss_t);
  int md = map_header(r, line, nf, deribit_cols,
                      (int)(sizeof(deribit_cols) / sizeof(deribit_cols[0])), col_d, &miss_d);
  if (format == CHAIN_FORMAT_AUTO) {
    /* Whichever vocabulary the header speaks more of; ties go to tardis
     * (the reference vocabulary).  Deribit's "instrument_name" is decisive. */
    double ft = (double)mt / n_req_t, fd = (double)md / n_req_d;
    format = fd > ft ? CHAIN_FORMAT_DERIBIT_CSV : CHAIN_FORMAT_TARDIS;
    if (mt == 0 && md == 0) {
      snprintf(err, errlen, "unknown header: neither a tardis options_chain nor a Deribit CSV");
      return ERR_PARSE;
    }
  }
  const char *missing = format == CHAIN_FORMAT_TARDIS ? miss_t : miss_d;
  if (missing) {
    snprintf(err, errlen, "missing column \"%s\" in %s header", missing,
             format == CHAIN_FORMAT_TARDIS ? "tardis" : "deribit-csv");
    return ERR_PARSE;
  }
  memcpy(r->col, format == CHAIN_FORMAT_TARDIS ? col_t : col_d, sizeof(r->col));
  r->format = format;
  r->n_cols = nf;
  return 0;
}

/* ---- open / close ---------------------------------------------------- */

static int ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

int chain_format_parse(const char *name)
{
  if (!name)
    return ERR_INPUT;
  if (strcmp(name, "auto") == 0)
    return CHAIN_FORMAT_AUTO;
  if (strcmp(name, "tardis") == 0)
    return CHAIN_FORMAT_TARDIS;
  if (strcmp(name, "deribit-csv") == 0)
    return CHAIN_FORMAT_DERIBIT_CSV;
  return ERR_INPUT;
}

int chain_open(const char *path, int format, struct chain_reader **out, char *err, size_t errlen)
{
  char dummy[8];
  if (!err || errlen == 0) {
    err = dummy;
    errlen = sizeof(dummy);
  }
  err[0] = '\0';
  if (out)
    *out = NULL;
  if (!path || !out || format < CHAIN_FORMAT_AUTO || format > CHAIN_FORMAT_DERIBIT_CSV) {
    snprintf(err, errlen, "bad arguments");
    return ERR_INPUT;
  }
  int rc = ERR_NOMEM;
  struct chain_reader *r = calloc(1, sizeof(*r));
  if (!r)
    goto fail;
  r->buf = malloc(CHAIN_BUF_BYTES);
  if (!r->buf)
    goto fail;
  if (ends_with(path, ".gz")) {
#ifdef VOLSURF_HAVE_ZLIB
    r->gz = gzopen(path, "rb");
    if (!r->gz) {
      rc = ERR_IO;
      snprintf(err, errlen, "cannot open %s", path);
      goto fail;
    }
    gzbuffer(r->gz, 256 * 1024);
#else
    rc = ERR_UNSUPPORTED;
    snprintf(err, errlen, "%s: built without zlib, cannot read .gz", path);
    goto fail;
#endif
  } else if (strcmp(path, "-") == 0) {
    r->fp = stdin;
  } else {
    r->fp = fopen(path, "rb");
    if (!r->fp) {
      rc = ERR_IO;
      snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
      goto fail;
    }
    r->close_fp = 1;
  }
  rc = read_header(r, format, err, errlen);
  if (rc != 0)
    goto fail;
  *out = r;
  return 0;
fail:
  chain_close(r);
  return rc;
}

void chain_close(struct chain_reader *r)
{
  if (!r)
    return;
#ifdef VOLSURF_HAVE_ZLIB
  if (r->gz)
    gzclose(r->gz);
#endif
  if (r->fp && r->close_fp)
    fclose(r->fp);
  free(r->buf);
  free(r);
}

const struct chain_stats *chain_get_stats(const struct chain_reader *r)
{
  return &r->st;
}

int64_t chain_bytes_read(const struct chain_reader *r)
{
  return r ? r->bytes - (int64_t)(r->end - r->start) : -1;
}

/* ---- rows ------------------------------------------------------------ */

static void bad_row(struct chain_reader *r, const char *why)
{
  struct chain_stats *st = &r->st;
  if (st->n_malformed == 0)
    snprintf(st->first_error, sizeof(st->first_error), "line %lld: %s", (long long)r->line_no, why);
  st->n_malformed++;
  if (st->n_bad_kept < CHAIN_MAX_BAD_LINES)
    st->bad_lines[st->n_bad_kept++] = r->line_no;
}

static void copy_field(const char *s, int len, char *dst, int cap)
{
  trim(&s, &len);
  if (len >= cap)
    len = cap - 1;
  memcpy(dst, s, (size_t)len);
  dst[len] = '\0';
}

/* Maps a tardis exchange id onto the venue names of quote.h; unknown ids are
 * kept as written. */
static void venue_from_exchange(const char *s, int len, char *venue)
{
  static const struct {
    const char *id, *venue;
  } map[] = {{"deribit", "deribit"},
             {"okex-options", "okx"},
             {"okex", "okx"},
             {"okx", "okx"},
             {"okx-options", "okx"},
             {"bybit-options", "bybit"},
             {"bybit", "bybit"},
             {"binance-european-options", "binance"},
             {"binance-options", "binance"},
             {"binance", "binance"}};
  trim(&s, &len);
  for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
    if ((int)strlen(map[i].id) == len && memcmp(s, map[i].id, (size_t)len) == 0) {
      strcpy(venue, map[i].venue);
      return;
    }
  }
  copy_field(s, len, venue, QUOTE_VENUE_LEN);
}

/* Deribit BTC/ETH options are inverse (coin premiums); *_USDC are linear.
 * OKX BTC-USD is coin-margined, BTC-USD_UM USD-margined.  Bybit and
 * Binance quote in USDC/USDT. */
static int premium_in_coin(const char *venue, const char *symbol, const char *asset)
{
  if (strcmp(venue, "deribit") == 0)
    return strchr(asset, '_') == NULL;
  if (strcmp(venue, "okx") == 0) {
    const char *dash = strchr(symbol, '-');
    return dash && strncmp(dash, "-USD-", 5) == 0;
  }
  return 0;
}

/* Optional numeric column: a missing column or empty cell gives NaN. */
static int get_num(struct chain_reader *r, const char *line, int c, double *out)
{
  int f = r->col[c];
  if (f < 0) {
    *out = NAN;
    return 0;
  }
  return parse_num(line + r->fstart[f], r->flen[f], out);
}

/* Exchanges write 0 (or -1, Binance) for "no bid / no ask / no IV". */
static double positive_or_nan(double v)
{
  return v > 0.0 ? v : NAN;
}

/* 'delta' out of a Python-repr greeks dict: {'vega': 5.49, ..., 'delta': -0.43}. */
static double delta_from_greeks(const char *s, int len)
{
  static const char key[] = "'delta':";
  const int klen = (int)sizeof(key) - 1;
  for (int i = 0; i + klen <= len; i++) {
    if (s[i] == '\'' && memcmp(s + i, key, (size_t)klen) == 0) {
      int b = i + klen, e = b;
      while (e < len && s[e] != ',' && s[e] != '}')
        e++;
      double v;
      return parse_num(s + b, e - b, &v) == 0 ? v : NAN;
    }
  }
  return NAN;
}

/* Converts one split row; returns NULL or the reason it is malformed. */
static const char *row_to_quote(struct chain_reader *r, const char *line, struct quote *q)
{
  const int *col = r->col;
  int f;
  quote_init(q);

  f = col[COL_SYMBOL];
  const char *sym = line + r->fstart[f];
  int sym_len = r->flen[f];
  trim(&sym, &sym_len);
  if (sym_len == 0)
    return "empty symbol";
  if (sym_len >= QUOTE_SYMBOL_LEN)
    return "symbol too long";
  memcpy(q->symbol, sym, (size_t)sym_len);
  q->symbol[sym_len] = '\0';

  if (r->format == CHAIN_FORMAT_TARDIS) {
    const char *ex = line + r->fstart[col[COL_VENUE]];
    int ex_len = r->flen[col[COL_VENUE]];
    if (ex_len != r->last_exch_len || memcmp(ex, r->last_exch, (size_t)ex_len) != 0) {
      venue_from_exchange(ex, ex_len, r->last_venue);
      r->last_exch_len = ex_len < (int)sizeof(r->last_exch) ? ex_len : -1;
      if (r->last_exch_len >= 0)
        memcpy(r->last_exch, ex, (size_t)ex_len);
    }
    memcpy(q->venue, r->last_venue, sizeof(q->venue));
  } else
    strcpy(q->venue, "deribit");
  if (q->venue[0] == '\0')
    return "empty exchange";
  quote_asset_from_symbol(q->symbol, q->asset, QUOTE_ASSET_LEN);
  q->premium_in_coin = premium_in_coin(q->venue, q->symbol, q->asset);

  f = col[COL_KIND];
  const char *k = line + r->fstart[f];
  int klen = r->flen[f];
  trim(&k, &klen);
  if ((klen == 4 && memcmp(k, "call", 4) == 0) || (klen == 1 && (*k == 'C' || *k == 'c')))
    q->kind = QUOTE_CALL;
  else if ((klen == 3 && memcmp(k, "put", 3) == 0) || (klen == 1 && (*k == 'P' || *k == 'p')))
    q->kind = QUOTE_PUT;
  else
    return "unknown option type";

  if (get_num(r, line, COL_STRIKE, &q->strike) != 0 || isnan(q->strike))
    return "strike is not a number";
  if (!(q->strike > 0.0) || !isfinite(q->strike))
    return "strike not positive";

  /* tardis times are microseconds; raw Deribit times are milliseconds. */
  int64_t scale = r->format == CHAIN_FORMAT_TARDIS ? 1 : 1000;
  int64_t v;
  f = col[COL_EXPIRY];
  if (r->flen[f] == 0)
    return "expiry missing";
  if (parse_i64(line + r->fstart[f], r->flen[f], &v) != 0 || v <= 0 || v > INT64_MAX / scale)
    return "expiry is not a timestamp";
  q->expiry_us = v * scale;
  f = col[COL_TS];
  if (parse_i64(line + r->fstart[f], r->flen[f], &v) != 0 || v <= 0 || v > INT64_MAX / scale)
    return "timestamp is not a number";
  q->ts_us = v * scale;
  f = col[COL_LOCAL_TS];
  if (f >= 0 && r->flen[f] > 0) {
    if (parse_i64(line + r->fstart[f], r->flen[f], &v) != 0)
      return "local_timestamp is not a number";
    q->local_ts_us = v * scale;
  } else {
    q->local_ts_us = q->ts_us;
  }

  static const struct {
    int col;
    size_t off;
  } nums[] = {
      {COL_OI, offsetof(struct quote, open_interest)},
      {COL_LAST, offsetof(struct quote, last_price)},
      {COL_BID, offsetof(struct quote, bid_price)},
      {COL_BID_AMT, offsetof(struct quote, bid_amount)},
      {COL_BID_IV, offsetof(struct quote, bid_iv)},
      {COL_ASK, offsetof(struct quote, ask_price)},
      {COL_ASK_AMT, offsetof(struct quote, ask_amount)},
      {COL_ASK_IV, offsetof(struct quote, ask_iv)},
      {COL_MARK, offsetof(struct quote, mark_price)},
      {COL_MARK_IV, offsetof(struct quote, mark_iv)},
      {COL_UND_PRICE, offsetof(struct quote, underlying_price)},
      {COL_INDEX_PRICE, offsetof(struct quote, index_price)},
      {COL_DELTA, offsetof(struct quote, delta)},
  };
  for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
    double *dst = (double *)(void *)((char *)q + nums[i].off);
    if (get_num(r, line, nums[i].col, dst) != 0)
      return "non-numeric value in a numeric column";
  }

  /* Sentinels (exchanges.md 7.3): a 0 price, size or IV means "absent".
   * Deribit's ask_iv 500 is kept (as 5.0): it is the venue's cap, and
   * slice_build turns it into "no ask" and counts it as capped. */
  q->bid_price = positive_or_nan(q->bid_price);
  q->ask_price = positive_or_nan(q->ask_price);
  q->mark_price = positive_or_nan(q->mark_price);
  q->last_price = positive_or_nan(q->last_price);
  q->bid_iv = positive_or_nan(q->bid_iv);
  q->ask_iv = positive_or_nan(q->ask_iv);
  q->mark_iv = positive_or_nan(q->mark_iv);
  q->underlying_price = positive_or_nan(q->underlying_price);
  q->index_price = positive_or_nan(q->index_price);
  if (isnan(q->bid_price))
    q->bid_amount = NAN;
  if (isnan(q->ask_price))
    q->ask_amount = NAN;
  /* tardis does not convert IV units: Deribit's are percent. */
  if (strcmp(q->venue, "deribit") == 0) {
    q->bid_iv /= 100.0;
    q->ask_iv /= 100.0;
    q->mark_iv /= 100.0;
  }

  f = col[COL_UND_INDEX];
  if (f >= 0)
    copy_field(line + r->fstart[f], r->flen[f], q->underlying_index, QUOTE_INDEX_LEN);
  f = col[COL_GREEKS];
  if (f >= 0)
    q->delta = delta_from_greeks(line + r->fstart[f], r->flen[f]);
  return NULL;
}

int chain_next(struct chain_reader *r, struct quote *q)
{
  for (;;) {
    char *line;
    int len;
    int rc = next_line(r, &line, &len);
    if (rc == ERR_IO)
      return ERR_IO;
    if (rc == LINE_EOF)
      return 0;
    if (rc == LINE_TOO_LONG) {
      r->st.n_lines++;
      bad_row(r, "line too long");
      continue;
    }
    if (len == 0)
      continue; /* blank lines (a trailing one is common) are not rows */
    r->st.n_lines++;
    int nf = split(r, line, len);
    if (nf < 0) {
      bad_row(r, "unterminated quote or too many fields");
      continue;
    }
    if (nf != r->n_cols) {
      bad_row(r, "wrong field count");
      continue;
    }
    const char *why = row_to_quote(r, line, q);
    if (why) {
      bad_row(r, why);
      continue;
    }
    r->st.n_quotes++;
    return 1;
  }
}
