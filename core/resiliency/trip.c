/* SPDX-License-Identifier: Apache-2.0 */
/* The CEL subset of circuit breaker trips: compiled to postfix, evaluated per request (see trip.h). */
#include "config.h"

#include "resiliency/trip.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum trip_code {
	TRIP_VAR,
	TRIP_INT,
	TRIP_NOT,
	TRIP_NEG,
	TRIP_AND,
	TRIP_OR,
	TRIP_EQ,
	TRIP_NE,
	TRIP_LT,
	TRIP_LE,
	TRIP_GT,
	TRIP_GE,
};

enum trip_type { TYPE_BOOL, TYPE_INT };

static const char *const trip_vars[] = { "requests", "totalSuccesses", "totalFailures",
					 "consecutiveSuccesses", "consecutiveFailures" };

struct trip_parser {
	const char *text;
	const char *p;
	struct trip *t;
	char *err;
	size_t errlen;
	bool failed;
};

static bool trip_fail(struct trip_parser *tp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool trip_fail(struct trip_parser *tp, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	if (tp->failed)
		return false;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(tp->err, tp->errlen, "column %zu: %s", (size_t)(tp->p - tp->text) + 1, what);
	tp->failed = true;
	return false;
}

static void trip_skip(struct trip_parser *tp)
{
	while (isspace((unsigned char)*tp->p))
		tp->p++;
}

static bool trip_emit(struct trip_parser *tp, enum trip_code code, int64_t value)
{
	if (tp->t->nops >= TRIP_MAX_OPS)
		return trip_fail(tp,
				 "the expression is too long (more than %d terms and operators); simplify it",
				 TRIP_MAX_OPS);
	tp->t->ops[tp->t->nops++] = (struct trip_op){ (uint8_t)code, value };
	return true;
}

static bool trip_eat(struct trip_parser *tp, const char *tok)
{
	size_t n = strlen(tok);

	trip_skip(tp);
	if (strncmp(tp->p, tok, n) != 0)
		return false;
	/* "=" alone is not "==", and "<" must not eat the start of "<=". */
	if ((strcmp(tok, "<") == 0 || strcmp(tok, ">") == 0 || strcmp(tok, "!") == 0) && tp->p[1] == '=')
		return false;
	tp->p += n;
	return true;
}

static bool trip_or(struct trip_parser *tp, enum trip_type *type);

static const char *trip_type_name(enum trip_type t)
{
	return t == TYPE_BOOL ? "a true/false value" : "a number";
}

static bool trip_want(struct trip_parser *tp, enum trip_type got, enum trip_type want, const char *where)
{
	if (got == want)
		return true;
	return trip_fail(tp, "%s needs %s, found %s", where, trip_type_name(want), trip_type_name(got));
}

static bool trip_primary(struct trip_parser *tp, enum trip_type *type)
{
	trip_skip(tp);
	if (trip_eat(tp, "(")) {
		if (!trip_or(tp, type))
			return false;
		if (!trip_eat(tp, ")"))
			return trip_fail(tp, "expected \")\"");
		return true;
	}
	if (isdigit((unsigned char)*tp->p)) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(tp->p, &end, 10);
		if (errno != 0)
			return trip_fail(tp, "the number is too large");
		tp->p = end;
		if (*tp->p == 'u' || *tp->p == 'U') /* CEL's unsigned literal, 5u */
			tp->p++;
		if (isalnum((unsigned char)*tp->p) || *tp->p == '_' || *tp->p == '.')
			return trip_fail(tp, "expected a whole number");
		*type = TYPE_INT;
		return trip_emit(tp, TRIP_INT, v);
	}
	if (isalpha((unsigned char)*tp->p) || *tp->p == '_') {
		const char *start = tp->p;
		size_t n;

		while (isalnum((unsigned char)*tp->p) || *tp->p == '_')
			tp->p++;
		n = (size_t)(tp->p - start);
		if (n == 4 && strncmp(start, "true", 4) == 0) {
			*type = TYPE_BOOL;
			return trip_emit(tp, TRIP_INT, 1);
		}
		if (n == 5 && strncmp(start, "false", 5) == 0) {
			*type = TYPE_BOOL;
			return trip_emit(tp, TRIP_INT, 0);
		}
		for (size_t i = 0; i < sizeof(trip_vars) / sizeof(trip_vars[0]); i++) {
			if (strlen(trip_vars[i]) == n && strncmp(start, trip_vars[i], n) == 0) {
				*type = TYPE_INT;
				return trip_emit(tp, TRIP_VAR, (int64_t)i);
			}
		}
		tp->p = start;
		return trip_fail(
			tp,
			"unknown name \"%.*s\"; a trip may use requests, totalSuccesses, totalFailures, "
			"consecutiveSuccesses and consecutiveFailures",
			(int)(n > 40 ? 40 : n), start);
	}
	if (*tp->p == '\0')
		return trip_fail(tp, "the expression ends too early");
	return trip_fail(tp, "unexpected \"%c\"", *tp->p);
}

static bool trip_unary(struct trip_parser *tp, enum trip_type *type)
{
	if (trip_eat(tp, "!")) {
		if (!trip_unary(tp, type) || !trip_want(tp, *type, TYPE_BOOL, "\"!\""))
			return false;
		return trip_emit(tp, TRIP_NOT, 0);
	}
	if (trip_eat(tp, "-")) {
		if (!trip_unary(tp, type) || !trip_want(tp, *type, TYPE_INT, "\"-\""))
			return false;
		return trip_emit(tp, TRIP_NEG, 0);
	}
	return trip_primary(tp, type);
}

static bool trip_rel(struct trip_parser *tp, enum trip_type *type)
{
	static const struct {
		const char *tok;
		enum trip_code code;
	} ops[] = { { "==", TRIP_EQ }, { "!=", TRIP_NE }, { "<=", TRIP_LE },
		    { ">=", TRIP_GE }, { "<", TRIP_LT },  { ">", TRIP_GT } };
	enum trip_type right;

	if (!trip_unary(tp, type))
		return false;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!trip_eat(tp, ops[i].tok))
			continue;
		if (!trip_unary(tp, &right))
			return false;
		if (i >= 2 && (!trip_want(tp, *type, TYPE_INT, ops[i].tok) ||
			       !trip_want(tp, right, TYPE_INT, ops[i].tok)))
			return false;
		if (*type != right)
			return trip_fail(tp, "%s compares a number with a true/false value", ops[i].tok);
		*type = TYPE_BOOL;
		return trip_emit(tp, ops[i].code, 0);
	}
	return true;
}

static bool trip_and(struct trip_parser *tp, enum trip_type *type)
{
	enum trip_type right;

	if (!trip_rel(tp, type))
		return false;
	while (trip_eat(tp, "&&")) {
		if (!trip_want(tp, *type, TYPE_BOOL, "\"&&\"") || !trip_rel(tp, &right) ||
		    !trip_want(tp, right, TYPE_BOOL, "\"&&\"") || !trip_emit(tp, TRIP_AND, 0))
			return false;
	}
	return true;
}

static bool trip_or(struct trip_parser *tp, enum trip_type *type)
{
	enum trip_type right;

	if (!trip_and(tp, type))
		return false;
	while (trip_eat(tp, "||")) {
		if (!trip_want(tp, *type, TYPE_BOOL, "\"||\"") || !trip_and(tp, &right) ||
		    !trip_want(tp, right, TYPE_BOOL, "\"||\"") || !trip_emit(tp, TRIP_OR, 0))
			return false;
	}
	return true;
}

bool trip_compile(const char *text, struct trip *t, char *err, size_t errlen)
{
	struct trip_parser tp = { text, text, t, err, errlen, false };
	enum trip_type type = TYPE_BOOL;

	memset(t, 0, sizeof(*t));
	if (!trip_or(&tp, &type))
		return false;
	trip_skip(&tp);
	if (*tp.p != '\0')
		return trip_fail(&tp, "unexpected \"%c\" after a complete expression", *tp.p);
	if (type != TYPE_BOOL) {
		tp.p = text;
		return trip_fail(&tp, "the expression is a number, not a condition; compare it, e.g. "
				      "\"consecutiveFailures > 5\"");
	}
	return true;
}

bool trip_eval(const struct trip *t, const struct breaker_counts *c)
{
	int64_t stack[TRIP_MAX_OPS];
	const uint64_t vars[] = { c->requests, c->total_successes, c->total_failures,
				  c->consecutive_successes, c->consecutive_failures };
	size_t sp = 0;

	for (size_t i = 0; i < t->nops; i++) {
		const struct trip_op *op = &t->ops[i];
		int64_t a, b;

		switch ((enum trip_code)op->code) {
		case TRIP_VAR:
			stack[sp++] = vars[op->value] > INT64_MAX ? INT64_MAX : (int64_t)vars[op->value];
			continue;
		case TRIP_INT: stack[sp++] = op->value; continue;
		case TRIP_NOT: stack[sp - 1] = !stack[sp - 1]; continue;
		case TRIP_NEG: stack[sp - 1] = -stack[sp - 1]; continue;
		default: break;
		}
		b = stack[--sp];
		a = stack[sp - 1];
		switch ((enum trip_code)op->code) {
		case TRIP_AND: a = a && b; break;
		case TRIP_OR: a = a || b; break;
		case TRIP_EQ: a = a == b; break;
		case TRIP_NE: a = a != b; break;
		case TRIP_LT: a = a < b; break;
		case TRIP_LE: a = a <= b; break;
		case TRIP_GT: a = a > b; break;
		case TRIP_GE: a = a >= b; break;
		default: a = 0; break;
		}
		stack[sp - 1] = a;
	}
	return sp == 1 && stack[0] != 0;
}
