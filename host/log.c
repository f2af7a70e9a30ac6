/* log: JSON-lines events on stderr (see log.h).  The level and the stream
 * are process-wide settings read with relaxed atomics; the write is one
 * fwrite under the stream's lock (flockfile), so concurrent lines stay
 * whole. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, gmtime_r, flockfile */
#include "log.h"

#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "err.h"

static atomic_int g_level = LOG_INFO;
static _Atomic(FILE *) g_stream = NULL;

void log_set_level(int level)
{
  if (level >= LOG_DEBUG && level <= LOG_ERROR)
    atomic_store_explicit(&g_level, level, memory_order_relaxed);
}

int log_get_level(void)
{
  return atomic_load_explicit(&g_level, memory_order_relaxed);
}

int log_level_parse(const char *name)
{
  static const char *names[] = {"debug", "info", "warn", "error"};
  for (int i = 0; name && i < 4; i++)
    if (strcmp(name, names[i]) == 0)
      return i;
  return ERR_INPUT;
}

void log_set_stream(FILE *f)
{
  atomic_store(&g_stream, f);
}

void log_trace_hex(uint64_t id, char out[17])
{
  static const char hex[] = "0123456789abcdef";
  for (int i = 15; i >= 0; i--, id >>= 4)
    out[i] = hex[id & 15];
  out[16] = '\0';
}

/* Appends raw bytes; on overflow marks the line truncated and keeps room
 * for the closing ",\"truncated\":true}" (30 bytes). */
#define LOG_TAIL_RESERVE 32
static int put(struct log_line *l, const char *s, size_t n)
{
  if (l->truncated || l->len + n + LOG_TAIL_RESERVE > sizeof(l->buf)) {
    l->truncated = 1;
    return -1;
  }
  memcpy(l->buf + l->len, s, n);
  l->len += n;
  return 0;
}

/* A JSON string literal of s, built in a scratch buffer first so that a
 * field is added whole or not at all. */
static void put_json_string(struct log_line *l, const char *s)
{
  char tmp[LOG_LINE_MAX];
  size_t n = 0;
  tmp[n++] = '"';
  for (const unsigned char *p = (const unsigned char *)s; *p && n + 8 < sizeof(tmp); p++) {
    if (*p == '"' || *p == '\\') {
      tmp[n++] = '\\';
      tmp[n++] = (char)*p;
    } else if (*p < 0x20) {
      n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "\\u%04x", *p);
    } else {
      tmp[n++] = (char)*p;
    }
  }
  tmp[n++] = '"';
  put(l, tmp, n);
}

static void put_key(struct log_line *l, const char *key)
{
  put(l, ",", 1);
  put_json_string(l, key);
  put(l, ":", 1);
}

void log_begin(struct log_line *l, int level, const char *msg, uint64_t trace_id)
{
  static const char *names[] = {"debug", "info", "warn", "error"};
  l->len = 0;
  l->truncated = 0;
  l->on = level >= log_get_level() && level >= LOG_DEBUG && level <= LOG_ERROR;
  if (!l->on)
    return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char head[96];
  int n = snprintf(head, sizeof(head),
                   "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\",\"msg\":",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   ts.tv_nsec / 1000000, names[level]);
  put(l, head, (size_t)n);
  put_json_string(l, msg ? msg : "");
  if (trace_id) {
    char hex[17];
    log_trace_hex(trace_id, hex);
    put_key(l, "trace");
    put_json_string(l, hex);
  }
}

void log_str(struct log_line *l, const char *key, const char *val)
{
  if (!l->on)
    return;
  size_t mark = l->len;
  put_key(l, key);
  if (val)
    put_json_string(l, val);
  else
    put(l, "null", 4);
  if (l->truncated)
    l->len = mark;
}

void log_int(struct log_line *l, const char *key, long long v)
{
  if (!l->on)
    return;
  size_t mark = l->len;
  char num[32];
  int n = snprintf(num, sizeof(num), "%lld", v);
  put_key(l, key);
  put(l, num, (size_t)n);
  if (l->truncated)
    l->len = mark;
}

void log_num(struct log_line *l, const char *key, double v)
{
  if (!l->on)
    return;
  size_t mark = l->len;
  char num[40];
  int n = isfinite(v) ? snprintf(num, sizeof(num), "%.10g", v) : snprintf(num, sizeof(num), "null");
  put_key(l, key);
  put(l, num, (size_t)n);
  if (l->truncated)
    l->len = mark;
}

void log_end(struct log_line *l)
{
  if (!l->on)
    return;
  /* put() always leaves LOG_TAIL_RESERVE bytes: the tail fits. */
  const char *tail = l->truncated ? ",\"truncated\":true}\n" : "}\n";
  size_t n = strlen(tail);
  memcpy(l->buf + l->len, tail, n);
  l->len += n;
  FILE *f = atomic_load(&g_stream);
  if (!f)
    f = stderr;
  flockfile(f);
  fwrite(l->buf, 1, l->len, f);
  fflush(f);
  funlockfile(f);
  l->on = 0;
}

void log_msg(int level, uint64_t trace_id, const char *fmt, ...)
{
  if (level < log_get_level())
    return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  struct log_line l;
  log_begin(&l, level, msg, trace_id);
  log_end(&l);
}
