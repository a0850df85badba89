# SPDX-License-Identifier: Apache-2.0
# sqlite_layout.sh: state.sqlite's own tables (plugins/common/sqlite_layout.c), through outrigd --check-create.
if BUILD_STATE_SQLITE
TESTS += tests/sqlite_layout.sh
endif
EXTRA_DIST += tests/sqlite_layout.sh
