/* fit: raw-SVI calibration of slices on the CPU, and the backend choice
 * (auto | cpu | gpu) that sends a batch to kernels/ or to the CPU.
 * slices -> fit -> diag/derived.  The algorithm is kernels/svi_lm.h. */
#ifndef VOLSURF_FIT_H
#define VOLSURF_FIT_H

#include <stddef.h>

#include "slice.h"
#include "svi_lm.h"

enum fit_backend { FIT_BACKEND_AUTO = 0, FIT_BACKEND_CPU = 1, FIT_BACKEND_GPU = 2 };

/* Defaults: max_iter 60, tol_rel_sse 1e-12, tol_step 1e-10, m_pad 0.5,
 * sigma in [1e-4, 5], start_grid 5. */
void fit_config_default(struct svi_lm_config *c);

/* Fits one slice (its k, w, weight arrays).  'warm' may be NULL.  Borrows
 * everything; writes 'out'.  Returns 0 (inspect out->status), or ERR_INPUT
 * for a slice with fewer than SVI_LM_MIN_POINTS points (out->status then has
 * SVI_LM_TOO_FEW).  Thread-safe, no allocation. */
int fit_slice(const struct slice *s, const struct svi *warm, const struct svi_lm_config *c,
              struct svi_lm_result *out);

/* Fits every slice of 'b' on the CPU with n_threads threads (0: all cores);
 * writes b->n_slices results.  Deterministic: results do not depend on the
 * thread count.  Returns 0, ERR_INPUT or ERR_NOMEM (thread start failed). */
int fit_batch_cpu(const struct svi_lm_batch *b, const struct svi_lm_config *c, int n_threads,
                  struct svi_lm_result *out);

/* A fitter: one backend choice, used by one thread.  AUTO uses the GPU when
 * one is present and falls back to the CPU on any CUDA error (logged once to
 * stderr, counted in n_fallbacks), so calibration never stops. */
struct fitter;

/* Returns 0, or ERR_NODEV when FIT_BACKEND_GPU is asked for and no device
 * can be opened ('err' says why), or ERR_NOMEM. */
int fitter_new(int backend, int n_threads, struct fitter **out, char *err, size_t errlen);
int fitter_run(struct fitter *f, const struct svi_lm_batch *b, const struct svi_lm_config *c,
               struct svi_lm_result *out);
/* "cpu" or "gpu": the backend the next batch will use. */
const char *fitter_backend_name(const struct fitter *f);
long fitter_n_fallbacks(const struct fitter *f);
void fitter_free(struct fitter *f);

/* Parses "auto", "cpu", "gpu"; returns the enum or ERR_INPUT. */
int fit_backend_parse(const char *name);

#endif
