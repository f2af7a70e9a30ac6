/* test_protocol: gateway/protocol.c and gateway/client.c without sockets:
 * merge-patch round trips on random and edge documents, the checksum
 * (known answers), the client's gap/epoch/checksum decisions, client
 * message validation, and the per-client queue and conflation rules. */
#include "testutil.h"

#ifdef VOLSURF_HAVE_GATEWAY
#include "client.h"
#include "err.h"
#include "fakesurf.h"
#include "protocol.h"

/* ---- a tiny browser-side model: what web/ does with a message ---- */
struct view {
  int64_t epoch;
  uint64_t seq;
  cJSON *doc;
};

enum { VIEW_APPLIED = 0, VIEW_RESYNC = 1 };

/* Applies a snapshot or patch message (text) the way docs/protocol.md says;
 * returns VIEW_RESYNC when the client must ask for a snapshot. */
static int view_take(struct view *v, const char *text)
{
  cJSON *m = cJSON_Parse(text);
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  const char *type = cJSON_GetObjectItemCaseSensitive(m, "type")->valuestring;
  int64_t epoch = (int64_t)cJSON_GetObjectItemCaseSensitive(m, "epoch")->valuedouble;
  uint64_t seq = (uint64_t)cJSON_GetObjectItemCaseSensitive(m, "seq")->valuedouble;
  uint64_t prev = (uint64_t)cJSON_GetObjectItemCaseSensitive(m, "prev")->valuedouble;
  const char *sum = cJSON_GetObjectItemCaseSensitive(m, "checksum")->valuestring;
  cJSON *data = cJSON_GetObjectItemCaseSensitive(m, "data");
  int rc = VIEW_APPLIED;
  if (strcmp(type, "snapshot") == 0) {
    cJSON_Delete(v->doc);
    v->doc = cJSON_Duplicate(data, 1);
  } else if (epoch != v->epoch || prev != v->seq || !v->doc) {
    rc = VIEW_RESYNC;
    goto out;
  } else {
    CU_ASSERT_EQUAL(proto_apply(&v->doc, data), 0);
  }
  v->epoch = epoch;
  v->seq = seq;
  char mine[PROTO_CHECKSUM_LEN];
  CU_ASSERT_EQUAL(proto_checksum(v->doc, mine), 0);
  if (strcmp(mine, sum) != 0)
    rc = VIEW_RESYNC;
out:
  cJSON_Delete(m);
  return rc;
}

static char *encode(const char *type, int64_t epoch, uint64_t seq, const cJSON *doc,
                    const cJSON *data)
{
  char sum[PROTO_CHECKSUM_LEN];
  proto_checksum(doc, sum);
  struct proto_head h = {"deribit.BTC", epoch, seq, seq - 1, sum, 1};
  size_t len;
  return proto_encode_surface_msg(type, &h, data, &len);
}

static cJSON *fake_doc(uint64_t seed, int step)
{
  struct surface *s = fakesurf_new("deribit", "BTC", seed, step, 6, 5);
  CU_ASSERT_PTR_NOT_NULL_FATAL(s);
  cJSON *d = proto_render(s);
  surface_free(s);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  return d;
}

/* Checks patch(a, b) applied to a copy of a gives b. */
static void check_round_trip(const cJSON *a, const cJSON *b)
{
  cJSON *p = proto_diff(a, b);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  cJSON *t = cJSON_Duplicate(a, 1);
  CU_ASSERT_EQUAL(proto_apply(&t, p), 0);
  CU_ASSERT_TRUE(proto_equal(t, b));
  /* and through text, as the browser gets it */
  char *txt = cJSON_PrintUnformatted(p);
  cJSON *p2 = cJSON_Parse(txt);
  cJSON *t2 = cJSON_Duplicate(a, 1);
  proto_apply(&t2, p2);
  CU_ASSERT_TRUE(proto_equal(t2, b));
  free(txt);
  cJSON_Delete(p2);
  cJSON_Delete(t2);
  cJSON_Delete(t);
  cJSON_Delete(p);
}

static void patch_applied_to_old_gives_new_on_synthetic_surfaces(void)
{
  for (uint64_t seed = 1; seed <= 6; seed++) {
    cJSON *prev = fake_doc(seed, 0);
    for (int step = 1; step < 15; step++) {
      cJSON *cur = fake_doc(seed, step);
      check_round_trip(prev, cur);
      check_round_trip(cur, prev); /* backwards too: adds and deletions swap */
      cJSON_Delete(prev);
      prev = cur;
    }
    cJSON_Delete(prev);
  }
}

/* A random JSON object without null members (arrays may hold null). */
static cJSON *random_value(uint64_t *st, int depth);
static uint64_t next(uint64_t *st)
{
  *st = *st * 6364136223846793005ull + 1442695040888963407ull;
  return *st >> 33;
}

static cJSON *random_object(uint64_t *st, int depth)
{
  static const char *keys[] = {"a", "b", "c", "A", "d", "ee", "5JUN20", "27DEC26"};
  cJSON *o = cJSON_CreateObject();
  int n = (int)(next(st) % 5);
  for (int i = 0; i < n; i++) {
    const char *k = keys[next(st) % 8];
    if (!cJSON_GetObjectItemCaseSensitive(o, k))
      cJSON_AddItemToObject(o, k, random_value(st, depth + 1));
  }
  return o;
}

static cJSON *random_value(uint64_t *st, int depth)
{
  int kind = (int)(next(st) % (depth > 3 ? 4 : 6));
  switch (kind) {
  case 0:
    /* decimal values, as documents hold (rounded, so text round-trips) */
    return cJSON_CreateNumber((double)((int64_t)(next(st) % 2001) - 1000) / 1000.0);
  case 1:
    return cJSON_CreateString((next(st) & 1) ? "x" : "");
  case 2:
    return cJSON_CreateBool(next(st) & 1);
  case 3: {
    cJSON *a = cJSON_CreateArray();
    for (int i = 0, n = (int)(next(st) % 3); i < n; i++)
      cJSON_AddItemToArray(a, (next(st) & 1) ? cJSON_CreateNull() : cJSON_CreateNumber(i));
    return a;
  }
  default:
    return random_object(st, depth);
  }
}

static void patch_applied_to_old_gives_new_on_random_documents(void)
{
  uint64_t st = 42;
  for (int i = 0; i < 2000; i++) {
    cJSON *a = random_object(&st, 0), *b = random_object(&st, 0);
    check_round_trip(a, b);
    check_round_trip(a, a);
    cJSON_Delete(a);
    cJSON_Delete(b);
  }
}

static void patch_edge_cases_round_trip(void)
{
  static const char *pairs[][2] = {
      {"{}", "{}"},
      {"{}", "{\"a\":{\"b\":{}}}"},
      {"{\"a\":{\"b\":1}}", "{\"a\":{}}"},
      {"{\"a\":{\"b\":1}}", "{\"a\":5}"},
      {"{\"a\":5}", "{\"a\":{\"b\":{\"c\":[null]}}}"},
      {"{\"a\":[1,2]}", "{\"a\":[1,2,null]}"},
      {"{\"a\":1}", "{\"A\":1}"}, /* keys are case-sensitive */
      {"{\"a\":0}", "{\"a\":false}"},
      {"{\"a\":1e-8}", "{\"a\":1.00000001e-8}"},
  };
  for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
    cJSON *a = cJSON_Parse(pairs[i][0]), *b = cJSON_Parse(pairs[i][1]);
    check_round_trip(a, b);
    cJSON_Delete(a);
    cJSON_Delete(b);
  }
  /* an unchanged document gives an empty patch */
  cJSON *d = fake_doc(2, 3);
  cJSON *p = proto_diff(d, d);
  CU_ASSERT_PTR_NULL(p->child);
  cJSON_Delete(p);
  cJSON_Delete(d);
}

static void documents_never_hold_null_members(void)
{
  for (uint64_t seed = 1; seed <= 4; seed++)
    for (int step = 0; step < 10; step++) {
      cJSON *d = fake_doc(seed, step);
      CU_ASSERT_FALSE(proto_has_null_member(d));
      /* but missing values inside arrays are null */
      cJSON_Delete(d);
    }
  cJSON *with = cJSON_Parse("{\"a\":{\"b\":null}}");
  CU_ASSERT_TRUE(proto_has_null_member(with));
  cJSON_Delete(with);
  cJSON *arr = cJSON_Parse("{\"a\":[null]}");
  CU_ASSERT_FALSE(proto_has_null_member(arr));
  cJSON_Delete(arr);
}

static void document_rounds_to_documented_precision(void)
{
  struct surface *s = fakesurf_new("deribit", "BTC", 2, 0, 1, 2);
  s->index_price = 97012.5549;
  s->exp[0].p.a = 0.004123456789;
  s->exp[0].p.rho = -0.000000004; /* rounds to 0, printed "0" not "-0" */
  s->exp[0].dv.atm_vol = 0.45004;
  s->exp[0].dv.rr25 = NAN;
  s->exp[0].T_years = 0.0890414999;
  cJSON *d = proto_render(s);
  char *txt = cJSON_PrintUnformatted(d);
  CU_ASSERT_PTR_NOT_NULL(strstr(txt, "\"index\":97012.555"));
  CU_ASSERT_PTR_NOT_NULL(strstr(txt, "\"a\":0.00412346"));
  CU_ASSERT_PTR_NOT_NULL(strstr(txt, "\"rho\":0,"));
  CU_ASSERT_PTR_NOT_NULL(strstr(txt, "\"atm\":0.45,"));
  CU_ASSERT_PTR_NOT_NULL(strstr(txt, "\"T\":0.089041,"));
  cJSON *e = cJSON_GetObjectItemCaseSensitive(d, "expiries")->child;
  CU_ASSERT_PTR_NULL(cJSON_GetObjectItemCaseSensitive(e, "rr25")); /* absent, never null */
  CU_ASSERT_PTR_NOT_NULL(cJSON_GetObjectItemCaseSensitive(e, "fly25"));
  CU_ASSERT_PTR_NOT_NULL(strstr(txt, "\"bid\":[0.")); /* points present */
  free(txt);
  cJSON_Delete(d);
  surface_free(s);
}

static void checksum_matches_known_answers(void)
{
  CU_ASSERT_EQUAL(proto_fnv1a("", 0), 0x811c9dc5u);
  CU_ASSERT_EQUAL(proto_fnv1a("a", 1), 0xe40c292cu);
  CU_ASSERT_EQUAL(proto_fnv1a("foobar", 6), 0xbf9cf968u);
  cJSON *d = cJSON_Parse("{\"id\":\"deribit.BTC\",\"expiries\":{\"5JUN20\":{\"svi\":{\"a\":0.1,"
                         "\"b\":0.2,\"rho\":-0.5,\"m\":0,\"sigma\":0.3}},\"27DEC26\":{}}}");
  char canon[256], sum[PROTO_CHECKSUM_LEN];
  int n = proto_canonical(d, canon, sizeof(canon));
  CU_ASSERT_EQUAL(n, (int)strlen(canon));
  /* codes in byte order: "27DEC26" < "5JUN20" */
  CU_ASSERT_STRING_EQUAL(canon,
                         "deribit.BTC\n27DEC26|-\n5JUN20|10000000|20000000|-50000000|0|30000000\n");
  CU_ASSERT_EQUAL(proto_checksum(d, sum), 0);
  CU_ASSERT_STRING_EQUAL(sum, "841d7d2d"); /* FNV-1a by an independent script */
  cJSON_Delete(d);
  /* no expiries (regression: qsort of an empty, NULL list under UBSan) */
  cJSON *empty = cJSON_Parse("{\"id\":\"okx.ETH\",\"expiries\":{}}");
  CU_ASSERT_EQUAL(proto_canonical(empty, canon, sizeof(canon)), 8);
  CU_ASSERT_STRING_EQUAL(canon, "okx.ETH\n");
  cJSON_Delete(empty);
  cJSON *noid = cJSON_Parse("{\"expiries\":{}}");
  CU_ASSERT_EQUAL(proto_checksum(noid, sum), ERR_INPUT);
  cJSON_Delete(noid);
}

static void patch_stream_reproduces_server_document_and_checksum(void)
{
  struct view v = {0, 0, NULL};
  cJSON *prev = fake_doc(3, 0);
  char *m = encode("snapshot", 7, 1, prev, prev);
  CU_ASSERT_EQUAL(view_take(&v, m), VIEW_APPLIED);
  free(m);
  for (int step = 1; step < 12; step++) {
    cJSON *cur = fake_doc(3, step);
    cJSON *p = proto_diff(prev, cur);
    m = encode("patch", 7, (uint64_t)step + 1, cur, p);
    CU_ASSERT_EQUAL(view_take(&v, m), VIEW_APPLIED);
    CU_ASSERT_TRUE(proto_equal(v.doc, cur));
    free(m);
    cJSON_Delete(p);
    cJSON_Delete(prev);
    prev = cur;
  }
  cJSON_Delete(prev);
  cJSON_Delete(v.doc);
}

static void patch_with_gap_requests_snapshot(void)
{
  struct view v = {0, 0, NULL};
  cJSON *d0 = fake_doc(2, 0), *d1 = fake_doc(2, 1), *d2 = fake_doc(2, 2);
  char *m = encode("snapshot", 7, 1, d0, d0);
  view_take(&v, m);
  free(m);
  cJSON *p = proto_diff(d1, d2); /* seq 3 (prev 2): the client has 1 */
  m = encode("patch", 7, 3, d2, p);
  CU_ASSERT_EQUAL(view_take(&v, m), VIEW_RESYNC);
  CU_ASSERT_EQUAL(v.seq, 1);
  free(m);
  cJSON_Delete(p);
  cJSON_Delete(d0);
  cJSON_Delete(d1);
  cJSON_Delete(d2);
  cJSON_Delete(v.doc);
}

static void patch_from_another_epoch_requests_snapshot(void)
{
  struct view v = {0, 0, NULL};
  cJSON *d0 = fake_doc(2, 0), *d1 = fake_doc(2, 1);
  char *m = encode("snapshot", 7, 1, d0, d0);
  view_take(&v, m);
  free(m);
  cJSON *p = proto_diff(d0, d1);
  m = encode("patch", 8, 2, d1, p); /* server restarted: epoch 8 */
  CU_ASSERT_EQUAL(view_take(&v, m), VIEW_RESYNC);
  free(m);
  m = encode("snapshot", 8, 1, d1, d1); /* the new epoch's snapshot is taken */
  CU_ASSERT_EQUAL(view_take(&v, m), VIEW_APPLIED);
  CU_ASSERT_EQUAL(v.epoch, 8);
  free(m);
  cJSON_Delete(p);
  cJSON_Delete(d0);
  cJSON_Delete(d1);
  cJSON_Delete(v.doc);
}

static void diverged_state_is_caught_by_checksum(void)
{
  struct view v = {0, 0, NULL};
  cJSON *d0 = fake_doc(2, 0), *d1 = fake_doc(2, 1);
  char *m = encode("snapshot", 7, 1, d0, d0);
  view_take(&v, m);
  free(m);
  /* the client's copy got corrupted: one svi parameter differs */
  cJSON *ex = cJSON_GetObjectItemCaseSensitive(v.doc, "expiries");
  cJSON *svi = cJSON_GetObjectItemCaseSensitive(ex->child, "svi");
  cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(svi, "a"), 0.5);
  /* a patch that does not touch that expiry's svi keeps the error */
  cJSON *p = proto_diff(d0, d0);
  cJSON_AddNumberToObject(p, "as_of", 5);
  m = encode("patch", 7, 2, d0, p);
  CU_ASSERT_EQUAL(view_take(&v, m), VIEW_RESYNC);
  free(m);
  cJSON_Delete(p);
  cJSON_Delete(d0);
  cJSON_Delete(d1);
  cJSON_Delete(v.doc);
}

/* ---- client messages ---- */

static int parse(const char *s, struct proto_req *r)
{
  return proto_parse_request(s, strlen(s), PROTO_MAX_MESSAGE, r);
}

static void valid_client_messages_are_parsed(void)
{
  struct proto_req r;
  CU_ASSERT_EQUAL(parse("{\"type\":\"list\",\"id\":3}", &r), PROTO_OK);
  CU_ASSERT_EQUAL(r.type, PROTO_REQ_LIST);
  CU_ASSERT_TRUE(r.has_id);
  CU_ASSERT_EQUAL(r.id, 3);
  CU_ASSERT_EQUAL(
      parse(" {\"type\":\"subscribe\",\"surfaces\":[\"deribit.BTC\",\"okx.ETH\"]} ", &r), PROTO_OK);
  CU_ASSERT_EQUAL(r.type, PROTO_REQ_SUBSCRIBE);
  CU_ASSERT_EQUAL(r.n_surfaces, 2);
  CU_ASSERT_STRING_EQUAL(r.surfaces[1], "okx.ETH");
  CU_ASSERT_EQUAL(parse("{\"type\":\"resync\",\"surface\":\"deribit.BTC\"}", &r), PROTO_OK);
  CU_ASSERT_EQUAL(r.type, PROTO_REQ_RESYNC);
  CU_ASSERT_STRING_EQUAL(r.surfaces[0], "deribit.BTC");
  CU_ASSERT_EQUAL(parse("{\"type\":\"unsubscribe\",\"surfaces\":[]}", &r), PROTO_OK);
  CU_ASSERT_EQUAL(r.n_surfaces, 0);
}

static void malformed_client_messages_are_refused_with_the_right_code(void)
{
  struct proto_req r;
  CU_ASSERT_EQUAL(parse("garbage", &r), PROTO_BAD_JSON);
  CU_ASSERT_EQUAL(parse("", &r), PROTO_BAD_JSON);
  CU_ASSERT_EQUAL(parse("[1,2]", &r), PROTO_BAD_JSON);
  CU_ASSERT_EQUAL(parse("{\"type\":\"list\"} x", &r), PROTO_BAD_JSON);
  CU_ASSERT_EQUAL(parse("{\"type\":\"list\"", &r), PROTO_BAD_JSON);
  CU_ASSERT_EQUAL(parse("{}", &r), PROTO_BAD_TYPE);
  CU_ASSERT_EQUAL(parse("{\"type\":5}", &r), PROTO_BAD_TYPE);
  CU_ASSERT_EQUAL(parse("{\"type\":\"LIST\",\"id\":9}", &r), PROTO_BAD_TYPE);
  CU_ASSERT_TRUE(r.has_id); /* the error reply can echo it */
  CU_ASSERT_EQUAL(r.id, 9);
  CU_ASSERT_EQUAL(parse("{\"type\":\"subscribe\"}", &r), PROTO_BAD_FIELD);
  CU_ASSERT_EQUAL(parse("{\"type\":\"subscribe\",\"surfaces\":\"deribit.BTC\"}", &r),
                  PROTO_BAD_FIELD);
  CU_ASSERT_EQUAL(parse("{\"type\":\"subscribe\",\"surfaces\":[1]}", &r), PROTO_BAD_FIELD);
  CU_ASSERT_EQUAL(parse("{\"type\":\"resync\"}", &r), PROTO_BAD_FIELD);
  CU_ASSERT_EQUAL(parse("{\"type\":\"list\",\"id\":\"x\"}", &r), PROTO_BAD_FIELD);
  CU_ASSERT_EQUAL(parse("{\"type\":\"list\",\"id\":1.5}", &r), PROTO_BAD_FIELD);
  char big[PROTO_MAX_MESSAGE + 2];
  memset(big, ' ', sizeof(big));
  CU_ASSERT_EQUAL(proto_parse_request(big, sizeof(big), PROTO_MAX_MESSAGE, &r), PROTO_TOO_BIG);
  char many[PROTO_MAX_MESSAGE];
  int n = snprintf(many, sizeof(many), "{\"type\":\"subscribe\",\"surfaces\":[");
  for (int i = 0; i < PROTO_MAX_SUBS + 1; i++)
    n += snprintf(many + n, sizeof(many) - (size_t)n, "%s\"s%d\"", i ? "," : "", i);
  snprintf(many + n, sizeof(many) - (size_t)n, "]}");
  CU_ASSERT_EQUAL(parse(many, &r), PROTO_TOO_MANY);
  CU_ASSERT_STRING_EQUAL(proto_err_code(PROTO_UNKNOWN_SURFACE), "unknown_surface");
}

static void overlong_surface_id_is_unknown_not_truncated(void)
{
  struct proto_req r;
  char msg[256];
  snprintf(msg, sizeof(msg), "{\"type\":\"subscribe\",\"surfaces\":[\"%0*d\"]}", SURFACE_ID_LEN + 5,
           7);
  CU_ASSERT_EQUAL(parse(msg, &r), PROTO_OK);
  CU_ASSERT_STRING_EQUAL(r.surfaces[0], "");
}

static void messages_encode_as_documented(void)
{
  size_t len;
  char *h = proto_encode_hello("volsurf", 77, 1000, 4096, 5, &len);
  CU_ASSERT_STRING_EQUAL(h, "{\"type\":\"hello\",\"time\":5,\"protocol\":1,\"server\":\"volsurf\","
                            "\"epoch\":77,\"heartbeat_ms\":1000,\"max_message\":4096}");
  free(h);
  struct proto_hb hb[2] = {{"deribit.BTC", 12, 0}, {"okx.ETH", 3, 1}};
  char buf[256];
  size_t n = proto_encode_heartbeat(hb, 2, 9, buf, sizeof(buf));
  CU_ASSERT_EQUAL(n, strlen(buf));
  CU_ASSERT_STRING_EQUAL(buf,
                         "{\"type\":\"heartbeat\",\"time\":9,\"surfaces\":{\"deribit.BTC\":{"
                         "\"seq\":12,\"stale\":false},\"okx.ETH\":{\"seq\":3,\"stale\":true}}}");
  CU_ASSERT(proto_encode_heartbeat(hb, 2, 9, buf, 10) > 10); /* needed length */
  char *e = proto_encode_error(PROTO_BAD_FIELD, 1, 4, 5, &len);
  cJSON *o = cJSON_Parse(e);
  CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItemCaseSensitive(o, "code")->valuestring, "bad_field");
  CU_ASSERT_EQUAL(cJSON_GetObjectItemCaseSensitive(o, "id")->valueint, 4);
  cJSON_Delete(o);
  free(e);
}

/* ---- per-client queue ---- */

static struct gw_msg *msg(int surf, size_t len)
{
  char text[4096];
  memset(text, 'x', len);
  return gw_msg_new(text, len, surf, surf >= 0 ? GW_MSG_PATCH : GW_MSG_OTHER);
}

static void queue_keeps_order_and_shares_messages(void)
{
  struct gw_client c;
  CU_ASSERT_EQUAL(gwc_init(&c, 4, 1000), 0);
  gwc_subscribe(&c, 0, 1);
  CU_ASSERT_EQUAL(gwc_take_snapshot_due(&c, 1), 0); /* subscribe owes a snapshot */
  CU_ASSERT_EQUAL(gwc_take_snapshot_due(&c, 1), -1);
  struct gw_msg *a = msg(0, 10), *b = msg(-1, 10);
  CU_ASSERT_EQUAL(gwc_push(&c, a, 2), GWC_QUEUED);
  CU_ASSERT_EQUAL(gwc_push(&c, b, 2), GWC_QUEUED);
  CU_ASSERT_EQUAL(a->refs, 2);
  struct gw_msg *other = msg(1, 1);
  CU_ASSERT_EQUAL(gwc_push(&c, other, 2), GWC_SKIPPED); /* not subscribed */
  gw_msg_unref(other);
  struct gw_msg *x = gwc_pop(&c, 3);
  CU_ASSERT_PTR_EQUAL(x, a);
  gw_msg_unref(x);
  x = gwc_pop(&c, 3);
  CU_ASSERT_PTR_EQUAL(x, b);
  gw_msg_unref(x);
  CU_ASSERT_PTR_NULL(gwc_pop(&c, 3));
  CU_ASSERT_EQUAL(c.bytes, 0);
  CU_ASSERT_EQUAL(c.busy_since_ms, 0);
  gw_msg_unref(a);
  gw_msg_unref(b);
  gwc_fini(&c);
}

static void full_queue_conflates_to_a_snapshot_of_that_surface_only(void)
{
  struct gw_client c;
  gwc_init(&c, 3, 1000);
  gwc_subscribe(&c, 0, 1);
  gwc_subscribe(&c, 1, 1);
  while (gwc_take_snapshot_due(&c, 1) >= 0)
    ;
  struct gw_msg *p0 = msg(0, 10), *p1 = msg(1, 10);
  CU_ASSERT_EQUAL(gwc_push(&c, p0, 2), GWC_QUEUED);
  CU_ASSERT_EQUAL(gwc_push(&c, p1, 2), GWC_QUEUED);
  CU_ASSERT_EQUAL(gwc_push(&c, p0, 2), GWC_QUEUED);
  CU_ASSERT_EQUAL(gwc_push(&c, p0, 2), GWC_CONFLATED); /* 4th does not fit */
  CU_ASSERT_EQUAL(c.n, 1);                             /* surface 1's patch stays */
  CU_ASSERT_EQUAL(gwc_push(&c, p0, 2), GWC_SKIPPED);   /* the snapshot will carry it */
  CU_ASSERT_TRUE(gwc_has_work(&c));
  CU_ASSERT_EQUAL(gwc_take_snapshot_due(&c, 3), 0);
  struct gw_msg *x = gwc_pop(&c, 3);
  CU_ASSERT_PTR_EQUAL(x, p1);
  gw_msg_unref(x);
  CU_ASSERT_EQUAL(p0->refs, 1);
  /* the byte cap conflates too */
  struct gw_msg *big = msg(0, 600);
  CU_ASSERT_EQUAL(gwc_push(&c, big, 4), GWC_QUEUED); /* an empty queue takes anything */
  CU_ASSERT_EQUAL(gwc_push(&c, big, 4), GWC_CONFLATED);
  /* a heartbeat that does not fit is dropped, not conflated */
  gwc_take_snapshot_due(&c, 4);
  CU_ASSERT_EQUAL(gwc_push(&c, p1, 4), GWC_QUEUED);
  struct gw_msg *hb = msg(-1, 999);
  CU_ASSERT_EQUAL(gwc_push(&c, hb, 4), GWC_DROPPED);
  gw_msg_unref(hb);
  gw_msg_unref(big);
  gw_msg_unref(p0);
  gw_msg_unref(p1);
  gwc_fini(&c);
}

static void client_conflated_nine_times_in_ten_seconds_is_closed(void)
{
  struct gw_client c;
  gwc_init(&c, 1, 1000);
  gwc_subscribe(&c, 0, 1);
  struct gw_msg *p = msg(0, 10), *o = msg(-1, 10);
  int64_t t = 1000;
  int r = 0;
  for (int i = 0; i < GW_CONFLATE_LIMIT + 1; i++, t += 1000) {
    gwc_take_snapshot_due(&c, t);
    /* the queue holds another message, so the patch does not fit */
    if (c.n == 0)
      gwc_push(&c, o, t);
    r = gwc_push(&c, p, t);
    CU_ASSERT_EQUAL(r, i < GW_CONFLATE_LIMIT ? GWC_CONFLATED : GWC_CLOSE);
  }
  CU_ASSERT_EQUAL(c.close_code, 4000);
  gwc_fini(&c);
  /* the same count spread over more than 10 s is tolerated */
  gwc_init(&c, 1, 1000);
  gwc_subscribe(&c, 0, 1);
  t = 1000;
  for (int i = 0; i < 3 * GW_CONFLATE_LIMIT; i++, t += 2000) {
    gwc_take_snapshot_due(&c, t);
    if (c.n == 0)
      gwc_push(&c, o, t);
    CU_ASSERT_EQUAL(gwc_push(&c, p, t), GWC_CONFLATED);
  }
  CU_ASSERT_EQUAL(c.close_code, 0);
  gwc_fini(&c);
  gw_msg_unref(p);
  gw_msg_unref(o);
}

static void queue_not_drained_for_thirty_seconds_is_stuck(void)
{
  struct gw_client c;
  gwc_init(&c, 4, 1000);
  struct gw_msg *o = msg(-1, 10);
  gwc_push(&c, o, 1000);
  CU_ASSERT_FALSE(gwc_check_stuck(&c, 1000 + GW_STUCK_MS - 1));
  gwc_push(&c, o, 20000); /* still not drained */
  CU_ASSERT_TRUE(gwc_check_stuck(&c, 1000 + GW_STUCK_MS));
  CU_ASSERT_EQUAL(c.close_code, 4000);
  gwc_fini(&c);
  gwc_init(&c, 4, 1000);
  gwc_push(&c, o, 1000);
  gw_msg_unref(gwc_pop(&c, 2000)); /* drained: the clock restarts */
  gwc_push(&c, o, 25000);
  CU_ASSERT_FALSE(gwc_check_stuck(&c, 1000 + GW_STUCK_MS));
  gwc_fini(&c);
  gw_msg_unref(o);
}

static void unsubscribe_drops_queued_messages_and_too_many_subscriptions_fail(void)
{
  struct gw_client c;
  gwc_init(&c, 8, 1000);
  for (int i = 0; i < PROTO_MAX_SUBS; i++)
    CU_ASSERT_EQUAL(gwc_subscribe(&c, i, 1), 0);
  CU_ASSERT_EQUAL(gwc_subscribe(&c, PROTO_MAX_SUBS, 1), ERR_FULL);
  CU_ASSERT_EQUAL(gwc_subscribe(&c, 3, 1), 0); /* re-subscribing is fine */
  while (gwc_take_snapshot_due(&c, 1) >= 0)
    ;
  struct gw_msg *p = msg(3, 10);
  gwc_push(&c, p, 2);
  gwc_unsubscribe(&c, 3, 2);
  CU_ASSERT_EQUAL(c.n, 0);
  CU_ASSERT_EQUAL(gwc_push(&c, p, 2), GWC_SKIPPED);
  CU_ASSERT_EQUAL(gwc_resync(&c, 3, 2), ERR_BADSTATE);
  gw_msg_unref(p);
  gwc_fini(&c);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(patch_applied_to_old_gives_new_on_synthetic_surfaces),
      TEST_CASE(patch_applied_to_old_gives_new_on_random_documents),
      TEST_CASE(patch_edge_cases_round_trip),
      TEST_CASE(documents_never_hold_null_members),
      TEST_CASE(document_rounds_to_documented_precision),
      TEST_CASE(checksum_matches_known_answers),
      TEST_CASE(patch_stream_reproduces_server_document_and_checksum),
      TEST_CASE(patch_with_gap_requests_snapshot),
      TEST_CASE(patch_from_another_epoch_requests_snapshot),
      TEST_CASE(diverged_state_is_caught_by_checksum),
      TEST_CASE(valid_client_messages_are_parsed),
      TEST_CASE(malformed_client_messages_are_refused_with_the_right_code),
      TEST_CASE(overlong_surface_id_is_unknown_not_truncated),
      TEST_CASE(messages_encode_as_documented),
      TEST_CASE(queue_keeps_order_and_shares_messages),
      TEST_CASE(full_queue_conflates_to_a_snapshot_of_that_surface_only),
      TEST_CASE(client_conflated_nine_times_in_ten_seconds_is_closed),
      TEST_CASE(queue_not_drained_for_thirty_seconds_is_stuck),
      TEST_CASE(unsubscribe_drops_queued_messages_and_too_many_subscriptions_fail),
  };
  return test_run("protocol", cases, (int)(sizeof(cases) / sizeof(cases[0])));
}
#else
int main(void)
{
  return TEST_SKIP; /* gateway/ not built (no libwebsockets or cJSON) */
}
#endif
