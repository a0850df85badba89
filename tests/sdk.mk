# SPDX-License-Identifier: Apache-2.0
# The SDK as a third party meets it: install, build a plugin out of tree, load it.
TESTS += tests/sdk_out_of_tree.sh
EXTRA_DIST += tests/sdk_out_of_tree.sh
EXTRA_DIST += tests/data/components/in-memory/mem.yaml
