/* rest: listing GETs on a libcurl helper thread (see rest.h).  One mutex
 * guards the job and result rings; the thread sleeps on a condition
 * variable between jobs, and curl's progress callback aborts a transfer
 * when rest_free asks the thread to stop. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "rest.h"

#include <curl/curl.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

struct rest_job {
  int tag;
  uint64_t gen;
  char url[REST_URL_LEN];
};

struct rest {
  struct lws_context *ctx;
  size_t body_max;
  long timeout_ms;
  char *ca_file; /* NULL: curl's default (the system store) */
  pthread_t thread;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stop;
  struct rest_job jobs[REST_SLOTS];
  int job_head, n_jobs;
  struct rest_result done[REST_SLOTS];
  int done_head, n_done;
};

struct rest_body {
  char *p;
  size_t len, cap, max;
  int over;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user)
{
  struct rest_body *b = user;
  size_t n = size * nmemb;
  if (b->len + n > b->max) {
    b->over = 1;
    return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
  }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 16384;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
      return 0;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, ptr, n);
  b->len += n;
  b->p[b->len] = '\0';
  return n;
}

static int on_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
  (void)dt, (void)dn, (void)ut, (void)un;
  struct rest *r = user;
  pthread_mutex_lock(&r->mu);
  int stop = r->stop;
  pthread_mutex_unlock(&r->mu);
  return stop; /* non-zero aborts */
}

/* Runs one GET; fills res (body owned by res). */
static void rest_get(struct rest *r, CURL *c, const struct rest_job *job, struct rest_result *res)
{
  struct rest_body b = {.max = r->body_max};
  char why[CURL_ERROR_SIZE] = "";
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
  curl_easy_setopt(c, CURLOPT_URL, job->url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  /* curl_easy_reset restores these defaults; set them anyway so that no
   * path through here can run an unverified TLS transfer. */
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (r->ca_file)
    curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms < 5000 ? r->timeout_ms : 5000L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "volsurf/0.1");
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
  CURLcode rc = curl_easy_perform(c);
  res->tag = job->tag;
  res->gen = job->gen;
  res->http_code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->http_code);
  if (b.over)
    res->err = ERR_FULL;
  else if (rc != CURLE_OK || res->http_code >= 400 || !b.p)
    res->err = ERR_IO;
  else
    res->err = 0;
  if (res->err == ERR_IO && rc != CURLE_OK)
    snprintf(res->why, sizeof res->why, "%.*s", (int)sizeof res->why - 1,
             why[0] ? why : curl_easy_strerror(rc));
  if (res->err) {
    free(b.p);
    b.p = NULL;
    b.len = 0;
  }
  res->body = b.p;
  res->len = b.len;
}

static void *rest_main(void *arg)
{
  struct rest *r = arg;
  CURL *c = curl_easy_init();
  pthread_mutex_lock(&r->mu);
  for (;;) {
    while (!r->stop && r->n_jobs == 0)
      pthread_cond_wait(&r->cv, &r->mu);
    if (r->stop)
      break;
    struct rest_job job = r->jobs[r->job_head];
    r->job_head = (r->job_head + 1) % REST_SLOTS;
    r->n_jobs--;
    pthread_mutex_unlock(&r->mu);
    struct rest_result res = {0};
    if (c) {
      rest_get(r, c, &job, &res);
    } else {
      res.tag = job.tag;
      res.gen = job.gen;
      res.err = ERR_NOMEM;
    }
    pthread_mutex_lock(&r->mu);
    if (r->n_done < REST_SLOTS) {
      r->done[(r->done_head + r->n_done) % REST_SLOTS] = res;
      r->n_done++;
    } else {
      free(res.body); /* cannot happen: at most REST_SLOTS jobs are in flight */
    }
    if (r->ctx)
      lws_cancel_service(r->ctx);
  }
  pthread_mutex_unlock(&r->mu);
  curl_easy_cleanup(c);
  return NULL;
}

struct rest *rest_new(struct lws_context *ctx, size_t body_max, long timeout_ms,
                      const char *ca_file)
{
  struct rest *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  if (ca_file) {
    r->ca_file = strdup(ca_file);
    if (!r->ca_file) {
      free(r);
      return NULL;
    }
  }
  r->ctx = ctx;
  r->body_max = body_max;
  r->timeout_ms = timeout_ms > 0 ? timeout_ms : 15000;
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cv, NULL);
  if (pthread_create(&r->thread, NULL, rest_main, r) != 0) {
    rest_free(r);
    return NULL;
  }
  r->started = 1;
  return r;
}

int rest_submit(struct rest *r, int tag, uint64_t gen, const char *url)
{
  if (!url || strlen(url) >= REST_URL_LEN)
    return ERR_INPUT;
  pthread_mutex_lock(&r->mu);
  /* Jobs waiting plus results not yet taken: bounded so that the done ring
   * always has room for what the thread finishes. */
  if (r->n_jobs + r->n_done >= REST_SLOTS - 1) {
    pthread_mutex_unlock(&r->mu);
    return ERR_FULL;
  }
  struct rest_job *j = &r->jobs[(r->job_head + r->n_jobs) % REST_SLOTS];
  j->tag = tag;
  j->gen = gen;
  strcpy(j->url, url);
  r->n_jobs++;
  pthread_cond_signal(&r->cv);
  pthread_mutex_unlock(&r->mu);
  return 0;
}

int rest_take(struct rest *r, struct rest_result *out)
{
  pthread_mutex_lock(&r->mu);
  int got = r->n_done > 0;
  if (got) {
    *out = r->done[r->done_head];
    r->done_head = (r->done_head + 1) % REST_SLOTS;
    r->n_done--;
  }
  pthread_mutex_unlock(&r->mu);
  return got;
}

void rest_free(struct rest *r)
{
  if (!r)
    return;
  if (r->started) {
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
  }
  for (int i = 0; i < r->n_done; i++)
    free(r->done[(r->done_head + i) % REST_SLOTS].body);
  pthread_mutex_destroy(&r->mu);
  pthread_cond_destroy(&r->cv);
  free(r->ca_file);
  free(r);
}
