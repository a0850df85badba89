/* SPDX-License-Identifier: Apache-2.0 */
/* What pub/sub tests share: publishing, waiting for subscriptions, fixtures, CloudEvent decoding. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pubsub_helpers.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exchange.h"
#include "http_client.h"

#define METADATA_POLL_MS 50

int ps_publish(int port, const char *pubsub, const char *topic, const char *content_type, const char *headers,
	       const void *body, size_t len, const char *query)
{
	struct http_response r = { 0 };
	char *path = NULL, *hdrs = NULL;
	int rc;

	if (asprintf(&path, "/v1.0/publish/%s/%s%s", pubsub, topic, query ? query : "") < 0)
		return -1;
	if (asprintf(&hdrs, "%s%s%s%s", content_type ? "Content-Type: " : "",
		     content_type ? content_type : "", content_type ? "\r\n" : "",
		     headers ? headers : "") < 0) {
		free(path);
		return -1;
	}
	/* An empty body still goes out with Content-Length: 0, as SDKs send it. */
	rc = http_request(port, "POST", path, hdrs, body ? body : "", len, &r);
	if (rc == 0)
		rc = r.status;
	http_response_free(&r);
	free(hdrs);
	free(path);
	return rc;
}

json_t *ps_subscription(json_t *subs, const char *pubsub, const char *topic)
{
	json_t *s;
	size_t i;

	json_array_foreach(subs, i, s)
	{
		if (strcmp(jstr(json_object_get(s, "pubsubname")), pubsub) == 0 &&
		    strcmp(jstr(json_object_get(s, "topic")), topic) == 0)
			return s;
	}
	return NULL;
}

static bool all_listed(json_t *subs, const char *pubsub, const char *const *topics)
{
	for (size_t i = 0; topics != NULL && topics[i] != NULL; i++)
		if (ps_subscription(subs, pubsub, topics[i]) == NULL)
			return false;
	return true;
}

json_t *ps_wait_subscribed(int port, const char *pubsub, const char *const *topics, long timeout_ms)
{
	long deadline = xnow_ms() + timeout_ms;
	struct http_response r = { 0 };

	for (;;) {
		json_t *meta = NULL, *subs;

		http_response_free(&r);
		if (http_request(port, "GET", "/v1.0/metadata", NULL, NULL, 0, &r) == 0 && r.status == 200)
			meta = json_loadb(r.body, r.body_len, 0, NULL);
		subs = json_object_get(meta, "subscriptions");
		if (json_is_array(subs) && all_listed(subs, pubsub, topics)) {
			json_incref(subs);
			json_decref(meta);
			http_response_free(&r);
			return subs;
		}
		json_decref(meta);
		if (xnow_ms() >= deadline)
			break;
		xsleep_ms(METADATA_POLL_MS);
	}
	fprintf(stderr, "subscriptions not active after %ld ms; last GET /v1.0/metadata: %d %.2000s\n",
		timeout_ms, r.status, r.body ? r.body : "");
	http_response_free(&r);
	return NULL;
}

int ps_copy_fixture(struct daemon *d, const char *file)
{
	const char *dir = getenv("OUTRIG_TEST_DATA");
	char *path = NULL, *text;
	int rc;

	if (dir == NULL) {
		fprintf(stderr, "OUTRIG_TEST_DATA is not set; run through make check\n");
		return -1;
	}
	if (asprintf(&path, "%s/pubsub/%s", dir, file) < 0)
		return -1;
	text = xslurp(path);
	rc = daemon_write_resource(d, file, text) == 0 ? 0 : -1;
	free(text);
	free(path);
	return rc;
}

int ps_write_mqtt3(struct daemon *d, const char *name, const char *url, const char *consumer_id)
{
	return daemon_add_component(d, name, "pubsub.mqtt3", "url", url, "consumerID", consumer_id, "qos",
				    "1", "cleanSession", "false", NULL);
}

static int b64_value(char c)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

unsigned char *ps_base64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), o = 0;
	unsigned char *out;
	unsigned acc = 0;
	int bits = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	out = malloc(n * 3 / 4 + 1);
	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i]);

		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*len = o;
	return out;
}

char *ps_unique(const char *prefix)
{
	static atomic_int counter;
	char *s = NULL;

	if (asprintf(&s, "%s-%d-%d", prefix, (int)getpid(), atomic_fetch_add(&counter, 1)) < 0)
		return NULL;
	return s;
}
