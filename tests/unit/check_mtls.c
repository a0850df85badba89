/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of core/security/spiffe.c and the loading checks of core/security/mtls.c: SPIFFE ids, and the
 * certificates a sidecar is given (made here with `outrig cert` and, for the odd ones, the openssl command).
 */
#include "config.h"

#include <check.h>
#include <openssl/pem.h>
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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
