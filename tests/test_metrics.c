/* test_metrics: counters, gauges and summaries; the Prometheus text format
 * 0.0.4 checked line by line against its grammar; EMF lines checked as JSON
 * (with cJSON) for namespace, dimension sets, names and values; caps and
 * removal. */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>

#include "metrics.h"
#include "testutil.h"
#ifdef VOLSURF_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

static char buf[1 << 16];

static size_t render(struct metrics *m)
{
  return metrics_render_prom(m, buf, sizeof(buf));
}

/* Every line is a TYPE comment or a sample; a sample's family was typed
 * before it.  Returns the number of bad lines (printed). */
static int prom_bad_lines(const char *text)
{
  regex_t type_re, sample_re;
  regcomp(&type_re, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary|histogram|untyped)$",
          REG_EXTENDED);
  regcomp(&sample_re,
          "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
          "(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|"
          "\\\\.)*\")*)?\\})? "
          "(NaN|[+-]Inf|[-+]?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?)$",
          REG_EXTENDED);
  int bad = 0;
  char family[128] = "";
  const char *p = text;
  while (*p) {
    const char *e = strchr(p, '\n');
    if (!e) {
      fprintf(stderr, "\n  unterminated last line\n");
      bad++;
      break;
    }
    char line[512];
    size_t n = (size_t)(e - p) < sizeof(line) - 1 ? (size_t)(e - p) : sizeof(line) - 1;
    memcpy(line, p, n);
    line[n] = '\0';
    regmatch_t mt[2];
    if (regexec(&type_re, line, 2, mt, 0) == 0) {
      snprintf(family, sizeof(family), "%.*s", (int)(mt[1].rm_eo - mt[1].rm_so),
               line + mt[1].rm_so);
    } else if (regexec(&sample_re, line, 2, mt, 0) == 0) {
      if (strncmp(line, family, strlen(family)) != 0 || !family[0]) {
        fprintf(stderr, "\n  sample outside its family: %s\n", line);
        bad++;
      }
    } else {
      fprintf(stderr, "\n  bad line: %s\n", line);
      bad++;
    }
    p = e + 1;
  }
  regfree(&type_re);
  regfree(&sample_re);
  return bad;
}

static void counters_gauges_and_summaries_render_as_prometheus_text(void)
{
  struct metrics *m = metrics_new();
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  metrics_add(m, "volsurf_feed_quotes_total", "venue=\"deribit\"", 3);
  metrics_add(m, "volsurf_feed_quotes_total", "venue=\"deribit\"", 2);
  metrics_add(m, "volsurf_feed_quotes_total", "venue=\"okx\"", 1);
  metrics_add(m, "volsurf_feed_quotes_total", "venue=\"okx\"", -5); /* ignored */
  metrics_set(m, "volsurf_quote_queue_depth", NULL, 17);
  metrics_set(m, "volsurf_feed_age_ms", "venue=\"deribit\"", NAN);
  for (int i = 1; i <= 100; i++)
    metrics_observe(m, "volsurf_fit_batch_ms", NULL, i);
  size_t len = render(m);
  CU_ASSERT(len > 0 && len < sizeof(buf));
  CU_ASSERT_EQUAL(strlen(buf), len);
  CU_ASSERT_EQUAL(prom_bad_lines(buf), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "# TYPE volsurf_feed_quotes_total counter\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_feed_quotes_total{venue=\"deribit\"} 5\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_feed_quotes_total{venue=\"okx\"} 1\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_quote_queue_depth 17\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_feed_age_ms{venue=\"deribit\"} NaN\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "# TYPE volsurf_fit_batch_ms summary\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_fit_batch_ms{quantile=\"0.5\"} 50\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_fit_batch_ms{quantile=\"0.99\"} 99\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_fit_batch_ms_sum 5050\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_fit_batch_ms_count 100\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_metrics_overflow_total 0\n"));
  /* One TYPE line per family. */
  const char *first = strstr(buf, "# TYPE volsurf_feed_quotes_total");
  CU_ASSERT_PTR_NULL(strstr(first + 1, "# TYPE volsurf_feed_quotes_total"));
  metrics_free(m);
}

static void render_reports_the_length_needed_when_the_buffer_is_short(void)
{
  struct metrics *m = metrics_new();
  metrics_set(m, "volsurf_ws_connections", NULL, 3);
  size_t need = render(m);
  char small[16];
  CU_ASSERT_EQUAL(metrics_render_prom(m, small, sizeof(small)), need);
  CU_ASSERT(strlen(small) < sizeof(small));
  metrics_free(m);
}

static void removed_series_disappear_and_bad_names_are_counted(void)
{
  struct metrics *m = metrics_new();
  const char *lb = "venue=\"deribit\",asset=\"BTC\",expiry=\"27DEC26\"";
  metrics_set(m, "volsurf_fit_rmse_vol_pts", lb, 0.4);
  render(m);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "expiry=\"27DEC26\""));
  metrics_remove(m, "volsurf_fit_rmse_vol_pts", lb);
  metrics_remove(m, "volsurf_fit_rmse_vol_pts", "venue=\"nope\""); /* no-op */
  render(m);
  CU_ASSERT_PTR_NULL(strstr(buf, "27DEC26"));
  metrics_set(m, "bad name", NULL, 1);
  metrics_set(m, "9starts_with_digit", NULL, 1);
  metrics_add(m, "volsurf_ws_connections", NULL, 1);
  metrics_set(m, "volsurf_ws_connections", NULL, 1); /* type clash with the counter */
  render(m);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "volsurf_metrics_overflow_total 3\n"));
  CU_ASSERT_EQUAL(prom_bad_lines(buf), 0);
  metrics_free(m);
}

static void series_beyond_the_cap_are_dropped_and_counted(void)
{
  struct metrics *m = metrics_new();
  char lb[64];
  for (int i = 0; i < METRICS_MAX_SERIES + 10; i++) {
    snprintf(lb, sizeof(lb), "i=\"%d\"", i);
    metrics_set(m, "volsurf_test", lb, i);
  }
  static char big[1 << 20];
  size_t len = metrics_render_prom(m, big, sizeof(big));
  CU_ASSERT(len < sizeof(big));
  CU_ASSERT_PTR_NOT_NULL(strstr(big, "volsurf_metrics_overflow_total 10\n"));
  metrics_free(m);
}

#ifdef VOLSURF_HAVE_CJSON
static int has_dimension_set(const cJSON *dims, const char *const *names, int n)
{
  const cJSON *set;
  cJSON_ArrayForEach(set, dims)
  {
    if (cJSON_GetArraySize(set) != n)
      continue;
    int ok = 1;
    for (int i = 0; i < n; i++)
      ok = ok && strcmp(cJSON_GetArrayItem(set, i)->valuestring, names[i]) == 0;
    if (ok)
      return 1;
  }
  return 0;
}
#endif

static void emf_lines_are_json_with_role_dimensions(void)
{
#ifndef VOLSURF_HAVE_CJSON
  CU_PASS("cJSON not built in");
#else
  struct metrics *m = metrics_new();
  metrics_set(m, "volsurf_fit_rmse_vol_pts", "venue=\"deribit\",asset=\"BTC\",expiry=\"27DEC26\"",
              0.75);
  metrics_set(m, "volsurf_ws_connections", NULL, 12);
  for (int i = 1; i <= 100; i++)
    metrics_observe(m, "volsurf_fit_batch_ms", NULL, i);
  metrics_add(m, "volsurf_ws_dropped_total", "reason=\"slow\"", 4);
  metrics_add(m, "volsurf_ws_dropped_total", "reason=\"closed\"", 1);
  metrics_add(m, "volsurf_feed_quotes_total", "venue=\"deribit\"", 9); /* no EMF name */
  FILE *f = tmpfile();
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  int n = metrics_write_emf(m, f, "Volsurf/test", "calibrate", 1700000000123);
  CU_ASSERT_EQUAL(n, 4);
  rewind(f);
  char line[4096];
  int seen_rmse = 0, seen_conn = 0, seen_fit = 0, seen_drop = 0, lines = 0;
  while (fgets(line, sizeof(line), f)) {
    lines++;
    cJSON *j = cJSON_Parse(line);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    const cJSON *aws = cJSON_GetObjectItem(j, "_aws");
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(aws, "Timestamp")->valuedouble, 1700000000123.0);
    const cJSON *cwm = cJSON_GetArrayItem(cJSON_GetObjectItem(aws, "CloudWatchMetrics"), 0);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(cwm, "Namespace")->valuestring, "Volsurf/test");
    const cJSON *dims = cJSON_GetObjectItem(cwm, "Dimensions");
    static const char *const role[] = {"Role"};
    CU_ASSERT(has_dimension_set(dims, role, 1));
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "Role")->valuestring, "calibrate");
    const char *name =
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cwm, "Metrics"), 0), "Name")
            ->valuestring;
    const cJSON *v = cJSON_GetObjectItem(j, name);
    CU_ASSERT_FATAL(cJSON_IsNumber(v));
    if (strcmp(name, "FitRmseVolPts") == 0) {
      static const char *const fine[] = {"Role", "Venue", "Asset", "Expiry"};
      CU_ASSERT(has_dimension_set(dims, fine, 4));
      CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "Expiry")->valuestring, "27DEC26");
      CU_ASSERT_EQUAL(v->valuedouble, 0.75);
      seen_rmse++;
    } else if (strcmp(name, "WebsocketConnections") == 0) {
      CU_ASSERT_EQUAL(cJSON_GetArraySize(dims), 1);
      CU_ASSERT_EQUAL(v->valuedouble, 12);
      seen_conn++;
    } else if (strcmp(name, "FitBatchMs") == 0) {
      CU_ASSERT_EQUAL(v->valuedouble, 99); /* p99 of 1..100 */
      seen_fit++;
    } else if (strcmp(name, "DroppedMessages") == 0) {
      CU_ASSERT_EQUAL(v->valuedouble, 5); /* summed over reasons */
      seen_drop++;
    }
    cJSON_Delete(j);
  }
  CU_ASSERT_EQUAL(lines, 4);
  CU_ASSERT(seen_rmse == 1 && seen_conn == 1 && seen_fit == 1 && seen_drop == 1);
  fclose(f);

  /* The next interval: no new fit observations, no new drops. */
  metrics_add(m, "volsurf_ws_dropped_total", "reason=\"slow\"", 2);
  f = tmpfile();
  n = metrics_write_emf(m, f, "Volsurf/test", "calibrate", 1700000010123);
  CU_ASSERT_EQUAL(n, 3); /* rmse, connections, dropped; FitBatchMs had no batch */
  rewind(f);
  int found = 0;
  while (fgets(line, sizeof(line), f)) {
    cJSON *j = cJSON_Parse(line);
    const cJSON *d = cJSON_GetObjectItem(j, "DroppedMessages");
    if (d) {
      CU_ASSERT_EQUAL(d->valuedouble, 2); /* the increment, not the total */
      found = 1;
    }
    CU_ASSERT_PTR_NULL(cJSON_GetObjectItem(j, "FitBatchMs"));
    cJSON_Delete(j);
  }
  CU_ASSERT(found);
  fclose(f);
  metrics_free(m);
#endif
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(counters_gauges_and_summaries_render_as_prometheus_text),
      TEST_CASE(render_reports_the_length_needed_when_the_buffer_is_short),
      TEST_CASE(removed_series_disappear_and_bad_names_are_counted),
      TEST_CASE(series_beyond_the_cap_are_dropped_and_counted),
      TEST_CASE(emf_lines_are_json_with_role_dimensions),
  };
  return test_run("metrics", cases, TEST_COUNT(cases));
}
