/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's state building block without a transport: lookup, rules, plugin calls (see state.h). */
#include "blocks/state/state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/kv.h"
#include "blocks/state/state_item.h"
#include "components/component.h"
#include "components/component_call.h"
#include "observe/dapr_metrics.h"
#include "observe/metrics.h"
#include "runtime.h"

/* Keys echoed in error messages are cut to this, so the store's explanation after them fits. */
#define STATE_KEY_ECHO_MAX 200

/*
 * Items of a save or bulk get done per turn on a worker. The call then goes to the back of its
 * store's lane, so a 100k-item save lets other requests to the same store through between
 * turns (daprd's bulk save is not atomic either). A transaction cannot be split.
 */
#define STATE_ITEMS_PER_TURN 64

/* One operation in flight: what to do, what the store answered, and whom to tell. */
struct state_call {
	struct work work; /* run() is the worker half */
	struct server *srv;
	struct component *comp;
	const struct outrig_state_ops *ops;
	struct state_item *items;
	size_t count;
	struct kv_list metadata;	   /* transactions: request-level */
	struct outrig_state_value *values; /* get and bulk get: one per item */
	int *results;			   /* get and bulk get: one per item */
	struct outrig_error *errors;	   /* get and bulk get: one per item */
	int rc;
	size_t failed; /* index of the item that failed */
	struct outrig_error err;
	size_t next;				 /* save, bulk get: the first item not yet done */
	bool turns;				 /* run() does a turn of items, and the call may come back */
	size_t turn_start;			 /* the first item of the last turn (a retry redoes it) */
	int turn_rc;				 /* writes: the last turn's first failure */
	unsigned char *written;			 /* writes: items the store acknowledged (never redone) */
	void (*finish)(struct state_call *call); /* tells the caller; on the loop */
	const char *op;				 /* Dapr's operation label: get, set, bulk_get... */
	double started_ms;			 /* metrics_now_ms() at submission */
	state_waiting_fn waiting;
	void *ctx;
	union {
		state_done_fn plain;
		state_get_done_fn get;
		state_bulk_done_fn bulk;
	} done;
};

static const enum api_error state_op_error[] = {
	[STATE_OP_GET] = API_ERR_STATE_GET,
	[STATE_OP_BULK_GET] = API_ERR_STATE_BULK_GET,
	[STATE_OP_SAVE] = API_ERR_STATE_SAVE,
	[STATE_OP_DELETE] = API_ERR_STATE_DELETE,
	[STATE_OP_TRANSACTION] = API_ERR_STATE_TRANSACTION,
	[STATE_OP_QUERY] = API_ERR_STATE_QUERY_NOT_SUPPORTED,
};

/* The state store called name, or NULL with err filled (see state_store_check). */
static struct component *state_store(struct server *srv, const char *name, enum state_op op,
				     struct block_error *err)
{
	struct component *c = components_find(srv->components, name);
	bool is_state = c != NULL && strncmp(c->type, "state.", 6) == 0;

	if (is_state && c->failure != NULL) {
		block_fail(
			err, state_op_error[op], NULL,
			"state store %s is not available: it failed to initialise (ignoreErrors kept outrigd "
			"up): %s",
			c->name, c->failure);
		return NULL;
	}
	if (is_state && op == STATE_OP_TRANSACTION && c->plugin->desc.state->transact == NULL) {
		block_fail(err, API_ERR_STATE_TRANSACTIONS_NOT_SUPPORTED, NULL,
			   "state store %s doesn't support transactions", c->name);
		return NULL;
	}
	if (is_state)
		return c;
	if (components_count_kind(srv->components, "state.") == 0)
		block_fail(err, API_ERR_STATE_STORE_NOT_CONFIGURED, NULL,
			   "state store is not configured; add a component of a state.* type to a "
			   "--resources-path folder");
	else
		block_fail(err, API_ERR_STATE_STORE_NOT_FOUND, NULL, "state store %s is not found",
			   name != NULL ? name : "");
	return NULL;
}

int state_store_check(struct server *srv, const char *store, enum state_op op, struct block_error *err)
{
	return state_store(srv, store, op, err) != NULL ? 0 : -1;
}

/*
 * key without its prefix, for an error message: as it is, or its first bytes (never half a
 * UTF-8 character) and its length. Ownership: the result is key or buf.
 */
static const char *state_key_echo(const char *key, char *buf, size_t size)
{
	const char *k = state_key_strip(key);
	size_t n = strlen(k), cut = STATE_KEY_ECHO_MAX;

	if (n <= STATE_KEY_ECHO_MAX)
		return k;
	while (cut > 0 && ((unsigned char)k[cut] & 0xC0) == 0x80)
		cut--;
	snprintf(buf, size, "%.*s... (%zu bytes)", (int)cut, k, n);
	return buf;
}

/* A store's message with keys as the app named them (without "prefix||"). Ownership: buf. */
static const char *state_store_msg(const struct state_call *call, const char *msg, char *buf, size_t size)
{
	state_key_unprefix_text(&call->comp->key_prefix, msg, buf, size);
	return buf;
}

static struct state_call *state_call_new(struct server *srv, struct component *c, size_t count, bool values,
					 void *ctx)
{
	struct state_call *call = calloc(1, sizeof(*call));

	if (call == NULL)
		return NULL;
	call->srv = srv;
	call->comp = c;
	call->ops = c->plugin->desc.state;
	call->count = count;
	call->ctx = ctx;
	call->items = calloc(count > 0 ? count : 1, sizeof(*call->items));
	if (values && call->items != NULL) {
		call->values = calloc(count, sizeof(*call->values));
		call->results = calloc(count, sizeof(*call->results));
		call->errors = calloc(count, sizeof(*call->errors));
	}
	if (call->items == NULL ||
	    (values && (call->values == NULL || call->results == NULL || call->errors == NULL))) {
		free(call->items);
		free(call->values);
		free(call->results);
		free(call->errors);
		free(call);
		return NULL;
	}
	return call;
}

static void state_call_free(struct state_call *call)
{
	for (size_t i = 0; i < call->count; i++) {
		state_item_free(&call->items[i]);
		if (call->values != NULL) {
			free(call->values[i].data.data);
			free(call->values[i].etag.data);
		}
	}
	kv_free(&call->metadata);
	free(call->written);
	free(call->items);
	free(call->values);
	free(call->results);
	free(call->errors);
	free(call);
}

/* The end of the items this turn does. */
static size_t state_turn_end(const struct state_call *call)
{
	return call->count - call->next > STATE_ITEMS_PER_TURN ? call->next + STATE_ITEMS_PER_TURN
							       : call->count;
}

static bool state_still_waiting(const struct state_call *call)
{
	return call->waiting == NULL || call->waiting(call->ctx);
}

/* dapr_component_state_count and _latencies; a key not found is a successful get, as in Dapr. */
static void state_call_observe(const struct state_call *call)
{
	bool ok = call->rc == 0;

	if (!metrics_enabled())
		return;
	for (size_t i = 0; ok && call->results != NULL && i < call->count; i++)
		ok = call->results[i] == 0 || call->results[i] == OUTRIG_ENOTFOUND;
	dm_component(DM_STATE, call->comp->name, call->op, ok, metrics_now_ms() - call->started_ms);
}

/* ---- under a Resiliency policy (component_call_run) ---- */

static void state_get_finish(struct state_call *call);
static void state_bulk_finish(struct state_call *call);
static void state_save_finish(struct state_call *call);
static void state_delete_finish(struct state_call *call);
static void state_delete_bulk_finish(struct state_call *call);

/* The outcome of the last attempt: the first failure of the last turn, else 0. */
static int state_call_status(struct work *w)
{
	struct state_call *call = (struct state_call *)w;
	size_t end = call->turns ? call->next : call->count;
	int first = 0;

	if (call->results == NULL)
		return call->turns ? call->turn_rc : call->rc;
	for (size_t i = call->turns ? call->turn_start : 0; i < end && i < call->count; i++) {
		if (component_call_failure(call->results[i]))
			return call->results[i];
		if (first == 0)
			first = call->results[i];
	}
	return first;
}

static void state_call_reset(struct work *w)
{
	struct state_call *call = (struct state_call *)w;
	size_t start = call->turns ? call->turn_start : 0, end = call->turns ? call->next : call->count;

	/* A failure of an earlier turn stays: it is reported at the end. */
	if (!call->turns || (call->rc != 0 && call->failed >= call->turn_start)) {
		call->rc = 0;
		call->failed = 0;
		memset(&call->err, 0, sizeof(call->err));
	}
	call->turn_rc = 0;
	for (size_t i = start; call->results != NULL && i < end && i < call->count; i++) {
		free(call->values[i].data.data);
		free(call->values[i].etag.data);
		memset(&call->values[i], 0, sizeof(call->values[i]));
		memset(&call->errors[i], 0, sizeof(call->errors[i]));
		call->results[i] = 0;
	}
	if (call->turns)
		call->next = call->turn_start;
}

/* Answers with why the policy stopped the call; reads only what run() never writes. */
static void state_call_answer(struct work *w, int status, const char *message)
{
	struct state_call *call = (struct state_call *)w;
	char echo[STATE_KEY_ECHO_MAX + 32];
	struct block_error err;

	(void)status;
	if (metrics_enabled())
		dm_component(DM_STATE, call->comp->name, call->op, false,
			     metrics_now_ms() - call->started_ms);
	if (call->finish == state_get_finish) {
		block_fail(&err, API_ERR_STATE_GET, NULL, "fail to get %s from state store %s: %s",
			   state_key_echo(call->items[0].key, echo, sizeof(echo)), call->comp->name, message);
		call->done.get(call->ctx, &err, NULL);
	} else if (call->finish == state_bulk_finish) {
		block_fail(&err, API_ERR_STATE_BULK_GET, NULL, "failed getting state from state store %s: %s",
			   call->comp->name, message);
		call->done.bulk(call->ctx, &err, NULL, 0);
	} else if (call->finish == state_save_finish) {
		block_fail(&err, API_ERR_STATE_SAVE, NULL, "failed saving state in state store %s: %s",
			   call->comp->name, message);
		call->done.plain(call->ctx, &err);
	} else if (call->finish == state_delete_finish) {
		block_fail(&err, API_ERR_STATE_DELETE, NULL, "failed deleting state with key %s: %s",
			   state_key_echo(call->items[0].key, echo, sizeof(echo)), message);
		call->done.plain(call->ctx, &err);
	} else if (call->finish == state_delete_bulk_finish) {
		block_fail(&err, API_ERR_STATE_DELETE, NULL, "failed deleting state in state store %s: %s",
			   call->comp->name, message);
		call->done.plain(call->ctx, &err);
	} else {
		block_fail(&err, API_ERR_STATE_TRANSACTION, NULL,
			   "error while executing state transaction: %s", message);
		call->done.plain(call->ctx, &err);
	}
}

static void state_call_discard(struct work *w)
{
	state_call_free((struct state_call *)w);
}

static const struct component_call_ops state_call_ops = {
	.status = state_call_status,
	.reset = state_call_reset,
	.answer = state_call_answer,
	.discard = state_call_discard,
};

/*
 * Back on the loop: to the lane's tail while items remain and the caller waits, else finish.
 * A stopping outrigd does not wait for the rest: the items left are reported as not done.
 */
static void state_call_done(struct work *w)
{
	struct state_call *call = (struct state_call *)w;
	struct outrig_error stop;

	if (call->turns && call->next < call->count && !call->srv->stopping && state_still_waiting(call)) {
		component_call_run(call->srv, call->comp, w, &state_call_ops);
		return;
	}
	if (call->turns && call->next < call->count) {
		if (call->srv->stopping)
			outrig_err(
				&stop, OUTRIG_EUNAVAIL,
				"outrigd is stopping; %zu of the request's %zu items were done before, send "
				"the others again once it runs",
				call->next, call->count);
		else
			outrig_err(
				&stop, OUTRIG_EUNAVAIL,
				"not done: the client stopped waiting after %zu of the request's %zu items",
				call->next, call->count);
		for (size_t i = call->next; call->results != NULL && i < call->count; i++) {
			call->results[i] = OUTRIG_EUNAVAIL;
			call->errors[i] = stop;
		}
		if (call->results == NULL && call->rc == 0) {
			call->rc = OUTRIG_EUNAVAIL;
			call->failed = call->next;
			call->err = stop;
		}
	}
	state_call_observe(call);
	call->finish(call);
	state_call_free(call);
}

static void state_submit(struct state_call *call, const char *op, void (*run)(struct work *),
			 void (*finish)(struct state_call *), bool turns)
{
	call->op = op;
	call->started_ms = metrics_start_ms();
	call->work.run = run;
	call->work.done = state_call_done;
	call->finish = finish;
	call->turns = turns;
	component_call_run(call->srv, call->comp, &call->work, &state_call_ops);
}

static void state_fail_oom(state_done_fn done, void *ctx)
{
	struct block_error err;

	block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
	done(ctx, &err);
}

/* ---- get ---- */

/* Reads key i with metadata md (the item's own, or the one list a bulk get shares). */
static void state_get_one(struct state_call *call, size_t i, const struct kv_list *md)
{
	struct outrig_state_get get = {
		.key = call->items[i].key,
		.consistency = call->items[i].consistency,
		.metadata = kv_view(md),
	};

	call->results[i] = call->ops->get(call->comp->instance, &get, &call->values[i], &call->errors[i]);
}

static void state_get_run(struct work *w)
{
	struct state_call *call = (struct state_call *)w;

	state_get_one(call, 0, &call->items[0].metadata);
}

static void state_get_finish(struct state_call *call)
{
	char echo[STATE_KEY_ECHO_MAX + 32], msg[OUTRIG_ERROR_MAX];
	struct block_error err;

	if (call->results[0] == 0) {
		call->done.get(call->ctx, NULL, &call->values[0]);
		return;
	}
	block_fail(&err, API_ERR_STATE_GET, NULL, "fail to get %s from state store %s: %s",
		   state_key_echo(call->items[0].key, echo, sizeof(echo)), call->comp->name,
		   state_store_msg(call, call->errors[0].message, msg, sizeof(msg)));
	call->done.get(call->ctx, &err, NULL);
}

void state_get(struct server *srv, const char *store, const struct state_get_req *req, state_get_done_fn done,
	       void *ctx)
{
	struct block_error err;
	struct component *c = state_store(srv, store, STATE_OP_GET, &err);
	struct state_call *call;
	struct state_item *item;

	if (c == NULL) {
		done(ctx, &err, NULL);
		return;
	}
	call = state_call_new(srv, c, 1, true, ctx);
	if (call == NULL) {
		block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
		done(ctx, &err, NULL);
		return;
	}
	item = &call->items[0];
	if (state_key_prepare(&c->key_prefix, req->key, &item->key, &err) != 0 ||
	    state_options_parse(NULL, req->consistency, API_ERR_STATE_GET, item, &err) != 0) {
		state_call_free(call);
		done(ctx, &err, NULL);
		return;
	}
	if (req->metadata != NULL &&
	    kv_set_all(&item->metadata, req->metadata->items, req->metadata->count) != 0) {
		state_call_free(call);
		block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
		done(ctx, &err, NULL);
		return;
	}
	call->done.get = done;
	state_submit(call, "get", state_get_run, state_get_finish, false);
}

bool state_expire_text(const struct outrig_state_value *v, char *buf, size_t size)
{
	time_t secs;
	struct tm tm;

	if (v == NULL || v->expire_unix_ms <= 0)
		return false;
	secs = (time_t)(v->expire_unix_ms / 1000);
	gmtime_r(&secs, &tm);
	return strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

/* ---- save ---- */

static void state_writes_run(struct work *w)
{
	struct state_call *call = (struct state_call *)w;
	size_t end = state_turn_end(call);

	/* Like daprd's bulk set and delete: every item is tried; the first failure is reported. */
	call->turn_start = call->next;
	call->turn_rc = 0;
	for (size_t i = call->next; i < end; i++) {
		struct outrig_state_set set;
		struct outrig_state_delete del;
		struct outrig_error err = { "" };
		int rc;

		/* A retry of the turn redoes only what the store did not acknowledge. */
		if (call->written != NULL && call->written[i])
			continue;
		if (call->items[i].is_delete) {
			state_item_to_delete(&call->items[i], &del);
			rc = call->ops->delete (call->comp->instance, &del, &err);
		} else {
			state_item_to_set(&call->items[i], &set);
			rc = call->ops->set(call->comp->instance, &set, &err);
		}
		if (rc == 0 && call->written != NULL)
			call->written[i] = 1;
		if (rc != 0 && call->turn_rc == 0)
			call->turn_rc = rc;
		if (rc != 0 && call->rc == 0) {
			call->rc = rc;
			call->failed = i;
			call->err = err;
		}
	}
	call->next = end;
}

/* A save or delete the store refused: an etag mismatch is 409 / ABORTED, a bad etag 400. */
static void state_write_failed(struct state_call *call, struct block_error *err)
{
	err->http_status = api_status_for_plugin_result(call->rc);
	err->grpc_code = api_grpc_code_for_plugin_result(call->rc);
}

static void state_save_finish(struct state_call *call)
{
	char echo[STATE_KEY_ECHO_MAX + 32], msg[OUTRIG_ERROR_MAX];
	struct block_error err;

	if (call->rc == 0) {
		call->done.plain(call->ctx, NULL);
		return;
	}
	block_fail(&err, API_ERR_STATE_SAVE, NULL, "failed saving state in state store %s: key %s: %s",
		   call->comp->name, state_key_echo(call->items[call->failed].key, echo, sizeof(echo)),
		   state_store_msg(call, call->err.message, msg, sizeof(msg)));
	state_write_failed(call, &err);
	call->done.plain(call->ctx, &err);
}

int state_operation_check(const char *kind, size_t i, bool *is_delete, struct block_error *err)
{
	char field[64];

	*is_delete = kind != NULL && strcmp(kind, "delete") == 0;
	if (*is_delete || (kind != NULL && strcmp(kind, "upsert") == 0))
		return 0;
	snprintf(field, sizeof(field), "operations[%zu].operation", i);
	return block_fail(err, API_ERR_STATE_OPERATION_NOT_SUPPORTED, field,
			  "operation type %s not supported; use \"upsert\" or \"delete\"",
			  kind != NULL ? kind : "(missing)");
}

/* What a writing operation's items are: all saves, all deletes, or each as its operation says. */
enum state_writes_kind { STATE_WRITES_SAVE, STATE_WRITES_DELETE, STATE_WRITES_TRANSACTION };

/* Makes call's n items from writes; 0, or -1 with err filled. */
static int state_items_make(struct state_call *call, const struct state_write *writes, size_t n,
			    enum state_writes_kind kind_of, enum api_error op, struct block_error *err)
{
	for (size_t i = 0; i < n; i++) {
		bool is_delete = kind_of == STATE_WRITES_DELETE;

		if (kind_of == STATE_WRITES_TRANSACTION &&
		    state_operation_check(writes[i].operation, i, &is_delete, err) != 0)
			return -1;
		if (state_item_make(&call->comp->key_prefix, &writes[i], is_delete, op, &call->items[i],
				    err) != 0)
			return -1;
	}
	return 0;
}

/*
 * The start every writing operation shares: the store's lookup and its rules, nothing to do for
 * no items, each item made by the store's key rules. Returns the call, or NULL once done() has
 * been told why not (or that there was nothing to do).
 */
static struct state_call *state_writes_begin(struct server *srv, const char *store, enum state_op op,
					     const struct state_write *writes, size_t n,
					     enum state_writes_kind kind, enum api_error e,
					     state_done_fn done, void *ctx)
{
	struct block_error err;
	struct component *c = state_store(srv, store, op, &err);
	struct state_call *call;

	if (c == NULL) {
		done(ctx, &err);
		return NULL;
	}
	if (n == 0) {
		done(ctx, NULL);
		return NULL;
	}
	call = state_call_new(srv, c, n, false, ctx);
	if (call == NULL) {
		state_fail_oom(done, ctx);
		return NULL;
	}
	if (state_items_make(call, writes, n, kind, e, &err) != 0) {
		state_call_free(call);
		done(ctx, &err);
		return NULL;
	}
	call->done.plain = done;
	/* One byte per item, so a retried turn does not write an acknowledged item twice. */
	call->written = calloc(n, 1);
	if (call->written == NULL) {
		state_call_free(call);
		state_fail_oom(done, ctx);
		return NULL;
	}
	return call;
}

void state_save(struct server *srv, const char *store, const struct state_write *items, size_t n,
		state_waiting_fn waiting, state_done_fn done, void *ctx)
{
	struct state_call *call = state_writes_begin(srv, store, STATE_OP_SAVE, items, n, STATE_WRITES_SAVE,
						     API_ERR_STATE_SAVE, done, ctx);

	if (call == NULL)
		return;
	call->waiting = waiting;
	state_submit(call, n > 1 ? "bulk_set" : "set", state_writes_run, state_save_finish, true);
}

/* ---- bulk delete ---- */

static void state_delete_bulk_finish(struct state_call *call)
{
	char msg[OUTRIG_ERROR_MAX];
	struct block_error err;

	if (call->rc == 0) {
		call->done.plain(call->ctx, NULL);
		return;
	}
	block_fail(&err, API_ERR_STATE_DELETE, NULL, "failed deleting state in state store %s: %s",
		   call->comp->name, state_store_msg(call, call->err.message, msg, sizeof(msg)));
	state_write_failed(call, &err);
	call->done.plain(call->ctx, &err);
}

void state_delete_bulk(struct server *srv, const char *store, const struct state_write *items, size_t n,
		       state_waiting_fn waiting, state_done_fn done, void *ctx)
{
	struct state_call *call = state_writes_begin(srv, store, STATE_OP_DELETE, items, n,
						     STATE_WRITES_DELETE, API_ERR_STATE_DELETE, done, ctx);

	if (call == NULL)
		return;
	call->waiting = waiting;
	state_submit(call, "bulk_delete", state_writes_run, state_delete_bulk_finish, true);
}

/* ---- delete ---- */

static void state_delete_run(struct work *w)
{
	struct state_call *call = (struct state_call *)w;
	struct outrig_state_delete del;

	state_item_to_delete(&call->items[0], &del);
	call->rc = call->ops->delete (call->comp->instance, &del, &call->err);
}

static void state_delete_finish(struct state_call *call)
{
	char echo[STATE_KEY_ECHO_MAX + 32], msg[OUTRIG_ERROR_MAX];
	struct block_error err;

	if (call->rc == 0) {
		call->done.plain(call->ctx, NULL);
		return;
	}
	block_fail(&err, API_ERR_STATE_DELETE, NULL, "failed deleting state with key %s: %s",
		   state_key_echo(call->items[0].key, echo, sizeof(echo)),
		   state_store_msg(call, call->err.message, msg, sizeof(msg)));
	state_write_failed(call, &err);
	call->done.plain(call->ctx, &err);
}

void state_delete(struct server *srv, const char *store, const struct state_write *item, state_done_fn done,
		  void *ctx)
{
	struct block_error err;
	struct component *c = state_store(srv, store, STATE_OP_DELETE, &err);
	struct state_call *call;

	if (c == NULL) {
		done(ctx, &err);
		return;
	}
	call = state_call_new(srv, c, 1, false, ctx);
	if (call == NULL) {
		state_fail_oom(done, ctx);
		return;
	}
	if (state_item_make(&c->key_prefix, item, true, API_ERR_STATE_DELETE, &call->items[0], &err) != 0) {
		state_call_free(call);
		done(ctx, &err);
		return;
	}
	call->done.plain = done;
	state_submit(call, "delete", state_delete_run, state_delete_finish, false);
}

/* ---- bulk get ---- */

static void state_bulk_run(struct work *w)
{
	struct state_call *call = (struct state_call *)w;
	size_t end = state_turn_end(call);

	call->turn_start = call->next;
	for (size_t i = call->next; i < end; i++)
		state_get_one(call, i, &call->metadata);
	call->next = end;
}

static void state_bulk_finish(struct state_call *call)
{
	struct state_bulk_item *out = calloc(call->count, sizeof(*out));
	char **texts = calloc(call->count, sizeof(*texts));
	char msg[OUTRIG_ERROR_MAX];
	struct block_error err;
	bool ok = out != NULL && texts != NULL;

	for (size_t i = 0; ok && i < call->count; i++) {
		out[i].key = state_key_strip(call->items[i].key);
		if (call->results[i] == 0) {
			out[i].value = &call->values[i];
			continue;
		}
		/* A front end puts it in a JSON or protobuf string: one key's bad bytes must not fail all. */
		state_store_msg(call, call->errors[i].message, msg, sizeof(msg));
		api_message_make_utf8(msg);
		texts[i] = strdup(msg);
		out[i].error = texts[i];
		ok = texts[i] != NULL;
	}
	if (ok) {
		call->done.bulk(call->ctx, NULL, out, call->count);
	} else {
		block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
		call->done.bulk(call->ctx, &err, NULL, 0);
	}
	for (size_t i = 0; texts != NULL && i < call->count; i++)
		free(texts[i]);
	free(texts);
	free(out);
}

void state_bulk_get(struct server *srv, const char *store, const struct state_bulk_req *req,
		    state_waiting_fn waiting, state_bulk_done_fn done, void *ctx)
{
	struct block_error err;
	struct component *c = state_store(srv, store, STATE_OP_BULK_GET, &err);
	struct state_call *call;

	if (c == NULL) {
		done(ctx, &err, NULL, 0);
		return;
	}
	if (req->n > STATE_BULK_MAX_KEYS) {
		block_fail(
			&err, API_ERR_MALFORMED_REQUEST, "keys",
			"a bulk get takes at most %d keys, and this one has %zu; split it into several requests",
			STATE_BULK_MAX_KEYS, req->n);
		done(ctx, &err, NULL, 0);
		return;
	}
	if (req->n == 0) {
		done(ctx, NULL, NULL, 0);
		return;
	}
	call = state_call_new(srv, c, req->n, true, ctx);
	if (call == NULL) {
		block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
		done(ctx, &err, NULL, 0);
		return;
	}
	/* One copy of the request's metadata for every key: a copy per key is keys x entries. */
	if (req->metadata != NULL &&
	    kv_set_all(&call->metadata, req->metadata->items, req->metadata->count) != 0) {
		state_call_free(call);
		block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
		done(ctx, &err, NULL, 0);
		return;
	}
	for (size_t i = 0; i < call->count; i++) {
		if (state_key_prepare(&c->key_prefix, req->keys[i], &call->items[i].key, &err) != 0) {
			state_call_free(call);
			done(ctx, &err, NULL, 0);
			return;
		}
	}
	call->waiting = waiting;
	call->done.bulk = done;
	state_submit(call, "bulk_get", state_bulk_run, state_bulk_finish, true);
}

/* ---- transaction ---- */

static void state_transaction_run(struct work *w)
{
	struct state_call *call = (struct state_call *)w;
	struct outrig_state_op *ops = calloc(call->count, sizeof(*ops));
	struct outrig_metadata md = kv_view(&call->metadata);

	if (ops == NULL) {
		call->rc = outrig_err(&call->err, OUTRIG_ENOMEM, "out of memory");
		return;
	}
	for (size_t i = 0; i < call->count; i++) {
		ops[i].kind = call->items[i].is_delete ? OUTRIG_STATE_DELETE : OUTRIG_STATE_UPSERT;
		if (call->items[i].is_delete)
			state_item_to_delete(&call->items[i], &ops[i].u.delete);
		else
			state_item_to_set(&call->items[i], &ops[i].u.set);
	}
	call->rc = call->ops->transact(call->comp->instance, ops, call->count, &md, &call->err);
	free(ops);
}

static void state_transaction_finish(struct state_call *call)
{
	char msg[OUTRIG_ERROR_MAX];
	struct block_error err;

	if (call->rc == 0) {
		call->done.plain(call->ctx, NULL);
		return;
	}
	block_fail(&err, API_ERR_STATE_TRANSACTION, NULL, "error while executing state transaction: %s",
		   state_store_msg(call, call->err.message, msg, sizeof(msg)));
	call->done.plain(call->ctx, &err);
}

void state_transact(struct server *srv, const char *store, const struct state_write *ops, size_t n,
		    const struct kv_list *metadata, state_done_fn done, void *ctx)
{
	struct state_call *call =
		state_writes_begin(srv, store, STATE_OP_TRANSACTION, ops, n, STATE_WRITES_TRANSACTION,
				   API_ERR_STATE_TRANSACTION, done, ctx);

	if (call == NULL)
		return;
	if (metadata != NULL && kv_set_all(&call->metadata, metadata->items, metadata->count) != 0) {
		state_call_free(call);
		state_fail_oom(done, ctx);
		return;
	}
	state_submit(call, "transaction", state_transaction_run, state_transaction_finish, false);
}

/* ---- query ---- */

void state_query(struct server *srv, const char *store, state_done_fn done, void *ctx)
{
	struct block_error err;
	struct component *c = state_store(srv, store, STATE_OP_QUERY, &err);

	if (c != NULL)
		block_fail(&err, API_ERR_STATE_QUERY_NOT_SUPPORTED, NULL,
			   "state store %s doesn't support query", c->name);
	done(ctx, &err);
}
