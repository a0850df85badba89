/* SPDX-License-Identifier: Apache-2.0 */
/* The one MQTT connection of a component (paho's MQTTAsync): connecting, reconnecting, publish and subscribe. */
#ifndef OUTRIG_MQTT_CLIENT_H
#define OUTRIG_MQTT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <outrig/plugin.h>

#include "mqtt_options.h"

struct mq_client;

/* Where received messages go; called on paho's thread, and it must return once the message is safe. */
typedef void mq_arrived_fn(void *ctx, const char *topic, const void *data, size_t len, bool retained);

/*
 * Connects, retrying until init_timeout_ms has passed, then keeps the connection up
 * (reconnecting every 1 to 5 s, subscribing again when the broker kept no session).
 * Messages may arrive as soon as the broker accepts the connection. Returns 0, or
 * OUTRIG_EUNAVAIL / OUTRIG_EINVAL with the URL and the cause in err.
 * Ownership: o and host must outlive the client; *out is the caller's, freed with
 * mq_client_stop(). Thread: create().
 */
int mq_client_start(const struct mq_options *o, const struct outrig_host *host, struct outrig_handle *self,
		    int64_t init_timeout_ms, mq_arrived_fn *arrived, void *arrived_ctx,
		    struct mq_client **out, struct outrig_error *err);

/*
 * Publishes and waits for the broker's acknowledgement (PUBACK, PUBCOMP; for QoS 0 the
 * write), up to a few seconds. OUTRIG_EUNAVAIL at once when disconnected, OUTRIG_ETIMEDOUT
 * when no answer came. Thread: a worker.
 */
int mq_client_publish(struct mq_client *c, const char *topic, const void *data, size_t len, bool retain,
		      struct outrig_error *err);

/*
 * Subscribes with the component's QoS and waits for the SUBACK. While disconnected the
 * filter is remembered and subscribed on reconnection (0 is returned). OUTRIG_EINVAL when
 * the broker refused it, OUTRIG_ETIMEDOUT when no answer came. Thread: a worker.
 */
int mq_client_subscribe(struct mq_client *c, const char *filter, struct outrig_error *err);

/* Disconnects (waiting a bounded time) and frees the client; no callback runs afterwards. Thread: destroy(). */
void mq_client_stop(struct mq_client *c);

#endif /* OUTRIG_MQTT_CLIENT_H */
