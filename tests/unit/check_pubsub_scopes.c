/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/pubsub_scopes.c: reading Dapr's topic scoping keys and deciding who may use a topic. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/diag.h"
#include "blocks/pubsub/pubsub_scopes.h"
#include "resources/resources.h"

#define PUB PUBSUB_SCOPE_PUBLISH
#define SUB PUBSUB_SCOPE_SUBSCRIBE

/* s for app from the four values (NULL: key absent); fails the test on a parse error. */
static void load(struct pubsub_scopes *s, const char *app, const char *publishing, const char *subscription,
		 const char *allowed, const char *protected_topics)
{
	const char *keys[] = { PUBSUB_SCOPES_PUBLISHING, PUBSUB_SCOPES_SUBSCRIPTION, PUBSUB_SCOPES_ALLOWED,
			       PUBSUB_SCOPES_PROTECTED };
	const char *values[] = { publishing, subscription, allowed, protected_topics };
	char err[512] = "";

	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 4; i++)
		ck_assert_msg(pubsub_scopes_set(s, keys[i], values[i], app, err, sizeof(err)) == 0,
			      "%s=%s: %s", keys[i], values[i], err);
}

static bool may(const struct pubsub_scopes *s, enum pubsub_scope_op op, const char *topic)
{
	return pubsub_scopes_allowed(s, op, topic, "app", NULL, 0);
}

START_TEST(no_scoping_allows_everything)
{
	struct pubsub_scopes s;

	load(&s, "app", NULL, NULL, NULL, NULL);
	ck_assert(may(&s, PUB, "anything"));
	ck_assert(may(&s, SUB, "anything"));
	pubsub_scopes_free(&s);
	load(&s, "app", "", "   ", "", "");
	ck_assert(may(&s, PUB, "anything"));
	ck_assert(may(&s, SUB, "anything"));
	pubsub_scopes_free(&s);
}
END_TEST

/* The docs' example: app1=topic1;app2=topic2,topic3;app3= */
START_TEST(publishing_scopes_of_the_docs)
{
	const char *value = "app1=topic1;app2=topic2,topic3;app3=";
	struct pubsub_scopes s;

	load(&s, "app1", value, NULL, NULL, NULL);
	ck_assert(may(&s, PUB, "topic1"));
	ck_assert(!may(&s, PUB, "topic2"));
	ck_assert(may(&s, SUB, "topic2")); /* subscribing is not limited by publishingScopes */
	pubsub_scopes_free(&s);

	load(&s, "app2", value, NULL, NULL, NULL);
	ck_assert(!may(&s, PUB, "topic1"));
	ck_assert(may(&s, PUB, "topic2"));
	ck_assert(may(&s, PUB, "topic3"));
	pubsub_scopes_free(&s);

	/* An empty list: nothing at all. */
	load(&s, "app3", value, NULL, NULL, NULL);
	ck_assert(!may(&s, PUB, "topic1"));
	ck_assert(!may(&s, PUB, ""));
	ck_assert(may(&s, SUB, "topic1"));
	pubsub_scopes_free(&s);

	/* An app not listed may publish anywhere. */
	load(&s, "app4", value, NULL, NULL, NULL);
	ck_assert(may(&s, PUB, "topic1"));
	ck_assert(may(&s, PUB, "elsewhere"));
	pubsub_scopes_free(&s);
}
END_TEST

START_TEST(subscription_scopes)
{
	struct pubsub_scopes s;

	load(&s, "app2", NULL, "app1=topic1;app2=topic2,topic3", NULL, NULL);
	ck_assert(!may(&s, SUB, "topic1"));
	ck_assert(may(&s, SUB, "topic3"));
	ck_assert(may(&s, PUB, "topic1"));
	pubsub_scopes_free(&s);
}
END_TEST

/* daprd removes spaces, takes the union of repeated entries and ignores empty ones. */
START_TEST(spaces_repeats_and_empty_entries)
{
	struct pubsub_scopes s;

	load(&s, "app", " app = a , b ;;app=c; other=a;", NULL, "a, b ,c", NULL);
	ck_assert(may(&s, PUB, "a"));
	ck_assert(may(&s, PUB, "b"));
	ck_assert(may(&s, PUB, "c"));
	ck_assert(!may(&s, PUB, " a"));
	ck_assert_uint_eq(s.publish.count, 3);
	ck_assert_uint_eq(s.allowed.count, 3);
	pubsub_scopes_free(&s);
	/* App ids and topics match exactly, case included. */
	load(&s, "App", "app=x", NULL, NULL, NULL);
	ck_assert(may(&s, PUB, "y"));
	pubsub_scopes_free(&s);
	load(&s, "app", "app=x", NULL, NULL, NULL);
	ck_assert(!may(&s, PUB, "X"));
	pubsub_scopes_free(&s);
}
END_TEST

START_TEST(allowed_topics_bind_everyone)
{
	struct pubsub_scopes s;

	load(&s, "app", NULL, NULL, "topic1,topic2", NULL);
	ck_assert(may(&s, PUB, "topic1"));
	ck_assert(may(&s, SUB, "topic2"));
	ck_assert(!may(&s, PUB, "topic3"));
	ck_assert(!may(&s, SUB, "topic3"));
	pubsub_scopes_free(&s);
	/* A scope cannot grant what allowedTopics leaves out. */
	load(&s, "app", "app=topic1,topic3", NULL, "topic1,topic2", NULL);
	ck_assert(may(&s, PUB, "topic1"));
	ck_assert(!may(&s, PUB, "topic2"));
	ck_assert(!may(&s, PUB, "topic3"));
	pubsub_scopes_free(&s);
}
END_TEST

START_TEST(protected_topics_need_a_grant)
{
	struct pubsub_scopes s;

	/* Not named in any scope: unprotected topics are free, protected ones are not. */
	load(&s, "app", NULL, NULL, NULL, "secret");
	ck_assert(may(&s, PUB, "public"));
	ck_assert(!may(&s, PUB, "secret"));
	ck_assert(!may(&s, SUB, "secret"));
	pubsub_scopes_free(&s);

	load(&s, "app", "app=secret", "other=secret", NULL, "secret,vault");
	ck_assert(may(&s, PUB, "secret"));
	ck_assert(!may(&s, PUB, "vault"));
	ck_assert(!may(&s, PUB, "public")); /* its publishing scope lists only secret */
	ck_assert(!may(&s, SUB, "secret"));
	ck_assert(may(&s, SUB, "public"));
	pubsub_scopes_free(&s);
}
END_TEST

START_TEST(refusals_say_which_key)
{
	struct pubsub_scopes s;
	char why[256];

	load(&s, "app", "app=a", "app=", "a,b", "p");
	ck_assert(!pubsub_scopes_allowed(&s, PUB, "zz", "app", why, sizeof(why)));
	ck_assert_str_eq(why, "topic zz is not in the component's allowedTopics");
	ck_assert(!pubsub_scopes_allowed(&s, PUB, "b", "app", why, sizeof(why)));
	ck_assert_str_eq(why, "the component's publishingScopes does not grant topic b to app id app");
	ck_assert(!pubsub_scopes_allowed(&s, SUB, "a", "app", why, sizeof(why)));
	ck_assert_str_eq(why, "the component's subscriptionScopes does not grant topic a to app id app");
	pubsub_scopes_free(&s);
	load(&s, "app", NULL, NULL, NULL, "p");
	ck_assert(!pubsub_scopes_allowed(&s, SUB, "p", "app", why, sizeof(why)));
	ck_assert_str_eq(why,
			 "topic p is in the component's protectedTopics and its subscriptionScopes does not "
			 "grant it to app id app");
	pubsub_scopes_free(&s);
}
END_TEST

static const struct {
	const char *key, *value, *message;
} malformed[] = {
	{ PUBSUB_SCOPES_PUBLISHING, "app1:topic1",
	  "publishingScopes: entry \"app1:topic1\" has no '='; write app=topic1,topic2 entries separated by "
	  "';' (app= lets that app use no topic)" },
	{ PUBSUB_SCOPES_SUBSCRIPTION, "app=a;=b",
	  "subscriptionScopes: entry \"=b\" has no app id before '='; write app=topic1,topic2 entries "
	  "separated by ';' (app= lets that app use no topic)" },
	{ PUBSUB_SCOPES_PUBLISHING, "other=a=b",
	  "publishingScopes: entry \"other=a=b\" has more than one '='; write app=topic1,topic2 entries "
	  "separated by ';' (app= lets that app use no topic)" },
	{ PUBSUB_SCOPES_ALLOWED, " , ",
	  "allowedTopics: \",\" names no topic; list topics separated by ',' or leave the key out to allow "
	  "every topic" },
};

START_TEST(malformed_values_are_refused)
{
	struct pubsub_scopes s = { 0 };
	char err[512] = "";

	/* An earlier good value stays as it was. */
	ck_assert_int_eq(pubsub_scopes_set(&s, malformed[_i].key, "app=kept", "app", err, sizeof(err)), 0);
	ck_assert_int_eq(pubsub_scopes_set(&s, PUBSUB_SCOPES_ALLOWED, "kept", "app", err, sizeof(err)), 0);
	ck_assert_int_eq(
		pubsub_scopes_set(&s, malformed[_i].key, malformed[_i].value, "app", err, sizeof(err)), -1);
	ck_assert_str_eq(err, malformed[_i].message);
	ck_assert(may(&s, PUB, "kept") || may(&s, SUB, "kept"));
	pubsub_scopes_free(&s);
}
END_TEST

START_TEST(read_from_a_component)
{
	struct res_metadata md[] = {
		{ .name = "url", .value = "tcp://x", .pos = { NULL, 3, 5 } },
		{ .name = "publishingScopes", .value = "app=a", .pos = { NULL, 4, 12 } },
		{ .name = "SubscriptionScopes", .value = "app=b", .pos = { NULL, 5, 12 } },
		{ .name = "protectedTopics", .value = NULL, .pos = { NULL, 6, 12 } }, /* a secretKeyRef */
		{ .name = "allowedTopics", .value = "oops;", .pos = { NULL, 7, 12 } },
	};
	struct res_component rc = {
		.file = "res/pubsub.yaml",
		.name = "pubsub",
		.type = "pubsub.mqtt3",
		.metadata_count = 4,
		.metadata = md,
	};
	struct pubsub_scopes s;
	struct diag d = { 0 };

	ck_assert_uint_eq(pubsub_scopes_read(&s, &rc, "app", &d), 0);
	ck_assert_uint_eq(d.count, 0);
	ck_assert(may(&s, PUB, "a"));
	ck_assert(!may(&s, PUB, "b"));
	ck_assert(may(&s, SUB, "b"));
	ck_assert(!may(&s, SUB, "a"));
	pubsub_scopes_free(&s);

	/* "oops;" is one topic name to daprd; a malformed scope names the file, line and component. */
	md[1].value = "app";
	rc.metadata_count = 5;
	ck_assert_uint_eq(pubsub_scopes_read(&s, &rc, "app", &d), 1);
	ck_assert_uint_eq(d.count, 1);
	ck_assert_str_eq(d.lines[0],
			 "res/pubsub.yaml:4:12: component pubsub: spec.metadata publishingScopes: "
			 "entry \"app\" has no '='; write app=topic1,topic2 entries separated by ';' "
			 "(app= lets that app use no topic)");
	ck_assert(!may(&s, PUB, "x"));
	pubsub_scopes_free(&s);
	diag_clear(&d);
}
END_TEST

START_TEST(keys)
{
	ck_assert(pubsub_scopes_is_key("publishingScopes"));
	ck_assert(pubsub_scopes_is_key("SUBSCRIPTIONSCOPES"));
	ck_assert(pubsub_scopes_is_key("allowedTopics"));
	ck_assert(pubsub_scopes_is_key("protectedTopics"));
	ck_assert(!pubsub_scopes_is_key("scopes"));
}
END_TEST

static Suite *scopes_suite(void)
{
	Suite *s = suite_create("pubsub_scopes");
	TCase *tc = tcase_create("scopes");

	tcase_add_test(tc, no_scoping_allows_everything);
	tcase_add_test(tc, publishing_scopes_of_the_docs);
	tcase_add_test(tc, subscription_scopes);
	tcase_add_test(tc, spaces_repeats_and_empty_entries);
	tcase_add_test(tc, allowed_topics_bind_everyone);
	tcase_add_test(tc, protected_topics_need_a_grant);
	tcase_add_test(tc, refusals_say_which_key);
	tcase_add_loop_test(tc, malformed_values_are_refused, 0,
			    (int)(sizeof(malformed) / sizeof(malformed[0])));
	tcase_add_test(tc, read_from_a_component);
	tcase_add_test(tc, keys);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(scopes_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
