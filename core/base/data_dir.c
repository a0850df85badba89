/* SPDX-License-Identifier: Apache-2.0 */
/* outrigd's data folder (--data-dir): the embedded store's database and plugins' own files. */
#include "config.h"

#include "base/data_dir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *data_dir_path(const char *flag)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	char *dir = NULL;

	if (flag != NULL)
		return strdup(flag);
	/* The XDG base directory spec ignores relative paths. */
	if (xdg != NULL && xdg[0] == '/')
		return asprintf(&dir, "%s/outrig", xdg) < 0 ? NULL : dir;
	return asprintf(&dir, "%s/.local/share/outrig", home != NULL ? home : ".") < 0 ? NULL : dir;
}

int data_dir_make(const char *path)
{
	char *copy = strdup(path);
	int rc = 0;

	if (copy == NULL) {
		errno = ENOMEM;
		return -1;
	}
	/* Each parent first: the folder may be several levels below an existing one. */
	for (char *p = copy + 1; rc == 0 && *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) != 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	if (rc == 0 && mkdir(copy, 0700) != 0 && errno != EEXIST)
		rc = -1;
	free(copy);
	return rc;
}
