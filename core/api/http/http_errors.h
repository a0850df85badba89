/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's error codes, HTTP statuses and JSON error bodies, in one table. */
#ifndef OUTRIG_CORE_HTTP_ERRORS_H
#define OUTRIG_CORE_HTTP_ERRORS_H

struct evhttp_request;

enum api_error {
	API_ERR_MALFORMED_REQUEST,
	API_ERR_ILLEGAL_KEY,
	API_ERR_BAD_REQUEST,
	API_ERR_BODY_READ,
	API_ERR_BODY_TOO_LARGE,
	API_ERR_NOT_FOUND,
	API_ERR_METHOD_NOT_ALLOWED,
	API_ERR_API_UNIMPLEMENTED,
	API_ERR_INTERNAL,
	API_ERR_STATE_STORE_NOT_CONFIGURED,
	API_ERR_STATE_STORE_NOT_FOUND,
	API_ERR_STATE_GET,
	API_ERR_STATE_BULK_GET,
	API_ERR_STATE_SAVE,
	API_ERR_STATE_DELETE,
	API_ERR_STATE_TRANSACTION,
	API_ERR_STATE_OPERATION_NOT_SUPPORTED,
	API_ERR_STATE_TRANSACTIONS_NOT_SUPPORTED,
	API_ERR_STATE_QUERY_NOT_SUPPORTED,
	API_ERR_STATE_TOO_MANY_TRANSACTIONS,
	API_ERR_HEALTH_NOT_READY,
	API_ERR_HEALTH_APPID_NOT_MATCH,
	API_ERR_OUTBOUND_HEALTH_NOT_READY,
	API_ERR_PUBSUB_NOT_CONFIGURED,
	API_ERR_PUBSUB_EMPTY,
	API_ERR_PUBSUB_NOT_FOUND,
	API_ERR_PUBSUB_TOPIC_NAME_EMPTY,
	API_ERR_PUBSUB_FORBIDDEN,
	API_ERR_PUBSUB_REQUEST_METADATA,
	API_ERR_PUBSUB_CLOUD_EVENTS_SER,
	API_ERR_PUBSUB_EVENTS_SER,
	API_ERR_PUBSUB_PUBLISH_MESSAGE,
	API_ERR_PUBSUB_TEST_NOT_FOUND,
	API_ERR_DIRECT_INVOKE,
	API_ERR_DIRECT_INVOKE_NO_APP_ID,
	API_ERR_INVOKE_OUTPUT_BINDING,
	API_ERR_MALFORMED_REQUEST_DATA,
	API_ERR_SECRET_STORES_NOT_CONFIGURED,
	API_ERR_SECRET_STORE_NOT_FOUND,
	API_ERR_SECRET_PERMISSION_DENIED,
	API_ERR_SECRET_GET,
};

/* The app id put in ErrorInfo metadata of rich errors; set once at start-up. */
void api_errors_set_app_id(const char *app_id);

/*
 * Replies with the error's status and body. status 0 means the table's status; a
 * plugin's result can override it (409 for an etag mismatch). field, when not NULL,
 * adds a BadRequest field violation.
 */
void api_error_reply(struct evhttp_request *req, enum api_error e, int status, const char *field,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The HTTP status a plugin result means for a save or delete (409, 400 or 500). */
int api_status_for_plugin_result(int code);

/* The errorCode string of e (for tests and logs). */
const char *api_error_code(enum api_error e);

#endif /* OUTRIG_CORE_HTTP_ERRORS_H */
