/* test_serve: `volsurf serve` end to end on loopback.  Starts the binary
 * (env VOLSURF_BINARY) as a child with a free port and the simulator on a
 * free port, connects a websocket client (libwebsockets), lists the
 * surfaces, subscribes, applies the snapshot and the merge patches that
 * follow (gateway/protocol.h) and checks that every merged state has the
 * server's checksum and that seq/prev/epoch chain; reads /healthz and
 * /metrics; SIGTERM ends the server with exit code 0 within a bound.
 * Skipped (77) when the binary has no `serve` (built without the feeds,
 * the gateway or the simulator). */
#include <stdint.h>
#include <stdlib.h>

#include "now.h"
#include "testutil.h"

/* Built when the gateway (its protocol.h and libwebsockets reach the include
 * path through volsurf_gateway) and cJSON are there. */
#if defined(__has_include)
#if __has_include("protocol.h") && __has_include(<libwebsockets.h>) &&                        \
    __has_include(<cjson/cJSON.h>)
#define TEST_SERVE_BUILT 1
#endif
#endif

#ifdef TEST_SERVE_BUILT

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libwebsockets.h>

#include "protocol.h"

#define WAIT_SERVER_MS 10000 /* port line in the log */
#define WAIT_STREAM_MS 20000 /* snapshot + patches */
#define WAIT_EXIT_MS 5000    /* after SIGTERM */
#define PATCHES_WANTED 3

static pid_t child = -1;
static int port;
static char log_path[64];

static void sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* 1 when `volsurf --help` lists serve. */
static int binary_has_serve(const char *bin)
{
  char cmd[512];
  snprintf(cmd, sizeof(cmd), "'%s' --help 2>/dev/null", bin);
  FILE *p = popen(cmd, "r");
  if (!p)
    return 0;
  char line[256];
  int found = 0;
  while (fgets(line, sizeof(line), p))
    if (strncmp(line, "  serve ", 8) == 0)
      found = 1;
  pclose(p);
  return found;
}

/* Starts the server; its stderr (JSON log lines) goes to log_path. */
static int start_server(const char *bin)
{
  snprintf(log_path, sizeof(log_path), "/tmp/test_serve_%d.log", (int)getpid());
  child = fork();
  if (child < 0)
    return -1;
  if (child == 0) {
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    execl(bin, bin, "serve", "--port", "0", "--iface", "127.0.0.1", "--listen-sim", "127.0.0.1:0",
          "--seed", "1", "--static", "/nonexistent", "--backend", "cpu", "--metrics-emf",
          (char *)NULL);
    _exit(127);
  }
  /* The "listening" log line names the port. */
  for (int64_t end = (now_mono_us() / 1000) + WAIT_SERVER_MS; (now_mono_us() / 1000) < end;
       sleep_ms(50)) {
    FILE *f = fopen(log_path, "r");
    char line[1024];
    while (f && fgets(line, sizeof(line), f)) {
      const char *p = strstr(line, "\"msg\":\"listening\"");
      const char *q = p ? strstr(p, "\"port\":") : NULL;
      if (q) {
        port = atoi(q + 7);
        fclose(f);
        return port > 0 ? 0 : -1;
      }
    }
    if (f)
      fclose(f);
    if (waitpid(child, NULL, WNOHANG) == child) {
      child = -1;
      return -1;
    }
  }
  return -1;
}

static void stop_server(void)
{
  if (child > 0) {
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    child = -1;
  }
}

/* GET path over a plain socket (HTTP/1.0); returns the status code and the
 * body in buf, or -1. */
static int http_get(const char *path, char *buf, size_t cap)
{
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct timeval tv = {2, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
    close(s);
    return -1;
  }
  char req[256];
  int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
  if (write(s, req, (size_t)n) != n) {
    close(s);
    return -1;
  }
  size_t len = 0;
  ssize_t r;
  while (len + 1 < cap && (r = read(s, buf + len, cap - 1 - len)) > 0)
    len += (size_t)r;
  buf[len] = '\0';
  close(s);
  int code = -1;
  if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
    return -1;
  char *body = strstr(buf, "\r\n\r\n");
  if (body)
    memmove(buf, body + 4, strlen(body + 4) + 1);
  return code;
}

/* ---- websocket client ---- */

struct wsc {
  struct lws_context *ctx;
  struct lws *wsi;
  int connected, closed, failed;
  char *rx; /* message being assembled */
  size_t rx_len, rx_cap;
  char tx[2][LWS_PRE + 512]; /* pending client messages */
  size_t tx_len[2];
  int n_tx;
  /* Protocol state. */
  int hello;
  char surface[SURFACE_ID_LEN]; /* the subscription, "" until listed */
  int subscribed;
  int64_t epoch;
  uint64_t seq;
  cJSON *doc;
  int n_snapshots, n_patches, n_checksum_ok, n_checksum_bad, n_gaps, n_heartbeats;
};

static void wsc_send(struct wsc *c, const char *text)
{
  if (c->n_tx == 2)
    return;
  size_t n = strlen(text);
  memcpy(c->tx[c->n_tx] + LWS_PRE, text, n);
  c->tx_len[c->n_tx++] = n;
  if (c->wsi)
    lws_callback_on_writable(c->wsi);
}

static int checksum_matches(const cJSON *doc, const char *want)
{
  char have[PROTO_CHECKSUM_LEN];
  if (!want || proto_checksum(doc, have) != 0)
    return 0;
  return strcmp(have, want) == 0;
}

/* One whole server message. */
static void on_message(struct wsc *c, const char *text)
{
  cJSON *m = cJSON_Parse(text);
  if (!m) {
    c->failed = 1;
    return;
  }
  const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(m, "type"));
  if (!type) {
    c->failed = 1;
  } else if (strcmp(type, "hello") == 0) {
    c->hello = 1;
    c->epoch = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "epoch"));
  } else if (strcmp(type, "surfaces") == 0 && !c->subscribed) {
    const cJSON *list = cJSON_GetObjectItem(m, "surfaces");
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
      const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(e, "id"));
      /* deribit.BTC when listed, else the first. */
      if (id && (!c->surface[0] || strcmp(id, "deribit.BTC") == 0))
        snprintf(c->surface, sizeof(c->surface), "%s", id);
    }
    if (c->surface[0]) {
      char req[128];
      snprintf(req, sizeof(req), "{\"type\":\"subscribe\",\"id\":7,\"surfaces\":[\"%s\"]}",
               c->surface);
      wsc_send(c, req);
      c->subscribed = 1;
    }
  } else if (strcmp(type, "snapshot") == 0 || strcmp(type, "patch") == 0) {
    const char *sid = cJSON_GetStringValue(cJSON_GetObjectItem(m, "surface"));
    int64_t epoch = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "epoch"));
    uint64_t seq = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "seq"));
    uint64_t prev = (uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "prev"));
    const char *sum = cJSON_GetStringValue(cJSON_GetObjectItem(m, "checksum"));
    const cJSON *data = cJSON_GetObjectItem(m, "data");
    if (!sid || strcmp(sid, c->surface) != 0 || !data || epoch != c->epoch) {
      c->failed = 1;
    } else if (type[0] == 's') {
      cJSON_Delete(c->doc);
      c->doc = cJSON_Duplicate(data, 1);
      c->seq = seq;
      c->n_snapshots++;
      if (checksum_matches(c->doc, sum))
        c->n_checksum_ok++;
      else
        c->n_checksum_bad++;
    } else if (!c->doc || prev != c->seq) {
      /* A gap: ask for a snapshot, as the browser does. */
      c->n_gaps++;
      char req[128];
      snprintf(req, sizeof(req), "{\"type\":\"resync\",\"surface\":\"%s\"}", c->surface);
      wsc_send(c, req);
    } else {
      proto_apply(&c->doc, data);
      c->seq = seq;
      c->n_patches++;
      if (checksum_matches(c->doc, sum))
        c->n_checksum_ok++;
      else
        c->n_checksum_bad++;
    }
  } else if (strcmp(type, "heartbeat") == 0) {
    c->n_heartbeats++;
  } else if (strcmp(type, "error") == 0) {
    c->failed = 1;
  }
  cJSON_Delete(m);
}

static int wsc_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
  (void)user;
  struct wsc *c = lws_context_user(lws_get_context(wsi));
  switch (reason) {
  case LWS_CALLBACK_CLIENT_ESTABLISHED:
    c->connected = 1;
    wsc_send(c, "{\"type\":\"list\",\"id\":1}");
    break;
  case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    c->failed = 1;
    c->closed = 1;
    c->wsi = NULL;
    break;
  case LWS_CALLBACK_CLIENT_CLOSED:
    c->closed = 1;
    c->wsi = NULL;
    break;
  case LWS_CALLBACK_CLIENT_RECEIVE:
    if (c->rx_len + len + 1 > c->rx_cap) {
      size_t cap = (c->rx_len + len + 1) * 2;
      char *p = realloc(c->rx, cap);
      if (!p)
        return -1;
      c->rx = p;
      c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0) {
      c->rx[c->rx_len] = '\0';
      on_message(c, c->rx);
      c->rx_len = 0;
    }
    break;
  case LWS_CALLBACK_CLIENT_WRITEABLE:
    if (c->n_tx > 0) {
      if (lws_write(wsi, (unsigned char *)c->tx[0] + LWS_PRE, c->tx_len[0], LWS_WRITE_TEXT) < 0)
        return -1;
      memmove(c->tx[0], c->tx[1], sizeof(c->tx[0]));
      c->tx_len[0] = c->tx_len[1];
      c->n_tx--;
      if (c->n_tx > 0)
        lws_callback_on_writable(wsi);
    }
    break;
  default:
    break;
  }
  return 0;
}

static const struct lws_protocols wsc_protocols[] = {
    {"volsurf.v1", wsc_cb, 0, 1 << 16, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0} /* lws 4.1 has no LWS_PROTOCOL_LIST_TERM */
};

/* Runs the client until it has PATCHES_WANTED verified patches or the
 * bound passes. */
static void run_client(struct wsc *c)
{
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = wsc_protocols;
  info.user = c;
  lws_set_log_level(LLL_ERR, NULL);
  c->ctx = lws_create_context(&info);
  if (!c->ctx) {
    c->failed = 1;
    return;
  }
  struct lws_client_connect_info ci;
  memset(&ci, 0, sizeof(ci));
  ci.context = c->ctx;
  ci.address = "127.0.0.1";
  ci.port = port;
  ci.path = "/ws";
  ci.host = "127.0.0.1";
  ci.origin = "http://127.0.0.1";
  ci.protocol = "volsurf.v1";
  c->wsi = lws_client_connect_via_info(&ci);
  int64_t end = (now_mono_us() / 1000) + WAIT_STREAM_MS, next_list = (now_mono_us() / 1000) + 500;
  while ((now_mono_us() / 1000) < end && !c->closed && !c->failed &&
         c->n_patches < PATCHES_WANTED) {
    /* Heartbeats wake the loop every second; lws_service returns then. */
    lws_service(c->ctx, 0);
    /* Surfaces appear after the first calibration: list again until one. */
    if (c->connected && !c->subscribed && (now_mono_us() / 1000) >= next_list) {
      wsc_send(c, "{\"type\":\"list\",\"id\":2}");
      next_list = (now_mono_us() / 1000) + 500;
    }
  }
  lws_context_destroy(c->ctx);
  c->ctx = NULL;
}

static void serve_streams_patches_that_reproduce_the_server_state(void)
{
  struct wsc c;
  memset(&c, 0, sizeof(c));
  run_client(&c);
  CU_ASSERT(c.hello);
  CU_ASSERT_FALSE(c.failed);
  CU_ASSERT(c.subscribed);
  CU_ASSERT(c.n_snapshots >= 1);
  CU_ASSERT(c.n_patches >= PATCHES_WANTED);
  CU_ASSERT_EQUAL(c.n_checksum_bad, 0);
  CU_ASSERT(c.n_checksum_ok >= 1 + PATCHES_WANTED);
  if (c.doc) {
    /* The merged document is a surface with fitted expiries. */
    const cJSON *exp = cJSON_GetObjectItem(c.doc, "expiries");
    CU_ASSERT(cJSON_GetArraySize(exp) >= 3);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(c.doc, "id")), c.surface);
  }
  fprintf(stderr, "\n  %s: %d snapshots, %d patches, %d gaps, %d heartbeats\n", c.surface,
          c.n_snapshots, c.n_patches, c.n_gaps, c.n_heartbeats);
  cJSON_Delete(c.doc);
  free(c.rx);
}

static void healthz_and_metrics_answer(void)
{
  static char body[1 << 18];
  int code = -1;
  /* Healthy once the worker ticks and the feed streams. */
  for (int64_t end = (now_mono_us() / 1000) + WAIT_SERVER_MS;
       (now_mono_us() / 1000) < end && code != 200; sleep_ms(200))
    code = http_get("/healthz", body, sizeof(body));
  CU_ASSERT_EQUAL(code, 200);
  CU_ASSERT_PTR_NOT_NULL(strstr(body, "ok"));
  CU_ASSERT_EQUAL(http_get("/metrics", body, sizeof(body)), 200);
  CU_ASSERT_PTR_NOT_NULL(strstr(body, "# TYPE volsurf_fit_batch_ms summary"));
  CU_ASSERT_PTR_NOT_NULL(strstr(body, "volsurf_feed_quotes_total{venue=\"deribit\"}"));
  CU_ASSERT_PTR_NOT_NULL(strstr(body, "volsurf_fit_rmse_vol_pts{venue=\"deribit\""));
}

static void sigterm_stops_the_server_cleanly(void)
{
  CU_ASSERT_FATAL(child > 0);
  kill(child, SIGTERM);
  int st = -1;
  pid_t got = 0;
  for (int64_t end = (now_mono_us() / 1000) + WAIT_EXIT_MS;
       (now_mono_us() / 1000) < end && got == 0; sleep_ms(20))
    got = waitpid(child, &st, WNOHANG);
  CU_ASSERT_EQUAL(got, child);
  if (got == child) {
    child = -1;
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  FILE *f = fopen(log_path, "r");
  int stopped = 0;
  char line[1024];
  while (f && fgets(line, sizeof(line), f))
    stopped |= strstr(line, "\"msg\":\"stopped\"") != NULL;
  if (f)
    fclose(f);
  CU_ASSERT(stopped);
}

int main(void)
{
  const char *bin = getenv("VOLSURF_BINARY");
  if (!bin || access(bin, X_OK) != 0 || !binary_has_serve(bin)) {
    fprintf(stderr, "test_serve: skipped (no volsurf binary with serve)\n");
    return TEST_SKIP;
  }
  signal(SIGPIPE, SIG_IGN);
  if (start_server(bin) < 0) {
    fprintf(stderr, "test_serve: the server did not start (log: %s)\n", log_path);
    stop_server();
    return 1;
  }
  static const struct test_case cases[] = {
      TEST_CASE(serve_streams_patches_that_reproduce_the_server_state),
      TEST_CASE(healthz_and_metrics_answer),
      TEST_CASE(sigterm_stops_the_server_cleanly),
  };
  int rc = test_run("serve", cases, TEST_COUNT(cases));
  stop_server();
  if (rc == 0)
    unlink(log_path);
  else
    fprintf(stderr, "test_serve: server log kept in %s\n", log_path);
  return rc;
}

#else

int main(void)
{
  fprintf(stderr, "test_serve: skipped (built without the gateway)\n");
  return TEST_SKIP;
}

#endif
