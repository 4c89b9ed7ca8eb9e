#!/usr/bin/env bats
# Conventions every program shares (concutils(7)): --help, --version,
# unknown options, missing option values.

load helper

TOOLS="pool parallel queue sem barrier event"

@test "every tool answers --help on stdout with status 0" {
	for t in $TOOLS; do
		run --separate-stderr "$t" --help
		[ "$status" -eq 0 ]
		[[ "$output" == *"usage: $t"* ]]
		[ -z "$stderr" ]
		run "$t" -h
		[ "$status" -eq 0 ]
	done
}

@test "every tool answers --version with its name and the version" {
	for t in $TOOLS; do
		run "$t" --version
		[ "$status" -eq 0 ]
		[[ "$output" =~ ^$t\ \(concutils\)\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	done
}

@test "an unknown option exits 125 with one line naming it and the usage" {
	for t in $TOOLS; do
		run -125 "$t" --no-such-option
		one_line
		[[ "$output" == "$t: unknown option '--no-such-option'; usage: $t "* ]]
		run -125 "$t" -Z
		one_line
		[[ "$output" == *"unknown option '-Z'"* ]]
		# A value given to an option that takes none is named so,
		# as printable text.
		run -125 "$t" --help=1
		one_line
		[[ "$output" == "$t: option '--help' takes no value; usage: $t "* ]]
	done
	run -125 queue get --nowait=1 x
	[[ "$output" == "queue: option '--nowait' takes no value; usage: "* ]]
	run -125 pool --ke=1 true
	[[ "$output" == "pool: option '--keep-order' takes no value; usage: "* ]]
	run -125 sem acquire --no-such=1 x
	[[ "$output" == "sem: unknown option '--no-such=1'; usage: "* ]]
}

@test "--help output goes nowhere else and fails with 125 when stdout is closed" {
	for t in $TOOLS; do
		run -125 sh -c "$t --help >&-"
	done
}

@test "an option placed after NAME is refused with 125 and a hint, and changes nothing" {
	for c in "queue put jobs --nowait hello" "queue get jobs -n 1" \
	    "sem run lock --timeout 5 true" "sem acquire lock -w" \
	    "sem rm lock --force" "barrier wait phase -n 3" \
	    "barrier stat phase -x" "event wait e --timeout 5" "event set e -x"; do
		# shellcheck disable=SC2086 # the words of the command
		run -125 $c
		one_line
		[[ "$output" == *"after NAME (options go before NAME); usage: "* ]] ||
			{ echo "$c: $output"; false; }
	done
	[ -z "$(ls -A "$CONC_DIR" 2>/dev/null)" ]
	# After '--', or as the command's own arguments, they are data.
	run -0 queue put jobs -- --nowait -x
	run -0 queue get -n 2 jobs
	[ "$output" = "$(printf -- '--nowait\n-x')" ]
	run -0 sem run lock -- echo --timeout
	[ "$output" = --timeout ]
	run -0 sem run lock echo -n
	run -0 barrier wait -n 1 phase -- echo -n x
	[ "$output" = x ]
}

@test "queue, sem, barrier and event word a missing or unknown subcommand the same way" {
	for t in queue sem barrier event; do
		run -125 "$t"
		one_line
		[[ "$output" == "$t: missing subcommand; usage: $t "* ]]
		run -125 "$t" frob
		one_line
		[[ "$output" == "$t: unknown subcommand 'frob'; usage: $t "* ]]
	done
}

@test "--timeout 0 is a deadline already passed, in every program; durations up to 146 years and inf" {
	# What can complete at once does; what cannot ends with 124 at once.
	run -124 pool --halt now,fail=1 --timeout 0 sleep < <(echo 60)
	run -124 parallel --timeout 0 'sleep 60'
	run -124 queue get --timeout 0 q
	queue put q m
	run -0 queue get --timeout 0 q
	[ "$output" = m ]
	sem acquire --owner $$ s
	run -124 sem acquire --timeout 0 s
	sem release --owner $$ s
	run -0 sem run --timeout 0 s true
	run -124 barrier wait -n 2 --timeout 0 b
	run -0 barrier wait -n 1 --timeout 0 b1
	run -124 event wait --timeout 0 e
	event set e
	run -0 event wait --timeout 0 e
	# The longest duration, and no limit at all.
	for d in inf $((146 * 8766))h; do
		run -0 pool --timeout "$d" true < <(echo x)
		run -0 parallel --timeout "$d" true
		queue put q2 m
		run -0 queue get --timeout "$d" q2
		run -0 sem run --timeout "$d" s true
		run -0 barrier wait -n 1 --timeout "$d" b1
		run -0 event wait --timeout "$d" e
	done
	for t in "pool --timeout" "parallel --timeout" "queue get --timeout" \
	    "sem acquire --timeout" "barrier wait -n 1 --timeout" "event wait --timeout"; do
		# shellcheck disable=SC2086 # the words of the command
		run -125 $t $((147 * 8766))h x
		[[ "$output" == *"too long (at most 146 years; 'inf' for no limit)"* ]]
	done
}
