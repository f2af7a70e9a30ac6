/* kernels: the batched SVI fitter on a CUDA GPU, behind plain C.  No CUDA
 * type leaks out of this header.  host/fit.c composes it with the CPU
 * fitter; the algorithm itself is svi_lm.h, shared with the CPU.
 *
 * A context owns one device stream, device buffers sized once by
 * kernels_open (grown only by kernels_fit when a batch exceeds them) and
 * pinned host staging buffers.  One context is used by one thread. */
#ifndef VOLSURF_KERNELS_H
#define VOLSURF_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "svi_lm.h"

#ifdef __cplusplus
extern "C" {
#endif

struct kernels_ctx;

struct kernels_timing {
  double h2d_ms;    /* host -> device copies */
  double kernel_ms; /* kernels only */
  double d2h_ms;    /* device -> host copies */
  double total_ms;  /* end to end, staging included */
};

/* Number of usable CUDA devices; 0 without CUDA at build time or run time. */
int kernels_device_count(void);

/* Opens a context on device 0 with room for max_slices / max_points.
 * Returns 0, ERR_NODEV (no device, no kernel image for this GPU, or built
 * without CUDA), ERR_DEVICE, ERR_NOMEM, or ERR_INPUT (a bad
 * VOLSURF_GPU_MAPPING); on failure *out is NULL and 'err' holds the reason.
 *
 * VOLSURF_GPU_MAPPING, read here, picks the kernel: "warp" (default: one
 * warp per slice, lowest latency), "thread" (one thread per slice, most
 * throughput on large batches) or "auto" (thread when the batch alone fills
 * the GPU with one thread per slice, else warp). */
int kernels_open(struct kernels_ctx **out, int64_t max_slices, int64_t max_points, char *err,
                 size_t errlen);

/* Fits every slice of 'b' on the device; writes b->n_slices results to
 * 'out' and, when 't' is not NULL, the timings.  Borrows everything; the
 * caller's arrays are copied into pinned staging (unless they are the
 * staging, see kernels_stage), so they may be reused as soon as this
 * returns.  b->has_warm may be NULL when b->warm is not: every
 * warm[i] is then used.  An empty batch returns 0 at once.  Synchronous: the
 * results are in 'out' on return.  fit_time_us = batch kernel time / n.
 * Returns 0, ERR_INPUT (NULL arguments, decreasing offsets, a slice of more
 * than INT_MAX points, arrays inside the staging but not where kernels_stage
 * put them), or ERR_DEVICE / ERR_NOMEM with the reason in
 * kernels_last_error(); the context stays usable after ERR_INPUT and
 * ERR_NOMEM only (after ERR_DEVICE every call returns ERR_DEVICE). */
int kernels_fit(struct kernels_ctx *c, const struct svi_lm_batch *b,
                const struct svi_lm_config *cfg, struct svi_lm_result *out,
                struct kernels_timing *t);

/* Pinned staging that a caller may fill in place, so that kernels_fit sends
 * it without copying it first: the host copy into pinned memory is what
 * bounds end-to-end throughput (bench/gpu/README.md).  Grows the context's
 * buffers for a batch of n_slices / n_points (warm starts included when
 * with_warm) and points 'out' into them; the pointers stay valid until the
 * next kernels_stage, a kernels_fit that must grow the buffers, or
 * kernels_close.  A batch whose arrays are exactly these pointers, with
 * offset[0] == 0 (and has_warm set when warm is), is sent as is.  Returns 0,
 * ERR_INPUT, ERR_NOMEM, ERR_DEVICE, or ERR_NODEV without CUDA. */
struct kernels_stage {
  int64_t *offset; /* n_slices + 1 */
  double *T_years;
  struct svi *warm;        /* NULL unless with_warm */
  unsigned char *has_warm; /* NULL unless with_warm */
  double *k, *w, *wt;      /* n_points each */
};
int kernels_stage(struct kernels_ctx *c, int64_t n_slices, int64_t n_points, int with_warm,
                  struct kernels_stage *out);

/* The message of the last failure on this context ("" when none). */
const char *kernels_last_error(const struct kernels_ctx *c);

/* "thread" or "warp" for the kernel a batch of n_slices would use on this
 * context; "none" without CUDA. */
const char *kernels_mapping_name(const struct kernels_ctx *c, int64_t n_slices);

/* Frees the context and its device and pinned memory; NULL is fine. */
void kernels_close(struct kernels_ctx *c);

#ifdef __cplusplus
}
#endif

#endif
