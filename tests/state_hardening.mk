# SPDX-License-Identifier: Apache-2.0
# The state API against hostile or oversized requests (issue 11): NULs in names, big saves and
# bulk gets, error texts, capabilities.
check_PROGRAMS += tests/check_state_hardening
TESTS += tests/check_state_hardening

tests_check_state_hardening_CPPFLAGS = $(TEST_CPPFLAGS)
tests_check_state_hardening_CFLAGS = $(TEST_CFLAGS)
tests_check_state_hardening_SOURCES = tests/check_state_hardening.c
tests_check_state_hardening_LDADD = tests/lib/libtesthelp.a $(TEST_LIBS)

check_PROGRAMS += tests/unit/check_state_json_text
TESTS += tests/unit/check_state_json_text
tests_unit_check_state_json_text_SOURCES = tests/unit/check_state_json_text.c core/blocks/state/state_json_text.c
tests_unit_check_state_json_text_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_check_state_json_text_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_state_json_text_LDADD = $(TEST_LIBS)

# check_hostile_metadata: 100,000 metadata keys through HTTP and gRPC into the state and secrets blocks.
check_PROGRAMS += tests/blocks/check_hostile_metadata
TESTS += tests/blocks/check_hostile_metadata
tests_blocks_check_hostile_metadata_CPPFLAGS = $(TEST_CPPFLAGS)
tests_blocks_check_hostile_metadata_CFLAGS = $(TEST_CFLAGS)
tests_blocks_check_hostile_metadata_SOURCES = tests/blocks/check_hostile_metadata.c
tests_blocks_check_hostile_metadata_LDADD = tests/lib/libgrpcclient.a tests/lib/libtesthelp.a $(TEST_LIBS) \
	$(NGHTTP2_LIBS)
