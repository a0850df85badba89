#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `make fuzz`: builds the libFuzzer targets with clang (ASan+UBSan) in build-fuzz/, then runs each
# for FUZZ_SECONDS on a copy of its seed corpus; fails when any target finds something.
#   FUZZ_SECONDS (30)  FUZZ_TARGETS (all: http internal json_bodies cloudevent yaml rules cron secret_flatten grpc)
#   FUZZ_JOBS (2: make's -j)  FUZZ_CC (clang)
set -eu
srcdir=${FUZZ_SRCDIR:?run me through make fuzz}
builddir=${FUZZ_BUILDDIR:?run me through make fuzz}
seconds=${FUZZ_SECONDS:-30}
targets=${FUZZ_TARGETS:-"http internal json_bodies cloudevent yaml rules cron secret_flatten grpc"}
jobs=${FUZZ_JOBS:-2}
cc=${FUZZ_CC:-clang}
MAKE=${MAKE:-make}
out=$builddir/build-fuzz
src=$out/src

command -v "$cc" >/dev/null || { echo "make fuzz: $cc not found; install clang and libfuzzer-14-dev" >&2; exit 1; }

# The clang build is made from this tree's distribution files in a folder of its own: a source
# tree configured in place refuses a second build folder. Files that did not change keep their
# times, so a second `make fuzz` rebuilds only what changed.
echo "make fuzz: copying the tree to $src"
rm -rf "$out/dist"
mkdir -p "$out"
$MAKE -s -C "$builddir" distdir distdir="$out/dist" >/dev/null
(cd "$out/dist" && find . -type f) | while read -r f; do
	if ! cmp -s "$out/dist/$f" "$src/$f"; then
		mkdir -p "$(dirname "$src/$f")"
		cp -p "$out/dist/$f" "$src/$f"
	fi
done
rm -rf "$out/dist"

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
if [ ! -f "$src/Makefile" ]; then
	echo "make fuzz: configuring a $cc build in $src"
	# Only the plugins the HTTP target loads are built; the rest would only cost time.
	(cd "$src" && ./configure CC="$cc" CFLAGS="-g -O1 -fsanitize=fuzzer-no-link $san" LDFLAGS="$san" \
		--disable-state-redis --disable-state-postgresql --disable-pubsub-mqtt3 \
		--disable-nameresolution-kubernetes --disable-bindings-kafka >"$out/configure.log" 2>&1) ||
		{ tail -30 "$out/configure.log"; exit 1; }
fi
progs=
for t in $targets; do progs="$progs tests/fuzz/fuzz_$t"; done
echo "make fuzz: building$progs"
# Named targets skip BUILT_SOURCES: make protoc-c's headers first, or a parallel build may compile a file that
# includes one before it exists.
$MAKE -s -C "$src" core/proto/protoc-c.stamp >"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
# shellcheck disable=SC2086 # $progs is a list
$MAKE -s -C "$src" -j"$jobs" plugins/state_in_memory.la plugins/pubsub_in_memory.la \
	plugins/nameresolution_sqlite.la $progs >"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }

# Plugins are dlopened and never unloaded: leak reports can name them.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:verify_asan_link_order=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export OUTRIG_PLUGIN_PATH="$src/plugins/.libs"
failed=
mkdir -p "$out/findings"
for t in $targets; do
	# libFuzzer adds what it finds to its corpus folder: give it a copy, never the seeds in git.
	work=$(mktemp -d "${TMPDIR:-/tmp}/outrig-fuzz-$t.XXXXXX")
	cp -R "$srcdir/tests/fuzz/corpus/$t/." "$work/"
	log="$out/fuzz_$t.log"
	# Inputs past 64 KiB find nothing small ones do not, and make each run slower.
	if "$src/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 -artifact_prefix="$out/findings/$t-" "$work" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		echo "fuzz_$t: ok, $runs inputs in $seconds s (log: $log)"
	else
		echo "fuzz_$t: FOUND SOMETHING (log: $log; input saved under $out/findings/)"
		grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error|artifact_prefix|Test unit written)" "$log" | head -20
		failed="$failed $t"
	fi
	rm -rf "$work"
done
if [ -n "$failed" ]; then
	echo "make fuzz: findings in:$failed (reproduce: $src/tests/fuzz/fuzz_<target> <saved input>)"
	exit 1
fi
echo "make fuzz: no findings"
