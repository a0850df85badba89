/* SPDX-License-Identifier: Apache-2.0 */
/* A big request in progress must not hold up anyone else: healthz probes while it runs. */
#include "probe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exchange.h"
#include "http_client.h"

struct probe_job {
	void (*send)(void *arg);
	void *arg;
};

static void *probe_job_main(void *arg)
{
	struct probe_job *j = arg;

	j->send(j->arg);
	return NULL;
}

long probe_while(int port, void (*send)(void *arg), void *arg)
{
	struct probe_job job = { send, arg };
	struct http_response r = { 0 };
	long worst = 0;
	pthread_t t;

	if (pthread_create(&t, NULL, probe_job_main, &job) != 0)
		return -1;
	/* Several probes: one of them lands while the loop works on the request. */
	for (int i = 0; i < 10; i++) {
		long start, took;

		xsleep_ms(100);
		start = xnow_ms();
		if (http_request(port, "GET", "/v1.0/healthz", NULL, NULL, 0, &r) != 0 || r.status != 204)
			worst = -1;
		took = xnow_ms() - start;
		http_response_free(&r);
		if (worst >= 0 && took > worst)
			worst = took;
	}
	pthread_join(t, NULL);
	return worst;
}

struct probe_post {
	int port;
	const char *path, *body;
	size_t len;
	int status;
	char *answer;
};

static void probe_post_send(void *arg)
{
	struct probe_post *p = arg;
	struct http_response r = { 0 };

	p->status = http_request(p->port, "POST", p->path, "Content-Type: application/json\r\n", p->body, p->len,
				 &r) < 0
			    ? -1
			    : r.status;
	p->answer = r.body != NULL ? strdup(r.body) : NULL;
	http_response_free(&r);
}

long probe_post(int port, const char *path, const char *body, size_t len, int *status, char **answer)
{
	struct probe_post p = { port, path, body, len, 0, NULL };
	long worst = probe_while(port, probe_post_send, &p);

	*status = p.status;
	*answer = p.answer;
	return worst;
}
