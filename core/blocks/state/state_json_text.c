/* SPDX-License-Identifier: Apache-2.0 */
/* Finding a value's own JSON text inside a request body, so a state value is stored as the client wrote it. */
#include "blocks/state/state_json_text.h"

#include <stdlib.h>
#include <string.h>

#include "base/hex.h"

static bool sjt_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

const char *sjt_ws(const char *p, const char *end)
{
	while (p < end && sjt_space(*p))
		p++;
	return p;
}

/* Past the string whose opening quote is at p, or NULL if it does not close before end. */
static const char *sjt_skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

const char *sjt_skip(const char *p, const char *end)
{
	int depth = 0;

	p = sjt_ws(p, end);
	if (p >= end)
		return NULL;
	if (*p != '{' && *p != '[' && *p != '"') {
		/* A number or a literal: up to the next delimiter. */
		while (p < end && !sjt_space(*p) && *p != ',' && *p != ']' && *p != '}')
			p++;
		return p;
	}
	while (p < end) {
		if (*p == '"') {
			p = sjt_skip_string(p, end);
			if (p == NULL)
				return NULL;
			if (depth == 0)
				return p;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

static int sjt_hex(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		int d = hex_digit(p[i]);

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/* Whether the string at p (its opening quote) spells name, escapes decoded. Names are ASCII. */
static bool sjt_key_is(const char *p, const char *end, const char *name)
{
	for (p++; p < end && *p != '"'; p++) {
		int c = (unsigned char)*p;

		if (c == '\\') {
			if (p + 1 >= end)
				return false;
			p++;
			switch (*p) {
			case 'u':
				if (p + 4 >= end || (c = sjt_hex(p + 1)) < 0 || c >= 0x80)
					return false;
				p += 4;
				break;
			case '"':
			case '\\':
			case '/': c = *p; break;
			default: /* \b \f \n \r \t: in no name looked for */ return false;
			}
		}
		if (*name == '\0' || c != (unsigned char)*name++)
			return false;
	}
	return p < end && *name == '\0';
}

const char *sjt_member(const char *obj, const char *end, const char *name, const char **vend)
{
	const char *p = sjt_ws(obj, end), *found = NULL, *v, *ve;

	if (p >= end || *p != '{')
		return NULL;
	p = sjt_ws(p + 1, end);
	while (p < end && *p == '"') {
		const char *key = p;

		p = sjt_skip_string(p, end);
		if (p == NULL)
			return NULL;
		p = sjt_ws(p, end);
		if (p >= end || *p != ':')
			return NULL;
		v = sjt_ws(p + 1, end);
		ve = sjt_skip(v, end);
		if (ve == NULL)
			return NULL;
		/* jansson keeps the last of repeated names; so does this. */
		if (sjt_key_is(key, end, name)) {
			found = v;
			*vend = ve;
		}
		p = sjt_ws(ve, end);
		if (p < end && *p == ',')
			p = sjt_ws(p + 1, end);
	}
	return found;
}

const char *sjt_first(const char *arr, const char *end)
{
	const char *p = sjt_ws(arr, end);

	if (p >= end || *p != '[')
		return NULL;
	p = sjt_ws(p + 1, end);
	return p < end && *p != ']' ? p : NULL;
}

const char *sjt_next(const char *elem, const char *end)
{
	const char *p = sjt_skip(elem, end);

	if (p == NULL)
		return NULL;
	p = sjt_ws(p, end);
	if (p >= end || *p != ',')
		return NULL;
	return sjt_ws(p + 1, end);
}

char *sjt_compact(const char *p, const char *vend, size_t *len)
{
	char *out = malloc((size_t)(vend - p) + 1);
	size_t n = 0;

	if (out == NULL)
		return NULL;
	while (p < vend) {
		if (*p == '"') {
			const char *q = sjt_skip_string(p, vend);

			if (q == NULL)
				q = vend;
			memcpy(out + n, p, (size_t)(q - p));
			n += (size_t)(q - p);
			p = q;
		} else if (sjt_space(*p)) {
			p++;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	*len = n;
	return out;
}
