#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# state.sqlite and its own tables (plugins/common/sqlite_layout.c, shared with nameresolution.sqlite): a new file
# gets the table and its layout version; a table of another layout, a newer layout and a read-only file without
# the table are refused by `outrigd --check-create`, each naming the table and what to do.
set -u

srcdir=${OUTRIG_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
outrigd=${OUTRIGD:-$srcdir/core/outrigd}
plugins=${OUTRIG_PLUGIN_PATH:-$srcdir/plugins/.libs}

# pass, fail, summary, cli_sandbox (for $tmp).
. "$srcdir/tests/lib/test_sh_lib.sh"
cli_sandbox sqlite_layout

sql() {
	python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); r = c.execute(sys.argv[2]).fetchall(); c.commit(); print("\n".join("|".join(str(v) for v in row) for row in r))' "$@"
}

# check NAME DB_URI: `outrigd --check-create` on one state.sqlite component over DB_URI; output in $tmp/NAME.out.
check() {
	mkdir -p "$tmp/$1"
	cat >"$tmp/$1/store.yaml" <<YAML
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: store
spec:
  type: state.sqlite
  version: v1
  metadata:
  - name: connectionString
    value: "$2"
YAML
	"$outrigd" --check-create --resources-path "$tmp/$1" --plugin-dir "$plugins" --app-id layout >"$tmp/$1.out" 2>&1
}

if check fresh "$tmp/fresh.db" && [ "$(sql "$tmp/fresh.db" "SELECT value FROM metadata WHERE key = 'outrig-schema-state'")" = 1 ] &&
	[ "$(sql "$tmp/fresh.db" "SELECT count(*) FROM sqlite_master WHERE name = 'state'")" = 1 ]; then
	pass "a new file gets the state table and its layout version"
else
	fail "a new file gets the state table and its layout version" "$tmp/fresh.out"
fi
if check again "$tmp/fresh.db"; then
	pass "a table of this layout is taken as it is"
else
	fail "a table of this layout is taken as it is" "$tmp/again.out"
fi

# daprd's own SQLite state table.
sql "$tmp/foreign.db" "CREATE TABLE state (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL, is_binary BOOLEAN NOT NULL, etag TEXT NOT NULL, expiration_time TIMESTAMP DEFAULT NULL, update_time TIMESTAMP DEFAULT NULL)" >/dev/null
if ! check foreign "$tmp/foreign.db" &&
	grep -q 'table "state" exists but was not created by outrig (daprd.*set tableName to a new table' "$tmp/foreign.out"; then
	pass "a table of another layout is refused, naming it and tableName"
else
	fail "a table of another layout is refused, naming it and tableName" "$tmp/foreign.out"
fi

cp "$tmp/fresh.db" "$tmp/newer.db"
sql "$tmp/newer.db" "UPDATE metadata SET value = '7' WHERE key = 'outrig-schema-state'" >/dev/null
if ! check newer "$tmp/newer.db" &&
	grep -q 'table "state" has layout version 7, newer than this plugin.s 1; upgrade outrigd' "$tmp/newer.out"; then
	pass "a newer layout is refused: upgrade outrigd"
else
	fail "a newer layout is refused: upgrade outrigd" "$tmp/newer.out"
fi

sql "$tmp/empty.db" "CREATE TABLE other (x)" >/dev/null
if ! check readonly "file:$tmp/empty.db?mode=ro" &&
	grep -q 'read-only and has no table "state"; open it read-write once' "$tmp/readonly.out"; then
	pass "a read-only file without the table is refused: open it read-write once"
else
	fail "a read-only file without the table is refused: open it read-write once" "$tmp/readonly.out"
fi

summary
