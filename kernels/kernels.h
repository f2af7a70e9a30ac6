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
 * Returns 0, ERR_NODEV (no device, or built without CUDA), ERR_DEVICE or
 * ERR_NOMEM; on failure *out is NULL and 'err' holds the reason. */
int kernels_open(struct kernels_ctx **out, int64_t max_slices, int64_t max_points, char *err,
                 size_t errlen);

/* Fits every slice of 'b' on the device; writes b->n_slices results to
 * 'out' and, when 't' is not NULL, the timings.  Borrows everything.
 * Returns 0, or ERR_DEVICE / ERR_NOMEM with the reason in
 * kernels_last_error(); the context stays usable after ERR_NOMEM only. */
int kernels_fit(struct kernels_ctx *c, const struct svi_lm_batch *b,
                const struct svi_lm_config *cfg, struct svi_lm_result *out,
                struct kernels_timing *t);

/* The message of the last failure on this context ("" when none). */
const char *kernels_last_error(const struct kernels_ctx *c);

/* Frees the context and its device and pinned memory; NULL is fine. */
void kernels_close(struct kernels_ctx *c);

#endif
