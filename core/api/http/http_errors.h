/* SPDX-License-Identifier: Apache-2.0 */
/* Dapr's JSON error bodies: a row of blocks/errors.h rendered for HTTP. */
#ifndef OUTRIG_CORE_HTTP_ERRORS_H
#define OUTRIG_CORE_HTTP_ERRORS_H

#include "blocks/errors.h"

struct evhttp_request;

/*
 * Replies with the error's status and body. status 0 means the table's status; a
 * plugin's result can override it (409 for an etag mismatch). field, when not NULL,
 * adds a BadRequest field violation.
 */
void api_error_reply(struct evhttp_request *req, enum api_error e, int status, const char *field,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Replies with a block's error: its statuses, message and field. */
void api_error_reply_block(struct evhttp_request *req, const struct block_error *err);

#endif /* OUTRIG_CORE_HTTP_ERRORS_H */
