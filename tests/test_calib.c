/* test_calib: the calibration worker end to end on a seeded synthetic chain
 * (host/synth.h): quotes -> qqueue -> calib_tick -> surface_mailbox.
 * Surfaces appear with sane fits; only changed expiries refit, warm-started;
 * a link going down (or silent) republishes stale surfaces that keep their
 * last good fits; a fit failing its checks keeps the previous good
 * parameters with usable 0; expiries roll off; the same input gives the
 * same output; the worker thread publishes on its own; calib_poll's
 * schedule: a burst is refit once it has been quiet, a stream that never
 * pauses by the cadence, versions keep the minimum gap, and a surface
 * changed without quotes (link down) goes out at once. */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "calib.h"
#include "chain.h"
#include "err.h"
#include "now.h"
#include "synth.h"
#include "testutil.h"

#define AS_OF 1767600000000000LL /* 2026-01-05T08:00:00Z */
#define MS 1000LL
#define SEC 1000000LL
#define DAY_US 86400000000LL

static struct quote *chain_q;
static int n_chain;

/* The synthetic chain at AS_OF, read once through the tardis reader. */
static int load_chain(void)
{
  if (chain_q)
    return 0;
  char path[] = "/tmp/test_calib_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    return -1;
  close(fd);
  if (synth_write_chain(path, 7, AS_OF) <= 0)
    return -1;
  struct chain_reader *r;
  char err[160];
  if (chain_open(path, CHAIN_FORMAT_TARDIS, &r, err, sizeof(err)) < 0)
    return -1;
  int cap = 8192;
  chain_q = malloc((size_t)cap * sizeof(*chain_q));
  while (n_chain < cap && chain_next(r, &chain_q[n_chain]) == 1)
    n_chain++;
  chain_close(r);
  unlink(path);
  return n_chain > 0 ? 0 : -1;
}

/* A test clock for calib_config.now_us. */
static int64_t clock_now;
static int64_t test_now(void *ctx)
{
  (void)ctx;
  return clock_now;
}

struct rig {
  struct qqueue *qq;
  struct surface_mailbox *mb;
  struct metrics *m;
  struct calib *cb;
  int n_published;
};

static void on_publish(void *ctx)
{
  ((struct rig *)ctx)->n_published++;
}

static int rig_open(struct rig *r)
{
  memset(r, 0, sizeof(*r));
  if (load_chain() < 0)
    return -1;
  struct calib_config c;
  calib_config_default(&c);
  c.backend = FIT_BACKEND_CPU;
  c.now_us = test_now;
  r->qq = qq_new(1 << 15);
  r->mb = surface_mailbox_new(16);
  r->m = metrics_new();
  char err[160];
  clock_now = AS_OF;
  return calib_new(&c, r->qq, r->mb, r->m, on_publish, r, &r->cb, err, sizeof(err));
}

static void rig_close(struct rig *r)
{
  calib_free(r->cb);
  surface_mailbox_free(r->mb);
  qq_free(r->qq);
  metrics_free(r->m);
}

/* Pushes the whole chain received at 'at'. */
static void push_chain(struct rig *r, int64_t at, uint64_t trace)
{
  for (int i = 0; i < n_chain; i++) {
    struct quote q = chain_q[i];
    q.local_ts_us = at;
    q.ts_us = at;
    qq_push_quotes(r->qq, &q, 1, trace);
  }
}

/* Takes every published surface; returns how many (caller frees). */
static int take(struct rig *r, struct surface **out, int max)
{
  return surface_mailbox_take(r->mb, out, max);
}

static void free_all(struct surface **s, int n)
{
  for (int i = 0; i < n; i++)
    surface_free(s[i]);
}

static const struct surface *find(struct surface **s, int n, const char *id)
{
  for (int i = 0; i < n; i++)
    if (strcmp(s[i]->id, id) == 0)
      return s[i];
  return NULL;
}

static void surfaces_appear_with_sane_fits(void)
{
  struct rig r;
  CU_ASSERT_EQUAL_FATAL(rig_open(&r), 0);
  push_chain(&r, AS_OF, 0xab);
  clock_now = AS_OF + 100 * MS;
  CU_ASSERT_EQUAL(calib_tick(r.cb), 3);
  CU_ASSERT_EQUAL(r.n_published, 1); /* one wake-up for the step's three versions */
  struct surface *s[8];
  int n = take(&r, s, 8);
  CU_ASSERT_EQUAL_FATAL(n, 3);
  const struct surface *btc = find(s, n, "deribit.BTC");
  CU_ASSERT_PTR_NOT_NULL_FATAL(btc);
  CU_ASSERT_PTR_NOT_NULL(find(s, n, "deribit.SOL_USDC"));
  CU_ASSERT_EQUAL(btc->version, 1);
  CU_ASSERT_EQUAL(btc->stale, 0);
  CU_ASSERT_STRING_EQUAL(btc->trace_id, "00000000000000ab");
  /* latency stamps are wall-clock only: none on a test clock */
  CU_ASSERT(btc->tick_us == 0 && btc->oldest_quote_us == 0 && btc->publish_us == 0);
  CU_ASSERT(btc->n_expiries >= 10);
  for (int i = 0; i < btc->n_expiries; i++) {
    const struct surface_expiry *e = &btc->exp[i];
    if (i > 0)
      CU_ASSERT(e->expiry_us > btc->exp[i - 1].expiry_us);
    CU_ASSERT(e->has_fit && e->usable);
    CU_ASSERT(e->diag.rmse_vol < 0.005); /* under half a vol point */
    CU_ASSERT(e->n_points >= 5);
    CU_ASSERT(e->dv.atm_vol > 0.3 && e->dv.atm_vol < 1.0);
    CU_ASSERT(e->forward > 90000 && e->forward < 120000);
    CU_ASSERT_EQUAL(e->stale, 0);
    CU_ASSERT_EQUAL(e->fit_ts_us, AS_OF + 100 * MS);
    CU_ASSERT(e->points[0].k < e->points[e->n_points - 1].k);
    CU_ASSERT(e->points[0].iv_bid < e->points[0].iv_ask);
    CU_ASSERT(strlen(e->code) >= 6);
  }
  int valid_nodes = 0;
  for (int i = 0; i < DERIVED_N_NODES; i++)
    valid_nodes += btc->nodes[i].valid;
  CU_ASSERT_EQUAL(valid_nodes, DERIVED_N_NODES);
  static char text[1 << 16];
  metrics_render_prom(r.m, text, sizeof(text));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "volsurf_fit_rmse_vol_pts{venue=\"deribit\",asset=\"BTC\""));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "volsurf_fit_batch_ms_count 1\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "volsurf_fit_slices_total{backend=\"cpu\"}"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "volsurf_feed_age_ms{venue=\"deribit\"} 100\n"));
  free_all(s, n);
  /* Nothing changed: nothing is published. */
  clock_now += 100 * MS;
  CU_ASSERT_EQUAL(calib_tick(r.cb), 0);
  rig_close(&r);
}

static void only_changed_expiries_refit_from_a_warm_start(void)
{
  struct rig r;
  CU_ASSERT_EQUAL_FATAL(rig_open(&r), 0);
  push_chain(&r, AS_OF, 1);
  clock_now = AS_OF + 100 * MS;
  calib_tick(r.cb);
  struct surface *s[8];
  free_all(s, take(&r, s, 8));
  /* New quotes for one BTC expiry only. */
  int64_t target = 0;
  int pushed = 0;
  for (int i = 0; i < n_chain; i++) {
    if (strcmp(chain_q[i].asset, "BTC") != 0)
      continue;
    if (!target)
      target = chain_q[i].expiry_us + 6 * DAY_US; /* skip the first few */
    if (chain_q[i].expiry_us != target)
      continue;
    struct quote q = chain_q[i];
    q.local_ts_us = q.ts_us = AS_OF + 150 * MS;
    qq_push_quotes(r.qq, &q, 1, 2);
    pushed++;
  }
  CU_ASSERT_FATAL(pushed > 10);
  clock_now = AS_OF + 200 * MS;
  CU_ASSERT_EQUAL(calib_tick(r.cb), 1);
  int n = take(&r, s, 8);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  CU_ASSERT_STRING_EQUAL(s[0]->id, "deribit.BTC");
  CU_ASSERT_EQUAL(s[0]->version, 2);
  CU_ASSERT_STRING_EQUAL(s[0]->trace_id, "0000000000000002");
  int refit = 0;
  for (int i = 0; i < s[0]->n_expiries; i++) {
    const struct surface_expiry *e = &s[0]->exp[i];
    if (e->expiry_us == target) {
      refit++;
      CU_ASSERT_EQUAL(e->fit_ts_us, AS_OF + 200 * MS);
      CU_ASSERT(e->fit.status & SVI_LM_WARM);
      CU_ASSERT(e->usable);
    } else {
      CU_ASSERT_EQUAL(e->fit_ts_us, AS_OF + 100 * MS);
      CU_ASSERT_FALSE(e->fit.status & SVI_LM_WARM);
    }
  }
  CU_ASSERT_EQUAL(refit, 1);
  free_all(s, n);
  rig_close(&r);
}

static void a_link_down_republishes_stale_surfaces_with_the_last_good_fits(void)
{
  struct rig r;
  CU_ASSERT_EQUAL_FATAL(rig_open(&r), 0);
  push_chain(&r, AS_OF, 1);
  clock_now = AS_OF + 100 * MS;
  calib_tick(r.cb);
  struct surface *s1[8], *s2[8];
  int n1 = take(&r, s1, 8);
  qq_push_link(r.qq, "deribit", QQ_LINK_DOWN, AS_OF + 150 * MS);
  clock_now = AS_OF + 200 * MS;
  CU_ASSERT_EQUAL(calib_tick(r.cb), 3);
  int n2 = take(&r, s2, 8);
  CU_ASSERT_EQUAL_FATAL(n2, 3);
  const struct surface *a = find(s1, n1, "deribit.ETH"), *b = find(s2, n2, "deribit.ETH");
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_EQUAL(b->stale, 1);
  CU_ASSERT_EQUAL(b->version, 2);
  CU_ASSERT_EQUAL_FATAL(b->n_expiries, a->n_expiries);
  for (int i = 0; i < b->n_expiries; i++) {
    CU_ASSERT(b->exp[i].stale && b->exp[i].has_fit);
    CU_ASSERT(b->exp[i].fit.status & FIT_STALE);
    CU_ASSERT_EQUAL(memcmp(&b->exp[i].p, &a->exp[i].p, sizeof(struct svi)), 0);
  }
  free_all(s1, n1);
  free_all(s2, n2);
  /* Stale stays stale without republishing; the link coming back clears it. */
  clock_now += 100 * MS;
  CU_ASSERT_EQUAL(calib_tick(r.cb), 0);
  qq_push_link(r.qq, "deribit", QQ_LINK_UP, clock_now);
  clock_now += 100 * MS;
  CU_ASSERT_EQUAL(calib_tick(r.cb), 3);
  n2 = take(&r, s2, 8);
  for (int i = 0; i < n2; i++)
    CU_ASSERT_EQUAL(s2[i]->stale, 0);
  free_all(s2, n2);
  rig_close(&r);
}

static void a_silent_venue_goes_stale_after_the_bound(void)
{
  struct rig r;
  CU_ASSERT_EQUAL_FATAL(rig_open(&r), 0);
  push_chain(&r, AS_OF, 1);
  clock_now = AS_OF + 100 * MS;
  calib_tick(r.cb);
  struct surface *s[8];
  free_all(s, take(&r, s, 8));
  clock_now = AS_OF + 4 * SEC;
  CU_ASSERT_EQUAL(calib_tick(r.cb), 0);
  qq_push_link(r.qq, "deribit", QQ_LINK_ALIVE, AS_OF + 4 * SEC);
  clock_now = AS_OF + 8 * SEC; /* heartbeat 4 s ago: alive */
  CU_ASSERT_EQUAL(calib_tick(r.cb), 0);
  clock_now = AS_OF + 9100 * MS; /* 5.1 s of silence */
  CU_ASSERT_EQUAL(calib_tick(r.cb), 3);
  int n = take(&r, s, 8);
  for (int i = 0; i < n; i++)
    CU_ASSERT_EQUAL(s[i]->stale, 1);
  free_all(s, n);
  rig_close(&r);
}

static void a_fit_failing_its_checks_keeps_the_previous_good_parameters(void)
{
  struct rig r;
  CU_ASSERT_EQUAL_FATAL(rig_open(&r), 0);
  push_chain(&r, AS_OF, 1);
  clock_now = AS_OF + 100 * MS;
  calib_tick(r.cb);
  struct surface *s1[8], *s2[8];
  int n1 = take(&r, s1, 8);
  /* Every SOL quote of one expiry loses its bid but three: too few points. */
  int64_t target = 0;
  int kept = 0;
  for (int i = 0; i < n_chain; i++) {
    if (strcmp(chain_q[i].asset, "SOL_USDC") != 0)
      continue;
    if (!target)
      target = chain_q[i].expiry_us;
    if (chain_q[i].expiry_us != target)
      continue;
    struct quote q = chain_q[i];
    q.local_ts_us = q.ts_us = AS_OF + 150 * MS;
    if (kept < 3 && q.kind == QUOTE_CALL && q.strike > q.underlying_price) {
      kept++;
    } else {
      q.bid_price = q.bid_iv = NAN;
    }
    qq_push_quotes(r.qq, &q, 1, 3);
  }
  clock_now = AS_OF + 200 * MS;
  CU_ASSERT_EQUAL(calib_tick(r.cb), 1);
  int n2 = take(&r, s2, 8);
  CU_ASSERT_EQUAL_FATAL(n2, 1);
  const struct surface *a = find(s1, n1, "deribit.SOL_USDC"), *b = s2[0];
  CU_ASSERT_STRING_EQUAL(b->id, "deribit.SOL_USDC");
  const struct surface_expiry *ea = &a->exp[0], *eb = &b->exp[0];
  CU_ASSERT_EQUAL_FATAL(eb->expiry_us, target);
  CU_ASSERT_EQUAL(eb->usable, 0);
  CU_ASSERT_EQUAL(eb->has_fit, 1);
  CU_ASSERT(eb->fit.status & SVI_LM_TOO_FEW);
  CU_ASSERT_EQUAL(memcmp(&eb->p, &ea->p, sizeof(struct svi)), 0);
  CU_ASSERT_EQUAL(eb->fit_ts_us, AS_OF + 100 * MS);
  CU_ASSERT_EQUAL(eb->dv.atm_vol, ea->dv.atm_vol);
  CU_ASSERT(eb->n_points < 5);
  free_all(s1, n1);
  free_all(s2, n2);
  rig_close(&r);
}

static void expired_expiries_roll_off_with_their_metrics(void)
{
  struct rig r;
  CU_ASSERT_EQUAL_FATAL(rig_open(&r), 0);
  push_chain(&r, AS_OF, 1);
  clock_now = AS_OF + 100 * MS;
  calib_tick(r.cb);
  struct surface *s[8];
  int n = take(&r, s, 8);
  const struct surface *btc = find(s, n, "deribit.BTC");
  int n_before = btc->n_expiries;
  char code[SURFACE_CODE_LEN];
  memcpy(code, btc->exp[0].code, sizeof(code));
  int64_t first = btc->exp[0].expiry_us;
  free_all(s, n);
  /* Past the first expiry, with the feed alive. */
  clock_now = first + SEC;
  qq_push_link(r.qq, "deribit", QQ_LINK_ALIVE, clock_now);
  CU_ASSERT_EQUAL(calib_tick(r.cb), 3);
  n = take(&r, s, 8);
  btc = find(s, n, "deribit.BTC");
  CU_ASSERT_EQUAL(btc->n_expiries, n_before - 1);
  CU_ASSERT(btc->exp[0].expiry_us > first);
  static char text[1 << 16];
  metrics_render_prom(r.m, text, sizeof(text));
  char needle[96];
  snprintf(needle, sizeof(needle), "expiry=\"%s\"", code);
  CU_ASSERT_PTR_NULL(strstr(text, needle));
  free_all(s, n);
  rig_close(&r);
}

/* Runs a fixed sequence and returns the surfaces of its last tick. */
static int run_sequence(struct surface **out, int max)
{
  struct rig r;
  if (rig_open(&r) < 0)
    return -1;
  push_chain(&r, AS_OF, 1);
  clock_now = AS_OF + 100 * MS;
  calib_tick(r.cb);
  struct surface *s[8];
  free_all(s, take(&r, s, 8));
  for (int i = 0; i < n_chain; i += 3) {
    struct quote q = chain_q[i];
    q.local_ts_us = q.ts_us = AS_OF + 150 * MS;
    q.bid_iv *= 0.99;
    q.bid_price = NAN; /* the IV decides */
    qq_push_quotes(r.qq, &q, 1, 2);
  }
  clock_now = AS_OF + 200 * MS;
  calib_tick(r.cb);
  int n = take(&r, out, max);
  rig_close(&r);
  return n;
}

static void the_same_input_gives_the_same_surfaces(void)
{
  struct surface *a[8], *b[8];
  int na = run_sequence(a, 8), nb = run_sequence(b, 8);
  CU_ASSERT_EQUAL_FATAL(na, 3);
  CU_ASSERT_EQUAL_FATAL(nb, na);
  for (int i = 0; i < na; i++) {
    CU_ASSERT_STRING_EQUAL(a[i]->id, b[i]->id);
    CU_ASSERT_EQUAL_FATAL(a[i]->n_expiries, b[i]->n_expiries);
    for (int j = 0; j < a[i]->n_expiries; j++) {
      const struct surface_expiry *x = &a[i]->exp[j], *y = &b[i]->exp[j];
      CU_ASSERT_EQUAL(memcmp(&x->p, &y->p, sizeof(x->p)), 0);
      CU_ASSERT_EQUAL(x->fit.status, y->fit.status);
      CU_ASSERT_EQUAL(x->fit.n_iter, y->fit.n_iter);
      CU_ASSERT_EQUAL(memcmp(&x->dv, &y->dv, sizeof(x->dv)), 0);
      CU_ASSERT_EQUAL(x->n_points, y->n_points);
      CU_ASSERT_EQUAL(memcmp(x->points, y->points, (size_t)x->n_points * sizeof(*x->points)), 0);
    }
    CU_ASSERT_EQUAL(memcmp(a[i]->nodes, b[i]->nodes, sizeof(a[i]->nodes)), 0);
  }
  free_all(a, na);
  free_all(b, nb);
}

static void the_worker_thread_publishes_on_its_own(void)
{
  struct rig r;
  memset(&r, 0, sizeof(r));
  CU_ASSERT_EQUAL_FATAL(load_chain(), 0);
  struct calib_config c;
  calib_config_default(&c);
  c.backend = FIT_BACKEND_CPU;
  c.cadence_us = 20 * MS;
  r.qq = qq_new(1 << 15);
  r.mb = surface_mailbox_new(16);
  char err[160];
  CU_ASSERT_EQUAL_FATAL(calib_new(&c, r.qq, r.mb, NULL, NULL, NULL, &r.cb, err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(calib_last_tick_us(r.cb), 0);
  /* The wall clock: quotes received now, expiries relative to the chain. */
  CU_ASSERT_EQUAL_FATAL(calib_start(r.cb), 0);
  int64_t now = now_wall_us();
  for (int i = 0; i < n_chain; i++) {
    struct quote q = chain_q[i];
    q.expiry_us += now - AS_OF;
    q.local_ts_us = q.ts_us = now;
    qq_push_quotes(r.qq, &q, 1, 9);
  }
  /* The worker may tick while the quotes are still being pushed: a surface
   * can come out more than once.  Wait for the three distinct ones. */
  int seen_btc = 0, seen_eth = 0, seen_sol = 0, stamped = 0, bad_stamps = 0;
  for (int i = 0; i < 500 && !(seen_btc && seen_eth && seen_sol); i++) { /* at most 5 s */
    usleep(10000);
    struct surface *s[8];
    int n = take(&r, s, 8);
    for (int j = 0; j < n; j++) {
      /* wall-clock stamps (a tick may start just before 'now' was read) */
      stamped += s[j]->oldest_quote_us == now;
      bad_stamps += s[j]->tick_us <= 0 || s[j]->publish_us < s[j]->tick_us ||
                    (s[j]->oldest_quote_us != 0 && s[j]->oldest_quote_us != now);
      seen_btc |= strcmp(s[j]->id, "deribit.BTC") == 0;
      seen_eth |= strcmp(s[j]->id, "deribit.ETH") == 0;
      seen_sol |= strcmp(s[j]->id, "deribit.SOL_USDC") == 0;
    }
    free_all(s, n);
  }
  calib_stop(r.cb);
  CU_ASSERT(seen_btc && seen_eth && seen_sol);
  CU_ASSERT(stamped >= 3);
  CU_ASSERT_EQUAL(bad_stamps, 0);
  CU_ASSERT(calib_last_tick_us(r.cb) > 0);
  rig_close(&r);
}

/* Pushes the whole chain received at 'at' with every IV scaled by f. */
static void push_chain_scaled(struct rig *r, int64_t at, double f)
{
  for (int i = 0; i < n_chain; i++) {
    struct quote q = chain_q[i];
    q.local_ts_us = at;
    q.ts_us = at;
    q.bid_iv *= f;
    q.ask_iv *= f;
    q.mark_iv *= f;
    qq_push_quotes(r->qq, &q, 1, 1);
  }
}

static void smile_points_refresh_once_a_second_while_fits_follow_every_tick(void)
{
  struct rig r;
  CU_ASSERT_EQUAL_FATAL(rig_open(&r), 0);
  push_chain(&r, AS_OF, 1);
  clock_now = AS_OF + 100 * MS;
  calib_tick(r.cb);
  struct surface *s0[8], *s1[8], *s2[8];
  int n0 = take(&r, s0, 8);
  /* IVs move 2 % within the second: the fit follows, the points hold. */
  push_chain_scaled(&r, AS_OF + 150 * MS, 1.02);
  clock_now = AS_OF + 200 * MS;
  calib_tick(r.cb);
  int n1 = take(&r, s1, 8);
  /* Past a second since the points were taken: they refresh. */
  push_chain_scaled(&r, AS_OF + 1150 * MS, 1.04);
  clock_now = AS_OF + 1200 * MS;
  calib_tick(r.cb);
  int n2 = take(&r, s2, 8);
  const struct surface *a = find(s0, n0, "deribit.BTC"), *b = find(s1, n1, "deribit.BTC"),
                       *c = find(s2, n2, "deribit.BTC");
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  const struct surface_expiry *ea = &a->exp[3], *eb = &b->exp[3], *ec = &c->exp[3];
  CU_ASSERT(eb->dv.atm_vol > ea->dv.atm_vol * 1.015);
  CU_ASSERT(ec->dv.atm_vol > eb->dv.atm_vol * 1.015);
  CU_ASSERT_EQUAL_FATAL(eb->n_points, ea->n_points);
  CU_ASSERT_EQUAL(memcmp(eb->points, ea->points, (size_t)ea->n_points * sizeof(*ea->points)), 0);
  CU_ASSERT_EQUAL_FATAL(ec->n_points, ea->n_points);
  ASSERT_NEAR(ec->points[0].iv_bid, ea->points[0].iv_bid * 1.04, 1e-9);
  free_all(s0, n0);
  free_all(s1, n1);
  free_all(s2, n2);
  rig_close(&r);
}

/* Pushes the quotes of one asset received at 'at', IVs scaled by f. */
static void push_asset(struct rig *r, const char *asset, int64_t at, double f)
{
  for (int i = 0; i < n_chain; i++) {
    struct quote q = chain_q[i];
    if (strcmp(q.asset, asset) != 0)
      continue;
    q.local_ts_us = q.ts_us = at;
    q.bid_iv *= f;
    q.ask_iv *= f;
    q.mark_iv *= f;
    qq_push_quotes(r->qq, &q, 1, 1);
  }
}

/* Polls at 'at'; returns the number published, *next the next deadline. */
static int poll_at(struct rig *r, int64_t at, int64_t *next, int *idle)
{
  clock_now = at;
  int n = -1;
  *next = calib_poll(r->cb, &n, idle);
  return n;
}

/* Publishes everything once and drops it, so the schedule starts clean. */
static void settle(struct rig *r)
{
  push_chain(r, AS_OF, 1);
  clock_now = AS_OF + 10 * MS;
  CU_ASSERT_EQUAL(calib_tick(r->cb), 3);
  struct surface *s[8];
  free_all(s, take(r, s, 8));
}

static void poll_refits_a_burst_once_it_has_been_quiet(void)
{
  struct rig r;
  CU_ASSERT_EQUAL_FATAL(rig_open(&r), 0);
  settle(&r);
  int64_t t0 = AS_OF + 500 * MS, next;
  int idle;
  CU_ASSERT_EQUAL(poll_at(&r, t0, &next, &idle), 0);
  CU_ASSERT(idle);
  /* A BTC burst lands over 2 ms, an ETH one 1 ms later. */
  push_asset(&r, "BTC", t0 + 1 * MS, 1.01);
  push_asset(&r, "BTC", t0 + 2 * MS, 1.01);
  CU_ASSERT_EQUAL(poll_at(&r, t0 + 2 * MS, &next, &idle), 0);
  CU_ASSERT(!idle);
  CU_ASSERT_EQUAL(next, t0 + 5 * MS); /* quiet 3 ms after its newest quote */
  push_asset(&r, "BTC", t0 + 3 * MS, 1.01);
  push_asset(&r, "ETH", t0 + 4 * MS, 1.01);
  CU_ASSERT_EQUAL(poll_at(&r, t0 + 5 * MS, &next, &idle), 0); /* the burst went on */
  CU_ASSERT_EQUAL(next, t0 + 6 * MS);
  CU_ASSERT_EQUAL(poll_at(&r, t0 + 6 * MS, &next, &idle), 1);
  struct surface *s[8];
  int n = take(&r, s, 8);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  CU_ASSERT_STRING_EQUAL(s[0]->id, "deribit.BTC");
  CU_ASSERT_EQUAL(s[0]->as_of_us, t0 + 6 * MS);
  free_all(s, n);
  CU_ASSERT(!idle);
  CU_ASSERT_EQUAL(next, t0 + 7 * MS); /* ETH's turn */
  CU_ASSERT_EQUAL(poll_at(&r, t0 + 7 * MS, &next, &idle), 1);
  n = take(&r, s, 8);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  CU_ASSERT_STRING_EQUAL(s[0]->id, "deribit.ETH");
  free_all(s, n);
  CU_ASSERT(idle);
  CU_ASSERT(next > t0 + 7 * MS && next <= t0 + 7 * MS + 100 * MS); /* the next check */
  rig_close(&r);
}

static void poll_refits_a_stream_that_never_pauses_by_the_cadence(void)
{
  struct rig r;
  CU_ASSERT_EQUAL_FATAL(rig_open(&r), 0);
  settle(&r);
  int64_t t0 = AS_OF + 500 * MS, next;
  int idle, published = 0;
  int64_t first = 0;
  for (int64_t t = t0; t < t0 + 150 * MS && !first; t += 2 * MS) {
    push_asset(&r, "SOL_USDC", t, 1.0 + (double)(t - t0) / 1e9);
    int n = poll_at(&r, t, &next, &idle);
    published += n;
    if (n)
      first = t;
  }
  CU_ASSERT_EQUAL(published, 1);
  CU_ASSERT_EQUAL(first, t0 + 100 * MS); /* the oldest quote waited one cadence */
  struct surface *s[8];
  int n = take(&r, s, 8);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  CU_ASSERT_STRING_EQUAL(s[0]->id, "deribit.SOL_USDC");
  free_all(s, n);
  rig_close(&r);
}

static void poll_keeps_the_minimum_gap_and_publishes_a_link_down_at_once(void)
{
  struct rig r;
  CU_ASSERT_EQUAL_FATAL(rig_open(&r), 0);
  settle(&r);
  int64_t t0 = AS_OF + 500 * MS, next;
  int idle;
  push_asset(&r, "BTC", t0, 1.01);
  CU_ASSERT_EQUAL(poll_at(&r, t0 + 3 * MS, &next, &idle), 1);
  /* A burst right after the version: quiet at +7 ms, but the gap holds it
   * to 20 ms after the previous version. */
  push_asset(&r, "BTC", t0 + 4 * MS, 1.02);
  CU_ASSERT_EQUAL(poll_at(&r, t0 + 7 * MS, &next, &idle), 0);
  CU_ASSERT_EQUAL(next, t0 + 23 * MS);
  CU_ASSERT_EQUAL(poll_at(&r, t0 + 23 * MS, &next, &idle), 1);
  struct surface *s[8];
  free_all(s, take(&r, s, 8));
  /* The link drops with no quote: every surface goes out stale at once. */
  qq_push_link(r.qq, "deribit", QQ_LINK_DOWN, t0 + 24 * MS);
  CU_ASSERT_EQUAL(poll_at(&r, t0 + 24 * MS, &next, &idle), 3);
  int n = take(&r, s, 8);
  CU_ASSERT_EQUAL_FATAL(n, 3);
  for (int i = 0; i < n; i++)
    CU_ASSERT(s[i]->stale);
  free_all(s, n);
  CU_ASSERT(idle);
  rig_close(&r);
}

static void poll_does_not_let_a_future_venue_stamp_hold_a_surface_back(void)
{
  struct rig r;
  CU_ASSERT_EQUAL_FATAL(rig_open(&r), 0);
  settle(&r);
  int64_t t0 = AS_OF + 500 * MS, next;
  int idle;
  /* No receive time, and a venue time a day ahead: read as received now. */
  for (int i = 0; i < n_chain; i++) {
    struct quote q = chain_q[i];
    if (strcmp(q.asset, "ETH") != 0)
      continue;
    q.local_ts_us = 0;
    q.ts_us = t0 + DAY_US;
    q.bid_iv *= 1.01;
    qq_push_quotes(r.qq, &q, 1, 1);
  }
  CU_ASSERT_EQUAL(poll_at(&r, t0, &next, &idle), 0);
  CU_ASSERT_EQUAL(next, t0 + 3 * MS);
  CU_ASSERT_EQUAL(poll_at(&r, t0 + 3 * MS, &next, &idle), 1);
  struct surface *s[8];
  free_all(s, take(&r, s, 8));
  rig_close(&r);
}

static void poll_resets_its_schedule_when_the_clock_steps_back(void)
{
  struct rig r;
  CU_ASSERT_EQUAL_FATAL(rig_open(&r), 0);
  settle(&r);
  int64_t t0 = AS_OF + 500 * MS, next;
  int idle;
  push_asset(&r, "BTC", t0, 1.01);
  CU_ASSERT_EQUAL(poll_at(&r, t0 + 3 * MS, &next, &idle), 1);
  /* The wall clock steps back 10 s: the last version now lies ahead of it,
   * and the gap must not hold the next burst back 10 s. */
  int64_t back = t0 - 10 * SEC;
  push_asset(&r, "BTC", back, 1.02);
  CU_ASSERT_EQUAL(poll_at(&r, back, &next, &idle), 0);
  CU_ASSERT(next <= back + 20 * MS);
  CU_ASSERT_EQUAL(poll_at(&r, back + 20 * MS, &next, &idle), 1);
  struct surface *s[8];
  free_all(s, take(&r, s, 8));
  rig_close(&r);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(surfaces_appear_with_sane_fits),
      TEST_CASE(only_changed_expiries_refit_from_a_warm_start),
      TEST_CASE(a_link_down_republishes_stale_surfaces_with_the_last_good_fits),
      TEST_CASE(a_silent_venue_goes_stale_after_the_bound),
      TEST_CASE(a_fit_failing_its_checks_keeps_the_previous_good_parameters),
      TEST_CASE(expired_expiries_roll_off_with_their_metrics),
      TEST_CASE(the_same_input_gives_the_same_surfaces),
      TEST_CASE(the_worker_thread_publishes_on_its_own),
      TEST_CASE(poll_refits_a_burst_once_it_has_been_quiet),
      TEST_CASE(poll_refits_a_stream_that_never_pauses_by_the_cadence),
      TEST_CASE(poll_keeps_the_minimum_gap_and_publishes_a_link_down_at_once),
      TEST_CASE(poll_does_not_let_a_future_venue_stamp_hold_a_surface_back),
      TEST_CASE(poll_resets_its_schedule_when_the_clock_steps_back),
      TEST_CASE(smile_points_refresh_once_a_second_while_fits_follow_every_tick),
  };
  int rc = test_run("calib", cases, TEST_COUNT(cases));
  free(chain_q);
  return rc;
}
