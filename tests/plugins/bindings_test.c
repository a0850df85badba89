/* SPDX-License-Identifier: Apache-2.0 */
/* bindings.test: a binding for the core's tests; echoes output calls, and emits input events when told. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <outrig/plugin.h>

/*
 * Operations:
 *   create  answers with the request's data; response metadata: operation, length, and every
 *           request metadata entry again
 *   get     as create (no data in, so no data out: 204)
 *   fail    fails with OUTRIG_EUNAVAIL, response metadata failed=yes
 *   emit    hands data (and the request's metadata) to the input side as one event, once the
 *           core started it; metadata `id` names the event in the acknowledgement file. With
 *           metadata `afterMs`, the event (data and id only) goes that many ms later from a thread
 *           of the plugin's, as a broker's would (one at a time); if the core refuses it the file
 *           gets "<id> REFUSED"
 * The acknowledgement file (metadata ackFile) gets a line "started" when start_input() runs and
 * "<id> SETTLED" or "<id> UNSETTLED" for each outcome the core reports.
 */

static const struct outrig_host *bt_host;

struct bt_instance {
	pthread_mutex_t lock;
	struct outrig_binding_sink *sink; /* set by start_input */
	char *ack_file;
	bool fail_start;
	unsigned emitted;
	/* The one delayed emit (afterMs), joined by destroy. */
	pthread_t later;
	bool later_running;
	unsigned later_ms;
	char later_id[128];
	void *later_data;
	size_t later_len;
};

struct bt_pending {
	struct bt_instance *inst;
	char id[128];
};

static const struct outrig_field bt_fields[] = {
	{ "ackFile", OUTRIG_FIELD_STRING, NULL, false, "file that records start and every event's outcome",
	  NULL },
	{ "failStart", OUTRIG_FIELD_BOOL, "false", false, "make start_input() fail", NULL },
	{ NULL },
};

static void bt_record(struct bt_instance *inst, const char *line)
{
	FILE *f;

	if (inst->ack_file == NULL)
		return;
	pthread_mutex_lock(&inst->lock);
	f = fopen(inst->ack_file, "a");
	if (f != NULL) {
		fprintf(f, "%s\n", line);
		fclose(f);
	}
	pthread_mutex_unlock(&inst->lock);
}

static int bt_create(const struct outrig_host *host, struct outrig_handle *self,
		     const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	struct bt_instance *inst = calloc(1, sizeof(*inst));
	const char *ack = outrig_config_string(cfg, "ackFile", NULL);

	if (inst == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	bt_host = host;
	pthread_mutex_init(&inst->lock, NULL);
	inst->fail_start = outrig_config_int(cfg, "failStart", 0) != 0;
	if (ack != NULL && (inst->ack_file = strdup(ack)) == NULL) {
		free(inst);
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	*instance = inst;
	return 0;
}

static void bt_destroy(void *instance)
{
	struct bt_instance *inst = instance;

	if (inst->later_running)
		pthread_join(inst->later, NULL);
	free(inst->later_data);
	pthread_mutex_destroy(&inst->lock);
	free(inst->ack_file);
	free(inst);
}

static int bt_emit_now(struct bt_instance *inst, const struct outrig_binding_request *req,
		       struct outrig_error *err);

static void bt_done(void *done_ctx, int outcome)
{
	struct bt_pending *p = done_ctx;
	char line[200];

	snprintf(line, sizeof(line), "%s %s", p->id,
		 outcome == OUTRIG_PUBSUB_SETTLED ? "SETTLED" : "UNSETTLED");
	bt_record(p->inst, line);
	free(p);
}

static void *bt_emit_later(void *arg)
{
	struct bt_instance *inst = arg;
	struct timespec ts = { inst->later_ms / 1000, (long)(inst->later_ms % 1000) * 1000000L };
	struct outrig_binding_event ev = { inst->later_data, inst->later_len, { 0, NULL } };
	struct bt_pending *p = calloc(1, sizeof(*p));
	char line[200];

	nanosleep(&ts, NULL);
	if (p == NULL)
		return NULL;
	p->inst = inst;
	snprintf(p->id, sizeof(p->id), "%s", inst->later_id);
	if (bt_host->binding_deliver(inst->sink, &ev, bt_done, p) != 0) {
		snprintf(line, sizeof(line), "%s REFUSED", p->id);
		free(p);
		bt_record(inst, line);
	}
	return NULL;
}

static int bt_emit(struct bt_instance *inst, const struct outrig_binding_request *req,
		   struct outrig_error *err)
{
	const char *after = outrig_metadata_get(&req->metadata, "afterMs");

	if (after != NULL) {
		const char *id = outrig_metadata_get(&req->metadata, "id");

		if (inst->later_running || inst->sink == NULL)
			return outrig_err(err, OUTRIG_EUNAVAIL, "a delayed emit is pending, or the input is not started");
		free(inst->later_data);
		inst->later_data = malloc(req->data_len + 1);
		if (inst->later_data == NULL)
			return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
		memcpy(inst->later_data, req->data, req->data_len);
		inst->later_len = req->data_len;
		inst->later_ms = (unsigned)atoi(after);
		snprintf(inst->later_id, sizeof(inst->later_id), "%s", id != NULL ? id : "event");
		if (pthread_create(&inst->later, NULL, bt_emit_later, inst) != 0)
			return outrig_err(err, OUTRIG_EINTERNAL, "cannot start a thread");
		inst->later_running = true;
		return 0;
	}
	return bt_emit_now(inst, req, err);
}

static int bt_emit_now(struct bt_instance *inst, const struct outrig_binding_request *req,
		       struct outrig_error *err)
{
	struct outrig_binding_event ev = { req->data, req->data_len, req->metadata };
	const char *id = outrig_metadata_get(&req->metadata, "id");
	struct outrig_binding_sink *sink;
	struct bt_pending *p;
	int rc;

	pthread_mutex_lock(&inst->lock);
	sink = inst->sink;
	inst->emitted++;
	pthread_mutex_unlock(&inst->lock);
	if (sink == NULL)
		return outrig_err(err, OUTRIG_EUNAVAIL, "input not started");
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	p->inst = inst;
	snprintf(p->id, sizeof(p->id), "%s", id != NULL ? id : "event");
	rc = bt_host->binding_deliver(sink, &ev, bt_done, p);
	if (rc != 0) {
		free(p);
		return outrig_err(err, rc, "binding_deliver refused the event");
	}
	return 0;
}

static int bt_invoke(void *instance, const struct outrig_binding_request *req,
		     struct outrig_binding_response *resp, struct outrig_error *err)
{
	struct bt_instance *inst = instance;
	char length[32];

	if (strcmp(req->operation, "emit") == 0)
		return bt_emit(inst, req, err);
	if (strcmp(req->operation, "fail") == 0) {
		bt_host->kv_put(resp->metadata, NULL, "failed", "yes");
		return outrig_err(err, OUTRIG_EUNAVAIL, "the test binding fails on purpose");
	}
	for (size_t i = 0; i < req->metadata.count; i++)
		if (bt_host->kv_put(resp->metadata, NULL, req->metadata.items[i].key,
				    req->metadata.items[i].value) != 0)
			return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	snprintf(length, sizeof(length), "%zu", req->data_len);
	if (bt_host->kv_put(resp->metadata, NULL, "operation", req->operation) != 0 ||
	    bt_host->kv_put(resp->metadata, NULL, "length", length) != 0)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	if (req->data_len > 0 && bt_host->bytes_set(&resp->data, req->data, req->data_len) != 0)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	return 0;
}

static int bt_start_input(void *instance, struct outrig_binding_sink *sink, struct outrig_error *err)
{
	struct bt_instance *inst = instance;

	if (inst->fail_start)
		return outrig_err(err, OUTRIG_EUNAVAIL, "the test binding refuses to start its input");
	pthread_mutex_lock(&inst->lock);
	inst->sink = sink;
	pthread_mutex_unlock(&inst->lock);
	bt_record(inst, "started");
	return 0;
}

static const char *const bt_operations[] = { "create", "get", "fail", "emit", NULL };

static const struct outrig_binding_ops bt_ops = {
	.struct_size = sizeof(struct outrig_binding_ops),
	.operations = bt_operations,
	.invoke = bt_invoke,
	.start_input = bt_start_input,
};

static const char *const bt_versions[] = { "v1", NULL };

static const struct outrig_plugin bt_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "bindings.test",
	.versions = bt_versions,
	.plugin_version = "0.1.0",
	.description = "test binding: echoes output calls, emits input events when told",
	.fields = bt_fields,
	.create = bt_create,
	.destroy = bt_destroy,
	.bindings = &bt_ops,
};

OUTRIG_PLUGIN(bt_plugin)
