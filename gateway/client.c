/* client: per-client queue, subscriptions and slow-consumer rules of the
 * gateway (see client.h).
 *
 * Invariants: n <= cap_msgs; bytes is the sum of the queued messages'
 * lengths; a surface with want_snapshot set has no message in the queue;
 * busy_since_ms != 0 exactly when gwc_has_work. */
#include "client.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

struct gw_msg *gw_msg_new(const char *text, size_t len, int surf, int kind)
{
  struct gw_msg *m = malloc(sizeof(*m));
  if (!m)
    return NULL;
  m->buf = malloc(GW_MSG_PRE + len + 1);
  if (!m->buf) {
    free(m);
    return NULL;
  }
  memcpy(m->buf + GW_MSG_PRE, text, len);
  m->buf[GW_MSG_PRE + len] = '\0';
  m->refs = 1;
  m->surf = surf;
  m->kind = kind;
  m->len = len;
  return m;
}

unsigned char *gw_msg_text(const struct gw_msg *m)
{
  return m->buf + GW_MSG_PRE;
}

struct gw_msg *gw_msg_ref(struct gw_msg *m)
{
  m->refs++;
  return m;
}

void gw_msg_unref(struct gw_msg *m)
{
  if (!m || --m->refs > 0)
    return;
  free(m->buf);
  free(m);
}

int gwc_init(struct gw_client *c, int cap_msgs, size_t cap_bytes)
{
  memset(c, 0, sizeof(*c));
  if (cap_msgs <= 0 || cap_bytes == 0)
    return ERR_INPUT;
  c->ring = calloc((size_t)cap_msgs, sizeof(*c->ring));
  if (!c->ring)
    return ERR_NOMEM;
  c->cap_msgs = cap_msgs;
  c->cap_bytes = cap_bytes;
  return 0;
}

void gwc_fini(struct gw_client *c)
{
  if (!c)
    return;
  for (int i = 0; i < c->n; i++)
    gw_msg_unref(c->ring[(c->head + i) % c->cap_msgs]);
  free(c->ring);
  c->ring = NULL;
  c->n = 0;
  c->bytes = 0;
}

int gwc_has_work(const struct gw_client *c)
{
  if (c->n > 0)
    return 1;
  for (int i = 0; i < c->n_subs; i++)
    if (c->subs[i].want_snapshot)
      return 1;
  return 0;
}

/* Keeps busy_since_ms in step with gwc_has_work after any change. */
static void track_busy(struct gw_client *c, int64_t now_ms)
{
  if (!gwc_has_work(c))
    c->busy_since_ms = 0;
  else if (c->busy_since_ms == 0)
    c->busy_since_ms = now_ms > 0 ? now_ms : 1;
}

/* Drops surf's queued messages, keeping the order of the rest. */
static void drop_surface(struct gw_client *c, int surf)
{
  int kept = 0;
  for (int i = 0; i < c->n; i++) {
    struct gw_msg *m = c->ring[(c->head + i) % c->cap_msgs];
    if (m->surf == surf) {
      c->bytes -= m->len;
      gw_msg_unref(m);
      continue;
    }
    c->ring[(c->head + kept) % c->cap_msgs] = m;
    kept++;
  }
  c->n = kept;
}

struct gw_sub *gwc_sub(struct gw_client *c, int surf)
{
  for (int i = 0; i < c->n_subs; i++)
    if (c->subs[i].surf == surf)
      return &c->subs[i];
  return NULL;
}

int gwc_subscribe(struct gw_client *c, int surf, int64_t now_ms)
{
  struct gw_sub *s = gwc_sub(c, surf);
  if (!s) {
    if (c->n_subs == PROTO_MAX_SUBS)
      return ERR_FULL;
    s = &c->subs[c->n_subs++];
    s->surf = surf;
  }
  drop_surface(c, surf);
  s->want_snapshot = 1;
  track_busy(c, now_ms);
  return 0;
}

int gwc_resync(struct gw_client *c, int surf, int64_t now_ms)
{
  struct gw_sub *s = gwc_sub(c, surf);
  if (!s)
    return ERR_BADSTATE;
  drop_surface(c, surf);
  s->want_snapshot = 1;
  track_busy(c, now_ms);
  return 0;
}

void gwc_unsubscribe(struct gw_client *c, int surf, int64_t now_ms)
{
  struct gw_sub *s = gwc_sub(c, surf);
  if (!s)
    return;
  drop_surface(c, surf);
  *s = c->subs[--c->n_subs];
  track_busy(c, now_ms);
}

/* Records one conflation; 1 when there were more than GW_CONFLATE_LIMIT
 * within GW_CONFLATE_WINDOW_MS. */
static int conflated_too_often(struct gw_client *c, int64_t now_ms)
{
  c->conflate_ms[c->n_conflations % (GW_CONFLATE_LIMIT + 1)] = now_ms;
  c->n_conflations++;
  if (c->n_conflations <= GW_CONFLATE_LIMIT)
    return 0;
  /* the oldest of the last LIMIT+1 conflations sits in the next ring slot */
  int64_t oldest = c->conflate_ms[c->n_conflations % (GW_CONFLATE_LIMIT + 1)];
  return now_ms - oldest < GW_CONFLATE_WINDOW_MS;
}

int gwc_push(struct gw_client *c, struct gw_msg *m, int64_t now_ms)
{
  struct gw_sub *s = NULL;
  if (m->surf >= 0) {
    s = gwc_sub(c, m->surf);
    if (!s || s->want_snapshot)
      return GWC_SKIPPED;
  }
  int fits = c->n == 0 || (c->n < c->cap_msgs && c->bytes + m->len <= c->cap_bytes);
  if (fits) {
    c->ring[(c->head + c->n) % c->cap_msgs] = gw_msg_ref(m);
    c->n++;
    c->bytes += m->len;
    track_busy(c, now_ms);
    return GWC_QUEUED;
  }
  if (!s)
    return GWC_DROPPED;
  drop_surface(c, m->surf);
  s->want_snapshot = 1;
  track_busy(c, now_ms);
  if (conflated_too_often(c, now_ms)) {
    c->close_code = 4000;
    return GWC_CLOSE;
  }
  return GWC_CONFLATED;
}

int gwc_take_snapshot_due(struct gw_client *c, int64_t now_ms)
{
  for (int i = 0; i < c->n_subs; i++) {
    if (c->subs[i].want_snapshot) {
      c->subs[i].want_snapshot = 0;
      track_busy(c, now_ms);
      return c->subs[i].surf;
    }
  }
  return -1;
}

struct gw_msg *gwc_pop(struct gw_client *c, int64_t now_ms)
{
  if (c->n == 0)
    return NULL;
  struct gw_msg *m = c->ring[c->head];
  c->head = (c->head + 1) % c->cap_msgs;
  c->n--;
  c->bytes -= m->len;
  track_busy(c, now_ms);
  return m;
}

int gwc_check_stuck(struct gw_client *c, int64_t now_ms)
{
  if (c->busy_since_ms != 0 && now_ms - c->busy_since_ms >= GW_STUCK_MS) {
    c->close_code = 4000;
    return 1;
  }
  return 0;
}
