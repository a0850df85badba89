/* SPDX-License-Identifier: Apache-2.0 */
/* Turning hiredis failures and Redis error replies into outrig statuses and messages an operator can act on. */
#include <errno.h>
#include <string.h>

#include "redis_errors.h"

bool rds_reply_is(const redisReply *r, const char *prefix)
{
	size_t n = strlen(prefix);

	return r->str != NULL && r->len >= n && strncmp(r->str, prefix, n) == 0;
}

/*
 * A failed command on c: a timeout, a dropped connection, or something odder. Once the command
 * left our buffer it may have run, so a write says so rather than pretending it did not.
 */
int rds_io_error(const struct rds_options *o, const redisContext *c, int saved_errno, const char *doing,
		 bool writes, struct outrig_error *err)
{
	/* An unsent command never ran: Redis executes only complete commands. */
	bool unsent = c->obuf != NULL && c->obuf[0] != '\0';
	const char *maybe =
		writes && !unsent ? " (the write may have been applied: read the key to find out)" : "";
	/* hiredis 0.14 reports an expired socket timeout as an I/O error with EAGAIN; 1.x has its own code. */
	bool timed_out = c->err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK);
	char limit[32];

#ifdef REDIS_ERR_TIMEOUT
	timed_out = timed_out || c->err == REDIS_ERR_TIMEOUT;
#endif
	if (timed_out && unsent)
		return outrig_err(
			err, OUTRIG_ETIMEDOUT,
			"Redis at %s did not take the command within %s (writeTimeout) while %s; check "
			"the network, or raise writeTimeout",
			o->where, rds_duration_text(o->write_timeout_ms, limit, sizeof(limit)), doing);
	if (timed_out)
		return outrig_err(
			err, OUTRIG_ETIMEDOUT,
			"no answer from Redis at %s within %s (readTimeout) while %s; the server may be "
			"overloaded or blocked (see its SLOWLOG), or raise readTimeout%s",
			o->where, rds_duration_text(o->read_timeout_ms, limit, sizeof(limit)), doing, maybe);
	switch (c->err) {
	case REDIS_ERR_IO:
		return outrig_err(err, OUTRIG_EUNAVAIL, "Redis at %s: %s while %s; is the server running?%s",
				  o->where, c->errstr, doing, maybe);
	case REDIS_ERR_EOF:
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "Redis at %s closed the connection while %s; is it restarting, or did it "
				  "drop the client (see its log)?%s",
				  o->where, doing, maybe);
	case REDIS_ERR_OOM:
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory while %s on Redis at %s%s", doing,
				  o->where, maybe);
	}
	return outrig_err(
		err, OUTRIG_EINTERNAL,
		"unexpected answer from Redis at %s while %s: %s%s; is redisHost really a Redis server?",
		o->where, doing, c->errstr, maybe);
}

int rds_reply_error(const struct rds_options *o, const redisReply *r, const char *doing,
		    struct outrig_error *err)
{
	const char *what = r->str != NULL ? r->str : "(no message)";

	if (rds_reply_is(r, "LOADING"))
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "Redis at %s is still loading its data set while %s; try again in a moment",
				  o->where, doing);
	if (rds_reply_is(r, "READONLY"))
		return outrig_err(
			err, OUTRIG_EUNAVAIL,
			"Redis at %s is a read-only replica (%s) while %s; point redisHost at the master",
			o->where, what, doing);
	if (rds_reply_is(r, "OOM"))
		return outrig_err(
			err, OUTRIG_EUNAVAIL,
			"Redis at %s is out of memory while %s (%s); free memory or raise its maxmemory",
			o->where, doing, what);
	if (rds_reply_is(r, "NOAUTH") || rds_reply_is(r, "WRONGPASS"))
		return outrig_err(
			err, OUTRIG_EUNAVAIL,
			"Redis at %s refused us while %s (%s); check redisPassword and redisUsername",
			o->where, doing, what);
	if (rds_reply_is(r, "NOPERM"))
		return outrig_err(
			err, OUTRIG_EUNAVAIL,
			"the Redis user may not do this at %s while %s (%s); grant it the hash, keyspace "
			"and scripting commands in its ACL",
			o->where, doing, what);
	if (rds_reply_is(r, "MISCONF") || rds_reply_is(r, "BUSY") || rds_reply_is(r, "MASTERDOWN"))
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "Redis at %s cannot serve us while %s (%s); see the server's log", o->where,
				  doing, what);
	if (rds_reply_is(r, "MOVED") || rds_reply_is(r, "ASK") || rds_reply_is(r, "CLUSTERDOWN"))
		return outrig_err(err, OUTRIG_EINVAL,
				  "Redis at %s is a Redis Cluster node (%s) while %s; this plugin supports "
				  "standalone servers only",
				  o->where, what, doing);
	return outrig_err(
		err, OUTRIG_EINTERNAL,
		"Redis at %s answered an error while %s: %s; please report it if the server is healthy",
		o->where, doing, what);
}
