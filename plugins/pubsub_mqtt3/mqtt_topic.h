/* SPDX-License-Identifier: Apache-2.0 */
/* MQTT topic names and filters: checking them, and matching a filter (+, #, $share/) against a topic. */
#ifndef OUTRIG_MQTT_TOPIC_H
#define OUTRIG_MQTT_TOPIC_H

#include <stdbool.h>

/* True when topic may be published to: not empty, no wildcard, no NUL. */
bool mq_topic_valid(const char *topic);

/*
 * True when filter may be subscribed to: '+' and '#' only as whole levels, '#' only last,
 * and a $share/<group>/ prefix followed by a valid filter.
 */
bool mq_filter_valid(const char *filter);

/* The filter without its $share/<group>/ prefix: what the broker matches topics against. */
const char *mq_filter_unshared(const char *filter);

/*
 * True when a message published to topic goes to a subscription of filter (its $share/
 * prefix ignored). As MQTT says, a filter starting with a wildcard does not match a topic
 * starting with '$'. Thread: any.
 */
bool mq_filter_matches(const char *filter, const char *topic);

#endif /* OUTRIG_MQTT_TOPIC_H */
