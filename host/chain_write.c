/* chain_write: quotes -> tardis options_chain CSV (the layout chain.c reads),
 * plain or gzip.  The writer side of `volsurf record`; see chain.h for the
 * column rules.  Rows are formatted into one reused line buffer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef VOLSURF_HAVE_ZLIB
#include <zlib.h>
#endif

#include "chain.h"
#include "err.h"

struct chain_writer {
  FILE *f;
  int close_f; /* 0 for stdout */
#ifdef VOLSURF_HAVE_ZLIB
  gzFile gz;
#endif
  int64_t rows;
  int io_error;
  char line[1024];
};

static const char chain_header[] =
    "exchange,symbol,timestamp,local_timestamp,type,strike_price,expiration,open_interest,"
    "last_price,bid_price,bid_amount,bid_iv,ask_price,ask_amount,ask_iv,mark_price,mark_iv,"
    "underlying_index,underlying_price,delta,gamma,vega,theta,rho,index_price\n";

static int put(struct chain_writer *w, const char *s, size_t n)
{
#ifdef VOLSURF_HAVE_ZLIB
  if (w->gz) {
    if (gzwrite(w->gz, s, (unsigned)n) != (int)n)
      w->io_error = 1;
    return w->io_error ? ERR_IO : 0;
  }
#endif
  if (fwrite(s, 1, n, w->f) != n)
    w->io_error = 1;
  return w->io_error ? ERR_IO : 0;
}

int chain_writer_open(const char *path, struct chain_writer **out, char *err, size_t errlen)
{
  *out = NULL;
  if (!path || !*path) {
    snprintf(err, errlen, "no output path");
    return ERR_IO;
  }
  struct chain_writer *w = calloc(1, sizeof(*w));
  if (!w)
    return ERR_NOMEM;
  size_t n = strlen(path);
  if (strcmp(path, "-") == 0) {
    w->f = stdout;
  } else if (n > 3 && strcmp(path + n - 3, ".gz") == 0) {
#ifdef VOLSURF_HAVE_ZLIB
    w->gz = gzopen(path, "wb6");
    if (!w->gz) {
      snprintf(err, errlen, "cannot open %s for writing", path);
      free(w);
      return ERR_IO;
    }
#else
    snprintf(err, errlen, "%s: built without zlib", path);
    free(w);
    return ERR_UNSUPPORTED;
#endif
  } else {
    w->f = fopen(path, "w");
    w->close_f = 1;
    if (!w->f) {
      snprintf(err, errlen, "cannot open %s for writing", path);
      free(w);
      return ERR_IO;
    }
  }
  if (put(w, chain_header, sizeof(chain_header) - 1) < 0) {
    snprintf(err, errlen, "cannot write %s", path);
    chain_writer_close(w);
    return ERR_IO;
  }
  *out = w;
  return 0;
}

static const char *exchange_id(const char *venue)
{
  if (strcmp(venue, "okx") == 0)
    return "okex-options";
  if (strcmp(venue, "bybit") == 0)
    return "bybit-options";
  if (strcmp(venue, "binance") == 0)
    return "binance-european-options";
  return venue;
}

/* Appends ",<x>" (empty for NaN) to the line at *len. */
static void num(char *line, size_t cap, size_t *len, double x)
{
  int n = isfinite(x) ? snprintf(line + *len, cap - *len, ",%.17g", x)
                      : snprintf(line + *len, cap - *len, ",");
  if (n > 0 && (size_t)n < cap - *len)
    *len += (size_t)n;
}

/* Text fields come from the venues: a comma, quote or newline would break
 * the CSV, so they are replaced (no venue symbol contains one). */
static void text(char *line, size_t cap, size_t *len, const char *s, int lead_comma)
{
  if (lead_comma && *len + 1 < cap)
    line[(*len)++] = ',';
  for (; *s && *len + 1 < cap; s++)
    line[(*len)++] = (*s == ',' || *s == '"' || *s == '\n' || *s == '\r') ? '_' : *s;
  line[*len] = '\0';
}

int chain_write(struct chain_writer *w, const struct quote *q)
{
  if (!w || !q)
    return ERR_INPUT;
  char *l = w->line;
  size_t cap = sizeof(w->line), len = 0;
  /* tardis keeps venue IV units: Deribit's are percent (chain.c divides). */
  double ivs = strcmp(q->venue, "deribit") == 0 ? 100.0 : 1.0;
  text(l, cap, &len, exchange_id(q->venue), 0);
  text(l, cap, &len, q->symbol, 1);
  len += (size_t)snprintf(l + len, cap - len, ",%lld,%lld,%s", (long long)q->ts_us,
                          (long long)(q->local_ts_us > 0 ? q->local_ts_us : q->ts_us),
                          q->kind == QUOTE_CALL ? "call" : "put");
  num(l, cap, &len, q->strike);
  len += (size_t)snprintf(l + len, cap - len, ",%lld", (long long)q->expiry_us);
  num(l, cap, &len, q->open_interest);
  num(l, cap, &len, q->last_price);
  num(l, cap, &len, q->bid_price);
  num(l, cap, &len, q->bid_amount);
  num(l, cap, &len, q->bid_iv * ivs);
  num(l, cap, &len, q->ask_price);
  num(l, cap, &len, q->ask_amount);
  num(l, cap, &len, q->ask_iv * ivs);
  num(l, cap, &len, q->mark_price);
  num(l, cap, &len, q->mark_iv * ivs);
  text(l, cap, &len, q->underlying_index, 1);
  num(l, cap, &len, q->underlying_price);
  num(l, cap, &len, q->delta);
  len += (size_t)snprintf(l + len, cap - len, ",,,,");
  num(l, cap, &len, q->index_price);
  if (len + 2 > cap)
    return ERR_INPUT; /* cannot happen with capped fields; never write half a row */
  l[len++] = '\n';
  int rc = put(w, l, len);
  if (rc == 0)
    w->rows++;
  return rc;
}

int64_t chain_writer_rows(const struct chain_writer *w)
{
  return w ? w->rows : 0;
}

int chain_writer_flush(struct chain_writer *w)
{
  if (!w)
    return 0;
#ifdef VOLSURF_HAVE_ZLIB
  if (w->gz)
    return gzflush(w->gz, Z_SYNC_FLUSH) == Z_OK && !w->io_error ? 0 : ERR_IO;
#endif
  return fflush(w->f) == 0 && !w->io_error ? 0 : ERR_IO;
}

int chain_writer_close(struct chain_writer *w)
{
  if (!w)
    return 0;
  int rc = w->io_error ? ERR_IO : 0;
#ifdef VOLSURF_HAVE_ZLIB
  if (w->gz && gzclose(w->gz) != Z_OK)
    rc = ERR_IO;
#endif
  if (w->f && fflush(w->f) != 0)
    rc = ERR_IO;
  if (w->f && w->close_f && fclose(w->f) != 0)
    rc = ERR_IO;
  free(w);
  return rc;
}
