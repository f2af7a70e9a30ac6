/* test_replay: the recording format round-trips (chain_write -> chain_open),
 * and a recording replays into byte-identical surface JSON lines: twice in
 * a row, and at two speeds; `volsurf replay` itself when the binary is
 * there. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chain.h"
#include "err.h"
#include "replay.h"
#include "synth.h"
#include "testutil.h"

#define AS_OF 1767600000000000LL /* 2026-01-05T08:00:00Z */
#define MS 1000LL

static char rec_path[64];

/* A 2 s recording: the synthetic chain, then three waves of requotes of a
 * third of the instruments each, 0.6 s apart, received over 0.1 s, in the
 * okx and deribit venues (two IV unit conventions). */
static int make_recording(void)
{
  if (rec_path[0])
    return 0;
  char snap[] = "/tmp/test_replay_snap_XXXXXX";
  int fd = mkstemp(snap);
  if (fd < 0)
    return -1;
  close(fd);
  if (synth_write_chain(snap, 11, AS_OF) <= 0)
    return -1;
  static struct quote q[8192];
  int n = 0;
  struct chain_reader *r;
  char err[160];
  if (chain_open(snap, CHAIN_FORMAT_TARDIS, &r, err, sizeof(err)) < 0)
    return -1;
  while (n < 8192 && chain_next(r, &q[n]) == 1)
    n++;
  chain_close(r);
  unlink(snap);
  snprintf(rec_path, sizeof(rec_path), "/tmp/test_replay_rec_%d.csv.gz", (int)getpid());
  struct chain_writer *w;
  if (chain_writer_open(rec_path, &w, err, sizeof(err)) < 0)
    return -1;
  for (int wave = 0; wave < 4; wave++) {
    for (int i = 0; i < n; i++) {
      if (wave > 0 && i % 3 != wave - 1)
        continue;
      struct quote x = q[i];
      x.local_ts_us = AS_OF + wave * 600 * MS + (int64_t)i * 100 * MS / n;
      x.ts_us = x.local_ts_us - 2 * MS;
      if (wave > 0) {
        x.bid_iv *= 1.0 + 0.002 * wave;
        x.mark_iv *= 1.0 + 0.002 * wave;
        x.ask_iv *= 1.0 + 0.002 * wave;
        x.bid_price = x.ask_price = x.mark_price = NAN;
      }
      chain_write(w, &x);
      if (i % 2 == 0) { /* the same market on a second venue */
        snprintf(x.venue, sizeof(x.venue), "okx");
        chain_write(w, &x);
      }
    }
  }
  return chain_writer_close(w);
}

static void a_written_quote_reads_back_as_written(void)
{
  char path[] = "/tmp/test_replay_rt_XXXXXX";
  int fd = mkstemp(path);
  CU_ASSERT_FATAL(fd >= 0);
  close(fd);
  struct quote a;
  quote_init(&a);
  strcpy(a.venue, "bybit");
  strcpy(a.symbol, "BTC-27DEC26-100000-C");
  strcpy(a.underlying_index, "BTC");
  a.kind = QUOTE_CALL;
  a.strike = 100000;
  a.expiry_us = 1798358400000000LL;
  a.ts_us = AS_OF;
  a.local_ts_us = AS_OF + 1234;
  a.bid_price = 0.1 + 0.2; /* not exact in decimal: must still round-trip */
  a.ask_price = 1234.5;
  a.bid_iv = 0.55;
  a.ask_iv = 0.6;
  a.underlying_price = 101234.56789;
  a.index_price = 100999.5;
  struct chain_writer *w;
  char err[160];
  CU_ASSERT_EQUAL_FATAL(chain_writer_open(path, &w, err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(chain_write(w, &a), 0);
  strcpy(a.venue, "deribit");
  CU_ASSERT_EQUAL(chain_write(w, &a), 0);
  CU_ASSERT_EQUAL(chain_writer_rows(w), 2);
  CU_ASSERT_EQUAL(chain_writer_close(w), 0);
  struct chain_reader *r;
  CU_ASSERT_EQUAL_FATAL(chain_open(path, CHAIN_FORMAT_AUTO, &r, err, sizeof(err)), 0);
  struct quote b;
  CU_ASSERT_EQUAL_FATAL(chain_next(r, &b), 1);
  CU_ASSERT_STRING_EQUAL(b.venue, "bybit");
  CU_ASSERT_STRING_EQUAL(b.symbol, a.symbol);
  CU_ASSERT_STRING_EQUAL(b.asset, "BTC");
  CU_ASSERT_EQUAL(b.kind, QUOTE_CALL);
  CU_ASSERT_EQUAL(b.expiry_us, a.expiry_us);
  CU_ASSERT_EQUAL(b.ts_us, a.ts_us);
  CU_ASSERT_EQUAL(b.local_ts_us, a.local_ts_us);
  CU_ASSERT_EQUAL(b.bid_price, a.bid_price);
  CU_ASSERT_EQUAL(b.ask_price, a.ask_price);
  CU_ASSERT_EQUAL(b.bid_iv, a.bid_iv);
  CU_ASSERT_EQUAL(b.underlying_price, a.underlying_price);
  CU_ASSERT_EQUAL(b.index_price, a.index_price);
  CU_ASSERT(isnan(b.mark_price) && isnan(b.delta));
  CU_ASSERT_EQUAL_FATAL(chain_next(r, &b), 1);
  CU_ASSERT_STRING_EQUAL(b.venue, "deribit");
  ASSERT_NEAR(b.bid_iv, 0.55, 1e-15); /* through percent */
  CU_ASSERT_EQUAL(chain_next(r, &b), 0);
  CU_ASSERT_EQUAL(chain_get_stats(r)->n_malformed, 0);
  chain_close(r);
  unlink(path);
}

struct sink {
  FILE *f;
  int n;
};

static void to_file(void *ctx, struct surface *s)
{
  struct sink *k = ctx;
  replay_write_surface(k->f, s);
  k->n++;
  surface_free(s);
}

/* Replays the recording at 'speed'; returns the output (caller frees). */
static char *replay_text(double speed, struct replay_stats *st)
{
  struct replay_config c;
  replay_config_default(&c);
  c.path = rec_path;
  c.speed = speed;
  c.calib.backend = FIT_BACKEND_CPU;
  struct sink k = {tmpfile(), 0};
  char err[160];
  int rc = replay_run(&c, to_file, &k, st, err, sizeof(err));
  if (rc < 0) {
    fprintf(stderr, "\n  replay: %s\n", err);
    fclose(k.f);
    return NULL;
  }
  long len = ftell(k.f);
  char *text = calloc(1, (size_t)len + 1);
  rewind(k.f);
  if (fread(text, 1, (size_t)len, k.f) != (size_t)len)
    text[0] = '\0';
  fclose(k.f);
  return text;
}

static void a_recording_replays_into_identical_bytes_at_any_speed(void)
{
  CU_ASSERT_EQUAL_FATAL(make_recording(), 0);
  struct replay_stats s1, s2, s3;
  char *a = replay_text(0, &s1);
  char *b = replay_text(0, &s2);
  char *c = replay_text(40, &s3); /* 1.9 s recorded in about 50 ms */
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT(strlen(a) > 1000);
  CU_ASSERT_STRING_EQUAL(a, b);
  CU_ASSERT_STRING_EQUAL(a, c);
  CU_ASSERT_EQUAL(s1.n_dropped, 0);
  CU_ASSERT_EQUAL(s1.chain.n_malformed, 0);
  CU_ASSERT_EQUAL(s1.n_ticks, 19); /* boundaries 0.1 s .. 1.9 s */
  /* Two venues x three assets published first, then one version per wave
   * for each surface the wave touched. */
  CU_ASSERT(s1.n_published >= 6 + 3 * 6);
  CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"surface\":\"okx.BTC\""));
  CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"surface\":\"deribit.SOL_USDC\",\"version\":4"));
  CU_ASSERT_PTR_NULL(strstr(a, "\"usable\":0"));
  free(a);
  free(b);
  free(c);
}

static void a_missing_recording_is_a_clear_error(void)
{
  struct replay_config c;
  replay_config_default(&c);
  c.path = "/nonexistent/rec.csv";
  char err[160] = "";
  CU_ASSERT_EQUAL(replay_run(&c, NULL, NULL, NULL, err, sizeof(err)), ERR_IO);
  CU_ASSERT(strlen(err) > 0);
}

/* Runs `volsurf replay` and returns its exit code. */
static int run_binary(const char *bin, const char *speed, const char *out)
{
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stderr);
    execl(bin, bin, "replay", rec_path, "--speed", speed, "--output", out, "--backend", "cpu",
          (char *)NULL);
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void the_replay_command_writes_the_same_file_twice(void)
{
  const char *bin = getenv("VOLSURF_BINARY");
  if (!bin || access(bin, X_OK) != 0) {
    CU_PASS("no volsurf binary");
    return;
  }
  CU_ASSERT_EQUAL_FATAL(make_recording(), 0);
  char a[64], b[64];
  snprintf(a, sizeof(a), "/tmp/test_replay_a_%d.jsonl", (int)getpid());
  snprintf(b, sizeof(b), "/tmp/test_replay_b_%d.jsonl", (int)getpid());
  CU_ASSERT_EQUAL(run_binary(bin, "0", a), 0);
  CU_ASSERT_EQUAL(run_binary(bin, "100", b), 0);
  char *ta = NULL, *tb = NULL;
  size_t la = 0, lb = 0;
  FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
  CU_ASSERT_FATAL(fa && fb);
  CU_ASSERT(getdelim(&ta, &la, '\0', fa) > 1000);
  CU_ASSERT(getdelim(&tb, &lb, '\0', fb) > 1000);
  CU_ASSERT_STRING_EQUAL(ta, tb);
  struct replay_stats st;
  char *lib = replay_text(0, &st);
  CU_ASSERT_STRING_EQUAL(ta, lib);
  free(lib);
  free(ta);
  free(tb);
  fclose(fa);
  fclose(fb);
  unlink(a);
  unlink(b);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(a_written_quote_reads_back_as_written),
      TEST_CASE(a_recording_replays_into_identical_bytes_at_any_speed),
      TEST_CASE(a_missing_recording_is_a_clear_error),
      TEST_CASE(the_replay_command_writes_the_same_file_twice),
  };
  int rc = test_run("replay", cases, TEST_COUNT(cases));
  if (rec_path[0])
    unlink(rec_path);
  return rc;
}
