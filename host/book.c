/* book: latest quote per (venue, symbol), grouped into slices on demand.
 * feeds/replay/chain -> book_put -> book_slices -> fit.  One owner thread.
 *
 * Quotes live densely in 'q[0, n)'; 'slot' is an open-addressing (linear
 * probing) table of indices into q, sized to a power of two at least twice
 * the cap so probes stay short.  Removals (book_expire) and the in-place sort
 * of book_slices rebuild the table: both are rare next to puts.  All memory
 * is taken in book_new; nothing allocates afterwards. */
#include "book.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

struct book {
  int cap; /* max_instruments */
  int n;
  unsigned mask; /* table size - 1 */
  int *slot;     /* -1 empty, else index into q */
  struct quote *q;
  long n_refused;
};

/* FNV-1a over "venue\0symbol". */
static unsigned hash_key(const char *venue, const char *symbol)
{
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)venue; *p; p++)
    h = (h ^ *p) * 16777619u;
  h = (h ^ 0u) * 16777619u;
  for (const unsigned char *p = (const unsigned char *)symbol; *p; p++)
    h = (h ^ *p) * 16777619u;
  return h;
}

static int same_key(const struct quote *a, const char *venue, const char *symbol)
{
  return strcmp(a->symbol, symbol) == 0 && strcmp(a->venue, venue) == 0;
}

/* Slot holding (venue, symbol), or the empty slot where it would go. */
static unsigned probe(const struct book *b, const char *venue, const char *symbol)
{
  unsigned i = hash_key(venue, symbol) & b->mask;
  while (b->slot[i] >= 0 && !same_key(&b->q[b->slot[i]], venue, symbol))
    i = (i + 1) & b->mask;
  return i;
}

static void rehash(struct book *b)
{
  for (unsigned i = 0; i <= b->mask; i++)
    b->slot[i] = -1;
  for (int j = 0; j < b->n; j++)
    b->slot[probe(b, b->q[j].venue, b->q[j].symbol)] = j;
}

struct book *book_new(int max_instruments)
{
  if (max_instruments < 1 || max_instruments > (1 << 28))
    return NULL;
  struct book *b = calloc(1, sizeof(*b));
  if (!b)
    goto fail;
  unsigned size = 16;
  while (size < 2u * (unsigned)max_instruments)
    size <<= 1;
  b->cap = max_instruments;
  b->mask = size - 1;
  b->slot = malloc(size * sizeof(*b->slot));
  b->q = malloc((size_t)max_instruments * sizeof(*b->q));
  if (!b->slot || !b->q)
    goto fail;
  rehash(b);
  return b;
fail:
  book_free(b);
  return NULL;
}

void book_free(struct book *b)
{
  if (!b)
    return;
  free(b->slot);
  free(b->q);
  free(b);
}

int book_put(struct book *b, const struct quote *q)
{
  if (!b || !q || q->symbol[0] == '\0')
    return ERR_INPUT;
  /* Keys are compared as C strings: make sure a caller's unterminated name
   * cannot run past the fields. */
  if (!memchr(q->symbol, '\0', sizeof(q->symbol)) || !memchr(q->venue, '\0', sizeof(q->venue)))
    return ERR_INPUT;
  unsigned i = probe(b, q->venue, q->symbol);
  if (b->slot[i] >= 0) {
    b->q[b->slot[i]] = *q;
    return 0;
  }
  if (b->n == b->cap) {
    b->n_refused++;
    return ERR_FULL;
  }
  b->q[b->n] = *q;
  b->slot[i] = b->n++;
  return 0;
}

int book_expire(struct book *b, int64_t now_us)
{
  int kept = 0;
  for (int j = 0; j < b->n; j++)
    if (b->q[j].expiry_us > now_us)
      b->q[kept++] = b->q[j];
  int dropped = b->n - kept;
  b->n = kept;
  if (dropped)
    rehash(b);
  return dropped;
}

int book_size(const struct book *b)
{
  return b ? b->n : 0;
}

long book_n_refused(const struct book *b)
{
  return b ? b->n_refused : 0;
}

static int cmp_group(const void *pa, const void *pb)
{
  const struct quote *a = pa, *b = pb;
  int c = strcmp(a->venue, b->venue);
  if (c)
    return c;
  c = strcmp(a->asset, b->asset);
  if (c)
    return c;
  if (a->expiry_us != b->expiry_us)
    return a->expiry_us < b->expiry_us ? -1 : 1;
  /* Strike then kind: a deterministic order for slice_build's tie rules. */
  if (a->strike != b->strike)
    return a->strike < b->strike ? -1 : 1;
  if (a->kind != b->kind)
    return a->kind < b->kind ? -1 : 1;
  return strcmp(a->symbol, b->symbol);
}

static int same_group(const struct quote *a, const struct quote *b)
{
  return a->expiry_us == b->expiry_us && strcmp(a->venue, b->venue) == 0 &&
         strcmp(a->asset, b->asset) == 0;
}

/* Sorts the quotes by group in place (groups become contiguous runs). */
static void sort_groups(struct book *b)
{
  qsort(b->q, (size_t)b->n, sizeof(*b->q), cmp_group);
  rehash(b);
}

int book_n_groups(struct book *b, int64_t as_of_us)
{
  sort_groups(b);
  int g = 0;
  for (int j = 0; j < b->n; j++)
    if ((j == 0 || !same_group(&b->q[j - 1], &b->q[j])) && b->q[j].expiry_us > as_of_us)
      g++;
  return g;
}

int book_slices(struct book *b, int64_t as_of_us, const struct slice_config *c, struct slice *out,
                int max_out, int *n_failed)
{
  return book_slices_if(b, as_of_us, c, NULL, NULL, out, max_out, n_failed);
}

int book_slices_if(struct book *b, int64_t as_of_us, const struct slice_config *c,
                   int (*want)(void *ctx, const struct quote *first), void *ctx, struct slice *out,
                   int max_out, int *n_failed)
{
  int written = 0, failed = 0;
  if (n_failed)
    *n_failed = 0;
  if (!b || (!out && max_out > 0))
    return ERR_INPUT;
  sort_groups(b);
  for (int j = 0; j < b->n && written < max_out;) {
    int e = j + 1;
    while (e < b->n && same_group(&b->q[j], &b->q[e]))
      e++;
    if (b->q[j].expiry_us > as_of_us && (!want || want(ctx, &b->q[j]))) {
      if (slice_build(&b->q[j], e - j, as_of_us, c, &out[written]) == 0)
        written++;
      else
        failed++;
    }
    j = e;
  }
  if (n_failed)
    *n_failed = failed;
  return written;
}
