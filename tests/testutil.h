/* testutil: small helpers shared by the CUnit suites: a runner that maps
 * results to exit codes ctest understands (77 = skipped), tolerant float
 * asserts, and the path of the shared real-data folder. */
#ifndef VOLSURF_TESTUTIL_H
#define VOLSURF_TESTUTIL_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SKIP 77

struct test_case {
  const char *name;
  void (*fn)(void);
};

/* Asserts |a - b| <= tol, printing both values on failure. */
#define ASSERT_NEAR(a, b, tol)                                                                     \
  do {                                                                                             \
    double a_ = (a), b_ = (b), t_ = (tol);                                                         \
    if (!(fabs(a_ - b_) <= t_))                                                                    \
      fprintf(stderr, "\n  %s:%d: %s = %.17g, expected %.17g (tol %g)\n", __FILE__, __LINE__, #a,  \
              a_, b_, t_);                                                                         \
    CU_ASSERT(fabs(a_ - b_) <= t_);                                                                \
  } while (0)

/* Asserts |a - b| <= rel * |b|. */
#define ASSERT_REL(a, b, rel) ASSERT_NEAR((a), (b), (rel)*fabs(b))

/* Runs the cases as one suite; returns the process exit code. */
static inline int test_run(const char *suite, const struct test_case *cases, int n)
{
  if (CU_initialize_registry() != CUE_SUCCESS)
    return 2;
  CU_pSuite s = CU_add_suite(suite, NULL, NULL);
  for (int i = 0; i < n; i++)
    CU_add_test(s, cases[i].name, cases[i].fn);
  CU_basic_set_mode(CU_BRM_VERBOSE);
  CU_basic_run_tests();
  unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
  CU_cleanup_registry();
  return failed ? 1 : 0;
}

/* Path of a file in ../shared/data (VOLSURF_SHARED_DATA), written to buf;
 * returns NULL when the folder is not configured. */
static inline const char *test_shared_path(const char *name, char *buf, size_t cap)
{
  const char *dir = getenv("VOLSURF_SHARED_DATA");
  if (!dir || !*dir)
    return NULL;
  snprintf(buf, cap, "%s/%s", dir, name);
  return buf;
}

#define TEST_CASE(fn)                                                                              \
  {                                                                                                \
#fn, fn                                                                                        \
  }
#define TEST_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

#endif
