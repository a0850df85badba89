/* SPDX-License-Identifier: Apache-2.0 */
/* The resolver thread of nameresolution.kubernetes: a private event loop with evdns, and blocking look-ups handed to it. */
#ifndef NRK_DNS_H
#define NRK_DNS_H

#include <stddef.h>
#include <stdint.h>

#include <outrig/status.h>

/* At most this many addresses of one name are kept. */
#define NRK_MAX_ADDRS 32

/* One address of an answer: family is AF_INET (4 bytes used) or AF_INET6 (16). */
struct nrk_addr {
	int family;
	unsigned char bytes[16];
};

/* The addresses of one name, A records first, each family sorted, so that indexes are stable. */
struct nrk_answer {
	size_t count;
	struct nrk_addr addrs[NRK_MAX_ADDRS];
};

struct nrk_dns;

/*
 * Starts the resolver thread. server is "ip[:port]" (IPv6 as "[ip]:port") or NULL for the
 * nameservers of /etc/resolv.conf; every look-up gives up after timeout_ms.
 * Returns 0 with *out set, OUTRIG_EINVAL (bad server), OUTRIG_EUNAVAIL (no nameserver) or
 * OUTRIG_ENOMEM/OUTRIG_EINTERNAL, with err set.
 * Ownership: *out is the caller's, freed by nrk_dns_stop. Thread: one, before any look-up.
 */
int nrk_dns_start(const char *server, int64_t timeout_ms, struct nrk_dns **out, struct outrig_error *err);

/* Where questions go, for messages: "127.0.0.1:5353" or "the nameservers of /etc/resolv.conf". Thread: any. */
const char *nrk_dns_where(const struct nrk_dns *d);

/*
 * Looks up the A and AAAA records of fqdn (no search domains) and waits for both, or until
 * the timeout. Returns 0 with at least one address; OUTRIG_ENOTFOUND (NXDOMAIN, or no
 * address record); OUTRIG_ETIMEDOUT (no answer in time); OUTRIG_EUNAVAIL (the server
 * refused or failed). err names fqdn and the server.
 * Ownership: all the caller's. Thread: any but the resolver thread; may block up to the timeout.
 */
int nrk_dns_lookup(struct nrk_dns *d, const char *fqdn, struct nrk_answer *out, struct outrig_error *err);

/* Stops the thread, fails what is still in flight, and frees d. NULL is ignored. Thread: no look-up may run. */
void nrk_dns_stop(struct nrk_dns *d);

#endif /* NRK_DNS_H */
