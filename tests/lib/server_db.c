/* SPDX-License-Identifier: Apache-2.0 */
/* Redis and PostgreSQL (and the shared lifecycle of every test server) from Debian's packages, started on free loopback ports for tests. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "server.h"
#include "server_internal.h"

/* Long enough for initdb's fsyncs on a slow CI disk. */
#define SERVER_START_TIMEOUT_MS 30000

/* Debian keeps PostgreSQL's server programs off $PATH, under /usr/lib/postgresql/<major>/bin. */
static int pg_bindir(char *out, size_t len)
{
	glob_t g;
	int rc = -1;

	if (server_available("initdb") && server_available("postgres")) {
		snprintf(out, len, "%s", "");
		return 0;
	}
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0 && g.gl_pathc > 0) {
		/* glob sorts, so the last is the newest major. */
		snprintf(out, len, "%.*s", (int)(strlen(g.gl_pathv[g.gl_pathc - 1]) - strlen("initdb")),
			 g.gl_pathv[g.gl_pathc - 1]);
		rc = 0;
	}
	globfree(&g);
	return rc;
}

/* Runs argv to completion, as user (NULL: ourselves), output appended to log. Returns its exit code. */
static int run_as(const char *user, const char *const *argv, const char *log)
{
	pid_t pid;
	int status;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		FILE *f = freopen(log, "a", stdout);

		if (f != NULL)
			dup2(fileno(stdout), STDERR_FILENO);
		if (user != NULL) {
			struct passwd *pw = getpwnam(user);

			if (pw == NULL || setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
			    setuid(pw->pw_uid) != 0)
				_exit(126);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int server_make_dir(struct test_server *s, const char *kind)
{
	char tmpl[64];

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	/* Under /tmp, not the test's own (0700) scratch folder: the postgres user must reach it. */
	snprintf(tmpl, sizeof(tmpl), "/tmp/outrig-%s-XXXXXX", kind);
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "test harness: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", tmpl);
	snprintf(s->log, sizeof(s->log), "%s.log", s->dir);
	return 0;
}

int server_spawn_and_wait(struct test_server *s, const char *const *argv)
{
	s->pid = server_spawn(argv, s->log);
	if (s->pid <= 0 || server_wait_port(s->pid, s->port, SERVER_START_TIMEOUT_MS) != 0) {
		fprintf(stderr, "test harness: %s did not start on port %d; its log is %s\n", s->kind,
			s->port, s->log);
		server_halt(s);
		return -1;
	}
	return 0;
}

static int redis_spawn(struct test_server *s)
{
	char port[16];
	const char *argv[] = { "redis-server",
			       "--port",
			       port,
			       "--bind",
			       "127.0.0.1",
			       "--dir",
			       s->dir,
			       "--save",
			       "",
			       "--appendonly",
			       "yes",
			       "--appendfsync",
			       "always",
			       "--protected-mode",
			       "no",
			       NULL };

	snprintf(port, sizeof(port), "%d", s->port);
	return server_spawn_and_wait(s, argv);
}

int server_redis_start(struct test_server *s)
{
	if (!server_available("redis-server"))
		return SERVER_UNAVAILABLE;
	if (server_make_dir(s, "redis") != 0)
		return -1;
	s->port = daemon_free_port();
	return redis_spawn(s);
}

/* The user PostgreSQL runs as: refuses root, so root hands over to "postgres". */
static const char *pg_user(void)
{
	return geteuid() == 0 ? "postgres" : NULL;
}

static int postgres_spawn(struct test_server *s)
{
	char bindir[256], prog[300], port[16];
	const char *user = pg_user();

	if (pg_bindir(bindir, sizeof(bindir)) != 0)
		return -1;
	snprintf(prog, sizeof(prog), "%spostgres", bindir);
	snprintf(port, sizeof(port), "%d", s->port);
	if (user == NULL) {
		const char *argv[] = { prog,   "-D",	   s->dir,
				       "-p",   port,	   "-k",
				       s->dir, "-c",	   "listen_addresses=127.0.0.1",
				       "-c",   "fsync=on", NULL };

		return server_spawn_and_wait(s, argv);
	}
	/*
	 * setpriv drops to the user; changing credentials clears the parent-death signal that
	 * server_spawn set, so setpriv sets it again and a crashed test still leaves no server.
	 */
	{
		const char *argv[] = {
			"setpriv",     "--reuid", user, "--regid", user, "--clear-groups",
			"--pdeathsig", "KILL",	  "--", prog,	   "-D", s->dir,
			"-p",	       port,	  "-k", s->dir,	   "-c", "listen_addresses=127.0.0.1",
			NULL
		};

		return server_spawn_and_wait(s, argv);
	}
}

/*
 * PostgreSQL accepts TCP connections before it accepts sessions ("the database system is
 * starting up"): wait for pg_isready, so a test's first query does not race the start.
 */
static int postgres_wait_ready(struct test_server *s)
{
	char port[16];
	const char *argv[] = { "pg_isready", "-q", "-h", "127.0.0.1", "-p", port, "-t", "1", NULL };

	snprintf(port, sizeof(port), "%d", s->port);
	for (int waited = 0; waited < SERVER_START_TIMEOUT_MS; waited += 50) {
		if (run_as(NULL, argv, s->log) == 0)
			return 0;
		usleep(50 * 1000);
	}
	fprintf(stderr, "test harness: PostgreSQL on port %d never became ready; its log is %s\n", s->port,
		s->log);
	return -1;
}

int server_postgres_start(struct test_server *s)
{
	char bindir[256], initdb[300];
	const char *user = pg_user();
	struct passwd *pw = user != NULL ? getpwnam(user) : NULL;

	if (pg_bindir(bindir, sizeof(bindir)) != 0 || (user != NULL && pw == NULL))
		return SERVER_UNAVAILABLE;
	if (server_make_dir(s, "postgresql") != 0)
		return -1;
	if (pw != NULL && (chown(s->dir, pw->pw_uid, pw->pw_gid) != 0 || chmod(s->dir, 0700) != 0)) {
		fprintf(stderr, "test harness: chown %s: %s\n", s->dir, strerror(errno));
		return -1;
	}
	snprintf(initdb, sizeof(initdb), "%sinitdb", bindir);
	{
		const char *argv[] = { initdb,
				       "-D",
				       s->dir,
				       "-U",
				       "postgres",
				       "--auth=trust",
				       "--encoding=UTF8",
				       "--locale=C",
				       "--no-sync",
				       NULL };

		if (run_as(user, argv, s->log) != 0) {
			fprintf(stderr, "test harness: initdb failed; its log is %s\n", s->log);
			return -1;
		}
	}
	s->port = daemon_free_port();
	return postgres_spawn(s) == 0 ? postgres_wait_ready(s) : -1;
}

/* Copies file src to dst with mode, owned by the server's user (PostgreSQL refuses a key others can read). */
static int pg_copy_private(const char *src, const char *dst, mode_t mode)
{
	const char *user = pg_user();
	struct passwd *pw = user != NULL ? getpwnam(user) : NULL;
	char *data = NULL;
	size_t len = 0;
	FILE *in = fopen(src, "rb"), *out;
	int rc = -1;

	if (in == NULL)
		return -1;
	out = open_memstream(&data, &len);
	if (out != NULL) {
		char buf[4096];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			fwrite(buf, 1, n, out);
		fclose(out);
	}
	fclose(in);
	out = data != NULL ? fopen(dst, "wb") : NULL;
	if (out != NULL && fwrite(data, 1, len, out) == len && fclose(out) == 0 && chmod(dst, mode) == 0 &&
	    (pw == NULL || chown(dst, pw->pw_uid, pw->pw_gid) == 0))
		rc = 0;
	else if (out != NULL)
		fclose(out);
	free(data);
	return rc;
}

int server_postgres_start_tls(struct test_server *s, const char *cert, const char *key, bool ssl_only)
{
	char path[700];
	FILE *f;
	int rc = server_postgres_start(s);

	if (rc != 0)
		return rc;
	server_halt(s);
	snprintf(path, sizeof(path), "%s/server.pem", s->dir);
	if (pg_copy_private(cert, path, 0644) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/server.key", s->dir);
	if (pg_copy_private(key, path, 0600) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/postgresql.conf", s->dir);
	f = fopen(path, "a");
	if (f == NULL)
		return -1;
	fprintf(f, "ssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\n");
	fclose(f);
	/* hostssl only: a client that does not ask for TLS finds no pg_hba.conf entry. */
	if (ssl_only) {
		snprintf(path, sizeof(path), "%s/pg_hba.conf", s->dir);
		f = fopen(path, "w");
		if (f == NULL)
			return -1;
		fprintf(f,
			"local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n");
		fclose(f);
	}
	return server_restart(s);
}

const char *server_postgres_conninfo(const struct test_server *s)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable",
		 s->port);
	return buf;
}

int server_halt(struct test_server *s)
{
	int rc = 0;

	/*
	 * SIGTERM is PostgreSQL's "smart" shutdown, which waits for every client to hang up;
	 * SIGINT is its "fast" one, which is what an administrator's restart does.
	 */
	if (s->pid > 0 && strcmp(s->kind, "postgresql") == 0)
		kill(s->pid, SIGINT);
	if (s->pid > 0)
		rc = server_stop(s->pid);
	s->pid = 0;
	return rc;
}

int server_restart(struct test_server *s)
{
	if (s->pid > 0)
		return 0;
	if (strcmp(s->kind, "redis") == 0)
		return redis_spawn(s);
	if (strcmp(s->kind, "mosquitto") == 0)
		return server_mosquitto_spawn(s);
	return postgres_spawn(s) == 0 ? postgres_wait_ready(s) : -1;
}

/* Sends sig to the server and to every process whose parent it is. */
static void signal_tree(const struct test_server *s, int sig)
{
	glob_t g;

	if (s->pid <= 0)
		return;
	kill(s->pid, sig);
	if (glob("/proc/[0-9]*/stat", 0, NULL, &g) != 0)
		return;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		FILE *f = fopen(g.gl_pathv[i], "r");
		int pid, ppid;

		/* pid (comm) state ppid: comm may hold spaces, so skip to the last ')'. */
		if (f == NULL)
			continue;
		if (fscanf(f, "%d (%*[^)]) %*c %d", &pid, &ppid) == 2 && ppid == s->pid)
			kill(pid, sig);
		fclose(f);
	}
	globfree(&g);
}

void server_freeze(struct test_server *s)
{
	signal_tree(s, SIGSTOP);
}

void server_thaw(struct test_server *s)
{
	signal_tree(s, SIGCONT);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	/* Best effort: one file that will not go must not stop the rest. */
	remove(path);
	return 0;
}

void server_destroy(struct test_server *s)
{
	/* A frozen server would ignore SIGTERM until the SIGKILL ten seconds later. */
	server_thaw(s);
	server_halt(s);
	if (s->dir[0] != '\0') {
		nftw(s->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		remove(s->log);
	}
	s->dir[0] = '\0';
}
