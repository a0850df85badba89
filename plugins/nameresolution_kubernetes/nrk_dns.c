/* SPDX-License-Identifier: Apache-2.0 */
/* The resolver thread of nameresolution.kubernetes: a private event loop with evdns, and blocking look-ups handed to it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "nrk_dns.h"

#define NRK_RESOLV_CONF "/etc/resolv.conf"
/* evdns asks each question this many times, each attempt getting an equal share of the timeout. */
#define NRK_ATTEMPTS 2

struct nrk_dns {
	struct event_base *base;
	struct evdns_base *dns;
	pthread_t thread;
	bool running;
	int64_t timeout_ms;
	char where[160];
	pthread_mutex_t mu; /* guards every struct nrk_query of this resolver */
	pthread_cond_t answered;
};

/* One of the two questions of a look-up: A or AAAA. */
struct nrk_question {
	struct nrk_query *query;
	int family;
	bool done;
	int result; /* DNS_ERR_*, valid once done */
	size_t count;
	struct nrk_addr addrs[NRK_MAX_ADDRS];
};

/*
 * One look-up. The caller may give up at its deadline while evdns still holds the questions,
 * so it is reference-counted: the caller, the submit step and each question hold one, and
 * whoever drops the last frees it.
 */
struct nrk_query {
	struct nrk_dns *d;
	char fqdn[256];
	int refs;
	int pending; /* questions not done */
	struct nrk_question q[2];
};

/* Drops one reference with d->mu held; true when the caller must free q after unlocking. */
static bool nrk_release_locked(struct nrk_query *q)
{
	return --q->refs == 0;
}

static int nrk_addr_cmp(const void *a, const void *b)
{
	const struct nrk_addr *x = a, *y = b;

	return memcmp(x->bytes, y->bytes, sizeof(x->bytes));
}

/* evdns's callback, on the resolver thread. */
static void nrk_answered(int result, char type, int count, int ttl, void *addresses, void *arg)
{
	struct nrk_question *qn = arg;
	struct nrk_query *q = qn->query;
	struct nrk_dns *d = q->d;
	bool last;

	(void)ttl;
	pthread_mutex_lock(&d->mu);
	qn->result = result;
	if (result == DNS_ERR_NONE && addresses != NULL) {
		size_t width = type == DNS_IPv4_A ? 4 : 16;

		for (int i = 0; i < count && qn->count < NRK_MAX_ADDRS; i++) {
			struct nrk_addr *a = &qn->addrs[qn->count++];

			memset(a, 0, sizeof(*a));
			a->family = width == 4 ? AF_INET : AF_INET6;
			memcpy(a->bytes, (const unsigned char *)addresses + (size_t)i * width, width);
		}
		/* DNS servers rotate record order; a sorted list keeps the round-robin index meaningful. */
		qsort(qn->addrs, qn->count, sizeof(qn->addrs[0]), nrk_addr_cmp);
	}
	qn->done = true;
	q->pending--;
	pthread_cond_broadcast(&d->answered);
	last = nrk_release_locked(q);
	pthread_mutex_unlock(&d->mu);
	if (last)
		free(q);
}

/* Asks both questions, on the resolver thread (event_base_once). */
static void nrk_submit(evutil_socket_t fd, short what, void *arg)
{
	struct nrk_query *q = arg;
	struct nrk_dns *d = q->d;
	bool last;

	(void)fd;
	(void)what;
	for (int i = 0; i < 2; i++) {
		struct nrk_question *qn = &q->q[i];
		struct evdns_request *r;

		/* The name is complete: resolv.conf's search list (ndots:5 in a pod) must not be tried. */
		if (qn->family == AF_INET)
			r = evdns_base_resolve_ipv4(d->dns, q->fqdn, DNS_QUERY_NO_SEARCH, nrk_answered, qn);
		else
			r = evdns_base_resolve_ipv6(d->dns, q->fqdn, DNS_QUERY_NO_SEARCH, nrk_answered, qn);
		if (r == NULL) {
			/* Refused before it was sent: evdns will not call back. */
			pthread_mutex_lock(&d->mu);
			qn->result = DNS_ERR_UNKNOWN;
			qn->done = true;
			q->pending--;
			nrk_release_locked(q); /* the submit step's own reference keeps q */
			pthread_cond_broadcast(&d->answered);
			pthread_mutex_unlock(&d->mu);
		}
	}
	pthread_mutex_lock(&d->mu);
	last = nrk_release_locked(q);
	pthread_mutex_unlock(&d->mu);
	if (last)
		free(q);
}

/*
 * Ends the loop from inside it. event_base_loopbreak() from another thread is lost when the
 * loop has not started yet (event_base_loop clears the flag); a queued event is not.
 */
static void nrk_break(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void *nrk_loop(void *arg)
{
	struct nrk_dns *d = arg;

	event_base_loop(d->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* "10.0.0.10:53 (from /etc/resolv.conf)", naming the first nameserver evdns asks. */
static void nrk_describe_resolv_conf(struct nrk_dns *d)
{
	struct sockaddr_storage ss;
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 53;
	int n = evdns_base_count_nameservers(d->dns);

	if (evdns_base_get_nameserver_addr(d->dns, 0, (struct sockaddr *)&ss, sizeof(ss)) > 0) {
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

			evutil_inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
			port = ntohs(sin->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

			evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
			port = ntohs(sin6->sin6_port);
		}
	}
	snprintf(d->where, sizeof(d->where), "%s%s%s:%d (%s of " NRK_RESOLV_CONF ")",
		 strchr(ip, ':') != NULL ? "[" : "", ip, strchr(ip, ':') != NULL ? "]" : "", port,
		 n > 1 ? "first nameserver" : "nameserver");
}

static int nrk_nameservers(struct nrk_dns *d, const char *server, struct outrig_error *err)
{
	if (server != NULL) {
		struct sockaddr_storage ss;
		int len = (int)sizeof(ss);

		d->dns = evdns_base_new(d->base, 0);
		if (d->dns == NULL)
			return outrig_err(err, OUTRIG_ENOMEM, "cannot make the DNS resolver: out of memory");
		if (evutil_parse_sockaddr_port(server, (struct sockaddr *)&ss, &len) != 0 ||
		    evdns_base_nameserver_ip_add(d->dns, server) != 0)
			return outrig_err(
				err, OUTRIG_EINVAL,
				"dnsServer \"%s\" is not an address: write ip or ip:port (IPv6 as [ip]:port)",
				server);
		snprintf(d->where, sizeof(d->where), "%s", server);
		return OUTRIG_OK;
	}
	/*
	 * resolv.conf is read once, here: in a pod it names the cluster DNS; `ip netns exec`
	 * bind-mounts /etc/netns/<ns>/resolv.conf over it. No 127.0.0.1 fallback: a missing
	 * nameserver must say so, not time out.
	 */
	d->dns = evdns_base_new(d->base,
				EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_NAMESERVERS_NO_DEFAULT);
	if (d->dns == NULL)
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  "cannot read the nameservers of " NRK_RESOLV_CONF
				  "; set dnsServer to a DNS server's ip[:port]");
	if (evdns_base_count_nameservers(d->dns) == 0)
		return outrig_err(err, OUTRIG_EUNAVAIL,
				  NRK_RESOLV_CONF
				  " names no nameserver (or cannot be read); set dnsServer to "
				  "a DNS server's ip[:port]");
	nrk_describe_resolv_conf(d);
	return OUTRIG_OK;
}

int nrk_dns_start(const char *server, int64_t timeout_ms, struct nrk_dns **out, struct outrig_error *err)
{
	struct nrk_dns *d = calloc(1, sizeof(*d));
	pthread_condattr_t ca;
	sigset_t all, old;
	char per_try[32];
	int rc;

	*out = NULL;
	if (d == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	d->timeout_ms = timeout_ms;
	pthread_mutex_init(&d->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->answered, &ca);
	pthread_condattr_destroy(&ca);
	/*
	 * Look-ups are handed over from worker threads, so the loop needs libevent's locks.
	 * outrigd has already turned them on; doing it again with the same functions is a no-op.
	 */
	if (evthread_use_pthreads() != 0) {
		nrk_dns_stop(d);
		return outrig_err(err, OUTRIG_EINTERNAL, "cannot turn on libevent's thread support");
	}
	d->base = event_base_new();
	if (d->base == NULL) {
		nrk_dns_stop(d);
		return outrig_err(err, OUTRIG_EINTERNAL, "cannot make an event loop for the DNS resolver");
	}
	rc = nrk_nameservers(d, server, err);
	if (rc != OUTRIG_OK) {
		nrk_dns_stop(d);
		return rc;
	}
	/* Our options win over resolv.conf's `options timeout: attempts:`: the plugin's timeout bounds all. */
	snprintf(per_try, sizeof(per_try), "%.3f", (double)timeout_ms / 1000.0 / NRK_ATTEMPTS);
	if (evdns_base_set_option(d->dns, "timeout:", per_try) != 0 ||
	    evdns_base_set_option(d->dns, "attempts:", "2") != 0) {
		nrk_dns_stop(d);
		return outrig_err(err, OUTRIG_EINTERNAL, "evdns refused timeout %s s", per_try);
	}
	/* The thread takes no signals: they belong to outrigd's main loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&d->thread, NULL, nrk_loop, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		nrk_dns_stop(d);
		return outrig_err(err, OUTRIG_EINTERNAL, "cannot start the DNS resolver thread: %s",
				  strerror(rc));
	}
	d->running = true;
	*out = d;
	return OUTRIG_OK;
}

const char *nrk_dns_where(const struct nrk_dns *d)
{
	return d->where;
}

static bool nrk_no_data(const struct nrk_question *qn)
{
	return qn->done && (qn->result == DNS_ERR_NODATA || (qn->result == DNS_ERR_NONE && qn->count == 0));
}

/* Turns the two questions' outcome into the look-up's, with d->mu held. */
static int nrk_outcome(struct nrk_dns *d, struct nrk_query *q, struct nrk_answer *out,
		       struct outrig_error *err)
{
	const struct nrk_question *a = &q->q[0], *aaaa = &q->q[1];

	out->count = 0;
	for (int i = 0; i < 2; i++)
		for (size_t j = 0; j < q->q[i].count && out->count < NRK_MAX_ADDRS; j++)
			out->addrs[out->count++] = q->q[i].addrs[j];
	if (out->count > 0)
		return OUTRIG_OK;
	if ((a->done && a->result == DNS_ERR_NOTEXIST) || (aaaa->done && aaaa->result == DNS_ERR_NOTEXIST))
		return outrig_err(err, OUTRIG_ENOTFOUND, "%s does not exist (NXDOMAIN from %s)", q->fqdn,
				  d->where);
	if (!a->done || !aaaa->done || a->result == DNS_ERR_TIMEOUT || aaaa->result == DNS_ERR_TIMEOUT)
		return outrig_err(err, OUTRIG_ETIMEDOUT,
				  "no answer for %s from the DNS server %s within %lld ms", q->fqdn, d->where,
				  (long long)d->timeout_ms);
	if (nrk_no_data(a) && nrk_no_data(aaaa))
		return outrig_err(err, OUTRIG_ENOTFOUND, "%s has no A or AAAA record (asked %s)", q->fqdn,
				  d->where);
	{
		int why = nrk_no_data(a) ? aaaa->result : a->result;

		return outrig_err(err, OUTRIG_EUNAVAIL, "the DNS server %s could not answer for %s: %s",
				  d->where, q->fqdn, evdns_err_to_string(why));
	}
}

int nrk_dns_lookup(struct nrk_dns *d, const char *fqdn, struct nrk_answer *out, struct outrig_error *err)
{
	const struct timeval now = { 0, 0 };
	struct nrk_query *q;
	struct timespec deadline;
	bool last;
	int rc;

	out->count = 0;
	if (strlen(fqdn) >= sizeof(q->fqdn))
		return outrig_err(err, OUTRIG_EINVAL, "%s is too long for a DNS name", fqdn);
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	q->d = d;
	snprintf(q->fqdn, sizeof(q->fqdn), "%s", fqdn);
	q->refs = 4; /* this caller, the submit step, the A and the AAAA question */
	q->pending = 2;
	q->q[0] = (struct nrk_question){ .query = q, .family = AF_INET };
	q->q[1] = (struct nrk_question){ .query = q, .family = AF_INET6 };
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += d->timeout_ms / 1000;
	deadline.tv_nsec += (long)(d->timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	if (event_base_once(d->base, -1, EV_TIMEOUT, nrk_submit, q, &now) != 0) {
		free(q);
		return outrig_err(err, OUTRIG_EINTERNAL, "cannot hand %s to the DNS resolver thread", fqdn);
	}
	pthread_mutex_lock(&d->mu);
	while (q->pending > 0)
		if (pthread_cond_timedwait(&d->answered, &d->mu, &deadline) == ETIMEDOUT)
			break;
	rc = nrk_outcome(d, q, out, err);
	last = nrk_release_locked(q);
	pthread_mutex_unlock(&d->mu);
	if (last)
		free(q);
	return rc;
}

void nrk_dns_stop(struct nrk_dns *d)
{
	if (d == NULL)
		return;
	if (d->running) {
		const struct timeval now = { 0, 0 };

		if (event_base_once(d->base, -1, EV_TIMEOUT, nrk_break, d->base, &now) != 0)
			event_base_loopbreak(d->base);
		pthread_join(d->thread, NULL);
	}
	if (d->dns != NULL)
		/* Questions a caller gave up on fail with DNS_ERR_SHUTDOWN, which frees their query... */
		evdns_base_free(d->dns, 1);
	if (d->base != NULL) {
		/* ...once the loop runs their callbacks, here, on this thread, the thread being gone. */
		event_base_loop(d->base, EVLOOP_NONBLOCK);
		event_base_free(d->base);
	}
	pthread_cond_destroy(&d->answered);
	pthread_mutex_destroy(&d->mu);
	free(d);
}
