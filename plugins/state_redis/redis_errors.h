/* SPDX-License-Identifier: Apache-2.0 */
/* Turning hiredis failures and Redis error replies into outrig statuses and messages an operator can act on. */
#ifndef OUTRIG_STATE_REDIS_ERRORS_H
#define OUTRIG_STATE_REDIS_ERRORS_H

#include <stdbool.h>

#include <hiredis.h>

#include <outrig/status.h>

#include "redis_options.h"

/*
 * A command on c failed without a reply: a timeout (ETIMEDOUT, naming readTimeout or
 * writeTimeout), a dropped connection (EUNAVAIL), or something odder. saved_errno is errno
 * right after the hiredis call. doing is a gerund for the message ("saving key \"k\""); writes
 * says the command changes data, so that the message warns it may have been applied.
 * Returns the status; err names the server. Ownership: none kept. Thread: any.
 */
int rds_io_error(const struct rds_options *o, const redisContext *c, int saved_errno, const char *doing,
		 bool writes, struct outrig_error *err);

/*
 * Turns a Redis error reply into a status and a message that names the server and what was
 * being done, with advice for the errors an operator can fix (LOADING, READONLY, OOM, NOAUTH).
 * Ownership: none kept. Thread: any.
 */
int rds_reply_error(const struct rds_options *o, const redisReply *reply, const char *doing,
		    struct outrig_error *err);

/* True when an error or status reply starts with prefix ("NOSCRIPT"). Thread: any. */
bool rds_reply_is(const redisReply *reply, const char *prefix);

#endif /* OUTRIG_STATE_REDIS_ERRORS_H */
