/* topics: one connector's subscription set, the state machine behind
 * resubscribe-on-reconnect and listing refresh, without sockets.
 *
 *   venue_topics (wanted, sorted) --topics_merge--> set
 *   set --topics_pick/topics_commit--> subscribe / unsubscribe requests
 *
 * Each topic is unsent (to subscribe), sent, or remove (sent, no longer
 * wanted: to unsubscribe).  A topic that is no longer wanted and was never
 * sent is dropped at once; one that is wanted again before its unsubscribe
 * went out is simply kept.  The set stays sorted by name and holds at most
 * 2 x max topics (the wanted ones plus those waiting to be unsubscribed).
 * One set belongs to one connector (the I/O thread). */
#ifndef VOLSURF_FEEDS_TOPICS_H
#define VOLSURF_FEEDS_TOPICS_H

#include <stdint.h>

#include "venue.h"

enum topic_state { TOPIC_UNSENT = 0, TOPIC_SENT, TOPIC_REMOVE };

struct topic {
  char name[VENUE_TOPIC_LEN];
  int64_t expiry_us; /* 0: never expires */
  int state;         /* enum topic_state */
};

struct topics {
  struct topic *t, *tmp;
  int n, cap; /* cap = 2 x max */
};

/* Allocates room for max wanted topics.  Returns 0 or ERR_NOMEM/ERR_INPUT. */
int topics_init(struct topics *s, int max);
void topics_fini(struct topics *s);

/* Replaces the wanted set with want[0..n) (sorted, unique, as venue_topics
 * returns it).  'open': the connection is up, so sent topics that are no
 * longer wanted must be unsubscribed; when down they are dropped.  Topics
 * past the capacity are left out; returns how many. */
int topics_merge(struct topics *s, const struct venue_topic *want, int n, int open);

/* Marks topics whose expiry_us <= wall_us as no longer wanted (see
 * topics_merge for 'open').  Returns how many. */
int topics_expire(struct topics *s, int64_t wall_us, int open);

/* The connection closed or (re)opened: every sent topic must be sent again
 * and pending unsubscribes are moot. */
void topics_reset(struct topics *s);

int topics_count(const struct topics *s, int state);

/* Collects up to max topics in 'state' (TOPIC_UNSENT to subscribe,
 * TOPIC_REMOVE to unsubscribe): names[] borrow the set's storage, idx[]
 * remembers them for topics_commit.  Returns the count. */
int topics_pick(const struct topics *s, int state, const char **names, int *idx, int max);

/* The first n picked topics went out: unsent ones become sent, removed ones
 * leave the set.  Invalidates names[] from topics_pick. */
void topics_commit(struct topics *s, int state, const int *idx, int n);

#endif
