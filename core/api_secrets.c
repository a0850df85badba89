/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder until secret stores land */
#include "config.h"

#include <stddef.h>

#include "api.h"
#include "http_errors.h"

void api_secrets_get(struct server *srv, struct evhttp_request *req, const char *store, const char *key)
{
	api_error_reply(req, API_ERR_API_UNIMPLEMENTED, 0, NULL, "secrets are not implemented yet");
}

void api_secrets_bulk(struct server *srv, struct evhttp_request *req, const char *store)
{
	api_error_reply(req, API_ERR_API_UNIMPLEMENTED, 0, NULL, "secrets are not implemented yet");
}
