/* SPDX-License-Identifier: Apache-2.0 */
/* state.example: a complete state plugin to copy, keeping keys in memory with etags, TTLs and transactions. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

/* One stored key. Values are kept verbatim: the core hands JSON text and wants it back as given. */
struct ex_item {
	char *key;
	void *value;
	size_t len;
	uint64_t etag;
	int64_t expire_unix_ms; /* 0 = never */
	struct ex_item *next;
};

struct ex_store {
	const struct outrig_host *host;
	struct outrig_handle *self;
	pthread_mutex_t lock; /* operations of one instance may run at once: the plugin is not SERIAL */
	struct ex_item *items;
	size_t count;
	int64_t max_items;
	uint64_t next_etag;
};

static const char *const ex_versions[] = { "v1", NULL };

static const struct outrig_field ex_fields[] = {
	{ .name = "maxItems",
	  .type = OUTRIG_FIELD_INT,
	  .default_value = "10000",
	  .description = "most keys the store holds; a save past it fails" },
	{ .name = "sweepInterval",
	  .type = OUTRIG_FIELD_DURATION,
	  .default_value = "10s",
	  .description = "how often expired keys are removed" },
	{ .name = NULL },
};

/* One parser for check() and create(), so that --check refuses exactly what start-up would. */
static int ex_parse(const struct outrig_config *cfg, int64_t *max_items, int64_t *sweep_ms,
		    struct outrig_error *err)
{
	*max_items = outrig_config_int(cfg, "maxItems", 10000);
	*sweep_ms = outrig_config_int(cfg, "sweepInterval", 10000);
	if (*max_items <= 0)
		return outrig_err(err, OUTRIG_EINVAL,
				  "maxItems is %" PRId64 "; give a positive number of keys", *max_items);
	if (*sweep_ms < 100)
		return outrig_err(err, OUTRIG_EINVAL, "sweepInterval is %" PRId64 "ms; give at least 100ms",
				  *sweep_ms);
	return 0;
}

static struct ex_item **ex_find(struct ex_store *s, const char *key)
{
	struct ex_item **at = &s->items;

	while (*at != NULL && strcmp((*at)->key, key) != 0)
		at = &(*at)->next;
	return at;
}

static void ex_free_item(struct ex_item *it)
{
	free(it->key);
	free(it->value);
	free(it);
}

static void ex_remove(struct ex_store *s, struct ex_item **at)
{
	struct ex_item *it = *at;

	*at = it->next;
	ex_free_item(it);
	s->count--;
}

static bool ex_expired(const struct ex_store *s, const struct ex_item *it)
{
	return it->expire_unix_ms != 0 && it->expire_unix_ms <= s->host->now_unix_ms();
}

/* The live item of key, or NULL; an expired one is removed on the way. Lock held. */
static struct ex_item **ex_live(struct ex_store *s, const char *key)
{
	struct ex_item **at = ex_find(s, key);

	if (*at != NULL && ex_expired(s, *at)) {
		ex_remove(s, at);
		at = ex_find(s, key);
	}
	return at;
}

/* Etags are decimal numbers this store issued; anything else cannot match. */
static int ex_parse_etag(const char *etag, uint64_t *out, struct outrig_error *err)
{
	char *end;

	*out = strtoull(etag, &end, 10);
	if (*etag == '\0' || *end != '\0')
		return outrig_err(err, OUTRIG_EBADETAG, "etag \"%s\" is not one this store issued", etag);
	return 0;
}

/* Whether a write or delete of key may go ahead under Dapr's etag and first-write rules. Lock held. */
static int ex_allowed(struct ex_store *s, const char *key, const char *etag,
		      enum outrig_concurrency concurrency, bool deleting, struct outrig_error *err)
{
	struct ex_item *it = *ex_live(s, key);
	uint64_t want;
	int rc;

	if (etag != NULL) {
		if ((rc = ex_parse_etag(etag, &want, err)) != 0)
			return rc;
		if (it == NULL || it->etag != want)
			return outrig_err(err, OUTRIG_ECONFLICT, "etag mismatch for key %s", key);
		return 0;
	}
	if (!deleting && concurrency == OUTRIG_FIRST_WRITE && it != NULL)
		return outrig_err(err, OUTRIG_ECONFLICT, "key %s exists and first-write asks for no etag",
				  key);
	return 0;
}

/* Writes one key; its conditions were checked. Lock held. */
static int ex_put(struct ex_store *s, const struct outrig_state_set *req, struct outrig_error *err)
{
	struct ex_item **at = ex_live(s, req->key), *it = *at;
	void *copy = malloc(req->value_len > 0 ? req->value_len : 1);

	if (copy == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory storing key %s", req->key);
	memcpy(copy, req->value, req->value_len);
	if (it == NULL) {
		if ((int64_t)s->count >= s->max_items) {
			free(copy);
			return outrig_err(err, OUTRIG_EUNAVAIL,
					  "the store holds maxItems (%" PRId64
					  ") keys; delete some or raise maxItems",
					  s->max_items);
		}
		it = calloc(1, sizeof(*it));
		if (it == NULL || (it->key = strdup(req->key)) == NULL) {
			free(it);
			free(copy);
			return outrig_err(err, OUTRIG_ENOMEM, "out of memory storing key %s", req->key);
		}
		*at = it;
		s->count++;
	}
	free(it->value);
	it->value = copy;
	it->len = req->value_len;
	it->etag = ++s->next_etag;
	it->expire_unix_ms = outrig_state_expiry(req, s->host->now_unix_ms());
	return 0;
}

static int ex_get(void *instance, const struct outrig_state_get *req, struct outrig_state_value *out,
		  struct outrig_error *err)
{
	struct ex_store *s = instance;
	struct ex_item *it;
	char etag[24];
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	it = *ex_live(s, req->key);
	out->found = it != NULL;
	if (it != NULL) {
		snprintf(etag, sizeof(etag), "%" PRIu64, it->etag);
		if (s->host->bytes_set(&out->data, it->value, it->len) != 0 ||
		    s->host->bytes_set(&out->etag, etag, strlen(etag)) != 0)
			rc = outrig_err(err, OUTRIG_ENOMEM, "out of memory reading key %s", req->key);
		out->expire_unix_ms = it->expire_unix_ms;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int ex_set(void *instance, const struct outrig_state_set *req, struct outrig_error *err)
{
	struct ex_store *s = instance;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = ex_allowed(s, req->key, req->etag, req->concurrency, false, err);
	if (rc == 0)
		rc = ex_put(s, req, err);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int ex_delete(void *instance, const struct outrig_state_delete *req, struct outrig_error *err)
{
	struct ex_store *s = instance;
	struct ex_item **at;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = ex_allowed(s, req->key, req->etag, req->concurrency, true, err);
	if (rc == 0 && *(at = ex_live(s, req->key)) != NULL)
		ex_remove(s, at);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* All or nothing: every condition is checked before anything is written, under one lock. */
static int ex_transact(void *instance, const struct outrig_state_op *ops, size_t count,
		       const struct outrig_metadata *metadata, struct outrig_error *err)
{
	struct ex_store *s = instance;
	size_t fresh = 0;
	int rc = 0;

	(void)metadata;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < count && rc == 0; i++) {
		const struct outrig_state_op *op = &ops[i];

		if (op->kind == OUTRIG_STATE_UPSERT) {
			rc = ex_allowed(s, op->u.set.key, op->u.set.etag, op->u.set.concurrency, false, err);
			fresh += *ex_live(s, op->u.set.key) == NULL;
		} else {
			rc = ex_allowed(s, op->u.delete.key, op->u.delete.etag, op->u.delete.concurrency,
					true, err);
		}
	}
	/* Room for every new key up front, so no write can fail half-way for want of it. */
	if (rc == 0 && (int64_t)(s->count + fresh) > s->max_items)
		rc = outrig_err(err, OUTRIG_EUNAVAIL, "the transaction would pass maxItems (%" PRId64 ")",
				s->max_items);
	for (size_t i = 0; i < count && rc == 0; i++) {
		struct ex_item **at;

		if (ops[i].kind == OUTRIG_STATE_UPSERT)
			rc = ex_put(s, &ops[i].u.set, err);
		else if (*(at = ex_live(s, ops[i].u.delete.key)) != NULL)
			ex_remove(s, at);
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Housekeeping on the component's lane: expired keys go even when nobody reads them. */
static void ex_sweep(void *instance)
{
	struct ex_store *s = instance;

	pthread_mutex_lock(&s->lock);
	for (struct ex_item **at = &s->items; *at != NULL;) {
		if (ex_expired(s, *at))
			ex_remove(s, at);
		else
			at = &(*at)->next;
	}
	pthread_mutex_unlock(&s->lock);
}

static int ex_check(const struct outrig_host *host, struct outrig_handle *self,
		    const struct outrig_config *cfg, struct outrig_error *err)
{
	int64_t max_items, sweep_ms;

	(void)host;
	(void)self;
	return ex_parse(cfg, &max_items, &sweep_ms, err);
}

static int ex_create(const struct outrig_host *host, struct outrig_handle *self,
		     const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	struct ex_store *s;
	int64_t max_items, sweep_ms;
	int rc = ex_parse(cfg, &max_items, &sweep_ms, err);

	if (rc != 0)
		return rc;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "out of memory");
	s->host = host;
	s->self = self;
	s->max_items = max_items;
	pthread_mutex_init(&s->lock, NULL);
	if ((rc = host->every(self, sweep_ms, ex_sweep)) != 0) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return outrig_err(err, rc, "cannot start the expiry sweep");
	}
	host->log(self, OUTRIG_LOG_DEBUG, "holding up to %" PRId64 " keys", max_items);
	*instance = s;
	return 0;
}

static void ex_destroy(void *instance)
{
	struct ex_store *s = instance;

	while (s->items != NULL)
		ex_remove(s, &s->items);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct outrig_state_ops ex_state = {
	.struct_size = sizeof(struct outrig_state_ops),
	.features = OUTRIG_STATE_ETAG | OUTRIG_STATE_TRANSACTIONAL | OUTRIG_STATE_TTL,
	.get = ex_get,
	.set = ex_set,
	.delete = ex_delete,
	.transact = ex_transact,
};

static const struct outrig_plugin ex_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "state.example",
	.versions = ex_versions,
	.plugin_version = "1.0.0",
	.description = "example state store in memory (the outrig SDK's example plugin)",
	.fields = ex_fields,
	.create = ex_create,
	.destroy = ex_destroy,
	.check = ex_check,
	.state = &ex_state,
};

OUTRIG_PLUGIN(ex_plugin)
