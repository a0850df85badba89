/* SPDX-License-Identifier: Apache-2.0 */
/* grpc.health.v1.Health/Check: SERVING once the sidecar is ready. */
#include "api/grpc/grpc_health.h"

#include "grpc/health/v1/health.pb-c.h"
#include "api/grpc/grpc_call.h"
#include "api/grpc/grpc_unpack.h"
#include "runtime.h"

static void grpc_health_check(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	Grpc__Health__V1__HealthCheckRequest *req =
		grpc_call_unpack(call, &grpc__health__v1__health_check_request__descriptor, msg, len);
	Grpc__Health__V1__HealthCheckResponse resp = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	struct server *srv = grpc_call_server(call);

	if (req == NULL)
		return;
	/* "" is the whole server; outrig has no per-service health. */
	if (req->service[0] != '\0') {
		grpc__health__v1__health_check_request__free_unpacked(req, NULL);
		grpc_call_fail(call, GRPC_NOT_FOUND, NULL,
			       "unknown service; ask for \"\" (the whole sidecar)");
		return;
	}
	grpc__health__v1__health_check_request__free_unpacked(req, NULL);
	resp.status = srv->ready && !srv->stopping
			      ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING
			      : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
	grpc_call_reply(call, &resp.base);
}

void grpc_health_register(void)
{
	grpc_methods_register("/grpc.health.v1.Health/Check", grpc_health_check);
}
