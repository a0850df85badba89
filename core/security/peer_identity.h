/* SPDX-License-Identifier: Apache-2.0 */
/* Who calls a sidecar's internal port: the one description of a caller that access control reads, whether it came
 * from the caller's certificate (mTLS) or from the outrig-caller-* headers the caller's sidecar sent. */
#ifndef OUTRIG_CORE_SECURITY_PEER_IDENTITY_H
#define OUTRIG_CORE_SECURITY_PEER_IDENTITY_H

#include <stdbool.h>

/* The strings belong to whoever filled the struct (the request's headers, or the TLS connection) and live as long
 * as the request. */
struct peer_identity {
	const char *app_id;	  /* never NULL once filled */
	const char *ns;		  /* NULL when the caller named none */
	const char *trust_domain; /* NULL when the caller named none */
	/* true: taken from a certificate the callee verified (SPIFFE id spiffe://<trust-domain>/ns/<ns>/<app-id>);
	 * false: as the caller claims, which any process that reaches the port can forge. */
	bool verified;
};

#endif
