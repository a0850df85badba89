/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the real outrigd as a child process in a scratch directory, for integration tests. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "daemon.h"
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int daemon_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = -1;

	if (fd < 0)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/*
 * A free port other than a and b: each pick's socket is closed before the next, so the kernel may
 * hand the same port out twice, and two of a daemon's listeners would then meet on it.
 */
static int daemon_other_free_port(int a, int b)
{
	for (int i = 0; i < 16; i++) {
		int port = daemon_free_port();

		if (port < 0 || (port != a && port != b))
			return port;
	}
	return -1;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void remove_tree(const char *dir)
{
	const char *keep = getenv("OUTRIG_TEST_KEEP");

	if (keep != NULL && *keep != '\0' && strcmp(keep, "0") != 0)
		fprintf(stderr, "keeping %s\n", dir);
	else
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * check's fork mode ends a test process with _exit() on the first failed assertion, and kills
 * it on a timeout, so neither teardown nor atexit can be trusted to remove the scratch directory.
 * A janitor process waits on a pipe instead: EOF without a goodbye byte means the test process
 * died, and the janitor removes the directory. (The daemon itself dies with its parent through
 * PR_SET_PDEATHSIG.)
 */
static void spawn_janitor(struct daemon *d)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char c;
		ssize_t n;

		/* check kills a test's process group once the test ends; stay out of it. */
		setpgid(0, 0);
		/* Hold no other pipe open, or other janitors would wait for this one to exit. */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != fds[0])
				close(fd);
		do
			n = read(fds[0], &c, 1);
		while (n < 0 && errno == EINTR);
		if (n == 0) {
			/* Let a daemon killed along with the test finish dying before its files go. */
			for (int i = 0; i < 5 && access(d->dir, F_OK) == 0; i++) {
				sleep_ms(100);
				remove_tree(d->dir);
			}
		}
		_exit(0);
	}
	close(fds[0]);
	if (pid < 0) {
		close(fds[1]);
		return;
	}
	setpgid(pid, pid);
	d->janitor = pid;
	d->janitor_fd = fds[1];
}

static void dismiss_janitor(struct daemon *d)
{
	/* The pid, not the fd, says whether there is one: a zeroed struct has fd 0. */
	if (d->janitor <= 0)
		return;
	/* Writing to a dead janitor's pipe would raise SIGPIPE here. */
	if (waitpid(d->janitor, NULL, WNOHANG) == 0 && write(d->janitor_fd, "q", 1) != 1)
		fprintf(stderr, "test harness: lost the janitor process %d\n", (int)d->janitor);
	close(d->janitor_fd);
	d->janitor_fd = -1;
	while (waitpid(d->janitor, NULL, 0) < 0 && errno == EINTR)
		;
	d->janitor = 0;
}

int daemon_init(struct daemon *d, const char *app_id)
{
	const char *tmp = getenv("TMPDIR");

	memset(d, 0, sizeof(*d));
	d->janitor_fd = -1;
	d->use_resources = true;
	snprintf(d->app_id, sizeof(d->app_id), "%s", app_id);
	if (snprintf(d->dir, sizeof(d->dir), "%s/outrig-test-XXXXXX", tmp && *tmp ? tmp : "/tmp") >=
	    (int)sizeof(d->dir))
		return -ENAMETOOLONG;
	if (mkdtemp(d->dir) == NULL)
		return -errno;
	snprintf(d->resources, sizeof(d->resources), "%s/resources", d->dir);
	snprintf(d->data, sizeof(d->data), "%s/data", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/outrigd.log", d->dir);
	spawn_janitor(d);
	if (mkdir(d->resources, 0700) < 0 || mkdir(d->data, 0700) < 0)
		return -errno;
	return 0;
}

int daemon_setenv(struct daemon *d, const char *name, const char *value)
{
	for (size_t i = 0; i < sizeof(d->env) / sizeof(d->env[0]); i++) {
		if (d->env[i][0] == '\0') {
			snprintf(d->env[i], sizeof(d->env[i]), "%s=%s", name, value);
			return 0;
		}
	}
	return -ENOSPC;
}

int daemon_write_resource(struct daemon *d, const char *file, const char *content)
{
	char path[DAEMON_PATH_MAX * 2];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", d->resources, file);
	f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	fputs(content, f);
	rc = fclose(f) == 0 ? 0 : -errno;
	return rc;
}

int daemon_add_subscription(struct daemon *d, const char *name, const char *pubsub, const char *topic,
			    const char *route)
{
	char file[256], *yaml = NULL;
	int rc;

	if (asprintf(&yaml,
		     "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: %s\nspec:\n"
		     "  pubsubname: %s\n  topic: %s\n  routes:\n    default: %s\n",
		     name, pubsub, topic, route) < 0)
		return -ENOMEM;
	snprintf(file, sizeof(file), "%s.yaml", name);
	rc = daemon_write_resource(d, file, yaml);
	free(yaml);
	return rc;
}

int daemon_write_component(struct daemon *d, const char *name, const char *type, const char *metadata_lines)
{
	char file[256];
	char *yaml = NULL;
	int rc;

	if (asprintf(&yaml,
		     "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n"
		     "  name: %s\nspec:\n  type: %s\n  version: v1\n  metadata:%s%s",
		     name, type, metadata_lines && *metadata_lines ? "\n" : " []\n",
		     metadata_lines ? metadata_lines : "") < 0)
		return -ENOMEM;
	snprintf(file, sizeof(file), "%s.yaml", name);
	rc = daemon_write_resource(d, file, yaml);
	free(yaml);
	return rc;
}

int daemon_add_component(struct daemon *d, const char *name, const char *type, ...)
{
	char *lines = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&lines, &size);
	const char *key;
	va_list ap;
	int rc;

	if (f == NULL)
		return -ENOMEM;
	va_start(ap, type);
	while ((key = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);

		fprintf(f, "  - name: %s\n    value: \"", key);
		for (; *v != '\0'; v++)
			fprintf(f, *v == '"' || *v == '\\' ? "\\%c" : "%c", *v);
		fputs("\"\n", f);
	}
	va_end(ap);
	fclose(f);
	rc = daemon_write_component(d, name, type, lines);
	free(lines);
	return rc;
}

static const char *outrigd_path(char *buf, size_t size)
{
	const char *p = getenv("OUTRIGD");
	const char *b = getenv("OUTRIG_BUILDDIR");

	if (p != NULL && *p != '\0')
		return p;
	snprintf(buf, size, "%s/core/outrigd", b ? b : ".");
	return buf;
}

/* In the child: never returns. */
static bool daemon_has_arg(const char *const *args, const char *name)
{
	for (size_t i = 0; args != NULL && args[i] != NULL; i++)
		if (strcmp(args[i], name) == 0)
			return true;
	return false;
}

static void exec_daemon(struct daemon *d, pid_t parent, const char *const *extra_args)
{
	const char *argv[64];
	char port[16], grpc_port[16], metrics_port[16], path[DAEMON_PATH_MAX], plugins[DAEMON_PATH_MAX];
	const char *level = getenv("OUTRIG_TEST_LOG_LEVEL");
	int n = 0, fd;

#ifdef __linux__
	/* A test process killed by check's timeout must not leave its daemon behind. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127); /* the parent died before the signal was armed */
#endif
	fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
	setenv("XDG_DATA_HOME", d->data, 1);
	for (size_t i = 0; i < sizeof(d->env) / sizeof(d->env[0]) && d->env[i][0] != '\0'; i++)
		putenv(d->env[i]);
	if (getenv("OUTRIG_PLUGIN_PATH") == NULL) {
		/* Run by hand from the build tree rather than through make check. */
		const char *b = getenv("OUTRIG_BUILDDIR");

		snprintf(plugins, sizeof(plugins), "%s/plugins/.libs", b ? b : ".");
		setenv("OUTRIG_PLUGIN_PATH", plugins, 1);
	}
	snprintf(port, sizeof(port), "%d", d->port);
	snprintf(grpc_port, sizeof(grpc_port), "%d", d->grpc_port);
	argv[n++] = outrigd_path(path, sizeof(path));
	argv[n++] = "--app-id";
	argv[n++] = d->app_id;
	argv[n++] = "--dapr-http-port";
	argv[n++] = port;
	if (!d->default_grpc_port && !daemon_has_arg(extra_args, "--dapr-grpc-port")) {
		argv[n++] = "--dapr-grpc-port";
		argv[n++] = grpc_port;
	}
	snprintf(metrics_port, sizeof(metrics_port), "%d", d->metrics_port);
	if (!d->default_metrics_port && !daemon_has_arg(extra_args, "--metrics-port")) {
		argv[n++] = "--metrics-port";
		argv[n++] = metrics_port;
	}
	if (d->use_resources) {
		argv[n++] = "--resources-path";
		argv[n++] = d->resources;
	}
	if (level != NULL && *level != '\0') {
		argv[n++] = "--log-level";
		argv[n++] = level;
	}
	for (int i = 0; extra_args != NULL && extra_args[i] != NULL && n < 63; i++)
		argv[n++] = extra_args[i];
	argv[n] = NULL;
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "test harness: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

void daemon_dump_log(const struct daemon *d)
{
	FILE *f = fopen(d->log, "r");
	char line[1024];

	fprintf(stderr, "---- %s ----\n", d->log);
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stderr);
	fclose(f);
	fprintf(stderr, "---- end of log ----\n");
}

/* Decodes a waitpid status the way a shell would. */
static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int daemon_wait_exit(struct daemon *d, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	int status;

	if (d->pid <= 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(d->pid, &status, WNOHANG);

		if (r == d->pid || (r < 0 && errno != EINTR)) {
			d->pid = 0;
			return r < 0 ? -1 : exit_code(status);
		}
		if (now_ms() >= deadline)
			return -1;
		sleep_ms(10);
	}
}

/* Whether what outrigd logged past offset says a port it was given was taken. */
static bool daemon_port_was_taken(const struct daemon *d, long offset)
{
	char line[1024];
	bool taken = false;
	FILE *f = fopen(d->log, "r");

	if (f == NULL)
		return false;
	if (fseek(f, offset, SEEK_SET) == 0)
		while (!taken && fgets(line, sizeof(line), f) != NULL)
			taken = strstr(line, "Address already in use") != NULL;
	fclose(f);
	return taken;
}

/* The size of outrigd's log so far (0 before the first start). */
static long daemon_log_size(const struct daemon *d)
{
	struct stat st;

	return stat(d->log, &st) == 0 ? (long)st.st_size : 0;
}

static int daemon_start_once(struct daemon *d, const char *const *extra_args);

/*
 * The ports are picked free, but only bound once outrigd starts: another test's daemon may take
 * one in between. A start that failed on a taken port is tried again with other ports; a port
 * the test gave (extra_args) fails the same way each time, as the test expects.
 */
int daemon_start(struct daemon *d, const char *const *extra_args)
{
	for (int attempt = 1;; attempt++) {
		long offset = daemon_log_size(d);
		int rc = daemon_start_once(d, extra_args);

		if (rc != -2)
			return rc;
		if (attempt == 3 || !daemon_port_was_taken(d, offset))
			return -1;
		fprintf(stderr,
			"a port outrigd was given was taken meanwhile; starting it again on others\n");
	}
}

int daemon_start_app(struct daemon *d, int app_port, const char *const *more)
{
	const char *args[40];
	const char *plugins = getenv("OUTRIG_TEST_PLUGIN_DIR");
	char port[16], internal[16];
	int n = 0;

	if (app_port > 0) {
		snprintf(port, sizeof(port), "%d", app_port);
		args[n++] = "--app-port";
		args[n++] = port;
	}
	snprintf(internal, sizeof(internal), "%d", daemon_free_port());
	args[n++] = "--dapr-internal-grpc-port";
	args[n++] = internal;
	args[n++] = "--plugin-dir";
	args[n++] = plugins != NULL ? plugins : "tests/plugins/.libs";
	for (int i = 0; more != NULL && more[i] != NULL; i++) {
		if (n >= 38)
			return -1;
		args[n++] = more[i];
	}
	args[n] = NULL;
	return daemon_start(d, args);
}

/* 0 once outrigd answers healthz; -2 when it exited before, -1 on other failures. */
static int daemon_start_once(struct daemon *d, const char *const *extra_args)
{
	long deadline = now_ms() + 10000;
	pid_t parent = getpid();

	fflush(NULL);
	d->port = daemon_free_port();
	if (d->port < 0)
		return -1;
	/* The port extra_args give, else a free one (unless outrigd's default is under test). */
	d->grpc_port = d->default_grpc_port ? 50001 : daemon_other_free_port(d->port, d->port);
	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && extra_args[i + 1] != NULL; i++)
		if (strcmp(extra_args[i], "--dapr-grpc-port") == 0)
			d->grpc_port = atoi(extra_args[i + 1]);
	if (d->grpc_port < 0)
		return -1;
	/* Likewise the metrics port: dozens of test daemons must not meet on 9090. */
	d->metrics_port = d->default_metrics_port ? 9090 : daemon_other_free_port(d->port, d->grpc_port);
	for (size_t i = 0; extra_args != NULL && extra_args[i] != NULL && extra_args[i + 1] != NULL; i++)
		if (strcmp(extra_args[i], "--metrics-port") == 0)
			d->metrics_port = atoi(extra_args[i + 1]);
	if (d->metrics_port < 0)
		return -1;
	d->pid = fork();
	if (d->pid < 0) {
		d->pid = 0;
		return -1;
	}
	if (d->pid == 0)
		exec_daemon(d, parent, extra_args);
	while (now_ms() < deadline) {
		struct http_response r;
		int code;

		if (http_request(d->port, "GET", "/v1.0/healthz", NULL, NULL, 0, &r) == 0) {
			int status = r.status;

			http_response_free(&r);
			if (status == 204)
				return 0;
		}
		code = daemon_wait_exit(d, 0);
		if (code >= 0) {
			fprintf(stderr, "outrigd exited with status %d before it was ready\n", code);
			daemon_dump_log(d);
			return -2;
		}
		sleep_ms(20);
	}
	fprintf(stderr, "outrigd (pid %d, port %d) not ready after 10 s\n", (int)d->pid, d->port);
	daemon_dump_log(d);
	daemon_stop(d);
	return -1;
}

int daemon_stop(struct daemon *d)
{
	int code;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	code = daemon_wait_exit(d, 10000);
	if (code < 0 && d->pid > 0) {
		fprintf(stderr, "outrigd (pid %d) ignored SIGTERM for 10 s; killing it\n", (int)d->pid);
		kill(d->pid, SIGKILL);
		daemon_wait_exit(d, 5000);
		return -1;
	}
	return code;
}

void daemon_kill(struct daemon *d)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGKILL);
	daemon_wait_exit(d, 10000);
}

void daemon_cleanup(struct daemon *d)
{
	if (d->pid > 0)
		daemon_stop(d);
	if (d->dir[0] != '\0') {
		remove_tree(d->dir);
		d->dir[0] = '\0';
	}
	dismiss_janitor(d);
}

long daemon_proc_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':')
			kib = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kib;
}
