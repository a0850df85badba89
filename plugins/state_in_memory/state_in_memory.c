/* SPDX-License-Identifier: Apache-2.0 */
/* state.in-memory: a thread-safe hash table state store with etags, TTLs and atomic transactions. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <outrig/plugin.h>

#define MEM_MIN_BUCKETS 64
/* The build passes the package version; an out-of-tree build may not. */
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.1.0"
#endif
/* Longest decimal rendering of a uint64_t, plus the terminator. */
#define MEM_ETAG_MAX 21

struct mem_entry {
	struct mem_entry *next;
	uint64_t hash;
	uint64_t etag;
	int64_t expire_ms; /* wall clock; 0 = never */
	size_t value_len;
	char *value; /* points into this allocation, after key */
	char key[];
};

struct mem_store {
	const struct outrig_host *host;
	struct outrig_handle *self;
	char *component;

	/*
	 * One plain mutex rather than an rwlock: every critical section is a lookup and a
	 * copy, and reads may unlink expired entries, so readers would need the write side
	 * anyway; a mutex also cannot starve writers.
	 */
	pthread_mutex_t lock;
	struct mem_entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	size_t ttl_count;   /* entries with an expiry: the sweep skips its scan when 0 */
	uint64_t last_etag; /* etags are never reused, so a stale one can never match */
};

/*
 * One operation of a write. Everything that can fail, but a conflict, is worked out
 * before the lock is taken, and what the operation displaced is kept until the whole
 * batch has succeeded, so that a conflict can put it back.
 */
struct mem_plan {
	uint64_t hash;
	bool has_etag;
	uint64_t etag;
	struct mem_entry *fresh; /* UPSERT: the entry that replaces the key's */
	struct mem_entry *old;	 /* the entry this operation took out, if any */
};

static const struct outrig_field mem_fields[] = {
	{ .name = "cleanupInterval",
	  .type = OUTRIG_FIELD_DURATION,
	  .default_value = "10s",
	  .description =
		  "how often expired keys are freed (reads never see them anyway); 0 or negative disables" },
	{ .name = NULL },
};

/* FNV-1a: short, good enough spread for text keys, no dependency. */
static uint64_t mem_hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	return h;
}

static bool mem_live(const struct mem_entry *e, int64_t now)
{
	return e->expire_ms == 0 || e->expire_ms > now;
}

/* The link that points at key's entry (or the NULL link ending its chain), for unlinking. */
static struct mem_entry **mem_link(struct mem_store *s, const char *key, uint64_t hash)
{
	struct mem_entry **link = &s->buckets[hash & (s->nbuckets - 1)];

	while (*link != NULL && ((*link)->hash != hash || strcmp((*link)->key, key) != 0))
		link = &(*link)->next;
	return link;
}

/* Takes the entry at link out of its chain, keeping it; link then holds its successor. */
static struct mem_entry *mem_detach(struct mem_store *s, struct mem_entry **link)
{
	struct mem_entry *e = *link;

	*link = e->next;
	s->count--;
	if (e->expire_ms != 0)
		s->ttl_count--;
	return e;
}

/* Puts e into a chain at link (as returned by mem_link for e's key). */
static void mem_attach(struct mem_store *s, struct mem_entry **link, struct mem_entry *e)
{
	e->next = *link;
	*link = e;
	s->count++;
	if (e->expire_ms != 0)
		s->ttl_count++;
}

/* Doubles the table. Failing to is harmless: chains just grow longer. */
static void mem_grow(struct mem_store *s)
{
	size_t n = s->nbuckets * 2;
	struct mem_entry **b = calloc(n, sizeof(*b));

	if (b == NULL)
		return;
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct mem_entry *e = s->buckets[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = n;
}

static struct mem_entry *mem_entry_new(const char *key, uint64_t hash, const void *value, size_t value_len,
				       int64_t expire_ms)
{
	size_t key_len = strlen(key);
	struct mem_entry *e;

	if (value_len > SIZE_MAX - sizeof(*e) - key_len - 1)
		return NULL;
	e = malloc(sizeof(*e) + key_len + 1 + value_len);
	if (e == NULL)
		return NULL;
	e->next = NULL;
	e->hash = hash;
	e->etag = 0;
	e->expire_ms = expire_ms;
	e->value_len = value_len;
	memcpy(e->key, key, key_len + 1);
	e->value = e->key + key_len + 1;
	if (value_len > 0)
		memcpy(e->value, value, value_len);
	return e;
}

/* An empty etag counts as none, as in Dapr's stores (an empty If-Match sends one). */
static bool mem_given(const char *etag)
{
	return etag != NULL && etag[0] != '\0';
}

static int mem_parse_etag(const struct mem_store *s, const char *key, const char *text, uint64_t *etag,
			  struct outrig_error *err)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0)
		return outrig_err(err, OUTRIG_EBADETAG,
				  "component \"%s\": etag \"%s\" for key \"%s\" was not issued by this "
				  "store (its etags are decimal numbers); send the ETag a read returned",
				  s->component, text, key);
	*etag = v;
	return OUTRIG_OK;
}

static const char *mem_op_key(const struct outrig_state_op *op)
{
	return op->kind == OUTRIG_STATE_UPSERT ? op->u.set.key : op->u.delete.key;
}

static const char *mem_op_etag(const struct outrig_state_op *op)
{
	return op->kind == OUTRIG_STATE_UPSERT ? op->u.set.etag : op->u.delete.etag;
}

/* Everything that can fail without the lock: etag syntax, TTL range, allocation. */
static int mem_prepare(struct mem_store *s, const struct outrig_state_op *op, int64_t now,
		       struct mem_plan *plan, struct outrig_error *err)
{
	const char *key = mem_op_key(op), *etag = mem_op_etag(op);
	int64_t expire_ms;
	int rc;

	if (key == NULL)
		return outrig_err(err, OUTRIG_EINVAL, "component \"%s\": a state operation has no key",
				  s->component);
	plan->hash = mem_hash(key);
	plan->has_etag = mem_given(etag);
	if (plan->has_etag) {
		rc = mem_parse_etag(s, key, etag, &plan->etag, err);
		if (rc != OUTRIG_OK)
			return rc;
	}
	if (op->kind != OUTRIG_STATE_UPSERT)
		return OUTRIG_OK;
	expire_ms = outrig_state_expiry(&op->u.set, now);
	if (op->u.set.value_len > 0 && op->u.set.value == NULL)
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": key \"%s\" has a length but no value", s->component,
				  key);
	plan->fresh = mem_entry_new(key, plan->hash, op->u.set.value, op->u.set.value_len, expire_ms);
	if (plan->fresh == NULL)
		return outrig_err(err, OUTRIG_ENOMEM,
				  "component \"%s\": out of memory storing %zu bytes for key \"%s\"; "
				  "store less or give the sidecar more memory",
				  s->component, op->u.set.value_len, key);
	return OUTRIG_OK;
}

enum mem_clash {
	MEM_GONE,    /* an etag was given but the key is absent or expired */
	MEM_CHANGED, /* an etag was given and the key has another */
	MEM_EXISTS,  /* first-write without an etag, and the key is there */
};

static int mem_conflict(const struct mem_store *s, size_t index, size_t count, const char *key,
			enum mem_clash why, struct outrig_error *err)
{
	static const char *const reason[] = {
		[MEM_GONE] = "the etag does not match: the key does not exist or has expired; "
			     "save it without an etag to create it",
		[MEM_CHANGED] = "the etag does not match: the key changed since you read it; "
				"read it again for the current etag",
		[MEM_EXISTS] = "the key already exists and first-write concurrency does not "
			       "overwrite it; send its etag to update it",
	};
	char where[64] = "";

	if (count > 1)
		snprintf(where, sizeof(where), " (operation %zu of the transaction)", index + 1);
	return outrig_err(err, OUTRIG_ECONFLICT, "component \"%s\": key \"%s\"%s: %s", s->component, key,
			  where, reason[why]);
}

/*
 * Applies ops in order, each checked against the table as the earlier ones left it. On
 * a conflict, undoes what was applied, newest first, so that nobody (the lock is held
 * throughout) ever sees part of a batch. Linear in the batch, however many ops touch
 * one key.
 */
static int mem_run(struct mem_store *s, const struct outrig_state_op *ops, struct mem_plan *plans,
		   size_t count, int64_t now, struct outrig_error *err)
{
	int rc = OUTRIG_OK;
	size_t i;

	for (i = 0; i < count; i++) {
		const char *key = mem_op_key(&ops[i]);
		struct mem_entry **link = mem_link(s, key, plans[i].hash);
		bool exists = *link != NULL && mem_live(*link, now);

		if (plans[i].has_etag && (!exists || (*link)->etag != plans[i].etag))
			rc = mem_conflict(s, i, count, key, exists ? MEM_CHANGED : MEM_GONE, err);
		else if (!plans[i].has_etag && exists && ops[i].kind == OUTRIG_STATE_UPSERT &&
			 ops[i].u.set.concurrency == OUTRIG_FIRST_WRITE)
			rc = mem_conflict(s, i, count, key, MEM_EXISTS, err);
		if (rc != OUTRIG_OK)
			break;
		/* Expired or not, whatever was there goes. */
		if (*link != NULL)
			plans[i].old = mem_detach(s, link);
		if (plans[i].fresh != NULL) {
			plans[i].fresh->etag = ++s->last_etag;
			mem_attach(s, link, plans[i].fresh);
		}
	}

	if (rc == OUTRIG_OK) {
		for (i = 0; i < count; i++) {
			free(plans[i].old);
			plans[i].old = NULL;
			plans[i].fresh = NULL; /* the table's now */
		}
		if (s->count > s->nbuckets)
			mem_grow(s);
		return OUTRIG_OK;
	}

	/* Etags handed out above are not taken back: they were never seen. */
	while (i-- > 0) {
		struct mem_entry **link = mem_link(s, mem_op_key(&ops[i]), plans[i].hash);

		if (plans[i].fresh != NULL)
			mem_detach(s, link); /* is fresh: later ops are undone already */
		if (plans[i].old != NULL)
			mem_attach(s, link, plans[i].old);
		plans[i].old = NULL;
	}
	return rc;
}

/* One path for set, delete and transact, so all three honour etags the same way. */
static int mem_apply(struct mem_store *s, const struct outrig_state_op *ops, size_t count,
		     struct outrig_error *err)
{
	struct mem_plan one, *plans = &one;
	int64_t now = s->host->now_unix_ms();
	int rc = OUTRIG_OK;

	if (count == 0)
		return OUTRIG_OK;
	if (count > 1) {
		plans = calloc(count, sizeof(*plans));
		if (plans == NULL)
			return outrig_err(err, OUTRIG_ENOMEM,
					  "component \"%s\": out of memory for a transaction of %zu "
					  "operations; send fewer at once",
					  s->component, count);
	} else {
		memset(&one, 0, sizeof(one));
	}
	for (size_t i = 0; i < count && rc == OUTRIG_OK; i++)
		rc = mem_prepare(s, &ops[i], now, &plans[i], err);

	if (rc == OUTRIG_OK) {
		pthread_mutex_lock(&s->lock);
		rc = mem_run(s, ops, plans, count, now, err);
		pthread_mutex_unlock(&s->lock);
	}

	for (size_t i = 0; i < count; i++)
		free(plans[i].fresh); /* only what a failed batch left unused */
	if (plans != &one)
		free(plans);
	return rc;
}

static int mem_get(void *instance, const struct outrig_state_get *req, struct outrig_state_value *out,
		   struct outrig_error *err)
{
	struct mem_store *s = instance;
	const struct outrig_host *host = s->host;
	int64_t now = host->now_unix_ms();
	uint64_t hash = mem_hash(req->key);
	char etag[MEM_ETAG_MAX];
	struct mem_entry **link, *e;
	int rc = OUTRIG_OK;

	out->found = false;
	out->expire_unix_ms = 0;
	pthread_mutex_lock(&s->lock);
	link = mem_link(s, req->key, hash);
	e = *link;
	if (e != NULL && !mem_live(e, now)) {
		free(mem_detach(s, link)); /* lazy expiry: free it now, not at the next sweep */
		e = NULL;
	}
	if (e != NULL) {
		snprintf(etag, sizeof(etag), "%" PRIu64, e->etag);
		/* Copied under the lock: a concurrent write frees the entry. */
		if (host->bytes_set(&out->data, e->value_len > 0 ? e->value : "", e->value_len) != 0 ||
		    host->bytes_set(&out->etag, etag, strlen(etag)) != 0)
			rc = outrig_err(err, OUTRIG_ENOMEM,
					"component \"%s\": out of memory copying %zu bytes of key \"%s\"; "
					"give the sidecar more memory",
					s->component, e->value_len, req->key);
		out->found = rc == OUTRIG_OK;
		out->expire_unix_ms = e->expire_ms;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int mem_set(void *instance, const struct outrig_state_set *req, struct outrig_error *err)
{
	struct outrig_state_op op = { .kind = OUTRIG_STATE_UPSERT, .u.set = *req };

	return mem_apply(instance, &op, 1, err);
}

static int mem_delete(void *instance, const struct outrig_state_delete *req, struct outrig_error *err)
{
	struct outrig_state_op op = { .kind = OUTRIG_STATE_DELETE, .u.delete = *req };

	return mem_apply(instance, &op, 1, err);
}

static int mem_transact(void *instance, const struct outrig_state_op *ops, size_t count,
			const struct outrig_metadata *metadata, struct outrig_error *err)
{
	(void)metadata; /* nothing in Dapr's transaction metadata concerns memory */
	return mem_apply(instance, ops, count, err);
}

/* Frees expired entries that no read has touched, so TTL'd data does not pile up. */
static void mem_sweep(void *instance)
{
	struct mem_store *s = instance;
	int64_t now = s->host->now_unix_ms();
	size_t freed = 0;

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < s->nbuckets && s->ttl_count > 0; i++) {
		struct mem_entry **link = &s->buckets[i];

		while (*link != NULL) {
			if (mem_live(*link, now)) {
				link = &(*link)->next;
				continue;
			}
			free(mem_detach(s, link));
			freed++;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (freed > 0)
		s->host->log(s->self, OUTRIG_LOG_DEBUG, "freed %zu expired keys", freed);
}

static void mem_free(struct mem_store *s)
{
	if (s->buckets != NULL) {
		for (size_t i = 0; i < s->nbuckets; i++) {
			struct mem_entry *e = s->buckets[i], *next;

			for (; e != NULL; e = next) {
				next = e->next;
				free(e);
			}
		}
	}
	free(s->buckets);
	free(s->component);
	free(s);
}

static int mem_create(const struct outrig_host *host, struct outrig_handle *self,
		      const struct outrig_config *cfg, void **instance, struct outrig_error *err)
{
	const char *component = cfg->component != NULL ? cfg->component : "";
	int64_t interval_ms = outrig_config_int(cfg, "cleanupInterval", 10000);
	struct mem_store *s;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", component);
	s->host = host;
	s->self = self;
	s->nbuckets = MEM_MIN_BUCKETS;
	s->component = strdup(component);
	s->buckets = calloc(s->nbuckets, sizeof(*s->buckets));
	if (s->component == NULL || s->buckets == NULL) {
		mem_free(s);
		return outrig_err(err, OUTRIG_ENOMEM, "component \"%s\": out of memory", component);
	}
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		mem_free(s);
		return outrig_err(err, OUTRIG_EINTERNAL, "component \"%s\": cannot create a mutex",
				  component);
	}
	if (interval_ms > 0 && host->every(self, interval_ms, mem_sweep) != 0) {
		pthread_mutex_destroy(&s->lock);
		mem_free(s);
		return outrig_err(err, OUTRIG_EINVAL,
				  "component \"%s\": the sidecar refused a cleanupInterval of %" PRId64
				  " ms; use a shorter positive duration, or 0 to disable the sweep",
				  component, interval_ms);
	}
	*instance = s;
	return OUTRIG_OK;
}

static void mem_destroy(void *instance)
{
	struct mem_store *s = instance;

	if (s == NULL)
		return;
	pthread_mutex_destroy(&s->lock);
	mem_free(s);
}

static const struct outrig_state_ops mem_ops = {
	.struct_size = sizeof(struct outrig_state_ops),
	.features = OUTRIG_STATE_ETAG | OUTRIG_STATE_TRANSACTIONAL | OUTRIG_STATE_TTL,
	.get = mem_get,
	.set = mem_set,
	.delete = mem_delete,
	.transact = mem_transact,
};

static const char *const mem_versions[] = { "v1", NULL };

static const struct outrig_plugin mem_plugin = {
	OUTRIG_PLUGIN_HEADER,
	.type = "state.in-memory",
	.versions = mem_versions,
	.plugin_version = PLUGIN_VERSION,
	.description = "in-memory state store: etags, TTLs and transactions; lost when the sidecar stops",
	.fields = mem_fields,
	.flags = 0,
	.create = mem_create,
	.destroy = mem_destroy,
	.state = &mem_ops,
};

OUTRIG_PLUGIN(mem_plugin)
