/* SPDX-License-Identifier: Apache-2.0 */
/* bindings.slow: an output binding whose create() takes its time, as one that connects to a slow server. */
#include <stdlib.h>
#include <time.h>

#include <outrig/plugin.h>

static const struct outrig_field bs_fields[] = {
	{ "createDelayMs", OUTRIG_FIELD_INT, "2000", false, "how long create() sleeps", NULL },
	{ NULL },
};

static int bs_create(const struct outrig_host *host, struct outrig_handle *self,
		     const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	long long ms = outrig_config_int(cfg, "createDelayMs", 2000);
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	int *inst = calloc(1, sizeof(*inst));

	(void)host;
	(void)self;
	if (inst == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	while (nanosleep(&ts, &ts) != 0)
		;
	*instance = inst;
	return 0;
}

static void bs_destroy(void *instance)
{
	free(instance);
}

static int bs_invoke(void *instance, const struct outrig_binding_request *req,
		     struct outrig_binding_response *resp, struct outrig_error *err)
{
	(void)instance;
	(void)req;
	(void)resp;
	(void)err;
	return 0;
}

static const char *const bs_operations[] = { "create", NULL };

static const struct outrig_binding_ops bs_ops = {
	.struct_size = sizeof(struct outrig_binding_ops),
	.operations = bs_operations,
	.invoke = bs_invoke,
};

static const char *const bs_versions[] = { "v1", NULL };

static const struct outrig_plugin bs_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "bindings.slow",
	.versions = bs_versions,
	.plugin_version = "0.1.0",
	.description = "test binding: create() sleeps createDelayMs",
	.fields = bs_fields,
	.create = bs_create,
	.destroy = bs_destroy,
	.bindings = &bs_ops,
};

OUTRIG_PLUGIN(bs_plugin)
