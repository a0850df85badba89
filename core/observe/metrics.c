/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus metrics: lock-free recording, text exposition 0.0.4 (see metrics.h). */
#include "config.h"

#include "observe/metrics.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

/* Open addressing at most half full: a power of two above twice METRICS_MAX_SERIES. */
#define METRICS_SLOTS 4096

/* Dapr's default latency distribution, in milliseconds. */
static const double metrics_dapr_buckets[] = { 1,    2,	   3,	 4,	5,     6,     8,     10,  13,
					       16,   20,   25,	 30,	40,    50,    65,    80,  100,
					       130,  160,  200,	 250,	300,   400,   500,   650, 800,
					       1000, 2000, 5000, 10000, 20000, 50000, 100000 };

struct series {
	uint64_t hash;
	char *values[METRICS_MAX_LABELS];
	_Atomic uint64_t count;	   /* a counter's value; a histogram's number of observations */
	_Atomic uint64_t value;	   /* a gauge's value or a histogram's sum, as the bits of a double */
	_Atomic uint64_t *buckets; /* a histogram's per-bucket counts, not cumulative; the last is +Inf */
	struct series *next;	   /* in the metric's list, in the order made */
};

struct metric {
	const char *name, *help;
	enum metric_type type;
	const char *const *labels;
	size_t nlabels;
	double bounds[METRICS_MAX_BUCKETS];
	size_t nbounds;
	pthread_mutex_t lock; /* taken to add a series and to render */
	_Atomic(struct series *) slots[METRICS_SLOTS];
	size_t nseries;
	struct series *head, *tail;
	bool warned; /* the warning that the metric is full was written */
	struct metric *next;
};

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER; /* the registry and its settings */
static struct metric *metrics_head, *metrics_tail;
static atomic_bool metrics_on = true;
static double metrics_bounds[METRICS_MAX_BUCKETS];
static size_t metrics_nbounds; /* 0: Dapr's */
static struct metric *metrics_dropped;

bool metrics_enabled(void)
{
	return atomic_load_explicit(&metrics_on, memory_order_relaxed);
}

void metrics_set_enabled(bool on)
{
	atomic_store(&metrics_on, on);
}

int metrics_set_buckets(const double *bounds, size_t n)
{
	if (n > METRICS_MAX_BUCKETS)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(bounds[i] > 0) || isinf(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
			return -1;
	pthread_mutex_lock(&metrics_lock);
	memcpy(metrics_bounds, bounds, n * sizeof(*bounds));
	metrics_nbounds = n;
	pthread_mutex_unlock(&metrics_lock);
	return 0;
}

double metrics_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double metrics_start_ms(void)
{
	return metrics_enabled() ? metrics_now_ms() : 0;
}

static bool metrics_same_labels(const char *const *a, const char *const *b)
{
	size_t i = 0;

	for (; a != NULL && a[i] != NULL; i++)
		if (b == NULL || b[i] == NULL || strcmp(a[i], b[i]) != 0)
			return false;
	return b == NULL || b[i] == NULL;
}

static struct metric *metrics_make(const char *name, const char *help, enum metric_type type,
				   const char *const *labels, const double *bounds, size_t nbounds)
{
	struct metric *m;
	size_t n = 0;

	while (labels != NULL && labels[n] != NULL)
		n++;
	if (n > METRICS_MAX_LABELS)
		return NULL;
	pthread_mutex_lock(&metrics_lock);
	for (m = metrics_head; m != NULL; m = m->next) {
		if (strcmp(m->name, name) != 0)
			continue;
		if (m->type != type || !metrics_same_labels(m->labels, labels))
			m = NULL;
		pthread_mutex_unlock(&metrics_lock);
		return m;
	}
	m = calloc(1, sizeof(*m));
	if (m != NULL) {
		m->name = name;
		m->help = help;
		m->type = type;
		m->labels = labels;
		m->nlabels = n;
		if (bounds != NULL) {
			memcpy(m->bounds, bounds, nbounds * sizeof(double));
			m->nbounds = nbounds;
		} else if (metrics_nbounds > 0) {
			memcpy(m->bounds, metrics_bounds, metrics_nbounds * sizeof(double));
			m->nbounds = metrics_nbounds;
		} else {
			m->nbounds = sizeof(metrics_dapr_buckets) / sizeof(metrics_dapr_buckets[0]);
			memcpy(m->bounds, metrics_dapr_buckets, sizeof(metrics_dapr_buckets));
		}
		pthread_mutex_init(&m->lock, NULL);
		if (metrics_tail != NULL)
			metrics_tail->next = m;
		else
			metrics_head = m;
		metrics_tail = m;
	}
	pthread_mutex_unlock(&metrics_lock);
	return m;
}

struct metric *metric_counter(const char *name, const char *help, const char *const *labels)
{
	return metrics_make(name, help, METRIC_COUNTER, labels, NULL, 0);
}

struct metric *metric_gauge(const char *name, const char *help, const char *const *labels)
{
	return metrics_make(name, help, METRIC_GAUGE, labels, NULL, 0);
}

struct metric *metric_histogram(const char *name, const char *help, const char *const *labels)
{
	return metrics_make(name, help, METRIC_HISTOGRAM, labels, NULL, 0);
}

struct metric *metric_histogram_bounds(const char *name, const char *help, const char *const *labels,
				       const double *bounds, size_t n)
{
	if (bounds == NULL || n == 0 || n > METRICS_MAX_BUCKETS)
		return NULL;
	for (size_t i = 1; i < n; i++)
		if (bounds[i] <= bounds[i - 1])
			return NULL;
	return metrics_make(name, help, METRIC_HISTOGRAM, labels, bounds, n);
}

/* FNV-1a over the values, each ended by a 0 byte so ("ab","c") and ("a","bc") differ. */
static uint64_t metrics_hash(const struct metric *m, const char *const *values)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < m->nlabels; i++) {
		const char *v = values[i] != NULL ? values[i] : "";

		for (; *v != '\0'; v++)
			h = (h ^ (unsigned char)*v) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL;
	}
	return h;
}

static bool metrics_series_is(const struct metric *m, const struct series *s, uint64_t h,
			      const char *const *values)
{
	if (s->hash != h)
		return false;
	for (size_t i = 0; i < m->nlabels; i++)
		if (strcmp(s->values[i], values[i] != NULL ? values[i] : "") != 0)
			return false;
	return true;
}

static void metrics_series_free(struct series *s)
{
	for (size_t i = 0; i < METRICS_MAX_LABELS; i++)
		free(s->values[i]);
	free((void *)s->buckets);
	free(s);
}

static struct series *metrics_series_new(const struct metric *m, uint64_t h, const char *const *values)
{
	struct series *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->hash = h;
	for (size_t i = 0; i < m->nlabels; i++) {
		if ((s->values[i] = strdup(values[i] != NULL ? values[i] : "")) == NULL) {
			metrics_series_free(s);
			return NULL;
		}
	}
	if (m->type == METRIC_HISTOGRAM &&
	    (s->buckets = calloc(m->nbounds + 1, sizeof(*s->buckets))) == NULL) {
		metrics_series_free(s);
		return NULL;
	}
	return s;
}

static void metrics_note_dropped(struct metric *m);

/*
 * The series of values: found with atomic loads only; made, under the metric's lock, on first use.
 * Slots are filled once and never emptied, so a reader that sees a series sees it whole (release
 * store, acquire load). NULL when the metric is full or out of memory.
 */
static struct series *metrics_series(struct metric *m, const char *const *values)
{
	uint64_t h = metrics_hash(m, values);
	size_t i = (size_t)h & (METRICS_SLOTS - 1);
	struct series *s;

	for (;;) {
		s = atomic_load_explicit(&m->slots[i], memory_order_acquire);
		if (s == NULL)
			break;
		if (metrics_series_is(m, s, h, values))
			return s;
		i = (i + 1) & (METRICS_SLOTS - 1);
	}
	pthread_mutex_lock(&m->lock);
	/* Another thread may have added it, or others, since: look again from where it stopped. */
	for (;;) {
		s = atomic_load_explicit(&m->slots[i], memory_order_acquire);
		if (s == NULL || metrics_series_is(m, s, h, values))
			break;
		i = (i + 1) & (METRICS_SLOTS - 1);
	}
	if (s == NULL && m->nseries < METRICS_MAX_SERIES && (s = metrics_series_new(m, h, values)) != NULL) {
		if (m->tail != NULL)
			m->tail->next = s;
		else
			m->head = s;
		m->tail = s;
		m->nseries++;
		atomic_store_explicit(&m->slots[i], s, memory_order_release);
	} else if (s == NULL && m->nseries >= METRICS_MAX_SERIES) {
		bool warn = !m->warned;

		m->warned = true;
		pthread_mutex_unlock(&m->lock);
		if (warn)
			log_warn(
				"runtime",
				"metric %s has %d label sets, its most: new ones are not recorded (counted in "
				"outrig_metrics_series_dropped_total); bound its paths with the Configuration's "
				"spec.metric.http.pathMatching or increasedCardinality: false",
				m->name, METRICS_MAX_SERIES);
		metrics_note_dropped(m);
		return NULL;
	}
	pthread_mutex_unlock(&m->lock);
	return s;
}

static void metrics_note_dropped(struct metric *m)
{
	static const char *const labels[] = { "metric", NULL };
	const char *values[] = { m->name };

	if (metrics_dropped == NULL)
		metrics_dropped = metric_counter(
			"outrig_metrics_series_dropped_total",
			"Observations not recorded because their metric had too many label sets.", labels);
	if (metrics_dropped != NULL && metrics_dropped != m)
		metric_add(metrics_dropped, values, 1);
}

static void metrics_add_double(_Atomic uint64_t *bits, double v, bool replace)
{
	uint64_t old = atomic_load_explicit(bits, memory_order_relaxed), want;
	double d;

	do {
		memcpy(&d, &old, sizeof(d));
		d = replace ? v : d + v;
		memcpy(&want, &d, sizeof(want));
	} while (!atomic_compare_exchange_weak_explicit(bits, &old, want, memory_order_relaxed,
							memory_order_relaxed));
}

void metric_add(struct metric *m, const char *const *values, uint64_t n)
{
	struct series *s;

	if (m == NULL || !metrics_enabled() || (s = metrics_series(m, values)) == NULL)
		return;
	atomic_fetch_add_explicit(&s->count, n, memory_order_relaxed);
}

void metric_observe(struct metric *m, const char *const *values, double v)
{
	struct series *s;
	size_t b = 0;

	if (m == NULL || !metrics_enabled() || (s = metrics_series(m, values)) == NULL)
		return;
	if (m->type != METRIC_HISTOGRAM) {
		metrics_add_double(&s->value, v, m->type == METRIC_GAUGE);
		return;
	}
	while (b < m->nbounds && v > m->bounds[b])
		b++;
	atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	metrics_add_double(&s->value, v, false);
}

void metric_set(struct metric *m, const char *const *values, double v)
{
	struct series *s;

	if (m == NULL || !metrics_enabled() || (s = metrics_series(m, values)) == NULL)
		return;
	metrics_add_double(&s->value, v, true);
}

/* ---- exposition ---- */

struct metrics_text {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void mt_printf(struct metrics_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mt_printf(struct metrics_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = (t->cap + (size_t)n + 1) * 2;
		char *grown = realloc(t->buf, cap);

		if (grown == NULL) {
			t->oom = true;
			return;
		}
		t->buf = grown;
		t->cap = cap;
	}
}

/* A label value or help text, escaped as the format wants (quote only inside label values). */
static void mt_escaped(struct metrics_text *t, const char *s, bool label)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			mt_printf(t, "\\\\");
		else if (*s == '\n')
			mt_printf(t, "\\n");
		else if (*s == '"' && label)
			mt_printf(t, "\\\"");
		else
			mt_printf(t, "%c", *s);
	}
}

/* Go's strconv-style numbers: integers without a fraction, others at full precision. */
static void mt_number(struct metrics_text *t, double v)
{
	if (isinf(v))
		mt_printf(t, v > 0 ? "+Inf" : "-Inf");
	else if (isnan(v))
		mt_printf(t, "NaN");
	else if (v == floor(v) && fabs(v) < 1e15)
		mt_printf(t, "%.0f", v);
	else {
		char buf[40];

		/* The shortest form that reads back as v. */
		snprintf(buf, sizeof(buf), "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, sizeof(buf), "%.17g", v);
		mt_printf(t, "%s", buf);
	}
}

/* {a="x",b="y"}, with le="bound" added for histogram buckets (le NULL: none). */
static void mt_labels(struct metrics_text *t, const struct metric *m, const struct series *s, const char *le)
{
	if (m->nlabels == 0 && le == NULL)
		return;
	mt_printf(t, "{");
	for (size_t i = 0; i < m->nlabels; i++) {
		mt_printf(t, "%s%s=\"", i > 0 ? "," : "", m->labels[i]);
		mt_escaped(t, s->values[i], true);
		mt_printf(t, "\"");
	}
	if (le != NULL)
		mt_printf(t, "%sle=\"%s\"", m->nlabels > 0 ? "," : "", le);
	mt_printf(t, "}");
}

static double mt_double(const _Atomic uint64_t *bits)
{
	uint64_t b = atomic_load_explicit(bits, memory_order_relaxed);
	double d;

	memcpy(&d, &b, sizeof(d));
	return d;
}

static void mt_metric(struct metrics_text *t, struct metric *m)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };

	pthread_mutex_lock(&m->lock);
	if (m->head == NULL) {
		pthread_mutex_unlock(&m->lock);
		return;
	}
	mt_printf(t, "# HELP %s ", m->name);
	mt_escaped(t, m->help, false);
	mt_printf(t, "\n# TYPE %s %s\n", m->name, types[m->type]);
	for (struct series *s = m->head; s != NULL; s = s->next) {
		uint64_t cumulative = 0;
		char le[40];

		switch (m->type) {
		case METRIC_COUNTER:
			mt_printf(t, "%s", m->name);
			mt_labels(t, m, s, NULL);
			mt_printf(t, " %llu\n", (unsigned long long)atomic_load(&s->count));
			break;
		case METRIC_GAUGE:
			mt_printf(t, "%s", m->name);
			mt_labels(t, m, s, NULL);
			mt_printf(t, " ");
			mt_number(t, mt_double(&s->value));
			mt_printf(t, "\n");
			break;
		case METRIC_HISTOGRAM:
			for (size_t b = 0; b <= m->nbounds; b++) {
				cumulative += atomic_load_explicit(&s->buckets[b], memory_order_relaxed);
				if (b < m->nbounds)
					snprintf(le, sizeof(le), "%.17g", m->bounds[b]);
				else
					snprintf(le, sizeof(le), "+Inf");
				mt_printf(t, "%s_bucket", m->name);
				mt_labels(t, m, s, le);
				mt_printf(t, " %llu\n", (unsigned long long)cumulative);
			}
			mt_printf(t, "%s_sum", m->name);
			mt_labels(t, m, s, NULL);
			mt_printf(t, " ");
			mt_number(t, mt_double(&s->value));
			/* The buckets' total, read above, so _count and +Inf agree in one scrape. */
			mt_printf(t, "\n%s_count", m->name);
			mt_labels(t, m, s, NULL);
			mt_printf(t, " %llu\n", (unsigned long long)cumulative);
			break;
		}
	}
	pthread_mutex_unlock(&m->lock);
}

static void mt_gauge(struct metrics_text *t, const char *name, const char *type, const char *help, double v)
{
	mt_printf(t, "# HELP %s %s\n# TYPE %s %s\n%s ", name, help, name, type, name);
	mt_number(t, v);
	mt_printf(t, "\n");
}

/* Prometheus's process collector's metrics, from /proc and getrusage. */
static void mt_process(struct metrics_text *t)
{
	struct rusage ru;
	struct rlimit rl;
	unsigned long long vsize = 0, rss = 0, start_ticks = 0, btime = 0;
	long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	FILE *f;
	DIR *dir;
	char line[1024];
	size_t fds = 0;

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		mt_gauge(t, "process_cpu_seconds_total", "counter",
			 "Total user and system CPU time spent in seconds.",
			 (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
				 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	if ((dir = opendir("/proc/self/fd")) != NULL) {
		for (struct dirent *e; (e = readdir(dir)) != NULL;)
			if (e->d_name[0] != '.')
				fds++;
		closedir(dir);
		/* The directory's own descriptor was counted. */
		mt_gauge(t, "process_open_fds", "gauge", "Number of open file descriptors.",
			 (double)(fds > 0 ? fds - 1 : 0));
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		mt_gauge(t, "process_max_fds", "gauge", "Maximum number of open file descriptors.",
			 rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur);
	if ((f = fopen("/proc/self/stat", "r")) != NULL) {
		if (fgets(line, sizeof(line), f) != NULL) {
			/* After "pid (comm) ": comm may hold spaces, so start after its last ')'. */
			const char *p = strrchr(line, ')');

			if (p != NULL &&
			    sscanf(p + 2,
				   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu %llu %llu",
				   &start_ticks, &vsize, &rss) == 3) {
				mt_gauge(t, "process_virtual_memory_bytes", "gauge",
					 "Virtual memory size in bytes.", (double)vsize);
				mt_gauge(t, "process_resident_memory_bytes", "gauge",
					 "Resident memory size in bytes.", (double)rss * (double)page);
			}
		}
		fclose(f);
	}
	if (start_ticks > 0 && ticks > 0 && (f = fopen("/proc/stat", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "btime %llu", &btime) == 1)
				break;
		fclose(f);
		if (btime > 0)
			mt_gauge(t, "process_start_time_seconds", "gauge",
				 "Start time of the process since unix epoch in seconds.",
				 (double)btime + (double)start_ticks / (double)ticks);
	}
}

char *metrics_render(size_t *len)
{
	struct metrics_text t = { .buf = malloc(16384), .cap = 16384 };

	if (t.buf == NULL)
		return NULL;
	t.buf[0] = '\0';
	pthread_mutex_lock(&metrics_lock);
	for (struct metric *m = metrics_head; m != NULL; m = m->next)
		mt_metric(&t, m);
	pthread_mutex_unlock(&metrics_lock);
	mt_process(&t);
	if (t.oom) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}

void metrics_reset(void)
{
	pthread_mutex_lock(&metrics_lock);
	while (metrics_head != NULL) {
		struct metric *m = metrics_head;

		metrics_head = m->next;
		while (m->head != NULL) {
			struct series *s = m->head;

			m->head = s->next;
			metrics_series_free(s);
		}
		pthread_mutex_destroy(&m->lock);
		free(m);
	}
	metrics_tail = NULL;
	metrics_dropped = NULL;
	metrics_nbounds = 0;
	pthread_mutex_unlock(&metrics_lock);
	atomic_store(&metrics_on, true);
}
