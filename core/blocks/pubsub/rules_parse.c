/* SPDX-License-Identifier: Apache-2.0 */
/* Routing rules: the recursive-descent parser, and its refusals of the CEL outrig does not do. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks/pubsub/rules_internal.h"

#define RULE_MAX_DEPTH 64
/* Bounds the recursion of evaluation and freeing, which follow the tree. */
#define RULE_MAX_NODES 1000

/* The CloudEvent attributes a rule may name directly (event.data has its own steps). */
static const char *const rule_top_fields[] = {
	"type", "source", "topic", "id", "subject", "specversion", "datacontenttype", "pubsubname", "data",
};

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
