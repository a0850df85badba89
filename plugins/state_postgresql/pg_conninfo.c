/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a daprd connectionString, written for Go's pgx, with libpq. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_conninfo.h"

/* Settings pgx and pgxpool read that libpq does not know (it would refuse the whole string). */
static const char *const pgci_pgx_only[] = {
	"pool_max_conns",
	"pool_min_conns",
	"pool_min_idle_conns",
	"pool_max_conn_lifetime",
	"pool_max_conn_lifetime_jitter",
	"pool_max_conn_idle_time",
	"pool_health_check_period",
	"statement_cache_capacity",
	"description_cache_capacity",
	"default_query_exec_mode",
	"min_read_buffer_size",
	NULL,
};

static bool pgci_is_pgx_only(const char *key, size_t len)
{
	for (int i = 0; pgci_pgx_only[i] != NULL; i++)
		if (strlen(pgci_pgx_only[i]) == len && strncmp(pgci_pgx_only[i], key, len) == 0)
			return true;
	return false;
}

static void pgci_note(char *dropped, size_t size, const char *key, size_t len)
{
	size_t used = strlen(dropped);

	if (used + len + 3 < size)
		snprintf(dropped + used, size - used, "%s%.*s", used > 0 ? ", " : "", (int)len, key);
}

/* URLs: drops pgx-only query parameters. */
static char *pgci_url(const char *url, char *dropped, size_t size)
{
	const char *query = strchr(url, '?');
	char *out = malloc(strlen(url) + 1), *o;
	bool first = true;

	if (out == NULL)
		return NULL;
	if (query == NULL) {
		strcpy(out, url);
		return out;
	}
	memcpy(out, url, (size_t)(query - url));
	o = out + (query - url);
	for (const char *p = query + 1; *p != '\0';) {
		size_t len = strcspn(p, "&"), key_len = strcspn(p, "=&");

		if (pgci_is_pgx_only(p, key_len)) {
			pgci_note(dropped, size, p, key_len);
		} else if (len > 0) {
			*o++ = first ? '?' : '&';
			memcpy(o, p, len);
			o += len;
			first = false;
		}
		p += len + (p[len] == '&');
	}
	*o = '\0';
	return out;
}

/* Appends value in single quotes, escaped as libpq reads it. */
static char *pgci_quote(char *o, const char *value, size_t len)
{
	*o++ = '\'';
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '\'' || value[i] == '\\')
			*o++ = '\\';
		*o++ = value[i];
	}
	*o++ = '\'';
	return o;
}

/* "key=value" text, read the way libpq's conninfo_parse reads it. */
static char *pgci_keywords(const char *text, char *dropped, size_t size)
{
	size_t n = strlen(text);
	/* Worst case every value character gets a backslash, plus quotes and separators. */
	char *out = malloc(2 * n + 4 * (n / 2 + 1) + 1), *o = out, *value = malloc(n + 1);
	const char *p = text;

	if (out == NULL || value == NULL)
		goto give_up;
	while (*p != '\0') {
		const char *key;
		size_t key_len, value_len = 0;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		key = p;
		while (*p != '\0' && *p != '=' && !isspace((unsigned char)*p))
			p++;
		key_len = (size_t)(p - key);
		while (isspace((unsigned char)*p))
			p++;
		if (*p++ != '=')
			goto give_up;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\'') {
			for (p++; *p != '\'' && *p != '\0'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				value[value_len++] = *p;
			}
			if (*p++ != '\'')
				goto give_up;
		} else {
			for (; *p != '\0' && !isspace((unsigned char)*p); p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				value[value_len++] = *p;
			}
		}
		if (pgci_is_pgx_only(key, key_len)) {
			pgci_note(dropped, size, key, key_len);
			continue;
		}
		if (o != out)
			*o++ = ' ';
		if (key_len == strlen("database") && strncmp(key, "database", key_len) == 0) {
			memcpy(o, "dbname", strlen("dbname"));
			o += strlen("dbname");
		} else {
			memcpy(o, key, key_len);
			o += key_len;
		}
		*o++ = '=';
		o = pgci_quote(o, value, value_len);
	}
	*o = '\0';
	free(value);
	return out;
give_up:
	/* Not libpq's syntax: hand it over unchanged, so libpq's own message explains. */
	free(out);
	free(value);
	dropped[0] = '\0';
	return strdup(text);
}

char *pgci_normalize(const char *conninfo, char *dropped, size_t dropped_size)
{
	if (dropped_size > 0)
		dropped[0] = '\0';
	if (strncmp(conninfo, "postgresql://", 13) == 0 || strncmp(conninfo, "postgres://", 11) == 0)
		return pgci_url(conninfo, dropped, dropped_size);
	return pgci_keywords(conninfo, dropped, dropped_size);
}
