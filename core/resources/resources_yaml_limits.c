/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a YAML file for yaml_parser_load within bounds: size, nesting depth and alias expansion. */
#include "config.h"

#include "resources/resources_yaml_limits.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* What a node expands to when its aliases are followed. */
struct ryl_size {
	size_t nodes;
	size_t bytes;
	size_t height; /* levels, 1 for a scalar */
};

/* An open collection. */
struct ryl_frame {
	struct ryl_size size;
	long anchor; /* index into anchors, or -1 */
};

struct ryl_anchor {
	char *name;
	struct ryl_size size;
	bool open; /* still being read: an alias to it would contain itself */
};

/* The state of the scan over one document. */
struct ryl_scan {
	const char *path;
	struct diag *d;
	struct ryl_frame frames[RES_YAML_MAX_DEPTH_LEVELS + 1];
	size_t depth;
	struct ryl_size root;
	struct ryl_anchor anchors[RES_YAML_MAX_ANCHORS];
	size_t nanchors;
	size_t aliases;
	struct ryl_size expanded; /* added by aliases */
};

static void ryl_reset(struct ryl_scan *s)
{
	for (size_t i = 0; i < s->nanchors; i++)
		free(s->anchors[i].name);
	s->nanchors = 0;
	s->depth = 0;
	s->aliases = 0;
	memset(&s->root, 0, sizeof(s->root));
	memset(&s->expanded, 0, sizeof(s->expanded));
}

static bool ryl_fail(struct ryl_scan *s, const yaml_mark_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Reports "path:line:column: message"; returns false for "return ryl_fail(...)". */
static bool ryl_fail(struct ryl_scan *s, const yaml_mark_t *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(s->d, "%s:%zu:%zu: %s", s->path, at->line + 1, at->column + 1, msg);
	return false;
}

/* Adds a finished node to the collection it is in (or to the document). */
static void ryl_add(struct ryl_scan *s, const struct ryl_size *n)
{
	struct ryl_size *to = s->depth > 0 ? &s->frames[s->depth - 1].size : &s->root;

	to->nodes += n->nodes;
	to->bytes += n->bytes;
	if (n->height > to->height)
		to->height = n->height;
}

/* Registers an anchor; false after reporting. libyaml's own lookup is linear too. */
static bool ryl_anchor(struct ryl_scan *s, const yaml_mark_t *at, const yaml_char_t *name, bool open,
		       const struct ryl_size *size, long *index)
{
	*index = -1;
	if (name == NULL)
		return true;
	if (s->nanchors == RES_YAML_MAX_ANCHORS) {
		return ryl_fail(s, at,
				"more than %d anchors (&name) in one document, the most outrig reads; "
				"write the repeated values out, or split the file",
				RES_YAML_MAX_ANCHORS);
	}
	s->anchors[s->nanchors].name = strdup((const char *)name);
	if (s->anchors[s->nanchors].name == NULL) {
		diag_error(s->d, "%s: out of memory while reading it", s->path);
		return false;
	}
	s->anchors[s->nanchors].open = open;
	if (size != NULL)
		s->anchors[s->nanchors].size = *size;
	*index = (long)s->nanchors++;
	return true;
}

static bool ryl_too_deep(struct ryl_scan *s, const yaml_mark_t *at, size_t levels)
{
	if (levels <= RES_YAML_MAX_DEPTH_LEVELS)
		return false;
	ryl_fail(s, at,
		 "nested more than %d levels deep (counting what aliases expand to), the most outrig "
		 "reads; Dapr resources need far fewer: flatten the document",
		 RES_YAML_MAX_DEPTH_LEVELS);
	return true;
}

static bool ryl_alias(struct ryl_scan *s, const yaml_event_t *ev)
{
	const yaml_mark_t *at = &ev->start_mark;
	const char *name = (const char *)ev->data.alias.anchor;
	struct ryl_anchor *a = NULL;

	if (++s->aliases > RES_YAML_MAX_ALIASES) {
		return ryl_fail(s, at,
				"more than %d aliases (*name) in one document, the most outrig reads; "
				"write the repeated values out, or split the file",
				RES_YAML_MAX_ALIASES);
	}
	/* The latest anchor of that name is the one an alias means. */
	for (size_t i = s->nanchors; i-- > 0;) {
		if (strcmp(s->anchors[i].name, name) == 0) {
			a = &s->anchors[i];
			break;
		}
	}
	if (a == NULL)
		return true; /* yaml_parser_load reports the undefined alias */
	if (a->open) {
		return ryl_fail(s, at,
				"alias *%.100s is inside the node it refers to, so it would never end; "
				"refer to a node defined before it",
				name);
	}
	s->expanded.nodes += a->size.nodes;
	s->expanded.bytes += a->size.bytes;
	if (s->expanded.nodes > RES_YAML_MAX_ALIAS_NODES || s->expanded.bytes > RES_YAML_MAX_ALIAS_BYTES) {
		return ryl_fail(s, at,
				"the aliases of this document expand to more than %d nodes or %u MiB, the "
				"most outrig reads (an alias bomb?); write the values out, or use fewer "
				"aliases",
				RES_YAML_MAX_ALIAS_NODES, RES_YAML_MAX_ALIAS_BYTES >> 20);
	}
	if (ryl_too_deep(s, at, s->depth + a->size.height))
		return false;
	ryl_add(s, &a->size);
	return true;
}

/* One event; false after reporting a limit. */
static bool ryl_event(struct ryl_scan *s, const yaml_event_t *ev)
{
	const yaml_mark_t *at = &ev->start_mark;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT: ryl_reset(s); return true;
	case YAML_SCALAR_EVENT: {
		struct ryl_size n = { 1, ev->data.scalar.length, 1 };
		long index;

		if (ryl_too_deep(s, at, s->depth + 1) ||
		    !ryl_anchor(s, at, ev->data.scalar.anchor, false, &n, &index))
			return false;
		ryl_add(s, &n);
		return true;
	}
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		const yaml_char_t *anchor = ev->type == YAML_SEQUENCE_START_EVENT
						    ? ev->data.sequence_start.anchor
						    : ev->data.mapping_start.anchor;
		struct ryl_frame *f;

		if (ryl_too_deep(s, at, s->depth + 1))
			return false;
		f = &s->frames[s->depth];
		memset(f, 0, sizeof(*f));
		if (!ryl_anchor(s, at, anchor, true, NULL, &f->anchor))
			return false;
		s->depth++;
		return true;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: {
		struct ryl_frame *f;

		if (s->depth == 0)
			return true;
		f = &s->frames[--s->depth];
		f->size.nodes++;
		f->size.height++;
		if (f->anchor >= 0) {
			s->anchors[f->anchor].size = f->size;
			s->anchors[f->anchor].open = false;
		}
		ryl_add(s, &f->size);
		return true;
	}
	case YAML_ALIAS_EVENT: return ryl_alias(s, ev);
	default: return true;
	}
}

/* Reads f whole, up to the limit; NULL after reporting. */
static unsigned char *ryl_slurp(FILE *f, const char *path, size_t *len, struct diag *d)
{
	size_t cap = 8192, used = 0;
	unsigned char *buf = malloc(cap);

	while (buf != NULL) {
		size_t n;

		if (used == cap) {
			unsigned char *grown;

			if (cap > RES_YAML_MAX_FILE_BYTES) {
				diag_error(d,
					   "%s: larger than %u MiB, the most outrig reads of a YAML file; "
					   "split it into several files",
					   path, RES_YAML_MAX_FILE_BYTES >> 20);
				free(buf);
				return NULL;
			}
			grown = realloc(buf, cap * 2);
			if (grown == NULL)
				break;
			buf = grown;
			cap *= 2;
		}
		n = fread(buf + used, 1, cap - used, f);
		used += n;
		if (n == 0) {
			if (ferror(f)) {
				diag_error(d, "%s: cannot read it: %s; check the file", path,
					   strerror(errno));
				free(buf);
				return NULL;
			}
			if (used > RES_YAML_MAX_FILE_BYTES) {
				diag_error(d,
					   "%s: larger than %u MiB, the most outrig reads of a YAML file; "
					   "split it into several files",
					   path, RES_YAML_MAX_FILE_BYTES >> 20);
				free(buf);
				return NULL;
			}
			*len = used;
			return buf;
		}
	}
	free(buf);
	diag_error(d, "%s: out of memory while reading it", path);
	return NULL;
}

bool res_yaml_check_text(const unsigned char *text, size_t len, const char *path, struct diag *d)
{
	struct ryl_scan *s = calloc(1, sizeof(*s));
	yaml_parser_t parser;
	bool ok = true, done = false;

	if (s == NULL || !yaml_parser_initialize(&parser)) {
		free(s);
		diag_error(d, "%s: out of memory while reading it", path);
		return false;
	}
	s->path = path;
	s->d = d;
	yaml_parser_set_input_string(&parser, text, len);
	while (ok && !done) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev))
			break; /* a syntax error: the loader reports it at the same place */
		ok = ryl_event(s, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	ryl_reset(s);
	free(s);
	yaml_parser_delete(&parser);
	return ok;
}

bool res_yaml_read_bounded(FILE *f, const char *path, unsigned char **text, size_t *len, struct diag *d)
{
	*text = ryl_slurp(f, path, len, d);
	if (*text == NULL)
		return false;
	if (!res_yaml_check_text(*text, *len, path, d)) {
		free(*text);
		*text = NULL;
		return false;
	}
	return true;
}
