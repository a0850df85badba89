/* SPDX-License-Identifier: Apache-2.0 */
/* Routing rules of subscriptions: the CEL subset outrig accepts, how refusals read, and freeing a rule. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "blocks/pubsub/rules_internal.h"

/*
 * What is supported, and how it differs from full CEL (cel-go, which daprd uses):
 *
 * - Operands: event.<field> for the CloudEvent fields listed in rule_top_fields (rules_parse.c);
 *   event.data followed by any number of .name, ["name"] or [index] steps; literals "..." and '...'
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

#define RULE_SUPPORTED "outrig supports ==, !=, &&, ||, ! and parentheses over event fields"
#define RULE_HINT "write comparisons such as event.type == \"order\", joined by && and ||"

void rule_fail(struct rule_parser *p, bool unsupported, size_t offset, const char *fmt, ...)
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

const char *rule_tok_text(const struct rule_parser *p, const struct rule_tok *t, char *buf, size_t size)
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

void rule_node_free(struct rule_node *n)
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

void rule_free(struct rule *r)
{
	if (r == NULL)
		return;
	rule_node_free(r->root);
	free(r);
}
