/* test_fit_real: end to end on recorded chains: file -> chain -> book ->
 * slices -> batched fit -> diagnostics.  Real Deribit data from
 * ../shared/data (skipped when absent) and a synthetic chain with known
 * smiles written by synth_write_chain. */
#include <stdint.h>
#include <unistd.h>

#include "book.h"
#include "chain.h"
#include "diag.h"
#include "err.h"
#include "fit.h"
#include "synth.h"
#include "testutil.h"
#ifdef VOLSURF_HAVE_CJSON
#include "chain_json_loader.h"
#endif

#define MAX_SLICES 64

struct fitted {
  int n;
  struct slice s[MAX_SLICES];
  struct svi_lm_result f[MAX_SLICES];
  struct diag d[MAX_SLICES];
};

/* Fits every slice of the book as of as_of, one slice at a time. */
static void fit_book(struct book *b, int64_t as_of, const struct slice_config *sc,
                     struct fitted *out)
{
  struct svi_lm_config c;
  fit_config_default(&c);
  struct diag_config dc;
  diag_config_default(&dc);
  out->n = book_slices(b, as_of, sc, out->s, MAX_SLICES, NULL);
  CU_ASSERT_FATAL(out->n > 0);
  for (int i = 0; i < out->n; i++) {
    fit_slice(&out->s[i], NULL, &c, &out->f[i]);
    diag_slice(&out->s[i], &out->f[i], &dc, &out->d[i]);
  }
  diag_calendar_chain(out->s, out->f, out->d, out->n, &dc);
}

/* Reads a whole chain file into a new book; returns the last timestamp. */
static int64_t load_file(const char *path, struct book *b, struct chain_stats *st)
{
  char err[256];
  struct chain_reader *r = NULL;
  int rc = chain_open(path, CHAIN_FORMAT_AUTO, &r, err, sizeof(err));
  if (rc < 0)
    fprintf(stderr, "\n  %s: %s\n", path, err);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  struct quote q;
  int64_t last = 0;
  while (chain_next(r, &q) == 1) {
    CU_ASSERT_EQUAL(book_put(b, &q), 0);
    if (q.ts_us > last)
      last = q.ts_us;
  }
  *st = *chain_get_stats(r);
  chain_close(r);
  return last;
}

/* The bar: every expiry with >= 8 usable quotes fits the venue's
 * mark IVs to within 0.5 vol points RMSE. */
static void check_rmse_vs_mark(const struct fitted *x, double bar_vol)
{
  int n_checked = 0;
  for (int i = 0; i < x->n; i++) {
    if (x->s[i].n < 8)
      continue;
    n_checked++;
    if (!(x->d[i].rmse_vol_mark <= bar_vol))
      fprintf(stderr, "\n  %s %s T=%.4f n=%d: rmse vs mark %.3f vp, status 0x%x\n", x->s[i].venue,
              x->s[i].asset, x->s[i].T_years, x->s[i].n, 100 * x->d[i].rmse_vol_mark,
              x->f[i].status);
    CU_ASSERT(x->d[i].rmse_vol_mark <= bar_vol);
    CU_ASSERT(x->f[i].status & (SVI_LM_CONVERGED | SVI_LM_MAX_ITER));
    CU_ASSERT(diag_usable(&x->f[i]));
  }
  CU_ASSERT(n_checked > 0);
}

/* The 2020 file is excluded from the 0.5 vol-point bar against marks: it was
 * collected one instrument at a time with get_order_book over 150 s while
 * spot moved, and its marks are not one smooth smile (the 1-day expiry's
 * marks jump 20 vol points between neighbouring 250-wide strikes).  What a
 * fit can honestly promise there: it lies inside the quoted bid/ask market,
 * stays within 1.5 vol points of the marks from one week out, and a slice
 * it cannot fit within 2 vol points is flagged poor rather than shown as
 * good (measured 2026-11-24: inside share 0.95-1.00, RMSE vs mark 0.16-1.38
 * vp beyond a week, 1-day expiry 4.0 vp and flagged). */
static void deribit_2020_chain_fits_inside_the_quoted_market(void)
{
  char path[512];
  if (!test_shared_path("deribit_btc_chain_20200514T0541Z_schepal.csv", path, sizeof(path)) ||
      access(path, R_OK) != 0) {
    fprintf(stderr, "\n  shared data not found: skipped\n");
    return;
  }
  struct book *b = book_new(10000);
  struct chain_stats st;
  int64_t last = load_file(path, b, &st);
  CU_ASSERT_EQUAL(st.n_quotes, 310);
  struct slice_config sc;
  slice_config_default(&sc);
  static struct fitted x;
  fit_book(b, last, &sc, &x);
  CU_ASSERT_EQUAL(x.n, 7);
  int n_checked = 0;
  for (int i = 0; i < x.n; i++) {
    if (x.s[i].n < 8)
      continue;
    n_checked++;
    CU_ASSERT(diag_usable(&x.f[i]));
    CU_ASSERT(x.d[i].inside_share >= 0.9);
    if (x.s[i].T_years >= 7.0 / 365.0)
      CU_ASSERT(x.d[i].rmse_vol_mark <= 0.015);
    if (x.d[i].rmse_vol > 0.02)
      CU_ASSERT(x.f[i].status & FIT_POOR);
  }
  CU_ASSERT_EQUAL(n_checked, 6);
  book_free(b);
}

#ifdef VOLSURF_HAVE_CJSON
static void deribit_2026_chain_fits_every_expiry_within_half_a_vol_point(void)
{
  char path[512];
  if (!test_shared_path("deribit_btc_chain_20260526T1927Z_maksm05.json", path, sizeof(path)) ||
      access(path, R_OK) != 0) {
    fprintf(stderr, "\n  shared data not found: skipped\n");
    return;
  }
  struct book *b = book_new(10000);
  int64_t as_of = 0;
  struct quote *q = NULL;
  int n = chain_json_load(path, &q, &as_of);
  CU_ASSERT_FATAL(n > 800);
  for (int i = 0; i < n; i++)
    CU_ASSERT_EQUAL(book_put(b, &q[i]), 0);
  free(q);
  struct slice_config sc;
  slice_config_default(&sc);
  static struct fitted x;
  fit_book(b, as_of, &sc, &x);
  CU_ASSERT_EQUAL(x.n, 11);
  check_rmse_vs_mark(&x, 0.005);
  book_free(b);
}
#endif

static void synthetic_chain_round_trips_to_its_true_smiles(void)
{
  char path[] = "/tmp/volsurf_test_synth_XXXXXX.csv";
  int fd = mkstemps(path, 4);
  CU_ASSERT_FATAL(fd >= 0);
  close(fd);
  long rows = synth_write_chain(path, 7, 1767254400000000LL);
  CU_ASSERT_FATAL(rows > 1000);
  struct book *b = book_new(100000);
  struct chain_stats st;
  load_file(path, b, &st);
  CU_ASSERT_EQUAL(st.n_quotes, rows);
  CU_ASSERT_EQUAL(st.n_malformed, 0);
  struct slice_config sc;
  slice_config_default(&sc);
  static struct fitted x;
  fit_book(b, 1767254400000000LL, &sc, &x);
  CU_ASSERT(x.n >= 30);
  /* Marks are the true smile: the fit must reproduce them closely. */
  check_rmse_vs_mark(&x, 0.0005);
  for (int i = 0; i < x.n; i++) {
    CU_ASSERT_EQUAL(x.s[i].forward_src, SLICE_FWD_QUOTE);
    CU_ASSERT_EQUAL(x.f[i].status & (FIT_BUTTERFLY | FIT_CALENDAR | FIT_LEE), 0u);
  }
  book_free(b);
  unlink(path);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(deribit_2020_chain_fits_inside_the_quoted_market),
#ifdef VOLSURF_HAVE_CJSON
      TEST_CASE(deribit_2026_chain_fits_every_expiry_within_half_a_vol_point),
#endif
      TEST_CASE(synthetic_chain_round_trips_to_its_true_smiles),
  };
  return test_run("fit_real", cases, TEST_COUNT(cases));
}
