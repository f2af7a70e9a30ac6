/* test_civil: calendar arithmetic against known dates, a round trip over
 * two thousand years either side of the epoch, and expiry codes as Deribit
 * writes them. */
#include <stdint.h>

#include "civil.h"
#include "testutil.h"

static void known_dates_map_to_their_day_numbers(void)
{
  CU_ASSERT_EQUAL(civil_days_from(1970, 1, 1), 0);
  CU_ASSERT_EQUAL(civil_days_from(2000, 3, 1), 11017);
  CU_ASSERT_EQUAL(civil_days_from(2020, 6, 5), 18418);
  CU_ASSERT_EQUAL(civil_days_from(1969, 12, 31), -1);
  CU_ASSERT_EQUAL(civil_days_from(2024, 2, 29) + 1, civil_days_from(2024, 3, 1));
}

static void days_round_trip_across_four_thousand_years(void)
{
  int bad = 0;
  for (int64_t z = -730000; z <= 730000; z += 7) {
    int64_t y;
    int m, d;
    civil_from_days(z, &y, &m, &d);
    if (m < 1 || m > 12 || d < 1 || d > 31 || civil_days_from(y, m, d) != z)
      bad++;
  }
  CU_ASSERT_EQUAL(bad, 0);
}

static void expiry_codes_have_no_leading_zero_on_the_day(void)
{
  char buf[16];
  int64_t eight = 8LL * 3600 * 1000000;
  civil_expiry_code(civil_days_from(2020, 6, 5) * CIVIL_US_PER_DAY + eight, buf, sizeof buf);
  CU_ASSERT_STRING_EQUAL(buf, "5JUN20");
  civil_expiry_code(civil_days_from(2026, 12, 27) * CIVIL_US_PER_DAY + eight, buf, sizeof buf);
  CU_ASSERT_STRING_EQUAL(buf, "27DEC26");
  /* Before the epoch the day is floored, not truncated toward zero. */
  civil_expiry_code(-1, buf, sizeof buf);
  CU_ASSERT_STRING_EQUAL(buf, "31DEC69");
  CU_ASSERT_EQUAL(civil_day_of_us(-1), -1);
  CU_ASSERT_EQUAL(civil_day_of_us(CIVIL_US_PER_DAY), 1);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(known_dates_map_to_their_day_numbers),
      TEST_CASE(days_round_trip_across_four_thousand_years),
      TEST_CASE(expiry_codes_have_no_leading_zero_on_the_day),
  };
  return test_run("civil", cases, TEST_COUNT(cases));
}
