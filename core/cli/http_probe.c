/* SPDX-License-Identifier: Apache-2.0 */
/* Tiny blocking HTTP/1.1 client and free-port finder for talking to the sidecar on loopback. */
#include "http_probe.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int probe_resolve(const char *host, int port, struct addrinfo **ai)
{
	struct addrinfo hints;
	char service[16];

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	/* Numeric only: a DNS lookup could block far longer than a probe may take. */
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(host, service, &hints, ai) != 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int probe_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads up to the end of the headers, so closing leaves no unread bytes to reset the peer. */
static int probe_read_status(int fd)
{
	char buf[2048];
	size_t len = 0;
	int minor, code;

	while (len < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%d %3d", &minor, &code) != 2 || code < 100 || code > 999) {
		if (len > 0 || errno == 0)
			errno = EPROTO;
		return -1;
	}
	return code;
}

int probe_http(const char *host, int port, const char *method, const char *path, const char *body,
	       int timeout_ms)
{
	struct addrinfo *ai;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	size_t body_len = body != NULL ? strlen(body) : 0;
	/* The sidecar reads the same variable and then wants it on every call but healthz. */
	const char *token = getenv("DAPR_API_TOKEN");
	bool v6, send_token = token != NULL && token[0] != '\0' && strpbrk(token, "\r\n") == NULL;
	char head[4096];
	int fd, code = -1, saved;
	int n;

	if (probe_resolve(host, port, &ai) != 0)
		return -1;
	v6 = ai->ai_family == AF_INET6;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto out;
	/* On Linux SO_SNDTIMEO also bounds connect(), so a wedged listener cannot hang us. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		goto out;
	n = snprintf(head, sizeof(head),
		     "%s %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nUser-Agent: outrig-cli\r\n"
		     "Connection: close\r\n%s%s%s%sContent-Length: %zu\r\n\r\n",
		     method, path, v6 ? "[" : "", host, v6 ? "]" : "", port,
		     send_token ? "dapr-api-token: " : "", send_token ? token : "", send_token ? "\r\n" : "",
		     body != NULL ? "Content-Type: text/plain\r\n" : "", body_len);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		errno = ENAMETOOLONG;
		goto out;
	}
	if (probe_write_all(fd, head, (size_t)n) != 0 ||
	    probe_write_all(fd, body != NULL ? body : "", body_len) != 0)
		goto out;
	errno = 0;
	code = probe_read_status(fd);
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	errno = saved;
	return code;
}

int probe_free_port(const char *host)
{
	struct addrinfo *ai;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, port = -1, saved;

	if (probe_resolve(host, 0, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET6)
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		else
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	saved = errno;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	errno = saved;
	return port;
}
