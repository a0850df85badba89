/* SPDX-License-Identifier: Apache-2.0 */
/* nameresolution.kubernetes alone, loaded by the real loader and driven through a test host table, against a real dnsmasq. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "exchange.h"
#include "components/host.h"
#include "plugin_host.h"
#include "server.h"

#define TYPE "nameresolution.kubernetes"

/* What the test DNS server knows; every other name is an NXDOMAIN. */
static const struct test_dns_record records[] = {
	{ "one-dapr.default.svc.cluster.local", "10.1.0.1" },
	{ "two-dapr.default.svc.cluster.local", "10.2.0.2" },
	{ "two-dapr.default.svc.cluster.local", "10.2.0.1" },
	{ "one-dapr.prod.svc.cluster.local", "10.3.0.1" },
	{ "one-dapr.default.svc.corp.example", "10.4.0.1" },
	{ "six-dapr.default.svc.cluster.local", "fd00::6" },
	{ NULL, NULL },
};

/* Every test runs in its own forked process with its own dnsmasq. */
static struct test_server dns;
static const struct outrig_host *test_host;
static const struct outrig_plugin *plugin;
static struct outrig_handle handle = { .name = "nr-test", .component = NULL };

/* ---- creating instances the way the core does ---- */

/*
 * create() asking the test's dnsmasq, plus metadata (name, value pairs, NULL-terminated; they
 * win, and a NULL value leaves a field without default unset).
 */
static int try_create(void **out, struct outrig_error *err, const char *const *metadata)
{
	const char *const server[] = { "dnsServer", server_dnsmasq_address(&dns), NULL };
	struct plugin_host_config tc;

	plugin_host_config(&tc, plugin, NULL, "kubernetes", server, metadata);
	tc.config.app_id = "caller";
	*out = NULL;
	err->message[0] = '\0';
	return plugin->create(test_host, &handle, &tc.config, out, err);
}

static void *create_ok(const char *const *metadata)
{
	struct outrig_error err;
	void *inst;
	int rc = try_create(&inst, &err, metadata);

	ck_assert_msg(rc == OUTRIG_OK, "create failed: %s: %s", outrig_status_name(rc), err.message);
	ck_assert_ptr_nonnull(inst);
	return inst;
}

static int resolve(void *inst, const char *app_id, const char *ns, struct outrig_nr_address *addr,
		   struct outrig_error *err)
{
	struct outrig_nr_query q = { .app_id = app_id, .ns = ns };

	memset(addr, 0, sizeof(*addr));
	err->message[0] = '\0';
	return plugin->nameresolution->resolve(inst, &q, addr, err);
}

static void expect_address(void *inst, const char *app_id, const char *ns, const char *host, int port)
{
	struct outrig_nr_address addr;
	struct outrig_error err;
	int rc = resolve(inst, app_id, ns, &addr, &err);

	ck_assert_msg(rc == OUTRIG_OK, "resolve %s in \"%s\": %s: %s", app_id, ns, outrig_status_name(rc),
		      err.message);
	ck_assert_str_eq(addr.host, host);
	ck_assert_int_eq(addr.port, port);
}

/* The call must fail with code, and its message hold every needle (NULL-terminated). */
static void expect_failure(void *inst, const char *app_id, const char *ns, int code,
			   const char *const *needles)
{
	struct outrig_nr_address addr;
	struct outrig_error err;
	int rc = resolve(inst, app_id, ns, &addr, &err);

	fprintf(stderr, "resolve %s in \"%s\": %s: %s\n", app_id, ns, outrig_status_name(rc), err.message);
	ck_assert_msg(rc == code, "resolve %s in \"%s\": %s, not %s: %s", app_id, ns, outrig_status_name(rc),
		      outrig_status_name(code), err.message);
	for (const char *const *n = needles; n != NULL && *n != NULL; n++)
		ck_assert_msg(strstr(err.message, *n) != NULL, "\"%s\" is not in: %s", *n, err.message);
}

static void register_in(void *inst, const char *ns)
{
	struct outrig_nr_self self = {
		.app_id = "caller", .ns = ns, .host = "10.9.9.9", .port = 50002, .pid = getpid()
	};
	struct outrig_error err = { "" };
	int rc = plugin->nameresolution->register_self(inst, &self, &err);

	ck_assert_msg(rc == OUTRIG_OK, "register_self in %s: %s: %s", ns, outrig_status_name(rc),
		      err.message);
}

/* True when dnsmasq's log (log-queries) holds needle, ignoring case: evdns mixes the case of names it asks. */
static bool dns_log_has(const char *needle)
{
	FILE *f = fopen(dns.log, "r");
	char line[1024];
	bool found = false;

	ck_assert_ptr_nonnull(f);
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strcasestr(line, needle) != NULL;
	fclose(f);
	return found;
}

static void setup(void)
{
	static const struct plugin_host_options options = {
		.timers = PLUGIN_HOST_TIMERS_FORBID,
		.forbid_reason = "nameresolution.kubernetes needs no timer: Kubernetes keeps the Service",
	};

	/* The plugin first: a failed setup skips teardown, and would leave dnsmasq's folder behind. */
	test_host = plugin_host_start(&options);
	plugin = plugin_host_load(TYPE);
	ck_assert_int_eq(server_dnsmasq_start(&dns, records), 0);
}

static void teardown(void)
{
	plugin_host_stop();
	server_destroy(&dns);
}

/* ---- the tests ---- */

START_TEST(descriptor_declares_its_fields)
{
	const char *want[][2] = { { "clusterDomain", "cluster.local" },
				  { "port", "50002" },
				  { "timeout", "2s" },
				  { "dnsServer", NULL } };

	ck_assert_str_eq(plugin->type, TYPE);
	ck_assert_ptr_nonnull(plugin->nameresolution);
	ck_assert_ptr_nonnull(plugin->nameresolution->register_self);
	ck_assert_ptr_nonnull(plugin->nameresolution->resolve);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct outrig_field *f = plugin->fields;

		while (f->name != NULL && strcmp(f->name, want[i][0]) != 0)
			f++;
		ck_assert_msg(f->name != NULL, "no field %s", want[i][0]);
		if (want[i][1] == NULL)
			ck_assert_ptr_null(f->default_value);
		else
			ck_assert_str_eq(f->default_value, want[i][1]);
	}
}
END_TEST

START_TEST(one_record_in_the_default_namespace)
{
	void *inst = create_ok(NULL);

	ck_assert(plugin_host_log_has(xfmt("asking the DNS server 127.0.0.1:%d", dns.port)));
	ck_assert(plugin_host_log_has("<app-id>-dapr.<namespace>.svc.cluster.local, port 50002"));
	for (int i = 0; i < 3; i++)
		expect_address(inst, "one", "", "10.1.0.1", 50002);
	expect_address(inst, "one", NULL, "10.1.0.1", 50002);
	/* The whole name was asked, once per call and family, without search domains. */
	ck_assert(dns_log_has("query[A] one-dapr.default.svc.cluster.local from"));
	ck_assert(dns_log_has("query[AAAA] one-dapr.default.svc.cluster.local from"));
	plugin->destroy(inst);

	/* Another port convention. */
	{
		const char *md[] = { "port", "3501", NULL };

		inst = create_ok(md);
		expect_address(inst, "one", "", "10.1.0.1", 3501);
		plugin->destroy(inst);
	}
}
END_TEST

START_TEST(two_records_go_round_robin)
{
	void *inst = create_ok(NULL);
	struct outrig_nr_address addr;
	struct outrig_error err;
	char prev[sizeof(addr.host)] = "";
	int ones = 0, twos = 0;

	for (int i = 0; i < 8; i++) {
		int rc = resolve(inst, "two", "", &addr, &err);

		ck_assert_msg(rc == OUTRIG_OK, "%s: %s", outrig_status_name(rc), err.message);
		ck_assert_int_eq(addr.port, 50002);
		ck_assert_msg(strcmp(addr.host, prev) != 0, "call %d got %s again", i, addr.host);
		if (strcmp(addr.host, "10.2.0.1") == 0)
			ones++;
		else if (strcmp(addr.host, "10.2.0.2") == 0)
			twos++;
		else
			ck_abort_msg("unexpected address %s", addr.host);
		/* Another app in between does not disturb the rotation of this one. */
		expect_address(inst, "one", "", "10.1.0.1", 50002);
		snprintf(prev, sizeof(prev), "%s", addr.host);
	}
	ck_assert_int_eq(ones, 4);
	ck_assert_int_eq(twos, 4);
	plugin->destroy(inst);
}
END_TEST

START_TEST(another_namespace_by_query_or_by_register_self)
{
	void *inst = create_ok(NULL);

	expect_address(inst, "one", "prod", "10.3.0.1", 50002);
	expect_address(inst, "one", "", "10.1.0.1", 50002);
	/* This sidecar runs in prod: queries without a namespace stay there. */
	register_in(inst, "prod");
	ck_assert(plugin_host_log_has("runs in namespace prod"));
	expect_address(inst, "one", "", "10.3.0.1", 50002);
	expect_address(inst, "one", "default", "10.1.0.1", 50002);
	expect_failure(inst, "two", "", OUTRIG_ENOTFOUND,
		       (const char *[]){ "two-dapr.prod.svc.cluster.local", NULL });
	/* Self-hosted style registration ("" namespace) goes back to "default". */
	register_in(inst, "");
	expect_address(inst, "one", "", "10.1.0.1", 50002);
	plugin->destroy(inst);
}
END_TEST

START_TEST(custom_cluster_domain)
{
	const char *md[] = { "clusterDomain", "corp.example", NULL };
	const char *rooted[] = { "clusterDomain", "corp.example.", NULL };
	void *inst = create_ok(md);

	ck_assert(plugin_host_log_has("<app-id>-dapr.<namespace>.svc.corp.example, port"));
	expect_address(inst, "one", "", "10.4.0.1", 50002);
	expect_failure(inst, "two", "", OUTRIG_ENOTFOUND,
		       (const char *[]){ "two-dapr.default.svc.corp.example does not exist", NULL });
	plugin->destroy(inst);

	/* A rooted domain names the same thing. */
	inst = create_ok(rooted);
	expect_address(inst, "one", "", "10.4.0.1", 50002);
	plugin->destroy(inst);
}
END_TEST

START_TEST(nxdomain_is_not_found_naming_the_name)
{
	void *inst = create_ok(NULL);

	expect_failure(inst, "missing", "", OUTRIG_ENOTFOUND,
		       (const char *[]){ "app id \"missing\"", "missing-dapr.default.svc.cluster.local",
					 "NXDOMAIN", server_dnsmasq_address(&dns), NULL });
	expect_failure(inst, "one", "nowhere", OUTRIG_ENOTFOUND,
		       (const char *[]){ "one-dapr.nowhere.svc.cluster.local", "namespace nowhere", NULL });
	plugin->destroy(inst);
}
END_TEST

START_TEST(aaaa_record)
{
	void *inst = create_ok(NULL);

	expect_address(inst, "six", "", "fd00::6", 50002);
	plugin->destroy(inst);
}
END_TEST

START_TEST(stopped_server_times_out_within_the_timeout)
{
	const char *md[] = { "timeout", "600ms", NULL };
	void *inst = create_ok(md);
	long start, took;

	expect_address(inst, "one", "", "10.1.0.1", 50002);
	ck_assert_int_eq(server_halt(&dns), 0);
	start = xnow_ms();
	expect_failure(inst, "one", "", OUTRIG_ETIMEDOUT,
		       (const char *[]){ "one-dapr.default.svc.cluster.local", server_dnsmasq_address(&dns),
					 "600 ms", NULL });
	took = xnow_ms() - start;
	fprintf(stderr, "timed out after %ld ms\n", took);
	ck_assert_msg(took >= 450 && took <= 1100, "gave up after %ld ms, timeout 600 ms", took);
	/* The server comes back on its port: the next look-up finds it. */
	ck_assert_int_eq(server_dnsmasq_restart(&dns), 0);
	expect_address(inst, "one", "", "10.1.0.1", 50002);
	plugin->destroy(inst);
}
END_TEST

START_TEST(frozen_server_times_out_then_answers)
{
	const char *md[] = { "timeout", "400ms", NULL };
	void *inst = create_ok(md);
	long start, took;

	server_freeze(&dns);
	start = xnow_ms();
	expect_failure(inst, "two", "", OUTRIG_ETIMEDOUT, (const char *[]){ "within 400 ms", NULL });
	took = xnow_ms() - start;
	ck_assert_msg(took >= 300 && took <= 900, "gave up after %ld ms, timeout 400 ms", took);
	server_thaw(&dns);
	expect_address(inst, "one", "", "10.1.0.1", 50002);
	/* Destroyed at once after a time-out: questions evdns may still hold are failed and freed. */
	server_freeze(&dns);
	expect_failure(inst, "one", "", OUTRIG_ETIMEDOUT, NULL);
	plugin->destroy(inst);
	server_thaw(&dns);
}
END_TEST

/* Many workers at once, as the core calls resolve(): every answer right, two addresses shared evenly. */
struct worker_result {
	void *inst;
	int ok, first, second;
};

static void *worker(void *arg)
{
	struct worker_result *r = arg;

	for (int i = 0; i < 25; i++) {
		struct outrig_nr_query q = { .app_id = i % 2 == 0 ? "two" : "one", .ns = "" };
		struct outrig_nr_address addr;
		struct outrig_error err;

		if (plugin->nameresolution->resolve(r->inst, &q, &addr, &err) != OUTRIG_OK)
			continue;
		if (i % 2 != 0) {
			r->ok += strcmp(addr.host, "10.1.0.1") == 0;
		} else if (strcmp(addr.host, "10.2.0.1") == 0) {
			r->first++;
			r->ok++;
		} else if (strcmp(addr.host, "10.2.0.2") == 0) {
			r->second++;
			r->ok++;
		}
	}
	return NULL;
}

START_TEST(concurrent_resolves)
{
	void *inst = create_ok(NULL);
	struct worker_result r[8];
	pthread_t t[8];
	int ok = 0, first = 0, second = 0;

	for (int i = 0; i < 8; i++) {
		r[i] = (struct worker_result){ .inst = inst };
		ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &r[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		ok += r[i].ok;
		first += r[i].first;
		second += r[i].second;
	}
	ck_assert_int_eq(ok, 8 * 25);
	ck_assert_int_eq(first + second, 8 * 13);
	ck_assert_int_eq(first, second);
	plugin->destroy(inst);
}
END_TEST

START_TEST(bad_configuration_and_names)
{
	struct outrig_error err;
	void *inst;
	int rc;

	rc = try_create(&inst, &err, (const char *[]){ "dnsServer", "dns.example", NULL });
	ck_assert_int_eq(rc, OUTRIG_EINVAL);
	ck_assert_msg(strstr(err.message, "dnsServer \"dns.example\"") != NULL, "%s", err.message);
	rc = try_create(&inst, &err, (const char *[]){ "clusterDomain", "cluster..local", NULL });
	ck_assert_int_eq(rc, OUTRIG_EINVAL);
	ck_assert_msg(strstr(err.message, "clusterDomain \"cluster..local\"") != NULL, "%s", err.message);
	rc = try_create(&inst, &err, (const char *[]){ "port", "0", NULL });
	ck_assert_int_eq(rc, OUTRIG_EINVAL);
	ck_assert_msg(strstr(err.message, "port 0") != NULL, "%s", err.message);

	inst = create_ok(NULL);
	/* A dot would let an app id reach outside its namespace's names. */
	expect_failure(inst, "a.b", "", OUTRIG_EINVAL, (const char *[]){ "app id \"a.b\"", NULL });
	expect_failure(inst, "", "", OUTRIG_EINVAL, NULL);
	expect_failure(inst, "one", "Bad_ns", OUTRIG_EINVAL,
		       (const char *[]){ "namespace \"Bad_ns\"", NULL });
	plugin->destroy(inst);
}
END_TEST

/*
 * Without dnsServer the plugin reads /etc/resolv.conf. `ip netns exec` bind-mounts
 * /etc/netns/<ns>/resolv.conf there; a private mount namespace does the same for this test
 * process alone (root only).
 */
static char resolv_path[] = "/tmp/outrig-nrk-resolv-XXXXXX";
/*
 * Whether the mount namespace and the file exist yet. Not read off the name: mkstemp's random
 * letters may themselves end in "X".
 */
static bool resolv_made;

static bool bind_resolv_conf(const char *text)
{
	char *path = resolv_path;
	int fd;

	if (!resolv_made) {
		if (unshare(CLONE_NEWNS) != 0) {
			fprintf(stderr, "no mount namespace (%s): skipping the resolv.conf test\n",
				strerror(errno));
			ck_assert_msg(getenv("OUTRIG_REQUIRE_SERVERS") == NULL,
				      "OUTRIG_REQUIRE_SERVERS: need root");
			return false;
		}
		/* Nothing mounted here may reach the host's namespace. */
		ck_assert_int_eq(mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL), 0);
		fd = mkstemp(path);
		ck_assert_msg(fd >= 0, "mkstemp %s: %s", path, strerror(errno));
		close(fd);
		resolv_made = true;
	} else {
		umount("/etc/resolv.conf");
	}
	{
		FILE *f = fopen(path, "w");

		ck_assert_ptr_nonnull(f);
		fputs(text, f);
		ck_assert_int_eq(fclose(f), 0);
	}
	ck_assert_msg(mount(path, "/etc/resolv.conf", "none", MS_BIND, NULL) == 0, "bind %s: %s", path,
		      strerror(errno));
	return true;
}

START_TEST(nameservers_of_resolv_conf)
{
	/* A pod's resolv.conf: ndots:5 and search domains that must not be tried. evdns takes ip:port. */
	const char *pod = xfmt("search default.svc.cluster.local svc.cluster.local cluster.local\n"
			       "nameserver 127.0.0.1:%d\n"
			       "options ndots:5 timeout:9 attempts:5\n",
			       dns.port);
	const char *no_dns[] = { "dnsServer", NULL, NULL };
	const char *short_timeout[] = { "dnsServer", NULL, "timeout", "500ms", NULL };
	struct outrig_error err;
	long start, took;
	void *inst;
	int rc;

	if (!bind_resolv_conf(pod))
		return;
	inst = create_ok(no_dns);
	ck_assert(plugin_host_log_has(xfmt("127.0.0.1:%d (nameserver of /etc/resolv.conf)", dns.port)));
	expect_address(inst, "one", "", "10.1.0.1", 50002);
	expect_address(inst, "one", "prod", "10.3.0.1", 50002);
	ck_assert(!dns_log_has(".svc.cluster.local.default.svc"));
	ck_assert(!dns_log_has(".svc.cluster.local.cluster.local"));
	plugin->destroy(inst);

	/* Our timeout wins over resolv.conf's timeout:9 attempts:5. */
	inst = create_ok(short_timeout);
	server_freeze(&dns);
	start = xnow_ms();
	expect_failure(inst, "one", "", OUTRIG_ETIMEDOUT, (const char *[]){ "/etc/resolv.conf", NULL });
	took = xnow_ms() - start;
	ck_assert_msg(took <= 1000, "gave up after %ld ms, timeout 500 ms", took);
	plugin->destroy(inst);
	server_thaw(&dns);

	/* No nameserver: create says so, rather than timing out later. */
	ck_assert(bind_resolv_conf("search cluster.local\n"));
	rc = try_create(&inst, &err, no_dns);
	fprintf(stderr, "refused as expected: %s\n", err.message);
	ck_assert_int_eq(rc, OUTRIG_EUNAVAIL);
	ck_assert_msg(strstr(err.message, "/etc/resolv.conf names no nameserver") != NULL, "%s", err.message);
	ck_assert_msg(strstr(err.message, "dnsServer") != NULL, "%s", err.message);
	umount("/etc/resolv.conf");
	unlink(resolv_path);
}
END_TEST

static Suite *nr_kubernetes_suite(void)
{
	Suite *s = suite_create(TYPE);
	TCase *tc = tcase_create("plugin");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, descriptor_declares_its_fields);
	tcase_add_test(tc, one_record_in_the_default_namespace);
	tcase_add_test(tc, two_records_go_round_robin);
	tcase_add_test(tc, another_namespace_by_query_or_by_register_self);
	tcase_add_test(tc, custom_cluster_domain);
	tcase_add_test(tc, nxdomain_is_not_found_naming_the_name);
	tcase_add_test(tc, aaaa_record);
	tcase_add_test(tc, stopped_server_times_out_within_the_timeout);
	tcase_add_test(tc, frozen_server_times_out_then_answers);
	tcase_add_test(tc, concurrent_resolves);
	tcase_add_test(tc, bad_configuration_and_names);
	tcase_add_test(tc, nameservers_of_resolv_conf);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (!server_dnsmasq_available()) {
		fprintf(stderr, "dnsmasq is not installed: skipping\n");
		/* CI installs it: there a skip would hide a broken setup. */
		return getenv("OUTRIG_REQUIRE_SERVERS") != NULL ? 1 : SERVER_UNAVAILABLE;
	}
	sr = srunner_create(nr_kubernetes_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
