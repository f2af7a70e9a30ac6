/* metrics: counters, gauges and summaries keyed by (name, labels), rendered
 * as Prometheus text.  (Minimal version written by the gateway helper so
 * that gateway/ builds; helper "service" owns the full one, with EMF.)
 *
 * Invariant: series are never reordered; a summary keeps its last
 * METRICS_WINDOW observations in a ring. */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_WINDOW 1024

struct series {
  char name[METRICS_NAME_LEN];
  char labels[METRICS_LABELS_LEN];
  int type, used;
  double v, sum;
  long count;
  double *win; /* summaries only */
};

struct metrics {
  pthread_mutex_t mu;
  int n;
  long overflow;
  struct series s[METRICS_MAX_SERIES];
};

struct metrics *metrics_new(void)
{
  struct metrics *m = calloc(1, sizeof(*m));
  if (m)
    pthread_mutex_init(&m->mu, NULL);
  return m;
}

void metrics_free(struct metrics *m)
{
  if (!m)
    return;
  for (int i = 0; i < m->n; i++)
    free(m->s[i].win);
  pthread_mutex_destroy(&m->mu);
  free(m);
}

/* Finds or creates a series; NULL (counted) when the table is full or the
 * name is too long.  Caller holds the mutex. */
static struct series *find(struct metrics *m, const char *name, const char *labels, int type,
                           int create)
{
  if (!labels)
    labels = "";
  for (int i = 0; i < m->n; i++)
    if (m->s[i].used && strcmp(m->s[i].name, name) == 0 && strcmp(m->s[i].labels, labels) == 0)
      return &m->s[i];
  if (!create)
    return NULL;
  if (m->n == METRICS_MAX_SERIES || strlen(name) >= METRICS_NAME_LEN ||
      strlen(labels) >= METRICS_LABELS_LEN) {
    m->overflow++;
    return NULL;
  }
  struct series *s = &m->s[m->n++];
  memset(s, 0, sizeof(*s));
  strcpy(s->name, name);
  strcpy(s->labels, labels);
  s->type = type;
  s->used = 1;
  if (type == METRICS_SUMMARY) {
    s->win = calloc(METRICS_WINDOW, sizeof(double));
    if (!s->win) {
      s->used = 0;
      m->overflow++;
      return NULL;
    }
  }
  return s;
}

void metrics_add(struct metrics *m, const char *name, const char *labels, double v)
{
  if (!m || !(v >= 0))
    return;
  pthread_mutex_lock(&m->mu);
  struct series *s = find(m, name, labels, METRICS_COUNTER, 1);
  if (s)
    s->v += v;
  pthread_mutex_unlock(&m->mu);
}

void metrics_set(struct metrics *m, const char *name, const char *labels, double v)
{
  if (!m)
    return;
  pthread_mutex_lock(&m->mu);
  struct series *s = find(m, name, labels, METRICS_GAUGE, 1);
  if (s)
    s->v = v;
  pthread_mutex_unlock(&m->mu);
}

void metrics_observe(struct metrics *m, const char *name, const char *labels, double v)
{
  if (!m)
    return;
  pthread_mutex_lock(&m->mu);
  struct series *s = find(m, name, labels, METRICS_SUMMARY, 1);
  if (s) {
    s->win[s->count % METRICS_WINDOW] = v;
    s->count++;
    s->sum += v;
  }
  pthread_mutex_unlock(&m->mu);
}

void metrics_remove(struct metrics *m, const char *name, const char *labels)
{
  if (!m)
    return;
  pthread_mutex_lock(&m->mu);
  struct series *s = find(m, name, labels, 0, 0);
  if (s)
    s->used = 0;
  pthread_mutex_unlock(&m->mu);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static const char *type_name(int t)
{
  return t == METRICS_COUNTER ? "counter" : t == METRICS_GAUGE ? "gauge" : "summary";
}

/* Appends formatted text; tracks the length needed even past cap. */
__attribute__((format(printf, 4, 5))) static void put(char *buf, size_t cap, size_t *len,
                                                      const char *fmt, ...);
static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  size_t room = *len < cap ? cap - *len : 0;
  int n = vsnprintf(room ? buf + *len : NULL, room, fmt, ap);
  va_end(ap);
  if (n > 0)
    *len += (size_t)n;
}

size_t metrics_render_prom(struct metrics *m, char *buf, size_t cap)
{
  size_t len = 0;
  if (cap)
    buf[0] = '\0';
  pthread_mutex_lock(&m->mu);
  double *tmp = malloc(METRICS_WINDOW * sizeof(double));
  for (int i = 0; i < m->n; i++) {
    struct series *s = &m->s[i];
    if (!s->used)
      continue;
    int first = 1;
    for (int j = 0; j < i; j++)
      if (m->s[j].used && strcmp(m->s[j].name, s->name) == 0)
        first = 0;
    if (first)
      put(buf, cap, &len, "# TYPE %s %s\n", s->name, type_name(s->type));
    const char *l = s->labels, *sep = l[0] ? "," : "";
    if (s->type != METRICS_SUMMARY) {
      if (l[0])
        put(buf, cap, &len, "%s{%s} %.17g\n", s->name, l, s->v);
      else
        put(buf, cap, &len, "%s %.17g\n", s->name, s->v);
      continue;
    }
    int n = s->count < METRICS_WINDOW ? (int)s->count : METRICS_WINDOW;
    static const double q[3] = {0.5, 0.9, 0.99};
    if (tmp && n > 0) {
      memcpy(tmp, s->win, (size_t)n * sizeof(double));
      qsort(tmp, (size_t)n, sizeof(double), cmp_double);
    }
    for (int k = 0; k < 3; k++) {
      double v = (tmp && n > 0) ? tmp[(int)floor(q[k] * (n - 1) + 0.5)] : NAN;
      put(buf, cap, &len, "%s{%s%squantile=\"%g\"} %.17g\n", s->name, l, sep, q[k], v);
    }
    if (l[0]) {
      put(buf, cap, &len, "%s_sum{%s} %.17g\n", s->name, l, s->sum);
      put(buf, cap, &len, "%s_count{%s} %ld\n", s->name, l, s->count);
    } else {
      put(buf, cap, &len, "%s_sum %.17g\n", s->name, s->sum);
      put(buf, cap, &len, "%s_count %ld\n", s->name, s->count);
    }
  }
  put(buf, cap, &len,
      "# TYPE volsurf_metrics_overflow_total counter\n"
      "volsurf_metrics_overflow_total %ld\n",
      m->overflow);
  free(tmp);
  pthread_mutex_unlock(&m->mu);
  return len;
}

int metrics_write_emf(struct metrics *m, FILE *f, const char *ns, const char *role, int64_t now_ms)
{
  (void)m;
  (void)f;
  (void)ns;
  (void)role;
  (void)now_ms;
  return 0; /* not in the minimal version */
}
