/* rest: REST GETs on libcurl for the live connectors' listings, on one
 * helper thread so that the I/O loop never blocks on HTTP.
 *
 *   feed.c (I/O thread) --rest_submit--> job slots --curl thread--> done
 *   slots --lws_cancel_service--> feed.c rest_take (I/O thread)
 *
 * Bodies over body_max are cut off and reported as ERR_FULL; every request
 * has a connect and a total timeout; only http and https are followed, no
 * redirects.  At most REST_SLOTS jobs wait and REST_SLOTS results are held.
 * Thread use: rest_submit/rest_take/rest_free on the I/O thread. */
#ifndef VOLSURF_FEEDS_REST_H
#define VOLSURF_FEEDS_REST_H

#include <stddef.h>
#include <stdint.h>

#define REST_SLOTS 16
#define REST_URL_LEN 1024

struct lws_context;

struct rest_result {
  int tag;        /* as submitted (the connector's index) */
  uint64_t gen;   /* as submitted (the connector's listing generation) */
  int err;        /* 0, ERR_IO (transport, timeout, HTTP status >= 400), ERR_FULL (body cap) */
  long http_code; /* 0 when no response */
  char *body;     /* NUL-terminated; caller frees with free() */
  size_t len;
  char why[128]; /* curl's message when err is ERR_IO without a response ("" otherwise) */
};

/* Starts the helper thread.  Borrows ctx (woken with lws_cancel_service
 * when a result is ready; may be NULL).  ca_file (copied; NULL: the system
 * store) is a PEM bundle that https peers are verified against instead of
 * the system store (CURLOPT_CAINFO); peer and host name verification are
 * always on.  curl_global_init must have been called (feeds_new does).
 * Returns NULL on failure. */
struct rest *rest_new(struct lws_context *ctx, size_t body_max, long timeout_ms,
                      const char *ca_file);
/* Queues a GET of url (copied).  Returns 0, ERR_INPUT (url too long) or
 * ERR_FULL (REST_SLOTS jobs waiting). */
int rest_submit(struct rest *r, int tag, uint64_t gen, const char *url);
/* Moves one finished request to out.  Returns 1, or 0 when none is ready. */
int rest_take(struct rest *r, struct rest_result *out);
/* Aborts the transfer in progress, joins the thread, frees held bodies. */
void rest_free(struct rest *r);

#endif
