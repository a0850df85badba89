/* SPDX-License-Identifier: Apache-2.0 */
/* The binding bench's direct path: one librdkafka producer, N messages with K awaiting their delivery report. */
#include "pubsub_common.h"

#include <getopt.h>
#include <librdkafka/rdkafka.h>

static struct {
	long n, window, issued, inflight, acked, failed;
	int64_t *sent_ns; /* by message number; the message's opaque is its number */
	int64_t *lat;	  /* microseconds, one per acknowledged message */
	int64_t last_ack_ns;
	int shown;
	int probe_done; /* the untimed first message: 0 pending, 1 acknowledged, -1 failed */
} D;

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* on_delivery: served by rd_kafka_poll on the main thread, so D needs no lock. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	long i = (long)(intptr_t)m->_private;
	int64_t now = mono_ns();

	(void)rk;
	(void)opaque;
	if (i < 0) {
		D.probe_done = m->err ? -1 : 1;
		if (m->err)
			fprintf(stderr, "binding_direct: first message: %s\n", rd_kafka_err2str(m->err));
		return;
	}
	D.inflight--;
	if (m->err) {
		D.failed++;
		if (D.shown++ < 3)
			fprintf(stderr, "binding_direct: delivery failed: %s\n", rd_kafka_err2str(m->err));
		return;
	}
	D.lat[D.acked++] = (now - D.sent_ns[i]) / 1000;
	D.last_ack_ns = now;
}

static int produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const char *value, const char *key, long i)
{
	/* RD_KAFKA_MSG_F_COPY: librdkafka takes a copy, as a plugin handed a request body must. */
	return rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)value, strlen(value),
				key, strlen(key), (void *)(intptr_t)i);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: binding_direct -b BOOTSTRAP [-t TOPIC] [-n MESSAGES] [-k WINDOW] [-v VALUE] [-K KEY]\n"
		"                      [-X PROPERTY=VALUE]... [-w SECONDS]\n"
		"Produces MESSAGES (10000) copies of VALUE with key KEY (k) to TOPIC (bench), at most WINDOW (16)\n"
		"awaiting their delivery report, after one untimed message; acks=all, Nagle off, and any -X\n"
		"librdkafka property. Prints one RESULT line: msg/s from the first send to the last\n"
		"acknowledgement, and the produce-to-acknowledgement latency. -w: give up after SECONDS (60).\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *bootstrap = NULL, *topic = "bench", *value = "{\"pad\":\"x\"}", *key = "k";
	char errstr[512], *eq;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	double give_up = 60;
	int64_t t0, deadline;
	int opt;

	D.n = 10000;
	D.window = 16;
	/* The defaults first, so that -X can override them. */
	if (rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "socket.nagle.disable", "true", errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "binding_direct: %s\n", errstr);
		return 1;
	}
	while ((opt = getopt(argc, argv, "b:t:n:k:v:K:X:w:")) != -1) {
		switch (opt) {
		case 'b': bootstrap = optarg; break;
		case 't': topic = optarg; break;
		case 'n': D.n = atol(optarg); break;
		case 'k': D.window = atol(optarg); break;
		case 'v': value = optarg; break;
		case 'K': key = optarg; break;
		case 'X':
			eq = strchr(optarg, '=');
			if (!eq)
				usage();
			*eq = '\0';
			if (rd_kafka_conf_set(conf, optarg, eq + 1, errstr, sizeof(errstr)) !=
			    RD_KAFKA_CONF_OK) {
				fprintf(stderr, "binding_direct: -X %s: %s\n", optarg, errstr);
				return 2;
			}
			break;
		case 'w': give_up = atof(optarg); break;
		default: usage();
		}
	}
	if (!bootstrap || D.n <= 0 || D.window <= 0 || give_up <= 0)
		usage();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "binding_direct: %s\n", errstr);
		return 1;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	D.sent_ns = calloc((size_t)D.n, sizeof(*D.sent_ns));
	D.lat = calloc((size_t)D.n, sizeof(*D.lat));
	if (!D.sent_ns || !D.lat) {
		fprintf(stderr, "binding_direct: out of memory\n");
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "binding_direct: rd_kafka_new: %s\n", errstr);
		return 1;
	}
	rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (!rkt) {
		fprintf(stderr, "binding_direct: rd_kafka_topic_new: %s\n",
			rd_kafka_err2str(rd_kafka_last_error()));
		return 1;
	}

	/* One message before the clock: metadata, the connection to the partition leader and the producer's
	 * warm-up are not what is measured (outrigd's producer has had them before its timed runs too). */
	deadline = mono_ns() + (int64_t)(give_up * 1e9);
	if (produce(rk, rkt, value, key, -1) != 0) {
		fprintf(stderr, "binding_direct: produce: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
		return 1;
	}
	while (D.probe_done == 0 && mono_ns() < deadline)
		rd_kafka_poll(rk, 100);
	if (D.probe_done != 1) {
		fprintf(stderr, "binding_direct: the first message was not acknowledged\n");
		return 1;
	}

	t0 = mono_ns();
	deadline = t0 + (int64_t)(give_up * 1e9);
	while (D.acked + D.failed < D.n) {
		while (D.inflight < D.window && D.issued < D.n) {
			D.sent_ns[D.issued] = mono_ns();
			if (produce(rk, rkt, value, key, D.issued) != 0) {
				fprintf(stderr, "binding_direct: produce: %s\n",
					rd_kafka_err2str(rd_kafka_last_error()));
				return 1;
			}
			D.issued++;
			D.inflight++;
		}
		/* Returns as soon as a delivery report was served; the next message goes out at once. */
		rd_kafka_poll(rk, 100);
		if (mono_ns() > deadline) {
			fprintf(stderr, "binding_direct: %ld messages unacknowledged after %.0f s\n",
				D.n - D.acked - D.failed, give_up);
			break;
		}
	}

	{
		double span = (double)(D.last_ack_ns - t0) / 1e9;
		size_t k = (size_t)D.acked;
		int64_t p50 = bench_percentile(D.lat, k, 50, 0);
		int64_t p90 = bench_percentile(D.lat, k, 90, 1);
		int64_t p99 = bench_percentile(D.lat, k, 99, 1);
		int64_t max = k ? D.lat[k - 1] : 0;

		printf("RESULT n=%ld window=%ld size=%zu ok=%ld errors=%ld rate=%.0f p50_us=%lld p90_us=%lld "
		       "p99_us=%lld max_us=%lld\n",
		       D.n, D.window, strlen(value), D.acked, D.n - D.acked,
		       span > 0 ? (double)D.acked / span : 0.0, (long long)p50, (long long)p90,
		       (long long)p99, (long long)max);
	}
	rd_kafka_flush(rk, 5000);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	free(D.sent_ns);
	free(D.lat);
	return D.acked == D.n ? 0 : 1;
}
