# SPDX-License-Identifier: Apache-2.0
# The outrig CLI, end to end against the real outrigd (included from tests/local.mk).
TESTS += tests/cli_run.sh tests/cli_list.sh tests/cli_runfile.sh
EXTRA_DIST += tests/cli_run.sh tests/cli_list.sh tests/cli_runfile.sh tests/lib/test_sh_lib.sh \
	tests/data/runfile/dapr.yaml tests/data/runfile/components/statestore.yaml \
	tests/data/runfile/orders/app.py tests/data/runfile/checkout/app.py
