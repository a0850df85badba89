# SPDX-License-Identifier: Apache-2.0
# The outrig CLI, end to end against the real outrigd (included from tests/local.mk).
TESTS += tests/cli_run.sh tests/cli_list.sh
EXTRA_DIST += tests/cli_run.sh tests/cli_list.sh tests/lib/test_sh_lib.sh
