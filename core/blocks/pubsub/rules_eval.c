/* SPDX-License-Identifier: Apache-2.0 */
/* Routing rules: evaluating a parsed rule over a CloudEvent, with CEL's errors and short-circuits. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "blocks/pubsub/rules_internal.h"

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
