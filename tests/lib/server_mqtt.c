/* SPDX-License-Identifier: Apache-2.0 */
/* mosquitto from Debian's package, started on a free loopback port for tests, plain or with TLS. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "server.h"
#include "server_internal.h"

/* The listener's TLS lines, kept in the data folder so that server_restart speaks TLS again. */
#define MOSQUITTO_TLS_CONF "listener-tls.conf"

/* Copies s->dir/listener-tls.conf, if start_tls wrote one, into f after the listener line. */
static int mosquitto_copy_tls(const struct test_server *s, FILE *f)
{
	char path[600], line[1024];
	FILE *in;

	snprintf(path, sizeof(path), "%s/" MOSQUITTO_TLS_CONF, s->dir);
	in = fopen(path, "r");
	if (in == NULL)
		return errno == ENOENT ? 0 : -1;
	while (fgets(line, sizeof(line), in) != NULL)
		fputs(line, f);
	fclose(in);
	return 0;
}

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
	fprintf(f, "listener %d 127.0.0.1\n", s->port);
	if (mosquitto_copy_tls(s, f) != 0) {
		fprintf(stderr, "test harness: cannot read %s/" MOSQUITTO_TLS_CONF ": %s\n", s->dir,
			strerror(errno));
		fclose(f);
		return -1;
	}
	fprintf(f,
		"allow_anonymous true\n"
		"persistence true\n"
		"persistence_location %s/\n"
		"autosave_on_changes true\n"
		"autosave_interval 1\n"
		"max_queued_messages 0\n"
		"max_inflight_messages 100\n"
		"user root\n",
		s->dir);
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

int server_mosquitto_start_tls(struct test_server *s, const char *ca, const char *cert, const char *key,
			       bool require_client_cert)
{
	char path[600];
	FILE *f;

	if (!server_available("/usr/sbin/mosquitto") && !server_available("mosquitto"))
		return SERVER_UNAVAILABLE;
	if (server_make_dir(s, "mosquitto") != 0)
		return -1;
	s->port = daemon_free_port();
	snprintf(path, sizeof(path), "%s/" MOSQUITTO_TLS_CONF, s->dir);
	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "test harness: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* use_identity_as_username stays off: anonymous access is what the plain broker has too. */
	fprintf(f, "cafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate %s\n", ca, cert, key,
		require_client_cert ? "true" : "false");
	if (fclose(f) != 0)
		return -1;
	return server_mosquitto_spawn(s);
}

const char *server_mosquitto_url(const struct test_server *s)
{
	static char buf[64];
	char path[600];

	snprintf(path, sizeof(path), "%s/" MOSQUITTO_TLS_CONF, s->dir);
	snprintf(buf, sizeof(buf), "%s://127.0.0.1:%d", access(path, F_OK) == 0 ? "ssl" : "tcp", s->port);
	return buf;
}

/* ---- certificates ---- */

/*
 * One configuration for the three certificates, each with its own extensions section, so
 * nothing of the system's openssl.cnf (which makes every `req -x509` a CA) slips in.
 */
static int certs_write_conf(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "test harness: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fputs("[req]\n"
	      "distinguished_name = dn\n"
	      "prompt = no\n"
	      "[dn]\n"
	      "CN = unused\n"
	      "[ca]\n"
	      "basicConstraints = critical, CA:TRUE\n"
	      "keyUsage = critical, keyCertSign, cRLSign\n"
	      "subjectKeyIdentifier = hash\n"
	      "[server]\n"
	      "basicConstraints = critical, CA:FALSE\n"
	      "keyUsage = critical, digitalSignature\n"
	      "extendedKeyUsage = serverAuth\n"
	      "subjectAltName = IP:127.0.0.1, DNS:localhost\n"
	      "[client]\n"
	      "basicConstraints = critical, CA:FALSE\n"
	      "keyUsage = critical, digitalSignature\n"
	      "extendedKeyUsage = clientAuth\n",
	      f);
	return fclose(f) == 0 ? 0 : -1;
}

/*
 * openssl req -x509 for one certificate: self-signed (the CA) when ca is NULL, else signed by
 * ca (OpenSSL 3's req -CA). Returns 0 or -1.
 */
static int certs_make_one(const char *dir, const char *conf, const char *section, const char *subject,
			  const char *cert, const char *key, const struct test_certs *ca, const char *ca_key)
{
	const char *argv[32];
	char log[600];
	int n = 0, status;
	pid_t pid;

	argv[n++] = "openssl";
	argv[n++] = "req";
	argv[n++] = "-config";
	argv[n++] = conf;
	argv[n++] = "-x509";
	argv[n++] = "-extensions";
	argv[n++] = section;
	argv[n++] = "-newkey";
	argv[n++] = "ec";
	argv[n++] = "-pkeyopt";
	argv[n++] = "ec_paramgen_curve:prime256v1";
	argv[n++] = "-nodes";
	argv[n++] = "-days";
	argv[n++] = "2";
	argv[n++] = "-subj";
	argv[n++] = subject;
	argv[n++] = "-keyout";
	argv[n++] = key;
	argv[n++] = "-out";
	argv[n++] = cert;
	if (ca != NULL) {
		argv[n++] = "-CA";
		argv[n++] = ca->ca;
		argv[n++] = "-CAkey";
		argv[n++] = ca_key;
	}
	argv[n] = NULL;
	snprintf(log, sizeof(log), "%s/openssl.log", dir);
	pid = server_spawn(argv, log);
	if (pid <= 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "test harness: openssl could not make %s; its output is in %s\n", cert, log);
		return -1;
	}
	return 0;
}

int server_make_certs(const char *dir, const char *ca_name, struct test_certs *c)
{
	char conf[600], ca_key[600], subject[300];

	if (!server_available("openssl"))
		return SERVER_UNAVAILABLE;
	memset(c, 0, sizeof(*c));
	snprintf(conf, sizeof(conf), "%s/openssl.cnf", dir);
	snprintf(ca_key, sizeof(ca_key), "%s/ca.key", dir);
	snprintf(c->ca, sizeof(c->ca), "%s/ca.pem", dir);
	snprintf(c->server_cert, sizeof(c->server_cert), "%s/server.pem", dir);
	snprintf(c->server_key, sizeof(c->server_key), "%s/server.key", dir);
	snprintf(c->client_cert, sizeof(c->client_cert), "%s/client.pem", dir);
	snprintf(c->client_key, sizeof(c->client_key), "%s/client.key", dir);
	snprintf(subject, sizeof(subject), "/CN=%s", ca_name);
	if (certs_write_conf(conf) != 0 ||
	    certs_make_one(dir, conf, "ca", subject, c->ca, ca_key, NULL, NULL) != 0 ||
	    certs_make_one(dir, conf, "server", "/CN=localhost", c->server_cert, c->server_key, c, ca_key) !=
		    0 ||
	    certs_make_one(dir, conf, "client", "/CN=outrig test client", c->client_cert, c->client_key, c,
			   ca_key) != 0)
		return -1;
	return 0;
}
