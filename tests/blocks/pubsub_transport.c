/* SPDX-License-Identifier: Apache-2.0 */
/* The front ends the publish table runs through. */
#include "pubsub_transport.h"

const struct pt_transport pt_transports[] = {
	{ "HTTP", false, pt_publish_http },
};

const size_t pt_ntransports = sizeof(pt_transports) / sizeof(pt_transports[0]);
