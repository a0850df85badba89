/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's JSON error bodies: a row of blocks/errors.h rendered for HTTP. */
#include "api/http/http_errors.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Dapr's rich error details: ErrorInfo, and BadRequest when a field is to blame. */
static json_t *api_error_details(const struct api_error_def *def, const char *field, const char *message)
{
	json_t *details = json_array();

	json_array_append_new(details,
			      json_pack("{s:s, s:s, s:{s:s}, s:s}", "@type",
					"type.googleapis.com/google.rpc.ErrorInfo", "domain", "dapr.io",
					"metadata", "appID", api_errors_app_id(), "reason", def->reason));
	if (field != NULL)
		json_array_append_new(details,
				      json_pack("{s:s, s:[{s:s, s:s}]}", "@type",
						"type.googleapis.com/google.rpc.BadRequest",
						"field_violations", "field", field, "description", message));
	return details;
}

void api_error_reply(struct evhttp_request *req, enum api_error e, int status, const char *field,
		     const char *fmt, ...)
{
	const struct api_error_def *def = api_error_def(e);
	struct evbuffer *out = evbuffer_new();
	char message[2048];
	json_t *body;
	char *text;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	api_message_make_utf8(message);

	body = json_pack("{s:s, s:s}", "errorCode", def->code, "message", message);
	if (def->reason != NULL)
		json_object_set_new(body, "details", api_error_details(def, field, message));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (out == NULL || text == NULL) {
		evhttp_send_error(req, 500, NULL);
	} else {
		evbuffer_add(out, text, strlen(text));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
		evhttp_send_reply(req, status != 0 ? status : def->http_status, NULL, out);
	}
	free(text);
	if (out != NULL)
		evbuffer_free(out);
}

void api_error_reply_block(struct evhttp_request *req, const struct block_error *err)
{
	api_error_reply(req, err->error, block_error_http_status(err), err->field[0] != '\0' ? err->field : NULL,
			"%s", err->message);
}
