/* SPDX-License-Identifier: Apache-2.0 */
/* `outrig cert`: a trust anchor and sidecar certificates for mTLS between sidecars, for users with no PKI. */
#include "config.h"

#include "cert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CERT_DEFAULT_TTL_S (24 * 3600)
#define CERT_CA_TTL_S (365 * 24 * 3600)

void cert_usage(FILE *f)
{
	fputs("Usage: outrig cert ca --trust-domain DOMAIN --out DIR [--ttl DURATION]\n"
	      "       outrig cert issue --ca DIR --app-id ID [--namespace NS] --out DIR\n"
	      "                         [--ttl DURATION] [--trust-domain DOMAIN] [--not-before OFFSET]\n"
	      "\n"
	      "Certificates for mTLS between sidecars (outrigd --enable-mtls), made with OpenSSL:\n"
	      "  ca      a trust anchor: an EC P-256 key (DIR/ca.key) and a self-signed CA\n"
	      "          certificate (DIR/ca.crt) for the trust domain (default lifetime 8760h)\n"
	      "  issue   a sidecar certificate signed by the CA in --ca DIR: DIR/tls.crt with the\n"
	      "          SPIFFE id spiffe://DOMAIN/ns/NS/ID as its URI SAN, usable as server and\n"
	      "          client, its key DIR/tls.key, and the trust anchor copied to DIR/ca.crt\n"
	      "\n"
	      "Flags:\n"
	      "  --trust-domain DOMAIN  the SPIFFE trust domain (issue: the CA's by default)\n"
	      "  --namespace NS         the app's namespace (default: $NAMESPACE, else \"default\")\n"
	      "  --ttl DURATION         lifetime, e.g. 24h, 90m, 30s (issue: 24h, Dapr's workloadCertTTL)\n"
	      "  --not-before OFFSET    start of validity relative to now, e.g. -1h or 2h (default -1m)\n"
	      "\n"
	      "Then: outrigd --enable-mtls --mtls-cert-file DIR/tls.crt --mtls-key-file DIR/tls.key\n"
	      "        --trust-anchors-file DIR/ca.crt --control-plane-trust-domain DOMAIN ...\n"
	      "Files are replaced atomically (a new file renamed over the old), so a running outrigd\n"
	      "picks a re-issued certificate up within a second.\n",
	      f);
}

/* "24h", "1h30m", "-2h", "45s", "3d": seconds into *out. */
static bool cert_duration(const char *text, long *out)
{
	const char *p = text;
	bool neg = false;
	long total = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (*p == '\0')
		return false;
	while (*p != '\0') {
		char *end;
		long n;

		errno = 0;
		n = strtol(p, &end, 10);
		if (end == p || errno != 0 || n < 0)
			return false;
		switch (*end) {
		case 's': break;
		case 'm': n *= 60; break;
		case 'h': n *= 3600; break;
		case 'd': n *= 86400; break;
		default: return false;
		}
		total += n;
		p = end + 1;
	}
	*out = neg ? -total : total;
	return true;
}

static int cert_fail(const char *what)
{
	unsigned long e = ERR_get_error();

	fprintf(stderr, "outrig cert: cannot make %s", what);
	if (e != 0)
		fprintf(stderr, " (%s)", ERR_reason_error_string(e));
	fputc('\n', stderr);
	return 1;
}

static EVP_PKEY *cert_new_key(void)
{
	return EVP_EC_gen("P-256");
}

static bool cert_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	bool ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = ext != NULL && X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

static bool cert_serial(X509 *cert)
{
	unsigned char bytes[16];
	BIGNUM *bn;
	bool ok;

	if (RAND_bytes(bytes, sizeof(bytes)) != 1)
		return false;
	bytes[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(bytes, sizeof(bytes), NULL);
	ok = bn != NULL && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
	BN_free(bn);
	return ok;
}

/* Writes to path.tmp with mode, then renames it over path: a reader never sees half a file. */
static int cert_write(const char *dir, const char *name, mode_t mode, X509 *cert, EVP_PKEY *key)
{
	char path[4096], tmp[4200];
	FILE *f;
	int fd;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "outrig cert: cannot write %s: %s\n", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ok = cert != NULL ? PEM_write_X509(f, cert) == 1
			  : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		fprintf(stderr, "outrig cert: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* mkdir -p: the folders above dir too. */
static int cert_mkdir(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = strchr(path + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			fprintf(stderr, "outrig cert: cannot create %s: %s\n", path, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "outrig cert: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

struct cert_args {
	const char *trust_domain, *out, *ca, *app_id, *ns;
	long ttl_s, not_before_s;
	bool ttl_set;
};

static int cert_parse(int argc, char **argv, struct cert_args *a)
{
	for (int i = 2; i < argc; i++) {
		const char *flag = argv[i];
		const char *eq = strchr(flag, '=');
		char name[64];
		const char *value;

		if (strncmp(flag, "--", 2) != 0) {
			fprintf(stderr, "outrig cert: unexpected argument '%s'; see 'outrig cert --help'\n",
				flag);
			return -1;
		}
		snprintf(name, sizeof(name), "%.*s", eq != NULL ? (int)(eq - flag) : (int)strlen(flag), flag);
		if (strcmp(name, "--help") == 0) {
			cert_usage(stdout);
			return 1;
		}
		value = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (value == NULL) {
			fprintf(stderr, "outrig cert: %s needs a value\n", name);
			return -1;
		}
		if (strcmp(name, "--trust-domain") == 0)
			a->trust_domain = value;
		else if (strcmp(name, "--out") == 0)
			a->out = value;
		else if (strcmp(name, "--ca") == 0)
			a->ca = value;
		else if (strcmp(name, "--app-id") == 0)
			a->app_id = value;
		else if (strcmp(name, "--namespace") == 0)
			a->ns = value;
		else if (strcmp(name, "--ttl") == 0) {
			if (!cert_duration(value, &a->ttl_s) || a->ttl_s <= 0) {
				fprintf(stderr,
					"outrig cert: --ttl %s: expected a positive duration such as 24h, 90m or 30s\n",
					value);
				return -1;
			}
			a->ttl_set = true;
		} else if (strcmp(name, "--not-before") == 0) {
			if (!cert_duration(value, &a->not_before_s)) {
				fprintf(stderr,
					"outrig cert: --not-before %s: expected an offset from now such as -1h or 2h\n",
					value);
				return -1;
			}
		} else {
			fprintf(stderr, "outrig cert: unknown flag '%s'; see 'outrig cert --help'\n", name);
			return -1;
		}
	}
	return 0;
}

/* A SPIFFE trust domain: lowercase letters, digits, '.', '-', '_' (the SPIFFE id spec). */
static bool cert_domain_ok(const char *d)
{
	if (*d == '\0')
		return false;
	for (; *d != '\0'; d++)
		if (!((*d >= 'a' && *d <= 'z') || (*d >= '0' && *d <= '9') || *d == '.' || *d == '-' ||
		      *d == '_'))
			return false;
	return true;
}

static bool cert_segment_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || *s == '/' || *s == ',' ||
		    *s == '%')
			return false;
	return true;
}

static int cert_ca(struct cert_args *a)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	X509_NAME *name;
	char cn[300], san[300];
	int rc = 1;

	if (a->trust_domain == NULL || a->out == NULL) {
		fprintf(stderr, "outrig cert ca: give --trust-domain DOMAIN and --out DIR\n");
		return 2;
	}
	if (!cert_domain_ok(a->trust_domain)) {
		fprintf(stderr,
			"outrig cert ca: --trust-domain %s: a trust domain is lowercase letters, digits, '.', '-' and '_'\n",
			a->trust_domain);
		return 2;
	}
	if (cert_mkdir(a->out) != 0)
		return 1;
	key = cert_new_key();
	cert = X509_new();
	if (key == NULL || cert == NULL)
		goto out;
	snprintf(cn, sizeof(cn), "outrig trust anchor %s", a->trust_domain);
	snprintf(san, sizeof(san), "URI:spiffe://%s", a->trust_domain);
	name = X509_get_subject_name(cert);
	if (X509_set_version(cert, 2) != 1 || !cert_serial(cert) ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"outrig", -1, -1,
				       0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) !=
		    1 ||
	    X509_set_issuer_name(cert, name) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), a->not_before_s) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert),
			    a->not_before_s + (a->ttl_set ? a->ttl_s : CERT_CA_TTL_S)) == NULL ||
	    X509_set_pubkey(cert, key) != 1 ||
	    !cert_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:1") ||
	    !cert_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !cert_ext(cert, cert, NID_subject_key_identifier, "hash") ||
	    !cert_ext(cert, cert, NID_subject_alt_name, san) || X509_sign(cert, key, EVP_sha256()) == 0)
		goto out;
	if (cert_write(a->out, "ca.key", 0600, NULL, key) != 0 ||
	    cert_write(a->out, "ca.crt", 0644, cert, NULL) != 0) {
		rc = 1;
		goto done;
	}
	printf("outrig cert: trust anchor for spiffe://%s in %s/ca.crt (key %s/ca.key)\n", a->trust_domain,
	       a->out, a->out);
	rc = 0;
	goto done;
out:
	rc = cert_fail("the CA certificate");
done:
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

/* The trust domain the CA was made for: its spiffe://DOMAIN URI SAN. */
static bool cert_ca_domain(X509 *ca, char *buf, size_t len)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(ca, NID_subject_alt_name, NULL, NULL);
	bool found = false;

	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names) && !found; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
		const char *u;

		if (gn->type != GEN_URI)
			continue;
		u = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
		if (strncmp(u, "spiffe://", 9) == 0 && strchr(u + 9, '/') == NULL) {
			snprintf(buf, len, "%s", u + 9);
			found = true;
		}
	}
	GENERAL_NAMES_free(names);
	return found;
}

static int cert_issue(struct cert_args *a)
{
	char path[4096], domain[256], san[1200];
	EVP_PKEY *ca_key = NULL, *key = NULL;
	X509 *ca = NULL, *cert = NULL;
	X509_NAME *name;
	FILE *f;
	int rc = 1;

	if (a->ca == NULL || a->app_id == NULL || a->out == NULL) {
		fprintf(stderr, "outrig cert issue: give --ca DIR, --app-id ID and --out DIR\n");
		return 2;
	}
	if (a->ns == NULL)
		a->ns = getenv("NAMESPACE") != NULL && *getenv("NAMESPACE") != '\0' ? getenv("NAMESPACE")
										    : "default";
	if (!cert_segment_ok(a->app_id) || !cert_segment_ok(a->ns)) {
		fprintf(stderr,
			"outrig cert issue: --app-id and --namespace must be non-empty, without spaces, '/', ',' or '%%'\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/ca.crt", a->ca);
	if ((f = fopen(path, "r")) == NULL || (ca = PEM_read_X509(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr,
			"outrig cert issue: cannot read the CA certificate %s: %s; make one with outrig cert ca\n",
			path, f == NULL ? strerror(errno) : "no PEM certificate in it");
		if (f != NULL)
			fclose(f);
		return 1;
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/ca.key", a->ca);
	if ((f = fopen(path, "r")) == NULL || (ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "outrig cert issue: cannot read the CA key %s: %s\n", path,
			f == NULL ? strerror(errno) : "no unencrypted PEM key in it");
		if (f != NULL)
			fclose(f);
		X509_free(ca);
		return 1;
	}
	fclose(f);
	if (a->trust_domain != NULL)
		snprintf(domain, sizeof(domain), "%s", a->trust_domain);
	else if (!cert_ca_domain(ca, domain, sizeof(domain))) {
		fprintf(stderr, "outrig cert issue: %s/ca.crt names no trust domain; give --trust-domain\n",
			a->ca);
		goto done;
	}
	if (!cert_domain_ok(domain)) {
		fprintf(stderr,
			"outrig cert issue: trust domain \"%s\": lowercase letters, digits, '.', '-' and '_'\n",
			domain);
		goto done;
	}
	if (cert_mkdir(a->out) != 0)
		goto done;
	snprintf(san, sizeof(san), "URI:spiffe://%s/ns/%s/%s", domain, a->ns, a->app_id);
	key = cert_new_key();
	cert = X509_new();
	if (key == NULL || cert == NULL)
		goto fail;
	name = X509_get_subject_name(cert);
	if (X509_set_version(cert, 2) != 1 || !cert_serial(cert) ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)a->app_id, -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(cert, X509_get_subject_name(ca)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(cert), a->not_before_s != 0 ? a->not_before_s : -60) ==
		    NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(cert), (a->not_before_s != 0 ? a->not_before_s : 0) +
							      (a->ttl_set ? a->ttl_s : CERT_DEFAULT_TTL_S)) ==
		    NULL ||
	    X509_set_pubkey(cert, key) != 1 ||
	    !cert_ext(cert, ca, NID_basic_constraints, "critical,CA:FALSE") ||
	    !cert_ext(cert, ca, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
	    !cert_ext(cert, ca, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    !cert_ext(cert, ca, NID_authority_key_identifier, "keyid:always") ||
	    !cert_ext(cert, ca, NID_subject_alt_name, san) || X509_sign(cert, ca_key, EVP_sha256()) == 0)
		goto fail;
	/* The key first: a watcher that sees the new certificate finds its key already there. */
	if (cert_write(a->out, "tls.key", 0600, NULL, key) != 0 ||
	    cert_write(a->out, "tls.crt", 0644, cert, NULL) != 0 ||
	    cert_write(a->out, "ca.crt", 0644, ca, NULL) != 0)
		goto done;
	printf("outrig cert: spiffe://%s/ns/%s/%s in %s/tls.crt (key %s/tls.key, trust anchor %s/ca.crt)\n",
	       domain, a->ns, a->app_id, a->out, a->out, a->out);
	rc = 0;
	goto done;
fail:
	rc = cert_fail("the certificate");
done:
	X509_free(cert);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return rc;
}

int cert_main(int argc, char **argv)
{
	struct cert_args a = { 0 };
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cert_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	rc = cert_parse(argc, argv, &a);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (strcmp(argv[1], "ca") == 0)
		return cert_ca(&a);
	if (strcmp(argv[1], "issue") == 0)
		return cert_issue(&a);
	fprintf(stderr,
		"outrig cert: unknown command '%s'; the commands are ca and issue (see 'outrig cert --help')\n",
		argv[1]);
	return 2;
}
