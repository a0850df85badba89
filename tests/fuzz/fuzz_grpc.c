/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the gRPC API: the first byte chooses what the rest feeds.
 *   even: HTTP/2 frames (after a valid client preface and SETTINGS) into a real gRPC server
 *         connection (core/api/grpc) over a socketpair, with health and handlers that unpack each
 *         Dapr and AppCallback method's request message by its descriptor;
 *   odd:  the second byte picks one request message type of those services, the rest is
 *         unpacked as it, packed again (to the size it announced) and unpacked once more.
 */
#include "config.h"

#include <event2/event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dapr/proto/runtime/v1/appcallback.pb-c.h"
#include "dapr/proto/runtime/v1/dapr.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "api/grpc/grpc_call.h"
#include "api/grpc/grpc_conn.h"
#include "api/grpc/grpc_health.h"
#include "api/grpc/grpc_server.h"
#include "base/log.h"
#include "options.h"
#include "runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const ProtobufCServiceDescriptor *const fuzz_services[] = {
	&dapr__proto__runtime__v1__dapr__descriptor,
	&dapr__proto__runtime__v1__app_callback__descriptor,
	&dapr__proto__runtime__v1__app_callback_health_check__descriptor,
	&grpc__health__v1__health__descriptor,
};
#define FUZZ_NSERVICES (sizeof(fuzz_services) / sizeof(fuzz_services[0]))

static struct options fuzz_opts;
static struct server fuzz_srv;
static struct grpc_server fuzz_gs;
/* "/service/method" for every method, registered once; kept for the registry's lifetime. */
static char *fuzz_paths[256];
static const ProtobufCMessageDescriptor *fuzz_inputs[256];
static size_t fuzz_npaths;

/* Unpacks the request by the method's input type; an error answer when it is no such message. */
static void fuzz_handler(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	const char *path = grpc_call_path(call);

	for (size_t i = 0; i < fuzz_npaths; i++) {
		ProtobufCMessage *m;

		if (strcmp(fuzz_paths[i], path) != 0)
			continue;
		m = protobuf_c_message_unpack(fuzz_inputs[i], NULL, len, msg);
		if (m == NULL) {
			grpc_call_fail(call, GRPC_INVALID_ARGUMENT, "DAPR_MALFORMED_REQUEST", "not a %s",
				       fuzz_inputs[i]->name);
			return;
		}
		/* Echo it back: packing what was unpacked must work on any input. */
		grpc_call_reply(call, m);
		protobuf_c_message_free_unpacked(m, NULL);
		return;
	}
	grpc_call_fail(call, GRPC_INTERNAL, NULL, "no descriptor for %s", path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *args[] = { "outrigd", "--app-id",	   "fuzz",  "--max-body-size",
			 "16Ki",    "--log-level", "fatal", NULL };
	char err[256];

	signal(SIGPIPE, SIG_IGN);
	if (options_parse(7, args, &fuzz_opts, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_grpc: %s\n", err);
		exit(1);
	}
	log_setup(fuzz_opts.log_level, false, fuzz_opts.app_id);
	fuzz_srv.opts = &fuzz_opts;
	fuzz_srv.base = event_base_new();
	fuzz_srv.ready = true;
	fuzz_srv.grpc = &fuzz_gs;
	fuzz_gs.srv = &fuzz_srv;
	for (size_t s = 0; s < FUZZ_NSERVICES; s++) {
		for (unsigned m = 0; m < fuzz_services[s]->n_methods && fuzz_npaths < 256; m++) {
			size_t n = strlen(fuzz_services[s]->name) +
				   strlen(fuzz_services[s]->methods[m].name) + 3;

			fuzz_paths[fuzz_npaths] = malloc(n);
			snprintf(fuzz_paths[fuzz_npaths], n, "/%s/%s", fuzz_services[s]->name,
				 fuzz_services[s]->methods[m].name);
			fuzz_inputs[fuzz_npaths] = fuzz_services[s]->methods[m].input;
			grpc_methods_register(fuzz_paths[fuzz_npaths], fuzz_handler);
			fuzz_npaths++;
		}
	}
	/* The real health handler, not the echo: it is what outrigd serves. */
	grpc_health_register();
	return 0;
}

static void fuzz_unpack(const uint8_t *data, size_t size)
{
	const ProtobufCMessageDescriptor *d;
	ProtobufCMessage *m, *again;
	uint8_t *packed;
	size_t len;

	if (size < 1)
		return;
	d = fuzz_inputs[data[0] % fuzz_npaths];
	m = protobuf_c_message_unpack(d, NULL, size - 1, data + 1);
	if (m == NULL)
		return;
	len = protobuf_c_message_get_packed_size(m);
	packed = malloc(len + 1);
	if (protobuf_c_message_pack(m, packed) != len)
		abort();
	/*
	 * Read back, it may be refused: protobuf-c keeps an unknown field numbered 0 when its tag was
	 * written in a long varint, and rejects the short tag it packs for it. Not checked further.
	 */
	again = protobuf_c_message_unpack(d, NULL, len, packed);
	if (again != NULL)
		protobuf_c_message_free_unpacked(again, NULL);
	protobuf_c_message_free_unpacked(m, NULL);
	free(packed);
}

static const char fuzz_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";

static void fuzz_frames(const uint8_t *data, size_t size)
{
	int sv[2];
	size_t sent = 0;
	char buf[16384];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	if (grpc_conn_accept(&fuzz_gs, sv[0]) != 0)
		abort();
	if (send(sv[1], fuzz_preface, sizeof(fuzz_preface) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(fuzz_preface) - 1)
		abort();
	/* Feed the input as the socket takes it, run the loop, drain the answers; stop once the server hangs up. */
	for (int round = 0; round < 2000 && fuzz_gs.conns != NULL; round++) {
		if (sent < size) {
			ssize_t n = send(sv[1], data + sent, size - sent, MSG_NOSIGNAL);

			if (n > 0)
				sent += (size_t)n;
			if (sent == size)
				shutdown(sv[1], SHUT_WR);
		} else if (size == 0 && round == 0) {
			shutdown(sv[1], SHUT_WR);
		}
		event_base_loop(fuzz_srv.base, EVLOOP_NONBLOCK);
		while (recv(sv[1], buf, sizeof(buf), 0) > 0)
			;
	}
	/* A connection still open (the server waits for a timer): closed as a vanished client would be. */
	while (fuzz_gs.conns != NULL)
		grpc_conn_free(fuzz_gs.conns);
	close(sv[1]);
	/* Deadline timers of calls freed above are gone with them; nothing may be left behind. */
	if (fuzz_gs.orphans != NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0)
		fuzz_frames(data + 1, size - 1);
	else
		fuzz_unpack(data + 1, size - 1);
	return 0;
}
