/* fakesurf: deterministic synthetic surface versions for the gateway's
 * tests, the protocol vectors (protovec) and the load tool: a pure function
 * of (seed, step), so the same inputs always give the same documents.
 * Values are plausible, not calibrated: only the stream is under test. */
#ifndef VOLSURF_FAKESURF_H
#define VOLSURF_FAKESURF_H

#include <stdint.h>

#include "surface.h"

/* Version 'step' (>= 0) of a synthetic surface venue.asset with n_exp
 * expiries (some steps drop one or change only a few) of n_pts points each.
 * Between consecutive steps about a third of the expiries change.  Caller
 * frees with surface_free; NULL on bad sizes or out of memory. */
struct surface *fakesurf_new(const char *venue, const char *asset, uint64_t seed, int step,
                             int n_exp, int n_pts);

#endif
