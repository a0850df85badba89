/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the sidecar and the app as children: prefixed output, signals, exit statuses. */
/* pipe2(): close-on-exec from the start, since two children are forked. */
#define _GNU_SOURCE
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* A partial line waits this long for its end, so prompts without a newline still show up. */
#define SUP_PARTIAL_MS 200
/* A grandchild that keeps writing to an exited child's pipes must not hold us up for ever. */
#define SUP_DRAIN_MAX_MS 5000
/* How often a stop looks whether a child's process group is empty yet. */
#define SUP_GROUP_POLL_MS 50

static int sup_signal_fd = -1;

/* What we catch, and how each was set when we started, for the children to get back. */
static const int sup_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGPIPE };
#define SUP_N_SIGNALS (sizeof(sup_signals) / sizeof(sup_signals[0]))
static struct sigaction sup_saved[SUP_N_SIGNALS];

long long sup_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sup_on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;

	/* A full pipe already holds enough wake-ups; losing this byte is harmless. */
	if (write(sup_signal_fd, &b, 1) < 0)
		errno = saved;
	errno = saved;
}

static void sup_write_all(struct sup_sink *k, const char *data, size_t len)
{
	while (len > 0 && !k->broken) {
		ssize_t n = write(k->fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = { .fd = k->fd, .events = POLLOUT };

				poll(&p, 1, -1);
				continue;
			}
			k->broken = true;
			return;
		}
		data += n;
		len -= (size_t)n;
	}
}

/* Ends another stream's unfinished line, so what comes next starts on a line of its own. */
static void sup_sink_claim(struct sup_sink *k, struct sup_stream *st)
{
	if (k->open != NULL && k->open != st) {
		sup_write_all(k, "\n", 1);
		k->open = NULL;
	}
}

/* Writes data for st to k; only the start of a line gets the prefix, in the same write(). */
static void sup_emit_to(struct sup_sink *k, struct sup_stream *st, const char *data, size_t len,
			bool ends_line)
{
	/*
	 * One write per line: the apps of a run file are run by processes of their own that share
	 * our stdout, and a prefix written apart from its line could land in another app's line.
	 */
	static char line[SUP_LINE_MAX + 512];

	sup_sink_claim(k, st);
	if (k->open != st) {
		size_t plen = strlen(st->prefix);

		if (plen + len <= sizeof(line)) {
			memcpy(line, st->prefix, plen);
			memcpy(line + plen, data, len);
			sup_write_all(k, line, plen + len);
		} else {
			sup_write_all(k, st->prefix, plen);
			sup_write_all(k, data, len);
		}
	} else {
		sup_write_all(k, data, len);
	}
	k->open = ends_line ? NULL : st;
}

static void sup_emit(struct sup_stream *st, const char *data, size_t len, bool ends_line)
{
	if (st->sink != NULL)
		sup_emit_to(st->sink, st, data, len, ends_line);
	if (st->file != NULL)
		sup_emit_to(st->file, st, data, len, ends_line);
}

static void sup_emit_lines(struct sup_stream *st, long long now)
{
	size_t start = 0;

	for (;;) {
		char *nl = memchr(st->buf + start, '\n', st->len - start);
		size_t end;

		if (nl == NULL)
			break;
		end = (size_t)(nl - st->buf) + 1;
		sup_emit(st, st->buf + start, end - start, true);
		start = end;
	}
	if (start == 0 && st->len == sizeof(st->buf)) {
		/* No newline in a full buffer: pass it on as the first piece of a long line. */
		sup_emit(st, st->buf, st->len, false);
		start = st->len;
	}
	if (start > 0) {
		memmove(st->buf, st->buf + start, st->len - start);
		st->len -= start;
		st->since_ms = now;
	}
}

static void sup_stream_eof(struct sup_stream *st)
{
	if (st->len > 0) {
		sup_emit(st, st->buf, st->len, false);
		st->len = 0;
	}
	for (int i = 0; i < 2; i++) {
		struct sup_sink *k = i == 0 ? st->sink : st->file;

		if (k != NULL && k->open == st) {
			sup_write_all(k, "\n", 1);
			k->open = NULL;
		}
	}
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
}

static void sup_stream_read(struct sup_stream *st, long long now)
{
	ssize_t n;

	if (st->len == 0)
		st->since_ms = now;
	n = read(st->fd, st->buf + st->len, sizeof(st->buf) - st->len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		sup_stream_eof(st);
		return;
	}
	st->len += (size_t)n;
	sup_emit_lines(st, now);
}

static void sup_reap(struct sup *s)
{
	for (size_t i = 0; i < s->n_children; i++) {
		struct sup_child *c = &s->children[i];
		int status;
		pid_t r;

		if (c->exited)
			continue;
		do
			r = waitpid(c->pid, &status, WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r == c->pid && (WIFEXITED(status) || WIFSIGNALED(status))) {
			c->exited = true;
			c->status = status;
		} else if (r < 0 && errno == ECHILD) {
			/* Someone else reaped it; report it as a plain failure rather than wait forever. */
			c->exited = true;
			c->status = 1 << 8;
		}
	}
}

void sup_sink_init(struct sup_sink *k, int fd)
{
	k->fd = fd;
	k->broken = false;
	k->open = NULL;
}

int sup_init(struct sup *s)
{
	struct sigaction sa;
	struct stat st1, st2;
	int p[2];

	memset(s, 0, sizeof(*s));
	sup_sink_init(&s->sinks[0], STDOUT_FILENO);
	sup_sink_init(&s->sinks[1], STDERR_FILENO);
	s->out = &s->sinks[0];
	s->err = &s->sinks[1];
	/* On a terminal both are one file; a shared sink keeps half lines from interleaving. */
	if (fstat(STDOUT_FILENO, &st1) == 0 && fstat(STDERR_FILENO, &st2) == 0 && st1.st_dev == st2.st_dev &&
	    st1.st_ino == st2.st_ino)
		s->err = s->out;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	s->signal_rfd = p[0];
	s->signal_wfd = p[1];
	sup_signal_fd = p[1];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sup_on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < SUP_N_SIGNALS; i++) {
		if (sigaction(sup_signals[i], NULL, &sup_saved[i]) != 0)
			return -1;
		/* Ignored at start (nohup, a background job): stay out of it, as the children do. */
		if (sup_signals[i] != SIGCHLD && sup_saved[i].sa_handler == SIG_IGN)
			continue;
		if (sigaction(sup_signals[i], &sa, NULL) != 0)
			return -1;
	}
	/* A reader of our stdout going away must not kill us before the children are stopped. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* In the child after fork(): only async-signal-safe work, plus setenv (we are single-threaded). */
static void sup_child_setup(const struct sup_spawn_opts *opts, int out_w, int err_w, pid_t parent)
{
	sigset_t none;

	for (size_t i = 0; i < SUP_N_SIGNALS; i++)
		sigaction(sup_signals[i], &sup_saved[i], NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (opts->own_group)
		setpgid(0, 0);
#ifdef __linux__
	/* If outrig is killed outright, do not leave the sidecar or the app running. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
#endif
	if (opts->null_stdin) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd >= 0 && fd != STDIN_FILENO) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
	}
	dup2(out_w, STDOUT_FILENO);
	dup2(err_w, STDERR_FILENO);
	for (const char *const *e = opts->env; e != NULL && e[0] != NULL; e += 2)
		setenv(e[0], e[1], 1);
}

static void sup_stream_init(struct sup_stream *st, int fd, const char *prefix, struct sup_sink *k,
			    struct sup_sink *file)
{
	st->fd = fd;
	st->prefix = prefix;
	st->sink = k;
	st->file = file;
	st->len = 0;
	st->since_ms = 0;
}

struct sup_child *sup_spawn(struct sup *s, const char *name, char *const argv[],
			    const struct sup_spawn_opts *opts)
{
	struct sup_child *c;
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, ex[2] = { -1, -1 };
	int child_errno = 0, saved;
	pid_t parent = getpid(), pid;
	ssize_t n;

	if (s->n_children >= SUP_MAX_CHILDREN) {
		errno = EMFILE;
		return NULL;
	}
	/* ex carries execvp()'s errno back; it closes on a successful exec, so a read gets 0. */
	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(ex, O_CLOEXEC) != 0)
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		int e;

		sup_child_setup(opts, out[1], err[1], parent);
		execvp(argv[0], argv);
		e = errno;
		if (write(ex[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	/* Also here: a signal sent before the child got to its own setpgid() must reach the group. */
	if (opts->own_group)
		setpgid(pid, pid);
	close(out[1]);
	close(err[1]);
	close(ex[1]);
	do
		n = read(ex[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close(ex[0]);
	if (n == (ssize_t)sizeof(child_errno)) {
		waitpid(pid, NULL, 0);
		close(out[0]);
		close(err[0]);
		errno = child_errno;
		return NULL;
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);

	c = &s->children[s->n_children++];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->pid = pid;
	c->group = opts->own_group;
	sup_stream_init(&c->out, out[0], opts->prefix, opts->no_console ? NULL : s->out, opts->file);
	sup_stream_init(&c->err, err[0], opts->prefix, opts->no_console ? NULL : s->err, opts->file);
	return c;

fail:
	saved = errno;
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
		if (ex[i] >= 0)
			close(ex[i]);
	}
	errno = saved;
	return NULL;
}

/* Returns the last stop signal found in the self-pipe, reaping children on SIGCHLD. */
static int sup_read_signals(struct sup *s)
{
	unsigned char b[64];
	int stop = 0;
	ssize_t n;

	while ((n = read(s->signal_rfd, b, sizeof(b))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (b[i] != SIGCHLD)
				stop = b[i];
	}
	sup_reap(s);
	return stop;
}

/* Flushes partial lines that have waited long enough; returns ms until the next is due. */
static int sup_flush_partials(struct sup *s, long long now)
{
	int next = -1;

	for (size_t i = 0; i < s->n_children; i++) {
		struct sup_stream *sts[2] = { &s->children[i].out, &s->children[i].err };

		for (int j = 0; j < 2; j++) {
			struct sup_stream *st = sts[j];
			long long due;

			if (st->len == 0)
				continue;
			due = st->since_ms + SUP_PARTIAL_MS;
			if (due <= now) {
				sup_emit(st, st->buf, st->len, false);
				st->len = 0;
			} else if (next < 0 || due - now < next) {
				next = (int)(due - now);
			}
		}
	}
	return next;
}

int sup_poll(struct sup *s, int timeout_ms)
{
	struct pollfd pfd[1 + 2 * SUP_MAX_CHILDREN];
	struct sup_stream *who[1 + 2 * SUP_MAX_CHILDREN];
	nfds_t nfds = 0;
	int partial, n;

	pfd[nfds].fd = s->signal_rfd;
	pfd[nfds].events = POLLIN;
	who[nfds++] = NULL;
	for (size_t i = 0; i < s->n_children; i++) {
		struct sup_stream *sts[2] = { &s->children[i].out, &s->children[i].err };

		for (int j = 0; j < 2; j++) {
			if (sts[j]->fd < 0)
				continue;
			pfd[nfds].fd = sts[j]->fd;
			pfd[nfds].events = POLLIN;
			who[nfds++] = sts[j];
		}
	}
	partial = sup_flush_partials(s, sup_now_ms());
	if (partial >= 0 && (timeout_ms < 0 || partial < timeout_ms))
		timeout_ms = partial;

	n = poll(pfd, nfds, timeout_ms);
	if (n > 0) {
		long long now = sup_now_ms();

		for (nfds_t i = 1; i < nfds; i++)
			if (pfd[i].revents != 0)
				sup_stream_read(who[i], now);
	}
	sup_flush_partials(s, sup_now_ms());
	return sup_read_signals(s);
}

int sup_wait(struct sup *s, struct sup_child *c, int timeout_ms)
{
	long long deadline = sup_now_ms() + timeout_ms;

	while (!c->exited) {
		long long left = deadline - sup_now_ms();
		int sig;

		if (timeout_ms >= 0 && left <= 0)
			break;
		sig = sup_poll(s, timeout_ms < 0 ? -1 : (int)left);
		if (sig != 0)
			return sig;
	}
	return 0;
}

void sup_kill(struct sup_child *c, int sig)
{
	if (c == NULL)
		return;
	/* `npm start` leaves node holding the app's port when only npm is told. */
	if (c->group && kill(-c->pid, sig) == 0)
		return;
	if (!c->exited)
		kill(c->pid, sig);
}

/* Whether anything of c's process group still runs. */
static bool sup_group_alive(const struct sup_child *c)
{
	return c->group && kill(-c->pid, 0) == 0;
}

/* After c itself exited: waits until deadline for the rest of its group, then kills what is left. */
static void sup_stop_group(struct sup *s, struct sup_child *c, long long deadline, bool hurried)
{
	while (!hurried && sup_group_alive(c) && sup_now_ms() < deadline) {
		long long left = deadline - sup_now_ms();

		hurried = sup_poll(s, left < SUP_GROUP_POLL_MS ? (int)left : SUP_GROUP_POLL_MS) != 0;
	}
	if (sup_group_alive(c)) {
		if (!hurried)
			sup_note(s, "processes '%s' started are still running; sending them SIGKILL",
				 c->name);
		kill(-c->pid, SIGKILL);
	}
}

void sup_stop(struct sup *s, struct sup_child *c, int grace_ms)
{
	long long deadline = sup_now_ms() + grace_ms;
	bool hurried = false;

	sup_kill(c, SIGTERM);
	while (!c->exited) {
		long long left = deadline - sup_now_ms();

		if (left <= 0)
			break;
		if (sup_wait(s, c, (int)left) != 0) {
			hurried = true;
			break;
		}
	}
	if (!c->exited) {
		if (hurried)
			sup_note(s, "stopping %s now (SIGKILL)", c->name);
		else
			sup_note(s, "%s did not stop within %d s of SIGTERM; sending SIGKILL", c->name,
				 grace_ms / 1000);
		sup_kill(c, SIGKILL);
	}
	while (!c->exited)
		sup_wait(s, c, -1);
	sup_stop_group(s, c, deadline, hurried);
}

void sup_drain(struct sup_child *c, int idle_ms)
{
	long long deadline = sup_now_ms() + SUP_DRAIN_MAX_MS;

	while (sup_now_ms() < deadline) {
		struct pollfd pfd[2];
		struct sup_stream *who[2];
		nfds_t n = 0;
		long long now;
		int r;

		if (c->out.fd >= 0) {
			pfd[n] = (struct pollfd){ .fd = c->out.fd, .events = POLLIN };
			who[n++] = &c->out;
		}
		if (c->err.fd >= 0) {
			pfd[n] = (struct pollfd){ .fd = c->err.fd, .events = POLLIN };
			who[n++] = &c->err;
		}
		if (n == 0)
			return;
		r = poll(pfd, n, idle_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		now = sup_now_ms();
		for (nfds_t i = 0; i < n; i++)
			if (pfd[i].revents != 0)
				sup_stream_read(who[i], now);
	}
	sup_stream_eof(&c->out);
	sup_stream_eof(&c->err);
}

void sup_note(struct sup *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n, head;

	if (s->tag != NULL)
		head = snprintf(buf, 300, "outrig: %.256s: ", s->tag);
	else
		head = snprintf(buf, 300, "outrig: ");
	va_start(ap, fmt);
	n = vsnprintf(buf + head, sizeof(buf) - (size_t)head - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	n = head + (n < (int)sizeof(buf) - head - 1 ? n : (int)sizeof(buf) - head - 2);
	buf[n++] = '\n';
	sup_sink_claim(s->err, NULL);
	sup_write_all(s->err, buf, (size_t)n);
}

int sup_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

const char *sup_describe(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status))
		snprintf(buf, size, "was killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "exited with status %d", sup_exit_code(status));
	return buf;
}
