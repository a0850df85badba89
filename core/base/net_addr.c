/* SPDX-License-Identifier: Apache-2.0 */
/* A connected socket's two ends as text, for the Forwarded headers of invocation. */
#include "base/net_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

bool net_addr_text(int fd, bool peer, char *buf, size_t size)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);

	if (fd < 0 || (peer ? getpeername(fd, (struct sockaddr *)&ss, &len)
			    : getsockname(fd, (struct sockaddr *)&ss, &len)) != 0)
		return false;
	if (ss.ss_family == AF_INET)
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)&ss)->sin_addr, buf, (socklen_t)size) != NULL;
	if (ss.ss_family == AF_INET6)
		return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&ss)->sin6_addr, buf, (socklen_t)size) !=
		       NULL;
	return false;
}
