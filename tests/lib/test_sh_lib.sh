# SPDX-License-Identifier: Apache-2.0
# What the shell tests (tests/cli_run.sh, tests/cli_list.sh, tests/cli_group.sh, tests/netns_invoke.sh) share:
# counting and reporting cases in TAP's "ok - NAME" / "not ok - NAME" lines, waiting for a process to end,
# and the CLI tests' private folders. Sourced, not run:
# `. "$srcdir/tests/lib/test_sh_lib.sh"`.
# shellcheck shell=sh

passed=0
failed=0

# pass NAME: counts a case that passed.
pass() {
	passed=$((passed + 1))
	echo "ok - $1"
}

# fail NAME [FILE...]: counts a case that failed and shows what it produced (each non-empty FILE, indented) to say why.
fail() {
	failed=$((failed + 1))
	echo "not ok - $1"
	shift
	for f in "$@"; do
		if [ -s "$f" ]; then
			echo "#   --- $(basename "$f")"
			sed 's/^/#   /' "$f"
		fi
	done
}

# summary: prints the counts; its status is the test's (0 when no case failed).
summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}

# gone PID TENTHS: waits up to TENTHS tenths of a second for process PID to end; status 0 once it has, 1 if it still runs.
gone() {
	_gone_i=0
	while [ "$_gone_i" -lt "$2" ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		_gone_i=$((_gone_i + 1))
	done
	! kill -0 "$1" 2>/dev/null
}

# cli_sandbox NAME: a temporary folder $tmp, removed at exit with every process listed in $bgs killed,
# and run records and stores of the tests' own there: the user's runs are neither seen nor touched.
cli_sandbox() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	bgs=
	trap cli_sandbox_cleanup EXIT
	XDG_RUNTIME_DIR=$tmp/rt
	XDG_DATA_HOME=$tmp/data
	export XDG_RUNTIME_DIR XDG_DATA_HOME
	unset DAPR_API_TOKEN APP_API_TOKEN
}

# cli_sandbox_cleanup: cli_sandbox's exit trap.
cli_sandbox_cleanup() {
	for _p in $bgs; do
		kill -KILL "$_p" 2>/dev/null
	done
	rm -rf "$tmp"
}
