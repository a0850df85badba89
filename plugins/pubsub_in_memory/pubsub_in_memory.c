/* SPDX-License-Identifier: Apache-2.0 */
/* pubsub.in-memory: a process-local broker handing each published message to this sidecar's subscriptions. */
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

/* The build passes the package version; an out-of-tree build may not. */
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.1.0"
#endif

/* One subscribe() call. Never removed before destroy(), so a reader may walk the list unlocked. */
struct mem_sub {
	struct mem_sub *next;
	struct outrig_pubsub_sink *sink;
	char topic[];
};

struct mem_broker {
	const struct outrig_host *host;
	char *component;
	/* Guards subs: publish() walks a snapshot of it while subscribe() prepends. */
	pthread_mutex_t lock;
	struct mem_sub *subs;
};

typedef int mem_deliver_fn(struct outrig_pubsub_sink *sink, const struct outrig_pubsub_message *msg,
			   void (*done)(void *done_ctx, int outcome), void *done_ctx);

/* host->pubsub_deliver, or NULL when the core predates it (an ABI 1.0/1.1 host table). */
static mem_deliver_fn *mem_deliver(const struct outrig_host *host)
{
	if (host->struct_size < offsetof(struct outrig_host, pubsub_deliver) + sizeof(host->pubsub_deliver))
		return NULL;
	return host->pubsub_deliver;
}

/*
 * The core settled a message. Nothing is kept per message: a process-local broker has nothing
 * to acknowledge, and nothing survives a restart to redeliver, whatever the outcome.
 */
static void mem_done(void *ctx, int outcome)
{
	(void)ctx;
	(void)outcome;
}

static struct mem_sub *mem_subs(struct mem_broker *b)
{
	struct mem_sub *head;

	pthread_mutex_lock(&b->lock);
	head = b->subs;
	pthread_mutex_unlock(&b->lock);
	return head;
}

static int mem_publish(void *instance, const struct outrig_pubsub_publish *req, struct outrig_error *err)
{
	struct mem_broker *b = instance;
	mem_deliver_fn *deliver = mem_deliver(b->host);
	struct outrig_pubsub_message msg = {
		.topic = req->topic,
		.data = req->data,
		.data_len = req->data_len,
	};

	for (struct mem_sub *s = mem_subs(b); s != NULL; s = s->next) {
		int rc;

		if (strcmp(s->topic, req->topic) != 0)
			continue;
		if (deliver == NULL)
			return outrig_err(
				err, OUTRIG_EUNAVAIL,
				"component \"%s\": topic %s has a subscription, but this outrigd "
				"cannot take delivered messages (its host table has no pubsub_deliver)",
				b->component, req->topic);
		/* Each subscription gets its own copy; one the core refused was not published. */
		rc = deliver(s->sink, &msg, mem_done, NULL);
		if (rc != 0)
			return outrig_err(
				err, rc,
				"component \"%s\": the sidecar did not accept the message for topic %s "
				"(%s%s); it was not published to every subscription, retry it",
				b->component, req->topic, outrig_status_name(rc),
				rc == OUTRIG_EUNAVAIL
					? ": a subscription's backlog is full, as its app is not "
					  "keeping up, or outrigd is stopping"
					: "");
	}
	return OUTRIG_OK;
}

static int mem_subscribe(void *instance, const struct outrig_pubsub_subscribe *req, struct outrig_error *err)
{
	struct mem_broker *b = instance;
	size_t len = strlen(req->topic);
	struct mem_sub *s;

	if (mem_deliver(b->host) == NULL)
		return outrig_err(
			err, OUTRIG_ENOTSUP,
			"component \"%s\": this outrigd cannot deliver messages (its host table has "
			"no pubsub_deliver); upgrade outrigd to subscribe to topic %s",
			b->component, req->topic);
	s = malloc(sizeof(*s) + len + 1);
	if (s == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory subscribing to %s",
				  b->component, req->topic);
	memcpy(s->topic, req->topic, len + 1);
	s->sink = req->sink;
	pthread_mutex_lock(&b->lock);
	s->next = b->subs;
	b->subs = s;
	pthread_mutex_unlock(&b->lock);
	return OUTRIG_OK;
}

static void mem_destroy(void *instance)
{
	struct mem_broker *b = instance;
	struct mem_sub *next;

	if (b == NULL)
		return;
	for (struct mem_sub *s = b->subs; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
	pthread_mutex_destroy(&b->lock);
	free(b->component);
	free(b);
}

static int mem_create(const struct outrig_host *host, struct outrig_handle *self,
		      const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	const char *component = cfg->component != NULL ? cfg->component : "";
	struct mem_broker *b = calloc(1, sizeof(*b));

	(void)self;
	if (b == NULL || (b->component = strdup(component)) == NULL) {
		free(b);
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", component);
	}
	if (pthread_mutex_init(&b->lock, NULL) != 0) {
		free(b->component);
		free(b);
		return outrig_err(err, OUTRIG_EINTERNAL, "component \"%s\": cannot create a mutex",
				  component);
	}
	b->host = host;
	*instance = b;
	return OUTRIG_OK;
}

static const struct outrig_pubsub_ops mem_ops = {
	.struct_size = sizeof(struct outrig_pubsub_ops),
	.capabilities = 0,
	.publish = mem_publish,
	.subscribe = mem_subscribe,
};

static const char *const mem_versions[] = { "v1", NULL };

static const struct outrig_plugin mem_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "pubsub.in-memory",
	.versions = mem_versions,
	.plugin_version = PLUGIN_VERSION,
	.description =
		"in-memory pub/sub: messages reach this sidecar's own subscriptions; lost when it stops",
	.fields = NULL,
	.flags = 0,
	.create = mem_create,
	.destroy = mem_destroy,
	.pubsub = &mem_ops,
};

OUTRIG_PLUGIN(mem_plugin)
