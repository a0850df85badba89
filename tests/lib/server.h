/* SPDX-License-Identifier: Apache-2.0 */
/* Starts and stops the real servers (Redis, PostgreSQL, ...) that plugin tests run against. */
#ifndef OUTRIG_TESTS_SERVER_H
#define OUTRIG_TESTS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

/* True when name is an executable found on $PATH, so a test can skip when it is not installed. */
bool server_available(const char *name);

/*
 * Runs argv (argv[0] looked up on $PATH) with stdout and stderr appended to log. The server is
 * killed when the calling thread ends, so a crashed test leaves nothing behind.
 * Returns its pid, or -1.
 */
pid_t server_spawn(const char *const *argv, const char *log);

/* Waits until 127.0.0.1:port accepts connections. Returns 0, or -1 if pid exits or timeout_ms passes. */
int server_wait_port(pid_t pid, int port, int timeout_ms);

/* SIGTERM, then SIGKILL after 10 s. Returns the exit code, 128 + signal, or -1. */
int server_stop(pid_t pid);

/* Returned by the *_start functions when the server is not installed here (automake's skip). */
#define SERVER_UNAVAILABLE 77

/* A real Redis, PostgreSQL or mosquitto server a test started, with its data in a directory of its own. */
struct test_server {
	const char *kind; /* "redis", "postgresql" or "mosquitto" */
	char dir[512];	  /* data directory, made by *_start, removed by server_destroy */
	char log[600];	  /* the server's stdout and stderr */
	int port;	  /* loopback port; kept across server_restart */
	pid_t pid;	  /* 0 while stopped */
};

/*
 * Starts redis-server on a free 127.0.0.1 port, with append-only persistence fsynced on every
 * write so an acknowledged write survives server_restart. Returns 0, SERVER_UNAVAILABLE, or -1
 * (the reason on stderr and in s->log).
 */
int server_redis_start(struct test_server *s);

/*
 * Makes a PostgreSQL cluster with initdb (as the unprivileged user "postgres" when run as root,
 * as Debian's packaging does; trust authentication on loopback only) and starts it on a free
 * 127.0.0.1 port, and waits until it takes sessions. Connect with server_postgres_conninfo().
 * Returns 0, SERVER_UNAVAILABLE or -1.
 */
int server_postgres_start(struct test_server *s);

/*
 * As server_postgres_start, with TLS on (ssl = on, the PEM certificate cert and key key); with
 * ssl_only, pg_hba.conf takes TLS connections only (hostssl), so one without TLS is refused.
 * Returns 0, SERVER_UNAVAILABLE or -1.
 */
int server_postgres_start_tls(struct test_server *s, const char *cert, const char *key, bool ssl_only);

/* "host=127.0.0.1 port=N user=postgres dbname=postgres sslmode=disable", in a static buffer. */
const char *server_postgres_conninfo(const struct test_server *s);

/*
 * Starts mosquitto (MQTT 3.1.1 and 5) on a free 127.0.0.1 port, anonymous, with persistence in
 * s->dir, so a halted and restarted broker keeps persistent sessions (cleanSession false) and the
 * QoS 1 messages queued for them. Returns 0, SERVER_UNAVAILABLE or -1.
 */
int server_mosquitto_start(struct test_server *s);

/*
 * PEM files made by server_make_certs() in one folder: a CA, a server certificate for
 * 127.0.0.1 and localhost (subjectAltName IP and DNS), and a client certificate, both signed
 * by the CA. Keys are unencrypted EC P-256, so making a set takes milliseconds.
 */
struct test_certs {
	char ca[600];
	char server_cert[600], server_key[600];
	char client_cert[600], client_key[600];
};

/*
 * Makes a fresh set in dir (which must exist) with the openssl command, the CA named ca_name, so
 * two sets are two CAs that trust nothing of each other. Returns 0, SERVER_UNAVAILABLE without
 * openssl, or -1 (its output is in dir/openssl.log).
 */
int server_make_certs(const char *dir, const char *ca_name, struct test_certs *c);

/*
 * Like server_mosquitto_start, but the one listener speaks TLS only, with the server
 * certificate cert and key; with require_client_cert, clients must show a certificate signed
 * by ca (mosquitto's require_certificate). server_restart keeps TLS. Returns 0,
 * SERVER_UNAVAILABLE or -1.
 */
int server_mosquitto_start_tls(struct test_server *s, const char *ca, const char *cert, const char *key,
			       bool require_client_cert);

/* "tcp://127.0.0.1:PORT", or "ssl://127.0.0.1:PORT" for a TLS broker, in a static buffer. */
const char *server_mosquitto_url(const struct test_server *s);

/* Stops the server cleanly (Redis: SIGTERM; PostgreSQL: SIGINT, its fast shutdown), keeping its data. */
int server_halt(struct test_server *s);

/*
 * Starts a halted server again on the same port with the same data; PostgreSQL is waited for
 * until it takes sessions (pg_isready), not only TCP. Returns 0 or -1.
 */
int server_restart(struct test_server *s);

/*
 * SIGSTOP (freeze) or SIGCONT (thaw) to the server and its child processes (PostgreSQL's
 * backends), so it keeps its connections open but answers nothing: a hung server.
 */
void server_freeze(struct test_server *s);
void server_thaw(struct test_server *s);

/* Stops the server if it runs and removes its data directory. */
void server_destroy(struct test_server *s);

/* ---- server_dns.c: dnsmasq as a test DNS server ---- */

/* One name the test DNS server answers with one IPv4 (A) or IPv6 (AAAA) address; list a name twice for two. */
struct test_dns_record {
	const char *name;
	const char *address;
};

/* True when dnsmasq (Debian's dnsmasq-base, /usr/sbin/dnsmasq) is installed. */
bool server_dnsmasq_available(void);

/*
 * Starts dnsmasq (kind "dnsmasq") on a free 127.0.0.1 port, UDP and TCP, answering records
 * (ended by { NULL }) and NXDOMAIN for every other name: no upstream, no /etc/hosts, no
 * /etc/dnsmasq.conf. server_halt, server_freeze/thaw and server_destroy work on it; restart it
 * with server_dnsmasq_restart (same port, same records), not server_restart.
 * Returns 0, SERVER_UNAVAILABLE or -1 (its log is s->log).
 */
int server_dnsmasq_start(struct test_server *s, const struct test_dns_record *records);
int server_dnsmasq_restart(struct test_server *s);

/* "127.0.0.1:PORT", in a static buffer. */
const char *server_dnsmasq_address(const struct test_server *s);

#endif /* OUTRIG_TESTS_SERVER_H */
