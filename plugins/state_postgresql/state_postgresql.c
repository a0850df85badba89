/* SPDX-License-Identifier: Apache-2.0 */
/* state.postgresql: Dapr's v1 PostgreSQL state store, sharing its tables with daprd. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include <outrig/plugin.h>

#include "pg_conn.h"
#include "pg_conninfo.h"
#include "pg_schema.h"
#include "pg_store.h"

/* The build passes the package version; an out-of-tree build may not. */
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.1.0"
#endif

/* How often create() tries again while the server does not answer. */
#define PGS_CONNECT_RETRY_MS 200

/* Azure AD and AWS IAM settings daprd reads: declared so daprd's files load without warnings. */
#define PGS_UNUSED_AUTH "cloud authentication setting; unused (only useAzureAD/useAWSIAM false is supported)"

static const struct outrig_field pgs_fields[] = {
	{ "connectionString", OUTRIG_FIELD_STRING, NULL, false,
	  "libpq \"key=value\" settings or a postgres:// URL (required unless host or hostaddr is given)",
	  "url" },
	{ "tableName", OUTRIG_FIELD_STRING, "state", false,
	  "table that holds the state; may be schema.table" },
	{ "metadataTableName", OUTRIG_FIELD_STRING, "dapr_metadata", false,
	  "table of the migration level and last cleanup, shared with daprd; may be schema.table" },
	{ "timeout", OUTRIG_FIELD_DURATION, "20s", false, "time limit for each operation (at least 1s)",
	  "timeoutInSeconds" },
	{ "cleanupInterval", OUTRIG_FIELD_DURATION, "1h", false,
	  "how often expired rows are deleted; 0 or negative disables", "cleanupIntervalInSeconds" },
	{ "maxConns", OUTRIG_FIELD_INT, "0", false,
	  "most connections the component opens; 0: the greater of 4 and the number of CPUs" },
	{ "connectionMaxIdleTime", OUTRIG_FIELD_DURATION, NULL, false,
	  "close connections unused for this long; unset: keep them" },
	{ "queryExecMode", OUTRIG_FIELD_STRING, NULL, false,
	  "cache_statement (or unset): prepare each statement once per connection; exec, "
	  "simple_protocol, describe_exec, cache_describe: send it unnamed every time (for "
	  "PgBouncer in transaction mode)" },
	{ "host", OUTRIG_FIELD_STRING, NULL, false, "server host, if connectionString does not say" },
	{ "hostaddr", OUTRIG_FIELD_STRING, NULL, false,
	  "server IP address, if connectionString does not say" },
	{ "port", OUTRIG_FIELD_STRING, NULL, false, "server port, if connectionString does not say" },
	{ "database", OUTRIG_FIELD_STRING, NULL, false, "database name, if connectionString does not say" },
	{ "user", OUTRIG_FIELD_STRING, NULL, false, "user name, if connectionString does not say" },
	{ "password", OUTRIG_FIELD_STRING, NULL, false, "password, if connectionString does not say" },
	{ "sslRootCert", OUTRIG_FIELD_STRING, NULL, false,
	  "CA certificate file to verify the server with, if connectionString does not say" },
	{ "useAzureAD", OUTRIG_FIELD_BOOL, "false", false,
	  "Azure AD authentication: not supported, must be false" },
	{ "useAWSIAM", OUTRIG_FIELD_BOOL, "false", false,
	  "AWS IAM authentication: not supported, must be false" },
	{ "azureTenantId", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "azureClientId", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "azureClientSecret", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "azureCertificate", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "azureCertificateFile", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "azureCertificatePassword", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "azureEnvironment", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "region", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "awsRegion", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "accessKey", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "secretKey", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "sessionToken", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "awsAccessKey", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "awsSecretKey", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "awsSessionToken", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "assumeRoleArn", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "sessionName", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "trustAnchorArn", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ "trustProfileArn", OUTRIG_FIELD_STRING, NULL, false, PGS_UNUSED_AUTH },
	{ .name = NULL },
};

/* Dapr's separate connection fields and the libpq keyword each one sets. */
static const char *const pgs_conn_fields[][2] = {
	{ "host", "host" },
	{ "hostaddr", "hostaddr" },
	{ "port", "port" },
	{ "database", "dbname" },
	{ "user", "user" },
	{ "password", "password" },
	{ "sslRootCert", "sslrootcert" },
};
#define PGS_NCONN_FIELDS (sizeof(pgs_conn_fields) / sizeof(pgs_conn_fields[0]))

/* The pgx modes daprd accepts for queryExecMode. */
static const char *const pgs_exec_modes[] = {
	"cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol", NULL,
};

/*
 * Whether queryExecMode lets the store use named prepared statements. Of pgx's modes only
 * cache_statement, its default, makes them; the others exist for poolers that move a
 * client between server sessions, and get unnamed statements, which every session has.
 */
static bool pgs_wants_prepare(const struct outrig_config *cfg)
{
	const char *mode = outrig_config_string(cfg, "queryExecMode", "");

	return *mode == '\0' || strcmp(mode, "cache_statement") == 0;
}

/* Closes connections unused for connectionMaxIdleTime. */
static void pgs_trim(void *instance)
{
	struct pgs_store *s = instance;

	pgc_pool_trim(s->pool);
}

static void pgs_free(struct pgs_store *s)
{
	pgc_pool_destroy(s->pool);
	for (int i = 0; i < PGS_NSTMT; i++)
		free(s->sql[i]);
	free(s->component);
	free(s->table);
	free(s->meta_table);
	free(s);
}

/* Refuses settings outrig cannot honour, before anything connects. */
static int pgs_check_config(const struct outrig_config *cfg, const char *component, int64_t timeout_ms,
			    struct outrig_error *err)
{
	const char *conninfo = outrig_config_string(cfg, "connectionString", "");
	const char *mode = outrig_config_string(cfg, "queryExecMode", "");
	bool known_mode = *mode == '\0';

	if (*conninfo == '\0' && *outrig_config_string(cfg, "host", "") == '\0' &&
	    *outrig_config_string(cfg, "hostaddr", "") == '\0')
		return outrig_err(
			err, OUTRIG_EINVAL,
			"component \"%s\": connectionString is required; set it to libpq settings such "
			"as \"host=localhost user=postgres password=... dbname=dapr\" or a postgres:// URL",
			component);
	if (outrig_config_int(cfg, "useAzureAD", 0) != 0)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"component \"%s\": useAzureAD is true, but outrig's state.postgresql cannot get "
			"Azure AD tokens; authenticate with a password (in connectionString, "
			"PGPASSWORD or ~/.pgpass) and set useAzureAD to false",
			component);
	if (outrig_config_int(cfg, "useAWSIAM", 0) != 0)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"component \"%s\": useAWSIAM is true, but outrig's state.postgresql cannot get "
			"AWS IAM tokens; authenticate with a password (in connectionString, "
			"PGPASSWORD or ~/.pgpass) and set useAWSIAM to false",
			component);
	if (timeout_ms < 1000)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"component \"%s\": timeout is %lld ms; it must be at least 1s, as for daprd",
			component, (long long)timeout_ms);
	for (int i = 0; pgs_exec_modes[i] != NULL; i++)
		known_mode = known_mode || strcmp(mode, pgs_exec_modes[i]) == 0;
	if (!known_mode)
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": queryExecMode \"%s\" is not one of cache_statement, "
				  "cache_describe, describe_exec, exec or simple_protocol",
				  component, mode);
	if (*outrig_config_string(cfg, "tableName", "state") == '\0' ||
	    *outrig_config_string(cfg, "metadataTableName", "dapr_metadata") == '\0')
		return outrig_err(
			err, OUTRIG_EINVAL,
			"component \"%s\": tableName or metadataTableName is empty; set a table name or "
			"remove the field",
			component);
	return OUTRIG_OK;
}

static int pgs_make_pool(struct pgs_store *s, const struct outrig_config *cfg, struct outrig_error *err)
{
	const char *keywords[PGS_NCONN_FIELDS + 1], *values[PGS_NCONN_FIELDS + 1];
	const char *conninfo = outrig_config_string(cfg, "connectionString", "");
	char *normalized = NULL, dropped[256];
	int64_t max_conns = outrig_config_int(cfg, "maxConns", 0);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct pgc_options opts = { 0 };
	struct outrig_error why;
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < PGS_NCONN_FIELDS; i++) {
		keywords[n] = pgs_conn_fields[i][1];
		values[n++] = outrig_config_string(cfg, pgs_conn_fields[i][0], NULL);
	}
	keywords[n] = NULL;
	values[n] = NULL;
	/* daprd's default: the greater of 4 and the number of CPUs. */
	if (max_conns <= 0)
		max_conns = cpus > 4 ? cpus : 4;
	if (*conninfo != '\0') {
		normalized = pgci_normalize(conninfo, dropped, sizeof(dropped));
		if (normalized == NULL)
			return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory",
					  s->component);
		if (dropped[0] != '\0')
			s->host->log(
				s->self, OUTRIG_LOG_INFO,
				"connectionString: ignoring %s (settings of daprd's Go driver that libpq does "
				"not have; maxConns and connectionMaxIdleTime size the pool)",
				dropped);
	}
	opts.conninfo = normalized;
	opts.keywords = keywords;
	opts.values = values;
	opts.max_conns = max_conns > 10000 ? 10000 : (int)max_conns;
	opts.max_idle_ms = outrig_config_int(cfg, "connectionMaxIdleTime", 0);
	opts.timeout_ms = s->timeout_ms;
	rc = pgc_pool_create(&opts, &s->pool, &why);
	free(normalized);
	if (rc != OUTRIG_OK)
		return outrig_err(err, rc, "component \"%s\": %s", s->component, why.message);
	return OUTRIG_OK;
}

static void pgs_sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Connects, retrying every PGS_CONNECT_RETRY_MS until initTimeout, as the server may still be starting. */
static int pgs_connect(struct pgs_store *s, const struct pgc_deadline *deadline, struct pgc_conn **c,
		       struct outrig_error *err)
{
	char where[256], limit[32];
	struct outrig_error why;
	const char *reason;
	int rc;

	for (;;) {
		int64_t left;

		rc = pgc_acquire(s->pool, deadline, c, &why);
		left = deadline->at_ms - pgc_now_ms();
		if (rc != OUTRIG_EUNAVAIL || left <= 0)
			break;
		pgs_sleep_ms(left < PGS_CONNECT_RETRY_MS ? left : PGS_CONNECT_RETRY_MS);
	}
	if (rc != OUTRIG_EUNAVAIL)
		return rc == OUTRIG_OK
			       ? rc
			       : outrig_err(err, rc, "component \"%s\": %s", s->component, why.message);
	/* why reads "cannot reach PostgreSQL at h:p: reason"; keep the reason and say how long we tried. */
	reason = strncmp(why.message, "cannot reach", 12) == 0 ? strstr(why.message, ": ") : NULL;
	return outrig_err(
		err, OUTRIG_EUNAVAIL,
		"component \"%s\": cannot reach PostgreSQL at %s within %s (initTimeout): %s; check that "
		"the server is up and that connectionString is right",
		s->component, pgc_pool_where(s->pool, where, sizeof(where)),
		pgc_format_ms(deadline->limit_ms, limit, sizeof(limit)),
		reason != NULL ? reason + 2 : why.message);
}

/* Quotes the table names, migrates the tables and writes the statements, on the first connection. */
static int pgs_prepare(struct pgs_store *s, const struct outrig_config *cfg, struct pgc_conn *c,
		       const struct pgc_deadline *deadline, struct outrig_error *err)
{
	struct pgm_report report;
	struct outrig_error why;
	int rc;

	rc = pgm_quote_name(c->pg, "tableName", outrig_config_string(cfg, "tableName", "state"), &s->table,
			    &why);
	if (rc == OUTRIG_OK)
		rc = pgm_quote_name(c->pg, "metadataTableName",
				    outrig_config_string(cfg, "metadataTableName", "dapr_metadata"),
				    &s->meta_table, &why);
	if (rc != OUTRIG_OK)
		return outrig_err(err, rc, "component \"%s\": %s", s->component, why.message);
	if (strcmp(s->table, s->meta_table) == 0)
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": tableName and metadataTableName are both %s; give them "
				  "different names",
				  s->component, s->table);
	rc = pgm_migrate(s->pool, c, deadline, s->table, s->meta_table, &report, &why);
	if (rc != OUTRIG_OK)
		return outrig_err(err, rc, "component \"%s\": preparing table %s: %s", s->component, s->table,
				  why.message);
	if (report.from_version < PGM_SCHEMA_VERSION)
		s->host->log(s->self, OUTRIG_LOG_INFO,
			     "migrated table %s from level %d to %d (recorded in %s)", s->table,
			     report.from_version, report.to_version, s->meta_table);
	if (report.created_missing)
		s->host->log(
			s->self, OUTRIG_LOG_WARN,
			"%s says the tables are migrated, but table %s did not exist (another state table "
			"shares the metadata table?); created it",
			s->meta_table, s->table);
	if (pgs_prepare_statements(s) != OUTRIG_OK)
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", s->component);
	return OUTRIG_OK;
}

static int pgs_create(const struct outrig_host *host, struct outrig_handle *self,
		      const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	const char *component = cfg->component != NULL ? cfg->component : "";
	int64_t timeout_ms = outrig_config_int(cfg, "timeout", 20000);
	int64_t max_idle_ms = outrig_config_int(cfg, "connectionMaxIdleTime", 0);
	struct pgc_deadline deadline = pgc_deadline_in(outrig_config_init_timeout_ms(cfg), "initTimeout");
	struct pgc_conn *c = NULL;
	struct pgs_store *s;
	char where[256];
	int rc;

	rc = pgs_check_config(cfg, component, timeout_ms, err);
	if (rc != OUTRIG_OK)
		return rc;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->component = strdup(component)) == NULL) {
		free(s);
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", component);
	}
	s->host = host;
	s->self = self;
	s->timeout_ms = timeout_ms;
	s->cleanup_ms = outrig_config_int(cfg, "cleanupInterval", 3600000);
	s->prepare = pgs_wants_prepare(cfg);
	rc = pgs_make_pool(s, cfg, err);
	if (rc == OUTRIG_OK)
		rc = pgs_connect(s, &deadline, &c, err);
	if (rc == OUTRIG_OK)
		rc = pgs_prepare(s, cfg, c, &deadline, err);
	if (c != NULL)
		pgc_release(s->pool, c);
	if (rc == OUTRIG_OK && s->cleanup_ms > 0 && host->every(self, s->cleanup_ms, pgs_cleanup) != 0)
		rc = outrig_err(
			err, OUTRIG_EINVAL,
			"component \"%s\": the sidecar refused a cleanupInterval of %lld ms; use a shorter "
			"positive duration, or 0 to disable the cleanup",
			component, (long long)s->cleanup_ms);
	if (rc == OUTRIG_OK && max_idle_ms > 0 &&
	    host->every(self, max_idle_ms / 2 > 1000 ? max_idle_ms / 2 : 1000, pgs_trim) != 0)
		rc = outrig_err(
			err, OUTRIG_EINVAL,
			"component \"%s\": the sidecar refused a connectionMaxIdleTime of %lld ms; use a "
			"shorter duration",
			component, (long long)max_idle_ms);
	if (rc != OUTRIG_OK) {
		pgs_free(s);
		return rc;
	}
	host->log(self, OUTRIG_LOG_INFO, "using PostgreSQL at %s, table %s, metadata table %s",
		  pgc_pool_where(s->pool, where, sizeof(where)), s->table, s->meta_table);
	*instance = s;
	return OUTRIG_OK;
}

static void pgs_destroy(void *instance)
{
	if (instance != NULL)
		pgs_free(instance);
}

static const struct outrig_state_ops pgs_ops = {
	.struct_size = sizeof(struct outrig_state_ops),
	.features = OUTRIG_STATE_ETAG | OUTRIG_STATE_TRANSACTIONAL | OUTRIG_STATE_TTL,
	.get = pgs_get,
	.set = pgs_set,
	.delete = pgs_delete,
	.transact = pgs_transact,
};

static const char *const pgs_versions[] = { "v1", NULL };

static const struct outrig_plugin pgs_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "state.postgresql",
	.versions = pgs_versions,
	.plugin_version = PLUGIN_VERSION,
	.description = "PostgreSQL state store in daprd's v1 tables, with etags, TTLs and transactions",
	.fields = pgs_fields,
	/* Not serial: each operation takes its own connection from the pool. */
	.flags = 0,
	.create = pgs_create,
	.destroy = pgs_destroy,
	.state = &pgs_ops,
};

OUTRIG_PLUGIN(pgs_plugin)
