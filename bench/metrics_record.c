/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What recording one API request's metrics costs, in nanoseconds (bench/metrics_overhead.sh): the
 * calls a state save makes with metrics on (the HTTP server's count, latency and response count,
 * the state store's count and latency, and the clock reads), on 1 thread and on 2 at once (the
 * same counters, so their cache lines move between cores: the worst case).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "observe/dapr_metrics.h"
#include "observe/metrics.h"

#define ROUNDS 2000000

static void *record(void *arg)
{
	double sink = 0;

	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		double t0 = metrics_now_ms(), t1 = metrics_now_ms();

		dm_component(DM_STATE, "mem", "set", true, t1 - t0);
		dm_http_server("POST", "/v1.0/state/mem", 204, metrics_now_ms() - t0);
		sink += t1;
	}
	return sink > 0 ? NULL : arg;
}

static double run(int threads)
{
	pthread_t t[2];
	double t0 = metrics_now_ms();

	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, record, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return (metrics_now_ms() - t0) * 1e6 / ((double)ROUNDS * threads);
}

int main(void)
{
	dm_setup("bench", NULL, true);
	run(1); /* warm */
	printf("RECORD ns_per_request_1_thread=%.0f ns_per_request_2_threads=%.0f\n", run(1), run(2));
	return 0;
}
