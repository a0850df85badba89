/* SPDX-License-Identifier: Apache-2.0 */
/* The spool: received messages kept in SQLite until the core settled them, so a crash loses none. */
#ifndef OUTRIG_MQTT_SPOOL_H
#define OUTRIG_MQTT_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <outrig/status.h>

struct mq_spool;

/* One kept message, as mq_spool_each() hands it over; valid during the callback only. */
struct mq_spooled {
	int64_t id;
	const char *topic;
	const void *data;
	size_t len;
	bool retained;
};

/*
 * Opens (or makes) the spool file at path: WAL, synchronous=NORMAL, so a committed row
 * survives the process being killed, not a power loss. Returns 0 or OUTRIG_EINTERNAL.
 * Ownership: *out is the caller's, closed with mq_spool_close(). Thread: any; the caller
 * serialises every call on one spool.
 */
int mq_spool_open(const char *path, struct mq_spool **out, struct outrig_error *err);
void mq_spool_close(struct mq_spool *sp);

/*
 * Keeps one message for the subscription (filter, slot), or for none yet when filter is NULL.
 * slot tells apart subscriptions of one filter (the first is 0). Sets *id.
 */
int mq_spool_add(struct mq_spool *sp, const char *topic, const char *filter, int slot, const void *data,
		 size_t len, bool retained, int64_t *id, struct outrig_error *err);

/* Gives every message kept for no subscription whose topic filter matches to (filter, slot). */
int mq_spool_claim(struct mq_spool *sp, const char *filter, int slot, struct outrig_error *err);

/* Sets *n to how many messages (filter, slot) holds. */
int mq_spool_count(struct mq_spool *sp, const char *filter, int slot, size_t *n, struct outrig_error *err);

/*
 * Calls fn for each message of (filter, slot) with an id above after, oldest first, until fn
 * returns non-zero. Returns 0 or OUTRIG_EINTERNAL.
 */
int mq_spool_each(struct mq_spool *sp, const char *filter, int slot, int64_t after,
		  int (*fn)(void *ctx, const struct mq_spooled *m), void *ctx, struct outrig_error *err);

/* Forgets the messages with these ids, in one transaction. */
int mq_spool_delete(struct mq_spool *sp, const int64_t *ids, size_t n, struct outrig_error *err);

#endif /* OUTRIG_MQTT_SPOOL_H */
