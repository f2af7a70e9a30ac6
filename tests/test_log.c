/* test_log: structured log lines are one JSON object per line with ts,
 * level, msg and trace; strings are escaped; levels filter; an over-long
 * line is cut at a field boundary and still parses. */
#include <stdint.h>

#include "err.h"
#include "log.h"
#include "testutil.h"
#ifdef VOLSURF_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

static FILE *capture(void)
{
  FILE *f = tmpfile();
  log_set_stream(f);
  return f;
}

/* Reads line 'i' (0-based) of f into buf; returns buf or NULL. */
static char *line_at(FILE *f, int i, char *buf, int cap)
{
  rewind(f);
  for (int j = 0; j <= i; j++)
    if (!fgets(buf, cap, f))
      return NULL;
  return buf;
}

static void a_line_is_json_with_ts_level_msg_and_trace(void)
{
  FILE *f = capture();
  struct log_line l;
  log_begin(&l, LOG_WARN, "feed \"deribit\"\nreconnect", 0xabcdef);
  log_str(&l, "venue", "deribit");
  log_int(&l, "attempt", 3);
  log_num(&l, "backoff_s", 1.5);
  log_num(&l, "nan", NAN);
  log_end(&l);
  char buf[2048];
  CU_ASSERT_PTR_NOT_NULL_FATAL(line_at(f, 0, buf, sizeof(buf)));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"trace\":\"0000000000abcdef\""));
  CU_ASSERT_EQUAL(buf[strlen(buf) - 1], '\n');
#ifdef VOLSURF_HAVE_CJSON
  cJSON *j = cJSON_Parse(buf);
  CU_ASSERT_PTR_NOT_NULL_FATAL(j);
  CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "level")->valuestring, "warn");
  CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(j, "msg")->valuestring, "feed \"deribit\"\nreconnect");
  CU_ASSERT_EQUAL(strlen(cJSON_GetObjectItem(j, "ts")->valuestring), 24);
  CU_ASSERT_EQUAL(cJSON_GetObjectItem(j, "attempt")->valuedouble, 3);
  CU_ASSERT_EQUAL(cJSON_GetObjectItem(j, "backoff_s")->valuedouble, 1.5);
  CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(j, "nan")));
  cJSON_Delete(j);
#endif
  log_set_stream(NULL);
  fclose(f);
}

static void lines_below_the_level_are_skipped(void)
{
  FILE *f = capture();
  CU_ASSERT_EQUAL(log_level_parse("debug"), LOG_DEBUG);
  CU_ASSERT_EQUAL(log_level_parse("loud"), ERR_INPUT);
  log_set_level(LOG_WARN);
  log_msg(LOG_INFO, 0, "hidden %d", 1);
  log_msg(LOG_ERROR, 0, "shown %d", 2);
  log_set_level(LOG_INFO);
  char buf[512];
  CU_ASSERT_PTR_NOT_NULL_FATAL(line_at(f, 0, buf, sizeof(buf)));
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"msg\":\"shown 2\""));
  CU_ASSERT_PTR_NULL(strstr(buf, "trace"));
  CU_ASSERT_PTR_NULL(line_at(f, 1, buf, sizeof(buf)));
  log_set_stream(NULL);
  fclose(f);
}

static void an_over_long_line_is_cut_and_marked(void)
{
  FILE *f = capture();
  char big[300];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  struct log_line l;
  log_begin(&l, LOG_ERROR, "long", 1);
  for (int i = 0; i < 10; i++)
    log_str(&l, "field", big);
  log_end(&l);
  char buf[4096];
  CU_ASSERT_PTR_NOT_NULL_FATAL(line_at(f, 0, buf, sizeof(buf)));
  CU_ASSERT(strlen(buf) <= LOG_LINE_MAX);
  CU_ASSERT_PTR_NOT_NULL(strstr(buf, ",\"truncated\":true}\n"));
#ifdef VOLSURF_HAVE_CJSON
  cJSON *j = cJSON_Parse(buf);
  CU_ASSERT_PTR_NOT_NULL(j);
  cJSON_Delete(j);
#endif
  log_set_stream(NULL);
  fclose(f);
}

int main(void)
{
  static const struct test_case cases[] = {
      TEST_CASE(a_line_is_json_with_ts_level_msg_and_trace),
      TEST_CASE(lines_below_the_level_are_skipped),
      TEST_CASE(an_over_long_line_is_cut_and_marked),
  };
  return test_run("log", cases, TEST_COUNT(cases));
}
