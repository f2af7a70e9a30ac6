/* test_record: `volsurf record` against the market simulator on loopback
 * writes a gzipped tardis CSV that the chain reader reads back whole, and
 * that replays into surfaces -- the same bytes twice.  Skipped (77) without
 * the simulator (feeds/sim_server.h) or a binary with `record`. */
#include <stdint.h>
#include <stdlib.h>

#include "now.h"
#include "testutil.h"

#if defined(__has_include)
#if __has_include("sim_server.h")
#define TEST_RECORD_BUILT 1
#endif
#endif

#ifdef TEST_RECORD_BUILT

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "replay.h"
#include "sim_server.h"

#define RECORD_S "1.5"
#define WAIT_EXIT_MS 15000

static const char *bin;
static char rec_path[64];

static int binary_has(const char *cmd_name)
{
  char cmd[512];
  snprintf(cmd, sizeof(cmd), "'%s' --help 2>/dev/null", bin);
  FILE *p = popen(cmd, "r");
  if (!p)
    return 0;
  char line[256], want[32];
  snprintf(want, sizeof(want), "  %s ", cmd_name);
  int found = 0;
  while (fgets(line, sizeof(line), p))
    if (strncmp(line, want, strlen(want)) == 0)
      found = 1;
  pclose(p);
  return found;
}

static void record_writes_a_readable_recording(void)
{
  struct sim_server_config sc;
  sim_server_config_default(&sc);
  sc.listen = "127.0.0.1:0";
  sc.market.seed = 3;
  char err[256] = "";
  struct sim_server *sim = sim_server_start(&sc, err, sizeof(err));
  CU_ASSERT_PTR_NOT_NULL_FATAL(sim);
  char url[96];
  snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws/api/v2", sim_server_port(sim));
  snprintf(rec_path, sizeof(rec_path), "/tmp/test_record_%d.csv.gz", (int)getpid());
  pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stderr);
    execl(bin, bin, "record", "--venues", "deribit", "--ws-url", url, "--assets", "BTC,ETH",
          "--duration", RECORD_S, "--output", rec_path, (char *)NULL);
    _exit(127);
  }
  int st = -1;
  pid_t got = 0;
  for (int64_t end = (now_mono_us() / 1000) + WAIT_EXIT_MS;
       (now_mono_us() / 1000) < end && got == 0;) {
    got = waitpid(pid, &st, WNOHANG);
    if (got == 0) {
      struct timespec ts = {0, 20000000};
      nanosleep(&ts, NULL);
    }
  }
  if (got == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
  }
  sim_server_stop(sim);
  CU_ASSERT_EQUAL_FATAL(got, pid);
  CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);

  struct chain_reader *r;
  CU_ASSERT_EQUAL_FATAL(chain_open(rec_path, CHAIN_FORMAT_AUTO, &r, err, sizeof(err)), 0);
  struct quote q;
  long n = 0, n_with_iv = 0;
  int64_t first = 0, last = 0;
  while (chain_next(r, &q) == 1) {
    n++;
    CU_ASSERT_STRING_EQUAL(q.venue, "deribit");
    CU_ASSERT(strcmp(q.asset, "BTC") == 0 || strcmp(q.asset, "ETH") == 0);
    n_with_iv += !isnan(q.mark_iv) && q.mark_iv > 0.05 && q.mark_iv < 5.0;
    if (!first)
      first = q.local_ts_us;
    last = q.local_ts_us;
  }
  CU_ASSERT_EQUAL(chain_get_stats(r)->n_malformed, 0);
  chain_close(r);
  CU_ASSERT(n > 100);
  CU_ASSERT(n_with_iv > n / 2);
  CU_ASSERT(last >= first);
}

static void write_surface(void *ctx, struct surface *s)
{
  replay_write_surface(ctx, s);
  surface_free(s);
}

/* Replays the recording as fast as possible; returns its JSON lines
 * (caller frees) or NULL. */
static char *replay_once(struct replay_stats *st)
{
  struct replay_config c;
  replay_config_default(&c);
  c.path = rec_path;
  c.speed = 0;
  c.calib.backend = FIT_BACKEND_CPU;
  FILE *f = tmpfile();
  char err[160];
  if (!f || replay_run(&c, write_surface, f, st, err, sizeof(err)) < 0) {
    if (f)
      fclose(f);
    return NULL;
  }
  long len = ftell(f);
  char *text = calloc(1, (size_t)len + 1);
  rewind(f);
  if (fread(text, 1, (size_t)len, f) != (size_t)len)
    text[0] = '\0';
  fclose(f);
  return text;
}

static void the_recording_replays_into_the_same_surfaces_twice(void)
{
  CU_ASSERT_FATAL(rec_path[0] != '\0');
  struct replay_stats s1, s2;
  char *a = replay_once(&s1), *b = replay_once(&s2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT(s1.n_published >= 2); /* BTC and ETH at least once */
  CU_ASSERT_PTR_NOT_NULL(strstr(a, "\"surface\":\"deribit.BTC\""));
  CU_ASSERT_STRING_EQUAL(a, b);
  free(a);
  free(b);
}

int main(void)
{
  bin = getenv("VOLSURF_BINARY");
  if (!bin || access(bin, X_OK) != 0 || !binary_has("record")) {
    fprintf(stderr, "test_record: skipped (no volsurf binary with record)\n");
    return TEST_SKIP;
  }
  static const struct test_case cases[] = {
      TEST_CASE(record_writes_a_readable_recording),
      TEST_CASE(the_recording_replays_into_the_same_surfaces_twice),
  };
  int rc = test_run("record", cases, TEST_COUNT(cases));
  if (rec_path[0])
    unlink(rec_path);
  return rc;
}

#else

int main(void)
{
  fprintf(stderr, "test_record: skipped (built without the simulator)\n");
  return TEST_SKIP;
}

#endif
