/* now: the two clocks of the process, in microseconds.  Monotonic for
 * durations, deadlines and timers; wall (UTC since the epoch) for anything
 * compared with exchange or browser timestamps.  Thread-safe. */
#ifndef VOLSURF_NOW_H
#define VOLSURF_NOW_H

#include <stdint.h>

int64_t now_mono_us(void);
int64_t now_wall_us(void);

#endif
