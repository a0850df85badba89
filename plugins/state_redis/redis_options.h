/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata of a state.redis component: Dapr's field names, their checks and the settings kept. */
#ifndef OUTRIG_STATE_REDIS_OPTIONS_H
#define OUTRIG_STATE_REDIS_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <outrig/plugin.h>

/* What create() keeps of a component's metadata, after defaults and checks. */
struct rds_options {
	char *host;		  /* name or address, without IPv6 brackets */
	int port;		  /* 1..65535 */
	char *where;		  /* "host:port" as written, for messages */
	char *username;		  /* "" = no ACL user (AUTH with the password only) */
	char *password;		  /* "" = no AUTH */
	int64_t db;		  /* SELECTed after connecting when not 0 */
	int64_t dial_timeout_ms;  /* > 0 */
	int64_t read_timeout_ms;  /* <= 0: wait for ever */
	int64_t write_timeout_ms; /* <= 0: wait for ever */
	int64_t pool_size;	  /* > 0 */
	int64_t pool_timeout_ms;  /* > 0 */
	int64_t default_ttl_s;	  /* ttlInSeconds of the component; <= 0: none */
};

/* Dapr's state.redis metadata fields, every one of them, so a daprd file loads without warnings. */
extern const struct outrig_field rds_fields[];

/*
 * Fills o from cfg, refusing what this plugin does not do (TLS, cluster, Sentinel, Entra ID)
 * with a message that says what to do instead. Returns 0 or a negative outrig_status; err does
 * not name the component (the core adds it).
 * Ownership: o's strings are malloc'd; free them with rds_options_free(), also after a failure.
 * Thread: the main thread (create).
 */
int rds_options_parse(const struct outrig_config *cfg, const struct outrig_host *host,
		      struct outrig_handle *self, struct rds_options *o, struct outrig_error *err);

/* Frees o's strings; safe on a zeroed or partly filled o. Thread: any. */
void rds_options_free(struct rds_options *o);

/* Writes a duration in milliseconds the way Dapr's YAML spells it ("5s", "1500ms"). Thread: any. */
const char *rds_duration_text(int64_t ms, char *buf, size_t len);

#endif /* OUTRIG_STATE_REDIS_OPTIONS_H */
