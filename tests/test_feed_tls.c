/* test_feed_tls: the connectors' TLS paths (feeds/feed.h feeds_new_ca)
 * against the fake venue serving wss:// and https:// on loopback with a
 * throwaway CA made at test time (tests/fake_venue.h fake_pki_make, the
 * openssl CLI; the whole suite exits 77 when it is missing).  A connector
 * trusting that CA lists over https, subscribes over wss, turns pushes into
 * quotes and reconnects after a forced drop; one trusting only the system
 * store, and one that meets a certificate for another host name, refuse
 * the server: no quotes, connect and listing errors counted, no crash.
 * `volsurf record` (VOLSURF_BINARY) records over TLS with VOLSURF_CA_FILE.
 *
 * The test thread services the client lws_context; the fake venue runs on
 * its own thread.  Every wait has a deadline of a few seconds. */
#if defined(VOLSURF_HAVE_LIVE_FEEDS) && defined(VOLSURF_HAVE_CJSON)
#define _POSIX_C_SOURCE 200809L

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "err.h"
#include "fake_venue.h"
#include "feed.h"
#include "feeds_testutil.h"
#include "metrics.h"
#include "now.h"
#include "qqueue.h"
#include "testutil.h"

#define WAIT_MS 4000

static struct fake_pki pki;

static struct {
  struct fake_venue *fv;
  struct lws_context *ctx;
  struct qqueue *qq;
  struct metrics *metrics;
  struct feeds *f;
  int n_quotes, n_up, n_down;
  struct quote last;
} h;

/* Runs the client loop once and drains the queue into the counters. */
static void pump(void)
{
  lws_service(h.ctx, 0);
  struct qq_item it[64];
  int n;
  while ((n = qq_pop(h.qq, it, 64, 0)) > 0) {
    for (int i = 0; i < n; i++) {
      if (it[i].kind == QQ_QUOTE) {
        h.n_quotes++;
        h.last = it[i].q;
      }
      h.n_up += it[i].kind == QQ_LINK_UP;
      h.n_down += it[i].kind == QQ_LINK_DOWN;
    }
  }
}

#define WAIT_UNTIL(cond)                                                                           \
  do {                                                                                             \
    int64_t end_ = (now_mono_us() / 1000) + WAIT_MS;                                               \
    while (!(cond) && (now_mono_us() / 1000) < end_)                                               \
      pump();                                                                                      \
  } while (0)

static struct feed_status status(void)
{
  struct feed_status st;
  feeds_status(h.f, 0, &st);
  return st;
}

static int rx_wait(const char *needle, int n)
{
  WAIT_UNTIL(fake_venue_count_rx(h.fv, needle) >= n);
  return fake_venue_count_rx(h.fv, needle);
}

/* Starts a TLS fake venue with cert/key serving the Binance listing. */
static void start_venue(const char *cert, const char *key)
{
  memset(&h, 0, sizeof h);
  h.fv = fake_venue_start_tls(fake_venue_binance_responder, NULL, cert, key);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h.fv);
  char *raw = feeds_fixture_read("binance", "exchange_info_reconstructed.json", NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(raw);
  char *body = fake_json_rewrite(raw, -1, (int64_t)time(NULL) * 1000 + 30LL * 86400000, NULL);
  free(raw);
  CU_ASSERT_PTR_NOT_NULL_FATAL(body);
  fake_venue_set_http(h.fv, "/eapi/v1/exchangeInfo", body);
  free(body);
}

/* start_venue, and one Binance connector on wss:// + https:// trusting
 * ca_file (NULL: the system store). */
static void start(const char *cert, const char *key, const char *ca_file)
{
  start_venue(cert, key);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  h.ctx = lws_create_context(&info);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h.ctx);
  h.qq = qq_new(4096);
  h.metrics = metrics_new();
  h.f = feeds_new_ca(h.ctx, h.qq, h.metrics, ca_file);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h.f);
  struct feed_config c;
  feed_config_default(&c, "binance");
  c.backoff_min_ms = 20;
  c.backoff_max_ms = 100;
  c.silence_ms = 8000;
  c.listing_refresh_ms = 200; /* also the retry delay after a failed GET */
  c.seed = 7;
  char ws[128], rest[128];
  int port = fake_venue_port(h.fv);
  snprintf(ws, sizeof ws, "wss://127.0.0.1:%d/market/ws", port);
  snprintf(rest, sizeof rest, "https://127.0.0.1:%d", port);
  c.ws_url = ws;
  c.rest_url = rest;
  CU_ASSERT_EQUAL_FATAL(feeds_add(h.f, &c), 0);
}

static void stop(void)
{
  feeds_free(h.f);
  lws_context_destroy(h.ctx);
  fake_venue_stop(h.fv);
  qq_free(h.qq);
  metrics_free(h.metrics);
}

static void send_fixture(const char *name)
{
  char *s = feeds_fixture_read("binance", name, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  fake_venue_send(h.fv, s, strlen(s));
  free(s);
}

static void trusting_the_ca_lists_over_https_streams_over_wss_and_reconnects(void)
{
  start(pki.cert, pki.key, pki.ca);
  WAIT_UNTIL(h.n_up >= 1);
  CU_ASSERT_EQUAL(h.n_up, 1);
  CU_ASSERT(fake_venue_http_hits(h.fv) >= 1); /* the listing came over https */
  CU_ASSERT_EQUAL(rx_wait("\"btcusdt@optionMarkPrice\"", 1), 1);
  send_fixture("mark_ws_official.json");
  WAIT_UNTIL(h.n_quotes >= 1);
  CU_ASSERT(h.n_quotes >= 1);
  CU_ASSERT_STRING_EQUAL(h.last.symbol, "BTC-251120-126000-C");
  int quotes = h.n_quotes;
  fake_venue_drop(h.fv);
  WAIT_UNTIL(h.n_up >= 2);
  CU_ASSERT_EQUAL(h.n_down, 1);
  CU_ASSERT_EQUAL(h.n_up, 2);
  CU_ASSERT_EQUAL(rx_wait("\"btcusdt@optionMarkPrice\"", 2), 2); /* resubscribed */
  send_fixture("mark_ws_official.json");
  WAIT_UNTIL(h.n_quotes > quotes);
  CU_ASSERT(h.n_quotes > quotes);
  struct feed_status st = status();
  CU_ASSERT_EQUAL(st.n_connects, 2);
  CU_ASSERT_EQUAL(st.n_connect_errors, 0);
  CU_ASSERT_EQUAL(st.n_listing_errors, 0);
  stop();
}

/* Waits for at least two refused connections and one refused listing GET,
 * then checks that nothing got through. */
static void assert_refused(void)
{
  WAIT_UNTIL(status().n_connect_errors >= 2 && status().n_listing_errors >= 1);
  struct feed_status st = status();
  CU_ASSERT(st.n_connect_errors >= 2);
  CU_ASSERT(st.n_listing_errors >= 1);
  CU_ASSERT_EQUAL(st.n_connects, 0);
  CU_ASSERT_EQUAL(st.connected, 0);
  CU_ASSERT_EQUAL(h.n_up, 0);
  CU_ASSERT_EQUAL(h.n_quotes, 0);
  CU_ASSERT_EQUAL(fake_venue_open(h.fv), 0);
  CU_ASSERT_EQUAL(fake_venue_http_hits(h.fv), 0); /* no request crossed the handshake */
  CU_ASSERT_EQUAL(fake_venue_count_rx(h.fv, "SUBSCRIBE"), 0);
  static char prom[1 << 16];
  metrics_render_prom(h.metrics, prom, sizeof prom);
  CU_ASSERT_PTR_NOT_NULL(strstr(prom, "volsurf_feed_connect_errors_total{venue=\"binance\"}"));
  CU_ASSERT_PTR_NOT_NULL(strstr(prom, "volsurf_feed_listing_errors_total{venue=\"binance\"}"));
}

static void the_system_store_alone_refuses_the_private_ca(void)
{
  start(pki.cert, pki.key, NULL);
  assert_refused();
  stop();
}

static void trusting_the_ca_still_refuses_a_certificate_for_another_host(void)
{
  start(pki.other_cert, pki.other_key, pki.ca);
  assert_refused();
  stop();
}

static void feeds_new_ca_refuses_a_missing_or_certificate_less_bundle(void)
{
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  struct lws_context *ctx = lws_create_context(&info);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ctx);
  struct qqueue *qq = qq_new(16);
  char missing[160];
  snprintf(missing, sizeof missing, "%s/no-such-ca.pem", pki.dir);
  CU_ASSERT_PTR_NULL(feeds_new_ca(ctx, qq, NULL, missing));
  CU_ASSERT_PTR_NULL(feeds_new_ca(ctx, qq, NULL, pki.key)); /* a key, no certificate */
  struct feeds *f = feeds_new_ca(ctx, qq, NULL, pki.ca);
  CU_ASSERT_PTR_NOT_NULL(f);
  feeds_free(f);
  lws_context_destroy(ctx);
  qq_free(qq);
}

/* Runs `volsurf record` against the TLS fake venue with VOLSURF_CA_FILE
 * set to ca_env (NULL: unset) and "flag flag_value" appended (NULL: none); returns its
 * exit status (-1 when it did not end in time), writing to out. */
static int run_record(const char *ca_env, const char *flag, const char *flag_value, const char *out)
{
  const char *bin = getenv("VOLSURF_BINARY");
  char ws[128], rest[128];
  snprintf(ws, sizeof ws, "wss://127.0.0.1:%d/market/ws", fake_venue_port(h.fv));
  snprintf(rest, sizeof rest, "https://127.0.0.1:%d", fake_venue_port(h.fv));
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    if (ca_env)
      setenv("VOLSURF_CA_FILE", ca_env, 1);
    execl(bin, bin, "record", "--venues", "binance", "--ws-url", ws, "--rest-url", rest,
          "--duration", "2", "--output", out, flag, flag_value, (char *)NULL);
    _exit(127);
  }
  if (pid < 0)
    return -1;
  /* Push marks once it subscribed, until it exits. */
  int st = 0, sent = 0;
  pid_t got = 0;
  for (int64_t end = (now_mono_us() / 1000) + 3 * WAIT_MS;
       got == 0 && (now_mono_us() / 1000) < end;) {
    got = waitpid(pid, &st, WNOHANG);
    if (got == 0 && fake_venue_count_rx(h.fv, "SUBSCRIBE") > 0 && sent < 20) {
      send_fixture("mark_ws_official.json");
      sent++;
    }
    struct timespec ts = {0, 50 * 1000000};
    nanosleep(&ts, NULL);
  }
  if (got == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* 1 when the file at path contains needle. */
static int file_has(const char *path, const char *needle)
{
  FILE *f = fopen(path, "r");
  char line[4096];
  int found = 0;
  while (f && !found && fgets(line, sizeof line, f))
    found = strstr(line, needle) != NULL;
  if (f)
    fclose(f);
  return found;
}

static void record_trusts_volsurf_ca_file_and_refuses_a_bad_ca_flag(void)
{
  const char *bin = getenv("VOLSURF_BINARY");
  if (!bin || access(bin, X_OK) != 0) {
    fprintf(stderr, "(no volsurf binary: case skipped) ");
    return;
  }
  start_venue(pki.cert, pki.key);
  char out[160];
  snprintf(out, sizeof out, "%s/rec.csv", pki.dir);
  CU_ASSERT_EQUAL(run_record(pki.ca, NULL, NULL, out), 0);
  CU_ASSERT(fake_venue_http_hits(h.fv) >= 1);
  CU_ASSERT(fake_venue_count_rx(h.fv, "\"btcusdt@optionMarkPrice\"") >= 1);
  CU_ASSERT(file_has(out, "BTC-251120-126000-C"));
  remove(out);
  /* The flag wins over the environment; an unreadable bundle stops it. */
  CU_ASSERT_EQUAL(run_record(pki.ca, "--ca-file", pki.key, out), 1);
  remove(out);
  fake_venue_stop(h.fv);
}

int main(void)
{
  /* FEED_TEST_LOG=1 shows the connectors' own log lines. */
  const char *log = getenv("FEED_TEST_LOG");
  lws_set_log_level(log && *log == '1' ? LLL_ERR | LLL_WARN | LLL_USER : 0, NULL);
  int rc = fake_pki_make(&pki);
  if (rc == TEST_SKIP) {
    fprintf(stderr, "test_feed_tls: SKIPPED: no openssl CLI to make the test CA\n");
    return TEST_SKIP;
  }
  if (rc < 0) {
    fprintf(stderr, "test_feed_tls: cannot make the test CA with openssl\n");
    return 1;
  }
  const struct test_case cases[] = {
      TEST_CASE(trusting_the_ca_lists_over_https_streams_over_wss_and_reconnects),
      TEST_CASE(the_system_store_alone_refuses_the_private_ca),
      TEST_CASE(trusting_the_ca_still_refuses_a_certificate_for_another_host),
      TEST_CASE(feeds_new_ca_refuses_a_missing_or_certificate_less_bundle),
      TEST_CASE(record_trusts_volsurf_ca_file_and_refuses_a_bad_ca_flag),
  };
  rc = test_run("feed_tls", cases, TEST_COUNT(cases));
  fake_pki_remove(&pki);
  return rc;
}

#else
int main(void)
{
  return 77; /* built without libwebsockets/libcurl or cJSON */
}
#endif
