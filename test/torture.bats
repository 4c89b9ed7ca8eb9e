#!/usr/bin/env bats
# A short run of the torture test (test/torture/, make torture for the
# long one): all five programs at once under random SIGKILLs, then the
# invariants. A failure prints the seed; SEED=N make torture replays it.

load helper

torture() {
	local t=${TORTURE:-$TOP/build/test/torture/torture}
	[ -x "$t" ] || skip "build it first: make build/test/torture/torture"
	"$t" "$@"
}

@test "torture: 15 s of random SIGKILLs break no invariant" {
	run torture -t "${TORTURE_CHECK_TIME:-15s}" -d "$BATS_TEST_TMPDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 violations: all invariants hold"* ]]
	kills=$(sed -n 's/^torture: \([0-9]*\) kills.*/\1/p' <<<"$output")
	[ "$kills" -gt 0 ]
}
