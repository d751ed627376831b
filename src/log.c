/* log: one line per event, text or JSON lines, to stderr and an optional file. */
#include "rm/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const level_names[_LOG_LEVEL_MAX] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARN] = "warn",
	[LOG_ERROR] = "error",
};

static const char *const format_names[_LOG_FORMAT_MAX] = {
	[LOG_FORMAT_TEXT] = "text",
	[LOG_FORMAT_JSON] = "json",
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_level console_level = LOG_INFO;
static enum log_format log_format = LOG_FORMAT_TEXT;
static FILE *console_stream;
static FILE *file_stream;
static enum log_level file_level = LOG_INFO;

const char *log_level_to_string(enum log_level l)
{
	return l < _LOG_LEVEL_MAX ? level_names[l] : "unknown";
}

int log_level_from_string(const char *s)
{
	for (int i = 0; i < _LOG_LEVEL_MAX; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	if (strcasecmp(s, "warning") == 0)
		return LOG_WARN;
	return -EINVAL;
}

const char *log_format_to_string(enum log_format f)
{
	return f < _LOG_FORMAT_MAX ? format_names[f] : "unknown";
}

int log_format_from_string(const char *s)
{
	for (int i = 0; i < _LOG_FORMAT_MAX; i++)
		if (strcasecmp(s, format_names[i]) == 0)
			return i;
	return -EINVAL;
}

void log_set_level(enum log_level level)
{
	pthread_mutex_lock(&log_lock);
	console_level = level;
	pthread_mutex_unlock(&log_lock);
}

enum log_level log_get_level(void)
{
	pthread_mutex_lock(&log_lock);
	enum log_level l = console_level;
	pthread_mutex_unlock(&log_lock);
	return l;
}

void log_set_format(enum log_format format)
{
	pthread_mutex_lock(&log_lock);
	log_format = format;
	pthread_mutex_unlock(&log_lock);
}

void log_set_stream(FILE *stream)
{
	pthread_mutex_lock(&log_lock);
	console_stream = stream;
	pthread_mutex_unlock(&log_lock);
}

int log_open_file(const char *path, enum log_level level)
{
	FILE *f = NULL;
	if (path) {
		f = fopen(path, "ae");
		if (!f)
			return -errno;
		setvbuf(f, NULL, _IOLBF, 0);
	}
	pthread_mutex_lock(&log_lock);
	if (file_stream)
		fclose(file_stream);
	file_stream = f;
	file_level = level;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

const char *log_quote(const char *s, char *buf, size_t len)
{
	bool plain = *s != '\0';
	for (const char *p = s; *p && plain; p++)
		if (*p == ' ' || *p == '"' || *p == '\\' || *p == '\t' || *p == '\n' || *p == '=')
			plain = false;
	if (plain) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	size_t o = 0;
	if (len < 3) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (const char *p = s; *p && o + 3 < len; p++) {
		char c = *p == '\n' || *p == '\t' ? ' ' : *p;
		if (c == '"' || c == '\\')
			buf[o++] = '\\';
		buf[o++] = c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static void json_string(struct strbuf *sb, const char *s, size_t n)
{
	strbuf_puts(sb, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			strbuf_append(sb, e, 2);
		} else if (c < 0x20) {
			strbuf_printf(sb, "\\u%04x", c);
		} else {
			strbuf_append(sb, (const char *)&s[i], 1);
		}
	}
	strbuf_puts(sb, "\"");
}

/* Appends the key=value context as JSON members; values may be "quoted". */
static void json_context(struct strbuf *sb, const char *ctx)
{
	const char *p = ctx;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *k = p;
		while (*p && *p != '=' && *p != ' ')
			p++;
		if (p == k)
			break;
		size_t klen = (size_t)(p - k);
		struct strbuf val;
		strbuf_init(&val);
		if (*p == '=') {
			p++;
			if (*p == '"') {
				p++;
				while (*p && *p != '"') {
					if (*p == '\\' && p[1])
						p++;
					strbuf_append(&val, p, 1);
					p++;
				}
				if (*p == '"')
					p++;
			} else {
				const char *v = p;
				while (*p && *p != ' ')
					p++;
				strbuf_append(&val, v, (size_t)(p - v));
			}
		}
		strbuf_puts(sb, ",");
		json_string(sb, k, klen);
		strbuf_puts(sb, ":");
		json_string(sb, val.data ? val.data : "", val.len);
		strbuf_free(&val);
	}
}

void log_vemit(enum log_level level, const char *component, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&log_lock);
	bool to_console = level >= console_level;
	bool to_file = file_stream && level >= file_level;
	enum log_format format = log_format;
	pthread_mutex_unlock(&log_lock);
	if (!to_console && !to_file)
		return;

	char *text = xvasprintf(fmt, ap);
	char *tab = strchr(text, '\t');
	const char *ctx = "";
	if (tab) {
		*tab = '\0';
		ctx = tab + 1;
	}
	char ts[40];
	time_format_rfc3339(time_wall(), ts, sizeof(ts));

	struct strbuf line;
	strbuf_init(&line);
	if (format == LOG_FORMAT_JSON) {
		strbuf_printf(&line, "{\"time\":\"%s\",\"level\":\"%s\",\"component\":", ts,
		              log_level_to_string(level));
		json_string(&line, component, strlen(component));
		strbuf_puts(&line, ",\"msg\":");
		json_string(&line, text, strlen(text));
		json_context(&line, ctx);
		strbuf_puts(&line, "}\n");
	} else {
		strbuf_printf(&line, "%s %s %s %s", ts, log_level_to_string(level), component,
		              text);
		if (*ctx)
			strbuf_printf(&line, " %s", ctx);
		strbuf_puts(&line, "\n");
	}

	pthread_mutex_lock(&log_lock);
	if (to_console) {
		FILE *out = console_stream ? console_stream : stderr;
		fputs(line.data, out);
		fflush(out);
	}
	if (to_file && file_stream)
		fputs(line.data, file_stream);
	pthread_mutex_unlock(&log_lock);
	strbuf_free(&line);
	free(text);
}

void log_emit(enum log_level level, const char *component, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit(level, component, fmt, ap);
	va_end(ap);
}
