/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig stop --app-id X`: stops a run started by `outrig run`, like `dapr stop`. */
#include "stop.h"

#include "registry.h"
#include "runfile.h"

#include <limits.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * `outrig run` gives the app and then outrigd 5 s each after SIGTERM before SIGKILL, and
 * reads what is left of their output; past this, say so rather than wait on.
 */
#define STOP_WAIT_MS 20000
#define STOP_POLL_MS 50

void stop_usage(FILE *f)
{
	fputs("Usage: outrig stop --app-id ID [--app-id ID ...]\n"
	      "       outrig stop -f FILE|DIR\n"
	      "\n"
	      "Sends SIGTERM to the 'outrig run' that runs the app ID, as Ctrl-C in its terminal\n"
	      "would: it stops the app, then its sidecar, and exits. Waits up to 20 s for that.\n"
	      "'outrig list' shows the app ids that are running. With -f, stops every app that\n"
	      "'outrig run -f' started from that run file (dapr.yaml in DIR).\n"
	      "\n"
	      "Flags:\n"
	      "  -a, --app-id ID          the app to stop (repeatable); every run of that id stops\n"
	      "  -f, --run-file FILE|DIR  the apps of this run file\n"
	      "  -h, --help               this help\n",
	      f);
}

static void stop_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static long long stop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Signals every live run of app_id (with by_file: every run started from the run file app_id);
 * marks those in hit. Returns how many, or -1 on failure.
 */
static int stop_signal(struct reg_record *rs, size_t n, bool *hit, const char *app_id, bool by_file)
{
	int count = 0, rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(by_file ? rs[i].run_file : rs[i].app_id, app_id) != 0 || hit[i])
			continue;
		if (!reg_alive(&rs[i])) {
			/*
			 * Killed outright, it could not stop its app's group. Its id may have been
			 * reused since, so say what runs rather than signal it blindly.
			 */
			if (rs[i].app_pgid > 0 && kill(-rs[i].app_pgid, 0) == 0)
				fprintf(stderr,
					"outrig stop: the 'outrig run' of '%s' (pid %ld) was killed outright; "
					"processes of its app's group %ld may still run: check with "
					"ps -g %ld, stop them with kill -- -%ld\n",
					rs[i].app_id, (long)rs[i].pid, (long)rs[i].app_pgid,
					(long)rs[i].app_pgid, (long)rs[i].app_pgid);
			reg_remove(&rs[i]);
			continue;
		}
		if (kill(rs[i].pid, SIGTERM) != 0) {
			if (errno == ESRCH) {
				reg_remove(&rs[i]);
				continue;
			}
			fprintf(stderr, "outrig stop: cannot signal '%s' (outrig pid %ld): %s\n",
				rs[i].app_id, (long)rs[i].pid, strerror(errno));
			rc = -1;
			continue;
		}
		hit[i] = true;
		count++;
	}
	return rc != 0 ? -1 : count;
}

int stop_main(int argc, char **argv)
{
	const char **ids = calloc((size_t)argc, sizeof(*ids));
	struct reg_record *rs = NULL;
	bool *hit = NULL;
	size_t n_ids = 0, n = 0;
	long long deadline;
	int rc = 0;
	char run_file[PATH_MAX] = "";

	if (ids == NULL) {
		perror("outrig stop");
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			stop_usage(stdout);
			goto out;
		}
		if (strcmp(arg, "-a") == 0 || strcmp(arg, "--app-id") == 0) {
			if (i + 1 >= argc || argv[i + 1][0] == '\0') {
				fprintf(stderr, "outrig stop: flag '%s' needs an app id\n", arg);
				rc = 2;
				goto out;
			}
			ids[n_ids++] = argv[++i];
		} else if (strncmp(arg, "--app-id=", 9) == 0 && arg[9] != '\0') {
			ids[n_ids++] = arg + 9;
		} else if (strcmp(arg, "-f") == 0 || strcmp(arg, "--run-file") == 0 ||
			   strncmp(arg, "--run-file=", 11) == 0) {
			const char *v = strncmp(arg, "--run-file=", 11) == 0 ? arg + 11
					: i + 1 < argc			     ? argv[++i]
									     : NULL;

			if (v == NULL || v[0] == '\0') {
				fprintf(stderr, "outrig stop: flag '%s' needs a run file or its folder\n",
					arg);
				rc = 2;
				goto out;
			}
			if (runfile_path("outrig stop", v, run_file, sizeof(run_file)) != 0) {
				rc = 1;
				goto out;
			}
		} else {
			fprintf(stderr, "outrig stop: unknown %s '%s'; see 'outrig stop --help'\n",
				arg[0] == '-' ? "flag" : "argument", arg);
			rc = 2;
			goto out;
		}
	}
	if (n_ids == 0 && run_file[0] == '\0') {
		fputs("outrig stop: --app-id or -f is required, e.g. outrig stop --app-id myapp "
		      "('outrig list' shows the running ones) or outrig stop -f dapr.yaml\n",
		      stderr);
		rc = 2;
		goto out;
	}
	if (reg_load_all(&rs, &n) != 0) {
		fprintf(stderr, "outrig stop: cannot read the run folder: %s\n", strerror(errno));
		rc = 1;
		goto out;
	}
	hit = calloc(n + 1, sizeof(*hit));
	if (hit == NULL) {
		perror("outrig stop");
		rc = 1;
		goto out;
	}
	if (run_file[0] != '\0') {
		int count = stop_signal(rs, n, hit, run_file, true);

		if (count < 0) {
			rc = 1;
		} else if (count == 0) {
			fprintf(stderr,
				"outrig stop: no app started from the run file %s is running; 'outrig list' "
				"shows the running ones\n",
				run_file);
			rc = 1;
		}
	}
	for (size_t k = 0; k < n_ids; k++) {
		int count = stop_signal(rs, n, hit, ids[k], false);

		if (count < 0) {
			rc = 1;
		} else if (count == 0) {
			bool again = false;

			for (size_t j = 0; j < k; j++)
				again = again || strcmp(ids[j], ids[k]) == 0;
			if (!again) {
				fprintf(stderr,
					"outrig stop: no app with id '%s' is running; 'outrig list' shows "
					"the running ones\n",
					ids[k]);
				rc = 1;
			}
		}
	}

	deadline = stop_now_ms() + STOP_WAIT_MS;
	for (size_t i = 0; i < n; i++) {
		if (!hit[i])
			continue;
		while (reg_alive(&rs[i]) && stop_now_ms() < deadline)
			stop_sleep_ms(STOP_POLL_MS);
		if (reg_alive(&rs[i])) {
			fprintf(stderr,
				"outrig stop: '%s' (outrig pid %ld) is still stopping after %d s; it "
				"kills what does not stop, or use kill -KILL %ld\n",
				rs[i].app_id, (long)rs[i].pid, STOP_WAIT_MS / 1000, (long)rs[i].pid);
			rc = 1;
			continue;
		}
		/* It removes its record on the way out; not if it was killed outright. */
		reg_remove(&rs[i]);
		printf("app '%s' stopped (outrig pid %ld)\n", rs[i].app_id, (long)rs[i].pid);
	}
out:
	free(hit);
	free(rs);
	free(ids);
	return rc;
}
