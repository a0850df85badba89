/* SPDX-License-Identifier: Apache-2.0 */
/* The plugin descriptor: what a component plugin exports, and how the core checks it. */
#ifndef OUTRIG_PLUGIN_H
#define OUTRIG_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <outrig/binding.h>
#include <outrig/config.h>
#include <outrig/host.h>
#include <outrig/log.h>
#include <outrig/metadata.h>
#include <outrig/nameresolution.h>
#include <outrig/pubsub.h>
#include <outrig/secretstore.h>
#include <outrig/state.h>
#include <outrig/status.h>

/*
 * ABI version of this header. The core refuses a plugin of another major, or of a
 * newer minor than its own. A minor release only appends fields at the ends of
 * structs, so the core reads no further than a plugin's struct_size says.
 *   1.0  descriptor, host table, state kind
 *   1.1  outrig_config.init_timeout_ms
 *   1.2  pub/sub kind: outrig_plugin.pubsub, host pubsub_deliver and data_dir
 *   1.3  name-resolution kind: outrig_plugin.nameresolution
 *   1.4  bindings and secret store kinds; outrig_plugin.also_types; host kv_put and binding_deliver
 *   1.5  outrig_plugin.check
 */
#define OUTRIG_ABI_MAJOR 1
#define OUTRIG_ABI_MINOR 5

#define OUTRIG_PLUGIN_MAGIC 0x4f555452u /* "OUTR" */

/* The one symbol a plugin exports; OUTRIG_PLUGIN() defines it. */
#define OUTRIG_PLUGIN_ENTRY outrig_plugin_entry
#define OUTRIG_PLUGIN_ENTRY_NAME "outrig_plugin_entry"

/* Flags of struct outrig_plugin. */
#define OUTRIG_PLUGIN_SERIAL (1u << 0) /* never call two operations of one instance at once */

/*
 * The descriptor. One plugin provides one component type (`state.sqlite`) in one or
 * more versions, and may have many instances (one per component that names the type).
 * The file is found by type: `state.sqlite` is `state_sqlite.so` (every '.' and '-'
 * becomes '_').
 */
struct outrig_plugin {
	uint32_t magic;	      /* OUTRIG_PLUGIN_MAGIC */
	uint16_t abi_major;   /* OUTRIG_ABI_MAJOR the plugin was built with */
	uint16_t abi_minor;   /* OUTRIG_ABI_MINOR the plugin was built with */
	uint32_t struct_size; /* sizeof(struct outrig_plugin) the plugin was built with */

	const char *type;		   /* Dapr component type, e.g. "state.sqlite" */
	const char *const *versions;	   /* NULL-terminated, e.g. {"v1", NULL} */
	const char *plugin_version;	   /* the plugin's own release, e.g. "1.0.0" */
	const char *description;	   /* one line, for --describe-plugin */
	const struct outrig_field *fields; /* config map, ends with {NULL}; NULL = no metadata */
	uint32_t flags;			   /* OUTRIG_PLUGIN_* */

	/*
	 * Once per process, before the first create(). Optional.
	 * Ownership: host is valid until fini() returns; self is the plugin's log handle.
	 * Thread: the main thread, before serving; for a plugin first loaded by a reload (SIGHUP),
	 * the reload thread, before that plugin's first create() and never at the same time as
	 * another init(), create() or destroy(), while the core serves requests.
	 */
	int (*init)(const struct outrig_host *host, struct outrig_handle *self, struct outrig_error *err);

	/* Once per process, after the last destroy(). Optional. Thread: the main thread. */
	void (*fini)(void);

	/*
	 * Makes one instance for one component, after the core validated cfg against
	 * fields. May block (connect, open files). Store the instance in *instance.
	 * Ownership: cfg is valid only during the call; self stays valid until destroy().
	 * Thread: the main thread at start-up, before serving; during a reload (SIGHUP), a core
	 * thread of its own while the core goes on serving (other instances of the plugin, even
	 * the one this instance replaces, may be running operations meanwhile), never at the same
	 * time as another create() or destroy(). host->every() may be called from it either way.
	 */
	int (*create)(const struct outrig_host *host, struct outrig_handle *self,
		      const struct outrig_config *cfg, void **instance, struct outrig_error *err);

	/*
	 * Frees an instance. No operation of it runs during or after the call.
	 * Ownership: the instance is the plugin's to free. Thread: the main thread (which runs the
	 * event loop: an instance a reload replaced or removed is destroyed there once its calls
	 * and deliveries are done), never at the same time as another create() or destroy().
	 */
	void (*destroy)(void *instance);

	/* Operations of the state kind; required when type starts with "state.". */
	const struct outrig_state_ops *state;

	/* ABI 1.2: operations of the pub/sub kind; required when type starts with "pubsub.". */
	const struct outrig_pubsub_ops *pubsub;

	/* ABI 1.3: operations of the name-resolution kind; required when type starts with "nameresolution.". */
	const struct outrig_nr_ops *nameresolution;

	/* ABI 1.4: operations of the bindings kind; required when type starts with "bindings.". */
	const struct outrig_binding_ops *bindings;

	/* ABI 1.4: operations of the secret store kind; required when type starts with "secretstores.". */
	const struct outrig_secretstore_ops *secretstore;

	/*
	 * ABI 1.4: further types this one file serves (NULL-terminated, or NULL), e.g. a Kafka plugin
	 * of type "bindings.kafka" that also serves "pubsub.kafka". Install the file under each
	 * type's name too (a symbolic link): the core finds plugins by file name. The instance's kind
	 * comes from the component's type, so one create() serves them all; read cfg->type.
	 * init() and fini() run once per type the file is loaded as: keep them idempotent.
	 */
	const char *const *also_types;

	/*
	 * ABI 1.5: checks cfg as create() would, without connecting or touching any file, so that
	 * `outrigd --check` refuses what start-up refuses (TLS asked for but not implemented,
	 * contradictory settings). Optional. Only `outrigd --check` calls it; create() must refuse
	 * the same (parse cfg with one function called from both). Values a component takes from
	 * a secretKeyRef are not read by --check: they hold placeholders ("", "0", "false").
	 * init() has not run: --check initialises no plugin.
	 * Ownership: cfg as in create(); self names the component and serves host->log only.
	 * Thread: the main thread.
	 */
	int (*check)(const struct outrig_host *host, struct outrig_handle *self,
		     const struct outrig_config *cfg, struct outrig_error *err);
};

/* Marks the entry symbol visible when the plugin is built with -fvisibility=hidden. */
#if defined(__GNUC__)
#define OUTRIG_EXPORT __attribute__((visibility("default")))
#else
#define OUTRIG_EXPORT
#endif

/* Fills the version fields of a descriptor: `{ OUTRIG_PLUGIN_HEADER, .type = ... }`. */
#define OUTRIG_PLUGIN_HEADER                                                                                 \
	.magic = OUTRIG_PLUGIN_MAGIC, .abi_major = OUTRIG_ABI_MAJOR, .abi_minor = OUTRIG_ABI_MINOR,          \
	.struct_size = sizeof(struct outrig_plugin)

/*
 * Defines the plugin's one exported symbol, returning descriptor (a static const
 * struct outrig_plugin). Use once per plugin, at file scope.
 */
#define OUTRIG_PLUGIN(descriptor)                                                                            \
	OUTRIG_EXPORT const struct outrig_plugin *OUTRIG_PLUGIN_ENTRY(void);                                 \
	OUTRIG_EXPORT const struct outrig_plugin *OUTRIG_PLUGIN_ENTRY(void)                                  \
	{                                                                                                    \
		return &(descriptor);                                                                        \
	}

#endif /* OUTRIG_PLUGIN_H */
