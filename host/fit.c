/* fit: the CPU side of calibration.  fit_slice and fit_batch_cpu run the
 * shared algorithm of kernels/svi_lm.h (lane 0 of 1); struct fitter picks the
 * backend per batch and falls back from the GPU to the CPU on any CUDA
 * error, so calibration never stops.
 *
 * Invariants: fitting allocates nothing; a slice's result depends only on
 * its points, its warm start and the config, never on the thread that fitted
 * it or on the thread count. */
#define _POSIX_C_SOURCE 200809L
#include "fit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "kernels.h"
#include "log.h"
#include "now.h"

/* Slices a worker claims at a time: small enough to balance uneven slices,
 * large enough that the atomic is not contended. */
#define FIT_CHUNK 8
#define FIT_MAX_THREADS 256
/* Initial device buffer sizes; kernels_fit grows them when a batch is larger. */
#define FIT_GPU_SLICES 1024
#define FIT_GPU_POINTS (1 << 17)

void fit_config_default(struct svi_lm_config *c)
{
  /* 60 iterations: a cold fit typically needs 10-25, a warm one 2-5; the cap
   * bounds the worst case (and the GPU warp's time).  1e-12 relative SSE and
   * 1e-10 relative step are near the double-precision floor of a 5-parameter
   * problem without wasting iterations on rounding noise.  m_pad 0.5 lets the
   * vertex sit a little outside one-sided chains.  sigma in [1e-4, 5]: below
   * 1e-4 the smile is a kink at quote resolution, above 5 it is a parabola
   * over any listed strike range.  A 5x5 start grid is the cheapest that
   * reliably finds the right basin on wide crypto strike ranges. */
  c->max_iter = 60;
  c->tol_rel_sse = 1e-12;
  c->tol_step = 1e-10;
  c->m_pad = 0.5;
  c->sigma_min = 1e-4;
  c->sigma_max = 5.0;
  c->start_grid = 5;
}

int fit_slice(const struct slice *s, const struct svi *warm, const struct svi_lm_config *c,
              struct svi_lm_result *out)
{
  double t0 = (double)now_mono_us();
  svi_lm_fit(s->k, s->w, s->weight, s->n, s->T_years, warm, c, 0, 1, out);
  out->fit_time_us = (double)now_mono_us() - t0;
  return (out->status & SVI_LM_TOO_FEW) ? ERR_INPUT : 0;
}

/* One slice of a batch. */
static void fit_batch_one(const struct svi_lm_batch *b, const struct svi_lm_config *c, int64_t i,
                          struct svi_lm_result *out)
{
  int64_t lo = b->offset[i];
  int n = (int)(b->offset[i + 1] - lo);
  const struct svi *warm = NULL;
  if (b->warm && (!b->has_warm || b->has_warm[i]))
    warm = &b->warm[i];
  double t0 = (double)now_mono_us();
  svi_lm_fit(b->k + lo, b->w + lo, b->wt + lo, n, b->T_years ? b->T_years[i] : 0.0, warm, c, 0, 1,
             &out[i]);
  out[i].fit_time_us = (double)now_mono_us() - t0;
}

struct fit_job {
  const struct svi_lm_batch *b;
  const struct svi_lm_config *c;
  struct svi_lm_result *out;
  atomic_llong next;
};

static void *fit_worker(void *arg)
{
  struct fit_job *job = arg;
  for (;;) {
    long long i0 = atomic_fetch_add(&job->next, FIT_CHUNK);
    if (i0 >= job->b->n_slices)
      break;
    long long i1 = i0 + FIT_CHUNK;
    if (i1 > job->b->n_slices)
      i1 = job->b->n_slices;
    for (long long i = i0; i < i1; i++)
      fit_batch_one(job->b, job->c, i, job->out);
  }
  return NULL;
}

static int fit_batch_check(const struct svi_lm_batch *b)
{
  if (!b || b->n_slices < 0 || (b->n_slices > 0 && (!b->offset || !b->k || !b->w || !b->wt)))
    return ERR_INPUT;
  for (int64_t i = 0; i < b->n_slices; i++) {
    int64_t n = b->offset[i + 1] - b->offset[i];
    if (b->offset[i] < 0 || n < 0 || n > 0x7fffffff)
      return ERR_INPUT;
  }
  return 0;
}

int fit_batch_cpu(const struct svi_lm_batch *b, const struct svi_lm_config *c, int n_threads,
                  struct svi_lm_result *out)
{
  if (!c || !out || fit_batch_check(b) != 0)
    return ERR_INPUT;
  if (n_threads <= 0) {
    long nc = sysconf(_SC_NPROCESSORS_ONLN);
    n_threads = nc > 0 ? (int)nc : 1;
  }
  if (n_threads > FIT_MAX_THREADS)
    n_threads = FIT_MAX_THREADS;
  int64_t n_chunks = (b->n_slices + FIT_CHUNK - 1) / FIT_CHUNK;
  if (n_threads > n_chunks)
    n_threads = n_chunks > 0 ? (int)n_chunks : 1;

  struct fit_job job = {.b = b, .c = c, .out = out};
  atomic_init(&job.next, 0);
  if (n_threads == 1) {
    fit_worker(&job);
    return 0;
  }
  pthread_t th[FIT_MAX_THREADS];
  int started = 0, rc = 0;
  /* The calling thread is worker 0. */
  for (int t = 1; t < n_threads; t++) {
    if (pthread_create(&th[t], NULL, fit_worker, &job) != 0) {
      rc = ERR_NOMEM;
      break;
    }
    started++;
  }
  /* Even when a thread failed to start, the ones running (and this one)
   * finish every slice: the work queue is shared. */
  fit_worker(&job);
  for (int t = 1; t <= started; t++)
    pthread_join(th[t], NULL);
  return rc;
}

struct fitter {
  int backend;             /* what was asked for */
  int n_threads;           /* CPU threads, 0 = all cores */
  struct kernels_ctx *gpu; /* NULL: the CPU fits */
  long n_fallbacks;        /* GPU -> CPU switches */
  int logged;              /* the fallback was logged */
};

/* AUTO's switch to the CPU: logged once, counted every time. */
static void fitter_fall_back(struct fitter *f, const char *why)
{
  if (!f->logged)
    log_msg(LOG_WARN, 0, "fitter: GPU unavailable (%s); fitting on the CPU", why);
  f->logged = 1;
  f->n_fallbacks++;
  kernels_close(f->gpu);
  f->gpu = NULL;
}

int fitter_new(int backend, int n_threads, struct fitter **out, char *err, size_t errlen)
{
  char why[256] = "";
  *out = NULL;
  if (backend != FIT_BACKEND_AUTO && backend != FIT_BACKEND_CPU && backend != FIT_BACKEND_GPU) {
    if (err && errlen > 0)
      snprintf(err, errlen, "unknown fit backend %d", backend);
    return ERR_INPUT;
  }
  struct fitter *f = calloc(1, sizeof *f);
  if (!f) {
    if (err && errlen > 0)
      snprintf(err, errlen, "out of memory");
    return ERR_NOMEM;
  }
  f->backend = backend;
  f->n_threads = n_threads;
  if (backend != FIT_BACKEND_CPU) {
    int rc = kernels_open(&f->gpu, FIT_GPU_SLICES, FIT_GPU_POINTS, why, sizeof why);
    if (rc != 0) {
      f->gpu = NULL;
      if (backend == FIT_BACKEND_GPU) {
        if (err && errlen > 0)
          snprintf(err, errlen, "%s", why);
        free(f);
        return rc;
      }
      fitter_fall_back(f, why);
    }
  }
  *out = f;
  return 0;
}

int fitter_run(struct fitter *f, const struct svi_lm_batch *b, const struct svi_lm_config *c,
               struct svi_lm_result *out)
{
  if (!f || !c || !out || fit_batch_check(b) != 0)
    return ERR_INPUT;
  if (f->gpu) {
    int rc = kernels_fit(f->gpu, b, c, out, NULL);
    if (rc == 0)
      return 0;
    if (f->backend == FIT_BACKEND_GPU)
      return rc;
    fitter_fall_back(f, kernels_last_error(f->gpu));
  }
  return fit_batch_cpu(b, c, f->n_threads, out);
}

const char *fitter_backend_name(const struct fitter *f)
{
  return f && f->gpu ? "gpu" : "cpu";
}

long fitter_n_fallbacks(const struct fitter *f)
{
  return f ? f->n_fallbacks : 0;
}

void fitter_free(struct fitter *f)
{
  if (!f)
    return;
  kernels_close(f->gpu);
  free(f);
}

int fit_backend_parse(const char *name)
{
  if (!name)
    return ERR_INPUT;
  if (strcmp(name, "auto") == 0)
    return FIT_BACKEND_AUTO;
  if (strcmp(name, "cpu") == 0)
    return FIT_BACKEND_CPU;
  if (strcmp(name, "gpu") == 0)
    return FIT_BACKEND_GPU;
  return ERR_INPUT;
}
