/* cmd_record: `volsurf record` connects the live feeds (feeds/feed.h) and
 * writes every normalized quote, with its receive timestamp, to a tardis
 * options_chain CSV (chain_writer, gzip for .gz) that `volsurf replay`
 * reads back.
 *
 *   venues --ws--> feeds (main thread, lws) --qqueue--> writer thread --> FILE
 *
 * The main thread services the lws_context; the writer thread drains the
 * queue and owns the file.  SIGINT/SIGTERM or --duration end the recording:
 * the feeds close, the queue is drained, the file is flushed and closed. */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <libwebsockets.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain.h"
#include "cmd.h"
#include "err.h"
#include "feed.h"
#include "log.h"
#include "now.h"
#include "qqueue.h"
#include "stop.h"

#define RECORD_QUEUE_CAP (1 << 18)
#define RECORD_MAX_VENUES 4

static struct lws_context *rec_ctx;

static void record_usage(FILE *f)
{
  fprintf(f, "usage: volsurf record --output FILE[.gz] [--venues deribit[,okx,bybit,binance]]\n"
             "                      [--ws-url URL] [--rest-url URL] [--assets BTC,ETH]\n"
             "                      [--duration S] [--ca-file PATH]\n"
             "  Records normalized quotes with their receive timestamps as a tardis\n"
             "  options_chain CSV (gzip when FILE ends in .gz), for `volsurf replay`.\n"
             "  --venues    venues to connect (default deribit)\n"
             "  --ws-url    websocket URL (one venue only), e.g. the simulator's\n"
             "              ws://127.0.0.1:9901/ws/api/v2\n"
             "  --rest-url  REST base for the listing (one venue only)\n"
             "  --assets    option families to record (default: every one listed)\n"
             "  --duration  seconds to record (default: until Ctrl-C)\n"
             "  --ca-file   PEM bundle that TLS peers (wss://, https://) are verified\n"
             "              against instead of the system store (env VOLSURF_CA_FILE)\n");
}

struct writer {
  struct qqueue *qq;
  struct chain_writer *w;
  atomic_int done; /* set by main after the feeds closed */
  long n_written;
  int io_error;
};

static void *writer_main(void *arg)
{
  struct writer *wr = arg;
  static struct qq_item items[1024];
  int64_t last_flush = 0;
  for (;;) {
    int n = qq_pop(wr->qq, items, 1024, 200000);
    for (int i = 0; i < n; i++) {
      if (items[i].kind != QQ_QUOTE)
        continue;
      if (chain_write(wr->w, &items[i].q) < 0) {
        wr->io_error = 1;
        continue;
      }
      wr->n_written++;
    }
    int64_t now = now_mono_us() / 1000000;
    if (now - last_flush >= 1) { /* a crash loses at most a second */
      if (chain_writer_flush(wr->w) < 0)
        wr->io_error = 1;
      last_flush = now;
    }
    if (n == 0 && atomic_load(&wr->done))
      break;
  }
  return NULL;
}

/* A 100 ms timer on the loop: wakes lws_service so that the loop sees the
 * stop flag, and ends the recording after --duration. */
struct rec_timer {
  lws_sorted_usec_list_t sul;
  int64_t end_ms; /* 0: no duration */
};

static void rec_tick(lws_sorted_usec_list_t *sul)
{
  struct rec_timer *t = lws_container_of(sul, struct rec_timer, sul);
  if (t->end_ms && (now_mono_us() / 1000) >= t->end_ms)
    stop_request();
  /* A 100 ms timer: the loop sees a stop (signal or duration) within 100 ms. */
  if (!stop_requested())
    lws_sul_schedule(rec_ctx, 0, &t->sul, rec_tick, 100 * LWS_US_PER_MS);
}

int cmd_record(int argc, char **argv)
{
  const char *output = NULL, *venues = "deribit", *ws_url = NULL, *rest_url = NULL;
  const char *assets = NULL;
  const char *ca_file = getenv("VOLSURF_CA_FILE"); /* the flag wins */
  double duration_s = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      record_usage(stdout);
      return 0;
    } else if (strcmp(a, "--output") == 0 && v) {
      output = argv[++i];
    } else if (strcmp(a, "--venues") == 0 && v) {
      venues = argv[++i];
    } else if (strcmp(a, "--ws-url") == 0 && v) {
      ws_url = argv[++i];
    } else if (strcmp(a, "--rest-url") == 0 && v) {
      rest_url = argv[++i];
    } else if (strcmp(a, "--assets") == 0 && v) {
      assets = argv[++i];
    } else if (strcmp(a, "--ca-file") == 0 && v) {
      ca_file = argv[++i];
    } else if (strcmp(a, "--duration") == 0 && v) {
      duration_s = strtod(v, &end);
      if (*end || !(duration_s > 0)) {
        fprintf(stderr, "volsurf record: --duration wants seconds > 0\n");
        return 2;
      }
      i++;
    } else {
      fprintf(stderr, "volsurf record: unknown or incomplete option '%s'\n", a);
      record_usage(stderr);
      return 2;
    }
  }
  if (!output) {
    fprintf(stderr, "volsurf record: --output FILE is required\n");
    record_usage(stderr);
    return 2;
  }
  char list[128];
  snprintf(list, sizeof(list), "%s", venues);
  const char *names[RECORD_MAX_VENUES];
  int n_venues = 0;
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    if (n_venues == RECORD_MAX_VENUES) {
      fprintf(stderr, "volsurf record: at most %d venues\n", RECORD_MAX_VENUES);
      return 2;
    }
    names[n_venues++] = tok;
  }
  if (n_venues == 0 || ((ws_url || rest_url) && n_venues != 1)) {
    fprintf(stderr, "volsurf record: --ws-url and --rest-url need exactly one venue\n");
    return 2;
  }

  int rc = 1;
  struct writer wr = {0};
  struct feeds *feeds = NULL;
  pthread_t wt;
  int writer_started = 0;
  char err[256] = "";
  wr.qq = qq_new(RECORD_QUEUE_CAP);
  if (!wr.qq)
    goto out;
  if (chain_writer_open(output, &wr.w, err, sizeof(err)) < 0) {
    fprintf(stderr, "volsurf record: %s\n", err);
    goto out;
  }
  lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.port = CONTEXT_PORT_NO_LISTEN;
  rec_ctx = lws_create_context(&info);
  if (!rec_ctx) {
    fprintf(stderr, "volsurf record: cannot create the websocket context\n");
    goto out;
  }
  if (ca_file && !ca_file[0])
    ca_file = NULL; /* VOLSURF_CA_FILE= means the system store */
  feeds = feeds_new_ca(rec_ctx, wr.qq, NULL, ca_file);
  if (!feeds) {
    fprintf(stderr, "volsurf record: cannot start the feeds%s%s\n",
            ca_file ? " with the CA bundle " : "", ca_file ? ca_file : "");
    goto out;
  }
  for (int i = 0; i < n_venues; i++) {
    struct feed_config fc;
    feed_config_default(&fc, names[i]);
    fc.ws_url = ws_url;
    fc.rest_url = rest_url;
    fc.assets = assets;
    int frc = feeds_add(feeds, &fc);
    if (frc < 0) {
      fprintf(stderr, "volsurf record: venue '%s': %s\n", names[i], err_str(frc));
      rc = 2;
      goto out;
    }
  }
  if (pthread_create(&wt, NULL, writer_main, &wr) != 0)
    goto out;
  writer_started = 1;

  stop_on_signals();
  struct rec_timer timer = {
      .end_ms = duration_s > 0 ? (now_mono_us() / 1000) + (int64_t)(duration_s * 1e3) : 0};
  lws_sul_schedule(rec_ctx, 0, &timer.sul, rec_tick, 100 * LWS_US_PER_MS);
  log_msg(LOG_INFO, 0, "recording %s to %s", venues, output);
  while (!stop_requested())
    if (lws_service(rec_ctx, 0) < 0)
      break;
  lws_sul_cancel(&timer.sul);
  rc = 0;
out:
  /* Feeds close on the loop's thread, before the context goes. */
  feeds_free(feeds);
  if (writer_started) {
    atomic_store(&wr.done, 1);
    pthread_join(wt, NULL);
  }
  if (rec_ctx) {
    struct lws_context *c = rec_ctx;
    rec_ctx = NULL;
    lws_context_destroy(c);
  }
  if (wr.w && chain_writer_close(wr.w) < 0)
    wr.io_error = 1;
  if (wr.io_error) {
    fprintf(stderr, "volsurf record: write error on %s\n", output);
    rc = 1;
  }
  if (rc == 0)
    fprintf(stderr, "volsurf record: %ld quotes written to %s, %ld dropped by the queue\n",
            wr.n_written, output, qq_n_dropped(wr.qq));
  qq_free(wr.qq);
  return rc;
}
