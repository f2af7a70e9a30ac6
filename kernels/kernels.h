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
 * caller's arrays are copied into pinned staging, so they may be reused as
 * soon as this returns.  b->has_warm may be NULL when b->warm is not: every
 * warm[i] is then used.  An empty batch returns 0 at once.  Synchronous: the
 * results are in 'out' on return.  fit_time_us = batch kernel time / n.
 * Returns 0, ERR_INPUT (NULL arguments, decreasing offsets, a slice of more
 * than INT_MAX points), or ERR_DEVICE / ERR_NOMEM with the reason in
 * kernels_last_error(); the context stays usable after ERR_INPUT and
 * ERR_NOMEM only (after ERR_DEVICE every call returns ERR_DEVICE). */
int kernels_fit(struct kernels_ctx *c, const struct svi_lm_batch *b,
                const struct svi_lm_config *cfg, struct svi_lm_result *out,
                struct kernels_timing *t);

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
