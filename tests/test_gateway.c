/* test_gateway: the gateway over loopback.  A server thread runs an lws
 * context with the gateway on 127.0.0.1:<ephemeral>; the test talks to it
 * through plain sockets (a minimal websocket client below, so that it can
 * also misbehave: stop reading, send oversized frames, forge origins).
 * Every socket has a receive timeout, every wait a bound. */
#define _GNU_SOURCE /* strcasestr, mkdtemp */
#include "testutil.h"

#ifdef VOLSURF_HAVE_GATEWAY
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "fakesurf.h"
#include "gateway.h"
#include "latency.h"
#include "now.h"
#include "protocol.h"

/* ---- server fixture ---- */

struct server {
  struct lws_context *ctx;
  struct gateway *gw;
  struct surface_mailbox *mb;
  struct metrics *m;
  pthread_t th;
  atomic_int stop;
  int port;
};

static atomic_int healthy = 1;

static int health(void *ctx, char *reason, size_t cap)
{
  (void)ctx;
  if (atomic_load(&healthy))
    return 1;
  snprintf(reason, cap, "calibrator silent");
  return 0;
}

static void *serve(void *arg)
{
  struct server *s = arg;
  while (!atomic_load(&s->stop))
    lws_service(s->ctx, 0);
  return NULL;
}

/* Starts a gateway with cfg's limits (iface, port, mailbox, metrics and
 * health are set here). */
static int server_start(struct server *s, struct gw_config *cfg)
{
  memset(s, 0, sizeof(*s));
  lws_set_log_level(LLL_ERR, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof(info));
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  info.port = CONTEXT_PORT_NO_LISTEN;
  s->ctx = lws_create_context(&info);
  s->mb = surface_mailbox_new(16);
  s->m = metrics_new();
  cfg->iface = "127.0.0.1";
  cfg->port = 0;
  cfg->in = s->mb;
  cfg->metrics = s->m;
  cfg->health = health;
  char err[128];
  if (!s->ctx || gw_new(s->ctx, cfg, &s->gw, err, sizeof(err)) != 0) {
    fprintf(stderr, "gw_new: %s\n", err);
    return -1;
  }
  s->port = gw_port(s->gw);
  if (s->port <= 0)
    return -1;
  pthread_create(&s->th, NULL, serve, s);
  return 0;
}

static void server_stop(struct server *s)
{
  atomic_store(&s->stop, 1);
  lws_cancel_service(s->ctx);
  pthread_join(s->th, NULL);
  /* After the join: the service thread may see 'stop' before the cancel,
   * and the context must outlive that cancel.  This thread services the
   * close frames now. */
  gw_free(s->gw);
  lws_context_destroy(s->ctx);
  surface_mailbox_free(s->mb);
  metrics_free(s->m);
}

static void start_default(struct server *s)
{
  struct gw_config cfg;
  gw_config_default(&cfg);
  cfg.heartbeat_ms = 200;
  CU_ASSERT_EQUAL_FATAL(server_start(s, &cfg), 0);
}

/* Publishes version 'step' of a synthetic surface through the mailbox. */
static void publish(struct server *s, const char *asset, int step, int n_exp, int n_pts)
{
  struct surface *v = fakesurf_new("deribit", asset, 2, step, n_exp, n_pts);
  CU_ASSERT_EQUAL(surface_mailbox_put(s->mb, v), 0);
  gw_wake(s->gw);
}

static cJSON *expected_doc(const char *asset, int step, int n_exp, int n_pts)
{
  struct surface *v = fakesurf_new("deribit", asset, 2, step, n_exp, n_pts);
  cJSON *d = proto_render(v);
  surface_free(v);
  return d;
}

/* ---- a minimal websocket client over a blocking socket ---- */

static int tcp_connect(int port, int rcvbuf)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (rcvbuf > 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int send_all(int fd, const void *p, size_t n)
{
  const char *b = p;
  while (n > 0) {
    ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
    if (w <= 0)
      return -1;
    b += w;
    n -= (size_t)w;
  }
  return 0;
}

static int recv_all(int fd, void *p, size_t n)
{
  char *b = p;
  while (n > 0) {
    ssize_t r = recv(fd, b, n, 0);
    if (r <= 0)
      return -1;
    b += r;
    n -= (size_t)r;
  }
  return 0;
}

/* Reads an HTTP response head (up to the blank line) into buf; returns the
 * status code or -1. */
static int read_head(int fd, char *buf, size_t cap)
{
  size_t n = 0;
  while (n + 1 < cap) {
    if (recv(fd, buf + n, 1, 0) != 1)
      return -1;
    n++;
    buf[n] = '\0';
    if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
      break;
  }
  int code = -1;
  int minor;
  if (sscanf(buf, "HTTP/1.%d %d", &minor, &code) != 2)
    return -1;
  return code;
}

/* Opens a websocket on path with extra header lines; returns the fd (status
 * 101) or -1, with the HTTP status in *status. */
static int ws_open(int port, const char *path, const char *extra, int rcvbuf, int *status)
{
  int fd = tcp_connect(port, rcvbuf);
  if (fd < 0)
    return -1;
  char req[512], head[2048];
  snprintf(req, sizeof(req),
           "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
           path, extra ? extra : "");
  *status = send_all(fd, req, strlen(req)) == 0 ? read_head(fd, head, sizeof(head)) : -1;
  if (*status != 101) {
    close(fd);
    return -1;
  }
  return fd;
}

static int ws_connect(int port)
{
  int st;
  return ws_open(port, "/ws", "Sec-WebSocket-Protocol: volsurf.v1\r\n", 0, &st);
}

/* Sends one masked frame (opcode 1 text) of n bytes. */
static int ws_send_frame(int fd, const char *p, size_t n, int opcode)
{
  unsigned char h[14];
  size_t hl = 2;
  h[0] = (unsigned char)(0x80 | opcode);
  if (n < 126) {
    h[1] = (unsigned char)(0x80 | n);
  } else if (n < 65536) {
    h[1] = 0x80 | 126;
    h[2] = (unsigned char)(n >> 8);
    h[3] = (unsigned char)n;
    hl = 4;
  } else {
    h[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++)
      h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
    hl = 10;
  }
  static const unsigned char mask[4] = {1, 2, 3, 4};
  memcpy(h + hl, mask, 4);
  hl += 4;
  char *b = malloc(n ? n : 1);
  for (size_t i = 0; i < n; i++)
    b[i] = (char)(p[i] ^ mask[i % 4]);
  int rc = send_all(fd, h, hl) || send_all(fd, b, n) ? -1 : 0;
  free(b);
  return rc;
}

static int ws_send(int fd, const char *text)
{
  return ws_send_frame(fd, text, strlen(text), 1);
}

/* Reads one frame: returns its opcode (8: close, with the code in *code),
 * or -1; the payload (NUL-terminated) in *out, caller frees. */
static int ws_recv(int fd, char **out, int *code)
{
  unsigned char h[10];
  *out = NULL;
  if (recv_all(fd, h, 2) != 0)
    return -1;
  uint64_t n = h[1] & 0x7f;
  if (n == 126) {
    if (recv_all(fd, h + 2, 2) != 0)
      return -1;
    n = ((uint64_t)h[2] << 8) | h[3];
  } else if (n == 127) {
    if (recv_all(fd, h + 2, 8) != 0)
      return -1;
    n = 0;
    for (int i = 0; i < 8; i++)
      n = (n << 8) | h[2 + i];
  }
  if (n > (64u << 20))
    return -1;
  char *b = malloc(n + 1);
  if (recv_all(fd, b, n) != 0) {
    free(b);
    return -1;
  }
  b[n] = '\0';
  int op = h[0] & 0x0f;
  if (op == 8 && code)
    *code = n >= 2 ? ((unsigned char)b[0] << 8) | (unsigned char)b[1] : 1005;
  *out = b;
  return op;
}

/* The next message of 'type' (others skipped; at most 2000 frames), parsed;
 * NULL on close, timeout or garbage. */
static cJSON *ws_next(int fd, const char *type)
{
  for (int i = 0; i < 2000; i++) {
    char *p;
    int code = 0;
    int op = ws_recv(fd, &p, &code);
    if (op != 1) {
      free(p);
      return NULL;
    }
    cJSON *m = cJSON_Parse(p);
    free(p);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "type");
    if (cJSON_IsString(t) && strcmp(t->valuestring, type) == 0)
      return m;
    cJSON_Delete(m);
  }
  return NULL;
}

/* Reads until a close frame; returns its code, or -1 (timeout, EOF). */
static int ws_wait_close(int fd)
{
  for (int i = 0; i < 100000; i++) {
    char *p;
    int code = 0;
    int op = ws_recv(fd, &p, &code);
    free(p);
    if (op < 0)
      return -1;
    if (op == 8)
      return code;
  }
  return -1;
}

static double num(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *str(const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : "";
}

/* A plain HTTP GET; returns the status, the whole response in *resp. */
static int http_get(int port, const char *path, char *resp, size_t cap)
{
  int fd = tcp_connect(port, 0);
  if (fd < 0)
    return -1;
  char req[256];
  snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
           path);
  send_all(fd, req, strlen(req));
  size_t n = 0;
  ssize_t r;
  while (n + 1 < cap && (r = recv(fd, resp + n, cap - 1 - n, 0)) > 0)
    n += (size_t)r;
  resp[n] = '\0';
  close(fd);
  int code = -1, minor;
  sscanf(resp, "HTTP/1.%d %d", &minor, &code);
  return code;
}

/* Value of a Prometheus sample line starting with 'series', or -1. */
static double metric(int port, const char *series)
{
  static char buf[1 << 16];
  if (http_get(port, "/metrics", buf, sizeof(buf)) != 200)
    return -1;
  char key[256];
  snprintf(key, sizeof(key), "\n%s ", series);
  const char *p = strstr(buf, key);
  return p ? atof(p + strlen(key)) : -1;
}

/* ---- cases ---- */

static void client_gets_hello_then_surfaces_on_connect(void)
{
  struct server s;
  start_default(&s);
  publish(&s, "BTC", 0, 3, 4);
  int fd = ws_connect(s.port);
  CU_ASSERT_FATAL(fd >= 0);
  cJSON *h = ws_next(fd, "hello");
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_EQUAL(num(h, "protocol"), 1);
  CU_ASSERT_EQUAL(num(h, "max_message"), 4096);
  CU_ASSERT_EQUAL(num(h, "heartbeat_ms"), 200);
  CU_ASSERT(num(h, "epoch") > 0);
  cJSON_Delete(h);
  /* the surface may reach the gateway after the connect: list asks again */
  int found = 0;
  for (int i = 0; i < 50 && !found; i++) {
    ws_send(fd, "{\"type\":\"list\",\"id\":7}");
    cJSON *l = ws_next(fd, "surfaces");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(l, "surfaces");
    if (cJSON_GetArraySize(a) == 1) {
      found = 1;
      CU_ASSERT_STRING_EQUAL(str(a->child, "id"), "deribit.BTC");
      CU_ASSERT_EQUAL(num(a->child, "expiries"), 3);
    }
    cJSON_Delete(l);
  }
  CU_ASSERT_TRUE(found);
  /* a client offering no subprotocol is accepted too */
  int st;
  int fd2 = ws_open(s.port, "/ws", "", 0, &st);
  CU_ASSERT_EQUAL(st, 101);
  cJSON *h2 = ws_next(fd2, "hello");
  CU_ASSERT_PTR_NOT_NULL(h2);
  cJSON_Delete(h2);
  close(fd2);
  close(fd);
  server_stop(&s);
}

/* Subscribes fd to deribit.<asset> and returns the snapshot's document
 * (copied) and seq. */
/* Asks for the list until it shows n surfaces (at most 100 times); 1 when
 * it did.  The requests carry an id, so that their replies can be told
 * from the lists the server sends on its own. */
static int wait_listed(int fd, int n)
{
  for (int i = 0; i < 100; i++) {
    ws_send(fd, "{\"type\":\"list\",\"id\":7}");
    cJSON *l = ws_next(fd, "surfaces");
    int k = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(l, "surfaces"));
    cJSON_Delete(l);
    if (k == n)
      return 1;
  }
  return 0;
}

static cJSON *subscribe(int fd, const char *asset, uint64_t *seq)
{
  char m[128];
  snprintf(m, sizeof(m), "{\"type\":\"subscribe\",\"surfaces\":[\"deribit.%s\"]}", asset);
  ws_send(fd, m);
  cJSON *snap = ws_next(fd, "snapshot");
  if (!snap)
    return NULL;
  *seq = (uint64_t)num(snap, "seq");
  cJSON *d = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(snap, "data"), 1);
  char sum[PROTO_CHECKSUM_LEN];
  proto_checksum(d, sum);
  CU_ASSERT_STRING_EQUAL(sum, str(snap, "checksum"));
  cJSON_Delete(snap);
  return d;
}

/* Applies the next patch (skipping other messages); 0 when it applied with
 * prev == *seq and the checksum matched. */
static int take_patch(int fd, cJSON **doc, uint64_t *seq)
{
  cJSON *p = ws_next(fd, "patch");
  if (!p)
    return -1;
  int rc = 0;
  if ((uint64_t)num(p, "prev") != *seq)
    rc = -2;
  proto_apply(doc, cJSON_GetObjectItemCaseSensitive(p, "data"));
  char sum[PROTO_CHECKSUM_LEN];
  proto_checksum(*doc, sum);
  if (strcmp(sum, str(p, "checksum")) != 0)
    rc = -3;
  *seq = (uint64_t)num(p, "seq");
  cJSON_Delete(p);
  return rc;
}

static void subscribe_gives_snapshot_and_patches_reproduce_the_document(void)
{
  struct server s;
  start_default(&s);
  int fd = ws_connect(s.port);
  CU_ASSERT_FATAL(fd >= 0);
  publish(&s, "BTC", 0, 4, 5);
  /* wait until the gateway has the surface (list shows it) */
  CU_ASSERT_FATAL(wait_listed(fd, 1));
  uint64_t seq = 0;
  cJSON *doc = subscribe(fd, "BTC", &seq);
  CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
  CU_ASSERT_EQUAL(seq, 1);
  for (int step = 1; step <= 12; step++) {
    publish(&s, "BTC", step, 4, 5);
    CU_ASSERT_EQUAL(take_patch(fd, &doc, &seq), 0);
    CU_ASSERT_EQUAL(seq, (uint64_t)step + 1);
    cJSON *want = expected_doc("BTC", step, 4, 5);
    CU_ASSERT_TRUE(proto_equal(doc, want));
    cJSON_Delete(want);
  }
  /* resync gives a snapshot of the current version */
  ws_send(fd, "{\"type\":\"resync\",\"surface\":\"deribit.BTC\"}");
  cJSON *snap = ws_next(fd, "snapshot");
  CU_ASSERT_PTR_NOT_NULL_FATAL(snap);
  CU_ASSERT_EQUAL(num(snap, "seq"), 13);
  CU_ASSERT_TRUE(proto_equal(cJSON_GetObjectItemCaseSensitive(snap, "data"), doc));
  cJSON_Delete(snap);
  /* heartbeats name the subscription and its seq */
  cJSON *hb = ws_next(fd, "heartbeat");
  CU_ASSERT_PTR_NOT_NULL_FATAL(hb);
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(
      cJSON_GetObjectItemCaseSensitive(hb, "surfaces"), "deribit.BTC");
  CU_ASSERT_EQUAL(num(e, "seq"), 13);
  cJSON_Delete(hb);
  /* unsubscribe is acknowledged */
  ws_send(fd, "{\"type\":\"unsubscribe\",\"surfaces\":[\"deribit.BTC\"],\"id\":4}");
  cJSON *ack = ws_next(fd, "ack");
  CU_ASSERT_PTR_NOT_NULL(ack);
  CU_ASSERT_EQUAL(num(ack, "id"), 4);
  cJSON_Delete(ack);
  cJSON_Delete(doc);
  close(fd);
  server_stop(&s);
}

/* Several patches queued for one client at once leave in one corked
 * burst (gw_peer_writable): every frame must still arrive whole, in order. */
/* Reads one message; counts the lists the server sent on its own (no id;
 * keeping the listed BTC expiry count), heartbeats and patches.  0 on a
 * read error. */
static int count_next(int fd, int *lists, int *count, int *beats, int *patches)
{
  char *p;
  int code = 0;
  if (ws_recv(fd, &p, &code) != 1) {
    free(p);
    return 0;
  }
  cJSON *m = cJSON_Parse(p);
  free(p);
  const char *t = str(m, "type");
  *beats += strcmp(t, "heartbeat") == 0;
  *patches += strcmp(t, "patch") == 0;
  if (strcmp(t, "surfaces") == 0 && !cJSON_HasObjectItem(m, "id")) {
    (*lists)++;
    *count = (int)num(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "surfaces"), 0),
                      "expiries");
  }
  cJSON_Delete(m);
  return 1;
}

static void an_expiry_count_change_is_listed_with_the_heartbeats_not_per_version(void)
{
  struct server s;
  start_default(&s); /* heartbeats every 200 ms */
  int fd = ws_connect(s.port);
  CU_ASSERT_FATAL(fd >= 0);
  publish(&s, "BTC", 0, 4, 5);
  CU_ASSERT_FATAL(wait_listed(fd, 1));
  uint64_t seq = 0;
  cJSON *doc = subscribe(fd, "BTC", &seq);
  CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
  /* An expiry leaves at every step 4 mod 5 and is back at the next: 8 count
   * changes in 20 versions, each taken by the gateway (its patch read)
   * before the next, all within a few heartbeats at most. */
  int lists = 0, count = -1, beats = 0, patches = 0, ok = 1;
  for (int step = 1; step <= 20 && ok; step++) {
    publish(&s, "BTC", step, 4, 5);
    int want = patches + 1;
    for (int i = 0; i < 100 && ok && patches < want; i++)
      ok = count_next(fd, &lists, &count, &beats, &patches);
  }
  CU_ASSERT_TRUE_FATAL(ok);
  int beats_during = beats;
  for (int i = 0; i < 1000 && ok && beats < beats_during + 2; i++)
    ok = count_next(fd, &lists, &count, &beats, &patches);
  CU_ASSERT_EQUAL(patches, 20);
  /* One list per heartbeat sweep that followed a change, not one per
   * change (8). */
  CU_ASSERT(lists >= 1 && lists <= beats_during + 1);
  CU_ASSERT(lists < 8);
  CU_ASSERT_EQUAL(count, 4); /* the last list has the current count */
  cJSON_Delete(doc);
  close(fd);
  server_stop(&s);
}

static void patches_of_several_surfaces_published_together_all_arrive_in_order(void)
{
  static const char *const assets[3] = {"BTC", "ETH", "SOL_USDC"};
  struct server s;
  start_default(&s);
  int fd = ws_connect(s.port);
  CU_ASSERT_FATAL(fd >= 0);
  for (int a = 0; a < 3; a++)
    publish(&s, assets[a], 0, 4, 5);
  CU_ASSERT_FATAL(wait_listed(fd, 3));
  cJSON *doc[3];
  uint64_t seq[3];
  for (int a = 0; a < 3; a++) {
    doc[a] = subscribe(fd, assets[a], &seq[a]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc[a]);
  }
  int bad = 0;
  for (int step = 1; step <= 8; step++) {
    for (int a = 0; a < 3; a++)
      publish(&s, assets[a], step, 4, 5);
    for (int k = 0; k < 3; k++) {
      cJSON *pm = ws_next(fd, "patch");
      CU_ASSERT_PTR_NOT_NULL_FATAL(pm);
      int a = 0;
      while (a < 3 && strcmp(str(pm, "surface") + strlen("deribit."), assets[a]) != 0)
        a++;
      CU_ASSERT_FATAL(a < 3);
      bad += (uint64_t)num(pm, "prev") != seq[a];
      proto_apply(&doc[a], cJSON_GetObjectItemCaseSensitive(pm, "data"));
      char sum[PROTO_CHECKSUM_LEN];
      proto_checksum(doc[a], sum);
      bad += strcmp(sum, str(pm, "checksum")) != 0;
      seq[a] = (uint64_t)num(pm, "seq");
      cJSON_Delete(pm);
    }
  }
  CU_ASSERT_EQUAL(bad, 0);
  for (int a = 0; a < 3; a++) {
    CU_ASSERT_EQUAL(seq[a], 9);
    cJSON *want = expected_doc(assets[a], 8, 4, 5);
    CU_ASSERT_TRUE(proto_equal(doc[a], want));
    cJSON_Delete(want);
    cJSON_Delete(doc[a]);
  }
  close(fd);
  server_stop(&s);
}

static void expect_error(int fd, const char *code, int id)
{
  cJSON *e = ws_next(fd, "error");
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_STRING_EQUAL(str(e, "code"), code);
  CU_ASSERT_EQUAL(num(e, "id"), id);
  cJSON_Delete(e);
}

static void bad_client_messages_get_error_replies_and_are_counted(void)
{
  struct server s;
  start_default(&s);
  int fd = ws_connect(s.port);
  CU_ASSERT_FATAL(fd >= 0);
  ws_send(fd, "garbage");
  expect_error(fd, "bad_json", -1);
  ws_send(fd, "{\"type\":\"frobnicate\",\"id\":3}");
  expect_error(fd, "bad_type", 3);
  ws_send(fd, "{\"type\":\"subscribe\",\"surfaces\":[\"nowhere.XYZ\"],\"id\":5}");
  expect_error(fd, "unknown_surface", 5);
  ws_send(fd, "{\"type\":\"subscribe\",\"id\":6}");
  expect_error(fd, "bad_field", 6);
  char big[5000];
  memset(big, ' ', sizeof(big));
  big[0] = '{';
  big[sizeof(big) - 2] = '}';
  big[sizeof(big) - 1] = '\0';
  ws_send(fd, big);
  expect_error(fd, "too_big", -1);
  /* still served after all that */
  ws_send(fd, "{\"type\":\"list\",\"id\":8}");
  cJSON *l = ws_next(fd, "surfaces");
  CU_ASSERT_EQUAL(num(l, "id"), 8);
  cJSON_Delete(l);
  CU_ASSERT_EQUAL(metric(s.port, "volsurf_ws_client_errors_total{code=\"bad_json\"}"), 1);
  CU_ASSERT_EQUAL(metric(s.port, "volsurf_ws_client_errors_total{code=\"too_big\"}"), 1);
  CU_ASSERT_EQUAL(metric(s.port, "volsurf_ws_client_errors_total{code=\"unknown_surface\"}"), 1);
  close(fd);
  server_stop(&s);
}

static void twenty_protocol_errors_close_with_4001(void)
{
  struct server s;
  start_default(&s);
  int fd = ws_connect(s.port);
  CU_ASSERT_FATAL(fd >= 0);
  for (int i = 0; i < 20; i++)
    ws_send(fd, "nope");
  CU_ASSERT_EQUAL(ws_wait_close(fd), 4001);
  close(fd);
  server_stop(&s);
}

static void frame_over_64k_closes_with_1009(void)
{
  struct server s;
  start_default(&s);
  int fd = ws_connect(s.port);
  CU_ASSERT_FATAL(fd >= 0);
  size_t n = 70000;
  char *big = malloc(n);
  memset(big, 'x', n);
  ws_send_frame(fd, big, n, 1);
  free(big);
  CU_ASSERT_EQUAL(ws_wait_close(fd), 1009);
  close(fd);
  server_stop(&s);
}

static void slow_client_is_conflated_while_a_normal_client_gets_every_patch(void)
{
  struct server s;
  struct gw_config cfg;
  gw_config_default(&cfg);
  cfg.client_queue_msgs = 8;
  cfg.client_queue_bytes = 256 * 1024;
  CU_ASSERT_EQUAL_FATAL(server_start(&s, &cfg), 0);
  int n_exp = 40, n_pts = 60; /* patches of tens of kB */
  int fast = ws_connect(s.port);
  int st;
  int slow = ws_open(s.port, "/ws", "", 2048, &st);
  CU_ASSERT_FATAL(fast >= 0 && slow >= 0);
  publish(&s, "BTC", 0, n_exp, n_pts);
  uint64_t seq = 0;
  cJSON *doc = NULL;
  CU_ASSERT_FATAL(wait_listed(fast, 1));
  doc = subscribe(fast, "BTC", &seq);
  CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
  ws_send(slow, "{\"type\":\"subscribe\",\"surfaces\":[\"deribit.BTC\"]}");
  /* the slow client never reads again */
  int ok = 1;
  double conflated = 0;
  int step;
  for (step = 1; step <= 200 && ok; step++) {
    publish(&s, "BTC", step, n_exp, n_pts);
    ok = take_patch(fast, &doc, &seq) == 0 && seq == (uint64_t)step + 1;
    if (step % 20 == 0) {
      conflated = metric(s.port, "volsurf_ws_conflated_total");
      if (conflated >= 9)
        break;
    }
  }
  CU_ASSERT_TRUE(ok); /* no gap, no checksum mismatch for the fast client */
  CU_ASSERT(conflated >= 1);
  cJSON *want = expected_doc("BTC", step > 200 ? 200 : step, n_exp, n_pts);
  CU_ASSERT_TRUE(proto_equal(doc, want));
  cJSON_Delete(want);
  /* conflated more than 8 times within 10 s: closed as a slow consumer */
  if (conflated >= 9)
    CU_ASSERT_EQUAL(metric(s.port, "volsurf_ws_closed_total{code=\"4000\"}"), 1);
  cJSON_Delete(doc);
  close(fast);
  close(slow);
  server_stop(&s);
}

static void healthz_and_metrics_answer_over_http(void)
{
  struct server s;
  start_default(&s);
  static char buf[1 << 16];
  CU_ASSERT_EQUAL(http_get(s.port, "/healthz", buf, sizeof(buf)), 200);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"status\":\"ok\""));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "application/json"));
  atomic_store(&healthy, 0);
  CU_ASSERT_EQUAL(http_get(s.port, "/healthz", buf, sizeof(buf)), 503);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "calibrator silent"));
  atomic_store(&healthy, 1);
  int fd = ws_connect(s.port);
  cJSON_Delete(ws_next(fd, "hello"));
  CU_ASSERT_EQUAL(http_get(s.port, "/metrics", buf, sizeof(buf)), 200);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "text/plain; version=0.0.4"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "# TYPE volsurf_ws_connections gauge"));
  CU_ASSERT_EQUAL(metric(s.port, "volsurf_ws_connections"), 1);
  CU_ASSERT_EQUAL(http_get(s.port, "/nothing-here", buf, sizeof(buf)), 404);
  close(fd);
  server_stop(&s);
}

/* Versions stamped by the calib (host/latency.h) are timed when their patch
 * is queued; the first version (no patch) is not. */
static void stamped_patches_are_timed_from_quote_and_tick(void)
{
  struct server s;
  start_default(&s);
  int fd = ws_connect(s.port);
  CU_ASSERT_FATAL(fd >= 0);
  for (int step = 0; step < 2; step++) {
    struct surface *v = fakesurf_new("deribit", "BTC", 2, step, 3, 4);
    int64_t now = now_wall_us();
    v->oldest_quote_us = now - 80000;
    v->tick_us = now - 30000;
    v->publish_us = now - 20000;
    CU_ASSERT_EQUAL(surface_mailbox_put(s.mb, v), 0);
    gw_wake(s.gw);
    /* the gateway has version 0 before version 1 is put (no conflation) */
    if (step == 0)
      CU_ASSERT(wait_listed(fd, 1));
  }
  double n = -1;
  for (int i = 0; i < 200 && n < 1; i++) { /* at most ~2 s */
    usleep(10000);
    n = metric(s.port, "volsurf_quote_to_patch_ms_count");
  }
  CU_ASSERT_EQUAL(n, 1);
  CU_ASSERT_EQUAL(metric(s.port, "volsurf_tick_to_patch_ms_count"), 1);
  CU_ASSERT_EQUAL(metric(s.port, "volsurf_gateway_wake_ms_count"), 1);
  CU_ASSERT(metric(s.port, "volsurf_quote_to_patch_ms_sum") >= 80.0);
  CU_ASSERT(metric(s.port, "volsurf_tick_to_patch_ms_sum") >= 30.0);
  CU_ASSERT(metric(s.port, "volsurf_gateway_wake_ms_sum") >= 20.0);
  close(fd);
  server_stop(&s);
}

static void static_files_are_served_and_traversal_is_refused(void)
{
  char dir[] = "/tmp/volsurf_gw_XXXXXX", path[256];
  CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
  snprintf(path, sizeof(path), "%s/www", dir);
  mkdir(path, 0700);
  static const char *files[][2] = {{"www/index.html", "<!doctype html><p>volsurf</p>"},
                                   {"www/app.js", "console.log(1)"},
                                   {"secret.txt", "do not serve"}};
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
    FILE *f = fopen(path, "w");
    fputs(files[i][1], f);
    fclose(f);
  }
  struct server s;
  struct gw_config cfg;
  gw_config_default(&cfg);
  snprintf(path, sizeof(path), "%s/www", dir);
  cfg.static_dir = path;
  CU_ASSERT_EQUAL_FATAL(server_start(&s, &cfg), 0);
  static char buf[1 << 16];
  CU_ASSERT_EQUAL(http_get(s.port, "/", buf, sizeof(buf)), 200);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "<p>volsurf</p>"));
  CU_ASSERT_PTR_NOT_NULL(strcasestr(buf, "content-type: text/html"));
  CU_ASSERT_EQUAL(http_get(s.port, "/app.js", buf, sizeof(buf)), 200);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "javascript"));
  CU_ASSERT_EQUAL(http_get(s.port, "/missing.css", buf, sizeof(buf)), 404);
  static const char *evil[] = {"/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt",
                               "/www/../../secret.txt"};
  for (int i = 0; i < 4; i++) {
    int code = http_get(s.port, evil[i], buf, sizeof(buf));
    CU_ASSERT(code != 200 || strstr(buf, "do not serve") == NULL);
    CU_ASSERT_PTR_NULL(strstr(buf, "do not serve"));
  }
  /* the endpoints still win over the file mount */
  CU_ASSERT_EQUAL(http_get(s.port, "/healthz", buf, sizeof(buf)), 200);
  server_stop(&s);
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
    unlink(path);
  }
  snprintf(path, sizeof(path), "%s/www", dir);
  rmdir(path);
  rmdir(dir);
}

static void origin_not_on_the_allow_list_is_refused_with_403(void)
{
  struct server s;
  struct gw_config cfg;
  gw_config_default(&cfg);
  cfg.allowed_origins = "https://volsurf.example, http://localhost:5173";
  CU_ASSERT_EQUAL_FATAL(server_start(&s, &cfg), 0);
  int st;
  int fd = ws_open(s.port, "/ws", "Origin: https://evil.example\r\n", 0, &st);
  CU_ASSERT_EQUAL(fd, -1);
  CU_ASSERT_EQUAL(st, 403);
  fd = ws_open(s.port, "/ws", "Origin: http://localhost:5173\r\n", 0, &st);
  CU_ASSERT_EQUAL(st, 101);
  if (fd >= 0)
    close(fd);
  fd = ws_open(s.port, "/elsewhere", "", 0, &st);
  CU_ASSERT_EQUAL(fd, -1); /* websocket only on /ws */
  server_stop(&s);
}

static void connection_cap_closes_with_1013(void)
{
  struct server s;
  struct gw_config cfg;
  gw_config_default(&cfg);
  cfg.max_clients = 2;
  CU_ASSERT_EQUAL_FATAL(server_start(&s, &cfg), 0);
  int a = ws_connect(s.port), b = ws_connect(s.port);
  cJSON_Delete(ws_next(a, "hello"));
  cJSON_Delete(ws_next(b, "hello"));
  int c = ws_connect(s.port);
  CU_ASSERT_FATAL(c >= 0);
  CU_ASSERT_EQUAL(ws_wait_close(c), 1013);
  close(a);
  close(b);
  close(c);
  server_stop(&s);
}

static void server_shutdown_closes_clients_with_1001(void)
{
  struct server s;
  start_default(&s);
  int fd = ws_connect(s.port);
  CU_ASSERT_FATAL(fd >= 0);
  cJSON_Delete(ws_next(fd, "hello"));
  server_stop(&s);
  CU_ASSERT_EQUAL(ws_wait_close(fd), 1001);
  close(fd);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(client_gets_hello_then_surfaces_on_connect),
      TEST_CASE(subscribe_gives_snapshot_and_patches_reproduce_the_document),
      TEST_CASE(patches_of_several_surfaces_published_together_all_arrive_in_order),
      TEST_CASE(an_expiry_count_change_is_listed_with_the_heartbeats_not_per_version),
      TEST_CASE(bad_client_messages_get_error_replies_and_are_counted),
      TEST_CASE(twenty_protocol_errors_close_with_4001),
      TEST_CASE(frame_over_64k_closes_with_1009),
      TEST_CASE(slow_client_is_conflated_while_a_normal_client_gets_every_patch),
      TEST_CASE(healthz_and_metrics_answer_over_http),
      TEST_CASE(stamped_patches_are_timed_from_quote_and_tick),
      TEST_CASE(static_files_are_served_and_traversal_is_refused),
      TEST_CASE(origin_not_on_the_allow_list_is_refused_with_403),
      TEST_CASE(connection_cap_closes_with_1013),
      TEST_CASE(server_shutdown_closes_clients_with_1001),
  };
  return test_run("gateway", cases, (int)(sizeof(cases) / sizeof(cases[0])));
}
#else
int main(void)
{
  return TEST_SKIP; /* gateway/ not built */
}
#endif
