/* SPDX-License-Identifier: Apache-2.0 */
/* Pooled keep-alive connections to other sidecars' internal listeners: one app channel per peer address. */
#include "config.h"

#include "channels/peer_channels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/app_channel.h"
#include "security/mtls.h"

struct peer {
	char key[800]; /* "host:port", and with mTLS "host:port app.namespace": the peer its certificate must be */
	struct app_channel *ch;
};

struct peer_channels {
	struct event_base *base;
	int timeout_s;
	int64_t max_body, max_headers;
	struct peer peers[PEER_CHANNELS_MAX];
	size_t n;
};

struct peer_channels *peer_channels_new(struct event_base *base, int timeout_s, int64_t max_body,
					int64_t max_headers)
{
	struct peer_channels *pc = calloc(1, sizeof(*pc));

	if (pc == NULL)
		return NULL;
	pc->base = base;
	pc->timeout_s = timeout_s;
	pc->max_body = max_body;
	pc->max_headers = max_headers + PEER_HEADER_SLACK;
	return pc;
}

struct app_channel *peer_channels_get(struct peer_channels *pc, const char *host, int port,
				      const char *callee_id, const char *callee_ns)
{
	char key[sizeof(pc->peers[0].key)];
	struct peer *slot = NULL;
	bool tls = mtls_enabled();

	if (callee_ns == NULL)
		callee_ns = "";
	if (tls)
		snprintf(key, sizeof(key), "%s:%d %s.%s", host, port, callee_id, callee_ns);
	else
		snprintf(key, sizeof(key), "%s:%d", host, port);
	/* A handful of peers in practice: a linear search costs less than the call it serves. */
	for (size_t i = 0; i < pc->n; i++)
		if (strcmp(pc->peers[i].key, key) == 0)
			return pc->peers[i].ch;
	if (pc->n < PEER_CHANNELS_MAX) {
		slot = &pc->peers[pc->n];
	} else {
		/* Peers come and go (a restarted sidecar takes a new port): reuse an idle one's slot. */
		for (size_t i = 0; i < pc->n && slot == NULL; i++)
			if (app_channel_busy(pc->peers[i].ch) == 0)
				slot = &pc->peers[i];
		if (slot == NULL)
			return NULL;
		app_channel_free(slot->ch);
		slot->ch = NULL;
	}
	/* -1: the pool's size bounds the calls in flight to one peer; more wait in order. */
	slot->ch = app_channel_new(pc->base, host, port, -1, pc->timeout_s);
	if (slot->ch != NULL && tls && app_channel_set_peer_tls(slot->ch, callee_id, callee_ns) != 0) {
		app_channel_free(slot->ch);
		slot->ch = NULL;
	}
	if (slot->ch == NULL) {
		if (slot != &pc->peers[pc->n]) {
			/* The freed slot is filled with the last one, so the array stays dense. */
			*slot = pc->peers[--pc->n];
		}
		return NULL;
	}
	app_channel_set_limits(slot->ch, pc->max_body, pc->max_headers);
	snprintf(slot->key, sizeof(slot->key), "%s", key);
	if (slot == &pc->peers[pc->n])
		pc->n++;
	return slot->ch;
}

unsigned peer_channels_busy(const struct peer_channels *pc)
{
	unsigned busy = 0;

	for (size_t i = 0; pc != NULL && i < pc->n; i++)
		busy += app_channel_busy(pc->peers[i].ch);
	return busy;
}

void peer_channels_free(struct peer_channels *pc)
{
	if (pc == NULL)
		return;
	for (size_t i = 0; i < pc->n; i++)
		app_channel_free(pc->peers[i].ch);
	free(pc);
}
