# SPDX-License-Identifier: Apache-2.0
# Packaging: systemd units (installed by the packages, whose paths they name), Debian packaging, and
# the tests that the shipped configuration and units are valid.
TESTS += tests/pkg/conf_check.sh tests/pkg/systemd_verify.sh
EXTRA_DIST += tests/pkg/conf_check.sh tests/pkg/systemd_verify.sh \
	pkg/systemd/outrigd.service pkg/systemd/outrigd@.service pkg/build-deb.sh pkg/deb-install-test.sh pkg/debian \
	pkg/container/build-image.sh
