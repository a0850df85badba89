# SPDX-License-Identifier: Apache-2.0
# `make bench`: benchmarks of the state, pub/sub, invocation and binding APIs through the outrigd just built (bench/README.md reads the figures).
EXTRA_DIST += bench/state_bench.sh bench/state.lua bench/README.md \
	bench/state_remote_bench.sh bench/capture_ops.pl bench/bench_lib.sh \
	bench/pubsub_bench.sh bench/invoke_bench.sh bench/mtls_bench.sh bench/binding_bench.sh bench/grpc_bench.sh \
	bench/metrics_overhead.sh

# The pub/sub bench's C helpers: built by `make bench` only, not by `make all` or `make check`.
# pubsub_direct needs paho-mqtt-c, so it comes with the pubsub.mqtt3 plugin.
EXTRA_PROGRAMS += bench/pubsub_load bench/pubsub_sink bench/pubsub_direct
BENCH_HELPERS = bench/pubsub_load$(EXEEXT) bench/pubsub_sink$(EXEEXT)
CLEANFILES += $(EXTRA_PROGRAMS)
bench_pubsub_load_SOURCES = bench/pubsub_load.c bench/http_load.c bench/http_load.h bench/pubsub_common.h
bench_pubsub_load_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
bench_pubsub_load_LDADD = $(LIBEVENT_LIBS)
bench_pubsub_sink_SOURCES = bench/pubsub_sink.c bench/pubsub_common.h
bench_pubsub_sink_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(JANSSON_CFLAGS)
bench_pubsub_sink_LDADD = $(LIBEVENT_LIBS) $(JANSSON_LIBS)
bench_pubsub_direct_SOURCES = bench/pubsub_direct.c bench/pubsub_common.h
bench_pubsub_direct_CFLAGS = $(AM_CFLAGS) $(PTHREAD_CFLAGS) $(PUBSUB_MQTT3_CFLAGS)
bench_pubsub_direct_LDADD = $(PUBSUB_MQTT3_LIBS) $(PTHREAD_LIBS)
if BUILD_PUBSUB_MQTT3
BENCH_HELPERS += bench/pubsub_direct$(EXEEXT)
endif

# The invocation bench's C helpers: app A (the load generator) and app B (the echo), also `make bench` only.
EXTRA_PROGRAMS += bench/invoke_load bench/invoke_echo
BENCH_HELPERS += bench/invoke_load$(EXEEXT) bench/invoke_echo$(EXEEXT)
bench_invoke_load_SOURCES = bench/invoke_load.c bench/http_load.c bench/http_load.h bench/pubsub_common.h
bench_invoke_load_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
bench_invoke_load_LDADD = $(LIBEVENT_LIBS)
bench_invoke_echo_SOURCES = bench/invoke_echo.c
bench_invoke_echo_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
bench_invoke_echo_LDADD = $(LIBEVENT_LIBS)

# The gRPC bench's app for gRPC proxying: an h2c server echoing every call's message (libevent and nghttp2, as outrigd).
EXTRA_PROGRAMS += bench/grpc_echo
BENCH_HELPERS += bench/grpc_echo$(EXEEXT)
bench_grpc_echo_SOURCES = bench/grpc_echo.c
bench_grpc_echo_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(NGHTTP2_CFLAGS)
bench_grpc_echo_LDADD = $(LIBEVENT_LIBS) $(NGHTTP2_LIBS)

# The binding bench's C helpers: the Kafka mock cluster, the direct producer and the HTTP load through outrigd.
# All three come with the bindings.kafka plugin (librdkafka, whose mock cluster is in the same library).
EXTRA_PROGRAMS += bench/binding_mock bench/binding_direct bench/binding_load
bench_binding_mock_SOURCES = bench/binding_mock.c
bench_binding_mock_CFLAGS = $(AM_CFLAGS) $(BINDINGS_KAFKA_CFLAGS)
bench_binding_mock_LDADD = $(BINDINGS_KAFKA_LIBS)
bench_binding_direct_SOURCES = bench/binding_direct.c bench/pubsub_common.h
bench_binding_direct_CFLAGS = $(AM_CFLAGS) $(BINDINGS_KAFKA_CFLAGS)
bench_binding_direct_LDADD = $(BINDINGS_KAFKA_LIBS)
bench_binding_load_SOURCES = bench/binding_load.c bench/http_load.c bench/http_load.h bench/pubsub_common.h
bench_binding_load_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
bench_binding_load_LDADD = $(LIBEVENT_LIBS)
if BUILD_BINDINGS_KAFKA
BENCH_HELPERS += bench/binding_mock$(EXEEXT) bench/binding_direct$(EXEEXT) bench/binding_load$(EXEEXT)
endif

.PHONY: bench
# Not part of `make check`: it takes minutes, needs wrk and wants a quiet machine. The second script
# starts its own redis-server and PostgreSQL, and skips whichever it cannot find; the third its own
# mosquitto, and skips the MQTT rows without it or without paho-mqtt-c; the fourth its own app B and two
# outrigd, and calls B from A through them and directly; the fifth librdkafka's mock cluster, and is skipped
# (with a note) without the bindings.kafka plugin.
bench: all $(BENCH_HELPERS)
	OUTRIGD='$(abs_top_builddir)/core/outrigd' \
	OUTRIG_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs' \
		bash '$(abs_top_srcdir)/bench/state_bench.sh'
	OUTRIGD='$(abs_top_builddir)/core/outrigd' \
	OUTRIG_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs' \
		bash '$(abs_top_srcdir)/bench/state_remote_bench.sh'
	OUTRIGD='$(abs_top_builddir)/core/outrigd' \
	OUTRIG_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs' \
	BENCH_BIN='$(abs_top_builddir)/bench' \
		bash '$(abs_top_srcdir)/bench/pubsub_bench.sh'
	OUTRIGD='$(abs_top_builddir)/core/outrigd' \
	OUTRIG_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs' \
	BENCH_BIN='$(abs_top_builddir)/bench' \
		bash '$(abs_top_srcdir)/bench/invoke_bench.sh'
	OUTRIGD='$(abs_top_builddir)/core/outrigd' \
	OUTRIG_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs' \
	BENCH_BIN='$(abs_top_builddir)/bench' \
		bash '$(abs_top_srcdir)/bench/binding_bench.sh'
	OUTRIGD='$(abs_top_builddir)/core/outrigd' \
	OUTRIG_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs' \
	BENCH_BIN='$(abs_top_builddir)/bench' \
		bash '$(abs_top_srcdir)/bench/grpc_bench.sh'

# `make bench-grpc`: only the gRPC-vs-HTTP bench (bench/grpc_bench.sh).
bench-grpc: all bench/invoke_echo$(EXEEXT) bench/grpc_echo$(EXEEXT)
	OUTRIGD='$(abs_top_builddir)/core/outrigd' \
	OUTRIG_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs' \
	BENCH_BIN='$(abs_top_builddir)/bench' \
		bash '$(abs_top_srcdir)/bench/grpc_bench.sh'
.PHONY: bench-grpc

# `make soak`: bench/soak.sh, SOAK_SECONDS (600) of mixed load with bad requests; RSS and descriptors must stay flat.
EXTRA_DIST += bench/soak.sh bench/soak.lua bench/tracing_overhead.sh
soak: all bench/pubsub_sink$(EXEEXT) bench/invoke_echo$(EXEEXT)
	OUTRIGD='$(abs_top_builddir)/core/outrigd' \
	OUTRIG_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs' \
	BENCH_BIN='$(abs_top_builddir)/bench' \
		bash '$(abs_top_srcdir)/bench/soak.sh'
.PHONY: soak

# `make bench-tracing`: bench/tracing_overhead.sh, invocation and state with metrics and tracing off, metrics alone,
# and metrics with tracing at 0.1 and at 1 (~2 min).
bench-tracing: all bench/invoke_echo$(EXEEXT)
	OUTRIGD='$(abs_top_builddir)/core/outrigd' \
	OUTRIG_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs' \
	BENCH_BIN='$(abs_top_builddir)/bench' \
		bash '$(abs_top_srcdir)/bench/tracing_overhead.sh'
.PHONY: bench-tracing
# What recording one request's metrics costs (bench/metrics_overhead.sh), `make bench` only.
EXTRA_PROGRAMS += bench/metrics_record
BENCH_HELPERS += bench/metrics_record$(EXEEXT)
bench_metrics_record_SOURCES = bench/metrics_record.c core/observe/metrics.c core/observe/dapr_metrics.c \
	core/base/log.c
bench_metrics_record_CPPFLAGS = $(CORE_CPPFLAGS)
bench_metrics_record_CFLAGS = $(CORE_CFLAGS)
bench_metrics_record_LDADD = $(CORE_LIBS)
