# SPDX-License-Identifier: Apache-2.0
# Distributed tracing end to end (included from tests/local.mk): two outrigd, a Zipkin and an OTLP/HTTP receiver
# written in the test (Python's standard library only), invocation, publish and delivery, sampling, a dead collector.
TESTS += tests/trace/check_tracing.py
EXTRA_DIST += tests/trace/check_tracing.py tests/trace/grpc_call.mjs tests/trace/grpc_app.mjs

# The trace module alone: parsing, formatting, sampling, held spans, Zipkin JSON.
check_PROGRAMS += tests/unit/check_trace
TESTS += tests/unit/check_trace
tests_unit_check_trace_SOURCES = tests/unit/check_trace.c
tests_unit_check_trace_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_trace_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_trace_LDADD = core/liboutrigcore.a $(TEST_LIBS)
