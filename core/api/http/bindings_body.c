/* SPDX-License-Identifier: Apache-2.0 */
/* The `data` of an output binding request as the component gets it: the client's JSON text, compacted. */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/http/bindings_body.h"

static size_t bindings_skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* The end of the JSON string starting at s[i] (a quote), just past its closing quote. */
static size_t bindings_skip_string(const char *s, size_t len, size_t i)
{
	for (i++; i < len && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i < len ? i + 1 : len;
}

/* The end of the JSON value starting at s[i]; the text is known to be valid JSON. */
static size_t bindings_skip_value(const char *s, size_t len, size_t i)
{
	int depth = 0;

	if (i < len && s[i] == '"')
		return bindings_skip_string(s, len, i);
	while (i < len) {
		char c = s[i];

		if (c == '"') {
			i = bindings_skip_string(s, len, i);
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
			return i;
		}
		i++;
	}
	return i;
}

static bool bindings_key_is(const char *s, size_t start, size_t end, const char *key)
{
	size_t n = strlen(key);
	json_t *decoded;
	bool same;

	if (memchr(s + start, '\\', end - start) == NULL)
		return end - start == n + 2 && memcmp(s + start + 1, key, n) == 0;
	/* An escaped key ("d\u0061ta"): compare what it means. */
	decoded = json_loadb(s + start, end - start, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	same = json_is_string(decoded) && json_string_length(decoded) == n &&
	       memcmp(json_string_value(decoded), key, n) == 0;
	json_decref(decoded);
	return same;
}

/*
 * Where the value of the top-level member key lies in the JSON object text s (already parsed
 * successfully, so valid); the last one when repeated, as jansson keeps. False when absent.
 */
static bool bindings_member_span(const char *s, size_t len, const char *key, size_t *from, size_t *to)
{
	size_t i = bindings_skip_ws(s, len, 0);
	bool found = false;

	if (i >= len || s[i] != '{')
		return false;
	i++;
	for (;;) {
		size_t kstart, kend, vstart, vend;

		i = bindings_skip_ws(s, len, i);
		if (i >= len || s[i] != '"')
			return found;
		kstart = i;
		kend = bindings_skip_string(s, len, i);
		i = bindings_skip_ws(s, len, kend);
		if (i >= len || s[i] != ':')
			return found;
		vstart = bindings_skip_ws(s, len, i + 1);
		vend = bindings_skip_value(s, len, vstart);
		if (bindings_key_is(s, kstart, kend, key)) {
			*from = vstart;
			*to = vend;
			found = true;
		}
		i = bindings_skip_ws(s, len, vend);
		if (i >= len || s[i] != ',')
			return found;
		i++;
	}
}

int bindings_body_data(const char *body, size_t len, json_t *data, char **out, size_t *out_len)
{
	size_t from = 0, to = 0, n = 0;
	bool in_string = false;
	char *text;

	*out = NULL;
	*out_len = 0;
	if (data == NULL || json_is_null(data))
		return 0;
	if (!bindings_member_span(body, len, "data", &from, &to) || to <= from)
		return -1;
	if ((text = malloc(to - from + 1)) == NULL)
		return -1;
	for (size_t i = from; i < to; i++) {
		char c = body[i];

		if (in_string) {
			text[n++] = c;
			if (c == '\\' && i + 1 < to)
				text[n++] = body[++i];
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
			text[n++] = c;
		} else if (!isspace((unsigned char)c)) {
			text[n++] = c;
		}
	}
	text[n] = '\0';
	*out = text;
	*out_len = n;
	return 0;
}
