/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus metrics: counters, gauges and histograms with labels, rendered in the text
 * exposition format 0.0.4. Any module adds its own metrics with this API:
 *
 *	static struct metric *calls;
 *	static const char *const labels[] = { "app_id", "operation", "success", NULL };
 *
 *	calls = metric_counter("dapr_resiliency_count", "Times a policy ran.", labels);   (at start-up)
 *	...
 *	const char *values[] = { app_id, "retry", "true" };
 *	metric_add(calls, values, 1);                                                     (per event)
 *
 * Recording takes no lock: a label set is looked up in an open-addressed table whose slots are
 * read with atomic loads, and its values are atomics. Only the first use of a label set takes the
 * metric's mutex, to add it. A metric holds at most METRICS_MAX_SERIES label sets: past that, new
 * ones are not recorded (outrig_metrics_series_dropped_total counts them, and one warning names
 * the metric), so no client can make the sidecar keep unbounded series.
 *
 * Latencies are in milliseconds, as Dapr exports them; histograms use Dapr's buckets (1 ms to
 * 100 s) unless metrics_set_buckets chose others before they were made.
 */
#ifndef OUTRIG_CORE_OBSERVE_METRICS_H
#define OUTRIG_CORE_OBSERVE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most label sets (series) one metric keeps. */
#define METRICS_MAX_SERIES 2000

/* The most labels one metric has. */
#define METRICS_MAX_LABELS 8

/* The most histogram buckets (spec.metric.latencyDistributionBuckets). */
#define METRICS_MAX_BUCKETS 64

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metric;

/*
 * Makes (or returns the existing) metric called name. labels is a NULL-terminated list of label
 * names (NULL or empty for none), at most METRICS_MAX_LABELS. NULL when out of memory, or when the
 * name is taken by a metric of another type or other labels.
 * Ownership: name, help and labels are kept, not copied: pass string literals. The metric lives
 * until metrics_reset. Thread: any (takes the registry's lock).
 */
struct metric *metric_counter(const char *name, const char *help, const char *const *labels);
struct metric *metric_gauge(const char *name, const char *help, const char *const *labels);
struct metric *metric_histogram(const char *name, const char *help, const char *const *labels);

/*
 * A histogram with its own bucket upper bounds (n of them, ascending, at most METRICS_MAX_BUCKETS;
 * copied), whatever metrics_set_buckets chose: for sizes, which latency buckets do not fit. NULL
 * as metric_histogram, or when the bounds are not ascending. Thread: any.
 */
struct metric *metric_histogram_bounds(const char *name, const char *help, const char *const *labels,
				       const double *bounds, size_t n);

/*
 * Records on the series of m whose label values are values (one per label name, in order; NULL is
 * taken as ""): a counter grows by n, a histogram observes v, a gauge is set to v. m NULL or
 * metrics off (metrics_set_enabled false): nothing happens. values are copied on first use.
 * Thread: any; lock-free once the label set exists.
 */
void metric_add(struct metric *m, const char *const *values, uint64_t n);
void metric_observe(struct metric *m, const char *const *values, double v);
void metric_set(struct metric *m, const char *const *values, double v);

/* Whether metrics are recorded (default true). Thread: any. */
bool metrics_enabled(void);

/* Turns recording on or off (--enable-metrics, spec.metric.enabled). Thread: start-up. */
void metrics_set_enabled(bool on);

/*
 * Histogram bucket upper bounds for histograms made from now on (ascending, n at most
 * METRICS_MAX_BUCKETS); n 0 restores Dapr's. Returns -1 when they are not ascending and positive.
 * Thread: start-up, before metrics are made.
 */
int metrics_set_buckets(const double *bounds, size_t n);

/*
 * The exposition of every metric with at least one series, and the process_* metrics of this
 * process, in Prometheus text format 0.0.4. *len is set to the text's length.
 * Ownership: the caller frees the result; NULL when out of memory. Thread: any.
 */
char *metrics_render(size_t *len);

/* Frees every metric (tests; the end of the process). No metric may be in use. */
void metrics_reset(void);

/* Milliseconds since an arbitrary start, CLOCK_MONOTONIC: for latencies. Thread: any. */
double metrics_now_ms(void);

/*
 * metrics_now_ms() while metrics are on, else 0 without reading the clock: the start of a latency
 * that only metrics use, so that metrics off cost nothing. Thread: any.
 */
double metrics_start_ms(void);

#endif /* OUTRIG_CORE_OBSERVE_METRICS_H */
