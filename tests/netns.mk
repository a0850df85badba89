# SPDX-License-Identifier: Apache-2.0
# Service invocation between two hosts in network namespaces, through nameresolution.kubernetes (included from
# tests/local.mk). Needs root, iproute2 and dnsmasq; skips itself without them (fails under OUTRIG_REQUIRE_SERVERS=1).
TESTS += tests/netns_invoke.sh
EXTRA_DIST += tests/netns_invoke.sh tests/lib/test_sh_lib.sh \
	tests/data/netns/config.yaml \
	tests/data/netns/dnsmasq.conf \
	tests/data/netns/echo_app.py
