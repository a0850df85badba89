/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: raw bytes to outrigd's HTTP API, over a real loopback connection to a real
 * server (as core/main.c builds it: in-memory state and pub/sub plugins, workers, the internal
 * listener, name resolution, and an app on the same loop that answers 200 with what it was sent).
 * One server serves every input; each input is one connection. Built with -DFUZZ_INTERNAL
 * (fuzz_internal), the bytes go to the sidecar-to-sidecar listener instead.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "channels/app_channel.h"
#include "components/component.h"
#include "resources/configuration.h"
#include "base/diag.h"
#include "components/host.h"
#include "api/http/http_errors.h"
#include "api/internal/internal_server.h"
#include "base/log.h"
#include "blocks/invoke/nameres.h"
#include "options.h"
#include "blocks/pubsub/pubsub_runtime.h"
#include "resources/resources.h"
#include "api/http/router.h"
#include "runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An input that gets no answer within this time is given up (the loop must never block that long). */
#define FUZZ_HTTP_WAIT_MS 2000

static const char fuzz_components[] =
	"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\n"
	"spec:\n  type: state.in-memory\n  version: v1\n  metadata:\n  - name: actorStateStore\n"
	"    value: \"true\"\n---\n"
	"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: plain\n"
	"spec:\n  type: state.in-memory\n  version: v1\n  metadata:\n  - name: keyPrefix\n    value: none\n---\n"
	"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\n"
	"spec:\n  type: pubsub.in-memory\n  version: v1\n---\n"
	"apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: orders\n"
	"spec:\n  pubsubname: pubsub\n  topic: orders\n  routes:\n    rules:\n"
	"    - match: event.data.n > 1\n      path: /big\n    default: /orders\n";

static struct options fuzz_opts;
static struct components fuzz_cs;
static struct server fuzz_srv;
static char fuzz_dir[] = "/tmp/outrig-fuzz-http-XXXXXX";
static int fuzz_port, fuzz_app_port;
static struct evhttp *fuzz_app;

/* A loopback port nobody holds right now (the server binds it just after). */
static int fuzz_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The resources and data folder go when the run ends (libFuzzer leaves through exit()). */
static void fuzz_cleanup(void)
{
	nftw(fuzz_dir, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz_http: cannot set up the server: %s\n", what);
	exit(1);
}

/* The app: subscribes to pubsub/orders, and answers everything else 200 with the request's body. */
static void fuzz_app_cb(struct evhttp_request *req, void *arg)
{
	const char *path = evhttp_request_get_uri(req);
	struct evbuffer *out = evbuffer_new();

	(void)arg;
	if (out == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (strcmp(path, "/dapr/subscribe") == 0)
		evbuffer_add_printf(out, "[{\"pubsubname\":\"pubsub\",\"topic\":\"a/b\",\"route\":\"/ab\"}]");
	else
		evbuffer_add_buffer(out, evhttp_request_get_input_buffer(req));
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

static void fuzz_app_start(struct event_base *base)
{
	fuzz_app = evhttp_new(base);
	fuzz_app_port = fuzz_free_port();
	if (fuzz_app == NULL || evhttp_bind_socket(fuzz_app, "127.0.0.1", (uint16_t)fuzz_app_port) != 0)
		fuzz_fail("the app's listener");
	evhttp_set_gencb(fuzz_app, fuzz_app_cb, NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[sizeof(fuzz_dir) + 32], port[16], app_port[16], err[512];
	struct res_set rs = { 0 };
	struct diag d = { 0 };
	FILE *f;
	size_t errors;

	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(fuzz_dir) == NULL)
		fuzz_fail("mkdtemp");
	atexit(fuzz_cleanup);
	snprintf(path, sizeof(path), "%s/components.yaml", fuzz_dir);
	if ((f = fopen(path, "w")) == NULL || fputs(fuzz_components, f) < 0 || fclose(f) != 0)
		fuzz_fail(path);
	evthread_use_pthreads();
	fuzz_srv.base = event_base_new();
	if (fuzz_srv.base == NULL)
		fuzz_fail("event_base_new");
	fuzz_app_start(fuzz_srv.base);
	snprintf(app_port, sizeof(app_port), "%d", fuzz_app_port);
	fuzz_port = fuzz_free_port();
	snprintf(port, sizeof(port), "%d", fuzz_port);
	{
		char *args[] = { "outrigd",
				 "--app-id",
				 "fuzz",
				 "--resources-path",
				 fuzz_dir,
				 "--data-dir",
				 fuzz_dir,
				 "--dapr-http-port",
				 port,
				 "--log-level",
				 getenv("FUZZ_HTTP_LOG") != NULL ? "debug" : "fatal",
				 "--max-body-size",
				 "64Ki",
				 "--app-port",
				 app_port,
				 NULL };

		if (options_parse((int)(sizeof(args) / sizeof(args[0])) - 1, args, &fuzz_opts, err,
				  sizeof(err)) != 0)
			fuzz_fail(err);
	}
	log_setup(fuzz_opts.log_level, false, fuzz_opts.app_id);
	api_errors_set_app_id(fuzz_opts.app_id);
	host_set_data_dir(fuzz_dir);
	fuzz_srv.opts = &fuzz_opts;
	fuzz_srv.components = &fuzz_cs;
	fuzz_srv.extended = json_object();
	errors = resources_load(fuzz_opts.resources_paths, fuzz_opts.resources_count, fuzz_opts.app_id, &rs,
				&d);
	errors += components_setup(&fuzz_cs, &rs, fuzz_opts.plugin_dir, fuzz_opts.app_id, true, &d);
	errors += configuration_load(NULL, 0, &fuzz_srv.config, &d);
	if (errors == 0)
		errors += components_setup_resolver(&fuzz_cs, &fuzz_srv.config.resolver, fuzz_opts.app_id,
						    true, false, &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "fuzz_http: %s\n", d.lines[i]);
	if (errors != 0)
		fuzz_fail("resources or plugins (is OUTRIG_PLUGIN_PATH the fuzz build's plugins/.libs?)");
	diag_clear(&d);
	fuzz_srv.workers = workers_start(fuzz_srv.base, 2);
	fuzz_srv.app = app_channel_new(fuzz_srv.base, fuzz_opts.app_channel_address, fuzz_opts.app_port,
				       fuzz_opts.app_max_concurrency, 5);
	if (fuzz_srv.workers == NULL || fuzz_srv.app == NULL ||
	    components_start(&fuzz_cs, fuzz_srv.base, fuzz_srv.workers) != 0 ||
	    http_api_listen(&fuzz_srv) != 0 || internal_server_listen(&fuzz_srv) != 0 ||
	    nameres_start(&fuzz_srv) != 0 || pubsub_runtime_start(&fuzz_srv.pubsub, &fuzz_srv, &rs) != 0 ||
	    binding_runtime_start(&fuzz_srv.bindings, &fuzz_srv, &rs) != 0)
		fuzz_fail("start");
	resources_free(&rs);
	fuzz_srv.ready = true;
#ifdef FUZZ_INTERNAL
	fuzz_port = fuzz_srv.internal_port;
#endif
	return 0;
}

struct fuzz_conn {
	const uint8_t *data;
	size_t size, sent;
	bool done;
	struct event *ev;
};

/* Writes what the socket takes, half-closes once all is sent, reads (and drops) the answer. */
static void fuzz_conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fuzz_conn *c = arg;
	char buf[16384];

	if (what & EV_TIMEOUT) {
		c->done = true;
		return;
	}
	if ((what & EV_WRITE) && c->sent < c->size) {
		ssize_t n = send(fd, c->data + c->sent, c->size - c->sent, MSG_NOSIGNAL);

		if (n > 0)
			c->sent += (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			c->sent = c->size;
		if (c->sent == c->size)
			shutdown(fd, SHUT_WR);
	}
	if (what & EV_READ) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n > 0 && getenv("FUZZ_HTTP_LOG") != NULL)
			fwrite(buf, 1, (size_t)n, stderr);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			c->done = true;
	}
}

/*
 * Connects fd (made non-blocking) to sa; libFuzzer's timer signal may interrupt a blocking
 * connect, so wait for it with poll, which can simply be called again.
 */
static int fuzz_connect(int fd, const struct sockaddr_in *sa)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	evutil_make_socket_nonblocking(fd);
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return -1;
	while (poll(&p, 1, 5000) < 0)
		if (errno != EINTR)
			return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
		errno = err != 0 ? err : errno;
		return -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons((uint16_t)fuzz_port) };
	struct timeval wait = { FUZZ_HTTP_WAIT_MS / 1000, (FUZZ_HTTP_WAIT_MS % 1000) * 1000 };
	struct fuzz_conn c = { data, size, 0, false, NULL };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || fuzz_connect(fd, &sa) != 0) {
		perror("fuzz_http: connect");
		abort();
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (size == 0)
		shutdown(fd, SHUT_WR);
	c.ev = event_new(fuzz_srv.base, fd, EV_READ | EV_WRITE | EV_PERSIST, fuzz_conn_cb, &c);
	event_add(c.ev, &wait);
	while (!c.done) {
		/* Stop writing once all is sent: EV_WRITE would fire on every turn. */
		if (c.sent == c.size) {
			event_del(c.ev);
			event_assign(c.ev, fuzz_srv.base, fd, EV_READ | EV_PERSIST, fuzz_conn_cb, &c);
			event_add(c.ev, &wait);
			c.sent = c.size + 1;
		}
		event_base_loop(fuzz_srv.base, EVLOOP_ONCE);
	}
	event_free(c.ev);
	close(fd);
	return 0;
}
