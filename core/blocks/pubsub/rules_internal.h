/* SPDX-License-Identifier: Apache-2.0 */
/* What rules_lex.c, rules_parse.c and rules_eval.c share: tokens, the parse tree and the parser state. */
#ifndef OUTRIG_CORE_RULES_INTERNAL_H
#define OUTRIG_CORE_RULES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blocks/pubsub/rules.h"

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

/*
 * Records the first problem in p->err as "unsupported CEL: ..." (a CEL feature outrig refuses)
 * or "invalid CEL: ..." (not CEL at all), with the column of offset; later calls do nothing.
 */
void rule_fail(struct rule_parser *p, bool unsupported, size_t offset, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The token as written, shortened for messages; buf holds it unless it is a fixed phrase. */
const char *rule_tok_text(const struct rule_parser *p, const struct rule_tok *t, char *buf, size_t size);

/* Moves p->tok to the next token; TOK_END once p has failed. */
void rule_advance(struct rule_parser *p);

/* The kind of the token after the current one (and where it starts), without moving. */
enum rule_tok_kind rule_peek(struct rule_parser *p, size_t *start);

/* Whether the current token is the identifier ident. */
bool rule_tok_is(const struct rule_parser *p, const char *ident);

/* Frees n and everything below it. */
void rule_node_free(struct rule_node *n);

#endif /* OUTRIG_CORE_RULES_INTERNAL_H */
