/* SPDX-License-Identifier: Apache-2.0 */
/* dnsmasq from Debian's dnsmasq-base, started on a free loopback port as a test DNS server with given records. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "server.h"
#include "server_internal.h"

/* Debian installs it in /usr/sbin, which a non-root $PATH often lacks. */
static const char *dnsmasq_bin(void)
{
	return server_available("/usr/sbin/dnsmasq") ? "/usr/sbin/dnsmasq" : "dnsmasq";
}

bool server_dnsmasq_available(void)
{
	return server_available("/usr/sbin/dnsmasq") || server_available("dnsmasq");
}

/*
 * Every option lives in s->dir/dnsmasq.conf, which replaces /etc/dnsmasq.conf, so a restart
 * answers the same. local=/#/ makes every name not listed an NXDOMAIN, not a REFUSED
 * (there is no upstream to ask); host-record answers one name exactly, without subdomains.
 */
static int dnsmasq_write_conf(const struct test_server *s, const char *path,
			      const struct test_dns_record *records)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "test harness: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fprintf(f,
		"port=%d\n"
		"listen-address=127.0.0.1\n"
		"bind-interfaces\n"
		"no-resolv\n"
		"no-hosts\n"
		"no-poll\n"
		"local=/#/\n"
		"log-queries\n",
		s->port);
	/* dnsmasq -d does not change user; as root say so anyway, so no packaging default can. */
	if (geteuid() == 0)
		fprintf(f, "user=root\n");
	for (const struct test_dns_record *r = records; r != NULL && r->name != NULL; r++)
		fprintf(f, "host-record=%s,%s\n", r->name, r->address);
	return fclose(f) == 0 ? 0 : -1;
}

static int dnsmasq_spawn(struct test_server *s)
{
	char conf[600], conf_arg[620];
	/* --no-daemon: stays in the foreground, logs to stderr (s->log), writes no pid file. */
	const char *argv[] = { dnsmasq_bin(), "--no-daemon", conf_arg, NULL };

	snprintf(conf, sizeof(conf), "%s/dnsmasq.conf", s->dir);
	snprintf(conf_arg, sizeof(conf_arg), "--conf-file=%s", conf);
	/* dnsmasq answers DNS over TCP too, so server_wait_port sees it listen. */
	return server_spawn_and_wait(s, argv);
}

int server_dnsmasq_start(struct test_server *s, const struct test_dns_record *records)
{
	char conf[600];

	if (!server_dnsmasq_available())
		return SERVER_UNAVAILABLE;
	if (server_make_dir(s, "dnsmasq") != 0)
		return -1;
	s->port = daemon_free_port();
	snprintf(conf, sizeof(conf), "%s/dnsmasq.conf", s->dir);
	if (dnsmasq_write_conf(s, conf, records) != 0)
		return -1;
	return dnsmasq_spawn(s);
}

int server_dnsmasq_restart(struct test_server *s)
{
	return s->pid > 0 ? 0 : dnsmasq_spawn(s);
}

const char *server_dnsmasq_address(const struct test_server *s)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "127.0.0.1:%d", s->port);
	return buf;
}
