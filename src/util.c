/* util: allocation that never fails, a growable string buffer, time and file helpers. */
#include "rm/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void oom(size_t size)
{
	fprintf(stderr, "resource-manager: out of memory allocating %zu bytes, aborting\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		oom(size);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (!p)
		oom(size);
	return p;
}

void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	return xrealloc(ptr, nmemb * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		oom(0);
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void strbuf_init(struct strbuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void strbuf_free(struct strbuf *sb)
{
	free(sb->data);
	strbuf_init(sb);
}

static void strbuf_reserve(struct strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	sb->data = xrealloc(sb->data, cap);
	sb->cap = cap;
}

void strbuf_append(struct strbuf *sb, const char *data, size_t n)
{
	strbuf_reserve(sb, n);
	memcpy(sb->data + sb->len, data, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	strbuf_puts(sb, s);
	free(s);
}

char *strbuf_steal(struct strbuf *sb)
{
	char *s = sb->data ? sb->data : xstrdup("");
	strbuf_init(sb);
	return s;
}

bool str_in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

int malloc_tune(void)
{
#ifdef __GLIBC__
	/* A sanitizer's allocator replaces mallopt with one that returns 0. */
	if (mallopt(M_ARENA_MAX, MALLOC_ARENAS) != 1 ||
	    mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD) != 1)
		return -ENOTSUP;
	return 0;
#else
	return -ENOTSUP;
#endif
}

double time_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double time_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void time_format_rfc3339(double t, char *buf, size_t len)
{
	time_t secs = (time_t)t;
	int ms = (int)((t - (double)secs) * 1000.0);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", base, ms < 0 ? 0 : ms > 999 ? 999 : ms);
}

int file_read_all(const char *path, size_t max_size, char **ret_data, size_t *ret_len)
{
	int r = 0;
	char *data = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max_size) {
		r = -EFBIG;
		goto out;
	}
	size_t cap = 4096, len = 0;
	data = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max_size + 1) {
				r = -EFBIG;
				goto out;
			}
			cap *= 2;
			data = xrealloc(data, cap);
		}
		ssize_t n = read(fd, data + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max_size) {
			r = -EFBIG;
			goto out;
		}
	}
	data[len] = '\0';
	*ret_data = data;
	*ret_len = len;
	data = NULL;
out:
	free(data);
	close(fd);
	return r;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_write_atomic(const char *path, const char *data, size_t len, unsigned mode, char *err,
                      size_t errlen)
{
	int r = 0;
	/* A name of its own: two writers never write into one temp file. */
	char *tmp = xasprintf("%s.tmp-XXXXXX", path);
	char *dir = xstrdup(path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	bool created = fd >= 0;
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create a temporary file beside %s: %s", path,
		         strerror(errno));
		goto out;
	}
	if (fchmod(fd, (mode_t)mode) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if ((r = write_all(fd, data, len)) < 0 || (fsync(fd) < 0 && (r = -errno) < 0)) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(-r));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	/* The rename is durable only once the folder is. */
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	if (fd >= 0)
		close(fd);
	if (r < 0 && created)
		unlink(tmp);
	free(tmp);
	free(dir);
	return r;
}
