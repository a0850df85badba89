/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of api/http/api_state_body.c (StateItem JSON in), blocks/state/state_item.c (the block's
 * rules: keys, options, TTL; plugin requests out) and base/kv.c.
 */
#include "config.h"

#include <sys/queue.h>

#include <check.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/http_errors.h"
#include "api/http/http_query.h"
#include "base/kv.h"
#include "blocks/state/state_keys.h"
#include "api/http/api_state_body.h"
#include "blocks/state/state_item.h"

static struct key_prefix kp;
static struct key_prefix no_prefix;
static struct state_item item;
static struct state_body_item body;
static struct block_error problem;
static struct kv_list url_md;
static struct kv_list list;

static void setup(void)
{
	kp.prefix = strdup("myapp");
	ck_assert_ptr_nonnull(kp.prefix);
	no_prefix.prefix = NULL;
	memset(&item, 0, sizeof(item));
	memset(&problem, 0, sizeof(problem));
	problem.error = API_ERR_INTERNAL;
	memset(&url_md, 0, sizeof(url_md));
	memset(&list, 0, sizeof(list));
}

static void teardown(void)
{
	state_item_free(&item);
	state_body_item_free(&body);
	kv_free(&url_md);
	kv_free(&list);
	key_prefix_free(&kp);
}

/*
 * Parses text (which must be valid JSON) as one StateItem of a save (or delete) as a request goes:
 * the HTTP front end's decoding, then the block's rules. 0, or -1 with problem filled.
 */
static int parse_text(const char *text, bool is_delete, const struct kv_list *md,
		      const struct key_prefix *prefix)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, JSON_DECODE_ANY, &jerr);
	int rc;

	ck_assert_msg(doc != NULL, "bad test JSON %s: %s", text, jerr.text);
	state_item_free(&item);
	state_body_item_free(&body);
	rc = state_body_item(doc, NULL, NULL, is_delete, md, &body, &problem);
	if (rc == 0)
		rc = state_item_make(prefix, &body.w, is_delete, API_ERR_STATE_SAVE, &item, &problem);
	json_decref(doc);
	return rc;
}

static void parse_ok(const char *text)
{
	int rc = parse_text(text, false, &url_md, &kp);

	ck_assert_msg(rc == 0, "%s refused: [%s] %s", text, problem.field, problem.message);
}

/*
 * Parses text, expects a refusal, and checks it exactly. store_rejects: daprd leaves the
 * check to the store, so the API answers with the operation's own error rather than 400.
 */
static void parse_refused_as(const char *text, enum api_error e, bool store_rejects, const char *field,
			     const char *message)
{
	ck_assert_int_eq(parse_text(text, false, &url_md, &kp), -1);
	/* What the store would refuse fails as the save itself, with no field to blame. */
	ck_assert_int_eq(problem.error, store_rejects ? API_ERR_STATE_SAVE : e);
	ck_assert_str_eq(problem.field, store_rejects ? "" : field);
	ck_assert_str_eq(problem.message, message);
	state_item_free(&item);
}

/* A bad request (400). */
static void parse_refused(const char *text, enum api_error e, const char *field, const char *message)
{
	parse_refused_as(text, e, false, field, message);
}

/* What a store would refuse: options and ttlInSeconds. */
static void parse_store_rejects(const char *text, const char *field, const char *message)
{
	parse_refused_as(text, API_ERR_MALFORMED_REQUEST, true, field, message);
}

/* Fills q from a query string such as "a=1&b=2". */
static void parse_query(const char *query, struct evkeyvalq *q)
{
	TAILQ_INIT(q);
	ck_assert_int_eq(evhttp_parse_query_str(query, q), 0);
}

/* ---- decoding and rules: key and value ---- */

START_TEST(test_string_value_encoded)
{
	parse_ok("{\"key\": \"name\", \"value\": \"DeathStar\"}");
	ck_assert_str_eq(item.key, "myapp||name");
	ck_assert_str_eq(item.value, "\"DeathStar\"");
	ck_assert_uint_eq(item.value_len, strlen("\"DeathStar\""));
	ck_assert_ptr_null(item.etag);
	ck_assert_int_eq(item.concurrency, OUTRIG_LAST_WRITE);
	ck_assert_int_eq(item.consistency, OUTRIG_EVENTUAL);
	ck_assert(!item.has_ttl);
	ck_assert(!item.is_delete);
	ck_assert_uint_eq(item.metadata.count, 0);
}
END_TEST

START_TEST(test_values_json_encoded)
{
	static const struct {
		const char *json;
		const char *stored;
	} cases[] = {
		{ "{\"key\":\"k\",\"value\":{ \"a\" : 1, \"b\" : [ 1, 2, {\"c\": null} ] }}",
		  "{\"a\":1,\"b\":[1,2,{\"c\":null}]}" },
		{ "{\"key\":\"k\",\"value\":[ 1 , \"two\" ]}", "[1,\"two\"]" },
		{ "{\"key\":\"k\",\"value\":42}", "42" },
		{ "{\"key\":\"k\",\"value\":-1.5}", "-1.5" },
		{ "{\"key\":\"k\",\"value\":true}", "true" },
		{ "{\"key\":\"k\",\"value\":false}", "false" },
		{ "{\"key\":\"k\",\"value\":null}", "null" },
		{ "{\"key\":\"k\"}", "null" },
		{ "{\"key\":\"k\",\"value\":\"\"}", "\"\"" },
		{ "{\"key\":\"k\",\"value\":\"say \\\"hi\\\"\\n\"}", "\"say \\\"hi\\\"\\n\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		parse_ok(cases[i].json);
		ck_assert_msg(strcmp(item.value, cases[i].stored) == 0, "%s stored as %s, expected %s",
			      cases[i].json, item.value, cases[i].stored);
		ck_assert_uint_eq(item.value_len, strlen(cases[i].stored));
		state_item_free(&item);
	}
}
END_TEST

START_TEST(test_key_unprefixed)
{
	ck_assert_int_eq(parse_text("{\"key\":\"order1\",\"value\":1}", false, NULL, &no_prefix), 0);
	ck_assert_str_eq(item.key, "order1");
}
END_TEST

START_TEST(test_key_missing)
{
	parse_refused("{\"value\": 1}", API_ERR_MALFORMED_REQUEST, "key", "\"key\" is a required field");
	parse_refused("{\"key\": \"\", \"value\": 1}", API_ERR_MALFORMED_REQUEST, "key",
		      "\"key\" is a required field");
	parse_refused("{\"key\": 5, \"value\": 1}", API_ERR_MALFORMED_REQUEST, "key",
		      "\"key\" is a required field");
	parse_refused("{\"key\": null}", API_ERR_MALFORMED_REQUEST, "key", "\"key\" is a required field");
}
END_TEST

START_TEST(test_key_illegal)
{
	parse_refused("{\"key\": \"a||b\", \"value\": 1}", API_ERR_ILLEGAL_KEY, "key",
		      "input key/keyPrefix 'a||b' can't contain '||'");
	ck_assert_str_eq(api_error_code(API_ERR_ILLEGAL_KEY), "ERR_MALFORMED_REQUEST");
}
END_TEST

START_TEST(test_not_an_object)
{
	parse_refused("[{\"key\": \"a\"}]", API_ERR_MALFORMED_REQUEST, "",
		      "each state item must be a JSON object with a \"key\"");
	parse_refused("\"a\"", API_ERR_MALFORMED_REQUEST, "",
		      "each state item must be a JSON object with a \"key\"");
	ck_assert_int_eq(state_body_item(NULL, NULL, NULL, false, NULL, &body, &problem), -1);
	ck_assert_str_eq(problem.message, "each state item must be a JSON object with a \"key\"");
}
END_TEST

START_TEST(test_delete_has_no_value)
{
	ck_assert_int_eq(parse_text("{\"key\":\"k\",\"value\":\"ignored\",\"etag\":\"3\"}", true, NULL, &kp),
			 0);
	ck_assert(item.is_delete);
	ck_assert_ptr_null(item.value);
	ck_assert_uint_eq(item.value_len, 0);
	ck_assert_str_eq(item.key, "myapp||k");
	ck_assert_str_eq(item.etag, "3");
}
END_TEST

/* ---- etag ---- */

START_TEST(test_etag_forms)
{
	parse_ok("{\"key\":\"k\",\"value\":1,\"etag\":\"abc-1\"}");
	ck_assert_str_eq(item.etag, "abc-1");
	state_item_free(&item);

	parse_ok("{\"key\":\"k\",\"value\":1,\"etag\":7}");
	ck_assert_str_eq(item.etag, "7");
	state_item_free(&item);

	/* An empty etag means none (last-write-wins), as in daprd. */
	parse_ok("{\"key\":\"k\",\"value\":1,\"etag\":\"\"}");
	ck_assert_ptr_null(item.etag);
	state_item_free(&item);

	parse_ok("{\"key\":\"k\",\"value\":1,\"etag\":null}");
	ck_assert_ptr_null(item.etag);
}
END_TEST

START_TEST(test_etag_bad_type)
{
	parse_refused("{\"key\":\"k\",\"value\":1,\"etag\":1.5}", API_ERR_MALFORMED_REQUEST, "etag",
		      "\"etag\" must be a string");
	parse_refused("{\"key\":\"k\",\"value\":1,\"etag\":true}", API_ERR_MALFORMED_REQUEST, "etag",
		      "\"etag\" must be a string");
	parse_refused("{\"key\":\"k\",\"value\":1,\"etag\":{}}", API_ERR_MALFORMED_REQUEST, "etag",
		      "\"etag\" must be a string");
}
END_TEST

/* ---- metadata ---- */

START_TEST(test_metadata_merged_url_wins)
{
	ck_assert_int_eq(kv_set(&url_md, "contentType", "text/plain"), 0);
	ck_assert_int_eq(kv_set(&url_md, "extra", "x"), 0);
	parse_ok("{\"key\":\"k\",\"value\":1,\"metadata\":{\"contentType\":\"application/json\","
		 "\"partitionKey\":\"p1\",\"ttlInSeconds\":\"60\"}}");
	ck_assert_uint_eq(item.metadata.count, 4);
	ck_assert_str_eq(kv_get(&item.metadata, "contentType"), "text/plain");
	ck_assert_str_eq(kv_get(&item.metadata, "partitionKey"), "p1");
	ck_assert_str_eq(kv_get(&item.metadata, "extra"), "x");
	ck_assert_str_eq(kv_get(&item.metadata, "ttlInSeconds"), "60");
	ck_assert(item.has_ttl);
	ck_assert_int_eq(item.ttl_seconds, 60);
	/* The caller's list is copied, not taken. */
	ck_assert_uint_eq(url_md.count, 2);
	ck_assert_str_eq(kv_get(&url_md, "contentType"), "text/plain");
}
END_TEST

START_TEST(test_metadata_url_ttl_wins)
{
	ck_assert_int_eq(kv_set(&url_md, "ttlInSeconds", "-1"), 0);
	parse_ok("{\"key\":\"k\",\"value\":1,\"metadata\":{\"ttlInSeconds\":\"60\"}}");
	ck_assert(item.has_ttl);
	ck_assert_int_eq(item.ttl_seconds, -1);
}
END_TEST

START_TEST(test_metadata_bad)
{
	parse_refused("{\"key\":\"k\",\"value\":1,\"metadata\":{\"nested\":{\"a\":\"b\"}}}",
		      API_ERR_MALFORMED_REQUEST, "metadata", "metadata.nested must be a string");
	parse_refused("{\"key\":\"k\",\"value\":1,\"metadata\":[\"a\"]}", API_ERR_MALFORMED_REQUEST,
		      "metadata", "metadata must be an object of strings");
	parse_refused("{\"key\":\"k\",\"value\":1,\"metadata\":\"a=b\"}", API_ERR_MALFORMED_REQUEST,
		      "metadata", "metadata must be an object of strings");
}
END_TEST

/* ---- options ---- */

START_TEST(test_options_valid)
{
	parse_ok("{\"key\":\"k\",\"value\":1,\"options\":{\"concurrency\":\"first-write\","
		 "\"consistency\":\"strong\"}}");
	ck_assert_int_eq(item.concurrency, OUTRIG_FIRST_WRITE);
	ck_assert_int_eq(item.consistency, OUTRIG_STRONG);
	state_item_free(&item);

	parse_ok("{\"key\":\"k\",\"value\":1,\"options\":{\"concurrency\":\"last-write\","
		 "\"consistency\":\"eventual\"}}");
	ck_assert_int_eq(item.concurrency, OUTRIG_LAST_WRITE);
	ck_assert_int_eq(item.consistency, OUTRIG_EVENTUAL);
	state_item_free(&item);

	parse_ok("{\"key\":\"k\",\"value\":1,\"options\":{\"concurrency\":\"\",\"consistency\":\"\"}}");
	ck_assert_int_eq(item.concurrency, OUTRIG_LAST_WRITE);
	ck_assert_int_eq(item.consistency, OUTRIG_EVENTUAL);
	state_item_free(&item);

	parse_ok("{\"key\":\"k\",\"value\":1,\"options\":null}");
	ck_assert_int_eq(item.concurrency, OUTRIG_LAST_WRITE);
	state_item_free(&item);

	parse_ok("{\"key\":\"k\",\"value\":1,\"options\":{\"consistency\":\"strong\"}}");
	ck_assert_int_eq(item.concurrency, OUTRIG_LAST_WRITE);
	ck_assert_int_eq(item.consistency, OUTRIG_STRONG);
}
END_TEST

START_TEST(test_options_invalid)
{
	parse_store_rejects("{\"key\":\"k\",\"value\":1,\"options\":{\"concurrency\":\"first\"}}",
			    "options.concurrency",
			    "options.concurrency \"first\" is not valid; "
			    "use \"first-write\" or \"last-write\"");
	parse_store_rejects("{\"key\":\"k\",\"value\":1,\"options\":{\"consistency\":\"weak\"}}",
			    "options.consistency",
			    "options.consistency \"weak\" is not valid; use \"strong\" or \"eventual\"");
	/* An options value that is not an object is a malformed request, not the store's call. */
	parse_refused("{\"key\":\"k\",\"value\":1,\"options\":\"strong\"}", API_ERR_MALFORMED_REQUEST,
		      "options", "\"options\" must be an object");
}
END_TEST

START_TEST(test_options_direct)
{
	ck_assert_int_eq(state_options_parse(NULL, NULL, API_ERR_STATE_SAVE, &item, &problem), 0);
	ck_assert_int_eq(item.concurrency, OUTRIG_LAST_WRITE);
	ck_assert_int_eq(item.consistency, OUTRIG_EVENTUAL);
	ck_assert_int_eq(state_options_parse("first-write", "strong", API_ERR_STATE_SAVE, &item, &problem),
			 0);
	ck_assert_int_eq(item.concurrency, OUTRIG_FIRST_WRITE);
	ck_assert_int_eq(item.consistency, OUTRIG_STRONG);
	ck_assert_int_eq(state_options_parse("First-Write", NULL, API_ERR_STATE_DELETE, &item, &problem), -1);
	ck_assert_int_eq(problem.error, API_ERR_STATE_DELETE);
	ck_assert_str_eq(problem.field, "");
	ck_assert_str_eq(problem.message, "options.concurrency \"First-Write\" is not valid; "
					  "use \"first-write\" or \"last-write\"");
}
END_TEST

/* ---- ttlInSeconds ---- */

START_TEST(test_ttl_valid)
{
	parse_ok("{\"key\":\"k\",\"value\":1,\"metadata\":{\"ttlInSeconds\":\"-1\"}}");
	ck_assert(item.has_ttl);
	ck_assert_int_eq(item.ttl_seconds, -1);
	state_item_free(&item);

	parse_ok("{\"key\":\"k\",\"value\":1,\"metadata\":{\"ttlInSeconds\":120}}");
	ck_assert(item.has_ttl);
	ck_assert_int_eq(item.ttl_seconds, 120);
	ck_assert_str_eq(kv_get(&item.metadata, "ttlInSeconds"), "120");
	state_item_free(&item);

	parse_ok("{\"key\":\"k\",\"value\":1,\"metadata\":{\"ttlInSeconds\":\"0\"}}");
	ck_assert(item.has_ttl);
	ck_assert_int_eq(item.ttl_seconds, 0);
}
END_TEST

START_TEST(test_ttl_invalid)
{
	static const char *const bad[] = { "abc", "", "1.5", "60s", "9999999999999999999999" };
	char json[256], message[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json),
			 "{\"key\":\"k\",\"value\":1,\"metadata\":{\"ttlInSeconds\":\"%s\"}}", bad[i]);
		snprintf(message, sizeof(message),
			 "metadata.ttlInSeconds \"%s\" is not a whole number of seconds; use e.g. 60, "
			 "or -1 for no expiry",
			 bad[i]);
		parse_store_rejects(json, "metadata.ttlInSeconds", message);
	}
}
END_TEST

/* Dapr's limit is math.MaxInt32 seconds. */
START_TEST(test_ttl_bounds)
{
	parse_ok("{\"key\":\"k\",\"value\":1,\"metadata\":{\"ttlInSeconds\":\"2147483647\"}}");
	ck_assert(item.has_ttl);
	ck_assert_int_eq(item.ttl_seconds, OUTRIG_STATE_MAX_TTL_SECONDS);
	state_item_free(&item);

	parse_store_rejects("{\"key\":\"k\",\"value\":1,\"metadata\":{\"ttlInSeconds\":\"2147483648\"}}",
			    "metadata.ttlInSeconds",
			    "metadata.ttlInSeconds 2147483648 is too large; use at most 2147483647 seconds, "
			    "or -1 for no expiry");
	parse_store_rejects("{\"key\":\"k\",\"value\":1,\"metadata\":{\"ttlInSeconds\":9000000000000}}",
			    "metadata.ttlInSeconds",
			    "metadata.ttlInSeconds 9000000000000 is too large; "
			    "use at most 2147483647 seconds, or -1 for no expiry");
}
END_TEST

START_TEST(test_ttl_direct)
{
	ck_assert_int_eq(state_ttl_parse(&item, API_ERR_STATE_SAVE, &problem), 0);
	ck_assert(!item.has_ttl);
	ck_assert_int_eq(kv_set(&item.metadata, "ttlInSeconds", "3600"), 0);
	ck_assert_int_eq(state_ttl_parse(&item, API_ERR_STATE_SAVE, &problem), 0);
	ck_assert(item.has_ttl);
	ck_assert_int_eq(item.ttl_seconds, 3600);
	ck_assert_int_eq(kv_set(&item.metadata, "ttlInSeconds", "x"), 0);
	ck_assert_int_eq(state_ttl_parse(&item, API_ERR_STATE_SAVE, &problem), -1);
	ck_assert(!item.has_ttl);
	ck_assert_int_eq(problem.error, API_ERR_STATE_SAVE);
	ck_assert_str_eq(problem.field, "");
}
END_TEST

/* ---- state_key_prepare, state_item_to_set/delete ---- */

START_TEST(test_key_prepare)
{
	char *stored = NULL;

	ck_assert_int_eq(state_key_prepare(&kp, "order1", &stored, &problem), 0);
	ck_assert_str_eq(stored, "myapp||order1");
	free(stored);
	stored = NULL;
	ck_assert_int_eq(state_key_prepare(&kp, NULL, &stored, &problem), -1);
	ck_assert_int_eq(problem.error, API_ERR_MALFORMED_REQUEST);
	ck_assert_str_eq(problem.message, "\"key\" is a required field");
	ck_assert_int_eq(state_key_prepare(&kp, "x||y", &stored, &problem), -1);
	ck_assert_int_eq(problem.error, API_ERR_ILLEGAL_KEY);
	ck_assert_str_eq(problem.field, "key");
	ck_assert_str_eq(problem.message, "input key/keyPrefix 'x||y' can't contain '||'");
	ck_assert_ptr_null(stored);
}
END_TEST

START_TEST(test_to_set_and_delete)
{
	struct outrig_state_set set;
	struct outrig_state_delete del;

	parse_ok("{\"key\":\"k\",\"value\":\"v\",\"etag\":\"9\",\"metadata\":{\"ttlInSeconds\":\"30\","
		 "\"a\":\"b\"},\"options\":{\"concurrency\":\"first-write\",\"consistency\":\"strong\"}}");
	state_item_to_set(&item, &set);
	ck_assert_str_eq(set.key, "myapp||k");
	ck_assert_uint_eq(set.value_len, 3);
	ck_assert_mem_eq(set.value, "\"v\"", 3);
	ck_assert_str_eq(set.etag, "9");
	ck_assert_int_eq(set.concurrency, OUTRIG_FIRST_WRITE);
	ck_assert_int_eq(set.consistency, OUTRIG_STRONG);
	ck_assert(set.has_ttl);
	ck_assert_int_eq(set.ttl_seconds, 30);
	ck_assert_uint_eq(set.metadata.count, 2);
	ck_assert_ptr_eq(set.metadata.items, item.metadata.items);

	state_item_to_delete(&item, &del);
	ck_assert_str_eq(del.key, "myapp||k");
	ck_assert_str_eq(del.etag, "9");
	ck_assert_int_eq(del.concurrency, OUTRIG_FIRST_WRITE);
	ck_assert_int_eq(del.consistency, OUTRIG_STRONG);
	ck_assert_uint_eq(del.metadata.count, 2);

	state_item_free(&item);
	ck_assert_ptr_null(item.key);
	ck_assert_ptr_null(item.value);
	ck_assert_ptr_null(item.etag);
	ck_assert_uint_eq(item.metadata.count, 0);
}
END_TEST

/* ---- kv ---- */

START_TEST(test_kv_set_replace)
{
	struct outrig_metadata view;

	ck_assert_ptr_null(kv_get(&list, "a"));
	ck_assert_int_eq(kv_set(&list, "a", "1"), 0);
	ck_assert_int_eq(kv_set(&list, "b", "2"), 0);
	ck_assert_int_eq(kv_set(&list, "a", "3"), 0);
	ck_assert_uint_eq(list.count, 2);
	ck_assert_str_eq(kv_get(&list, "a"), "3");
	ck_assert_str_eq(kv_get(&list, "b"), "2");
	/* Keys are case-sensitive, like a Go map. */
	ck_assert_ptr_null(kv_get(&list, "A"));
	view = kv_view(&list);
	ck_assert_uint_eq(view.count, 2);
	ck_assert_str_eq(view.items[0].key, "a");
	ck_assert_str_eq(view.items[0].value, "3");
	ck_assert_str_eq(view.items[1].key, "b");
	kv_free(&list);
	ck_assert_uint_eq(list.count, 0);
	ck_assert_ptr_null(list.items);
}
END_TEST

START_TEST(test_kv_set_copies)
{
	char key[] = "key";
	char value[] = "value";

	ck_assert_int_eq(kv_set(&list, key, value), 0);
	key[0] = 'X';
	value[0] = 'X';
	ck_assert_str_eq(kv_get(&list, "key"), "value");
}
END_TEST

START_TEST(test_kv_query_metadata)
{
	struct evkeyvalq q;

	parse_query("metadata.ttlInSeconds=5&metadata.ttlInSeconds=9&other=1&metadata.contentType=a%2Fb"
		    "&metadatax=2&Metadata.upper=3",
		    &q);
	ck_assert_int_eq(kv_add_query_metadata(&list, &q), 0);
	evhttp_clear_headers(&q);
	ck_assert_str_eq(kv_get(&list, "ttlInSeconds"), "5");
	ck_assert_str_eq(kv_get(&list, "contentType"), "a/b");
	ck_assert_ptr_null(kv_get(&list, "other"));
	ck_assert_ptr_null(kv_get(&list, "metadatax"));
	ck_assert_ptr_null(kv_get(&list, "x"));
	ck_assert_ptr_null(kv_get(&list, "upper"));
	ck_assert_ptr_null(kv_get(&list, "Metadata.upper"));
	ck_assert_uint_eq(list.count, 2);
}
END_TEST

START_TEST(test_kv_query_metadata_empty)
{
	struct evkeyvalq q;

	parse_query("a=1&b=2", &q);
	ck_assert_int_eq(kv_add_query_metadata(&list, &q), 0);
	evhttp_clear_headers(&q);
	ck_assert_uint_eq(list.count, 0);
}
END_TEST

START_TEST(test_kv_json_scalars)
{
	char err[128] = "";
	json_t *obj = json_loads("{\"s\":\"text\",\"i\":42,\"neg\":-3,\"f\":1.5,\"t\":true,\"fl\":false,"
				 "\"e\":\"\"}",
				 0, NULL);

	ck_assert_ptr_nonnull(obj);
	ck_assert_int_eq(kv_add_json(&list, obj, true, err, sizeof(err)), 0);
	json_decref(obj);
	ck_assert_uint_eq(list.count, 7);
	ck_assert_str_eq(kv_get(&list, "s"), "text");
	ck_assert_str_eq(kv_get(&list, "i"), "42");
	ck_assert_str_eq(kv_get(&list, "neg"), "-3");
	ck_assert_str_eq(kv_get(&list, "f"), "1.5");
	ck_assert_str_eq(kv_get(&list, "t"), "true");
	ck_assert_str_eq(kv_get(&list, "fl"), "false");
	ck_assert_str_eq(kv_get(&list, "e"), "");
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_kv_json_replace_flag)
{
	char err[128] = "";
	json_t *obj = json_pack("{s:s, s:s}", "a", "new", "b", "added");

	ck_assert_ptr_nonnull(obj);
	ck_assert_int_eq(kv_set(&list, "a", "old"), 0);
	ck_assert_int_eq(kv_add_json(&list, obj, false, err, sizeof(err)), 0);
	ck_assert_str_eq(kv_get(&list, "a"), "old");
	ck_assert_str_eq(kv_get(&list, "b"), "added");
	ck_assert_int_eq(kv_add_json(&list, obj, true, err, sizeof(err)), 0);
	ck_assert_str_eq(kv_get(&list, "a"), "new");
	ck_assert_uint_eq(list.count, 2);
	json_decref(obj);
}
END_TEST

START_TEST(test_kv_json_refused)
{
	char err[128];
	json_t *nested = json_loads("{\"ok\":\"1\",\"o\":{\"x\":\"y\"}}", 0, NULL);
	json_t *array = json_loads("{\"arr\":[\"x\"]}", 0, NULL);
	json_t *top = json_loads("[\"x\"]", 0, NULL);

	ck_assert_ptr_nonnull(nested);
	ck_assert_ptr_nonnull(array);
	ck_assert_ptr_nonnull(top);
	strcpy(err, "");
	ck_assert_int_eq(kv_add_json(&list, nested, true, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "metadata.o must be a string");
	strcpy(err, "");
	ck_assert_int_eq(kv_add_json(&list, array, true, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "metadata.arr must be a string");
	strcpy(err, "");
	ck_assert_int_eq(kv_add_json(&list, top, true, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "metadata must be an object of strings");
	json_decref(nested);
	json_decref(array);
	json_decref(top);

	/* Absent or null metadata is no metadata. */
	strcpy(err, "");
	ck_assert_int_eq(kv_add_json(&list, NULL, true, err, sizeof(err)), 0);
	ck_assert_int_eq(kv_add_json(&list, json_null(), true, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
}
END_TEST

static Suite *state_item_suite(void)
{
	Suite *s = suite_create("state_item");
	TCase *item_tc = tcase_create("item");
	TCase *kv_tc = tcase_create("kv");

	tcase_add_checked_fixture(item_tc, setup, teardown);
	tcase_add_test(item_tc, test_string_value_encoded);
	tcase_add_test(item_tc, test_values_json_encoded);
	tcase_add_test(item_tc, test_key_unprefixed);
	tcase_add_test(item_tc, test_key_missing);
	tcase_add_test(item_tc, test_key_illegal);
	tcase_add_test(item_tc, test_not_an_object);
	tcase_add_test(item_tc, test_delete_has_no_value);
	tcase_add_test(item_tc, test_etag_forms);
	tcase_add_test(item_tc, test_etag_bad_type);
	tcase_add_test(item_tc, test_metadata_merged_url_wins);
	tcase_add_test(item_tc, test_metadata_url_ttl_wins);
	tcase_add_test(item_tc, test_metadata_bad);
	tcase_add_test(item_tc, test_options_valid);
	tcase_add_test(item_tc, test_options_invalid);
	tcase_add_test(item_tc, test_options_direct);
	tcase_add_test(item_tc, test_ttl_valid);
	tcase_add_test(item_tc, test_ttl_invalid);
	tcase_add_test(item_tc, test_ttl_bounds);
	tcase_add_test(item_tc, test_ttl_direct);
	tcase_add_test(item_tc, test_key_prepare);
	tcase_add_test(item_tc, test_to_set_and_delete);
	suite_add_tcase(s, item_tc);

	tcase_add_checked_fixture(kv_tc, setup, teardown);
	tcase_add_test(kv_tc, test_kv_set_replace);
	tcase_add_test(kv_tc, test_kv_set_copies);
	tcase_add_test(kv_tc, test_kv_query_metadata);
	tcase_add_test(kv_tc, test_kv_query_metadata_empty);
	tcase_add_test(kv_tc, test_kv_json_scalars);
	tcase_add_test(kv_tc, test_kv_json_replace_flag);
	tcase_add_test(kv_tc, test_kv_json_refused);
	suite_add_tcase(s, kv_tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(state_item_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
