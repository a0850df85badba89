/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: building CloudEvents from published bytes, and reading them back on delivery. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blocks/pubsub/cloudevent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_types[] = {
	NULL,
	"",
	"text/plain",
	"application/json",
	"application/json; charset=utf-8",
	"application/cloudevents+json",
	"APPLICATION/CloudEvents+JSON; x=y",
	"application/octet-stream",
	"application/x-protobuf",
	"application/cloudevents+protobuf",
	"application/vnd.api+json",
};

#define FUZZ_MAX_MD 8

/*
 * Input: one byte picking the Content-Type, one byte of flags, a line of metadata
 * ("key=value&key=value", e.g. cloudevent.id=x&ttlInSeconds=5), then the published data.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outrig_kv kvs[FUZZ_MAX_MD];
	struct outrig_metadata md = { 0, kvs };
	struct cloudevent_input in = { 0 };
	char *copy, *line, *nl, *save = NULL;
	bool bad = false, bad_text = false;
	char err[256];
	size_t len = 0, dlen;
	json_t *ev;
	char *text;
	int64_t ttl;

	if (size < 2)
		return 0;
	copy = malloc(size - 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 2, size - 2);
	copy[size - 2] = '\0';
	nl = memchr(copy, '\n', size - 2);
	if (nl != NULL) {
		*nl = '\0';
		line = copy;
		in.data = nl + 1;
		in.data_len = size - 2 - (size_t)(nl + 1 - copy);
		for (char *kv = strtok_r(line, "&", &save); kv != NULL && md.count < FUZZ_MAX_MD;
		     kv = strtok_r(NULL, "&", &save)) {
			char *eq = strchr(kv, '=');

			if (eq == NULL)
				continue;
			*eq = '\0';
			kvs[md.count].key = kv;
			kvs[md.count++].value = eq + 1;
		}
	} else {
		in.data = copy;
		in.data_len = size - 2;
	}
	in.pubsub = "pubsub";
	in.topic = "orders";
	in.app_id = (data[1] & 1) ? "" : "publisher";
	in.content_type = fuzz_types[data[0] % (sizeof(fuzz_types) / sizeof(fuzz_types[0]))];
	in.metadata = &md;
	in.traceparent = (data[1] & 2) ? "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" : NULL;
	in.tracestate = (data[1] & 4) ? "congo=t61rcWkgMzE" : NULL;
	in.now_unix_ms = INT64_C(1767225600000);
	in.broker_ttl = (data[1] & 8) != 0;

	cloudevent_ttl(&md, &ttl, err, sizeof(err));
	ev = cloudevent_build(&in, &bad, err, sizeof(err));
	text = cloudevent_build_text(&in, &len, &bad_text, err, sizeof(err));
	if (text != NULL) {
		/* What is published must read back as a JSON object, and as a live or expired event. */
		json_t *back = cloudevent_json_parse(text, len);

		if (!json_is_object(back))
			abort();
		cloudevent_expired(back, in.now_unix_ms);
		json_decref(back);
	}
	if ((ev == NULL) != (text == NULL) && !(ev != NULL && text == NULL && !bad_text))
		abort(); /* the two builders disagree on whether the input is acceptable */
	if (ev != NULL)
		cloudevent_expired(ev, in.now_unix_ms);
	json_decref(ev);
	free(text);

	/* The delivery side: data as an event from a broker, as base64, and as a raw payload. */
	ev = cloudevent_json_parse(in.data, in.data_len);
	if (json_is_object(ev))
		cloudevent_expired(ev, in.now_unix_ms);
	json_decref(ev);
	free(cloudevent_base64_decode(in.data, &dlen));
	json_decref(cloudevent_wrap_raw("pubsub", "orders", in.data, in.data_len));
	free(copy);
	return 0;
}
