/* gpu_check: the GPU fitter checked against the CPU and timed, with nothing
 * but the C library and the CUDA runtime (the GPU machine has no CUnit).
 * bench/gpu/run.sh runs it; tests/test_gpu.c holds the same checks as CUnit
 * cases for machines that have both.
 *
 *   gpu_check check              GPU vs CPU, both mappings; exit 0 / 1
 *   gpu_check bench [--quick] [M]  fits/s per mapping, M and batch size (JSON
 *                                lines on stdout, a table on stderr); M: only
 *                                that number of points per slice
 *   gpu_check live               the ~100-slice live universe: latency median, p99
 *   gpu_check cpu                the CPU oracle's speed, one core (no device needed)
 *
 * Exit 77 when no CUDA device is usable, like the GPU tests. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "fit.h"
#include "gpu_smiles.h"
#include "kernels.h"

#define CHECK_TOL_W 1e-6
#define CHECK_TOL_P 1e-5
#define EXIT_SKIP 77

static const char *const mappings[2] = {"warp", "thread"};

static double wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int open_mapped(const char *mapping, int64_t max_slices, int64_t max_points,
                       struct kernels_ctx **c)
{
  char err[256];
  setenv("VOLSURF_GPU_MAPPING", mapping, 1);
  int rc = kernels_open(c, max_slices, max_points, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "kernels_open(%s): %d %s\n", mapping, rc, err);
  return rc;
}

/* ---- check ---------------------------------------------------------------- */

/* Fits 's' on the GPU into a poisoned buffer and on the CPU; prints one line
 * and returns the number of failed criteria. */
static int check_set(struct kernels_ctx *c, const char *mapping, const char *what,
                     const struct smiles *s, int with_warm, double tol_p)
{
  struct svi_lm_config cfg;
  size_t bytes = (size_t)s->n_slices * sizeof(struct svi_lm_result);
  struct svi_lm_result *gpu = malloc(bytes), *cpu = malloc(bytes);
  struct svi_lm_batch b = smiles_batch(s, with_warm);
  struct kernels_timing t;
  struct smiles_diff d;
  int fails = 0;

  if (!gpu || !cpu) {
    fprintf(stderr, "out of memory\n");
    free(gpu);
    free(cpu);
    return 1;
  }
  fit_config_default(&cfg);
  memset(gpu, SMILES_POISON, bytes);
  double t0 = wall_ms();
  smiles_fit_cpu(s, &cfg, with_warm, cpu);
  double cpu_ms = wall_ms() - t0;
  int rc = kernels_fit(c, &b, &cfg, gpu, &t);
  if (rc != 0) {
    printf("FAIL %-6s %-22s kernels_fit: %d %s\n", mapping, what, rc, kernels_last_error(c));
    free(gpu);
    free(cpu);
    return 1;
  }
  smiles_compare(s, gpu, cpu, CHECK_TOL_W, tol_p, &d);
  /* The same batch again: a deterministic fit gives bitwise equal results
   * (METHOD.md: a moving result is a race). */
  int64_t unequal = -1;
  struct svi_lm_result *again = malloc(bytes);
  if (again != NULL) {
    memset(again, SMILES_POISON, bytes);
    if (kernels_fit(c, &b, &cfg, again, NULL) == 0)
      unequal = smiles_count_unequal(gpu, again, s->n_slices);
    free(again);
  }
  fails =
      (d.n_unwritten > 0) + (d.n_status > 0) + (d.n_w_bad > 0) + (d.n_p_bad > 0) + (unequal != 0);
  printf("%s %-6s %-22s n=%lld unwritten=%lld status=%lld w_bad=%lld p_bad=%lld "
         "rerun_unequal=%lld max_dw=%.3g (slice %lld) max_dp=%.3g (slice %lld) max_diter=%d "
         "cpu_1thread=%.0f fits/s kernel=%.3f ms\n",
         fails ? "FAIL" : "ok  ", mapping, what, (long long)d.n, (long long)d.n_unwritten,
         (long long)d.n_status, (long long)d.n_w_bad, (long long)d.n_p_bad, (long long)unequal,
         d.max_dw, (long long)d.worst_w, d.max_dp, (long long)d.worst_p, d.max_diter,
         (double)s->n_slices / (cpu_ms * 1e-3), t.kernel_ms);
  if (fails && d.worst_w >= 0) {
    const struct svi_lm_result *g = &gpu[d.worst_w], *r = &cpu[d.worst_w];
    printf("     worst slice %lld: gpu (%.10g %.10g %.10g %.10g %.10g) st %#x it %d\n"
           "                     cpu (%.10g %.10g %.10g %.10g %.10g) st %#x it %d\n",
           (long long)d.worst_w, g->p.a, g->p.b, g->p.rho, g->p.m, g->p.sigma, g->status, g->n_iter,
           r->p.a, r->p.b, r->p.rho, r->p.m, r->p.sigma, r->status, r->n_iter);
  }
  if (d.first_status >= 0) {
    const struct svi_lm_result *g = &gpu[d.first_status], *r = &cpu[d.first_status];
    printf("     first status mismatch, slice %lld: gpu %#x it %d sse %.10g, cpu %#x it %d sse "
           "%.10g\n",
           (long long)d.first_status, g->status, g->n_iter, g->sse, r->status, r->n_iter, r->sse);
  }
  free(gpu);
  free(cpu);
  return fails;
}

/* The context-level contract: empty batch, bad input, growth, NOMEM. */
static int check_contract(struct kernels_ctx *c, const char *mapping)
{
  struct svi_lm_config cfg;
  struct svi_lm_batch b;
  struct svi_lm_result r;
  struct kernels_ctx *huge = NULL;
  char err[256];
  int fails = 0, rc;

  fit_config_default(&cfg);
  memset(&b, 0, sizeof b);
  int64_t zero = 0;
  b.offset = &zero;
  rc = kernels_fit(c, &b, &cfg, NULL, NULL);
  if (rc != 0) {
    printf("FAIL %-6s empty batch returned %d\n", mapping, rc);
    fails++;
  }
  int64_t bad_off[3] = {0, 10, 5};
  double T[2] = {0.1, 0.2}, x[10] = {0};
  b.n_slices = 2;
  b.offset = bad_off;
  b.T_years = T;
  b.k = b.w = b.wt = x;
  rc = kernels_fit(c, &b, &cfg, &r, NULL);
  if (rc != ERR_INPUT || kernels_last_error(c)[0] == '\0') {
    printf("FAIL %-6s decreasing offsets returned %d (%s)\n", mapping, rc, kernels_last_error(c));
    fails++;
  }
  /* 2^40 points (24 TiB) cannot be allocated anywhere: ERR_NOMEM, no context. */
  rc = kernels_open(&huge, 1, (int64_t)1 << 40, err, sizeof err);
  if (rc != ERR_NOMEM || huge != NULL || err[0] == '\0') {
    printf("FAIL %-6s impossible allocation returned %d (%s)\n", mapping, rc, err);
    fails++;
    kernels_close(huge);
  }
  printf("%s %-6s contract: empty batch, bad offsets, impossible allocation\n",
         fails ? "FAIL" : "ok  ", mapping);
  return fails;
}

/* A batch built in place in the staging (kernels_stage) gives bitwise the
 * results of the same batch copied in; a batch half inside is refused. */
static int check_staged(struct kernels_ctx *c, const char *mapping, const struct smiles *s)
{
  struct svi_lm_config cfg;
  struct kernels_stage st;
  size_t bytes = (size_t)s->n_slices * sizeof(struct svi_lm_result);
  struct svi_lm_result *copied = malloc(bytes), *in_place = malloc(bytes);
  struct svi_lm_batch b = smiles_batch(s, 1);
  int fails = 0;
  fit_config_default(&cfg);
  if (!copied || !in_place || kernels_fit(c, &b, &cfg, copied, NULL) != 0 ||
      kernels_stage(c, s->n_slices, s->n_points, 1, &st) != 0) {
    printf("FAIL %-6s staged: setup: %s\n", mapping, kernels_last_error(c));
    free(copied);
    free(in_place);
    return 1;
  }
  b = smiles_fill_stage(s, &st);
  memset(in_place, SMILES_POISON, bytes);
  int rc = kernels_fit(c, &b, &cfg, in_place, NULL);
  int64_t unequal = rc == 0 ? smiles_count_unequal(copied, in_place, s->n_slices) : -1;
  fails += rc != 0 || unequal != 0;
  b.k = st.k + 1; /* inside the staging, not where kernels_stage put it */
  rc = kernels_fit(c, &b, &cfg, in_place, NULL);
  fails += rc != ERR_INPUT;
  printf("%s %-6s staged in place: unequal=%lld, misplaced batch -> %d\n", fails ? "FAIL" : "ok  ",
         mapping, (long long)unequal, rc);
  free(copied);
  free(in_place);
  return fails;
}

static int run_check(void)
{
  struct smiles rnd, edge;
  int fails = 0;
  if (smiles_make(&rnd, 3000, SMILE_RANDOM, 0, 20261124) != 0 ||
      smiles_make(&edge, 8 * SMILE_N_KINDS, -1, 0, 77) != 0) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  for (int m = 0; m < 2; m++) {
    struct kernels_ctx *c = NULL;
    /* Room for 64 slices only: the 3000-slice set must grow the buffers. */
    int rc = open_mapped(mappings[m], 64, 64 * 20, &c);
    if (rc == ERR_NODEV) {
      smiles_free(&rnd);
      smiles_free(&edge);
      return EXIT_SKIP;
    }
    if (rc != 0)
      return 1;
    fails += check_set(c, mappings[m], "random cold", &rnd, 0, CHECK_TOL_P);
    fails += check_set(c, mappings[m], "random warm", &rnd, 1, CHECK_TOL_P);
    fails += check_set(c, mappings[m], "edge cold (w only)", &edge, 0, 0.0);
    fails += check_set(c, mappings[m], "edge warm (w only)", &edge, 1, 0.0);
    fails += check_contract(c, mappings[m]);
    fails += check_staged(c, mappings[m], &rnd);
    /* The context still works after the refused batch. */
    fails += check_set(c, mappings[m], "random after error", &rnd, 0, CHECK_TOL_P);
    kernels_close(c);
  }
  smiles_free(&rnd);
  smiles_free(&edge);
  printf("%s\n", fails ? "gpu_check: FAILED" : "gpu_check: all checks passed");
  return fails ? 1 : 0;
}

/* ---- timing --------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* q-quantile (nearest rank) of v[0..n), sorted in place. */
static double quantile(double *v, int n, double q)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  int i = (int)ceil(q * n) - 1;
  if (i < 0)
    i = 0;
  if (i >= n)
    i = n - 1;
  return v[i];
}

/* The build variant being timed (VOLSURF_BENCH_VARIANT; run.sh sets it). */
static const char *variant(void)
{
  const char *v = getenv("VOLSURF_BENCH_VARIANT");
  return v != NULL && *v != '\0' ? v : "base";
}

struct bench_case {
  const char *label;
  int64_t n;
  int m_points; /* -1: random 20..60 */
  int with_warm;
  int reps;
};

/* Times one case on one context; prints a JSON line to stdout and a table
 * row to stderr.  Returns 0 or the kernels_fit error. */
static int time_case(struct kernels_ctx *c, const char *mapping, const struct bench_case *bc,
                     const struct smiles *s, int staged)
{
  struct svi_lm_config cfg;
  struct svi_lm_batch b = smiles_batch(s, bc->with_warm);
  struct kernels_stage st;
  struct kernels_timing t;
  struct svi_lm_result *out = malloc((size_t)s->n_slices * sizeof *out);
  double *kern = malloc((size_t)bc->reps * sizeof(double));
  double *tot = malloc((size_t)bc->reps * sizeof(double));
  double *h2d = malloc((size_t)bc->reps * sizeof(double));
  double *d2h = malloc((size_t)bc->reps * sizeof(double));
  int rc = 0;

  if (!out || !kern || !tot || !h2d || !d2h) {
    rc = ERR_NOMEM;
    goto done;
  }
  fit_config_default(&cfg);
  if (staged) {
    /* The caller builds its batch in the pinned staging (not timed: that
     * is the caller's batch building, which happens either way). */
    rc = kernels_stage(c, s->n_slices, s->n_points, 1, &st);
    if (rc != 0)
      goto done;
    b = smiles_fill_stage(s, &st);
    if (!bc->with_warm) {
      b.warm = NULL;
      b.has_warm = NULL;
    }
  }
  for (int w = 0; w < 2; w++) { /* warm-up: buffer growth, module load */
    rc = kernels_fit(c, &b, &cfg, out, &t);
    if (rc != 0)
      goto done;
  }
  for (int r = 0; r < bc->reps; r++) {
    rc = kernels_fit(c, &b, &cfg, out, &t);
    if (rc != 0)
      goto done;
    kern[r] = t.kernel_ms;
    tot[r] = t.total_ms;
    h2d[r] = t.h2d_ms;
    d2h[r] = t.d2h_ms;
  }
  double iters = 0.0, conv = 0.0;
  for (int64_t i = 0; i < s->n_slices; i++) {
    iters += out[i].n_iter;
    conv += (out[i].status & SVI_LM_CONVERGED) != 0;
  }
  iters /= (double)s->n_slices;
  conv /= (double)s->n_slices;
  double k50 = quantile(kern, bc->reps, 0.5), k99 = quantile(kern, bc->reps, 0.99);
  double t50 = quantile(tot, bc->reps, 0.5), t99 = quantile(tot, bc->reps, 0.99);
  double h50 = quantile(h2d, bc->reps, 0.5), d50 = quantile(d2h, bc->reps, 0.5);
  double mean_m = (double)s->n_points / (double)s->n_slices;
  printf("{\"variant\":\"%s\",\"case\":\"%s\",\"mapping\":\"%s\",\"kernel\":\"%s\","
         "\"staged\":%d,\"n_slices\":%lld,\"mean_points\":%.2f,\"warm\":%d,\"reps\":%d,\"kernel_ms_"
         "median\":%.6g,"
         "\"kernel_ms_p99\":%.6g,"
         "\"total_ms_median\":%.6g,\"total_ms_p99\":%.6g,\"h2d_ms_median\":%.6g,"
         "\"d2h_ms_median\":%.6g,\"kernel_fits_per_s\":%.6g,\"e2e_fits_per_s\":%.6g,"
         "\"mean_iter\":%.3f,\"converged_frac\":%.4f}\n",
         variant(), bc->label, mapping, kernels_mapping_name(c, s->n_slices), staged,
         (long long)s->n_slices, mean_m, bc->with_warm, bc->reps, k50, k99, t50, t99, h50, d50,
         (double)s->n_slices / (k50 * 1e-3), (double)s->n_slices / (t50 * 1e-3), iters, conv);
  fflush(stdout);
  fprintf(stderr,
          "%-5s %-6s %-6s %-6s %9lld %5.1f %4s | kernel %10.4f ms (p99 %10.4f) %9.3g fits/s | e2e "
          "%10.4f "
          "ms (p99 %10.4f) %9.3g fits/s | h2d %8.4f d2h %8.4f | iter %5.2f\n",
          variant(), bc->label, mapping, staged ? "staged" : "copied", (long long)s->n_slices,
          mean_m, bc->with_warm ? "warm" : "cold", k50, k99, (double)s->n_slices / (k50 * 1e-3),
          t50, t99, (double)s->n_slices / (t50 * 1e-3), h50, d50, iters);
done:
  if (rc != 0)
    fprintf(stderr, "%s %s n=%lld: kernels_fit %d %s\n", bc->label, mapping, (long long)s->n_slices,
            rc, kernels_last_error(c));
  free(out);
  free(kern);
  free(tot);
  free(h2d);
  free(d2h);
  return rc;
}

/* Repeats so each case runs roughly 0.2 s-worth of fits at ~1e7 fits/s, at
 * least 3 and at most 300 times. */
static int reps_for(int64_t n)
{
  int64_t r = 2000000 / (n > 0 ? n : 1);
  if (r < 3)
    r = 3;
  if (r > 300)
    r = 300;
  return (int)r;
}

static int run_cases(const struct bench_case *cases, int n_cases)
{
  struct kernels_ctx *ctx[2] = {NULL, NULL};
  int rc = 0;
  for (int m = 0; m < 2; m++) {
    rc = open_mapped(mappings[m], 1024, 1024 * 50, &ctx[m]);
    if (rc != 0)
      goto done;
  }
  for (int i = 0; i < n_cases; i++) {
    struct smiles s;
    if (smiles_make(&s, cases[i].n, SMILE_RANDOM, cases[i].m_points, 1000 + (uint64_t)i) != 0) {
      fprintf(stderr, "%s n=%lld M=%d: out of host memory, skipped\n", cases[i].label,
              (long long)cases[i].n, cases[i].m_points);
      continue;
    }
    /* Copied in (the default path) always; built in place in the staging
     * for the live case and from 1e5 slices, where end to end matters. */
    int staged_too = cases[i].n >= 100000 || strcmp(cases[i].label, "live") == 0;
    for (int m = 0; m < 2 && rc == 0; m++)
      for (int staged = 0; staged <= staged_too && rc == 0; staged++) {
        rc = time_case(ctx[m], mappings[m], &cases[i], &s, staged);
        if (rc == ERR_NOMEM) /* too big for this device: note and go on */
          rc = 0;
      }
    smiles_free(&s);
    if (rc != 0)
      break;
  }
done:
  kernels_close(ctx[0]);
  kernels_close(ctx[1]);
  return rc == ERR_NODEV ? EXIT_SKIP : (rc != 0);
}

/* Batch sizes 1e2..1e7 for M in {20, 50, 100}, capped at 5e8 points (12 GB
 * per copy of the data) so the whole sweep stays inside one 10-minute call. */
static int run_bench(int quick, int only_m)
{
  static const int ms[3] = {20, 50, 100};
  struct bench_case cases[3 * 6 + 1];
  int n = 0;
  int64_t max_points = quick ? 50000000 : 500000000;
  for (int j = 0; j < 3; j++)
    for (int64_t size = 100; size <= 10000000; size *= 10) {
      if (size * ms[j] > max_points || (only_m > 0 && ms[j] != only_m))
        continue;
      cases[n].label = "grid";
      cases[n].n = size;
      cases[n].m_points = ms[j];
      cases[n].with_warm = 0;
      cases[n].reps = quick && reps_for(size) > 20 ? 20 : reps_for(size);
      n++;
    }
  return run_cases(cases, n);
}

/* ~100 slices of 20..60 points (BTC, ETH, SOL across four venues), cold and
 * warm, many repeats for a p99. */
static int run_live(void)
{
  struct bench_case cases[2] = {{"live", 100, -1, 0, 2000}, {"live", 100, -1, 1, 2000}};
  return run_cases(cases, 2);
}

/* The CPU oracle's own speed on the same smiles (one core, no device
 * needed): the single-thread baseline the GPU numbers are compared with. */
static int run_cpu(void)
{
  static const int ms[4] = {20, 50, 100, -1};
  struct svi_lm_config cfg;
  fit_config_default(&cfg);
  for (int j = 0; j < 4; j++)
    for (int warm = 0; warm <= 1; warm++) {
      struct smiles s;
      int64_t n = 3000;
      if (smiles_make(&s, n, SMILE_RANDOM, ms[j], 4242) != 0)
        return 1;
      struct svi_lm_result *out = malloc((size_t)n * sizeof *out);
      if (out == NULL)
        return 1;
      double t0 = wall_ms();
      smiles_fit_cpu(&s, &cfg, warm, out);
      double dt_ms = wall_ms() - t0;
      double iters = 0.0;
      for (int64_t i = 0; i < n; i++)
        iters += out[i].n_iter;
      printf("{\"variant\":\"cpu_1thread\",\"mean_points\":%.2f,\"warm\":%d,\"n_slices\":%lld,"
             "\"fits_per_s\":%.6g,\"us_per_fit\":%.4g,\"mean_iter\":%.3f}\n",
             (double)s.n_points / (double)n, warm, (long long)n, (double)n / (dt_ms * 1e-3),
             dt_ms * 1e3 / (double)n, iters / (double)n);
      free(out);
      smiles_free(&s);
    }
  return 0;
}

int main(int argc, char **argv)
{
  const char *cmd = argc > 1 ? argv[1] : "check";
  int quick = 0, only_m = 0;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0)
      quick = 1;
    else
      only_m = atoi(argv[i]);
  }
  if (strcmp(cmd, "cpu") == 0)
    return run_cpu();
  if (kernels_device_count() == 0) {
    fprintf(stderr, "gpu_check: no CUDA device, skipped\n");
    return EXIT_SKIP;
  }
  if (strcmp(cmd, "check") == 0)
    return run_check();
  if (strcmp(cmd, "bench") == 0)
    return run_bench(quick, only_m);
  if (strcmp(cmd, "live") == 0)
    return run_live();
  fprintf(stderr, "usage: gpu_check check | bench [--quick] [M] | live | cpu\n");
  return 2;
}
