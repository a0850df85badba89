/* SPDX-License-Identifier: Apache-2.0 */
/* SPIFFE ids of sidecar certificates: spiffe://<trust-domain>/ns/<namespace>/<app-id>, as Dapr's Sentry issues them. */
#ifndef OUTRIG_CORE_SECURITY_SPIFFE_H
#define OUTRIG_CORE_SECURITY_SPIFFE_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

/* The parts of one SPIFFE id; the strings point into the buffer given to the parser. */
struct spiffe_id {
	const char *trust_domain;
	const char *ns;
	const char *app_id;
};

/*
 * Parses uri as a sidecar's SPIFFE id into out, its strings copied into buf. Returns false with
 * why (a clause for a log line) when uri is not spiffe://<trust-domain>/ns/<namespace>/<app-id>.
 * Thread: any.
 */
bool spiffe_parse(const char *uri, struct spiffe_id *out, char *buf, size_t len, const char **why);

/*
 * The SPIFFE id of cert: its one URI SAN (the SPIFFE X.509 profile allows exactly one). Returns
 * false with why when the certificate has none, several, or one that is not a sidecar's id.
 * Thread: any.
 */
bool spiffe_from_cert(X509 *cert, struct spiffe_id *out, char *buf, size_t len, const char **why);

#endif /* OUTRIG_CORE_SECURITY_SPIFFE_H */
