#!/usr/bin/env bats
# Job bodies are shell snippets in single quotes, expanded by the job.
# shellcheck disable=SC2016
# pool(1) for GNU parallel and xargs users: input sources (::: ::::),
# replacement strings, --shell, --dry-run, --results, --colsep, --header,
# and the limits on one item. Where GNU parallel is installed, a table of
# command lines is compared with its output (test/pool-gnu.bats).

load helper

# ------------------------------------------------------------ one item's size

@test "an item longer than one argument can hold is refused, in constant memory" {
	# 131071 bytes (MAX_ARG_STRLEN less its NUL) still runs.
	head -c 131071 /dev/zero | tr '\0' x >max
	run -0 pool sh -c 'echo ${#1}' sh <max
	[ "$output" = 131071 ]
	# One byte more can never be exec'd: status 125, one line.
	{ cat max; printf x; } >over
	run -125 pool true <over
	[ "$output" = "pool: item 1: longer than 131071 bytes, the most one argument can hold" ]
	# An endless item ends with the same error, not with all the memory:
	# the address space is capped far below what buffering it would take
	# (not under AddressSanitizer, which reserves more than any cap).
	lim='ulimit -v 200000;'
	! grep -q san "$TOP/bin/.flavour" 2>/dev/null || lim=
	run -125 sh -c "$lim cat /dev/zero | pool true"
	[[ $output == *"item 1: longer than 131071 bytes"* ]]
	# The items before it have run.
	{ printf 'a\nb\n'; cat over; } >mixed
	run -125 pool -k -j1 echo <mixed
	[ "${lines[0]}" = a ]
	[ "${lines[1]}" = b ]
	[[ ${lines[2]} == *"item 3: longer than"* ]]
}
