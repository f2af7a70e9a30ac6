/* protocol: the surface document, merge patches, checksum and messages of
 * protocol v1 (docs/protocol.md).  Pure functions over cJSON trees.
 *
 * Numbers are rounded here, once, to the precision a trader reads; cJSON then
 * prints the shortest text that round-trips (%.15g first), so the rounded
 * values print without trailing zeros and the printed text is stable. */
#include "protocol.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derived.h"
#include "err.h"

static const char *err_codes[PROTO_N_ERR] = {"ok",        "too_big",         "bad_json", "bad_type",
                                             "bad_field", "unknown_surface", "too_many"};
static const char *err_msgs[PROTO_N_ERR] = {"ok",
                                            "frame larger than max_message",
                                            "frame is not a JSON object",
                                            "missing or unknown type",
                                            "a member is missing or has the wrong type",
                                            "no such surface",
                                            "more than 64 subscriptions"};

const char *proto_err_code(int e)
{
  return (e >= 0 && e < PROTO_N_ERR) ? err_codes[e] : "bad_json";
}

const char *proto_err_message(int e)
{
  return (e >= 0 && e < PROTO_N_ERR) ? err_msgs[e] : "refused";
}

/* ---- rounding (round-half-away-from-zero on the double value) ---- */

static double round_dec(double x, int decimals)
{
  double s = pow(10.0, decimals);
  double r = round(x * s) / s;
  return r == 0.0 ? 0.0 : r; /* no "-0" */
}

static double round_sig(double x, int digits)
{
  if (x == 0.0 || !isfinite(x))
    return 0.0;
  int e = (int)floor(log10(fabs(x)));
  int dec = digits - 1 - e;
  if (dec >= 0)
    return round_dec(x, dec);
  double s = pow(10.0, -dec);
  return round(x / s) * s;
}

/* Adds a rounded number member unless x is NaN/Inf (absent, never null). */
static void add_dec(cJSON *o, const char *k, double x, int decimals)
{
  if (isfinite(x))
    cJSON_AddNumberToObject(o, k, round_dec(x, decimals));
}

static void add_sig(cJSON *o, const char *k, double x, int digits)
{
  if (isfinite(x))
    cJSON_AddNumberToObject(o, k, round_sig(x, digits));
}

/* Array element: null inside arrays stands for a missing value. */
static cJSON *num_or_null(double x, int decimals, int sig)
{
  if (!isfinite(x))
    return cJSON_CreateNull();
  return cJSON_CreateNumber(sig ? round_sig(x, decimals) : round_dec(x, decimals));
}

static const char *forward_src_name(int src)
{
  return src == SLICE_FWD_PARITY ? "parity" : src == SLICE_FWD_INDEX ? "index" : "quote";
}

static void add_status(cJSON *e, unsigned st)
{
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {{SVI_LM_CONVERGED, "converged"},
               {SVI_LM_MAX_ITER, "max_iter"},
               {SVI_LM_TOO_FEW, "too_few"},
               {SVI_LM_BOUND, "bound"},
               {SVI_LM_NONFINITE, "nonfinite"},
               {SVI_LM_WARM, "warm"},
               {FIT_BUTTERFLY, "butterfly"},
               {FIT_CALENDAR, "calendar"},
               {FIT_LEE, "lee"},
               {FIT_POOR, "poor"},
               {FIT_STALE, "stale"}};
  cJSON *a = cJSON_AddArrayToObject(e, "status");
  for (size_t i = 0; a && i < sizeof(names) / sizeof(names[0]); i++)
    if (st & names[i].bit)
      cJSON_AddItemToArray(a, cJSON_CreateString(names[i].name));
}

/* The derived quantities shared by expiries and nodes (vols, 4 decimals). */
static void add_derived(cJSON *o, const struct derived *d)
{
  add_dec(o, "atm", d->atm_vol, 4);
  add_dec(o, "rr25", d->rr25, 4);
  add_dec(o, "fly25", d->fly25, 4);
  add_dec(o, "rr10", d->rr10, 4);
  add_dec(o, "fly10", d->fly10, 4);
}

static void add_diag(cJSON *e, const struct surface_expiry *x)
{
  const struct diag *d = &x->diag;
  cJSON *o = cJSON_AddObjectToObject(e, "diag");
  if (!o)
    return;
  cJSON_AddNumberToObject(o, "n", x->fit.n_points);
  cJSON_AddNumberToObject(o, "iter", x->fit.n_iter);
  add_dec(o, "rmse_vp", d->rmse_vol * 100.0, 2);
  add_dec(o, "max_vp", d->max_err_vol * 100.0, 2);
  add_dec(o, "inside", d->inside_share, 3);
  add_dec(o, "fit_us", x->fit.fit_time_us, 1);
  add_dec(o, "g_min", d->arb.g_min, 4);
  cJSON *b = cJSON_AddArrayToObject(o, "butterfly");
  int nb = d->arb.n_intervals < SVI_ARB_MAX_INTERVALS ? d->arb.n_intervals : SVI_ARB_MAX_INTERVALS;
  for (int i = 0; b && i < nb; i++) {
    cJSON *iv = cJSON_CreateArray();
    cJSON_AddItemToArray(iv, num_or_null(d->arb.lo[i], 4, 0));
    cJSON_AddItemToArray(iv, num_or_null(d->arb.hi[i], 4, 0));
    cJSON_AddItemToArray(b, iv);
  }
  cJSON_AddBoolToObject(o, "lee", d->lee_ok != 0);
  cJSON_AddBoolToObject(o, "calendar_prev", d->calendar_prev != 0);
  cJSON_AddBoolToObject(o, "calendar_next", d->calendar_next != 0);
}

static void add_points(cJSON *e, const struct surface_expiry *x)
{
  cJSON *o = cJSON_AddObjectToObject(e, "points");
  if (!o)
    return;
  static const char *names[5] = {"strike", "k", "bid", "ask", "mark"};
  for (int f = 0; f < 5; f++) {
    cJSON *a = cJSON_AddArrayToObject(o, names[f]);
    for (int i = 0; a && i < x->n_points; i++) {
      const struct surface_point *p = &x->points[i];
      double v = f == 0   ? p->strike
                 : f == 1 ? p->k
                 : f == 2 ? p->iv_bid
                 : f == 3 ? p->iv_ask
                          : p->iv_mark;
      cJSON_AddItemToArray(a, f == 0 ? num_or_null(v, 8, 1) : num_or_null(v, 4, 0));
    }
  }
}

static cJSON *render_expiry(const struct surface_expiry *x)
{
  cJSON *e = cJSON_CreateObject();
  if (!e)
    return NULL;
  cJSON_AddNumberToObject(e, "expiry", (double)(x->expiry_us / 1000));
  add_dec(e, "T", x->T_years, 6);
  add_sig(e, "forward", x->forward, 8);
  cJSON_AddStringToObject(e, "forward_src", forward_src_name(x->forward_src));
  if (x->has_fit) {
    cJSON *p = cJSON_AddObjectToObject(e, "svi");
    add_dec(p, "a", x->p.a, 8);
    add_dec(p, "b", x->p.b, 8);
    add_dec(p, "rho", x->p.rho, 8);
    add_dec(p, "m", x->p.m, 8);
    add_dec(p, "sigma", x->p.sigma, 8);
    add_derived(e, &x->dv);
  }
  cJSON_AddBoolToObject(e, "usable", x->usable != 0);
  add_status(e, x->fit.status);
  if (x->has_fit || x->fit.status != 0)
    add_diag(e, x);
  cJSON *r = cJSON_AddObjectToObject(e, "rejected");
  if (r) {
    cJSON_AddNumberToObject(r, "no_bid", x->rej.n_no_bid);
    cJSON_AddNumberToObject(r, "crossed", x->rej.n_crossed);
    cJSON_AddNumberToObject(r, "iv_capped", x->rej.n_iv_capped);
    cJSON_AddNumberToObject(r, "deep_wing", x->rej.n_deep_wing);
    cJSON_AddNumberToObject(r, "stale", x->rej.n_stale);
    cJSON_AddNumberToObject(r, "invalid", x->rej.n_invalid);
  }
  add_points(e, x);
  if (x->quote_ts_us > 0)
    cJSON_AddNumberToObject(e, "quote_time", (double)(x->quote_ts_us / 1000));
  if (x->fit_ts_us > 0)
    cJSON_AddNumberToObject(e, "fit_time", (double)(x->fit_ts_us / 1000));
  cJSON_AddBoolToObject(e, "stale", x->stale != 0);
  return e;
}

cJSON *proto_render(const struct surface *s)
{
  cJSON *d = cJSON_CreateObject();
  if (!d)
    return NULL;
  cJSON_AddStringToObject(d, "id", s->id);
  cJSON_AddStringToObject(d, "venue", s->venue);
  cJSON_AddStringToObject(d, "asset", s->asset);
  cJSON_AddNumberToObject(d, "as_of", (double)(s->as_of_us / 1000));
  add_sig(d, "index", s->index_price, 8);
  cJSON_AddBoolToObject(d, "stale", s->stale != 0);
  cJSON_AddStringToObject(d, "delta_convention", derived_delta_conv_name(s->delta_conv));
  cJSON *ex = cJSON_AddObjectToObject(d, "expiries");
  for (int i = 0; ex && i < s->n_expiries; i++) {
    const struct surface_expiry *x = &s->exp[i];
    /* Two expiries with one code cannot both be keyed: the first wins. */
    if (x->code[0] == '\0' || cJSON_GetObjectItemCaseSensitive(ex, x->code))
      continue;
    cJSON *e = render_expiry(x);
    if (e)
      cJSON_AddItemToObject(ex, x->code, e);
  }
  cJSON *nodes = cJSON_AddObjectToObject(d, "nodes");
  for (int i = 0; nodes && i < DERIVED_N_NODES; i++) {
    const struct derived_node *nd = &s->nodes[i];
    if (!nd->valid)
      continue;
    cJSON *o = cJSON_CreateObject();
    add_dec(o, "T", nd->T_years, 6);
    add_derived(o, &nd->d);
    cJSON_AddBoolToObject(o, "extrapolated", nd->extrapolated != 0);
    cJSON_AddItemToObject(nodes, derived_node_name(i), o);
  }
  /* cJSON's Add* helpers fail silently: check that nothing was lost. */
  if (!ex || !nodes) {
    cJSON_Delete(d);
    return NULL;
  }
  return d;
}

/* ---- merge patches ---- */

int proto_equal(const cJSON *a, const cJSON *b)
{
  if (!a || !b)
    return a == b;
  int ta = a->type & 0xff, tb = b->type & 0xff;
  if (ta != tb)
    return 0;
  switch (ta) {
  case cJSON_Number:
    return a->valuedouble == b->valuedouble;
  case cJSON_String:
    return strcmp(a->valuestring, b->valuestring) == 0;
  case cJSON_Array: {
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
      if (!proto_equal(x, y))
        return 0;
    return x == NULL && y == NULL;
  }
  case cJSON_Object: {
    int na = 0, nb = 0;
    for (const cJSON *x = a->child; x; x = x->next, na++)
      if (!proto_equal(x, cJSON_GetObjectItemCaseSensitive(b, x->string)))
        return 0;
    for (const cJSON *y = b->child; y; y = y->next)
      nb++;
    return na == nb;
  }
  default: /* true, false, null: the type says it all */
    return 1;
  }
}

cJSON *proto_diff(const cJSON *from, const cJSON *to)
{
  if (!cJSON_IsObject(from) || !cJSON_IsObject(to))
    return NULL;
  cJSON *p = cJSON_CreateObject();
  if (!p)
    return NULL;
  for (const cJSON *x = from->child; x; x = x->next)
    if (!cJSON_GetObjectItemCaseSensitive(to, x->string))
      if (!cJSON_AddNullToObject(p, x->string))
        goto fail;
  for (const cJSON *y = to->child; y; y = y->next) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(from, y->string);
    cJSON *v = NULL;
    if (x && cJSON_IsObject(x) && cJSON_IsObject(y)) {
      v = proto_diff(x, y);
      if (!v)
        goto fail;
      if (!v->child) { /* unchanged */
        cJSON_Delete(v);
        continue;
      }
    } else if (x && proto_equal(x, y)) {
      continue;
    } else {
      v = cJSON_Duplicate(y, 1);
      if (!v)
        goto fail;
    }
    cJSON_AddItemToObject(p, y->string, v);
  }
  return p;
fail:
  cJSON_Delete(p);
  return NULL;
}

static int merge_into(cJSON *target, const cJSON *patch);

/* The value a patch member sets where the target has no object to merge
 * into: a copy of it, with null members of nested objects removed. */
static cJSON *patch_value(const cJSON *m)
{
  if (!cJSON_IsObject(m))
    return cJSON_Duplicate(m, 1);
  cJSON *o = cJSON_CreateObject();
  if (o && merge_into(o, m) != 0) {
    cJSON_Delete(o);
    o = NULL;
  }
  return o;
}

/* RFC 7396 MergePatch of object 'patch' into object 'target', in place
 * (member order kept: a replaced member keeps its position). */
static int merge_into(cJSON *target, const cJSON *patch)
{
  for (const cJSON *m = patch->child; m; m = m->next) {
    if (cJSON_IsNull(m)) {
      cJSON_DeleteItemFromObjectCaseSensitive(target, m->string);
      continue;
    }
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(target, m->string);
    if (cur && cJSON_IsObject(cur) && cJSON_IsObject(m)) {
      if (merge_into(cur, m) != 0)
        return ERR_NOMEM;
      continue;
    }
    cJSON *v = patch_value(m);
    if (!v)
      return ERR_NOMEM;
    if (cur)
      cJSON_ReplaceItemInObjectCaseSensitive(target, m->string, v);
    else
      cJSON_AddItemToObject(target, m->string, v);
  }
  return 0;
}

int proto_apply(cJSON **target, const cJSON *patch)
{
  if (!cJSON_IsObject(patch)) {
    cJSON_Delete(*target);
    *target = cJSON_Duplicate(patch, 1);
    return *target ? 0 : ERR_NOMEM;
  }
  if (!cJSON_IsObject(*target)) {
    cJSON_Delete(*target);
    *target = cJSON_CreateObject();
    if (!*target)
      return ERR_NOMEM;
  }
  return merge_into(*target, patch);
}

int proto_has_null_member(const cJSON *doc)
{
  if (!doc)
    return 0;
  for (const cJSON *c = doc->child; c; c = c->next) {
    if (cJSON_IsObject(doc) && cJSON_IsNull(c))
      return 1;
    if (proto_has_null_member(c))
      return 1;
  }
  return 0;
}

/* ---- checksum ---- */

uint32_t proto_fnv1a(const void *p, size_t n)
{
  const unsigned char *b = p;
  uint32_t h = 0x811c9dc5u;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 0x01000193u;
  }
  return h;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void cat(char *buf, size_t cap, size_t *len, const char *s)
{
  size_t n = strlen(s);
  if (*len + n < cap)
    memcpy(buf + *len, s, n + 1);
  *len += n;
}

int proto_canonical(const cJSON *doc, char *buf, size_t cap)
{
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(doc, "id");
  if (!cJSON_IsString(id))
    return ERR_INPUT;
  if (cap)
    buf[0] = '\0';
  size_t len = 0;
  cat(buf, cap, &len, id->valuestring);
  cat(buf, cap, &len, "\n");
  const cJSON *ex = cJSON_GetObjectItemCaseSensitive(doc, "expiries");
  int n = cJSON_IsObject(ex) ? cJSON_GetArraySize(ex) : 0;
  const char **codes = n ? malloc((size_t)n * sizeof(*codes)) : NULL;
  if (n && !codes)
    return ERR_NOMEM;
  int i = 0;
  for (const cJSON *e = n ? ex->child : NULL; e; e = e->next)
    codes[i++] = e->string;
  if (n > 0)
    qsort(codes, (size_t)n, sizeof(*codes), cmp_str);
  static const char *pn[5] = {"a", "b", "rho", "m", "sigma"};
  for (i = 0; i < n; i++) {
    cat(buf, cap, &len, codes[i]);
    const cJSON *svi =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ex, codes[i]), "svi");
    if (!cJSON_IsObject(svi)) {
      cat(buf, cap, &len, "|-\n");
      continue;
    }
    for (int k = 0; k < 5; k++) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(svi, pn[k]);
      double x = cJSON_IsNumber(v) ? v->valuedouble : 0.0;
      char num[32];
      snprintf(num, sizeof(num), "|%lld", (long long)llround(x * 1e8));
      cat(buf, cap, &len, num);
    }
    cat(buf, cap, &len, "\n");
  }
  free(codes);
  return (int)len;
}

int proto_checksum(const cJSON *doc, char out[PROTO_CHECKSUM_LEN])
{
  char small[4096];
  int n = proto_canonical(doc, small, sizeof(small));
  if (n < 0)
    return n;
  char *buf = small;
  if ((size_t)n >= sizeof(small)) {
    buf = malloc((size_t)n + 1);
    if (!buf)
      return ERR_NOMEM;
    proto_canonical(doc, buf, (size_t)n + 1);
  }
  snprintf(out, PROTO_CHECKSUM_LEN, "%08x", (unsigned)proto_fnv1a(buf, (size_t)n));
  if (buf != small)
    free(buf);
  return 0;
}

/* ---- server messages ---- */

/* Prints o unformatted and frees it (the tree only holds references to
 * borrowed data, which cJSON_Delete leaves alone). */
static char *print_free(cJSON *o, size_t *len)
{
  char *s = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (s)
    *len = strlen(s);
  return s;
}

char *proto_encode_surface_msg(const char *type, const struct proto_head *h, const cJSON *data,
                               size_t *len)
{
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  cJSON_AddStringToObject(o, "type", type);
  cJSON_AddNumberToObject(o, "time", (double)h->time_ms);
  cJSON_AddStringToObject(o, "surface", h->surface);
  cJSON_AddNumberToObject(o, "epoch", (double)h->epoch);
  cJSON_AddNumberToObject(o, "seq", (double)h->seq);
  cJSON_AddNumberToObject(o, "prev", (double)h->prev);
  cJSON_AddStringToObject(o, "checksum", h->checksum);
  cJSON_AddItemReferenceToObject(o, "data", (cJSON *)data);
  return print_free(o, len);
}

char *proto_encode_hello(const char *server, int64_t epoch, int heartbeat_ms, size_t max_message,
                         int64_t time_ms, size_t *len)
{
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  cJSON_AddStringToObject(o, "type", "hello");
  cJSON_AddNumberToObject(o, "time", (double)time_ms);
  cJSON_AddNumberToObject(o, "protocol", PROTO_VERSION);
  cJSON_AddStringToObject(o, "server", server);
  cJSON_AddNumberToObject(o, "epoch", (double)epoch);
  cJSON_AddNumberToObject(o, "heartbeat_ms", heartbeat_ms);
  cJSON_AddNumberToObject(o, "max_message", (double)max_message);
  return print_free(o, len);
}

char *proto_encode_surfaces(const char *type, const struct proto_surface_info *s, int n, int has_id,
                            int64_t id, int64_t time_ms, size_t *len)
{
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  cJSON_AddStringToObject(o, "type", type);
  cJSON_AddNumberToObject(o, "time", (double)time_ms);
  if (has_id)
    cJSON_AddNumberToObject(o, "id", (double)id);
  cJSON *a = cJSON_AddArrayToObject(o, "surfaces");
  for (int i = 0; a && i < n; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", s[i].id);
    cJSON_AddStringToObject(e, "venue", s[i].venue);
    cJSON_AddStringToObject(e, "asset", s[i].asset);
    cJSON_AddNumberToObject(e, "expiries", s[i].n_expiries);
    cJSON_AddNumberToObject(e, "seq", (double)s[i].seq);
    cJSON_AddBoolToObject(e, "stale", s[i].stale != 0);
    cJSON_AddItemToArray(a, e);
  }
  return print_free(o, len);
}

/* Appends a JSON string of an id: ids are [A-Za-z0-9_.-]; anything else is
 * escaped as \u00XX so that the output is always valid JSON. */
static void put_json_str(char *buf, size_t cap, size_t *len, const char *s)
{
  char tmp[8];
  cat(buf, cap, len, "\"");
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) {
      snprintf(tmp, sizeof(tmp), "\\u%04x", c);
    } else {
      tmp[0] = (char)c;
      tmp[1] = '\0';
    }
    cat(buf, cap, len, tmp);
  }
  cat(buf, cap, len, "\"");
}

size_t proto_encode_heartbeat(const struct proto_hb *h, int n, int64_t time_ms, char *buf,
                              size_t cap)
{
  size_t len = 0;
  char num[64];
  if (cap)
    buf[0] = '\0';
  snprintf(num, sizeof(num), "%lld", (long long)time_ms);
  cat(buf, cap, &len, "{\"type\":\"heartbeat\",\"time\":");
  cat(buf, cap, &len, num);
  cat(buf, cap, &len, ",\"surfaces\":{");
  for (int i = 0; i < n; i++) {
    if (i)
      cat(buf, cap, &len, ",");
    put_json_str(buf, cap, &len, h[i].id);
    snprintf(num, sizeof(num), ":{\"seq\":%llu,\"stale\":%s}", (unsigned long long)h[i].seq,
             h[i].stale ? "true" : "false");
    cat(buf, cap, &len, num);
  }
  cat(buf, cap, &len, "}}");
  return len;
}

char *proto_encode_error(int err, int has_id, int64_t id, int64_t time_ms, size_t *len)
{
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  cJSON_AddStringToObject(o, "type", "error");
  cJSON_AddNumberToObject(o, "time", (double)time_ms);
  cJSON_AddStringToObject(o, "code", proto_err_code(err));
  cJSON_AddStringToObject(o, "message", proto_err_message(err));
  if (has_id)
    cJSON_AddNumberToObject(o, "id", (double)id);
  return print_free(o, len);
}

/* ---- client messages ---- */

static int copy_id(const cJSON *v, char out[SURFACE_ID_LEN])
{
  if (!cJSON_IsString(v))
    return PROTO_BAD_FIELD;
  size_t n = strlen(v->valuestring);
  if (n >= SURFACE_ID_LEN)
    n = 0; /* too long to name any surface: reported as unknown */
  memcpy(out, v->valuestring, n);
  out[n] = '\0';
  return PROTO_OK;
}

static int parse_fields(const cJSON *o, struct proto_req *out)
{
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
  if (id) {
    /* ids are integers that survive a round trip through a double */
    if (!cJSON_IsNumber(id) || id->valuedouble != floor(id->valuedouble) ||
        fabs(id->valuedouble) > 9007199254740992.0)
      return PROTO_BAD_FIELD;
    out->has_id = 1;
    out->id = (int64_t)id->valuedouble;
  }
  const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
  if (!cJSON_IsString(t))
    return PROTO_BAD_TYPE;
  if (strcmp(t->valuestring, "list") == 0) {
    out->type = PROTO_REQ_LIST;
    return PROTO_OK;
  }
  if (strcmp(t->valuestring, "resync") == 0) {
    out->type = PROTO_REQ_RESYNC;
    out->n_surfaces = 1;
    return copy_id(cJSON_GetObjectItemCaseSensitive(o, "surface"), out->surfaces[0]);
  }
  if (strcmp(t->valuestring, "subscribe") == 0)
    out->type = PROTO_REQ_SUBSCRIBE;
  else if (strcmp(t->valuestring, "unsubscribe") == 0)
    out->type = PROTO_REQ_UNSUBSCRIBE;
  else
    return PROTO_BAD_TYPE;
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "surfaces");
  if (!cJSON_IsArray(a))
    return PROTO_BAD_FIELD;
  for (const cJSON *e = a->child; e; e = e->next) {
    if (out->n_surfaces == PROTO_MAX_SUBS)
      return PROTO_TOO_MANY;
    int rc = copy_id(e, out->surfaces[out->n_surfaces]);
    if (rc != PROTO_OK)
      return rc;
    out->n_surfaces++;
  }
  return PROTO_OK;
}

int proto_parse_request(const char *buf, size_t len, size_t max, struct proto_req *out)
{
  memset(out, 0, sizeof(*out));
  if (len > max)
    return PROTO_TOO_BIG;
  const char *end = NULL;
  cJSON *o = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    return PROTO_BAD_JSON;
  }
  /* trailing bytes other than whitespace make the frame malformed */
  for (; end && end < buf + len; end++)
    if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
      cJSON_Delete(o);
      return PROTO_BAD_JSON;
    }
  int rc = parse_fields(o, out);
  cJSON_Delete(o);
  return rc;
}
