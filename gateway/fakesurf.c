/* fakesurf: deterministic synthetic surfaces (see fakesurf.h).
 *
 * Expiry i at step s uses the parameters of its own version v(i, s): the
 * number of steps t <= s at which hash(seed, t, i) selects it, so that most
 * expiries stay unchanged between steps and patches stay sparse. */
#include "fakesurf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static uint64_t mix(uint64_t x)
{
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* Uniform in [0, 1) from a 64-bit state, advancing it. */
static double unif(uint64_t *st)
{
  *st = mix(*st);
  return (double)(*st >> 11) / 9007199254740992.0;
}

static int expiry_version(uint64_t seed, int i, int step)
{
  int v = 0;
  for (int t = 1; t <= step; t++)
    if (mix(seed ^ mix((uint64_t)t * 131 + (uint64_t)i)) % 3 == 0)
      v++;
  return v;
}

static void fill_expiry(struct surface_expiry *x, uint64_t seed, int i, int v, int64_t as_of_us,
                        int has_fit, struct surface_point *pts, int n_pts)
{
  uint64_t st = mix(seed * 7919 + (uint64_t)i * 104729 + (uint64_t)v);
  x->expiry_us = (1766822400ll + (int64_t)i * 7 * 86400) * 1000000ll;
  surface_code(x->expiry_us, x->code);
  x->T_years = (double)(x->expiry_us - as_of_us) / SLICE_US_PER_YEAR;
  x->forward = 97000.0 * (1.0 + 0.01 * unif(&st)) + i * 12.345678;
  x->forward_src = (int)(unif(&st) * 3);
  x->has_fit = has_fit;
  x->usable = has_fit && unif(&st) < 0.9;
  x->p = (struct svi){0.004 + 0.002 * unif(&st), 0.02 + 0.01 * unif(&st), -0.3 + 0.2 * unif(&st),
                      0.02 * (unif(&st) - 0.5), 0.08 + 0.05 * unif(&st)};
  x->fit.p = x->p;
  x->fit.status = SVI_LM_CONVERGED | (x->usable ? 0u : FIT_BUTTERFLY);
  x->fit.n_iter = 3 + (int)(unif(&st) * 20);
  x->fit.n_points = n_pts;
  x->fit.fit_time_us = 5.0 + 20.0 * unif(&st);
  x->diag.rmse_vol = 0.004 * unif(&st);
  x->diag.max_err_vol = x->diag.rmse_vol * 2.5;
  x->diag.inside_share = 0.8 + 0.2 * unif(&st);
  x->diag.arb.g_min = x->usable ? 0.1 * unif(&st) : -0.01;
  x->diag.arb.n_intervals = x->usable ? 0 : 1;
  x->diag.arb.lo[0] = -0.9 + 0.1 * unif(&st);
  x->diag.arb.hi[0] = -0.5 + 0.1 * unif(&st);
  x->diag.lee_ok = 1;
  x->dv.atm_vol = 0.4 + 0.2 * unif(&st);
  x->dv.rr25 = -0.02 + 0.01 * unif(&st);
  x->dv.fly25 = 0.005 * unif(&st);
  /* a 10-delta strike is not always found on a short expiry */
  x->dv.rr10 = (i % 3 == 0) ? NAN : -0.03 + 0.01 * unif(&st);
  x->dv.fly10 = (i % 3 == 0) ? NAN : 0.015 * unif(&st);
  x->rej.n_no_bid = (int)(unif(&st) * 5);
  x->rej.n_deep_wing = (int)(unif(&st) * 3);
  x->n_points = n_pts;
  x->points = pts;
  for (int j = 0; j < n_pts; j++) {
    double K = x->forward * (0.7 + 0.6 * j / (n_pts > 1 ? n_pts - 1 : 1));
    double iv = 0.45 + 0.1 * unif(&st);
    pts[j].strike = round(K / 500.0) * 500.0;
    pts[j].k = log(pts[j].strike / x->forward);
    pts[j].iv_bid = (j % 5 == 4) ? NAN : iv - 0.005;
    pts[j].iv_ask = iv + 0.005;
    pts[j].iv_mark = (j % 7 == 6) ? NAN : iv;
  }
  x->quote_ts_us = as_of_us - 20000;
  x->fit_ts_us = has_fit ? as_of_us - 3000 : 0;
}

struct surface *fakesurf_new(const char *venue, const char *asset, uint64_t seed, int step,
                             int n_exp, int n_pts)
{
  if (n_exp < 1 || n_exp > SURFACE_MAX_EXPIRIES || n_pts < 0 || n_pts > SLICE_MAX_POINTS ||
      step < 0)
    return NULL;
  /* every 5th step one expiry is missing (rolled off, then back) */
  int missing = (step % 5 == 4 && n_exp > 1) ? (step / 5) % n_exp : -1;
  int n = missing >= 0 ? n_exp - 1 : n_exp;
  struct surface *s = surface_new(n, n * n_pts);
  if (!s)
    return NULL;
  snprintf(s->venue, sizeof(s->venue), "%s", venue);
  snprintf(s->asset, sizeof(s->asset), "%s", asset);
  surface_id(venue, asset, s->id);
  s->version = (uint64_t)step + 1;
  s->as_of_us = 1764000000000000ll + (int64_t)step * 100000;
  s->index_price = 97012.55 + step * 1.5;
  s->delta_conv = (int)(seed % 2);
  s->stale = step % 7 == 6;
  snprintf(s->trace_id, sizeof(s->trace_id), "%016llx", (unsigned long long)mix(seed + step));
  for (int i = 0, o = 0; i < n_exp; i++) {
    if (i == missing)
      continue;
    /* the last expiry of an odd seed never had a usable fit */
    int has_fit = !(i == n_exp - 1 && (seed & 1));
    fill_expiry(&s->exp[o], seed, i, expiry_version(seed, i, step), s->as_of_us, has_fit,
                surface_points_at(s, o * n_pts), n_pts);
    s->exp[o].stale = s->stale;
    o++;
  }
  for (int k = 0; k < DERIVED_N_NODES; k++) {
    struct derived_node *nd = &s->nodes[k];
    nd->name = derived_node_name(k);
    nd->T_years = derived_node_years(k);
    nd->valid = k < 5;
    nd->extrapolated = k == 0;
    nd->d = s->exp[0].dv;
    nd->d.atm_vol += 0.001 * k + 0.0001 * (step % 3);
  }
  return s;
}
