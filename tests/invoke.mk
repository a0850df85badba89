# SPDX-License-Identifier: Apache-2.0
# Service invocation through real outrigd processes: to self, between sidecars, and failures.
check_PROGRAMS += tests/check_invoke
TESTS += tests/check_invoke

tests_check_invoke_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_invoke_CFLAGS = $(TEST_CFLAGS)
tests_check_invoke_SOURCES = tests/check_invoke.c
tests_check_invoke_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)

# The internal protocol's one description (sidecar to sidecar).
EXTRA_DIST += core/api/internal/internal_protocol.md

# The invocation block called directly (no front end), in front of a real echo app.
check_PROGRAMS += tests/blocks/check_invoke_block
TESTS += tests/blocks/check_invoke_block
tests_blocks_check_invoke_block_CPPFLAGS = $(TEST_CPPFLAGS)
tests_blocks_check_invoke_block_CFLAGS = $(TEST_CFLAGS)
tests_blocks_check_invoke_block_SOURCES = tests/blocks/check_invoke_block.c
tests_blocks_check_invoke_block_LDADD = tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS)

# One table of invocation cases through both front ends: HTTP /v1.0/invoke and gRPC InvokeService.
check_PROGRAMS += tests/blocks/check_invoke_transports
TESTS += tests/blocks/check_invoke_transports
tests_blocks_check_invoke_transports_CPPFLAGS = $(TEST_CPPFLAGS)
tests_blocks_check_invoke_transports_CFLAGS = $(TEST_CFLAGS)
tests_blocks_check_invoke_transports_SOURCES = tests/blocks/check_invoke_transports.c
tests_blocks_check_invoke_transports_LDADD = tests/lib/libgrpcclient.a tests/lib/libtesthelp.a \
	core/liboutrigcore.a $(TEST_LIBS)

# Resiliency policies end to end: invocation (HTTP and gRPC) and a state store on a stopped Redis.
check_PROGRAMS += tests/check_resiliency_e2e
TESTS += tests/check_resiliency_e2e
tests_check_resiliency_e2e_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_resiliency_e2e_CFLAGS = $(TEST_CFLAGS)
tests_check_resiliency_e2e_SOURCES = tests/check_resiliency_e2e.c
tests_check_resiliency_e2e_LDADD = tests/lib/libgrpcclient.a tests/lib/libtesthelp.a \
	core/liboutrigcore.a $(TEST_LIBS)

# Configuration spec.accessControl, spec.api and spec.components through real outrigd processes (issue 15).
check_PROGRAMS += tests/check_acl
TESTS += tests/check_acl
tests_check_acl_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_acl_CFLAGS = $(TEST_CFLAGS)
tests_check_acl_SOURCES = tests/check_acl.c
tests_check_acl_LDADD = tests/lib/libgrpcclient.a tests/lib/libtesthelp.a core/liboutrigcore.a $(TEST_LIBS)
