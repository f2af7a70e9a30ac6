/* civil: proleptic Gregorian calendar arithmetic in UTC (Howard Hinnant's
 * days_from_civil / civil_from_days): no timegm, no TZ, no locale.  The one
 * place where dates become day numbers and back, and where expiry times
 * become Deribit-style expiry codes.  Pure, thread-safe. */
#ifndef VOLSURF_CIVIL_H
#define VOLSURF_CIVIL_H

#include <stddef.h>
#include <stdint.h>

#define CIVIL_US_PER_DAY 86400000000LL

/* Days from 1970-01-01 to y-m-d (m 1..12, d 1..31; not validated). */
int64_t civil_days_from(int64_t y, int m, int d);
/* The date of day z since 1970-01-01 (negative before it). */
void civil_from_days(int64_t z, int64_t *y, int *m, int *d);
/* Day number of a time in microseconds (floor: before 1970 still counts). */
int64_t civil_day_of_us(int64_t t_us);
/* Deribit-style expiry code of the UTC day of t_us, day without a leading
 * zero: "5JUN20", "27DEC26".  Writes at most cap bytes incl. NUL. */
void civil_expiry_code(int64_t t_us, char *buf, size_t cap);

#endif
