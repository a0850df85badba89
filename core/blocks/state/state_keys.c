/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's keyPrefix rules: how a state key the app names becomes the key a store holds. */
#include "blocks/state/state_keys.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* daprd lower-cases the whole setting, so a literal prefix is stored in lower case too. */
static int state_key_literal(char **prefix, const char *setting)
{
	*prefix = strdup(setting);
	if (*prefix == NULL)
		return -1;
	for (char *p = *prefix; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

int key_prefix_init(struct key_prefix *kp, const char *setting, const char *app_id, const char *store_name,
		    char *err, size_t errlen)
{
	const char *ns = getenv("NAMESPACE");
	char *prefix = NULL;
	int n;

	if (app_id == NULL)
		app_id = "";
	/* Like daprd: unset or empty means appid, and an app without an id prefixes nothing. */
	if (setting == NULL || *setting == '\0' || strcasecmp(setting, "appid") == 0)
		n = asprintf(&prefix, "%s", app_id);
	else if (strcasecmp(setting, "name") == 0)
		n = asprintf(&prefix, "%s", store_name);
	else if (strcasecmp(setting, "namespace") == 0)
		n = ns != NULL && *ns != '\0' && *app_id != '\0' ? asprintf(&prefix, "%s.%s", ns, app_id)
								 : asprintf(&prefix, "%s", app_id);
	else if (strcasecmp(setting, "none") == 0)
		n = asprintf(&prefix, "%s", "");
	else
		n = state_key_literal(&prefix, setting);
	if (n < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (strstr(prefix, STATE_KEY_SEPARATOR) != NULL) {
		snprintf(
			err, errlen,
			"keyPrefix \"%s\" contains \"||\", which separates the prefix from the key; choose a prefix without it",
			prefix);
		free(prefix);
		return -1;
	}
	kp->prefix = prefix;
	return 0;
}

void key_prefix_free(struct key_prefix *kp)
{
	free(kp->prefix);
	kp->prefix = NULL;
}

bool state_key_valid(const char *key)
{
	return key != NULL && *key != '\0' && strstr(key, STATE_KEY_SEPARATOR) == NULL;
}

char *state_key_make(const struct key_prefix *kp, const char *key)
{
	char *out = NULL;

	if (kp->prefix == NULL || kp->prefix[0] == '\0')
		return strdup(key);
	if (asprintf(&out, "%s" STATE_KEY_SEPARATOR "%s", kp->prefix, key) < 0)
		return NULL;
	return out;
}

const char *state_key_strip(const char *stored)
{
	const char *sep = strstr(stored, STATE_KEY_SEPARATOR);

	return sep != NULL ? sep + strlen(STATE_KEY_SEPARATOR) : stored;
}

void state_key_unprefix_text(const struct key_prefix *kp, const char *text, char *out, size_t size)
{
	char needle[256];
	size_t n = 0, nlen;
	const char *hit;

	if (size == 0)
		return;
	if (kp->prefix == NULL || kp->prefix[0] == '\0' ||
	    (size_t)snprintf(needle, sizeof(needle), "%s" STATE_KEY_SEPARATOR, kp->prefix) >=
		    sizeof(needle)) {
		snprintf(out, size, "%s", text);
		return;
	}
	nlen = strlen(needle);
	while (*text != '\0' && n + 1 < size) {
		hit = strstr(text, needle);
		if (hit == NULL)
			hit = text + strlen(text);
		while (text < hit && n + 1 < size)
			out[n++] = *text++;
		if (*text != '\0' && text == hit)
			text += nlen;
	}
	out[n] = '\0';
}
