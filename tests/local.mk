# SPDX-License-Identifier: Apache-2.0
# The test suite: unit tests per core module, plugin loader tests, integration and conformance tests.
# tests/lib first: its server.h (real test servers) must win over core headers of the same name.
TEST_CPPFLAGS = -I$(top_srcdir)/tests/lib $(CORE_CPPFLAGS)
TEST_CFLAGS = $(CORE_CFLAGS) $(CHECK_CFLAGS)
TEST_LIBS = $(CHECK_LIBS) $(CORE_LIBS)

# What every test program and script finds in its environment.
AM_TESTS_ENVIRONMENT = \
	OUTRIGD='$(abs_top_builddir)/core/outrigd'; export OUTRIGD; \
	OUTRIG_CLI='$(abs_top_builddir)/core/outrig'; export OUTRIG_CLI; \
	OUTRIG_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs'; export OUTRIG_PLUGIN_PATH; \
	OUTRIG_TEST_PLUGIN_DIR='$(abs_top_builddir)/tests/plugins/.libs'; export OUTRIG_TEST_PLUGIN_DIR; \
	OUTRIG_TEST_DATA='$(abs_top_srcdir)/tests/data'; export OUTRIG_TEST_DATA; \
	OUTRIG_SRCDIR='$(abs_top_srcdir)'; export OUTRIG_SRCDIR; \
	OUTRIG_BUILDDIR='$(abs_top_builddir)'; export OUTRIG_BUILDDIR; \
	CK_DEFAULT_TIMEOUT=60; export CK_DEFAULT_TIMEOUT;

include tests/resources.mk
include tests/loader.mk
include tests/integration.mk
include tests/redis.mk
include tests/postgresql.mk
include tests/faults.mk
include tests/pubsub.mk
include tests/pubsub_api.mk
include tests/mqtt3.mk
include tests/invoke.mk
include tests/app_token.mk
include tests/app_tls.mk
include tests/trace.mk
include tests/daemon_stop.mk
include tests/app_answers.mk
include tests/nr_sqlite.mk
include tests/sqlite_layout.mk
include tests/nr_kubernetes.mk
include tests/netns.mk
include tests/bindings.mk
include tests/secrets.mk
include tests/reload.mk
include tests/reload_swap.mk
include tests/kafka.mk
include tests/cron.mk
include tests/cli.mk
include tests/metrics.mk
include tests/sdk.mk
include tests/interop.mk
include tests/unit.mk
include tests/config.mk
include tests/http_hardening.mk
include tests/hardening_yaml.mk
include tests/kafka_deprecated.mk
include tests/cli_group.mk
include tests/state_hardening.mk
include tests/state_block.mk
include tests/pubsub_hardening.mk
include tests/secret_flatten.mk
include tests/fuzz.mk
include tests/blocks/pubsub.mk
include tests/grpc_client.mk
include tests/grpc/local.mk
include tests/app_grpc/local.mk

# The wall between layers (shared/LAYOUT.md): blocks, components and base reach no HTTP front end.
EXTRA_DIST += tests/layout/wall.sh
check-local: check-wall
check-wall:
	$(AM_V_GEN)$(SHELL) '$(top_srcdir)/tests/layout/wall.sh' '$(top_srcdir)' $(CC) $(DEFAULT_INCLUDES) \
		$(CORE_CPPFLAGS) $(GRPC_CPPFLAGS) $(CPPFLAGS) $(CORE_CFLAGS)
.PHONY: check-wall
