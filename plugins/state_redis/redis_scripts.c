/* SPDX-License-Identifier: Apache-2.0 */
/* The Lua scripts that make each state operation one atomic step on the Redis server. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redis_errors.h"
#include "redis_scripts.h"

/*
 * Reads KEYS[1] as Dapr lays it out (a hash with fields data and version), or a legacy plain
 * string, with its remaining TTL, so a read costs one round trip. Answers {kind, data,
 * version, pttl}; a Lua false becomes a nil element without cutting the array short.
 */
static const char rds_lua_get[] =
	"local kind = redis.call('TYPE', KEYS[1]).ok\n"
	"if kind == 'none' then\n"
	"  return {0}\n"
	"elseif kind == 'hash' then\n"
	"  local f = redis.call('HMGET', KEYS[1], 'data', 'version')\n"
	"  return {1, f[1], f[2], redis.call('PTTL', KEYS[1])}\n"
	"elseif kind == 'string' then\n"
	"  return {2, redis.call('GET', KEYS[1]), false, redis.call('PTTL', KEYS[1])}\n"
	"end\n"
	"return {3, kind}\n";

/*
 * Saves and deletes, one or many, all or nothing. KEYS[i] is operation i's key and
 * ARGV[5i-4..5i] its kind ("upsert"/"delete"), etag ("" = none), first-write ("1"/"0"), value
 * and TTL in seconds. The first pass checks every condition against the keys as earlier
 * operations of the same call will have left them, writing nothing; a Lua script is not
 * rolled back when it stops half-way, so nothing that can fail may come after the first
 * write. Answers {0, 0}, or {i, reason} for the first refused operation.
 * As daprd's own script, a save compares its etag only with a version that exists: a key that
 * does not exist yet (or holds no version) is written whatever the etag.
 * A save replaces whatever non-hash the key held (a legacy string), keeps any other hash
 * fields (daprd's "first-write" among them), bumps version with HINCRBY as daprd does, and
 * EXPIREs or PERSISTs so that a plain overwrite clears an earlier TTL.
 */
static const char rds_lua_write[] =
	"local known = {}\n"
	"local function current(key)\n"
	"  local s = known[key]\n"
	"  if s == nil then\n"
	"    local kind = redis.call('TYPE', key).ok\n"
	"    s = {exists = kind ~= 'none', version = false}\n"
	"    if kind == 'hash' then s.version = redis.call('HGET', key, 'version') end\n"
	"    known[key] = s\n"
	"  end\n"
	"  return s\n"
	"end\n"
	"for i = 1, #KEYS do\n"
	"  local a = (i - 1) * 5\n"
	"  local s = current(KEYS[i])\n"
	"  if ARGV[a + 2] ~= '' then\n"
	"    if ARGV[a + 1] == 'delete' and not s.exists then return {i, 1} end\n"
	"    if s.version and s.version ~= ARGV[a + 2] then return {i, 2} end\n"
	"    if ARGV[a + 1] == 'delete' and not s.version then return {i, 2} end\n"
	"  elseif ARGV[a + 3] == '1' and s.exists then\n"
	"    return {i, 3}\n"
	"  end\n"
	"  if ARGV[a + 1] == 'upsert' then\n"
	"    if s.version and not string.match(s.version, '^%-?%d+$') then return {i, 4} end\n"
	"    s.exists = true\n"
	"    s.version = string.format('%d', (tonumber(s.version) or 0) + 1)\n"
	"  else\n"
	"    s.exists = false\n"
	"    s.version = false\n"
	"  end\n"
	"end\n"
	"for i = 1, #KEYS do\n"
	"  local a = (i - 1) * 5\n"
	"  local key = KEYS[i]\n"
	"  if ARGV[a + 1] == 'delete' then\n"
	"    redis.call('DEL', key)\n"
	"  else\n"
	"    local kind = redis.call('TYPE', key).ok\n"
	"    if kind ~= 'hash' and kind ~= 'none' then redis.call('DEL', key) end\n"
	"    redis.call('HSET', key, 'data', ARGV[a + 4])\n"
	"    redis.call('HINCRBY', key, 'version', 1)\n"
	"    local ttl = tonumber(ARGV[a + 5])\n"
	"    if ttl > 0 then redis.call('EXPIRE', key, ttl) else redis.call('PERSIST', key) end\n"
	"  end\n"
	"end\n"
	"return {0, 0}\n";

/* Arguments per operation of the write script, after its key. */
#define RDS_WRITE_ARGS 5
/* EVALSHA, the SHA1 (or EVAL and the text), numkeys. */
#define RDS_EVAL_HEAD 3

static const char *const rds_lua[RDS_NSCRIPTS] = {
	[RDS_SCRIPT_GET] = rds_lua_get,
	[RDS_SCRIPT_WRITE] = rds_lua_write,
};

static const char *const rds_lua_name[RDS_NSCRIPTS] = {
	[RDS_SCRIPT_GET] = "get",
	[RDS_SCRIPT_WRITE] = "write",
};

static int rds_unexpected(const struct rds_conn *conn, const char *doing, struct outrig_error *err)
{
	return outrig_err(
		err, OUTRIG_EINTERNAL,
		"unexpected answer from Redis at %s while %s; please report it with the server's version",
		conn->opts->where, doing);
}

int rds_scripts_load(struct rds_scripts *s, struct rds_conn *conn, struct outrig_error *err)
{
	for (int i = 0; i < RDS_NSCRIPTS; i++) {
		const char *argv[3] = { "SCRIPT", "LOAD", rds_lua[i] };
		size_t lens[3] = { 6, 4, strlen(rds_lua[i]) };
		char doing[64];
		redisReply *r;
		int rc;

		snprintf(doing, sizeof(doing), "loading the %s script", rds_lua_name[i]);
		rc = rds_conn_command(conn, 3, argv, lens, doing, false, &r, err);
		if (rc != OUTRIG_OK)
			return rc;
		if (r->type == REDIS_REPLY_ERROR)
			rc = rds_reply_error(conn->opts, r, doing, err);
		else if (r->type != REDIS_REPLY_STRING || r->len != sizeof(s->sha[i]) - 1)
			rc = rds_unexpected(conn, doing, err);
		else
			memcpy(s->sha[i], r->str, sizeof(s->sha[i]));
		freeReplyObject(r);
		if (rc != OUTRIG_OK)
			return rc;
	}
	return OUTRIG_OK;
}

/* Runs a script by SHA1; argv[0..2] are filled here, the keys and arguments follow. */
static int rds_script_run(const struct rds_scripts *s, struct rds_conn *conn, enum rds_script which,
			  int nkeys, int argc, const char **argv, size_t *lens, const char *doing,
			  redisReply **reply, struct outrig_error *err)
{
	bool writes = which == RDS_SCRIPT_WRITE;
	char numkeys[24];
	redisReply *r;
	int rc;

	argv[0] = "EVALSHA";
	lens[0] = 7;
	argv[1] = s->sha[which];
	lens[1] = strlen(s->sha[which]);
	argv[2] = numkeys;
	lens[2] = (size_t)snprintf(numkeys, sizeof(numkeys), "%d", nkeys);
	rc = rds_conn_command(conn, argc, argv, lens, doing, writes, &r, err);
	/* A restarted server has lost its script cache. NOSCRIPT means nothing ran: resending is safe. */
	if (rc == OUTRIG_OK && r->type == REDIS_REPLY_ERROR && rds_reply_is(r, "NOSCRIPT")) {
		freeReplyObject(r);
		argv[0] = "EVAL";
		lens[0] = 4;
		argv[1] = rds_lua[which];
		lens[1] = strlen(rds_lua[which]);
		rc = rds_conn_command(conn, argc, argv, lens, doing, writes, &r, err);
	}
	if (rc != OUTRIG_OK)
		return rc;
	if (r->type == REDIS_REPLY_ERROR) {
		rc = rds_reply_error(conn->opts, r, doing, err);
		freeReplyObject(r);
		return rc;
	}
	*reply = r;
	return OUTRIG_OK;
}

static bool rds_is_text(const redisReply *r)
{
	return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL;
}

int rds_script_get(const struct rds_scripts *s, struct rds_conn *conn, const char *key, const char *doing,
		   struct rds_got *out, struct outrig_error *err)
{
	const char *argv[RDS_EVAL_HEAD + 1];
	size_t lens[RDS_EVAL_HEAD + 1];
	redisReply *r, **e;
	int rc;

	memset(out, 0, sizeof(*out));
	argv[RDS_EVAL_HEAD] = key;
	lens[RDS_EVAL_HEAD] = strlen(key);
	rc = rds_script_run(s, conn, RDS_SCRIPT_GET, 1, RDS_EVAL_HEAD + 1, argv, lens, doing, &r, err);
	if (rc != OUTRIG_OK)
		return rc;
	e = r->element;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || e[0]->type != REDIS_REPLY_INTEGER)
		goto unexpected;
	out->reply = r;
	out->kind = (enum rds_kind)e[0]->integer;
	switch (e[0]->integer) {
	case RDS_KIND_NONE: return OUTRIG_OK;
	case RDS_KIND_HASH:
	case RDS_KIND_STRING:
		if (r->elements != 4 || !rds_is_text(e[1]) || !rds_is_text(e[2]) ||
		    e[3]->type != REDIS_REPLY_INTEGER)
			break;
		if (e[1]->type == REDIS_REPLY_STRING) {
			out->data = e[1]->str;
			out->data_len = e[1]->len;
		}
		if (e[2]->type == REDIS_REPLY_STRING) {
			out->version = e[2]->str;
			out->version_len = e[2]->len;
		}
		out->pttl_ms = e[3]->integer;
		return OUTRIG_OK;
	case RDS_KIND_OTHER:
		if (r->elements != 2 || e[1]->type != REDIS_REPLY_STRING)
			break;
		out->type_name = e[1]->str;
		return OUTRIG_OK;
	}
unexpected:
	freeReplyObject(r);
	memset(out, 0, sizeof(*out));
	return rds_unexpected(conn, doing, err);
}

void rds_got_free(struct rds_got *got)
{
	if (got->reply != NULL)
		freeReplyObject(got->reply);
	memset(got, 0, sizeof(*got));
}

int rds_script_write(const struct rds_scripts *s, struct rds_conn *conn, const struct rds_write_op *ops,
		     size_t count, const char *doing, size_t *failed, enum rds_check *check,
		     struct outrig_error *err)
{
	size_t argc = RDS_EVAL_HEAD + count * (1 + RDS_WRITE_ARGS);
	const char **argv = NULL;
	size_t *lens = NULL;
	char(*ttl)[24] = NULL;
	redisReply *r;
	int rc;

	*failed = 0;
	*check = RDS_CHECK_OK;
	if (count == 0)
		return OUTRIG_OK;
	if (count > INT_MAX / (1 + RDS_WRITE_ARGS) - RDS_EVAL_HEAD)
		return outrig_err(err, OUTRIG_EINVAL,
				  "%zu operations are too many for one Redis script; send fewer", count);
	argv = calloc(argc, sizeof(*argv));
	lens = calloc(argc, sizeof(*lens));
	ttl = calloc(count, sizeof(*ttl));
	if (argv == NULL || lens == NULL || ttl == NULL) {
		rc = outrig_err(err, OUTRIG_ENOMEM, "out of memory while %s", doing);
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		const struct rds_write_op *op = &ops[i];
		size_t k = RDS_EVAL_HEAD + i, a = RDS_EVAL_HEAD + count + i * RDS_WRITE_ARGS;

		argv[k] = op->key;
		lens[k] = strlen(op->key);
		argv[a] = op->is_delete ? "delete" : "upsert";
		lens[a] = 6;
		argv[a + 1] = op->etag != NULL ? op->etag : "";
		lens[a + 1] = strlen(argv[a + 1]);
		argv[a + 2] = op->first_write ? "1" : "0";
		lens[a + 2] = 1;
		/* A non-NULL pointer even for no bytes: hiredis sends lens, not strings. */
		argv[a + 3] = op->value != NULL ? op->value : "";
		lens[a + 3] = op->value != NULL ? op->value_len : 0;
		argv[a + 4] = ttl[i];
		lens[a + 4] = (size_t)snprintf(ttl[i], sizeof(ttl[i]), "%lld", op->is_delete ? 0 : op->ttl_s);
	}
	rc = rds_script_run(s, conn, RDS_SCRIPT_WRITE, (int)count, (int)argc, argv, lens, doing, &r, err);
	if (rc != OUTRIG_OK)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER || r->element[0]->integer < 0 ||
	    (size_t)r->element[0]->integer > count || r->element[1]->integer < RDS_CHECK_OK ||
	    r->element[1]->integer > RDS_CHECK_BAD_VERSION) {
		rc = rds_unexpected(conn, doing, err);
	} else if ((r->element[0]->integer > 0) != (r->element[1]->integer != RDS_CHECK_OK)) {
		rc = rds_unexpected(conn, doing, err);
	} else if (r->element[0]->integer > 0) {
		*failed = (size_t)r->element[0]->integer - 1;
		*check = (enum rds_check)r->element[1]->integer;
	}
	freeReplyObject(r);
out:
	free(argv);
	free(lens);
	free(ttl);
	return rc;
}
