/* SPDX-License-Identifier: Apache-2.0 */
/* The publish operations of the pub/sub block: checks in daprd's order, slices of a big bulk, one completion. */
#include "config.h"

#include "blocks/pubsub/pubsub.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#include "blocks/pubsub/cloudevent.h"
#include "blocks/pubsub/pubsub_entry.h"
#include "blocks/pubsub/pubsub_publish.h"
#include "blocks/pubsub/pubsub_scopes.h"
#include "components/component.h"
#include "runtime.h"

/*
 * Entries prepared per turn of the loop. Each makes a CloudEvent (parse, two random ids, JSON
 * text): 30,000 at once held the loop for over a second, so a big bulk is prepared in slices
 * and every other request is served in between. Their publishes are queued in slices too.
 */
#define PUBSUB_SLICE 256

/* A publish in flight: owns copies of everything, as its caller may be gone meanwhile. */
struct pubsub_op {
	struct server *srv;
	struct component *comp;
	char *topic;
	char *traceparent, *tracestate;
	struct kv_list md; /* the request's */
	bool bulk;
	size_t count;
	struct pubsub_prepared *entries;
	size_t next;	 /* the entry to prepare next, then to queue next */
	size_t pending;	 /* publishes not yet ended (counting those not yet queued) */
	bool queuing;	 /* all are prepared: their publishes are being queued */
	struct event *turn;
	bool (*alive)(void *arg);
	pubsub_done_fn done;
	void *arg;
};

static void op_free(struct pubsub_op *op)
{
	if (op->turn != NULL)
		event_free(op->turn);
	for (size_t i = 0; op->entries != NULL && i < op->count; i++)
		pubsub_prepared_clear(&op->entries[i]);
	free(op->entries);
	kv_free(&op->md);
	free(op->topic);
	free(op->traceparent);
	free(op->tracestate);
	free(op);
}

/* Ends op with err: nothing was published. */
static void op_fail(struct pubsub_op *op, const struct block_error *err)
{
	op->done(op->arg, err, NULL, 0);
	op_free(op);
}

/*
 * Text the CloudEvent or the broker carries must be UTF-8 (JSON strings are): refused with 400
 * here rather than failing later as if memory had run out.
 */
static int pubsub_text_ok(const char *what, const char *text, struct block_error *err)
{
	if (text == NULL || cloudevent_utf8_valid(text, strlen(text)))
		return 0;
	return block_fail(err, API_ERR_MALFORMED_REQUEST, NULL,
			  "%s is not valid UTF-8; send it as UTF-8 text (percent-encoded in the URL)", what);
}

static struct component *pubsub_find(struct server *srv, const char *pubsub)
{
	struct component *c = components_find(srv->components, pubsub);

	return c != NULL && strncmp(c->type, "pubsub.", 7) == 0 ? c : NULL;
}

/*
 * A component whose create() failed passes: publishing to it fails with the cause (500), as
 * the plugin call reports it.
 */
int pubsub_check_target(struct server *srv, const char *pubsub, const char *topic, const char *tracestate,
			struct block_error *err)
{
	if (components_count_kind(srv->components, "pubsub.") == 0)
		return block_fail(err, API_ERR_PUBSUB_NOT_CONFIGURED, NULL,
				  "no pubsub is configured; add a component of a pubsub.* type to a "
				  "--resources-path folder");
	if (pubsub == NULL || pubsub[0] == '\0')
		return block_fail(err, API_ERR_PUBSUB_EMPTY, NULL,
				  "pubsub name is empty; publish to /v1.0/publish/<pubsub>/<topic>");
	if (pubsub_find(srv, pubsub) == NULL)
		return block_fail(err, API_ERR_PUBSUB_NOT_FOUND, NULL, "pubsub %s is not found", pubsub);
	if (topic == NULL || topic[0] == '\0')
		return block_fail(err, API_ERR_PUBSUB_TOPIC_NAME_EMPTY, NULL,
				  "topic is empty in pubsub %s; publish to /v1.0/publish/%s/<topic>", pubsub,
				  pubsub);
	if (pubsub_text_ok("the topic", topic, err) != 0)
		return -1;
	/* The CloudEvent carries it: JSON text is UTF-8, so anything else is the client's error. */
	return pubsub_text_ok("the tracestate header", tracestate, err);
}

/*
 * The request's metadata is copied into every entry: refuses a request whose copies would come
 * to more than the body limit, so that what one request makes outrigd hold stays bounded by that
 * limit (a long query times 100,000 entries would otherwise take gigabytes).
 */
static int pubsub_metadata_fits(struct server *srv, const struct kv_list *md, size_t entries,
				struct block_error *err)
{
	size_t bytes = 0;

	for (size_t k = 0; md != NULL && k < md->count; k++)
		bytes += strlen(md->items[k].key) + strlen(md->items[k].value) + 2 + sizeof(md->items[k]);
	if (entries <= 1 || bytes == 0 || srv->opts->max_body_bytes <= 0 ||
	    bytes <= (size_t)srv->opts->max_body_bytes / entries)
		return 0;
	return block_fail(err, API_ERR_PUBSUB_EVENTS_SER, NULL,
			  "the request's metadata (%zu bytes, the metadata.* query parameters over HTTP) "
			  "copied into each of the %zu entries of the bulk would take more than the body "
			  "limit of %lld bytes (--max-body-size); send fewer entries per request, or the "
			  "metadata in the entries that need it",
			  bytes, entries, (long long)srv->opts->max_body_bytes);
}

/*
 * Every entry needs an entryId, unique in the bulk (§2.3). seen maps every earlier id to its
 * entry's index: a hash lookup keeps the check linear in the number of entries (comparing with
 * every earlier id took 13 s on the loop for 30,000 entries).
 */
static int pubsub_check_ids(const struct pubsub_request *req, struct block_error *err)
{
	json_t *seen = json_object(), *earlier;
	int rc = 0;

	if (seen == NULL)
		return block_fail(err, API_ERR_INTERNAL, NULL, "out of memory");
	for (size_t i = 0; rc == 0 && i < req->count; i++) {
		const char *id = req->entries[i].entry_id;

		if (id == NULL || id[0] == '\0')
			rc = block_fail(err, API_ERR_PUBSUB_EVENTS_SER, NULL,
					"entry %zu of the bulk has no entryId; every entry needs a unique "
					"string entryId",
					i);
		else if ((earlier = json_object_get(seen, id)) != NULL)
			rc = block_fail(err, API_ERR_PUBSUB_EVENTS_SER, NULL,
					"entryId %s is used by entries %lld and %zu of the bulk; entryIds "
					"must be unique",
					id, (long long)json_integer_value(earlier), i);
		else if (json_object_set_new_nocheck(seen, id, json_integer((json_int_t)i)) != 0)
			rc = block_fail(err, API_ERR_INTERNAL, NULL, "out of memory");
	}
	json_decref(seen);
	return rc;
}

int pubsub_check_request(struct server *srv, const struct pubsub_request *req, struct block_error *err)
{
	if (pubsub_check_target(srv, req->pubsub, req->topic, req->tracestate, err) != 0)
		return -1;
	if (!req->bulk) {
		if (req->count != 1)
			return block_fail(err, API_ERR_INTERNAL, NULL,
					  "a single publish has one event, not %zu", req->count);
		return pubsub_text_ok("the Content-Type header", req->entries[0].content_type, err);
	}
	for (size_t i = 0; i < req->count; i++) {
		char what[64];

		snprintf(what, sizeof(what), "the contentType of entry %zu of the bulk", i);
		if (pubsub_text_ok(what, req->entries[i].content_type, err) != 0)
			return -1;
	}
	if (pubsub_metadata_fits(srv, req->metadata, req->count, err) != 0)
		return -1;
	return pubsub_check_ids(req, err);
}

static char *pubsub_strdup_or_null(const char *s, bool *oom)
{
	char *copy;

	if (s == NULL)
		return NULL;
	if ((copy = strdup(s)) == NULL)
		*oom = true;
	return copy;
}

static struct pubsub_op *op_new(struct server *srv, const struct pubsub_request *req, pubsub_done_fn done,
				void *arg)
{
	struct pubsub_op *op = calloc(1, sizeof(*op));
	bool oom = false;

	if (op == NULL)
		return NULL;
	op->srv = srv;
	op->comp = pubsub_find(srv, req->pubsub);
	op->bulk = req->bulk;
	op->count = req->count;
	op->alive = req->alive;
	op->done = done;
	op->arg = arg;
	op->topic = pubsub_strdup_or_null(req->topic, &oom);
	op->traceparent = pubsub_strdup_or_null(req->traceparent, &oom);
	op->tracestate = pubsub_strdup_or_null(req->tracestate, &oom);
	op->entries = calloc(req->count > 0 ? req->count : 1, sizeof(*op->entries));
	if (oom || op->entries == NULL || pubsub_kv_copy(&op->md, req->metadata) != 0) {
		op_free(op);
		return NULL;
	}
	for (size_t i = 0; i < req->count; i++) {
		if (pubsub_prepared_init(&op->entries[i], &req->entries[i]) != 0) {
			op_free(op);
			return NULL;
		}
	}
	return op;
}

/* ---- publishing the prepared entries ---- */

static void op_finish(struct pubsub_op *op)
{
	struct pubsub_failed_entry *failed;
	struct block_error err;
	size_t nfailed = 0;

	if (!op->bulk) {
		struct pubsub_prepared *e = &op->entries[0];

		if (e->rc == 0)
			op->done(op->arg, NULL, NULL, 0);
		else {
			if (e->rc == OUTRIG_ENOTFOUND)
				block_fail(&err, API_ERR_PUBSUB_TEST_NOT_FOUND, NULL,
					   "topic %s not found in pubsub %s: %s", op->topic, op->comp->name,
					   e->error);
			else
				block_fail(&err, API_ERR_PUBSUB_PUBLISH_MESSAGE, NULL,
					   "error when publishing to topic %s in pubsub %s: %s", op->topic,
					   op->comp->name, e->error);
			op->done(op->arg, &err, NULL, 0);
		}
		op_free(op);
		return;
	}
	failed = calloc(op->count > 0 ? op->count : 1, sizeof(*failed));
	if (failed == NULL) {
		block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory listing the entries of the bulk");
		op_fail(op, &err);
		return;
	}
	for (size_t i = 0; i < op->count; i++) {
		struct pubsub_prepared *e = &op->entries[i];

		if (e->rc == 0)
			continue;
		failed[nfailed].entry_id = e->entry_id;
		failed[nfailed].rc = e->rc;
		failed[nfailed++].error = e->error != NULL ? e->error : "out of memory";
	}
	op->done(op->arg, NULL, failed, nfailed);
	free(failed);
	op_free(op);
}

/* One entry's publish ended (pubsub_publish_cb). Thread: the loop. */
static void op_entry_done(void *arg, int rc, const char *error)
{
	struct pubsub_prepared *e = arg;
	struct pubsub_op *op = e->op;

	e->rc = rc;
	if (rc != 0)
		e->error = strdup(error != NULL && error[0] != '\0' ? error : outrig_status_name(rc));
	if (--op->pending == 0)
		op_finish(op);
}

/*
 * Queues the publishes of entries [from, to). The op cannot finish meanwhile: entries not yet
 * queued still count as pending. An entry that cannot even be queued counts as failed.
 */
static void op_submit_range(struct pubsub_op *op, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		struct pubsub_prepared *e = &op->entries[i];
		struct outrig_metadata view = kv_view(&e->metadata);

		e->op = op;
		if (pubsub_publish_submit(op->srv, op->comp, op->topic, e->payload, e->payload_len,
					  e->payload_type, &view, op_entry_done, e) != 0) {
			e->rc = OUTRIG_ENOMEM;
			e->error = strdup("out of memory");
			op->pending--;
		}
		/* pubsub_publish_submit copied them. */
		free(e->payload);
		e->payload = NULL;
		kv_free(&e->metadata);
	}
}

static void op_turn(evutil_socket_t fd, short what, void *arg);

static bool op_yield(struct pubsub_op *op)
{
	static const struct timeval now = { 0, 0 };

	if (op->turn == NULL)
		op->turn = event_new(op->srv->base, -1, 0, op_turn, op);
	/* A timer, not event_active(): that would run again before the loop polls for I/O. */
	return op->turn != NULL && evtimer_add(op->turn, &now) == 0;
}

/* Queues the next slice of publishes (a worker hand-off each), yielding to the loop in between. */
static void op_queue(struct pubsub_op *op)
{
	size_t end = op->next + PUBSUB_SLICE < op->count ? op->next + PUBSUB_SLICE : op->count;

	op_submit_range(op, op->next, end);
	op->next = end;
	if (op->next < op->count && op_yield(op))
		return;
	/* Cannot wait for the next turn: queue the rest now. */
	op_submit_range(op, op->next, op->count);
	op->next = op->count;
	if (op->pending == 0)
		op_finish(op);
}

/*
 * Topic scoping (publishingScopes, allowedTopics, protectedTopics). daprd's publisher checks
 * it after the envelope is made, so bad metadata still answers 400 first.
 */
static int op_check_scopes(struct pubsub_op *op, struct block_error *err)
{
	const char *app_id = op->srv->opts->app_id != NULL ? op->srv->opts->app_id : "";

	if (pubsub_scopes_allowed(&op->comp->scopes, PUBSUB_SCOPE_PUBLISH, op->topic, app_id, NULL, 0))
		return 0;
	return block_fail(err, API_ERR_PUBSUB_FORBIDDEN, NULL, "topic %s is not allowed for app id %s", op->topic,
			  app_id);
}

/* ---- preparing the entries, slice by slice ---- */

static int op_prepare(struct pubsub_op *op, size_t i, struct block_error *err)
{
	struct pubsub_prepare_ctx ctx = {
		.comp = op->comp,
		.topic = op->topic,
		.app_id = op->srv->opts->app_id,
		.traceparent = op->traceparent,
		.tracestate = op->tracestate,
		.request_md = &op->md,
	};

	return pubsub_prepared_make(&op->entries[i], &ctx, err);
}

/* Prepares the next slice, then yields to the loop, or checks the scopes and starts the publishes. */
static void op_step(struct pubsub_op *op)
{
	size_t end = op->next + PUBSUB_SLICE < op->count ? op->next + PUBSUB_SLICE : op->count;
	struct block_error err;

	for (; op->next < end; op->next++) {
		if (op_prepare(op, op->next, &err) != 0) {
			op_fail(op, &err);
			return;
		}
	}
	if (op->next < op->count) {
		if (op_yield(op))
			return;
		block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
		op_fail(op, &err);
		return;
	}
	if (op_check_scopes(op, &err) != 0) {
		op_fail(op, &err);
		return;
	}
	op->queuing = true;
	op->next = 0;
	op->pending = op->count;
	if (op->count == 0) {
		op_finish(op);
		return;
	}
	op_queue(op);
}

static void op_turn(evutil_socket_t fd, short what, void *arg)
{
	struct pubsub_op *op = arg;
	struct block_error err;

	if (op->queuing) {
		op_queue(op);
		return;
	}
	if (op->alive != NULL && !op->alive(op->arg)) {
		block_fail(&err, API_ERR_INTERNAL, NULL, "the client went away; nothing was published");
		op_fail(op, &err);
		return;
	}
	op_step(op);
}

void pubsub_publish(struct server *srv, const struct pubsub_request *req, pubsub_done_fn done, void *arg)
{
	struct block_error err;
	struct pubsub_op *op;

	if (pubsub_check_request(srv, req, &err) != 0) {
		done(arg, &err, NULL, 0);
		return;
	}
	op = op_new(srv, req, done, arg);
	if (op == NULL) {
		block_fail(&err, API_ERR_INTERNAL, NULL, "out of memory");
		done(arg, &err, NULL, 0);
		return;
	}
	op_step(op);
}
