/* SPDX-License-Identifier: Apache-2.0 */
/* How state.postgresql turns bytes into Dapr's jsonb/isbinary columns and back, and reads etags. */
#include <stdlib.h>
#include <string.h>

#include "pg_values.h"

/*
 * Deeper nesting is stored as binary. PostgreSQL's recursive JSON parser stops at its
 * stack limit (max_stack_depth), past 5000 levels with the default; a server set lower
 * refuses the value itself, and it is then sent as binary.
 */
#define PGV_MAX_DEPTH 5000
/* numeric's limits: digits before and after the point, and the exponent it parses. */
#define PGV_MAX_INT_DIGITS 131072
#define PGV_MAX_FRAC_DIGITS 16383
#define PGV_MAX_EXPONENT 1073741822L

static const char pgv_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const unsigned char *pgv_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int pgv_hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads the four hex digits of a \u escape at p; -1 if they are not there. */
static long pgv_u4(const unsigned char *p, const unsigned char *end)
{
	long v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = pgv_hex(p[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* Length of the valid UTF-8 sequence at p (2 to 4 bytes), or 0; the server refuses anything else. */
static size_t pgv_utf8(const unsigned char *p, const unsigned char *end)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	/* No overlong forms, no UTF-16 surrogates, nothing above U+10FFFF. */
	if (*p == 0xe0)
		lo = 0xa0;
	else if (*p == 0xed)
		hi = 0x9f;
	else if (*p == 0xf0)
		lo = 0x90;
	else if (*p == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* A JSON string starting at *pp (on its quote); moves *pp past it. */
static bool pgv_string(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp + 1;

	while (p < end) {
		unsigned char c = *p;

		if (c == '"') {
			*pp = p + 1;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			long u;

			if (++p == end)
				return false;
			if (strchr("\"\\/bfnrt", *p) != NULL && *p != '\0') {
				p++;
				continue;
			}
			if (*p != 'u' || (u = pgv_u4(p + 1, end)) < 0)
				return false;
			p += 5;
			/* jsonb cannot hold U+0000 in text; a surrogate must come as a valid pair. */
			if (u == 0 || (u >= 0xdc00 && u <= 0xdfff))
				return false;
			if (u >= 0xd800 && u <= 0xdbff) {
				long lo;

				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    (lo = pgv_u4(p + 2, end)) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return false;
				p += 6;
			}
		} else if (c < 0x80) {
			p++;
		} else {
			size_t n = pgv_utf8(p, end);

			if (n == 0)
				return false;
			p += n;
		}
	}
	return false;
}

/* A JSON number at *pp that numeric can hold; moves *pp past it. */
static bool pgv_number(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	long int_digits = 0, frac_digits = 0, frac_zeros = 0, exponent = 0;
	bool nonzero = false;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
	} else if (p < end && *p >= '1' && *p <= '9') {
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			int_digits++;
		nonzero = true;
	} else {
		return false;
	}
	if (p < end && *p == '.') {
		if (++p == end || *p < '0' || *p > '9')
			return false;
		for (; p < end && *p >= '0' && *p <= '9'; p++) {
			/* Zeros right after the point lower where the first digit sits. */
			if (!nonzero && *p == '0')
				frac_zeros++;
			nonzero = nonzero || *p != '0';
			frac_digits++;
		}
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		bool negative = false;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			negative = *p++ == '-';
		if (p == end || *p < '0' || *p > '9')
			return false;
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			/* Saturate: anything past the limit is refused below anyway. */
			if (exponent <= PGV_MAX_EXPONENT)
				exponent = exponent * 10 + (*p - '0');
		if (negative)
			exponent = -exponent;
	}
	*pp = p;
	if (exponent > PGV_MAX_EXPONENT || exponent < -PGV_MAX_EXPONENT)
		return false;
	if (nonzero && (int_digits > 0 ? int_digits : -frac_zeros) + exponent > PGV_MAX_INT_DIGITS)
		return false;
	return frac_digits - exponent <= PGV_MAX_FRAC_DIGITS;
}

static bool pgv_literal(const unsigned char **pp, const unsigned char *end, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(end - *pp) < n || memcmp(*pp, word, n) != 0)
		return false;
	*pp += n;
	return true;
}

bool pgv_is_jsonb(const void *data, size_t len)
{
	const unsigned char *p = data, *end = p + len;
	char open[PGV_MAX_DEPTH];
	size_t depth = 0;

	if (data == NULL)
		return false;
	p = pgv_ws(p, end);
	/* An iterative parser: its depth is bounded by open[], not by the worker's stack. */
value:
	if (p == end)
		return false;
	switch (*p) {
	case '{':
	case '[':
		if (depth == PGV_MAX_DEPTH)
			return false;
		open[depth++] = (char)*p;
		p = pgv_ws(p + 1, end);
		if (p < end && *p == (open[depth - 1] == '{' ? '}' : ']')) {
			depth--;
			p++;
			goto next;
		}
		if (open[depth - 1] == '{')
			goto key;
		goto value;
	case '"':
		if (!pgv_string(&p, end))
			return false;
		goto next;
	case 't':
		if (!pgv_literal(&p, end, "true"))
			return false;
		goto next;
	case 'f':
		if (!pgv_literal(&p, end, "false"))
			return false;
		goto next;
	case 'n':
		if (!pgv_literal(&p, end, "null"))
			return false;
		goto next;
	default:
		if (!pgv_number(&p, end))
			return false;
		goto next;
	}
key:
	if (p == end || *p != '"' || !pgv_string(&p, end))
		return false;
	p = pgv_ws(p, end);
	if (p == end || *p != ':')
		return false;
	p = pgv_ws(p + 1, end);
	goto value;
next:
	p = pgv_ws(p, end);
	if (depth == 0)
		return p == end;
	if (p == end)
		return false;
	if (*p == ',') {
		p = pgv_ws(p + 1, end);
		if (open[depth - 1] == '{')
			goto key;
		goto value;
	}
	if (*p != (open[depth - 1] == '{' ? '}' : ']'))
		return false;
	depth--;
	p++;
	goto next;
}

char *pgv_binary_json(const void *data, size_t len)
{
	const unsigned char *in = data;
	size_t groups = len / 3 + (len % 3 != 0);
	char *out, *o;

	if (groups > (SIZE_MAX - 3) / 4)
		return NULL;
	out = malloc(groups * 4 + 3);
	if (out == NULL)
		return NULL;
	o = out;
	*o++ = '"';
	for (size_t i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		*o++ = pgv_b64[(v >> 18) & 63];
		*o++ = pgv_b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? pgv_b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? pgv_b64[v & 63] : '=';
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

static int pgv_b64_value(unsigned char c)
{
	const char *at = c != '\0' ? strchr(pgv_b64, c) : NULL;

	return at != NULL ? (int)(at - pgv_b64) : -1;
}

/* Undoes the JSON escapes of a string that can only hold base64 (so ASCII) into text. */
static bool pgv_unescape(const char *json, size_t len, char *text, size_t *text_len)
{
	const unsigned char *p = (const unsigned char *)json, *end = p + len;
	size_t n = 0;

	p = pgv_ws(p, end);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (end - p < 2 || *p != '"' || end[-1] != '"')
		return false;
	for (p++, end--; p < end; p++) {
		if (*p != '\\') {
			text[n++] = (char)*p;
			continue;
		}
		if (++p == end)
			return false;
		if (*p == 'u') {
			long u = pgv_u4(p + 1, end);

			if (u <= 0 || u > 0x7f)
				return false;
			text[n++] = (char)u;
			p += 4;
		} else if (*p == '/' || *p == '\\' || *p == '"') {
			text[n++] = (char)*p;
		} else {
			return false;
		}
	}
	*text_len = n;
	return true;
}

bool pgv_binary_decode(const char *json, size_t json_len, unsigned char **out, size_t *out_len)
{
	char *text = malloc(json_len + 1);
	unsigned char *bytes = NULL;
	size_t text_len = 0, n = 0, pad = 0;
	unsigned long acc = 0;
	int bits = 0;

	*out = NULL;
	*out_len = 0;
	if (text == NULL || !pgv_unescape(json, json_len, text, &text_len))
		goto fail;
	/* Go's StdEncoding pads; accept unpadded text too, it is unambiguous. */
	while (text_len > 0 && text[text_len - 1] == '=' && pad < 2) {
		text_len--;
		pad++;
	}
	if (text_len % 4 == 1 || (pad > 0 && (text_len + pad) % 4 != 0))
		goto fail;
	bytes = malloc(text_len / 4 * 3 + 3);
	if (bytes == NULL)
		goto fail;
	for (size_t i = 0; i < text_len; i++) {
		int v = pgv_b64_value((unsigned char)text[i]);

		if (v < 0)
			goto fail;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			bytes[n++] = (unsigned char)(acc >> bits);
			acc &= (1ul << bits) - 1;
		}
	}
	free(text);
	*out = bytes;
	*out_len = n;
	return true;
fail:
	free(text);
	free(bytes);
	return false;
}

bool pgv_parse_etag(const char *etag, uint32_t *out)
{
	unsigned long long v = 0;

	if (etag == NULL || *etag == '\0')
		return false;
	for (const char *p = etag; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}
