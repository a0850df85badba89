/* SPDX-License-Identifier: Apache-2.0 */
/* The CloudEvents 1.0 envelope daprd puts around published data (API.md §2.2), and its checks on delivery. */
#include "config.h"

#include "blocks/pubsub/cloudevent.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define CE_SPEC_VERSION "1.0"
#define CE_DEFAULT_SOURCE "Dapr"
#define CE_DEFAULT_TYPE "com.dapr.event.sent"
#define CE_DEFAULT_CONTENT_TYPE "text/plain"
/* 9999-12-31T23:59:59Z: RFC 3339 has four-digit years, so a huge TTL stops there. */
#define CE_LAST_SECOND INT64_C(253402300799)

/* The media type alone, lower-cased: "Application/JSON; charset=utf-8" is application/json. */
enum cloudevent_kind cloudevent_kind_of(const char *content_type)
{
	static const char *const binary[] = { "application/octet-stream", "application/cloudevents+protobuf",
					      "application/x-protobuf", NULL };
	char media[128];
	size_t n = 0;

	if (content_type == NULL)
		return CLOUDEVENT_TEXT;
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	while (content_type[n] != '\0' && content_type[n] != ';' && n < sizeof(media) - 1) {
		media[n] = (char)tolower((unsigned char)content_type[n]);
		n++;
	}
	while (n > 0 && (media[n - 1] == ' ' || media[n - 1] == '\t'))
		n--;
	media[n] = '\0';
	if (strcmp(media, "application/json") == 0)
		return CLOUDEVENT_JSON;
	if (strcmp(media, "application/cloudevents+json") == 0)
		return CLOUDEVENT_ENVELOPE;
	for (int i = 0; binary[i] != NULL; i++)
		if (strcmp(media, binary[i]) == 0)
			return CLOUDEVENT_BINARY;
	return CLOUDEVENT_TEXT;
}

/* Length of the well-formed UTF-8 character at p (no overlongs, surrogates or > U+10FFFF), or 0. */
static size_t ce_utf8_len(const unsigned char *p, size_t left)
{
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2, cp = p[0] & 0x1F;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3, cp = p[0] & 0x0F;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

bool cloudevent_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0, n; i < len; i += n)
		if ((n = ce_utf8_len(p + i, len - i)) == 0)
			return false;
	return true;
}

/*
 * The body as a JSON string. JSON strings are UTF-8, so, as Go's encoder does, each byte
 * that is not part of a well-formed character becomes U+FFFD rather than failing the publish.
 */
static json_t *ce_string(const void *data, size_t len)
{
	const unsigned char *p = data;
	unsigned char *fixed;
	size_t out = 0;
	json_t *s = json_stringn(len > 0 ? data : "", len);

	if (s != NULL || len > SIZE_MAX / 3)
		return s;
	fixed = malloc(len * 3 + 1);
	if (fixed == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = ce_utf8_len(p + i, len - i);

		if (n == 0) {
			memcpy(fixed + out, "\xEF\xBF\xBD", 3);
			out += 3;
			i++;
		} else {
			memcpy(fixed + out, p + i, n);
			out += n;
			i += n;
		}
	}
	s = json_stringn((char *)fixed, out);
	free(fixed);
	return s;
}

static json_t *ce_base64(const void *data, size_t len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	size_t out = 0;
	char *text;
	json_t *s;

	if (len > (SIZE_MAX / 4) * 3 - 3)
		return NULL;
	text = malloc((len + 2) / 3 * 4 + 1);
	if (text == NULL)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		text[out++] = alphabet[(v >> 18) & 63];
		text[out++] = alphabet[(v >> 12) & 63];
		text[out++] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		text[out++] = i + 2 < len ? alphabet[v & 63] : '=';
	}
	s = json_stringn(text, out);
	free(text);
	return s;
}

static int ce_base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

unsigned char *cloudevent_base64_decode(const char *text, size_t *len)
{
	size_t n = strlen(text), out = 0;
	unsigned char *bytes;
	uint32_t acc = 0;
	int bits = 0;

	while (n > 0 && text[n - 1] == '=' && strlen(text) - n < 2)
		n--;
	if (n % 4 == 1)
		return NULL;
	bytes = malloc(n / 4 * 3 + 3);
	if (bytes == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int v = ce_base64_value((unsigned char)text[i]);

		if (v < 0) {
			free(bytes);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			bytes[out++] = (unsigned char)(acc >> bits);
		}
	}
	bytes[out] = '\0';
	*len = out;
	return bytes;
}

json_t *cloudevent_json_parse(const void *text, size_t len)
{
	json_error_t jerr;
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);

	/*
	 * jansson holds integers as int64 and refuses bigger ones; a double keeps the document
	 * (and the number's magnitude) instead of turning all of it into a string.
	 */
	if (v == NULL && json_error_code(&jerr) == json_error_numeric_overflow)
		v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
	return v;
}

static void ce_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;
	int fd;

	while (got < len) {
		ssize_t n = getrandom(p + got, len - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got == len)
		return;
	/* A kernel without getrandom(2): the same pool, through the device. */
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
}

static void ce_hex(const unsigned char *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

void cloudevent_uuid(char *buf)
{
	unsigned char b[16];
	char hex[33];

	ce_random(b, sizeof(b));
	b[6] = (b[6] & 0x0F) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3F) | 0x80; /* RFC 4122 variant */
	ce_hex(b, sizeof(b), hex);
	snprintf(buf, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

void cloudevent_traceparent(char *buf)
{
	unsigned char b[24];
	char hex[49];

	ce_random(b, sizeof(b));
	b[0] |= 0x01; /* W3C: an all-zero trace id or parent id is invalid */
	b[16] |= 0x01;
	ce_hex(b, sizeof(b), hex);
	snprintf(buf, 56, "00-%.32s-%.16s-01", hex, hex + 32);
}

/* A W3C traceparent as a client may send it: version-traceid-parentid-flags in lower hex. */
static bool ce_traceparent_valid(const char *tp)
{
	static const size_t dash[] = { 2, 35, 52 };

	if (tp == NULL || strlen(tp) != 55)
		return false;
	for (size_t i = 0, d = 0; i < 55; i++) {
		if (d < 3 && i == dash[d]) {
			if (tp[i] != '-')
				return false;
			d++;
		} else if (!isxdigit((unsigned char)tp[i]) || isupper((unsigned char)tp[i])) {
			return false;
		}
	}
	return strncmp(tp, "ff", 2) != 0;
}

/* RFC 3339 in UTC, to the second, as Go's time.RFC3339 writes it. */
static void ce_format_time(int64_t unix_seconds, char *buf, size_t len)
{
	time_t secs = (time_t)unix_seconds;
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int cloudevent_ttl(const struct outrig_metadata *md, int64_t *seconds, char *err, size_t errlen)
{
	const char *text = md != NULL ? outrig_metadata_get(md, "ttlInSeconds") : NULL;
	long long v;
	char *end;

	*seconds = 0;
	if (text == NULL || text[0] == '\0')
		return 0;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (isspace((unsigned char)text[0]) || *end != '\0' || errno != 0) {
		snprintf(
			err, errlen,
			"ttlInSeconds value must be a valid integer: actual is '%s'; give whole seconds, e.g. "
			"metadata.ttlInSeconds=60",
			text);
		return -1;
	}
	if (v <= 0) {
		snprintf(
			err, errlen,
			"ttlInSeconds value must be higher than zero: actual is %lld; leave it out for no expiry",
			v);
		return -1;
	}
	*seconds = (int64_t)v;
	return 1;
}

/* A metadata value, with "" counting as absent (daprd's envelope treats both as unset). */
static const char *ce_meta(const struct cloudevent_input *in, const char *key)
{
	const char *v = in->metadata != NULL ? outrig_metadata_get(in->metadata, key) : NULL;

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static bool ce_missing(const json_t *ev, const char *field)
{
	json_t *v = json_object_get(ev, field);

	return v == NULL || json_is_null(v);
}

static int ce_set_string(json_t *ev, const char *field, const char *value)
{
	return json_object_set_new(ev, field, json_string(value));
}

/* Adds `expiration` unless the broker expires messages itself. */
static int ce_apply_ttl(json_t *ev, const struct cloudevent_input *in, int64_t ttl)
{
	int64_t now = in->now_unix_ms / 1000;
	char when[40];

	if (ttl <= 0 || in->broker_ttl)
		return 0;
	ce_format_time(ttl > CE_LAST_SECOND - now ? CE_LAST_SECOND : now + ttl, when, sizeof(when));
	return ce_set_string(ev, "expiration", when);
}

/* Keeps the sender's fields; adds what daprd adds (§2.2); topic and pubsubname are always ours. */
static json_t *ce_augment(const struct cloudevent_input *in, const char *traceparent, char *err,
			  size_t errlen)
{
	json_t *ev = cloudevent_json_parse(in->data_len > 0 ? in->data : "", in->data_len);
	char when[40];
	int rc = 0;

	if (!json_is_object(ev)) {
		snprintf(err, errlen,
			 "the body is sent as application/cloudevents+json but is not a JSON object; send a "
			 "CloudEvent object, or another Content-Type to have the body wrapped in one");
		json_decref(ev);
		return NULL;
	}
	if (ce_missing(ev, "source"))
		rc |= ce_set_string(ev, "source", CE_DEFAULT_SOURCE);
	if (ce_missing(ev, "type"))
		rc |= ce_set_string(ev, "type", CE_DEFAULT_TYPE);
	if (ce_missing(ev, "specversion"))
		rc |= ce_set_string(ev, "specversion", CE_SPEC_VERSION);
	if (ce_missing(ev, "traceid")) {
		rc |= ce_set_string(ev, "traceid", traceparent);
		if (ce_missing(ev, "traceparent"))
			rc |= ce_set_string(ev, "traceparent", traceparent);
	}
	if (ce_missing(ev, "tracestate"))
		rc |= ce_set_string(ev, "tracestate", in->tracestate != NULL ? in->tracestate : "");
	if (ce_missing(ev, "time")) {
		ce_format_time(in->now_unix_ms / 1000, when, sizeof(when));
		rc |= ce_set_string(ev, "time", when);
	}
	rc |= ce_set_string(ev, "topic", in->topic);
	rc |= ce_set_string(ev, "pubsubname", in->pubsub);
	if (rc != 0) {
		json_decref(ev);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return ev;
}

/* The body in a new envelope; *json_data says data holds the body parsed as JSON. */
static json_t *ce_wrap(const struct cloudevent_input *in, const char *traceparent, bool *json_data, char *err,
		       size_t errlen)
{
	const char *ct = in->content_type != NULL && in->content_type[0] != '\0' ? in->content_type
										 : CE_DEFAULT_CONTENT_TYPE;
	const void *body = in->data_len > 0 ? in->data : "";
	const char *tracestate = ce_meta(in, "cloudevent.tracestate");
	enum cloudevent_kind kind = cloudevent_kind_of(ct);
	json_t *ev = json_object(), *data = NULL;
	char id[40], when[40];
	int rc = 0;

	if (kind == CLOUDEVENT_JSON && (data = cloudevent_json_parse(body, in->data_len)) != NULL)
		*json_data = true;
	else if (kind == CLOUDEVENT_BINARY)
		data = ce_base64(body, in->data_len);
	else
		data = ce_string(body, in->data_len);
	if (ev == NULL || data == NULL) {
		json_decref(ev);
		json_decref(data);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (ce_meta(in, "cloudevent.id") == NULL)
		cloudevent_uuid(id);
	if (tracestate == NULL)
		tracestate = in->tracestate != NULL ? in->tracestate : "";
	ce_format_time(in->now_unix_ms / 1000, when, sizeof(when));
	rc |= ce_set_string(ev, "id",
			    ce_meta(in, "cloudevent.id") != NULL ? ce_meta(in, "cloudevent.id") : id);
	rc |= ce_set_string(ev, "source",
			    ce_meta(in, "cloudevent.source") != NULL	  ? ce_meta(in, "cloudevent.source")
			    : in->app_id != NULL && in->app_id[0] != '\0' ? in->app_id
									  : CE_DEFAULT_SOURCE);
	rc |= ce_set_string(ev, "type",
			    ce_meta(in, "cloudevent.type") != NULL ? ce_meta(in, "cloudevent.type")
								   : CE_DEFAULT_TYPE);
	rc |= ce_set_string(ev, "specversion", CE_SPEC_VERSION);
	rc |= ce_set_string(ev, "datacontenttype", ct);
	rc |= json_object_set_new(ev, kind == CLOUDEVENT_BINARY ? "data_base64" : "data", data);
	rc |= ce_set_string(ev, "topic", in->topic);
	rc |= ce_set_string(ev, "pubsubname", in->pubsub);
	rc |= ce_set_string(ev, "traceid", traceparent);
	rc |= ce_set_string(ev, "traceparent", traceparent);
	rc |= ce_set_string(ev, "tracestate", tracestate);
	rc |= ce_set_string(ev, "time", when);
	if (ce_meta(in, "cloudevent.subject") != NULL)
		rc |= ce_set_string(ev, "subject", ce_meta(in, "cloudevent.subject"));
	if (rc != 0) {
		json_decref(ev);
		snprintf(err, errlen, "out of memory (or a cloudevent.* value that is not UTF-8)");
		return NULL;
	}
	return ev;
}

/*
 * Every text that becomes a string of the envelope is UTF-8: jansson refuses anything else, and
 * that must read as the client's error (400), not as running out of memory.
 */
static bool ce_inputs_utf8(const struct cloudevent_input *in, char *err, size_t errlen)
{
	static const char *const fields[] = { "cloudevent.id",		"cloudevent.source",
					      "cloudevent.type",	"cloudevent.subject",
					      "cloudevent.traceparent", "cloudevent.traceid",
					      "cloudevent.tracestate",	NULL };
	const char *const texts[] = { in->topic, in->pubsub, in->tracestate, in->content_type };
	const char *const names[] = { "the topic", "the pubsub name", "the tracestate header",
				      "the content type" };

	for (size_t i = 0; fields[i] != NULL; i++) {
		const char *v = ce_meta(in, fields[i]);

		if (v != NULL && !cloudevent_utf8_valid(v, strlen(v))) {
			snprintf(err, errlen, "metadata.%s is not valid UTF-8; send UTF-8 text", fields[i]);
			return false;
		}
	}
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (texts[i] != NULL && !cloudevent_utf8_valid(texts[i], strlen(texts[i]))) {
			snprintf(err, errlen, "%s is not valid UTF-8; send UTF-8 text", names[i]);
			return false;
		}
	}
	return true;
}

static json_t *ce_build(const struct cloudevent_input *in, bool *json_data, bool *bad_request, char *err,
			size_t errlen)
{
	char generated[64];
	const char *tp = NULL;
	bool augment = cloudevent_kind_of(in->content_type) == CLOUDEVENT_ENVELOPE;
	int64_t ttl;
	json_t *ev;

	*json_data = false;
	*bad_request = false;
	if (cloudevent_ttl(in->metadata, &ttl, err, errlen) < 0 || !ce_inputs_utf8(in, err, errlen)) {
		*bad_request = true;
		return NULL;
	}
	/* As daprd, the cloudevent.* overrides apply to envelopes it makes, not to one it is given. */
	if (!augment) {
		tp = ce_meta(in, "cloudevent.traceparent");
		if (tp == NULL)
			tp = ce_meta(in, "cloudevent.traceid");
	}
	if (tp == NULL && ce_traceparent_valid(in->traceparent))
		tp = in->traceparent;
	if (tp == NULL) {
		cloudevent_traceparent(generated);
		tp = generated;
	}
	ev = augment ? ce_augment(in, tp, err, errlen) : ce_wrap(in, tp, json_data, err, errlen);
	if (ev != NULL && ce_apply_ttl(ev, in, ttl) != 0) {
		json_decref(ev);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return ev;
}

json_t *cloudevent_build(const struct cloudevent_input *in, bool *bad_request, char *err, size_t errlen)
{
	bool json_data;

	return ce_build(in, &json_data, bad_request, err, errlen);
}

static bool ce_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* text ("{...}") with `"data":<raw>` added before its closing brace. */
static char *ce_splice_data(const char *text, const char *raw, size_t raw_len, size_t *len)
{
	size_t head = strlen(text) - 1; /* without the closing brace */
	static const char field[] = "\"data\":";
	char *out;

	while (raw_len > 0 && ce_json_space(raw[0]))
		raw++, raw_len--;
	while (raw_len > 0 && ce_json_space(raw[raw_len - 1]))
		raw_len--;
	out = malloc(head + 1 + sizeof(field) + raw_len + 2);
	if (out == NULL)
		return NULL;
	memcpy(out, text, head);
	*len = head;
	if (head > 1)
		out[(*len)++] = ',';
	memcpy(out + *len, field, sizeof(field) - 1);
	*len += sizeof(field) - 1;
	memcpy(out + *len, raw, raw_len);
	*len += raw_len;
	out[(*len)++] = '}';
	out[*len] = '\0';
	return out;
}

char *cloudevent_build_text(const struct cloudevent_input *in, size_t *len, bool *bad_request, char *err,
			    size_t errlen)
{
	bool json_data;
	json_t *ev = ce_build(in, &json_data, bad_request, err, errlen);
	char *text, *spliced;

	if (ev == NULL)
		return NULL;
	if (json_data)
		json_object_del(ev, "data");
	text = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!json_data) {
		*len = strlen(text);
		return text;
	}
	spliced = ce_splice_data(text, in->data, in->data_len, len);
	free(text);
	if (spliced == NULL)
		snprintf(err, errlen, "out of memory");
	return spliced;
}

json_t *cloudevent_wrap_raw(const char *pubsub, const char *topic, const void *data, size_t len)
{
	json_t *ev = json_object();
	json_t *b64 = ce_base64(len > 0 ? data : "", len);
	char id[40];
	int rc = 0;

	if (ev == NULL || b64 == NULL) {
		json_decref(ev);
		json_decref(b64);
		return NULL;
	}
	cloudevent_uuid(id);
	rc |= ce_set_string(ev, "id", id);
	rc |= ce_set_string(ev, "specversion", CE_SPEC_VERSION);
	rc |= ce_set_string(ev, "datacontenttype", "application/octet-stream");
	rc |= ce_set_string(ev, "source", CE_DEFAULT_SOURCE);
	rc |= ce_set_string(ev, "type", CE_DEFAULT_TYPE);
	/* A broker's topic need not be UTF-8 (Kafka's): U+FFFD as Go writes it, not a message that fails forever. */
	rc |= json_object_set_new(ev, "topic", ce_string(topic, strlen(topic)));
	rc |= ce_set_string(ev, "pubsubname", pubsub);
	rc |= json_object_set_new(ev, "data_base64", b64);
	if (rc != 0) {
		json_decref(ev);
		return NULL;
	}
	return ev;
}

/* Parses RFC 3339 ("2024-05-01T10:00:00Z", "...T10:00:00.5+02:00") into ms since the epoch. */
static bool ce_parse_time(const char *s, int64_t *unix_ms)
{
	struct tm tm = { 0 };
	int n = 0, ms = 0, sign, oh, om;
	int64_t secs;

	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || n != 10 ||
	    (s[10] != 'T' && s[10] != 't'))
		return false;
	s += 11;
	if (sscanf(s, "%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 3 || n != 8)
		return false;
	s += 8;
	if (*s == '.') {
		int scale = 100;

		if (!isdigit((unsigned char)s[1]))
			return false;
		for (s++; isdigit((unsigned char)*s); s++, scale /= 10)
			ms += (*s - '0') * scale;
	}
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	secs = (int64_t)timegm(&tm);
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		if (sscanf(s + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || oh > 23 || om > 59)
			return false;
		secs -= sign * (oh * 3600 + om * 60);
		s += 6;
	} else {
		return false;
	}
	if (*s != '\0')
		return false;
	*unix_ms = secs * 1000 + ms;
	return true;
}

bool cloudevent_expired(const json_t *event, int64_t now_unix_ms)
{
	const char *expiration = json_string_value(json_object_get(event, "expiration"));
	int64_t when;

	return expiration != NULL && ce_parse_time(expiration, &when) && when <= now_unix_ms;
}
