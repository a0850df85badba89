/* SPDX-License-Identifier: Apache-2.0 */
/* A Kafka cluster for tests: librdkafka's mock brokers on loopback, taken down and up by commands on stdin. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/*
 * Usage: kafka_mock [BROKERS]   (default 3)
 * Prints the bootstrap servers ("127.0.0.1:p1,127.0.0.1:p2,...") as its first line, then answers
 * each command line with "ok" or "error <why>":
 *   down <id>|all, up <id>|all     take broker id (1..BROKERS) or every broker off the network, or back
 *   create <topic> <partitions>    create a topic (replicated on up to 3 brokers)
 *   errors <count> <code>          the next count Produce requests get Kafka error code (a number)
 *   rtt <id>|all <ms>              broker id (or every broker) answers ms late (0: at once)
 *   count <topic> <partitions> <s> "ok N": how many records of the topic hold the string s
 *   quit                           (or end of input) stop
 */
static int set_brokers(rd_kafka_mock_cluster_t *mc, int nbrokers, const char *which, int up)
{
	int first = 1, last = nbrokers;

	if (strcmp(which, "all") != 0) {
		char *end;
		long id = strtol(which, &end, 10);

		if (*end != '\0' || id < 1 || id > nbrokers)
			return -1;
		first = last = (int)id;
	}
	for (int id = first; id <= last; id++) {
		rd_kafka_resp_err_t e =
			up ? rd_kafka_mock_broker_set_up(mc, id) : rd_kafka_mock_broker_set_down(mc, id);

		if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
			return -1;
	}
	return 0;
}

/* How many records of topic (partitions 0..partitions-1) hold needle, read with a consumer of its own; -1: cannot tell. */
static long count_records(const char *bootstraps, const char *topic, int partitions, const char *needle)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *tp;
	char why[512];
	long n = 0;
	int eof = 0;
	rd_kafka_t *c;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, why, sizeof(why)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.partition.eof", "true", why, sizeof(why)) != RD_KAFKA_CONF_OK ||
	    /* assign() needs a group; it never joins it, and nothing is committed. */
	    rd_kafka_conf_set(conf, "group.id", "kafka_mock-count", why, sizeof(why)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "enable.auto.commit", "false", why, sizeof(why)) != RD_KAFKA_CONF_OK ||
	    rd_kafka_conf_set(conf, "log_level", "0", why, sizeof(why)) != RD_KAFKA_CONF_OK) {
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
	if (c == NULL)
		return -1;
	tp = rd_kafka_topic_partition_list_new(partitions);
	for (int i = 0; i < partitions; i++)
		rd_kafka_topic_partition_list_add(tp, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
	if (rd_kafka_assign(c, tp) != RD_KAFKA_RESP_ERR_NO_ERROR)
		n = -1;
	rd_kafka_topic_partition_list_destroy(tp);
	for (int polls = 0; n >= 0 && eof < partitions && polls < 100; polls++) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);

		if (m == NULL)
			continue;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			eof++;
		else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->payload != NULL &&
			 memmem(m->payload, m->len, needle, strlen(needle)) != NULL)
			n++;
		rd_kafka_message_destroy(m);
	}
	if (eof < partitions)
		n = -1;
	rd_kafka_consumer_close(c);
	rd_kafka_destroy(c);
	return n;
}

int main(int argc, char **argv)
{
	int nbrokers = argc > 1 ? atoi(argv[1]) : 3;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mc;
	char why[512], line[1024];
	rd_kafka_t *rk;

	if (nbrokers < 1 || nbrokers > 16) {
		fprintf(stderr, "usage: %s [BROKERS (1-16)]\n", argv[0]);
		return 2;
	}
	/* The handle only hosts the cluster; its own log lines would just be noise. */
	rd_kafka_conf_set(conf, "log_level", "0", why, sizeof(why));
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
	if (rk == NULL) {
		fprintf(stderr, "kafka_mock: %s\n", why);
		return 1;
	}
	mc = rd_kafka_mock_cluster_new(rk, nbrokers);
	if (mc == NULL) {
		fprintf(stderr, "kafka_mock: cannot start %d mock brokers\n", nbrokers);
		rd_kafka_destroy(rk);
		return 1;
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		char cmd[32] = "", arg[512] = "", needle[512] = "";
		int n = 0, fields = sscanf(line, "%31s %511s %d %511s", cmd, arg, &n, needle);
		const char *bad = NULL;

		if (fields < 1)
			continue;
		if (strcmp(cmd, "quit") == 0)
			break;
		if ((strcmp(cmd, "down") == 0 || strcmp(cmd, "up") == 0) && fields == 2) {
			if (set_brokers(mc, nbrokers, arg, strcmp(cmd, "up") == 0) != 0)
				bad = "no such broker";
		} else if (strcmp(cmd, "create") == 0 && fields == 3 && n > 0) {
			if (rd_kafka_mock_topic_create(mc, arg, n, nbrokers < 3 ? nbrokers : 3) !=
			    RD_KAFKA_RESP_ERR_NO_ERROR)
				bad = "cannot create the topic";
		} else if (strcmp(cmd, "errors") == 0 && fields == 3) {
			rd_kafka_resp_err_t *codes =
				calloc((size_t)(atoi(arg) > 0 ? atoi(arg) : 1), sizeof(*codes));

			for (int i = 0; codes != NULL && i < atoi(arg); i++)
				codes[i] = (rd_kafka_resp_err_t)n;
			if (codes == NULL || atoi(arg) < 1)
				bad = "errors <count> <code>";
			else
				rd_kafka_mock_push_request_errors_array(mc, 0 /* Produce */,
									(size_t)atoi(arg), codes);
			free(codes);
		} else if (strcmp(cmd, "rtt") == 0 && fields == 3 && n >= 0) {
			for (int id = 1; id <= nbrokers; id++)
				if (strcmp(arg, "all") == 0 || atoi(arg) == id)
					rd_kafka_mock_broker_set_rtt(mc, id, n);
		} else if (strcmp(cmd, "count") == 0 && fields == 4 && n > 0) {
			long c = count_records(rd_kafka_mock_cluster_bootstraps(mc), arg, n, needle);

			if (c < 0) {
				bad = "cannot read the topic";
			} else {
				printf("ok %ld\n", c);
				fflush(stdout);
				continue;
			}
		} else {
			bad = "unknown command; use down|up <id>|all, create <topic> <partitions>, errors <count> <code>, "
			      "rtt <id>|all <ms>, count <topic> <partitions> <string>, quit";
		}
		if (bad != NULL)
			printf("error %s\n", bad);
		else
			printf("ok\n");
		fflush(stdout);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
