/* SPDX-License-Identifier: Apache-2.0 */
/* A real redis-server that demands a password, for tests of credentials taken from secrets. */
#include <stdio.h>

#include "daemon.h"
#include "server_internal.h"
#include "server_redis_auth.h"

int server_redis_start_auth(struct test_server *s, const char *password)
{
	char port[16];
	const char *argv[] = { "redis-server",
			       "--port",
			       port,
			       "--bind",
			       "127.0.0.1",
			       "--dir",
			       NULL,
			       "--save",
			       "",
			       "--appendonly",
			       "no",
			       "--protected-mode",
			       "no",
			       "--requirepass",
			       password,
			       NULL };

	if (!server_available("redis-server"))
		return SERVER_UNAVAILABLE;
	if (server_make_dir(s, "redis") != 0)
		return -1;
	argv[6] = s->dir;
	s->port = daemon_free_port();
	snprintf(port, sizeof(port), "%d", s->port);
	return server_spawn_and_wait(s, argv);
}
