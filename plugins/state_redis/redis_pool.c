/* SPDX-License-Identifier: Apache-2.0 */
/* Connections to Redis: a pool of blocking hiredis contexts, opened when first needed and replaced when broken. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "redis_errors.h"
#include "redis_pool.h"

/* How often create() tries again while the server cannot be reached. */
#define RDS_RETRY_MS 200
/* How often a command is resent to a server still loading its data, and for how long without a readTimeout. */
#define RDS_LOADING_POLL_MS 50
#define RDS_LOADING_WAIT_MS 5000

struct rds_pool {
	const struct rds_options *opts;
	const struct outrig_host *host;
	struct outrig_handle *self;
	pthread_mutex_t lock;
	pthread_cond_t freed; /* signalled whenever a slot is given back */
	size_t size;
	struct rds_conn slots[];
};

static struct timeval rds_tv(int64_t ms)
{
	struct timeval tv = { .tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000 };

	return tv;
}

static void rds_sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * One command on a bare context, as rds_conn_command(). A server that has just restarted
 * accepts connections while it loads its data, answering LOADING without running anything,
 * so the command is resent (even a write) for up to readTimeout rather than failed.
 */
static int rds_command(const struct rds_options *o, redisContext *c, int argc, const char **argv,
		       const size_t *lens, const char *doing, bool writes, redisReply **reply,
		       struct outrig_error *err)
{
	int64_t budget = o->read_timeout_ms > 0 ? o->read_timeout_ms : RDS_LOADING_WAIT_MS;
	int saved;

	for (int64_t waited = 0;; waited += RDS_LOADING_POLL_MS) {
		errno = 0;
		*reply = redisCommandArgv(c, argc, argv, lens);
		saved = errno;
		if (*reply == NULL)
			return rds_io_error(o, c, saved, doing, writes, err);
		if ((*reply)->type != REDIS_REPLY_ERROR || !rds_reply_is(*reply, "LOADING") ||
		    waited >= budget)
			return OUTRIG_OK;
		freeReplyObject(*reply);
		*reply = NULL;
		rds_sleep_ms(RDS_LOADING_POLL_MS);
	}
}

int rds_conn_command(struct rds_conn *conn, int argc, const char **argv, const size_t *lens,
		     const char *doing, bool writes, redisReply **reply, struct outrig_error *err)
{
	return rds_command(conn->opts, conn->ctx, argc, argv, lens, doing, writes, reply, err);
}

bool rds_conn_broken(const struct rds_conn *conn)
{
	return conn->ctx == NULL || conn->ctx->err != 0;
}

/* AUTH, with the ACL user on Redis 6 or newer, or with the password alone. */
static int rds_auth(const struct rds_options *o, redisContext *c, struct outrig_error *err)
{
	const char *argv[3] = { "AUTH" };
	size_t lens[3] = { 4 };
	int argc = 1, rc;
	redisReply *r;

	if (o->username[0] == '\0' && o->password[0] == '\0')
		return OUTRIG_OK;
	if (o->username[0] != '\0') {
		argv[argc] = o->username;
		lens[argc++] = strlen(o->username);
	}
	argv[argc] = o->password;
	lens[argc++] = strlen(o->password);
	rc = rds_command(o, c, argc, argv, lens, "authenticating", false, &r, err);
	if (rc != OUTRIG_OK)
		return rc;
	if (r->type == REDIS_REPLY_ERROR && rds_reply_is(r, "LOADING"))
		rc = rds_reply_error(o, r, "authenticating", err);
	else if (r->type == REDIS_REPLY_ERROR && o->username[0] != '\0' &&
		 strstr(r->str, "wrong number") != NULL)
		rc = outrig_err(err, OUTRIG_EINVAL,
				"Redis at %s does not know ACL users (%s); redisUsername needs Redis 6 or "
				"newer: remove it and keep redisPassword",
				o->where, r->str);
	else if (r->type == REDIS_REPLY_ERROR)
		rc = outrig_err(
			err, OUTRIG_EINVAL,
			"Redis at %s refused AUTH: %s; check redisPassword%s, or leave it empty if the "
			"server has no password",
			o->where, r->str, o->username[0] != '\0' ? " and redisUsername" : "");
	freeReplyObject(r);
	return rc;
}

static int rds_select(const struct rds_options *o, redisContext *c, struct outrig_error *err)
{
	char db[24];
	const char *argv[2] = { "SELECT", db };
	size_t lens[2] = { 6, 0 };
	redisReply *r;
	int rc;

	if (o->db == 0)
		return OUTRIG_OK;
	lens[1] = (size_t)snprintf(db, sizeof(db), "%" PRId64, o->db);
	rc = rds_command(o, c, 2, argv, lens, "selecting redisDB", false, &r, err);
	if (rc != OUTRIG_OK)
		return rc;
	if (r->type == REDIS_REPLY_ERROR && rds_reply_is(r, "LOADING"))
		rc = rds_reply_error(o, r, "selecting redisDB", err);
	else if (r->type == REDIS_REPLY_ERROR)
		rc = outrig_err(err, OUTRIG_EINVAL,
				"Redis at %s refused SELECT %s: %s; redisDB must be below the server's "
				"databases setting (16 by default)",
				o->where, db, r->str);
	freeReplyObject(r);
	return rc;
}

static int rds_sockopt(const struct rds_options *o, redisContext *c, int name, int64_t ms,
		       struct outrig_error *err)
{
	struct timeval tv = rds_tv(ms > 0 ? ms : 0);

	if (setsockopt(c->fd, SOL_SOCKET, name, &tv, sizeof(tv)) != 0)
		return outrig_err(err, OUTRIG_EUNAVAIL, "cannot set the socket timeouts for Redis at %s: %s",
				  o->where, strerror(errno));
	return OUTRIG_OK;
}

/*
 * Opens and prepares one connection. On a failure to connect at all, why (if not NULL) gets
 * hiredis's bare reason ("Connection refused") for create()'s message.
 */
static int rds_open(const struct rds_pool *p, int64_t dial_ms, redisContext **out, char *why, size_t why_len,
		    struct outrig_error *err)
{
	const struct rds_options *o = p->opts;
	redisContext *c;
	int rc;

	/*
	 * Resolving a name blocks, which is fine: create() and the operations run off the event
	 * loop. hiredis turns TCP_NODELAY on for every TCP connection it opens (since 0.11), so
	 * small commands are not held back by Nagle's algorithm.
	 */
	*out = NULL;
	c = redisConnectWithTimeout(o->host, o->port, rds_tv(dial_ms));
	if (c == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory connecting to Redis at %s", o->where);
	if (c->err != 0) {
		if (why != NULL)
			snprintf(why, why_len, "%s", c->errstr);
		rc = outrig_err(err, OUTRIG_EUNAVAIL,
				"Redis at %s: %s; is it running, and is redisHost right?", o->where,
				c->errstr);
		redisFree(c);
		return rc;
	}
	/* redisSetTimeout limits both directions; writeTimeout then sets the sending side apart. */
	if (o->read_timeout_ms > 0 && redisSetTimeout(c, rds_tv(o->read_timeout_ms)) != REDIS_OK)
		rc = outrig_err(err, OUTRIG_EUNAVAIL,
				"cannot set readTimeout on the connection to Redis at %s: %s", o->where,
				c->errstr);
	else if (o->read_timeout_ms <= 0)
		rc = rds_sockopt(o, c, SO_RCVTIMEO, 0, err);
	else
		rc = OUTRIG_OK;
	if (rc == OUTRIG_OK)
		rc = rds_sockopt(o, c, SO_SNDTIMEO, o->write_timeout_ms, err);
	if (rc == OUTRIG_OK)
		rc = rds_auth(o, c, err);
	if (rc == OUTRIG_OK)
		rc = rds_select(o, c, err);
	if (rc != OUTRIG_OK) {
		if (why != NULL)
			snprintf(why, why_len, "%s", err->message);
		redisFree(c);
		return rc;
	}
	*out = c;
	return OUTRIG_OK;
}

/*
 * Cheap check of an idle connection: the server closing it (a restart, its idle timeout) has
 * left a FIN or an error message waiting. Nothing to read is the healthy case.
 */
static bool rds_still_open(const redisContext *c)
{
	char byte;
	ssize_t n = recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
	return false;
}

struct rds_pool *rds_pool_new(const struct rds_options *opts, const struct outrig_host *host,
			      struct outrig_handle *self)
{
	size_t size = (size_t)opts->pool_size;
	struct rds_pool *p = calloc(1, sizeof(*p) + size * sizeof(p->slots[0]));
	pthread_condattr_t attr;

	if (p == NULL)
		return NULL;
	p->opts = opts;
	p->host = host;
	p->self = self;
	p->size = size;
	for (size_t i = 0; i < size; i++)
		p->slots[i].opts = opts;
	/* Waits are measured on the monotonic clock, so a wall-clock step cannot stretch them. */
	if (pthread_condattr_init(&attr) != 0) {
		free(p);
		return NULL;
	}
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (pthread_cond_init(&p->freed, &attr) != 0) {
		pthread_condattr_destroy(&attr);
		free(p);
		return NULL;
	}
	pthread_condattr_destroy(&attr);
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		pthread_cond_destroy(&p->freed);
		free(p);
		return NULL;
	}
	return p;
}

void rds_pool_free(struct rds_pool *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->size; i++)
		if (p->slots[i].ctx != NULL)
			redisFree(p->slots[i].ctx);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	free(p);
}

/* Takes a free slot, preferring one already connected; waits at most poolTimeout. */
static int rds_pool_take(struct rds_pool *p, struct rds_conn **out, struct outrig_error *err)
{
	struct timespec until;
	bool late = false;
	char limit[32];

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(p->opts->pool_timeout_ms / 1000);
	until.tv_nsec += (long)(p->opts->pool_timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct rds_conn *pick = NULL;

		for (size_t i = 0; i < p->size; i++) {
			if (p->slots[i].busy)
				continue;
			if (p->slots[i].ctx != NULL) {
				pick = &p->slots[i];
				break;
			}
			if (pick == NULL)
				pick = &p->slots[i];
		}
		if (pick != NULL) {
			pick->busy = true;
			pthread_mutex_unlock(&p->lock);
			*out = pick;
			return OUTRIG_OK;
		}
		if (late)
			break;
		late = pthread_cond_timedwait(&p->freed, &p->lock, &until) == ETIMEDOUT;
	}
	pthread_mutex_unlock(&p->lock);
	return outrig_err(
		err, OUTRIG_ETIMEDOUT,
		"all %zu connections to Redis at %s stayed busy for %s (poolTimeout); raise poolSize, "
		"or look for slow commands on the server",
		p->size, p->opts->where, rds_duration_text(p->opts->pool_timeout_ms, limit, sizeof(limit)));
}

void rds_pool_release(struct rds_pool *p, struct rds_conn *conn)
{
	redisContext *broken = NULL;

	/* A context with an error is out of step with the server: never reuse it. */
	if (conn->ctx != NULL && conn->ctx->err != 0) {
		broken = conn->ctx;
		conn->ctx = NULL;
	}
	pthread_mutex_lock(&p->lock);
	conn->busy = false;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
	if (broken != NULL)
		redisFree(broken);
}

int rds_pool_acquire(struct rds_pool *p, struct rds_conn **out, struct outrig_error *err)
{
	struct rds_conn *conn;
	int rc = rds_pool_take(p, &conn, err);

	if (rc != OUTRIG_OK)
		return rc;
	if (conn->ctx != NULL && !rds_still_open(conn->ctx)) {
		p->host->log(p->self, OUTRIG_LOG_DEBUG,
			     "Redis at %s closed an idle connection; opening a new one", p->opts->where);
		redisFree(conn->ctx);
		conn->ctx = NULL;
	}
	conn->fresh = conn->ctx == NULL;
	if (conn->ctx == NULL) {
		rc = rds_open(p, p->opts->dial_timeout_ms, &conn->ctx, NULL, 0, err);
		if (rc != OUTRIG_OK) {
			rds_pool_release(p, conn);
			return rc;
		}
	}
	*out = conn;
	return OUTRIG_OK;
}

int rds_pool_acquire_first(struct rds_pool *p, int64_t wait_ms, struct rds_conn **out,
			   struct outrig_error *err)
{
	int64_t deadline = p->host->now_mono_ms() + (wait_ms > 0 ? wait_ms : 0);
	struct rds_conn *conn;
	char why[OUTRIG_ERROR_MAX] = "", limit[32];
	bool told = false;
	int rc = rds_pool_take(p, &conn, err);

	if (rc != OUTRIG_OK)
		return rc;
	for (;;) {
		int64_t left = deadline - p->host->now_mono_ms();
		int64_t dial = p->opts->dial_timeout_ms;

		rc = rds_open(p, left > 0 && left < dial ? left : dial, &conn->ctx, why, sizeof(why), err);
		/* Only an unreachable or starting server is worth waiting for; a refusal stays one. */
		if (rc != OUTRIG_EUNAVAIL)
			break;
		left = deadline - p->host->now_mono_ms();
		if (left <= 0) {
			rc = outrig_err(
				err, OUTRIG_EUNAVAIL,
				"cannot reach Redis at %s within %s (initTimeout): %s; start the server, "
				"check redisHost, or raise the component's spec.initTimeout",
				p->opts->where, rds_duration_text(wait_ms, limit, sizeof(limit)), why);
			break;
		}
		if (!told)
			p->host->log(p->self, OUTRIG_LOG_INFO, "waiting for Redis at %s (%s), for up to %s",
				     p->opts->where, why, rds_duration_text(wait_ms, limit, sizeof(limit)));
		told = true;
		rds_sleep_ms(left < RDS_RETRY_MS ? left : RDS_RETRY_MS);
	}
	if (rc != OUTRIG_OK) {
		rds_pool_release(p, conn);
		return rc;
	}
	conn->fresh = true;
	*out = conn;
	return OUTRIG_OK;
}
