/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/security/spiffe.c and the loading checks of core/security/mtls.c: SPIFFE ids, and the
 * certificates a sidecar is given (made here with `outrig cert` and, for the odd ones, the openssl command).
 */
#include "config.h"

#include <check.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "security/mtls.h"
#include "security/spiffe.h"

static char dir[256];

/* Runs line with sh in dir; "$CLI" is the outrig command. */
static void run(const char *line)
{
	char cmd[4096];

	snprintf(cmd, sizeof(cmd), "cd '%s' && { %s; } >>make.log 2>&1", dir, line);
	ck_assert_msg(system(cmd) == 0, "command failed: %s (see %s/make.log)", line, dir);
}

/* Certificates for every case, once: a CA, a second CA, and sidecar certificates of app "a". */
static void make_certs(void)
{
	const char *cli = getenv("OUTRIG_CLI") != NULL ? getenv("OUTRIG_CLI") : "core/outrig";
	char abs[1024];

	if (dir[0] != '\0')
		return;
	if (cli[0] != '/') {
		ck_assert_ptr_nonnull(getcwd(abs, sizeof(abs) - 64));
		strcat(abs, "/");
		strcat(abs, cli);
		cli = abs;
	}
	snprintf(dir, sizeof(dir), "%s/check_mtls.XXXXXX",
		 getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("CLI", cli, 1);
	run("\"$CLI\" cert ca --trust-domain example.org --out ca");
	run("\"$CLI\" cert ca --trust-domain example.org --out ca2");
	run("\"$CLI\" cert issue --ca ca --app-id a --namespace prod --out good");
	run("\"$CLI\" cert issue --ca ca2 --app-id a --namespace prod --out otherca && cp ca/ca.crt otherca/ca.crt");
	run("\"$CLI\" cert issue --ca ca --app-id a --namespace prod --trust-domain other.org --out otherdomain");
	run("\"$CLI\" cert issue --ca ca --app-id a --namespace prod --not-before -3h --ttl 1h --out expired");
	run("\"$CLI\" cert issue --ca ca --app-id a --namespace prod --not-before 2h --ttl 1h --out future");
	run("\"$CLI\" cert issue --ca ca --app-id b --namespace prod --out otherapp");
	/* Odd ones, signed by the CA with the openssl command: no SAN at all, and two URI SANs. */
	run("for c in nosan twouri; do mkdir -p $c && cp ca/ca.crt $c/ && "
	    "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=a "
	    "-keyout $c/tls.key -out $c/tls.csr || exit 1; done; "
	    "printf 'basicConstraints=CA:FALSE\\n' >nosan/ext; "
	    "printf 'basicConstraints=CA:FALSE\\nsubjectAltName=URI:spiffe://example.org/ns/prod/a,"
	    "URI:spiffe://example.org/ns/prod/b\\n' >twouri/ext; "
	    "for c in nosan twouri; do openssl x509 -req -in $c/tls.csr -CA ca/ca.crt -CAkey ca/ca.key "
	    "-CAcreateserial -days 1 -extfile $c/ext -out $c/tls.crt || exit 1; done");
}

/* Loads DIR's certificate as app "a" in namespace prod of example.org; returns mtls_start's result, err filled. */
static int load(const char *name, char *err, size_t len)
{
	char cert[512], key[512], anchors[512];
	struct mtls_settings s = { 0 };

	make_certs();
	snprintf(cert, sizeof(cert), "%s/%s/tls.crt", dir, name);
	snprintf(key, sizeof(key), "%s/%s/tls.key", dir, name);
	snprintf(anchors, sizeof(anchors), "%s/%s/ca.crt", dir, name);
	s.cert_file = cert;
	s.key_file = key;
	s.anchors_file = anchors;
	s.trust_domain = "example.org";
	s.clock_skew_ms = MTLS_DEFAULT_CLOCK_SKEW_MS;
	s.app_id = "a";
	s.ns = "prod";
	err[0] = '\0';
	return mtls_start(NULL, &s, err, len);
}

static X509 *read_cert(const char *name)
{
	char path[512];
	FILE *f;
	X509 *x;

	make_certs();
	snprintf(path, sizeof(path), "%s/%s/tls.crt", dir, name);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	return x;
}

START_TEST(test_spiffe_parse)
{
	static const char *const bad[] = {
		"https://example.org/ns/prod/a",
		"spiffe://example.org/a",
		"spiffe://example.org/ns/prod",
		"spiffe://example.org/ns//a",
		"spiffe:///ns/prod/a",
		"spiffe://example.org/ns/prod/a/b",
		"spiffe://example.org/ns/prod/",
		"spiffe://example.org/nsx/prod/a",
		"spiffe://example.org/ns/pr od/a",
	};
	struct spiffe_id id;
	char buf[256];
	const char *why;

	ck_assert(spiffe_parse("spiffe://example.org/ns/prod/a", &id, buf, sizeof(buf), &why));
	ck_assert_str_eq(id.trust_domain, "example.org");
	ck_assert_str_eq(id.ns, "prod");
	ck_assert_str_eq(id.app_id, "a");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!spiffe_parse(bad[i], &id, buf, sizeof(buf), &why), "accepted %s", bad[i]);
	ck_assert(!spiffe_parse("spiffe://example.org/ns/prod/a", &id, buf, 8, &why));
}
END_TEST

START_TEST(test_identity_of_certificates)
{
	struct spiffe_id id;
	char buf[512];
	const char *why;
	X509 *x = read_cert("good");

	ck_assert(spiffe_from_cert(x, &id, buf, sizeof(buf), &why));
	ck_assert_str_eq(id.trust_domain, "example.org");
	ck_assert_str_eq(id.ns, "prod");
	ck_assert_str_eq(id.app_id, "a");
	X509_free(x);
	x = read_cert("nosan");
	ck_assert(!spiffe_from_cert(x, &id, buf, sizeof(buf), &why));
	ck_assert_str_eq(why, "it has no SPIFFE id (no URI SAN)");
	X509_free(x);
	x = read_cert("twouri");
	ck_assert(!spiffe_from_cert(x, &id, buf, sizeof(buf), &why));
	ck_assert_str_eq(why, "it has more than one URI SAN (a SPIFFE certificate has exactly one)");
	X509_free(x);
}
END_TEST

START_TEST(test_load_good)
{
	char err[1024];

	ck_assert_msg(load("good", err, sizeof(err)) == 0, "%s", err);
	ck_assert(!mtls_enabled()); /* base NULL: checked only */
}
END_TEST

/* load NAME refused, with err holding TEXT. */
static void assert_refused(const char *name, const char *text)
{
	char err[1024];

	ck_assert_msg(load(name, err, sizeof(err)) != 0, "%s was accepted", name);
	ck_assert_msg(strstr(err, text) != NULL, "%s: \"%s\" lacks \"%s\"", name, err, text);
}

START_TEST(test_load_refused)
{
	assert_refused("expired", "tls.crt: the certificate expired on");
	assert_refused("otherca", "does not verify against the trust anchors");
	assert_refused("otherdomain",
		       "the certificate's trust domain is \"other.org\", this sidecar's \"example.org\"");
	assert_refused("otherapp", "the certificate is app b in namespace prod, but this sidecar is app a");
	assert_refused("nosan", "it has no SPIFFE id (no URI SAN)");
	assert_refused("twouri", "it has more than one URI SAN");
	assert_refused("missing", "--mtls-cert-file");
}
END_TEST

/* A certificate valid only from 2 h on: its own sidecar takes it (its peers refuse it, outside the clock skew). */
START_TEST(test_load_future)
{
	char err[1024];

	ck_assert_msg(load("future", err, sizeof(err)) == 0, "%s", err);
}
END_TEST

/* Application-data records the client's SSL writes once counting starts. */
static int records_sent;

static void count_records(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
			  void *arg)
{
	(void)version;
	(void)ssl;
	(void)arg;
	if (write_p && content_type == SSL3_RT_HEADER && len >= 1 &&
	    ((const unsigned char *)buf)[0] == SSL3_RT_APPLICATION_DATA)
		records_sent++;
}

static void stop_on_connected(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_CONNECTED | BEV_EVENT_ERROR | BEV_EVENT_EOF))
		event_base_loopbreak(arg);
}

static void stop_when_all_read(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_input(bev)) >= 4096 + 5)
		event_base_loopbreak(arg);
}

/* A message written as a head chunk and a body chunk (as evhttp writes one) goes out as one TLS record. */
START_TEST(test_small_message_one_record)
{
	static char body[4096];
	struct mtls_settings s = { 0 };
	struct timeval limit = { 10, 0 };
	struct event_base *base = event_base_new();
	struct bufferevent *server, *client;
	struct evbuffer *msg = evbuffer_new();
	char cert[512], key[512], anchors[512], err[1024];
	int fds[2];

	make_certs();
	snprintf(cert, sizeof(cert), "%s/good/tls.crt", dir);
	snprintf(key, sizeof(key), "%s/good/tls.key", dir);
	snprintf(anchors, sizeof(anchors), "%s/good/ca.crt", dir);
	s.cert_file = cert;
	s.key_file = key;
	s.anchors_file = anchors;
	s.trust_domain = "example.org";
	s.clock_skew_ms = MTLS_DEFAULT_CLOCK_SKEW_MS;
	s.app_id = "a";
	s.ns = "prod";
	ck_assert_ptr_nonnull(base);
	ck_assert_msg(mtls_start(base, &s, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	ck_assert_int_eq(evutil_make_socket_nonblocking(fds[0]), 0);
	ck_assert_int_eq(evutil_make_socket_nonblocking(fds[1]), 0);
	server = mtls_server_bufferevent(base, 0);
	client = mtls_client_bufferevent(base, "a", "prod", NULL, 0);
	ck_assert_ptr_nonnull(server);
	ck_assert_ptr_nonnull(client);
	ck_assert_int_eq(bufferevent_setfd(server, fds[0]), 0);
	ck_assert_int_eq(bufferevent_setfd(client, fds[1]), 0);
	bufferevent_setcb(server, stop_when_all_read, NULL, NULL, base);
	bufferevent_setcb(client, NULL, NULL, stop_on_connected, base);
	bufferevent_enable(server, EV_READ | EV_WRITE);
	bufferevent_enable(client, EV_READ | EV_WRITE);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	ck_assert_msg(!event_base_got_exit(base), "the TLS handshake did not finish");
	/* The handshake is done: from now on the client writes application data only. */
	SSL_set_msg_callback(bufferevent_openssl_get_ssl(client), count_records);
	records_sent = 0;
	memset(body, 'x', sizeof(body));
	ck_assert_int_eq(evbuffer_add(msg, "head:", 5), 0);
	ck_assert_int_eq(evbuffer_add_reference(msg, body, sizeof(body), NULL, NULL), 0);
	ck_assert_int_eq(evbuffer_add_buffer(bufferevent_get_output(client), msg), 0);
	event_base_loopexit(base, &limit);
	event_base_dispatch(base);
	ck_assert_msg(!event_base_got_exit(base), "the server did not receive the message");
	ck_assert_int_eq(evbuffer_get_length(bufferevent_get_input(server)), 4096 + 5);
	ck_assert_int_eq(records_sent, 1);
	bufferevent_free(client);
	bufferevent_free(server);
	evbuffer_free(msg);
	mtls_stop();
	event_base_free(base);
}
END_TEST

static void cleanup(void)
{
	char cmd[512];

	if (dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
}

int main(void)
{
	Suite *s = suite_create("mtls");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_spiffe_parse);
	tcase_add_test(tc, test_identity_of_certificates);
	tcase_add_test(tc, test_load_good);
	tcase_add_test(tc, test_load_refused);
	tcase_add_test(tc, test_load_future);
	tcase_add_test(tc, test_small_message_one_record);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
