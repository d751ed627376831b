/* units: parsing and formatting of memory sizes, durations and CPU amounts. Pure. */
#ifndef RM_UNITS_H
#define RM_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define UNITS_MIB (1024ULL * 1024ULL)
#define UNITS_GIB (1024ULL * 1024ULL * 1024ULL)

/* Memory: plain bytes ("1073741824"), or a decimal number with a suffix:
 * K/M/G/T and Ki/Mi/Gi/Ti (all powers of 1024, as the original documents),
 * optionally followed by B, case-insensitive ("512M", "1.5G", "64Mi", "2gb").
 * Returns 0 and *ret_bytes, or -EINVAL (bad syntax) / -ERANGE (too large, negative). */
int units_parse_memory(const char *s, uint64_t *ret_bytes);

/* Duration: seconds ("300", "2.5"), or number+unit, possibly chained:
 * ms, s, m, h, d, w ("30s", "5m", "1h30m", "1d"). Returns 0 and *ret_seconds,
 * or -EINVAL / -ERANGE (negative or absurdly large). */
int units_parse_duration(const char *s, double *ret_seconds);

/* CPU: decimal cores ("0.5", "2") or millicores ("500m"). Returns 0 and
 * *ret_cores, or -EINVAL / -ERANGE (negative or > 4096 cores). */
int units_parse_cpu(const char *s, double *ret_cores);

/* A plain decimal number ("0.8", "1e-3"); rejects trailing garbage, NaN and inf. */
int units_parse_double(const char *s, double *ret);
/* A non-negative integer that fits in an unsigned. */
int units_parse_uint(const char *s, unsigned *ret);
/* true/false, yes/no, on/off, 1/0 (case-insensitive). */
int units_parse_bool(const char *s, int *ret);

/* Human forms: "768Mi", "1.50Gi", "512Ki", "100B"; exact when possible. */
void units_format_memory(uint64_t bytes, char *buf, size_t len);
/* The original's deploy-script form: whole MiB as "<n>M". */
void units_format_memory_mib(uint64_t bytes, char *buf, size_t len);
/* "1h30m", "5m", "45s", "250ms". */
void units_format_duration(double seconds, char *buf, size_t len);
/* Prometheus range form in whole seconds, at least 1: "300s". */
void units_format_prom_duration(double seconds, char *buf, size_t len);

#endif
