/* SPDX-License-Identifier: Apache-2.0 */
/* A connected socket's two ends as text, for the Forwarded headers of invocation. */
#ifndef OUTRIG_CORE_NET_ADDR_H
#define OUTRIG_CORE_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* The IP address of fd's other end (peer) or of its own end (!peer) into buf; false when unknown. */
bool net_addr_text(int fd, bool peer, char *buf, size_t size);

#endif /* OUTRIG_CORE_NET_ADDR_H */
