/* SPDX-License-Identifier: Apache-2.0 */
/* gRPC-over-HTTP/2 wire facts the client needs: grpc-timeout, grpc-status, grpc-message, metadata names. */
#include "config.h"

#include "channels/grpc_wire.h"

#include <stdio.h>
#include <string.h>

#include "base/hex.h"

void grpc_wire_timeout(int64_t ms, char out[GRPC_WIRE_TIMEOUT_SIZE])
{
	/* The value has at most 8 digits: past that, a coarser unit, rounded up. */
	static const struct {
		char unit;
		int64_t ms;
	} units[] = { { 'm', 1 }, { 'S', 1000 }, { 'M', 60 * 1000 }, { 'H', 3600 * 1000 } };
	int64_t n;

	if (ms < 1)
		ms = 1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		n = ms / units[i].ms + (ms % units[i].ms != 0);
		if (n <= 99999999) {
			snprintf(out, GRPC_WIRE_TIMEOUT_SIZE, "%lld%c", (long long)n, units[i].unit);
			return;
		}
	}
	snprintf(out, GRPC_WIRE_TIMEOUT_SIZE, "99999999H");
}

int grpc_wire_status(const char *text)
{
	int code = 0;

	if (text == NULL || *text == '\0' || strlen(text) > 2)
		return -1;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		code = code * 10 + (*p - '0');
	}
	return code <= 16 ? code : -1;
}

void grpc_wire_percent_decode(char *s)
{
	char *out = s;

	for (const char *in = s; *in != '\0'; in++) {
		int hi, lo;

		/* in[1] is checked first, so in[2] is never read past the end. */
		if (in[0] == '%' && (hi = hex_digit(in[1])) >= 0 && (lo = hex_digit(in[2])) >= 0) {
			*out++ = (char)(hi << 4 | lo);
			in += 2;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
}

int grpc_wire_from_http(int http_status)
{
	switch (http_status) {
	case 400: return GRPC_WIRE_INTERNAL;
	case 401: return GRPC_WIRE_UNAUTHENTICATED;
	case 403: return GRPC_WIRE_PERMISSION_DENIED;
	case 404: return GRPC_WIRE_UNIMPLEMENTED;
	case 429:
	case 502:
	case 503:
	case 504: return GRPC_WIRE_UNAVAILABLE;
	}
	return GRPC_WIRE_UNKNOWN;
}

int grpc_wire_from_h2_error(uint32_t error_code)
{
	/* HTTP/2 error codes (RFC 9113 §7) as gRPC's protocol document maps them. */
	switch (error_code) {
	case 0x7: return GRPC_WIRE_UNAVAILABLE;	       /* REFUSED_STREAM: the server never started the call */
	case 0x8: return GRPC_WIRE_CANCELLED;	       /* CANCEL */
	case 0xb: return GRPC_WIRE_RESOURCE_EXHAUSTED; /* ENHANCE_YOUR_CALM */
	case 0xc: return GRPC_WIRE_PERMISSION_DENIED;  /* INADEQUATE_SECURITY */
	}
	return GRPC_WIRE_INTERNAL;
}

bool grpc_wire_name_ok(const char *name)
{
	if (name == NULL || *name == '\0')
		return false;
	return name[strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_.")] == '\0';
}

bool grpc_wire_name_reserved(const char *name)
{
	static const char *const reserved[] = {
		"content-type",
		"te",
		"user-agent",
		"host",
		"connection",
		"keep-alive",
		"proxy-connection",
		"transfer-encoding",
		"upgrade",
		"grpc-timeout",
		"grpc-encoding",
		"grpc-accept-encoding",
		"grpc-status",
		"grpc-message",
		"grpc-status-details-bin",
	};

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return true;
	return false;
}

bool grpc_wire_value_ok(const char *value)
{
	for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}
