/* SPDX-License-Identifier: Apache-2.0 */
/* Finding, opening and checking component plugins before any of their code runs. */
#ifndef OUTRIG_CORE_LOADER_H
#define OUTRIG_CORE_LOADER_H

#include <stdbool.h>
#include <stddef.h>

#include <outrig/plugin.h>

#include "components/host.h"

/* One opened plugin file. desc is the core's own copy, zero-filled past the plugin's struct_size. */
struct plugin {
	char *path;
	void *dl;
	struct outrig_plugin desc;
	struct outrig_handle handle; /* the plugin's own log handle */
	bool initialized;
	struct plugin *next;
};

struct loader {
	char **dirs; /* folders searched in order */
	size_t ndirs;
	struct plugin *plugins; /* opened so far, one per type */
};

/*
 * Sets the search path, in order: the colon-separated folders of plugin_dir (--plugin-dir; NULL
 * for none), then those of $OUTRIG_PLUGIN_PATH, then the compiled-in plugin folder, which is
 * always searched last. Returns 0 or -1 on ENOMEM.
 */
int loader_init(struct loader *ld, const char *plugin_dir);

/*
 * The plugin for type/version (version NULL: any), opened, checked and initialised on first use. On
 * refusal returns NULL with a message in err naming the file and the reason.
 * init_plugin false skips the plugin's init() (for --check).
 */
struct plugin *loader_get(struct loader *ld, const char *type, const char *version, bool init_plugin,
			  char *err, size_t errlen);

/* Calls fini() of every initialised plugin and closes them all. */
void loader_close(struct loader *ld);

/* "state.in-memory" -> "state_in_memory.so". Returns a malloc'd string or NULL. */
char *loader_file_name(const char *type);

/*
 * Checks a descriptor that entry() returned (path names the file in messages) and
 * copies what the core may read of it into out. Returns 0, or -1 with err set.
 */
int loader_check(const char *path, const struct outrig_plugin *desc, const char *type, const char *version,
		 struct outrig_plugin *out, char *err, size_t errlen);

/*
 * The capabilities a checked descriptor declares for type, with the names GET /v1.0/metadata
 * gives them (ETAG, TRANSACTIONAL, SUBSCRIBE_WILDCARDS, INPUT_BINDING, ...): up to max static
 * strings into caps. Returns how many.
 */
size_t loader_capabilities(const struct outrig_plugin *d, const char *type, const char **caps, size_t max);

#endif /* OUTRIG_CORE_LOADER_H */
