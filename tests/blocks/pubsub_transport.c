/* SPDX-License-Identifier: Apache-2.0 */
/* The front ends the publish table runs through. */
#include "pubsub_transport.h"

const struct pt_transport pt_transports[] = {
	{ "HTTP", false, pt_publish_http },
	{ "gRPC", true, pt_publish_grpc },
	/* The deprecated name of BulkPublishEvent, served by the same handler. */
	{ "gRPC (BulkPublishEventAlpha1)", true, pt_publish_grpc_alpha1 },
};

const size_t pt_ntransports = sizeof(pt_transports) / sizeof(pt_transports[0]);
