/* test_gpu: the CUDA fitter (kernels/fit_gpu.cu) against its CPU twin.
 *
 * The oracle is svi_lm_fit run on the host with lane 0 of 1: the same
 * algorithm, scheduled differently, so fits must agree to rounding (w within
 * 1e-6 on a dense k grid, parameters within 1e-5 (1 + |p|) on well-posed
 * slices, identical status bits).  Both mappings (one thread per slice, one
 * warp per slice) are checked.  Exits 77 (skipped) without a CUDA device, so
 * CPU-only machines and CI pass; bench/gpu/gpu_check.c runs the same checks
 * where CUnit is missing. */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "fit.h"
#include "kernels.h"
#include "testutil.h"

#include "../bench/gpu/gpu_smiles.h"

#define TOL_W 1e-6
#define TOL_P 1e-5

static struct kernels_ctx *open_with(const char *mapping, int64_t max_slices, int64_t max_points)
{
  struct kernels_ctx *c = NULL;
  char err[256] = "";
  setenv("VOLSURF_GPU_MAPPING", mapping, 1);
  int rc = kernels_open(&c, max_slices, max_points, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "\n  kernels_open(%s): %d %s\n", mapping, rc, err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  return c;
}

/* Fits 's' on the GPU (into a poisoned buffer) and on the CPU and asserts
 * they agree; tol_p <= 0 checks w and status only. */
static void expect_gpu_matches_cpu(const char *mapping, const struct smiles *s, int with_warm,
                                   double tol_p)
{
  struct svi_lm_config cfg;
  size_t bytes = (size_t)s->n_slices * sizeof(struct svi_lm_result);
  struct svi_lm_result *gpu = malloc(bytes), *cpu = malloc(bytes);
  struct svi_lm_batch b = smiles_batch(s, with_warm);
  struct smiles_diff d;
  CU_ASSERT_PTR_NOT_NULL_FATAL(gpu);
  CU_ASSERT_PTR_NOT_NULL_FATAL(cpu);
  fit_config_default(&cfg);
  struct kernels_ctx *c = open_with(mapping, 16, 16 * 20);
  memset(gpu, SMILES_POISON, bytes);
  smiles_fit_cpu(s, &cfg, with_warm, cpu);
  int rc = kernels_fit(c, &b, &cfg, gpu, NULL);
  if (rc != 0)
    fprintf(stderr, "\n  kernels_fit(%s): %d %s\n", mapping, rc, kernels_last_error(c));
  CU_ASSERT_EQUAL(rc, 0);
  if (rc == 0) {
    smiles_compare(s, gpu, cpu, TOL_W, tol_p, &d);
    if (d.n_unwritten || d.n_status || d.n_w_bad || d.n_p_bad)
      fprintf(stderr,
              "\n  %s: unwritten %lld, status %lld, w %lld (max %.3g at %lld), p %lld (max %.3g "
              "at %lld)\n",
              mapping, (long long)d.n_unwritten, (long long)d.n_status, (long long)d.n_w_bad,
              d.max_dw, (long long)d.worst_w, (long long)d.n_p_bad, d.max_dp, (long long)d.worst_p);
    CU_ASSERT_EQUAL(d.n_unwritten, 0);
    CU_ASSERT_EQUAL(d.n_status, 0);
    CU_ASSERT_EQUAL(d.n_w_bad, 0);
    CU_ASSERT_EQUAL(d.n_p_bad, 0);
    /* The same batch again is bitwise the same (no race, no unwritten read). */
    memset(cpu, SMILES_POISON, bytes);
    CU_ASSERT_EQUAL(kernels_fit(c, &b, &cfg, cpu, NULL), 0);
    CU_ASSERT_EQUAL(smiles_count_unequal(gpu, cpu, s->n_slices), 0);
  }
  kernels_close(c);
  free(gpu);
  free(cpu);
}

static void random_smiles(const char *mapping, int with_warm)
{
  struct smiles s;
  CU_ASSERT_EQUAL_FATAL(smiles_make(&s, 1000, SMILE_RANDOM, 0, 1234), 0);
  expect_gpu_matches_cpu(mapping, &s, with_warm, TOL_P);
  smiles_free(&s);
}

/* Five points, rho near +-1, sigma 1e-3, strikes over 6-8 standard
 * deviations, too few points, a NaN: parameters of such slices can be
 * ill-determined, so w and status are what must agree. */
static void edge_smiles(const char *mapping, int with_warm)
{
  struct smiles s;
  CU_ASSERT_EQUAL_FATAL(smiles_make(&s, 16 * SMILE_N_KINDS, -1, 0, 99), 0);
  expect_gpu_matches_cpu(mapping, &s, with_warm, 0.0);
  smiles_free(&s);
}

static void warp_fit_matches_cpu_on_random_crypto_smiles(void)
{
  random_smiles("warp", 0);
}

static void thread_fit_matches_cpu_on_random_crypto_smiles(void)
{
  random_smiles("thread", 0);
}

static void warp_fit_matches_cpu_from_warm_starts(void)
{
  random_smiles("warp", 1);
}

static void thread_fit_matches_cpu_from_warm_starts(void)
{
  random_smiles("thread", 1);
}

static void warp_fit_matches_cpu_on_edge_smiles(void)
{
  edge_smiles("warp", 0);
}

static void thread_fit_matches_cpu_on_edge_smiles(void)
{
  edge_smiles("thread", 0);
}

/* The context opens with room for 16 slices; 5000 must grow the buffers,
 * and a second, smaller batch must reuse them with no stale results. */
static void batch_larger_than_the_allocation_grows_and_then_smaller_batch_reuses(void)
{
  struct smiles big, small;
  struct svi_lm_config cfg;
  fit_config_default(&cfg);
  CU_ASSERT_EQUAL_FATAL(smiles_make(&big, 5000, SMILE_RANDOM, 50, 5), 0);
  CU_ASSERT_EQUAL_FATAL(smiles_make(&small, 7, SMILE_RANDOM, 30, 6), 0);
  struct svi_lm_result *out = malloc((size_t)big.n_slices * sizeof *out);
  struct svi_lm_result *ref = malloc((size_t)big.n_slices * sizeof *ref);
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
  struct kernels_ctx *c = open_with("warp", 16, 16 * 50);
  struct smiles *sets[2] = {&big, &small};
  for (int i = 0; i < 2; i++) {
    struct svi_lm_batch b = smiles_batch(sets[i], 0);
    struct smiles_diff d;
    memset(out, SMILES_POISON, (size_t)big.n_slices * sizeof *out);
    CU_ASSERT_EQUAL(kernels_fit(c, &b, &cfg, out, NULL), 0);
    smiles_fit_cpu(sets[i], &cfg, 0, ref);
    smiles_compare(sets[i], out, ref, TOL_W, TOL_P, &d);
    CU_ASSERT_EQUAL(d.n_unwritten, 0);
    CU_ASSERT_EQUAL(d.n_w_bad, 0);
    /* Nothing is written past the batch. */
    CU_ASSERT(i == 0 || smiles_poisoned(&out[sets[i]->n_slices]));
  }
  kernels_close(c);
  free(out);
  free(ref);
  smiles_free(&big);
  smiles_free(&small);
}

/* A batch whose offsets do not start at 0 (a window into a larger array). */
static void batch_with_offsets_not_starting_at_zero_is_fitted(void)
{
  struct smiles s;
  struct svi_lm_config cfg;
  struct svi_lm_result gpu[10], cpu[10];
  fit_config_default(&cfg);
  CU_ASSERT_EQUAL_FATAL(smiles_make(&s, 20, SMILE_RANDOM, 0, 8), 0);
  struct svi_lm_batch b = smiles_batch(&s, 0);
  b.n_slices = 10;
  b.offset = s.offset + 10;
  b.T_years = s.T_years + 10;
  struct kernels_ctx *c = open_with("warp", 4, 64);
  CU_ASSERT_EQUAL(kernels_fit(c, &b, &cfg, gpu, NULL), 0);
  for (int i = 0; i < 10; i++) {
    int64_t o = s.offset[10 + i];
    svi_lm_fit(s.k + o, s.w + o, s.wt + o, (int)(s.offset[11 + i] - o), s.T_years[10 + i], NULL,
               &cfg, 0, 1, &cpu[i]);
    CU_ASSERT_EQUAL(gpu[i].status, cpu[i].status);
    CU_ASSERT_EQUAL(gpu[i].n_points, cpu[i].n_points);
    ASSERT_NEAR(gpu[i].p.a, cpu[i].p.a, TOL_P * (1.0 + fabs(cpu[i].p.a)));
    ASSERT_NEAR(gpu[i].sse, cpu[i].sse, 1e-6 * (1.0 + cpu[i].sse));
  }
  kernels_close(c);
  smiles_free(&s);
}

/* A batch built in place in the pinned staging (kernels_stage) is sent
 * without a copy and gives bitwise the results of the same batch copied in;
 * a batch pointing into the staging elsewhere is refused. */
static void batch_built_in_the_staging_fits_like_a_copied_one(void)
{
  struct smiles s;
  struct svi_lm_config cfg;
  struct kernels_stage st;
  fit_config_default(&cfg);
  CU_ASSERT_EQUAL_FATAL(smiles_make(&s, 300, SMILE_RANDOM, 0, 21), 0);
  struct svi_lm_result *copied = malloc(300 * sizeof *copied);
  struct svi_lm_result *in_place = malloc(300 * sizeof *in_place);
  CU_ASSERT_PTR_NOT_NULL_FATAL(copied);
  CU_ASSERT_PTR_NOT_NULL_FATAL(in_place);
  struct kernels_ctx *c = open_with("warp", 4, 64);
  struct svi_lm_batch b = smiles_batch(&s, 1);
  CU_ASSERT_EQUAL(kernels_fit(c, &b, &cfg, copied, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(kernels_stage(c, s.n_slices, s.n_points, 1, &st), 0);
  b = smiles_fill_stage(&s, &st);
  memset(in_place, SMILES_POISON, 300 * sizeof *in_place);
  CU_ASSERT_EQUAL(kernels_fit(c, &b, &cfg, in_place, NULL), 0);
  CU_ASSERT_EQUAL(smiles_count_unequal(copied, in_place, s.n_slices), 0);
  b.wt = st.wt + 1;
  CU_ASSERT_EQUAL(kernels_fit(c, &b, &cfg, in_place, NULL), ERR_INPUT);
  kernels_close(c);
  free(copied);
  free(in_place);
  smiles_free(&s);
}

static void empty_batch_returns_at_once(void)
{
  struct svi_lm_config cfg;
  struct svi_lm_batch b;
  struct kernels_timing t;
  int64_t zero = 0;
  fit_config_default(&cfg);
  memset(&b, 0, sizeof b);
  b.offset = &zero;
  struct kernels_ctx *c = open_with("warp", 4, 64);
  CU_ASSERT_EQUAL(kernels_fit(c, &b, &cfg, NULL, &t), 0);
  CU_ASSERT_EQUAL(t.kernel_ms, 0.0);
  kernels_close(c);
}

/* Bad input is refused with a message, and the context still fits after. */
static void decreasing_offsets_are_refused_and_the_context_stays_usable(void)
{
  struct svi_lm_config cfg;
  struct svi_lm_batch b;
  struct svi_lm_result r[2];
  int64_t bad[3] = {0, 10, 5};
  double T[2] = {0.1, 0.2}, x[10] = {0};
  fit_config_default(&cfg);
  memset(&b, 0, sizeof b);
  b.n_slices = 2;
  b.offset = bad;
  b.T_years = T;
  b.k = b.w = b.wt = x;
  struct kernels_ctx *c = open_with("thread", 4, 64);
  CU_ASSERT_EQUAL(kernels_fit(c, &b, &cfg, r, NULL), ERR_INPUT);
  CU_ASSERT(strlen(kernels_last_error(c)) > 0);
  struct smiles s;
  CU_ASSERT_EQUAL_FATAL(smiles_make(&s, 2, SMILE_RANDOM, 20, 3), 0);
  b = smiles_batch(&s, 0);
  CU_ASSERT_EQUAL(kernels_fit(c, &b, &cfg, r, NULL), 0);
  CU_ASSERT_EQUAL(r[0].n_points, 20);
  kernels_close(c);
  smiles_free(&s);
}

static void impossible_allocation_reports_nomem_with_a_reason(void)
{
  static char sentinel;
  struct kernels_ctx *c = (struct kernels_ctx *)&sentinel; /* kernels_open must reset it */
  char err[256] = "";
  setenv("VOLSURF_GPU_MAPPING", "warp", 1);
  CU_ASSERT_EQUAL(kernels_open(&c, 1, (int64_t)1 << 40, err, sizeof err), ERR_NOMEM);
  CU_ASSERT_PTR_NULL(c);
  CU_ASSERT(strlen(err) > 0);
}

static void unknown_mapping_is_refused(void)
{
  struct kernels_ctx *c = NULL;
  char err[256] = "";
  setenv("VOLSURF_GPU_MAPPING", "block", 1);
  CU_ASSERT_EQUAL(kernels_open(&c, 1, 10, err, sizeof err), ERR_INPUT);
  CU_ASSERT_PTR_NULL(c);
  CU_ASSERT(strstr(err, "VOLSURF_GPU_MAPPING") != NULL);
  setenv("VOLSURF_GPU_MAPPING", "warp", 1);
}

static void timings_are_reported_and_fit_time_is_kernel_time_per_slice(void)
{
  struct smiles s;
  struct svi_lm_config cfg;
  struct kernels_timing t;
  struct svi_lm_result out[64];
  fit_config_default(&cfg);
  CU_ASSERT_EQUAL_FATAL(smiles_make(&s, 64, SMILE_RANDOM, 50, 11), 0);
  struct svi_lm_batch b = smiles_batch(&s, 0);
  struct kernels_ctx *c = open_with("warp", 64, 64 * 50);
  CU_ASSERT_EQUAL(kernels_fit(c, &b, &cfg, out, &t), 0);
  CU_ASSERT(t.h2d_ms > 0.0 && t.kernel_ms > 0.0 && t.d2h_ms > 0.0);
  CU_ASSERT(t.total_ms >= t.h2d_ms + t.kernel_ms + t.d2h_ms - 1e-3);
  ASSERT_REL(out[0].fit_time_us, t.kernel_ms * 1e3 / 64.0, 1e-9);
  kernels_close(c);
  smiles_free(&s);
}

int main(void)
{
  if (kernels_device_count() == 0) {
    fprintf(stderr, "test_gpu: no CUDA device, skipped\n");
    return TEST_SKIP;
  }
  static const struct test_case cases[] = {
      TEST_CASE(warp_fit_matches_cpu_on_random_crypto_smiles),
      TEST_CASE(thread_fit_matches_cpu_on_random_crypto_smiles),
      TEST_CASE(warp_fit_matches_cpu_from_warm_starts),
      TEST_CASE(thread_fit_matches_cpu_from_warm_starts),
      TEST_CASE(warp_fit_matches_cpu_on_edge_smiles),
      TEST_CASE(thread_fit_matches_cpu_on_edge_smiles),
      TEST_CASE(batch_larger_than_the_allocation_grows_and_then_smaller_batch_reuses),
      TEST_CASE(batch_with_offsets_not_starting_at_zero_is_fitted),
      TEST_CASE(batch_built_in_the_staging_fits_like_a_copied_one),
      TEST_CASE(empty_batch_returns_at_once),
      TEST_CASE(decreasing_offsets_are_refused_and_the_context_stays_usable),
      TEST_CASE(impossible_allocation_reports_nomem_with_a_reason),
      TEST_CASE(unknown_mapping_is_refused),
      TEST_CASE(timings_are_reported_and_fit_time_is_kernel_time_per_slice),
  };
  return test_run("gpu", cases, TEST_COUNT(cases));
}
