/* cmd_bench: `volsurf bench` measures fit throughput and latency.  Builds
 * one batch of N slices (synthetic crypto smiles of M points, or the slices
 * of a chain file), fits it R times per variant (CPU at each thread count,
 * GPU), and reports fits/s, batch latency percentiles, iterations, converged
 * share, median RMSE in vol points and, with several variants, their
 * agreement in w.  Benchmarks report; they assert nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "book.h"
#include "chain.h"
#include "cli.h"
#include "cmd.h"
#include "err.h"
#include "fit.h"
#include "now.h"
#include "synth.h"

#define BENCH_MAX_VARIANTS 8

struct bench_opts {
  long n_fits;
  int n_points, n_repeat, json, n_threads_list;
  int threads[BENCH_MAX_VARIANTS];
  int want_cpu, want_gpu;
  uint64_t seed;
  double noise_vol;
  const char *input, *write_chain;
};

struct bench_data {
  struct svi_lm_batch b;
  int64_t *offset;
  double *k, *w, *wt, *T;
  struct svi *truth; /* NULL for file input */
};

struct variant_result {
  char name[32];
  int ok;
  double fits_per_s, p50_ms, p99_ms, min_ms, mean_iter, converged_share, median_rmse_pts;
  struct svi_lm_result *res;
};

static void bench_usage(FILE *f)
{
  fprintf(f, "usage: volsurf bench [options]\n"
             "  --fits N           slices per batch (default 10000; synthetic)\n"
             "  --points M         points per smile (default 50; synthetic)\n"
             "  --threads T[,T..]  CPU thread counts to compare (default 1,<all cores>)\n"
             "  --backend B        cpu | gpu | all (default cpu; all = cpu and gpu)\n"
             "  --repeat R         batches timed per variant (default 7)\n"
             "  --noise VOL        quote noise, vol fraction (default 0.002)\n"
             "  --seed S           synthetic market seed (default 1)\n"
             "  --input FILE       fit the slices of a chain file instead (last snapshot)\n"
             "  --write-chain FILE write a synthetic tardis CSV chain (.gz ok) and exit\n"
             "  --json             one JSON object instead of the table\n");
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Percentile by nearest rank of sorted v[n]. */
static double percentile(const double *v, int n, double q)
{
  int i = (int)ceil(q * n) - 1;
  return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
  memset(o, 0, sizeof(*o));
  o->n_fits = 10000;
  o->n_points = 50;
  o->n_repeat = 7;
  o->seed = 1;
  o->noise_vol = 0.002;
  o->want_cpu = 1;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    double x[BENCH_MAX_VARIANTS];
    int n;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      bench_usage(stdout);
      return 1;
    } else if (strcmp(a, "--json") == 0) {
      o->json = 1;
      continue;
    } else if (!v) {
      fprintf(stderr, "volsurf bench: unknown or incomplete option '%s'\n", a);
      return -1;
    }
    i++;
    if (strcmp(a, "--input") == 0) {
      o->input = v;
    } else if (strcmp(a, "--write-chain") == 0) {
      o->write_chain = v;
    } else if (strcmp(a, "--backend") == 0) {
      o->want_cpu = strcmp(v, "cpu") == 0 || strcmp(v, "all") == 0;
      o->want_gpu = strcmp(v, "gpu") == 0 || strcmp(v, "all") == 0;
      if (!o->want_cpu && !o->want_gpu) {
        fprintf(stderr, "volsurf bench: --backend is cpu, gpu or all\n");
        return -1;
      }
    } else if (strcmp(a, "--threads") == 0) {
      n = cli_parse_doubles(v, x, BENCH_MAX_VARIANTS - 1);
      if (n < 1) {
        fprintf(stderr, "volsurf bench: --threads takes counts like 1,2\n");
        return -1;
      }
      for (int j = 0; j < n; j++)
        o->threads[j] = (int)x[j];
      o->n_threads_list = n;
    } else if ((n = cli_parse_doubles(v, x, 1)) != 1 || !(x[0] >= 0)) {
      fprintf(stderr, "volsurf bench: %s takes a non-negative number\n", a);
      return -1;
    } else if (strcmp(a, "--fits") == 0 && x[0] >= 1 && x[0] <= 1e8) {
      o->n_fits = (long)x[0];
    } else if (strcmp(a, "--points") == 0 && x[0] >= 5 && x[0] <= SLICE_MAX_POINTS) {
      o->n_points = (int)x[0];
    } else if (strcmp(a, "--repeat") == 0 && x[0] >= 1 && x[0] <= 10000) {
      o->n_repeat = (int)x[0];
    } else if (strcmp(a, "--noise") == 0 && x[0] < 0.2) {
      o->noise_vol = x[0];
    } else if (strcmp(a, "--seed") == 0) {
      o->seed = (uint64_t)x[0];
    } else {
      fprintf(stderr, "volsurf bench: bad value for %s: %s\n", a, v);
      return -1;
    }
  }
  if (o->n_threads_list == 0) {
    o->threads[0] = 1;
    o->threads[1] = 0;
    o->n_threads_list = 2;
  }
  return 0;
}

static void data_free(struct bench_data *d)
{
  free(d->offset);
  free(d->k);
  free(d->w);
  free(d->wt);
  free(d->T);
  free(d->truth);
}

static int data_alloc(struct bench_data *d, long n, long n_points)
{
  memset(d, 0, sizeof(*d));
  d->offset = malloc((size_t)(n + 1) * sizeof(int64_t));
  d->k = malloc((size_t)n_points * sizeof(double));
  d->w = malloc((size_t)n_points * sizeof(double));
  d->wt = malloc((size_t)n_points * sizeof(double));
  d->T = malloc((size_t)n * sizeof(double));
  if (!d->offset || !d->k || !d->w || !d->wt || !d->T)
    return ERR_NOMEM;
  d->b = (struct svi_lm_batch){
      .n_slices = n, .offset = d->offset, .k = d->k, .w = d->w, .wt = d->wt, .T_years = d->T};
  return 0;
}

static int data_synthetic(struct bench_data *d, const struct bench_opts *o)
{
  long n = o->n_fits;
  int M = o->n_points;
  if (data_alloc(d, n, n * M) < 0 || !(d->truth = malloc((size_t)n * sizeof(struct svi))))
    return ERR_NOMEM;
  struct synth_rng rng;
  synth_rng_seed(&rng, o->seed);
  for (long i = 0; i < n; i++) {
    /* T log-uniform from one day to one year. */
    double T = exp(log(1.0 / 365.0) + synth_uniform(&rng) * log(365.0));
    synth_draw_smile(&rng, T, &d->truth[i]);
    d->T[i] = T;
    d->offset[i] = (int64_t)i * M;
    synth_points(&rng, &d->truth[i], T, M, o->noise_vol, d->k + i * M, d->w + i * M, d->wt + i * M,
                 NULL, NULL);
  }
  d->offset[n] = (int64_t)n * M;
  return 0;
}

static int data_from_file(struct bench_data *d, const char *path)
{
  char err[256] = "";
  struct chain_reader *cr = NULL;
  struct book *bk = book_new(200000);
  struct slice *sl = NULL;
  int rc = bk ? chain_open(path, CHAIN_FORMAT_AUTO, &cr, err, sizeof(err)) : ERR_NOMEM;
  if (rc < 0) {
    fprintf(stderr, "volsurf bench: %s: %s\n", path, err[0] ? err : err_str(rc));
    goto done;
  }
  struct quote q;
  int64_t last = INT64_MIN;
  while ((rc = chain_next(cr, &q)) == 1) {
    book_put(bk, &q);
    if (q.ts_us > last)
      last = q.ts_us;
  }
  if (rc < 0)
    goto done;
  int n_groups = book_n_groups(bk, last);
  struct slice_config sc;
  slice_config_default(&sc);
  sl = n_groups > 0 ? malloc((size_t)n_groups * sizeof(*sl)) : NULL;
  if (!sl) {
    rc = n_groups > 0 ? ERR_NOMEM : ERR_INPUT;
    goto done;
  }
  int n = book_slices(bk, last, &sc, sl, n_groups, NULL);
  long n_pts = 0, n_ok = 0;
  for (int i = 0; i < n; i++)
    if (sl[i].n >= SVI_LM_MIN_POINTS) {
      n_pts += sl[i].n;
      n_ok++;
    }
  if (n_ok == 0 || (rc = data_alloc(d, n_ok, n_pts)) < 0) {
    rc = rc < 0 ? rc : ERR_INPUT;
    goto done;
  }
  int64_t off = 0;
  long j = 0;
  for (int i = 0; i < n; i++) {
    if (sl[i].n < SVI_LM_MIN_POINTS)
      continue;
    d->offset[j] = off;
    memcpy(d->k + off, sl[i].k, (size_t)sl[i].n * sizeof(double));
    memcpy(d->w + off, sl[i].w, (size_t)sl[i].n * sizeof(double));
    memcpy(d->wt + off, sl[i].weight, (size_t)sl[i].n * sizeof(double));
    d->T[j++] = sl[i].T_years;
    off += sl[i].n;
  }
  d->offset[j] = off;
  rc = 0;
done:
  free(sl);
  chain_close(cr);
  book_free(bk);
  return rc;
}

/* RMSE in vol points of a fit against its slice's target points. */
static double rmse_vol_pts(const struct bench_data *d, long i, const struct svi *p)
{
  double T = d->T[i], s = 0.0;
  int64_t a = d->offset[i], b = d->offset[i + 1];
  for (int64_t j = a; j < b; j++) {
    double wm = svi_w(p, d->k[j]);
    double e = sqrt(fmax(wm, 0.0) / T) - sqrt(d->w[j] / T);
    s += e * e;
  }
  return 100.0 * sqrt(s / (double)(b - a));
}

static void run_variant(const struct bench_data *d, const struct bench_opts *o, int backend,
                        int threads, struct variant_result *v)
{
  long n = d->b.n_slices;
  char err[256] = "";
  struct fitter *f = NULL;
  double *t = malloc((size_t)o->n_repeat * sizeof(double));
  double *rm = malloc((size_t)n * sizeof(double));
  v->res = malloc((size_t)n * sizeof(struct svi_lm_result));
  v->ok = 0;
  if (!t || !rm || !v->res || fitter_new(backend, threads, &f, err, sizeof(err)) < 0) {
    fprintf(stderr, "volsurf bench: %s: %s\n", v->name, err[0] ? err : "out of memory");
    goto done;
  }
  struct svi_lm_config c;
  fit_config_default(&c);
  if (fitter_run(f, &d->b, &c, v->res) < 0) /* warm-up: thread start, device context */
    goto done;
  for (int r = 0; r < o->n_repeat; r++) {
    double t0 = (now_mono_us() / 1e3);
    if (fitter_run(f, &d->b, &c, v->res) < 0)
      goto done;
    t[r] = (now_mono_us() / 1e3) - t0;
  }
  qsort(t, (size_t)o->n_repeat, sizeof(double), cmp_double);
  v->p50_ms = percentile(t, o->n_repeat, 0.5);
  v->p99_ms = percentile(t, o->n_repeat, 0.99);
  v->min_ms = t[0];
  v->fits_per_s = n / (v->p50_ms / 1e3);
  double iters = 0.0;
  long conv = 0;
  for (long i = 0; i < n; i++) {
    iters += v->res[i].n_iter;
    conv += (v->res[i].status & SVI_LM_CONVERGED) != 0;
    rm[i] = rmse_vol_pts(d, i, &v->res[i].p);
  }
  qsort(rm, (size_t)n, sizeof(double), cmp_double);
  v->median_rmse_pts = percentile(rm, (int)(n < 2147483647 ? n : 2147483647), 0.5);
  v->mean_iter = iters / n;
  v->converged_share = (double)conv / n;
  v->ok = 1;
done:
  fitter_free(f);
  free(t);
  free(rm);
}

/* Largest |w_a - w_b| over each slice's points: the agreement of two variants. */
static double max_w_diff(const struct bench_data *d, const struct svi_lm_result *a,
                         const struct svi_lm_result *b, long *status_mismatch)
{
  double mx = 0.0;
  *status_mismatch = 0;
  for (long i = 0; i < d->b.n_slices; i++) {
    const unsigned solver_bits = SVI_LM_CONVERGED | SVI_LM_TOO_FEW | SVI_LM_NONFINITE;
    if ((a[i].status & solver_bits) != (b[i].status & solver_bits))
      (*status_mismatch)++;
    for (int64_t j = d->offset[i]; j < d->offset[i + 1]; j++) {
      double e = fabs(svi_w(&a[i].p, d->k[j]) - svi_w(&b[i].p, d->k[j]));
      if (e > mx || isnan(e))
        mx = isnan(e) ? INFINITY : e;
    }
  }
  return mx;
}

int cmd_bench(int argc, char **argv)
{
  struct bench_opts o;
  int rc = parse_opts(argc, argv, &o);
  if (rc != 0) {
    if (rc < 0)
      bench_usage(stderr);
    return rc < 0 ? 2 : 0;
  }
  if (o.write_chain) {
    long rows = synth_write_chain(o.write_chain, o.seed, 1767254400000000LL); /* 2026-01-01 */
    if (rows < 0) {
      fprintf(stderr, "volsurf bench: cannot write %s: %s\n", o.write_chain, err_str((int)rows));
      return 1;
    }
    fprintf(stderr, "volsurf bench: wrote %ld rows to %s\n", rows, o.write_chain);
    return 0;
  }
  struct bench_data d;
  rc = o.input ? data_from_file(&d, o.input) : data_synthetic(&d, &o);
  if (rc < 0) {
    fprintf(stderr, "volsurf bench: cannot build the batch: %s\n", err_str(rc));
    data_free(&d);
    return 1;
  }
  struct variant_result v[BENCH_MAX_VARIANTS];
  int nv = 0;
  memset(v, 0, sizeof(v));
  if (o.want_cpu)
    for (int i = 0; i < o.n_threads_list && nv < BENCH_MAX_VARIANTS - 1; i++, nv++) {
      snprintf(v[nv].name, sizeof(v[nv].name), "cpu/%d", o.threads[i]);
      if (o.threads[i] == 0)
        snprintf(v[nv].name, sizeof(v[nv].name), "cpu/all");
      run_variant(&d, &o, FIT_BACKEND_CPU, o.threads[i], &v[nv]);
    }
  if (o.want_gpu) {
    snprintf(v[nv].name, sizeof(v[nv].name), "gpu");
    run_variant(&d, &o, FIT_BACKEND_GPU, 0, &v[nv]);
    nv++;
  }
  long n = d.b.n_slices;
  double pts = (double)d.offset[n] / (double)n;
  if (o.json) {
    printf("{\"fits\":%ld,\"points_per_fit\":%.6g,\"repeat\":%d,\"source\":", n, pts, o.n_repeat);
    cli_json_string(stdout, o.input ? o.input : "synthetic");
    printf(",\"variants\":[");
  } else {
    printf("volsurf bench: %ld fits of %.4g points (%s), %d timed batches per variant\n", n, pts,
           o.input ? o.input : "synthetic", o.n_repeat);
    printf("%-10s %14s %12s %12s %10s %10s %14s\n", "variant", "fits/s", "batch p50 ms",
           "batch p99 ms", "mean iter", "converged", "median rmse vp");
  }
  for (int i = 0, first = 1; i < nv; i++) {
    if (!v[i].ok) {
      if (!o.json)
        printf("%-10s %14s\n", v[i].name, "unavailable");
      continue;
    }
    if (o.json)
      printf(
          "%s{\"variant\":\"%s\",\"fits_per_s\":%.6g,\"batch_p50_ms\":%.6g,\"batch_p99_ms\":%.6g,"
          "\"batch_min_ms\":%.6g,\"mean_iterations\":%.4g,\"converged_share\":%.6g,"
          "\"median_rmse_vol_pts\":%.6g}",
          first ? "" : ",", v[i].name, v[i].fits_per_s, v[i].p50_ms, v[i].p99_ms, v[i].min_ms,
          v[i].mean_iter, v[i].converged_share, v[i].median_rmse_pts);
    else
      printf("%-10s %14.0f %12.3f %12.3f %10.2f %9.2f%% %14.4f\n", v[i].name, v[i].fits_per_s,
             v[i].p50_ms, v[i].p99_ms, v[i].mean_iter, 100.0 * v[i].converged_share,
             v[i].median_rmse_pts);
    first = 0;
  }
  if (o.json)
    printf("],\"agreement\":[");
  for (int i = 1, first = 1; i < nv; i++) {
    if (!v[0].ok || !v[i].ok)
      continue;
    long mism;
    double dw = max_w_diff(&d, v[0].res, v[i].res, &mism);
    if (o.json)
      printf("%s{\"a\":\"%s\",\"b\":\"%s\",\"max_abs_w_diff\":%.3g,\"status_mismatches\":%ld}",
             first ? "" : ",", v[0].name, v[i].name, dw, mism);
    else
      printf("agreement %s vs %s: max |dw| %.3g, status mismatches %ld\n", v[0].name, v[i].name, dw,
             mism);
    first = 0;
  }
  if (o.json)
    printf("]}\n");
  for (int i = 0; i < nv; i++)
    free(v[i].res);
  data_free(&d);
  return 0;
}
