/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's state.postgresql v1 tables: naming them safely, creating and migrating them like daprd. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_schema.h"

/* daprd before its "lock" row took this advisory lock around its migrations. */
#define PGM_ADVISORY_LOCK "42"
/* Another process may create the same table at the same instant; the loser retries. */
#define PGM_ATTEMPTS 5
#define PGM_RETRY_MS 50

/* One column of daprd's v1 layout and the type format_type() prints for it. */
struct pgm_column {
	const char *name;
	const char *type;
};

static const struct pgm_column pgm_layout[] = {
	{ "key", "text" },
	{ "value", "jsonb" },
	{ "isbinary", "boolean" },
	{ "insertdate", "timestamp with time zone" },
	{ "updatedate", "timestamp with time zone" },
	{ "expiredate", "timestamp with time zone" },
};

/* Migration 1, as daprd words it (IF NOT EXISTS: tables from before the metadata table). */
#define PGM_CREATE_STATE                                                                                     \
	"CREATE TABLE IF NOT EXISTS %s (key text NOT NULL PRIMARY KEY, value jsonb NOT NULL, "               \
	"isbinary boolean NOT NULL, insertdate TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(), "            \
	"updatedate TIMESTAMP WITH TIME ZONE NULL)"

struct pgm_ctx {
	struct pgc_pool *pool;
	struct pgc_conn *conn;
	const struct pgc_deadline *deadline;
	struct outrig_error *err;
	char sqlstate[6]; /* of the last server error, "" if none */
};

/* Splits off one part of a name at *pp: unquoted folded to lower case, quoted unescaped. */
static int pgm_part(const char **pp, char *out, const char *field, const char *name, struct outrig_error *err)
{
	const char *p = *pp;
	size_t n = 0;

	if (*p == '"') {
		for (p++;; p++) {
			if (*p == '\0')
				return outrig_err(
					err, OUTRIG_EINVAL,
					"%s \"%s\" has an unterminated double quote; write it as table "
					"or schema.table",
					field, name);
			if (*p == '"' && p[1] != '"')
				break;
			if (*p == '"')
				p++;
			out[n++] = *p;
		}
		p++;
	} else {
		for (; *p != '\0' && *p != '.'; p++)
			out[n++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
	}
	out[n] = '\0';
	if (n == 0)
		return outrig_err(err, OUTRIG_EINVAL,
				  "%s \"%s\" has an empty name part; write it as table or schema.table",
				  field, name);
	if (*p != '\0' && *p != '.')
		return outrig_err(err, OUTRIG_EINVAL,
				  "%s \"%s\" has text after a quoted name; write it as table or schema.table",
				  field, name);
	*pp = p;
	return OUTRIG_OK;
}

int pgm_quote_name(PGconn *pg, const char *field, const char *name, char **sql, struct outrig_error *err)
{
	size_t len = strlen(name);
	char *part = malloc(len + 1), *out = malloc(2 * len + 8);
	const char *p = name;
	size_t used = 0;
	int rc = OUTRIG_OK;

	*sql = NULL;
	if (part == NULL || out == NULL) {
		rc = outrig_err(err, OUTRIG_ENOMEM, "out of memory");
		goto out;
	}
	out[0] = '\0';
	for (int parts = 0;; parts++) {
		char *quoted;

		if (parts == 2) {
			rc = outrig_err(
				err, OUTRIG_EINVAL,
				"%s \"%s\" has more than two parts; write it as table or schema.table", field,
				name);
			goto out;
		}
		rc = pgm_part(&p, part, field, name, err);
		if (rc != OUTRIG_OK)
			goto out;
		quoted = PQescapeIdentifier(pg, part, strlen(part));
		if (quoted == NULL) {
			rc = outrig_err(err, OUTRIG_EINVAL,
					"%s \"%s\" cannot be used as a PostgreSQL name: %s", field, name,
					PQerrorMessage(pg));
			goto out;
		}
		/* Quoting at most doubles each character, plus two quotes and a dot per part. */
		used += (size_t)snprintf(out + used, 2 * len + 8 - used, "%s%s", parts > 0 ? "." : "",
					 quoted);
		PQfreemem(quoted);
		if (*p == '\0')
			break;
		p++;
	}
	*sql = out;
	out = NULL;
out:
	free(part);
	free(out);
	return rc;
}

static char *pgm_sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *pgm_sql(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* Runs one statement; a server error becomes err (naming doing) and m->sqlstate. */
static int pgm_run(struct pgm_ctx *m, const char *doing, const char *sql, int nparams,
		   const char *const *values, PGresult **out)
{
	PGresult *res = NULL;
	struct outrig_error why;
	int rc;

	m->sqlstate[0] = '\0';
	if (out != NULL)
		*out = NULL;
	if (sql == NULL)
		return outrig_err(m->err, OUTRIG_ENOMEM, "out of memory while %s", doing);
	rc = pgc_exec(m->pool, m->conn, m->deadline, sql, nparams, values, &res, &why);
	if (rc != OUTRIG_OK)
		return outrig_err(m->err, rc, "%s: %s", doing, why.message);
	if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK) {
		if (out != NULL)
			*out = res;
		else
			PQclear(res);
		return OUTRIG_OK;
	}
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

		snprintf(m->sqlstate, sizeof(m->sqlstate), "%s", state != NULL ? state : "");
		if (strcmp(m->sqlstate, "42501") == 0)
			rc = outrig_err(
				m->err, OUTRIG_EUNAVAIL,
				"%s: %s (SQLSTATE 42501); grant the connecting user CREATE on the schema, "
				"or create the tables as their owner once",
				doing, primary != NULL ? primary : "permission denied");
		else if (strcmp(m->sqlstate, "3F000") == 0)
			rc = outrig_err(
				m->err, OUTRIG_EINVAL,
				"%s: %s (SQLSTATE 3F000); create the schema first (daprd does not create "
				"it either), or change the table name",
				doing, primary != NULL ? primary : "schema does not exist");
		else
			rc = outrig_err(m->err, OUTRIG_EUNAVAIL, "%s: %s (SQLSTATE %s)", doing,
					primary != NULL ? primary : "error", m->sqlstate);
	}
	PQclear(res);
	return rc;
}

/* Runs sql (owned here, freed) with no result to read. */
static int pgm_do(struct pgm_ctx *m, const char *doing, char *sql)
{
	int rc = pgm_run(m, doing, sql, 0, NULL, NULL);

	free(sql);
	return rc;
}

/* The level in the "migrations" row: what daprd's strconv.Atoi accepts, never negative. */
static int pgm_level(struct pgm_ctx *m, const char *meta_table, int *level)
{
	char *sql = pgm_sql("SELECT value FROM %s WHERE key = 'migrations'", meta_table);
	PGresult *res = NULL;
	const char *text, *p;
	long v = 0;
	int rc;

	rc = pgm_run(m, "reading the migration level", sql, 0, NULL, &res);
	free(sql);
	if (rc != OUTRIG_OK)
		return rc;
	*level = 0;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return OUTRIG_OK;
	}
	text = PQgetvalue(res, 0, 0);
	p = text + (*text == '+');
	for (; *p >= '0' && *p <= '9' && v < 1000000; p++)
		v = v * 10 + (*p - '0');
	if (*p != '\0' || p == text + (*text == '+')) {
		rc = outrig_err(
			m->err, OUTRIG_EINVAL,
			"the \"migrations\" row of %s holds \"%.40s\", not a migration level; fix or delete "
			"that row",
			meta_table, text);
		PQclear(res);
		return rc;
	}
	PQclear(res);
	*level = (int)v;
	return OUTRIG_OK;
}

static int pgm_set_level(struct pgm_ctx *m, const char *meta_table, int level)
{
	char *sql = pgm_sql("INSERT INTO %s (key, value) VALUES ('migrations', $1) "
			    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
			    meta_table);
	char text[16];
	const char *values[1] = { text };
	int rc;

	snprintf(text, sizeof(text), "%d", level);
	rc = pgm_run(m, "recording the migration level", sql, 1, values, NULL);
	free(sql);
	return rc;
}

/* Compares table's columns with daprd's v1 layout; *missing when the table does not exist. */
static int pgm_check_layout(struct pgm_ctx *m, const char *table, bool *missing)
{
	static const char sql[] =
		"SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
		"WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped";
	const char *values[1] = { table };
	PGresult *res = NULL;
	int rc;

	rc = pgm_run(m, "reading the state table's columns", sql, 1, values, &res);
	if (rc != OUTRIG_OK)
		return rc;
	*missing = PQntuples(res) == 0;
	for (size_t i = 0; !*missing && i < sizeof(pgm_layout) / sizeof(pgm_layout[0]); i++) {
		const char *found = NULL;

		for (int row = 0; row < PQntuples(res); row++)
			if (strcmp(PQgetvalue(res, row, 0), pgm_layout[i].name) == 0)
				found = PQgetvalue(res, row, 1);
		if (found == NULL || strcmp(found, pgm_layout[i].type) != 0) {
			rc = outrig_err(
				m->err, OUTRIG_EINVAL,
				"table %s exists but is not daprd's state.postgresql v1 layout: column "
				"%s is %s, expected %s (a v2 table, or another program's?); set "
				"tableName to another table",
				table, pgm_layout[i].name, found != NULL ? found : "missing",
				pgm_layout[i].type);
			break;
		}
	}
	PQclear(res);
	return rc;
}

/* One attempt, inside its own transaction; the caller rolls back on failure. */
static int pgm_attempt(struct pgm_ctx *m, const char *table, const char *meta_table,
		       struct pgm_report *report)
{
	bool missing = false;
	int level = 0, rc;

	rc = pgm_do(m, "starting the migration transaction", pgm_sql("BEGIN"));
	/* Held until COMMIT or ROLLBACK, so a crash mid-way never leaves it taken. */
	if (rc == OUTRIG_OK)
		rc = pgm_do(m, "taking the migration lock (advisory lock " PGM_ADVISORY_LOCK ")",
			    pgm_sql("SELECT pg_advisory_xact_lock(" PGM_ADVISORY_LOCK ")"));
	if (rc == OUTRIG_OK)
		rc = pgm_do(
			m, "creating the metadata table",
			pgm_sql("CREATE TABLE IF NOT EXISTS %s (key text NOT NULL PRIMARY KEY, value text NOT NULL)",
				meta_table));
	/* The row newer daprd locks instead of the advisory lock: take it too, in the same order. */
	if (rc == OUTRIG_OK)
		rc = pgm_do(
			m, "creating the migration lock row",
			pgm_sql("INSERT INTO %s (key, value) VALUES ('lock', 'lock') ON CONFLICT (key) DO NOTHING",
				meta_table));
	if (rc == OUTRIG_OK)
		rc = pgm_do(m, "locking the migration lock row",
			    pgm_sql("SELECT value FROM %s WHERE key = 'lock' FOR UPDATE", meta_table));
	/* Read only now: whoever held the locks before us may have migrated already. */
	if (rc == OUTRIG_OK)
		rc = pgm_level(m, meta_table, &level);
	if (rc != OUTRIG_OK)
		return rc;
	report->from_version = level;
	if (level < 1) {
		rc = pgm_do(m, "creating the state table", pgm_sql(PGM_CREATE_STATE, table));
		if (rc == OUTRIG_OK)
			rc = pgm_set_level(m, meta_table, 1);
	}
	if (rc == OUTRIG_OK && level < 2) {
		rc = pgm_do(
			m, "adding the expiredate column",
			pgm_sql("ALTER TABLE %s ADD COLUMN IF NOT EXISTS expiredate TIMESTAMP WITH TIME ZONE",
				table));
		if (rc == OUTRIG_OK)
			rc = pgm_set_level(m, meta_table, 2);
	}
	if (rc == OUTRIG_OK)
		rc = pgm_check_layout(m, table, &missing);
	/*
	 * daprd keeps one "migrations" row per metadata table, whatever tableName says, so a
	 * second state table sharing it looks migrated without existing: make it.
	 */
	if (rc == OUTRIG_OK && missing) {
		rc = pgm_do(m, "creating the state table", pgm_sql(PGM_CREATE_STATE, table));
		if (rc == OUTRIG_OK)
			rc = pgm_do(
				m, "adding the expiredate column",
				pgm_sql("ALTER TABLE %s ADD COLUMN IF NOT EXISTS expiredate TIMESTAMP WITH TIME ZONE",
					table));
		if (rc == OUTRIG_OK)
			rc = pgm_check_layout(m, table, &missing);
		report->created_missing = 1;
	}
	if (rc == OUTRIG_OK)
		rc = pgm_do(m, "committing the migration", pgm_sql("COMMIT"));
	report->to_version = level > PGM_SCHEMA_VERSION ? level : PGM_SCHEMA_VERSION;
	return rc;
}

/* Another sidecar's concurrent CREATE (of a daprd that does not take our lock) lost a race. */
static bool pgm_retryable(const char *sqlstate)
{
	return strcmp(sqlstate, "23505") == 0 || strcmp(sqlstate, "42P07") == 0 ||
	       strcmp(sqlstate, "40P01") == 0;
}

int pgm_migrate(struct pgc_pool *pool, struct pgc_conn *conn, const struct pgc_deadline *deadline,
		const char *table, const char *meta_table, struct pgm_report *report,
		struct outrig_error *err)
{
	struct pgm_ctx m = { .pool = pool, .conn = conn, .deadline = deadline, .err = err };
	int rc = OUTRIG_OK;

	memset(report, 0, sizeof(*report));
	for (int attempt = 1; attempt <= PGM_ATTEMPTS; attempt++) {
		rc = pgm_attempt(&m, table, meta_table, report);
		if (rc == OUTRIG_OK)
			return OUTRIG_OK;
		if (!conn->broken && PQtransactionStatus(conn->pg) != PQTRANS_IDLE) {
			struct pgm_ctx undo = m;
			struct outrig_error ignored;

			undo.err = &ignored;
			/* If even this fails, conn is broken and closing it rolls back. */
			pgm_do(&undo, "rolling back the migration", pgm_sql("ROLLBACK"));
		}
		if (conn->broken || !pgm_retryable(m.sqlstate) ||
		    pgc_now_ms() + PGM_RETRY_MS >= deadline->at_ms)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = PGM_RETRY_MS * 1000000L }, NULL);
	}
	return rc;
}
