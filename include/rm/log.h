/* log: one line per event, to stderr and optionally to a file, as text or JSON lines.
 *
 * A message is a printf format whose text before the first TAB is the message and
 * whose text after it is context as space-separated key=value pairs; values with
 * spaces are written key="a b" (log_quote helps). Text output:
 *   2026-11-27T19:20:00.123Z info engine message key=value
 * JSON output: {"time":..., "level":..., "component":..., "msg":..., "key":"value"}.
 * Thread-safe. */
#ifndef RM_LOG_H
#define RM_LOG_H

#include <stdarg.h>
#include <stdio.h>

#include "rm/util.h"

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
	_LOG_LEVEL_MAX,
};

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
	_LOG_FORMAT_MAX,
};

const char *log_level_to_string(enum log_level l);
/* Returns the level or -EINVAL. Case-insensitive; "warning" is accepted for warn. */
int log_level_from_string(const char *s);
const char *log_format_to_string(enum log_format f);
int log_format_from_string(const char *s);

/* Console level and format (stderr). Defaults: info, text. */
void log_set_level(enum log_level level);
void log_set_format(enum log_format format);
enum log_level log_get_level(void);
/* Opens (append) a log file that receives lines at file_level and above.
 * path NULL closes it. Returns 0 or -errno; on failure the previous file is kept. */
int log_open_file(const char *path, enum log_level file_level);
/* Redirects console output (tests); NULL restores stderr. */
void log_set_stream(FILE *stream);

void log_emit(enum log_level level, const char *component, const char *fmt, ...) RM_PRINTF(3, 4);
void log_vemit(enum log_level level, const char *component, const char *fmt, va_list ap)
        RM_PRINTF(3, 0);

#define log_debug(comp, ...) log_emit(LOG_DEBUG, comp, __VA_ARGS__)
#define log_info(comp, ...)  log_emit(LOG_INFO, comp, __VA_ARGS__)
#define log_warn(comp, ...)  log_emit(LOG_WARN, comp, __VA_ARGS__)
#define log_error(comp, ...) log_emit(LOG_ERROR, comp, __VA_ARGS__)

/* Writes s into buf as a context value: quoted with \" and \\ escaped when it
 * holds spaces, quotes or is empty. Returns buf. */
const char *log_quote(const char *s, char *buf, size_t len);

#endif
