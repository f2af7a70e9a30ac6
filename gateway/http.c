/* http: the gateway's plain-HTTP answers (GET /healthz, GET /metrics) and
 * the Origin allow-list check of the websocket handshake.  Bodies carry
 * LWS_PRE bytes of headroom for lws_write.  I/O thread. */
#include "server.h"

#include <stdlib.h>
#include <string.h>

/* A body buffer: LWS_PRE headroom + text (NUL-terminated). */
static unsigned char *body_new(const char *text, size_t len)
{
  unsigned char *b = malloc(LWS_PRE + len + 1);
  if (b) {
    memcpy(b + LWS_PRE, text, len);
    b[LWS_PRE + len] = '\0';
  }
  return b;
}

unsigned char *gw_http_healthz(struct gateway *gw, size_t *len, int *status)
{
  char reason[160] = "";
  int ok = gw->cfg.health ? gw->cfg.health(gw->cfg.health_ctx, reason, sizeof(reason)) : 1;
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  cJSON_AddStringToObject(o, "status", ok ? "ok" : "unavailable");
  if (!ok)
    cJSON_AddStringToObject(o, "reason", reason[0] ? reason : "unhealthy");
  cJSON_AddNumberToObject(o, "clients", gw->n_peers);
  cJSON_AddNumberToObject(o, "surfaces", gw->n_surf);
  cJSON_AddNumberToObject(o, "epoch", (double)gw->epoch);
  char *txt = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!txt)
    return NULL;
  *len = strlen(txt);
  *status = ok ? 200 : 503;
  unsigned char *b = body_new(txt, *len);
  free(txt);
  return b;
}

unsigned char *gw_http_metrics(struct gateway *gw, size_t *len, int *status)
{
  *status = 200;
  gw_flush_metrics(gw);
  if (!gw->cfg.metrics) {
    *len = 0;
    return body_new("", 0);
  }
  /* the series may grow between sizing and rendering: retry a few times */
  size_t cap = 16384;
  for (int tries = 0; tries < 4; tries++) {
    unsigned char *b = malloc(LWS_PRE + cap);
    if (!b)
      return NULL;
    size_t n = metrics_render_prom(gw->cfg.metrics, (char *)b + LWS_PRE, cap);
    if (n < cap) {
      *len = n;
      return b;
    }
    free(b);
    cap = n + 4096;
  }
  return NULL;
}

int gw_origin_allowed(const struct gateway *gw, const char *origin)
{
  /* No list: any origin.  No Origin header: not a browser (tools, tests);
   * the allow-list exists to stop other sites' pages from connecting. */
  if (!gw->origins || !origin)
    return 1;
  size_t n = strlen(origin);
  const char *s = gw->origins;
  while (*s) {
    while (*s == ' ' || *s == ',')
      s++;
    const char *e = s;
    while (*e && *e != ',')
      e++;
    const char *t = e;
    while (t > s && t[-1] == ' ')
      t--;
    if ((size_t)(t - s) == n && n > 0 && memcmp(s, origin, n) == 0)
      return 1;
    s = e;
  }
  return 0;
}
