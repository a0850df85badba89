/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder until output bindings land */
#include "config.h"

#include <stddef.h>

#include "api.h"
#include "http_errors.h"

void api_bindings_invoke(struct server *srv, struct evhttp_request *req, const char *name)
{
	api_error_reply(req, API_ERR_API_UNIMPLEMENTED, 0, NULL, "bindings are not implemented yet");
}
