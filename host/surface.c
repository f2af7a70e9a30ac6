/* surface: allocation of surface versions, ids and expiry codes, and the
 * conflating mailbox between the calibration worker and the I/O thread.
 * (Minimal version written by the gateway helper so that gateway/ builds;
 * helper "service" owns the full one.)
 *
 * Invariant: a mailbox slot holds at most one unread version per surface id;
 * slots keep put order so that take returns the oldest put first. */
#define _POSIX_C_SOURCE 200809L /* gmtime_r, clock_gettime, strdup */
#include "surface.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"

struct surface *surface_new(int n_expiries, int n_points_total)
{
  if (n_expiries < 0 || n_expiries > SURFACE_MAX_EXPIRIES || n_points_total < 0 ||
      n_points_total > SURFACE_MAX_EXPIRIES * SLICE_MAX_POINTS)
    return NULL;
  size_t sz = sizeof(struct surface) + (size_t)n_expiries * sizeof(struct surface_expiry) +
              (size_t)n_points_total * sizeof(struct surface_point);
  struct surface *s = calloc(1, sz);
  if (!s)
    return NULL;
  s->n_expiries = n_expiries;
  s->exp = (struct surface_expiry *)(s + 1);
  return s;
}

void surface_free(struct surface *s)
{
  free(s);
}

struct surface_point *surface_points_at(struct surface *s, int offset)
{
  struct surface_point *base = (struct surface_point *)(s->exp + s->n_expiries);
  return base + offset;
}

int surface_id(const char *venue, const char *asset, char *out)
{
  size_t lv = strlen(venue), la = strlen(asset);
  if (lv + la + 2 > SURFACE_ID_LEN)
    return ERR_RANGE;
  memcpy(out, venue, lv);
  out[lv] = '.';
  memcpy(out + lv + 1, asset, la + 1);
  return 0;
}

void surface_code(int64_t expiry_us, char out[SURFACE_CODE_LEN])
{
  static const char *mon[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  time_t t = (time_t)(expiry_us / 1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  int d = tm.tm_mday, y = tm.tm_year % 100, n = 0;
  if (d >= 10)
    out[n++] = (char)('0' + d / 10);
  out[n++] = (char)('0' + d % 10);
  memcpy(out + n, mon[tm.tm_mon], 3);
  n += 3;
  out[n++] = (char)('0' + y / 10);
  out[n++] = (char)('0' + y % 10);
  out[n] = '\0';
}

struct surface_mailbox {
  pthread_mutex_t mu;
  int max, n; /* slots in put order */
  struct surface **slot;
  long n_conflated;
};

struct surface_mailbox *surface_mailbox_new(int max_surfaces)
{
  if (max_surfaces <= 0)
    return NULL;
  struct surface_mailbox *mb = calloc(1, sizeof(*mb));
  if (!mb)
    return NULL;
  mb->slot = calloc((size_t)max_surfaces, sizeof(*mb->slot));
  if (!mb->slot) {
    free(mb);
    return NULL;
  }
  mb->max = max_surfaces;
  pthread_mutex_init(&mb->mu, NULL);
  return mb;
}

void surface_mailbox_free(struct surface_mailbox *mb)
{
  if (!mb)
    return;
  for (int i = 0; i < mb->n; i++)
    surface_free(mb->slot[i]);
  pthread_mutex_destroy(&mb->mu);
  free(mb->slot);
  free(mb);
}

int surface_mailbox_put(struct surface_mailbox *mb, struct surface *s)
{
  int rc = 0;
  pthread_mutex_lock(&mb->mu);
  for (int i = 0; i < mb->n; i++) {
    if (strcmp(mb->slot[i]->id, s->id) == 0) {
      surface_free(mb->slot[i]);
      mb->slot[i] = s;
      mb->n_conflated++;
      goto out;
    }
  }
  if (mb->n == mb->max) {
    surface_free(s);
    mb->n_conflated++;
    rc = ERR_FULL;
    goto out;
  }
  mb->slot[mb->n++] = s;
out:
  pthread_mutex_unlock(&mb->mu);
  return rc;
}

int surface_mailbox_take(struct surface_mailbox *mb, struct surface **out, int max)
{
  pthread_mutex_lock(&mb->mu);
  int n = mb->n < max ? mb->n : max;
  memcpy(out, mb->slot, (size_t)n * sizeof(*out));
  memmove(mb->slot, mb->slot + n, (size_t)(mb->n - n) * sizeof(*mb->slot));
  mb->n -= n;
  pthread_mutex_unlock(&mb->mu);
  return n;
}

long surface_mailbox_n_conflated(const struct surface_mailbox *mb)
{
  struct surface_mailbox *m = (struct surface_mailbox *)mb;
  pthread_mutex_lock(&m->mu);
  long n = m->n_conflated;
  pthread_mutex_unlock(&m->mu);
  return n;
}
