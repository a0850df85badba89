/* SPDX-License-Identifier: Apache-2.0 */
/* Distributed tracing: W3C trace context, ids, sampling, spans and the table of held spans. */
#include "config.h"

#include "observe/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "observe/trace_internal.h"

static struct {
	bool on;
	double rate;
	uint64_t bound; /* trace id ratio: sampled when (low 64 bits >> 1) < bound */
	uint64_t rng[4];
	struct trace_counters counters;
	/* Held spans: slots reused, each with a generation so a stale token finds nothing. */
	struct trace_slot {
		struct span *sp;
		uint32_t gen;
		int64_t since_s;
	} *slots;
	uint32_t nslots, cap, free_hint;
	int64_t last_sweep_s;
} tr;

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool trace_unhex(const char *s, uint8_t *out, size_t n)
{
	bool nonzero = false;

	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
		nonzero |= out[i] != 0;
	}
	return nonzero;
}

bool trace_parse(const char *v, struct trace_ctx *out)
{
	size_t len;
	uint8_t version;

	if (v == NULL)
		return false;
	len = strlen(v);
	if (len < TRACE_PARENT_LEN - 1 || v[2] != '-' || v[35] != '-' || v[52] != '-')
		return false;
	/* Version 00 is exactly 55 characters; a later version may append "-..." fields. */
	if (hexval(v[0]) < 0 || hexval(v[1]) < 0)
		return false;
	version = (uint8_t)(hexval(v[0]) << 4 | hexval(v[1]));
	if (version == 0xff || (version == 0 && len != TRACE_PARENT_LEN - 1) ||
	    (version > 0 && len > TRACE_PARENT_LEN - 1 && v[55] != '-'))
		return false;
	if (!trace_unhex(v + 3, out->trace_id, 16) || !trace_unhex(v + 36, out->span_id, 8))
		return false;
	if (hexval(v[53]) < 0 || hexval(v[54]) < 0)
		return false;
	out->flags = (uint8_t)(hexval(v[53]) << 4 | hexval(v[54]));
	return true;
}

void trace_hex(const uint8_t *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

void trace_format(const struct trace_ctx *ctx, char *buf)
{
	memcpy(buf, "00-", 3);
	trace_hex(ctx->trace_id, 16, buf + 3);
	buf[35] = '-';
	trace_hex(ctx->span_id, 8, buf + 36);
	buf[52] = '-';
	/* Only the sampled bit is defined by version 00. */
	trace_hex((const uint8_t[]){ (uint8_t)(ctx->flags & 1) }, 1, buf + 53);
}

bool trace_state_ok(const char *ts)
{
	size_t n = 0;

	if (ts == NULL)
		return false;
	for (const char *p = ts; *p != '\0'; p++, n++)
		if (*p < 0x20 || *p > 0x7e || n >= TRACE_STATE_MAX)
			return false;
	return n > 0 && strchr(ts, '=') != NULL;
}

/* xoshiro256**: ids need to be unique, not secret; the seed is the kernel's. */
static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t trace_next(void)
{
	uint64_t *s = tr.rng, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

static void trace_seed(void)
{
	if (getrandom(tr.rng, sizeof(tr.rng), GRND_NONBLOCK) != (ssize_t)sizeof(tr.rng)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		tr.rng[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)getpid();
		tr.rng[1] = (uint64_t)ts.tv_sec ^ 0xbf58476d1ce4e5b9ull;
		tr.rng[2] = (uintptr_t)&tr ^ 0x94d049bb133111ebull;
		tr.rng[3] = 0x2545f4914f6cdd1dull;
	}
	if ((tr.rng[0] | tr.rng[1] | tr.rng[2] | tr.rng[3]) == 0)
		tr.rng[0] = 1;
}

static void trace_fill(uint8_t *out, size_t n)
{
	while (n > 0) {
		uint64_t r = trace_next();
		size_t k = n < 8 ? n : 8;

		memcpy(out, &r, k);
		out += k;
		n -= k;
	}
}

static void trace_new_id(uint8_t *out, size_t n)
{
	do
		trace_fill(out, n);
	while (out[0] == 0 && memcmp(out, out + 1, n - 1) == 0);
}

static int64_t trace_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int trace_start(struct event_base *base, const struct trace_settings *s, const char *service, char *err,
		size_t errlen)
{
	trace_seed();
	if (s == NULL || !s->enabled)
		return 0;
	tr.rate = s->rate < 0 ? 0 : s->rate > 1 ? 1 : s->rate;
	tr.bound = tr.rate >= 1 ? UINT64_MAX : (uint64_t)(tr.rate * 9223372036854775808.0);
	if (trace_export_start(base, s, service, &tr.counters, err, errlen) != 0)
		return -1;
	tr.on = true;
	return 0;
}

bool trace_enabled(void)
{
	return tr.on;
}

static bool trace_ratio_sampled(const uint8_t *trace_id)
{
	uint64_t x = 0;

	if (tr.bound == UINT64_MAX)
		return true;
	for (int i = 8; i < 16; i++)
		x = x << 8 | trace_id[i];
	return (x >> 1) < tr.bound;
}

struct span *trace_begin(const struct trace_ctx *parent, const char *name, enum trace_kind kind,
			 struct trace_ctx *child)
{
	struct span *sp;
	bool sampled;

	if (tr.rng[0] == 0 && tr.rng[1] == 0)
		trace_seed();
	if (parent != NULL) {
		memcpy(child->trace_id, parent->trace_id, 16);
		sampled = (parent->flags & 1) != 0;
	} else {
		trace_new_id(child->trace_id, 16);
		sampled = tr.on && trace_ratio_sampled(child->trace_id);
	}
	trace_new_id(child->span_id, 8);
	sampled = sampled && tr.on && tr.rate > 0;
	child->flags = sampled ? 1 : 0;
	if (!sampled)
		return NULL;
	sp = malloc(sizeof(*sp));
	if (sp == NULL) {
		child->flags = 0;
		return NULL;
	}
	sp->ctx = *child;
	sp->has_parent = parent != NULL;
	if (parent != NULL)
		memcpy(sp->parent, parent->span_id, 8);
	sp->error = false;
	sp->kind = (uint8_t)kind;
	sp->nattrs = 0;
	sp->used = 0;
	sp->start_us = trace_now_us();
	sp->end_us = 0;
	sp->next = NULL;
	snprintf(sp->name, sizeof(sp->name), "%s", name);
	tr.counters.started++;
	return sp;
}

void trace_rename(struct span *sp, const char *name)
{
	if (sp != NULL)
		snprintf(sp->name, sizeof(sp->name), "%s", name);
}

void trace_attr(struct span *sp, const char *key, const char *value)
{
	size_t kl, vl;

	if (sp == NULL || key == NULL || value == NULL || sp->nattrs >= SPAN_ATTRS_MAX)
		return;
	kl = strlen(key) + 1;
	vl = strlen(value) + 1;
	if (sp->used + kl + vl > SPAN_ROOM) {
		/* A long value (a path) is cut rather than lost. */
		if (sp->used + kl + 2 > SPAN_ROOM)
			return;
		vl = SPAN_ROOM - sp->used - kl;
	}
	sp->key_off[sp->nattrs] = sp->used;
	memcpy(sp->room + sp->used, key, kl);
	sp->used = (uint16_t)(sp->used + kl);
	sp->val_off[sp->nattrs] = sp->used;
	memcpy(sp->room + sp->used, value, vl - 1);
	sp->room[sp->used + vl - 1] = '\0';
	sp->used = (uint16_t)(sp->used + vl);
	sp->nattrs++;
}

void trace_end(struct span *sp, bool error)
{
	if (sp == NULL)
		return;
	sp->end_us = trace_now_us();
	sp->error = error;
	trace_export_push(sp);
}

void trace_discard(struct span *sp)
{
	free(sp);
}

static void trace_sweep(int64_t now_s)
{
	tr.last_sweep_s = now_s;
	for (uint32_t i = 0; i < tr.nslots; i++) {
		struct trace_slot *s = &tr.slots[i];

		if (s->sp != NULL && now_s - s->since_s > TRACE_HOLD_MAX_S) {
			free(s->sp);
			s->sp = NULL;
			s->gen++;
			tr.counters.abandoned++;
			if (i < tr.free_hint)
				tr.free_hint = i;
		}
	}
}

void *trace_hold(struct span *sp)
{
	int64_t now_s = trace_now_us() / 1000000;
	uint32_t i;

	if (sp == NULL)
		return NULL;
	if (now_s - tr.last_sweep_s >= 60)
		trace_sweep(now_s);
	for (i = tr.free_hint; i < tr.nslots && tr.slots[i].sp != NULL; i++)
		;
	if (i == tr.nslots) {
		if (tr.nslots == tr.cap) {
			uint32_t cap = tr.cap ? tr.cap * 2 : 64;
			struct trace_slot *grown;

			/* Tokens carry 24 bits of index. */
			if (cap > (1u << 24) || (grown = realloc(tr.slots, cap * sizeof(*grown))) == NULL) {
				free(sp);
				tr.counters.dropped++;
				return NULL;
			}
			memset(grown + tr.cap, 0, (cap - tr.cap) * sizeof(*grown));
			tr.slots = grown;
			tr.cap = cap;
		}
		tr.nslots++;
	}
	tr.slots[i].sp = sp;
	tr.slots[i].since_s = now_s;
	tr.free_hint = i + 1;
	/* Index + 1 in the low 24 bits (never NULL), generation above. */
	return (void *)(uintptr_t)(((uint64_t)(tr.slots[i].gen & 0xffffff) << 24) | (i + 1));
}

struct span *trace_release(void *token)
{
	uint64_t t = (uintptr_t)token;
	uint32_t i = (uint32_t)(t & 0xffffff), gen = (uint32_t)(t >> 24);
	struct span *sp;

	if (i == 0 || i > tr.nslots)
		return NULL;
	i--;
	if ((tr.slots[i].gen & 0xffffff) != gen || tr.slots[i].sp == NULL)
		return NULL;
	sp = tr.slots[i].sp;
	tr.slots[i].sp = NULL;
	tr.slots[i].gen++;
	if (i < tr.free_hint)
		tr.free_hint = i;
	return sp;
}

static struct {
	bool set;
	struct trace_ctx ctx;
} cur;

void trace_set_current(const struct trace_ctx *ctx)
{
	cur.set = ctx != NULL && (ctx->flags & 1) != 0 && tr.on;
	if (cur.set)
		cur.ctx = *ctx;
}

const struct trace_ctx *trace_current(void)
{
	return cur.set ? &cur.ctx : NULL;
}

struct trace_counters trace_counters(void)
{
	return tr.counters;
}

void trace_flush(void)
{
	if (tr.on)
		trace_export_flush();
}

size_t trace_unsent(void)
{
	return tr.on ? trace_export_unsent() : 0;
}

void trace_stop(void)
{
	trace_export_stop();
	for (uint32_t i = 0; i < tr.nslots; i++)
		free(tr.slots[i].sp);
	free(tr.slots);
	tr.slots = NULL;
	tr.nslots = tr.cap = tr.free_hint = 0;
	tr.on = false;
}
