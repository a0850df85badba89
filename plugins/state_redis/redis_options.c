/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata of a state.redis component: Dapr's field names, their checks and the settings kept. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#ifdef HAVE_CONFIG_H
#include "config.h" /* HAVE_HIREDIS_SSL */
#endif

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redis_options.h"

#define RDS_DEFAULT_PORT 6379
#define RDS_DEFAULT_POOL_SIZE 8
/* A pool this large is a typo; each connection is a socket on the server too. */
#define RDS_MAX_POOL_SIZE 10000

/*
 * Every field Dapr's state.redis reads, with Dapr's names and defaults, so that a component
 * file written for daprd loads unchanged. Those this plugin does not act on say so; those it
 * cannot honour are refused in rds_options_parse() rather than silently dropped.
 */
const struct outrig_field rds_fields[] = {
	{ "redisHost", OUTRIG_FIELD_STRING, NULL, true, "host:port of one standalone Redis server" },
	{ "redisPort", OUTRIG_FIELD_INT, NULL, false, "port, used when redisHost has none (default 6379)" },
	{ "redisUsername", OUTRIG_FIELD_STRING, "", false, "ACL user name (Redis 6 or newer)" },
	{ "redisPassword", OUTRIG_FIELD_STRING, "", false, "password; empty: no AUTH" },
	{ "redisDB", OUTRIG_FIELD_INT, "0", false, "database number to SELECT" },
	{ "enableTLS", OUTRIG_FIELD_BOOL, "false", false, "TLS to Redis: not supported, true is refused" },
	{ "insecureSkipTLSVerify", OUTRIG_FIELD_BOOL, "false", false, "TLS only; ignored" },
	{ "clientCert", OUTRIG_FIELD_STRING, NULL, false, "TLS only; ignored" },
	{ "clientKey", OUTRIG_FIELD_STRING, NULL, false, "TLS only; ignored" },
	{ "redisType", OUTRIG_FIELD_STRING, "node", false, "node (cluster is refused)" },
	{ "failover", OUTRIG_FIELD_BOOL, "false", false, "Redis Sentinel: not supported, true is refused" },
	{ "sentinelMasterName", OUTRIG_FIELD_STRING, NULL, false, "Sentinel only; ignored" },
	{ "sentinelUsername", OUTRIG_FIELD_STRING, NULL, false, "Sentinel only; ignored" },
	{ "sentinelPassword", OUTRIG_FIELD_STRING, NULL, false, "Sentinel only; ignored" },
	{ "redisMaxRetries", OUTRIG_FIELD_INT, "3", false, "ignored: failed writes are never retried",
	  "maxRetries" },
	{ "redisMinRetryInterval", OUTRIG_FIELD_DURATION, "8ms", false, "ignored" },
	{ "redisMaxRetryInterval", OUTRIG_FIELD_DURATION, "2s", false, "ignored", "maxRetryBackoff" },
	{ "dialTimeout", OUTRIG_FIELD_DURATION, "5s", false, "time limit for opening a connection" },
	{ "readTimeout", OUTRIG_FIELD_DURATION, "3s", false,
	  "time limit for Redis's answer to each command; negative: none" },
	{ "writeTimeout", OUTRIG_FIELD_DURATION, NULL, false,
	  "time limit for sending each command (default: readTimeout); negative: none" },
	{ "poolSize", OUTRIG_FIELD_INT, "8", false, "most connections open at once" },
	{ "poolTimeout", OUTRIG_FIELD_DURATION, NULL, false,
	  "how long a request waits for a free connection (default: readTimeout + 1s)" },
	{ "maxConnAge", OUTRIG_FIELD_DURATION, NULL, false, "ignored" },
	{ "minIdleConns", OUTRIG_FIELD_INT, NULL, false, "ignored: connections open when first needed" },
	{ "idleCheckFrequency", OUTRIG_FIELD_DURATION, NULL, false, "ignored" },
	{ "idleTimeout", OUTRIG_FIELD_DURATION, NULL, false, "ignored" },
	{ "ttlInSeconds", OUTRIG_FIELD_INT, NULL, false,
	  "TTL of saves that do not send ttlInSeconds; unset or <= 0: none" },
	{ "queryIndexes", OUTRIG_FIELD_STRING, NULL, false,
	  "RedisJSON query indexes; ignored (no query API)" },
	{ "useEntraID", OUTRIG_FIELD_BOOL, "false", false,
	  "Microsoft Entra ID: not supported, true is refused" },
	/* Dapr's docs show these pub/sub fields in the state.redis template too. */
	{ "redeliverInterval", OUTRIG_FIELD_DURATION, NULL, false, "pub/sub only; ignored" },
	{ "processingTimeout", OUTRIG_FIELD_DURATION, NULL, false, "pub/sub only; ignored" },
	{ .name = NULL },
};

const char *rds_duration_text(int64_t ms, char *buf, size_t len)
{
	if (ms != 0 && ms % 3600000 == 0)
		snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
	else if (ms != 0 && ms % 60000 == 0)
		snprintf(buf, len, "%" PRId64 "m", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%" PRId64 "s", ms / 1000);
	else
		snprintf(buf, len, "%" PRId64 "ms", ms);
	return buf;
}

static bool rds_flag(const struct outrig_config *cfg, const char *name)
{
	return outrig_config_int(cfg, name, 0) != 0;
}

/* What the plugin cannot do is refused, never downgraded: clear text instead of TLS least of all. */
static int rds_refuse_unsupported(const struct outrig_config *cfg, struct outrig_error *err)
{
	const char *type = outrig_config_string(cfg, "redisType", "node");

	if (rds_flag(cfg, "enableTLS"))
#ifdef HAVE_HIREDIS_SSL
		return outrig_err(
			err, OUTRIG_EINVAL,
			"enableTLS is true, but this plugin does not implement TLS for Redis yet; "
			"connecting in clear text is refused — reach Redis through a local TLS tunnel "
			"(such as stunnel) and point redisHost at it with enableTLS set to false");
#else
		return outrig_err(
			err, OUTRIG_EINVAL,
			"enableTLS is true, but this outrig was built with hiredis <1.0, which has no "
			"TLS; connecting in clear text is refused — reach Redis through a local TLS "
			"tunnel (such as stunnel) and point redisHost at it with enableTLS set to false");
#endif
	if (strcasecmp(type, "cluster") == 0)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"redisType is \"cluster\", but this plugin talks to one standalone Redis "
			"server and does not follow Redis Cluster's slot redirections; point redisHost "
			"at a standalone server and set redisType to node (or remove it)");
	if (strcasecmp(type, "node") != 0)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"redisType is \"%s\"; the only type this plugin supports is node (the default)",
			type);
	if (rds_flag(cfg, "failover"))
		return outrig_err(err, OUTRIG_EINVAL,
				  "failover is true, but this plugin does not speak Redis Sentinel; point "
				  "redisHost at the master's host:port and set failover to false");
	if (rds_flag(cfg, "useEntraID"))
		return outrig_err(
			err, OUTRIG_EINVAL,
			"useEntraID is true, but this plugin cannot obtain Microsoft Entra ID tokens; "
			"authenticate with redisUsername and redisPassword and set useEntraID to false");
	return OUTRIG_OK;
}

/* A port as text: digits only, 1..65535. Returns it, or -1. */
static int rds_port_parse(const char *text, size_t len)
{
	long port = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		port = port * 10 + (text[i] - '0');
	}
	return port >= 1 && port <= 65535 ? (int)port : -1;
}

/*
 * Splits redisHost into host and port: "host", "host:port", "[v6]" or "[v6]:port". Without a
 * port, redisPort or 6379 applies. One host only: a list means Cluster or Sentinel.
 */
static int rds_host_parse(const struct outrig_config *cfg, const struct outrig_host *host,
			  struct outrig_handle *self, struct rds_options *o, struct outrig_error *err)
{
	const char *text = outrig_config_string(cfg, "redisHost", "");
	int64_t port_field = outrig_config_int(cfg, "redisPort", 0);
	const char *name = text, *colon = NULL, *end;
	size_t name_len;
	int port = -1;

	if (text[0] == '\0')
		return outrig_err(
			err, OUTRIG_EINVAL,
			"redisHost is empty; set it to the server's host:port, such as localhost:6379");
	if (strchr(text, ',') != NULL)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"redisHost lists several servers (\"%s\"), as a Redis Cluster or Sentinel "
			"setup does; this plugin connects to one standalone server: give one host:port",
			text);
	if (strstr(text, "://") != NULL)
		return outrig_err(err, OUTRIG_EINVAL,
				  "redisHost is \"%s\", a URL; give host:port, such as localhost:6379", text);
	if (text[0] == '[') {
		end = strchr(text, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return outrig_err(err, OUTRIG_EINVAL,
					  "redisHost \"%s\" is not [address]:port; write IPv6 addresses as "
					  "[::1]:6379",
					  text);
		name = text + 1;
		name_len = (size_t)(end - name);
		colon = end[1] == ':' ? end + 1 : NULL;
	} else {
		colon = strchr(text, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return outrig_err(err, OUTRIG_EINVAL,
					  "redisHost \"%s\" has several colons; write an IPv6 address in "
					  "brackets with its port, such as [::1]:6379",
					  text);
		name_len = colon != NULL ? (size_t)(colon - text) : strlen(text);
	}
	if (name_len == 0)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"redisHost \"%s\" has no host name; write host:port, such as localhost:6379", text);
	if (colon != NULL) {
		port = rds_port_parse(colon + 1, strlen(colon + 1));
		if (port < 0)
			return outrig_err(err, OUTRIG_EINVAL,
					  "the port in redisHost \"%s\" is not a number from 1 to 65535",
					  text);
		if (port_field != 0 && port_field != port)
			host->log(self, OUTRIG_LOG_WARN,
				  "redisHost \"%s\" has port %d; redisPort %" PRId64 " is ignored", text,
				  port, port_field);
	} else if (port_field != 0) {
		if (port_field < 1 || port_field > 65535)
			return outrig_err(err, OUTRIG_EINVAL,
					  "redisPort is %" PRId64 "; use a port from 1 to 65535", port_field);
		port = (int)port_field;
	} else {
		port = RDS_DEFAULT_PORT;
	}

	o->host = strndup(name, name_len);
	o->port = port;
	if (o->host == NULL || asprintf(&o->where, text[0] == '[' ? "[%s]:%d" : "%s:%d", o->host, port) < 0) {
		o->where = NULL;
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	return OUTRIG_OK;
}

/* Timeouts follow go-redis, which daprd uses: 0 means the default, negative means none. */
static void rds_timeouts(const struct outrig_config *cfg, struct rds_options *o)
{
	o->dial_timeout_ms = outrig_config_int(cfg, "dialTimeout", 5000);
	if (o->dial_timeout_ms <= 0)
		o->dial_timeout_ms = 5000;
	o->read_timeout_ms = outrig_config_int(cfg, "readTimeout", 3000);
	if (o->read_timeout_ms == 0)
		o->read_timeout_ms = 3000;
	o->write_timeout_ms = outrig_config_int(cfg, "writeTimeout", 0);
	if (o->write_timeout_ms == 0)
		o->write_timeout_ms = o->read_timeout_ms;
	o->pool_timeout_ms = outrig_config_int(cfg, "poolTimeout", 0);
	if (o->pool_timeout_ms <= 0)
		o->pool_timeout_ms = o->read_timeout_ms > 0 ? o->read_timeout_ms + 1000 : 4000;
}

int rds_options_parse(const struct outrig_config *cfg, const struct outrig_host *host,
		      struct outrig_handle *self, struct rds_options *o, struct outrig_error *err)
{
	const char *indexes = outrig_config_string(cfg, "queryIndexes", "");
	int rc;

	memset(o, 0, sizeof(*o));
	rc = rds_refuse_unsupported(cfg, err);
	if (rc == OUTRIG_OK)
		rc = rds_host_parse(cfg, host, self, o, err);
	if (rc != OUTRIG_OK)
		return rc;

	o->username = strdup(outrig_config_string(cfg, "redisUsername", ""));
	o->password = strdup(outrig_config_string(cfg, "redisPassword", ""));
	if (o->username == NULL || o->password == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");

	o->db = outrig_config_int(cfg, "redisDB", 0);
	if (o->db < 0 || o->db > INT32_MAX)
		return outrig_err(err, OUTRIG_EINVAL,
				  "redisDB is %" PRId64 "; use a database number from 0 (the default) to the "
				  "server's databases setting minus one",
				  o->db);

	o->pool_size = outrig_config_int(cfg, "poolSize", RDS_DEFAULT_POOL_SIZE);
	if (o->pool_size <= 0)
		o->pool_size = RDS_DEFAULT_POOL_SIZE;
	if (o->pool_size > RDS_MAX_POOL_SIZE)
		return outrig_err(err, OUTRIG_EINVAL, "poolSize is %" PRId64 "; use at most %d connections",
				  o->pool_size, RDS_MAX_POOL_SIZE);
	rds_timeouts(cfg, o);

	o->default_ttl_s = outrig_config_int(cfg, "ttlInSeconds", 0);
	if (o->default_ttl_s > OUTRIG_STATE_MAX_TTL_SECONDS)
		return outrig_err(err, OUTRIG_EINVAL,
				  "ttlInSeconds is %" PRId64 "; use at most %lld seconds, or -1 for no TTL",
				  o->default_ttl_s, OUTRIG_STATE_MAX_TTL_SECONDS);

	if (indexes[0] != '\0')
		host->log(self, OUTRIG_LOG_WARN,
			  "queryIndexes is ignored: this plugin has no query API (RedisJSON)");
	return OUTRIG_OK;
}

void rds_options_free(struct rds_options *o)
{
	free(o->host);
	free(o->where);
	free(o->username);
	free(o->password);
	memset(o, 0, sizeof(*o));
}
