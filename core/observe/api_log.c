/* SPDX-License-Identifier: Apache-2.0 */
/* API logging: one line per API call, with daprd's fields (see api_log.h). */
#include "config.h"

#include "observe/api_log.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"

static atomic_bool api_log_on;
static bool api_log_omit_health, api_log_obfuscate;

void api_log_setup(bool enabled, bool omit_health, bool obfuscate)
{
	atomic_store(&api_log_on, enabled);
	api_log_omit_health = omit_health;
	api_log_obfuscate = obfuscate;
}

bool api_log_enabled(void)
{
	return atomic_load_explicit(&api_log_on, memory_order_relaxed);
}

/* The segment after prefix, up to the next '/', copied into out. */
static const char *api_log_segment(const char *path, size_t skip, char *out, size_t size)
{
	const char *s = path + skip;
	size_t n = strcspn(s, "/");

	snprintf(out, size, "%.*s", (int)n, s);
	return s + n;
}

const char *api_log_endpoint_name(const char *method, const char *path, char *buf, unsigned size)
{
	bool get = strcmp(method, "GET") == 0, del = strcmp(method, "DELETE") == 0;
	char app[200];
	const char *rest;

	if (strncmp(path, "/v1.0/state/", 12) == 0) {
		rest = strchr(path + 12, '/');
		if (rest == NULL)
			return "SaveState";
		if (strcmp(rest, "/bulk") == 0)
			return "GetBulkState";
		if (strcmp(rest, "/transaction") == 0)
			return "ExecuteStateTransaction";
		return get ? "GetState" : del ? "DeleteState" : "SaveState";
	}
	if (strncmp(path, "/v1.0/invoke/", 13) == 0) {
		api_log_segment(path, 13, app, sizeof(app));
		snprintf(buf, size, "InvokeService/%s", app);
		return buf;
	}
	if (strncmp(path, "/v1.0/publish/bulk/", 19) == 0 ||
	    strncmp(path, "/v1.0-alpha1/publish/bulk/", 26) == 0)
		return "BulkPublishEvent";
	if (strncmp(path, "/v1.0/publish/", 14) == 0)
		return "PublishEvent";
	if (strncmp(path, "/v1.0/bindings/", 15) == 0)
		return "InvokeBinding";
	if (strncmp(path, "/v1.0/secrets/", 14) == 0) {
		rest = strchr(path + 14, '/');
		return rest != NULL && strcmp(rest, "/bulk") == 0 ? "GetBulkSecret" : "GetSecret";
	}
	if (strcmp(path, "/v1.0/healthz/outbound") == 0)
		return "HealthzOutbound";
	if (strcmp(path, "/v1.0/healthz") == 0)
		return "Healthz";
	if (strncmp(path, "/v1.0/metadata", 14) == 0)
		return get ? "GetMetadata" : "PutMetadata";
	if (strcmp(path, "/v1.0/shutdown") == 0)
		return "Shutdown";
	/* The header form of invocation, and paths that are not Dapr's. */
	return path;
}

static bool api_log_is_health(const char *path)
{
	return strcmp(path, "/v1.0/healthz") == 0 || strcmp(path, "/v1.0/healthz/outbound") == 0;
}

void api_log_http(const char *method, const char *path, int status, double ms, const char *useragent)
{
	char text[600], name[256];
	struct log_field fields[4];
	size_t n = 0;

	if (!api_log_enabled() || (api_log_omit_health && api_log_is_health(path)))
		return;
	if (api_log_obfuscate)
		snprintf(text, sizeof(text), "%s", api_log_endpoint_name(method, path, name, sizeof(name)));
	else
		snprintf(text, sizeof(text), "%s %s", method, path);
	fields[n++] = (struct log_field){ "method", text, 0 };
	fields[n++] = (struct log_field){ "code", NULL, status };
	fields[n++] = (struct log_field){ "duration", NULL, (long long)floor(ms) };
	if (useragent != NULL && *useragent != '\0')
		fields[n++] = (struct log_field){ "useragent", useragent, 0 };
	log_write_fields(OUTRIG_LOG_INFO, API_LOG_HTTP_SCOPE, "HTTP API Called", fields, n);
}

void api_log_grpc(const char *method, int code, double ms, const char *useragent)
{
	struct log_field fields[4];
	size_t n = 0;

	if (!api_log_enabled() ||
	    (api_log_omit_health && strcmp(method, "/grpc.health.v1.Health/Check") == 0))
		return;
	fields[n++] = (struct log_field){ "method", method, 0 };
	fields[n++] = (struct log_field){ "code", NULL, code };
	fields[n++] = (struct log_field){ "duration", NULL, (long long)floor(ms) };
	if (useragent != NULL && *useragent != '\0')
		fields[n++] = (struct log_field){ "useragent", useragent, 0 };
	log_write_fields(OUTRIG_LOG_INFO, API_LOG_GRPC_SCOPE, "gRPC API Called", fields, n);
}
