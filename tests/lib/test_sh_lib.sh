# SPDX-License-Identifier: Apache-2.0
# What the shell tests (tests/cli_run.sh, tests/cli_list.sh, tests/cli_group.sh, tests/netns_invoke.sh) share:
# counting and reporting cases in TAP's "ok - NAME" / "not ok - NAME" lines, waiting for a process to end or
# a log line, a free port,
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

# gone PID [TENTHS]: waits up to TENTHS (default 100) tenths of a second for process PID to end; status 0 once
# it has, 1 if it still runs. A zombie counts as gone: a test's own child is reaped only when the shell waits.
gone() {
	_gone_i=0
	while [ "$_gone_i" -lt "${2:-100}" ] && kill -0 "$1" 2>/dev/null; do
		case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) in
		Z*) return 0 ;;
		esac
		sleep 0.1
		_gone_i=$((_gone_i + 1))
	done
	! kill -0 "$1" 2>/dev/null
}

# wait_for_line FILE PATTERN: waits up to 30 s for a line matching PATTERN (grep -E) in FILE; 0 once there is one.
wait_for_line() {
	_wait_i=0
	while [ "$_wait_i" -lt 300 ]; do
		if grep -Eq "$2" "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
		_wait_i=$((_wait_i + 1))
	done
	return 1
}

# free_port: prints a TCP port free on 127.0.0.1 now (the kernel's pick).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
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
