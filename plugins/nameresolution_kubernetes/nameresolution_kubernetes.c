/* SPDX-License-Identifier: Apache-2.0 */
/* nameresolution.kubernetes: finds another app's sidecar as Dapr does in Kubernetes, through its <app-id>-dapr Service's DNS name. */
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#include "nrk_dns.h"

/* The build passes the package version; an out-of-tree build may not. */
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.1.0"
#endif

/* Where a query without a namespace goes when this sidecar did not say its own. */
#define NRK_DEFAULT_NAMESPACE "default"
/* "-dapr" is appended to the app id, and a DNS label holds 63 characters. */
#define NRK_MAX_APP_ID 58
#define NRK_MAX_LABEL 63
/* Round-robin positions are kept for this many names; past that they all start again. */
#define NRK_MAX_NAMES 1024

/* Which address of one name the next call gets. */
struct nrk_position {
	char *fqdn;
	size_t next;
	struct nrk_position *link;
};

struct nrk_instance {
	const struct outrig_host *host;
	struct outrig_handle *self;
	char cluster_domain[254];
	int port;
	struct nrk_dns *dns;
	pthread_mutex_t mu; /* own_ns and the positions: resolve() runs on several workers at once */
	char own_ns[NRK_MAX_LABEL + 1];
	struct nrk_position *positions;
	size_t npositions;
};

static const char *const nrk_versions[] = { "v1", NULL };

static const struct outrig_field nrk_fields[] = {
	{ .name = "clusterDomain",
	  .type = OUTRIG_FIELD_STRING,
	  .default_value = "cluster.local",
	  .description =
		  "the cluster's DNS domain: a sidecar is <app-id>-dapr.<namespace>.svc.<clusterDomain>" },
	{ .name = "port",
	  .type = OUTRIG_FIELD_INT,
	  .default_value = "50002",
	  .description = "the port of the other sidecars' internal listener (Dapr's in Kubernetes: 50002)" },
	{ .name = "timeout",
	  .type = OUTRIG_FIELD_DURATION,
	  .default_value = "2s",
	  .description = "how long one look-up waits for the DNS server" },
	{ .name = "dnsServer",
	  .type = OUTRIG_FIELD_STRING,
	  .description =
		  "ip[:port] of the DNS server to ask instead of the nameservers of /etc/resolv.conf" },
	{ .name = NULL },
};

/* A DNS label as Kubernetes names are made of: letters, digits and '-', starting with neither '-' nor empty. */
static bool nrk_label_ok(const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* An app id starts the label "<app-id>-dapr", so only its first character may not be '-'. */
static bool nrk_app_id_ok(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && (nrk_label_ok(s, len, NRK_MAX_APP_ID) ||
			   (s[len - 1] == '-' && nrk_label_ok(s, len - 1, NRK_MAX_APP_ID - 1)));
}

/* Dot-separated labels; one trailing dot (the root) is dropped into out. */
static bool nrk_domain_ok(const char *s, char *out, size_t outlen)
{
	size_t len = strlen(s);

	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len >= outlen)
		return false;
	for (size_t start = 0; start < len;) {
		const char *dot = memchr(s + start, '.', len - start);
		size_t end = dot != NULL ? (size_t)(dot - s) : len;

		if (!nrk_label_ok(s + start, end - start, NRK_MAX_LABEL))
			return false;
		start = end + 1;
		if (dot != NULL && start == len)
			return false;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}

static void nrk_forget_positions(struct nrk_instance *k)
{
	while (k->positions != NULL) {
		struct nrk_position *p = k->positions;

		k->positions = p->link;
		free(p->fqdn);
		free(p);
	}
	k->npositions = 0;
}

/* The index, among count addresses of fqdn, that this call gets: successive calls go round. */
static size_t nrk_next_index(struct nrk_instance *k, const char *fqdn, size_t count)
{
	struct nrk_position *p;
	size_t index = 0;

	pthread_mutex_lock(&k->mu);
	for (p = k->positions; p != NULL && strcmp(p->fqdn, fqdn) != 0; p = p->link)
		;
	if (p == NULL) {
		if (k->npositions >= NRK_MAX_NAMES)
			nrk_forget_positions(k);
		p = calloc(1, sizeof(*p));
		if (p != NULL && (p->fqdn = strdup(fqdn)) == NULL) {
			free(p);
			p = NULL;
		}
		if (p != NULL) {
			p->link = k->positions;
			k->positions = p;
			k->npositions++;
		}
	}
	/* Without memory for a position, the first address still answers. */
	if (p != NULL) {
		index = p->next % count;
		p->next = index + 1;
	}
	pthread_mutex_unlock(&k->mu);
	return index;
}

static int nrk_register_self(void *instance, const struct outrig_nr_self *self, struct outrig_error *err)
{
	struct nrk_instance *k = instance;
	const char *ns = self->ns != NULL ? self->ns : "";

	/* Kubernetes made the <app-id>-dapr Service; all that is left is to know where we are. */
	if (ns[0] != '\0' && !nrk_label_ok(ns, strlen(ns), NRK_MAX_LABEL))
		return outrig_err(
			err, OUTRIG_EINVAL,
			"namespace \"%s\" of app id \"%s\" is not a Kubernetes namespace name (letters, "
			"digits and '-', at most 63)",
			ns, self->app_id != NULL ? self->app_id : "");
	pthread_mutex_lock(&k->mu);
	snprintf(k->own_ns, sizeof(k->own_ns), "%s", ns);
	pthread_mutex_unlock(&k->mu);
	k->host->log(k->self, OUTRIG_LOG_INFO,
		     "app id \"%s\" runs in namespace %s: app ids without a namespace are looked up there",
		     self->app_id != NULL ? self->app_id : "", ns[0] != '\0' ? ns : NRK_DEFAULT_NAMESPACE);
	return OUTRIG_OK;
}

static int nrk_resolve(void *instance, const struct outrig_nr_query *query, struct outrig_nr_address *out,
		       struct outrig_error *err)
{
	struct nrk_instance *k = instance;
	const char *app_id = query->app_id != NULL ? query->app_id : "";
	struct nrk_answer answer;
	struct outrig_error why;
	char ns[NRK_MAX_LABEL + 2], fqdn[300];
	const struct nrk_addr *a;
	int rc;

	if (!nrk_app_id_ok(app_id))
		return outrig_err(
			err, OUTRIG_EINVAL,
			"app id \"%s\" cannot be part of a Kubernetes Service name: use letters, digits "
			"and '-' (at most %d)",
			app_id, NRK_MAX_APP_ID);
	if (query->ns != NULL && query->ns[0] != '\0') {
		snprintf(ns, sizeof(ns), "%s", query->ns);
	} else {
		pthread_mutex_lock(&k->mu);
		snprintf(ns, sizeof(ns), "%s", k->own_ns[0] != '\0' ? k->own_ns : NRK_DEFAULT_NAMESPACE);
		pthread_mutex_unlock(&k->mu);
	}
	if (!nrk_label_ok(ns, strlen(ns), NRK_MAX_LABEL))
		return outrig_err(
			err, OUTRIG_EINVAL,
			"namespace \"%s\" (app id \"%s\") is not a Kubernetes namespace name (letters, "
			"digits and '-', at most 63)",
			query->ns, app_id);
	if (snprintf(fqdn, sizeof(fqdn), "%s-dapr.%s.svc.%s", app_id, ns, k->cluster_domain) > 253)
		return outrig_err(err, OUTRIG_EINVAL, "%s is longer than a DNS name may be (253)", fqdn);
	why.message[0] = '\0';
	rc = nrk_dns_lookup(k->dns, fqdn, &answer, &why);
	if (rc != OUTRIG_OK)
		return outrig_err(err, rc, "cannot find the sidecar of app id \"%s\" in namespace %s: %s",
				  app_id, ns, why.message);
	a = &answer.addrs[nrk_next_index(k, fqdn, answer.count)];
	if (inet_ntop(a->family, a->bytes, out->host, sizeof(out->host)) == NULL)
		return outrig_err(err, OUTRIG_EINTERNAL, "cannot print an address of %s", fqdn);
	out->port = k->port;
	return OUTRIG_OK;
}

static void nrk_free(struct nrk_instance *k)
{
	nrk_dns_stop(k->dns);
	nrk_forget_positions(k);
	pthread_mutex_destroy(&k->mu);
	free(k);
}

static int nrk_create(const struct outrig_host *host, struct outrig_handle *self,
		      const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	const char *domain = outrig_config_string(cfg, "clusterDomain", "cluster.local");
	const char *server = outrig_config_string(cfg, "dnsServer", NULL);
	int64_t port = outrig_config_int(cfg, "port", 50002);
	int64_t timeout_ms = outrig_config_int(cfg, "timeout", 2000);
	struct nrk_instance *k;
	int rc;

	if (port < 1 || port > 65535)
		return outrig_err(err, OUTRIG_EINVAL, "port %lld is not a TCP port (1 to 65535)",
				  (long long)port);
	if (timeout_ms < 1 || timeout_ms > 300000)
		return outrig_err(err, OUTRIG_EINVAL, "timeout %lld ms is out of range: give 1ms to 5m",
				  (long long)timeout_ms);
	if (server != NULL && server[0] == '\0')
		server = NULL;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	if (!nrk_domain_ok(domain, k->cluster_domain, sizeof(k->cluster_domain))) {
		free(k);
		return outrig_err(
			err, OUTRIG_EINVAL,
			"clusterDomain \"%s\" is not a DNS domain: dot-separated labels of letters, "
			"digits and '-', such as cluster.local",
			domain);
	}
	k->host = host;
	k->self = self;
	k->port = (int)port;
	pthread_mutex_init(&k->mu, NULL);
	rc = nrk_dns_start(server, timeout_ms, &k->dns, err);
	if (rc != OUTRIG_OK) {
		nrk_free(k);
		return rc;
	}
	host->log(self, OUTRIG_LOG_INFO,
		  "app ids resolve to <app-id>-dapr.<namespace>.svc.%s, port %d, asking the DNS server %s "
		  "(timeout %lld ms)",
		  k->cluster_domain, k->port, nrk_dns_where(k->dns), (long long)timeout_ms);
	*instance = k;
	return OUTRIG_OK;
}

static void nrk_destroy(void *instance)
{
	if (instance != NULL)
		nrk_free(instance);
}

static const struct outrig_nr_ops nrk_ops = {
	.struct_size = sizeof(struct outrig_nr_ops),
	.register_self = nrk_register_self,
	.resolve = nrk_resolve,
	/* Nothing to withdraw: the Service is Kubernetes', and a stopping pod leaves its endpoints. */
	.unregister_self = NULL,
};

static const struct outrig_plugin nrk_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "nameresolution.kubernetes",
	.versions = nrk_versions,
	.plugin_version = PLUGIN_VERSION,
	.description =
		"Kubernetes DNS name resolution: <app-id>-dapr.<namespace>.svc.<clusterDomain> through evdns",
	.fields = nrk_fields,
	.create = nrk_create,
	.destroy = nrk_destroy,
	.nameresolution = &nrk_ops,
};

OUTRIG_PLUGIN(nrk_plugin)
