/* err: the project's error codes, described once.
 *
 * Functions return 0 on success or one of these negative codes; the
 * human-readable message belongs to the object that failed (a reader, a
 * fitter context) and is logged once by whoever decides what to do. */
#ifndef VOLSURF_ERR_H
#define VOLSURF_ERR_H

enum {
  ERR_INPUT = -1,       /* caller passed something unusable (bad arg, too few points) */
  ERR_NOMEM = -2,       /* allocation failed */
  ERR_IO = -3,          /* file or socket I/O failed */
  ERR_PARSE = -4,       /* malformed input data */
  ERR_RANGE = -5,       /* value outside its domain (negative strike, T <= 0, ...) */
  ERR_NOCONV = -6,      /* an iteration did not converge */
  ERR_NODEV = -7,       /* no GPU device, or built without CUDA */
  ERR_DEVICE = -8,      /* a CUDA runtime error */
  ERR_FULL = -9,        /* a capped buffer or queue is full */
  ERR_BADSTATE = -10,   /* call not valid in the object's current state */
  ERR_UNSUPPORTED = -11 /* feature not built in (e.g. .gz without zlib) */
};

/* Returns a static, constant description of 'code' (0 gives "ok"). */
const char *err_str(int code);

#endif
