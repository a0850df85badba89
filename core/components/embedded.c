/* SPDX-License-Identifier: Apache-2.0 */
/* The components outrigd serves when given no --resources-path: SQLite state and in-memory pub/sub, as `dapr init`. */
#include "components/embedded.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/data_dir.h"

/* A new component of the embedded set, with its positions pointing at "(embedded default)"; NULL on ENOMEM. */
static struct res_component *embedded_add(struct res_set *out, const char *name, const char *type)
{
	struct res_component *grown = realloc(out->components, (out->count + 1) * sizeof(*grown)), *c;

	if (grown == NULL)
		return NULL;
	out->components = grown;
	c = &out->components[out->count++];
	memset(c, 0, sizeof(*c));
	c->file = strdup("(embedded default)");
	c->name = strdup(name);
	c->type = strdup(type);
	c->version = strdup("v1");
	c->init_timeout_ms = 5000;
	c->pos.file = c->name_pos.file = c->type_pos.file = c->version_pos.file = c->file;
	c->pos.line = c->type_pos.line = 1;
	c->pos.column = c->type_pos.column = 1;
	return c;
}

size_t embedded_components(const char *data_dir, struct res_set *out, struct diag *d)
{
	char *dir = data_dir_path(data_dir);
	struct res_component *c;
	char *db = NULL;

	if (dir == NULL || asprintf(&db, "%s/state.db", dir) < 0) {
		free(dir);
		diag_error(d, "embedded state store: out of memory");
		return 1;
	}
	if (data_dir_make(dir) != 0) {
		diag_error(
			d,
			"embedded state store: cannot create folder %s: %s; set XDG_DATA_HOME or --data-dir to a writable folder",
			dir, strerror(errno));
		free(dir);
		free(db);
		return 1;
	}
	free(dir);
	c = embedded_add(out, "statestore", "state.sqlite");
	if (c == NULL) {
		free(db);
		diag_error(d, "embedded state store: out of memory");
		return 1;
	}
	c->metadata = calloc(1, sizeof(*c->metadata));
	if (c->metadata != NULL) {
		c->metadata_count = 1;
		c->metadata[0].name = strdup("connectionString");
		c->metadata[0].value = db;
	} else {
		free(db);
	}
	/* Messages live in memory only: `dapr init` gives Redis, but a sidecar alone has no broker to keep them. */
	if (embedded_add(out, "pubsub", "pubsub.in-memory") == NULL) {
		diag_error(d, "embedded pub/sub: out of memory");
		return 1;
	}
	return 0;
}
