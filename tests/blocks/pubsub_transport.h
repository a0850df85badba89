/* SPDX-License-Identifier: Apache-2.0 */
/* One publish request of the pub/sub block's table, sent through one front end of outrigd (HTTP or gRPC). */
#ifndef OUTRIG_TESTS_BLOCKS_PUBSUB_TRANSPORT_H
#define OUTRIG_TESTS_BLOCKS_PUBSUB_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"

/* key, value pairs ending with NULL. */
#define PT_MD_MAX 9

/* One entry of a bulk publish. */
struct pt_entry {
	const char *entry_id;
	const char *data; /* the event's bytes */
	size_t len;	  /* 0: strlen(data) */
	const char *content_type;
	const char *md[PT_MD_MAX];
};

/* A publish as the block sees it, whatever the wire. */
struct pt_request {
	const char *pubsub;
	const char *topic;
	const char *content_type; /* NULL: none sent */
	const char *data;
	size_t len; /* 0: strlen(data) */
	const char *md[PT_MD_MAX];
	bool bulk;
	const struct pt_entry *entries;
	size_t nentries;
};

/* How it ended, in the transport's own terms. */
struct pt_result {
	bool ok;	/* published (a bulk: answered with its failed entries, if any) */
	int status;	/* refused: the HTTP status, or the gRPC code */
	char code[64];	/* HTTP: the errorCode; gRPC: "" */
	char message[1024];
	char reason[64];	/* the ErrorInfo reason of a rich error (HTTP details[], gRPC status details), or "" */
	size_t nfailed; /* bulk entries the broker did not take */
};

struct pt_transport {
	const char *name;
	bool grpc;
	/* Sends req to d; 0 when an answer came, -1 otherwise. */
	int (*publish)(const struct daemon *d, const struct pt_request *req, struct pt_result *out);
};

/* The transports the table runs through. */
extern const struct pt_transport pt_transports[];
extern const size_t pt_ntransports;

/* The gRPC port the daemon was started with (--dapr-grpc-port). */
extern int pt_grpc_port;

size_t pt_data_len(const struct pt_request *req);
size_t pt_entry_len(const struct pt_entry *e);

/* The HTTP front end's adapter. */
int pt_publish_http(const struct daemon *d, const struct pt_request *req, struct pt_result *out);

/* The gRPC front end's: PublishEvent, and a bulk through BulkPublishEvent or its Alpha1 name. */
int pt_publish_grpc(const struct daemon *d, const struct pt_request *req, struct pt_result *out);
int pt_publish_grpc_alpha1(const struct daemon *d, const struct pt_request *req, struct pt_result *out);

#endif /* OUTRIG_TESTS_BLOCKS_PUBSUB_TRANSPORT_H */
