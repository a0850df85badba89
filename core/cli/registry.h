/* SPDX-License-Identifier: Apache-2.0 */
/* The run folder: one small key=value file per running `outrig run`, for `list` and `stop`. */
#ifndef OUTRIG_CLI_REGISTRY_H
#define OUTRIG_CLI_REGISTRY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define REG_APP_ID_MAX 256
#define REG_COMMAND_MAX 1024

struct reg_record {
	char app_id[REG_APP_ID_MAX];
	pid_t pid;		      /* the `outrig run` process: what `outrig stop` signals */
	unsigned long long pid_start; /* its start time in clock ticks since boot; 0: unknown */
	pid_t outrigd_pid, app_pid;   /* 0 until started */
	pid_t app_pgid;		      /* the app's process group, which `outrig run` signals; 0: none */
	int http_port, grpc_port;
	int app_port;		       /* 0: none */
	long long started;	       /* seconds since the epoch */
	char command[REG_COMMAND_MAX]; /* the app's argv joined by spaces, maybe cut short */
	char run_file[PATH_MAX]; /* absolute path of the run file (`outrig run -f`) it came from, or "" */
	char path[PATH_MAX];	 /* the record's file; set by reg_write() and reg_load_all() */
};

/*
 * Writes the run folder's path into buf: $XDG_RUNTIME_DIR/outrig, else
 * $XDG_DATA_HOME/outrig/run, else ~/.local/share/outrig/run. With create, makes it (0700).
 * Returns 0, or -1 with errno set.
 */
int reg_dir(char *buf, size_t size, bool create);

/* Writes (or rewrites) r as <run folder>/<pid>.run, atomically; sets r->path. 0 or -1/errno. */
int reg_write(struct reg_record *r);

/* Removes r's file, if it was written. */
void reg_remove(struct reg_record *r);

/*
 * Reads every record of the run folder, oldest first, into a malloc'ed array the caller
 * frees. A missing folder gives none. Unreadable files are skipped. Returns 0 or -1/errno.
 */
int reg_load_all(struct reg_record **out, size_t *n);

/* Whether r's outrig process still runs: not gone, not a zombie, not a reused pid. */
bool reg_alive(const struct reg_record *r);

/* pid's start time in clock ticks since boot (from /proc), or 0 when it cannot be read. */
unsigned long long reg_proc_start(pid_t pid);

/* argv joined by spaces into buf, cut short to fit; newlines become spaces. */
void reg_join_command(char *const argv[], char *buf, size_t size);

#endif /* OUTRIG_CLI_REGISTRY_H */
