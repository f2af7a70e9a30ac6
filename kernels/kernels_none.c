/* kernels_none: kernels.h for builds without a CUDA compiler.  Every open
 * reports ERR_NODEV, so host/fit.c falls back to the CPU fitter; this is the
 * build-time half of the fallback (the run-time half is a CUDA build on a
 * machine without a device, which also reports ERR_NODEV). */
#include <stdio.h>

#include "err.h"
#include "kernels.h"

int kernels_device_count(void)
{
  return 0;
}

int kernels_open(struct kernels_ctx **out, int64_t max_slices, int64_t max_points, char *err,
                 size_t errlen)
{
  (void)max_slices;
  (void)max_points;
  *out = NULL;
  if (err && errlen > 0)
    snprintf(err, errlen, "volsurf was built without CUDA");
  return ERR_NODEV;
}

int kernels_fit(struct kernels_ctx *c, const struct svi_lm_batch *b,
                const struct svi_lm_config *cfg, struct svi_lm_result *out,
                struct kernels_timing *t)
{
  (void)c;
  (void)b;
  (void)cfg;
  (void)out;
  (void)t;
  return ERR_NODEV;
}

int kernels_stage(struct kernels_ctx *c, int64_t n_slices, int64_t n_points, int with_warm,
                  struct kernels_stage *out)
{
  (void)c;
  (void)n_slices;
  (void)n_points;
  (void)with_warm;
  (void)out;
  return ERR_NODEV;
}

const char *kernels_last_error(const struct kernels_ctx *c)
{
  (void)c;
  return "volsurf was built without CUDA";
}

const char *kernels_mapping_name(const struct kernels_ctx *c, int64_t n_slices)
{
  (void)c;
  (void)n_slices;
  return "none";
}

void kernels_close(struct kernels_ctx *c)
{
  (void)c;
}
