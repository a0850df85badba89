/* SPDX-License-Identifier: Apache-2.0 */
/* TCP_NODELAY on paho's broker socket, which paho-mqtt-c 1.3 neither sets nor lets us set. */
#include "mqtt_nodelay.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Without the option, Nagle's algorithm holds each small PUBLISH or PUBACK until the previous
 * segment's delayed ACK comes back: about 40 ms per message (measured: 68 messages/s through
 * outrigd instead of thousands). paho opens its sockets itself and offers no hook, so the
 * process's open sockets are searched for the ones talking to the broker's port. Setting the
 * option on an unrelated connection to the same port would only make it prompter too.
 */
static int mq_uri_port(const char *server_uri)
{
	const char *colon = strrchr(server_uri, ':');

	return colon != NULL ? atoi(colon + 1) : 0;
}

static int mq_peer_port(int fd)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	int type = 0;
	socklen_t tlen = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0 || type != SOCK_STREAM)
		return -1;
	if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0)
		return -1;
	if (peer.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&peer)->sin_port);
	if (peer.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
	return -1;
}

void mq_nodelay_broker_sockets(const char *server_uri)
{
	int port = mq_uri_port(server_uri);
	DIR *dir;
	struct dirent *e;
	int one = 1;

	if (port <= 0 || (dir = opendir("/proc/self/fd")) == NULL)
		return;
	while ((e = readdir(dir)) != NULL) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] == '.' || fd == dirfd(dir))
			continue;
		if (mq_peer_port(fd) == port)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	closedir(dir);
}
