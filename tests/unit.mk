# SPDX-License-Identifier: Apache-2.0
# Unit tests of single core modules, one check_<module> program each, linked with only what it needs.

check_PROGRAMS += tests/unit/check_duration
TESTS += tests/unit/check_duration
tests_unit_check_duration_SOURCES = tests/unit/check_duration.c core/base/duration.c
tests_unit_check_duration_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_duration_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_duration_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_config_map
TESTS += tests/unit/check_config_map
tests_unit_check_config_map_SOURCES = tests/unit/check_config_map.c core/components/config_map.c \
	core/base/diag.c core/base/duration.c
tests_unit_check_config_map_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_config_map_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_config_map_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_state_keys
TESTS += tests/unit/check_state_keys
tests_unit_check_state_keys_SOURCES = tests/unit/check_state_keys.c core/blocks/state/state_keys.c
tests_unit_check_state_keys_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_state_keys_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_state_keys_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_state_item
TESTS += tests/unit/check_state_item
tests_unit_check_state_item_SOURCES = tests/unit/check_state_item.c core/blocks/state/state_item.c \
	core/api/http/api_state_body.c core/blocks/state/state_json_text.c \
	core/base/kv.c core/api/http/http_query.c core/blocks/state/state_keys.c core/api/http/http_errors.c core/blocks/errors.c
tests_unit_check_state_item_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_state_item_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_state_item_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_options
TESTS += tests/unit/check_options
tests_unit_check_options_SOURCES = tests/unit/check_options.c core/options.c core/base/log.c core/base/duration.c
tests_unit_check_options_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_options_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_options_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_workers
TESTS += tests/unit/check_workers
tests_unit_check_workers_SOURCES = tests/unit/check_workers.c core/base/workers.c
tests_unit_check_workers_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_workers_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_workers_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_http_errors
TESTS += tests/unit/check_http_errors
tests_unit_check_http_errors_SOURCES = tests/unit/check_http_errors.c core/api/http/http_errors.c core/blocks/errors.c
tests_unit_check_http_errors_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_http_errors_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_http_errors_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_cloudevent
TESTS += tests/unit/check_cloudevent
tests_unit_check_cloudevent_SOURCES = tests/unit/check_cloudevent.c core/blocks/pubsub/cloudevent.c
tests_unit_check_cloudevent_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_cloudevent_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_cloudevent_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_rules
TESTS += tests/unit/check_rules
tests_unit_check_rules_SOURCES = tests/unit/check_rules.c core/blocks/pubsub/rules.c core/blocks/pubsub/rules_eval.c \
	core/blocks/pubsub/rules_lex.c core/blocks/pubsub/rules_parse.c
tests_unit_check_rules_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_rules_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_rules_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_subscriptions
TESTS += tests/unit/check_subscriptions
tests_unit_check_subscriptions_SOURCES = tests/unit/check_subscriptions.c core/blocks/pubsub/subscriptions.c \
	core/resources/subscriptions_yaml.c core/blocks/pubsub/rules.c core/blocks/pubsub/rules_eval.c core/blocks/pubsub/rules_lex.c core/blocks/pubsub/rules_parse.c \
	core/resources/resources_yaml.c core/base/diag.c core/base/log.c
tests_unit_check_subscriptions_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_subscriptions_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_subscriptions_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_pubsub_scopes
TESTS += tests/unit/check_pubsub_scopes
tests_unit_check_pubsub_scopes_SOURCES = tests/unit/check_pubsub_scopes.c core/blocks/pubsub/pubsub_scopes.c core/base/diag.c
tests_unit_check_pubsub_scopes_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_pubsub_scopes_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_pubsub_scopes_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_handoff
TESTS += tests/unit/check_handoff
tests_unit_check_handoff_SOURCES = tests/unit/check_handoff.c core/base/handoff.c
tests_unit_check_handoff_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_handoff_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_handoff_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_invoke_request
TESTS += tests/unit/check_invoke_request
tests_unit_check_invoke_request_SOURCES = tests/unit/check_invoke_request.c \
	core/blocks/invoke/invoke_request.c core/blocks/pubsub/cloudevent.c core/base/kv.c
tests_unit_check_invoke_request_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_invoke_request_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_invoke_request_LDADD = $(TEST_LIBS)

# core/channels/app_bindings.c over a real app channel to the stand-in app of tests/lib.
check_PROGRAMS += tests/unit/check_app_bindings
TESTS += tests/unit/check_app_bindings
tests_unit_check_app_bindings_SOURCES = tests/unit/check_app_bindings.c
tests_unit_check_app_bindings_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_app_bindings_CFLAGS = $(TEST_CFLAGS) $(PTHREAD_CFLAGS)
tests_unit_check_app_bindings_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)

# core/blocks/metadata/metadata.c on a sidecar context made by the test (core/runtime.h, not tests/lib's server.h).
check_PROGRAMS += tests/unit/check_metadata_block
TESTS += tests/unit/check_metadata_block
tests_unit_check_metadata_block_SOURCES = tests/unit/check_metadata_block.c
tests_unit_check_metadata_block_CPPFLAGS = $(CORE_CPPFLAGS)
tests_unit_check_metadata_block_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_metadata_block_LDADD = core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)

# core/observe: Prometheus exposition, lock-free recording, Dapr's metric names and path labels, API log lines.
check_PROGRAMS += tests/unit/check_metrics
TESTS += tests/unit/check_metrics
tests_unit_check_metrics_SOURCES = tests/unit/check_metrics.c core/observe/metrics.c \
	core/observe/dapr_metrics.c core/observe/api_log.c core/base/log.c
tests_unit_check_metrics_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_metrics_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_metrics_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/unit/check_resiliency
TESTS += tests/unit/check_resiliency
tests_unit_check_resiliency_SOURCES = tests/unit/check_resiliency.c core/resiliency/trip.c core/resiliency/breaker.c \
	core/resiliency/resil.c core/resources/resiliency.c core/resources/resources.c core/resources/resources_yaml.c \
	core/observe/metrics.c core/observe/dapr_metrics.c \
	core/resources/resources_yaml_limits.c core/base/diag.c core/base/duration.c core/base/log.c \
	core/blocks/pubsub/subscriptions.c core/resources/subscriptions_yaml.c core/blocks/pubsub/rules.c \
	core/blocks/pubsub/rules_eval.c core/blocks/pubsub/rules_lex.c core/blocks/pubsub/rules_parse.c
tests_unit_check_resiliency_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_resiliency_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_resiliency_LDADD = $(TEST_LIBS)

# core/security/access_control.c and api_lists.c read from a real Configuration: daprd's matching and the encoded-path bypasses.
check_PROGRAMS += tests/unit/check_access_control
TESTS += tests/unit/check_access_control
tests_unit_check_access_control_SOURCES = tests/unit/check_access_control.c
tests_unit_check_access_control_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_access_control_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_access_control_LDADD = core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)
check_PROGRAMS += tests/unit/check_mtls
TESTS += tests/unit/check_mtls
tests_unit_check_mtls_SOURCES = tests/unit/check_mtls.c core/security/mtls.c core/security/spiffe.c core/security/tls_bev.c \
	core/base/log.c
tests_unit_check_mtls_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_mtls_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_mtls_LDADD = $(TEST_LIBS)
