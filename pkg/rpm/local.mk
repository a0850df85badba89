# SPDX-License-Identifier: Apache-2.0
# RPM packaging: pkg/build-rpm.sh builds the spec from a make dist tarball (CI runs it, then rpmlint).
EXTRA_DIST += pkg/build-rpm.sh pkg/rpm/outrig.spec pkg/rpm/outrig.sysusers pkg/rpm/outrig.rpmlintrc
