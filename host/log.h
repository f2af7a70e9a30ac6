/* log: structured JSON-lines logging on stderr for the service commands.
 * One line per event: {"ts":"2026-01-05T08:00:00.123Z","level":"info",
 * "msg":"...","trace":"00000000000000ab",...fields}.  The trace id follows a
 * quote batch (qq_item.trace_id) to the surface version it produced
 * (surface.trace_id) and the gateway message that carried it; 0 omits it.
 *
 * A line is built in the caller's struct log_line (no allocation, no lock)
 * and written with one locked fwrite, so lines from different threads never
 * interleave.  Strings are JSON-escaped; a line longer than LOG_LINE_MAX is
 * cut at a field boundary and marked "truncated":true.  Thread-safe. */
#ifndef VOLSURF_LOG_H
#define VOLSURF_LOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LOG_LINE_MAX 1024

enum log_level { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3 };

/* Lines below 'level' are skipped (default LOG_INFO). */
void log_set_level(int level);
int log_get_level(void);
/* Parses "debug", "info", "warn", "error"; returns the level or ERR_INPUT. */
int log_level_parse(const char *name);
/* Where lines go (default stderr; tests pass a tmpfile).  Borrowed. */
void log_set_stream(FILE *f);

struct log_line {
  int on; /* 0: below the level, every call is a no-op */
  int truncated;
  size_t len;
  char buf[LOG_LINE_MAX];
};

/* Starts a line: ts, level, msg, and trace (when trace_id != 0). */
void log_begin(struct log_line *l, int level, const char *msg, uint64_t trace_id);
void log_str(struct log_line *l, const char *key, const char *val); /* NULL -> null */
void log_int(struct log_line *l, const char *key, long long v);
void log_num(struct log_line *l, const char *key, double v); /* NaN/Inf -> null */
/* Closes the line and writes it (with '\n'). */
void log_end(struct log_line *l);

/* One-call form: msg formatted printf-style (escaped), no extra fields. */
void log_msg(int level, uint64_t trace_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 16 lower-case hex digits of id into out[17]. */
void log_trace_hex(uint64_t id, char out[17]);

#endif
