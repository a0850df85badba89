/* SPDX-License-Identifier: Apache-2.0 */
/* MQTT topic names and filters: checking them, and matching a filter (+, #, $share/) against a topic. */
#include <string.h>

#include "mqtt_topic.h"

#define MQ_SHARE_PREFIX "$share/"

bool mq_topic_valid(const char *topic)
{
	return topic != NULL && *topic != '\0' && strpbrk(topic, "+#") == NULL;
}

const char *mq_filter_unshared(const char *filter)
{
	const char *slash;

	if (strncmp(filter, MQ_SHARE_PREFIX, strlen(MQ_SHARE_PREFIX)) != 0)
		return filter;
	slash = strchr(filter + strlen(MQ_SHARE_PREFIX), '/');
	return slash != NULL ? slash + 1 : filter + strlen(filter);
}

bool mq_filter_valid(const char *filter)
{
	const char *f;

	if (filter == NULL || *filter == '\0')
		return false;
	if (strncmp(filter, MQ_SHARE_PREFIX, strlen(MQ_SHARE_PREFIX)) == 0) {
		const char *group = filter + strlen(MQ_SHARE_PREFIX);
		const char *slash = strchr(group, '/');

		/* The group is one non-empty level without wildcards. */
		if (slash == NULL || slash == group || strcspn(group, "+#") < (size_t)(slash - group))
			return false;
	}
	f = mq_filter_unshared(filter);
	if (*f == '\0')
		return false;
	for (const char *level = f;; level++) {
		size_t len = strcspn(level, "/");
		const char *wild = strpbrk(level, "+#");

		if (wild != NULL && wild < level + len && len != 1)
			return false; /* a wildcard shares its level with other characters */
		if (len == 1 && *level == '#' && level[1] != '\0')
			return false; /* '#' is not the last level */
		level += len;
		if (*level == '\0')
			return true;
	}
}

bool mq_filter_matches(const char *filter, const char *topic)
{
	const char *f = mq_filter_unshared(filter), *t = topic;

	if (*t == '$' && (*f == '+' || *f == '#'))
		return false;
	for (;;) {
		size_t flen = strcspn(f, "/"), tlen = strcspn(t, "/");

		if (flen == 1 && *f == '#')
			return true; /* also matches the parent level: "a/#" matches "a" */
		if (!(flen == 1 && *f == '+') && (flen != tlen || strncmp(f, t, flen) != 0))
			return false;
		f += flen;
		t += tlen;
		if (*f == '\0' || *t == '\0')
			return (*f == '\0' && *t == '\0') || strcmp(f, "/#") == 0;
		f++;
		t++;
	}
}
