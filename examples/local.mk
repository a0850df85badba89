# SPDX-License-Identifier: Apache-2.0
# Example apps (shipped in the tarball) and `make run-example` to try one on the built tree.
EXTRA_DIST += \
	examples/counter/README.md \
	examples/counter/counter.sh
# Not an example, but shipped the same way: the build's Debian dependencies.
EXTRA_DIST += pkg/debian-deps.sh

# Run it twice to see the count carry on: the default store is SQLite under $XDG_DATA_HOME/outrig.
run-example: all
	$(abs_top_builddir)/core/outrig run --app-id counter \
		--plugin-dir $(abs_top_builddir)/plugins/.libs \
		-- $(abs_top_srcdir)/examples/counter/counter.sh
.PHONY: run-example
