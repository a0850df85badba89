#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The manifests of pkg/kubernetes: parsed as YAML and checked against each other and against what
# outrigd and nameresolution.kubernetes expect (tests/pkg/kubernetes_manifests.py), then outrigd
# --check runs with the sidecar container's arguments on the ConfigMaps laid out as the kubelet
# mounts them. No cluster is involved. Skips (77) without a python3 that has PyYAML (Debian: python3-yaml).
# ok and not_ok always succeed, so "test && ok || not_ok" is a plain if-else here.
# shellcheck disable=SC2015
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
outrigd=${OUTRIGD:-$srcdir/core/outrigd}

python=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml' 2>/dev/null; then
		python=$p
		break
	fi
done
if [ -z "$python" ]; then
	echo "SKIP: no python3 with PyYAML (Debian: python3-yaml)"
	exit 77
fi

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	sed 's/^/#   /' "$tmp/check.log"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/outrig-k8s-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$python" "$srcdir/tests/pkg/kubernetes_manifests.py" "$srcdir/pkg/kubernetes" "$tmp" >"$tmp/cases" 2>&1
status=$?
cat "$tmp/cases"
passed=$(grep -c '^ok - ' "$tmp/cases")
failed=$(grep -c '^not ok - ' "$tmp/cases")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
	echo "not ok - the manifest checker ran to its end (status $status)"
fi

# The sidecar's command line, as the pod runs it, on the mounted files. NAMESPACE as the downward API sets it.
if [ -s "$tmp/args" ]; then
	# shellcheck disable=SC2046 # one argument a line, none with blanks
	if NAMESPACE=default "$outrigd" --check $(cat "$tmp/args") --log-level=debug >"$tmp/check.log" 2>&1; then
		ok "outrigd --check accepts the sidecar's arguments and the mounted ConfigMaps"
	else
		not_ok "outrigd --check accepts the sidecar's arguments and the mounted ConfigMaps"
	fi
	# Every file of the ConfigMap read through the kubelet's symlinks, nothing else (..data is no file).
	for c in "statestore (state.sqlite/" "pubsub (pubsub.in-memory/" "secretstore (secretstores.local.file/"; do
		grep -qF "/components/${c%% *}.yaml:1: component $c" "$tmp/check.log" &&
			ok "outrigd --check read component ${c%% *} through the ConfigMap's symlinks" ||
			not_ok "outrigd --check read component ${c%% *} through the ConfigMap's symlinks"
	done
	grep -q '^outrigd --check: 3 components, .* OK, 0 warnings$' "$tmp/check.log" &&
		ok "outrigd --check: the 3 components, no warning" || not_ok "outrigd --check: the 3 components, no warning"
	grep -q 'loaded .*/nameresolution_kubernetes.so' "$tmp/check.log" &&
		ok "the Configuration loads nameresolution.kubernetes" ||
		not_ok "the Configuration loads nameresolution.kubernetes"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
