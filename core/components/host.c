/* SPDX-License-Identifier: Apache-2.0 */
/* The core's side of the plugin host table. */
#include "config.h"

#include "components/host.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <outrig/plugin.h>

#include "components/component.h"
#include "base/log.h"
#include "blocks/bindings/binding_delivery.h"
#include "base/kv_sink.h"
#include "blocks/pubsub/pubsub_delivery.h"

static void host_log(const struct outrig_handle *who, enum outrig_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_vwrite(level, who != NULL ? who->name : "plugin", fmt, ap);
	va_end(ap);
}

static int host_bytes_set(struct outrig_bytes *dst, const void *src, size_t len)
{
	/* One spare byte keeps text values NUL-terminated for the core's own use. */
	void *copy = malloc(len + 1);

	if (copy == NULL)
		return OUTRIG_ENOMEM;
	if (len > 0)
		memcpy(copy, src, len);
	((char *)copy)[len] = '\0';
	free(dst->data);
	dst->data = copy;
	dst->len = len;
	return 0;
}

static int64_t host_clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t host_now_unix_ms(void)
{
	return host_clock_ms(CLOCK_REALTIME);
}

static int64_t host_now_mono_ms(void)
{
	return host_clock_ms(CLOCK_MONOTONIC);
}

/* Not const: data_dir is known only once the command line is read. */
struct outrig_host host_table = {
	.struct_size = sizeof(struct outrig_host),
	.abi_major = OUTRIG_ABI_MAJOR,
	.abi_minor = OUTRIG_ABI_MINOR,
	.runtime_version = PACKAGE_VERSION,
	.log = host_log,
	.bytes_set = host_bytes_set,
	.now_unix_ms = host_now_unix_ms,
	.now_mono_ms = host_now_mono_ms,
	.every = component_add_timer,
	.pubsub_deliver = delivery_accept,
	.data_dir = "",
	.kv_put = kv_sink_put,
	.binding_deliver = binding_deliver,
};

void host_set_data_dir(const char *dir)
{
	host_table.data_dir = dir;
}
