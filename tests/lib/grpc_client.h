/* SPDX-License-Identifier: Apache-2.0 */
/* A small blocking gRPC client (HTTP/2 cleartext with nghttp2) for tests that talk to outrigd. */
#ifndef OUTRIG_TESTS_GRPC_CLIENT_H
#define OUTRIG_TESTS_GRPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct grpc_client;

#define GRPC_RESULT_MAX_TRAILERS 16

struct grpc_result {
	int http_status;   /* :status, 0 when no headers came */
	int status;	   /* grpc-status, -1 when none came (reset stream, closed connection) */
	char *message;	   /* grpc-message, percent-decoded; "" when absent */
	char *details_bin; /* grpc-status-details-bin as sent (base64), or NULL */
	uint8_t *data;	   /* the response message, without its 5-byte prefix */
	size_t len;
	bool reset; /* the server reset the stream (RST_STREAM) */
	uint32_t reset_code;
	size_t ntrailers; /* every header and trailer after :status, as received */
	char *name[GRPC_RESULT_MAX_TRAILERS];
	char *value[GRPC_RESULT_MAX_TRAILERS];
};

/*
 * Connects to 127.0.0.1:port and exchanges the HTTP/2 preface. Returns the client or NULL.
 * Ownership: the caller closes it with grpc_client_close. Thread: one thread at a time.
 */
struct grpc_client *grpc_client_connect(int port);

/*
 * As grpc_client_connect, for a client that reads slowly: its socket's receive buffer is small and
 * its HTTP/2 windows are 16 MiB, so that the server queues answers the client has not read yet.
 */
struct grpc_client *grpc_client_connect_slow(int port);

/*
 * One unary call: sends msg (len bytes) in the 5-byte gRPC framing to path ("/pkg.Service/Method")
 * with metadata (name, value pairs ending with NULL; may be NULL), and waits up to timeout_ms for
 * the answer. Returns 0 when the stream ended (answered or reset), -1 when the connection failed
 * or the time passed. Ownership: out's buffers are malloc'd; free them with grpc_result_free.
 */
int grpc_client_call(struct grpc_client *c, const char *path, const char *const *metadata, const uint8_t *msg,
		     size_t len, int timeout_ms, struct grpc_result *out);

/* Same, with body sent as it is (no framing added), for malformed requests. */
int grpc_client_call_raw(struct grpc_client *c, const char *path, const char *const *metadata,
			 const uint8_t *body, size_t len, int timeout_ms, struct grpc_result *out);

/*
 * Same, but the request's stream is never ended and carries no message (a streaming client
 * that waits for the server): the answer must come from the headers alone.
 */
int grpc_client_call_open(struct grpc_client *c, const char *path, const char *const *metadata,
			  int timeout_ms, struct grpc_result *out);

/*
 * Starts a call and returns without waiting for its answer (for a client that goes away
 * mid-call): sends the request, then returns 0 or -1.
 */
int grpc_client_start(struct grpc_client *c, const char *path, const char *const *metadata,
		      const uint8_t *msg, size_t len);

/*
 * Reads the answer of the call grpc_client_start began, none of which was read yet, waiting up to
 * timeout_ms: 0 or -1, and out, as grpc_client_call.
 */
int grpc_client_finish(struct grpc_client *c, int timeout_ms, struct grpc_result *out);

/*
 * From now on c sends a PING after each read from its socket, as a client's keepalive pings and
 * window updates come while it reads a long answer.
 */
void grpc_client_ping_on_read(struct grpc_client *c);

/* A trailer or header of the result, or NULL. */
const char *grpc_result_header(const struct grpc_result *r, const char *name);

/* Frees out's buffers and zeroes it. */
void grpc_result_free(struct grpc_result *out);

/*
 * Reads (sending nothing) until the server ends the connection with FIN, for up to timeout_ms:
 * true if it did, false on timeout or reset.
 */
bool grpc_client_hung_up(struct grpc_client *c, int timeout_ms);

/* True once the server sent GOAWAY or closed the connection. */
bool grpc_client_gone(const struct grpc_client *c);

/* Closes the connection and frees c (NULL is fine). */
void grpc_client_close(struct grpc_client *c);

#endif /* OUTRIG_TESTS_GRPC_CLIENT_H */
