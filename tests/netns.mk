# SPDX-License-Identifier: Apache-2.0
# Service invocation between two hosts in network namespaces, through nameresolution.kubernetes (included from
# tests/local.mk). Needs root, iproute2 and dnsmasq; skips itself without them (fails under OUTRIG_REQUIRE_SERVERS=1).
TESTS += tests/netns_invoke.sh tests/netns_mtls.sh
EXTRA_DIST += tests/netns_invoke.sh tests/lib/test_sh_lib.sh tests/lib/netns_lib.sh \
	tests/data/netns/config.yaml \
	tests/data/netns/dnsmasq.conf \
	tests/data/netns/echo_app.py \
	tests/netns_mtls.sh tests/data/netns_mtls/config.yaml tests/data/netns_mtls/plain.yaml \
	tests/data/netns_mtls/dnsmasq.conf
