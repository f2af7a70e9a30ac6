/* fake_venue: loopback lws server for the connector tests (see
 * fake_venue.h).  One protocol handles both HTTP GETs and websocket
 * connections; the test thread talks to the server thread through one
 * mutex and lws_cancel_service. */
#define _POSIX_C_SOURCE 200809L
#include "fake_venue.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "feeds_testutil.h"

#define FAKE_MAX_CONNS 8
#define FAKE_MAX_OUT 256
#define FAKE_MAX_LOG 4096
#define FAKE_MAX_PATHS 8
#define FAKE_RX_MAX (1u << 20)

struct fake_msg {
  char *p;
  size_t len;
  int ping;
};

struct fake_path {
  char path[128];
  char *body;
};

struct fake_venue {
  fake_on_text on_text;
  void *user;
  struct lws_context *ctx;
  SSL_CTX *client_tls; /* ours, handed to lws: see fake_venue_start_tls */
  pthread_t thread;
  int port;
  pthread_mutex_t mu;
  int stop, drop;
  struct fake_msg out[FAKE_MAX_OUT];
  int out_head, n_out;
  char *log[FAKE_MAX_LOG];
  int n_log;
  struct fake_path paths[FAKE_MAX_PATHS];
  struct lws *conns[FAKE_MAX_CONNS];
  int n_conns, n_accepts, n_pongs, n_http;
};

/* Per connection: the frame being assembled, or the HTTP body to send. */
struct fake_pss {
  char *buf;
  size_t len;
};

static struct fake_venue *fv_of(struct lws *wsi)
{
  return lws_context_user(lws_get_context(wsi));
}

static void conn_add(struct fake_venue *fv, struct lws *wsi)
{
  pthread_mutex_lock(&fv->mu);
  if (fv->n_conns < FAKE_MAX_CONNS)
    fv->conns[fv->n_conns++] = wsi;
  fv->n_accepts++;
  pthread_mutex_unlock(&fv->mu);
}

static void conn_remove(struct fake_venue *fv, struct lws *wsi)
{
  pthread_mutex_lock(&fv->mu);
  for (int i = 0; i < fv->n_conns; i++) {
    if (fv->conns[i] == wsi) {
      fv->conns[i] = fv->conns[--fv->n_conns];
      break;
    }
  }
  pthread_mutex_unlock(&fv->mu);
}

static void log_rx(struct fake_venue *fv, const char *msg, size_t len)
{
  char *copy = malloc(len + 1);
  if (!copy)
    return;
  memcpy(copy, msg, len);
  copy[len] = '\0';
  pthread_mutex_lock(&fv->mu);
  if (fv->n_log < FAKE_MAX_LOG)
    fv->log[fv->n_log++] = copy;
  else
    free(copy);
  pthread_mutex_unlock(&fv->mu);
}

static void clear_out_locked(struct fake_venue *fv)
{
  while (fv->n_out) {
    free(fv->out[fv->out_head].p);
    fv->out_head = (fv->out_head + 1) % FAKE_MAX_OUT;
    fv->n_out--;
  }
}

static int http_reply(struct lws *wsi, struct fake_pss *pss, const char *path)
{
  struct fake_venue *fv = fv_of(wsi);
  char *body = NULL;
  size_t len = 0;
  pthread_mutex_lock(&fv->mu);
  for (int i = 0; i < FAKE_MAX_PATHS; i++) {
    if (fv->paths[i].body && strcmp(fv->paths[i].path, path) == 0) {
      len = strlen(fv->paths[i].body);
      body = malloc(LWS_PRE + len + 1);
      if (body)
        memcpy(body + LWS_PRE, fv->paths[i].body, len + 1);
      break;
    }
  }
  fv->n_http++;
  pthread_mutex_unlock(&fv->mu);
  if (!body) {
    if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL))
      return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  }
  unsigned char hdr[LWS_PRE + 1024], *start = hdr + LWS_PRE, *p = start,
                                     *end = hdr + sizeof hdr - 1;
  if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "application/json", len, &p, end) ||
      lws_finalize_write_http_header(wsi, start, &p, end)) {
    free(body);
    return -1;
  }
  pss->buf = body;
  pss->len = len;
  lws_callback_on_writable(wsi);
  return 0;
}

static int fake_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
  struct fake_pss *pss = user;
  struct fake_venue *fv = lws_get_context(wsi) ? fv_of(wsi) : NULL;
  switch (reason) {
  case LWS_CALLBACK_HTTP:
    return http_reply(wsi, pss, in ? (const char *)in : "");
  case LWS_CALLBACK_HTTP_WRITEABLE:
    if (!pss->buf)
      return -1;
    if (lws_write(wsi, (unsigned char *)pss->buf + LWS_PRE, pss->len, LWS_WRITE_HTTP_FINAL) <
        (int)pss->len) {
      free(pss->buf);
      pss->buf = NULL;
      return -1;
    }
    free(pss->buf);
    pss->buf = NULL;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
  case LWS_CALLBACK_ESTABLISHED:
    pss->buf = NULL;
    pss->len = 0;
    conn_add(fv, wsi);
    break;
  case LWS_CALLBACK_CLOSED:
  case LWS_CALLBACK_CLOSED_HTTP:
    /* No per-session data when the connection closed before lws made it
     * (seen with TLS: a keep-alive https connection the client drops). */
    if (reason == LWS_CALLBACK_CLOSED)
      conn_remove(fv, wsi);
    if (pss) {
      free(pss->buf);
      pss->buf = NULL;
    }
    break;
  case LWS_CALLBACK_RECEIVE: {
    if (pss->len + len > FAKE_RX_MAX)
      return -1;
    char *p = realloc(pss->buf, pss->len + len + 1);
    if (!p)
      return -1;
    pss->buf = p;
    memcpy(p + pss->len, in, len);
    pss->len += len;
    p[pss->len] = '\0';
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
      log_rx(fv, pss->buf, pss->len);
      if (fv->on_text)
        fv->on_text(fv, pss->buf, pss->len, fv->user);
      pss->len = 0;
    }
    break;
  }
  case LWS_CALLBACK_RECEIVE_PONG:
    pthread_mutex_lock(&fv->mu);
    fv->n_pongs++;
    pthread_mutex_unlock(&fv->mu);
    break;
  case LWS_CALLBACK_SERVER_WRITEABLE: {
    struct fake_msg m = {0};
    pthread_mutex_lock(&fv->mu);
    int more = 0;
    if (fv->n_out) {
      m = fv->out[fv->out_head];
      fv->out_head = (fv->out_head + 1) % FAKE_MAX_OUT;
      fv->n_out--;
      more = fv->n_out > 0;
    }
    pthread_mutex_unlock(&fv->mu);
    if (!m.p)
      break;
    int rc = lws_write(wsi, (unsigned char *)m.p + LWS_PRE, m.len,
                       m.ping ? LWS_WRITE_PING : LWS_WRITE_TEXT);
    free(m.p);
    if (rc < (int)m.len)
      return -1;
    if (more)
      lws_callback_on_writable(wsi);
    break;
  }
  case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
    if (!fv)
      break;
    pthread_mutex_lock(&fv->mu);
    int drop = fv->drop;
    fv->drop = 0;
    struct lws *conns[FAKE_MAX_CONNS];
    int n = fv->n_conns;
    memcpy(conns, fv->conns, sizeof conns);
    int out = fv->n_out;
    pthread_mutex_unlock(&fv->mu);
    for (int i = 0; i < n; i++) {
      if (drop)
        lws_set_timeout(conns[i], PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
      else if (out)
        lws_callback_on_writable(conns[i]);
    }
    break;
  }
  default:
    break;
  }
  return 0;
}

static const struct lws_protocols fake_protocols[] = {
    {"fake-venue", fake_callback, sizeof(struct fake_pss), 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *fake_main(void *arg)
{
  struct fake_venue *fv = arg;
  for (;;) {
    pthread_mutex_lock(&fv->mu);
    int stop = fv->stop;
    pthread_mutex_unlock(&fv->mu);
    if (stop)
      break;
    lws_service(fv->ctx, 0);
  }
  return NULL;
}

struct fake_venue *fake_venue_start(fake_on_text on_text, void *user)
{
  return fake_venue_start_tls(on_text, user, NULL, NULL);
}

struct fake_venue *fake_venue_start_tls(fake_on_text on_text, void *user, const char *cert_file,
                                        const char *key_file)
{
  struct fake_venue *fv = calloc(1, sizeof *fv);
  if (!fv)
    return NULL;
  fv->on_text = on_text;
  fv->user = user;
  pthread_mutex_init(&fv->mu, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = 0; /* the kernel picks a free port */
  info.iface = "127.0.0.1";
  info.protocols = fake_protocols;
  info.user = fv;
  info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
  if (cert_file && key_file) {
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = cert_file;
    info.ssl_private_key_filepath = key_file;
    /* lws 4.1 also gives a TLS server vhost a client SSL_CTX loaded with
     * the system store, and LeakSanitizer reports it after
     * lws_context_destroy once a client in this process used TLS.  The
     * fake never connects out: it gets an empty one that we free. */
    fv->client_tls = SSL_CTX_new(TLS_client_method());
    if (!fv->client_tls)
      goto fail;
    info.provided_client_ssl_ctx = fv->client_tls;
  }
  fv->ctx = lws_create_context(&info);
  if (!fv->ctx)
    goto fail;
  fv->port = lws_get_vhost_listen_port(lws_get_vhost_by_name(fv->ctx, "default"));
  if (fv->port <= 0 || pthread_create(&fv->thread, NULL, fake_main, fv) != 0)
    goto fail;
  return fv;
fail:
  if (fv->ctx)
    lws_context_destroy(fv->ctx);
  SSL_CTX_free(fv->client_tls);
  pthread_mutex_destroy(&fv->mu);
  free(fv);
  return NULL;
}

void fake_venue_stop(struct fake_venue *fv)
{
  if (!fv)
    return;
  pthread_mutex_lock(&fv->mu);
  fv->stop = 1;
  pthread_mutex_unlock(&fv->mu);
  lws_cancel_service(fv->ctx);
  pthread_join(fv->thread, NULL);
  lws_context_destroy(fv->ctx);
  SSL_CTX_free(fv->client_tls);
  clear_out_locked(fv);
  for (int i = 0; i < fv->n_log; i++)
    free(fv->log[i]);
  for (int i = 0; i < FAKE_MAX_PATHS; i++)
    free(fv->paths[i].body);
  pthread_mutex_destroy(&fv->mu);
  free(fv);
}

int fake_venue_port(const struct fake_venue *fv)
{
  return fv->port;
}

static void enqueue(struct fake_venue *fv, const char *msg, size_t len, int ping)
{
  char *p = malloc(LWS_PRE + len + 1);
  if (!p)
    return;
  if (len)
    memcpy(p + LWS_PRE, msg, len);
  pthread_mutex_lock(&fv->mu);
  if (fv->n_out < FAKE_MAX_OUT) {
    fv->out[(fv->out_head + fv->n_out) % FAKE_MAX_OUT] = (struct fake_msg){p, len, ping};
    fv->n_out++;
    p = NULL;
  }
  pthread_mutex_unlock(&fv->mu);
  free(p);
  lws_cancel_service(fv->ctx);
}

void fake_venue_send(struct fake_venue *fv, const char *msg, size_t len)
{
  enqueue(fv, msg, len, 0);
}

void fake_venue_binance_responder(struct fake_venue *fv, const char *msg, size_t len, void *user)
{
  (void)user;
  cJSON *req = cJSON_ParseWithLength(msg, len);
  const cJSON *id = cJSON_GetObjectItem(req, "id");
  if (cJSON_IsNumber(id)) {
    char ack[64];
    snprintf(ack, sizeof ack, "{\"result\":null,\"id\":%lld}", (long long)id->valuedouble);
    fake_venue_send(fv, ack, strlen(ack));
  }
  cJSON_Delete(req);
}

void fake_venue_ping(struct fake_venue *fv)
{
  /* With a payload: an lws 4.1 server does not report a zero-length PONG
   * (LWS_CALLBACK_RECEIVE_PONG), though the client does send one for an
   * empty PING (seen with strace), so the answer would go uncounted. */
  enqueue(fv, "fake", 4, 1);
}

void fake_venue_drop(struct fake_venue *fv)
{
  pthread_mutex_lock(&fv->mu);
  fv->drop = 1;
  clear_out_locked(fv);
  pthread_mutex_unlock(&fv->mu);
  lws_cancel_service(fv->ctx);
}

void fake_venue_set_http(struct fake_venue *fv, const char *path, const char *body)
{
  pthread_mutex_lock(&fv->mu);
  int slot = -1;
  for (int i = 0; i < FAKE_MAX_PATHS; i++) {
    if (fv->paths[i].body && strcmp(fv->paths[i].path, path) == 0) {
      slot = i;
      break;
    }
    if (!fv->paths[i].body && slot < 0)
      slot = i;
  }
  if (slot >= 0) {
    free(fv->paths[slot].body);
    fv->paths[slot].body = NULL;
    snprintf(fv->paths[slot].path, sizeof fv->paths[slot].path, "%s", path);
    if (body) {
      size_t n = strlen(body) + 1;
      fv->paths[slot].body = malloc(n);
      if (fv->paths[slot].body)
        memcpy(fv->paths[slot].body, body, n);
    }
  }
  pthread_mutex_unlock(&fv->mu);
}

static int read_counter(struct fake_venue *fv, const int *field)
{
  pthread_mutex_lock(&fv->mu);
  int n = *field;
  pthread_mutex_unlock(&fv->mu);
  return n;
}

int fake_venue_accepts(struct fake_venue *fv)
{
  return read_counter(fv, &fv->n_accepts);
}

int fake_venue_open(struct fake_venue *fv)
{
  return read_counter(fv, &fv->n_conns);
}

int fake_venue_pongs(struct fake_venue *fv)
{
  return read_counter(fv, &fv->n_pongs);
}

int fake_venue_http_hits(struct fake_venue *fv)
{
  return read_counter(fv, &fv->n_http);
}

int fake_venue_count_rx(struct fake_venue *fv, const char *needle)
{
  int n = 0;
  pthread_mutex_lock(&fv->mu);
  for (int i = 0; i < fv->n_log; i++)
    n += strstr(fv->log[i], needle) != NULL;
  pthread_mutex_unlock(&fv->mu);
  return n;
}

/* ---- throwaway PKI ------------------------------------------------------ */

/* Runs a shell command quietly in the PKI folder; 0 when it exited 0. */
static int pki_run(const struct fake_pki *pki, const char *cmd)
{
  char line[1024];
  snprintf(line, sizeof line, "cd '%s' && ( %s ) >/dev/null 2>&1", pki->dir, cmd);
  int rc = system(line);
  return rc == 0 ? 0 : -1;
}

/* Signs <name>.key/<name>.pem with the CA for the subjectAltName san. */
static int pki_leaf(const struct fake_pki *pki, const char *name, const char *san)
{
  char cmd[768];
  snprintf(cmd, sizeof cmd,
           "printf 'subjectAltName=%s\\nbasicConstraints=CA:FALSE\\n"
           "extendedKeyUsage=serverAuth\\n' > %s.ext && "
           "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
           "-keyout %s.key -out %s.csr -subj /CN=%s && "
           "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -set_serial %d "
           "-days 2 -sha256 -extfile %s.ext -out %s.pem",
           san, name, name, name, name, name, name[0] == 'o' ? 3 : 2, name, name);
  return pki_run(pki, cmd);
}

int fake_pki_make(struct fake_pki *pki)
{
  memset(pki, 0, sizeof *pki);
  if (system("openssl version >/dev/null 2>&1") != 0)
    return 77;
  snprintf(pki->dir, sizeof pki->dir, "/tmp/volsurf-pki-XXXXXX");
  if (!mkdtemp(pki->dir)) {
    pki->dir[0] = '\0';
    return -1;
  }
  snprintf(pki->ca, sizeof pki->ca, "%s/ca.pem", pki->dir);
  snprintf(pki->cert, sizeof pki->cert, "%s/server.pem", pki->dir);
  snprintf(pki->key, sizeof pki->key, "%s/server.key", pki->dir);
  snprintf(pki->other_cert, sizeof pki->other_cert, "%s/other.pem", pki->dir);
  snprintf(pki->other_key, sizeof pki->other_key, "%s/other.key", pki->dir);
  if (pki_run(pki, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                   "-keyout ca.key -out ca.pem -days 2 -sha256 -subj '/CN=volsurf test CA' "
                   "-addext basicConstraints=critical,CA:TRUE "
                   "-addext keyUsage=critical,keyCertSign,cRLSign") < 0 ||
      pki_leaf(pki, "server", "DNS:localhost,IP:127.0.0.1") < 0 ||
      pki_leaf(pki, "other", "DNS:other.invalid") < 0) {
    fake_pki_remove(pki);
    return -1;
  }
  return 0;
}

void fake_pki_remove(struct fake_pki *pki)
{
  if (!pki->dir[0])
    return;
  static const char *files[] = {"ca.pem",     "ca.key",    "server.pem", "server.key", "server.csr",
                                "server.ext", "other.pem", "other.key",  "other.csr",  "other.ext"};
  char path[160];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", pki->dir, files[i]);
    remove(path);
  }
  rmdir(pki->dir);
  pki->dir[0] = '\0';
}

static int is_expiry_key(const char *k)
{
  return k && (strcmp(k, "expiration_timestamp") == 0 || strcmp(k, "expTime") == 0 ||
               strcmp(k, "deliveryTime") == 0 || strcmp(k, "expiryDate") == 0);
}

static int row_is(const cJSON *row, const char *sym)
{
  static const char *names[] = {"instrument_name", "instId", "symbol"};
  for (int i = 0; i < 3; i++) {
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(row, names[i]);
    if (cJSON_IsString(s) && strcmp(s->valuestring, sym) == 0)
      return 1;
  }
  return 0;
}

static void rewrite(cJSON *node, int64_t expiry_ms, const char *drop)
{
  cJSON *child = node->child;
  while (child) {
    cJSON *next = child->next;
    if (drop && cJSON_IsArray(node) && cJSON_IsObject(child) && row_is(child, drop)) {
      cJSON_Delete(cJSON_DetachItemViaPointer(node, child));
    } else if (is_expiry_key(child->string) && cJSON_IsNumber(child)) {
      cJSON_SetNumberValue(child, (double)expiry_ms);
    } else if (is_expiry_key(child->string) && cJSON_IsString(child)) {
      char s[32];
      snprintf(s, sizeof s, "%lld", (long long)expiry_ms);
      cJSON_ReplaceItemInObjectCaseSensitive(node, child->string, cJSON_CreateString(s));
    } else {
      rewrite(child, expiry_ms, drop);
    }
    child = next;
  }
}

char *fake_json_rewrite(const char *json, long long id, int64_t expiry_ms, const char *drop_symbol)
{
  cJSON *root = cJSON_Parse(json);
  if (!root)
    return NULL;
  rewrite(root, expiry_ms, drop_symbol);
  if (id >= 0 && cJSON_IsObject(root)) {
    cJSON_DeleteItemFromObjectCaseSensitive(root, "id");
    cJSON_AddNumberToObject(root, "id", (double)id);
  }
  char *out = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  return out;
}

char *fake_fixture(const char *venue, const char *name, size_t *len)
{
  return feeds_fixture_read(venue, name, len);
}
