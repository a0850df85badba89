/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the CEL routing rules of subscriptions, parsed and evaluated against events. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "blocks/pubsub/cloudevent.h"
#include "blocks/pubsub/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_event[] =
	"{\"id\":\"1\",\"source\":\"app\",\"type\":\"com.example.order\",\"specversion\":\"1.0\","
	"\"topic\":\"orders\",\"pubsubname\":\"pubsub\",\"datacontenttype\":\"application/json\","
	"\"data\":{\"a\":{\"b\":1.5},\"n\":-3,\"s\":\"x\",\"t\":true,\"z\":null,\"l\":[1,2]}}";

/* Input: the rule's text up to the first newline, then (optionally) the event as JSON. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t rlen = nl != NULL ? (size_t)(nl - (const char *)data) : size;
	char *text = malloc(rlen + 1);
	char err[256];
	struct rule *r;

	if (text == NULL)
		return 0;
	memcpy(text, data, rlen);
	text[rlen] = '\0';
	r = rule_parse(text, err, sizeof(err));
	if (r != NULL) {
		json_t *fixed = json_loads(fuzz_event, 0, NULL);
		json_t *ev = nl != NULL ? cloudevent_json_parse(nl + 1, size - rlen - 1) : NULL;

		rule_match(r, fixed);
		if (ev != NULL)
			rule_match(r, ev);
		json_decref(fixed);
		json_decref(ev);
		rule_free(r);
	}
	free(text);
	return 0;
}
