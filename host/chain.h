/* chain: reading recorded option chains from files into quotes (the batch
 * path of `volsurf fit`): the tardis.dev options_chain CSV (plain or .gz,
 * columns per ../shared/reference/exchanges.md 6.1, many snapshots per file)
 * and the raw Deribit CSV of ../shared/data (per-instrument get_order_book
 * rows with Python-repr dict columns).  IV columns are normalized to
 * fractions (Deribit percent; tardis keeps venue units, so the exchange column
 * decides), "absent" sentinels to NaN (0 or empty price, size or IV; Binance
 * -1).  Deribit's ask_iv 500 is a cap, not an absence: it is kept as 5.0 so
 * that slice_build treats the ask as missing and counts it (n_iv_capped).
 * The venue is the tardis exchange id mapped onto quote.h names
 * ("okex-options" -> "okx", "bybit-options" -> "bybit",
 * "binance-european-options" -> "binance"); the raw Deribit CSV is "deribit".
 * A line ends at '\n' (optionally "\r\n"), also inside quotes.
 *
 * Malformed rows never stop a read: they are counted, their line numbers
 * kept (the first CHAIN_MAX_BAD_LINES), and the row skipped. */
#ifndef VOLSURF_CHAIN_H
#define VOLSURF_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "quote.h"

enum chain_format { CHAIN_FORMAT_AUTO = 0, CHAIN_FORMAT_TARDIS = 1, CHAIN_FORMAT_DERIBIT_CSV = 2 };

#define CHAIN_MAX_BAD_LINES 16
#define CHAIN_MAX_LINE 65536 /* a longer row is malformed */

struct chain_stats {
  int64_t n_lines;     /* data lines read (header excluded) */
  int64_t n_quotes;    /* quotes returned */
  int64_t n_malformed; /* rows skipped as malformed */
  int n_bad_kept;
  int64_t bad_lines[CHAIN_MAX_BAD_LINES]; /* 1-based line numbers */
  char first_error[160];                  /* reason for the first malformed row */
};

struct chain_reader;

/* Opens 'path' ("-" = stdin); a name ending in .gz is gunzipped (ERR_UNSUPPORTED
 * when built without zlib).  CHAIN_FORMAT_AUTO looks at the header.  Returns
 * 0, ERR_IO (cannot open), ERR_PARSE (empty file, unknown or incomplete header:
 * 'err' names the missing column) or ERR_NOMEM.  Caller closes with chain_close. */
int chain_open(const char *path, int format, struct chain_reader **out, char *err, size_t errlen);

/* Reads the next quote into q: returns 1, 0 at end of input, or ERR_IO. */
int chain_next(struct chain_reader *r, struct quote *q);

/* The counters so far; valid until chain_close. */
const struct chain_stats *chain_get_stats(const struct chain_reader *r);

/* Bytes consumed so far (uncompressed for .gz; for progress reports); -1
 * when unknown. */
int64_t chain_bytes_read(const struct chain_reader *r);

void chain_close(struct chain_reader *r);

/* Parses "tardis", "deribit-csv", "auto"; returns the enum or ERR_INPUT. */
int chain_format_parse(const char *name);

/* Writer of the tardis options_chain layout (host/chain_write.c): what
 * `volsurf record` writes and chain_open reads back.  The 24 tardis columns
 * plus a trailing index_price column (optional for the reader; tardis files
 * lack it); IVs in the venue's units as tardis keeps them (Deribit percent,
 * the others fractions); the exchange column is the tardis id ("deribit",
 * "okex-options", "bybit-options", "binance-european-options"); NaN is an
 * empty cell; numbers are written with 17 significant digits so that a
 * quote reads back as written (IVs up to the percent scaling).  One owner
 * thread. */
struct chain_writer;
/* Opens 'path' for writing ("-" = stdout; a name ending in .gz is gzipped,
 * ERR_UNSUPPORTED without zlib) and writes the header.  Returns 0 or ERR_IO
 * ('err' says why) or ERR_NOMEM.  Caller closes with chain_writer_close. */
int chain_writer_open(const char *path, struct chain_writer **out, char *err, size_t errlen);
/* Appends one row.  Returns 0 or ERR_IO. */
int chain_write(struct chain_writer *w, const struct quote *q);
/* Rows written so far. */
int64_t chain_writer_rows(const struct chain_writer *w);
/* Flushes to the OS (and a gzip sync point): a record survives a crash up
 * to the last flush.  Returns 0 or ERR_IO. */
int chain_writer_flush(struct chain_writer *w);
/* Flushes, closes and frees; returns 0 or ERR_IO (NULL is a no-op). */
int chain_writer_close(struct chain_writer *w);

#endif
