/* SPDX-License-Identifier: Apache-2.0 */
/* grpc.health.v1.Health/Check: SERVING once the sidecar is ready. */
#ifndef OUTRIG_CORE_GRPC_HEALTH_H
#define OUTRIG_CORE_GRPC_HEALTH_H

/* Registers /grpc.health.v1.Health/Check through the dispatch interface. */
void grpc_health_register(void);

#endif /* OUTRIG_CORE_GRPC_HEALTH_H */
