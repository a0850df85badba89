/* SPDX-License-Identifier: Apache-2.0 */
/* Finding, opening and checking component plugins before any of their code runs. */
#include "config.h"

#include "components/loader.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"

#ifndef OUTRIG_PLUGINDIR
#define OUTRIG_PLUGINDIR "/usr/lib/outrig/plugins"
#endif

/* The descriptor as ABI 1.0 defined it: what every plugin of major 1 must provide. */
#define LOADER_DESC_SIZE_1_0 (offsetof(struct outrig_plugin, state) + sizeof(void *))
#define LOADER_STATE_OPS_SIZE_1_0 (offsetof(struct outrig_state_ops, transact) + sizeof(void *))
/* The pub/sub kind arrived with ABI 1.2. */
#define LOADER_PUBSUB_OPS_SIZE_1_2 (offsetof(struct outrig_pubsub_ops, subscribe) + sizeof(void *))
/* The bindings and secret store kinds arrived with ABI 1.4. */
#define LOADER_BINDING_OPS_SIZE_1_4 (offsetof(struct outrig_binding_ops, start_input) + sizeof(void *))
#define LOADER_SECRETSTORE_OPS_SIZE_1_4 (offsetof(struct outrig_secretstore_ops, bulk_get) + sizeof(void *))
/* The name-resolution kind arrived with ABI 1.3; unregister_self is optional. */
#define LOADER_NR_OPS_SIZE_1_3 (offsetof(struct outrig_nr_ops, resolve) + sizeof(void *))

static int loader_add_dir(struct loader *ld, const char *dir, size_t len)
{
	char **grown;

	if (len == 0)
		return 0;
	/* The same folder twice (a --plugin-dir naming the built-in one) would only lengthen messages. */
	for (size_t i = 0; i < ld->ndirs; i++)
		if (strlen(ld->dirs[i]) == len && strncmp(ld->dirs[i], dir, len) == 0)
			return 0;
	grown = realloc(ld->dirs, (ld->ndirs + 1) * sizeof(*grown));
	if (grown == NULL)
		return -1;
	ld->dirs = grown;
	ld->dirs[ld->ndirs] = strndup(dir, len);
	return ld->dirs[ld->ndirs++] != NULL ? 0 : -1;
}

/* Adds each folder of a colon-separated list, in order; empty entries are skipped. */
static int loader_add_list(struct loader *ld, const char *list)
{
	if (list == NULL)
		return 0;
	for (const char *p = list;;) {
		const char *colon = strchr(p, ':');
		size_t len = colon != NULL ? (size_t)(colon - p) : strlen(p);

		if (loader_add_dir(ld, p, len) != 0)
			return -1;
		if (colon == NULL)
			return 0;
		p = colon + 1;
	}
}

int loader_init(struct loader *ld, const char *plugin_dir)
{
	memset(ld, 0, sizeof(*ld));
	/* Extra folders come first, so a plugin there overrides the built-in one of the same type. */
	if (loader_add_list(ld, plugin_dir) != 0 || loader_add_list(ld, getenv("OUTRIG_PLUGIN_PATH")) != 0)
		return -1;
	return loader_add_dir(ld, OUTRIG_PLUGINDIR, strlen(OUTRIG_PLUGINDIR));
}

char *loader_file_name(const char *type)
{
	char *name = NULL;

	if (asprintf(&name, "%s.so", type) < 0)
		return NULL;
	for (char *p = name; p[3] != '\0'; p++)
		if (*p == '.' || *p == '-')
			*p = '_';
	return name;
}

/* The descriptor's own type, or (ABI 1.4) one of its also_types. */
static bool loader_serves(const struct outrig_plugin *d, const char *type)
{
	if (d->type != NULL && strcmp(d->type, type) == 0)
		return true;
	for (const char *const *t = d->also_types; t != NULL && *t != NULL; t++)
		if (strcmp(*t, type) == 0)
			return true;
	return false;
}

static bool loader_has_version(const struct outrig_plugin *d, const char *version)
{
	for (const char *const *v = d->versions; v != NULL && *v != NULL; v++)
		if (strcmp(*v, version) == 0)
			return true;
	return false;
}

static void loader_versions_text(const struct outrig_plugin *d, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (const char *const *v = d->versions; v != NULL && *v != NULL && used < len; v++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "", *v);
	if (buf[0] == '\0')
		snprintf(buf, len, "none");
}

static int loader_check_state(const char *path, const struct outrig_plugin *d, char *err, size_t errlen)
{
	const struct outrig_state_ops *ops = d->state;
	const char *missing = NULL, *or_else = "";

	if (ops == NULL) {
		snprintf(
			err, errlen,
			"%s: type %s is a state store but the descriptor has no state operations (field \"state\" is NULL); set .state in the descriptor",
			path, d->type);
		return -1;
	}
	if (ops->struct_size < LOADER_STATE_OPS_SIZE_1_0) {
		snprintf(
			err, errlen,
			"%s: state operations struct_size is %u bytes, smaller than the %zu bytes of ABI 1.0; rebuild the plugin against the outrig-plugin SDK",
			path, ops->struct_size, (size_t)LOADER_STATE_OPS_SIZE_1_0);
		return -1;
	}
	if (ops->get == NULL)
		missing = "state->get";
	else if (ops->set == NULL)
		missing = "state->set";
	else if (ops->delete == NULL)
		missing = "state->delete";
	else if ((ops->features & OUTRIG_STATE_TRANSACTIONAL) && ops->transact == NULL) {
		missing = "state->transact (the plugin declares OUTRIG_STATE_TRANSACTIONAL)";
		or_else = ", or clear OUTRIG_STATE_TRANSACTIONAL from state->features";
	}
	if (missing != NULL) {
		snprintf(err, errlen, "%s: missing mandatory callback %s; implement it in the plugin%s", path,
			 missing, or_else);
		return -1;
	}
	return 0;
}

static int loader_check_nameresolution(const char *path, const struct outrig_plugin *d, char *err,
				       size_t errlen)
{
	const struct outrig_nr_ops *ops = d->nameresolution;

	if (ops == NULL) {
		snprintf(
			err, errlen,
			"%s: type %s is a name resolver but the descriptor has no name-resolution operations (field \"nameresolution\" is NULL, or the plugin was built for ABI %u.%u, before ABI 1.3 added it); set .nameresolution and rebuild against the outrig-plugin SDK",
			path, d->type, d->abi_major, d->abi_minor);
		return -1;
	}
	if (ops->struct_size < LOADER_NR_OPS_SIZE_1_3) {
		snprintf(
			err, errlen,
			"%s: name-resolution operations struct_size is %u bytes, smaller than the %zu bytes of ABI 1.3; rebuild the plugin against the outrig-plugin SDK",
			path, ops->struct_size, (size_t)LOADER_NR_OPS_SIZE_1_3);
		return -1;
	}
	if (ops->register_self == NULL || ops->resolve == NULL) {
		snprintf(err, errlen, "%s: missing mandatory callback %s; implement it in the plugin", path,
			 ops->register_self == NULL ? "nameresolution->register_self"
						    : "nameresolution->resolve");
		return -1;
	}
	return 0;
}

/* Checks that a kind's operations table exists, is large enough and has its mandatory callbacks. */
static int loader_check_ops(const char *path, const char *type, const char *kind, const char *field,
			    const void *ops, uint32_t struct_size, size_t min_size, const char *missing,
			    char *err, size_t errlen)
{
	if (ops == NULL) {
		snprintf(
			err, errlen,
			"%s: type %s is a %s but the descriptor has no %s operations (field \"%s\" is NULL, or the plugin was built before ABI 1.4 added it); set .%s and rebuild against the outrig-plugin SDK",
			path, type, kind, kind, field, field);
		return -1;
	}
	if (struct_size < min_size) {
		snprintf(
			err, errlen,
			"%s: %s operations struct_size is %u bytes, smaller than the %zu bytes of ABI 1.4; rebuild the plugin against the outrig-plugin SDK",
			path, kind, struct_size, min_size);
		return -1;
	}
	if (missing != NULL) {
		snprintf(err, errlen, "%s: missing mandatory callback %s; implement it in the plugin", path,
			 missing);
		return -1;
	}
	return 0;
}

static int loader_check_bindings(const char *path, const char *type, const struct outrig_plugin *d, char *err,
				 size_t errlen)
{
	const struct outrig_binding_ops *ops = d->bindings;
	const char *missing = NULL;

	if (ops != NULL && ops->invoke == NULL && ops->start_input == NULL)
		missing = "bindings->invoke or bindings->start_input (a binding needs one of them)";
	else if (ops != NULL && ops->invoke != NULL && ops->operations == NULL)
		missing = "bindings->operations (the operations invoke accepts)";
	return loader_check_ops(path, type, "binding", "bindings", ops, ops != NULL ? ops->struct_size : 0,
				LOADER_BINDING_OPS_SIZE_1_4, missing, err, errlen);
}

static int loader_check_secretstore(const char *path, const char *type, const struct outrig_plugin *d,
				    char *err, size_t errlen)
{
	const struct outrig_secretstore_ops *ops = d->secretstore;
	const char *missing = NULL;

	if (ops != NULL && ops->get == NULL)
		missing = "secretstore->get";
	else if (ops != NULL && ops->bulk_get == NULL)
		missing = "secretstore->bulk_get";
	return loader_check_ops(path, type, "secret store", "secretstore", ops,
				ops != NULL ? ops->struct_size : 0, LOADER_SECRETSTORE_OPS_SIZE_1_4, missing,
				err, errlen);
}

static int loader_check_pubsub(const char *path, const struct outrig_plugin *d, char *err, size_t errlen)
{
	const struct outrig_pubsub_ops *ops = d->pubsub;

	/* A descriptor older than 1.2 has no pubsub field: it reads as NULL here. */
	if (ops == NULL) {
		snprintf(
			err, errlen,
			"%s: type %s is a pub/sub broker but the descriptor has no pub/sub operations (field \"pubsub\" is NULL, or the plugin was built for ABI %u.%u, before ABI 1.2 added it); set .pubsub and rebuild against the outrig-plugin SDK",
			path, d->type, d->abi_major, d->abi_minor);
		return -1;
	}
	if (ops->struct_size < LOADER_PUBSUB_OPS_SIZE_1_2) {
		snprintf(
			err, errlen,
			"%s: pub/sub operations struct_size is %u bytes, smaller than the %zu bytes of ABI 1.2; rebuild the plugin against the outrig-plugin SDK",
			path, ops->struct_size, (size_t)LOADER_PUBSUB_OPS_SIZE_1_2);
		return -1;
	}
	if (ops->publish == NULL || ops->subscribe == NULL) {
		snprintf(err, errlen, "%s: missing mandatory callback %s; implement it in the plugin", path,
			 ops->publish == NULL ? "pubsub->publish" : "pubsub->subscribe");
		return -1;
	}
	return 0;
}

int loader_check(const char *path, const struct outrig_plugin *desc, const char *type, const char *version,
		 struct outrig_plugin *out, char *err, size_t errlen)
{
	char versions[256];

	if (desc == NULL) {
		snprintf(err, errlen, "%s: %s() returned NULL instead of a descriptor", path,
			 OUTRIG_PLUGIN_ENTRY_NAME);
		return -1;
	}
	if (desc->magic != OUTRIG_PLUGIN_MAGIC) {
		snprintf(
			err, errlen,
			"%s: descriptor field magic is 0x%08x, expected 0x%08x; the file is not an outrig plugin or is corrupt",
			path, desc->magic, OUTRIG_PLUGIN_MAGIC);
		return -1;
	}
	if (desc->abi_major != OUTRIG_ABI_MAJOR) {
		snprintf(
			err, errlen,
			"%s: built for plugin ABI %u.%u (field abi_major is %u), but this outrigd speaks ABI %u.%u; rebuild the plugin against outrig-plugin %u.x",
			path, desc->abi_major, desc->abi_minor, desc->abi_major, OUTRIG_ABI_MAJOR,
			OUTRIG_ABI_MINOR, OUTRIG_ABI_MAJOR);
		return -1;
	}
	if (desc->abi_minor > OUTRIG_ABI_MINOR) {
		snprintf(
			err, errlen,
			"%s: built for plugin ABI %u.%u (field abi_minor is %u), newer than this outrigd's ABI %u.%u; upgrade outrigd or rebuild the plugin against this SDK",
			path, desc->abi_major, desc->abi_minor, desc->abi_minor, OUTRIG_ABI_MAJOR,
			OUTRIG_ABI_MINOR);
		return -1;
	}
	if (desc->struct_size < LOADER_DESC_SIZE_1_0) {
		snprintf(
			err, errlen,
			"%s: descriptor field struct_size is %u bytes, smaller than the %zu bytes of ABI %u.0; the plugin was built with a broken SDK: rebuild it",
			path, desc->struct_size, (size_t)LOADER_DESC_SIZE_1_0, OUTRIG_ABI_MAJOR);
		return -1;
	}
	/* Never read past what the plugin says it has; fields it lacks read as zero. */
	memset(out, 0, sizeof(*out));
	memcpy(out, desc, desc->struct_size < sizeof(*out) ? desc->struct_size : sizeof(*out));

	if (out->versions == NULL || out->versions[0] == NULL) {
		snprintf(
			err, errlen,
			"%s: the descriptor lists no versions (field versions is %s), so no component can use it; set .versions to the spec.version values it serves, e.g. { \"v1\", NULL }",
			path, out->versions == NULL ? "NULL" : "empty");
		return -1;
	}
	if (!loader_serves(out, type)) {
		snprintf(
			err, errlen,
			"%s: provides type \"%s\", not \"%s\"; the file name does not match the plugin inside",
			path, out->type != NULL ? out->type : "(none)", type);
		return -1;
	}
	if (version != NULL && !loader_has_version(out, version)) {
		loader_versions_text(out, versions, sizeof(versions));
		snprintf(
			err, errlen,
			"%s: type %s has no version \"%s\" (it provides: %s); set spec.version to one of them",
			path, type, version, versions);
		return -1;
	}
	if (out->create == NULL || out->destroy == NULL) {
		snprintf(err, errlen, "%s: missing mandatory callback %s; implement it in the plugin", path,
			 out->create == NULL ? "create" : "destroy");
		return -1;
	}
	if (strncmp(type, "state.", 6) == 0)
		return loader_check_state(path, out, err, errlen);
	if (strncmp(type, "pubsub.", 7) == 0)
		return loader_check_pubsub(path, out, err, errlen);
	if (strncmp(type, "nameresolution.", 15) == 0)
		return loader_check_nameresolution(path, out, err, errlen);
	if (strncmp(type, "bindings.", 9) == 0)
		return loader_check_bindings(path, type, out, err, errlen);
	if (strncmp(type, "secretstores.", 13) == 0)
		return loader_check_secretstore(path, type, out, err, errlen);
	return 0;
}

static char *loader_find_file(const struct loader *ld, const char *type, char *err, size_t errlen)
{
	char *name = loader_file_name(type);
	size_t used = 0;
	char tried[1024];

	if (name == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tried[0] = '\0';
	for (size_t i = 0; i < ld->ndirs; i++) {
		char *path = NULL;
		struct stat st;

		if (asprintf(&path, "%s/%s", ld->dirs[i], name) < 0)
			break;
		if (stat(path, &st) == 0) {
			free(name);
			return path;
		}
		if (used < sizeof(tried))
			used += (size_t)snprintf(tried + used, sizeof(tried) - used, "%s%s", i ? ", " : "",
						 ld->dirs[i]);
		free(path);
	}
	snprintf(
		err, errlen,
		"no plugin for type \"%s\": %s is not in %s; install the plugin there or point --plugin-dir (or OUTRIG_PLUGIN_PATH) at its folder",
		type, name, tried);
	free(name);
	return NULL;
}

static struct plugin *loader_open(const char *path, const char *type, const char *version, char *err,
				  size_t errlen)
{
	const struct outrig_plugin *(*entry)(void);
	struct plugin *p = calloc(1, sizeof(*p));
	void *dl;

	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/*
	 * RTLD_LOCAL: two plugins linking different versions of one library must not clash.
	 * RTLD_NODELETE: a plugin stays mapped until the process exits. Client libraries keep
	 * process-wide state (librdkafka, OpenSSL) and may keep threads a moment past destroy();
	 * unmapping them under those would crash, and would turn their globals into false leaks.
	 */
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (dl == NULL) {
		const char *why = dlerror();

		/* The linker let it through: say how to make it refuse such a plugin at build time. */
		snprintf(
			err, errlen, "%s: cannot load: %s%s", path, why,
			strstr(why, "undefined symbol") != NULL
				? "; the plugin calls a function no library it links provides: link the library that defines it, and build with -Wl,-z,defs (libtool: -no-undefined) so the linker reports this instead of outrigd"
				: "");
		free(p);
		return NULL;
	}
	*(void **)&entry = dlsym(dl, OUTRIG_PLUGIN_ENTRY_NAME);
	if (entry == NULL) {
		snprintf(
			err, errlen,
			"%s: no %s symbol; it is not an outrig plugin (define one with OUTRIG_PLUGIN() from <outrig/plugin.h>)",
			path, OUTRIG_PLUGIN_ENTRY_NAME);
		goto fail;
	}
	if (loader_check(path, entry(), type, version, &p->desc, err, errlen) != 0)
		goto fail;
	p->path = strdup(path);
	p->dl = dl;
	p->handle.name = p->desc.type;
	return p;
fail:
	dlclose(dl);
	free(p);
	return NULL;
}

struct plugin *loader_get(struct loader *ld, const char *type, const char *version, bool init_plugin,
			  char *err, size_t errlen)
{
	struct plugin *p;
	char versions[256];

	for (p = ld->plugins; p != NULL; p = p->next)
		if (strcmp(p->desc.type, type) == 0)
			break;
	if (p == NULL) {
		char *path = loader_find_file(ld, type, err, errlen);

		if (path == NULL)
			return NULL;
		p = loader_open(path, type, version, err, errlen);
		free(path);
		if (p == NULL)
			return NULL;
		p->next = ld->plugins;
		ld->plugins = p;
		log_debug("loader", "loaded %s (%s %s)", p->path, p->desc.type,
			  p->desc.plugin_version != NULL ? p->desc.plugin_version : "");
	} else if (version != NULL && !loader_has_version(&p->desc, version)) {
		loader_versions_text(&p->desc, versions, sizeof(versions));
		snprintf(
			err, errlen,
			"%s: type %s has no version \"%s\" (it provides: %s); set spec.version to one of them",
			p->path, type, version, versions);
		return NULL;
	}
	if (init_plugin && !p->initialized) {
		struct outrig_error perr = { "" };

		if (p->desc.init != NULL && p->desc.init(&host_table, &p->handle, &perr) != 0) {
			snprintf(err, errlen, "%s: init failed: %s", p->path, perr.message);
			return NULL;
		}
		p->initialized = true;
	}
	return p;
}

void loader_close(struct loader *ld)
{
	while (ld->plugins != NULL) {
		struct plugin *p = ld->plugins;

		ld->plugins = p->next;
		if (p->initialized && p->desc.fini != NULL)
			p->desc.fini();
		dlclose(p->dl);
		free(p->path);
		free(p);
	}
	for (size_t i = 0; i < ld->ndirs; i++)
		free(ld->dirs[i]);
	free(ld->dirs);
	memset(ld, 0, sizeof(*ld));
}

size_t loader_capabilities(const struct outrig_plugin *d, const char *type, const char **caps, size_t max)
{
	const char *found[8];
	size_t n = 0, copied = 0;

	if (strncmp(type, "state.", 6) == 0 && d->state != NULL) {
		if (d->state->features & OUTRIG_STATE_ETAG)
			found[n++] = "ETAG";
		if (d->state->features & OUTRIG_STATE_TRANSACTIONAL)
			found[n++] = "TRANSACTIONAL";
		if (d->state->features & OUTRIG_STATE_TTL)
			found[n++] = "TTL";
		/* As GET /v1.0/metadata says it: daprd lists ACTOR for stores with etags and transactions. */
		if ((d->state->features & OUTRIG_STATE_ETAG) &&
		    (d->state->features & OUTRIG_STATE_TRANSACTIONAL))
			found[n++] = "ACTOR";
	} else if (strncmp(type, "pubsub.", 7) == 0 && d->pubsub != NULL) {
		if (d->pubsub->capabilities & OUTRIG_PUBSUB_WILDCARDS)
			found[n++] = "SUBSCRIBE_WILDCARDS";
		if (d->pubsub->capabilities & OUTRIG_PUBSUB_MESSAGE_TTL)
			found[n++] = "MESSAGE_TTL";
	} else if (strncmp(type, "bindings.", 9) == 0 && d->bindings != NULL) {
		if (d->bindings->start_input != NULL)
			found[n++] = "INPUT_BINDING";
		if (d->bindings->invoke != NULL)
			found[n++] = "OUTPUT_BINDING";
	}
	for (; copied < n && copied < max; copied++)
		caps[copied] = found[copied];
	return copied;
}
