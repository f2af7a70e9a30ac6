/* topics: a connector's subscription set (see topics.h).  Sorted array;
 * merges walk the old set and the wanted list side by side into a second
 * array, then swap. */
#include "topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

#define TOPIC_GONE (-1) /* marks entries for topics_drop */

int topics_init(struct topics *s, int max)
{
  memset(s, 0, sizeof *s);
  if (max <= 0 || max > (1 << 20))
    return ERR_INPUT;
  s->cap = 2 * max;
  s->t = calloc((size_t)s->cap, sizeof *s->t);
  s->tmp = calloc((size_t)s->cap, sizeof *s->tmp);
  if (!s->t || !s->tmp) {
    topics_fini(s);
    return ERR_NOMEM;
  }
  return 0;
}

void topics_fini(struct topics *s)
{
  free(s->t);
  free(s->tmp);
  memset(s, 0, sizeof *s);
}

static void topics_drop(struct topics *s)
{
  int w = 0;
  for (int i = 0; i < s->n; i++)
    if (s->t[i].state != TOPIC_GONE)
      s->t[w++] = s->t[i];
  s->n = w;
}

/* What becomes of a topic that is no longer wanted. */
static int unwanted(int state, int open)
{
  if (open && (state == TOPIC_SENT || state == TOPIC_REMOVE))
    return TOPIC_REMOVE;
  return TOPIC_GONE;
}

int topics_merge(struct topics *s, const struct venue_topic *want, int n, int open)
{
  int i = 0, j = 0, w = 0, left_out = 0;
  while (i < s->n || j < n) {
    int cmp = i == s->n ? 1 : j == n ? -1 : strcmp(s->t[i].name, want[j].name);
    if (w == s->cap) {
      left_out++; /* cannot happen while n <= max: kept + removing <= 2 max */
      if (cmp >= 0)
        j++;
      if (cmp <= 0)
        i++;
      continue;
    }
    struct topic *t = &s->tmp[w];
    if (cmp == 0) {
      *t = s->t[i++];
      t->expiry_us = want[j++].expiry_us;
      if (t->state == TOPIC_REMOVE)
        t->state = TOPIC_SENT; /* wanted again before the unsubscribe went out */
      w++;
    } else if (cmp < 0) {
      *t = s->t[i++];
      t->state = unwanted(t->state, open);
      if (t->state != TOPIC_GONE)
        w++;
    } else {
      snprintf(t->name, sizeof t->name, "%s", want[j].name);
      t->expiry_us = want[j++].expiry_us;
      t->state = TOPIC_UNSENT;
      w++;
    }
  }
  struct topic *swap = s->t;
  s->t = s->tmp;
  s->tmp = swap;
  s->n = w;
  return left_out;
}

int topics_expire(struct topics *s, int64_t wall_us, int open)
{
  int n = 0;
  for (int i = 0; i < s->n; i++) {
    struct topic *t = &s->t[i];
    if (!t->expiry_us || t->expiry_us > wall_us || t->state == TOPIC_REMOVE)
      continue;
    t->state = unwanted(t->state, open);
    n++;
  }
  topics_drop(s);
  return n;
}

void topics_reset(struct topics *s)
{
  for (int i = 0; i < s->n; i++) {
    if (s->t[i].state == TOPIC_SENT)
      s->t[i].state = TOPIC_UNSENT;
    else if (s->t[i].state == TOPIC_REMOVE)
      s->t[i].state = TOPIC_GONE;
  }
  topics_drop(s);
}

int topics_count(const struct topics *s, int state)
{
  int n = 0;
  for (int i = 0; i < s->n; i++)
    n += s->t[i].state == state;
  return n;
}

int topics_pick(const struct topics *s, int state, const char **names, int *idx, int max)
{
  int n = 0;
  for (int i = 0; i < s->n && n < max; i++) {
    if (s->t[i].state == state) {
      names[n] = s->t[i].name;
      idx[n++] = i;
    }
  }
  return n;
}

void topics_commit(struct topics *s, int state, const int *idx, int n)
{
  for (int k = 0; k < n; k++)
    s->t[idx[k]].state = state == TOPIC_REMOVE ? TOPIC_GONE : TOPIC_SENT;
  if (state == TOPIC_REMOVE)
    topics_drop(s);
}
