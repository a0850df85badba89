/* SPDX-License-Identifier: Apache-2.0 */
/* Receiving: paho's thread spools each message, the receiver's own thread hands the rows to the core. */
#ifndef OUTRIG_MQTT_RECEIVE_H
#define OUTRIG_MQTT_RECEIVE_H

#include <stdbool.h>
#include <stddef.h>

#include <outrig/plugin.h>

struct mq_receiver;
struct mq_sub;

/*
 * Opens the spool at spool_path and starts the threads that deliver spooled rows and delete
 * settled ones.
 * Returns 0 or an OUTRIG_E* code with err set.
 * Ownership: *out is the caller's, freed with mq_receiver_free(). Thread: create().
 */
int mq_receiver_new(const struct outrig_host *host, struct outrig_handle *self, const char *spool_path,
		    struct mq_receiver **out, struct outrig_error *err);

/*
 * Joins the delivery thread, deletes the rows settled so far, stops the settler and closes the
 * spool. The core must have stopped (it does before destroy()), so that a delivery waiting for
 * room returns, and every done callback must have run.
 * Thread: destroy(), after the MQTT client stopped.
 */
void mq_receiver_free(struct mq_receiver *r);

/*
 * A message from the broker: spooled for every subscription whose filter matches topic (or
 * for none yet), and the delivery thread woken. Never waits for the core or the app: paho's
 * one receive thread also completes publishes. Ownership: the arguments stay the caller's.
 * Thread: paho's.
 */
void mq_receiver_arrived(void *receiver, const char *topic, const void *data, size_t len, bool retained);

/*
 * Registers a subscription that spools but does not deliver yet, so nothing arriving while
 * the broker is asked for it is lost. NULL when out of memory.
 * Ownership: the receiver's, until mq_receiver_free(). Thread: a worker.
 */
struct mq_sub *mq_receiver_add(struct mq_receiver *r, const char *filter, struct outrig_pubsub_sink *sink);

/* The broker refused the subscription: it receives nothing more. Thread: a worker. */
void mq_receiver_drop(struct mq_receiver *r, struct mq_sub *sub);

/*
 * Starts delivering, on the delivery thread: first what the spool holds for sub (rows of an
 * earlier run, messages that came before any subscription matched), oldest first, then each new
 * message as it arrives. Does not wait for the replay. Thread: a worker.
 */
int mq_receiver_start(struct mq_receiver *r, struct mq_sub *sub, struct outrig_error *err);

#endif /* OUTRIG_MQTT_RECEIVE_H */
