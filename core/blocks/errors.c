/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's error table, and the error a block operation finishes with. */
#include "blocks/errors.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <outrig/status.h>

/* API.md §0.4, §1.2, §2.1, §3.1 and §5. */
static const struct api_error_def api_errors[] = {
	[API_ERR_MALFORMED_REQUEST] = { "ERR_MALFORMED_REQUEST", 400, GRPC_INVALID_ARGUMENT, NULL },
	[API_ERR_ILLEGAL_KEY] = { "ERR_MALFORMED_REQUEST", 400, GRPC_INVALID_ARGUMENT, "DAPR_STATE_ILLEGAL_KEY" },
	[API_ERR_BAD_REQUEST] = { "ERR_BAD_REQUEST", 400, GRPC_INVALID_ARGUMENT, NULL },
	[API_ERR_BODY_READ] = { "ERR_BODY_READ", 400, GRPC_INVALID_ARGUMENT, NULL },
	[API_ERR_BODY_TOO_LARGE] = { "ERR_BODY_TOO_LARGE", 413, GRPC_RESOURCE_EXHAUSTED, NULL },
	[API_ERR_NOT_FOUND] = { "ERR_NOT_FOUND", 404, GRPC_NOT_FOUND, NULL },
	[API_ERR_METHOD_NOT_ALLOWED] = { "ERR_METHOD_NOT_ALLOWED", 405, GRPC_UNIMPLEMENTED, NULL },
	[API_ERR_API_UNIMPLEMENTED] = { "ERR_API_UNIMPLEMENTED", 501, GRPC_UNIMPLEMENTED, NULL },
	[API_ERR_INTERNAL] = { "ERR_INTERNAL", 500, GRPC_INTERNAL, NULL },
	[API_ERR_STATE_STORE_NOT_CONFIGURED] = { "ERR_STATE_STORE_NOT_CONFIGURED", 500, GRPC_FAILED_PRECONDITION, "DAPR_STATE_NOT_CONFIGURED" },
	[API_ERR_STATE_STORE_NOT_FOUND] = { "ERR_STATE_STORE_NOT_FOUND", 400, GRPC_INVALID_ARGUMENT, "DAPR_STATE_NOT_FOUND" },
	[API_ERR_STATE_GET] = { "ERR_STATE_GET", 500, GRPC_INTERNAL, NULL },
	[API_ERR_STATE_BULK_GET] = { "ERR_STATE_BULK_GET", 500, GRPC_INTERNAL, NULL },
	[API_ERR_STATE_SAVE] = { "ERR_STATE_SAVE", 500, GRPC_INTERNAL, NULL },
	[API_ERR_STATE_DELETE] = { "ERR_STATE_DELETE", 500, GRPC_INTERNAL, NULL },
	[API_ERR_STATE_TRANSACTION] = { "ERR_STATE_TRANSACTION", 500, GRPC_INTERNAL, NULL },
	[API_ERR_STATE_OPERATION_NOT_SUPPORTED] = { "ERR_NOT_SUPPORTED_STATE_OPERATION", 400, GRPC_UNIMPLEMENTED, NULL },
	[API_ERR_STATE_TRANSACTIONS_NOT_SUPPORTED] = { "ERR_STATE_STORE_NOT_SUPPORTED", 500, GRPC_UNIMPLEMENTED, "DAPR_STATE_TRANSACTIONS_NOT_SUPPORTED" },
	[API_ERR_STATE_QUERY_NOT_SUPPORTED] = { "ERR_STATE_STORE_NOT_SUPPORTED", 500, GRPC_INTERNAL, "DAPR_STATE_QUERYING_NOT_SUPPORTED" },
	[API_ERR_STATE_TOO_MANY_TRANSACTIONS] = { "ERR_STATE_STORE_TOO_MANY_TRANSACTIONS", 400, GRPC_INVALID_ARGUMENT, "DAPR_STATE_TOO_MANY_TRANSACTIONS" },
	[API_ERR_HEALTH_NOT_READY] = { "ERR_HEALTH_NOT_READY", 500, GRPC_INTERNAL, NULL },
	[API_ERR_HEALTH_APPID_NOT_MATCH] = { "ERR_HEALTH_APPID_NOT_MATCH", 500, GRPC_INTERNAL, NULL },
	[API_ERR_OUTBOUND_HEALTH_NOT_READY] = { "ERR_OUTBOUND_HEALTH_NOT_READY", 500, GRPC_INTERNAL, NULL },
	[API_ERR_PUBSUB_NOT_CONFIGURED] = { "ERR_PUBSUB_NOT_CONFIGURED", 400, GRPC_FAILED_PRECONDITION, NULL },
	[API_ERR_PUBSUB_EMPTY] = { "ERR_PUBSUB_EMPTY", 404, GRPC_INVALID_ARGUMENT, NULL },
	[API_ERR_PUBSUB_NOT_FOUND] = { "ERR_PUBSUB_NOT_FOUND", 404, GRPC_INVALID_ARGUMENT, "DAPR_PUBSUB_NOT_FOUND" },
	[API_ERR_PUBSUB_TOPIC_NAME_EMPTY] = { "ERR_TOPIC_NAME_EMPTY", 404, GRPC_INVALID_ARGUMENT, NULL },
	[API_ERR_PUBSUB_FORBIDDEN] = { "ERR_PUBSUB_FORBIDDEN", 403, GRPC_PERMISSION_DENIED, NULL },
	[API_ERR_PUBSUB_REQUEST_METADATA] = { "ERR_PUBSUB_REQUEST_METADATA", 400, GRPC_INVALID_ARGUMENT, NULL },
	[API_ERR_PUBSUB_CLOUD_EVENTS_SER] = { "ERR_PUBSUB_CLOUD_EVENTS_SER", 500, GRPC_INVALID_ARGUMENT, NULL },
	[API_ERR_PUBSUB_EVENTS_SER] = { "ERR_PUBSUB_EVENTS_SER", 400, GRPC_INVALID_ARGUMENT, NULL },
	[API_ERR_PUBSUB_PUBLISH_MESSAGE] = { "ERR_PUBSUB_PUBLISH_MESSAGE", 500, GRPC_INTERNAL, NULL },
	/* The broker said the topic does not exist (§2.1's last row): a 400, unlike an unknown pubsub. */
	[API_ERR_PUBSUB_TEST_NOT_FOUND] = { "ERR_PUBSUB_NOT_FOUND", 400, GRPC_NOT_FOUND, NULL },
	/* §3.1: resolution, transport and app failures of an invocation; no target app id at all. */
	[API_ERR_DIRECT_INVOKE] = { "ERR_DIRECT_INVOKE", 500, GRPC_INTERNAL, NULL },
	[API_ERR_DIRECT_INVOKE_NO_APP_ID] = { "ERR_DIRECT_INVOKE", 404, GRPC_NOT_FOUND, NULL },
	/* §4.1: every failure of an output binding (unknown, wrong operation, the component's error). */
	[API_ERR_INVOKE_OUTPUT_BINDING] = { "ERR_INVOKE_OUTPUT_BINDING", 500, GRPC_INTERNAL, NULL },
	[API_ERR_MALFORMED_REQUEST_DATA] = { "ERR_MALFORMED_REQUEST_DATA", 500, GRPC_INVALID_ARGUMENT, NULL },
	/* §5: daprd answers an unknown secret store with 401, not the 400 its docs say. */
	[API_ERR_SECRET_STORES_NOT_CONFIGURED] = { "ERR_SECRET_STORES_NOT_CONFIGURED", 500, GRPC_FAILED_PRECONDITION, NULL },
	[API_ERR_SECRET_STORE_NOT_FOUND] = { "ERR_SECRET_STORE_NOT_FOUND", 401, GRPC_INVALID_ARGUMENT, NULL },
	[API_ERR_SECRET_PERMISSION_DENIED] = { "ERR_PERMISSION_DENIED", 403, GRPC_PERMISSION_DENIED, NULL },
	[API_ERR_SECRET_GET] = { "ERR_SECRET_GET", 500, GRPC_INTERNAL, NULL },
};

static const char *api_app_id = "";

void api_errors_set_app_id(const char *app_id)
{
	api_app_id = app_id != NULL ? app_id : "";
}

const char *api_errors_app_id(void)
{
	return api_app_id;
}

const struct api_error_def *api_error_def(enum api_error e)
{
	return &api_errors[e];
}

const char *api_error_code(enum api_error e)
{
	return api_errors[e].code;
}

int api_status_for_plugin_result(int code)
{
	switch (code) {
	case OUTRIG_ECONFLICT: return 409;
	case OUTRIG_EBADETAG: return 400;
	case OUTRIG_EINVAL: return 400;
	default: return 500;
	}
}

enum grpc_code api_grpc_code_for_plugin_result(int code)
{
	switch (code) {
	case OUTRIG_ECONFLICT: return GRPC_ABORTED;
	case OUTRIG_EBADETAG: return GRPC_INVALID_ARGUMENT;
	case OUTRIG_EINVAL: return GRPC_INVALID_ARGUMENT;
	default: return GRPC_INTERNAL;
	}
}

/*
 * JSON strings must be UTF-8, but vsnprintf may cut a character in two and a plugin's message
 * may quote any bytes. Drops a character cut at the end; if that is not enough, replaces every
 * non-ASCII byte, so the error still goes out as Dapr's JSON body.
 */
void api_message_make_utf8(char *s)
{
	size_t n = strlen(s), i = n;
	json_t *probe = json_string(s);

	if (probe != NULL) {
		json_decref(probe);
		return;
	}
	while (i > 0 && n - i < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0xC0) {
		s[i - 1] = '\0';
		if ((probe = json_string(s)) != NULL) {
			json_decref(probe);
			return;
		}
	}
	for (unsigned char *p = (unsigned char *)s; *p != '\0'; p++)
		if (*p >= 0x80)
			*p = '?';
}

int block_fail(struct block_error *err, enum api_error e, const char *field, const char *fmt, ...)
{
	va_list ap;

	err->error = e;
	err->http_status = 0;
	err->grpc_code = GRPC_OK;
	snprintf(err->field, sizeof(err->field), "%s", field != NULL ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	api_message_make_utf8(err->message);
	return -1;
}

int block_error_http_status(const struct block_error *err)
{
	return err->http_status != 0 ? err->http_status : api_errors[err->error].http_status;
}

enum grpc_code block_error_grpc_code(const struct block_error *err)
{
	return err->grpc_code != GRPC_OK ? err->grpc_code : api_errors[err->error].grpc_code;
}
