/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder until service invocation lands */
#include "config.h"

#include <stddef.h>

#include "api.h"
#include "http_errors.h"

void api_invoke(struct server *srv, struct evhttp_request *req, const char *app_id, const char *method)
{
	api_error_reply(req, API_ERR_API_UNIMPLEMENTED, 0, NULL, "service invocation is not implemented yet");
}
