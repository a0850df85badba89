/* SPDX-License-Identifier: Apache-2.0 */
/* state.redis: a state store in Redis, laid out as daprd's (hash fields data and version), with etags, TTLs and transactions. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#include "redis_options.h"
#include "redis_pool.h"
#include "redis_scripts.h"

/* The build passes the package version; an out-of-tree build may not. */
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.1.0"
#endif

/* A 64-bit decimal with its sign, plus the terminator. */
#define RDS_ETAG_MAX 24
/* Room for "saving key \"...\"" in messages; longer keys are cut. */
#define RDS_DOING_MAX 200

struct rds_store {
	const struct outrig_host *host;
	struct outrig_handle *self;
	struct rds_options opts;
	struct rds_pool *pool;
	struct rds_scripts scripts;
};

/* An empty etag counts as none, as in Dapr's stores (an empty If-Match sends one). */
static bool rds_given(const char *etag)
{
	return etag != NULL && etag[0] != '\0';
}

/*
 * ETags are the hash's version, a decimal integer; like daprd, anything its integer parser
 * would not read is malformed rather than a mismatch. The canonical form is what HINCRBY
 * writes, so "007" still matches version 7.
 */
static bool rds_etag_canonical(const char *etag, char out[RDS_ETAG_MAX])
{
	const char *digits = etag[0] == '+' || etag[0] == '-' ? etag + 1 : etag;
	long long v;
	char *end;

	if (!isdigit((unsigned char)digits[0]))
		return false;
	errno = 0;
	v = strtoll(etag, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	snprintf(out, RDS_ETAG_MAX, "%lld", v);
	return true;
}

/* A save without ttlInSeconds takes the component's default; no TTL at all clears an old one. */
static long long rds_ttl(const struct rds_store *s, const struct outrig_state_set *req)
{
	if (req->has_ttl)
		return req->ttl_seconds > 0 ? (long long)req->ttl_seconds : 0;
	return s->opts.default_ttl_s > 0 ? (long long)s->opts.default_ttl_s : 0;
}

static int rds_got_value(struct rds_store *s, const char *key, const struct rds_got *got,
			 struct outrig_state_value *out, struct outrig_error *err)
{
	switch (got->kind) {
	case RDS_KIND_NONE: return OUTRIG_OK;
	case RDS_KIND_OTHER:
		return outrig_err(
			err, OUTRIG_EINTERNAL,
			"key \"%s\" holds a Redis %s, which is not state (a hash written by Dapr or a "
			"plain string); delete it or use another key",
			key, got->type_name);
	case RDS_KIND_HASH:
	case RDS_KIND_STRING: break;
	}
	if (got->data == NULL)
		return outrig_err(
			err, OUTRIG_EINTERNAL,
			"key \"%s\" holds a Redis hash without a \"data\" field, so neither Dapr nor "
			"outrig wrote it; delete it or use another key",
			key);
	if (s->host->bytes_set(&out->data, got->data, got->data_len) != 0 ||
	    (got->version != NULL && s->host->bytes_set(&out->etag, got->version, got->version_len) != 0))
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory copying %zu bytes of key \"%s\"",
				  got->data_len, key);
	out->found = true;
	if (got->pttl_ms > 0)
		out->expire_unix_ms = s->host->now_unix_ms() + got->pttl_ms;
	return OUTRIG_OK;
}

static int rds_get(void *instance, const struct outrig_state_get *req, struct outrig_state_value *out,
		   struct outrig_error *err)
{
	struct rds_store *s = instance;
	char doing[RDS_DOING_MAX];

	out->found = false;
	out->expire_unix_ms = 0;
	snprintf(doing, sizeof(doing), "reading key \"%s\"", req->key);
	for (int attempt = 0;; attempt++) {
		struct rds_conn *conn;
		struct rds_got got;
		bool stale;
		int rc = rds_pool_acquire(s->pool, &conn, err);

		if (rc != OUTRIG_OK)
			return rc;
		rc = rds_script_get(&s->scripts, conn, req->key, doing, &got, err);
		/*
		 * A read may be repeated: once, on a new connection, when a pooled one broke
		 * under us (the server closed it between our check and the command).
		 */
		stale = rc == OUTRIG_EUNAVAIL && rds_conn_broken(conn) && !conn->fresh;
		rds_pool_release(s->pool, conn);
		if (rc == OUTRIG_OK) {
			rc = rds_got_value(s, req->key, &got, out, err);
			rds_got_free(&got);
			return rc;
		}
		if (!stale || attempt > 0)
			return rc;
	}
}

static int rds_refused(const struct rds_write_op *op, const char *etag, enum rds_check check, size_t index,
		       bool tx, struct outrig_error *err)
{
	char where[64] = "";

	if (tx)
		snprintf(where, sizeof(where), " (operation %zu of the transaction)", index + 1);
	switch (check) {
	case RDS_CHECK_MISSING:
		return outrig_err(err, OUTRIG_ECONFLICT,
				  "key \"%s\"%s does not exist (or has expired), so etag \"%s\" cannot match "
				  "and there is nothing to delete",
				  op->key, where, etag);
	case RDS_CHECK_MISMATCH:
		return outrig_err(
			err, OUTRIG_ECONFLICT,
			"key \"%s\"%s: etag \"%s\" does not match the stored version; the key changed "
			"since you read it: read it again for the current etag",
			op->key, where, etag);
	case RDS_CHECK_EXISTS:
		return outrig_err(
			err, OUTRIG_ECONFLICT,
			"key \"%s\"%s already exists and first-write concurrency does not overwrite it; "
			"send its etag to update it",
			op->key, where);
	case RDS_CHECK_BAD_VERSION:
		return outrig_err(
			err, OUTRIG_EINTERNAL,
			"key \"%s\"%s holds a Redis hash whose \"version\" field is not an integer, so "
			"neither Dapr nor outrig wrote it; delete it or use another key",
			op->key, where);
	case RDS_CHECK_OK: break;
	}
	return OUTRIG_OK;
}

/* Turns one request into an operation of the write script; etag_buf receives the canonical etag. */
static int rds_write_op_from(const struct rds_store *s, const struct outrig_state_op *op, size_t index,
			     bool tx, char etag_buf[RDS_ETAG_MAX], struct rds_write_op *w,
			     struct outrig_error *err)
{
	const char *etag;
	char where[64] = "";

	memset(w, 0, sizeof(*w));
	if (op->kind == OUTRIG_STATE_UPSERT) {
		const struct outrig_state_set *set = &op->u.set;

		if (set->value_len > 0 && set->value == NULL)
			return outrig_err(err, OUTRIG_EINVAL, "key \"%s\" has a length but no value",
					  set->key);
		w->key = set->key;
		w->value = set->value;
		w->value_len = set->value_len;
		w->ttl_s = rds_ttl(s, set);
		w->first_write = !rds_given(set->etag) && set->concurrency == OUTRIG_FIRST_WRITE;
		etag = set->etag;
	} else {
		w->key = op->u.delete.key;
		w->is_delete = true;
		etag = op->u.delete.etag;
	}
	if (!rds_given(etag))
		return OUTRIG_OK;
	if (!rds_etag_canonical(etag, etag_buf)) {
		if (tx)
			snprintf(where, sizeof(where), " (operation %zu of the transaction)", index + 1);
		return outrig_err(err, OUTRIG_EBADETAG,
				  "key \"%s\"%s: etag \"%s\" is not one this store issues (Redis etags are "
				  "version numbers such as \"3\"); read the key for its current etag",
				  w->key, where, etag);
	}
	w->etag = etag_buf;
	return OUTRIG_OK;
}

static const char *rds_op_etag(const struct outrig_state_op *op)
{
	return op->kind == OUTRIG_STATE_UPSERT ? op->u.set.etag : op->u.delete.etag;
}

/* Saves and deletes through the one write script: a single request is a transaction of one. */
static int rds_apply(struct rds_store *s, const struct outrig_state_op *ops, size_t count, bool tx,
		     struct outrig_error *err)
{
	struct rds_write_op *w = calloc(count, sizeof(*w));
	char(*etags)[RDS_ETAG_MAX] = calloc(count, sizeof(*etags));
	char doing[RDS_DOING_MAX];
	enum rds_check check = RDS_CHECK_OK;
	struct rds_conn *conn;
	size_t failed = 0;
	int rc = OUTRIG_OK;

	if (w == NULL || etags == NULL) {
		rc = outrig_err(err, OUTRIG_ENOMEM, "out of memory preparing %zu operations", count);
		goto out;
	}
	/* Malformed etags are refused before anything reaches Redis. */
	for (size_t i = 0; i < count && rc == OUTRIG_OK; i++)
		rc = rds_write_op_from(s, &ops[i], i, tx, etags[i], &w[i], err);
	if (rc != OUTRIG_OK)
		goto out;
	if (tx)
		snprintf(doing, sizeof(doing), "running a transaction of %zu operations", count);
	else
		snprintf(doing, sizeof(doing), "%s key \"%s\"", w[0].is_delete ? "deleting" : "saving",
			 w[0].key);

	/* Never resent: once a write may have reached the server, a retry could apply it twice. */
	rc = rds_pool_acquire(s->pool, &conn, err);
	if (rc != OUTRIG_OK)
		goto out;
	rc = rds_script_write(&s->scripts, conn, w, count, doing, &failed, &check, err);
	rds_pool_release(s->pool, conn);
	if (rc == OUTRIG_OK && check != RDS_CHECK_OK)
		rc = rds_refused(&w[failed], rds_op_etag(&ops[failed]), check, failed, tx, err);
out:
	free(w);
	free(etags);
	return rc;
}

static int rds_set(void *instance, const struct outrig_state_set *req, struct outrig_error *err)
{
	struct outrig_state_op op = { .kind = OUTRIG_STATE_UPSERT, .u.set = *req };

	return rds_apply(instance, &op, 1, false, err);
}

static int rds_delete(void *instance, const struct outrig_state_delete *req, struct outrig_error *err)
{
	struct outrig_state_op op = { .kind = OUTRIG_STATE_DELETE, .u.delete = *req };

	return rds_apply(instance, &op, 1, false, err);
}

static int rds_transact(void *instance, const struct outrig_state_op *ops, size_t count,
			const struct outrig_metadata *metadata, struct outrig_error *err)
{
	(void)metadata; /* nothing in Dapr's transaction metadata concerns Redis */
	if (count == 0)
		return OUTRIG_OK;
	return rds_apply(instance, ops, count, true, err);
}

/* The server's version for the start-up log line; "unknown" if INFO is not allowed. */
static void rds_server_version(struct rds_conn *conn, char *buf, size_t len)
{
	const char *argv[2] = { "INFO", "server" };
	size_t lens[2] = { 4, 6 };
	struct outrig_error ignored;
	redisReply *r;

	snprintf(buf, len, "unknown");
	if (rds_conn_command(conn, 2, argv, lens, "asking for the server's version", false, &r, &ignored) !=
	    0)
		return;
	if (r->type == REDIS_REPLY_STRING && r->str != NULL) {
		const char *v = strstr(r->str, "redis_version:");

		if (v != NULL) {
			v += strlen("redis_version:");
			snprintf(buf, len, "%.*s", (int)strcspn(v, "\r\n"), v);
		}
	}
	freeReplyObject(r);
}

static void rds_free(struct rds_store *s)
{
	rds_pool_free(s->pool);
	rds_options_free(&s->opts);
	free(s);
}

static int rds_create(const struct outrig_host *host, struct outrig_handle *self,
		      const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	struct rds_store *s = calloc(1, sizeof(*s));
	struct rds_conn *conn;
	char version[32];
	int rc;

	if (s == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	s->host = host;
	s->self = self;
	rc = rds_options_parse(cfg, host, self, &s->opts, err);
	if (rc == OUTRIG_OK && (s->pool = rds_pool_new(&s->opts, host, self)) == NULL)
		rc = outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	/* Connecting now makes a wrong host or password fail the start-up, not the first request. */
	if (rc == OUTRIG_OK)
		rc = rds_pool_acquire_first(s->pool, outrig_config_init_timeout_ms(cfg), &conn, err);
	if (rc != OUTRIG_OK) {
		rds_free(s);
		return rc;
	}
	rc = rds_scripts_load(&s->scripts, conn, err);
	if (rc == OUTRIG_OK)
		rds_server_version(conn, version, sizeof(version));
	rds_pool_release(s->pool, conn);
	if (rc != OUTRIG_OK) {
		rds_free(s);
		return rc;
	}
	host->log(self, OUTRIG_LOG_INFO,
		  "using Redis %s at %s, database %" PRId64 ", up to %" PRId64 " connections", version,
		  s->opts.where, s->opts.db, s->opts.pool_size);
	*instance = s;
	return OUTRIG_OK;
}

/* What create() refuses before connecting, for outrigd --check: the same parser. */
static int rds_check(const struct outrig_host *host, struct outrig_handle *self,
		     const struct outrig_config *cfg, struct outrig_error *err)
{
	struct rds_options o;
	int rc = rds_options_parse(cfg, host, self, &o, err);

	rds_options_free(&o);
	return rc;
}

static void rds_destroy(void *instance)
{
	if (instance != NULL)
		rds_free(instance);
}

static const struct outrig_state_ops rds_ops = {
	.struct_size = sizeof(struct outrig_state_ops),
	.features = OUTRIG_STATE_ETAG | OUTRIG_STATE_TRANSACTIONAL | OUTRIG_STATE_TTL,
	.get = rds_get,
	.set = rds_set,
	.delete = rds_delete,
	.transact = rds_transact,
};

static const char *const rds_versions[] = { "v1", NULL };

static const struct outrig_plugin rds_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "state.redis",
	.versions = rds_versions,
	.plugin_version = PLUGIN_VERSION,
	.description = "Redis state store in daprd's layout (hash with data and version), with etags, TTLs "
		       "and transactions",
	.fields = rds_fields,
	/* Not serial: operations share a pool of connections and run side by side. */
	.flags = 0,
	.create = rds_create,
	.destroy = rds_destroy,
	.state = &rds_ops,
	.check = rds_check,
};

OUTRIG_PLUGIN(rds_plugin)
