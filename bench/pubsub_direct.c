/* SPDX-License-Identifier: Apache-2.0 */
/* The pub/sub bench's direct path: one MQTT subscriber and one publisher (paho MQTTAsync, QoS 1) on a broker. */
#include "pubsub_common.h"

#include <MQTTAsync.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

/* Everything the paho threads and the main thread share; the mutex guards all of it. */
struct direct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	long n, window, run;
	/* Connection and subscription steps: 0 pending, 1 done, -1 failed. */
	int pub_connected, sub_connected, subscribed;
	char failure[160];
	long inflight, acked, publish_errors;
	/* Receiving side. */
	unsigned char *seen;
	int64_t *lat;
	long received, dups, stale;
	int64_t first_t, last_recv;
};

static struct direct d = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void set_step(int *step, int value, const char *what, const char *msg)
{
	pthread_mutex_lock(&d.lock);
	*step = value;
	if (value < 0 && d.failure[0] == '\0')
		snprintf(d.failure, sizeof(d.failure), "%s: %s", what, msg ? msg : "failed");
	pthread_cond_broadcast(&d.cond);
	pthread_mutex_unlock(&d.lock);
}

static void on_pub_connect(void *ctx, MQTTAsync_successData *r)
{
	set_step(&d.pub_connected, 1, "publisher connect", NULL);
}

static void on_sub_connect(void *ctx, MQTTAsync_successData *r)
{
	set_step(&d.sub_connected, 1, "subscriber connect", NULL);
}

static void on_pub_connect_fail(void *ctx, MQTTAsync_failureData *r)
{
	set_step(&d.pub_connected, -1, "publisher connect", r ? r->message : NULL);
}

static void on_sub_connect_fail(void *ctx, MQTTAsync_failureData *r)
{
	set_step(&d.sub_connected, -1, "subscriber connect", r ? r->message : NULL);
}

static void on_subscribed(void *ctx, MQTTAsync_successData *r)
{
	/* A SUBACK can grant less than asked; 0x80 is a refusal. */
	set_step(&d.subscribed, r && r->alt.qos == 0x80 ? -1 : 1, "subscribe", "refused by the broker");
}

static void on_subscribe_fail(void *ctx, MQTTAsync_failureData *r)
{
	set_step(&d.subscribed, -1, "subscribe", r ? r->message : NULL);
}

static void on_published(void *ctx, MQTTAsync_successData *r)
{
	pthread_mutex_lock(&d.lock);
	d.inflight--;
	d.acked++;
	pthread_cond_broadcast(&d.cond);
	pthread_mutex_unlock(&d.lock);
}

static void on_publish_fail(void *ctx, MQTTAsync_failureData *r)
{
	pthread_mutex_lock(&d.lock);
	d.inflight--;
	d.publish_errors++;
	pthread_cond_broadcast(&d.cond);
	pthread_mutex_unlock(&d.lock);
}

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
	int64_t now = bench_now_us();
	long long t = bench_field(m->payload, (size_t)m->payloadlen, "t");
	long long seq = bench_field(m->payload, (size_t)m->payloadlen, "seq");
	long long run = bench_field(m->payload, (size_t)m->payloadlen, "run");

	pthread_mutex_lock(&d.lock);
	if (run != d.run || t < 0 || seq < 0 || seq >= d.n) {
		d.stale++;
	} else if (d.seen[seq]) {
		d.dups++;
	} else {
		d.seen[seq] = 1;
		d.lat[d.received++] = now - t;
		if (d.first_t == 0 || t < d.first_t)
			d.first_t = t;
		d.last_recv = now;
		if (d.received == d.n)
			pthread_cond_broadcast(&d.cond);
	}
	pthread_mutex_unlock(&d.lock);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void on_lost(void *ctx, char *cause)
{
	set_step(ctx == &d.pub_connected ? &d.pub_connected : &d.sub_connected, -1, "connection lost",
		 cause ? cause : "no cause given");
}

/* wait_until: waits (lock held) until *step is nonzero or the deadline passes; true if it is 1. */
static bool wait_step(int *step, const struct timespec *deadline)
{
	while (*step == 0)
		if (pthread_cond_timedwait(&d.cond, &d.lock, deadline) == ETIMEDOUT)
			break;
	return *step == 1;
}

static struct timespec deadline_in(long seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	return ts;
}

/* paho sets no TCP_NODELAY and shows no socket, so once both clients are connected every TCP socket of
 * this process (theirs are the only ones) gets it. */
static void nodelay_all(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int one = 1, n = 0;

	if (!dir) {
		fprintf(stderr, "pubsub_direct: cannot list /proc/self/fd to set TCP_NODELAY\n");
		exit(1);
	}
	while ((e = readdir(dir)) != NULL) {
		int fd = atoi(e->d_name), type = 0;
		socklen_t len = sizeof(type);
		struct sockaddr_storage sa;
		socklen_t salen = sizeof(sa);
		struct stat st;

		if (fd <= 2 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM ||
		    getsockname(fd, (struct sockaddr *)&sa, &salen) != 0 ||
		    (sa.ss_family != AF_INET && sa.ss_family != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0)
			n++;
	}
	closedir(dir);
	if (n < 2) {
		fprintf(stderr, "pubsub_direct: set TCP_NODELAY on %d sockets, expected 2\n", n);
		exit(1);
	}
}

static MQTTAsync make_client(const char *url, const char *role, int *step)
{
	MQTTAsync c;
	char id[64];
	int rc;

	snprintf(id, sizeof(id), "outrig-bench-%s-%ld", role, (long)getpid());
	rc = MQTTAsync_create(&c, url, id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
	if (rc != MQTTASYNC_SUCCESS) {
		fprintf(stderr, "pubsub_direct: cannot create the %s client for %s (%d)\n", role, url, rc);
		exit(1);
	}
	MQTTAsync_setCallbacks(c, step, on_lost, on_message, NULL);
	return c;
}

static void connect_client(MQTTAsync c, long window, MQTTAsync_onSuccess *ok, MQTTAsync_onFailure *fail)
{
	MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
	int rc;

	o.cleansession = 1;
	o.keepAliveInterval = 60;
	o.maxInflight = window > 10 ? (int)window : 10;
	o.onSuccess = ok;
	o.onFailure = fail;
	rc = MQTTAsync_connect(c, &o);
	if (rc != MQTTASYNC_SUCCESS) {
		fprintf(stderr, "pubsub_direct: MQTTAsync_connect failed (%d)\n", rc);
		exit(1);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pubsub_direct -u tcp://HOST:PORT [-t TOPIC] [-n MESSAGES] [-k WINDOW] [-s BYTES] "
		"[-r RUN] [-w TIMEOUT_S]\n"
		"Subscribes to TOPIC at QoS 1, publishes MESSAGES at QoS 1 with at most WINDOW unacknowledged,\n"
		"and prints one RESULT line: publish and end-to-end rates, publish-to-receive p50/p99.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *url = NULL, *topic = "bench";
	long size = 64, timeout = 60, i;
	MQTTAsync pub, sub;
	MQTTAsync_responseOptions so = MQTTAsync_responseOptions_initializer;
	struct timespec dl;
	int64_t t0, t_acked, t_end;
	char body[4096];
	int opt, rc, ok;

	d.n = 10000;
	d.window = 16;
	d.run = 1;
	while ((opt = getopt(argc, argv, "u:t:n:k:s:r:w:")) != -1) {
		switch (opt) {
		case 'u': url = optarg; break;
		case 't': topic = optarg; break;
		case 'n': d.n = atol(optarg); break;
		case 'k': d.window = atol(optarg); break;
		case 's': size = atol(optarg); break;
		case 'r': d.run = atol(optarg); break;
		case 'w': timeout = atol(optarg); break;
		default: usage();
		}
	}
	if (!url || d.n <= 0 || d.window <= 0 || size <= 0 || size >= (long)sizeof(body) || timeout <= 0)
		usage();
	d.seen = calloc((size_t)d.n, 1);
	d.lat = calloc((size_t)d.n, sizeof(*d.lat));
	if (!d.seen || !d.lat) {
		fprintf(stderr, "pubsub_direct: out of memory\n");
		return 1;
	}

	sub = make_client(url, "sub", &d.sub_connected);
	pub = make_client(url, "pub", &d.pub_connected);
	connect_client(sub, d.window, on_sub_connect, on_sub_connect_fail);
	connect_client(pub, d.window, on_pub_connect, on_pub_connect_fail);
	pthread_mutex_lock(&d.lock);
	dl = deadline_in(10);
	ok = wait_step(&d.sub_connected, &dl) && wait_step(&d.pub_connected, &dl);
	pthread_mutex_unlock(&d.lock);
	if (!ok) {
		fprintf(stderr, "pubsub_direct: %s\n", d.failure[0] ? d.failure : "connect timed out");
		return 1;
	}
	nodelay_all();
	so.onSuccess = on_subscribed;
	so.onFailure = on_subscribe_fail;
	rc = MQTTAsync_subscribe(sub, topic, 1, &so);
	pthread_mutex_lock(&d.lock);
	dl = deadline_in(10);
	ok = rc == MQTTASYNC_SUCCESS && wait_step(&d.subscribed, &dl);
	pthread_mutex_unlock(&d.lock);
	if (!ok) {
		fprintf(stderr, "pubsub_direct: %s\n", d.failure[0] ? d.failure : "subscribe timed out");
		return 1;
	}

	t0 = bench_now_us();
	for (i = 0; i < d.n; i++) {
		MQTTAsync_message m = MQTTAsync_message_initializer;
		MQTTAsync_responseOptions po = MQTTAsync_responseOptions_initializer;
		int len;

		pthread_mutex_lock(&d.lock);
		while (d.inflight >= d.window && d.pub_connected == 1)
			pthread_cond_wait(&d.cond, &d.lock);
		ok = d.pub_connected == 1;
		if (ok)
			d.inflight++;
		pthread_mutex_unlock(&d.lock);
		if (!ok)
			break;
		len = bench_body(body, sizeof(body), (size_t)size, bench_now_us(), i, d.run);
		m.payload = body;
		m.payloadlen = len;
		m.qos = 1;
		po.onSuccess = on_published;
		po.onFailure = on_publish_fail;
		rc = MQTTAsync_sendMessage(pub, topic, &m, &po);
		if (rc != MQTTASYNC_SUCCESS) {
			pthread_mutex_lock(&d.lock);
			d.inflight--;
			d.publish_errors++;
			pthread_mutex_unlock(&d.lock);
		}
	}
	pthread_mutex_lock(&d.lock);
	dl = deadline_in(timeout);
	while (d.inflight > 0 && pthread_cond_timedwait(&d.cond, &d.lock, &dl) != ETIMEDOUT)
		;
	t_acked = bench_now_us();
	while (d.received < d.n && pthread_cond_timedwait(&d.cond, &d.lock, &dl) != ETIMEDOUT)
		;
	t_end = d.last_recv;
	pthread_mutex_unlock(&d.lock);

	/* The figures are read once the paho threads have stopped touching them. */
	MQTTAsync_disconnectOptions disc = MQTTAsync_disconnectOptions_initializer;
	disc.timeout = 1000;
	MQTTAsync_disconnect(pub, &disc);
	MQTTAsync_disconnect(sub, &disc);
	usleep(100000);
	pthread_mutex_lock(&d.lock);
	{
		long got = d.received;
		int64_t p50 = bench_percentile(d.lat, (size_t)got, 50, 0);
		int64_t p99 = bench_percentile(d.lat, (size_t)got, 99, 1);
		double span = got > 0 ? (double)(t_end - d.first_t) / 1e6 : 0;

		printf("RESULT run=%ld n=%ld window=%ld size=%ld publish_rate=%.0f rate=%.0f p50_us=%lld p99_us=%lld "
		       "received=%ld dups=%ld stale=%ld publish_errors=%ld\n",
		       d.run, d.n, d.window, size, d.acked / ((double)(t_acked - t0) / 1e6),
		       span > 0 ? got / span : 0.0, (long long)p50, (long long)p99, got, d.dups, d.stale,
		       d.publish_errors);
		ok = got == d.n && d.publish_errors == 0;
	}
	pthread_mutex_unlock(&d.lock);
	MQTTAsync_destroy(&pub);
	MQTTAsync_destroy(&sub);
	if (!ok)
		fprintf(stderr, "pubsub_direct: run %ld incomplete (%s)\n", d.run,
			d.failure[0] ? d.failure : "messages missing or publishes failed");
	return ok ? 0 : 1;
}
