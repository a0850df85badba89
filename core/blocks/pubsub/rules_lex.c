/* SPDX-License-Identifier: Apache-2.0 */
/* Routing rules: the lexer, which turns `match` text into tokens and decodes CEL's literals. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "blocks/pubsub/rules_internal.h"

static bool rule_is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool rule_is_ident_char(char c)
{
	return rule_is_ident_start(c) || (c >= '0' && c <= '9');
}

/* Appends code point cp as UTF-8; false if it is not a Unicode scalar value. */
static bool rule_put_utf8(char *out, size_t *n, uint32_t cp)
{
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return false;
	if (cp < 0x80) {
		out[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*n)++] = (char)(0xC0 | (cp >> 6));
		out[(*n)++] = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		out[(*n)++] = (char)(0xE0 | (cp >> 12));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[(*n)++] = (char)(0x80 | (cp & 0x3F));
	} else {
		out[(*n)++] = (char)(0xF0 | (cp >> 18));
		out[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
		out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[(*n)++] = (char)(0x80 | (cp & 0x3F));
	}
	return true;
}

/* Decodes one escape after the backslash at s[*i]; advances *i past it. */
static bool rule_lex_escape(struct rule_parser *p, const char *s, size_t *i, char *out, size_t *n)
{
	size_t at = *i;
	char c = s[at + 1];
	uint32_t cp = 0;
	int digits = 0;

	switch (c) {
	case 'a': out[(*n)++] = '\a'; break;
	case 'b': out[(*n)++] = '\b'; break;
	case 'f': out[(*n)++] = '\f'; break;
	case 'n': out[(*n)++] = '\n'; break;
	case 'r': out[(*n)++] = '\r'; break;
	case 't': out[(*n)++] = '\t'; break;
	case 'v': out[(*n)++] = '\v'; break;
	case '\\':
	case '\'':
	case '"':
	case '`':
	case '?': out[(*n)++] = c; break;
	case 'x':
	case 'X': digits = 2; break;
	case 'u': digits = 4; break;
	case 'U': digits = 8; break;
	default:
		if (c >= '0' && c <= '3') {
			for (int k = 1; k <= 3; k++) {
				char o = s[at + k];

				if (o < '0' || o > '7') {
					rule_fail(p, false, at, "octal escape needs three digits");
					return false;
				}
				cp = cp * 8 + (uint32_t)(o - '0');
			}
			/* Octal and hex escapes name code points in CEL strings, not bytes. */
			rule_put_utf8(out, n, cp);
			*i = at + 4;
			return true;
		}
		rule_fail(p, false, at, "unknown escape \"\\%c\"", c != '\0' ? c : ' ');
		return false;
	}
	if (digits == 0) {
		*i = at + 2;
		return true;
	}
	for (int k = 0; k < digits; k++) {
		int v = hex_digit(s[at + 2 + (size_t)k]);

		if (v < 0) {
			rule_fail(p, false, at, "\\%c needs %d hex digits", c, digits);
			return false;
		}
		cp = cp * 16 + (uint32_t)v;
	}
	if (!rule_put_utf8(out, n, cp)) {
		rule_fail(p, false, at, "\\%c%.*s is not a Unicode character", c, digits, s + at + 2);
		return false;
	}
	*i = at + 2 + (size_t)digits;
	return true;
}

static bool rule_lex_string(struct rule_parser *p, size_t start, struct rule_tok *t)
{
	const char *s = p->text;
	char quote = s[start];
	size_t i = start + 1, n = 0;
	char *out;

	if (s[i] == quote && s[i + 1] == quote) {
		rule_fail(p, true, start, "triple-quoted string");
		return false;
	}
	/* Decoded text is never longer than the source. */
	out = malloc(strlen(s + start) + 1);
	if (out == NULL) {
		rule_fail(p, false, start, "out of memory");
		return false;
	}
	for (;;) {
		char c = s[i];

		if (c == '\0' || c == '\n' || c == '\r') {
			free(out);
			rule_fail(p, false, start, "unterminated string");
			return false;
		}
		if (c == quote)
			break;
		if (c == '\\') {
			if (!rule_lex_escape(p, s, &i, out, &n)) {
				free(out);
				return false;
			}
			continue;
		}
		out[n++] = c;
		i++;
	}
	out[n] = '\0';
	t->str = out;
	t->len = n;
	t->end = i + 1;
	t->kind = TOK_STRING;
	return true;
}

static bool rule_lex_number(struct rule_parser *p, size_t start, struct rule_tok *t)
{
	const char *s = p->text;
	size_t i = start;
	bool real = false;
	char *end;

	if (s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		unsigned long long v;

		errno = 0;
		v = strtoull(s + i + 2, &end, 16);
		if (end == s + i + 2 || errno != 0 || v > INT64_MAX) {
			rule_fail(p, false, start, "bad or too large hex integer");
			return false;
		}
		t->i = (int64_t)v;
		i = (size_t)(end - s);
	} else {
		while (s[i] >= '0' && s[i] <= '9')
			i++;
		if (s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9') {
			real = true;
			i++;
			while (s[i] >= '0' && s[i] <= '9')
				i++;
		}
		if (s[i] == 'e' || s[i] == 'E') {
			size_t e = i + 1;

			if (s[e] == '+' || s[e] == '-')
				e++;
			if (s[e] >= '0' && s[e] <= '9') {
				real = true;
				i = e;
				while (s[i] >= '0' && s[i] <= '9')
					i++;
			}
		}
		errno = 0;
		if (real) {
			t->d = strtod(s + start, &end);
		} else {
			long long v = strtoll(s + start, &end, 10);

			t->i = (int64_t)v;
		}
		if (errno != 0 || end != s + i) {
			rule_fail(p, false, start, "number out of range");
			return false;
		}
	}
	/* CEL's unsigned suffix: the value is the same number for our comparisons. */
	if (!real && (s[i] == 'u' || s[i] == 'U'))
		i++;
	if (rule_is_ident_char(s[i]) || s[i] == '.') {
		rule_fail(p, false, start, "malformed number");
		return false;
	}
	t->kind = real ? TOK_REAL : TOK_INT;
	t->end = i;
	return true;
}

/* Reads the token at or after offset at into t; false (after failing p) on a lexical error. */
static bool rule_lex(struct rule_parser *p, size_t at, struct rule_tok *t)
{
	static const struct {
		const char *text;
		enum rule_tok_kind kind;
	} ops[] = {
		{ "==", TOK_EQ },      { "!=", TOK_NE },    { "<=", TOK_LE },	 { ">=", TOK_GE },
		{ "&&", TOK_AND },     { "||", TOK_OR },    { "<", TOK_LT },	 { ">", TOK_GT },
		{ "!", TOK_NOT },      { "(", TOK_LPAREN }, { ")", TOK_RPAREN }, { "[", TOK_LBRACKET },
		{ "]", TOK_RBRACKET }, { "{", TOK_LBRACE }, { ".", TOK_DOT },	 { "?", TOK_QUESTION },
		{ "+", TOK_ARITH },    { "-", TOK_ARITH },  { "*", TOK_ARITH },	 { "/", TOK_ARITH },
		{ "%", TOK_ARITH },
	};
	const char *s = p->text;
	size_t i = at;

	memset(t, 0, sizeof(*t));
	while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
		i++;
	t->start = t->end = i;
	if (s[i] == '\0') {
		t->kind = TOK_END;
		return true;
	}
	if (s[i] == '"' || s[i] == '\'')
		return rule_lex_string(p, i, t);
	if ((s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && s[i + 1] >= '0' && s[i + 1] <= '9'))
		return rule_lex_number(p, i, t);
	if (rule_is_ident_start(s[i])) {
		size_t j = i;

		while (rule_is_ident_char(s[j]))
			j++;
		if (j == i + 1 && (s[j] == '"' || s[j] == '\'') && strchr("rRbB", s[i]) != NULL) {
			rule_fail(p, true, i, "%s string", s[i] == 'r' || s[i] == 'R' ? "raw" : "bytes");
			return false;
		}
		t->kind = TOK_IDENT;
		t->end = j;
		return true;
	}
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		size_t n = strlen(ops[k].text);

		if (strncmp(s + i, ops[k].text, n) == 0) {
			t->kind = ops[k].kind;
			t->end = i + n;
			return true;
		}
	}
	t->kind = TOK_OTHER;
	/* One whole UTF-8 character, so messages quote it intact. */
	t->end = i + 1;
	while ((s[t->end] & 0xC0) == 0x80)
		t->end++;
	return true;
}

void rule_advance(struct rule_parser *p)
{
	free(p->tok.str);
	p->tok.str = NULL;
	if (p->failed || !rule_lex(p, p->next, &p->tok)) {
		p->tok.kind = TOK_END;
		return;
	}
	p->next = p->tok.end;
}

enum rule_tok_kind rule_peek(struct rule_parser *p, size_t *start)
{
	struct rule_tok t;
	struct rule_parser probe = *p;

	/* A lexical error there is reported when the parser gets to it. */
	probe.failed = false;
	probe.err = NULL;
	if (!rule_lex(&probe, p->next, &t))
		return TOK_OTHER;
	free(t.str);
	if (start != NULL)
		*start = t.start;
	return t.kind;
}

bool rule_tok_is(const struct rule_parser *p, const char *ident)
{
	size_t n = strlen(ident);

	return p->tok.kind == TOK_IDENT && p->tok.end - p->tok.start == n &&
	       strncmp(p->text + p->tok.start, ident, n) == 0;
}
