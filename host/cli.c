/* cli: parsing and formatting helpers for the command line and outputs. */
#include "cli.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "err.h"

static int read_int(const char **p, int n_digits, int *out)
{
  int v = 0;
  for (int i = 0; i < n_digits; i++) {
    if (!isdigit((unsigned char)**p))
      return ERR_PARSE;
    v = v * 10 + (**p - '0');
    (*p)++;
  }
  *out = v;
  return 0;
}

int cli_parse_time(const char *s, int64_t *us)
{
  if (!s || !*s)
    return ERR_PARSE;
  const char *p = s;
  int all_digits = 1;
  for (const char *q = s; *q; q++)
    if (!isdigit((unsigned char)*q) && *q != '.')
      all_digits = 0;
  if (all_digits) {
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || v < 0)
      return ERR_PARSE;
    if (v > 1e15)
      *us = (int64_t)v;
    else if (v > 1e11)
      *us = (int64_t)(v * 1e3);
    else
      *us = (int64_t)(v * 1e6);
    return 0;
  }
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (read_int(&p, 4, &y) || *p++ != '-' || read_int(&p, 2, &mo) || *p++ != '-' ||
      read_int(&p, 2, &d))
    return ERR_PARSE;
  if (mo < 1 || mo > 12 || d < 1 || d > 31)
    return ERR_PARSE;
  int64_t frac_us = 0;
  if (*p == 'T' || *p == ' ') {
    p++;
    if (read_int(&p, 2, &h) || *p++ != ':' || read_int(&p, 2, &mi))
      return ERR_PARSE;
    if (*p == ':') {
      p++;
      if (read_int(&p, 2, &sec))
        return ERR_PARSE;
      if (*p == '.') {
        p++;
        int64_t scale = 100000;
        while (isdigit((unsigned char)*p)) {
          frac_us += (*p - '0') * scale;
          scale /= 10;
          p++;
        }
      }
    }
    if (h > 23 || mi > 59 || sec > 60)
      return ERR_PARSE;
  }
  if (*p == 'Z')
    p++;
  else if (strcmp(p, "+00:00") == 0)
    p += 6;
  if (*p)
    return ERR_PARSE;
  int64_t secs = civil_days_from(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  *us = secs * 1000000 + frac_us;
  return 0;
}

void cli_format_time(int64_t us, char *buf, size_t cap)
{
  int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
  int64_t ms = (us - secs * 1000000) / 1000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  if (ms)
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, (int)m, (int)d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)ms);
  else
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
}

int cli_parse_doubles(const char *s, double *out, int max)
{
  int n = 0;
  const char *p = s;
  while (*p) {
    char *end;
    double v = strtod(p, &end);
    if (end == p || n >= max || !isfinite(v))
      return ERR_PARSE;
    out[n++] = v;
    p = end;
    if (*p == ',')
      p++;
    else if (*p)
      return ERR_PARSE;
  }
  return n > 0 ? n : ERR_PARSE;
}

void cli_json_string(FILE *f, const char *s)
{
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

void cli_json_number(FILE *f, double x, int digits)
{
  if (!isfinite(x))
    fputs("null", f);
  else
    fprintf(f, "%.*g", digits, x);
}
