/* fake_venue: a tiny loopback venue for the connector tests: one lws server
 * (websocket + plain HTTP GET) on an ephemeral 127.0.0.1 port, serviced on
 * its own thread.  The test scripts it: a responder callback (run on the
 * server thread) answers each text frame the client sends; the test pushes
 * frames, pings or a forced disconnect from its own thread; HTTP paths map
 * to fixed bodies.  Everything the client sent is logged for assertions.
 *
 * Not a simulator: it speaks only what each test tells it to. */
#ifndef VOLSURF_TESTS_FAKE_VENUE_H
#define VOLSURF_TESTS_FAKE_VENUE_H

#include <stddef.h>
#include <stdint.h>

struct fake_venue;

/* Called on the server thread for every complete text frame received. */
typedef void (*fake_on_text)(struct fake_venue *fv, const char *msg, size_t len, void *user);

/* Starts the server thread on 127.0.0.1:<ephemeral>.  NULL on failure. */
struct fake_venue *fake_venue_start(fake_on_text on_text, void *user);
/* The same, serving TLS (wss:// and https:// on the one port) with the PEM
 * certificate chain cert_file and its key key_file (both read at start;
 * NULL, NULL: plain, as fake_venue_start).  NULL on failure. */
struct fake_venue *fake_venue_start_tls(fake_on_text on_text, void *user, const char *cert_file,
                                        const char *key_file);
/* Stops the thread and frees everything. */
void fake_venue_stop(struct fake_venue *fv);
int fake_venue_port(const struct fake_venue *fv);

/* Queues a text frame (copied) for the connected client; any thread. */
void fake_venue_send(struct fake_venue *fv, const char *msg, size_t len);
/* Queues a websocket PING frame. */
void fake_venue_ping(struct fake_venue *fv);
/* A ready responder for Binance's stream: SUBSCRIBE/UNSUBSCRIBE (any
 * request with a numeric id) -> {"result":null,"id":N}. */
void fake_venue_binance_responder(struct fake_venue *fv, const char *msg, size_t len, void *user);
/* Closes every websocket connection and forgets queued frames. */
void fake_venue_drop(struct fake_venue *fv);
/* Serves 'body' (copied; NULL removes) for GET 'path' (query ignored). */
void fake_venue_set_http(struct fake_venue *fv, const char *path, const char *body);

/* Counters, read under the server's lock. */
int fake_venue_accepts(struct fake_venue *fv);   /* websocket connections accepted */
int fake_venue_open(struct fake_venue *fv);      /* websocket connections open now */
int fake_venue_pongs(struct fake_venue *fv);     /* PONG frames received */
int fake_venue_http_hits(struct fake_venue *fv); /* HTTP GETs answered (any path) */
/* Received text frames that contain 'needle'. */
int fake_venue_count_rx(struct fake_venue *fv, const char *needle);

/* A throwaway PKI for the TLS tests, made with the openssl CLI in a fresh
 * temporary folder: a CA, a server certificate it signed for
 * DNS:localhost and IP:127.0.0.1, and one it signed for DNS:other.invalid
 * only (a host name mismatch on loopback).  Nothing is committed. */
struct fake_pki {
  char dir[64];
  char ca[96];                        /* the CA certificate (PEM): what a client trusts */
  char cert[96], key[96];             /* localhost / 127.0.0.1 */
  char other_cert[96], other_key[96]; /* other.invalid */
};
/* Makes the PKI.  Returns 0, 77 when the openssl CLI is missing (the
 * caller skips), or -1 when it failed (the folder is removed). */
int fake_pki_make(struct fake_pki *pki);
/* Removes the folder and its files. */
void fake_pki_remove(struct fake_pki *pki);

/* Test helper for fixtures: rewrites a JSON text so that every expiry field
 * (expiration_timestamp, expTime, deliveryTime, expiryDate) is 'expiry_ms'
 * (same JSON type as before), sets a top-level "id" to 'id' when id >= 0,
 * and removes array rows whose instrument_name / instId / symbol equals
 * 'drop_symbol' (may be NULL).  Returns a malloc'd string or NULL. */
char *fake_json_rewrite(const char *json, long long id, int64_t expiry_ms, const char *drop_symbol);

/* Reads tests/fixtures/<venue>/<name> into a malloc'd NUL-terminated
 * string (VOLSURF_SOURCE_DIR, else this file's folder).  NULL if missing. */
char *fake_fixture(const char *venue, const char *name, size_t *len);

#endif
