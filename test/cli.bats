#!/usr/bin/env bats
# Conventions every program shares (concutils(7)): --help, --version,
# unknown options, missing option values.

load helper

TOOLS="pool parallel queue sem barrier"

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

@test "a tool installed under another name (PROGPREFIX=c) uses that name in help, usage, --version and diagnostics (issue 23)" {
	local t words
	mkdir pfx
	for t in $TOOLS; do
		ln -s "$TOP/bin/$t" "pfx/c$t"
		run --separate-stderr "pfx/c$t" --help
		[ "$status" -eq 0 ]
		[[ "$output" == "usage: c$t "* ]]
		# No usage line names the program without the prefix.
		words=$(grep -E "^(usage:)? *$t |\| $t " <<<"$output" || true)
		[ -z "$words" ]
		run -0 "pfx/c$t" --version
		[[ "$output" == "c$t (concutils) "* ]]
		run -125 "pfx/c$t" --no-such-option
		[[ "$output" == "c$t: unknown option '--no-such-option'; usage: c$t "* ]]
	done
	run -125 pfx/cparallel --no-such-option
	[[ "$output" == *"| cparallel [OPTIONS] -f PROCFILE" ]]
	run -125 pfx/cqueue put
	[[ "$output" == "cqueue: "*"; usage: cqueue put "* ]]
}

@test "a path object that cannot be created is named by the user's path, never by a temporary name (issue 23)" {
	run -125 queue put /nonexistent/dir/q a
	[ "$output" = "queue: /nonexistent/dir/q: create: No such file or directory" ]
	run -125 sem acquire /nonexistent/dir/s
	[ "$output" = "sem: /nonexistent/dir/s: create: No such file or directory" ]
	run -125 barrier wait -n 1 /nonexistent/dir/b
	[ "$output" = "barrier: /nonexistent/dir/b: create: No such file or directory" ]
}
