/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the real outrigd as a child process in a scratch directory, for integration tests. */
#ifndef OUTRIG_TESTS_DAEMON_H
#define OUTRIG_TESTS_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

#define DAEMON_PATH_MAX 512

struct daemon {
	pid_t pid;	    /* 0 when not running */
	int port;	    /* --dapr-http-port of the current run */
	bool use_resources; /* pass --resources-path; false => embedded default store */
	char app_id[64];
	char dir[DAEMON_PATH_MAX -
		 64]; /* scratch root (short, so the paths below fit); removed by daemon_cleanup() */
	char resources[DAEMON_PATH_MAX]; /* dir/resources: component YAML goes here */
	char data[DAEMON_PATH_MAX];	 /* dir/data: XDG_DATA_HOME of the daemon */
	char log[DAEMON_PATH_MAX];	 /* dir/outrigd.log: stdout and stderr of every run */
	char env[8][256];		 /* "NAME=value" added to the daemon's environment */
	pid_t janitor;			 /* removes dir if this process dies without cleaning up */
	int janitor_fd;
	/*
	 * --dapr-grpc-port of the current run: a free port daemon_start picks (so daemons in parallel
	 * tests never meet on 50001), or the one extra_args give. With default_grpc_port set, no port is
	 * passed and outrigd tries its default 50001.
	 */
	int grpc_port;
	bool default_grpc_port;
	/* --metrics-port of the current run, chosen as grpc_port is; default_metrics_port: none passed (9090). */
	int metrics_port;
	bool default_metrics_port;
};

/*
 * Creates the scratch directory and its resources/ and data/ folders; does not start anything.
 * Returns 0 or a negative errno.
 * Ownership: d is the caller's. If the process dies before daemon_cleanup() (a failed check
 * assertion exits without teardown), the daemon dies with it and the directory is still removed.
 */
int daemon_init(struct daemon *d, const char *app_id);

/*
 * Writes resources/<name>.yaml: a Dapr Component of type with spec.metadata given as
 * key, value pairs ending with NULL. Values are double-quoted YAML scalars.
 */
int daemon_add_component(struct daemon *d, const char *name, const char *type, ...) __attribute__((sentinel));

/* Same, with spec.metadata given as ready YAML list lines ("  - name: k\n    value: v\n"). */
int daemon_write_component(struct daemon *d, const char *name, const char *type, const char *metadata_lines);

/* Sets an environment variable for the daemon's next runs (up to 8). Returns 0 or -ENOSPC. */
int daemon_setenv(struct daemon *d, const char *name, const char *value);

/* Writes an arbitrary file under the resources folder. */
int daemon_write_resource(struct daemon *d, const char *file, const char *content);

/* Writes a declarative Subscription (v2alpha1) NAME.yaml: topic of pubsub, delivered to route. Returns 0 or -errno. */
int daemon_add_subscription(struct daemon *d, const char *name, const char *pubsub, const char *topic,
			    const char *route);

/*
 * Starts $OUTRIGD on a fresh loopback port with --app-id, --dapr-http-port, --resources-path
 * (unless !use_resources) and extra_args (NULL-terminated, may be NULL), then waits up to 10 s
 * for GET /v1.0/healthz to answer 204. On failure the log is copied to stderr. A start that
 * failed because a picked port was taken meanwhile (another test's daemon) is tried again, at
 * most three times. Returns 0 or -1.
 * Thread: the daemon is killed when the calling thread ends, so call it from the main thread.
 */
int daemon_start(struct daemon *d, const char *const *extra_args);

/*
 * daemon_start in front of the app on app_port (none when 0), with an internal port of its own (tests running at
 * once would share the app id's derived one), $OUTRIG_TEST_PLUGIN_DIR (or tests/plugins/.libs) as the plugin
 * folder, then more (NULL-terminated, may be NULL; at most 30).
 */
int daemon_start_app(struct daemon *d, int app_port, const char *const *more);

/*
 * Waits up to timeout_ms for the daemon to exit by itself.
 * Returns its exit code, 128 + signal if killed by one, or -1 on timeout (still running).
 */
int daemon_wait_exit(struct daemon *d, int timeout_ms);

/* SIGTERM, then waits (SIGKILL after 10 s). Returns like daemon_wait_exit(); -1 if killed. */
int daemon_stop(struct daemon *d);

/* SIGKILL, as a crash would; returns once it is reaped. */
void daemon_kill(struct daemon *d);

/* Stops the daemon if running and removes the scratch directory (kept if OUTRIG_TEST_KEEP). */
void daemon_cleanup(struct daemon *d);

/* Copies the daemon's log to stderr, to explain a failure. */
void daemon_dump_log(const struct daemon *d);

/* A port nobody listens on right now (bound to port 0 and released). */
int daemon_free_port(void);

/* A field of /proc/PID/status in KiB ("VmRSS", "VmHWM"), or -1. */
long daemon_proc_kib(pid_t pid, const char *field);

#endif /* OUTRIG_TESTS_DAEMON_H */
