/* book: the latest quote of every instrument, and the slices built from it.
 * feeds/replay/chain -> book_put -> book_slices -> fit.  One owner thread.
 *
 * Keyed by (venue, symbol); capped at max_instruments (a put beyond the cap
 * is refused and counted).  book_slices groups by (venue, asset, expiry) and
 * returns slices sorted by venue, asset, expiry. */
#ifndef VOLSURF_BOOK_H
#define VOLSURF_BOOK_H

#include <stdint.h>

#include "quote.h"
#include "slice.h"

struct book;

/* Returns a new book or NULL (out of memory).  Caller frees with book_free. */
struct book *book_new(int max_instruments);
void book_free(struct book *b);

/* Copies q in, replacing the instrument's previous quote.  Returns 0,
 * ERR_FULL (cap reached; counted) or ERR_INPUT (empty symbol). */
int book_put(struct book *b, const struct quote *q);

/* Drops instruments expired at now_us; returns how many. */
int book_expire(struct book *b, int64_t now_us);

int book_size(const struct book *b);
long book_n_refused(const struct book *b);

/* Number of (venue, asset, expiry) groups with an expiry after as_of. */
int book_n_groups(struct book *b, int64_t as_of_us);

/* Builds up to max_out slices as of as_of_us (see slice_build).  Returns the
 * number written, or ERR_NOMEM.  Groups whose slice_build fails are skipped
 * and counted in *n_failed (may be NULL). */
int book_slices(struct book *b, int64_t as_of_us, const struct slice_config *c, struct slice *out,
                int max_out, int *n_failed);

/* Like book_slices, for the groups that 'want' accepts only (called once
 * per group with its first quote; returns non-zero to build it).  The
 * calibration worker refits only the groups whose quotes changed. */
int book_slices_if(struct book *b, int64_t as_of_us, const struct slice_config *c,
                   int (*want)(void *ctx, const struct quote *first), void *ctx, struct slice *out,
                   int max_out, int *n_failed);

#endif
