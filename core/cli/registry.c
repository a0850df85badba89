/* SPDX-License-Identifier: Apache-2.0 */
/* The run folder: one small key=value file per running `outrig run`, for `list` and `stop`. */
#include "registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REG_SUFFIX ".run"
#define REG_FILE_MAX 16384

/* mkdir -p, mode 0700 for what it makes. */
static int reg_mkdir_p(char *path)
{
	for (char *p = path + 1;; p++) {
		char c = *p;
		int rc;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		rc = mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
		*p = c;
		if (rc != 0 || c == '\0')
			return rc;
	}
}

int reg_dir(char *buf, size_t size, bool create)
{
	const char *runtime = getenv("XDG_RUNTIME_DIR"), *data = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	int n;

	/* As the XDG spec says, relative paths are invalid and ignored. */
	if (runtime != NULL && runtime[0] == '/')
		n = snprintf(buf, size, "%s/outrig", runtime);
	else if (data != NULL && data[0] == '/')
		n = snprintf(buf, size, "%s/outrig/run", data);
	else if (home != NULL && home[0] == '/')
		n = snprintf(buf, size, "%s/.local/share/outrig/run", home);
	else {
		errno = ENOENT;
		return -1;
	}
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return create ? reg_mkdir_p(buf) : 0;
}

/* Prints "key=value\n" with line breaks in value turned into spaces, so one line stays one. */
static void reg_put(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s=", key);
	for (const char *p = value; *p != '\0'; p++)
		fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
	fputc('\n', f);
}

int reg_write(struct reg_record *r)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32], path[PATH_MAX + 32];
	FILE *f;
	int fd, saved;

	if (reg_dir(dir, sizeof(dir), true) != 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s/.%ld" REG_SUFFIX ".tmp", dir, (long)r->pid);
	snprintf(path, sizeof(path), "%s/%ld" REG_SUFFIX, dir, (long)r->pid);
	if (strlen(path) >= sizeof(r->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (f == NULL) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	reg_put(f, "app_id", r->app_id);
	fprintf(f, "pid=%ld\npid_start=%llu\noutrigd_pid=%ld\napp_pid=%ld\napp_pgid=%ld\n", (long)r->pid,
		r->pid_start, (long)r->outrigd_pid, (long)r->app_pid, (long)r->app_pgid);
	fprintf(f, "http_port=%d\ngrpc_port=%d\napp_port=%d\nstarted=%lld\n", r->http_port, r->grpc_port,
		r->app_port, r->started);
	reg_put(f, "command", r->command);
	if (r->run_file[0] != '\0')
		reg_put(f, "run_file", r->run_file);
	if (ferror(f) != 0) {
		fclose(f);
		unlink(tmp);
		errno = EIO;
		return -1;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	strcpy(r->path, path);
	return 0;
}

void reg_remove(struct reg_record *r)
{
	if (r->path[0] != '\0')
		unlink(r->path);
	r->path[0] = '\0';
}

static long long reg_number(const char *text)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	return end != text && *end == '\0' && errno == 0 && v >= 0 ? v : -1;
}

/* Parses one record file; false if it is not one (a half-written or foreign file). */
static bool reg_parse(char *text, struct reg_record *r)
{
	memset(r, 0, sizeof(*r));
	r->pid = -1;
	for (char *line = text, *next; line != NULL && *line != '\0'; line = next) {
		char *eq, *value;
		long long v;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		eq = strchr(line, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		value = eq + 1;
		if (strcmp(line, "app_id") == 0) {
			snprintf(r->app_id, sizeof(r->app_id), "%s", value);
			continue;
		}
		if (strcmp(line, "command") == 0) {
			snprintf(r->command, sizeof(r->command), "%s", value);
			continue;
		}
		if (strcmp(line, "run_file") == 0) {
			snprintf(r->run_file, sizeof(r->run_file), "%s", value);
			continue;
		}
		v = reg_number(value);
		if (strcmp(line, "pid") == 0)
			r->pid = (pid_t)v;
		else if (strcmp(line, "pid_start") == 0)
			r->pid_start = v > 0 ? (unsigned long long)v : 0;
		else if (strcmp(line, "outrigd_pid") == 0)
			r->outrigd_pid = v > 0 ? (pid_t)v : 0;
		else if (strcmp(line, "app_pid") == 0)
			r->app_pid = v > 0 ? (pid_t)v : 0;
		else if (strcmp(line, "app_pgid") == 0)
			r->app_pgid = v > 0 ? (pid_t)v : 0;
		else if (strcmp(line, "http_port") == 0)
			r->http_port = v > 0 && v <= 65535 ? (int)v : 0;
		else if (strcmp(line, "grpc_port") == 0)
			r->grpc_port = v > 0 && v <= 65535 ? (int)v : 0;
		else if (strcmp(line, "app_port") == 0)
			r->app_port = v > 0 && v <= 65535 ? (int)v : 0;
		else if (strcmp(line, "started") == 0)
			r->started = v;
	}
	return r->app_id[0] != '\0' && r->pid > 0;
}

static bool reg_read_file(const char *path, struct reg_record *r)
{
	char text[REG_FILE_MAX];
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (len < sizeof(text) - 1 && (n = read(fd, text + len, sizeof(text) - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return false;
		}
		len += (size_t)n;
	}
	close(fd);
	text[len] = '\0';
	return reg_parse(text, r);
}

static int reg_compare(const void *a, const void *b)
{
	const struct reg_record *x = a, *y = b;

	if (x->started != y->started)
		return x->started < y->started ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

int reg_load_all(struct reg_record **out, size_t *n)
{
	char dir[PATH_MAX];
	struct reg_record *all = NULL;
	size_t count = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	*out = NULL;
	*n = 0;
	if (reg_dir(dir, sizeof(dir), false) != 0)
		return -1;
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char path[PATH_MAX];

		/* Leading dot: a record being written. */
		if (e->d_name[0] == '.' || len <= strlen(REG_SUFFIX) ||
		    strcmp(e->d_name + len - strlen(REG_SUFFIX), REG_SUFFIX) != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		if (count == cap) {
			size_t ncap = cap == 0 ? 8 : cap * 2;
			struct reg_record *grown = realloc(all, ncap * sizeof(*all));

			if (grown == NULL) {
				free(all);
				closedir(d);
				errno = ENOMEM;
				return -1;
			}
			all = grown;
			cap = ncap;
		}
		if (!reg_read_file(path, &all[count]))
			continue;
		strcpy(all[count].path, path);
		count++;
	}
	closedir(d);
	if (count > 1)
		qsort(all, count, sizeof(*all), reg_compare);
	*out = all;
	*n = count;
	return 0;
}

/* State letter and start time of pid from /proc/<pid>/stat. Returns 0, or -1 with errno set. */
static int reg_proc_stat(pid_t pid, char *state, unsigned long long *start)
{
	char path[64], text[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0) {
		errno = n == 0 ? ENOENT : errno;
		return -1;
	}
	text[n] = '\0';
	/* The command name may hold spaces and parentheses; the fields follow the last ')'. */
	p = strrchr(text, ')');
	if (p == NULL || p[1] != ' ') {
		errno = EINVAL;
		return -1;
	}
	p += 2;
	*state = *p;
	/* Field 3 is the state; the start time is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (p == NULL) {
			errno = EINVAL;
			return -1;
		}
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

unsigned long long reg_proc_start(pid_t pid)
{
	unsigned long long start;
	char state;

	return reg_proc_stat(pid, &state, &start) == 0 ? start : 0;
}

bool reg_alive(const struct reg_record *r)
{
	unsigned long long start;
	char state;

	if (r->pid <= 0)
		return false;
	if (reg_proc_stat(r->pid, &state, &start) == 0)
		/* A zombie has exited; only its parent has not looked yet. */
		return state != 'Z' && state != 'X' && (r->pid_start == 0 || start == r->pid_start);
	if (errno == ENOENT && access("/proc/self/stat", R_OK) == 0)
		return false;
	/* No /proc: the pid alone must do. */
	return kill(r->pid, 0) == 0 || errno == EPERM;
}

void reg_join_command(char *const argv[], char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (char *const *a = argv; *a != NULL && len + 1 < size; a++) {
		if (a != argv)
			buf[len++] = ' ';
		for (const char *c = *a; *c != '\0' && len + 1 < size; c++)
			buf[len++] = *c == '\n' || *c == '\r' ? ' ' : *c;
	}
	buf[len < size ? len : size - 1] = '\0';
}
