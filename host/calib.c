/* calib: the calibration worker (see calib.h).  One step (calib_poll, or
 * calib_tick with every surface due):
 *
 *   1. drain the quote queue into the book; each quote marks its (venue,
 *      asset, expiry) group dirty, its surface pending (oldest and newest
 *      new quote) and its venue alive; link events set the venue up/down;
 *   2. every cadence: drop expired instruments and groups (their metric
 *      series too) and refresh the gauges;
 *   3. staleness: venue (down, or silent past venue_stale_us) and expiry
 *      (newest quote older than quote_stale_us); a change marks the surface;
 *   4. which surfaces are due (calib.h "Schedule"; a surface marked without
 *      new quotes is due at once);
 *   5. slice the due surfaces' dirty groups (book_slices_if), fit them in one fitter_run
 *      batch warm-started from each group's last good fit, diag_slice,
 *      derived_slice; a fit that fails diag_usable keeps the last good
 *      parameters and reads usable 0;
 *   6. for every marked, due surface: calendar checks along its expiries,
 *      constant-maturity nodes, one new immutable struct surface version,
 *      surface_mailbox_put; then one on_publish if any went out.
 *
 * State lives here and only here (one owner thread).  Groups are found by
 * an open-addressing hash of (venue, asset, expiry); removals (expiry roll
 * off) rebuild it.  Buffers grow to the largest batch seen and are reused. */
#define _POSIX_C_SOURCE 200809L /* pthread_cond_timedwait deadline (clock_gettime) */
#include "calib.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "book.h"
#include "derived.h"
#include "diag.h"
#include "err.h"
#include "log.h"
#include "now.h"

#define CALIB_MAX_GROUPS 8192
#define CALIB_MAX_SURFACES 512
#define CALIB_MAX_VENUES 16
#define CALIB_DRAIN_CHUNK 512
#define CALIB_DRAIN_MAX (1 << 20) /* items per tick: a producer cannot starve the fits */
#define CALIB_MIN_SLEEP_US 200

struct cgroup {
  char venue[QUOTE_VENUE_LEN];
  char asset[QUOTE_ASSET_LEN];
  int64_t expiry_us;
  char code[SURFACE_CODE_LEN];
  char labels[METRICS_LABELS_LEN]; /* venue=..,asset=..,expiry=.. */
  int surf;                        /* index into calib.surf */
  int dirty;                       /* quotes changed since the last fit */
  int picked;                      /* chosen by book_slices_if this tick */
  int stale;                       /* as last published */
  int64_t newest_us;               /* newest quote receive time */
  uint64_t trace_id;
  /* The latest slice. */
  int has_slice;
  double T_years, forward;
  int forward_src;
  struct slice_rejects rej;
  int n_points;
  struct surface_point *points; /* max_points_per_expiry */
  int64_t points_us;            /* when points were last refreshed (0: never) */
  /* The latest fit and the last good one. */
  int has_result, has_fit, usable;
  struct svi p;
  struct svi_lm_result fit;
  struct diag diag;
  struct derived dv;
  int64_t fit_ts_us;
};

struct csurf {
  char venue[QUOTE_VENUE_LEN];
  char asset[QUOTE_ASSET_LEN];
  char id[SURFACE_ID_LEN];
  uint64_t version;
  int dirty;
  int stale; /* as last published */
  int n_groups;
  uint64_t trace_id;
  double index_price;
  int64_t oldest_us; /* oldest quote receive time since the last publish, 0: none */
  int64_t newest_us; /* newest quote receive time since the last publish, 0: none */
  int64_t pub_us;    /* when the last version was published (0: never) */
  int due;           /* this step fits and publishes it */
};

struct cvenue {
  char venue[QUOTE_VENUE_LEN];
  int down;
  int stale;
  int64_t last_us;       /* newest quote or link event */
  int64_t last_quote_us; /* newest quote */
};

struct calib {
  struct calib_config c;
  struct svi_lm_config lm;
  struct diag_config dc;
  struct qqueue *in;
  struct surface_mailbox *out;
  struct metrics *m;
  calib_publish_fn on_publish;
  void *publish_ctx;
  struct book *book;
  struct fitter *fitter;

  struct qq_item *items; /* CALIB_DRAIN_CHUNK */
  long dropped_seen;

  int n_groups;
  struct cgroup *g; /* CALIB_MAX_GROUPS */
  unsigned hmask;
  int *htab; /* -1 empty, else group index */
  int n_surf;
  struct csurf *surf;
  int n_venues;
  struct cvenue venue[CALIB_MAX_VENUES];
  long n_refused_groups;

  /* Batch buffers (grow only). */
  int cap_slices;
  struct slice *slices;
  int *slice_group;
  int64_t *offset;
  double *T;
  struct svi *warm;
  unsigned char *has_warm;
  struct svi_lm_result *res;
  int64_t cap_points;
  double *k, *w, *wt;
  /* Calendar scratch: one surface's expiries.  Only expiry_us of cal_s is
   * written (diag_calendar_chain reads nothing else), so most of this
   * calloc stays untouched virtual memory. */
  struct slice *cal_s;
  struct svi_lm_result cal_f[SURFACE_MAX_EXPIRIES];
  struct diag cal_d[SURFACE_MAX_EXPIRIES];
  int order[SURFACE_MAX_EXPIRIES];

  /* Worker. */
  pthread_t thread;
  int running;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  _Atomic int stop;
  _Atomic int64_t last_tick_us;
  int64_t next_check_us; /* next roll-off check and gauge refresh */
  int64_t prev_now_us;   /* the previous step's clock (a step back is noticed) */
  int64_t tick_wall_us;  /* this tick's start on the wall clock; 0 on another clock */
};

static int64_t wall_now(void *ctx)
{
  (void)ctx;
  return now_wall_us();
}

void calib_config_default(struct calib_config *c)
{
  memset(c, 0, sizeof(*c));
  c->cadence_us = 100000;
  c->quiet_us = 3000;
  c->min_gap_us = 20000;
  c->venue_stale_us = 5000000;
  c->quote_stale_us = 60000000;
  c->backend = FIT_BACKEND_AUTO;
  c->n_threads = 1;
  c->max_instruments = 200000;
  c->delta_conv = DERIVED_DELTA_FORWARD;
  c->max_points_per_expiry = 256;
  c->points_every_us = 1000000;
  slice_config_default(&c->slice);
  /* Live quotes have a "now": a quote silent for as long as an expiry may
   * be before it reads stale is too old to fit. */
  c->slice.stale_us = c->quote_stale_us;
}

/* ---- groups, surfaces, venues ---------------------------------------- */

static unsigned group_hash(const char *venue, const char *asset, int64_t expiry_us)
{
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)venue; *p; p++)
    h = (h ^ *p) * 16777619u;
  h = (h ^ 0xffu) * 16777619u;
  for (const unsigned char *p = (const unsigned char *)asset; *p; p++)
    h = (h ^ *p) * 16777619u;
  uint64_t e = (uint64_t)expiry_us;
  for (int i = 0; i < 8; i++, e >>= 8)
    h = (h ^ (e & 0xffu)) * 16777619u;
  return h;
}

static int group_is(const struct cgroup *g, const char *venue, const char *asset, int64_t e)
{
  return g->expiry_us == e && strcmp(g->asset, asset) == 0 && strcmp(g->venue, venue) == 0;
}

/* Hash slot of the group, or the empty slot where it would go. */
static unsigned group_probe(const struct calib *cb, const char *venue, const char *asset, int64_t e)
{
  unsigned i = group_hash(venue, asset, e) & cb->hmask;
  while (cb->htab[i] >= 0 && !group_is(&cb->g[cb->htab[i]], venue, asset, e))
    i = (i + 1) & cb->hmask;
  return i;
}

static void group_rehash(struct calib *cb)
{
  for (unsigned i = 0; i <= cb->hmask; i++)
    cb->htab[i] = -1;
  for (int j = 0; j < cb->n_groups; j++)
    cb->htab[group_probe(cb, cb->g[j].venue, cb->g[j].asset, cb->g[j].expiry_us)] = j;
}

static int surf_find(struct calib *cb, const char *venue, const char *asset)
{
  for (int i = 0; i < cb->n_surf; i++)
    if (strcmp(cb->surf[i].asset, asset) == 0 && strcmp(cb->surf[i].venue, venue) == 0)
      return i;
  if (cb->n_surf == CALIB_MAX_SURFACES)
    return ERR_FULL;
  struct csurf *s = &cb->surf[cb->n_surf];
  memset(s, 0, sizeof(*s));
  if (surface_id(venue, asset, s->id) < 0)
    return ERR_RANGE;
  snprintf(s->venue, sizeof(s->venue), "%s", venue);
  snprintf(s->asset, sizeof(s->asset), "%s", asset);
  s->index_price = NAN;
  return cb->n_surf++;
}

static struct cvenue *venue_get(struct calib *cb, const char *venue, int64_t now)
{
  for (int i = 0; i < cb->n_venues; i++)
    if (strcmp(cb->venue[i].venue, venue) == 0)
      return &cb->venue[i];
  if (cb->n_venues == CALIB_MAX_VENUES || !venue[0])
    return NULL;
  struct cvenue *v = &cb->venue[cb->n_venues++];
  memset(v, 0, sizeof(*v));
  snprintf(v->venue, sizeof(v->venue), "%s", venue);
  v->last_us = now;
  return v;
}

/* The group of q, created when new; NULL (counted) when a cap is hit. */
static struct cgroup *group_get(struct calib *cb, const struct quote *q)
{
  unsigned slot = group_probe(cb, q->venue, q->asset, q->expiry_us);
  if (cb->htab[slot] >= 0)
    return &cb->g[cb->htab[slot]];
  int si = cb->n_groups < CALIB_MAX_GROUPS ? surf_find(cb, q->venue, q->asset) : ERR_FULL;
  if (si < 0 || cb->surf[si].n_groups >= SURFACE_MAX_EXPIRIES) {
    cb->n_refused_groups++;
    return NULL;
  }
  struct cgroup *g = &cb->g[cb->n_groups];
  struct surface_point *pts = g->points; /* kept from a removed group */
  memset(g, 0, sizeof(*g));
  g->points = pts;
  if (!g->points) {
    g->points = malloc((size_t)cb->c.max_points_per_expiry * sizeof(*g->points));
    if (!g->points) {
      cb->n_refused_groups++;
      return NULL;
    }
  }
  snprintf(g->venue, sizeof(g->venue), "%s", q->venue);
  snprintf(g->asset, sizeof(g->asset), "%s", q->asset);
  g->expiry_us = q->expiry_us;
  surface_code(q->expiry_us, g->code);
  snprintf(g->labels, sizeof(g->labels), "venue=\"%s\",asset=\"%s\",expiry=\"%s\"", g->venue,
           g->asset, g->code);
  g->surf = si;
  cb->surf[si].n_groups++;
  cb->htab[slot] = cb->n_groups++;
  return g;
}

/* ---- lifecycle ------------------------------------------------------- */

int calib_new(const struct calib_config *c, struct qqueue *in, struct surface_mailbox *out,
              struct metrics *metrics, calib_publish_fn on_publish, void *publish_ctx,
              struct calib **out_calib, char *err, size_t errlen)
{
  int rc = ERR_NOMEM;
  if (err && errlen)
    err[0] = '\0';
  *out_calib = NULL;
  if (!c || !in || !out || c->cadence_us <= 0 || c->quiet_us < 0 || c->quiet_us > c->cadence_us ||
      c->min_gap_us < 0 || c->min_gap_us > c->cadence_us || c->max_points_per_expiry < 1 ||
      c->max_instruments < 1) {
    if (err)
      snprintf(err, errlen, "bad calibration config");
    return ERR_INPUT;
  }
  struct calib *cb = calloc(1, sizeof(*cb));
  if (!cb)
    goto fail;
  cb->c = *c;
  if (!cb->c.now_us)
    cb->c.now_us = wall_now;
  fit_config_default(&cb->lm);
  diag_config_default(&cb->dc);
  cb->in = in;
  cb->out = out;
  cb->m = metrics;
  cb->on_publish = on_publish;
  cb->publish_ctx = publish_ctx;
  pthread_mutex_init(&cb->mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&cb->cv, &ca);
  pthread_condattr_destroy(&ca);
  cb->book = book_new(c->max_instruments);
  cb->items = malloc(CALIB_DRAIN_CHUNK * sizeof(*cb->items));
  cb->g = calloc(CALIB_MAX_GROUPS, sizeof(*cb->g));
  cb->hmask = 2 * CALIB_MAX_GROUPS - 1;
  cb->htab = malloc(2 * CALIB_MAX_GROUPS * sizeof(*cb->htab));
  cb->surf = calloc(CALIB_MAX_SURFACES, sizeof(*cb->surf));
  cb->cal_s = calloc(SURFACE_MAX_EXPIRIES, sizeof(*cb->cal_s));
  if (!cb->book || !cb->items || !cb->g || !cb->htab || !cb->surf || !cb->cal_s)
    goto fail;
  group_rehash(cb);
  rc = fitter_new(c->backend, c->n_threads, &cb->fitter, err, errlen);
  if (rc < 0)
    goto fail;
  *out_calib = cb;
  return 0;
fail:
  if (err && errlen && !err[0])
    snprintf(err, errlen, "%s", err_str(rc));
  calib_free(cb);
  return rc;
}

static void free_batch(struct calib *cb)
{
  free(cb->slices);
  free(cb->slice_group);
  free(cb->offset);
  free(cb->T);
  free(cb->warm);
  free(cb->has_warm);
  free(cb->res);
  free(cb->k);
  free(cb->w);
  free(cb->wt);
}

void calib_free(struct calib *cb)
{
  if (!cb)
    return;
  calib_stop(cb);
  if (cb->g)
    for (int i = 0; i < CALIB_MAX_GROUPS; i++)
      free(cb->g[i].points);
  free(cb->g);
  free(cb->htab);
  free(cb->surf);
  free(cb->cal_s);
  free(cb->items);
  free_batch(cb);
  book_free(cb->book);
  fitter_free(cb->fitter);
  pthread_mutex_destroy(&cb->mu);
  pthread_cond_destroy(&cb->cv);
  free(cb);
}

/* ---- one tick -------------------------------------------------------- */

static void drain(struct calib *cb, int64_t now)
{
  long taken = 0;
  while (taken < CALIB_DRAIN_MAX) {
    int n = qq_pop(cb->in, cb->items, CALIB_DRAIN_CHUNK, 0);
    if (n <= 0)
      break;
    taken += n;
    for (int i = 0; i < n; i++) {
      const struct qq_item *it = &cb->items[i];
      const struct quote *q = &it->q;
      int64_t t = q->local_ts_us > 0 ? q->local_ts_us : q->ts_us > 0 ? q->ts_us : now;
      /* A stamp from the future (a venue clock, no receive time) would hold
       * its surface's schedule back until the clock reached it. */
      if (t > now)
        t = now;
      struct cvenue *v = venue_get(cb, q->venue, t);
      if (v && t > v->last_us)
        v->last_us = t;
      if (it->kind == QQ_LINK_DOWN) {
        if (v)
          v->down = 1;
        continue;
      }
      if (it->kind == QQ_LINK_UP && v)
        v->down = 0;
      if (it->kind != QQ_QUOTE)
        continue;
      /* A quote proves the link is up even if its LINK_UP was dropped. */
      if (v) {
        v->down = 0;
        if (t > v->last_quote_us)
          v->last_quote_us = t;
      }
      if (q->expiry_us <= now || book_put(cb->book, q) < 0)
        continue;
      struct cgroup *g = group_get(cb, q);
      if (!g)
        continue;
      g->dirty = 1;
      if (t > g->newest_us)
        g->newest_us = t;
      struct csurf *cs = &cb->surf[g->surf];
      if (cs->oldest_us == 0 || t < cs->oldest_us)
        cs->oldest_us = t;
      if (t > cs->newest_us)
        cs->newest_us = t;
      if (it->trace_id) {
        g->trace_id = it->trace_id;
        cb->surf[g->surf].trace_id = it->trace_id;
      }
    }
  }
}

/* Removes the groups whose expiry passed. */
static void expire(struct calib *cb, int64_t now)
{
  book_expire(cb->book, now);
  int kept = 0;
  for (int i = 0; i < cb->n_groups; i++) {
    struct cgroup *g = &cb->g[i];
    if (g->expiry_us > now) {
      if (kept != i) {
        /* Swap so that the removed group's points buffer is reused. */
        struct cgroup tmp = cb->g[kept];
        cb->g[kept] = *g;
        *g = tmp;
      }
      kept++;
      continue;
    }
    metrics_remove(cb->m, "volsurf_fit_rmse_vol_pts", g->labels);
    cb->surf[g->surf].n_groups--;
    cb->surf[g->surf].dirty = 1;
    log_msg(LOG_INFO, 0, "expiry rolled off: %s.%s %s", g->venue, g->asset, g->code);
  }
  if (kept != cb->n_groups) {
    cb->n_groups = kept;
    group_rehash(cb);
  }
}

static int venue_stale(const struct calib *cb, const char *venue)
{
  for (int i = 0; i < cb->n_venues; i++)
    if (strcmp(cb->venue[i].venue, venue) == 0)
      return cb->venue[i].stale;
  return 1;
}

static void update_staleness(struct calib *cb, int64_t now)
{
  for (int i = 0; i < cb->n_venues; i++) {
    struct cvenue *v = &cb->venue[i];
    int was = v->stale;
    v->stale = v->down || now - v->last_us > cb->c.venue_stale_us;
    if (v->stale != was)
      log_msg(v->stale ? LOG_WARN : LOG_INFO, 0, "venue %s %s", v->venue,
              v->stale ? (v->down ? "down: surfaces stale" : "silent: surfaces stale") : "live");
  }
  for (int i = 0; i < cb->n_surf; i++)
    if (venue_stale(cb, cb->surf[i].venue) != cb->surf[i].stale)
      cb->surf[i].dirty = 1;
  for (int i = 0; i < cb->n_groups; i++) {
    struct cgroup *g = &cb->g[i];
    int st = venue_stale(cb, g->venue) || now - g->newest_us > cb->c.quote_stale_us;
    if (st != g->stale)
      cb->surf[g->surf].dirty = 1;
  }
}

static int want_dirty(void *ctx, const struct quote *first)
{
  struct calib *cb = ctx;
  unsigned slot = group_probe(cb, first->venue, first->asset, first->expiry_us);
  if (cb->htab[slot] < 0)
    return 0;
  struct cgroup *g = &cb->g[cb->htab[slot]];
  if (!g->dirty || !cb->surf[g->surf].due)
    return 0;
  g->picked = 1;
  return 1;
}

static int grow_batch(struct calib *cb, int n_slices)
{
  if (n_slices <= cb->cap_slices)
    return 0;
  int cap = cb->cap_slices ? cb->cap_slices : 16;
  while (cap < n_slices)
    cap *= 2;
  free_batch(cb);
  cb->cap_slices = 0;
  cb->cap_points = (int64_t)cap * SLICE_MAX_POINTS;
  cb->slices = malloc((size_t)cap * sizeof(*cb->slices));
  cb->slice_group = malloc((size_t)cap * sizeof(*cb->slice_group));
  cb->offset = malloc((size_t)(cap + 1) * sizeof(*cb->offset));
  cb->T = malloc((size_t)cap * sizeof(*cb->T));
  cb->warm = malloc((size_t)cap * sizeof(*cb->warm));
  cb->has_warm = malloc((size_t)cap * sizeof(*cb->has_warm));
  cb->res = malloc((size_t)cap * sizeof(*cb->res));
  cb->k = malloc((size_t)cb->cap_points * sizeof(double));
  cb->w = malloc((size_t)cb->cap_points * sizeof(double));
  cb->wt = malloc((size_t)cb->cap_points * sizeof(double));
  if (!cb->slices || !cb->slice_group || !cb->offset || !cb->T || !cb->warm || !cb->has_warm ||
      !cb->res || !cb->k || !cb->w || !cb->wt) {
    free_batch(cb);
    cb->slices = NULL;
    cb->slice_group = NULL;
    cb->offset = NULL;
    cb->T = NULL;
    cb->warm = NULL;
    cb->has_warm = NULL;
    cb->res = NULL;
    cb->k = cb->w = cb->wt = NULL;
    return ERR_NOMEM;
  }
  cb->cap_slices = cap;
  return 0;
}

/* Index into a slice of n points of sent point j when at most max are sent:
 * evenly thinned when the slice has more. */
static int point_index(int n, int max, int j)
{
  return n <= max ? j : (int)((int64_t)j * (n - 1) / (max - 1 > 0 ? max - 1 : 1));
}

/* Copies the latest slice's view (forward, points) into its group.  The
 * points are refreshed at most every points_every_us (and at once when the
 * strikes change): they are most of a patch's bytes, and quoted IVs that
 * the eye reads once a second need not cost ten patches' worth. */
static void keep_slice(struct calib *cb, struct cgroup *g, const struct slice *s, int64_t now)
{
  g->has_slice = 1;
  g->T_years = s->T_years;
  g->forward = s->forward;
  g->forward_src = s->forward_src;
  g->rej = s->rej;
  if (isfinite(s->index_price))
    cb->surf[g->surf].index_price = s->index_price;
  int max = cb->c.max_points_per_expiry;
  int n = s->n < max ? s->n : max;
  if (g->points_us != 0 && now >= g->points_us && now - g->points_us < cb->c.points_every_us &&
      n == g->n_points) {
    int same = 1;
    for (int j = 0; j < n && same; j++)
      same = g->points[j].strike == s->strike[point_index(s->n, max, j)];
    if (same)
      return;
  }
  g->points_us = now;
  for (int j = 0; j < n; j++) {
    int i = point_index(s->n, max, j);
    struct surface_point *p = &g->points[j];
    p->strike = s->strike[i];
    p->k = s->k[i];
    p->iv_bid = s->iv_bid[i];
    p->iv_ask = s->iv_ask[i];
    p->iv_mark = s->iv_mark[i];
  }
  g->n_points = n;
}

static int group_index(struct calib *cb, const struct slice *s)
{
  unsigned slot = group_probe(cb, s->venue, s->asset, s->expiry_us);
  return cb->htab[slot];
}

/* Slices and fits the due surfaces' dirty groups.  Returns the number
 * fitted or < 0. */
static int fit_dirty(struct calib *cb, int64_t now)
{
  int n_dirty = 0;
  for (int i = 0; i < cb->n_groups; i++) {
    cb->g[i].picked = 0;
    n_dirty += cb->g[i].dirty && cb->surf[cb->g[i].surf].due;
  }
  if (n_dirty == 0)
    return 0;
  int rc = grow_batch(cb, n_dirty);
  if (rc < 0)
    return rc;
  int n_failed = 0;
  int n = book_slices_if(cb->book, now, &cb->c.slice, want_dirty, cb, cb->slices, cb->cap_slices,
                         &n_failed);
  if (n < 0)
    return n;
  for (int i = 0; i < cb->n_groups; i++) {
    struct cgroup *g = &cb->g[i];
    if (!cb->surf[g->surf].due)
      continue;
    if (g->picked || g->dirty)
      cb->surf[g->surf].dirty = 1;
    g->dirty = 0;
  }
  if (n_failed)
    log_msg(LOG_DEBUG, 0, "%d dirty groups without a slice (no forward)", n_failed);
  if (n == 0)
    return 0;

  /* Structure-of-arrays batch; warm start from each group's last good fit. */
  int64_t off = 0;
  for (int i = 0; i < n; i++) {
    const struct slice *s = &cb->slices[i];
    int gi = group_index(cb, s);
    cb->slice_group[i] = gi;
    const struct cgroup *g = gi >= 0 ? &cb->g[gi] : NULL;
    cb->offset[i] = off;
    memcpy(cb->k + off, s->k, (size_t)s->n * sizeof(double));
    memcpy(cb->w + off, s->w, (size_t)s->n * sizeof(double));
    memcpy(cb->wt + off, s->weight, (size_t)s->n * sizeof(double));
    off += s->n;
    cb->T[i] = s->T_years;
    cb->has_warm[i] = g && g->has_fit;
    if (g && g->has_fit)
      cb->warm[i] = g->p;
  }
  cb->offset[n] = off;
  struct svi_lm_batch b = {.n_slices = n,
                           .offset = cb->offset,
                           .k = cb->k,
                           .w = cb->w,
                           .wt = cb->wt,
                           .T_years = cb->T,
                           .warm = cb->warm,
                           .has_warm = cb->has_warm};
  int64_t t0 = now_mono_us();
  rc = fitter_run(cb->fitter, &b, &cb->lm, cb->res);
  double ms = (double)(now_mono_us() - t0) / 1e3;
  if (rc < 0) {
    log_msg(LOG_ERROR, 0, "fit batch of %d slices failed: %s", n, err_str(rc));
    return rc;
  }
  metrics_observe(cb->m, "volsurf_fit_batch_ms", NULL, ms);
  char lb[48];
  snprintf(lb, sizeof(lb), "backend=\"%s\"", fitter_backend_name(cb->fitter));
  metrics_add(cb->m, "volsurf_fit_slices_total", lb, n);

  for (int i = 0; i < n; i++) {
    if (cb->slice_group[i] < 0)
      continue;
    struct cgroup *g = &cb->g[cb->slice_group[i]];
    const struct slice *s = &cb->slices[i];
    struct svi_lm_result *f = &cb->res[i];
    struct diag d;
    diag_slice(s, f, &cb->dc, &d);
    if (s->n_quotes > 0 && s->rej.n_stale == s->n_quotes)
      f->status |= FIT_STALE;
    keep_slice(cb, g, s, now);
    g->has_result = 1;
    g->fit = *f;
    g->diag = d;
    struct derived dv;
    int usable = diag_usable(f) && derived_slice(&f->p, s->T_years, cb->c.delta_conv, &dv) == 0;
    g->usable = usable;
    if (usable) {
      g->has_fit = 1;
      g->p = f->p;
      g->dv = dv;
      g->fit_ts_us = now;
    } else {
      struct log_line l;
      log_begin(&l, LOG_DEBUG, "fit unusable: last good parameters kept", g->trace_id);
      log_str(&l, "venue", g->venue);
      log_str(&l, "asset", g->asset);
      log_str(&l, "expiry", g->code);
      log_int(&l, "status", (long long)f->status);
      log_int(&l, "n_points", s->n);
      log_end(&l);
    }
    if (isfinite(d.rmse_vol))
      metrics_set(cb->m, "volsurf_fit_rmse_vol_pts", g->labels, d.rmse_vol * 100.0);
  }
  return n;
}

/* Sorts the group indices of one surface by expiry (insertion sort: a
 * surface has tens of expiries). */
static int surface_groups(struct calib *cb, int si, int *idx)
{
  int n = 0;
  for (int i = 0; i < cb->n_groups && n < SURFACE_MAX_EXPIRIES; i++)
    if (cb->g[i].surf == si && cb->g[i].has_slice)
      idx[n++] = i;
  for (int i = 1; i < n; i++) {
    int v = idx[i], j = i - 1;
    while (j >= 0 && cb->g[idx[j]].expiry_us > cb->g[v].expiry_us) {
      idx[j + 1] = idx[j];
      j--;
    }
    idx[j + 1] = v;
  }
  return n;
}

/* Calendar checks along the surface's latest fits; updates the groups. */
static void calendar(struct calib *cb, const int *idx, int n)
{
  for (int i = 0; i < n; i++) {
    struct cgroup *g = &cb->g[idx[i]];
    cb->cal_s[i].expiry_us = g->expiry_us;
    if (g->has_result) {
      g->fit.status &= ~(unsigned)FIT_CALENDAR;
      g->diag.calendar_prev = g->diag.calendar_next = 0;
      g->diag.cal_prev_lo = g->diag.cal_prev_hi = NAN;
      g->diag.cal_next_lo = g->diag.cal_next_hi = NAN;
      cb->cal_f[i] = g->fit;
    } else {
      memset(&cb->cal_f[i], 0, sizeof(cb->cal_f[i]));
      cb->cal_f[i].status = SVI_LM_TOO_FEW; /* skipped by the chain */
    }
    cb->cal_d[i] = g->diag;
  }
  diag_calendar_chain(cb->cal_s, cb->cal_f, cb->cal_d, n, &cb->dc);
  for (int i = 0; i < n; i++) {
    struct cgroup *g = &cb->g[idx[i]];
    if (g->has_result) {
      g->fit.status = cb->cal_f[i].status;
      g->diag = cb->cal_d[i];
    }
  }
}

/* Builds and publishes one new version of surface si.  Returns 1 or 0. */
static int publish(struct calib *cb, int si, int64_t now)
{
  struct csurf *cs = &cb->surf[si];
  int *idx = cb->order;
  int n = surface_groups(cb, si, idx);
  calendar(cb, idx, n);
  int n_points = 0;
  for (int i = 0; i < n; i++)
    n_points += cb->g[idx[i]].n_points;
  struct surface *s = surface_new(n, n_points);
  if (!s) {
    log_msg(LOG_ERROR, cs->trace_id, "out of memory building surface %s", cs->id);
    return 0;
  }
  memcpy(s->id, cs->id, sizeof(s->id));
  memcpy(s->venue, cs->venue, sizeof(s->venue));
  memcpy(s->asset, cs->asset, sizeof(s->asset));
  s->version = ++cs->version;
  s->as_of_us = now;
  s->index_price = cs->index_price;
  s->delta_conv = cb->c.delta_conv;
  s->stale = venue_stale(cb, cs->venue);
  log_trace_hex(cs->trace_id, s->trace_id);
  if (cb->tick_wall_us) {
    s->tick_us = cb->tick_wall_us;
    s->oldest_quote_us = cs->oldest_us;
    s->newest_quote_us = cs->newest_us;
  }
  cs->oldest_us = 0;
  cs->newest_us = 0;
  cs->pub_us = now;
  double T[SURFACE_MAX_EXPIRIES];
  struct svi P[SURFACE_MAX_EXPIRIES];
  int ok[SURFACE_MAX_EXPIRIES];
  int off = 0;
  for (int i = 0; i < n; i++) {
    struct cgroup *g = &cb->g[idx[i]];
    struct surface_expiry *e = &s->exp[i];
    memcpy(e->code, g->code, sizeof(e->code));
    e->expiry_us = g->expiry_us;
    e->T_years = g->T_years;
    e->forward = g->forward;
    e->forward_src = g->forward_src;
    e->has_fit = g->has_fit;
    e->usable = g->has_result && g->usable;
    e->p = g->p;
    e->fit = g->fit;
    e->diag = g->diag;
    e->dv = g->dv;
    e->rej = g->rej;
    e->n_points = g->n_points;
    e->points = g->n_points ? surface_points_at(s, off) : NULL;
    if (g->n_points)
      memcpy(e->points, g->points, (size_t)g->n_points * sizeof(*e->points));
    off += g->n_points;
    e->quote_ts_us = g->newest_us;
    e->fit_ts_us = g->fit_ts_us;
    g->stale = s->stale || now - g->newest_us > cb->c.quote_stale_us;
    e->stale = g->stale;
    if (e->stale)
      e->fit.status |= FIT_STALE;
    T[i] = g->T_years;
    P[i] = g->p;
    ok[i] = g->has_fit;
  }
  derived_nodes(T, P, ok, n, cb->c.delta_conv, s->nodes);
  cs->stale = s->stale;
  cs->dirty = 0;
  struct log_line l;
  log_begin(&l, LOG_DEBUG, "surface published", cs->trace_id);
  log_str(&l, "surface", s->id);
  log_int(&l, "version", (long long)s->version);
  log_int(&l, "expiries", n);
  log_int(&l, "stale", s->stale);
  log_end(&l);
  if (cb->tick_wall_us)
    s->publish_us = now_wall_us();
  if (surface_mailbox_put(cb->out, s) < 0) {
    log_msg(LOG_WARN, cs->trace_id, "mailbox full: surface %s not published", cs->id);
    return 0;
  }
  return 1;
}

static void update_metrics(struct calib *cb, int64_t now, int depth)
{
  if (!cb->m)
    return;
  metrics_set(cb->m, "volsurf_quote_queue_depth", NULL, depth);
  long dropped = qq_n_dropped(cb->in);
  if (dropped > cb->dropped_seen) {
    metrics_add(cb->m, "volsurf_quote_queue_dropped_total", NULL,
                (double)(dropped - cb->dropped_seen));
    cb->dropped_seen = dropped;
  } else {
    metrics_add(cb->m, "volsurf_quote_queue_dropped_total", NULL, 0);
  }
  for (int i = 0; i < cb->n_venues; i++) {
    const struct cvenue *v = &cb->venue[i];
    char lb[64];
    snprintf(lb, sizeof(lb), "venue=\"%s\"", v->venue);
    double age = v->last_quote_us > 0 ? (double)(now - v->last_quote_us) / 1e3 : NAN;
    metrics_set(cb->m, "volsurf_feed_age_ms", lb, age);
  }
}

/* When surface cs is due (calib.h "Schedule"); 0 when it waits for nothing. */
static int64_t due_at(const struct calib *cb, const struct csurf *cs)
{
  if (cs->oldest_us == 0)
    return 0;
  int64_t quiet = cs->newest_us + cb->c.quiet_us, latest = cs->oldest_us + cb->c.cadence_us;
  int64_t t = quiet < latest ? quiet : latest;
  int64_t gap = cs->pub_us ? cs->pub_us + cb->c.min_gap_us : 0;
  return t > gap ? t : gap;
}

/* Marks the surfaces this step handles: all (force), else the due ones and
 * those changed without new quotes (staleness, roll-off). */
static void mark_due(struct calib *cb, int64_t now, int force)
{
  for (int i = 0; i < cb->n_surf; i++) {
    struct csurf *cs = &cb->surf[i];
    cs->due = force || (cs->oldest_us == 0 ? cs->dirty : now >= due_at(cb, cs));
  }
}

/* The clock went back (the wall clock stepped): schedule times ahead of
 * it would hold surfaces back until it caught up, so they become now. */
static void clock_stepped_back(struct calib *cb, int64_t now)
{
  log_msg(LOG_WARN, 0, "clock stepped back %.3f s: schedule reset",
          (double)(cb->prev_now_us - now) / 1e6);
  cb->next_check_us = now;
  for (int i = 0; i < cb->n_surf; i++) {
    struct csurf *cs = &cb->surf[i];
    if (cs->pub_us > now)
      cs->pub_us = now;
    if (cs->oldest_us > now)
      cs->oldest_us = now;
    if (cs->newest_us > now)
      cs->newest_us = now;
  }
}

/* One step: drain, checks, fit and publish what is due.  Returns the
 * number of surfaces published. */
static int step(struct calib *cb, int64_t now, int force)
{
  if (now < cb->prev_now_us)
    clock_stepped_back(cb, now);
  cb->prev_now_us = now;
  cb->tick_wall_us = cb->c.now_us == wall_now ? now : 0;
  int depth = qq_depth(cb->in);
  drain(cb, now);
  int check = force || now >= cb->next_check_us;
  if (check) {
    expire(cb, now);
    cb->next_check_us = now + cb->c.cadence_us;
  }
  update_staleness(cb, now);
  mark_due(cb, now, force);
  fit_dirty(cb, now);
  int published = 0;
  for (int i = 0; i < cb->n_surf; i++)
    if (cb->surf[i].dirty && cb->surf[i].due)
      published += publish(cb, i, now);
  if (published && cb->on_publish)
    cb->on_publish(cb->publish_ctx);
  if (check)
    update_metrics(cb, now, depth);
  atomic_store(&cb->last_tick_us, now_wall_us());
  return published;
}

int calib_tick(struct calib *cb)
{
  return cb ? step(cb, cb->c.now_us(cb->c.now_ctx), 1) : 0;
}

int64_t calib_poll(struct calib *cb, int *n_published, int *idle)
{
  if (!cb)
    return 0;
  int64_t now = cb->c.now_us(cb->c.now_ctx);
  int n = step(cb, now, 0);
  if (n_published)
    *n_published = n;
  int64_t next = cb->next_check_us;
  int waiting = 0;
  for (int i = 0; i < cb->n_surf; i++) {
    int64_t t = due_at(cb, &cb->surf[i]);
    if (t == 0)
      continue;
    waiting = 1;
    if (t < next)
      next = t;
  }
  if (idle)
    *idle = !waiting;
  return next;
}

/* ---- worker ---------------------------------------------------------- */

static void *worker(void *arg)
{
  struct calib *cb = arg;
  while (!atomic_load(&cb->stop)) {
    int idle;
    int64_t next = calib_poll(cb, NULL, &idle);
    /* At least CALIB_MIN_SLEEP_US: a surface that cannot be published (out
     * of memory) stays due, and must not spin the core.  At most a cadence:
     * the staleness checks keep their period whatever the clock does. */
    int64_t wait = next - cb->c.now_us(cb->c.now_ctx);
    if (wait < CALIB_MIN_SLEEP_US)
      wait = CALIB_MIN_SLEEP_US;
    if (wait > cb->c.cadence_us)
      wait = cb->c.cadence_us;
    if (idle) {
      /* Nothing waits: the next push (or the check) starts a step. */
      qq_wait(cb->in, wait);
      continue;
    }
    /* A surface waits for its burst to end: pushes only move that later,
     * so sleep to the deadline (calib_stop ends it). */
    int64_t dl_us = now_mono_us() + wait;
    struct timespec dl = {.tv_sec = (time_t)(dl_us / 1000000),
                          .tv_nsec = (long)(dl_us % 1000000) * 1000};
    pthread_mutex_lock(&cb->mu);
    while (!atomic_load(&cb->stop) && now_mono_us() < dl_us)
      pthread_cond_timedwait(&cb->cv, &cb->mu, &dl);
    pthread_mutex_unlock(&cb->mu);
  }
  return NULL;
}

int calib_start(struct calib *cb)
{
  if (!cb || cb->running)
    return ERR_BADSTATE;
  atomic_store(&cb->stop, 0);
  if (pthread_create(&cb->thread, NULL, worker, cb) != 0)
    return ERR_NOMEM;
  cb->running = 1;
  return 0;
}

void calib_stop(struct calib *cb)
{
  if (!cb || !cb->running)
    return;
  pthread_mutex_lock(&cb->mu);
  atomic_store(&cb->stop, 1);
  pthread_cond_broadcast(&cb->cv);
  pthread_mutex_unlock(&cb->mu);
  qq_wake(cb->in);
  pthread_join(cb->thread, NULL);
  cb->running = 0;
}

int64_t calib_last_tick_us(const struct calib *cb)
{
  return cb ? atomic_load(&((struct calib *)cb)->last_tick_us) : 0;
}
