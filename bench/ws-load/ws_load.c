/* ws_load: load tool for the gateway (bench/ws-load/README.md).
 *
 *   ws_load serve   [--port P] [--surfaces S] [--rate R] [--expiries E] [--points K]
 *       runs the gateway on 127.0.0.1 with a synthetic publisher: every
 *       surface gets R new versions a second (gateway/fakesurf.c); prints
 *       "port <p>" once listening; stops on SIGINT/SIGTERM.
 *   ws_load clients --port P --clients N [--server-pid PID] [--idle S]
 *                   [--duration S] [--verify-every K]
 *       opens N websocket clients (one epoll thread, plain sockets), waits
 *       until all have hello+surfaces, reports the server's RSS growth per
 *       idle client, then subscribes client i to surface i % S and for
 *       --duration seconds checks every patch's seq/prev chain, measures
 *       delivery latency (server "time" stamp -> receive, ms) and, for every
 *       K-th client, merges the patches and compares checksums; reports
 *       latency percentiles and the server's and its own CPU share.
 *
 * C rather than Node: the client side shares the 2-core machine with the
 * server, and 10,000 sockets in one epoll loop with no per-message garbage
 * leave more of the CPU to the server than a Node process would; and it
 * verifies checksums with the same C code (gateway/protocol.c) the server
 * uses, which the TypeScript client is checked against separately. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "fakesurf.h"
#include "gateway.h"
#include "protocol.h"

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *arg(int argc, char **argv, const char *name, const char *def)
{
  for (int i = 2; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0)
      return argv[i + 1];
  return def;
}

/* ---------------- server ---------------- */

static atomic_int stop_flag;
static void on_signal(int sig)
{
  (void)sig;
  atomic_store(&stop_flag, 1);
}

struct publisher {
  struct surface_mailbox *mb;
  struct gateway *gw;
  int n_surf, rate, n_exp, n_pts;
};

static const char *const assets[] = {"BTC",      "ETH",       "SOL_USDC", "XRP_USDC",
                                     "BNB_USDC", "DOGE_USDC", "ADA_USDC", "AVAX_USDC"};

static void *publish_loop(void *arg)
{
  struct publisher *p = arg;
  int64_t period_us = 1000000 / p->rate;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (int step = 0; !atomic_load(&stop_flag); step++) {
    for (int i = 0; i < p->n_surf; i++) {
      /* steps cycle so that fakesurf's cost stays bounded */
      struct surface *s =
          fakesurf_new("deribit", assets[i], (uint64_t)i + 2, step % 1000, p->n_exp, p->n_pts);
      if (s)
        surface_mailbox_put(p->mb, s);
    }
    gw_wake(p->gw);
    next.tv_nsec += period_us * 1000;
    while (next.tv_nsec >= 1000000000) {
      next.tv_nsec -= 1000000000;
      next.tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
  }
  return NULL;
}

static int serve(int argc, char **argv)
{
  lws_set_log_level(LLL_ERR, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  info.port = CONTEXT_PORT_NO_LISTEN;
  struct lws_context *ctx = lws_create_context(&info);
  struct publisher p = {surface_mailbox_new(16),
                        NULL,
                        atoi(arg(argc, argv, "--surfaces", "4")),
                        atoi(arg(argc, argv, "--rate", "10")),
                        atoi(arg(argc, argv, "--expiries", "12")),
                        atoi(arg(argc, argv, "--points", "16"))};
  if (p.n_surf < 1 || p.n_surf > 8 || p.rate < 1 || !ctx || !p.mb)
    return 2;
  struct gw_config cfg;
  gw_config_default(&cfg);
  cfg.iface = "127.0.0.1";
  cfg.port = atoi(arg(argc, argv, "--port", "0"));
  cfg.in = p.mb;
  cfg.metrics = metrics_new();
  char err[128];
  if (gw_new(ctx, &cfg, &p.gw, err, sizeof(err)) != 0) {
    fprintf(stderr, "ws_load: %s\n", err);
    return 1;
  }
  printf("port %d\n", gw_port(p.gw));
  fflush(stdout);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  pthread_t th;
  pthread_create(&th, NULL, publish_loop, &p);
  while (!atomic_load(&stop_flag))
    lws_service(ctx, 0);
  pthread_join(th, NULL);
  gw_free(p.gw);
  lws_context_destroy(ctx);
  surface_mailbox_free(p.mb);
  metrics_free(cfg.metrics);
  return 0;
}

/* ---------------- clients ---------------- */

#define RX_SCRATCH (1 << 20) /* bytes read per event, at most */

enum { C_CONNECTING, C_HANDSHAKE, C_OPEN, C_CLOSED };

struct conn {
  int fd, state, hello, surfaces, sub;
  char *buf; /* unparsed bytes */
  size_t len, cap;
  uint64_t seq;
  cJSON *doc; /* only for verified clients */
  int verify;
};

static struct {
  long patches, snapshots, gaps, bad_sum, checked, closed, errors, bytes;
  long lat_hist[10001]; /* ms; last bucket: >= 10 s */
  int measuring;
} st;

static long rss_kib(int pid)
{
  char path[64], line[256];
  snprintf(path, sizeof(path), "/proc/%d/status", pid);
  FILE *f = fopen(path, "r");
  long kib = -1;
  while (f && fgets(line, sizeof(line), f))
    if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
      break;
  if (f)
    fclose(f);
  return kib;
}

/* CPU seconds (user + system) of process pid so far; -1 when unknown. */
static double cpu_s(int pid)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  unsigned long ut = 0, stm = 0;
  int ok = 0;
  if (f) {
    char line[1024];
    if (fgets(line, sizeof(line), f)) {
      const char *p = strrchr(line, ')'); /* the command name may hold spaces */
      ok =
          p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stm) == 2;
    }
    fclose(f);
  }
  return ok ? (double)(ut + stm) / (double)sysconf(_SC_CLK_TCK) : -1;
}

static int64_t field(const char *txt, const char *key)
{
  const char *p = strstr(txt, key);
  return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static void send_text(struct conn *c, const char *t)
{
  size_t n = strlen(t);
  unsigned char h[8] = {0x81, (unsigned char)(0x80 | n), 0, 0, 0, 0};
  char frame[256];
  memcpy(frame, h, 6); /* mask 0: payload unchanged */
  memcpy(frame + 6, t, n);
  if (send(c->fd, frame, n + 6, MSG_NOSIGNAL) != (ssize_t)(n + 6))
    st.errors++;
}

static void on_text(struct conn *c, char *txt, int n_surf_total)
{
  (void)n_surf_total;
  if (strncmp(txt, "{\"type\":\"patch\"", 15) == 0) {
    int64_t t = field(txt, "\"time\":"), seq = field(txt, "\"seq\":"),
            prev = field(txt, "\"prev\":");
    if (st.measuring) {
      int64_t lat = now_ms() - t;
      st.lat_hist[lat < 0 ? 0 : lat > 10000 ? 10000 : lat]++;
      st.patches++;
    }
    if ((uint64_t)prev != c->seq) {
      st.gaps++;
      char m[128];
      snprintf(m, sizeof(m), "{\"type\":\"resync\",\"surface\":\"deribit.%s\"}", assets[c->sub]);
      send_text(c, m);
    }
    c->seq = (uint64_t)seq;
    if (c->verify && c->doc) {
      cJSON *o = cJSON_Parse(txt);
      proto_apply(&c->doc, cJSON_GetObjectItemCaseSensitive(o, "data"));
      char sum[PROTO_CHECKSUM_LEN];
      proto_checksum(c->doc, sum);
      const cJSON *want = cJSON_GetObjectItemCaseSensitive(o, "checksum");
      if (!cJSON_IsString(want) || strcmp(want->valuestring, sum) != 0)
        st.bad_sum++;
      st.checked++;
      cJSON_Delete(o);
    }
  } else if (strncmp(txt, "{\"type\":\"snapshot\"", 18) == 0) {
    st.snapshots++;
    c->seq = (uint64_t)field(txt, "\"seq\":");
    if (c->verify) {
      cJSON *o = cJSON_Parse(txt);
      cJSON_Delete(c->doc);
      c->doc = cJSON_DetachItemFromObjectCaseSensitive(o, "data");
      cJSON_Delete(o);
    }
  } else if (strncmp(txt, "{\"type\":\"hello\"", 15) == 0) {
    c->hello = 1;
  } else if (strncmp(txt, "{\"type\":\"surfaces\"", 18) == 0) {
    c->surfaces = 1;
  } else if (strncmp(txt, "{\"type\":\"error\"", 15) == 0) {
    st.errors++;
  }
}

/* Parses the complete frames in b[0..len) (b[len] is writable); returns
 * the bytes consumed. */
static size_t parse_frames(struct conn *c, unsigned char *b0, size_t len, int n_surf)
{
  size_t off = 0;
  for (;;) {
    size_t avail = len - off;
    unsigned char *b = b0 + off;
    if (avail < 2)
      break;
    uint64_t n = b[1] & 0x7f;
    size_t hl = 2;
    if (n == 126) {
      if (avail < 4)
        break;
      n = ((uint64_t)b[2] << 8) | b[3];
      hl = 4;
    } else if (n == 127) {
      if (avail < 10)
        break;
      n = 0;
      for (int i = 0; i < 8; i++)
        n = (n << 8) | b[2 + i];
      hl = 10;
    }
    if (avail < hl + n)
      break;
    int op = b[0] & 0x0f;
    if (op == 1) {
      /* NUL-terminate in place: t[n] is the next frame's first byte or the
       * spare byte after the data */
      char *t = (char *)b + hl;
      char keep = t[n];
      t[n] = '\0';
      on_text(c, t, n_surf);
      t[n] = keep;
    } else if (op == 8) {
      c->state = C_CLOSED;
      st.closed++;
    }
    off += hl + n;
  }
  return off;
}

static int connect_one(struct conn *c, int port, int ep, int idx)
{
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0)
    return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0 && errno != EINPROGRESS) {
    close(c->fd);
    return -1;
  }
  c->state = C_CONNECTING;
  struct epoll_event ev = {EPOLLIN | EPOLLOUT, {.u32 = (uint32_t)idx}};
  return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void on_event(struct conn *c, int ep, uint32_t events, int n_surf)
{
  if (c->state == C_CONNECTING && (events & EPOLLOUT)) {
    static const char req[] =
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: volsurf.v1\r\n\r\n";
    if (send(c->fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(req) - 1) {
      c->state = C_CLOSED;
      st.errors++;
      return;
    }
    c->state = C_HANDSHAKE; /* pump() switches the fd to EPOLLIN */
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
    return;
  /* One recv per event into a shared buffer (epoll is level-triggered: what
   * does not fit comes with the next event); only an incomplete frame's
   * tail is kept per connection, so an idle client holds no buffer. */
  static unsigned char scratch[RX_SCRATCH + 1];
  size_t len = c->len;
  if (len)
    memcpy(scratch, c->buf, len);
  ssize_t r = recv(c->fd, scratch + len, RX_SCRATCH - len, 0);
  if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
    if (c->state != C_CLOSED)
      st.closed++;
    c->state = C_CLOSED;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    return;
  }
  if (r < 0)
    return;
  st.bytes += r;
  len += (size_t)r;
  unsigned char *b = scratch;
  if (c->state == C_HANDSHAKE) {
    b[len] = '\0';
    char *end = strstr((char *)b, "\r\n\r\n");
    if (end && strncmp((char *)b, "HTTP/1.1 101", 12) != 0) {
      c->state = C_CLOSED;
      st.errors++;
      return;
    }
    if (end) {
      size_t hl = (size_t)(end + 4 - (char *)b);
      b += hl;
      len -= hl;
      c->state = C_OPEN;
    }
  }
  if (c->state == C_OPEN) {
    size_t used = parse_frames(c, b, len, n_surf);
    b += used;
    len -= used;
  }
  if (len == RX_SCRATCH) { /* a frame larger than the buffer: give up on it */
    c->state = C_CLOSED;
    st.errors++;
    return;
  }
  if (len > c->cap) {
    free(c->buf);
    c->buf = malloc(len);
    c->cap = len;
  }
  if (len)
    memcpy(c->buf, b, len);
  c->len = len;
}

static void pump(struct conn *cs, int ep, int n_surf, int timeout_ms)
{
  struct epoll_event evs[512];
  int n = epoll_wait(ep, evs, 512, timeout_ms);
  for (int i = 0; i < n; i++) {
    struct conn *c = &cs[evs[i].data.u32];
    int was = c->state;
    on_event(c, ep, evs[i].events, n_surf);
    if (was == C_CONNECTING && c->state == C_HANDSHAKE) {
      struct epoll_event ev = {EPOLLIN, {.u32 = evs[i].data.u32}};
      epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
  }
}

static double pct(double q)
{
  long total = 0, acc = 0;
  for (int i = 0; i <= 10000; i++)
    total += st.lat_hist[i];
  if (!total)
    return -1;
  for (int i = 0; i <= 10000; i++) {
    acc += st.lat_hist[i];
    if (acc >= q * (double)total)
      return i;
  }
  return 10000;
}

static int clients(int argc, char **argv)
{
  int port = atoi(arg(argc, argv, "--port", "0")), n = atoi(arg(argc, argv, "--clients", "100"));
  int pid = atoi(arg(argc, argv, "--server-pid", "0")),
      n_surf = atoi(arg(argc, argv, "--surfaces", "4"));
  int idle_s = atoi(arg(argc, argv, "--idle", "3")),
      dur = atoi(arg(argc, argv, "--duration", "10"));
  int verify_every = atoi(arg(argc, argv, "--verify-every", "100"));
  if (port <= 0 || n <= 0 || n_surf < 1 || n_surf > 8)
    return 2;
  struct conn *cs = calloc((size_t)n, sizeof(*cs));
  int ep = epoll_create1(0);
  long rss0 = pid ? rss_kib(pid) : -1;
  int64_t t0 = now_ms();
  int opened = 0, failed = 0;
  /* connect in batches so the listen backlog never overflows */
  while (opened < n && now_ms() - t0 < 120000) {
    for (int k = 0; k < 200 && opened < n; k++, opened++) {
      cs[opened].verify = verify_every > 0 && opened % verify_every == 0;
      if (connect_one(&cs[opened], port, ep, opened) != 0) {
        cs[opened].state = C_CLOSED;
        failed++;
      }
    }
    pump(cs, ep, n_surf, 5);
  }
  int ready = 0;
  while (now_ms() - t0 < 120000) {
    pump(cs, ep, n_surf, 20);
    ready = 0;
    for (int i = 0; i < n; i++)
      ready += cs[i].hello && cs[i].surfaces;
    if (ready + failed >= n)
      break;
  }
  int64_t t_conn = now_ms() - t0;
  int64_t t_idle = now_ms();
  while (now_ms() - t_idle < idle_s * 1000)
    pump(cs, ep, n_surf, 50);
  long rss1 = pid ? rss_kib(pid) : -1;
  printf("clients %d ready %d failed %d connect_ms %lld\n", n, ready, failed, (long long)t_conn);
  if (pid)
    printf("server_rss_kib before %ld idle %ld per_idle_client_kib %.2f\n", rss0, rss1,
           (double)(rss1 - rss0) / (ready ? ready : 1));
  fflush(stdout);
  /* subscribe: client i to surface i % n_surf */
  for (int i = 0; i < n; i++) {
    if (cs[i].state != C_OPEN)
      continue;
    char m[128];
    cs[i].sub = i % n_surf;
    snprintf(m, sizeof(m), "{\"type\":\"subscribe\",\"surfaces\":[\"deribit.%s\"]}",
             assets[cs[i].sub]);
    send_text(&cs[i], m);
    if (i % 500 == 0)
      pump(cs, ep, n_surf, 0);
  }
  int64_t ts = now_ms();
  while (now_ms() - ts < 2000) /* settle: snapshots */
    pump(cs, ep, n_surf, 20);
  st.measuring = 1;
  long closed0 = st.closed, gaps0 = st.gaps;
  double scpu0 = pid ? cpu_s(pid) : -1, ccpu0 = cpu_s(getpid());
  int64_t tm = now_ms();
  while (now_ms() - tm < dur * 1000)
    pump(cs, ep, n_surf, 20);
  double secs = (double)(now_ms() - tm) / 1000.0;
  double scpu = pid ? cpu_s(pid) - scpu0 : -1, ccpu = cpu_s(getpid()) - ccpu0;
  long rss2 = pid ? rss_kib(pid) : -1;
  printf("duration_s %.1f patches %ld (%.0f/s) snapshots %ld gaps %ld closed %ld errors %ld "
         "checked %ld bad_checksum %ld MB %.1f\n",
         secs, st.patches, st.patches / secs, st.snapshots, st.gaps - gaps0, st.closed - closed0,
         st.errors, st.checked, st.bad_sum, st.bytes / 1e6);
  printf("latency_ms p50 %.0f p90 %.0f p99 %.0f p999 %.0f max %.0f\n", pct(0.5), pct(0.9),
         pct(0.99), pct(0.999), pct(1.0));
  if (pid)
    printf("server_rss_kib streaming %ld\n", rss2);
  printf("cpu_percent_of_one_core server %.0f clients %.0f\n", 100 * scpu / secs,
         100 * ccpu / secs);
  for (int i = 0; i < n; i++) {
    if (cs[i].fd > 0)
      close(cs[i].fd);
    free(cs[i].buf);
    cJSON_Delete(cs[i].doc);
  }
  free(cs);
  return 0;
}

int main(int argc, char **argv)
{
  if (argc >= 2 && strcmp(argv[1], "serve") == 0)
    return serve(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "clients") == 0)
    return clients(argc, argv);
  fprintf(stderr, "usage: ws_load serve|clients [options] (see the header of ws_load.c)\n");
  return 2;
}
