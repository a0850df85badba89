/* SPDX-License-Identifier: Apache-2.0 */
/* A real redis-server that demands a password, for tests of credentials taken from secrets. */
#ifndef OUTRIG_TESTS_SERVER_REDIS_AUTH_H
#define OUTRIG_TESTS_SERVER_REDIS_AUTH_H

#include "server.h"

/*
 * As server_redis_start, but redis-server runs with --requirepass password (no persistence), so
 * every command but AUTH fails until a client gives it. server_restart would start it without
 * the password: stop it with server_destroy. Returns 0, SERVER_UNAVAILABLE or -1.
 */
int server_redis_start_auth(struct test_server *s, const char *password);

#endif /* OUTRIG_TESTS_SERVER_REDIS_AUTH_H */
