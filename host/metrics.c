/* metrics: a fixed table of series (name, labels) with counters, gauges and
 * summaries, rendered as Prometheus text 0.0.4 and as CloudWatch EMF lines.
 * One mutex; the series table is taken in metrics_new, so updates of
 * counters and gauges never allocate.
 *
 * Summaries keep count, sum and a ring of the last METRICS_WINDOW
 * observations: the quantiles of /metrics are over that ring, the EMF p99
 * over the observations since the previous metrics_write_emf (at most the
 * ring).  A summary's ring is allocated the first time its slot holds one
 * (a handful per process) and kept with the slot.  Series are looked up by a hash and a linear
 * scan: the service has tens of series, and a scan of a few hundred cached hashes is cheaper than
 * keeping a hash table consistent through removals. */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define METRICS_WINDOW 1024
#define METRICS_OVERFLOW_NAME "volsurf_metrics_overflow_total"

struct series {
  int used;
  int type;
  uint32_t hash;
  char name[METRICS_NAME_LEN];
  char labels[METRICS_LABELS_LEN];
  double value;    /* counter or gauge */
  double emf_last; /* counter value at the previous EMF write */
  long count;      /* summary */
  double sum;
  long n_since_emf;
  double *ring; /* METRICS_WINDOW observations (summaries; kept with the slot) */
};

struct metrics {
  pthread_mutex_t mu;
  int n_hi; /* slots [0, n_hi) have been used at least once */
  double overflow;
  struct series s[METRICS_MAX_SERIES];
};

/* Prometheus metric names: [a-zA-Z_:][a-zA-Z0-9_:]*. */
static int valid_name(const char *n)
{
  if (!n || !*n || strlen(n) >= METRICS_NAME_LEN)
    return 0;
  for (const char *p = n; *p; p++) {
    int alpha = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || *p == ':';
    int digit = *p >= '0' && *p <= '9';
    if (!alpha && !(digit && p != n))
      return 0;
  }
  return 1;
}

static uint32_t hash2(const char *a, const char *b)
{
  uint32_t h = 2166136261u;
  for (const unsigned char *p = (const unsigned char *)a; *p; p++)
    h = (h ^ *p) * 16777619u;
  h = (h ^ 0xffu) * 16777619u;
  for (const unsigned char *p = (const unsigned char *)b; *p; p++)
    h = (h ^ *p) * 16777619u;
  return h;
}

struct metrics *metrics_new(void)
{
  struct metrics *m = calloc(1, sizeof(*m));
  if (!m)
    return NULL;
  pthread_mutex_init(&m->mu, NULL);
  return m;
}

void metrics_free(struct metrics *m)
{
  if (!m)
    return;
  for (int i = 0; i < m->n_hi; i++)
    free(m->s[i].ring);
  pthread_mutex_destroy(&m->mu);
  free(m);
}

/* The series (name, labels) of 'type', created when absent; NULL (counted)
 * on a bad name, a type clash or a full table.  Lock held. */
static struct series *get(struct metrics *m, const char *name, const char *labels, int type,
                          int create)
{
  if (!labels)
    labels = "";
  if (!valid_name(name) || strlen(labels) >= METRICS_LABELS_LEN) {
    m->overflow++;
    return NULL;
  }
  uint32_t h = hash2(name, labels);
  int free_slot = -1;
  for (int i = 0; i < m->n_hi; i++) {
    struct series *s = &m->s[i];
    if (!s->used) {
      if (free_slot < 0)
        free_slot = i;
      continue;
    }
    if (s->hash == h && strcmp(s->name, name) == 0 && strcmp(s->labels, labels) == 0) {
      if (s->type != type) {
        m->overflow++;
        return NULL;
      }
      return s;
    }
  }
  if (!create)
    return NULL;
  if (free_slot < 0) {
    if (m->n_hi == METRICS_MAX_SERIES) {
      m->overflow++;
      return NULL;
    }
    free_slot = m->n_hi++;
  }
  struct series *s = &m->s[free_slot];
  double *ring = s->ring;
  if (type == METRICS_SUMMARY && !ring) {
    ring = malloc(METRICS_WINDOW * sizeof(*ring));
    if (!ring) {
      m->overflow++;
      return NULL;
    }
  }
  memset(s, 0, sizeof(*s));
  s->ring = ring;
  s->used = 1;
  s->type = type;
  s->hash = h;
  snprintf(s->name, sizeof(s->name), "%s", name);
  snprintf(s->labels, sizeof(s->labels), "%s", labels);
  return s;
}

void metrics_add(struct metrics *m, const char *name, const char *labels, double v)
{
  if (!m || !(v >= 0.0))
    return;
  pthread_mutex_lock(&m->mu);
  struct series *s = get(m, name, labels, METRICS_COUNTER, 1);
  if (s)
    s->value += v;
  pthread_mutex_unlock(&m->mu);
}

void metrics_set(struct metrics *m, const char *name, const char *labels, double v)
{
  if (!m)
    return;
  pthread_mutex_lock(&m->mu);
  struct series *s = get(m, name, labels, METRICS_GAUGE, 1);
  if (s)
    s->value = v;
  pthread_mutex_unlock(&m->mu);
}

void metrics_observe(struct metrics *m, const char *name, const char *labels, double v)
{
  if (!m || isnan(v))
    return;
  pthread_mutex_lock(&m->mu);
  struct series *s = get(m, name, labels, METRICS_SUMMARY, 1);
  if (s) {
    s->ring[s->count % METRICS_WINDOW] = v;
    s->count++;
    s->sum += v;
    s->n_since_emf++;
  }
  pthread_mutex_unlock(&m->mu);
}

void metrics_remove(struct metrics *m, const char *name, const char *labels)
{
  if (!m || !name)
    return;
  pthread_mutex_lock(&m->mu);
  if (!labels)
    labels = "";
  uint32_t h = hash2(name, labels);
  for (int i = 0; i < m->n_hi; i++) {
    struct series *s = &m->s[i];
    if (s->used && s->hash == h && strcmp(s->name, name) == 0 && strcmp(s->labels, labels) == 0)
      s->used = 0; /* the ring stays with the slot for reuse */
  }
  pthread_mutex_unlock(&m->mu);
}

/* ---- rendering -------------------------------------------------------- */

/* snprintf-like appender: counts what it could not write. */
struct out {
  char *buf;
  size_t cap, len;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(struct out *o, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  size_t room = o->len < o->cap ? o->cap - o->len : 0;
  int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
  va_end(ap);
  if (n > 0)
    o->len += (size_t)n;
}

/* The shortest of %.15g / %.17g that reads back as v: 19.549, not
 * 19.548999999999999. */
static const char *shortest(double v, char buf[32])
{
  snprintf(buf, 32, "%.15g", v);
  if (strtod(buf, NULL) != v)
    snprintf(buf, 32, "%.17g", v);
  return buf;
}

/* Prometheus sample value: Go's float syntax (NaN, +Inf, -Inf). */
static void out_value(struct out *o, double v)
{
  char num[32];
  if (isnan(v))
    outf(o, "NaN");
  else if (isinf(v))
    outf(o, v > 0 ? "+Inf" : "-Inf");
  else
    outf(o, "%s", shortest(v, num));
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Quantile q of the newest n observations of s (nearest rank); NaN if none. */
static double quantile(const struct series *s, long n, double q)
{
  if (n > s->count)
    n = s->count;
  if (n > METRICS_WINDOW)
    n = METRICS_WINDOW;
  if (n <= 0)
    return NAN;
  double v[METRICS_WINDOW];
  for (long i = 0; i < n; i++)
    v[i] = s->ring[(s->count - 1 - i) % METRICS_WINDOW];
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  long r = (long)ceil(q * (double)n) - 1;
  if (r < 0)
    r = 0;
  return v[r];
}

static const char *type_name(int t)
{
  return t == METRICS_COUNTER ? "counter" : t == METRICS_GAUGE ? "gauge" : "summary";
}

static int cmp_series(const void *a, const void *b)
{
  const struct series *x = *(const struct series *const *)a, *y = *(const struct series *const *)b;
  int c = strcmp(x->name, y->name);
  return c ? c : strcmp(x->labels, y->labels);
}

/* name{labels[,extra]} */
static void out_series(struct out *o, const char *name, const char *suffix, const char *labels,
                       const char *extra)
{
  outf(o, "%s%s", name, suffix);
  if (labels[0] || extra) {
    outf(o, "{%s%s%s}", labels, labels[0] && extra ? "," : "", extra ? extra : "");
  }
  outf(o, " ");
}

size_t metrics_render_prom(struct metrics *m, char *buf, size_t cap)
{
  struct out o = {buf, cap, 0};
  if (buf && cap)
    buf[0] = '\0';
  if (!m)
    return 0;
  const struct series *order[METRICS_MAX_SERIES];
  int n = 0;
  pthread_mutex_lock(&m->mu);
  for (int i = 0; i < m->n_hi; i++)
    if (m->s[i].used)
      order[n++] = &m->s[i];
  qsort(order, (size_t)n, sizeof(order[0]), cmp_series);
  for (int i = 0; i < n; i++) {
    const struct series *s = order[i];
    /* One TYPE line per metric family: series of a name are contiguous. */
    if (i == 0 || strcmp(order[i - 1]->name, s->name) != 0)
      outf(&o, "# TYPE %s %s\n", s->name, type_name(s->type));
    if (s->type != METRICS_SUMMARY) {
      out_series(&o, s->name, "", s->labels, NULL);
      out_value(&o, s->value);
      outf(&o, "\n");
      continue;
    }
    static const char *qs[3] = {"quantile=\"0.5\"", "quantile=\"0.9\"", "quantile=\"0.99\""};
    static const double qv[3] = {0.5, 0.9, 0.99};
    for (int j = 0; j < 3; j++) {
      out_series(&o, s->name, "", s->labels, qs[j]);
      out_value(&o, quantile(s, METRICS_WINDOW, qv[j]));
      outf(&o, "\n");
    }
    out_series(&o, s->name, "_sum", s->labels, NULL);
    out_value(&o, s->sum);
    outf(&o, "\n");
    out_series(&o, s->name, "_count", s->labels, NULL);
    outf(&o, "%ld\n", s->count);
  }
  outf(&o, "# TYPE %s counter\n%s ", METRICS_OVERFLOW_NAME, METRICS_OVERFLOW_NAME);
  out_value(&o, m->overflow);
  outf(&o, "\n");
  pthread_mutex_unlock(&m->mu);
  return o.len;
}

/* ---- EMF -------------------------------------------------------------- */

struct emf_map {
  const char *prom, *emf, *unit;
};

static const struct emf_map emf_names[] = {
    {"volsurf_feed_age_ms", "FeedAgeMs", "Milliseconds"},
    {"volsurf_quote_queue_depth", "QuoteQueueDepth", "Count"},
    {"volsurf_fit_batch_ms", "FitBatchMs", "Milliseconds"},
    {"volsurf_fit_rmse_vol_pts", "FitRmseVolPts", "None"},
    {"volsurf_quote_to_patch_ms", "QuoteToPatchMs", "Milliseconds"},
    {"volsurf_ws_connections", "WebsocketConnections", "Count"},
};
#define EMF_DROPPED_PROM "volsurf_ws_dropped_total"
#define EMF_MAX_LABELS 8

static const struct emf_map *emf_lookup(const char *name)
{
  for (size_t i = 0; i < sizeof(emf_names) / sizeof(emf_names[0]); i++)
    if (strcmp(emf_names[i].prom, name) == 0)
      return &emf_names[i];
  return NULL;
}

struct label {
  char key[32];
  char val[METRICS_LABELS_LEN];
};

/* Parses k="v",k2="v2" (Prometheus escapes \" \\ \n).  Returns the count. */
static int parse_labels(const char *t, struct label *out, int max)
{
  int n = 0;
  while (*t && n < max) {
    const char *eq = strchr(t, '=');
    if (!eq || eq[1] != '"' || (size_t)(eq - t) >= sizeof(out[n].key))
      break;
    memcpy(out[n].key, t, (size_t)(eq - t));
    out[n].key[eq - t] = '\0';
    /* Dimension names are capitalised: venue -> Venue (docs/deploy.md). */
    if (out[n].key[0] >= 'a' && out[n].key[0] <= 'z')
      out[n].key[0] = (char)(out[n].key[0] - 'a' + 'A');
    const char *p = eq + 2;
    size_t len = 0;
    while (*p && *p != '"' && len + 1 < sizeof(out[n].val)) {
      if (*p == '\\' && p[1]) {
        p++;
        out[n].val[len++] = *p == 'n' ? '\n' : *p;
      } else {
        out[n].val[len++] = *p;
      }
      p++;
    }
    out[n].val[len] = '\0';
    if (*p != '"')
      break;
    n++;
    t = p + 1;
    if (*t == ',')
      t++;
  }
  return n;
}

static void emf_line(FILE *f, const char *ns, const char *role, int64_t now_ms, const char *metric,
                     const char *unit, const struct label *lb, int n_lb, double v)
{
  fprintf(
      f, "{\"_aws\":{\"Timestamp\":%lld,\"CloudWatchMetrics\":[{\"Namespace\":", (long long)now_ms);
  cli_json_string(f, ns);
  fprintf(f, ",\"Dimensions\":[[\"Role\"]");
  if (n_lb > 0) {
    fprintf(f, ",[\"Role\"");
    for (int i = 0; i < n_lb; i++) {
      fputc(',', f);
      cli_json_string(f, lb[i].key);
    }
    fprintf(f, "]");
  }
  fprintf(f, "],\"Metrics\":[{\"Name\":\"%s\",\"Unit\":\"%s\"}]}]},\"Role\":", metric, unit);
  cli_json_string(f, role);
  for (int i = 0; i < n_lb; i++) {
    fputc(',', f);
    cli_json_string(f, lb[i].key);
    fputc(':', f);
    cli_json_string(f, lb[i].val);
  }
  /* EMF values must be finite numbers: the caller skips NaN gauges. */
  char num[32];
  fprintf(f, ",\"%s\":%s}\n", metric, shortest(v, num));
}

int metrics_write_emf(struct metrics *m, FILE *f, const char *ns, const char *role, int64_t now_ms)
{
  if (!m || !f)
    return 0;
  if (!ns)
    ns = "Volsurf";
  if (!role)
    role = "all";
  int lines = 0;
  double dropped = 0.0;
  int have_dropped = 0;
  struct label lb[EMF_MAX_LABELS];
  pthread_mutex_lock(&m->mu);
  for (int i = 0; i < m->n_hi; i++) {
    struct series *s = &m->s[i];
    if (!s->used)
      continue;
    if (s->type == METRICS_COUNTER && strcmp(s->name, EMF_DROPPED_PROM) == 0) {
      dropped += s->value - s->emf_last;
      s->emf_last = s->value;
      have_dropped = 1;
      continue;
    }
    const struct emf_map *e = emf_lookup(s->name);
    if (!e)
      continue;
    double v = s->value;
    if (s->type == METRICS_SUMMARY) {
      v = quantile(s, s->n_since_emf, 0.99);
      s->n_since_emf = 0;
    }
    if (!isfinite(v))
      continue;
    int n_lb = parse_labels(s->labels, lb, EMF_MAX_LABELS);
    emf_line(f, ns, role, now_ms, e->emf, e->unit, lb, n_lb, v);
    lines++;
  }
  if (have_dropped) {
    emf_line(f, ns, role, now_ms, "DroppedMessages", "Count", NULL, 0, dropped);
    lines++;
  }
  pthread_mutex_unlock(&m->mu);
  fflush(f);
  return lines;
}
