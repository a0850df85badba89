/* SPDX-License-Identifier: Apache-2.0 */
/* The spool: received messages kept in SQLite until the core settled them, so a crash loses none. */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "mqtt_spool.h"
#include "mqtt_topic.h"

struct mq_spool {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *add, *claim, *each, *del, *count;
};

/*
 * filter is the subscription a row belongs to (NULL: none yet, kept until one matches);
 * slot tells apart two subscriptions of one filter. Rows are deleted once settled.
 */
static const char mq_schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS messages ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" topic TEXT NOT NULL,"
	" filter TEXT,"
	" slot INTEGER NOT NULL DEFAULT 0,"
	" retained INTEGER NOT NULL,"
	" received_ms INTEGER NOT NULL,"
	" payload BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS messages_by_subscription ON messages(filter, slot, id);";

static int mq_db_err(struct mq_spool *sp, const char *doing, struct outrig_error *err)
{
	return outrig_err(err, OUTRIG_EINTERNAL, "message spool %s: %s %s; check the disk and --data-dir",
			  sp->path, doing, sqlite3_errmsg(sp->db));
}

/* mqtt_match(filter, topic) in SQL, so claiming runs in one UPDATE. */
static void mq_sql_match(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *filter = sqlite3_value_text(argv[0]);
	const unsigned char *topic = sqlite3_value_text(argv[1]);

	(void)argc;
	sqlite3_result_int(ctx, filter != NULL && topic != NULL &&
					mq_filter_matches((const char *)filter, (const char *)topic));
}

int mq_spool_open(const char *path, struct mq_spool **out, struct outrig_error *err)
{
	struct mq_spool *sp = calloc(1, sizeof(*sp));
	int rc;

	*out = NULL;
	if (sp == NULL || (sp->path = strdup(path)) == NULL) {
		free(sp);
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	if (sqlite3_open_v2(path, &sp->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK) {
		rc = mq_db_err(sp, "cannot open:", err);
		goto fail;
	}
	sqlite3_busy_timeout(sp->db, 5000);
	if (sqlite3_exec(sp->db, mq_schema, NULL, NULL, NULL) != SQLITE_OK) {
		rc = mq_db_err(sp, "cannot set up:", err);
		goto fail;
	}
	if (sqlite3_create_function(sp->db, "mqtt_match", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
				    mq_sql_match, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		    sp->db,
		    "INSERT INTO messages(topic, filter, slot, retained, received_ms, payload) "
		    "VALUES (?1, ?2, ?3, ?4, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER), ?5)",
		    -1, &sp->add, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(
		    sp->db,
		    "UPDATE messages SET filter = ?1, slot = ?2 WHERE filter IS NULL AND mqtt_match(?1, topic)",
		    -1, &sp->claim, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(sp->db,
			       "SELECT id, topic, payload, retained FROM messages "
			       "WHERE filter = ?1 AND slot = ?2 AND id > ?3 ORDER BY id",
			       -1, &sp->each, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(sp->db, "DELETE FROM messages WHERE id = ?1", -1, &sp->del, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(sp->db, "SELECT count(*) FROM messages WHERE filter = ?1 AND slot = ?2", -1,
			       &sp->count, NULL) != SQLITE_OK) {
		rc = mq_db_err(sp, "cannot prepare its statements:", err);
		goto fail;
	}
	*out = sp;
	return OUTRIG_OK;
fail:
	mq_spool_close(sp);
	return rc;
}

void mq_spool_close(struct mq_spool *sp)
{
	if (sp == NULL)
		return;
	sqlite3_finalize(sp->add);
	sqlite3_finalize(sp->claim);
	sqlite3_finalize(sp->each);
	sqlite3_finalize(sp->del);
	sqlite3_finalize(sp->count);
	sqlite3_close(sp->db);
	free(sp->path);
	free(sp);
}

int mq_spool_add(struct mq_spool *sp, const char *topic, const char *filter, int slot, const void *data,
		 size_t len, bool retained, int64_t *id, struct outrig_error *err)
{
	int rc;

	sqlite3_bind_text(sp->add, 1, topic, -1, SQLITE_STATIC);
	if (filter != NULL)
		sqlite3_bind_text(sp->add, 2, filter, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(sp->add, 2);
	sqlite3_bind_int(sp->add, 3, slot);
	sqlite3_bind_int(sp->add, 4, retained ? 1 : 0);
	/* A zero-length blob, not NULL, for an empty payload. */
	sqlite3_bind_blob64(sp->add, 5, len > 0 ? data : "", len, SQLITE_STATIC);
	rc = sqlite3_step(sp->add);
	sqlite3_reset(sp->add);
	sqlite3_clear_bindings(sp->add);
	if (rc != SQLITE_DONE)
		return mq_db_err(sp, "cannot keep a received message:", err);
	*id = sqlite3_last_insert_rowid(sp->db);
	return OUTRIG_OK;
}

int mq_spool_claim(struct mq_spool *sp, const char *filter, int slot, struct outrig_error *err)
{
	int rc;

	sqlite3_bind_text(sp->claim, 1, filter, -1, SQLITE_STATIC);
	sqlite3_bind_int(sp->claim, 2, slot);
	rc = sqlite3_step(sp->claim);
	sqlite3_reset(sp->claim);
	sqlite3_clear_bindings(sp->claim);
	return rc == SQLITE_DONE ? OUTRIG_OK : mq_db_err(sp, "cannot claim kept messages:", err);
}

int mq_spool_count(struct mq_spool *sp, const char *filter, int slot, size_t *n, struct outrig_error *err)
{
	int rc;

	*n = 0;
	sqlite3_bind_text(sp->count, 1, filter, -1, SQLITE_STATIC);
	sqlite3_bind_int(sp->count, 2, slot);
	rc = sqlite3_step(sp->count);
	if (rc == SQLITE_ROW)
		*n = (size_t)sqlite3_column_int64(sp->count, 0);
	sqlite3_reset(sp->count);
	sqlite3_clear_bindings(sp->count);
	return rc == SQLITE_ROW ? OUTRIG_OK : mq_db_err(sp, "cannot count kept messages:", err);
}

int mq_spool_each(struct mq_spool *sp, const char *filter, int slot, int64_t after,
		  int (*fn)(void *ctx, const struct mq_spooled *m), void *ctx, struct outrig_error *err)
{
	int rc;

	sqlite3_bind_text(sp->each, 1, filter, -1, SQLITE_STATIC);
	sqlite3_bind_int(sp->each, 2, slot);
	sqlite3_bind_int64(sp->each, 3, after);
	while ((rc = sqlite3_step(sp->each)) == SQLITE_ROW) {
		struct mq_spooled m = {
			.id = sqlite3_column_int64(sp->each, 0),
			.topic = (const char *)sqlite3_column_text(sp->each, 1),
			.data = sqlite3_column_blob(sp->each, 2),
			.len = (size_t)sqlite3_column_bytes(sp->each, 2),
			.retained = sqlite3_column_int(sp->each, 3) != 0,
		};

		if (fn(ctx, &m) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(sp->each);
	sqlite3_clear_bindings(sp->each);
	return rc == SQLITE_DONE ? OUTRIG_OK : mq_db_err(sp, "cannot read kept messages:", err);
}

int mq_spool_delete(struct mq_spool *sp, const int64_t *ids, size_t n, struct outrig_error *err)
{
	int rc = SQLITE_DONE;

	if (n == 0)
		return OUTRIG_OK;
	if (sqlite3_exec(sp->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return mq_db_err(sp, "cannot delete settled messages:", err);
	for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int64(sp->del, 1, ids[i]);
		rc = sqlite3_step(sp->del);
		sqlite3_reset(sp->del);
	}
	if (rc != SQLITE_DONE) {
		int ret = mq_db_err(sp, "cannot delete settled messages:", err);

		sqlite3_exec(sp->db, "ROLLBACK", NULL, NULL, NULL);
		return ret;
	}
	if (sqlite3_exec(sp->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		int ret = mq_db_err(sp, "cannot delete settled messages:", err);

		sqlite3_exec(sp->db, "ROLLBACK", NULL, NULL, NULL);
		return ret;
	}
	return OUTRIG_OK;
}
