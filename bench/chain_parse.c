/* chain_parse: reads a recorded chain with chain_open/chain_next and prints
 * rows/s and MB/s (wall clock, one thread).  Pairs with gen_tardis.c; the
 * recorded numbers are in bench/results/chain_parse.md.
 * Usage: chain_parse FILE [repeats]   (best of 'repeats', default 3). */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "chain.h"
#include "err.h"

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: chain_parse FILE [repeats]\n");
    return 2;
  }
  int repeats = argc > 2 ? atoi(argv[2]) : 3;
  double best = 1e30, checksum = 0.0;
  long long rows = 0, bytes = 0, bad = 0;
  for (int rep = 0; rep < repeats; rep++) {
    struct chain_reader *r;
    char err[160];
    double t0 = now_s();
    int rc = chain_open(argv[1], CHAIN_FORMAT_AUTO, &r, err, sizeof(err));
    if (rc != 0) {
      fprintf(stderr, "chain_parse: %s (%s)\n", err, err_str(rc));
      return 1;
    }
    struct quote q;
    rows = 0;
    checksum = 0.0;
    while ((rc = chain_next(r, &q)) == 1) {
      rows++;
      checksum += q.strike; /* keep the loop honest */
    }
    bytes = chain_bytes_read(r);
    bad = chain_get_stats(r)->n_malformed;
    chain_close(r);
    double dt = now_s() - t0;
    if (rc < 0) {
      fprintf(stderr, "chain_parse: read error\n");
      return 1;
    }
    if (dt < best)
      best = dt;
  }
  printf(
      "%lld rows (%lld malformed), %.1f MB in %.3f s: %.2f M rows/s, %.0f MB/s (checksum %.0f)\n",
      rows, bad, bytes / 1e6, best, rows / best / 1e6, bytes / best / 1e6, checksum);
  return 0;
}
