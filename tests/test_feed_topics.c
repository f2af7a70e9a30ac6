/* test_feed_topics: a connector's subscription set without sockets: a
 * listing's topics are subscribed once, resubscribed after a reconnect,
 * unsubscribed when delisted or expired (dropped outright when never sent
 * or when the link is down), kept when relisted before the unsubscribe
 * went out, and batches commit only what a request carried. */
#if defined(VOLSURF_HAVE_LIVE_FEEDS) && defined(VOLSURF_HAVE_CJSON)

#include <string.h>

#include "err.h"
#include "testutil.h"
#include "topics.h"

static struct topics set;

/* want("a", "b", ...) with expiry 100 for each; names must be sorted. */
static int want(struct venue_topic *w, const char *const *names, int n)
{
  for (int i = 0; i < n; i++) {
    snprintf(w[i].name, sizeof w[i].name, "%s", names[i]);
    w[i].expiry_us = 100 + i;
  }
  return n;
}

static void fresh(int max)
{
  topics_fini(&set);
  CU_ASSERT_EQUAL_FATAL(topics_init(&set, max), 0);
}

/* Sends every topic in 'state' as if each request carried all of them. */
static int send_all(int state)
{
  const char *names[64];
  int idx[64];
  int n = topics_pick(&set, state, names, idx, 64);
  topics_commit(&set, state, idx, n);
  return n;
}

static void a_listing_is_subscribed_once(void)
{
  fresh(8);
  struct venue_topic w[8];
  const char *names[] = {"a", "b", "c"};
  CU_ASSERT_EQUAL(topics_merge(&set, w, want(w, names, 3), 1), 0);
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_UNSENT), 3);
  CU_ASSERT_EQUAL(send_all(TOPIC_UNSENT), 3);
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_SENT), 3);
  CU_ASSERT_EQUAL(send_all(TOPIC_UNSENT), 0);
  /* the same listing again changes nothing */
  topics_merge(&set, w, want(w, names, 3), 1);
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_SENT), 3);
  CU_ASSERT_EQUAL(set.n, 3);
}

static void a_reconnect_sends_everything_again(void)
{
  fresh(8);
  struct venue_topic w[8];
  const char *names[] = {"a", "b"};
  topics_merge(&set, w, want(w, names, 2), 1);
  send_all(TOPIC_UNSENT);
  topics_reset(&set);
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_UNSENT), 2);
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_SENT), 0);
}

static void a_delisted_topic_is_unsubscribed_then_dropped(void)
{
  fresh(8);
  struct venue_topic w[8];
  const char *before[] = {"a", "b", "c"}, *after[] = {"a", "c", "d"};
  topics_merge(&set, w, want(w, before, 3), 1);
  send_all(TOPIC_UNSENT);
  topics_merge(&set, w, want(w, after, 3), 1);
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_REMOVE), 1); /* b */
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_UNSENT), 1); /* d */
  const char *names[8];
  int idx[8];
  CU_ASSERT_EQUAL(topics_pick(&set, TOPIC_REMOVE, names, idx, 8), 1);
  CU_ASSERT_STRING_EQUAL(names[0], "b");
  topics_commit(&set, TOPIC_REMOVE, idx, 1);
  CU_ASSERT_EQUAL(set.n, 3);
  for (int i = 1; i < set.n; i++)
    CU_ASSERT(strcmp(set.t[i - 1].name, set.t[i].name) < 0);
}

static void a_delisted_topic_never_sent_or_while_down_is_just_dropped(void)
{
  fresh(8);
  struct venue_topic w[8];
  const char *two[] = {"a", "b"}, *one[] = {"a"};
  topics_merge(&set, w, want(w, two, 2), 1); /* unsent */
  topics_merge(&set, w, want(w, one, 1), 1);
  CU_ASSERT_EQUAL(set.n, 1);
  topics_merge(&set, w, want(w, two, 2), 1);
  send_all(TOPIC_UNSENT);
  topics_merge(&set, w, want(w, one, 1), 0); /* link down */
  CU_ASSERT_EQUAL(set.n, 1);
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_REMOVE), 0);
}

static void a_relisted_topic_is_kept_without_a_new_subscribe(void)
{
  fresh(8);
  struct venue_topic w[8];
  const char *two[] = {"a", "b"}, *one[] = {"a"};
  topics_merge(&set, w, want(w, two, 2), 1);
  send_all(TOPIC_UNSENT);
  topics_merge(&set, w, want(w, one, 1), 1);
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_REMOVE), 1);
  topics_merge(&set, w, want(w, two, 2), 1); /* back before the unsubscribe went out */
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_SENT), 2);
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_REMOVE), 0);
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_UNSENT), 0);
}

static void expired_topics_are_unsubscribed_and_family_topics_never_expire(void)
{
  fresh(8);
  struct venue_topic w[8];
  const char *names[] = {"a", "b", "c"};
  want(w, names, 3);
  w[2].expiry_us = 0; /* a family topic */
  topics_merge(&set, w, 3, 1);
  send_all(TOPIC_UNSENT);
  CU_ASSERT_EQUAL(topics_expire(&set, 100, 1), 1); /* a (100) */
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_REMOVE), 1);
  CU_ASSERT_EQUAL(topics_expire(&set, 1000000, 0), 1); /* b, link down: dropped */
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_SENT), 1);  /* c */
  CU_ASSERT_EQUAL(set.n, 2);
}

static void a_request_commits_only_the_topics_it_carried(void)
{
  fresh(8);
  struct venue_topic w[8];
  const char *names[] = {"a", "b", "c", "d"};
  topics_merge(&set, w, want(w, names, 4), 1);
  const char *picked[8];
  int idx[8];
  CU_ASSERT_EQUAL(topics_pick(&set, TOPIC_UNSENT, picked, idx, 3), 3);
  topics_commit(&set, TOPIC_UNSENT, idx, 2); /* the request had room for two */
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_SENT), 2);
  CU_ASSERT_EQUAL(topics_count(&set, TOPIC_UNSENT), 2);
}

static void the_set_never_grows_past_twice_its_size(void)
{
  fresh(2);
  struct venue_topic w[8];
  const char *first[] = {"a", "b"}, *second[] = {"c", "d"}, *third[] = {"e", "f"};
  topics_merge(&set, w, want(w, first, 2), 1);
  send_all(TOPIC_UNSENT);
  topics_merge(&set, w, want(w, second, 2), 1);
  send_all(TOPIC_UNSENT); /* a, b wait for their unsubscribe; c, d sent */
  CU_ASSERT_EQUAL(set.n, 4);
  CU_ASSERT(topics_merge(&set, w, want(w, third, 2), 1) > 0); /* full: counted, not written */
  CU_ASSERT(set.n <= 4);
  struct topics none;
  CU_ASSERT_EQUAL(topics_init(&none, 0), ERR_INPUT);
}

int main(void)
{
  const struct test_case cases[] = {
      TEST_CASE(a_listing_is_subscribed_once),
      TEST_CASE(a_reconnect_sends_everything_again),
      TEST_CASE(a_delisted_topic_is_unsubscribed_then_dropped),
      TEST_CASE(a_delisted_topic_never_sent_or_while_down_is_just_dropped),
      TEST_CASE(a_relisted_topic_is_kept_without_a_new_subscribe),
      TEST_CASE(expired_topics_are_unsubscribed_and_family_topics_never_expire),
      TEST_CASE(a_request_commits_only_the_topics_it_carried),
      TEST_CASE(the_set_never_grows_past_twice_its_size),
  };
  int rc = test_run("feed_topics", cases, TEST_COUNT(cases));
  topics_fini(&set);
  return rc;
}

#else
int main(void)
{
  return 77; /* built without libwebsockets/libcurl or cJSON */
}
#endif
