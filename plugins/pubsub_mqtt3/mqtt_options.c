/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata of a pubsub.mqtt3 component: Dapr's field names, their checks and the settings kept. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mqtt_options.h"

#define MQ_PORT_TCP 1883
#define MQ_PORT_TLS 8883
#define MQ_SPOOL_DIR "pubsub_mqtt3"

/* Dapr's names and defaults, so that a component file written for daprd loads unchanged. */
const struct outrig_field mq_fields[] = {
	{ "url", OUTRIG_FIELD_STRING, NULL, true,
	  "broker address: tcp://[user[:pass]@]host:port, or ssl://... for TLS (mqtt, mqtts, tcps, tls too)" },
	{ "consumerID", OUTRIG_FIELD_STRING, NULL, false,
	  "MQTT client id (default: the app id); {uuid} and {podName} are replaced" },
	{ "qos", OUTRIG_FIELD_INT, "1", false, "QoS of publishes and subscriptions: 0, 1 or 2" },
	{ "retain", OUTRIG_FIELD_BOOL, "false", false,
	  "publish with the retain flag (a publish's own retain metadata overrides it)" },
	{ "cleanSession", OUTRIG_FIELD_BOOL, "false", false,
	  "start without the broker's stored session (subscriptions and queued messages)" },
	{ "caCert", OUTRIG_FIELD_STRING, NULL, false,
	  "PEM certificate(s) to trust for ssl:// (default: the system's)" },
	{ "clientCert", OUTRIG_FIELD_STRING, NULL, false,
	  "PEM client certificate for ssl:// (needs clientKey)" },
	{ "clientKey", OUTRIG_FIELD_STRING, NULL, false, "PEM private key of clientCert" },
	{ .name = NULL },
};

bool mq_parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on", "y", "t" };
	static const char *const no[] = { "false", "0", "no", "off", "n", "f" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static int mq_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* User names and passwords may be percent-encoded in a URL, as Go's url.Parse reads them. */
static char *mq_unescape(const char *s, size_t len)
{
	char *out = malloc(len + 1), *w = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len && (hi = mq_hex((unsigned char)s[i + 1])) >= 0 &&
		    (lo = mq_hex((unsigned char)s[i + 2])) >= 0) {
			*w++ = (char)(hi * 16 + lo);
			i += 2;
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return out;
}

/* The scheme's canonical form: tcp or ssl; NULL for one paho cannot speak here. */
static const char *mq_scheme(const char *s, size_t len)
{
	static const char *const plain[] = { "tcp", "mqtt" };
	static const char *const tls[] = { "ssl", "mqtts", "tcps", "tls" };

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (strlen(plain[i]) == len && strncasecmp(s, plain[i], len) == 0)
			return "tcp";
	for (size_t i = 0; i < sizeof(tls) / sizeof(tls[0]); i++)
		if (strlen(tls[i]) == len && strncasecmp(s, tls[i], len) == 0)
			return "ssl";
	return NULL;
}

static int mq_parse_url(const char *url, struct mq_options *o, struct outrig_error *err)
{
	const char *sep = strstr(url, "://"), *auth, *end, *at, *host, *colon, *scheme;
	size_t host_len;
	long port;

	if (sep == NULL || (scheme = mq_scheme(url, (size_t)(sep - url))) == NULL)
		return outrig_err(
			err, OUTRIG_EINVAL,
			"url \"%.*s...\" must start with tcp:// (or mqtt://) for plain MQTT, or ssl:// "
			"(or mqtts://, tcps://, tls://) for TLS, e.g. tcp://localhost:1883",
			sep != NULL ? (int)(sep - url) : 8, url);
	o->tls = strcmp(scheme, "ssl") == 0;
	auth = sep + 3;
	end = auth + strcspn(auth, "/?#");
	at = NULL;
	for (const char *p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	host = auth;
	if (at != NULL) {
		const char *pass = memchr(auth, ':', (size_t)(at - auth));

		o->username = mq_unescape(auth, (size_t)((pass != NULL ? pass : at) - auth));
		if (pass != NULL)
			o->password = mq_unescape(pass + 1, (size_t)(at - pass - 1));
		if (o->username == NULL || (pass != NULL && o->password == NULL))
			return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
		host = at + 1;
	}
	/* An IPv6 address is bracketed, so its colons are not the port's. */
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));

		colon = close != NULL && close + 1 < end && close[1] == ':' ? close + 1 : NULL;
		if (close == NULL)
			return outrig_err(err, OUTRIG_EINVAL,
					  "url: IPv6 address without ']'; write it as tcp://[::1]:1883");
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
	}
	host_len = (size_t)((colon != NULL ? colon : end) - host);
	if (host_len == 0)
		return outrig_err(err, OUTRIG_EINVAL,
				  "url \"%s://...\" names no host; write it as %s://host:port", scheme,
				  scheme);
	port = o->tls ? MQ_PORT_TLS : MQ_PORT_TCP;
	if (colon != NULL) {
		char *stop;

		errno = 0;
		port = strtol(colon + 1, &stop, 10);
		if (errno != 0 || stop != end || port < 1 || port > 65535)
			return outrig_err(err, OUTRIG_EINVAL,
					  "url \"%s://%.*s\": the port must be a number from 1 to 65535",
					  scheme, (int)(end - host), host);
	}
	if (asprintf(&o->server_uri, "%s://%.*s:%ld", scheme, (int)host_len, host, port) < 0 ||
	    asprintf(&o->where, "%s://%s%s%.*s:%ld", scheme, o->username != NULL ? o->username : "",
		     o->username != NULL ? "@" : "", (int)host_len, host, port) < 0) {
		o->server_uri = o->where = NULL;
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	return OUTRIG_OK;
}

static void mq_random_hex(char *out, size_t nbytes)
{
	unsigned char buf[32];
	FILE *f = fopen("/dev/urandom", "rb");
	size_t got = f != NULL ? fread(buf, 1, nbytes, f) : 0;

	if (f != NULL)
		fclose(f);
	/* /dev/urandom missing (a bare chroot): still unique enough for a client id. */
	for (size_t i = got; i < nbytes; i++)
		buf[i] = (unsigned char)(rand() ^ (getpid() >> (i % 8)));
	for (size_t i = 0; i < nbytes; i++)
		snprintf(out + 2 * i, 3, "%02x", buf[i]);
}

static void mq_uuid(char out[37])
{
	char hex[33];

	mq_random_hex(hex, 16);
	hex[12] = '4';					      /* version 4 */
	hex[16] = "89ab"[mq_hex((unsigned char)hex[16]) & 3]; /* RFC 4122 variant */
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/* Replaces every {uuid} and {podName}, as Dapr's consumerID does. Ownership: caller frees. */
static char *mq_expand_id(const char *text)
{
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	if (f == NULL)
		return NULL;
	for (const char *p = text; *p != '\0';) {
		if (strncmp(p, "{uuid}", 6) == 0) {
			char uuid[37];

			mq_uuid(uuid);
			fputs(uuid, f);
			p += 6;
		} else if (strncmp(p, "{podName}", 9) == 0) {
			const char *pod = getenv("POD_NAME");
			char hostname[256] = "";

			if (pod == NULL || *pod == '\0') {
				gethostname(hostname, sizeof(hostname) - 1);
				pod = hostname;
			}
			fputs(pod, f);
			p += 9;
		} else {
			fputc(*p++, f);
		}
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* A name as a file name: anything but letters, digits, '-', '_' and '.' becomes '_'. */
static void mq_file_safe(char *s)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			*s = '_';
}

/* paho reads certificates from files only; they hold a private key, so nobody else may read them. */
static int mq_write_pem(const char *dir, const char *component, const char *field, const char *pem,
			char **path, struct outrig_error *err)
{
	size_t len = strlen(pem);
	ssize_t wrote;
	int fd;

	if (strstr(pem, "-----BEGIN ") == NULL)
		return outrig_err(err, OUTRIG_EINVAL,
				  "%s does not hold PEM text (no \"-----BEGIN \" line); put the certificate "
				  "or key itself in the metadata, not a file name",
				  field);
	if (asprintf(path, "%s/%s-%s.pem", dir, component, field) < 0) {
		*path = NULL;
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	fd = open(*path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return outrig_err(err, OUTRIG_EINTERNAL, "cannot write %s for paho: %s; check --data-dir",
				  *path, strerror(errno));
	/* An existing file keeps its mode through O_CREAT: tighten it before the secret goes in. */
	if (fchmod(fd, 0600) != 0 || (wrote = write(fd, pem, len)) != (ssize_t)len || close(fd) != 0) {
		int e = errno;

		close(fd);
		return outrig_err(err, OUTRIG_EINTERNAL, "cannot write %s for paho: %s; check --data-dir",
				  *path, strerror(e));
	}
	return OUTRIG_OK;
}

static int mq_tls_files(const struct outrig_config *cfg, const char *dir, const char *component,
			struct mq_options *o, struct outrig_error *err)
{
	const char *ca = outrig_config_string(cfg, "caCert", NULL);
	const char *cert = outrig_config_string(cfg, "clientCert", NULL);
	const char *key = outrig_config_string(cfg, "clientKey", NULL);
	int rc = OUTRIG_OK;

	ca = ca != NULL && *ca != '\0' ? ca : NULL;
	cert = cert != NULL && *cert != '\0' ? cert : NULL;
	key = key != NULL && *key != '\0' ? key : NULL;
	/* Certificates with a tcp:// URL mean TLS was wanted: never fall back to clear text. */
	if (!o->tls && (ca != NULL || cert != NULL || key != NULL))
		return outrig_err(err, OUTRIG_EINVAL,
				  "%s is set but url %s is not TLS; use ssl:// (or mqtts://) to connect with "
				  "TLS, or remove the certificate fields",
				  ca != NULL	 ? "caCert"
				  : cert != NULL ? "clientCert"
						 : "clientKey",
				  o->where);
	if ((cert != NULL) != (key != NULL))
		return outrig_err(err, OUTRIG_EINVAL, "%s is set without %s; a client certificate needs both",
				  cert != NULL ? "clientCert" : "clientKey",
				  cert != NULL ? "clientKey" : "clientCert");
	if (ca != NULL)
		rc = mq_write_pem(dir, component, "caCert", ca, &o->ca_file, err);
	if (rc == OUTRIG_OK && cert != NULL)
		rc = mq_write_pem(dir, component, "clientCert", cert, &o->cert_file, err);
	if (rc == OUTRIG_OK && key != NULL)
		rc = mq_write_pem(dir, component, "clientKey", key, &o->key_file, err);
	return rc;
}

static int mq_client_id(const struct outrig_config *cfg, struct mq_options *o, struct outrig_error *err)
{
	const char *given = outrig_config_string(cfg, "consumerID", "");
	char hex[17];

	if (*given == '\0')
		given = cfg->app_id != NULL ? cfg->app_id : "";
	if (*given != '\0') {
		o->client_id = mq_expand_id(given);
		if (o->client_id == NULL)
			return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
		if (strlen(o->client_id) > 65535)
			return outrig_err(err, OUTRIG_EINVAL, "consumerID is longer than MQTT's 65535 bytes");
		return OUTRIG_OK;
	}
	/* 23 characters: the longest client id every MQTT 3.1.1 broker must accept. */
	mq_random_hex(hex, 8);
	if (asprintf(&o->client_id, "outrig-%s", hex) < 0) {
		o->client_id = NULL;
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
	o->generated_id = true;
	return OUTRIG_OK;
}

static int mq_spool_path(const struct outrig_host *host, const struct outrig_config *cfg,
			 struct mq_options *o, char **dir, struct outrig_error *err)
{
	char *component = strdup(cfg->component != NULL ? cfg->component : "mqtt");
	char *id = strdup(o->client_id);
	int rc = OUTRIG_OK;

	*dir = NULL;
	if (component == NULL || id == NULL || asprintf(dir, "%s/" MQ_SPOOL_DIR, host->data_dir) < 0) {
		*dir = NULL;
		rc = outrig_err(err, OUTRIG_ENOMEM, "out of memory");
		goto out;
	}
	if (mkdir(*dir, 0700) != 0 && errno != EEXIST) {
		rc = outrig_err(err, OUTRIG_EINTERNAL,
				"cannot make %s for the message spool: %s; check --data-dir", *dir,
				strerror(errno));
		goto out;
	}
	mq_file_safe(component);
	mq_file_safe(id);
	if (asprintf(&o->spool_path, "%s/%s-%s.db", *dir, component, id) < 0) {
		o->spool_path = NULL;
		rc = outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	}
out:
	free(component);
	free(id);
	return rc;
}

int mq_options_parse(const struct outrig_config *cfg, const struct outrig_host *host, struct mq_options *o,
		     struct outrig_error *err)
{
	const char *url = outrig_config_string(cfg, "url", "");
	int64_t qos = outrig_config_int(cfg, "qos", 1);
	char *dir = NULL, *component = NULL;
	int rc;

	memset(o, 0, sizeof(*o));
	if (offsetof(struct outrig_host, data_dir) >= host->struct_size || host->data_dir == NULL) {
		rc = outrig_err(err, OUTRIG_EINVAL,
				"this outrigd gives plugins no data folder (host ABI older than 1.2); the "
				"message spool needs one: upgrade outrigd");
		goto out;
	}
	if (*url == '\0') {
		rc = outrig_err(err, OUTRIG_EINVAL,
				"url is empty; set it to the broker, e.g. tcp://localhost:1883");
		goto out;
	}
	rc = mq_parse_url(url, o, err);
	if (rc != OUTRIG_OK)
		goto out;
	if (qos < 0 || qos > 2) {
		rc = outrig_err(err, OUTRIG_EINVAL, "qos is %lld; MQTT has QoS 0, 1 and 2 (default 1)",
				(long long)qos);
		goto out;
	}
	o->qos = (int)qos;
	o->retain = outrig_config_int(cfg, "retain", 0) != 0;
	o->clean_session = outrig_config_int(cfg, "cleanSession", 0) != 0;
	rc = mq_client_id(cfg, o, err);
	if (rc == OUTRIG_OK)
		rc = mq_spool_path(host, cfg, o, &dir, err);
	if (rc != OUTRIG_OK)
		goto out;
	component = strdup(cfg->component != NULL ? cfg->component : "mqtt");
	if (component == NULL) {
		rc = outrig_err(err, OUTRIG_ENOMEM, "out of memory");
		goto out;
	}
	mq_file_safe(component);
	rc = mq_tls_files(cfg, dir, component, o, err);
out:
	free(dir);
	free(component);
	if (rc != OUTRIG_OK)
		mq_options_free(o);
	return rc;
}

static void mq_remove_file(char *path)
{
	if (path != NULL)
		unlink(path);
	free(path);
}

void mq_options_free(struct mq_options *o)
{
	free(o->server_uri);
	free(o->where);
	free(o->username);
	if (o->password != NULL)
		explicit_bzero(o->password, strlen(o->password));
	free(o->password);
	free(o->client_id);
	mq_remove_file(o->ca_file);
	mq_remove_file(o->cert_file);
	mq_remove_file(o->key_file);
	free(o->spool_path);
	memset(o, 0, sizeof(*o));
}
