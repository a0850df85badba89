/* SPDX-License-Identifier: Apache-2.0 */
/* The binding bench's Kafka: librdkafka's mock cluster on loopback, up until stdin closes. */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(void)
{
	fprintf(stderr,
		"usage: binding_mock [-b BROKERS] [-t TOPIC] [-P PARTITIONS]\n"
		"Starts librdkafka's mock cluster with BROKERS (3) brokers on 127.0.0.1, creates TOPIC (bench)\n"
		"with PARTITIONS (3) partitions replicated on every broker, prints 'BOOTSTRAP host:port,...' and\n"
		"'READY', and stays up until stdin closes (or SIGTERM/SIGINT).\n");
	exit(2);
}

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(int argc, char **argv)
{
	const char *topic = "bench";
	int brokers = 3, partitions = 3, opt;
	char errstr[512], buf[256];
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	rd_kafka_resp_err_t err;
	struct sigaction sa;

	while ((opt = getopt(argc, argv, "b:t:P:")) != -1) {
		switch (opt) {
		case 'b': brokers = atoi(optarg); break;
		case 't': topic = optarg; break;
		case 'P': partitions = atoi(optarg); break;
		default: usage();
		}
	}
	if (brokers < 1 || brokers > 16 || partitions < 1 || partitions > 1000 || !*topic)
		usage();

	/* The cluster borrows this client's settings for the sockets it accepts: Nagle off on the brokers'
	 * side too (rd_kafka_transport_post_connect_setup reads socket.nagle.disable). The client itself never
	 * connects anywhere, so it gets no bootstrap servers and says nothing about that below errors. */
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "socket.nagle.disable", "true", errstr, sizeof(errstr)) !=
		    RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "binding_mock: %s\n", errstr);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (!rk) {
		fprintf(stderr, "binding_mock: rd_kafka_new: %s\n", errstr);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (!mc) {
		fprintf(stderr, "binding_mock: rd_kafka_mock_cluster_new(%d brokers) failed\n", brokers);
		rd_kafka_destroy(rk);
		return 1;
	}
	err = rd_kafka_mock_topic_create(mc, topic, partitions, brokers);
	if (err) {
		fprintf(stderr, "binding_mock: creating topic %s: %s\n", topic, rd_kafka_err2str(err));
		rd_kafka_mock_cluster_destroy(mc);
		rd_kafka_destroy(rk);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	printf("BOOTSTRAP %s\nTOPIC %s partitions=%d replication=%d\nREADY\n",
	       rd_kafka_mock_cluster_bootstraps(mc), topic, partitions, brokers);
	fflush(stdout);

	/* The cluster runs on its own thread; this one only waits for its end. */
	while (!stopping && read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
