/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's pub/sub topic scoping: which topics this app may publish and subscribe to on one component. */
#include "config.h"

#include "blocks/pubsub/pubsub_scopes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const scopes_keys[] = {
	PUBSUB_SCOPES_PUBLISHING,
	PUBSUB_SCOPES_SUBSCRIPTION,
	PUBSUB_SCOPES_ALLOWED,
	PUBSUB_SCOPES_PROTECTED,
	NULL,
};

bool pubsub_scopes_is_key(const char *name)
{
	for (int i = 0; scopes_keys[i] != NULL; i++)
		if (strcasecmp(scopes_keys[i], name) == 0)
			return true;
	return false;
}

static bool scopes_list_has(const struct pubsub_topic_list *l, const char *topic)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i], topic) == 0)
			return true;
	return false;
}

static void scopes_list_free(struct pubsub_topic_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

/* Adds the topics of "a,b,c" (len bytes of text) not already in l; empty names are skipped. */
static int scopes_list_add(struct pubsub_topic_list *l, const char *text, size_t len)
{
	const char *end = text + len;

	while (text < end) {
		const char *comma = memchr(text, ',', (size_t)(end - text));
		size_t n = (size_t)((comma != NULL ? comma : end) - text);
		char *topic, **grown;

		if (n > 0) {
			if ((topic = strndup(text, n)) == NULL)
				return -1;
			if (scopes_list_has(l, topic)) {
				free(topic);
			} else if ((grown = realloc(l->items, (l->count + 1) * sizeof(*grown))) == NULL) {
				free(topic);
				return -1;
			} else {
				l->items = grown;
				l->items[l->count++] = topic;
			}
		}
		text += n + 1;
	}
	return 0;
}

/* daprd removes the spaces of these values before splitting them. */
static char *scopes_strip(const char *value)
{
	char *out = malloc(strlen(value) + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (; *value != '\0'; value++)
		if (!isspace((unsigned char)*value))
			*o++ = *value;
	*o = '\0';
	return out;
}

/* "app=t1,t2;app2=;..." : adds app_id's topics to l and sets *named if it is listed. */
static int scopes_parse_apps(const char *key, const char *text, const char *app_id, bool *named,
			     struct pubsub_topic_list *l, char *err, size_t errlen)
{
	const char *p = text;

	while (*p != '\0') {
		const char *semi = strchr(p, ';');
		size_t n = semi != NULL ? (size_t)(semi - p) : strlen(p);
		const char *eq = memchr(p, '=', n);

		if (n == 0) {
			p++;
			continue;
		}
		if (eq == NULL || eq == p || memchr(eq + 1, '=', n - (size_t)(eq + 1 - p)) != NULL) {
			snprintf(err, errlen,
				 "%s: entry \"%.*s\" %s; write app=topic1,topic2 entries separated by ';' "
				 "(app= lets that app use no topic)",
				 key, (int)n, p,
				 eq == NULL ? "has no '='"
				 : eq == p  ? "has no app id before '='"
					    : "has more than one '='");
			return -1;
		}
		if ((size_t)(eq - p) == strlen(app_id) && strncmp(p, app_id, (size_t)(eq - p)) == 0) {
			*named = true;
			if (scopes_list_add(l, eq + 1, n - (size_t)(eq + 1 - p)) != 0) {
				snprintf(err, errlen, "%s: out of memory", key);
				return -1;
			}
		}
		p += n;
		if (*p == ';')
			p++;
	}
	return 0;
}

int pubsub_scopes_set(struct pubsub_scopes *s, const char *key, const char *value, const char *app_id,
		      char *err, size_t errlen)
{
	struct pubsub_topic_list l = { 0 };
	bool named = false;
	char *text;
	int rc = 0;

	if (value == NULL || value[0] == '\0')
		return 0;
	if ((text = scopes_strip(value)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", key);
		return -1;
	}
	if (strcasecmp(key, PUBSUB_SCOPES_PUBLISHING) == 0 ||
	    strcasecmp(key, PUBSUB_SCOPES_SUBSCRIPTION) == 0) {
		bool pub = strcasecmp(key, PUBSUB_SCOPES_PUBLISHING) == 0;

		rc = scopes_parse_apps(pub ? PUBSUB_SCOPES_PUBLISHING : PUBSUB_SCOPES_SUBSCRIPTION, text,
				       app_id != NULL ? app_id : "", &named, &l, err, errlen);
		if (rc == 0) {
			scopes_list_free(pub ? &s->publish : &s->subscribe);
			*(pub ? &s->publish : &s->subscribe) = l;
			*(pub ? &s->publish_scoped : &s->subscribe_scoped) = named;
			memset(&l, 0, sizeof(l));
		}
	} else if (strcasecmp(key, PUBSUB_SCOPES_ALLOWED) == 0 ||
		   strcasecmp(key, PUBSUB_SCOPES_PROTECTED) == 0) {
		struct pubsub_topic_list *dst =
			strcasecmp(key, PUBSUB_SCOPES_ALLOWED) == 0 ? &s->allowed : &s->protected_topics;

		rc = scopes_list_add(&l, text, strlen(text));
		if (rc == 0 && l.count == 0 && dst == &s->allowed && text[0] != '\0') {
			/* daprd would then refuse every topic; most likely a slip, so say so. */
			snprintf(err, errlen,
				 "%s: \"%s\" names no topic; list topics separated by ',' or leave the key "
				 "out to allow every topic",
				 PUBSUB_SCOPES_ALLOWED, text);
			rc = -1;
		} else if (rc == 0) {
			scopes_list_free(dst);
			*dst = l;
			memset(&l, 0, sizeof(l));
		} else {
			snprintf(err, errlen, "%s: out of memory", key);
		}
	} else {
		snprintf(err, errlen, "%s is not a topic scoping key", key);
		rc = -1;
	}
	scopes_list_free(&l);
	free(text);
	return rc;
}

size_t pubsub_scopes_read(struct pubsub_scopes *s, const struct res_component *rc, const char *app_id,
			  struct diag *d)
{
	size_t errors = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < rc->metadata_count; i++) {
		const struct res_metadata *m = &rc->metadata[i];
		char err[512];

		/* A secretKeyRef (value NULL) is already an error of the config map. */
		if (!pubsub_scopes_is_key(m->name) || m->value == NULL)
			continue;
		if (pubsub_scopes_set(s, m->name, m->value, app_id, err, sizeof(err)) != 0) {
			diag_error(d, "%s:%d:%d: component %s: spec.metadata %s", rc->file, m->pos.line,
				   m->pos.column, rc->name, err);
			errors++;
		}
	}
	return errors;
}

bool pubsub_scopes_allowed(const struct pubsub_scopes *s, enum pubsub_scope_op op, const char *topic,
			   const char *app_id, char *why, size_t whylen)
{
	const char *key = op == PUBSUB_SCOPE_PUBLISH ? PUBSUB_SCOPES_PUBLISHING : PUBSUB_SCOPES_SUBSCRIPTION;
	bool scoped = op == PUBSUB_SCOPE_PUBLISH ? s->publish_scoped : s->subscribe_scoped;
	const struct pubsub_topic_list *mine = op == PUBSUB_SCOPE_PUBLISH ? &s->publish : &s->subscribe;

	if (s->allowed.count > 0 && !scopes_list_has(&s->allowed, topic)) {
		if (why != NULL)
			snprintf(why, whylen, "topic %s is not in the component's allowedTopics", topic);
		return false;
	}
	if (scopes_list_has(mine, topic))
		return true;
	if (scopes_list_has(&s->protected_topics, topic)) {
		if (why != NULL)
			snprintf(why, whylen,
				 "topic %s is in the component's protectedTopics and its %s does not grant "
				 "it to app id %s",
				 topic, key, app_id);
		return false;
	}
	if (!scoped)
		return true;
	if (why != NULL)
		snprintf(why, whylen, "the component's %s does not grant topic %s to app id %s", key, topic,
			 app_id);
	return false;
}

void pubsub_scopes_free(struct pubsub_scopes *s)
{
	scopes_list_free(&s->publish);
	scopes_list_free(&s->subscribe);
	scopes_list_free(&s->allowed);
	scopes_list_free(&s->protected_topics);
	memset(s, 0, sizeof(*s));
}
