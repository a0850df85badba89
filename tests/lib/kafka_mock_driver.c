/* SPDX-License-Identifier: Apache-2.0 */
/* Runs tests/kafka_mock (librdkafka's mock cluster) for a test and sends it commands. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "kafka_mock_driver.h"

int kafka_mock_start(struct kafka_mock *m, int brokers)
{
	const char *builddir = getenv("OUTRIG_BUILDDIR");
	char path[1024], count[16];
	int in[2], out[2];
	pid_t parent = getpid();

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/tests/kafka_mock", builddir != NULL ? builddir : ".");
	snprintf(count, sizeof(count), "%d", brokers);
	if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
		fprintf(stderr, "kafka_mock: pipe: %s\n", strerror(errno));
		return -1;
	}
	fflush(NULL);
	m->pid = fork();
	if (m->pid < 0) {
		fprintf(stderr, "kafka_mock: fork: %s\n", strerror(errno));
		return -1;
	}
	if (m->pid == 0) {
#ifdef __linux__
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
#endif
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		execl(path, path, count, (char *)NULL);
		fprintf(stderr, "kafka_mock: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	m->to = fdopen(in[1], "w");
	m->from = fdopen(out[0], "r");
	if (m->to == NULL || m->from == NULL || fgets(m->bootstrap, sizeof(m->bootstrap), m->from) == NULL) {
		fprintf(stderr, "kafka_mock: %s did not print its bootstrap servers\n", path);
		kafka_mock_stop(m);
		return -1;
	}
	m->bootstrap[strcspn(m->bootstrap, "\r\n")] = '\0';
	return 0;
}

int kafka_mock_cmd(struct kafka_mock *m, const char *fmt, ...)
{
	char answer[600];
	va_list ap;

	va_start(ap, fmt);
	vfprintf(m->to, fmt, ap);
	va_end(ap);
	fputc('\n', m->to);
	fflush(m->to);
	if (fgets(answer, sizeof(answer), m->from) == NULL) {
		fprintf(stderr, "kafka_mock: no answer\n");
		return -1;
	}
	if (strncmp(answer, "ok", 2) != 0) {
		fprintf(stderr, "kafka_mock: %s", answer);
		return -1;
	}
	return 0;
}

long kafka_mock_count(struct kafka_mock *m, const char *topic, int partitions, const char *needle)
{
	char answer[600];
	long n;

	fprintf(m->to, "count %s %d %s\n", topic, partitions, needle);
	fflush(m->to);
	if (fgets(answer, sizeof(answer), m->from) == NULL) {
		fprintf(stderr, "kafka_mock: no answer\n");
		return -1;
	}
	if (sscanf(answer, "ok %ld", &n) != 1) {
		fprintf(stderr, "kafka_mock: %s", answer);
		return -1;
	}
	return n;
}

void kafka_mock_stop(struct kafka_mock *m)
{
	if (m->to != NULL) {
		fputs("quit\n", m->to);
		fclose(m->to);
		m->to = NULL;
	}
	if (m->from != NULL) {
		fclose(m->from);
		m->from = NULL;
	}
	if (m->pid > 0) {
		for (int i = 0; i < 250; i++) {
			struct timespec ts = { 0, 20 * 1000000L };

			if (waitpid(m->pid, NULL, WNOHANG) == m->pid) {
				m->pid = 0;
				return;
			}
			nanosleep(&ts, NULL);
		}
		kill(m->pid, SIGKILL);
		waitpid(m->pid, NULL, 0);
		m->pid = 0;
	}
}
