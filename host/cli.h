/* cli: small parsers and formatters shared by the volsurf commands (times,
 * number lists, JSON string escaping).  Pure functions, thread-safe. */
#ifndef VOLSURF_CLI_H
#define VOLSURF_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Parses a time: ISO 8601 UTC ("2020-05-14T05:44:06Z", fractional seconds
 * and "+00:00" allowed, date alone = midnight) or a number of seconds,
 * milliseconds or microseconds since the epoch (told apart by magnitude).
 * Returns 0 or ERR_PARSE. */
int cli_parse_time(const char *s, int64_t *us);

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (milliseconds dropped when zero). */
void cli_format_time(int64_t us, char *buf, size_t cap);

/* Parses up to 'max' comma-separated doubles; returns how many, or ERR_PARSE. */
int cli_parse_doubles(const char *s, double *out, int max);

/* Writes s as a JSON string literal (quotes included) to f. */
void cli_json_string(FILE *f, const char *s);

/* Writes a double as JSON: %.*g with 'digits' significant digits, null for
 * NaN or infinity. */
void cli_json_number(FILE *f, double x, int digits);

#endif
