/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal state plugin, compiled once per TEST_* variant into the plugins the loader tests refuse. */
#include <stddef.h>

#include <outrig/plugin.h>

#ifndef TEST_TYPE
#error "define TEST_TYPE, e.g. -DTEST_TYPE='\"state.test-good\"'"
#endif
#ifndef TEST_MAGIC
#define TEST_MAGIC OUTRIG_PLUGIN_MAGIC
#endif
#ifndef TEST_ABI_MAJOR
#define TEST_ABI_MAJOR OUTRIG_ABI_MAJOR
#endif
#ifndef TEST_ABI_MINOR
#define TEST_ABI_MINOR OUTRIG_ABI_MINOR
#endif
#ifndef TEST_STRUCT_SIZE
#define TEST_STRUCT_SIZE sizeof(struct outrig_plugin)
#endif
#ifndef TEST_CREATE
#define TEST_CREATE tp_create
#endif
#ifndef TEST_FEATURES
#define TEST_FEATURES 0
#endif
#ifndef TEST_GET
#define TEST_GET tp_get
#endif

#ifdef TEST_UNDEFINED_SYMBOL
/* Resolved by nothing: dlopen(RTLD_NOW) must fail and say so. */
extern int outrig_test_no_such_function(void);
#endif

static int tp_instance;

static int tp_init(const struct outrig_host *host, struct outrig_handle *self, struct outrig_error *err)
{
#ifdef TEST_INIT_FAILS
	return outrig_err(err, OUTRIG_EUNAVAIL, "the test plugin refuses to start");
#else
	return 0;
#endif
}

__attribute__((unused)) static int tp_create(const struct outrig_host *host, struct outrig_handle *self,
					     const struct outrig_config *cfg, void **instance,
					     struct outrig_error *err)
{
#ifdef TEST_UNDEFINED_SYMBOL
	if (outrig_test_no_such_function() != 0)
		return OUTRIG_EINTERNAL;
#endif
#ifdef TEST_CREATE_FAILS
	/* What only create() can find out: --check passes it, --check-create does not. */
	return outrig_err(err, OUTRIG_EUNAVAIL,
			  "cannot open %s: No such file or directory; create the folder",
			  outrig_config_string(cfg, "path", "(no path)"));
#endif
	*instance = &tp_instance;
	return 0;
}

static void tp_destroy(void *instance)
{
}

__attribute__((unused)) static int tp_get(void *instance, const struct outrig_state_get *req,
					  struct outrig_state_value *out, struct outrig_error *err)
{
	out->found = false;
	return 0;
}

static int tp_set(void *instance, const struct outrig_state_set *req, struct outrig_error *err)
{
	return 0;
}

static int tp_delete(void *instance, const struct outrig_state_delete *req, struct outrig_error *err)
{
	return 0;
}

static const struct outrig_state_ops tp_state = {
	.struct_size = sizeof(struct outrig_state_ops),
	.features = TEST_FEATURES,
	.get = TEST_GET,
	.set = tp_set,
	.delete = tp_delete,
};

#ifdef TEST_NO_VERSIONS
static const char *const tp_versions[] = { NULL };
#else
static const char *const tp_versions[] = { "v1", NULL };
#endif

static const struct outrig_field tp_fields[] = {
	{ "size", OUTRIG_FIELD_INT, "10", false, "how big" },
	{ "path", OUTRIG_FIELD_STRING, NULL, true, "where it lives" },
	{ NULL },
};

static const struct outrig_plugin tp_plugin = {
	.magic = TEST_MAGIC,
	.abi_major = TEST_ABI_MAJOR,
	.abi_minor = TEST_ABI_MINOR,
	.struct_size = TEST_STRUCT_SIZE,
	.type = TEST_TYPE,
	.versions = tp_versions,
	.plugin_version = "0.0.1",
	.description = "test plugin",
	.fields = tp_fields,
	.init = tp_init,
	.create = TEST_CREATE,
	.destroy = tp_destroy,
	.state = &tp_state,
};

#ifdef TEST_NO_ENTRY
/* Exports a symbol, just not the one the loader looks for. */
OUTRIG_EXPORT const struct outrig_plugin *outrig_plugin_entry_v0(void);
OUTRIG_EXPORT const struct outrig_plugin *outrig_plugin_entry_v0(void)
{
	return &tp_plugin;
}
#else
OUTRIG_PLUGIN(tp_plugin)
#endif
