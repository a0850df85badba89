/* SPDX-License-Identifier: Apache-2.0 */
/* placeholder until the internal listener lands */
#include "config.h"

#include "internal_server.h"

int internal_server_listen(struct server *srv)
{
	return 0;
}

void internal_server_close(struct server *srv)
{
}
