/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the sidecar and the app as children: prefixed output, signals, exit statuses. */
#ifndef OUTRIG_CLI_SUPERVISE_H
#define OUTRIG_CLI_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A longer line is passed on in pieces of this size, still under a single prefix. */
#define SUP_LINE_MAX 8192
#define SUP_MAX_CHILDREN 2

struct sup_stream;

/* One of our own output fds, shared by every child stream written to it. */
struct sup_sink {
	int fd;
	bool broken;		 /* a write failed (reader gone): drop the rest quietly */
	struct sup_stream *open; /* stream whose last piece on this fd did not end a line */
};

/* One child's stdout or stderr, read through a pipe and re-emitted line by line. */
struct sup_stream {
	int fd; /* read end of the pipe; -1 once at end of file */
	const char *prefix;
	struct sup_sink *sink; /* the console (our stdout or stderr), or NULL when it goes to the file only */
	struct sup_sink *file; /* a log file that also gets every line, or NULL */
	long long since_ms;    /* when the buffered partial line started arriving */
	size_t len;
	char buf[SUP_LINE_MAX];
};

struct sup_child {
	const char *name; /* for messages: "outrigd" or the app's command */
	pid_t pid;
	bool group; /* leads its own process group (pgid == pid): signals go to the whole group */
	bool exited;
	int status; /* waitpid() status, valid once exited */
	struct sup_stream out, err;
};

struct sup_spawn_opts {
	const char *prefix; /* e.g. "== APP == " */
	/*
	 * In a process group of its own, out of the terminal's: Ctrl-C reaches it only via us, and
	 * what it starts (`npm start` starting node) is signalled with it.
	 */
	bool own_group;
	bool null_stdin;
	const char *const *env; /* NULL-terminated name, value, name, value ...; set in the child only */
	struct sup_sink *file;	/* also write its lines here (a log file), or NULL */
	bool no_console;	/* to the file only, not to our stdout and stderr */
};

struct sup {
	struct sup_sink sinks[2];
	struct sup_sink *out, *err; /* the same sink when fds 1 and 2 are the same file */
	struct sup_child children[SUP_MAX_CHILDREN];
	size_t n_children;
	int signal_rfd, signal_wfd; /* self-pipe: handlers write signal numbers here */
	const char *tag;	    /* with a run file: the app id, put in our own notes; else NULL */
};

/* Sets up output sinks and signal handling. Returns 0, or -1 with errno set. */
int sup_init(struct sup *s);

/* A sink writing to fd (a log file the caller opened and closes). */
void sup_sink_init(struct sup_sink *k, int fd);

/*
 * Starts argv[0] (looked up on PATH) with its stdout and stderr piped to us. Returns the
 * child, or NULL with errno set, including the errno of a failed execvp() in the child.
 */
struct sup_child *sup_spawn(struct sup *s, const char *name, char *const argv[],
			    const struct sup_spawn_opts *opts);

/*
 * Passes on children's output and reaps children for up to timeout_ms (-1: until something
 * happens). Returns SIGINT, SIGTERM or SIGHUP when one of those reached us, else 0.
 */
int sup_poll(struct sup *s, int timeout_ms);

/* Like sup_poll() until c exits, timeout_ms pass (-1: no limit) or a stop signal arrives. */
int sup_wait(struct sup *s, struct sup_child *c, int timeout_ms);

/* Sends sig to c's process group (own_group), or to c unless it has exited already. */
void sup_kill(struct sup_child *c, int sig);

/*
 * SIGTERM, then SIGKILL after grace_ms or at a second Ctrl-C; returns once c has exited and,
 * with own_group, once nothing of its group is left (what is, gets SIGKILL at the same time).
 */
void sup_stop(struct sup *s, struct sup_child *c, int grace_ms);

/*
 * After c exited: passes on what is left in its pipes, until end of file, idle_ms without
 * data or 5 s in all (a grandchild may hold them open), then closes them.
 */
void sup_drain(struct sup_child *c, int idle_ms);

/* Prints "outrig: ..." on stderr without splitting a child's half-written line. */
void sup_note(struct sup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Milliseconds on the monotonic clock, for deadlines. */
long long sup_now_ms(void);

/* The shell's convention: the exit status, or 128 + the signal that killed it. */
int sup_exit_code(int status);

/* "exited with status 3" or "was killed by signal 9 (Killed)", into buf. */
const char *sup_describe(int status, char *buf, size_t size);

#endif /* OUTRIG_CLI_SUPERVISE_H */
