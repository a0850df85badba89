/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's pub/sub topic scoping: which topics this app may publish and subscribe to on one component. */
#ifndef OUTRIG_CORE_PUBSUB_SCOPES_H
#define OUTRIG_CORE_PUBSUB_SCOPES_H

#include <stdbool.h>
#include <stddef.h>

#include "base/diag.h"
#include "resources/resources.h"

/* The metadata keys the runtime reads (API.md §2.1, Dapr's "Scope Pub/sub topic access"). */
#define PUBSUB_SCOPES_PUBLISHING "publishingScopes"
#define PUBSUB_SCOPES_SUBSCRIPTION "subscriptionScopes"
#define PUBSUB_SCOPES_ALLOWED "allowedTopics"
#define PUBSUB_SCOPES_PROTECTED "protectedTopics"

struct pubsub_topic_list {
	char **items;
	size_t count;
};

/*
 * One component's scoping as it applies to this app only: the scope lists of other apps are
 * checked for shape and then dropped. All empty (zeroed) means no scoping at all.
 */
struct pubsub_scopes {
	bool publish_scoped; /* publishingScopes names this app: only publish may be used */
	struct pubsub_topic_list publish;
	bool subscribe_scoped; /* subscriptionScopes names this app */
	struct pubsub_topic_list subscribe;
	struct pubsub_topic_list allowed;	   /* allowedTopics; empty: every topic */
	struct pubsub_topic_list protected_topics; /* protectedTopics: only apps granted them in a scope */
};

enum pubsub_scope_op {
	PUBSUB_SCOPE_PUBLISH,
	PUBSUB_SCOPE_SUBSCRIBE,
};

/* Whether name is one of the four keys above (case-insensitive, as the config map matches keys). */
bool pubsub_scopes_is_key(const char *name);

/*
 * Reads one key's value into s for app_id, as daprd does: spaces are removed; scopes are
 * "app=topic,topic;app=;..." (an app listed more than once gets the union; "app=" grants
 * nothing), topic lists are "topic,topic". An entry with no '=', more than one, or no app
 * name is malformed: returns -1 with the reason in err and leaves s as it was. key must be
 * one of the four; value NULL or "" sets nothing. Returns 0, or -1 (also on ENOMEM).
 * Ownership: s copies what it keeps; free with pubsub_scopes_free(). Thread: any.
 */
int pubsub_scopes_set(struct pubsub_scopes *s, const char *key, const char *value, const char *app_id,
		      char *err, size_t errlen);

/*
 * Reads the four keys from a pub/sub component's spec.metadata into s (zeroed first). A
 * malformed value is an error in d, with file:line:column and the component's name, because
 * dropping a bad entry would grant what it was written to deny. Returns the number of errors.
 */
size_t pubsub_scopes_read(struct pubsub_scopes *s, const struct res_component *rc, const char *app_id,
			  struct diag *d);

/*
 * Whether this app may use topic for op, in daprd's order: not in a non-empty allowedTopics
 * is refused; a protected topic needs the app's scope to list it; otherwise an app with a
 * scope for op may use only the topics listed there, and one without may use any. When
 * refused and why is not NULL, why says which key refuses it (for logs).
 */
bool pubsub_scopes_allowed(const struct pubsub_scopes *s, enum pubsub_scope_op op, const char *topic,
			   const char *app_id, char *why, size_t whylen);

void pubsub_scopes_free(struct pubsub_scopes *s);

#endif /* OUTRIG_CORE_PUBSUB_SCOPES_H */
