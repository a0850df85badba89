/* SPDX-License-Identifier: Apache-2.0 */
/* Starts and stops the real servers (Redis, PostgreSQL, ...) that plugin tests run against. */
#ifndef OUTRIG_TESTS_SERVER_H
#define OUTRIG_TESTS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

/* True when name is an executable found on $PATH, so a test can skip when it is not installed. */
bool server_available(const char *name);

/*
 * Runs argv (argv[0] looked up on $PATH) with stdout and stderr appended to log. The server is
 * killed when the calling thread ends, so a crashed test leaves nothing behind.
 * Returns its pid, or -1.
 */
pid_t server_spawn(const char *const *argv, const char *log);

/* Waits until 127.0.0.1:port accepts connections. Returns 0, or -1 if pid exits or timeout_ms passes. */
int server_wait_port(pid_t pid, int port, int timeout_ms);

/* SIGTERM, then SIGKILL after 10 s. Returns the exit code, 128 + signal, or -1. */
int server_stop(pid_t pid);

#endif /* OUTRIG_TESTS_SERVER_H */
