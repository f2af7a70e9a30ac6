/* norm: sentinel rules, string numbers, the size cap and the rejection
 * counters shared by the four venue normalizers (see norm.h). */
#include "norm.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

void feeds_batch_init(struct feeds_batch *b, struct quote *quotes, unsigned *flags, int cap)
{
  b->quotes = quotes;
  b->flags = flags;
  b->cap = quotes ? cap : 0;
  feeds_batch_reset(b);
}

void feeds_batch_reset(struct feeds_batch *b)
{
  b->n = 0;
  b->msg = FEEDS_MSG_REJECTED;
  b->reject = -1;
  b->id = -1;
  b->error_code = 0;
  b->n_rows_bad = 0;
}

const char *feeds_reject_name(int reason)
{
  static const char *const names[FEEDS_REJ_N] = {"too_big", "json",   "shape", "field",
                                                 "symbol",  "closed", "full",  "unknown"};
  if (reason < 0 || reason >= FEEDS_REJ_N)
    return "invalid";
  return names[reason];
}

void norm_reject(struct feeds_batch *b, struct feeds_stats *st, int reason)
{
  b->msg = FEEDS_MSG_REJECTED;
  b->reject = reason;
  b->n = 0;
  st->n_rejected[reason]++;
}

void norm_reject_row(struct feeds_batch *b, struct feeds_stats *st, int reason)
{
  b->n_rows_bad++;
  st->n_rejected[reason]++;
}

/* The arena (norm.h): cJSON's hooks are process-wide, so they bump-allocate
 * only inside norm_json_parse's cJSON_Parse on this thread, and otherwise
 * (other threads, other cJSON calls such as printing, a tree over the
 * arena) use malloc/free.  A pointer is freed with free() unless it lies in
 * this thread's arena.  The arena is emptied only when no tree of this
 * thread is alive (depth 0), so a parse inside another tree's lifetime
 * cannot overwrite it. */
struct arena {
  unsigned char *base;
  size_t used;
  int depth;   /* trees parsed and not yet freed */
  int parsing; /* inside cJSON_Parse */
};
static pthread_key_t arena_key;
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;
static _Thread_local struct arena *arena_tls;

static void arena_destroy(void *p)
{
  struct arena *a = p;
  free(a->base);
  free(a);
}

static void *arena_malloc(size_t n)
{
  struct arena *a = arena_tls;
  size_t need = (n + 15) & ~(size_t)15;
  if (a && a->parsing && need >= n && need <= NORM_ARENA_BYTES - a->used) {
    void *p = a->base + a->used;
    a->used += need;
    return p;
  }
  return malloc(n);
}

static void arena_free(void *p)
{
  struct arena *a = arena_tls;
  if (a && (unsigned char *)p >= a->base && (unsigned char *)p < a->base + NORM_ARENA_BYTES)
    return;
  free(p);
}

static void arena_init(void)
{
  pthread_key_create(&arena_key, arena_destroy);
  cJSON_Hooks h = {arena_malloc, arena_free};
  cJSON_InitHooks(&h);
}

void norm_json_init(void)
{
  pthread_once(&arena_once, arena_init);
}

/* This thread's arena, opened (and emptied when nothing of it is in use);
 * NULL (plain malloc) if it cannot be had. */
static struct arena *arena_open(void)
{
  norm_json_init();
  struct arena *a = arena_tls;
  if (!a) {
    a = calloc(1, sizeof(*a));
    if (a)
      a->base = malloc(NORM_ARENA_BYTES);
    if (!a || !a->base || pthread_setspecific(arena_key, a) != 0) {
      if (a)
        free(a->base);
      free(a);
      return NULL;
    }
    arena_tls = a;
  }
  if (a->depth == 0)
    a->used = 0;
  a->depth++;
  return a;
}

struct cJSON *norm_json_parse(const char *msg, size_t len, size_t cap, struct feeds_batch *b,
                              struct feeds_stats *st)
{
  feeds_batch_reset(b);
  st->n_messages++;
  if (len > cap) {
    norm_reject(b, st, FEEDS_REJ_TOO_BIG);
    return NULL;
  }
  if (!msg || len == 0) {
    norm_reject(b, st, FEEDS_REJ_JSON);
    return NULL;
  }
  struct arena *a = arena_open();
  if (a)
    a->parsing = 1;
  cJSON *root = cJSON_ParseWithLength(msg, len);
  if (a)
    a->parsing = 0;
  if (!root) {
    norm_json_free(NULL);
    norm_reject(b, st, FEEDS_REJ_JSON);
    return NULL;
  }
  return root;
}

void norm_json_free(struct cJSON *root)
{
  cJSON_Delete(root);
  if (arena_tls && arena_tls->depth > 0)
    arena_tls->depth--;
}

struct quote *norm_next_quote(struct feeds_batch *b, struct feeds_stats *st, const char *venue,
                              int64_t local_ts_us)
{
  if (b->n >= b->cap) {
    norm_reject_row(b, st, FEEDS_REJ_FULL);
    return NULL;
  }
  struct quote *q = &b->quotes[b->n];
  quote_init(q);
  norm_copy_n(q->venue, sizeof q->venue, venue, strlen(venue));
  q->local_ts_us = local_ts_us;
  return q;
}

void norm_commit_quote(struct feeds_batch *b, struct feeds_stats *st, unsigned flags)
{
  if (b->flags)
    b->flags[b->n] = flags;
  if (flags & FEEDS_QF_EXPIRY_FROM_SYMBOL)
    st->n_expiry_from_symbol++;
  b->n++;
  st->n_quotes++;
}

int norm_parse_number(const char *s, double *out)
{
  *out = NAN;
  if (!s || !*s)
    return ERR_PARSE;
  /* strtod accepts leading spaces, "inf", "nan" and hex; venues send none of
   * these, so anything but a plain decimal is treated as malformed. */
  char c = s[0];
  if (!(c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')))
    return ERR_PARSE;
  for (const char *p = s; *p; p++) {
    if (*p == 'x' || *p == 'X' || *p == 'n' || *p == 'N' || *p == 'i' || *p == 'I')
      return ERR_PARSE;
  }
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
    return ERR_PARSE;
  *out = v;
  return 0;
}

static int num_of(const cJSON *it, double *out)
{
  *out = NAN;
  if (cJSON_IsNumber(it)) {
    if (!isfinite(it->valuedouble))
      return ERR_PARSE;
    *out = it->valuedouble;
    return 0;
  }
  if (cJSON_IsString(it))
    return norm_parse_number(it->valuestring, out);
  return ERR_PARSE;
}

double norm_num(const struct cJSON *obj, const char *name)
{
  double v;
  num_of(cJSON_GetObjectItemCaseSensitive(obj, name), &v);
  return v;
}

int norm_num_required(const struct cJSON *obj, const char *name, double *out)
{
  return num_of(cJSON_GetObjectItemCaseSensitive(obj, name), out);
}

double norm_price(double x)
{
  return x > 0.0 ? x : NAN; /* also maps NaN to NaN */
}

double norm_iv(double x, double scale)
{
  double v = x * scale;
  if (!(v > 0.0) || v >= FEEDS_IV_CAP)
    return NAN;
  return v;
}

long long norm_int(double x, long long dflt)
{
  if (!(fabs(x) <= 9007199254740992.0))
    return dflt;
  return (long long)x;
}

int64_t norm_ms_to_us(double ms)
{
  if (!isfinite(ms) || ms < 0.0 || ms > 9.0e15)
    return 0;
  return (int64_t)llround(ms) * 1000;
}

int norm_copy_n(char *dst, size_t cap, const char *s, size_t len)
{
  if (cap == 0)
    return ERR_PARSE;
  if (len >= cap) {
    dst[0] = '\0';
    return ERR_PARSE;
  }
  memcpy(dst, s, len);
  dst[len] = '\0';
  return 0;
}

int norm_copy_str(const struct cJSON *obj, const char *name, char *dst, size_t cap)
{
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (cap)
    dst[0] = '\0';
  if (!cJSON_IsString(it) || !it->valuestring[0])
    return ERR_PARSE;
  return norm_copy_n(dst, cap, it->valuestring, strlen(it->valuestring));
}

int norm_parse_strike(const char *s, size_t len, char sep, double *out)
{
  char buf[32];
  int n_sep = 0, n_digits = 0;
  *out = NAN;
  if (len == 0 || len >= sizeof buf)
    return ERR_PARSE;
  for (size_t i = 0; i < len; i++) {
    if (s[i] >= '0' && s[i] <= '9') {
      buf[i] = s[i];
      n_digits++;
    } else if (s[i] == sep && n_sep == 0 && i > 0 && i + 1 < len) {
      buf[i] = '.';
      n_sep++;
    } else {
      return ERR_PARSE;
    }
  }
  buf[len] = '\0';
  double v;
  if (n_digits == 0 || norm_parse_number(buf, &v) != 0 || !(v > 0.0))
    return ERR_PARSE;
  *out = v;
  return 0;
}

int norm_split_dash(const char *sym, const char **part, size_t *len, int max)
{
  int n = 0;
  const char *p = sym;
  for (;;) {
    const char *dash = strchr(p, '-');
    size_t l = dash ? (size_t)(dash - p) : strlen(p);
    if (n >= max || l == 0)
      return ERR_PARSE;
    part[n] = p;
    len[n] = l;
    n++;
    if (!dash)
      return n;
    p = dash + 1;
  }
}
