/* now: clock_gettime in microseconds (see now.h). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "now.h"

#include <time.h>

static int64_t now_of(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t now_mono_us(void)
{
  return now_of(CLOCK_MONOTONIC);
}

int64_t now_wall_us(void)
{
  return now_of(CLOCK_REALTIME);
}
