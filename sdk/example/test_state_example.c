/* SPDX-License-Identifier: Apache-2.0 */
/* Unit test of state_example.so without outrigd: the real .so, driven through the SDK's fake host. */
#include <stdio.h>
#include <string.h>

#include "outrig_fake_host.h"

static int failures;

#define CHECK(cond)                                                                                          \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond,   \
				err.message);                                                                \
			failures++;                                                                          \
		}                                                                                            \
	} while (0)

int main(int argc, char **argv)
{
	struct outrig_fake_host fake;
	struct outrig_fake_config cfg;
	struct outrig_error err = { "" };
	struct outrig_state_set set = { .key = "app||k", .value = "\"one\"", .value_len = 5 };
	struct outrig_state_get get = { .key = "app||k" };
	struct outrig_state_delete del = { .key = "app||k" };
	struct outrig_state_value out = { 0 };
	const char *const bad[] = { "maxItems", "0", NULL };
	const char *const small[] = { "maxItems", "1", "sweepInterval", "1s", NULL };
	const struct outrig_plugin *d = outrig_fake_open(argc > 1 ? argv[1] : "./state_example.so", &err);
	char etag[32];
	void *store = NULL;

	if (d == NULL) {
		fprintf(stderr, "cannot open the plugin: %s\n", err.message);
		return 1;
	}
	CHECK(strcmp(d->type, "state.example") == 0);
	outrig_fake_init(&fake, "store", "/tmp");
	fake.quiet = true;

	/* check() and create() refuse the same bad metadata, naming the field. */
	CHECK(outrig_fake_config(&cfg, d, "store", "v1", bad, &err) == 0);
	CHECK(d->check(&fake.host, &fake.self, &cfg.config, &err) == OUTRIG_EINVAL);
	CHECK(strstr(err.message, "maxItems") != NULL);
	CHECK(d->create(&fake.host, &fake.self, &cfg.config, &store, &err) == OUTRIG_EINVAL);

	CHECK(outrig_fake_config(&cfg, d, "store", "v1", small, &err) == 0);
	CHECK(d->create(&fake.host, &fake.self, &cfg.config, &store, &err) == 0);
	if (store == NULL)
		return 1;
	CHECK(fake.ntimers == 1 && fake.timers[0].interval_ms == 1000);

	/* Save, read back with its etag; a stale etag conflicts; maxItems is enforced. */
	CHECK(d->state->set(store, &set, &err) == 0);
	CHECK(d->state->get(store, &get, &out, &err) == 0);
	CHECK(out.found && out.data.len == 5 && memcmp(out.data.data, "\"one\"", 5) == 0);
	snprintf(etag, sizeof(etag), "%s", out.etag.data != NULL ? (char *)out.etag.data : "");
	set.etag = "999";
	CHECK(d->state->set(store, &set, &err) == OUTRIG_ECONFLICT);
	set.etag = etag;
	CHECK(d->state->set(store, &set, &err) == 0);
	set.key = "app||other";
	set.etag = NULL;
	CHECK(d->state->set(store, &set, &err) == OUTRIG_EUNAVAIL);

	/* A TTL runs on the host's clock: move it past the expiry and the key is gone. */
	set.key = "app||k";
	set.has_ttl = true;
	set.ttl_seconds = 10;
	CHECK(d->state->set(store, &set, &err) == 0);
	fake.now_unix_ms = fake.host.now_unix_ms() + 11000;
	outrig_fake_run_timers(&fake, store);
	CHECK(d->state->get(store, &get, &out, &err) == 0 && !out.found);
	fake.now_unix_ms = 0;

	/* Deleting a missing key without an etag is success, as Dapr says. */
	CHECK(d->state->delete (store, &del, &err) == 0);

	outrig_fake_bytes_free(&out.data);
	outrig_fake_bytes_free(&out.etag);
	d->destroy(store);
	if (failures == 0)
		printf("state_example: all checks passed\n");
	return failures == 0 ? 0 : 1;
}
