/* SPDX-License-Identifier: Apache-2.0 */
/* Routing rules of subscriptions: the CEL people write in `match`, parsed once, evaluated per event. */
#include "config.h"

#include "rules.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * What is supported, and how it differs from full CEL (cel-go, which daprd uses):
 *
 * - Operands: event.<field> for the CloudEvent fields listed in rule_top_fields; event.data
 *   followed by any number of .name, ["name"] or [index] steps; literals "..." and '...'
 *   (with CEL's escapes), integers (decimal, 0x hex, optional u suffix, optional leading -),
 *   decimals (1.5, .5, 1e3), true, false, null.
 * - Operators, loosest first: ||, &&, then == != < <= > >= (left-associative), then !.
 *   This is CEL's precedence.
 * - == and !=: values of different types (text vs number, ...) are unequal, as with CEL's
 *   heterogeneous equality; numbers compare by value (1 == 1.0). A field the event lacks makes
 *   == false and != true. CEL would raise an error there, which makes daprd fail the message;
 *   matching nothing (or everything, for !=) is the documented outrig behaviour instead.
 * - < <= > >= compare numbers by value and text byte by byte (CEL's code-point order for
 *   UTF-8). Any other pair, or a missing field, is an error.
 * - Errors (the above, or a field used as a condition that is not true or false) propagate
 *   as in CEL: `false && error` is false, `true || error` is true, anything else with an
 *   error is an error, and an error never matches, even under !.
 *
 * Everything else - function and method calls, macros such as has(), `in`, arithmetic, the
 * ?: operator, list and map literals, raw and bytes strings, identifiers other than event -
 * is refused by rule_parse so that no event is routed by a rule we only half understood.
 */

#define RULE_MAX_DEPTH 64
/* Bounds the recursion of evaluation and freeing, which follow the tree. */
#define RULE_MAX_NODES 1000
#define RULE_SUPPORTED "outrig supports ==, !=, &&, ||, ! and parentheses over event fields"
#define RULE_HINT "write comparisons such as event.type == \"order\", joined by && and ||"

/* The CloudEvent attributes a rule may name directly (event.data has its own steps). */
static const char *const rule_top_fields[] = {
	"type", "source", "topic", "id", "subject", "specversion", "datacontenttype", "pubsubname", "data",
};

enum rule_tok_kind {
	TOK_END,
	TOK_IDENT,
	TOK_STRING,
	TOK_INT,
	TOK_REAL,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_LBRACKET,
	TOK_RBRACKET,
	TOK_LBRACE,
	TOK_DOT,
	TOK_NOT,
	TOK_EQ,
	TOK_NE,
	TOK_LT,
	TOK_LE,
	TOK_GT,
	TOK_GE,
	TOK_AND,
	TOK_OR,
	TOK_ARITH, /* + - * / % */
	TOK_QUESTION,
	TOK_OTHER,
};

struct rule_tok {
	enum rule_tok_kind kind;
	size_t start, end; /* byte offsets into the text */
	char *str;	   /* TOK_STRING's decoded value (owned) */
	size_t len;
	int64_t i;
	double d;
};

enum rule_op {
	OP_OR,
	OP_AND,
	OP_NOT,
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_FIELD,
	OP_STRING,
	OP_INT,
	OP_REAL,
	OP_BOOL,
	OP_NULL,
};

/* What a node is known to be before any event is seen; fields can be anything. */
enum rule_static_type { ST_BOOL, ST_STRING, ST_NUMBER, ST_NULL, ST_DYN };

struct rule_step {
	char *key; /* an object member, or NULL for an array index */
	int64_t index;
};

struct rule_node {
	enum rule_op op;
	enum rule_static_type type;
	size_t col; /* 1-based, for messages */
	struct rule_node *left, *right;
	char *str; /* OP_STRING */
	size_t len;
	int64_t i;		 /* OP_INT */
	double d;		 /* OP_REAL */
	bool b;			 /* OP_BOOL */
	struct rule_step *steps; /* OP_FIELD: steps[0] is the CloudEvent attribute */
	size_t nsteps;
};

struct rule {
	struct rule_node *root;
};

struct rule_parser {
	const char *text;
	struct rule_tok tok; /* the current token */
	size_t next;	     /* where the token after it starts */
	int depth;
	size_t nodes;
	bool failed;
	char *err;
	size_t errlen;
};

/* ---- messages ---- */

static void rule_fail(struct rule_parser *p, bool unsupported, size_t offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void rule_fail(struct rule_parser *p, bool unsupported, size_t offset, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	/* The first problem is the one worth reading; later ones are usually its echoes. */
	if (p->failed)
		return;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (p->err == NULL || p->errlen == 0)
		return;
	if (unsupported)
		snprintf(p->err, p->errlen, "unsupported CEL: %s at column %zu in '%s'; %s", what, offset + 1,
			 p->text, RULE_SUPPORTED);
	else
		snprintf(p->err, p->errlen, "invalid CEL: %s at column %zu in '%s'; %s", what, offset + 1,
			 p->text, RULE_HINT);
}

/* The token as written, shortened for messages. */
static const char *rule_tok_text(const struct rule_parser *p, const struct rule_tok *t, char *buf,
				 size_t size)
{
	size_t n = t->end - t->start;

	if (t->kind == TOK_END)
		return "the end of the expression";
	if (n > 24)
		snprintf(buf, size, "\"%.*s...\"", 24, p->text + t->start);
	else
		snprintf(buf, size, "\"%.*s\"", (int)n, p->text + t->start);
	return buf;
}

/* ---- lexer ---- */

static bool rule_is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool rule_is_ident_char(char c)
{
	return rule_is_ident_start(c) || (c >= '0' && c <= '9');
}

static int rule_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
		int v = rule_hex_value(s[at + 2 + (size_t)k]);

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

static void rule_advance(struct rule_parser *p)
{
	free(p->tok.str);
	p->tok.str = NULL;
	if (p->failed || !rule_lex(p, p->next, &p->tok)) {
		p->tok.kind = TOK_END;
		return;
	}
	p->next = p->tok.end;
}

/* The kind of the token after the current one, without moving. */
static enum rule_tok_kind rule_peek(struct rule_parser *p, size_t *start)
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

static bool rule_tok_is(const struct rule_parser *p, const char *ident)
{
	size_t n = strlen(ident);

	return p->tok.kind == TOK_IDENT && p->tok.end - p->tok.start == n &&
	       strncmp(p->text + p->tok.start, ident, n) == 0;
}

/* ---- tree ---- */

static void rule_node_free(struct rule_node *n)
{
	if (n == NULL)
		return;
	rule_node_free(n->left);
	rule_node_free(n->right);
	free(n->str);
	for (size_t i = 0; i < n->nsteps; i++)
		free(n->steps[i].key);
	free(n->steps);
	free(n);
}

static struct rule_node *rule_node_new(struct rule_parser *p, enum rule_op op, enum rule_static_type type,
				       size_t offset)
{
	struct rule_node *n;

	if (++p->nodes > RULE_MAX_NODES) {
		rule_fail(p, false, offset, "expression longer than %d terms", RULE_MAX_NODES);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL) {
		rule_fail(p, false, offset, "out of memory");
		return NULL;
	}
	n->op = op;
	n->type = type;
	n->col = offset + 1;
	return n;
}

static const char *rule_type_name(enum rule_static_type t)
{
	switch (t) {
	case ST_STRING: return "a text literal";
	case ST_NUMBER: return "a number literal";
	case ST_NULL: return "null";
	default: return "a condition";
	}
}

/* && || ! and the whole expression need something that can be true or false. */
static bool rule_check_condition(struct rule_parser *p, const struct rule_node *n, const char *where)
{
	if (n->type == ST_BOOL || n->type == ST_DYN)
		return true;
	rule_fail(p, false, n->col - 1, "%s is %s, not a condition", where, rule_type_name(n->type));
	return false;
}

/* Refuses the CEL operators we do not implement, when one follows an operand. */
static bool rule_refuse_operator(struct rule_parser *p)
{
	char buf[64];

	if (p->tok.kind == TOK_ARITH)
		rule_fail(p, true, p->tok.start, "arithmetic operator %s",
			  rule_tok_text(p, &p->tok, buf, sizeof(buf)));
	else if (rule_tok_is(p, "in"))
		rule_fail(p, true, p->tok.start, "operator \"in\"");
	else if (p->tok.kind == TOK_QUESTION)
		rule_fail(p, true, p->tok.start, "conditional operator \"?:\"");
	else
		return false;
	return true;
}

/* A token where an operand or an operator should be; "=", "&" and "|" are likely typos. */
static void rule_unexpected(struct rule_parser *p, const char *where)
{
	static const struct {
		const char *text;
		const char *fix;
	} typos[] = { { "=", "==" }, { "&", "&&" }, { "|", "||" } };
	char buf[64];

	if (rule_refuse_operator(p))
		return;
	for (size_t i = 0; i < sizeof(typos) / sizeof(typos[0]); i++) {
		if (p->tok.kind == TOK_OTHER && p->tok.end - p->tok.start == 1 &&
		    p->text[p->tok.start] == typos[i].text[0]) {
			rule_fail(p, false, p->tok.start, "\"%s\" is not an operator (did you mean \"%s\"?)",
				  typos[i].text, typos[i].fix);
			return;
		}
	}
	rule_fail(p, false, p->tok.start, "unexpected %s %s", rule_tok_text(p, &p->tok, buf, sizeof(buf)),
		  where);
}

static struct rule_node *rule_parse_or(struct rule_parser *p);

static bool rule_is_macro(const struct rule_parser *p)
{
	static const char *const macros[] = { "has", "all", "exists", "exists_one", "map", "filter" };

	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
		if (rule_tok_is(p, macros[i]))
			return true;
	}
	return false;
}

/* The current identifier is followed by "(": a call, which we do not do. */
static void rule_refuse_call(struct rule_parser *p)
{
	size_t n = p->tok.end - p->tok.start;

	rule_fail(p, true, p->tok.start, "%s \"%.*s\"", rule_is_macro(p) ? "macro" : "function call", (int)n,
		  p->text + p->tok.start);
}

static bool rule_known_top_field(const char *name)
{
	for (size_t i = 0; i < sizeof(rule_top_fields) / sizeof(rule_top_fields[0]); i++) {
		if (strcmp(name, rule_top_fields[i]) == 0)
			return true;
	}
	return false;
}

static bool rule_add_step(struct rule_parser *p, struct rule_node *n, char *key, int64_t index, size_t offset)
{
	struct rule_step *grown = realloc(n->steps, (n->nsteps + 1) * sizeof(*grown));

	if (grown == NULL) {
		free(key);
		rule_fail(p, false, offset, "out of memory");
		return false;
	}
	n->steps = grown;
	n->steps[n->nsteps].key = key;
	n->steps[n->nsteps].index = index;
	n->nsteps++;
	return true;
}

/* Only event.data has members of its own; the other attributes are plain values. */
static bool rule_check_step_allowed(struct rule_parser *p, const struct rule_node *n, size_t offset)
{
	if (n->nsteps == 0 || strcmp(n->steps[0].key, "data") == 0)
		return true;
	rule_fail(p, true, offset, "selecting inside event.%s (only event.data has fields)", n->steps[0].key);
	return false;
}

/* event[...] or event.data...[...]: a quoted member name, or an array index under event.data. */
static bool rule_parse_index(struct rule_parser *p, struct rule_node *n)
{
	size_t open = p->tok.start;
	char buf[64];

	if (!rule_check_step_allowed(p, n, open))
		return false;
	rule_advance(p);
	if (p->tok.kind == TOK_STRING) {
		if (strlen(p->tok.str) != p->tok.len) {
			rule_fail(p, true, p->tok.start, "a member name containing a NUL character");
			return false;
		}
		char *key = p->tok.str;

		p->tok.str = NULL;
		if (!rule_add_step(p, n, key, 0, open))
			return false;
	} else if (p->tok.kind == TOK_INT && n->nsteps > 0) {
		if (!rule_add_step(p, n, NULL, p->tok.i, open))
			return false;
	} else {
		if (!rule_refuse_operator(p))
			rule_fail(p, p->tok.kind != TOK_END, p->tok.start,
				  "index %s (write a quoted member name%s)",
				  rule_tok_text(p, &p->tok, buf, sizeof(buf)),
				  n->nsteps > 0 ? " or a whole number" : "");
		return false;
	}
	rule_advance(p);
	if (p->tok.kind != TOK_RBRACKET) {
		if (!rule_refuse_operator(p))
			rule_fail(p, false, p->tok.start,
				  "expected \"]\" for the \"[\" at column %zu, found %s", open + 1,
				  rule_tok_text(p, &p->tok, buf, sizeof(buf)));
		return false;
	}
	rule_advance(p);
	return true;
}

/* After "event": the attribute and, under data, the path to a value. */
static struct rule_node *rule_parse_field(struct rule_parser *p)
{
	struct rule_node *n = rule_node_new(p, OP_FIELD, ST_DYN, p->tok.start);
	char buf[64];

	if (n == NULL)
		return NULL;
	rule_advance(p);
	for (;;) {
		if (p->tok.kind == TOK_DOT) {
			size_t dot = p->tok.start;
			char *key;

			rule_advance(p);
			if (p->tok.kind != TOK_IDENT) {
				rule_fail(p, false, p->tok.start,
					  "expected a field name after \".\", found %s",
					  rule_tok_text(p, &p->tok, buf, sizeof(buf)));
				goto fail;
			}
			if (rule_peek(p, NULL) == TOK_LPAREN) {
				rule_refuse_call(p);
				goto fail;
			}
			if (!rule_check_step_allowed(p, n, dot))
				goto fail;
			key = strndup(p->text + p->tok.start, p->tok.end - p->tok.start);
			if (key == NULL) {
				rule_fail(p, false, dot, "out of memory");
				goto fail;
			}
			if (!rule_add_step(p, n, key, 0, dot))
				goto fail;
			rule_advance(p);
		} else if (p->tok.kind == TOK_LBRACKET) {
			if (!rule_parse_index(p, n))
				goto fail;
		} else {
			break;
		}
		if (n->nsteps == 1 && !rule_known_top_field(n->steps[0].key)) {
			rule_fail(
				p, true, n->col - 1,
				"unknown field \"event.%s\" (outrig knows event.type, .source, .topic, .id, "
				".subject, .specversion, .datacontenttype, .pubsubname and .data)",
				n->steps[0].key);
			goto fail;
		}
	}
	if (n->nsteps == 0) {
		rule_fail(p, true, n->col - 1, "the whole event as a value (compare one of its fields)");
		goto fail;
	}
	return n;
fail:
	rule_node_free(n);
	return NULL;
}

static struct rule_node *rule_parse_literal(struct rule_parser *p, bool negative)
{
	struct rule_node *n;
	size_t at = p->tok.start;

	switch (p->tok.kind) {
	case TOK_STRING:
		n = rule_node_new(p, OP_STRING, ST_STRING, at);
		if (n != NULL) {
			n->str = p->tok.str;
			n->len = p->tok.len;
			p->tok.str = NULL;
		}
		break;
	case TOK_INT:
		n = rule_node_new(p, OP_INT, ST_NUMBER, at);
		if (n != NULL)
			n->i = negative ? -p->tok.i : p->tok.i;
		break;
	default:
		n = rule_node_new(p, OP_REAL, ST_NUMBER, at);
		if (n != NULL)
			n->d = negative ? -p->tok.d : p->tok.d;
		break;
	}
	rule_advance(p);
	return n;
}

static struct rule_node *rule_parse_ident(struct rule_parser *p)
{
	struct rule_node *n;
	size_t at = p->tok.start;

	if (rule_tok_is(p, "event"))
		return rule_parse_field(p);
	if (rule_peek(p, NULL) == TOK_LPAREN) {
		rule_refuse_call(p);
		return NULL;
	}
	if (rule_tok_is(p, "true") || rule_tok_is(p, "false")) {
		n = rule_node_new(p, OP_BOOL, ST_BOOL, at);
		if (n != NULL)
			n->b = rule_tok_is(p, "true");
	} else if (rule_tok_is(p, "null")) {
		n = rule_node_new(p, OP_NULL, ST_NULL, at);
	} else {
		rule_fail(p, true, at, "unknown identifier \"%.*s\" (the only variable is event)",
			  (int)(p->tok.end - at), p->text + at);
		return NULL;
	}
	rule_advance(p);
	return n;
}

static struct rule_node *rule_parse_primary(struct rule_parser *p)
{
	struct rule_node *n;
	size_t open = p->tok.start;
	char buf[64];

	switch (p->tok.kind) {
	case TOK_LPAREN:
		if (++p->depth > RULE_MAX_DEPTH) {
			rule_fail(p, false, open, "parentheses nested more than %d deep", RULE_MAX_DEPTH);
			return NULL;
		}
		rule_advance(p);
		n = rule_parse_or(p);
		p->depth--;
		if (n == NULL)
			return NULL;
		if (p->tok.kind != TOK_RPAREN) {
			if (!rule_refuse_operator(p))
				rule_fail(p, false, p->tok.start,
					  "expected \")\" for the \"(\" at column %zu, found %s", open + 1,
					  rule_tok_text(p, &p->tok, buf, sizeof(buf)));
			rule_node_free(n);
			return NULL;
		}
		rule_advance(p);
		return n;
	case TOK_STRING:
	case TOK_INT:
	case TOK_REAL: return rule_parse_literal(p, false);
	case TOK_IDENT: return rule_parse_ident(p);
	case TOK_ARITH:
		/* A minus sign on a number literal is part of the literal, as in CEL. */
		if (p->text[p->tok.start] == '-') {
			enum rule_tok_kind after = rule_peek(p, NULL);

			if (after == TOK_INT || after == TOK_REAL) {
				rule_advance(p);
				return rule_parse_literal(p, true);
			}
		}
		rule_refuse_operator(p);
		return NULL;
	case TOK_LBRACKET: rule_fail(p, true, open, "list literal"); return NULL;
	case TOK_LBRACE: rule_fail(p, true, open, "map literal"); return NULL;
	case TOK_END:
		rule_fail(p, false, open, "expected a value, found the end of the expression");
		return NULL;
	default: rule_unexpected(p, "where a value should be"); return NULL;
	}
}

/* A literal or parenthesised expression followed by .x, .f() or [..]. */
static bool rule_refuse_postfix(struct rule_parser *p, const struct rule_node *n)
{
	if (n->op == OP_FIELD)
		return false;
	if (p->tok.kind == TOK_DOT) {
		size_t name_at;

		if (rule_peek(p, &name_at) == TOK_IDENT) {
			rule_advance(p);
			if (rule_peek(p, NULL) == TOK_LPAREN) {
				rule_refuse_call(p);
				return true;
			}
		}
		rule_fail(p, true, p->tok.start, "field selection on %s", rule_type_name(n->type));
		return true;
	}
	if (p->tok.kind == TOK_LBRACKET) {
		rule_fail(p, true, p->tok.start, "indexing %s", rule_type_name(n->type));
		return true;
	}
	return false;
}

static struct rule_node *rule_parse_unary(struct rule_parser *p)
{
	struct rule_node *n, *operand;
	size_t at = p->tok.start;

	if (p->tok.kind != TOK_NOT) {
		n = rule_parse_primary(p);
		if (n != NULL && rule_refuse_postfix(p, n)) {
			rule_node_free(n);
			return NULL;
		}
		return n;
	}
	if (++p->depth > RULE_MAX_DEPTH) {
		rule_fail(p, false, at, "\"!\" repeated more than %d times", RULE_MAX_DEPTH);
		return NULL;
	}
	rule_advance(p);
	operand = rule_parse_unary(p);
	p->depth--;
	if (operand == NULL)
		return NULL;
	if (!rule_check_condition(p, operand, "the operand of \"!\"")) {
		rule_node_free(operand);
		return NULL;
	}
	n = rule_node_new(p, OP_NOT, ST_BOOL, at);
	if (n == NULL) {
		rule_node_free(operand);
		return NULL;
	}
	n->left = operand;
	return n;
}

static bool rule_relop(enum rule_tok_kind k, enum rule_op *op)
{
	switch (k) {
	case TOK_EQ: *op = OP_EQ; return true;
	case TOK_NE: *op = OP_NE; return true;
	case TOK_LT: *op = OP_LT; return true;
	case TOK_LE: *op = OP_LE; return true;
	case TOK_GT: *op = OP_GT; return true;
	case TOK_GE: *op = OP_GE; return true;
	default: return false;
	}
}

static struct rule_node *rule_binary(struct rule_parser *p, enum rule_op op, enum rule_static_type type,
				     struct rule_node *l, struct rule_node *r)
{
	struct rule_node *n = rule_node_new(p, op, type, l->col - 1);

	if (n == NULL) {
		rule_node_free(l);
		rule_node_free(r);
		return NULL;
	}
	n->left = l;
	n->right = r;
	return n;
}

static struct rule_node *rule_parse_relation(struct rule_parser *p)
{
	struct rule_node *l = rule_parse_unary(p), *r;
	enum rule_op op;

	while (l != NULL) {
		if (rule_refuse_operator(p))
			goto fail;
		if (!rule_relop(p->tok.kind, &op))
			return l;
		rule_advance(p);
		r = rule_parse_unary(p);
		if (r == NULL)
			goto fail;
		l = rule_binary(p, op, ST_BOOL, l, r);
	}
	return NULL;
fail:
	rule_node_free(l);
	return NULL;
}

/* One level of && or ||: operands from next, both of which must be conditions. */
static struct rule_node *rule_parse_logical(struct rule_parser *p, enum rule_tok_kind tok, enum rule_op op,
					    struct rule_node *(*next)(struct rule_parser *))
{
	const char *where = tok == TOK_AND ? "a side of \"&&\"" : "a side of \"||\"";
	struct rule_node *l = next(p), *r;

	while (l != NULL && p->tok.kind == tok) {
		if (!rule_check_condition(p, l, where))
			goto fail;
		rule_advance(p);
		r = next(p);
		if (r == NULL)
			goto fail;
		if (!rule_check_condition(p, r, where)) {
			rule_node_free(r);
			goto fail;
		}
		l = rule_binary(p, op, ST_BOOL, l, r);
	}
	return l;
fail:
	rule_node_free(l);
	return NULL;
}

static struct rule_node *rule_parse_and(struct rule_parser *p)
{
	return rule_parse_logical(p, TOK_AND, OP_AND, rule_parse_relation);
}

static struct rule_node *rule_parse_or(struct rule_parser *p)
{
	return rule_parse_logical(p, TOK_OR, OP_OR, rule_parse_and);
}

struct rule *rule_parse(const char *text, char *err, size_t errlen)
{
	struct rule_parser p = { .text = text, .err = err, .errlen = errlen };
	struct rule_node *root;
	struct rule *r;

	if (err != NULL && errlen > 0)
		*err = '\0';
	rule_advance(&p);
	if (p.tok.kind == TOK_END && !p.failed) {
		rule_fail(&p, false, 0, "empty expression");
		return NULL;
	}
	root = rule_parse_or(&p);
	if (root != NULL && p.tok.kind != TOK_END)
		rule_unexpected(&p, "after a complete expression");
	if (root != NULL)
		rule_check_condition(&p, root, "the expression");
	else
		rule_fail(&p, false, 0, "out of memory"); /* every other failure has said more already */
	free(p.tok.str);
	if (p.failed) {
		rule_node_free(root);
		return NULL;
	}
	r = malloc(sizeof(*r));
	if (r == NULL) {
		rule_node_free(root);
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->root = root;
	return r;
}

void rule_free(struct rule *r)
{
	if (r == NULL)
		return;
	rule_node_free(r->root);
	free(r);
}

/* ---- evaluation ---- */

enum rule_truth { RULE_FALSE, RULE_TRUE, RULE_ERROR };

enum rule_val_kind { VAL_MISSING, VAL_NULL, VAL_BOOL, VAL_INT, VAL_REAL, VAL_STRING, VAL_COMPOUND };

struct rule_val {
	enum rule_val_kind kind;
	bool b;
	int64_t i;
	double d;
	const char *s;
	size_t len;
	const json_t *json; /* VAL_COMPOUND: an object or array */
};

static const json_t *rule_lookup(const struct rule_node *n, const json_t *event)
{
	const json_t *v = event;

	for (size_t i = 0; i < n->nsteps && v != NULL; i++) {
		const struct rule_step *st = &n->steps[i];

		if (st->key != NULL)
			v = json_is_object(v) ? json_object_get(v, st->key) : NULL;
		else if (json_is_array(v) && st->index >= 0 && (size_t)st->index < json_array_size(v))
			v = json_array_get(v, (size_t)st->index);
		else
			v = NULL;
	}
	return v;
}

static struct rule_val rule_json_val(const json_t *j)
{
	struct rule_val v = { .kind = VAL_MISSING };

	switch (j != NULL ? json_typeof(j) : JSON_NULL) {
	case JSON_NULL: v.kind = j != NULL ? VAL_NULL : VAL_MISSING; break;
	case JSON_TRUE:
	case JSON_FALSE:
		v.kind = VAL_BOOL;
		v.b = json_is_true(j);
		break;
	case JSON_INTEGER:
		v.kind = VAL_INT;
		v.i = (int64_t)json_integer_value(j);
		break;
	case JSON_REAL:
		v.kind = VAL_REAL;
		v.d = json_real_value(j);
		break;
	case JSON_STRING:
		v.kind = VAL_STRING;
		v.s = json_string_value(j);
		v.len = json_string_length(j);
		break;
	default:
		v.kind = VAL_COMPOUND;
		v.json = j;
		break;
	}
	return v;
}

static enum rule_truth rule_eval(const struct rule_node *n, const json_t *event);

static struct rule_val rule_value(const struct rule_node *n, const json_t *event)
{
	struct rule_val v = { .kind = VAL_MISSING };

	switch (n->op) {
	case OP_FIELD: return rule_json_val(rule_lookup(n, event));
	case OP_STRING:
		v.kind = VAL_STRING;
		v.s = n->str;
		v.len = n->len;
		return v;
	case OP_INT:
		v.kind = VAL_INT;
		v.i = n->i;
		return v;
	case OP_REAL:
		v.kind = VAL_REAL;
		v.d = n->d;
		return v;
	case OP_NULL: v.kind = VAL_NULL; return v;
	default: {
		/* A condition used as a value: (a == b) == true. An error has no value. */
		enum rule_truth t = rule_eval(n, event);

		if (t != RULE_ERROR) {
			v.kind = VAL_BOOL;
			v.b = t == RULE_TRUE;
		}
		return v;
	}
	}
}

static bool rule_is_number(const struct rule_val *v)
{
	return v->kind == VAL_INT || v->kind == VAL_REAL;
}

static double rule_as_double(const struct rule_val *v)
{
	return v->kind == VAL_INT ? (double)v->i : v->d;
}

/* -1, 0 or 1 for numbers or texts; false when the two cannot be ordered. */
static bool rule_compare(const struct rule_val *a, const struct rule_val *b, int *cmp)
{
	if (a->kind == VAL_INT && b->kind == VAL_INT) {
		*cmp = (a->i > b->i) - (a->i < b->i);
		return true;
	}
	if (rule_is_number(a) && rule_is_number(b)) {
		double x = rule_as_double(a), y = rule_as_double(b);

		if (x != x || y != y)
			return false;
		*cmp = (x > y) - (x < y);
		return true;
	}
	if (a->kind == VAL_STRING && b->kind == VAL_STRING) {
		size_t n = a->len < b->len ? a->len : b->len;
		int c = memcmp(a->s, b->s, n);

		*cmp = c != 0 ? (c > 0) - (c < 0) : (a->len > b->len) - (a->len < b->len);
		return true;
	}
	return false;
}

static bool rule_equal(const struct rule_val *a, const struct rule_val *b)
{
	int cmp;

	if (a->kind == VAL_MISSING || b->kind == VAL_MISSING)
		return false;
	if (rule_compare(a, b, &cmp))
		return cmp == 0;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case VAL_NULL: return true;
	case VAL_BOOL: return a->b == b->b;
	case VAL_COMPOUND: return json_equal((json_t *)a->json, (json_t *)b->json);
	default: return false; /* NaN */
	}
}

static enum rule_truth rule_truth_of(bool b)
{
	return b ? RULE_TRUE : RULE_FALSE;
}

static enum rule_truth rule_eval(const struct rule_node *n, const json_t *event)
{
	enum rule_truth l, r;
	struct rule_val a, b;
	int cmp;

	switch (n->op) {
	case OP_OR:
	case OP_AND: {
		/* CEL's commutative short-circuit: a decisive side wins over an error. */
		enum rule_truth decisive = n->op == OP_OR ? RULE_TRUE : RULE_FALSE;

		l = rule_eval(n->left, event);
		if (l == decisive)
			return l;
		r = rule_eval(n->right, event);
		if (r == decisive)
			return r;
		return l == RULE_ERROR || r == RULE_ERROR ? RULE_ERROR : l;
	}
	case OP_NOT:
		l = rule_eval(n->left, event);
		return l == RULE_ERROR ? l : rule_truth_of(l == RULE_FALSE);
	case OP_EQ:
	case OP_NE:
		a = rule_value(n->left, event);
		b = rule_value(n->right, event);
		return rule_truth_of(rule_equal(&a, &b) == (n->op == OP_EQ));
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
		a = rule_value(n->left, event);
		b = rule_value(n->right, event);
		if (!rule_compare(&a, &b, &cmp))
			return RULE_ERROR;
		if (n->op == OP_LT)
			return rule_truth_of(cmp < 0);
		if (n->op == OP_LE)
			return rule_truth_of(cmp <= 0);
		if (n->op == OP_GT)
			return rule_truth_of(cmp > 0);
		return rule_truth_of(cmp >= 0);
	case OP_BOOL: return rule_truth_of(n->b);
	case OP_FIELD: a = rule_value(n, event); return a.kind == VAL_BOOL ? rule_truth_of(a.b) : RULE_ERROR;
	default: return RULE_ERROR;
	}
}

bool rule_match(const struct rule *r, const json_t *event)
{
	return r != NULL && event != NULL && rule_eval(r->root, event) == RULE_TRUE;
}
