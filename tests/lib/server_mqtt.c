/* SPDX-License-Identifier: Apache-2.0 */
/* mosquitto from Debian's package, started on a free loopback port for tests. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "server.h"
#include "server_internal.h"

/*
 * persistence with autosave_on_changes after every change: a broker stopped with SIGTERM
 * writes its database anyway, but a change-by-change save also survives SIGKILL closely.
 * `user root` keeps a root-run broker from switching to the "mosquitto" user, which could
 * not write the test's folder.
 */
static int mosquitto_write_conf(const struct test_server *s, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "test harness: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f,
		"listener %d 127.0.0.1\n"
		"allow_anonymous true\n"
		"persistence true\n"
		"persistence_location %s/\n"
		"autosave_on_changes true\n"
		"autosave_interval 1\n"
		"max_queued_messages 0\n"
		"max_inflight_messages 100\n"
		"user root\n",
		s->port, s->dir);
	return fclose(f) == 0 ? 0 : -1;
}

int server_mosquitto_spawn(struct test_server *s)
{
	char conf[600];
	/* Debian installs it in /usr/sbin, which a non-root $PATH often lacks. */
	const char *bin = server_available("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";
	const char *argv[] = { bin, "-c", conf, NULL };

	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", s->dir);
	if (mosquitto_write_conf(s, conf) != 0)
		return -1;
	return server_spawn_and_wait(s, argv);
}

int server_mosquitto_start(struct test_server *s)
{
	if (!server_available("/usr/sbin/mosquitto") && !server_available("mosquitto"))
		return SERVER_UNAVAILABLE;
	if (server_make_dir(s, "mosquitto") != 0)
		return -1;
	s->port = daemon_free_port();
	return server_mosquitto_spawn(s);
}

const char *server_mosquitto_url(const struct test_server *s)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "tcp://127.0.0.1:%d", s->port);
	return buf;
}
