/* civil: UTC calendar arithmetic (see civil.h). */
#include "civil.h"

#include <stdio.h>

int64_t civil_days_from(int64_t y, int m, int d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int mm = (int)(mp < 10 ? mp + 3 : mp - 9);
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = mm;
  *y = yoe + era * 400 + (mm <= 2);
}

int64_t civil_day_of_us(int64_t t_us)
{
  int64_t q = t_us / CIVIL_US_PER_DAY;
  return (t_us % CIVIL_US_PER_DAY < 0) ? q - 1 : q;
}

void civil_expiry_code(int64_t t_us, char *buf, size_t cap)
{
  static const char *mon[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  int64_t y;
  int m, d;
  civil_from_days(civil_day_of_us(t_us), &y, &m, &d);
  int yy = (int)(((y % 100) + 100) % 100);
  snprintf(buf, cap, "%d%s%02d", d, mon[m - 1], yy);
}
