/* SPDX-License-Identifier: Apache-2.0 */
/* The secrets building block (API.md §5): scopes and lookup on the loop, the store read on a worker. */
#include "config.h"

#include "blocks/secrets/secrets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#include "base/kv_sink.h"
#include "components/component.h"
#include "components/component_call.h"
#include "resources/configuration.h"
#include "observe/dapr_metrics.h"
#include "observe/metrics.h"
#include "runtime.h"

/* One secrets operation in flight. */
struct secrets_op {
	struct work work;
	struct server *srv;
	struct component *comp;
	char *key; /* NULL for bulk */
	struct kv_list metadata;
	struct outrig_kv_sink out;
	int rc;
	struct outrig_error err;
	secrets_done_fn done;
	void *arg;
	double started_ms; /* metrics_now_ms() at submission */
};

static void secrets_op_free(struct secrets_op *op)
{
	json_decref(op->out.root);
	kv_free(&op->metadata);
	free(op->key);
	free(op);
}

/* Scopes come from the --config files, read once at start-up (main), never on a request. */
static bool secrets_allowed(struct server *srv, const char *store, const char *key)
{
	return configuration_secret_allowed(&srv->config, store, key);
}

/* s as Go's %q would quote it, for daprd's permission message. Ownership: the result is buf. */
static const char *secrets_quote(const char *s, char *buf, size_t size)
{
	json_t *j = json_string(s);
	char *text = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	snprintf(buf, size, text != NULL ? "%s" : "\"%s\"", text != NULL ? text : s);
	free(text);
	json_decref(j);
	return buf;
}

/*
 * The secret store called name, or NULL with daprd's error in err. key is NULL for bulk. A store
 * whose initialisation failed under ignoreErrors fails with the cause.
 */
static struct component *secrets_store(struct server *srv, const char *name, const char *key,
				       struct block_error *err)
{
	struct component *c = components_find(srv->components, name);

	if (components_count_kind(srv->components, "secretstores.") == 0) {
		block_fail(err, API_ERR_SECRET_STORES_NOT_CONFIGURED, NULL, "secret store is not configured");
		return NULL;
	}
	if (c == NULL || strncmp(c->type, "secretstores.", 13) != 0) {
		block_fail(err, API_ERR_SECRET_STORE_NOT_FOUND, NULL,
			   "failed finding secret store with key %s", name);
		return NULL;
	}
	if (c->failure == NULL)
		return c;
	if (key != NULL)
		block_fail(err, API_ERR_SECRET_GET, NULL,
			   "failed getting secret with key %s from secret store %s: it failed to initialise "
			   "(ignoreErrors kept outrigd up): %s",
			   key, name, c->failure);
	else
		block_fail(err, API_ERR_SECRET_GET, NULL,
			   "failed getting secrets from secret store %s: it failed to initialise "
			   "(ignoreErrors kept outrigd up): %s",
			   name, c->failure);
	return NULL;
}

static void secrets_fail_now(secrets_done_fn done, void *arg, const struct block_error *err)
{
	done(arg, err, NULL);
}

static struct secrets_op *secrets_op_new(struct server *srv, struct component *c, const char *key,
					 const struct kv_list *metadata, secrets_done_fn done, void *arg)
{
	struct secrets_op *op = calloc(1, sizeof(*op));

	if (op == NULL)
		return NULL;
	op->srv = srv;
	op->comp = c;
	op->done = done;
	op->arg = arg;
	if (key != NULL && (op->key = strdup(key)) == NULL) {
		free(op);
		return NULL;
	}
	if (metadata != NULL && kv_set_all(&op->metadata, metadata->items, metadata->count) != 0) {
		secrets_op_free(op);
		return NULL;
	}
	return op;
}

static struct secrets_op *secrets_op_of(struct work *w)
{
	return (struct secrets_op *)((char *)w - offsetof(struct secrets_op, work));
}

static void secrets_oom(secrets_done_fn done, void *arg)
{
	struct block_error err;

	block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
	secrets_fail_now(done, arg, &err);
}

/* ---- under the component's Resiliency policy (component_call_run) ---- */

static int secrets_status(struct work *w)
{
	return secrets_op_of(w)->rc;
}

static void secrets_reset(struct work *w)
{
	struct secrets_op *op = secrets_op_of(w);

	op->rc = 0;
	memset(&op->err, 0, sizeof(op->err));
	json_decref(op->out.root);
	op->out.root = NULL;
}

/* A worker may still hold op: only what run() never writes is read. */
static void secrets_answer(struct work *w, int status, const char *message)
{
	struct secrets_op *op = secrets_op_of(w);
	struct block_error err;

	(void)status;
	if (op->key != NULL)
		block_fail(&err, API_ERR_SECRET_GET, NULL,
			   "failed getting secret with key %s from secret store %s: %s", op->key,
			   op->comp->name, message);
	else
		block_fail(&err, API_ERR_SECRET_GET, NULL, "failed getting secrets from secret store %s: %s",
			   op->comp->name, message);
	op->done(op->arg, &err, NULL);
}

static void secrets_discard(struct work *w)
{
	secrets_op_free(secrets_op_of(w));
}

static const struct component_call_ops secrets_call_ops = {
	.status = secrets_status,
	.reset = secrets_reset,
	.answer = secrets_answer,
	.discard = secrets_discard,
};

/* ---- get ---- */

static void secrets_get_run(struct work *w)
{
	struct secrets_op *op = secrets_op_of(w);
	struct outrig_secret_request r = { .key = op->key, .metadata = kv_view(&op->metadata) };

	op->rc = op->comp->plugin->desc.secretstore->get(op->comp->instance, &r, &op->out, &op->err);
}

static void secrets_get_done(struct work *w)
{
	struct secrets_op *op = secrets_op_of(w);
	struct block_error err;

	dm_component(DM_SECRET, op->comp->name, "get", op->rc == 0, metrics_now_ms() - op->started_ms);
	if (op->rc != 0) {
		block_fail(&err, API_ERR_SECRET_GET, NULL,
			   "failed getting secret with key %s from secret store %s: %s", op->key,
			   op->comp->name, op->err.message[0] ? op->err.message : outrig_status_name(op->rc));
		op->done(op->arg, &err, NULL);
	} else {
		op->done(op->arg, NULL, op->out.root);
	}
	secrets_op_free(op);
}

void secrets_get(struct server *srv, const char *store, const char *key, const struct kv_list *metadata,
		 secrets_done_fn done, void *arg)
{
	struct block_error err;
	struct component *c = secrets_store(srv, store, key, &err);
	struct secrets_op *op;
	char qk[600], qs[600];

	if (c == NULL) {
		secrets_fail_now(done, arg, &err);
		return;
	}
	if (!secrets_allowed(srv, store, key)) {
		block_fail(&err, API_ERR_SECRET_PERMISSION_DENIED, NULL,
			   "access denied by policy to get %s from %s", secrets_quote(key, qk, sizeof(qk)),
			   secrets_quote(store, qs, sizeof(qs)));
		secrets_fail_now(done, arg, &err);
		return;
	}
	if ((op = secrets_op_new(srv, c, key, metadata, done, arg)) == NULL) {
		secrets_oom(done, arg);
		return;
	}
	op->work.run = secrets_get_run;
	op->work.done = secrets_get_done;
	op->started_ms = metrics_start_ms();
	component_call_run(srv, c, &op->work, &secrets_call_ops);
}

/* ---- bulk ---- */

static void secrets_bulk_run(struct work *w)
{
	struct secrets_op *op = secrets_op_of(w);
	struct outrig_metadata md = kv_view(&op->metadata);

	op->rc = op->comp->plugin->desc.secretstore->bulk_get(op->comp->instance, &md, &op->out, &op->err);
}

static void secrets_bulk_done(struct work *w)
{
	struct secrets_op *op = secrets_op_of(w);
	struct block_error err;
	const char *key;

	dm_component(DM_SECRET, op->comp->name, "bulk_get", op->rc == 0, metrics_now_ms() - op->started_ms);
	json_t *secret;
	void *tmp;

	if (op->rc != 0) {
		block_fail(&err, API_ERR_SECRET_GET, NULL, "failed getting secrets from secret store %s: %s",
			   op->comp->name, op->err.message[0] ? op->err.message : outrig_status_name(op->rc));
		op->done(op->arg, &err, NULL);
		secrets_op_free(op);
		return;
	}
	if (op->out.root == NULL && (op->out.root = json_object()) == NULL) {
		secrets_oom(op->done, op->arg);
		secrets_op_free(op);
		return;
	}
	/* As daprd: secrets the scopes deny are left out without a word; so are values put ungrouped. */
	json_object_foreach_safe(op->out.root, tmp, key, secret)
	{
		if (!json_is_object(secret) || !secrets_allowed(op->srv, op->comp->name, key))
			json_object_del(op->out.root, key);
	}
	op->done(op->arg, NULL, op->out.root);
	secrets_op_free(op);
}

void secrets_bulk(struct server *srv, const char *store, const struct kv_list *metadata, secrets_done_fn done,
		  void *arg)
{
	struct block_error err;
	struct component *c = secrets_store(srv, store, NULL, &err);
	struct secrets_op *op;

	if (c == NULL) {
		secrets_fail_now(done, arg, &err);
		return;
	}
	if ((op = secrets_op_new(srv, c, NULL, metadata, done, arg)) == NULL) {
		secrets_oom(done, arg);
		return;
	}
	op->work.run = secrets_bulk_run;
	op->work.done = secrets_bulk_done;
	op->started_ms = metrics_start_ms();
	component_call_run(srv, c, &op->work, &secrets_call_ops);
}
