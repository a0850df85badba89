/* SPDX-License-Identifier: Apache-2.0 */
/* A Kafka cluster for tests: librdkafka's mock brokers on loopback, taken down and up by commands on stdin. */
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
		char cmd[32] = "", arg[512] = "";
		int n = 0, fields = sscanf(line, "%31s %511s %d", cmd, arg, &n);
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
		} else {
			bad = "unknown command; use down|up <id>|all, create <topic> <partitions>, quit";
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
