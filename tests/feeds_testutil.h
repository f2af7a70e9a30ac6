/* feeds_testutil: what the venue normalizer and connector suites share:
 * reading a recorded message from tests/fixtures/<venue>/, and the batch
 * and counters a parse writes into.
 *
 * A suite defines FEEDS_TEST_VENUE ("deribit", ...) before including this
 * header to get fixture(name, &len) for its own folder. */
#ifndef VOLSURF_FEEDS_TESTUTIL_H
#define VOLSURF_FEEDS_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads tests/fixtures/<venue>/<name> into a malloc'd NUL-terminated
 * string; the caller frees.  The folder comes from VOLSURF_SOURCE_DIR (set
 * by ctest), else from this header's path.  NULL when unreadable. */
static inline char *feeds_fixture_read(const char *venue, const char *name, size_t *len)
{
  char path[1024];
  const char *root = getenv("VOLSURF_SOURCE_DIR");
  if (root && *root) {
    snprintf(path, sizeof path, "%s/tests/fixtures/%s/%s", root, venue, name);
  } else {
    const char *slash = strrchr(__FILE__, '/');
    int dir = slash ? (int)(slash - __FILE__) : 1;
    snprintf(path, sizeof path, "%.*s/fixtures/%s/%s", dir, slash ? __FILE__ : ".", venue, name);
  }
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n = -1;
  if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
      free(buf);
      buf = NULL;
    }
  }
  if (f)
    fclose(f);
  if (!buf) {
    fprintf(stderr, "\n  cannot read fixture %s\n", path);
    return NULL;
  }
  buf[n] = '\0';
  if (len)
    *len = (size_t)n;
  return buf;
}

#ifdef FEEDS_TEST_VENUE
#include "norm.h"
#include "testutil.h"

static struct quote quotes[8];
static unsigned qflags[8];
static struct feeds_batch batch;
static struct feeds_stats stats;

/* Reads one fixture of this suite's venue; fails the test when missing. */
static char *fixture(const char *name, size_t *len)
{
  *len = 0; /* defined even when the read fails (GCC -O3 checks this) */
  char *buf = feeds_fixture_read(FEEDS_TEST_VENUE, name, len);
  if (!buf)
    CU_FAIL_FATAL("fixture missing");
  return buf;
}

/* Zeroes the counters and rebinds the batch to the suite's storage. */
static inline void feeds_test_reset(void)
{
  memset(&stats, 0, sizeof stats);
  feeds_batch_init(&batch, quotes, qflags, 8);
}

/* One message through the suite's parser, into batch and stats. */
typedef int (*feeds_test_parse_fn)(const char *msg, size_t len);

/* Feeds every prefix (0 .. whole) of fixture 'name' to parse, each in a
 * buffer of exactly its size so that ASan sees any overread.  Returns the
 * sum of the parse results; asserts every prefix was counted as a message
 * (the caller resets its state first). */
static inline int feeds_fuzz_prefixes(const char *name, feeds_test_parse_fn parse)
{
  size_t len;
  char *msg = fixture(name, &len);
  int sum = 0;
  for (size_t i = 0; i <= len; i++) {
    char *cut = malloc(i + 1);
    memcpy(cut, msg, i);
    sum += parse(cut, i);
    free(cut);
  }
  free(msg);
  CU_ASSERT_EQUAL(stats.n_messages, len + 1);
  return sum;
}

/* Replaces each byte of fixture 'name' by a few troublemakers (quote,
 * brace, digit, sign, exponent, NUL, comma): the parser must count or
 * parse, never crash or overflow (run under ASan/UBSan in CI).  The caller
 * resets its state first. */
static inline void feeds_fuzz_one_byte(const char *name, feeds_test_parse_fn parse)
{
  static const char subst[] = {'"', '}', ']', '9', '-', 'e', '\0', ','};
  size_t len;
  char *msg = fixture(name, &len);
  char *m = malloc(len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  for (size_t i = 0; i < len; i++) {
    for (size_t k = 0; k < sizeof subst; k++) {
      memcpy(m, msg, len);
      m[i] = subst[k];
      parse(m, len);
      CU_ASSERT(batch.n >= 0 && batch.n <= batch.cap);
    }
  }
  free(m);
  free(msg);
  CU_ASSERT_EQUAL(stats.n_messages, (uint64_t)len * sizeof subst);
}
#endif

#endif
