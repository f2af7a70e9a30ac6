/* test_surface: one-allocation surface versions, ids, Deribit-style expiry
 * codes, and the conflating mailbox (newest version per surface, oldest put
 * first, capped ids). */
#include <stdint.h>

#include "err.h"
#include "surface.h"
#include "testutil.h"

#define DAY_US 86400000000LL

static struct surface *mk(const char *venue, const char *asset, uint64_t version)
{
  struct surface *s = surface_new(2, 10);
  if (!s)
    return NULL;
  snprintf(s->venue, sizeof(s->venue), "%s", venue);
  snprintf(s->asset, sizeof(s->asset), "%s", asset);
  surface_id(venue, asset, s->id);
  s->version = version;
  return s;
}

static void a_surface_is_one_zeroed_allocation_with_room_for_its_points(void)
{
  struct surface *s = surface_new(3, 7);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  CU_ASSERT_EQUAL(s->n_expiries, 3);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s->exp);
  CU_ASSERT_EQUAL(s->exp[2].n_points, 0);
  struct surface_point *p0 = surface_points_at(s, 0);
  struct surface_point *p6 = surface_points_at(s, 6);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p0);
  CU_ASSERT_EQUAL(p6 - p0, 6);
  CU_ASSERT_PTR_NULL(surface_points_at(s, 7));
  CU_ASSERT_PTR_NULL(surface_points_at(s, -1));
  /* Points sit after the expiries: writing all of them leaves the rest intact. */
  s->exp[0].points = p0;
  s->exp[0].n_points = 4;
  s->exp[1].points = surface_points_at(s, 4);
  s->exp[1].n_points = 3;
  for (int i = 0; i < 7; i++)
    p0[i].strike = 100 + i;
  s->exp[2].expiry_us = 42;
  CU_ASSERT_EQUAL(s->exp[1].points[2].strike, 106.0);
  CU_ASSERT_EQUAL(s->exp[2].expiry_us, 42);
  surface_free(s);
  CU_ASSERT_PTR_NULL(surface_new(-1, 0));
  CU_ASSERT_PTR_NULL(surface_new(SURFACE_MAX_EXPIRIES + 1, 0));
  struct surface *e = surface_new(0, 0);
  CU_ASSERT_PTR_NOT_NULL(e);
  surface_free(e);
  surface_free(NULL);
}

static void ids_join_venue_and_asset_and_refuse_overflow(void)
{
  char id[SURFACE_ID_LEN];
  CU_ASSERT_EQUAL(surface_id("deribit", "SOL_USDC", id), 0);
  CU_ASSERT_STRING_EQUAL(id, "deribit.SOL_USDC");
  char big[80];
  memset(big, 'X', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  CU_ASSERT_EQUAL(surface_id("deribit", big, id), ERR_RANGE);
  CU_ASSERT_EQUAL(surface_id("", "BTC", id), ERR_RANGE);
}

static void codes_follow_deribit_without_leading_zero(void)
{
  char c[SURFACE_CODE_LEN];
  surface_code(1591344000000000LL, c); /* 2020-06-05T08:00:00Z */
  CU_ASSERT_STRING_EQUAL(c, "5JUN20");
  surface_code(1798358400000000LL, c); /* 2026-12-27T08:00:00Z */
  CU_ASSERT_STRING_EQUAL(c, "27DEC26");
  surface_code(1798358400000000LL - 8 * 3600000000LL, c); /* midnight */
  CU_ASSERT_STRING_EQUAL(c, "27DEC26");
  surface_code(1798358400000000LL + 16 * 3600000000LL - 1, c); /* last microsecond */
  CU_ASSERT_STRING_EQUAL(c, "27DEC26");
  surface_code(1798358400000000LL + 16 * 3600000000LL, c);
  CU_ASSERT_STRING_EQUAL(c, "28DEC26");
}

static void the_mailbox_keeps_only_the_newest_unread_version(void)
{
  struct surface_mailbox *mb = surface_mailbox_new(4);
  CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
  CU_ASSERT_EQUAL(surface_mailbox_put(mb, mk("deribit", "BTC", 1)), 0);
  CU_ASSERT_EQUAL(surface_mailbox_put(mb, mk("deribit", "ETH", 1)), 0);
  CU_ASSERT_EQUAL(surface_mailbox_put(mb, mk("deribit", "BTC", 2)), 0);
  CU_ASSERT_EQUAL(surface_mailbox_n_conflated(mb), 1);
  struct surface *out[8];
  int n = surface_mailbox_take(mb, out, 8);
  CU_ASSERT_EQUAL_FATAL(n, 2);
  /* ETH was put before BTC's latest version. */
  CU_ASSERT_STRING_EQUAL(out[0]->id, "deribit.ETH");
  CU_ASSERT_STRING_EQUAL(out[1]->id, "deribit.BTC");
  CU_ASSERT_EQUAL(out[1]->version, 2);
  for (int i = 0; i < n; i++)
    surface_free(out[i]);
  CU_ASSERT_EQUAL(surface_mailbox_take(mb, out, 8), 0);
  surface_mailbox_free(mb);
}

static void take_respects_max_and_leaves_the_rest(void)
{
  struct surface_mailbox *mb = surface_mailbox_new(4);
  surface_mailbox_put(mb, mk("deribit", "BTC", 1));
  surface_mailbox_put(mb, mk("deribit", "ETH", 1));
  surface_mailbox_put(mb, mk("okx", "BTC", 1));
  struct surface *out[1];
  CU_ASSERT_EQUAL(surface_mailbox_take(mb, out, 1), 1);
  CU_ASSERT_STRING_EQUAL(out[0]->id, "deribit.BTC");
  surface_free(out[0]);
  surface_mailbox_free(mb); /* frees the two unread versions (ASan checks) */
}

static void the_mailbox_refuses_ids_beyond_its_cap(void)
{
  struct surface_mailbox *mb = surface_mailbox_new(2);
  CU_ASSERT_EQUAL(surface_mailbox_put(mb, mk("deribit", "BTC", 1)), 0);
  CU_ASSERT_EQUAL(surface_mailbox_put(mb, mk("deribit", "ETH", 1)), 0);
  CU_ASSERT_EQUAL(surface_mailbox_put(mb, mk("deribit", "SOL", 1)), ERR_FULL);
  /* A known id still gets through at the cap. */
  CU_ASSERT_EQUAL(surface_mailbox_put(mb, mk("deribit", "BTC", 2)), 0);
  struct surface *out[4];
  int n = surface_mailbox_take(mb, out, 4);
  CU_ASSERT_EQUAL(n, 2);
  for (int i = 0; i < n; i++)
    surface_free(out[i]);
  surface_mailbox_free(mb);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(a_surface_is_one_zeroed_allocation_with_room_for_its_points),
      TEST_CASE(ids_join_venue_and_asset_and_refuse_overflow),
      TEST_CASE(codes_follow_deribit_without_leading_zero),
      TEST_CASE(the_mailbox_keeps_only_the_newest_unread_version),
      TEST_CASE(take_respects_max_and_leaves_the_rest),
      TEST_CASE(the_mailbox_refuses_ids_beyond_its_cap),
  };
  return test_run("surface", cases, TEST_COUNT(cases));
}
