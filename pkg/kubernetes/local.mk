# SPDX-License-Identifier: Apache-2.0
# Kubernetes manifests (an app with outrigd as its sidecar), checked as YAML and by outrigd --check.
TESTS += tests/pkg/kubernetes_manifests.sh
EXTRA_DIST += pkg/kubernetes/app.yaml pkg/kubernetes/components.yaml pkg/kubernetes/secret.yaml \
	tests/pkg/kubernetes_manifests.sh tests/pkg/kubernetes_manifests.py
