/* SPDX-License-Identifier: Apache-2.0 */
/* What the server_*.c files of the test harness share: data folders, spawning, restart. */
#ifndef OUTRIG_TESTS_SERVER_INTERNAL_H
#define OUTRIG_TESTS_SERVER_INTERNAL_H

#include "server.h"

/* Fills s with kind and a fresh /tmp/outrig-KIND-XXXXXX data folder and log path. Returns 0 or -1. */
int server_make_dir(struct test_server *s, const char *kind);

/* Spawns argv with its output in s->log and waits for s->port; on failure stops it. Returns 0 or -1. */
int server_spawn_and_wait(struct test_server *s, const char *const *argv);

/* server_mqtt.c: (re)starts mosquitto on s->port with the configuration in s->dir. */
int server_mosquitto_spawn(struct test_server *s);

#endif /* OUTRIG_TESTS_SERVER_INTERNAL_H */
