# SPDX-License-Identifier: Apache-2.0
# check_state_block: the state block's API (core/blocks/state/state.h) without a front end, on the
# real loader, state.in-memory plugin, workers and lanes.
check_PROGRAMS += tests/blocks/check_state_block
TESTS += tests/blocks/check_state_block
# core/ first: this program uses the core's runtime.h.
tests_blocks_check_state_block_CPPFLAGS = $(CORE_CPPFLAGS) -I$(top_srcdir)/tests/lib
tests_blocks_check_state_block_CFLAGS = $(TEST_CFLAGS)
tests_blocks_check_state_block_SOURCES = tests/blocks/check_state_block.c
tests_blocks_check_state_block_LDADD = core/liboutrigcore.a $(TEST_LIBS) $(PTHREAD_LIBS)

# check_grpc_nul: the gRPC front ends' refusal of NULs inside string fields (core/api/grpc/grpc_nul.c),
# on hand-made wire bytes of Dapr's messages.
check_PROGRAMS += tests/unit/check_grpc_nul
TESTS += tests/unit/check_grpc_nul
tests_unit_check_grpc_nul_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_grpc_nul_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_grpc_nul_SOURCES = tests/unit/check_grpc_nul.c
tests_unit_check_grpc_nul_LDADD = core/liboutrigcore.a $(TEST_LIBS)
