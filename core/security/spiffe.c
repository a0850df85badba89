/* SPDX-License-Identifier: Apache-2.0 */
/* SPIFFE ids of sidecar certificates: parsing the id and finding it among a certificate's SANs. */
#include "config.h"

#include "security/spiffe.h"

#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#define SPIFFE_SCHEME "spiffe://"

/* A segment of the id: not empty, no '/', printable ASCII. */
static bool spiffe_segment_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f || s[i] == '/')
			return false;
	return true;
}

bool spiffe_parse(const char *uri, struct spiffe_id *out, char *buf, size_t len, const char **why)
{
	const char *td, *slash, *ns, *app;
	size_t ntd, nns, napp;

	if (strncmp(uri, SPIFFE_SCHEME, strlen(SPIFFE_SCHEME)) != 0) {
		*why = "its URI SAN is not a SPIFFE id (spiffe://...)";
		return false;
	}
	td = uri + strlen(SPIFFE_SCHEME);
	slash = strchr(td, '/');
	if (slash == NULL || strncmp(slash, "/ns/", 4) != 0) {
		*why = "its SPIFFE id is not spiffe://<trust-domain>/ns/<namespace>/<app-id>";
		return false;
	}
	ntd = (size_t)(slash - td);
	ns = slash + 4;
	nns = strcspn(ns, "/");
	if (ns[nns] != '/') {
		*why = "its SPIFFE id is not spiffe://<trust-domain>/ns/<namespace>/<app-id>";
		return false;
	}
	app = ns + nns + 1;
	napp = strlen(app);
	if (!spiffe_segment_ok(td, ntd) || !spiffe_segment_ok(ns, nns) || !spiffe_segment_ok(app, napp)) {
		*why = "its SPIFFE id is not spiffe://<trust-domain>/ns/<namespace>/<app-id> (an empty or odd part)";
		return false;
	}
	if (ntd + nns + napp + 3 > len) {
		*why = "its SPIFFE id is too long";
		return false;
	}
	memcpy(buf, td, ntd);
	buf[ntd] = '\0';
	memcpy(buf + ntd + 1, ns, nns);
	buf[ntd + 1 + nns] = '\0';
	memcpy(buf + ntd + nns + 2, app, napp + 1);
	out->trust_domain = buf;
	out->ns = buf + ntd + 1;
	out->app_id = buf + ntd + nns + 2;
	return true;
}

bool spiffe_from_cert(X509 *cert, struct spiffe_id *out, char *buf, size_t len, const char **why)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	const ASN1_IA5STRING *uri = NULL;
	int nuri = 0;
	char text[1024];
	bool ok;

	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type == GEN_URI) {
			uri = gn->d.uniformResourceIdentifier;
			nuri++;
		}
	}
	if (nuri != 1) {
		GENERAL_NAMES_free(names);
		*why = nuri == 0 ? "it has no SPIFFE id (no URI SAN)"
				 : "it has more than one URI SAN (a SPIFFE certificate has exactly one)";
		return false;
	}
	if ((size_t)ASN1_STRING_length(uri) >= sizeof(text) ||
	    memchr(ASN1_STRING_get0_data(uri), '\0', (size_t)ASN1_STRING_length(uri)) != NULL) {
		GENERAL_NAMES_free(names);
		*why = "its URI SAN is too long or holds a NUL byte";
		return false;
	}
	memcpy(text, ASN1_STRING_get0_data(uri), (size_t)ASN1_STRING_length(uri));
	text[ASN1_STRING_length(uri)] = '\0';
	GENERAL_NAMES_free(names);
	ok = spiffe_parse(text, out, buf, len, why);
	return ok;
}
