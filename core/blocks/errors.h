/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Dapr's error table: one row per error with its errorCode, HTTP status, gRPC code and the
 * ErrorInfo reason of Dapr's rich errors, as daprd keeps them (pkg/messages). Blocks finish an
 * operation with a row of this table; each front end renders it in its own wire format.
 */
#ifndef OUTRIG_CORE_BLOCKS_ERRORS_H
#define OUTRIG_CORE_BLOCKS_ERRORS_H

#include <stdbool.h>

/* gRPC status codes (grpc/doc/statuscodes.md). */
enum grpc_code {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_ALREADY_EXISTS = 6,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10,
	GRPC_OUT_OF_RANGE = 11,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_DATA_LOSS = 15,
	GRPC_UNAUTHENTICATED = 16,
};

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

struct api_error_def {
	const char *code;   /* errorCode */
	int http_status;
	enum grpc_code grpc_code;
	const char *reason; /* ErrorInfo reason of Dapr's rich error; NULL for the legacy shape */
};

/* The row of e. */
const struct api_error_def *api_error_def(enum api_error e);

/* The errorCode string of e (for tests and logs). */
const char *api_error_code(enum api_error e);

/* The app id put in ErrorInfo metadata of rich errors; set once at start-up. */
void api_errors_set_app_id(const char *app_id);
const char *api_errors_app_id(void);

/*
 * How a block operation failed: a row of the table, and what this failure changes about it.
 * A plugin's result may override the statuses (an etag mismatch is 409 / ABORTED).
 */
struct block_error {
	enum api_error error;
	int http_status;	   /* 0: the row's */
	enum grpc_code grpc_code;  /* GRPC_OK: the row's */
	char field[64];		   /* a BadRequest field violation, or "" */
	char message[2048];	   /* UTF-8, safe for JSON and grpc-message */
};

/* Fills err (field may be NULL). Returns -1, so callers can `return block_fail(...)`. */
int block_fail(struct block_error *err, enum api_error e, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The statuses err goes out with. */
int block_error_http_status(const struct block_error *err);
enum grpc_code block_error_grpc_code(const struct block_error *err);

/* The HTTP status a plugin result means for a save or delete (409, 400 or 500). */
int api_status_for_plugin_result(int code);

/* The same for gRPC (ABORTED, INVALID_ARGUMENT or INTERNAL). */
enum grpc_code api_grpc_code_for_plugin_result(int code);

/*
 * JSON strings must be UTF-8, but vsnprintf may cut a character in two and a plugin's message
 * may quote any bytes: makes s valid UTF-8 in place.
 */
void api_message_make_utf8(char *s);

#endif /* OUTRIG_CORE_BLOCKS_ERRORS_H */
