/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder until the publish API lands */
#include "config.h"

#include <stddef.h>

#include "api.h"
#include "http_errors.h"

void api_pubsub_publish(struct server *srv, struct evhttp_request *req, const char *pubsub, const char *topic)
{
	api_error_reply(req, API_ERR_API_UNIMPLEMENTED, 0, NULL, "publish is not implemented yet");
}

void api_pubsub_bulk_publish(struct server *srv, struct evhttp_request *req, const char *pubsub,
			     const char *topic)
{
	api_error_reply(req, API_ERR_API_UNIMPLEMENTED, 0, NULL, "bulk publish is not implemented yet");
}
