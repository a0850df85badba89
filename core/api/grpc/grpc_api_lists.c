/* SPDX-License-Identifier: Apache-2.0 */
/* spec.api.allowed and denied on the gRPC front end: which group each of Dapr's gRPC methods belongs to. */
#include "config.h"

#include "api/grpc/grpc_api_lists.h"

#include <stdlib.h>
#include <string.h>

#include "api/grpc/grpc_call_internal.h"
#include "api/grpc/grpc_server.h"
#include "api/grpc/grpc_status.h"
#include "base/log.h"
#include "blocks/errors.h"
#include "runtime.h"
#include "security/api_lists.h"

#define GRPC_RUNTIME_PREFIX "/dapr.proto.runtime."
#define GRPC_DAPR_SERVICE "/dapr.proto.runtime.v1.Dapr/"

/* Each method of the Dapr service and its API group and group version (daprd's table). */
static const struct {
	const char *method, *group, *version;
} grpc_api_groups[] = {
	{ "InvokeService", "invoke", "v1" },
	{ "GetState", "state", "v1" },
	{ "GetBulkState", "state", "v1" },
	{ "SaveState", "state", "v1" },
	{ "DeleteState", "state", "v1" },
	{ "DeleteBulkState", "state", "v1" },
	{ "ExecuteStateTransaction", "state", "v1" },
	{ "QueryStateAlpha1", "state", "v1alpha1" },
	{ "PublishEvent", "publish", "v1" },
	{ "BulkPublishEvent", "publish", "v1" },
	{ "BulkPublishEventAlpha1", "publish", "v1alpha1" },
	{ "InvokeBinding", "bindings", "v1" },
	{ "GetSecret", "secrets", "v1" },
	{ "GetBulkSecret", "secrets", "v1" },
	{ "RegisterActorTimer", "actors", "v1" },
	{ "UnregisterActorTimer", "actors", "v1" },
	{ "RegisterActorReminder", "actors", "v1" },
	{ "GetActorReminder", "actors", "v1" },
	{ "UnregisterActorReminder", "actors", "v1" },
	{ "UnregisterActorRemindersByType", "actors", "v1" },
	{ "ListActorReminders", "actors", "v1" },
	{ "GetActorState", "actors", "v1" },
	{ "ExecuteActorStateTransaction", "actors", "v1" },
	{ "InvokeActor", "actors", "v1" },
	{ "SubscribeActorEventsAlpha1", "actors", "v1alpha1" },
	{ "GetMetadata", "metadata", "v1" },
	{ "SetMetadata", "metadata", "v1" },
	{ "GetConfigurationAlpha1", "configuration", "v1alpha1" },
	{ "SubscribeConfigurationAlpha1", "configuration", "v1alpha1" },
	{ "UnsubscribeConfigurationAlpha1", "configuration", "v1alpha1" },
	{ "GetConfiguration", "configuration", "v1" },
	{ "SubscribeConfiguration", "configuration", "v1" },
	{ "UnsubscribeConfiguration", "configuration", "v1" },
	{ "TryLockAlpha1", "lock", "v1alpha1" },
	{ "UnlockAlpha1", "unlock", "v1alpha1" },
	{ "EncryptAlpha1", "crypto", "v1alpha1" },
	{ "DecryptAlpha1", "crypto", "v1alpha1" },
	{ "ScheduleJobAlpha1", "jobs", "v1alpha1" },
	{ "DeleteJobAlpha1", "jobs", "v1alpha1" },
	{ "GetJobAlpha1", "jobs", "v1alpha1" },
	{ "DeleteJobsByPrefixAlpha1", "jobs", "v1alpha1" },
	{ "ListJobsAlpha1", "jobs", "v1alpha1" },
	{ "ScheduleJob", "jobs", "v1" },
	{ "DeleteJob", "jobs", "v1" },
	{ "GetJob", "jobs", "v1" },
	{ "DeleteJobsByPrefix", "jobs", "v1" },
	{ "ListJobs", "jobs", "v1" },
	{ "Shutdown", "shutdown", "v1" },
	{ "SubscribeTopicEventsAlpha1", "subscribe", "v1alpha1" },
	{ "ConverseAlpha1", "conversation", "v1alpha1" },
	{ "ConverseAlpha2", "conversation", "v1alpha2" },
};

/* The group of a method by its name's shape, for the families with many methods. */
static void grpc_api_group_of(const char *m, const char **group, const char **version)
{
	size_t n = strlen(m);

	*group = *version = NULL;
	for (size_t i = 0; i < sizeof(grpc_api_groups) / sizeof(grpc_api_groups[0]); i++) {
		if (strcmp(grpc_api_groups[i].method, m) == 0) {
			*group = grpc_api_groups[i].group;
			*version = grpc_api_groups[i].version;
			return;
		}
	}
	if (strncmp(m, "Subtle", 6) == 0 && n > 6 && strcmp(m + n - 6, "Alpha1") == 0) {
		*group = "subtlecrypto";
		*version = "v1alpha1";
	} else if (n > 14 && strcmp(m + n - 14, "WorkflowAlpha1") == 0) {
		*group = "workflows";
		*version = "v1alpha1";
	} else if (n > 13 && strcmp(m + n - 13, "WorkflowBeta1") == 0) {
		*group = "workflows";
		*version = "v1beta1";
	}
}

bool grpc_api_lists_ok(struct grpc_call *call)
{
	const struct api_lists *l = &call->gs->srv->config.policy.api;
	const char *group = NULL, *version = NULL;
	char why[512];

	if ((l->nallowed == 0 && l->ndenied == 0) ||
	    strncmp(call->path, GRPC_RUNTIME_PREFIX, strlen(GRPC_RUNTIME_PREFIX)) != 0)
		return true;
	if (strncmp(call->path, GRPC_DAPR_SERVICE, strlen(GRPC_DAPR_SERVICE)) == 0)
		grpc_api_group_of(call->path + strlen(GRPC_DAPR_SERVICE), &group, &version);
	if (api_lists_allow(l, API_PROTO_GRPC, group, version, why, sizeof(why)))
		return true;
	log_debug("grpc", "%s: %s", call->path, why);
	{
		/* daprd's answer, word for word: the rule that decided is in outrigd's debug log. */
		const char *meta[] = { "http.code", "501", "http.error_message",
				       "requested endpoint is not available" };
		char *details = grpc_status_details_bin(GRPC_UNIMPLEMENTED, "Not Implemented",
							"Not Implemented", GRPC_ERROR_DOMAIN, meta, 2);

		grpc_call_answer_status(call, GRPC_UNIMPLEMENTED, details, "Not Implemented");
		free(details);
	}
	return false;
}
