/* SPDX-License-Identifier: Apache-2.0 */
/* Service invocation's access control (Configuration spec.accessControl, API.md §10), evaluated on the callee. */
#include "config.h"

#include "security/access_control.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/hex.h"

/*
 * daprd keeps each policy's operations in a tree of path segments (a, b*, a lone * or **),
 * children in the order the operations came; a lookup takes, at each level, the first child that
 * matches and never goes back. The same tree is kept here so that overlapping operations decide
 * as they do in daprd.
 */
struct acl_node {
	char *seg; /* "/" + one segment of an operation's name */
	const struct acl_operation *data;
	struct acl_node **kids;
	size_t nkids;
};

static void acl_node_free(struct acl_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		acl_node_free(n->kids[i]);
	free(n->kids);
	free(n->seg);
	free(n);
}

static struct acl_node *acl_node_new(const char *seg, size_t len, const struct acl_operation *data)
{
	struct acl_node *n = calloc(1, sizeof(*n));

	if (n == NULL)
		return NULL;
	n->seg = malloc(len + 2);
	if (n->seg == NULL) {
		free(n);
		return NULL;
	}
	n->seg[0] = '/';
	memcpy(n->seg + 1, seg, len);
	n->seg[len + 1] = '\0';
	n->data = data;
	return n;
}

static int acl_node_add(struct acl_node *parent, struct acl_node *kid)
{
	struct acl_node **grown = realloc(parent->kids, (parent->nkids + 1) * sizeof(*grown));

	if (grown == NULL)
		return -1;
	parent->kids = grown;
	parent->kids[parent->nkids++] = kid;
	return 0;
}

/* The child whose segment is seg[0..len) with its '/', exactly. */
static struct acl_node *acl_node_find(const struct acl_node *n, const char *seg, size_t len)
{
	for (size_t i = 0; i < n->nkids; i++)
		if (strlen(n->kids[i]->seg) == len + 1 && memcmp(n->kids[i]->seg + 1, seg, len) == 0)
			return n->kids[i];
	return NULL;
}

/* daprd's PutOperationAction: a name's segments down from the root, data on the last. */
static int acl_trie_put(struct acl_node *root, const struct acl_operation *op)
{
	const char *p = op->name + 1; /* names start with '/' */
	struct acl_node *node = root;

	for (;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		bool last = slash == NULL;
		struct acl_node *sub = acl_node_find(node, p, len);

		if (sub == NULL) {
			sub = acl_node_new(p, len, last ? op : NULL);
			if (sub == NULL || acl_node_add(node, sub) != 0) {
				acl_node_free(sub);
				return -1;
			}
		} else if (last && sub->data == NULL) {
			sub->data = op;
		}
		if (last)
			return 0;
		node = sub;
		p = slash + 1;
	}
}

static unsigned char acl_fold(unsigned char c, bool fold)
{
	return fold ? (unsigned char)tolower(c) : c;
}

/* daprd's isMatch: '*' in pattern matches any run of bytes, including none. */
static bool acl_glob(const char *t, size_t tl, const char *pat, bool fold)
{
	size_t pl = strlen(pat);
	/* Two rows of the dynamic programme daprd writes as a table. */
	bool *prev = calloc(pl + 1, sizeof(bool)), *cur = calloc(pl + 1, sizeof(bool));
	bool ok;

	if (prev == NULL || cur == NULL) {
		free(prev);
		free(cur);
		return false;
	}
	prev[0] = true;
	for (size_t j = 1; j <= pl && pat[j - 1] == '*'; j++)
		prev[j] = true;
	for (size_t i = 1; i <= tl; i++) {
		cur[0] = false;
		for (size_t j = 1; j <= pl; j++) {
			if (pat[j - 1] == '*')
				cur[j] = cur[j - 1] || prev[j];
			else
				cur[j] = acl_fold((unsigned char)t[i - 1], fold) ==
						 acl_fold((unsigned char)pat[j - 1], fold) &&
					 prev[j - 1];
		}
		memcpy(prev, cur, (pl + 1) * sizeof(bool));
	}
	ok = prev[pl];
	free(prev);
	free(cur);
	return ok;
}

static bool acl_seg_eq(const char *a, size_t alen, const char *b, bool fold)
{
	if (strlen(b) != alen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (acl_fold((unsigned char)a[i], fold) != acl_fold((unsigned char)b[i], fold))
			return false;
	return true;
}

/* daprd's findNodeWithWildcard; seg is "/" + the segment. */
static struct acl_node *acl_node_match(const struct acl_node *n, const char *seg, size_t len, bool end,
				       bool fold)
{
	for (size_t i = 0; i < n->nkids; i++) {
		struct acl_node *k = n->kids[i];

		if (acl_seg_eq(seg, len, k->seg, fold))
			return k;
		if (strcmp(k->seg, "/*") == 0) {
			if (end)
				return k;
			continue;
		}
		if (strcmp(k->seg, "/**") == 0)
			return k;
		if (acl_glob(seg, len, k->seg, fold))
			return k;
	}
	return NULL;
}

static bool acl_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* daprd's Search: the operation that decides for path ("/a/b"), or NULL. */
static const struct acl_operation *acl_trie_search(const struct acl_node *root, const char *path, bool fold)
{
	const struct acl_node *node = root;
	const char *p = path; /* at a '/' */

	while (p != NULL) {
		const char *next = strchr(p + 1, '/');
		size_t len = next != NULL ? (size_t)(next - p) : strlen(p);
		bool end = next == NULL;

		node = acl_node_match(node, p, len, end, fold);
		if (node == NULL)
			return NULL;
		if (node->data != NULL) {
			if (!end && acl_ends_with(node->seg, "/*") && !acl_ends_with(node->seg, "/**")) {
				p = next;
				continue;
			}
			return node->data;
		}
		if (end) {
			const struct acl_node *star = acl_node_match(node, "/*", 2, true, false);

			return star != NULL ? star->data : NULL;
		}
		p = next;
	}
	return NULL;
}

int access_control_compile(struct access_control *acl)
{
	for (size_t i = 0; i < acl->npolicies; i++) {
		struct acl_policy *pol = &acl->policies[i];

		acl_node_free(pol->trie);
		pol->trie = acl_node_new("", 0, NULL);
		if (pol->trie == NULL)
			return -1;
		for (size_t j = 0; j < pol->nops; j++)
			if (acl_trie_put(pol->trie, &pol->ops[j]) != 0)
				return -1;
	}
	return 0;
}

void access_control_free(struct access_control *acl)
{
	for (size_t i = 0; i < acl->npolicies; i++) {
		struct acl_policy *pol = &acl->policies[i];

		for (size_t j = 0; j < pol->nops; j++) {
			for (size_t k = 0; k < pol->ops[j].nverbs; k++)
				free(pol->ops[j].verbs[k]);
			free(pol->ops[j].verbs);
			free(pol->ops[j].name);
		}
		free(pol->ops);
		acl_node_free(pol->trie);
		free(pol->app_id);
		free(pol->ns);
		free(pol->trust_domain);
	}
	free(acl->policies);
	free(acl->trust_domain);
	memset(acl, 0, sizeof(*acl));
}

/* ---- the method as the app may read it ---- */

/* Bytes that mean something to some app's router or URL decoder, encoded or not. */
static const char *acl_special(unsigned char c)
{
	switch (c) {
	case '/': return "'/'";
	case '\\': return "'\\' (a separator to some servers)";
	case '%': return "'%' (double encoding)";
	case ';': return "';' (path parameters, which some servers strip)";
	case '#': return "'#' (a fragment)";
	case '?': return "'?' (a query)";
	default: return c < 0x20 || c == 0x7f ? "a control byte" : NULL;
	}
}

/* Whether s[0..n) is valid UTF-8 without overlong forms or surrogates. */
static bool acl_utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len;
		unsigned int cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return false;
		if (i + len > n)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
			return false;
		i += len;
	}
	return true;
}

/*
 * method decoded into out (which holds strlen(method) + 2 bytes): a leading '/' added, a
 * trailing one dropped (daprd's path.Clean). NULL when unambiguous, else why not.
 */
static const char *acl_decode(const char *method, char *out, char *why, size_t size)
{
	size_t n = 0, seg_start;
	const char *p = method;

	out[n++] = '/';
	if (*p == '/')
		p++;
	seg_start = n;
	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		const char *what;

		if (c == '%') {
			int hi = hex_digit((unsigned char)p[1]),
			    lo = hi >= 0 ? hex_digit((unsigned char)p[2]) : -1;

			if (hi < 0 || lo < 0) {
				snprintf(why, size, "a '%%' that starts no escape");
				return why;
			}
			c = (unsigned char)(hi * 16 + lo);
			if ((what = acl_special(c)) != NULL) {
				snprintf(why, size, "%%%c%c decodes to %s", p[1], p[2], what);
				return why;
			}
			p += 2;
		} else if (c != '/' && (what = acl_special(c)) != NULL) {
			snprintf(why, size, "it holds %s", what);
			return why;
		}
		if (c == '/') {
			size_t len = n - seg_start;

			if (len == 0) {
				snprintf(why, size, "it has an empty segment (\"//\")");
				return why;
			}
		}
		out[n++] = (char)c;
		if (c == '/' || p[1] == '\0') {
			/* The segment just ended (at a '/' or at the end of the method). */
			size_t end = c == '/' ? n - 1 : n;
			size_t len = end - seg_start;
			const char *seg = out + seg_start;

			if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) {
				snprintf(why, size, "a segment decodes to \"%.*s\"", (int)len, seg);
				return why;
			}
			if (len > 0 && (seg[len - 1] == '.' || seg[len - 1] == ' ')) {
				snprintf(why, size, "a segment ends in '%c', which some servers strip",
					 seg[len - 1]);
				return why;
			}
			seg_start = n;
		}
	}
	if (n > 1 && out[n - 1] == '/')
		n--;
	out[n] = '\0';
	if (!acl_utf8_ok((const unsigned char *)out, n)) {
		snprintf(why, size, "it decodes to bytes that are not UTF-8 (overlong or broken sequences)");
		return why;
	}
	return NULL;
}

bool access_control_ambiguous(const char *method, char *why, size_t why_size)
{
	char *out = malloc(strlen(method) + 2);
	bool ambiguous;

	if (out == NULL) {
		snprintf(why, why_size, "out of memory");
		return true;
	}
	ambiguous = acl_decode(method, out, why, why_size) != NULL;
	free(out);
	return ambiguous;
}

/* ---- the decision ---- */

static const struct acl_policy *acl_find(const struct access_control *acl, const char *app_id, const char *ns)
{
	/* From the end: of two policies for one app and namespace, daprd keeps the later. */
	for (size_t i = acl->npolicies; i-- > 0;)
		if (strcmp(acl->policies[i].app_id, app_id) == 0 && strcmp(acl->policies[i].ns, ns) == 0)
			return &acl->policies[i];
	return NULL;
}

static void acl_denied(const struct peer_identity *who, const char *ns, const char *method, const char *verb,
		       const char *extra, char *why, size_t size)
{
	char id[600];

	if (who == NULL || who->app_id == NULL || *who->app_id == '\0')
		snprintf(id, sizeof(id), "(a caller that named no app id)");
	else if (who->verified)
		snprintf(id, sizeof(id), "spiffe://%s/ns/%s/%s",
			 who->trust_domain != NULL ? who->trust_domain : "", ns, who->app_id);
	else
		snprintf(id, sizeof(id), "%.255s in namespace %.255s (as its sidecar claims: mTLS is off)",
			 who->app_id, ns);
	snprintf(why, size, "access control policy has denied access to id: %s operation: %s verb: %s%s%s",
		 id, method, verb != NULL ? verb : "NONE", extra != NULL ? "; " : "",
		 extra != NULL ? extra : "");
}

bool access_control_allows(const struct access_control *acl, const struct peer_identity *who,
			   const char *method, const char *verb, bool http, char *why, size_t why_size)
{
	const struct acl_policy *pol;
	const struct acl_operation *op;
	enum acl_action action;
	const char *ns;
	char amb[160];
	char *decoded;

	if (acl == NULL || !acl->set)
		return true;
	action = acl->default_action;
	ns = who != NULL && who->ns != NULL && *who->ns != '\0' ? who->ns : "default";
	if (who == NULL || who->app_id == NULL || *who->app_id == '\0' ||
	    (pol = acl_find(acl, who->app_id, ns)) == NULL ||
	    /* Without mTLS the trust domain is unknown: only a verified caller's is compared. */
	    (who->verified &&
	     (who->trust_domain == NULL || strcmp(pol->trust_domain, who->trust_domain) != 0))) {
		if (action == ACL_ALLOW)
			return true;
		acl_denied(who, ns, method, verb, NULL, why, why_size);
		return false;
	}
	if (pol->default_action != ACL_UNSET)
		action = pol->default_action;
	if (pol->nops > 0) {
		decoded = malloc(strlen(method) + 2);
		if (decoded == NULL) {
			acl_denied(who, ns, method, verb, "out of memory", why, why_size);
			return false;
		}
		if (acl_decode(method, decoded, amb, sizeof(amb)) != NULL) {
			char extra[300];

			free(decoded);
			snprintf(
				extra, sizeof(extra),
				"the method's encoding is ambiguous (%s), and a policy with operations does not guess how the app decodes it",
				amb);
			acl_denied(who, ns, method, verb, extra, why, why_size);
			return false;
		}
		op = acl_trie_search(pol->trie, decoded, http);
		free(decoded);
		if (op != NULL && http) {
			if (verb != NULL) {
				for (size_t i = 0; i < op->nverbs; i++)
					if (strcmp(op->verbs[i], verb) == 0)
						goto verb_found;
				/* Many routers (Express, Go's ServeMux) serve HEAD with the GET handler. */
				for (size_t i = 0; i < op->nverbs; i++)
					if (strcmp(verb, "HEAD") == 0 && strcmp(op->verbs[i], "GET") == 0 &&
					    op->action == ACL_DENY)
						goto verb_found;
				for (size_t i = 0; i < op->nverbs; i++)
					if (strcmp(op->verbs[i], "*") == 0)
						goto verb_found;
				goto decided;
			verb_found:
				action = op->action;
			} else {
				action = pol->default_action;
			}
		} else if (op != NULL) {
			action = op->action;
		}
	}
decided:
	if (action == ACL_ALLOW)
		return true;
	acl_denied(who, ns, method, verb, NULL, why, why_size);
	return false;
}
