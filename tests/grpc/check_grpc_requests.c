/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every served gRPC method does with a request it cannot take as sent (issue 12 review): a NUL
 * inside any string field is refused naming the field (protobuf-c would cut the string there),
 * bytes that do not unmarshal answer grpc-go's INTERNAL, and a long error message is still UTF-8.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "daemon.h"
#include "dapr/proto/common/v1/common.pb-c.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "grpc_client.h"

#define APP "grpcreq"
#define DAPR "/dapr.proto.runtime.v1.Dapr/"

static struct daemon dmn;

static void setup(void)
{
	ck_assert_int_eq(daemon_init(&dmn, APP), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "statestore", "state.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "pubsub", "pubsub.in-memory", NULL), 0);
	ck_assert_int_eq(daemon_add_component(&dmn, "env", "secretstores.local.env", NULL), 0);
	ck_assert_msg(daemon_start(&dmn, NULL) == 0, "outrigd did not start (log above)");
}

static void teardown(void)
{
	daemon_cleanup(&dmn);
}

/* A protobuf message being written by hand, so that strings may hold a NUL. */
struct pb {
	uint8_t b[4096];
	size_t n;
};

static void pb_varint(struct pb *p, uint64_t v)
{
	do {
		ck_assert_uint_lt(p->n, sizeof(p->b));
		p->b[p->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
}

/* Field name of d (looked up, so a wrong name fails the test) as length-delimited bytes s/n. */
static void pb_bytes(struct pb *p, const ProtobufCMessageDescriptor *d, const char *name, const void *s,
		     size_t n)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);

	ck_assert_msg(f != NULL, "%s has no field %s", d->name, name);
	pb_varint(p, (uint64_t)f->id << 3 | 2);
	pb_varint(p, n);
	ck_assert_uint_le(p->n + n, sizeof(p->b));
	memcpy(p->b + p->n, s, n);
	p->n += n;
}

/* A string literal with its NULs: sizeof - 1 bytes. */
#define PB_STR(p, d, name, lit) pb_bytes((p), (d), (name), (lit), sizeof(lit) - 1)

/* The message descriptor of field name of d (a nested message or a map's entry). */
static const ProtobufCMessageDescriptor *pb_inner(const ProtobufCMessageDescriptor *d, const char *name)
{
	const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);

	ck_assert_msg(f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE, "%s has no message field %s", d->name,
		      name);
	return f->descriptor;
}

/* Nested message in (as written so far) as field name of d. */
static void pb_msg(struct pb *p, const ProtobufCMessageDescriptor *d, const char *name, const struct pb *in)
{
	pb_inner(d, name);
	pb_bytes(p, d, name, in->b, in->n);
}

/* A map<string,string> entry k/v (string literals, NULs kept) in map field name of d. */
#define PB_MAP(p, d, name, k, v)                                                                             \
	do {                                                                                                 \
		struct pb e_ = { .n = 0 };                                                                   \
		PB_STR(&e_, pb_inner((d), (name)), "key", k);                                                \
		PB_STR(&e_, pb_inner((d), (name)), "value", v);                                              \
		pb_msg((p), (d), (name), &e_);                                                               \
	} while (0)

/* One call on a fresh connection; r is the caller's to free. */
static void call(const char *path, const struct pb *p, struct grpc_result *r)
{
	struct grpc_client *c = grpc_client_connect(dmn.grpc_port);

	ck_assert_msg(c != NULL, "cannot connect to the gRPC port %d: %s", dmn.grpc_port, strerror(errno));
	ck_assert_msg(grpc_client_call(c, path, NULL, p->b, p->n, 5000, r) == 0, "%s: no answer", path);
	grpc_client_close(c);
}

/* The call is refused with INVALID_ARGUMENT, and the message names field and the NUL. */
static void ck_nul_refused(const char *path, const struct pb *p, const char *field)
{
	struct grpc_result r;
	char want[128];

	call(path, p, &r);
	snprintf(want, sizeof(want), "%s holds a NUL", field);
	ck_assert_msg(r.status == 3 && strstr(r.message, want) != NULL,
		      "%s with a NUL in %s: status %d \"%s\"; want 3 \"%s ...\"", path, field, r.status,
		      r.message, want);
	grpc_result_free(&r);
}

#define RT(x) (&dapr__proto__runtime__v1__##x##__descriptor)

START_TEST(nul_in_any_string_is_refused_by_name)
{
	const ProtobufCMessageDescriptor *inv = RT(invoke_service_request);
	const ProtobufCMessageDescriptor *ireq = &dapr__proto__common__v1__invoke_request__descriptor;
	const ProtobufCMessageDescriptor *ext = &dapr__proto__common__v1__httpextension__descriptor;
	const ProtobufCMessageDescriptor *bulk = RT(bulk_publish_request);
	struct pb p, in, in2;

	/* The review's three repros: each once reached the block cut at the NUL. */
	p = (struct pb){ 0 };
	PB_STR(&p, RT(set_metadata_request), "key", "k1\0evil");
	PB_STR(&p, RT(set_metadata_request), "value", "v");
	ck_nul_refused(DAPR "SetMetadata", &p, "key");
	p = (struct pb){ 0 };
	PB_STR(&p, RT(get_secret_request), "store_name", "env");
	PB_STR(&p, RT(get_secret_request), "key", "HOME\0anything");
	ck_nul_refused(DAPR "GetSecret", &p, "key");
	p = (struct pb){ 0 };
	PB_STR(&p, RT(publish_event_request), "pubsub_name", "pubsub");
	PB_STR(&p, RT(publish_event_request), "topic", "orders\0x");
	PB_STR(&p, RT(publish_event_request), "data", "{}");
	ck_nul_refused(DAPR "PublishEvent", &p, "topic");

	/* Metadata maps, keys and values. */
	p = (struct pb){ 0 };
	PB_STR(&p, RT(publish_event_request), "pubsub_name", "pubsub");
	PB_STR(&p, RT(publish_event_request), "topic", "orders");
	PB_MAP(&p, RT(publish_event_request), "metadata", "ttlInSeconds", "10\0x");
	ck_nul_refused(DAPR "PublishEvent", &p, "metadata[0].value");
	p = (struct pb){ 0 };
	PB_STR(&p, RT(get_secret_request), "store_name", "env");
	PB_STR(&p, RT(get_secret_request), "key", "HOME");
	PB_MAP(&p, RT(get_secret_request), "metadata", "a", "b");
	PB_MAP(&p, RT(get_secret_request), "metadata", "c\0d", "e");
	ck_nul_refused(DAPR "GetSecret", &p, "metadata[1].key");
	p = (struct pb){ 0 };
	PB_STR(&p, RT(get_bulk_secret_request), "store_name", "env\0x");
	ck_nul_refused(DAPR "GetBulkSecret", &p, "store_name");

	/* Bulk publish: the entries' strings too, on both method names. */
	in = (struct pb){ 0 };
	PB_STR(&in, pb_inner(bulk, "entries"), "entry_id", "1\0x");
	PB_STR(&in, pb_inner(bulk, "entries"), "event", "{}");
	PB_STR(&in, pb_inner(bulk, "entries"), "content_type", "application/json");
	p = (struct pb){ 0 };
	PB_STR(&p, bulk, "pubsub_name", "pubsub");
	PB_STR(&p, bulk, "topic", "orders");
	pb_msg(&p, bulk, "entries", &in);
	ck_nul_refused(DAPR "BulkPublishEvent", &p, "entries[0].entry_id");
	ck_nul_refused(DAPR "BulkPublishEventAlpha1", &p, "entries[0].entry_id");

	/* Service invocation: id, method, content type and query string. */
	p = (struct pb){ 0 };
	PB_STR(&p, inv, "id", APP "\0x");
	ck_nul_refused(DAPR "InvokeService", &p, "id");
	in = (struct pb){ 0 };
	PB_STR(&in, ireq, "method", "hello\0x");
	p = (struct pb){ 0 };
	PB_STR(&p, inv, "id", APP);
	pb_msg(&p, inv, "message", &in);
	ck_nul_refused(DAPR "InvokeService", &p, "message.method");
	in = (struct pb){ 0 };
	PB_STR(&in, ireq, "method", "hello");
	PB_STR(&in, ireq, "content_type", "text/plain\0x");
	p = (struct pb){ 0 };
	PB_STR(&p, inv, "id", APP);
	pb_msg(&p, inv, "message", &in);
	ck_nul_refused(DAPR "InvokeService", &p, "message.content_type");
	in2 = (struct pb){ 0 };
	PB_STR(&in2, ext, "querystring", "a=1\0&b=2");
	in = (struct pb){ 0 };
	PB_STR(&in, ireq, "method", "hello");
	pb_msg(&in, ireq, "http_extension", &in2);
	p = (struct pb){ 0 };
	PB_STR(&p, inv, "id", APP);
	pb_msg(&p, inv, "message", &in);
	ck_nul_refused(DAPR "InvokeService", &p, "message.http_extension.querystring");

	/* Output bindings: name, operation, metadata. */
	p = (struct pb){ 0 };
	PB_STR(&p, RT(invoke_binding_request), "name", "b\0x");
	PB_STR(&p, RT(invoke_binding_request), "operation", "create");
	ck_nul_refused(DAPR "InvokeBinding", &p, "name");
	p = (struct pb){ 0 };
	PB_STR(&p, RT(invoke_binding_request), "name", "b");
	PB_STR(&p, RT(invoke_binding_request), "operation", "create\0x");
	ck_nul_refused(DAPR "InvokeBinding", &p, "operation");
	p = (struct pb){ 0 };
	PB_STR(&p, RT(invoke_binding_request), "name", "b");
	PB_MAP(&p, RT(invoke_binding_request), "metadata", "k", "v\0x");
	ck_nul_refused(DAPR "InvokeBinding", &p, "metadata[0].value");

	/* The health service's one string. */
	p = (struct pb){ 0 };
	PB_STR(&p, &grpc__health__v1__health_check_request__descriptor, "service", "\0x");
	ck_nul_refused("/grpc.health.v1.Health/Check", &p, "service");
}
END_TEST

/* Every served method answers bytes that are not its message as grpc-go's processUnaryRPC does. */
START_TEST(undecodable_request_is_internal_as_grpc_go)
{
	static const char *const methods[] = {
		"/grpc.health.v1.Health/Check",
		DAPR "GetState",
		DAPR "GetBulkState",
		DAPR "SaveState",
		DAPR "DeleteState",
		DAPR "DeleteBulkState",
		DAPR "ExecuteStateTransaction",
		DAPR "QueryStateAlpha1",
		DAPR "GetSecret",
		DAPR "GetBulkSecret",
		DAPR "PublishEvent",
		DAPR "BulkPublishEvent",
		DAPR "BulkPublishEventAlpha1",
		DAPR "InvokeBinding",
		DAPR "InvokeService",
		DAPR "GetMetadata",
		DAPR "SetMetadata",
		DAPR "Shutdown",
	};
	/* Field 1, length-delimited, promising 5 bytes of which 1 is there. */
	struct pb p = { .b = { 0x0a, 0x05, 'x' }, .n = 3 };

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		struct grpc_result r;

		call(methods[i], &p, &r);
		ck_assert_msg(r.status == 13 &&
				      strncmp(r.message, "grpc: error unmarshalling request: ", 35) == 0,
			      "%s: status %d \"%s\"; want 13 \"grpc: error unmarshalling request: ...\"",
			      methods[i], r.status, r.message);
		grpc_result_free(&r);
	}
}
END_TEST

/* Whether s is well-formed UTF-8 (no overlongs or surrogates checked: a cut is what matters). */
static bool utf8_whole(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	while (*u != '\0') {
		int more = *u < 0x80		 ? 0
			   : (*u & 0xE0) == 0xC0 ? 1
			   : (*u & 0xF0) == 0xE0 ? 2
			   : (*u & 0xF8) == 0xF0 ? 3
						 : -1;

		if (more < 0)
			return false;
		u++;
		for (int i = 0; i < more; i++, u++)
			if ((*u & 0xC0) != 0x80)
				return false;
	}
	return true;
}

/*
 * An error quoting a long name is cut at the message's 1024 bytes; with 2-byte characters from
 * offsets 0 and 1 in turn, one of the two cuts falls inside a character.
 */
START_TEST(long_error_message_stays_utf8)
{
	for (int shift = 0; shift < 2; shift++) {
		char name[1500];
		struct grpc_result r;
		struct pb p = { .n = 0 };
		size_t n = 0;

		if (shift)
			name[n++] = 'x';
		while (n + 2 < sizeof(name)) {
			name[n++] = (char)0xC3;
			name[n++] = (char)0xA9; /* é */
		}
		pb_bytes(&p, RT(get_secret_request), "store_name", name, n);
		PB_STR(&p, RT(get_secret_request), "key", "HOME");
		call(DAPR "GetSecret", &p, &r);
		ck_assert_msg(r.status != 0 && r.status != -1, "shift %d: status %d", shift, r.status);
		ck_assert_msg(strlen(r.message) > 900, "shift %d: the message does not quote the name: %s",
			      shift, r.message);
		ck_assert_msg(utf8_whole(r.message), "shift %d: grpc-message is not UTF-8 (ends \"%s\")",
			      shift, r.message + strlen(r.message) - 8);
		grpc_result_free(&r);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("grpc_requests");
	TCase *tc = tcase_create("requests");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, nul_in_any_string_is_refused_by_name);
	tcase_add_test(tc, undecodable_request_is_internal_as_grpc_go);
	tcase_add_test(tc, long_error_message_stays_utf8);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
