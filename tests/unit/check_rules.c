/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of core/rules.c: CEL match expressions in, routing decisions and exact refusals out. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks/pubsub/rules.h"

/* The event every matching case is evaluated against, as a delivered CloudEvent. */
static const char event_json[] =
	"{\"id\":\"5929aaac-a5e2-4ca1-859c-edfe73f11565\","
	"\"source\":\"checkout\",\"type\":\"com.dapr.event.sent\","
	"\"specversion\":\"1.0\",\"datacontenttype\":\"application/json\","
	"\"topic\":\"orders\",\"pubsubname\":\"pubsub\",\"subject\":\"o-1\","
	"\"data\":{\"kind\":\"widget\",\"count\":3,\"price\":2.5,\"big\":9007199254740993,"
	"\"urgent\":true,\"note\":null,\"items\":[\"a\",\"b\"],"
	"\"dims\":{\"w\":10,\"unit\":\"cm\"},\"odd key\":\"x\",\"utf\":\"caf\\u00e9\","
	"\"quote\":\"say \\\"hi\\\"\"}}";

static json_t *event;

static void event_setup(void)
{
	json_error_t e;

	event = json_loads(event_json, 0, &e);
	ck_assert_msg(event != NULL, "bad test event: %s", e.text);
}

static void event_teardown(void)
{
	json_decref(event);
}

struct match_case {
	const char *text;
	bool match;
};

static const struct match_case match_cases[] = {
	/* Each attribute. */
	{ "event.type == \"com.dapr.event.sent\"", true },
	{ "event.type == 'com.dapr.event.sent'", true },
	{ "event.type == \"other\"", false },
	{ "event.source == \"checkout\"", true },
	{ "event.topic == \"orders\"", true },
	{ "event.id == \"5929aaac-a5e2-4ca1-859c-edfe73f11565\"", true },
	{ "event.subject == \"o-1\"", true },
	{ "event.specversion == \"1.0\"", true },
	{ "event.datacontenttype == \"application/json\"", true },
	{ "event.pubsubname == \"pubsub\"", true },
	{ "event[\"type\"] == \"com.dapr.event.sent\"", true },
	{ "\"orders\" == event.topic", true },
	/* event.data paths. */
	{ "event.data.kind == \"widget\"", true },
	{ "event.data.dims.unit == \"cm\"", true },
	{ "event.data.dims.w == 10", true },
	{ "event.data[\"odd key\"] == \"x\"", true },
	{ "event.data[\"dims\"][\"unit\"] == \"cm\"", true },
	{ "event.data.items[1] == \"b\"", true },
	{ "event.data.items[2] == \"b\"", false },
	{ "event.data.utf == \"caf\\u00e9\"", true },
	{ "event.data.utf == \"caf\\xe9\"", true },
	{ "event.data.utf == \"caf\\351\"", true },
	{ "event.data.utf == \"café\"", true },
	{ "event.data.quote == \"say \\\"hi\\\"\"", true },
	{ "event.data.quote == 'say \"hi\"'", true },
	/* Numbers by value. */
	{ "event.data.count == 3", true },
	{ "event.data.count == 3.0", true },
	{ "event.data.count == 0x3", true },
	{ "event.data.count == 3u", true },
	{ "event.data.count == 30e-1", true },
	{ "event.data.price == 2.5", true },
	{ "event.data.price == .25e1", true },
	{ "event.data.count != 4", true },
	{ "event.data.count > 2", true },
	{ "event.data.count >= 3", true },
	{ "event.data.count < 3", false },
	{ "event.data.count <= 2.99", false },
	{ "event.data.price < 3", true },
	{ "event.data.count > -1", true },
	{ "event.data.count > - 1", true },
	/* Integers beyond a double's precision stay exact against integers. */
	{ "event.data.big == 9007199254740993", true },
	{ "event.data.big == 9007199254740992", false },
	{ "event.data.big > 9007199254740992", true },
	/* Texts order byte by byte. */
	{ "event.topic > \"order\"", true },
	{ "event.topic < \"ordert\"", true },
	{ "event.topic >= \"orders\"", true },
	{ "event.topic < \"Orders\"", false },
	/* Booleans and null. */
	{ "event.data.urgent == true", true },
	{ "event.data.urgent", true },
	{ "!event.data.urgent", false },
	{ "event.data.urgent != false", true },
	{ "event.data.note == null", true },
	{ "event.data.kind != null", true },
	{ "true", true },
	{ "false", false },
	{ "!false", true },
	{ "!!true", true },
	{ "(event.topic == \"orders\") == true", true },
	/* Compound values compare whole. */
	{ "event.data.dims == event.data.dims", true },
	{ "event.data.items == event.data.dims", false },
	/* Missing fields: == false, != true. */
	{ "event.data.missing == \"x\"", false },
	{ "event.data.missing != \"x\"", true },
	{ "event.data.missing == null", false },
	{ "event.data.missing != null", true },
	{ "event.data.kind.deeper == \"x\"", false },
	{ "event.data.items.a == \"x\"", false },
	{ "event.data.dims[0] == 10", false },
	{ "event.data.missing == event.data.missing", false },
	/* Type mismatches: unequal, never equal by conversion. */
	{ "event.data.count == \"3\"", false },
	{ "event.data.count != \"3\"", true },
	{ "event.data.kind == 1", false },
	{ "event.data.urgent == 1", false },
	{ "event.data.note == false", false },
	/* Ordering what cannot be ordered is an error, which never matches, even negated. */
	{ "event.data.missing > 1", false },
	{ "!(event.data.missing > 1)", false },
	{ "event.data.kind > 1", false },
	{ "!(event.data.kind > 1)", false },
	/* A field used as a condition must be a boolean. */
	{ "event.data.kind", false },
	{ "!event.data.kind", false },
	{ "!event.data.missing", false },
	/* Logic and precedence: ! > comparison > && > ||. */
	{ "event.type == \"x\" || event.topic == \"orders\"", true },
	{ "event.type == \"x\" && event.topic == \"orders\"", false },
	{ "event.topic == \"orders\" && event.data.count == 3 && event.data.kind == \"widget\"", true },
	{ "false && false || true", true },
	{ "true || true && false", true },
	{ "(true || true) && false", false },
	{ "!(event.topic == \"orders\")", false },
	{ "!(event.type == \"x\") && event.topic == \"orders\"", true },
	{ "true == false == false", true },
	/* Errors give way to a decisive side, as in CEL. */
	{ "event.data.kind || true", true },
	{ "true || event.data.kind", true },
	{ "event.data.kind && false", false },
	{ "!(event.data.kind && false)", true },
	{ "event.data.kind || false", false },
	{ "!(event.data.kind || false)", false },
	{ "event.data.kind && true", false },
	/* Whitespace and line breaks as YAML folds them. */
	{ "  event.topic\n ==\t\"orders\"  ", true },
};

START_TEST(test_match)
{
	const struct match_case *c = &match_cases[_i];
	char err[512];
	struct rule *r = rule_parse(c->text, err, sizeof(err));

	ck_assert_msg(r != NULL, "refused %s: %s", c->text, err);
	ck_assert_msg(rule_match(r, event) == c->match, "%s: expected %s", c->text,
		      c->match ? "a match" : "no match");
	rule_free(r);
}
END_TEST

START_TEST(test_event_without_data)
{
	json_t *bare = json_pack("{s:s, s:s}", "type", "t", "data", "plain text");
	struct rule *r;
	char err[512];

	r = rule_parse("event.data == \"plain text\"", err, sizeof(err));
	ck_assert_ptr_nonnull(r);
	ck_assert(rule_match(r, bare));
	rule_free(r);
	r = rule_parse("event.data.x != \"y\" && event.subject != \"s\"", err, sizeof(err));
	ck_assert_ptr_nonnull(r);
	ck_assert(rule_match(r, bare));
	ck_assert(!rule_match(r, NULL));
	rule_free(r);
	ck_assert(!rule_match(NULL, bare));
	rule_free(NULL);
	json_decref(bare);
}
END_TEST

#define UNSUPPORTED_TAIL "; outrig supports ==, !=, &&, ||, ! and parentheses over event fields"
#define INVALID_TAIL "; write comparisons such as event.type == \"order\", joined by && and ||"

struct refusal {
	const char *text;
	const char *err;
};

static const struct refusal refusals[] = {
	{ "event.type.startsWith(\"a\")",
	  "unsupported CEL: function call \"startsWith\" at column 12 in 'event.type.startsWith(\"a\")'" UNSUPPORTED_TAIL },
	{ "size(event.data.items) > 1",
	  "unsupported CEL: function call \"size\" at column 1 in 'size(event.data.items) > 1'" UNSUPPORTED_TAIL },
	{ "has(event.data.kind)",
	  "unsupported CEL: macro \"has\" at column 1 in 'has(event.data.kind)'" UNSUPPORTED_TAIL },
	{ "event.data.items.exists(x, x == \"a\")",
	  "unsupported CEL: macro \"exists\" at column 18 in 'event.data.items.exists(x, x == \"a\")'" UNSUPPORTED_TAIL },
	{ "\"abc\".size() == 3",
	  "unsupported CEL: function call \"size\" at column 7 in '\"abc\".size() == 3'" UNSUPPORTED_TAIL },
	{ "event.type in [\"a\", \"b\"]",
	  "unsupported CEL: operator \"in\" at column 12 in 'event.type in [\"a\", \"b\"]'" UNSUPPORTED_TAIL },
	{ "event.data.count + 1 == 4",
	  "unsupported CEL: arithmetic operator \"+\" at column 18 in 'event.data.count + 1 == 4'" UNSUPPORTED_TAIL },
	{ "event.data.count == 2 * 2",
	  "unsupported CEL: arithmetic operator \"*\" at column 23 in 'event.data.count == 2 * 2'" UNSUPPORTED_TAIL },
	{ "-event.data.count == 1",
	  "unsupported CEL: arithmetic operator \"-\" at column 1 in '-event.data.count == 1'" UNSUPPORTED_TAIL },
	{ "event.data.urgent ? true : false",
	  "unsupported CEL: conditional operator \"?:\" at column 19 in 'event.data.urgent ? true : false'" UNSUPPORTED_TAIL },
	{ "type == \"x\"",
	  "unsupported CEL: unknown identifier \"type\" (the only variable is event) at column 1 in 'type == \"x\"'" UNSUPPORTED_TAIL },
	{ "event.time == \"x\"",
	  "unsupported CEL: unknown field \"event.time\" (outrig knows event.type, .source, .topic, .id, .subject, "
	  ".specversion, .datacontenttype, .pubsubname and .data) at column 1 in 'event.time == \"x\"'" UNSUPPORTED_TAIL },
	{ "event.type.x == \"a\"",
	  "unsupported CEL: selecting inside event.type (only event.data has fields) at column 11 in "
	  "'event.type.x == \"a\"'" UNSUPPORTED_TAIL },
	{ "event == null",
	  "unsupported CEL: the whole event as a value (compare one of its fields) at column 1 in 'event == null'" UNSUPPORTED_TAIL },
	{ "event.data.kind == [\"a\"]",
	  "unsupported CEL: list literal at column 20 in 'event.data.kind == [\"a\"]'" UNSUPPORTED_TAIL },
	{ "event.data == {\"a\": 1}",
	  "unsupported CEL: map literal at column 15 in 'event.data == {\"a\": 1}'" UNSUPPORTED_TAIL },
	{ "event.data.kind == r\"a\"",
	  "unsupported CEL: raw string at column 20 in 'event.data.kind == r\"a\"'" UNSUPPORTED_TAIL },
	{ "event.data.kind == b'a'",
	  "unsupported CEL: bytes string at column 20 in 'event.data.kind == b'a''" UNSUPPORTED_TAIL },
	{ "event.data.kind == \"\"\"a\"\"\"",
	  "unsupported CEL: triple-quoted string at column 20 in 'event.data.kind == \"\"\"a\"\"\"'" UNSUPPORTED_TAIL },
	{ "event.data.items[-1] == \"b\"",
	  "unsupported CEL: arithmetic operator \"-\" at column 18 in 'event.data.items[-1] == \"b\"'" UNSUPPORTED_TAIL },
	{ "event[0] == 1",
	  "unsupported CEL: index \"0\" (write a quoted member name) at column 7 in 'event[0] == 1'" UNSUPPORTED_TAIL },
	{ "(event.data).kind == \"a\"",
	  "invalid CEL: unexpected \".\" after a complete expression at column 13 in '(event.data).kind == \"a\"'" INVALID_TAIL },
	{ "\"a\"[0] == \"a\"",
	  "unsupported CEL: indexing a text literal at column 4 in '\"a\"[0] == \"a\"'" UNSUPPORTED_TAIL },
	/* Malformed. */
	{ "", "invalid CEL: empty expression at column 1 in ''" INVALID_TAIL },
	{ "   ", "invalid CEL: empty expression at column 1 in '   '" INVALID_TAIL },
	{ "event.type == \"a",
	  "invalid CEL: unterminated string at column 15 in 'event.type == \"a'" INVALID_TAIL },
	{ "event.type == \"a\\q\"",
	  "invalid CEL: unknown escape \"\\q\" at column 17 in 'event.type == \"a\\q\"'" INVALID_TAIL },
	{ "event.type == \"\\u12\"",
	  "invalid CEL: \\u needs 4 hex digits at column 16 in 'event.type == \"\\u12\"'" INVALID_TAIL },
	{ "event.type == \"\\ud800\"",
	  "invalid CEL: \\ud800 is not a Unicode character at column 16 in 'event.type == \"\\ud800\"'" INVALID_TAIL },
	{ "event.type = \"a\"",
	  "invalid CEL: \"=\" is not an operator (did you mean \"==\"?) at column 12 in 'event.type = \"a\"'" INVALID_TAIL },
	{ "event.data.urgent & true",
	  "invalid CEL: \"&\" is not an operator (did you mean \"&&\"?) at column 19 in 'event.data.urgent & true'" INVALID_TAIL },
	{ "event.type == \"a\" extra",
	  "invalid CEL: unexpected \"extra\" after a complete expression at column 19 in 'event.type == \"a\" extra'" INVALID_TAIL },
	{ "(event.type == \"a\"",
	  "invalid CEL: expected \")\" for the \"(\" at column 1, found the end of the expression at column 19 in "
	  "'(event.type == \"a\"'" INVALID_TAIL },
	{ "event.type ==",
	  "invalid CEL: expected a value, found the end of the expression at column 14 in 'event.type =='" INVALID_TAIL },
	{ "event.type == \"a\" &&",
	  "invalid CEL: expected a value, found the end of the expression at column 21 in 'event.type == \"a\" &&'" INVALID_TAIL },
	{ "&& true",
	  "invalid CEL: unexpected \"&&\" where a value should be at column 1 in '&& true'" INVALID_TAIL },
	{ "event.",
	  "invalid CEL: expected a field name after \".\", found the end of the expression at column 7 in 'event.'" INVALID_TAIL },
	{ "event.data.items[0 == 1",
	  "invalid CEL: expected \"]\" for the \"[\" at column 17, found \"==\" at column 20 in 'event.data.items[0 == 1'" INVALID_TAIL },
	{ "event.data.count == 1x",
	  "invalid CEL: malformed number at column 21 in 'event.data.count == 1x'" INVALID_TAIL },
	{ "event.data.count == 1.",
	  "invalid CEL: malformed number at column 21 in 'event.data.count == 1.'" INVALID_TAIL },
	{ "event.data.count == 99999999999999999999",
	  "invalid CEL: number out of range at column 21 in 'event.data.count == 99999999999999999999'" INVALID_TAIL },
	/* Not conditions. */
	{ "\"widget\"",
	  "invalid CEL: the expression is a text literal, not a condition at column 1 in '\"widget\"'" INVALID_TAIL },
	{ "event.data.urgent && 1",
	  "invalid CEL: a side of \"&&\" is a number literal, not a condition at column 22 in 'event.data.urgent && 1'" INVALID_TAIL },
	{ "null || true",
	  "invalid CEL: a side of \"||\" is null, not a condition at column 1 in 'null || true'" INVALID_TAIL },
	{ "!\"a\"",
	  "invalid CEL: the operand of \"!\" is a text literal, not a condition at column 2 in '!\"a\"'" INVALID_TAIL },
};

START_TEST(test_refusal)
{
	const struct refusal *c = &refusals[_i];
	char err[1024];
	struct rule *r = rule_parse(c->text, err, sizeof(err));

	ck_assert_msg(r == NULL, "accepted %s", c->text);
	ck_assert_str_eq(err, c->err);
}
END_TEST

START_TEST(test_limits)
{
	char text[4096], err[512];
	struct rule *r;
	size_t n = 0;

	/* Deep parentheses are refused before they can exhaust the stack. */
	for (int i = 0; i < 100; i++)
		text[n++] = '(';
	strcpy(text + n, "true");
	r = rule_parse(text, err, sizeof(err));
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(err, "invalid CEL: parentheses nested more than 64 deep at column 65") == err,
		      "%s", err);

	/* So are very long chains, whose tree evaluation would recurse as deep. */
	n = 0;
	for (int i = 0; i < 600; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%strue", i > 0 ? "||" : "");
	r = rule_parse(text, err, sizeof(err));
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(err, "invalid CEL: expression longer than 1000 terms") == err, "%s", err);

	/* A short error buffer is cut, not overrun; none at all is fine. */
	ck_assert_ptr_null(rule_parse("nope", err, 8));
	ck_assert_str_eq(err, "unsuppo");
	ck_assert_ptr_null(rule_parse("nope", NULL, 0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules");
	TCase *match = tcase_create("match");
	TCase *refuse = tcase_create("refuse");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(match, event_setup, event_teardown);
	tcase_add_loop_test(match, test_match, 0, (int)(sizeof(match_cases) / sizeof(match_cases[0])));
	tcase_add_test(match, test_event_without_data);
	tcase_add_loop_test(refuse, test_refusal, 0, (int)(sizeof(refusals) / sizeof(refusals[0])));
	tcase_add_test(refuse, test_limits);
	suite_add_tcase(s, match);
	suite_add_tcase(s, refuse);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
