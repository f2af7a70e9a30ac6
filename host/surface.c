/* surface: allocation of immutable surface versions, their ids and expiry
 * codes, and the conflating mailbox that hands the newest version of each
 * surface from the calibration worker to the I/O thread.
 *
 * Layout of one version: [struct surface][expiries][points], each part
 * aligned for its type, so surface_free is a single free. */
#include "surface.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "err.h"

#define SURFACE_MAX_POINTS (SURFACE_MAX_EXPIRIES * SLICE_MAX_POINTS)

struct surface_hdr {
  struct surface s;
  int n_points_total;
};

static size_t align_up(size_t n, size_t a)
{
  return (n + a - 1) / a * a;
}

struct surface *surface_new(int n_expiries, int n_points_total)
{
  if (n_expiries < 0 || n_expiries > SURFACE_MAX_EXPIRIES || n_points_total < 0 ||
      n_points_total > SURFACE_MAX_POINTS)
    return NULL;
  size_t off_exp = align_up(sizeof(struct surface_hdr), _Alignof(struct surface_expiry));
  size_t off_pts = align_up(off_exp + (size_t)n_expiries * sizeof(struct surface_expiry),
                            _Alignof(struct surface_point));
  size_t total = off_pts + (size_t)n_points_total * sizeof(struct surface_point);
  char *mem = calloc(1, total);
  if (!mem)
    return NULL;
  struct surface_hdr *h = (struct surface_hdr *)mem;
  h->n_points_total = n_points_total;
  h->s.n_expiries = n_expiries;
  h->s.exp = n_expiries ? (struct surface_expiry *)(mem + off_exp) : NULL;
  /* Points of expiry i are assigned by the caller; start them all at the
   * beginning of the points area so that an unassigned expiry is harmless. */
  struct surface_point *pts = (struct surface_point *)(mem + off_pts);
  for (int i = 0; i < n_expiries; i++)
    h->s.exp[i].points = n_points_total ? pts : NULL;
  h->s.index_price = NAN;
  return &h->s;
}

void surface_free(struct surface *s)
{
  free(s); /* s is the first member of its header: the allocation itself */
}

struct surface_point *surface_points_at(struct surface *s, int offset)
{
  if (!s)
    return NULL;
  struct surface_hdr *h = (struct surface_hdr *)s;
  if (offset < 0 || offset >= h->n_points_total)
    return NULL;
  size_t off_exp = align_up(sizeof(struct surface_hdr), _Alignof(struct surface_expiry));
  size_t off_pts = align_up(off_exp + (size_t)s->n_expiries * sizeof(struct surface_expiry),
                            _Alignof(struct surface_point));
  return (struct surface_point *)((char *)h + off_pts) + offset;
}

int surface_id(const char *venue, const char *asset, char *out)
{
  if (!venue || !asset || !out || !venue[0] || !asset[0])
    return ERR_RANGE;
  int n = snprintf(out, SURFACE_ID_LEN, "%s.%s", venue, asset);
  if (n < 0 || n >= SURFACE_ID_LEN) {
    out[0] = '\0';
    return ERR_RANGE;
  }
  return 0;
}

void surface_code(int64_t expiry_us, char out[SURFACE_CODE_LEN])
{
  civil_expiry_code(expiry_us, out, SURFACE_CODE_LEN);
}

/* ---- mailbox ---------------------------------------------------------- */

struct mb_slot {
  char id[SURFACE_ID_LEN];
  struct surface *unread; /* NULL when read */
  uint64_t put_seq;       /* order of the unread version's put */
};

struct surface_mailbox {
  pthread_mutex_t mu;
  int cap, n;
  uint64_t seq;
  long n_conflated, n_refused;
  struct mb_slot *slot;
};

struct surface_mailbox *surface_mailbox_new(int max_surfaces)
{
  if (max_surfaces < 1 || max_surfaces > 1 << 20)
    return NULL;
  struct surface_mailbox *mb = calloc(1, sizeof(*mb));
  if (!mb)
    return NULL;
  mb->slot = calloc((size_t)max_surfaces, sizeof(*mb->slot));
  if (!mb->slot) {
    free(mb);
    return NULL;
  }
  mb->cap = max_surfaces;
  pthread_mutex_init(&mb->mu, NULL);
  return mb;
}

void surface_mailbox_free(struct surface_mailbox *mb)
{
  if (!mb)
    return;
  for (int i = 0; i < mb->n; i++)
    surface_free(mb->slot[i].unread);
  pthread_mutex_destroy(&mb->mu);
  free(mb->slot);
  free(mb);
}

int surface_mailbox_put(struct surface_mailbox *mb, struct surface *s)
{
  if (!mb || !s) {
    surface_free(s);
    return ERR_INPUT;
  }
  pthread_mutex_lock(&mb->mu);
  struct mb_slot *sl = NULL;
  for (int i = 0; i < mb->n && !sl; i++)
    if (strncmp(mb->slot[i].id, s->id, SURFACE_ID_LEN) == 0)
      sl = &mb->slot[i];
  if (!sl) {
    if (mb->n == mb->cap) {
      mb->n_refused++;
      pthread_mutex_unlock(&mb->mu);
      surface_free(s);
      return ERR_FULL;
    }
    sl = &mb->slot[mb->n++];
    memcpy(sl->id, s->id, SURFACE_ID_LEN);
    sl->id[SURFACE_ID_LEN - 1] = '\0';
  }
  if (sl->unread) {
    surface_free(sl->unread);
    mb->n_conflated++;
  }
  sl->unread = s;
  sl->put_seq = ++mb->seq;
  pthread_mutex_unlock(&mb->mu);
  return 0;
}

int surface_mailbox_take(struct surface_mailbox *mb, struct surface **out, int max)
{
  if (!mb || !out || max <= 0)
    return 0;
  int got = 0;
  pthread_mutex_lock(&mb->mu);
  /* Oldest put first: repeatedly pick the smallest put_seq.  The mailbox
   * holds tens of surfaces, so the quadratic pick is cheaper than a sort's
   * bookkeeping. */
  while (got < max) {
    struct mb_slot *best = NULL;
    for (int i = 0; i < mb->n; i++)
      if (mb->slot[i].unread && (!best || mb->slot[i].put_seq < best->put_seq))
        best = &mb->slot[i];
    if (!best)
      break;
    out[got++] = best->unread;
    best->unread = NULL;
  }
  pthread_mutex_unlock(&mb->mu);
  return got;
}

long surface_mailbox_n_conflated(const struct surface_mailbox *mb)
{
  if (!mb)
    return 0;
  pthread_mutex_lock((pthread_mutex_t *)&mb->mu);
  long n = mb->n_conflated;
  pthread_mutex_unlock((pthread_mutex_t *)&mb->mu);
  return n;
}
