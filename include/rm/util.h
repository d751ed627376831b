/* util: allocation that never fails, string helpers and small time helpers. */
#ifndef RM_UTIL_H
#define RM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define RM_PRINTF(f, a)  __attribute__((format(printf, f, a)))

/* Allocators abort the process on exhaustion; they never return NULL. */
void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string. */
char *xasprintf(const char *fmt, ...) RM_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) RM_PRINTF(1, 0);

/* Growable byte buffer, always NUL-terminated. */
struct strbuf {
	char *data;
	size_t len;
	size_t cap;
};
void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_append(struct strbuf *sb, const char *data, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) RM_PRINTF(2, 3);
/* Detaches and returns the buffer's string; the buffer is left empty. */
char *strbuf_steal(struct strbuf *sb);

/* true when s equals one of the NULL-terminated list. */
bool str_in_list(const char *s, const char *const *list);

/* Bounds the allocator's footprint for a long-running process; call once at
 * start-up, before any thread starts. With glibc: at most MALLOC_ARENAS
 * arenas (by default up to 8 per core, each fragmenting on its own: the web
 * workers' large transient renders left megabytes free but unreturned), and
 * a fixed mmap threshold of MALLOC_MMAP_THRESHOLD bytes, so that blocks that
 * large (a /api/v1/status body) always go back to the system when freed;
 * glibc's default threshold rises to the largest block freed and then keeps
 * such blocks in the arenas. Returns 0, or -ENOTSUP where there is nothing
 * to set (another C library, or a sanitizer's allocator). */
#define MALLOC_ARENAS         2
#define MALLOC_MMAP_THRESHOLD (128 * 1024)
int malloc_tune(void);

/* Monotonic and wall-clock time in seconds. Only effectful modules call these. */
double time_monotonic(void);
double time_wall(void);
/* Formats t (seconds since the epoch) as RFC 3339 UTC with milliseconds. */
void time_format_rfc3339(double t, char *buf, size_t len);

/* Reads a whole file, refusing files larger than max_size.
 * Returns 0 and *ret_data (NUL-terminated, caller frees) and *ret_len,
 * or -errno (-EFBIG when too large). */
int file_read_all(const char *path, size_t max_size, char **ret_data, size_t *ret_len);

/* Replaces path with data[0..len) so that a reader or a crash sees the old
 * file or the new one, never part of one: a temp file of its own,
 * <path>.tmp-XXXXXX (mkostemp, then mode),
 * fsync, rename over path, fsync of the folder. Returns 0, or -errno with
 * what failed and the file's name in err (then path is unchanged and no
 * temporary file is left). */
int file_write_atomic(const char *path, const char *data, size_t len, unsigned mode, char *err,
                      size_t errlen);

#endif
