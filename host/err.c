/* err: descriptions of the error codes in err.h. */
#include "err.h"

const char *err_str(int code)
{
  switch (code) {
  case 0:
    return "ok";
  case ERR_INPUT:
    return "invalid input";
  case ERR_NOMEM:
    return "out of memory";
  case ERR_IO:
    return "I/O error";
  case ERR_PARSE:
    return "malformed data";
  case ERR_RANGE:
    return "value out of range";
  case ERR_NOCONV:
    return "did not converge";
  case ERR_NODEV:
    return "no GPU device available";
  case ERR_DEVICE:
    return "GPU runtime error";
  case ERR_FULL:
    return "buffer or queue full";
  case ERR_BADSTATE:
    return "invalid state";
  case ERR_UNSUPPORTED:
    return "not supported in this build";
  default:
    return "unknown error";
  }
}
