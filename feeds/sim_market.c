/* sim_market: the simulated Deribit-like option market (contract and model
 * in sim_market.h, docs/simulator.md).  Two sources of randomness, both
 * seeded: a sequential generator that drives the spot and smile parameters
 * (so the path depends on the seed and on the advance times), and a
 * counter-based hash for per-quote details (jitter, sizes, missing and
 * crossed quotes), so that a ticker does not depend on which other
 * instruments were asked for first. */
#include "sim_market.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "black.h"
#include "civil.h"
#include "err.h"
#include "synth.h"

#define DAY_US 86400000000LL
#define HOUR_US 3600000000LL
#define YEAR_US (365.0 * 86400.0 * 1e6)
#define N_DAILY 4
#define N_WEEKLY 4
#define N_MONTHLY 3
#define N_QUARTERLY 4
/* Short-end ATM premium decays over this many years (one month). */
#define TERM_TAU_YEARS (30.0 / 365.0)
/* Smile parameters revert to their means with this half-life. */
#define OU_HALF_LIFE_YEARS (2.0 / 365.0)

struct asset_spec {
  const char *root, *base;
  int coin;
  double spot;           /* initial index price */
  double basis;          /* annualized forward basis (coin options) */
  double v_inf, v_short; /* long-run ATM vol, short-end premium (negative: contango) */
  double rho, eta;       /* SSVI skew and power-law curvature */
  double half_spread;    /* ATM bid/ask half-width in vol at one month */
  double tick, tick_above_px, tick_above;
  double contract_size, min_amount, amount_max;
  double oi_max;
};

/* Levels as of 2025; ticks and sizes as Deribit lists them (reference
 * exchanges.md §1.2: BTC tick 0.0001, 0.0005 above 0.005).  eta sets the
 * wings: 0.5 gives BTC a 25-delta fly near 2.5 and a 10-delta fly near 8
 * vol points at a 48 % ATM, where Deribit's BTC smiles usually sit. */
static const struct asset_spec specs[] = {
    {"BTC", "BTC", 1, 95000.0, 0.06, 0.50, -0.04, -0.15, 0.5, 0.0035, 0.0001, 0.005, 0.0005, 1.0,
     0.1, 50.0, 2000.0},
    {"ETH", "ETH", 1, 3400.0, 0.07, 0.64, -0.03, -0.10, 0.55, 0.0045, 0.0001, 0.005, 0.0005, 1.0,
     1.0, 500.0, 20000.0},
    {"SOL_USDC", "SOL", 0, 180.0, 0.0, 0.78, 0.02, 0.05, 0.65, 0.008, 0.01, 0.0, 0.0, 10.0, 1.0,
     200.0, 5000.0},
    {"XRP_USDC", "XRP", 0, 2.3, 0.0, 0.85, 0.03, 0.10, 0.7, 0.010, 0.0001, 0.0, 0.0, 1000.0, 1.0,
     200.0, 5000.0},
};
#define N_SPECS ((int)(sizeof(specs) / sizeof(specs[0])))

struct expiry {
  int64_t expiry_us, created_us;
  int period;
  char token[16];
  double step;       /* strike spacing near the money */
  double f_extended; /* forward at the last grid extension */
  int n_strikes;
  double strike[SIM_MAX_STRIKES];
  long id[SIM_MAX_STRIKES]; /* call id; put id + 1 */
};

struct asset {
  const struct asset_spec *spec;
  double spot, basis, v_inf, v_short, rho, eta;
  int n_exp;
  struct expiry exp[SIM_MAX_EXPIRIES]; /* sorted by expiry */
};

/* Where instrument i of the sorted listing lives. */
struct inst_ref {
  int a, e, s, kind;
};

struct sim_market {
  struct sim_config cfg;
  struct synth_rng rng;
  int64_t now_us;
  long next_id;
  int dirty; /* listing changed since the last rebuild */
  int n_assets;
  struct asset asset[SIM_MAX_ASSETS];
  int n_inst, cap_inst;
  struct sim_instrument *inst;
  struct inst_ref *ref;
};

void sim_config_default(struct sim_config *c)
{
  memset(c, 0, sizeof(*c));
  c->seed = 1;
  c->assets = NULL;
  c->start_us = 1735718400000000LL; /* 2025-01-01T08:00Z */
  c->crossed_prob = 0.002;
  c->no_bid_prob = 0.01;
  c->no_ask_prob = 0.003;
  c->vol_scale = 1.0;
}

/* ---- calendar (UTC days since the epoch; host/civil.h) ---- */

/* 0 = Sunday ... 5 = Friday (1970-01-01 was a Thursday). */
static int weekday(int64_t day)
{
  return (int)(((day + 4) % 7 + 7) % 7);
}

/* Day number of the last Friday of month (y, m). */
static int64_t last_friday(int64_t y, int m)
{
  int64_t first_next = m == 12 ? civil_days_from(y + 1, 1, 1) : civil_days_from(y, m + 1, 1);
  int64_t last = first_next - 1;
  return last - (weekday(last) - 5 + 7) % 7;
}

static int period_of(int64_t expiry_us)
{
  int64_t day = civil_day_of_us(expiry_us);
  int64_t y;
  int m, d_unused;
  civil_from_days(day, &y, &m, &d_unused);
  if (last_friday(y, m) == day)
    return SIM_PERIOD_MONTH;
  return weekday(day) == 5 ? SIM_PERIOD_WEEK : SIM_PERIOD_DAY;
}

static void add_unique(int64_t *v, int *n, int cap, int64_t x)
{
  for (int i = 0; i < *n; i++)
    if (v[i] == x)
      return;
  if (*n < cap)
    v[(*n)++] = x;
}

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Deribit's schedule at now_us: the next N_DAILY 08:00s, the next N_WEEKLY
 * Fridays, the next N_MONTHLY last Fridays and the next N_QUARTERLY
 * quarter-end last Fridays.  Each set is "the first N future dates", so an
 * expiry, once listed, stays listed until it expires. */
static int schedule(int64_t now_us, int64_t *out, int cap)
{
  int n = 0;
  int64_t e0 = civil_day_of_us(now_us) * DAY_US + 8 * HOUR_US;
  if (e0 <= now_us)
    e0 += DAY_US;
  int64_t d0 = e0 / DAY_US;
  for (int i = 0; i < N_DAILY; i++)
    add_unique(out, &n, cap, e0 + i * DAY_US);
  int64_t fri = d0 + (5 - weekday(d0) + 7) % 7;
  for (int i = 0; i < N_WEEKLY; i++)
    add_unique(out, &n, cap, (fri + 7 * i) * DAY_US + 8 * HOUR_US);
  int64_t y;
  int m, d_unused;
  civil_from_days(d0, &y, &m, &d_unused);
  int n_month = 0, n_quarter = 0;
  for (int i = 0; i < 40 && (n_month < N_MONTHLY || n_quarter < N_QUARTERLY); i++) {
    int mm = (m - 1 + i) % 12 + 1;
    int64_t yy = y + (m - 1 + i) / 12;
    int64_t lf = last_friday(yy, mm);
    if (lf < d0)
      continue;
    int64_t e = lf * DAY_US + 8 * HOUR_US;
    if (n_month < N_MONTHLY) {
      add_unique(out, &n, cap, e);
      n_month++;
    }
    if (mm % 3 == 0 && n_quarter < N_QUARTERLY) {
      add_unique(out, &n, cap, e);
      n_quarter++;
    }
  }
  qsort(out, (size_t)n, sizeof(out[0]), cmp_i64);
  return n;
}

/* ---- the model ---- */

static double asset_forward(const struct asset *a, double T)
{
  return a->spec->coin ? a->spot * exp(a->basis * T) : a->spot;
}

/* ATM vol term structure: v_inf + v_short exp(-T/tau).  theta = atm^2 T
 * stays increasing because v_short is clamped to [-0.5, 1] v_inf (see
 * asset_evolve), which keeps |2 T atm'| below atm. */
static double asset_atm(const struct asset *a, double T)
{
  return a->v_inf + a->v_short * exp(-T / TERM_TAU_YEARS);
}

static void asset_smile(const struct asset *a, double T, struct svi *out)
{
  double atm = asset_atm(a, T);
  synth_ssvi_slice(atm * atm * T, a->rho, a->eta, out);
}

static double clampd(double x, double lo, double hi)
{
  return x < lo ? lo : x > hi ? hi : x;
}

/* Exact Ornstein-Uhlenbeck step toward mu with stationary sd 'sd'. */
static double ou_step(double x, double mu, double sd, double decay, double z)
{
  return mu + (x - mu) * decay + sd * sqrt(1.0 - decay * decay) * z;
}

static void asset_evolve(struct asset *a, struct synth_rng *r, double dt, double vol_scale)
{
  const struct asset_spec *s = a->spec;
  double z_spot = synth_normal(r), z_vol = synth_normal(r);
  double z_short = synth_normal(r), z_rho = synth_normal(r), z_eta = synth_normal(r);
  double z_basis = synth_normal(r);
  /* Realized vol follows the long-run implied level (a vol risk premium is
   * not modelled). */
  double sig = a->v_inf * vol_scale;
  a->spot *= exp(-0.5 * sig * sig * dt + sig * sqrt(dt) * z_spot);
  double decay = exp(-log(2.0) / OU_HALF_LIFE_YEARS * dt);
  /* Spot down, vol up: the usual crypto (and equity) leverage effect. */
  double zv = -0.5 * z_spot + sqrt(0.75) * z_vol;
  a->v_inf = clampd(ou_step(a->v_inf, s->v_inf, 0.06 * vol_scale, decay, zv), 0.2, 2.0);
  a->v_short = clampd(ou_step(a->v_short, s->v_short, 0.05 * vol_scale, decay, z_short),
                      -0.5 * a->v_inf, a->v_inf);
  a->rho = clampd(ou_step(a->rho, s->rho, 0.08 * vol_scale, decay, z_rho), -0.8, 0.6);
  /* eta (1 + |rho|) <= 2 keeps SSVI free of butterfly arbitrage (Gatheral &
   * Jacquier 2014, power law gamma = 1/2); 1.9 leaves a margin. */
  a->eta = clampd(ou_step(a->eta, s->eta, 0.15 * vol_scale, decay, z_eta), 0.3,
                  1.9 / (1.0 + fabs(a->rho)));
  if (s->coin)
    a->basis = clampd(ou_step(a->basis, s->basis, 0.02 * vol_scale, decay, z_basis), -0.05, 0.3);
}

/* Nearest of {1, 2, 2.5, 5} x 10^n to x in log terms. */
static double nice_step(double x)
{
  static const double c[] = {1.0, 2.0, 2.5, 5.0, 10.0};
  double p = pow(10.0, floor(log10(x)));
  double best = p, dist = INFINITY;
  for (int i = 0; i < 5; i++) {
    double d = fabs(log(x / (c[i] * p)));
    if (d < dist) {
      dist = d;
      best = c[i] * p;
    }
  }
  return best;
}

/* Rounds away binary noise so that strikes print as typed (2.2, not
 * 2.2000000000000002). */
static double clean(double x)
{
  return round(x * 1e8) / 1e8;
}

static int has_strike(const struct expiry *e, double K)
{
  for (int i = 0; i < e->n_strikes; i++)
    if (fabs(e->strike[i] - K) <= 1e-9 * K)
      return 1;
  return 0;
}

struct cand {
  double K, absk;
};

static int cmp_cand(const void *a, const void *b)
{
  const struct cand *x = a, *y = b;
  if (x->absk != y->absk)
    return x->absk < y->absk ? -1 : 1;
  return (x->K > y->K) - (x->K < y->K);
}

/* Adds the strikes Deribit would list around forward F: every step within
 * 1.5 ATM standard deviations, every second step out to 2.5 (3.5 below the
 * forward), every fifth out to 3.5 (4 above the forward), nearest first
 * until the expiry is full.  Existing strikes stay. */
static void expiry_extend(struct sim_market *m, struct asset *a, struct expiry *e, double T)
{
  double F = asset_forward(a, T);
  double sd = asset_atm(a, T) * sqrt(fmax(T, 1.0 / 365.0));
  struct cand c[4 * SIM_MAX_STRIKES];
  int n = 0;
  /* Deribit's long-dated BTC grid runs from about 0.2x to 4x the forward:
   * far enough for the wings, not out to where nothing ever trades. */
  double klo = fmax(-3.5 * sd, -1.6), khi = fmin(4.0 * sd, 1.4);
  long jlo = (long)ceil(F * exp(klo) / e->step), jhi = (long)floor(F * exp(khi) / e->step);
  if (jlo < 1)
    jlo = 1;
  for (long j = jlo; j <= jhi && n < (int)(sizeof(c) / sizeof(c[0])); j++) {
    double K = clean((double)j * e->step);
    double ak = fabs(log(K / F)) / sd;
    /* Below the forward log-gaps grow as K falls: every second step
     * reaches further there. */
    double reach = K < F ? 3.5 : 2.5;
    int keep = ak <= 1.5 || (j % 2 == 0 && ak <= reach) || j % 5 == 0;
    if (keep && !has_strike(e, K))
      c[n++] = (struct cand){K, ak};
  }
  qsort(c, (size_t)n, sizeof(c[0]), cmp_cand);
  for (int i = 0; i < n && e->n_strikes < SIM_MAX_STRIKES; i++) {
    e->strike[e->n_strikes] = c[i].K;
    e->id[e->n_strikes] = m->next_id;
    m->next_id += 2;
    e->n_strikes++;
    m->dirty = 1;
  }
  e->f_extended = F;
}

static void asset_list(struct sim_market *m, struct asset *a)
{
  int64_t now = m->now_us;
  /* Roll off what expired (settlement at 08:00 takes the option away). */
  int k = 0;
  for (int i = 0; i < a->n_exp; i++)
    if (a->exp[i].expiry_us > now)
      a->exp[k++] = a->exp[i];
  if (k != a->n_exp)
    m->dirty = 1;
  a->n_exp = k;
  int64_t want[SIM_MAX_EXPIRIES];
  int n_want = schedule(now, want, SIM_MAX_EXPIRIES);
  for (int i = 0; i < n_want; i++) {
    int found = 0;
    for (int j = 0; j < a->n_exp && !found; j++)
      found = a->exp[j].expiry_us == want[i];
    if (found || a->n_exp >= SIM_MAX_EXPIRIES)
      continue;
    /* Insert in expiry order. */
    int pos = a->n_exp;
    while (pos > 0 && a->exp[pos - 1].expiry_us > want[i])
      pos--;
    memmove(&a->exp[pos + 1], &a->exp[pos], (size_t)(a->n_exp - pos) * sizeof(a->exp[0]));
    a->n_exp++;
    m->dirty = 1;
    struct expiry *e = &a->exp[pos];
    memset(e, 0, sizeof(*e));
    e->expiry_us = want[i];
    e->created_us = now;
    e->period = period_of(want[i]);
    synth_expiry_token(want[i], e->token, sizeof(e->token));
    double T = (double)(want[i] - now) / YEAR_US;
    double sd = asset_atm(a, T) * sqrt(fmax(T, 1.0 / 365.0));
    e->step = nice_step(asset_forward(a, T) * 0.15 * sd);
  }
  for (int i = 0; i < a->n_exp; i++) {
    struct expiry *e = &a->exp[i];
    double T = (double)(e->expiry_us - now) / YEAR_US;
    double sd = asset_atm(a, T) * sqrt(fmax(T, 1.0 / 365.0));
    if (e->n_strikes == 0 || fabs(log(asset_forward(a, T) / e->f_extended)) > 0.1 * sd)
      expiry_extend(m, a, e, T);
  }
}

static void strike_text(double K, char *buf, size_t cap)
{
  char tmp[32];
  snprintf(tmp, sizeof tmp, "%.10g", K);
  size_t j = 0;
  for (size_t i = 0; tmp[i] && j + 1 < cap; i++)
    buf[j++] = tmp[i] == '.' ? 'd' : tmp[i]; /* Deribit: "1d02" = 1.02 */
  buf[j] = '\0';
}

static int cmp_inst(const void *a, const void *b)
{
  return strcmp(((const struct sim_instrument *)a)->name, ((const struct sim_instrument *)b)->name);
}

/* Rebuilds the sorted instrument table from the asset state. */
static int rebuild(struct sim_market *m)
{
  int n = 0;
  for (int a = 0; a < m->n_assets; a++)
    for (int e = 0; e < m->asset[a].n_exp; e++)
      n += 2 * m->asset[a].exp[e].n_strikes;
  if (n > m->cap_inst) {
    struct sim_instrument *ni = realloc(m->inst, (size_t)n * sizeof(*ni));
    if (!ni)
      return ERR_NOMEM;
    m->inst = ni;
    struct inst_ref *nr = realloc(m->ref, (size_t)n * sizeof(*nr));
    if (!nr)
      return ERR_NOMEM;
    m->ref = nr;
    m->cap_inst = n;
  }
  int i = 0;
  for (int a = 0; a < m->n_assets; a++) {
    const struct asset_spec *s = m->asset[a].spec;
    for (int e = 0; e < m->asset[a].n_exp; e++) {
      const struct expiry *x = &m->asset[a].exp[e];
      for (int k = 0; k < x->n_strikes; k++) {
        for (int kind = QUOTE_CALL; kind >= QUOTE_PUT; kind--) {
          struct sim_instrument *in = &m->inst[i++];
          memset(in, 0, sizeof(*in));
          char ks[32];
          strike_text(x->strike[k], ks, sizeof ks);
          snprintf(in->name, sizeof in->name, "%s-%s-%s-%c", s->root, x->token, ks,
                   kind == QUOTE_CALL ? 'C' : 'P');
          snprintf(in->asset, sizeof in->asset, "%s", s->root);
          snprintf(in->base, sizeof in->base, "%s", s->base);
          in->kind = kind;
          in->coin = s->coin;
          in->period = x->period;
          in->strike = x->strike[k];
          in->tick_size = s->tick;
          in->tick_step_above = s->tick_above_px;
          in->tick_size_above = s->tick_above;
          in->contract_size = s->contract_size;
          in->min_trade_amount = s->min_amount;
          in->expiry_us = x->expiry_us;
          in->created_us = x->created_us;
          in->id = x->id[k] + (kind == QUOTE_PUT);
        }
      }
    }
  }
  /* Sort names, then record where each one lives: the table is small
   * enough (a few thousand) that a second pass by id is cheap. */
  qsort(m->inst, (size_t)n, sizeof(m->inst[0]), cmp_inst);
  m->n_inst = n;
  for (i = 0; i < n; i++) {
    const struct sim_instrument *in = &m->inst[i];
    struct inst_ref r = {-1, -1, -1, in->kind};
    for (int a = 0; a < m->n_assets && r.a < 0; a++) {
      if (strcmp(m->asset[a].spec->root, in->asset) != 0)
        continue;
      for (int e = 0; e < m->asset[a].n_exp && r.a < 0; e++) {
        const struct expiry *x = &m->asset[a].exp[e];
        if (x->expiry_us != in->expiry_us)
          continue;
        for (int k = 0; k < x->n_strikes; k++)
          if (x->id[k] == in->id - (in->kind == QUOTE_PUT)) {
            r.a = a;
            r.e = e;
            r.s = k;
            break;
          }
      }
    }
    m->ref[i] = r;
  }
  return 0;
}

struct sim_market *sim_market_new(const struct sim_config *c)
{
  struct sim_market *m = calloc(1, sizeof(*m));
  if (!m || !c || c->start_us <= 0)
    goto fail;
  m->cfg = *c;
  m->cfg.assets = NULL; /* not kept: the caller's string is borrowed */
  synth_rng_seed(&m->rng, c->seed);
  m->now_us = c->start_us;
  m->next_id = 100000;
  const char *list = c->assets ? c->assets : SIM_ASSETS_DEFAULT;
  const char *p = list;
  while (*p) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    int found = -1;
    for (int s = 0; s < N_SPECS; s++)
      if (strlen(specs[s].root) == len && strncmp(specs[s].root, p, len) == 0)
        found = s;
    if (found < 0 || m->n_assets >= SIM_MAX_ASSETS)
      goto fail;
    for (int a = 0; a < m->n_assets; a++)
      if (m->asset[a].spec == &specs[found])
        goto fail;
    struct asset *a = &m->asset[m->n_assets++];
    a->spec = &specs[found];
    a->spot = specs[found].spot;
    a->basis = specs[found].basis;
    a->v_inf = specs[found].v_inf;
    a->v_short = specs[found].v_short;
    a->rho = specs[found].rho;
    a->eta = specs[found].eta;
    p += len;
    if (*p == ',')
      p++;
  }
  if (m->n_assets == 0)
    goto fail;
  /* A different seed starts from a different market: draw the initial
   * state instead of taking the specs' means verbatim. */
  for (int a = 0; a < m->n_assets; a++) {
    asset_evolve(&m->asset[a], &m->rng, 30.0 / 365.0, m->cfg.vol_scale);
    /* ...but start the spot near its level, not a month of drift away. */
    m->asset[a].spot = m->asset[a].spec->spot * exp(0.05 * synth_normal(&m->rng));
  }
  for (int a = 0; a < m->n_assets; a++)
    asset_list(m, &m->asset[a]);
  if (rebuild(m) < 0)
    goto fail;
  m->dirty = 0;
  return m;
fail:
  sim_market_free(m);
  return NULL;
}

void sim_market_free(struct sim_market *m)
{
  if (!m)
    return;
  free(m->inst);
  free(m->ref);
  free(m);
}

int sim_market_advance(struct sim_market *m, int64_t now_us)
{
  if (now_us < m->now_us)
    return ERR_RANGE;
  if (now_us == m->now_us)
    return 0;
  double dt = (double)(now_us - m->now_us) / YEAR_US;
  for (int a = 0; a < m->n_assets; a++)
    asset_evolve(&m->asset[a], &m->rng, dt, m->cfg.vol_scale);
  m->now_us = now_us;
  for (int a = 0; a < m->n_assets; a++)
    asset_list(m, &m->asset[a]);
  /* The table changes only when something listed or rolled off. */
  if (!m->dirty)
    return 0;
  m->dirty = 0;
  return rebuild(m);
}

int64_t sim_market_now(const struct sim_market *m)
{
  return m->now_us;
}

int sim_market_count(const struct sim_market *m)
{
  return m->n_inst;
}

const struct sim_instrument *sim_market_instrument(const struct sim_market *m, int i)
{
  return i >= 0 && i < m->n_inst ? &m->inst[i] : NULL;
}

int sim_market_find(const struct sim_market *m, const char *name)
{
  int lo = 0, hi = m->n_inst - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    int c = strcmp(m->inst[mid].name, name);
    if (c == 0)
      return mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

int sim_market_n_assets(const struct sim_market *m)
{
  return m->n_assets;
}

const char *sim_market_asset(const struct sim_market *m, int a)
{
  return a >= 0 && a < m->n_assets ? m->asset[a].spec->root : NULL;
}

double sim_market_spot(const struct sim_market *m, int a)
{
  return a >= 0 && a < m->n_assets ? m->asset[a].spot : NAN;
}

/* The forward as quoted (underlying_price): cents for BTC/ETH, 1e-4 USDC
 * for the altcoins.  Everything a ticker states is computed from this
 * rounded value, so that its prices and IVs agree with what it publishes. */
static double quoted_forward(const struct asset *a, double T)
{
  double scale = a->spec->coin ? 100.0 : 1e4;
  return round(asset_forward(a, T) * scale) / scale;
}

int sim_market_truth(const struct sim_market *m, int i, struct svi *svi, double *forward,
                     double *T_years)
{
  if (i < 0 || i >= m->n_inst || m->ref[i].a < 0)
    return ERR_INPUT;
  const struct asset *a = &m->asset[m->ref[i].a];
  double T = (double)(m->inst[i].expiry_us - m->now_us) / YEAR_US;
  if (svi)
    asset_smile(a, T, svi);
  if (forward)
    *forward = quoted_forward(a, T);
  if (T_years)
    *T_years = T;
  return 0;
}

/* ---- tickers ---- */

/* Uniform [0, 1) from (seed, instrument, salt, epoch): counter-based, so a
 * quote's details do not depend on the order of calls. */
static double hash_uniform(const struct sim_market *m, long id, int salt, int64_t epoch)
{
  struct synth_rng r;
  synth_rng_seed(&r, m->cfg.seed * 0x9E3779B97F4A7C15ull ^ (uint64_t)id * 0xD1B54A32D192ED03ull ^
                         (uint64_t)salt * 0x94D049BB133111EBull ^
                         (uint64_t)epoch * 0xBF58476D1CE4E5B9ull);
  return synth_uniform(&r);
}

static double tick_of(const struct sim_instrument *in, double px)
{
  return in->tick_step_above > 0.0 && px > in->tick_step_above ? in->tick_size_above
                                                               : in->tick_size;
}

/* Rounds to a decimal unit (0.01, 1e-8) as round(x s)/s with s = 1/unit an
 * exact integer: the division is correctly rounded, so the result is the
 * double nearest the decimal, the one a JSON parser reads back. */
static double round_to(double x, double unit)
{
  double s = round(1.0 / unit);
  return round(x * s) / s;
}

static double tick_floor(const struct sim_instrument *in, double px)
{
  double t = tick_of(in, px);
  return clean(floor(px / t + 1e-9) * t);
}

static double tick_ceil(const struct sim_instrument *in, double px)
{
  double t = tick_of(in, px);
  return clean(ceil(px / t - 1e-9) * t);
}

/* Premium in the quote currency at vol sigma. */
static double premium(const struct sim_instrument *in, double F, double sigma, double T)
{
  double usd = black_price(F, in->strike, sigma, T, in->kind);
  return in->coin ? usd / F : usd;
}

/* IV in percent (2 decimals) implied by a quoted premium; 0 when the price
 * carries no information (at or below intrinsic after rounding). */
static double implied_pct(const struct sim_instrument *in, double px, double F, double T)
{
  double iv = in->coin ? black_iv_coin(px, F, in->strike, T, in->kind)
                       : black_iv(px, F, in->strike, T, in->kind);
  if (!isfinite(iv))
    return NAN;
  return round_to(100.0 * iv, 0.01);
}

int sim_market_ticker(const struct sim_market *m, int i, struct sim_ticker *t)
{
  if (i < 0 || i >= m->n_inst || m->ref[i].a < 0)
    return ERR_INPUT;
  const struct sim_instrument *in = &m->inst[i];
  const struct asset *a = &m->asset[m->ref[i].a];
  const struct sim_config *c = &m->cfg;
  double T = (double)(in->expiry_us - m->now_us) / YEAR_US;
  double F = quoted_forward(a, T);
  struct svi p;
  asset_smile(a, T, &p);
  double K = in->strike, k = log(K / F);
  double atm = sqrt(svi_w(&p, 0.0) / T);
  double z = k / (atm * sqrt(T));
  /* Real smiles are not exactly SVI: flows leave local structure around
   * popular strikes.  A smooth bump of up to 1 vol point (0.4 sd wide), centred per
   * expiry within +-1.5 standard deviations and drifting hourly, keeps the
   * fitter's RMSE realistic (tenths of a vol point) instead of zero.  It is
   * small and smooth enough to leave the surface free of arbitrage. */
  long ekey = (long)(in->expiry_us / 3600000000LL);
  int64_t hour = m->now_us / 3600000000LL;
  double frac = (double)(m->now_us - hour * 3600000000LL) / 3600e6, bump = 0.0;
  for (int h = 0; h < 2; h++) { /* blend this hour's bump into the next one's */
    double z0 = 3.0 * hash_uniform(m, ekey, 9, hour + h) - 1.5;
    double amp = 0.01 * (2.0 * hash_uniform(m, ekey, 10, hour + h) - 1.0);
    bump += (h ? frac : 1.0 - frac) * amp * exp(-0.5 * (z - z0) * (z - z0) / 0.16);
  }
  double iv = sqrt(svi_w(&p, k) / T) + bump;
  int otm = in->kind == QUOTE_CALL ? k > 0.0 : k < 0.0;
  int64_t now_ms = m->now_us / 1000;
  long id = in->id;

  memset(t, 0, sizeof(*t));
  t->timestamp_ms = now_ms;
  t->true_iv = iv;
  t->forward = F;
  t->T_years = T;

  /* Bid/ask half-width in vol: wider at short tenors (fewer makers, gamma
   * risk) and quadratically in the wings. */
  double T_days = fmax(T * 365.0, 0.25);
  double half = a->spec->half_spread * (1.0 + 0.5 * sqrt(30.0 / T_days)) + 0.0015 * z * z;
  /* Makers re-quote every 1-4 s, not every push: the jitter holds still
   * within an instrument-specific refresh window. */
  int64_t epoch = now_ms / (1000 + (id % 7) * 500);
  double center = iv + 0.35 * half * (2.0 * hash_uniform(m, id, 1, epoch) - 1.0);
  double bid_iv = fmax(center - half, 0.01), ask_iv = center + half;

  double bid = tick_floor(in, premium(in, F, bid_iv, T));
  double ask = tick_ceil(in, premium(in, F, ask_iv, T));
  if (ask < in->tick_size)
    ask = in->tick_size; /* nothing trades below one tick */
  double wing_cut = 2.6 + 0.8 * hash_uniform(m, id, 2, 0);
  int no_bid = bid < in->tick_size || (otm && fabs(z) > wing_cut) ||
               hash_uniform(m, id, 3, epoch) < c->no_bid_prob;
  int no_ask = hash_uniform(m, id, 4, epoch) < c->no_ask_prob;
  int crossed = !no_bid && !no_ask && hash_uniform(m, id, 5, now_ms / 100) < c->crossed_prob;
  if (crossed) {
    /* A stale order left on the book: bid above ask by a tick or more. */
    double tmp = bid;
    bid = ask;
    ask = tmp;
    if (bid <= ask)
      bid = clean(ask + tick_of(in, ask));
  }
  t->crossed = crossed;
  double amt_unit = in->min_trade_amount;
  double amt_max = a->spec->amount_max;
  if (no_bid) {
    t->best_bid_price = 0.0;
    t->best_bid_amount = 0.0;
    t->bid_iv = 0.0;
  } else {
    t->best_bid_price = bid;
    t->best_bid_amount =
        clean(amt_unit * (1.0 + floor(hash_uniform(m, id, 6, epoch) * amt_max / amt_unit)));
    double v = implied_pct(in, bid, F, T);
    t->bid_iv = isfinite(v) ? v : 0.0;
  }
  if (no_ask) {
    t->best_ask_price = 0.0;
    t->best_ask_amount = 0.0;
    t->ask_iv = 500.0;
  } else {
    t->best_ask_price = ask;
    t->best_ask_amount =
        clean(amt_unit * (1.0 + floor(hash_uniform(m, id, 7, epoch) * amt_max / amt_unit)));
    double v = implied_pct(in, ask, F, T);
    /* Deribit caps the ask IV at 500% (also where one tick is worth more). */
    t->ask_iv = isfinite(v) && v < 500.0 ? v : 500.0;
  }

  double mark = premium(in, F, iv, T);
  t->mark_price = in->coin ? round_to(mark, 1e-8) : round_to(mark, 1e-4);
  t->mark_iv = round_to(100.0 * iv, 0.01);
  double u_last = hash_uniform(m, id, 8, now_ms / 60000);
  t->last_price =
      u_last < 0.3 ? NAN : fmax(in->tick_size, tick_floor(in, mark * (0.9 + 0.2 * u_last)));
  t->min_price = fmax(in->tick_size, tick_floor(in, mark * 0.5));
  t->max_price = tick_ceil(in, mark * 1.5 + (in->coin ? 0.01 : 0.01 * F));
  t->settlement_price = t->mark_price;
  t->underlying_price = F;
  t->index_price = round_to(a->spot, in->coin ? 0.01 : 1e-4);
  t->estimated_delivery_price = t->index_price;
  t->interest_rate = 0.0;
  char tok[16];
  synth_expiry_token(in->expiry_us, tok, sizeof tok);
  if (!in->coin)
    snprintf(t->underlying_index, sizeof t->underlying_index, "index_price");
  else if (in->period == SIM_PERIOD_MONTH)
    snprintf(t->underlying_index, sizeof t->underlying_index, "%s-%s", a->spec->root, tok);
  else
    snprintf(t->underlying_index, sizeof t->underlying_index, "SYN.%s-%s", a->spec->root, tok);

  /* Black-76 greeks in USD, Deribit's conventions: vega per vol point,
   * theta per day. */
  double sq = sqrt(T), d1 = (-k + 0.5 * iv * iv * T) / (iv * sq), d2 = d1 - iv * sq;
  double pdf = black_norm_pdf(d1);
  t->delta = round_to(in->kind == QUOTE_CALL ? black_norm_cdf(d1) : black_norm_cdf(d1) - 1.0, 1e-5);
  t->gamma = round_to(pdf / (F * iv * sq), 1e-5);
  t->vega = round_to(F * pdf * sq / 100.0, 1e-5);
  t->theta = round_to(-F * pdf * iv / (2.0 * sq) / 365.0, 1e-5);
  t->rho = round_to(in->kind == QUOTE_CALL ? K * T * black_norm_cdf(d2) / 100.0
                                           : -K * T * black_norm_cdf(-d2) / 100.0,
                    1e-5);
  double near = exp(-0.5 * z * z);
  t->open_interest = round_to(a->spec->oi_max * near * hash_uniform(m, id, 9, 0), 0.1);
  t->volume = round_to(0.2 * t->open_interest * hash_uniform(m, id, 10, now_ms / 3600000), 0.1);
  t->volume_usd = round_to(t->volume * (in->coin ? mark * F : mark), 0.01);
  return 0;
}
