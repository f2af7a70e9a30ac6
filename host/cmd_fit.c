/* cmd_fit: `volsurf fit` calibrates recorded chains.  file -> chain reader ->
 * book -> (at each snapshot time) slices -> one batched fit -> diagnostics
 * and derived values -> JSON Lines or CSV.  Each snapshot's fits warm-start
 * the next snapshot's.  Output format: docs/fit-output.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "book.h"
#include "chain.h"
#include "cli.h"
#include "cmd.h"
#include "derived.h"
#include "diag.h"
#include "err.h"
#include "fit.h"
#include "now.h"

#define FIT_MAX_INSTRUMENTS 200000

struct fit_opts {
  const char *input, *output;
  int format, csv, backend, threads, delta_conv, quiet;
  int64_t as_of_us, every_us;
  struct slice_config slice;
  struct svi_lm_config lm;
  struct diag_config diag;
};

/* Previous snapshot's fit of one slice, for warm starts. */
struct prev_fit {
  char venue[QUOTE_VENUE_LEN], asset[QUOTE_ASSET_LEN];
  int64_t expiry_us;
  struct svi p;
};

struct fit_run {
  struct fit_opts o;
  struct book *book;
  struct fitter *fitter;
  FILE *out;
  int cap; /* capacity of the per-slice arrays */
  struct slice *slices;
  struct svi_lm_result *res;
  struct diag *diag;
  struct derived *der;
  int *usable;
  int64_t *offset;
  double *k, *w, *wt, *T;
  struct svi *warm;
  unsigned char *has_warm;
  struct svi *params; /* fitted parameters, contiguous for derived_nodes */
  struct prev_fit *prev;
  int n_prev;
  long n_snapshots, n_slices, n_fitted, n_flagged, n_failed_groups;
  double fit_ms_total;
};

static void fit_usage(FILE *f)
{
  fprintf(f,
          "usage: volsurf fit --input FILE [options]\n"
          "  --input FILE        tardis options_chain CSV (.csv or .csv.gz) or raw Deribit CSV;\n"
          "                      '-' reads stdin\n"
          "  --format F          tardis | deribit-csv | auto (default: auto, from the header)\n"
          "  --output FILE       write here instead of stdout\n"
          "  --output-format F   jsonl (default) | csv\n"
          "  --as-of TS          valuation time (ISO 8601 or epoch s/ms/us); quotes after it are\n"
          "                      ignored; default: the last quote's timestamp\n"
          "  --every SEC         also fit a snapshot every SEC seconds of quote time\n"
          "  --stale-sec S       reject quotes older than S seconds at the snapshot (default off)\n"
          "  --target T          auto | mid | mark: the IV fitted (default auto: mark when\n"
          "                      inside bid/ask, else mid)\n"
          "  --delta D           forward | premium-adjusted: delta convention of RR/fly\n"
          "  --backend B         auto | cpu | gpu (default auto: GPU when present)\n"
          "  --threads N         CPU fitter threads (default: all cores)\n"
          "  --quiet             no progress or summary on stderr\n");
}

static int opt_value(int argc, char **argv, int *i, const char **v)
{
  if (*i + 1 >= argc) {
    fprintf(stderr, "volsurf fit: %s needs a value\n", argv[*i]);
    return -1;
  }
  *v = argv[++*i];
  return 0;
}

static int parse_opts(int argc, char **argv, struct fit_opts *o)
{
  memset(o, 0, sizeof(*o));
  o->as_of_us = -1;
  slice_config_default(&o->slice);
  fit_config_default(&o->lm);
  diag_config_default(&o->diag);
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fit_usage(stdout);
      return 1;
    } else if (strcmp(a, "--quiet") == 0) {
      o->quiet = 1;
    } else if (strcmp(a, "--input") == 0) {
      if (opt_value(argc, argv, &i, &o->input))
        return -1;
    } else if (strcmp(a, "--output") == 0) {
      if (opt_value(argc, argv, &i, &o->output))
        return -1;
    } else if (strcmp(a, "--format") == 0) {
      if (opt_value(argc, argv, &i, &v) || (o->format = chain_format_parse(v)) < 0) {
        fprintf(stderr, "volsurf fit: --format is tardis, deribit-csv or auto\n");
        return -1;
      }
    } else if (strcmp(a, "--output-format") == 0) {
      if (opt_value(argc, argv, &i, &v))
        return -1;
      if (strcmp(v, "csv") == 0)
        o->csv = 1;
      else if (strcmp(v, "jsonl") != 0) {
        fprintf(stderr, "volsurf fit: --output-format is jsonl or csv\n");
        return -1;
      }
    } else if (strcmp(a, "--as-of") == 0) {
      if (opt_value(argc, argv, &i, &v) || cli_parse_time(v, &o->as_of_us) < 0) {
        fprintf(stderr, "volsurf fit: --as-of takes ISO 8601 UTC or epoch s/ms/us\n");
        return -1;
      }
    } else if (strcmp(a, "--every") == 0 || strcmp(a, "--stale-sec") == 0) {
      double sec;
      if (opt_value(argc, argv, &i, &v) || cli_parse_doubles(v, &sec, 1) != 1 || !(sec > 0)) {
        fprintf(stderr, "volsurf fit: %s takes a positive number of seconds\n", a);
        return -1;
      }
      if (strcmp(a, "--every") == 0)
        o->every_us = (int64_t)(sec * 1e6);
      else
        o->slice.stale_us = (int64_t)(sec * 1e6);
    } else if (strcmp(a, "--target") == 0) {
      if (opt_value(argc, argv, &i, &v))
        return -1;
      if (strcmp(v, "auto") == 0)
        o->slice.target = SLICE_TARGET_AUTO;
      else if (strcmp(v, "mid") == 0)
        o->slice.target = SLICE_TARGET_MID;
      else if (strcmp(v, "mark") == 0)
        o->slice.target = SLICE_TARGET_MARK;
      else {
        fprintf(stderr, "volsurf fit: --target is auto, mid or mark\n");
        return -1;
      }
    } else if (strcmp(a, "--delta") == 0) {
      if (opt_value(argc, argv, &i, &v))
        return -1;
      if (strcmp(v, "forward") == 0)
        o->delta_conv = DERIVED_DELTA_FORWARD;
      else if (strcmp(v, "premium-adjusted") == 0)
        o->delta_conv = DERIVED_DELTA_PREMIUM_ADJUSTED;
      else {
        fprintf(stderr, "volsurf fit: --delta is forward or premium-adjusted\n");
        return -1;
      }
    } else if (strcmp(a, "--backend") == 0) {
      if (opt_value(argc, argv, &i, &v) || (o->backend = fit_backend_parse(v)) < 0) {
        fprintf(stderr, "volsurf fit: --backend is auto, cpu or gpu\n");
        return -1;
      }
    } else if (strcmp(a, "--threads") == 0) {
      double t;
      if (opt_value(argc, argv, &i, &v) || cli_parse_doubles(v, &t, 1) != 1 || t < 0 || t > 1024) {
        fprintf(stderr, "volsurf fit: --threads takes a count (0 = all cores)\n");
        return -1;
      }
      o->threads = (int)t;
    } else {
      fprintf(stderr, "volsurf fit: unknown option '%s'\n", a);
      return -1;
    }
  }
  if (!o->input) {
    fprintf(stderr, "volsurf fit: --input FILE is required\n");
    return -1;
  }
  return 0;
}

static void run_free_arrays(struct fit_run *r)
{
  free(r->slices);
  free(r->res);
  free(r->diag);
  free(r->der);
  free(r->usable);
  free(r->offset);
  free(r->k);
  free(r->w);
  free(r->wt);
  free(r->T);
  free(r->warm);
  free(r->has_warm);
  free(r->params);
}

/* Sizes the per-snapshot arrays for n slices (grown, never shrunk). */
static int run_reserve(struct fit_run *r, int n)
{
  if (n <= r->cap)
    return 0;
  int cap = n < 64 ? 64 : n * 2;
  struct prev_fit *prev = realloc(r->prev, (size_t)cap * sizeof(*prev));
  if (!prev)
    return ERR_NOMEM;
  r->prev = prev;
  run_free_arrays(r);
  r->slices = malloc((size_t)cap * sizeof(*r->slices));
  r->res = malloc((size_t)cap * sizeof(*r->res));
  r->diag = malloc((size_t)cap * sizeof(*r->diag));
  r->der = malloc((size_t)cap * sizeof(*r->der));
  r->usable = malloc((size_t)cap * sizeof(*r->usable));
  r->offset = malloc((size_t)(cap + 1) * sizeof(*r->offset));
  r->k = malloc((size_t)cap * SLICE_MAX_POINTS * sizeof(double));
  r->w = malloc((size_t)cap * SLICE_MAX_POINTS * sizeof(double));
  r->wt = malloc((size_t)cap * SLICE_MAX_POINTS * sizeof(double));
  r->T = malloc((size_t)cap * sizeof(double));
  r->warm = malloc((size_t)cap * sizeof(*r->warm));
  r->has_warm = malloc((size_t)cap);
  r->params = malloc((size_t)cap * sizeof(*r->params));
  r->cap = cap;
  if (!r->slices || !r->res || !r->diag || !r->der || !r->usable || !r->offset || !r->k || !r->w ||
      !r->wt || !r->T || !r->warm || !r->has_warm) {
    r->cap = 0;
    return ERR_NOMEM;
  }
  return 0;
}

static const struct prev_fit *prev_find(const struct fit_run *r, const struct slice *s)
{
  for (int i = 0; i < r->n_prev; i++)
    if (r->prev[i].expiry_us == s->expiry_us && strcmp(r->prev[i].venue, s->venue) == 0 &&
        strcmp(r->prev[i].asset, s->asset) == 0)
      return &r->prev[i];
  return NULL;
}

static void write_status(FILE *f, unsigned st)
{
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {{SVI_LM_CONVERGED, "converged"},
               {SVI_LM_MAX_ITER, "max_iter"},
               {SVI_LM_TOO_FEW, "too_few_points"},
               {SVI_LM_BOUND, "at_bound"},
               {SVI_LM_NONFINITE, "nonfinite"},
               {SVI_LM_WARM, "warm_start"},
               {FIT_BUTTERFLY, "butterfly_arb"},
               {FIT_CALENDAR, "calendar_arb"},
               {FIT_LEE, "lee_violated"},
               {FIT_POOR, "poor_fit"},
               {FIT_STALE, "stale"}};
  fputc('[', f);
  int first = 1;
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    if (st & names[i].bit) {
      fprintf(f, "%s\"%s\"", first ? "" : ",", names[i].name);
      first = 0;
    }
  fputc(']', f);
}

static const char *forward_src_name(int src)
{
  return src == SLICE_FWD_QUOTE ? "quote" : src == SLICE_FWD_PARITY ? "parity" : "index";
}

/* One number in vol points (x100), two decimals more than a trader reads. */
static void json_vol_pts(FILE *f, const char *key, double vol_fraction)
{
  fprintf(f, ",\"%s\":", key);
  cli_json_number(f, vol_fraction * 100.0, 8);
}

static void write_slice_json(struct fit_run *r, int i)
{
  FILE *f = r->out;
  const struct slice *s = &r->slices[i];
  const struct svi_lm_result *res = &r->res[i];
  const struct diag *d = &r->diag[i];
  const struct derived *dv = &r->der[i];
  char exp[40], asof[40];
  cli_format_time(s->expiry_us, exp, sizeof(exp));
  cli_format_time(s->as_of_us, asof, sizeof(asof));
  fprintf(f, "{\"type\":\"slice\",\"venue\":");
  cli_json_string(f, s->venue);
  fprintf(f, ",\"asset\":");
  cli_json_string(f, s->asset);
  fprintf(f, ",\"expiry\":\"%s\",\"as_of\":\"%s\",\"T_years\":%.10g,\"forward\":", exp, asof,
          s->T_years);
  cli_json_number(f, s->forward, 12);
  fprintf(f, ",\"forward_source\":\"%s\",\"n_quotes\":%d,\"n_points\":%d",
          forward_src_name(s->forward_src), s->n_quotes, s->n);
  int ok = r->usable[i];
  fprintf(f, ",\"usable\":%s,\"svi\":", ok ? "true" : "false");
  if (res->status & (SVI_LM_TOO_FEW | SVI_LM_NONFINITE)) {
    fputs("null,\"jump_wings\":null", f);
  } else {
    fprintf(f, "{\"a\":%.12g,\"b\":%.12g,\"rho\":%.12g,\"m\":%.12g,\"sigma\":%.12g}", res->p.a,
            res->p.b, res->p.rho, res->p.m, res->p.sigma);
    struct svi_jw jw;
    if (svi_to_jw(&res->p, s->T_years, &jw) == 0)
      fprintf(f, ",\"jump_wings\":{\"v\":%.10g,\"psi\":%.10g,\"p\":%.10g,\"c\":%.10g,\"vt\":%.10g}",
              jw.v, jw.psi, jw.p, jw.c, jw.vt);
    else
      fputs(",\"jump_wings\":null", f);
  }
  if (ok) {
    fprintf(f, ",\"delta_convention\":\"%s\"", derived_delta_conv_name(dv->delta_conv));
    json_vol_pts(f, "atm_vol_pts", dv->atm_vol);
    json_vol_pts(f, "rr25_pts", dv->rr25);
    json_vol_pts(f, "fly25_pts", dv->fly25);
    json_vol_pts(f, "rr10_pts", dv->rr10);
    json_vol_pts(f, "fly10_pts", dv->fly10);
  }
  fprintf(f, ",\"diagnostics\":{\"status\":");
  write_status(f, res->status);
  fprintf(f, ",\"iterations\":%d", res->n_iter);
  json_vol_pts(f, "rmse_vol_pts", d->rmse_vol);
  json_vol_pts(f, "max_err_vol_pts", d->max_err_vol);
  json_vol_pts(f, "rmse_vs_mark_vol_pts", d->rmse_vol_mark);
  fprintf(f, ",\"inside_bid_ask\":");
  cli_json_number(f, d->inside_share, 6);
  fprintf(f, ",\"n_two_sided\":%d,\"g_min\":", d->n_two_sided);
  cli_json_number(f, d->arb.g_min, 8);
  fprintf(f, ",\"g_min_k\":");
  cli_json_number(f, d->arb.k_at_g_min, 8);
  fprintf(f, ",\"butterfly_intervals\":[");
  for (int j = 0; j < d->arb.n_intervals && j < SVI_ARB_MAX_INTERVALS; j++)
    fprintf(f, "%s[%.8g,%.8g]", j ? "," : "", d->arb.lo[j], d->arb.hi[j]);
  fprintf(f, "],\"lee_ok\":%s,\"calendar_prev\":", d->lee_ok ? "true" : "false");
  if (d->calendar_prev)
    fprintf(f, "[%.8g,%.8g]", d->cal_prev_lo, d->cal_prev_hi);
  else
    fputs("null", f);
  fprintf(f, ",\"calendar_next\":");
  if (d->calendar_next)
    fprintf(f, "[%.8g,%.8g]", d->cal_next_lo, d->cal_next_hi);
  else
    fputs("null", f);
  fprintf(f, ",\"fit_time_us\":%.3f}", res->fit_time_us);
  const struct slice_rejects *rj = &s->rej;
  fprintf(f,
          ",\"rejected\":{\"invalid\":%d,\"expired\":%d,\"stale\":%d,\"no_bid\":%d,"
          "\"crossed\":%d,\"iv_capped\":%d,\"deep_wing\":%d,\"overflow\":%d}}\n",
          rj->n_invalid, rj->n_expired, rj->n_stale, rj->n_no_bid, rj->n_crossed, rj->n_iv_capped,
          rj->n_deep_wing, rj->n_overflow);
}

/* A CSV cell: empty for NaN (missing), else %.*g. */
static void csv_num(FILE *f, double x, int digits)
{
  if (isfinite(x))
    fprintf(f, "%.*g", digits, x);
  fputc(',', f);
}

static void write_slice_csv(struct fit_run *r, int i)
{
  FILE *f = r->out;
  const struct slice *s = &r->slices[i];
  const struct svi_lm_result *res = &r->res[i];
  const struct diag *d = &r->diag[i];
  const struct derived *dv = &r->der[i];
  char exp[40], asof[40];
  cli_format_time(s->expiry_us, exp, sizeof(exp));
  cli_format_time(s->as_of_us, asof, sizeof(asof));
  int ok = r->usable[i];
  fprintf(f, "%s,%s,%s,%s,%.10g,", s->venue, s->asset, exp, asof, s->T_years);
  csv_num(f, s->forward, 12);
  fprintf(f, "%d,%d,", s->n_quotes, s->n);
  const double p[5] = {res->p.a, res->p.b, res->p.rho, res->p.m, res->p.sigma};
  for (int j = 0; j < 5; j++)
    csv_num(f, p[j], 12);
  const double dvp[5] = {dv->atm_vol, dv->rr25, dv->fly25, dv->rr10, dv->fly10};
  for (int j = 0; j < 5; j++)
    csv_num(f, ok ? 100.0 * dvp[j] : NAN, 8);
  csv_num(f, 100.0 * d->rmse_vol, 8);
  csv_num(f, 100.0 * d->max_err_vol, 8);
  csv_num(f, d->inside_share, 6);
  csv_num(f, d->arb.g_min, 8);
  fprintf(f, "%d,%d,%d,%d,0x%x,%d,%.3f\n", d->arb.n_intervals > 0,
          d->calendar_prev || d->calendar_next, d->lee_ok, ok, res->status, res->n_iter,
          res->fit_time_us);
}

static void write_surface_json(struct fit_run *r, int lo, int hi)
{
  FILE *f = r->out;
  const struct slice *s0 = &r->slices[lo];
  int n = hi - lo;
  for (int i = lo; i < hi; i++)
    r->params[i] = r->res[i].p;
  struct derived_node nodes[DERIVED_N_NODES];
  derived_nodes(r->T + lo, r->params + lo, r->usable + lo, n, r->o.delta_conv, nodes);
  char asof[40];
  cli_format_time(s0->as_of_us, asof, sizeof(asof));
  fprintf(f, "{\"type\":\"surface\",\"venue\":");
  cli_json_string(f, s0->venue);
  fprintf(f, ",\"asset\":");
  cli_json_string(f, s0->asset);
  fprintf(f, ",\"as_of\":\"%s\",\"n_expiries\":%d,\"delta_convention\":\"%s\",\"nodes\":[", asof, n,
          derived_delta_conv_name(r->o.delta_conv));
  for (int j = 0; j < DERIVED_N_NODES; j++) {
    const struct derived_node *nd = &nodes[j];
    fprintf(f, "%s{\"tenor\":\"%s\",\"T_years\":%.8g,\"valid\":%s,\"extrapolated\":%s",
            j ? "," : "", nd->name, nd->T_years, nd->valid ? "true" : "false",
            nd->extrapolated ? "true" : "false");
    if (nd->valid) {
      json_vol_pts(f, "atm_vol_pts", nd->d.atm_vol);
      json_vol_pts(f, "rr25_pts", nd->d.rr25);
      json_vol_pts(f, "fly25_pts", nd->d.fly25);
      json_vol_pts(f, "rr10_pts", nd->d.rr10);
      json_vol_pts(f, "fly10_pts", nd->d.fly10);
    }
    fputc('}', f);
  }
  fputs("]}\n", f);
}

/* Fits every slice of the book as of 'as_of' and writes the results. */
static int run_snapshot(struct fit_run *r, int64_t as_of)
{
  book_expire(r->book, as_of);
  int n_groups = book_n_groups(r->book, as_of);
  if (n_groups <= 0)
    return 0;
  if (run_reserve(r, n_groups) < 0)
    return ERR_NOMEM;
  int n_failed = 0;
  int n = book_slices(r->book, as_of, &r->o.slice, r->slices, r->cap, &n_failed);
  if (n < 0)
    return n;
  r->n_failed_groups += n_failed;
  /* Structure-of-arrays batch: the layout the GPU takes. */
  int64_t off = 0;
  for (int i = 0; i < n; i++) {
    const struct slice *s = &r->slices[i];
    r->offset[i] = off;
    memcpy(r->k + off, s->k, (size_t)s->n * sizeof(double));
    memcpy(r->w + off, s->w, (size_t)s->n * sizeof(double));
    memcpy(r->wt + off, s->weight, (size_t)s->n * sizeof(double));
    off += s->n;
    r->T[i] = s->T_years;
    const struct prev_fit *pf = prev_find(r, s);
    r->has_warm[i] = pf != NULL;
    if (pf)
      r->warm[i] = pf->p;
  }
  r->offset[n] = off;
  struct svi_lm_batch b = {.n_slices = n,
                           .offset = r->offset,
                           .k = r->k,
                           .w = r->w,
                           .wt = r->wt,
                           .T_years = r->T,
                           .warm = r->warm,
                           .has_warm = r->has_warm};
  double t0 = (now_mono_us() / 1e3);
  int rc = fitter_run(r->fitter, &b, &r->o.lm, r->res);
  r->fit_ms_total += (now_mono_us() / 1e3) - t0;
  if (rc < 0)
    return rc;
  for (int i = 0; i < n; i++) {
    diag_slice(&r->slices[i], &r->res[i], &r->o.diag, &r->diag[i]);
    if (r->slices[i].n_quotes > 0 && r->slices[i].rej.n_stale == r->slices[i].n_quotes)
      r->res[i].status |= FIT_STALE;
  }
  /* Calendar checks run along each (venue, asset): slices come sorted. */
  for (int lo = 0, hi; lo < n; lo = hi) {
    for (hi = lo + 1; hi < n && strcmp(r->slices[hi].venue, r->slices[lo].venue) == 0 &&
                      strcmp(r->slices[hi].asset, r->slices[lo].asset) == 0;
         hi++)
      ;
    diag_calendar_chain(r->slices + lo, r->res + lo, r->diag + lo, hi - lo, &r->o.diag);
  }
  r->n_prev = 0;
  for (int i = 0; i < n; i++) {
    r->usable[i] = diag_usable(&r->res[i]);
    if (r->usable[i])
      r->usable[i] =
          derived_slice(&r->res[i].p, r->slices[i].T_years, r->o.delta_conv, &r->der[i]) == 0;
    if (r->usable[i]) {
      struct prev_fit *pf = &r->prev[r->n_prev++];
      memcpy(pf->venue, r->slices[i].venue, sizeof(pf->venue));
      memcpy(pf->asset, r->slices[i].asset, sizeof(pf->asset));
      pf->expiry_us = r->slices[i].expiry_us;
      pf->p = r->res[i].p;
      r->n_fitted++;
    }
    if (r->res[i].status & (FIT_BUTTERFLY | FIT_CALENDAR | FIT_LEE | FIT_POOR | SVI_LM_TOO_FEW))
      r->n_flagged++;
  }
  for (int lo = 0, hi; lo < n; lo = hi) {
    for (hi = lo + 1; hi < n && strcmp(r->slices[hi].venue, r->slices[lo].venue) == 0 &&
                      strcmp(r->slices[hi].asset, r->slices[lo].asset) == 0;
         hi++)
      ;
    for (int i = lo; i < hi; i++) {
      if (r->o.csv)
        write_slice_csv(r, i);
      else
        write_slice_json(r, i);
    }
    if (!r->o.csv)
      write_surface_json(r, lo, hi);
  }
  r->n_slices += n;
  r->n_snapshots++;
  return 0;
}

static void report_stats(const struct fit_run *r, const struct chain_stats *st)
{
  fprintf(stderr,
          "volsurf fit: %lld rows, %lld quotes, %lld malformed; %ld snapshots, %ld slices, "
          "%ld fitted, %ld flagged; fit %.1f ms on %s\n",
          (long long)st->n_lines, (long long)st->n_quotes, (long long)st->n_malformed,
          r->n_snapshots, r->n_slices, r->n_fitted, r->n_flagged, r->fit_ms_total,
          fitter_backend_name(r->fitter));
  if (st->n_malformed > 0) {
    fprintf(stderr, "volsurf fit: malformed rows at lines");
    for (int i = 0; i < st->n_bad_kept; i++)
      fprintf(stderr, " %lld", (long long)st->bad_lines[i]);
    if (st->n_malformed > st->n_bad_kept)
      fprintf(stderr, " ...");
    fprintf(stderr, " (first: %s)\n", st->first_error);
  }
  if (book_n_refused(r->book) > 0)
    fprintf(stderr, "volsurf fit: %ld quotes refused: more than %d instruments\n",
            book_n_refused(r->book), FIT_MAX_INSTRUMENTS);
}

int cmd_fit(int argc, char **argv)
{
  struct fit_run r;
  memset(&r, 0, sizeof(r));
  int rc = parse_opts(argc, argv, &r.o);
  if (rc != 0) {
    if (rc < 0)
      fit_usage(stderr);
    return rc < 0 ? 2 : 0;
  }
  char err[256] = "";
  struct chain_reader *cr = NULL;
  int status = 1;
  r.book = book_new(FIT_MAX_INSTRUMENTS);
  if (!r.book)
    goto fail;
  rc = chain_open(r.o.input, r.o.format, &cr, err, sizeof(err));
  if (rc < 0) {
    fprintf(stderr, "volsurf fit: %s: %s\n", r.o.input, err[0] ? err : err_str(rc));
    goto fail;
  }
  rc = fitter_new(r.o.backend, r.o.threads, &r.fitter, err, sizeof(err));
  if (rc < 0) {
    fprintf(stderr, "volsurf fit: backend: %s\n", err[0] ? err : err_str(rc));
    goto fail;
  }
  r.out = r.o.output ? fopen(r.o.output, "w") : stdout;
  if (!r.out) {
    fprintf(stderr, "volsurf fit: cannot write %s\n", r.o.output);
    goto fail;
  }
  if (r.o.csv)
    fputs("venue,asset,expiry,as_of,T_years,forward,n_quotes,n_points,a,b,rho,m,sigma,"
          "atm_vol_pts,rr25_pts,fly25_pts,rr10_pts,fly10_pts,rmse_vol_pts,max_err_vol_pts,"
          "inside_bid_ask,g_min,butterfly_arb,calendar_arb,lee_ok,usable,status,iterations,"
          "fit_time_us\n",
          r.out);

  struct stat sb;
  int64_t size =
      strcmp(r.o.input, "-") != 0 && stat(r.o.input, &sb) == 0 ? (int64_t)sb.st_size : -1;
  int64_t last_ts = INT64_MIN, next_cut = INT64_MIN, n_after = 0, n_read = 0;
  struct quote q;
  while ((rc = chain_next(cr, &q)) == 1) {
    n_read++;
    if (!r.o.quiet && (n_read & ((1 << 20) - 1)) == 0) {
      int64_t pos = chain_bytes_read(cr);
      fprintf(stderr, "volsurf fit: %.1fM quotes", n_read / 1e6);
      if (size > 0 && pos >= 0)
        fprintf(stderr, " (%.0f%% of input)", 100.0 * (double)pos / (double)size);
      fputc('\n', stderr);
    }
    if (r.o.as_of_us >= 0 && q.ts_us > r.o.as_of_us) {
      n_after++;
      continue;
    }
    if (r.o.every_us > 0) {
      if (next_cut == INT64_MIN)
        next_cut = (q.ts_us / r.o.every_us + 1) * r.o.every_us;
      if (q.ts_us >= next_cut) {
        int64_t cut = (q.ts_us / r.o.every_us) * r.o.every_us;
        if ((rc = run_snapshot(&r, cut)) < 0)
          break;
        next_cut = cut + r.o.every_us;
      }
    }
    if (q.ts_us > last_ts)
      last_ts = q.ts_us;
    book_put(r.book, &q);
  }
  if (rc < 0) {
    fprintf(stderr, "volsurf fit: %s: %s\n", r.o.input, err_str(rc));
    goto fail;
  }
  if (book_size(r.book) == 0) {
    fprintf(stderr, "volsurf fit: %s: no usable quotes\n", r.o.input);
    report_stats(&r, chain_get_stats(cr));
    goto fail;
  }
  rc = run_snapshot(&r, r.o.as_of_us >= 0 ? r.o.as_of_us : last_ts);
  if (rc < 0) {
    fprintf(stderr, "volsurf fit: %s\n", err_str(rc));
    goto fail;
  }
  if (n_after > 0 && !r.o.quiet)
    fprintf(stderr, "volsurf fit: %lld quotes after --as-of ignored\n", (long long)n_after);
  if (!r.o.quiet)
    report_stats(&r, chain_get_stats(cr));
  status = 0;
fail:
  if (r.out && r.out != stdout && fclose(r.out) != 0) {
    fprintf(stderr, "volsurf fit: error writing %s\n", r.o.output);
    status = 1;
  } else if (r.out == stdout && fflush(stdout) != 0) {
    status = 1;
  }
  chain_close(cr);
  fitter_free(r.fitter);
  book_free(r.book);
  run_free_arrays(&r);
  free(r.prev);
  return status;
}
