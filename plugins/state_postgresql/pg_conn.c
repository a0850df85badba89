/* SPDX-License-Identifier: Apache-2.0 */
/* state.postgresql's connection pool, and statements that never run past a deadline. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_conn.h"

/* How long destroy waits for cancel requests still in flight before it gives up on them. */
#define PGC_CANCEL_DRAIN_MS 5000
/* Most libpq parameters a pool passes: its defaults, Dapr's fields, the connection string's. */
#define PGC_MAX_PARAMS 96

struct pgc_pool {
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a connection was released or closed, or a cancel finished */
	const char *keywords[PGC_MAX_PARAMS + 1];
	const char *values[PGC_MAX_PARAMS + 1];
	char *strings[2 * PGC_MAX_PARAMS]; /* what keywords and values point to */
	size_t nstrings;
	int max_conns;
	int open;    /* idle + in use + being opened */
	int cancels; /* cancel requests being sent */
	int64_t max_idle_ms;
	struct pgc_conn *idle; /* most recently released first */
	char where[256];
};

struct pgc_cancel_job {
	struct pgc_pool *pool;
	PGcancel *cancel;
};

int64_t pgc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct pgc_deadline pgc_deadline_in(int64_t limit_ms, const char *setting)
{
	struct pgc_deadline d = { .at_ms = pgc_now_ms() + limit_ms,
				  .limit_ms = limit_ms,
				  .setting = setting };

	return d;
}

const char *pgc_format_ms(int64_t ms, char *buf, size_t size)
{
	if (ms <= 0 || ms % 1000 != 0)
		snprintf(buf, size, "%lldms", (long long)ms);
	else if (ms % 3600000 == 0)
		snprintf(buf, size, "%lldh", (long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(buf, size, "%lldm", (long long)(ms / 60000));
	else
		snprintf(buf, size, "%llds", (long long)(ms / 1000));
	return buf;
}

/*
 * libpq's error text on one line, without the "connection to server at ... failed:"
 * preamble (messages name the server themselves) or its hints on later lines.
 */
static void pgc_reason(const char *msg, char *buf, size_t size)
{
	const char *start = msg != NULL ? msg : "", *end, *failed;
	size_t n = 0;

	end = strchr(start, '\n');
	if (end == NULL)
		end = start + strlen(start);
	for (const char *p = start; (failed = strstr(p, "failed: ")) != NULL && failed < end; p = failed + 1)
		start = failed + strlen("failed: ");
	for (const char *p = start; p < end && n + 1 < size; p++) {
		char c = *p == '\t' || *p == '\r' ? ' ' : *p;

		/* libpq pads "FATAL:  reason" with two spaces; one reads better. */
		if (c == ' ' && (n == 0 || buf[n - 1] == ' '))
			continue;
		buf[n++] = c;
	}
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	if (n == 0)
		snprintf(buf, size, "no reason given");
}

static void pgc_set_where(struct pgc_pool *pool, PGconn *pg)
{
	const char *host = pg != NULL ? PQhost(pg) : NULL;
	const char *port = pg != NULL ? PQport(pg) : NULL;

	if (host == NULL || *host == '\0')
		return;
	pthread_mutex_lock(&pool->lock);
	snprintf(pool->where, sizeof(pool->where), "%s:%s", host,
		 port != NULL && *port != '\0' ? port : "5432");
	pthread_mutex_unlock(&pool->lock);
}

const char *pgc_pool_where(struct pgc_pool *pool, char *buf, size_t size)
{
	pthread_mutex_lock(&pool->lock);
	snprintf(buf, size, "%s", pool->where);
	pthread_mutex_unlock(&pool->lock);
	return buf;
}

static bool pgc_add(struct pgc_pool *pool, size_t *n, const char *keyword, const char *value)
{
	char *k, *v;

	if (value == NULL || *n >= PGC_MAX_PARAMS)
		return value == NULL;
	k = strdup(keyword);
	v = strdup(value);
	if (k == NULL || v == NULL) {
		free(k);
		free(v);
		return false;
	}
	pool->strings[pool->nstrings++] = k;
	pool->strings[pool->nstrings++] = v;
	pool->keywords[*n] = k;
	pool->values[*n] = v;
	(*n)++;
	return true;
}

/* The value the connection will use for keyword: the last one given, as libpq reads them. */
static const char *pgc_param(const struct pgc_pool *pool, size_t n, const char *keyword)
{
	for (size_t i = n; i > 0; i--)
		if (strcmp(pool->keywords[i - 1], keyword) == 0 && *pool->values[i - 1] != '\0')
			return pool->values[i - 1];
	return NULL;
}

/*
 * Lays out the parameters in the order libpq lets later ones win: our defaults, then
 * Dapr's separate fields, then the connection string, then what must hold for our
 * statements (UTF-8, which the value encoding relies on).
 */
static int pgc_build_params(struct pgc_pool *pool, const struct pgc_options *opts, struct outrig_error *err)
{
	char connect_timeout[32], user_timeout[32];
	int64_t timeout_s = (opts->timeout_ms + 999) / 1000;
	PQconninfoOption *parsed = NULL;
	const char *host, *port;
	size_t n = 0;
	bool ok = true;

	if (opts->conninfo != NULL && *opts->conninfo != '\0') {
		char *why = NULL;
		char reason[256];

		parsed = PQconninfoParse(opts->conninfo, &why);
		if (parsed == NULL) {
			pgc_reason(why != NULL ? why : "out of memory", reason, sizeof(reason));
			PQfreemem(why);
			return outrig_err(err, OUTRIG_EINVAL,
					  "connectionString is neither libpq \"key=value\" settings nor a "
					  "postgres:// URL (%s); see https://www.postgresql.org/docs/current/"
					  "libpq-connect.html#LIBPQ-CONNSTRING",
					  reason);
		}
	}
	/* libpq waits at least 2 s whatever it is told; our own deadline cuts in earlier anyway. */
	snprintf(connect_timeout, sizeof(connect_timeout), "%lld",
		 (long long)(timeout_s < 2 ? 2 : timeout_s));
	/* Also bounds the cancel request's connect, which libpq makes without connect_timeout. */
	snprintf(user_timeout, sizeof(user_timeout), "%lld", (long long)opts->timeout_ms);
	ok = pgc_add(pool, &n, "connect_timeout", connect_timeout) && pgc_add(pool, &n, "keepalives", "1") &&
	     pgc_add(pool, &n, "keepalives_idle", "30") && pgc_add(pool, &n, "keepalives_interval", "10") &&
	     pgc_add(pool, &n, "keepalives_count", "3") &&
	     pgc_add(pool, &n, "tcp_user_timeout", user_timeout) &&
	     pgc_add(pool, &n, "application_name", "outrig");
	for (size_t i = 0; ok && opts->keywords != NULL && opts->keywords[i] != NULL; i++)
		if (opts->values[i] != NULL && *opts->values[i] != '\0')
			ok = pgc_add(pool, &n, opts->keywords[i], opts->values[i]);
	for (PQconninfoOption *o = parsed; ok && o != NULL && o->keyword != NULL; o++)
		if (o->val != NULL)
			ok = pgc_add(pool, &n, o->keyword, o->val);
	if (ok)
		ok = pgc_add(pool, &n, "client_encoding", "UTF8");
	PQconninfoFree(parsed);
	if (!ok)
		return outrig_err(err, n >= PGC_MAX_PARAMS ? OUTRIG_EINVAL : OUTRIG_ENOMEM,
				  n >= PGC_MAX_PARAMS ? "connectionString has too many settings"
						      : "out of memory");
	pool->keywords[n] = NULL;
	pool->values[n] = NULL;

	/* Until a connection says better: where libpq will look, for messages. */
	host = pgc_param(pool, n, "hostaddr");
	if (host == NULL)
		host = pgc_param(pool, n, "host");
	if (host == NULL)
		host = getenv("PGHOST");
	port = pgc_param(pool, n, "port");
	if (port == NULL)
		port = getenv("PGPORT");
	snprintf(pool->where, sizeof(pool->where), "%s:%s", host != NULL ? host : "/var/run/postgresql",
		 port != NULL ? port : "5432");
	return OUTRIG_OK;
}

int pgc_pool_create(const struct pgc_options *opts, struct pgc_pool **out, struct outrig_error *err)
{
	struct pgc_pool *pool = calloc(1, sizeof(*pool));
	pthread_condattr_t attr;
	int rc;

	*out = NULL;
	if (pool == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	pool->max_conns = opts->max_conns > 0 ? opts->max_conns : 1;
	pool->max_idle_ms = opts->max_idle_ms;
	pthread_mutex_init(&pool->lock, NULL);
	/* Deadlines are monotonic; the pool's waits must be too. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&pool->changed, &attr);
	pthread_condattr_destroy(&attr);
	rc = pgc_build_params(pool, opts, err);
	if (rc != OUTRIG_OK) {
		pgc_pool_destroy(pool);
		return rc;
	}
	*out = pool;
	return OUTRIG_OK;
}

static void pgc_close(struct pgc_conn *c)
{
	if (c != NULL) {
		PQfinish(c->pg);
		free(c);
	}
}

/* Closes a connection that counted as open, and lets a waiter take its place. */
static void pgc_close_counted(struct pgc_pool *pool, struct pgc_conn *c)
{
	pgc_close(c);
	pthread_mutex_lock(&pool->lock);
	pool->open--;
	pthread_cond_broadcast(&pool->changed);
	pthread_mutex_unlock(&pool->lock);
}

static struct timespec pgc_abs(int64_t at_ms)
{
	struct timespec ts = { .tv_sec = at_ms / 1000, .tv_nsec = (long)(at_ms % 1000) * 1000000 };

	return ts;
}

void pgc_pool_destroy(struct pgc_pool *pool)
{
	struct timespec until = pgc_abs(pgc_now_ms() + PGC_CANCEL_DRAIN_MS);
	bool drained;

	if (pool == NULL)
		return;
	pthread_mutex_lock(&pool->lock);
	while (pool->idle != NULL) {
		struct pgc_conn *c = pool->idle;

		pool->idle = c->next;
		pool->open--;
		pgc_close(c);
	}
	while (pool->cancels > 0 && pthread_cond_timedwait(&pool->changed, &pool->lock, &until) != ETIMEDOUT)
		;
	drained = pool->cancels == 0;
	pthread_mutex_unlock(&pool->lock);
	/* A cancel still stuck in connect() owns the pool's lock and counter: leave them be. */
	if (!drained)
		return;
	for (size_t i = 0; i < pool->nstrings; i++)
		free(pool->strings[i]);
	pthread_cond_destroy(&pool->changed);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

/* Notices ("relation already exists, skipping") would go to the sidecar's stderr. */
static void pgc_quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * Waits until conn's socket has one of events, or the deadline passes. Returns 1
 * (revents set), 0 for the deadline, -1 when the socket is unusable. Past the deadline
 * it still looks once without waiting, so what already happened (a refused connect)
 * is reported as itself rather than as a timeout.
 */
static int pgc_wait(PGconn *pg, short events, const struct pgc_deadline *deadline, short *revents)
{
	for (;;) {
		int64_t left = deadline->at_ms - pgc_now_ms();
		struct pollfd p = { .fd = PQsocket(pg), .events = events };
		int n;

		if (p.fd < 0)
			return -1;
		n = poll(&p, 1, left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0) {
			*revents = p.revents;
			return 1;
		}
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/*
 * What to do about a connection libpq refused for TLS (sslmode, sslrootcert, sslcert, sslkey in
 * connectionString, which reach libpq as they are), or NULL when reason is not about TLS.
 */
static const char *pgc_tls_hint(const char *reason)
{
	static const struct {
		const char *says, *hint;
	} hints[] = {
		{ "no encryption",
		  "the server takes TLS connections only: set sslmode=require (or verify-full with sslrootcert) in "
		  "connectionString" },
		{ "does not support SSL",
		  "the server has no TLS: set sslmode=disable or prefer in connectionString, or turn ssl on in the "
		  "server" },
		{ "does not match host name",
		  "the server's certificate is not for the host in connectionString: connect by a name or address "
		  "it carries, or use sslmode=verify-ca" },
		{ "certificate",
		  "check sslrootcert (the CA that signed the server's certificate) in connectionString, and sslcert "
		  "and sslkey when the server asks for a client certificate" },
		{ "SSL",
		  "check sslmode, sslrootcert, sslcert and sslkey in connectionString against the server's TLS "
		  "settings" },
	};

	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strstr(reason, hints[i].says) != NULL)
			return hints[i].hint;
	return NULL;
}

/* Opens one connection with libpq's non-blocking connect, so the deadline holds throughout. */
static int pgc_open(struct pgc_pool *pool, const struct pgc_deadline *deadline, struct pgc_conn **out,
		    struct outrig_error *err)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	char reason[256], where[256], limit[32];
	struct pgc_conn *c;
	PGconn *pg;

	pg = PQconnectStartParams(pool->keywords, pool->values, 0);
	if (pg == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory connecting to PostgreSQL");
	while (PQstatus(pg) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		short revents = 0;
		int w = pgc_wait(pg, st == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline, &revents);

		if (w == 0) {
			pgc_set_where(pool, pg);
			PQfinish(pg);
			return outrig_err(err, OUTRIG_EUNAVAIL,
					  "cannot reach PostgreSQL at %s within %s (%s): no answer",
					  pgc_pool_where(pool, where, sizeof(where)),
					  pgc_format_ms(deadline->limit_ms, limit, sizeof(limit)),
					  deadline->setting);
		}
		/* On -1 libpq's next step finds the socket's error itself. */
		st = PQconnectPoll(pg);
	}
	pgc_set_where(pool, pg);
	if (PQstatus(pg) != CONNECTION_OK) {
		const char *hint;

		pgc_reason(PQerrorMessage(pg), reason, sizeof(reason));
		PQfinish(pg);
		/* A TLS mismatch does not go away by trying again: it is the configuration's, and said at once. */
		hint = pgc_tls_hint(reason);
		if (hint != NULL)
			return outrig_err(err, OUTRIG_EINVAL, "cannot reach PostgreSQL at %s: %s; %s",
					  pgc_pool_where(pool, where, sizeof(where)), reason, hint);
		return outrig_err(err, OUTRIG_EUNAVAIL, "cannot reach PostgreSQL at %s: %s",
				  pgc_pool_where(pool, where, sizeof(where)), reason);
	}
	/* Non-blocking sends: a large value must not block past the deadline either. */
	if (PQsetnonblocking(pg, 1) != 0 || (c = calloc(1, sizeof(*c))) == NULL) {
		PQfinish(pg);
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory connecting to PostgreSQL");
	}
	PQsetNoticeProcessor(pg, pgc_quiet, NULL);
	c->pg = pg;
	*out = c;
	return OUTRIG_OK;
}

/*
 * Whether an idle connection can take a statement. Nothing should arrive on an idle
 * connection: readable data is the server saying goodbye (a FATAL error before it
 * closes, as on a restart) or the close itself, so the connection is dropped rather
 * than risk a statement on it.
 */
static bool pgc_alive(const struct pgc_pool *pool, struct pgc_conn *c, int64_t now)
{
	struct pollfd p = { .fd = PQsocket(c->pg), .events = POLLIN };
	int n;

	if (PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) != PQTRANS_IDLE || p.fd < 0)
		return false;
	if (pool->max_idle_ms > 0 && now - c->idle_since > pool->max_idle_ms)
		return false;
	do
		n = poll(&p, 1, 0);
	while (n < 0 && errno == EINTR);
	return n == 0;
}

int pgc_acquire(struct pgc_pool *pool, const struct pgc_deadline *deadline, struct pgc_conn **out,
		struct outrig_error *err)
{
	struct timespec until = pgc_abs(deadline->at_ms);
	char limit[32];
	int rc;

	*out = NULL;
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		if (pool->idle != NULL) {
			struct pgc_conn *c = pool->idle;

			pool->idle = c->next;
			pthread_mutex_unlock(&pool->lock);
			if (pgc_alive(pool, c, pgc_now_ms())) {
				c->next = NULL;
				*out = c;
				return OUTRIG_OK;
			}
			pgc_close_counted(pool, c);
			pthread_mutex_lock(&pool->lock);
			continue;
		}
		if (pool->open < pool->max_conns) {
			pool->open++;
			pthread_mutex_unlock(&pool->lock);
			rc = pgc_open(pool, deadline, out, err);
			if (rc != OUTRIG_OK) {
				pthread_mutex_lock(&pool->lock);
				pool->open--;
				pthread_cond_broadcast(&pool->changed);
				pthread_mutex_unlock(&pool->lock);
			}
			return rc;
		}
		if (pthread_cond_timedwait(&pool->changed, &pool->lock, &until) == ETIMEDOUT) {
			int max = pool->max_conns;

			pthread_mutex_unlock(&pool->lock);
			return outrig_err(
				err, OUTRIG_ETIMEDOUT,
				"all %d connections to PostgreSQL (maxConns) stayed busy for %s (%s); "
				"raise maxConns, or look for slow statements on the server",
				max, pgc_format_ms(deadline->limit_ms, limit, sizeof(limit)),
				deadline->setting);
		}
	}
}

void pgc_release(struct pgc_pool *pool, struct pgc_conn *c)
{
	if (c == NULL)
		return;
	if (c->broken || PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		pgc_close_counted(pool, c);
		return;
	}
	c->idle_since = pgc_now_ms();
	pthread_mutex_lock(&pool->lock);
	c->next = pool->idle;
	pool->idle = c;
	pthread_cond_broadcast(&pool->changed);
	pthread_mutex_unlock(&pool->lock);
}

void pgc_pool_trim(struct pgc_pool *pool)
{
	struct pgc_conn *old = NULL, **link;
	int64_t now = pgc_now_ms();

	if (pool->max_idle_ms <= 0)
		return;
	pthread_mutex_lock(&pool->lock);
	link = &pool->idle;
	while (*link != NULL) {
		struct pgc_conn *c = *link;

		if (now - c->idle_since > pool->max_idle_ms) {
			*link = c->next;
			c->next = old;
			old = c;
			pool->open--;
		} else {
			link = &c->next;
		}
	}
	pthread_cond_broadcast(&pool->changed);
	pthread_mutex_unlock(&pool->lock);
	while (old != NULL) {
		struct pgc_conn *c = old;

		old = c->next;
		pgc_close(c);
	}
}

static void *pgc_cancel_run(void *arg)
{
	struct pgc_cancel_job *job = arg;
	struct pgc_pool *pool = job->pool;
	char why[256];

	/* Best effort: if the cancel cannot be sent, closing the connection ends the session. */
	PQcancel(job->cancel, why, sizeof(why));
	PQfreeCancel(job->cancel);
	free(job);
	pthread_mutex_lock(&pool->lock);
	pool->cancels--;
	pthread_cond_broadcast(&pool->changed);
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

/*
 * Asks the server to stop the statement conn runs. libpq 15 sends cancels with a
 * blocking connect, so it runs on a thread of its own and the caller returns now.
 */
static void pgc_cancel(struct pgc_pool *pool, PGconn *pg)
{
	struct pgc_cancel_job *job = malloc(sizeof(*job));
	pthread_attr_t attr;
	pthread_t tid;

	if (job == NULL)
		return;
	job->pool = pool;
	job->cancel = PQgetCancel(pg);
	if (job->cancel == NULL) {
		free(job);
		return;
	}
	pthread_mutex_lock(&pool->lock);
	pool->cancels++;
	pthread_mutex_unlock(&pool->lock);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, pgc_cancel_run, job) != 0) {
		PQfreeCancel(job->cancel);
		free(job);
		pthread_mutex_lock(&pool->lock);
		pool->cancels--;
		pthread_mutex_unlock(&pool->lock);
	}
	pthread_attr_destroy(&attr);
}

static int pgc_lost(struct pgc_pool *pool, struct pgc_conn *c, struct outrig_error *err)
{
	char reason[256], where[256];

	pgc_reason(PQerrorMessage(c->pg), reason, sizeof(reason));
	c->broken = true;
	return outrig_err(err, OUTRIG_EUNAVAIL,
			  "lost the connection to PostgreSQL at %s (%s); a statement in flight may or may "
			  "not have been applied",
			  pgc_pool_where(pool, where, sizeof(where)), reason);
}

static int pgc_timed_out(struct pgc_pool *pool, struct pgc_conn *c, const struct pgc_deadline *deadline,
			 struct outrig_error *err)
{
	char where[256], limit[32];

	pgc_cancel(pool, c->pg);
	c->broken = true;
	return outrig_err(err, OUTRIG_ETIMEDOUT,
			  "PostgreSQL at %s did not answer within %s (%s), so the statement was cancelled",
			  pgc_pool_where(pool, where, sizeof(where)),
			  pgc_format_ms(deadline->limit_ms, limit, sizeof(limit)), deadline->setting);
}

/* Waits for the socket and feeds libpq what arrived: 0, or the failure already reported. */
static int pgc_pump(struct pgc_pool *pool, struct pgc_conn *c, short events,
		    const struct pgc_deadline *deadline, struct outrig_error *err)
{
	short revents = 0;
	int w = pgc_wait(c->pg, events, deadline, &revents);

	if (w == 0)
		return pgc_timed_out(pool, c, deadline, err);
	if (w < 0 || ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 && !PQconsumeInput(c->pg)))
		return pgc_lost(pool, c, err);
	return OUTRIG_OK;
}

/* Sends what libpq has queued, waiting for the socket to take it until the deadline. */
static int pgc_flush(struct pgc_pool *pool, struct pgc_conn *c, const struct pgc_deadline *deadline,
		     struct outrig_error *err)
{
	int flushed, rc;

	while ((flushed = PQflush(c->pg)) != 0) {
		if (flushed < 0)
			return pgc_lost(pool, c, err);
		rc = pgc_pump(pool, c, POLLIN | POLLOUT, deadline, err);
		if (rc != OUTRIG_OK)
			return rc;
	}
	return OUTRIG_OK;
}

/*
 * Waits for the answer to the command just sent: its first error result if any, else its
 * last result. One command gives one result, then NULL once the server is ready again.
 */
static int pgc_collect(struct pgc_pool *pool, struct pgc_conn *c, const struct pgc_deadline *deadline,
		       PGresult **res, struct outrig_error *err)
{
	PGresult *keep = NULL, *r;
	int rc;

	for (;;) {
		while (PQisBusy(c->pg)) {
			rc = pgc_pump(pool, c, POLLIN, deadline, err);
			if (rc != OUTRIG_OK) {
				PQclear(keep);
				return rc;
			}
		}
		r = PQgetResult(c->pg);
		if (r == NULL)
			break;
		if (keep == NULL ||
		    (PQresultStatus(r) == PGRES_FATAL_ERROR && PQresultStatus(keep) != PGRES_FATAL_ERROR)) {
			PQclear(keep);
			keep = r;
		} else {
			PQclear(r);
		}
	}
	if (keep == NULL || PQstatus(c->pg) != CONNECTION_OK) {
		PQclear(keep);
		return pgc_lost(pool, c, err);
	}
	*res = keep;
	return OUTRIG_OK;
}

/* Finishes a command libpq was asked to send (sent: what its PQsend* returned) against the deadline. */
static int pgc_await(struct pgc_pool *pool, struct pgc_conn *c, const struct pgc_deadline *deadline, int sent,
		     PGresult **res, struct outrig_error *err)
{
	int rc;

	if (!sent)
		return pgc_lost(pool, c, err);
	rc = pgc_flush(pool, c, deadline, err);
	return rc == OUTRIG_OK ? pgc_collect(pool, c, deadline, res, err) : rc;
}

int pgc_exec(struct pgc_pool *pool, struct pgc_conn *c, const struct pgc_deadline *deadline, const char *sql,
	     int nparams, const char *const *values, PGresult **res, struct outrig_error *err)
{
	*res = NULL;
	if (c->broken)
		return pgc_lost(pool, c, err);
	/* Text parameters only: values never become part of the SQL text. */
	return pgc_await(pool, c, deadline,
			 PQsendQueryParams(c->pg, sql, nparams, NULL, values, NULL, NULL, 0), res, err);
}

static bool pgc_sqlstate_is(const PGresult *res, const char *state)
{
	const char *got = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	return got != NULL && strcmp(got, state) == 0;
}

/*
 * Prepares stmt on c unless this session already has it: 0 with *res NULL when it has it
 * now, 0 with *res the server's refusal, or a transport failure. The server infers the
 * parameters' types, as it does for pgc_exec's unnamed statements.
 */
static int pgc_prepare(struct pgc_pool *pool, struct pgc_conn *c, const struct pgc_deadline *deadline,
		       const struct pgc_stmt *stmt, PGresult **res, struct outrig_error *err)
{
	uint32_t bit = UINT32_C(1) << stmt->bit;
	int rc;

	*res = NULL;
	if ((c->prepared & bit) != 0)
		return OUTRIG_OK;
	rc = pgc_await(pool, c, deadline, PQsendPrepare(c->pg, stmt->name, stmt->sql, 0, NULL), res, err);
	if (rc == OUTRIG_OK && PQresultStatus(*res) == PGRES_COMMAND_OK) {
		c->prepared |= bit;
		PQclear(*res);
		*res = NULL;
	}
	return rc;
}

int pgc_exec_prepared(struct pgc_pool *pool, struct pgc_conn *c, const struct pgc_deadline *deadline,
		      const struct pgc_stmt *stmt, int nparams, const char *const *values, PGresult **res,
		      struct outrig_error *err)
{
	int rc;

	*res = NULL;
	if (c->broken)
		return pgc_lost(pool, c, err);
	for (int attempt = 0;; attempt++) {
		rc = pgc_prepare(pool, c, deadline, stmt, res, err);
		if (rc != OUTRIG_OK || *res != NULL)
			return rc;
		rc = pgc_await(pool, c, deadline,
			       PQsendQueryPrepared(c->pg, stmt->name, nparams, values, NULL, NULL, 0), res,
			       err);
		if (rc != OUTRIG_OK || !pgc_sqlstate_is(*res, "26000"))
			return rc;
		/* What drops one statement (DISCARD ALL, DEALLOCATE ALL) usually drops them all. */
		c->prepared = 0;
		/* The error aborted an open transaction; outside one, the statement never ran. */
		if (attempt > 0 || PQtransactionStatus(c->pg) != PQTRANS_IDLE)
			return OUTRIG_OK;
		PQclear(*res);
		*res = NULL;
	}
}
