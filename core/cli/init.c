/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig init`: the user's default components and Configuration, as `dapr init --slim` writes them. */
/* asprintf() */
#define _GNU_SOURCE
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void init_usage(FILE *f)
{
	fputs("Usage: outrig init [--slim]\n"
	      "\n"
	      "Writes the default components and Configuration for this user, as 'dapr init --slim'\n"
	      "does (nothing is downloaded, no container is started):\n"
	      "  ~/.outrig/components/statestore.yaml  'statestore', state.sqlite in\n"
	      "                                        $XDG_DATA_HOME/outrig/state.db\n"
	      "  ~/.outrig/components/pubsub.yaml      'pubsub', pubsub.in-memory\n"
	      "  ~/.outrig/config.yaml                 a Dapr Configuration named daprConfig\n"
	      "'outrig run' reads them when no --resources-path or --config is given. Files that\n"
	      "exist already are kept as they are (edit them, or remove them and run init again).\n"
	      "\n"
	      "Flags:\n"
	      "  -s, --slim    accepted for 'dapr init --slim' command lines; outrig init is always slim\n"
	      "  -h, --help    this help\n",
	      f);
}

int init_home(char *buf, size_t size)
{
	const char *home = getenv("HOME");
	int n;

	if (home == NULL || home[0] != '/') {
		errno = ENOENT;
		return -1;
	}
	n = snprintf(buf, size, "%s/.outrig", home);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* mkdir -p with mode 0755 for what it makes. */
static int init_mkdir_p(const char *path)
{
	char copy[PATH_MAX];

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = copy + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = c;
		if (c == '\0')
			return 0;
	}
}

/* Writes text to path unless it exists. Returns 1 written, 0 kept, -1 failed (said why). */
static int init_write(const char *path, const char *text)
{
	size_t len = strlen(text), off = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0) {
		if (errno == EEXIST) {
			printf("kept    %s (it exists)\n", path);
			return 0;
		}
		fprintf(stderr, "outrig init: cannot create %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "outrig init: cannot write %s: %s\n", path, strerror(errno));
			close(fd);
			unlink(path);
			return -1;
		}
		off += (size_t)n;
	}
	if (close(fd) != 0) {
		fprintf(stderr, "outrig init: cannot write %s: %s\n", path, strerror(errno));
		unlink(path);
		return -1;
	}
	printf("wrote   %s\n", path);
	return 1;
}

/* The folder of outrigd's embedded store: as outrigd's data_dir_path() finds it. */
static char *init_data_dir(void)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	char *dir = NULL;

	if (xdg != NULL && xdg[0] == '/')
		return asprintf(&dir, "%s/outrig", xdg) < 0 ? NULL : dir;
	return asprintf(&dir, "%s/.local/share/outrig", getenv("HOME")) < 0 ? NULL : dir;
}

/* YAML double-quoted scalar of s (paths may hold anything). Caller frees. */
static char *init_quote(const char *s)
{
	char *q = malloc(strlen(s) * 4 + 3), *p = q;

	if (q == NULL)
		return NULL;
	*p++ = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\') {
			*p++ = '\\';
			*p++ = (char)*c;
		} else if (*c < 0x20) {
			p += sprintf(p, "\\x%02x", *c);
		} else {
			*p++ = (char)*c;
		}
	}
	*p++ = '"';
	*p = '\0';
	return q;
}

int init_main(int argc, char **argv)
{
	char home[PATH_MAX], path[PATH_MAX + 64];
	char *data = NULL, *quoted = NULL, *state = NULL;
	int rc = 1, r, written = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			init_usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "-s") == 0 || strcmp(argv[i], "--slim") == 0 ||
		    strcmp(argv[i], "--slim=true") == 0)
			continue;
		fprintf(stderr,
			"outrig init: unknown %s '%s'; outrig init takes only --slim (it downloads nothing and "
			"starts no container); see 'outrig init --help'\n",
			argv[i][0] == '-' ? "flag" : "argument", argv[i]);
		return 2;
	}
	if (init_home(home, sizeof(home)) != 0) {
		fputs("outrig init: $HOME is not set to an absolute path; set it to your home folder\n",
		      stderr);
		return 1;
	}
	data = init_data_dir();
	quoted = data != NULL ? init_quote(data) : NULL;
	if (quoted == NULL ||
	    asprintf(&state,
		     "# The default state store, as outrigd embeds it: SQLite, kept between runs.\n"
		     "apiVersion: dapr.io/v1alpha1\n"
		     "kind: Component\n"
		     "metadata:\n"
		     "  name: statestore\n"
		     "spec:\n"
		     "  type: state.sqlite\n"
		     "  version: v1\n"
		     "  metadata:\n"
		     "  - name: connectionString\n"
		     "    value: %.*s/state.db\"\n",
		     (int)strlen(quoted) - 1, quoted) < 0) {
		state = NULL;
		perror("outrig init");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/components", home);
	if (init_mkdir_p(path) != 0) {
		fprintf(stderr, "outrig init: cannot create %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (init_mkdir_p(data) != 0) {
		fprintf(stderr, "outrig init: cannot create %s: %s; set XDG_DATA_HOME to a writable folder\n",
			data, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/components/statestore.yaml", home);
	if ((r = init_write(path, state)) < 0)
		goto out;
	written += r;
	snprintf(path, sizeof(path), "%s/components/pubsub.yaml", home);
	r = init_write(path, "# The default pub/sub, as outrigd embeds it: in memory, for one sidecar.\n"
			     "apiVersion: dapr.io/v1alpha1\n"
			     "kind: Component\n"
			     "metadata:\n"
			     "  name: pubsub\n"
			     "spec:\n"
			     "  type: pubsub.in-memory\n"
			     "  version: v1\n");
	if (r < 0)
		goto out;
	written += r;
	snprintf(path, sizeof(path), "%s/config.yaml", home);
	r = init_write(path, "# The default Configuration that 'outrig run' passes to outrigd (--config).\n"
			     "apiVersion: dapr.io/v1alpha1\n"
			     "kind: Configuration\n"
			     "metadata:\n"
			     "  name: daprConfig\n"
			     "spec: {}\n");
	if (r < 0)
		goto out;
	written += r;
	printf("%s; 'outrig run' uses %s/components and %s/config.yaml when no --resources-path or "
	       "--config is given\n",
	       written > 0 ? "outrig is initialised" : "outrig was initialised already", home, home);
	rc = 0;
out:
	free(state);
	free(quoted);
	free(data);
	return rc;
}
