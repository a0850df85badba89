/* SPDX-License-Identifier: Apache-2.0 */
/* state.postgresql's operations: the SQL each runs, etags, first-write, transactions and their errors. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "pg_store.h"
#include "pg_values.h"

/* The cleanup's DELETE may have a backlog to clear: it gets at least this long. */
#define PGS_CLEANUP_MIN_MS 60000
/* Keys in messages are cut here: a key too long for the index is too long to read, too. */
#define PGS_SHOWN_KEY 96
/* Keys shorter than this always fit the btree index (2704 bytes an entry), compressed or not. */
#define PGS_LONG_KEY 2000

#define PGS_LIVE "(expiredate IS NULL OR expiredate > now())"
#define PGS_EXPIRY "now() + $4::bigint * interval '1 second'"
#define PGS_INSERT                                                                                               \
	"INSERT INTO %s AS t (key, value, isbinary, expiredate) VALUES ($1, $2::jsonb, $3::boolean, " PGS_EXPIRY \
	") ON CONFLICT (key) DO UPDATE SET value = excluded.value, isbinary = excluded.isbinary, "               \
	"updatedate = now(), expiredate = excluded.expiredate"

/*
 * Each statement's SQL template, whose first %s is the state table (the metadata table for
 * PGS_CLEANUP_MARK), and the start of the name it is prepared under. The cleanup's
 * statements have none: they run once an interval on whichever connection is free, so
 * preparing them would cost a round trip each time and save nothing.
 */
static const struct {
	const char *name;
	const char *sql;
} pgs_templates[PGS_NSTMT] = {
	[PGS_GET] = { "outrig_get",
		      "SELECT value, isbinary, xmin::text, (extract(epoch FROM expiredate) * 1000)::bigint "
		      "FROM %s WHERE key = $1 AND " PGS_LIVE },
	[PGS_UPSERT] = { "outrig_upsert", PGS_INSERT },
	/* First-write: the insert may only replace a row that has expired. */
	[PGS_INSERT_NEW] = { "outrig_insert_new",
			     PGS_INSERT " WHERE t.expiredate IS NOT NULL AND t.expiredate <= now()" },
	[PGS_UPDATE_ETAG] = { "outrig_update_etag",
			      "UPDATE %s SET value = $2::jsonb, isbinary = $3::boolean, updatedate = now(), "
			      "expiredate = " PGS_EXPIRY " WHERE key = $1 AND xmin = $5::xid AND " PGS_LIVE },
	[PGS_DELETE] = { "outrig_delete", "DELETE FROM %s WHERE key = $1" },
	[PGS_DELETE_ETAG] = { "outrig_delete_etag",
			      "DELETE FROM %s WHERE key = $1 AND xmin = $2::xid AND " PGS_LIVE },
	/*
	 * daprd's "last-cleanup" row: updated (and the cleanup run) only if the last one is
	 * older than $1 ms, atomically, so one of several sidecars cleans per interval.
	 */
	[PGS_CLEANUP_MARK] = { NULL,
			       "INSERT INTO %s AS m (key, value) VALUES ('last-cleanup', now()::text) "
			       "ON CONFLICT (key) DO UPDATE SET value = now()::text WHERE "
			       "(extract(epoch FROM now() - m.value::timestamp with time zone) * 1000)::bigint > "
			       "$1::bigint" },
	[PGS_CLEANUP_DELETE] = { NULL,
				 "DELETE FROM %s WHERE expiredate IS NOT NULL AND expiredate <= now()" },
};

/* A connection keeps one bit per statement of the store to know which it has prepared. */
_Static_assert(PGS_NSTMT <= PGC_MAX_STMTS, "more statements than pgc_conn.prepared has bits");

/* A template with its one "%s" replaced by a quoted table name. Ownership: the caller frees. */
static char *pgs_render(const char *template, const char *table)
{
	const char *at = strstr(template, "%s");
	size_t head = (size_t)(at - template), len = strlen(template) - 2 + strlen(table);
	char *sql = malloc(len + 1);

	if (sql == NULL)
		return NULL;
	memcpy(sql, template, head);
	strcpy(sql + head, table);
	strcat(sql + head, at + 2);
	return sql;
}

/* 64-bit FNV-1a: short, and plenty to tell a handful of statements apart. */
static uint64_t pgs_hash(const char *text)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
		h = (h ^ *p) * UINT64_C(0x100000001b3);
	return h;
}

int pgs_prepare_statements(struct pgs_store *s)
{
	for (int i = 0; i < PGS_NSTMT; i++) {
		s->sql[i] =
			pgs_render(pgs_templates[i].sql, i == PGS_CLEANUP_MARK ? s->meta_table : s->table);
		if (s->sql[i] == NULL)
			return OUTRIG_ENOMEM;
		s->name[i][0] = '\0';
		if (pgs_templates[i].name != NULL)
			snprintf(s->name[i], sizeof(s->name[i]), "%s_%016" PRIx64, pgs_templates[i].name,
				 pgs_hash(s->sql[i]));
	}
	return OUTRIG_OK;
}

/* A key as messages show it: quoted, and cut short when long. */
static const char *pgs_show(const char *key, char *buf, size_t size)
{
	size_t len = strlen(key);

	if (len <= PGS_SHOWN_KEY)
		snprintf(buf, size, "\"%s\"", key);
	else
		snprintf(buf, size, "\"%.*s...\" (%zu bytes)", PGS_SHOWN_KEY, key, len);
	return buf;
}

/* " (operation 2 of the transaction)" when inside one, so the message names the failing op. */
static const char *pgs_where(size_t index, size_t count, char *buf, size_t size)
{
	if (count > 1)
		snprintf(buf, size, " (operation %zu of the transaction)", index + 1);
	else
		buf[0] = '\0';
	return buf;
}

/* Whether the server refused the value as jsonb (and would take it as a base64 string). */
static bool pgs_value_refused(const char *sqlstate)
{
	static const char *const states[] = { "22P02", "22P05", "22021", "22003", "54001", NULL };

	for (int i = 0; states[i] != NULL; i++)
		if (strcmp(sqlstate, states[i]) == 0)
			return true;
	return false;
}

/* Turns a server's error answer into a status and a message naming the component, action and key. */
static int pgs_server_error(const struct pgs_store *s, const PGresult *res, const char *doing,
			    const char *key, struct outrig_error *err)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	char shown[PGS_SHOWN_KEY + 48], doing_key[PGS_SHOWN_KEY + 96];

	state = state != NULL ? state : "";
	primary = primary != NULL ? primary : "no message";
	if (key != NULL)
		snprintf(doing_key, sizeof(doing_key), "%s key %s", doing,
			 pgs_show(key, shown, sizeof(shown)));
	else
		snprintf(doing_key, sizeof(doing_key), "%s", doing);

	/* By code and length too: the server's messages may be in another language. */
	if (strcmp(state, "54000") == 0 &&
	    (strstr(primary, "index row") != NULL || (key != NULL && strlen(key) > PGS_LONG_KEY)))
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": %s: the key is too long for the PostgreSQL store, whose "
				  "primary-key index holds keys of at most 2704 bytes after compression "
				  "(about 2.7 KB; PostgreSQL says: %s); use a shorter key",
				  s->component, doing_key, primary);
	if (strcmp(state, "22021") == 0 || strcmp(state, "22P05") == 0)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"component \"%s\": %s: PostgreSQL cannot store this text (%s); keys must be "
			"valid UTF-8 that the database's encoding can hold",
			s->component, doing_key, primary);
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "component \"%s\": %s: PostgreSQL aborted it because of a concurrent "
				  "transaction (%s, SQLSTATE %s); nothing was written, retry",
				  s->component, doing_key, primary, state);
	/* Prepared a moment ago and gone again: the statements reach another session each time. */
	if (strcmp(state, "26000") == 0)
		return outrig_err(
			err, OUTRIG_EUNAVAIL,
			"component \"%s\": %s: PostgreSQL lost a prepared statement as soon as it "
			"was made (%s); a pooler in transaction mode (PgBouncer's pool_mode=transaction) "
			"does this: set queryExecMode to exec, or make the pooler keep prepared "
			"statements (PgBouncer 1.21's max_prepared_statements)",
			s->component, doing_key, primary);
	if (strcmp(state, "57014") == 0)
		return outrig_err(err, OUTRIG_ETIMEDOUT,
				  "component \"%s\": %s: the server cancelled the statement (%s); check "
				  "statement_timeout and lock_timeout of the database user",
				  s->component, doing_key, primary);
	if (strcmp(state, "42P01") == 0)
		return outrig_err(
			err, OUTRIG_EUNAVAIL,
			"component \"%s\": %s: table %s is gone (%s); restart the sidecar to create "
			"it again",
			s->component, doing_key, s->table, primary);
	if (strcmp(state, "42501") == 0 || strcmp(state, "25006") == 0 || strncmp(state, "53", 2) == 0 ||
	    strncmp(state, "57P", 3) == 0 || strncmp(state, "08", 2) == 0)
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "component \"%s\": %s: PostgreSQL refused: %s (SQLSTATE %s); check the "
				  "server and the user's rights on %s",
				  s->component, doing_key, primary, state, s->table);
	return outrig_err(
		err, OUTRIG_EINTERNAL,
		"component \"%s\": %s: unexpected PostgreSQL error: %s (SQLSTATE %s); please report "
		"it with this message",
		s->component, doing_key, primary, state);
}

/* Wraps a pool failure (no connection, timeout, lost connection) with component, action and key. */
static int pgs_transport_error(const struct pgs_store *s, int rc, const struct outrig_error *why,
			       const char *doing, const char *key, struct outrig_error *err)
{
	char shown[PGS_SHOWN_KEY + 48] = "";
	const char *hint = rc == OUTRIG_ETIMEDOUT
				   ? "raise timeout, or look for locks and slow statements on the server"
			   : rc == OUTRIG_EUNAVAIL ? "check that PostgreSQL is up and reachable"
						   : "give the sidecar more memory";

	if (key != NULL)
		pgs_show(key, shown, sizeof(shown));
	return outrig_err(err, rc, "component \"%s\": %s%s%s: %s; %s", s->component, doing,
			  key != NULL ? " key " : "", shown, why->message, hint);
}

/*
 * Runs statement id and accepts only a successful answer, which it leaves in *res.
 * *sqlstate (6 bytes) gets the SQLSTATE of an error answer, "" otherwise.
 */
static int pgs_exec(struct pgs_store *s, struct pgc_conn *c, const struct pgc_deadline *deadline,
		    enum pgs_stmt id, int nparams, const char *const *values, PGresult **res,
		    const char *doing, const char *key, char *sqlstate, struct outrig_error *err)
{
	struct outrig_error why;
	const char *state;
	int rc;

	sqlstate[0] = '\0';
	if (s->prepare && s->name[id][0] != '\0') {
		struct pgc_stmt stmt = { .name = s->name[id], .sql = s->sql[id], .bit = (unsigned)id };

		rc = pgc_exec_prepared(s->pool, c, deadline, &stmt, nparams, values, res, &why);
	} else {
		rc = pgc_exec(s->pool, c, deadline, s->sql[id], nparams, values, res, &why);
	}
	if (rc != OUTRIG_OK)
		return pgs_transport_error(s, rc, &why, doing, key, err);
	if (PQresultStatus(*res) == PGRES_COMMAND_OK || PQresultStatus(*res) == PGRES_TUPLES_OK)
		return OUTRIG_OK;
	state = PQresultErrorField(*res, PG_DIAG_SQLSTATE);
	snprintf(sqlstate, 6, "%s", state != NULL ? state : "");
	rc = pgs_server_error(s, *res, doing, key, err);
	PQclear(*res);
	*res = NULL;
	return rc;
}

/* Runs a fixed statement (BEGIN, COMMIT, ROLLBACK) that has no parameters. */
static int pgs_command(struct pgs_store *s, struct pgc_conn *c, const struct pgc_deadline *deadline,
		       const char *sql, const char *doing, struct outrig_error *err)
{
	struct outrig_error why;
	PGresult *res = NULL;
	int rc = pgc_exec(s->pool, c, deadline, sql, 0, NULL, &res, &why);

	if (rc != OUTRIG_OK)
		return pgs_transport_error(s, rc, &why, doing, NULL, err);
	rc = PQresultStatus(res) == PGRES_COMMAND_OK ? OUTRIG_OK : pgs_server_error(s, res, doing, NULL, err);
	PQclear(res);
	return rc;
}

static bool pgs_rows_changed(const PGresult *res)
{
	const char *n = PQcmdTuples((PGresult *)res);

	return n != NULL && *n != '\0' && strcmp(n, "0") != 0;
}

static int pgs_conflict(const struct pgs_store *s, const char *key, size_t index, size_t count,
			bool first_write, struct outrig_error *err)
{
	char shown[PGS_SHOWN_KEY + 48], where[64];

	pgs_show(key, shown, sizeof(shown));
	pgs_where(index, count, where, sizeof(where));
	if (first_write)
		return outrig_err(
			err, OUTRIG_ECONFLICT,
			"component \"%s\": key %s%s already exists and first-write concurrency does "
			"not overwrite it; send its etag to update it",
			s->component, shown, where);
	return outrig_err(err, OUTRIG_ECONFLICT,
			  "component \"%s\": key %s%s: the etag does not match: the key does not exist, has "
			  "expired, or changed since you read it; read it again for the current etag",
			  s->component, shown, where);
}

/* An etag this store issued, or EBADETAG; etag is the caller's, text gets it in canonical form. */
static int pgs_etag(const struct pgs_store *s, const char *key, const char *etag, char *text, size_t size,
		    struct outrig_error *err)
{
	char shown[PGS_SHOWN_KEY + 48];
	uint32_t xmin;

	if (!pgv_parse_etag(etag, &xmin))
		return outrig_err(
			err, OUTRIG_EBADETAG,
			"component \"%s\": key %s: etag \"%.64s\" is not one this store issues "
			"(the row's xmin: a decimal number up to 4294967295); read the key for its etag",
			s->component, pgs_show(key, shown, sizeof(shown)), etag);
	snprintf(text, size, "%" PRIu32, xmin);
	return OUTRIG_OK;
}

/*
 * Saves one key on c. binary chooses how the value goes in. sqlstate (6 bytes) gets the
 * SQLSTATE of the server's error answer, "" if there was none: when it is one of
 * pgs_value_refused's, the server would not take the value as jsonb, nothing was written,
 * and the caller may send it again as binary.
 */
static int pgs_upsert(struct pgs_store *s, struct pgc_conn *c, const struct pgc_deadline *deadline,
		      const struct outrig_state_set *req, size_t index, size_t count, bool binary,
		      char *sqlstate, struct outrig_error *err)
{
	bool has_etag = req->etag != NULL && req->etag[0] != '\0';
	bool first_write = !has_etag && req->concurrency == OUTRIG_FIRST_WRITE;
	enum pgs_stmt id = has_etag ? PGS_UPDATE_ETAG : first_write ? PGS_INSERT_NEW : PGS_UPSERT;
	char etag[16] = "", ttl[32];
	const char *values[5];
	PGresult *res = NULL;
	char *value;
	int rc;

	sqlstate[0] = '\0';
	if (req->value_len > 0 && req->value == NULL)
		return outrig_err(err, OUTRIG_EINVAL, "component \"%s\": a value has a length but no bytes",
				  s->component);
	if (has_etag && (rc = pgs_etag(s, req->key, req->etag, etag, sizeof(etag), err)) != OUTRIG_OK)
		return rc;
	if (binary) {
		value = pgv_binary_json(req->value, req->value_len);
	} else {
		/* libpq wants text parameters NUL-terminated; jsonb-ready bytes hold no NUL. */
		value = malloc(req->value_len + 1);
		if (value != NULL) {
			memcpy(value, req->value, req->value_len);
			value[req->value_len] = '\0';
		}
	}
	if (value == NULL)
		return outrig_err(err, OUTRIG_ENOMEM,
				  "component \"%s\": out of memory encoding a %zu-byte value", s->component,
				  req->value_len);
	/* No TTL, or Dapr's -1: the row never expires, whatever it had before. */
	snprintf(ttl, sizeof(ttl), "%lld", (long long)req->ttl_seconds);
	values[0] = req->key;
	values[1] = value;
	values[2] = binary ? "true" : "false";
	values[3] = req->has_ttl && req->ttl_seconds > 0 ? ttl : NULL;
	values[4] = etag;
	rc = pgs_exec(s, c, deadline, id, has_etag ? 5 : 4, values, &res, "saving", req->key, sqlstate, err);
	free(value);
	if (rc != OUTRIG_OK)
		return rc;
	if (id != PGS_UPSERT && !pgs_rows_changed(res))
		rc = pgs_conflict(s, req->key, index, count, first_write, err);
	PQclear(res);
	return rc;
}

/* Deletes one key on c; sqlstate as for pgs_upsert. */
static int pgs_remove(struct pgs_store *s, struct pgc_conn *c, const struct pgc_deadline *deadline,
		      const struct outrig_state_delete *req, size_t index, size_t count, char *sqlstate,
		      struct outrig_error *err)
{
	bool has_etag = req->etag != NULL && req->etag[0] != '\0';
	char etag[16] = "";
	const char *values[2] = { req->key, etag };
	PGresult *res = NULL;
	int rc;

	sqlstate[0] = '\0';
	if (has_etag && (rc = pgs_etag(s, req->key, req->etag, etag, sizeof(etag), err)) != OUTRIG_OK)
		return rc;
	rc = pgs_exec(s, c, deadline, has_etag ? PGS_DELETE_ETAG : PGS_DELETE, has_etag ? 2 : 1, values, &res,
		      "deleting", req->key, sqlstate, err);
	if (rc != OUTRIG_OK)
		return rc;
	/* Without an etag, deleting a missing key is success, as in Dapr. */
	if (has_etag && !pgs_rows_changed(res))
		rc = pgs_conflict(s, req->key, index, count, false, err);
	PQclear(res);
	return rc;
}

static int pgs_acquire(struct pgs_store *s, const struct pgc_deadline *deadline, struct pgc_conn **c,
		       const char *doing, const char *key, struct outrig_error *err)
{
	struct outrig_error why;
	int rc = pgc_acquire(s->pool, deadline, c, &why);

	return rc == OUTRIG_OK ? OUTRIG_OK : pgs_transport_error(s, rc, &why, doing, key, err);
}

/* Copies a found row into out: the bytes (decoded when isbinary), the etag and the expiry. */
static int pgs_fill(struct pgs_store *s, const PGresult *res, const char *key, struct outrig_state_value *out,
		    struct outrig_error *err)
{
	const char *value = PQgetvalue(res, 0, 0), *etag = PQgetvalue(res, 0, 2);
	size_t len = (size_t)PQgetlength(res, 0, 0);
	unsigned char *bytes = NULL;
	char shown[PGS_SHOWN_KEY + 48];
	int rc;

	if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
		if (!pgv_binary_decode(value, len, &bytes, &len))
			return outrig_err(
				err, OUTRIG_EINTERNAL,
				"component \"%s\": key %s is marked isbinary in table %s, but its value "
				"is not a JSON string of base64; fix or delete the row",
				s->component, pgs_show(key, shown, sizeof(shown)), s->table);
		value = (const char *)bytes;
	}
	rc = s->host->bytes_set(&out->data, len > 0 ? value : "", len);
	if (rc == OUTRIG_OK)
		rc = s->host->bytes_set(&out->etag, etag, strlen(etag));
	free(bytes);
	if (rc != OUTRIG_OK)
		return outrig_err(err, OUTRIG_ENOMEM,
				  "component \"%s\": out of memory copying %zu bytes of key %s", s->component,
				  len, pgs_show(key, shown, sizeof(shown)));
	out->found = true;
	if (!PQgetisnull(res, 0, 3))
		out->expire_unix_ms = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	return OUTRIG_OK;
}

int pgs_get(void *instance, const struct outrig_state_get *req, struct outrig_state_value *out,
	    struct outrig_error *err)
{
	struct pgs_store *s = instance;
	struct pgc_deadline deadline = pgc_deadline_in(s->timeout_ms, "timeout");
	const char *values[1] = { req->key };
	PGresult *res = NULL;
	struct pgc_conn *c;
	char sqlstate[6];
	int rc;

	out->found = false;
	out->expire_unix_ms = 0;
	/* A read may be sent again: if the connection died under it, try once more on a new one. */
	for (int attempt = 0;; attempt++) {
		rc = pgs_acquire(s, &deadline, &c, "reading", req->key, err);
		if (rc != OUTRIG_OK)
			return rc;
		rc = pgs_exec(s, c, &deadline, PGS_GET, 1, values, &res, "reading", req->key, sqlstate, err);
		pgc_release(s->pool, c);
		if (rc != OUTRIG_EUNAVAIL || sqlstate[0] != '\0' || attempt > 0)
			break;
	}
	if (rc == OUTRIG_OK && PQntuples(res) > 0)
		rc = pgs_fill(s, res, req->key, out, err);
	PQclear(res);
	return rc;
}

int pgs_set(void *instance, const struct outrig_state_set *req, struct outrig_error *err)
{
	struct pgs_store *s = instance;
	struct pgc_deadline deadline = pgc_deadline_in(s->timeout_ms, "timeout");
	bool binary = !pgv_is_jsonb(req->value, req->value_len);
	struct pgc_conn *c;
	char sqlstate[6];
	int rc;

	rc = pgs_acquire(s, &deadline, &c, "saving", req->key, err);
	if (rc != OUTRIG_OK)
		return rc;
	rc = pgs_upsert(s, c, &deadline, req, 0, 1, binary, sqlstate, err);
	/* The server refused the statement, so nothing was written: sending it again is safe. */
	if (rc != OUTRIG_OK && !binary && pgs_value_refused(sqlstate))
		rc = pgs_upsert(s, c, &deadline, req, 0, 1, true, sqlstate, err);
	pgc_release(s->pool, c);
	return rc;
}

int pgs_delete(void *instance, const struct outrig_state_delete *req, struct outrig_error *err)
{
	struct pgs_store *s = instance;
	struct pgc_deadline deadline = pgc_deadline_in(s->timeout_ms, "timeout");
	struct pgc_conn *c;
	char sqlstate[6];
	int rc;

	rc = pgs_acquire(s, &deadline, &c, "deleting", req->key, err);
	if (rc != OUTRIG_OK)
		return rc;
	rc = pgs_remove(s, c, &deadline, req, 0, 1, sqlstate, err);
	pgc_release(s->pool, c);
	return rc;
}

/* How a run of a transaction failed, when it failed in a way that lets it run again. */
struct pgs_tx_run {
	size_t refused_at; /* an op whose value the server refused as jsonb; count if none */
	bool begin_lost;   /* BEGIN met a dead connection, so nothing was sent */
	bool stale;	   /* the session had lost its prepared statements (SQLSTATE 26000) */
};

/* Runs op i of a transaction, noting in run whether a failure lets the transaction run again. */
static int pgs_run_op(struct pgs_store *s, struct pgc_conn *c, const struct pgc_deadline *deadline,
		      const struct outrig_state_op *ops, size_t i, size_t count, const bool *binary,
		      struct pgs_tx_run *run, struct outrig_error *err)
{
	char sqlstate[6];
	int rc;

	if (ops[i].kind == OUTRIG_STATE_UPSERT) {
		rc = pgs_upsert(s, c, deadline, &ops[i].u.set, i, count, binary[i], sqlstate, err);
		if (rc != OUTRIG_OK && !binary[i] && pgs_value_refused(sqlstate))
			run->refused_at = i;
	} else {
		rc = pgs_remove(s, c, deadline, &ops[i].u.delete, i, count, sqlstate, err);
	}
	run->stale = run->stale || strcmp(sqlstate, "26000") == 0;
	return rc;
}

/* One run of a transaction on c: BEGIN, the ops in order, COMMIT; on failure, ROLLBACK. */
static int pgs_run_tx(struct pgs_store *s, struct pgc_conn *c, const struct pgc_deadline *deadline,
		      const struct outrig_state_op *ops, size_t count, const bool *binary,
		      struct pgs_tx_run *run, struct outrig_error *err)
{
	int rc = pgs_command(s, c, deadline, "BEGIN", "starting a transaction", err);

	run->refused_at = count;
	run->begin_lost = rc == OUTRIG_EUNAVAIL && c->broken;
	run->stale = false;
	for (size_t i = 0; i < count && rc == OUTRIG_OK; i++)
		rc = pgs_run_op(s, c, deadline, ops, i, count, binary, run, err);
	if (rc == OUTRIG_OK) {
		rc = pgs_command(s, c, deadline, "COMMIT", "committing a transaction", err);
		if (rc == OUTRIG_EUNAVAIL && c->broken)
			outrig_err(
				err, rc,
				"component \"%s\": lost the connection to PostgreSQL while committing a "
				"transaction: it may or may not have been applied; read the keys to find out",
				s->component);
		return rc;
	}
	/* A timeout or lost connection already closed it, which rolls back on the server. */
	if (!c->broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		struct outrig_error ignored;

		if (pgs_command(s, c, deadline, "ROLLBACK", "rolling back", &ignored) != OUTRIG_OK)
			c->broken = true;
	}
	return rc;
}

int pgs_transact(void *instance, const struct outrig_state_op *ops, size_t count,
		 const struct outrig_metadata *metadata, struct outrig_error *err)
{
	struct pgs_store *s = instance;
	struct pgc_deadline deadline = pgc_deadline_in(s->timeout_ms, "timeout");
	struct pgc_conn *c = NULL;
	struct pgs_tx_run run;
	bool *binary, begin_retried = false, stale_retried = false;
	int rc;

	(void)metadata; /* nothing in Dapr's transaction metadata concerns PostgreSQL */
	if (count == 0)
		return OUTRIG_OK;
	binary = calloc(count, sizeof(*binary));
	if (binary == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", s->component);
	for (size_t i = 0; i < count; i++)
		if (ops[i].kind == OUTRIG_STATE_UPSERT)
			binary[i] = !pgv_is_jsonb(ops[i].u.set.value, ops[i].u.set.value_len);
	rc = pgs_acquire(s, &deadline, &c, "starting a transaction", NULL, err);
	/*
	 * Run again only when nothing can have been applied: the server refused a value as
	 * jsonb and rolled back (that value then goes as binary), the session had lost its
	 * prepared statements (once: the next run prepares them again), or BEGIN met a dead
	 * connection (once, on a new one).
	 */
	while (rc == OUTRIG_OK) {
		rc = pgs_run_tx(s, c, &deadline, ops, count, binary, &run, err);
		if (rc == OUTRIG_OK)
			break;
		if (run.refused_at < count && !c->broken) {
			binary[run.refused_at] = true;
			rc = OUTRIG_OK;
		} else if (run.stale && !stale_retried && !c->broken) {
			stale_retried = true;
			rc = OUTRIG_OK;
		} else if (run.begin_lost && !begin_retried) {
			begin_retried = true;
			pgc_release(s->pool, c);
			c = NULL;
			rc = pgs_acquire(s, &deadline, &c, "starting a transaction", NULL, err);
		} else {
			break;
		}
	}
	pgc_release(s->pool, c);
	free(binary);
	return rc;
}

/* Deletes expired rows (reads already skip them) once per interval across all sidecars. */
void pgs_cleanup(void *instance)
{
	struct pgs_store *s = instance;
	struct pgc_deadline deadline = pgc_deadline_in(s->timeout_ms, "timeout");
	struct pgc_deadline long_deadline =
		pgc_deadline_in(s->timeout_ms > PGS_CLEANUP_MIN_MS ? s->timeout_ms : PGS_CLEANUP_MIN_MS,
				"the cleanup's time limit");
	char interval[32], sqlstate[6];
	const char *values[1] = { interval };
	struct outrig_error err;
	PGresult *res = NULL;
	struct pgc_conn *c;
	int rc;

	/* A little under the interval, as daprd allows, so timer jitter never skips a round. */
	snprintf(interval, sizeof(interval), "%lld", (long long)(s->cleanup_ms - 100));
	rc = pgs_acquire(s, &deadline, &c, "deleting expired rows", NULL, &err);
	if (rc != OUTRIG_OK)
		goto out;
	rc = pgs_exec(s, c, &deadline, PGS_CLEANUP_MARK, 1, values, &res, "recording the cleanup time", NULL,
		      sqlstate, &err);
	if (rc == OUTRIG_OK && !pgs_rows_changed(res)) {
		s->host->log(s->self, OUTRIG_LOG_DEBUG,
			     "skipping the cleanup: another sidecar ran it less than cleanupInterval ago");
	} else if (rc == OUTRIG_OK) {
		PQclear(res);
		res = NULL;
		rc = pgs_exec(s, c, &long_deadline, PGS_CLEANUP_DELETE, 0, NULL, &res,
			      "deleting expired rows", NULL, sqlstate, &err);
		if (rc == OUTRIG_OK && pgs_rows_changed(res))
			s->host->log(s->self, OUTRIG_LOG_DEBUG, "deleted %s expired rows from table %s",
				     PQcmdTuples(res), s->table);
	}
	PQclear(res);
	pgc_release(s->pool, c);
out:
	if (rc != OUTRIG_OK)
		s->host->log(s->self, OUTRIG_LOG_WARN, "%s; will retry at the next cleanupInterval",
			     err.message);
}
