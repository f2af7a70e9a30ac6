/* replay: recording -> qqueue -> calib on the recorded clock (see replay.h).
 *
 * Clock: 'now' is the boundary the pipeline is ticking at.  Quote i is
 * pushed after every boundary <= its receive time has ticked, so a tick at
 * boundary B sees exactly the quotes received before B, as the live worker
 * would have (up to its scheduling jitter, which replay removes).  Gaps in
 * the recording tick through every boundary too: staleness then turns on at
 * the same recorded instant as it would have live. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include "now.h"
#include "replay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "err.h"
#include "log.h"

void replay_config_default(struct replay_config *c)
{
  memset(c, 0, sizeof(*c));
  c->format = CHAIN_FORMAT_AUTO;
  c->speed = 1.0;
  c->queue_cap = 1 << 20;
  calib_config_default(&c->calib);
}

struct replay {
  int64_t now; /* the recorded clock: the boundary being ticked */
  struct calib *cb;
  struct surface_mailbox *mb;
  void (*on_surface)(void *ctx, struct surface *s);
  void *ctx;
  struct replay_stats *st;
  double speed;
  int64_t wall0_us, rec0_us; /* pacing origin */
};

static int64_t rec_clock(void *ctx)
{
  return ((const struct replay *)ctx)->now;
}

/* Waits until recorded time t is due at the replay speed. */
static void pace(struct replay *r, int64_t t)
{
  if (r->speed <= 0.0)
    return;
  int64_t due = r->wall0_us + (int64_t)((double)(t - r->rec0_us) / r->speed);
  int64_t wait = due - now_mono_us();
  if (wait > 0) {
    struct timespec ts = {.tv_sec = (time_t)(wait / 1000000),
                          .tv_nsec = (long)(wait % 1000000) * 1000};
    nanosleep(&ts, NULL);
  }
}

static void tick(struct replay *r, int64_t boundary)
{
  pace(r, boundary);
  r->now = boundary;
  calib_tick(r->cb);
  r->st->n_ticks++;
  struct surface *s[64];
  int n;
  while ((n = surface_mailbox_take(r->mb, s, 64)) > 0) {
    for (int i = 0; i < n; i++) {
      r->st->n_published++;
      if (r->on_surface)
        r->on_surface(r->ctx, s[i]);
      else
        surface_free(s[i]);
    }
  }
}

int replay_run(const struct replay_config *c, void (*on_surface)(void *ctx, struct surface *s),
               void *ctx, struct replay_stats *st_out, char *err, size_t errlen)
{
  struct replay_stats st_local;
  struct replay_stats *st = st_out ? st_out : &st_local;
  memset(st, 0, sizeof(*st));
  struct replay r = {.on_surface = on_surface, .ctx = ctx, .st = st, .speed = c->speed};
  struct chain_reader *rd = NULL;
  struct qqueue *qq = NULL;
  int rc = chain_open(c->path, c->format, &rd, err, errlen);
  if (rc < 0)
    return rc;
  rc = ERR_NOMEM;
  qq = qq_new(c->queue_cap > 0 ? c->queue_cap : 1 << 20);
  r.mb = surface_mailbox_new(4096);
  if (!qq || !r.mb)
    goto done;
  struct calib_config cc = c->calib;
  cc.now_us = rec_clock;
  cc.now_ctx = &r;
  rc = calib_new(&cc, qq, r.mb, NULL, NULL, NULL, &r.cb, err, errlen);
  if (rc < 0)
    goto done;
  const int64_t cad = cc.cadence_us;
  int64_t next = 0; /* next boundary to tick; 0 before the first quote */
  uint64_t trace = 0;
  struct quote q;
  for (;;) {
    int got = chain_next(rd, &q);
    if (got < 0) {
      snprintf(err, errlen, "read error in %s", c->path);
      rc = ERR_IO;
      goto done;
    }
    if (got == 0)
      break;
    int64_t t = q.local_ts_us > 0 ? q.local_ts_us : q.ts_us;
    if (next == 0) {
      /* Boundaries are multiples of the cadence in recorded time. */
      next = t - (t % cad + cad) % cad + cad;
      r.wall0_us = now_mono_us();
      r.rec0_us = t;
      st->first_us = t;
      trace = (uint64_t)(next / cad);
    }
    /* A recording is in receive order; a row from the past (clock step on
     * the recorder) joins the current interval rather than rewinding. */
    while (t >= next) {
      tick(&r, next);
      next += cad;
      trace = (uint64_t)(next / cad);
    }
    if (t > st->last_us)
      st->last_us = t;
    /* Trace id: the cadence interval the quote arrived in, so a surface's
     * trace names the batch of the recording it came from. */
    if (qq_push_quotes(qq, &q, 1, trace) == 0)
      st->n_dropped++;
  }
  if (next != 0)
    tick(&r, next);
  rc = 0;
done:
  if (rd)
    st->chain = *chain_get_stats(rd);
  chain_close(rd);
  calib_free(r.cb);
  surface_mailbox_free(r.mb);
  qq_free(qq);
  return rc;
}

static void num(FILE *f, const char *key, double x, int digits)
{
  fprintf(f, ",\"%s\":", key);
  cli_json_number(f, x, digits);
}

static void write_derived(FILE *f, const struct derived *d)
{
  num(f, "atm_vol", d->atm_vol, 10);
  num(f, "rr25", d->rr25, 10);
  num(f, "fly25", d->fly25, 10);
  num(f, "rr10", d->rr10, 10);
  num(f, "fly10", d->fly10, 10);
}

void replay_write_surface(FILE *f, const struct surface *s)
{
  char t[40];
  cli_format_time(s->as_of_us, t, sizeof(t));
  fprintf(f, "{\"surface\":");
  cli_json_string(f, s->id);
  fprintf(f, ",\"version\":%llu,\"as_of\":\"%s\",\"stale\":%s,\"trace\":\"%s\"",
          (unsigned long long)s->version, t, s->stale ? "true" : "false", s->trace_id);
  num(f, "index_price", s->index_price, 12);
  fprintf(f, ",\"delta_convention\":\"%s\",\"expiries\":[", derived_delta_conv_name(s->delta_conv));
  for (int i = 0; i < s->n_expiries; i++) {
    const struct surface_expiry *e = &s->exp[i];
    fprintf(f, "%s{\"code\":\"%s\"", i ? "," : "", e->code);
    num(f, "T_years", e->T_years, 12);
    num(f, "forward", e->forward, 12);
    fprintf(f, ",\"has_fit\":%d,\"usable\":%d,\"stale\":%d,\"status\":%u,\"iterations\":%d",
            e->has_fit, e->usable, e->stale, e->fit.status, e->fit.n_iter);
    if (e->has_fit) {
      fprintf(f, ",\"svi\":{\"a\":%.12g,\"b\":%.12g,\"rho\":%.12g,\"m\":%.12g,\"sigma\":%.12g}",
              e->p.a, e->p.b, e->p.rho, e->p.m, e->p.sigma);
      write_derived(f, &e->dv);
    }
    num(f, "rmse_vol", e->diag.rmse_vol, 8);
    fprintf(f, ",\"n_points\":%d}", e->n_points);
  }
  fprintf(f, "],\"nodes\":[");
  for (int i = 0; i < DERIVED_N_NODES; i++) {
    const struct derived_node *nd = &s->nodes[i];
    fprintf(f, "%s{\"tenor\":\"%s\",\"valid\":%d", i ? "," : "", derived_node_name(i), nd->valid);
    if (nd->valid)
      write_derived(f, &nd->d);
    fprintf(f, "}");
  }
  fprintf(f, "]}\n");
}
