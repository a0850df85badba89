# SPDX-License-Identifier: Apache-2.0
# `make bench`: wrk benchmarks of the state API through the outrigd just built (bench/README.md reads the figures).
EXTRA_DIST += bench/state_bench.sh bench/state.lua bench/README.md \
	bench/state_remote_bench.sh bench/capture_ops.pl bench/bench_lib.sh

.PHONY: bench
# Not part of `make check`: it takes minutes, needs wrk and wants a quiet machine. The second script
# starts its own redis-server and PostgreSQL, and skips whichever it cannot find.
bench: all
	OUTRIGD='$(abs_top_builddir)/core/outrigd' \
	OUTRIG_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs' \
		bash '$(abs_top_srcdir)/bench/state_bench.sh'
	OUTRIGD='$(abs_top_builddir)/core/outrigd' \
	OUTRIG_PLUGIN_PATH='$(abs_top_builddir)/plugins/.libs' \
		bash '$(abs_top_srcdir)/bench/state_remote_bench.sh'
