/* test_chain: the tardis options_chain and raw Deribit CSV readers on the doc
 * sample row of exchanges.md 6.1, on the shared Deribit chain of
 * ../shared/data, and on broken input (every malformed row counted with its
 * line number, never a crash).  Temporary files go to the working directory
 * (ctest runs in the build tree). */
#include <stdint.h>

#ifdef VOLSURF_HAVE_ZLIB
#include <zlib.h>
#endif

#include "chain.h"
#include "err.h"
#include "testutil.h"

static const char *tardis_header =
    "exchange,symbol,timestamp,local_timestamp,type,strike_price,expiration,open_interest,"
    "last_price,bid_price,bid_amount,bid_iv,ask_price,ask_amount,ask_iv,mark_price,mark_iv,"
    "underlying_index,underlying_price,delta,gamma,vega,theta,rho\n";
static const char *doc_row =
    "deribit,BTC-9JUN20-9875-P,1591574399413000,1591574400196008,put,9875,1591689600000000,0.1,"
    "0.0295,0.0205,15.0,55.91,0.0235,15.0,68.94,0.02210436,62.89,SYN.BTC-9JUN20,9756.36,-0.61752,"
    "0.00103,2.24964,-53.05655,-0.22796\n";

static const char *write_tmp(const char *name, const char *text, size_t len)
{
  FILE *f = fopen(name, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fwrite(text, 1, len, f);
  fclose(f);
  return name;
}

static const char *write_str(const char *name, const char *text)
{
  return write_tmp(name, text, strlen(text));
}

/* Reads every quote of 'path' into q (up to cap); returns the count or the
 * chain_open error. */
static int read_all(const char *path, int format, struct quote *q, int cap, struct chain_stats *st,
                    char *err, size_t errlen)
{
  struct chain_reader *r;
  int rc = chain_open(path, format, &r, err, errlen);
  if (rc != 0)
    return rc;
  int n = 0;
  struct quote tmp;
  while ((rc = chain_next(r, n < cap ? &q[n] : &tmp)) == 1)
    n++;
  CU_ASSERT_EQUAL(rc, 0);
  if (st)
    *st = *chain_get_stats(r);
  chain_close(r);
  return n;
}

static void check_doc_row(const struct quote *q)
{
  CU_ASSERT_STRING_EQUAL(q->venue, "deribit");
  CU_ASSERT_STRING_EQUAL(q->asset, "BTC");
  CU_ASSERT_STRING_EQUAL(q->symbol, "BTC-9JUN20-9875-P");
  CU_ASSERT_STRING_EQUAL(q->underlying_index, "SYN.BTC-9JUN20");
  CU_ASSERT_EQUAL(q->kind, QUOTE_PUT);
  CU_ASSERT_EQUAL(q->premium_in_coin, 1);
  CU_ASSERT_EQUAL(q->ts_us, 1591574399413000LL);
  CU_ASSERT_EQUAL(q->local_ts_us, 1591574400196008LL);
  CU_ASSERT_EQUAL(q->expiry_us, 1591689600000000LL);
  /* Short decimals go through the exact fast path: bit-equal to the literal. */
  CU_ASSERT(q->strike == 9875.0);
  CU_ASSERT(q->open_interest == 0.1);
  CU_ASSERT(q->last_price == 0.0295);
  CU_ASSERT(q->bid_price == 0.0205);
  CU_ASSERT(q->bid_amount == 15.0);
  CU_ASSERT(q->ask_price == 0.0235);
  CU_ASSERT(q->ask_amount == 15.0);
  CU_ASSERT(q->mark_price == 0.02210436);
  CU_ASSERT(q->underlying_price == 9756.36);
  CU_ASSERT(q->delta == -0.61752);
  /* Deribit IVs are percent in tardis files: fractions inside. */
  ASSERT_NEAR(q->bid_iv, 0.5591, 1e-15);
  ASSERT_NEAR(q->ask_iv, 0.6894, 1e-15);
  ASSERT_NEAR(q->mark_iv, 0.6289, 1e-15);
  CU_ASSERT(isnan(q->index_price));
}

static void tardis_doc_sample_row_parses_exactly(void)
{
  char text[2048], err[160];
  snprintf(text, sizeof(text), "%s%s", tardis_header, doc_row);
  const char *p = write_str("chain_tmp_doc.csv", text);
  struct quote q[2];
  struct chain_stats st;
  CU_ASSERT_EQUAL(read_all(p, CHAIN_FORMAT_TARDIS, q, 2, &st, err, sizeof(err)), 1);
  check_doc_row(&q[0]);
  CU_ASSERT_EQUAL(st.n_lines, 1);
  CU_ASSERT_EQUAL(st.n_quotes, 1);
  CU_ASSERT_EQUAL(st.n_malformed, 0);
  remove(p);
}

static void tardis_header_is_matched_by_name_in_any_column_order(void)
{
  /* The doc header and row with columns reversed, CRLF line ends. */
  const char *text =
      "rho,theta,vega,gamma,delta,underlying_price,underlying_index,mark_iv,mark_price,ask_iv,"
      "ask_amount,ask_price,bid_iv,bid_amount,bid_price,last_price,open_interest,expiration,"
      "strike_price,type,local_timestamp,timestamp,symbol,exchange\r\n"
      "-0.22796,-53.05655,2.24964,0.00103,-0.61752,9756.36,SYN.BTC-9JUN20,62.89,0.02210436,68.94,"
      "15.0,0.0235,55.91,15.0,0.0205,0.0295,0.1,1591689600000000,9875,put,1591574400196008,"
      "1591574399413000,BTC-9JUN20-9875-P,deribit\r\n";
  const char *p = write_str("chain_tmp_order.csv", text);
  struct quote q[2];
  char err[160];
  CU_ASSERT_EQUAL(read_all(p, CHAIN_FORMAT_AUTO, q, 2, NULL, err, sizeof(err)), 1);
  check_doc_row(&q[0]);
  remove(p);
}

static void tardis_fraction_venues_keep_ivs_and_map_names(void)
{
  /* OKX coin-margined and Bybit USDT rows: IVs already fractions; 0 = none. */
  char text[2048], err[160];
  snprintf(text, sizeof(text),
           "%sokex-options,BTC-USD-200612-9000-C,1591574399413000,1591574399413000,call,9000,"
           "1591948800000000,,,0.1,2,0.61,0.11,3,0.65,0.105,0.63,BTC-USD,9700,,,,,\n"
           "bybit-options,BTC-12JUN20-9000-C-USDT,1591574399413000,,call,9000,1591948800000000,"
           ",,0,0,0,1000,1,0.7,990,0.66,,9700,0.7,,,,\n",
           tardis_header);
  const char *p = write_str("chain_tmp_venues.csv", text);
  struct quote q[3];
  CU_ASSERT_EQUAL(read_all(p, CHAIN_FORMAT_TARDIS, q, 3, NULL, err, sizeof(err)), 2);
  CU_ASSERT_STRING_EQUAL(q[0].venue, "okx");
  CU_ASSERT_EQUAL(q[0].premium_in_coin, 1);
  CU_ASSERT(q[0].bid_iv == 0.61);
  CU_ASSERT(q[0].mark_iv == 0.63);
  CU_ASSERT(isnan(q[0].last_price));
  CU_ASSERT_STRING_EQUAL(q[1].venue, "bybit");
  CU_ASSERT_STRING_EQUAL(q[1].asset, "BTC");
  CU_ASSERT_EQUAL(q[1].premium_in_coin, 0);
  CU_ASSERT(isnan(q[1].bid_price));
  CU_ASSERT(isnan(q[1].bid_amount));
  CU_ASSERT(isnan(q[1].bid_iv));
  CU_ASSERT(q[1].ask_iv == 0.7);
  CU_ASSERT_EQUAL(q[1].local_ts_us, q[1].ts_us);
  remove(p);
}

static void gz_file_round_trips(void)
{
  char err[160];
#ifdef VOLSURF_HAVE_ZLIB
  const char *p = "chain_tmp_round.csv.gz";
  gzFile gz = gzopen(p, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(gz);
  gzputs(gz, tardis_header);
  for (int i = 0; i < 3000; i++)
    gzputs(gz, doc_row);
  gzclose(gz);
  struct quote q[1];
  struct chain_stats st;
  CU_ASSERT_EQUAL(read_all(p, CHAIN_FORMAT_AUTO, q, 1, &st, err, sizeof(err)), 3000);
  check_doc_row(&q[0]);
  CU_ASSERT_EQUAL(st.n_malformed, 0);
  remove(p);
#else
  struct chain_reader *r;
  const char *p = write_str("chain_tmp_plain.csv.gz", tardis_header);
  CU_ASSERT_EQUAL(chain_open(p, CHAIN_FORMAT_AUTO, &r, err, sizeof(err)), ERR_UNSUPPORTED);
  remove(p);
#endif
}

static void shared_deribit_csv_reads_310_quotes_in_7_expiries(void)
{
  char path[1024], err[160];
  if (!test_shared_path("deribit_btc_chain_20200514T0541Z_schepal.csv", path, sizeof(path)))
    return;
  static struct quote q[400];
  struct chain_stats st;
  int n = read_all(path, CHAIN_FORMAT_AUTO, q, 400, &st, err, sizeof(err));
  CU_ASSERT_EQUAL_FATAL(n, 310);
  CU_ASSERT_EQUAL(st.n_malformed, 0);
  CU_ASSERT_EQUAL(st.n_lines, 310);

  int64_t exp[16];
  int n_exp = 0, n_no_bid = 0, n_capped = 0, n_no_ask = 0;
  for (int i = 0; i < n; i++) {
    int seen = 0;
    for (int j = 0; j < n_exp; j++)
      seen |= exp[j] == q[i].expiry_us;
    if (!seen && n_exp < 16)
      exp[n_exp++] = q[i].expiry_us;
    n_no_bid += isnan(q[i].bid_iv);
    n_capped += q[i].ask_iv == 5.0;
    n_no_ask += isnan(q[i].ask_price);
    CU_ASSERT(q[i].expiry_us % 86400000000LL == 8 * 3600000000LL); /* 08:00 UTC */
    CU_ASSERT(q[i].premium_in_coin == 1);
  }
  CU_ASSERT_EQUAL(n_exp, 7);
  CU_ASSERT_EQUAL(n_no_bid, 141); /* bid_iv 0.0 */
  CU_ASSERT_EQUAL(n_capped, 65);  /* ask_iv 500.0 kept as the cap */
  CU_ASSERT_EQUAL(n_no_ask, 26);  /* best_ask_price 0.0 */

  /* Row 0 (line 2) of the file. */
  CU_ASSERT_STRING_EQUAL(q[0].symbol, "BTC-22MAY20-9250-P");
  CU_ASSERT_STRING_EQUAL(q[0].venue, "deribit");
  CU_ASSERT_STRING_EQUAL(q[0].asset, "BTC");
  CU_ASSERT_STRING_EQUAL(q[0].underlying_index, "SYN.BTC-22MAY20");
  CU_ASSERT_EQUAL(q[0].kind, QUOTE_PUT);
  CU_ASSERT_EQUAL(q[0].expiry_us, 1590134400000LL * 1000);
  CU_ASSERT_EQUAL(q[0].ts_us, 1589434896486LL * 1000);
  CU_ASSERT(q[0].strike == 9250.0);
  CU_ASSERT(q[0].underlying_price == 9352.58);
  CU_ASSERT(q[0].index_price == 9350.67);
  CU_ASSERT(q[0].bid_price == 0.042);
  CU_ASSERT(q[0].ask_price == 0.045);
  CU_ASSERT(q[0].mark_price == 0.04010621);
  CU_ASSERT(q[0].open_interest == 139.3);
  CU_ASSERT(q[0].delta == -0.43897);
  ASSERT_NEAR(q[0].bid_iv, 0.8007, 1e-15);
  ASSERT_NEAR(q[0].ask_iv, 0.8517, 1e-15);
  ASSERT_NEAR(q[0].mark_iv, 0.7687, 1e-15);
  CU_ASSERT_EQUAL(q[1].kind, QUOTE_CALL);
  CU_ASSERT_STRING_EQUAL(q[2].underlying_index, "BTC-26JUN20");
}

static void empty_file_is_a_parse_error(void)
{
  struct chain_reader *r = NULL;
  char err[160];
  const char *p = write_str("chain_tmp_empty.csv", "");
  CU_ASSERT_EQUAL(chain_open(p, CHAIN_FORMAT_AUTO, &r, err, sizeof(err)), ERR_PARSE);
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_STRING_EQUAL(err, "empty file");
  p = write_str("chain_tmp_empty.csv", "\n\n");
  CU_ASSERT_EQUAL(chain_open(p, CHAIN_FORMAT_TARDIS, &r, err, sizeof(err)), ERR_PARSE);
  CU_ASSERT_STRING_EQUAL(err, "empty file");
  remove(p);
}

static void header_without_a_required_column_names_it(void)
{
  struct chain_reader *r = NULL;
  char err[160];
  const char *p = write_str("chain_tmp_cols.csv",
                            "exchange,symbol,timestamp,type,expiration,bid_price,ask_price,"
                            "underlying_price\n");
  CU_ASSERT_EQUAL(chain_open(p, CHAIN_FORMAT_AUTO, &r, err, sizeof(err)), ERR_PARSE);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "strike_price"));
  p = write_str("chain_tmp_cols.csv", ",instrument_name,option_type,strike,timestamp\n");
  CU_ASSERT_EQUAL(chain_open(p, CHAIN_FORMAT_AUTO, &r, err, sizeof(err)), ERR_PARSE);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "expiration_timestamp"));
  p = write_str("chain_tmp_cols.csv", "a,b,c\n1,2,3\n");
  CU_ASSERT_EQUAL(chain_open(p, CHAIN_FORMAT_AUTO, &r, err, sizeof(err)), ERR_PARSE);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown header"));
  remove(p);
}

static void missing_file_is_an_io_error_and_format_names_parse(void)
{
  struct chain_reader *r = NULL;
  char err[160];
  CU_ASSERT_EQUAL(chain_open("chain_tmp_does_not_exist.csv", 0, &r, err, sizeof(err)), ERR_IO);
  CU_ASSERT_EQUAL(chain_format_parse("tardis"), CHAIN_FORMAT_TARDIS);
  CU_ASSERT_EQUAL(chain_format_parse("deribit-csv"), CHAIN_FORMAT_DERIBIT_CSV);
  CU_ASSERT_EQUAL(chain_format_parse("auto"), CHAIN_FORMAT_AUTO);
  CU_ASSERT_EQUAL(chain_format_parse("okx"), ERR_INPUT);
}

static void malformed_rows_are_counted_with_line_numbers_and_skipped(void)
{
  /* line 1 header; 2 good; 3 NaN strike; 4 negative strike; 5 over-long;
   * 6 garbage bytes; 7 good; 8 unknown type; 9 empty expiry; 10 text in a
   * price; 11 blank (ignored); 12 NaN in bid (fine: absent); 13 truncated. */
  static char text[CHAIN_MAX_LINE * 2 + 8192];
  size_t len = 0;
  len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", tardis_header, doc_row);
  len += (size_t)snprintf(text + len, sizeof(text) - len,
                          "deribit,BTC-9JUN20-X-P,1,1,put,NaN,1591689600000000,,,,,,,,,,,,,,,,,\n"
                          "deribit,BTC-9JUN20-X-P,1,1,put,-9875,1591689600000000,,,,,,,,,,,,,,,,,"
                          "\n");
  memset(text + len, 'x', CHAIN_MAX_LINE + 100);
  len += CHAIN_MAX_LINE + 100;
  text[len++] = '\n';
  const char garbage[] = "\x01\xff\xfe\x00zz,\"unterminated\n";
  memcpy(text + len, garbage, sizeof(garbage) - 1);
  len += sizeof(garbage) - 1;
  len += (size_t)snprintf(
      text + len, sizeof(text) - len,
      "%s"
      "deribit,BTC-9JUN20-9875-P,1,1,straddle,9875,1591689600000000,,,,,,,,,,,,,,,,,\n"
      "deribit,BTC-9JUN20-9875-P,1,1,put,9875,,,,,,,,,,,,,,,,,,\n"
      "deribit,BTC-9JUN20-9875-P,1,1,put,9875,1591689600000000,,,abc,,,,,,,,,,,,,,\n"
      "\n"
      "deribit,BTC-9JUN20-9875-P,1,1,put,9875,1591689600000000,,,nan,,,,,,,,,,,,,,\n"
      "deribit,BTC-9JUN20-9875-P,1591574399413000,1591574400196008,put,9875,159168",
      doc_row);
  const char *p = write_tmp("chain_tmp_bad.csv", text, len);
  struct quote q[8];
  struct chain_stats st;
  char err[160];
  CU_ASSERT_EQUAL(read_all(p, CHAIN_FORMAT_TARDIS, q, 8, &st, err, sizeof(err)), 3);
  check_doc_row(&q[0]);
  check_doc_row(&q[1]);
  CU_ASSERT(isnan(q[2].bid_price));
  CU_ASSERT_EQUAL(st.n_quotes, 3);
  CU_ASSERT_EQUAL(st.n_malformed, 8);
  CU_ASSERT_EQUAL(st.n_lines, 11);
  CU_ASSERT_EQUAL_FATAL(st.n_bad_kept, 8);
  static const int64_t want[8] = {3, 4, 5, 6, 8, 9, 10, 13};
  for (int i = 0; i < 8; i++)
    CU_ASSERT_EQUAL(st.bad_lines[i], want[i]);
  CU_ASSERT_PTR_NOT_NULL(strstr(st.first_error, "line 3"));
  remove(p);
}

static void many_malformed_rows_keep_the_first_line_numbers(void)
{
  static char text[64 * 100 + 1024];
  size_t len = (size_t)snprintf(text, sizeof(text), "%s", tardis_header);
  for (int i = 0; i < 40; i++)
    len += (size_t)snprintf(text + len, sizeof(text) - len, "deribit,only,three\n");
  const char *p = write_tmp("chain_tmp_many.csv", text, len);
  struct chain_stats st;
  char err[160];
  CU_ASSERT_EQUAL(read_all(p, CHAIN_FORMAT_TARDIS, NULL, 0, &st, err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(st.n_malformed, 40);
  CU_ASSERT_EQUAL(st.n_bad_kept, CHAIN_MAX_BAD_LINES);
  CU_ASSERT_EQUAL(st.bad_lines[0], 2);
  CU_ASSERT_EQUAL(st.bad_lines[CHAIN_MAX_BAD_LINES - 1], CHAIN_MAX_BAD_LINES + 1);
  remove(p);
}

static void rows_across_buffer_refills_and_a_multi_megabyte_line_are_handled(void)
{
  /* 12,000 rows (~2.6 MB) cross the reader's 1 MiB buffer several times; a
   * 3 MB line without a newline in the buffer is dropped up to its newline. */
  const char *p = "chain_tmp_big.csv";
  FILE *f = fopen(p, "wb");
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  fputs(tardis_header, f);
  for (int i = 0; i < 6000; i++)
    fputs(doc_row, f);
  for (int i = 0; i < 3 * 1024 * 1024; i++)
    fputc(i % 7 ? 'a' : ',', f);
  fputc('\n', f);
  for (int i = 0; i < 6000; i++)
    fputs(doc_row, f);
  fclose(f);
  struct chain_reader *r;
  char err[160];
  CU_ASSERT_EQUAL_FATAL(chain_open(p, CHAIN_FORMAT_AUTO, &r, err, sizeof(err)), 0);
  struct quote q;
  int n = 0, exact = 0;
  while (chain_next(r, &q) == 1) {
    n++;
    exact += q.strike == 9875.0 && q.bid_price == 0.0205 && q.ts_us == 1591574399413000LL &&
             q.delta == -0.61752 && strcmp(q.underlying_index, "SYN.BTC-9JUN20") == 0;
  }
  const struct chain_stats *st = chain_get_stats(r);
  CU_ASSERT_EQUAL(n, 12000);
  CU_ASSERT_EQUAL(exact, 12000);
  CU_ASSERT_EQUAL(st->n_malformed, 1);
  CU_ASSERT_EQUAL(st->bad_lines[0], 6002);
  CU_ASSERT_EQUAL(chain_bytes_read(r), 6000 * 2 * (int64_t)strlen(doc_row) +
                                           (int64_t)strlen(tardis_header) + 3 * 1024 * 1024 + 1);
  chain_close(r);
  remove(p);
}

static void long_decimals_and_exponents_parse_like_strtod(void)
{
  /* Mantissas beyond 19 digits and exponents beyond 1e22 take the slow path. */
  char text[4096], err[160];
  snprintf(text, sizeof(text),
           "%sderibit,BTC-9JUN20-9875-P,1591574399413000,,put,9875.000000000000000000001,"
           "1591689600000000,1.5e-3,3.14159265358979323846,2.5E+30,,,,,,,,,9756.36,,,,,\n",
           tardis_header);
  const char *p = write_str("chain_tmp_num.csv", text);
  struct quote q[1];
  CU_ASSERT_EQUAL(read_all(p, CHAIN_FORMAT_TARDIS, q, 1, NULL, err, sizeof(err)), 1);
  CU_ASSERT(q[0].strike == 9875.0);
  CU_ASSERT(q[0].open_interest == 1.5e-3);
  CU_ASSERT(q[0].last_price == strtod("3.14159265358979323846", NULL));
  CU_ASSERT(q[0].bid_price == 2.5e30);
  remove(p);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(tardis_doc_sample_row_parses_exactly),
      TEST_CASE(tardis_header_is_matched_by_name_in_any_column_order),
      TEST_CASE(tardis_fraction_venues_keep_ivs_and_map_names),
      TEST_CASE(gz_file_round_trips),
      TEST_CASE(shared_deribit_csv_reads_310_quotes_in_7_expiries),
      TEST_CASE(empty_file_is_a_parse_error),
      TEST_CASE(header_without_a_required_column_names_it),
      TEST_CASE(missing_file_is_an_io_error_and_format_names_parse),
      TEST_CASE(malformed_rows_are_counted_with_line_numbers_and_skipped),
      TEST_CASE(many_malformed_rows_keep_the_first_line_numbers),
      TEST_CASE(rows_across_buffer_refills_and_a_multi_megabyte_line_are_handled),
      TEST_CASE(long_decimals_and_exponents_parse_like_strtod),
  };
  return test_run("chain", cases, TEST_COUNT(cases));
}
