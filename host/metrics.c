/* metrics: placeholder with the metrics.h contract's symbols, written on the
 * feedconn branch so that feeds/ links before the service helper's
 * metrics.c lands (the coordinator keeps that one).  Updates are accepted
 * and ignored; rendering writes nothing. */
#include "metrics.h"

#include <stdlib.h>

struct metrics {
  int unused;
};

struct metrics *metrics_new(void)
{
  return calloc(1, sizeof(struct metrics));
}

void metrics_free(struct metrics *m)
{
  free(m);
}

void metrics_add(struct metrics *m, const char *name, const char *labels, double v)
{
  (void)m, (void)name, (void)labels, (void)v;
}

void metrics_set(struct metrics *m, const char *name, const char *labels, double v)
{
  (void)m, (void)name, (void)labels, (void)v;
}

void metrics_observe(struct metrics *m, const char *name, const char *labels, double v)
{
  (void)m, (void)name, (void)labels, (void)v;
}

void metrics_remove(struct metrics *m, const char *name, const char *labels)
{
  (void)m, (void)name, (void)labels;
}

size_t metrics_render_prom(struct metrics *m, char *buf, size_t cap)
{
  (void)m;
  if (buf && cap)
    buf[0] = '\0';
  return 0;
}

int metrics_write_emf(struct metrics *m, FILE *f, const char *ns, const char *role, int64_t now_ms)
{
  (void)m, (void)f, (void)ns, (void)role, (void)now_ms;
  return 0;
}
