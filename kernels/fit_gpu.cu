/* fit_gpu: kernels.h on a CUDA GPU.  host/fit.c hands a batch of slices
 * (structure of arrays) to kernels_fit; one kernel launch fits every slice
 * with svi_lm_fit, the same code the CPU fitter runs.
 *
 * Per batch: the caller's arrays are packed into one pinned staging block
 * (offsets rebased to 0, T, warm starts and their flags, k, w, wt), sent with
 * one async H2D copy on the context's stream, fitted by one kernel, and the
 * results come back with one D2H copy.  Device and pinned buffers belong to
 * the context: sized at kernels_open, grown (x2 or to the need) only when a
 * batch exceeds them, never allocated by a kernel.  Every runtime call is
 * checked and cudaGetLastError follows every launch; a failure becomes
 * ERR_DEVICE / ERR_NOMEM with the message on the context.  After ERR_DEVICE
 * the context refuses further work (a sticky CUDA error poisons it), and the
 * caller falls back to the CPU. */
#include <cuda_runtime.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "kernels.h"

/* Threads per block for both kernels: 4 warps keeps the grid fine-grained
 * for small batches and lets the register-heavy FP64 code still fit
 * several blocks per SM. */
#define KERNELS_BLOCK 128
#define KERNELS_WARP 32
/* Resident blocks per SM the compiler must make room for (the second
 * __launch_bounds__ argument).  1 lets svi_lm_fit keep everything in
 * registers (~190-210, no spills, 2 blocks per SM); 3 caps at 168 registers
 * with ~100 bytes of spills; bench/gpu/ptxas.txt has the table.  Which wins
 * is a measurement (bench/gpu/run.sh times a KERNELS_MIN_BLOCKS=3 build). */
#ifndef KERNELS_MIN_BLOCKS
#define KERNELS_MIN_BLOCKS 1
#endif
/* Section alignment inside the packed input block. */
#define KERNELS_ALIGN 256

enum { KERNELS_MAP_WARP = 0, KERNELS_MAP_THREAD = 1, KERNELS_MAP_AUTO = 2 };

/* Device pointers and sizes of one batch, passed by value to the kernels. */
struct fit_args {
  int64_t n_slices;
  const int64_t *offset; /* n_slices + 1, rebased so offset[0] == 0 */
  const double *T_years;
  const struct svi *warm;        /* NULL: no warm starts */
  const unsigned char *has_warm; /* NULL iff warm is NULL */
  const double *k, *w, *wt;
  struct svi_lm_result *out;
  struct svi_lm_config cfg;
};

/* Byte offsets of the sections of the packed input block. */
struct layout {
  size_t offset, T_years, warm, has_warm, k, w, wt, total;
};

struct kernels_ctx {
  int device;
  int mapping; /* KERNELS_MAP_* */
  int n_sm;
  int thread_blocks_per_sm; /* resident blocks per SM, from the occupancy API */
  int warp_blocks_per_sm;
  cudaStream_t stream;
  int have_stream;
  cudaEvent_t ev[4]; /* before H2D, after H2D, after kernel, after D2H */
  int n_events;
  unsigned char *d_in, *h_in; /* packed inputs: device, pinned host */
  size_t in_cap;              /* bytes */
  struct svi_lm_result *d_out, *h_out;
  int64_t out_cap; /* results */
  int broken;      /* a CUDA error other than out-of-memory happened */
  char err[256];
};

/* One thread fits one slice.
 * Geometry: 1-D blocks of KERNELS_BLOCK threads; grid = min(ceil(n /
 * KERNELS_BLOCK), SMs x resident blocks per SM); each thread walks slices
 * i, i + gridDim.x * blockDim.x, ... (grid-stride, so any n works).
 * A thread runs svi_lm_fit with lane 0 of 1 over its slice's points and
 * stores the whole result. */
__global__ void __launch_bounds__(KERNELS_BLOCK, KERNELS_MIN_BLOCKS)
    fit_thread_kernel(struct fit_args a)
{
  const struct svi_lm_config cfg = a.cfg;
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < a.n_slices; i += stride) {
    const int64_t lo = a.offset[i];
    const int n = (int)(a.offset[i + 1] - lo);
    const struct svi *warm = (a.warm != NULL && a.has_warm[i]) ? a.warm + i : NULL;
    struct svi_lm_result r;
    svi_lm_fit(a.k + lo, a.w + lo, a.wt + lo, n, a.T_years[i], warm, &cfg, 0, 1, &r);
    r.fit_time_us = 0.0;
    a.out[i] = r;
  }
}

/* One warp fits one slice.
 * Geometry: 1-D blocks of KERNELS_BLOCK threads = 4 warps; grid =
 * min(ceil(n / 4), SMs x resident blocks per SM); warp g walks slices
 * g, g + (gridDim.x * blockDim.x) / 32, ...  The slice index is the same for
 * the 32 lanes, so a warp enters and leaves the loop together, as the
 * full-mask shuffles in svi_lm_allreduce_* require.
 * The 32 lanes run svi_lm_fit with lane = threadIdx.x % 32 of 32: lane j
 * takes points j, j + 32, ... and the per-point sums meet in a butterfly,
 * after which every lane holds the same sums and takes the same steps;
 * lane 0 stores the result. */
__global__ void __launch_bounds__(KERNELS_BLOCK, KERNELS_MIN_BLOCKS)
    fit_warp_kernel(struct fit_args a)
{
  const struct svi_lm_config cfg = a.cfg;
  const int lane = (int)(threadIdx.x % KERNELS_WARP);
  const int64_t stride = (int64_t)gridDim.x * blockDim.x / KERNELS_WARP;
  for (int64_t i = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) / KERNELS_WARP; i < a.n_slices;
       i += stride) {
    const int64_t lo = a.offset[i];
    const int n = (int)(a.offset[i + 1] - lo);
    const struct svi *warm = (a.warm != NULL && a.has_warm[i]) ? a.warm + i : NULL;
    struct svi_lm_result r;
    svi_lm_fit(a.k + lo, a.w + lo, a.wt + lo, n, a.T_years[i], warm, &cfg, lane, KERNELS_WARP, &r);
    if (lane == 0) {
      r.fit_time_us = 0.0;
      a.out[i] = r;
    }
  }
}

static void set_err(struct kernels_ctx *c, const char *msg)
{
  snprintf(c->err, sizeof c->err, "%s", msg);
}

/* Turns a runtime status into 0 or an error code with the message on the
 * context.  Out of memory is not sticky: the context stays usable.  Any
 * other failure marks the context broken. */
static int ck(struct kernels_ctx *c, cudaError_t e, const char *what)
{
  if (e == cudaSuccess)
    return 0;
  snprintf(c->err, sizeof c->err, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError(); /* clear it so the next call starts clean */
    return ERR_NOMEM;
  }
  c->broken = 1;
  return ERR_DEVICE;
}

static size_t align_up(size_t x)
{
  return (x + (KERNELS_ALIGN - 1)) & ~(size_t)(KERNELS_ALIGN - 1);
}

static void layout_of(int64_t n_slices, int64_t n_points, int with_warm, struct layout *l)
{
  size_t n = (size_t)n_slices, np = (size_t)n_points, at = 0;
  l->offset = at;
  at = align_up(at + (n + 1) * sizeof(int64_t));
  l->T_years = at;
  at = align_up(at + n * sizeof(double));
  l->warm = at;
  at = align_up(at + (with_warm ? n * sizeof(struct svi) : 0));
  l->has_warm = at;
  at = align_up(at + (with_warm ? n : 0));
  l->k = at;
  at = align_up(at + np * sizeof(double));
  l->w = at;
  at = align_up(at + np * sizeof(double));
  l->wt = at;
  at = align_up(at + np * sizeof(double));
  l->total = at;
}

static double now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* Grows the packed input block (device and pinned) to at least 'need' bytes:
 * twice the old size when that is enough, else exactly the need; retries with
 * exactly the need when twice does not fit.  Only called between batches
 * (kernels_fit is synchronous), so nothing in flight uses the old block. */
static int grow_inputs(struct kernels_ctx *c, size_t need)
{
  if (need <= c->in_cap)
    return 0;
  size_t cap = c->in_cap * 2 > need ? c->in_cap * 2 : need;
  int rc = ck(c, cudaFree(c->d_in), "cudaFree inputs");
  if (rc == 0)
    rc = ck(c, cudaFreeHost(c->h_in), "cudaFreeHost inputs");
  c->d_in = NULL;
  c->h_in = NULL;
  c->in_cap = 0;
  if (rc != 0)
    return rc;
  rc = ck(c, cudaMalloc((void **)&c->d_in, cap), "cudaMalloc inputs");
  if (rc == ERR_NOMEM && cap > need) {
    cap = need;
    rc = ck(c, cudaMalloc((void **)&c->d_in, cap), "cudaMalloc inputs");
  }
  if (rc != 0)
    return rc;
  rc = ck(c, cudaMallocHost((void **)&c->h_in, cap), "cudaMallocHost input staging");
  if (rc != 0) {
    (void)cudaFree(c->d_in);
    c->d_in = NULL;
    return rc;
  }
  c->in_cap = cap;
  return 0;
}

/* Same for the result block, counted in results. */
static int grow_outputs(struct kernels_ctx *c, int64_t need)
{
  if (need <= c->out_cap)
    return 0;
  int64_t cap = c->out_cap * 2 > need ? c->out_cap * 2 : need;
  int rc = ck(c, cudaFree(c->d_out), "cudaFree results");
  if (rc == 0)
    rc = ck(c, cudaFreeHost(c->h_out), "cudaFreeHost results");
  c->d_out = NULL;
  c->h_out = NULL;
  c->out_cap = 0;
  if (rc != 0)
    return rc;
  size_t bytes = (size_t)cap * sizeof(struct svi_lm_result);
  rc = ck(c, cudaMalloc((void **)&c->d_out, bytes), "cudaMalloc results");
  if (rc == ERR_NOMEM && cap > need) {
    cap = need;
    bytes = (size_t)cap * sizeof(struct svi_lm_result);
    rc = ck(c, cudaMalloc((void **)&c->d_out, bytes), "cudaMalloc results");
  }
  if (rc != 0)
    return rc;
  rc = ck(c, cudaMallocHost((void **)&c->h_out, bytes), "cudaMallocHost result staging");
  if (rc != 0) {
    (void)cudaFree(c->d_out);
    c->d_out = NULL;
    return rc;
  }
  c->out_cap = cap;
  return 0;
}

static int parse_mapping(const char *s)
{
  if (s == NULL || *s == '\0' || strcmp(s, "warp") == 0)
    return KERNELS_MAP_WARP;
  if (strcmp(s, "thread") == 0)
    return KERNELS_MAP_THREAD;
  if (strcmp(s, "auto") == 0)
    return KERNELS_MAP_AUTO;
  return -1;
}

/* The kernel a batch of n slices runs: "auto" takes thread-per-slice once
 * the batch fills every SM with resident threads, one slice each. */
static int mapping_for(const struct kernels_ctx *c, int64_t n_slices)
{
  if (c->mapping != KERNELS_MAP_AUTO)
    return c->mapping;
  int64_t fill = (int64_t)c->n_sm * c->thread_blocks_per_sm * KERNELS_BLOCK;
  return n_slices >= fill ? KERNELS_MAP_THREAD : KERNELS_MAP_WARP;
}

int kernels_device_count(void)
{
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

int kernels_open(struct kernels_ctx **out, int64_t max_slices, int64_t max_points, char *err,
                 size_t errlen)
{
  struct kernels_ctx *c = NULL;
  int rc = 0;
  int n_dev = 0;
  cudaError_t e;
  cudaFuncAttributes fa;
  struct layout l;

  if (out == NULL)
    return ERR_INPUT;
  *out = NULL;
  c = (struct kernels_ctx *)calloc(1, sizeof *c);
  if (c == NULL) {
    if (err && errlen > 0)
      snprintf(err, errlen, "out of host memory for the GPU context");
    return ERR_NOMEM;
  }
  if (max_slices < 0 || max_points < 0) {
    set_err(c, "kernels_open: negative capacity");
    rc = ERR_INPUT;
    goto fail;
  }
  c->mapping = parse_mapping(getenv("VOLSURF_GPU_MAPPING"));
  if (c->mapping < 0) {
    set_err(c, "VOLSURF_GPU_MAPPING must be thread, warp or auto");
    rc = ERR_INPUT;
    goto fail;
  }
  e = cudaGetDeviceCount(&n_dev);
  if (e != cudaSuccess || n_dev == 0) {
    snprintf(c->err, sizeof c->err, "no CUDA device: %s",
             e != cudaSuccess ? cudaGetErrorString(e) : "device count is 0");
    (void)cudaGetLastError();
    rc = ERR_NODEV;
    goto fail;
  }
  c->device = 0;
  rc = ck(c, cudaSetDevice(c->device), "cudaSetDevice");
  if (rc != 0)
    goto fail;
  /* A GPU this binary has no code for (built for sm_90 only, say) shows up
   * here rather than at the first launch: report it as "no usable device". */
  e = cudaFuncGetAttributes(&fa, fit_warp_kernel);
  if (e == cudaErrorNoKernelImageForDevice || e == cudaErrorInvalidDeviceFunction) {
    snprintf(c->err, sizeof c->err, "no kernel image for this GPU: %s", cudaGetErrorString(e));
    (void)cudaGetLastError();
    rc = ERR_NODEV;
    goto fail;
  }
  rc = ck(c, e, "cudaFuncGetAttributes");
  if (rc != 0)
    goto fail;
  rc = ck(c, cudaDeviceGetAttribute(&c->n_sm, cudaDevAttrMultiProcessorCount, c->device),
          "cudaDeviceGetAttribute multiProcessorCount");
  if (rc != 0)
    goto fail;
  rc = ck(c,
          cudaOccupancyMaxActiveBlocksPerMultiprocessor(&c->thread_blocks_per_sm, fit_thread_kernel,
                                                        KERNELS_BLOCK, 0),
          "cudaOccupancyMaxActiveBlocksPerMultiprocessor thread kernel");
  if (rc != 0)
    goto fail;
  rc = ck(c,
          cudaOccupancyMaxActiveBlocksPerMultiprocessor(&c->warp_blocks_per_sm, fit_warp_kernel,
                                                        KERNELS_BLOCK, 0),
          "cudaOccupancyMaxActiveBlocksPerMultiprocessor warp kernel");
  if (rc != 0)
    goto fail;
  if (c->n_sm < 1 || c->thread_blocks_per_sm < 1 || c->warp_blocks_per_sm < 1) {
    set_err(c, "the fit kernels need more registers or shared memory than one SM has");
    c->broken = 1;
    rc = ERR_DEVICE;
    goto fail;
  }
  rc = ck(c, cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), "cudaStreamCreate");
  if (rc != 0)
    goto fail;
  c->have_stream = 1;
  for (int i = 0; i < 4; i++) {
    rc = ck(c, cudaEventCreate(&c->ev[i]), "cudaEventCreate");
    if (rc != 0)
      goto fail;
    c->n_events = i + 1;
  }
  layout_of(max_slices, max_points, 1, &l);
  rc = grow_inputs(c, l.total);
  if (rc != 0)
    goto fail;
  rc = grow_outputs(c, max_slices > 0 ? max_slices : 1);
  if (rc != 0)
    goto fail;
  *out = c;
  return 0;

fail:
  if (err && errlen > 0)
    snprintf(err, errlen, "%s", c->err);
  kernels_close(c);
  return rc;
}

/* Checks the batch and counts its points; 0 or ERR_INPUT with a message. */
static int check_batch(struct kernels_ctx *c, const struct svi_lm_batch *b, int64_t *n_points)
{
  const int64_t n = b->n_slices;
  if (b->offset == NULL || b->T_years == NULL) {
    set_err(c, "kernels_fit: batch without offsets or T");
    return ERR_INPUT;
  }
  for (int64_t i = 0; i < n; i++) {
    int64_t len = b->offset[i + 1] - b->offset[i];
    if (len < 0 || len > INT_MAX) {
      snprintf(c->err, sizeof c->err, "kernels_fit: slice %lld has %lld points", (long long)i,
               (long long)len);
      return ERR_INPUT;
    }
  }
  *n_points = b->offset[n] - b->offset[0];
  if (*n_points > 0 && (b->k == NULL || b->w == NULL || b->wt == NULL)) {
    set_err(c, "kernels_fit: batch with points but no k, w or wt");
    return ERR_INPUT;
  }
  return 0;
}

/* Copies the caller's arrays into the pinned block in the layout 'l'. */
static void stage_inputs(struct kernels_ctx *c, const struct svi_lm_batch *b, int64_t n_points,
                         const struct layout *l)
{
  const int64_t n = b->n_slices;
  const int64_t base = b->offset[0];
  int64_t *off = (int64_t *)(c->h_in + l->offset);
  for (int64_t i = 0; i <= n; i++)
    off[i] = b->offset[i] - base;
  memcpy(c->h_in + l->T_years, b->T_years, (size_t)n * sizeof(double));
  if (b->warm != NULL) {
    memcpy(c->h_in + l->warm, b->warm, (size_t)n * sizeof(struct svi));
    if (b->has_warm != NULL)
      memcpy(c->h_in + l->has_warm, b->has_warm, (size_t)n);
    else
      memset(c->h_in + l->has_warm, 1, (size_t)n);
  }
  if (n_points > 0) {
    size_t bytes = (size_t)n_points * sizeof(double);
    memcpy(c->h_in + l->k, b->k + base, bytes);
    memcpy(c->h_in + l->w, b->w + base, bytes);
    memcpy(c->h_in + l->wt, b->wt + base, bytes);
  }
}

/* Pointers into the pinned block for a batch laid out as 'l'. */
static void stage_pointers(const struct kernels_ctx *c, const struct layout *l, int with_warm,
                           struct kernels_stage *st)
{
  st->offset = (int64_t *)(c->h_in + l->offset);
  st->T_years = (double *)(c->h_in + l->T_years);
  st->warm = with_warm ? (struct svi *)(c->h_in + l->warm) : NULL;
  st->has_warm = with_warm ? c->h_in + l->has_warm : NULL;
  st->k = (double *)(c->h_in + l->k);
  st->w = (double *)(c->h_in + l->w);
  st->wt = (double *)(c->h_in + l->wt);
}

static int inside_staging(const struct kernels_ctx *c, const void *p)
{
  const unsigned char *q = (const unsigned char *)p;
  return c->h_in != NULL && q >= c->h_in && q < c->h_in + c->in_cap;
}

/* 1: the batch already is the staging laid out as 'l' (kernels_stage), so
 * nothing needs copying; 0: it lies elsewhere and is copied; -1: it points
 * into the staging but not where 'l' puts it (a copy would overlap). */
static int batch_is_staged(const struct kernels_ctx *c, const struct svi_lm_batch *b,
                           const struct layout *l)
{
  struct kernels_stage st;
  stage_pointers(c, l, b->warm != NULL, &st);
  int exact = l->total <= c->in_cap && b->offset == st.offset && b->T_years == st.T_years &&
              b->k == st.k && b->w == st.w && b->wt == st.wt && b->offset[0] == 0 &&
              (b->warm == NULL || (b->warm == st.warm && b->has_warm == st.has_warm));
  if (exact)
    return 1;
  if (inside_staging(c, b->offset) || inside_staging(c, b->T_years) || inside_staging(c, b->k) ||
      inside_staging(c, b->w) || inside_staging(c, b->wt) || inside_staging(c, b->warm) ||
      inside_staging(c, b->has_warm))
    return -1;
  return 0;
}

int kernels_stage(struct kernels_ctx *c, int64_t n_slices, int64_t n_points, int with_warm,
                  struct kernels_stage *out)
{
  struct layout l;
  if (c == NULL || out == NULL)
    return ERR_INPUT;
  if (c->broken)
    return ERR_DEVICE;
  if (n_slices < 0 || n_points < 0) {
    set_err(c, "kernels_stage: negative size");
    return ERR_INPUT;
  }
  layout_of(n_slices, n_points, with_warm != 0, &l);
  int rc = grow_inputs(c, l.total);
  if (rc != 0)
    return rc;
  stage_pointers(c, &l, with_warm != 0, out);
  return 0;
}

static int launch(struct kernels_ctx *c, const struct fit_args *a)
{
  const int64_t n = a->n_slices;
  int64_t slices_per_block, cap;
  if (mapping_for(c, n) == KERNELS_MAP_THREAD) {
    slices_per_block = KERNELS_BLOCK;
    cap = (int64_t)c->n_sm * c->thread_blocks_per_sm;
  } else {
    slices_per_block = KERNELS_BLOCK / KERNELS_WARP;
    cap = (int64_t)c->n_sm * c->warp_blocks_per_sm;
  }
  int64_t blocks = (n + slices_per_block - 1) / slices_per_block;
  if (blocks > cap)
    blocks = cap;
  if (slices_per_block == KERNELS_BLOCK) {
    fit_thread_kernel<<<(unsigned)blocks, KERNELS_BLOCK, 0, c->stream>>>(*a);
    return ck(c, cudaGetLastError(), "launch fit_thread_kernel");
  }
  fit_warp_kernel<<<(unsigned)blocks, KERNELS_BLOCK, 0, c->stream>>>(*a);
  return ck(c, cudaGetLastError(), "launch fit_warp_kernel");
}

int kernels_fit(struct kernels_ctx *c, const struct svi_lm_batch *b,
                const struct svi_lm_config *cfg, struct svi_lm_result *out,
                struct kernels_timing *t)
{
  const double t0_ms = now_ms();
  int64_t n, n_points = 0;
  struct layout l;
  struct fit_args a;
  float h2d_ms = 0.0f, kernel_ms = 0.0f, d2h_ms = 0.0f;
  int rc, staged;

  if (t != NULL)
    memset(t, 0, sizeof *t);
  if (c == NULL)
    return ERR_INPUT;
  if (c->broken) {
    static const char prefix[] = "GPU context unusable after: ";
    if (strncmp(c->err, prefix, sizeof prefix - 1) != 0) {
      char prev[sizeof c->err];
      snprintf(prev, sizeof prev, "%s", c->err);
      snprintf(c->err, sizeof c->err, "%s%.200s", prefix, prev);
    }
    return ERR_DEVICE;
  }
  if (b == NULL || cfg == NULL || b->n_slices < 0 || (b->n_slices > 0 && out == NULL)) {
    set_err(c, "kernels_fit: NULL batch, config or output, or negative n_slices");
    return ERR_INPUT;
  }
  n = b->n_slices;
  if (n == 0) {
    if (t != NULL)
      t->total_ms = now_ms() - t0_ms;
    return 0;
  }
  rc = check_batch(c, b, &n_points);
  if (rc != 0)
    return rc;
  rc = ck(c, cudaSetDevice(c->device), "cudaSetDevice");
  if (rc != 0)
    return rc;
  layout_of(n, n_points, b->warm != NULL, &l);
  /* Checked before any growth: growing would move a staged batch. */
  staged = batch_is_staged(c, b, &l);
  if (staged < 0) {
    set_err(c, "kernels_fit: batch points into the staging buffer, but not where kernels_stage "
               "put it for this size");
    return ERR_INPUT;
  }
  rc = grow_inputs(c, l.total);
  if (rc != 0)
    return rc;
  rc = grow_outputs(c, n);
  if (rc != 0)
    return rc;
  if (!staged)
    stage_inputs(c, b, n_points, &l);

  a.n_slices = n;
  a.offset = (const int64_t *)(c->d_in + l.offset);
  a.T_years = (const double *)(c->d_in + l.T_years);
  a.warm = b->warm != NULL ? (const struct svi *)(c->d_in + l.warm) : NULL;
  a.has_warm = b->warm != NULL ? c->d_in + l.has_warm : NULL;
  a.k = (const double *)(c->d_in + l.k);
  a.w = (const double *)(c->d_in + l.w);
  a.wt = (const double *)(c->d_in + l.wt);
  a.out = c->d_out;
  a.cfg = *cfg;

  rc = ck(c, cudaEventRecord(c->ev[0], c->stream), "cudaEventRecord h2d start");
  if (rc != 0)
    return rc;
  rc = ck(c, cudaMemcpyAsync(c->d_in, c->h_in, l.total, cudaMemcpyHostToDevice, c->stream),
          "cudaMemcpyAsync inputs");
  if (rc != 0)
    return rc;
  rc = ck(c, cudaEventRecord(c->ev[1], c->stream), "cudaEventRecord h2d end");
  if (rc != 0)
    return rc;
  rc = launch(c, &a);
  if (rc != 0)
    return rc;
  rc = ck(c, cudaEventRecord(c->ev[2], c->stream), "cudaEventRecord kernel end");
  if (rc != 0)
    return rc;
  rc = ck(c,
          cudaMemcpyAsync(c->h_out, c->d_out, (size_t)n * sizeof(struct svi_lm_result),
                          cudaMemcpyDeviceToHost, c->stream),
          "cudaMemcpyAsync results");
  if (rc != 0)
    return rc;
  rc = ck(c, cudaEventRecord(c->ev[3], c->stream), "cudaEventRecord d2h end");
  if (rc != 0)
    return rc;
  /* Kernel faults (illegal address, ...) surface here, at the first wait. */
  rc = ck(c, cudaEventSynchronize(c->ev[3]), "fit batch");
  if (rc != 0)
    return rc;
  rc = ck(c, cudaEventElapsedTime(&h2d_ms, c->ev[0], c->ev[1]), "cudaEventElapsedTime h2d");
  if (rc == 0)
    rc = ck(c, cudaEventElapsedTime(&kernel_ms, c->ev[1], c->ev[2]), "cudaEventElapsedTime kernel");
  if (rc == 0)
    rc = ck(c, cudaEventElapsedTime(&d2h_ms, c->ev[2], c->ev[3]), "cudaEventElapsedTime d2h");
  if (rc != 0)
    return rc;

  memcpy(out, c->h_out, (size_t)n * sizeof(struct svi_lm_result));
  const double per_fit_us = (double)kernel_ms * 1e3 / (double)n;
  for (int64_t i = 0; i < n; i++)
    out[i].fit_time_us = per_fit_us;
  if (t != NULL) {
    t->h2d_ms = h2d_ms;
    t->kernel_ms = kernel_ms;
    t->d2h_ms = d2h_ms;
    t->total_ms = now_ms() - t0_ms;
  }
  return 0;
}

const char *kernels_last_error(const struct kernels_ctx *c)
{
  return c != NULL ? c->err : "no GPU context";
}

const char *kernels_mapping_name(const struct kernels_ctx *c, int64_t n_slices)
{
  if (c == NULL)
    return "none";
  return mapping_for(c, n_slices) == KERNELS_MAP_THREAD ? "thread" : "warp";
}

/* Frees whatever kernels_open got to; the runtime's return codes are not
 * actionable here (the context is going away), so they are dropped. */
void kernels_close(struct kernels_ctx *c)
{
  if (c == NULL)
    return;
  if (c->have_stream)
    (void)cudaStreamSynchronize(c->stream);
  (void)cudaFree(c->d_in);
  (void)cudaFreeHost(c->h_in);
  (void)cudaFree(c->d_out);
  (void)cudaFreeHost(c->h_out);
  for (int i = 0; i < c->n_events; i++)
    (void)cudaEventDestroy(c->ev[i]);
  if (c->have_stream)
    (void)cudaStreamDestroy(c->stream);
  free(c);
}
