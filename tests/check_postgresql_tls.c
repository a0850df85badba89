/* SPDX-License-Identifier: Apache-2.0 */
/* state.postgresql over TLS: sslmode, sslrootcert in connectionString reach libpq, against a real PostgreSQL that takes TLS connections only. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "daemon.h"
#include "exchange.h"
#include "server.h"

#define STORE "/v1.0/state/statestore"
#define JSON_CT "Content-Type: application/json\r\n"

/* One server for the run, started by main() with a certificate of the CA in certs (pg_hba.conf: hostssl only). */
static struct test_server pg;
static struct test_certs certs, other;
static char certs_dir[64], other_dir[64];

static struct daemon dmn;
static struct exchange x;

static void setup(void)
{
	memset(&dmn, 0, sizeof(dmn));
	ck_assert_int_eq(daemon_init(&dmn, "pgtls"), 0);
}

static void teardown(void)
{
	xfree(&x);
	if (dmn.dir[0] != '\0')
		daemon_cleanup(&dmn);
}

/* Writes the state.postgresql component with connectionString = the server's, plus tls settings. */
static void component(const char *tls)
{
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.postgresql", "connectionString",
					      xfmt("host=127.0.0.1 port=%d user=postgres dbname=postgres %s",
						   pg.port, tls),
					      NULL),
			 0);
}

/* outrigd with the component, which must come up: a save and a get go through the TLS connection. */
static void works(const char *tls)
{
	component(tls);
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd did not start with %s (log above)", tls);
	xreq(&x, dmn.port, "POST", STORE, JSON_CT, "[{\"key\":\"k\",\"value\":\"over tls\"}]");
	ck_status(&x, 204);
	xreq(&x, dmn.port, "GET", STORE "/k", NULL, NULL);
	ck_status(&x, 200);
	ck_assert_str_eq(x.r.body, "\"over tls\"");
}

/* outrigd with the component, which must fail: the log names the component, libpq's reason and what to do. */
static void fails(const char *tls, const char *reason, const char *todo)
{
	char *log;
	long until = xnow_ms() + 15000;

	component(tls);
	if (daemon_start(&dmn, NULL) == 0) {
		/* Up, with the store failed: a call answers why. */
		xreq(&x, dmn.port, "GET", STORE "/k", NULL, NULL);
		ck_assert_int_ne(x.r.status, 200);
	}
	for (;;) {
		log = xslurp(dmn.log);
		if (log != NULL && strstr(log, reason) != NULL && strstr(log, todo) != NULL)
			break;
		ck_assert_msg(xnow_ms() < until, "outrigd's log does not say \"%s\" and \"%s\":\n%s", reason,
			      todo, log != NULL ? log : "");
		free(log);
		xsleep_ms(100);
	}
	ck_assert_msg(strstr(log, "statestore") != NULL, "the failure does not name the component:\n%s", log);
	free(log);
}

START_TEST(sslmode_require_works)
{
	works("sslmode=require");
}
END_TEST

START_TEST(sslmode_verify_full_with_the_servers_ca_works)
{
	works(xfmt("sslmode=verify-full sslrootcert=%s", certs.ca));
}
END_TEST

START_TEST(sslmode_verify_full_with_another_ca_fails_clearly)
{
	fails(xfmt("sslmode=verify-full sslrootcert=%s", other.ca), "certificate verify failed",
	      "sslrootcert");
}
END_TEST

START_TEST(sslmode_disable_against_a_tls_only_server_fails_clearly)
{
	fails("sslmode=disable", "no encryption", "sslmode=require");
}
END_TEST

static Suite *pg_tls_suite(void)
{
	Suite *s = suite_create("postgresql_tls");
	TCase *tc = tcase_create("sslmode");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, sslmode_require_works);
	tcase_add_test(tc, sslmode_verify_full_with_the_servers_ca_works);
	tcase_add_test(tc, sslmode_verify_full_with_another_ca_fails_clearly);
	tcase_add_test(tc, sslmode_disable_against_a_tls_only_server_fails_clearly);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed, rc;

	snprintf(certs_dir, sizeof(certs_dir), "/tmp/outrig-pgtls-ca-%d", (int)getpid());
	snprintf(other_dir, sizeof(other_dir), "/tmp/outrig-pgtls-other-%d", (int)getpid());
	if (mkdir(certs_dir, 0700) != 0 || mkdir(other_dir, 0700) != 0)
		return 99;
	rc = server_make_certs(certs_dir, "outrig pg test CA", &certs);
	if (rc == 0)
		rc = server_make_certs(other_dir, "another CA", &other);
	if (rc == 0)
		rc = server_postgres_start_tls(&pg, certs.server_cert, certs.server_key, true);
	if (rc != 0) {
		fprintf(stderr, "cannot start a TLS PostgreSQL (%d); skipped\n", rc);
		system(xfmt("rm -rf %s %s", certs_dir, other_dir));
		return rc == SERVER_UNAVAILABLE ? 77 : 99;
	}
	sr = srunner_create(pg_tls_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	server_destroy(&pg);
	if (system(xfmt("rm -rf %s %s", certs_dir, other_dir)) != 0)
		fprintf(stderr, "cannot remove %s and %s\n", certs_dir, other_dir);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
