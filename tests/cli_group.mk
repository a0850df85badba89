# SPDX-License-Identifier: Apache-2.0
# cli_group: `outrig run` stops the app's whole process group (stop, Ctrl-C, app exit).
TESTS += tests/cli_group.sh
EXTRA_DIST += tests/cli_group.sh
