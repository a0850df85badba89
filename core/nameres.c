/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder until name resolution lands */
#include "config.h"

#include "nameres.h"

int nameres_resolve(struct server *srv, const char *app_id, const char *ns, nameres_cb cb, void *arg)
{
	cb(arg, OUTRIG_ENOTSUP, NULL, "name resolution is not implemented yet");
	return 0;
}
