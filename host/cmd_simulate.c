/* cmd_simulate: `volsurf simulate` serves the simulated market
 * (feeds/sim_market) on the Deribit wire protocol (feeds/sim_server) until
 * SIGINT/SIGTERM, so that a Deribit connector, ours or anyone's, can be
 * pointed at ws://ADDR/ws/api/v2 instead of the exchange. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd.h"
#include "sim_server.h"
#include "stop.h"

static void simulate_usage(FILE *f)
{
  fprintf(f, "usage: volsurf simulate [--listen ADDR] [--seed N] [--assets LIST] [--start TS]\n"
             "                        [--speed X] [--crossed P]\n"
             "  Serves a simulated Deribit option market (JSON-RPC 2.0 over websocket at\n"
             "  ws://ADDR/ws/api/v2, and GET http://ADDR/api/v2/public/<method>) until\n"
             "  Ctrl-C.  Deterministic for a given seed, start time and tick sequence.\n"
             "  --listen  HOST:PORT to bind (default 127.0.0.1:9901; port 0 = any free port)\n"
             "  --seed    market seed (default 1)\n"
             "  --assets  comma list of BTC,ETH,SOL_USDC,XRP_USDC (default all four)\n"
             "  --start   market start time, ISO 8601 UTC or epoch s/ms/us (default: now)\n"
             "  --speed   market seconds per wall second (default 1)\n"
             "  --crossed probability that a quote is crossed (default 0.002)\n"
             "  Environment: VOLSURF_SIM_LISTEN, VOLSURF_SIM_SEED override the defaults;\n"
             "  flags override the environment.\n");
}

/* Reads a flag's value; NULL (after a message) when it is missing. */
static const char *flag_value(int argc, char **argv, int *i)
{
  if (*i + 1 >= argc) {
    fprintf(stderr, "volsurf simulate: %s needs a value\n", argv[*i]);
    return NULL;
  }
  return argv[++*i];
}

static int parse_args(int argc, char **argv, struct sim_server_config *c)
{
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v;
    char *end;
    if (strcmp(a, "--listen") == 0 || strcmp(a, "--seed") == 0 || strcmp(a, "--assets") == 0 ||
        strcmp(a, "--start") == 0 || strcmp(a, "--speed") == 0 || strcmp(a, "--crossed") == 0) {
      v = flag_value(argc, argv, &i);
      if (!v)
        return 2;
    } else {
      fprintf(stderr, "volsurf simulate: unknown option '%s'\n", a);
      simulate_usage(stderr);
      return 2;
    }
    if (strcmp(a, "--listen") == 0) {
      c->listen = v;
    } else if (strcmp(a, "--seed") == 0) {
      c->market.seed = strtoull(v, &end, 10);
      if (*end || end == v)
        goto bad;
    } else if (strcmp(a, "--assets") == 0) {
      c->market.assets = v;
    } else if (strcmp(a, "--start") == 0) {
      if (cli_parse_time(v, &c->market.start_us) < 0)
        goto bad;
    } else if (strcmp(a, "--speed") == 0) {
      c->speed = strtod(v, &end);
      if (*end || end == v || !(c->speed > 0.0) || c->speed > 1e6)
        goto bad;
    } else {
      c->market.crossed_prob = strtod(v, &end);
      if (*end || end == v || !(c->market.crossed_prob >= 0.0) || c->market.crossed_prob > 1.0)
        goto bad;
    }
    continue;
  bad:
    fprintf(stderr, "volsurf simulate: bad value '%s' for %s\n", v, a);
    return 2;
  }
  return 0;
}

int cmd_simulate(int argc, char **argv)
{
  for (int i = 0; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      simulate_usage(stdout);
      return 0;
    }
  struct sim_server_config c;
  sim_server_config_default(&c);
  const char *env = getenv("VOLSURF_SIM_LISTEN");
  if (env && *env)
    c.listen = env;
  env = getenv("VOLSURF_SIM_SEED");
  if (env && *env)
    c.market.seed = strtoull(env, NULL, 10);
  int rc = parse_args(argc, argv, &c);
  if (rc)
    return rc;

  stop_on_signals();

  char err[256];
  struct sim_server *s = sim_server_start(&c, err, sizeof err);
  if (!s) {
    fprintf(stderr, "volsurf simulate: %s\n", err);
    return 1;
  }
  const char *colon = strrchr(c.listen, ':');
  int host_len = colon ? (int)(colon - c.listen) : 0;
  char start[40];
  cli_format_time(sim_server_market_time(s), start, sizeof start);
  printf("volsurf simulate: ws://%.*s:%d/ws/api/v2  (seed %llu, start %s, speed %g)\n", host_len,
         c.listen, sim_server_port(s), (unsigned long long)c.market.seed, start, c.speed);
  fflush(stdout);
  while (!stop_requested()) {
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  struct sim_server_stats st;
  sim_server_stats(s, &st);
  sim_server_stop(s);
  printf("volsurf simulate: stopped; %ld connections, %ld requests, %ld tickers sent, %ld "
         "dropped\n",
         st.n_connects, st.n_requests, st.n_tickers, st.n_dropped);
  return 0;
}
