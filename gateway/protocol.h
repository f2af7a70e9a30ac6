/* protocol: surface stream protocol v1 (docs/protocol.md) as pure functions,
 * no sockets: the surface document of a struct surface, RFC 7396 merge-patch
 * diff and apply, the canonical checksum, server message encoding and client
 * message validation.  gateway/server.c composes these; the tests and the
 * vectors generator (gateway/protovec.c) use them directly.
 *
 * Documents are cJSON trees.  Invariants of a rendered document: numbers are
 * rounded as the precision table says, a missing value is an absent member
 * (null appears only inside arrays), expiries are keyed by expiry code.
 * All functions are thread-safe (no shared state) and allocate only their
 * results. */
#ifndef VOLSURF_PROTOCOL_H
#define VOLSURF_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "surface.h"

#define PROTO_VERSION 1
#define PROTO_MAX_SUBS 64      /* subscriptions per connection */
#define PROTO_MAX_MESSAGE 4096 /* largest client frame answered (too_big above) */
#define PROTO_CHECKSUM_LEN 9   /* 8 hex digits + NUL */

/* Client-message refusal codes (docs/protocol.md "Error codes"). */
enum proto_err {
  PROTO_OK = 0,
  PROTO_TOO_BIG = 1,
  PROTO_BAD_JSON = 2,
  PROTO_BAD_TYPE = 3,
  PROTO_BAD_FIELD = 4,
  PROTO_UNKNOWN_SURFACE = 5,
  PROTO_TOO_MANY = 6,
  PROTO_N_ERR = 7
};

/* The wire code ("too_big", ...) and a short public message of an error. */
const char *proto_err_code(int e);
const char *proto_err_message(int e);

/* ---- documents ---- */

/* Renders one surface version to its document.  Borrows s; caller frees the
 * result with cJSON_Delete.  NULL when out of memory. */
cJSON *proto_render(const struct surface *s);

/* RFC 7396 merge patch that turns 'from' into 'to' (both objects without
 * null members).  Keys that vanish become null; nested objects are diffed;
 * anything else that changed (arrays, scalars) is replaced whole.  Returns
 * an object, empty when the documents are equal; caller frees.  NULL when
 * out of memory or either argument is not an object. */
cJSON *proto_diff(const cJSON *from, const cJSON *to);

/* Applies merge patch 'patch' to *target (RFC 7396), replacing *target with
 * the result (*target may be NULL).  Borrows patch.  Returns 0 or
 * ERR_NOMEM. */
int proto_apply(cJSON **target, const cJSON *patch);

/* 1 when a and b are the same JSON value (object member order ignored,
 * numbers compared exactly). */
int proto_equal(const cJSON *a, const cJSON *b);

/* 1 when some object member anywhere in doc is null (never in a document). */
int proto_has_null_member(const cJSON *doc);

/* Canonical checksum text of a document (docs/protocol.md "Checksum") into
 * buf (NUL-terminated).  Returns the length, or the length needed when it
 * is >= cap, or ERR_INPUT when doc has no string "id". */
int proto_canonical(const cJSON *doc, char *buf, size_t cap);

/* FNV-1a 32-bit of n bytes. */
uint32_t proto_fnv1a(const void *p, size_t n);

/* The document's checksum as 8 lowercase hex digits.  Returns 0, ERR_INPUT
 * or ERR_NOMEM. */
int proto_checksum(const cJSON *doc, char out[PROTO_CHECKSUM_LEN]);

/* ---- server messages ----
 * Each encoder returns the unformatted JSON text (malloc'd, NUL-terminated,
 * caller frees) and its length in *len; NULL when out of memory. */

/* The header every surface message carries. */
struct proto_head {
  const char *surface;
  int64_t epoch;
  uint64_t seq, prev;
  const char *checksum;
  int64_t time_ms;
};

/* type "snapshot" (data = the document) or "patch" (data = the merge
 * patch).  Borrows data. */
char *proto_encode_surface_msg(const char *type, const struct proto_head *h, const cJSON *data,
                               size_t *len);

char *proto_encode_hello(const char *server, int64_t epoch, int heartbeat_ms, size_t max_message,
                         int64_t time_ms, size_t *len);

/* One entry of a "surfaces" list. */
struct proto_surface_info {
  const char *id, *venue, *asset;
  int n_expiries;
  uint64_t seq;
  int stale;
};
/* type "surfaces" (has_id: echo id) or "ack" (type "ack"). */
char *proto_encode_surfaces(const char *type, const struct proto_surface_info *s, int n, int has_id,
                            int64_t id, int64_t time_ms, size_t *len);

/* One heartbeat entry: a subscription's seq and staleness. */
struct proto_hb {
  const char *id;
  uint64_t seq;
  int stale;
};
/* Writes a heartbeat into buf (no allocation: it is sent to every client
 * every second).  Returns the length, or the length needed when >= cap. */
size_t proto_encode_heartbeat(const struct proto_hb *h, int n, int64_t time_ms, char *buf,
                              size_t cap);

char *proto_encode_error(int err, int has_id, int64_t id, int64_t time_ms, size_t *len);

/* ---- client messages ---- */

enum proto_req_type {
  PROTO_REQ_LIST = 0,
  PROTO_REQ_SUBSCRIBE = 1,
  PROTO_REQ_UNSUBSCRIBE = 2,
  PROTO_REQ_RESYNC = 3
};

struct proto_req {
  int type; /* enum proto_req_type */
  int has_id;
  int64_t id;
  int n_surfaces;                                /* subscribe/unsubscribe; 1 for resync */
  char surfaces[PROTO_MAX_SUBS][SURFACE_ID_LEN]; /* "" for an id too long to exist */
};

/* Parses and validates one client frame of len bytes (not NUL-terminated)
 * against max bytes.  Fills out (has_id/id are set as soon as a valid id is
 * seen, so that an error reply can echo it).  Returns PROTO_OK or the
 * refusal code. */
int proto_parse_request(const char *buf, size_t len, size_t max, struct proto_req *out);

#endif
