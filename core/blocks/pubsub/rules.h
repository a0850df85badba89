/* SPDX-License-Identifier: Apache-2.0 */
/* Routing rules of subscriptions: the part of CEL people write in `match`, parsed once, evaluated per event. */
#ifndef OUTRIG_CORE_RULES_H
#define OUTRIG_CORE_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct rule;

/*
 * Parses a `match` expression: comparisons (==, !=, <, <=, >, >=) of event.type, event.source,
 * event.topic, event.id, event.subject, event.specversion, event.datacontenttype,
 * event.pubsubname and fields of event.data (event.data.a.b) with string, number, bool and
 * null literals, combined with !, &&, || and parentheses (the full subset is described in
 * rules.c). Anything else is refused: NULL, with err saying what and at which column.
 * Ownership: the caller frees the result with rule_free. Thread: any.
 */
struct rule *rule_parse(const char *text, char *err, size_t errlen);

/*
 * Whether event (the CloudEvent as a JSON object) matches. A field the event lacks
 * compares unequal to every literal (so `!=` is true), as CEL's has()-less access would
 * fail the rule rather than match it. The ordering operators <, <=, >, >= compare two
 * numbers or two texts; any other pair, or a missing field, is an evaluation error. An error
 * never matches, even under ! (`!(event.data.n > 1)` is false when n is absent), so a rule
 * we cannot decide routes nothing rather than everything.
 * Ownership: none. Thread: any (a rule is read-only once parsed).
 */
bool rule_match(const struct rule *r, const json_t *event);

void rule_free(struct rule *r);

#endif /* OUTRIG_CORE_RULES_H */
