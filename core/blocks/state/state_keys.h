/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's keyPrefix rules: how a state key the app names becomes the key a store holds. */
#ifndef OUTRIG_CORE_STATE_KEYS_H
#define OUTRIG_CORE_STATE_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#define STATE_KEY_SEPARATOR "||"

struct key_prefix {
	char *prefix; /* "" when keys are stored as given (keyPrefix none, or no app id) */
};

/*
 * Resolves a keyPrefix setting (NULL = default "appid"; matched case-insensitively:
 * appid, name, namespace, none, or any literal) for a store. Returns 0, or -1 with a
 * message in err when the prefix itself contains "||".
 */
int key_prefix_init(struct key_prefix *kp, const char *setting, const char *app_id, const char *store_name,
		    char *err, size_t errlen);

void key_prefix_free(struct key_prefix *kp);

/* True when an app's key may be used: not empty and without "||". */
bool state_key_valid(const char *key);

/* The stored form of key ("prefix||key"). malloc'd; NULL on ENOMEM. */
char *state_key_make(const struct key_prefix *kp, const char *key);

/* The app's form of a stored key: everything after the first "||", if any. */
const char *state_key_strip(const char *stored);

/*
 * Copies text (a store's message) into out with every "prefix||" removed, so that users read
 * their keys as they named them, not as the store holds them. Always NUL-terminates out.
 */
void state_key_unprefix_text(const struct key_prefix *kp, const char *text, char *out, size_t size);

#endif /* OUTRIG_CORE_STATE_KEYS_H */
