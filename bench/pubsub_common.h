/* SPDX-License-Identifier: Apache-2.0 */
/* What the pub/sub bench helpers share: the message body, the clock and the percentiles. */
#ifndef OUTRIG_BENCH_PUBSUB_COMMON_H
#define OUTRIG_BENCH_PUBSUB_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Wall-clock microseconds: the publisher and the subscriber are different processes on one host, so
 * both ends of a latency must come from the same clock. */
static inline int64_t bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The published JSON, padded with "pad" to exactly size bytes (when size allows), so that both paths
 * carry the same payload whatever the widths of the numbers. Returns the length, or -1 if buf is
 * too small. */
static inline int bench_body(char *buf, size_t cap, size_t size, int64_t t, long seq, long run)
{
	int n = snprintf(buf, cap, "{\"t\":%lld,\"seq\":%ld,\"run\":%ld,\"pad\":\"", (long long)t, seq, run);

	if (n < 0 || (size_t)n + 2 >= cap)
		return -1;
	while ((size_t)n + 2 < size && (size_t)n + 3 < cap)
		buf[n++] = 'x';
	buf[n++] = '"';
	buf[n++] = '}';
	buf[n] = '\0';
	return n;
}

/* The numeric field name in a flat JSON text ("t", "seq", "run"), or -1: the direct path's bodies are
 * the ones bench_body wrote, so a scan is enough there. */
static inline long long bench_field(const char *json, size_t len, const char *name)
{
	char key[16];
	const char *p, *end = json + len;
	int klen = snprintf(key, sizeof(key), "\"%s\":", name);

	for (p = json; p + klen < end; p++) {
		if (memcmp(p, key, (size_t)klen) == 0) {
			long long v = 0;

			p += klen;
			if (p >= end || *p < '0' || *p > '9')
				return -1;
			while (p < end && *p >= '0' && *p <= '9')
				v = v * 10 + (*p++ - '0');
			return v;
		}
	}
	return -1;
}

static inline int bench_cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile (0 < p <= 100) of v[0..n), which it sorts. */
static inline int64_t bench_percentile(int64_t *v, size_t n, double p, int sorted)
{
	size_t rank;

	if (n == 0)
		return 0;
	if (!sorted)
		qsort(v, n, sizeof(*v), bench_cmp_i64);
	rank = (size_t)(p / 100.0 * (double)n);
	if ((double)rank < p / 100.0 * (double)n)
		rank++;
	if (rank == 0)
		rank = 1;
	return v[rank - 1];
}

#endif
