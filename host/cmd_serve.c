/* cmd_serve: `volsurf serve`, the embedded default of DESIGN.md "Runtime":
 * one process holding the market simulator (or live venues), the feeds,
 * the calibration worker and the websocket gateway, all on one port.
 *
 *   sim_server (own thread, loopback) --Deribit ws--> feeds --qqueue-->
 *   calib (worker thread) --surface_mailbox + gw_wake--> gateway --> browsers
 *
 * Threads: the main thread services one lws_context (explicit vhosts: the
 * gateway's server vhost and the feeds' client vhost); the calib worker;
 * the simulator's own thread.  They meet only through the qqueue and the
 * mailbox.  A 100 ms timer on the loop writes EMF lines every 10 s
 * (--metrics-emf) and lets the loop see the stop flag that SIGINT/SIGTERM
 * set; shutdown stops the worker, closes the feeds and
 * clients on the loop's thread, then frees everything.
 *
 * Configuration: defaults < VOLSURF_* environment < command-line flags. */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calib.h"
#include "cmd.h"
#include "err.h"
#include "feed.h"
#include "fit.h"
#include "gateway.h"
#include "log.h"
#include "metrics.h"
#include "now.h"
#include "qqueue.h"
#include "sim_server.h"
#include "surface.h"
#include "stop.h"

#define SERVE_MAX_VENUES 4
#define SERVE_QUEUE_CAP (1 << 17)
#define SERVE_MAX_SURFACES 1024
#define SERVE_EMF_PERIOD_MS 10000
/* /healthz bounds (serve_health). */
#define SERVE_STALL_MIN_MS 1000
#define SERVE_FEED_LIVE_MS 5000

struct serve_opts {
  int port;
  const char *iface;
  const char *listen_sim;
  char venues[128];
  uint64_t seed;
  int backend;
  int cadence_ms;
  int quiet_ms;   /* -1: min(3, cadence) */
  int min_gap_ms; /* -1: min(20, cadence) */
  const char *static_dir;
  const char *allowed_origin;
  int metrics_emf;
  const char *role;
  char ns[96];
  int log_level;
  double sim_speed;
  const char *ca_file; /* NULL: the system CA store */
};

static void serve_usage(FILE *f)
{
  fprintf(f, "usage: volsurf serve [--port 8080] [--iface ADDR] [--listen-sim 127.0.0.1:9901]\n"
             "                     [--venues sim|deribit,okx,bybit,binance] [--seed N]\n"
             "                     [--backend auto|cpu|gpu] [--cadence-ms 100] [--quiet-ms 3]\n"
             "                     [--min-gap-ms 20] [--static DIR]\n"
             "                     [--allowed-origin ORIGIN[,ORIGIN]] [--metrics-emf]\n"
             "                     [--role all|ingest|calibrate|gateway] [--log-level info]\n"
             "                     [--ca-file PATH]\n"
             "  Runs the live service: quotes from the built-in market simulator (default,\n"
             "  served on --listen-sim and read by the real Deribit connector) or from the\n"
             "  named venues, calibration of the slices that changed, and the dashboard,\n"
             "  the websocket stream (/ws), /healthz and /metrics on one port.\n"
             "  --port 0 picks a free port (logged as \"listening\").\n"
             "  --quiet-ms       refit a surface once its quotes were quiet this long (a\n"
             "                   burst has landed) ...\n"
             "  --cadence-ms     ... or when its oldest new quote is this old, whichever\n"
             "                   comes first; also the staleness check period\n"
             "  --min-gap-ms     least time between two versions of a surface\n"
             "  --metrics-emf    CloudWatch EMF metric lines on stdout every 10 s\n"
             "  --ca-file        PEM bundle that venue TLS peers (wss://, https://) are\n"
             "                   verified against instead of the system store\n"
             "  --role           only 'all' works in this build: the split roles (ingest,\n"
             "                   calibrate, gateway) talk through Kafka, which is not built in\n"
             "  Environment (overridden by flags): VOLSURF_PORT, VOLSURF_IFACE, VOLSURF_VENUES,\n"
             "  VOLSURF_LISTEN_SIM, VOLSURF_SEED, VOLSURF_FIT_BACKEND, VOLSURF_CADENCE_MS,\n"
             "  VOLSURF_QUIET_MS, VOLSURF_MIN_GAP_MS,\n"
             "  VOLSURF_STATIC_DIR, VOLSURF_ALLOWED_ORIGIN, VOLSURF_METRICS_EMF=1,\n"
             "  VOLSURF_METRICS_NAMESPACE (default Volsurf/$VOLSURF_ENV), VOLSURF_ROLE,\n"
             "  VOLSURF_LOG_LEVEL, VOLSURF_CA_FILE.\n");
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (!s[0] || *end || v < lo || v > hi)
    return ERR_INPUT;
  *out = v;
  return 0;
}

/* One setting from a flag value or an environment value; 'what' names the
 * source in the error. */
static int apply(struct serve_opts *o, const char *key, const char *v, const char *what)
{
  long n;
  if (strcmp(key, "port") == 0) {
    if (parse_int(v, 0, 65535, &n) < 0)
      goto bad;
    o->port = (int)n;
  } else if (strcmp(key, "iface") == 0) {
    o->iface = v[0] ? v : NULL;
  } else if (strcmp(key, "listen-sim") == 0) {
    o->listen_sim = v;
  } else if (strcmp(key, "venues") == 0) {
    if (!v[0] || strlen(v) >= sizeof(o->venues))
      goto bad;
    snprintf(o->venues, sizeof(o->venues), "%s", v);
  } else if (strcmp(key, "seed") == 0) {
    char *end = NULL;
    unsigned long long s = strtoull(v, &end, 10);
    if (!v[0] || *end)
      goto bad;
    o->seed = s;
  } else if (strcmp(key, "backend") == 0) {
    o->backend = fit_backend_parse(v);
    if (o->backend < 0)
      goto bad;
  } else if (strcmp(key, "cadence-ms") == 0) {
    if (parse_int(v, 1, 60000, &n) < 0)
      goto bad;
    o->cadence_ms = (int)n;
  } else if (strcmp(key, "quiet-ms") == 0 || strcmp(key, "min-gap-ms") == 0) {
    if (parse_int(v, 0, 60000, &n) < 0)
      goto bad;
    *(key[0] == 'q' ? &o->quiet_ms : &o->min_gap_ms) = (int)n;
  } else if (strcmp(key, "static") == 0) {
    o->static_dir = v[0] ? v : NULL;
  } else if (strcmp(key, "allowed-origin") == 0) {
    o->allowed_origin = v[0] ? v : NULL;
  } else if (strcmp(key, "ca-file") == 0) {
    o->ca_file = v[0] ? v : NULL;
  } else if (strcmp(key, "role") == 0) {
    o->role = v;
  } else if (strcmp(key, "log-level") == 0) {
    o->log_level = log_level_parse(v);
    if (o->log_level < 0)
      goto bad;
  } else if (strcmp(key, "metrics-namespace") == 0) {
    snprintf(o->ns, sizeof(o->ns), "%s", v);
  } else if (strcmp(key, "sim-speed") == 0) {
    char *end = NULL;
    o->sim_speed = strtod(v, &end);
    if (!v[0] || *end || !(o->sim_speed > 0))
      goto bad;
  } else {
    fprintf(stderr, "volsurf serve: unknown option '--%s'\n", key);
    return ERR_INPUT;
  }
  return 0;
bad:
  fprintf(stderr, "volsurf serve: bad value '%s' for %s\n", v, what);
  return ERR_INPUT;
}

static const struct {
  const char *env, *key;
} serve_env[] = {
    {"VOLSURF_PORT", "port"},
    {"VOLSURF_IFACE", "iface"},
    {"VOLSURF_VENUES", "venues"},
    {"VOLSURF_LISTEN_SIM", "listen-sim"},
    {"VOLSURF_SEED", "seed"},
    {"VOLSURF_FIT_BACKEND", "backend"},
    {"VOLSURF_CADENCE_MS", "cadence-ms"},
    {"VOLSURF_QUIET_MS", "quiet-ms"},
    {"VOLSURF_MIN_GAP_MS", "min-gap-ms"},
    {"VOLSURF_STATIC_DIR", "static"},
    {"VOLSURF_ALLOWED_ORIGIN", "allowed-origin"},
    {"VOLSURF_ROLE", "role"},
    {"VOLSURF_LOG_LEVEL", "log-level"},
    {"VOLSURF_METRICS_NAMESPACE", "metrics-namespace"},
    {"VOLSURF_CA_FILE", "ca-file"},
};

/* Returns 0, 1 (--help shown) or ERR_INPUT. */
static int parse_opts(struct serve_opts *o, int argc, char **argv)
{
  memset(o, 0, sizeof(*o));
  o->port = 8080;
  o->listen_sim = "127.0.0.1:9901";
  snprintf(o->venues, sizeof(o->venues), "sim");
  o->seed = 1;
  o->backend = FIT_BACKEND_AUTO;
  o->cadence_ms = 100;
  o->quiet_ms = o->min_gap_ms = -1;
  o->static_dir = "web/dist";
  o->role = "all";
  o->log_level = LOG_INFO;
  o->sim_speed = 1.0;
  const char *env = getenv("VOLSURF_ENV");
  snprintf(o->ns, sizeof(o->ns), "Volsurf%s%s", env && env[0] ? "/" : "", env ? env : "");
  for (size_t i = 0; i < sizeof(serve_env) / sizeof(serve_env[0]); i++) {
    const char *v = getenv(serve_env[i].env);
    if (v && apply(o, serve_env[i].key, v, serve_env[i].env) < 0)
      return ERR_INPUT;
  }
  const char *emf = getenv("VOLSURF_METRICS_EMF");
  if (emf && emf[0] && strcmp(emf, "0") != 0)
    o->metrics_emf = 1;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      serve_usage(stdout);
      return 1;
    }
    if (strcmp(a, "--metrics-emf") == 0) {
      o->metrics_emf = 1;
      continue;
    }
    if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
      fprintf(stderr, "volsurf serve: unknown or incomplete option '%s'\n", a);
      serve_usage(stderr);
      return ERR_INPUT;
    }
    if (apply(o, a + 2, argv[i + 1], a) < 0)
      return ERR_INPUT;
    i++;
  }
  if (o->quiet_ms < 0)
    o->quiet_ms = o->cadence_ms < 3 ? o->cadence_ms : 3;
  if (o->min_gap_ms < 0)
    o->min_gap_ms = o->cadence_ms < 20 ? o->cadence_ms : 20;
  if (o->quiet_ms > o->cadence_ms || o->min_gap_ms > o->cadence_ms) {
    fprintf(stderr, "volsurf serve: --quiet-ms and --min-gap-ms must not exceed --cadence-ms\n");
    return ERR_INPUT;
  }
  return 0;
}

struct serve {
  struct serve_opts o;
  struct metrics *m;
  struct qqueue *qq;
  struct surface_mailbox *mb;
  struct sim_server *sim;
  struct lws_context *ctx;
  struct gateway *gw;
  struct feeds *feeds;
  struct calib *cb;
  lws_sorted_usec_list_t sul;
  int64_t last_emf_ms;
};

static void wake_gateway(void *ctx)
{
  gw_wake(ctx);
}

/* /healthz (I/O thread), docs/protocol.md: the worker ticked within 5
 * cadences (at least SERVE_STALL_MIN_MS, so that one cold batch of a big
 * live listing does not flap it) and a feed is connected -- or delivered a
 * message within SERVE_FEED_LIVE_MS: a connector still working through its
 * subscription rate limit already streams quotes. */
static int serve_health(void *ctx, char *reason, size_t cap)
{
  struct serve *sv = ctx;
  int64_t now = (now_wall_us() / 1000);
  int64_t stall_ms = 5LL * sv->o.cadence_ms;
  if (stall_ms < SERVE_STALL_MIN_MS)
    stall_ms = SERVE_STALL_MIN_MS;
  int64_t tick_ms = calib_last_tick_us(sv->cb) / 1000;
  if (tick_ms == 0) {
    snprintf(reason, cap, "starting");
    return 0;
  }
  if (now - tick_ms > stall_ms) {
    snprintf(reason, cap, "calibration stalled");
    return 0;
  }
  for (int i = 0; i < feeds_count(sv->feeds); i++) {
    struct feed_status st;
    feeds_status(sv->feeds, i, &st);
    if (st.connected || now - st.last_msg_us / 1000 <= SERVE_FEED_LIVE_MS)
      return 1;
  }
  snprintf(reason, cap, "no market data");
  return 0;
}

/* 100 ms loop timer: wakes the loop for the stop flag; EMF every 10 s.
 * (The feeds, the worker and the gateway keep their own metrics.) */
static void serve_tick(lws_sorted_usec_list_t *sul)
{
  struct serve *sv = lws_container_of(sul, struct serve, sul);
  if (stop_requested())
    return; /* the loop sees the flag after this pass */
  int64_t now = (now_wall_us() / 1000);
  if (sv->o.metrics_emf && now - sv->last_emf_ms >= SERVE_EMF_PERIOD_MS) {
    sv->last_emf_ms = now;
    metrics_write_emf(sv->m, stdout, sv->o.ns, sv->o.role, now);
  }
  lws_sul_schedule(sv->ctx, 0, &sv->sul, serve_tick, 100 * LWS_US_PER_MS);
}

/* Starts the simulator and points one Deribit connector at it. */
static int start_sim(struct serve *sv)
{
  struct sim_server_config sc;
  sim_server_config_default(&sc);
  sc.listen = sv->o.listen_sim;
  sc.market.seed = sv->o.seed;
  sc.speed = sv->o.sim_speed;
  char err[256] = "";
  sv->sim = sim_server_start(&sc, err, sizeof(err));
  if (!sv->sim) {
    log_msg(LOG_ERROR, 0, "simulator: %s", err);
    return ERR_IO;
  }
  char host[64];
  snprintf(host, sizeof(host), "%s", sv->o.listen_sim);
  char *colon = strrchr(host, ':');
  if (colon)
    *colon = '\0';
  if (!host[0] || strcmp(host, "0.0.0.0") == 0)
    snprintf(host, sizeof(host), "127.0.0.1");
  char url[128];
  snprintf(url, sizeof(url), "ws://%s:%d/ws/api/v2", host, sim_server_port(sv->sim));
  struct feed_config fc;
  feed_config_default(&fc, "deribit");
  fc.ws_url = url;
  fc.seed = sv->o.seed;
  int rc = feeds_add(sv->feeds, &fc);
  if (rc < 0)
    log_msg(LOG_ERROR, 0, "deribit connector to the simulator: %s", err_str(rc));
  else
    log_msg(LOG_INFO, 0, "simulator on %s (seed %llu)", url, (unsigned long long)sv->o.seed);
  return rc;
}

static int start_venues(struct serve *sv)
{
  if (strcmp(sv->o.venues, "sim") == 0)
    return start_sim(sv);
  char list[128];
  snprintf(list, sizeof(list), "%s", sv->o.venues);
  int n = 0;
  for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    if (++n > SERVE_MAX_VENUES) {
      log_msg(LOG_ERROR, 0, "at most %d venues", SERVE_MAX_VENUES);
      return ERR_INPUT;
    }
    struct feed_config fc;
    feed_config_default(&fc, tok);
    fc.seed = sv->o.seed + (uint64_t)n;
    int rc = feeds_add(sv->feeds, &fc);
    if (rc < 0) {
      log_msg(LOG_ERROR, 0, "venue '%s': %s", tok, err_str(rc));
      return rc;
    }
  }
  return 0;
}

int cmd_serve(int argc, char **argv)
{
  struct serve *sv = calloc(1, sizeof(*sv));
  if (!sv)
    return 1;
  int rc = parse_opts(&sv->o, argc, argv);
  if (rc != 0) {
    free(sv);
    return rc > 0 ? 0 : 2;
  }
  log_set_level(sv->o.log_level);
  if (strcmp(sv->o.role, "all") != 0) {
    fprintf(stderr,
            "volsurf serve: role '%s' is not available in this build: the split roles "
            "(ingest, calibrate, gateway) exchange quotes and surfaces through Kafka, which "
            "is not built in yet.  Run --role all (the embedded default: every stage in one "
            "process).\n",
            sv->o.role);
    free(sv);
    return 2;
  }
  int exit_code = 1;
  char err[256] = "";
  sv->m = metrics_new();
  sv->qq = qq_new(SERVE_QUEUE_CAP);
  sv->mb = surface_mailbox_new(SERVE_MAX_SURFACES);
  if (!sv->m || !sv->qq || !sv->mb)
    goto out;

  lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.port = CONTEXT_PORT_NO_LISTEN;
  sv->ctx = lws_create_context(&info);
  if (!sv->ctx) {
    log_msg(LOG_ERROR, 0, "cannot create the websocket context");
    goto out;
  }
  struct gw_config gc;
  gw_config_default(&gc);
  gc.iface = sv->o.iface;
  gc.port = sv->o.port;
  gc.static_dir = sv->o.static_dir;
  gc.allowed_origins = sv->o.allowed_origin;
  gc.in = sv->mb;
  gc.metrics = sv->m;
  gc.health = serve_health;
  gc.health_ctx = sv;
  if (gw_new(sv->ctx, &gc, &sv->gw, err, sizeof(err)) < 0) {
    log_msg(LOG_ERROR, 0, "gateway: %s", err);
    goto out;
  }
  sv->feeds = feeds_new_ca(sv->ctx, sv->qq, sv->m, sv->o.ca_file);
  if (!sv->feeds) {
    log_msg(LOG_ERROR, 0, "cannot start the feeds%s%s", sv->o.ca_file ? " with the CA bundle " : "",
            sv->o.ca_file ? sv->o.ca_file : "");
    goto out;
  }
  if (start_venues(sv) < 0) {
    exit_code = 2;
    goto out;
  }
  struct calib_config cc;
  calib_config_default(&cc);
  cc.cadence_us = (int64_t)sv->o.cadence_ms * 1000;
  cc.quiet_us = (int64_t)sv->o.quiet_ms * 1000;
  cc.min_gap_us = (int64_t)sv->o.min_gap_ms * 1000;
  cc.backend = sv->o.backend;
  if (calib_new(&cc, sv->qq, sv->mb, sv->m, wake_gateway, sv->gw, &sv->cb, err, sizeof(err)) < 0) {
    log_msg(LOG_ERROR, 0, "calibration: %s", err);
    goto out;
  }
  if (calib_start(sv->cb) < 0) {
    log_msg(LOG_ERROR, 0, "cannot start the calibration worker");
    goto out;
  }

  stop_on_signals(); /* the loop's 100 ms timer sees a stop */
  signal(SIGPIPE, SIG_IGN);

  struct log_line l;
  log_begin(&l, LOG_INFO, "listening", 0);
  log_int(&l, "port", gw_port(sv->gw));
  log_str(&l, "iface", sv->o.iface ? sv->o.iface : "*");
  log_str(&l, "venues", sv->o.venues);
  log_str(&l, "backend",
          cc.backend == FIT_BACKEND_CPU   ? "cpu"
          : cc.backend == FIT_BACKEND_GPU ? "gpu"
                                          : "auto");
  log_int(&l, "cadence_ms", sv->o.cadence_ms);
  log_int(&l, "quiet_ms", sv->o.quiet_ms);
  log_int(&l, "min_gap_ms", sv->o.min_gap_ms);
  log_str(&l, "static", sv->o.static_dir);
  log_end(&l);
  lws_sul_schedule(sv->ctx, 0, &sv->sul, serve_tick, 100 * LWS_US_PER_MS);
  while (!stop_requested())
    if (lws_service(sv->ctx, 0) < 0)
      break;
  log_msg(LOG_INFO, 0, "shutting down");
  exit_code = 0;
out:
  /* Order: the worker stops publishing; the feeds and the clients close on
   * this (the loop's) thread while the context lives; then the context,
   * the simulator and the queues go. */
  calib_stop(sv->cb);
  if (sv->ctx)
    lws_sul_cancel(&sv->sul);
  feeds_free(sv->feeds);
  gw_free(sv->gw);
  if (sv->ctx)
    lws_context_destroy(sv->ctx);
  sim_server_stop(sv->sim);
  calib_free(sv->cb);
  surface_mailbox_free(sv->mb);
  qq_free(sv->qq);
  metrics_free(sv->m);
  if (exit_code == 0)
    log_msg(LOG_INFO, 0, "stopped");
  free(sv);
  return exit_code;
}
