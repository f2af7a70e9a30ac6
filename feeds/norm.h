/* norm: what every venue normalizer shares: the per-message size cap, the
 * typed rejection counters, the output batch, the "no quote" sentinel rules
 * and number parsing for venues that send numbers as strings.
 *
 * Data flow: connector receives one text message -> <venue>_parse() (uses
 * norm_*) -> struct quote rows in a caller-owned feeds_batch -> host/book.
 *
 * Invariants: a normalizer never crashes on input; every message it cannot
 * use is counted once in feeds_stats under one reason; missing values are
 * NaN, never 0; IVs leave here as fractions.  Nothing here allocates except
 * cJSON's parse tree, which the caller of norm_json_parse frees with
 * norm_json_free.
 * Thread use: a stats/batch pair belongs to one thread (the I/O loop). */
#ifndef VOLSURF_FEEDS_NORM_H
#define VOLSURF_FEEDS_NORM_H

#include <stddef.h>
#include <stdint.h>

#include "quote.h"

struct cJSON;

/* Largest message a normalizer accepts.  The biggest legitimate push we know
 * (Binance optionMarkPrice or OKX opt-summary for a whole BTC family) is a few
 * hundred KB; anything over this is rejected unparsed (FEEDS_REJ_TOO_BIG). */
#define FEEDS_MSG_MAX (1u << 20)

/* Suggested batch capacity: more than any venue lists for one family today. */
#define FEEDS_BATCH_MAX 4096

/* An IV at or above 500% (5.0 as a fraction) is a venue cap, not a quote:
 * Deribit sends ask_iv 500 (percent) for "no ask", OKX/Bybit send askVol /
 * ask1Iv "5" on deep wings.  The price beside it is kept; only the IV goes
 * to NaN (host/quote_fill_iv can recompute it from the price). */
#define FEEDS_IV_CAP 5.0

/* Why a message (or, for per-row reasons, one row of a message) was not
 * turned into a quote.  Counted in feeds_stats.n_rejected[reason]. */
enum feeds_reject {
  FEEDS_REJ_TOO_BIG = 0, /* message over FEEDS_MSG_MAX (or the listing cap) */
  FEEDS_REJ_JSON,        /* not valid JSON (truncated, garbage, empty) */
  FEEDS_REJ_SHAPE,       /* valid JSON, but the envelope is not what the venue sends */
  FEEDS_REJ_FIELD,       /* a row lacks a required field, or it has the wrong type */
  FEEDS_REJ_SYMBOL,      /* instrument name does not follow the venue's grammar */
  FEEDS_REJ_CLOSED,      /* instrument closed/expired/delisted: skipped on purpose */
  FEEDS_REJ_FULL,        /* batch or per-venue cache full: row dropped */
  FEEDS_REJ_UNKNOWN,     /* well-formed, but a channel/event we do not handle */
  FEEDS_REJ_N
};

/* Per-connection counters.  Zero-initialize; the normalizers only add. */
struct feeds_stats {
  uint64_t n_messages;           /* messages offered to a parser */
  uint64_t n_quotes;             /* quotes written to batches */
  uint64_t n_heartbeats;         /* heartbeats, test_requests and pongs */
  uint64_t n_acks;               /* subscription acks and plain responses */
  uint64_t n_venue_errors;       /* error responses/events sent by the venue */
  uint64_t n_expiry_from_symbol; /* quotes whose instrument was not in the listing */
  uint64_t n_rejected[FEEDS_REJ_N];
};

/* What one message was, so that the connector knows what to do next. */
enum feeds_msg {
  FEEDS_MSG_REJECTED = 0, /* see feeds_batch.reject; nothing to do */
  FEEDS_MSG_DATA,         /* market data; quotes (maybe zero) in the batch */
  FEEDS_MSG_TEST_REQUEST, /* Deribit heartbeat test_request: answer public/test now */
  FEEDS_MSG_HEARTBEAT,    /* a heartbeat or pong: the link is alive, nothing to send */
  FEEDS_MSG_ACK,          /* subscribe ack or other success response (see .id) */
  FEEDS_MSG_ERROR,        /* venue error (see .error_code, .id) */
  FEEDS_MSG_NOTICE        /* OKX notice (64008): reconnect soon */
};

/* Per-quote flags (feeds_batch.flags). */
#define FEEDS_QF_EXPIRY_FROM_SYMBOL 1u /* not in the listing: expiry assumed 08:00 UTC */

/* Output of one parse.  The caller owns the arrays and sets quotes, flags
 * (optional, may be NULL) and cap once; every parse resets the rest. */
struct feeds_batch {
  struct quote *quotes; /* caller storage, cap entries */
  unsigned *flags;      /* NULL, or caller storage parallel to quotes */
  int cap;
  int n;                /* quotes written by the last parse */
  int msg;              /* enum feeds_msg */
  int reject;           /* enum feeds_reject when msg == FEEDS_MSG_REJECTED, else -1 */
  long long id;         /* request id echoed by the venue, -1 when absent */
  long long error_code; /* venue error code for FEEDS_MSG_ERROR/NOTICE, else 0 */
  int n_rows_bad;       /* rows of this message that were rejected (counted in stats) */
};

/* Binds caller storage to a batch.  'flags' may be NULL. */
void feeds_batch_init(struct feeds_batch *b, struct quote *quotes, unsigned *flags, int cap);

/* Resets the per-message fields; called by every <venue>_parse. */
void feeds_batch_reset(struct feeds_batch *b);

/* Static name of a rejection reason ("too_big", "json", ...), for metrics. */
const char *feeds_reject_name(int reason);

/* Marks the whole message rejected for 'reason' and counts it. */
void norm_reject(struct feeds_batch *b, struct feeds_stats *st, int reason);

/* Counts one rejected row of an otherwise usable message. */
void norm_reject_row(struct feeds_batch *b, struct feeds_stats *st, int reason);

/* Counts the message, applies the size cap and parses it.  Returns the tree,
 * or NULL after counting TOO_BIG or JSON and marking the batch rejected.
 * 'msg' need not be NUL-terminated.  The parse takes the tree's nodes from
 * a per-thread arena of NORM_ARENA_BYTES (malloc beyond it): a venue
 * message is tens of small nodes, and malloc/free of them was a fifth of
 * the I/O thread.  So: free the tree with norm_json_free on the thread that
 * parsed it, and keep nothing of it afterwards (the arena is emptied at the
 * next parse once no tree of the thread is alive).  Other cJSON calls on
 * the tree (printing, adding items) use malloc as usual. */
#define NORM_ARENA_BYTES (256u << 10)
struct cJSON *norm_json_parse(const char *msg, size_t len, size_t cap, struct feeds_batch *b,
                              struct feeds_stats *st);
/* Frees a norm_json_parse tree (NULL-safe) and ends its arena use. */
void norm_json_free(struct cJSON *root);
/* Installs the arena's cJSON hooks (process-wide; norm_json_parse does it on
 * first use).  Call it before starting threads that use cJSON, so that the
 * hooks do not change under them. */
void norm_json_init(void);

/* Next free quote slot, initialized with quote_init and the venue/receive
 * time filled in; NULL (row counted FULL) when the batch is full. */
struct quote *norm_next_quote(struct feeds_batch *b, struct feeds_stats *st, const char *venue,
                              int64_t local_ts_us);

/* Commits the slot returned by norm_next_quote with 'flags'. */
void norm_commit_quote(struct feeds_batch *b, struct feeds_stats *st, unsigned flags);

/* Parses a whole string as a finite decimal number ("0", "-1.0", "1e-7").
 * Returns 0, or ERR_PARSE for "", spaces, trailing text, inf/nan. */
int norm_parse_number(const char *s, double *out);

/* Reads an optional number that a venue sends either as a JSON number or
 * as a string.  Missing, null, "" and anything non-numeric (Deribit's
 * estimated_delivery_price "expired") give NaN.  Never fails. */
double norm_num(const struct cJSON *obj, const char *name);

/* Like norm_num, but returns ERR_PARSE when the field is absent or is not a
 * number / numeric string; 'out' is NaN then. */
int norm_num_required(const struct cJSON *obj, const char *name, double *out);

/* Sentinel rules, one place: a price, size or index of 0 (or less) means
 * "no quote"; an IV of 0 or less (Binance "-1.0") or at/above FEEDS_IV_CAP
 * means "none".  'scale' converts to fractions (0.01 for Deribit percent). */
double norm_price(double x);
double norm_iv(double x, double scale);

/* An id or error code read with norm_num as an integer: 'dflt' for NaN or
 * beyond +-2^53 (where a double no longer holds every integer, and a cast
 * could overflow). */
long long norm_int(double x, long long dflt);

/* Milliseconds since the epoch (as parsed) to microseconds; 0 for NaN. */
int64_t norm_ms_to_us(double ms);

/* Copies a JSON string member into dst (cap bytes incl. NUL).  Returns 0, or
 * ERR_PARSE when absent, not a string, empty or too long. */
int norm_copy_str(const struct cJSON *obj, const char *name, char *dst, size_t cap);

/* Parses a strike written with 'sep' as its decimal point ('d' for Deribit
 * "1d02", '.' for Binance "2.05"): digits, at most one separator, digits.
 * Returns 0 or ERR_PARSE; the strike must be > 0. */
int norm_parse_strike(const char *s, size_t len, char sep, double *out);

/* Splits 'sym' at '-' into at most 'max' parts (pointers into sym with
 * lengths).  Returns the number of parts, or ERR_PARSE when there are more
 * than 'max' or a part is empty. */
int norm_split_dash(const char *sym, const char **part, size_t *len, int max);

/* Copies the first len bytes of s into dst (cap incl. NUL); ERR_PARSE if
 * it does not fit. */
int norm_copy_n(char *dst, size_t cap, const char *s, size_t len);

#endif
