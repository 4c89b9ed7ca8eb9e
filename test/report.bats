#!/usr/bin/env bats
# stat and ls of every kind of object in the one format of concutils(7)
# (lib/report): key<TAB>value lines, tab-separated rows with --header,
# and --json, read back with python3's json module.

load helper

test_setup() {
	mkdir -p "$CONC_DIR"
}

# pyjson EXPR: read one JSON document from stdin and print EXPR of it
# (d), as python3's json module reads it.
pyjson() {
	python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

@test "stat --json of every kind is one JSON object with stat's fields, typed" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	queue create --max 5 q
	queue put q a b
	sem create -n 3 s
	bg sleep 1000
	# The holder's command name is sleep once bg's subshell executes it.
	wait_for grep -qx sleep "/proc/$!/comm"
	sem acquire --owner "$!" --count 2 s
	barrier create -n 2 b
	event create --set e
	for k in queue:q sem:s barrier:b event:e; do
		tool=${k%%:*} name=${k#*:}
		"$tool" stat --json "$name" >j
		# The same keys, in the same order, as the text form.
		run -0 pyjson '" ".join(k for k in d)' <j
		[ "$output" = "$("$tool" stat "$name" | cut -f 1 | uniq | tr '\n' ' ' | sed 's/ $//')" ]
	done
	run -0 pyjson '[d["name"], d["messages"], d["max"], d["closed"]]' <<<"$(queue stat --json q)"
	[ "$output" = "['q', 2, 5, False]" ]
	run -0 pyjson '[d["kind"], d["slots"], d["free"], d["reentrant"], d["holder"][0]["count"], d["holder"][0]["child"], d["holder"][0]["command"]]' <<<"$(sem stat --json s)"
	[ "$output" = "['owned', 3, 1, False, 2, None, 'sleep']" ]
	run -0 pyjson '[d["parties"], d["broken"], d["reason"]]' <<<"$(barrier stat --json b)"
	[ "$output" = "[2, False, None]" ]
	run -0 pyjson '[d["state"], d["generation"]]' <<<"$(event stat --json e)"
	[ "$output" = "['set', 0]" ]
}

@test "ls of every kind: stat's fields as tab-separated rows, --header names them, --json is an array" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	queue create q1
	queue create q2
	sem create s1
	barrier create -n 3 b1
	event create e1
	for tool in queue sem barrier event; do
		run -0 "$tool" ls --header
		# The header is stat's keys (a list field left out).
		first=$("$tool" ls | head -n 1 | cut -f 1)
		keys=$("$tool" stat "$first" | cut -f 1 | grep -vx holder | tr '\n' '\t' | sed 's/\t$//')
		[ "${lines[0]}" = "$keys" ]
		# Every row has as many fields as the header.
		n=$(awk -F '\t' '{ print NF }' <<<"$output" | sort -u)
		[ "$(wc -l <<<"$n")" = 1 ]
		"$tool" ls --json >j
		run -0 pyjson 'len(d), sorted(x["name"] for x in d)' <j
		case $tool in
		queue) [ "$output" = "(2, ['q1', 'q2'])" ] ;;
		sem) [ "$output" = "(1, ['s1'])" ] ;;
		barrier) [ "$output" = "(1, ['b1'])" ] ;;
		event) [ "$output" = "(1, ['e1'])" ] ;;
		esac
	done
	rm "$CONC_DIR"/*
	for tool in queue sem barrier event; do
		run -0 "$tool" ls --json
		[ "$output" = "[]" ]
		run -0 "$tool" ls
		[ -z "$output" ]
	done
}

@test "--json escapes names: quotes, backslashes, and bytes that are not UTF-8 as the replacement character" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	event create 'a"b\c'
	event create $'x\xffy'
	event create 'é'
	event ls --json >j
	run -0 pyjson '" ".join(ascii(n) for n in sorted(x["name"] for x in d))' <j
	[ "$output" = "'a\"b\\\\c' 'x\\ufffdy' '\\xe9'" ]
	run -0 pyjson 'd["name"]' <<<"$(event stat --json 'a"b\c')"
	[ "$output" = 'a"b\c' ]
}

@test "stat and ls: --json and --header where they belong; bad options are 125 with one line" {
	queue create q
	run -125 queue stat --header q
	one_line
	run -125 queue ls --jsn
	one_line
	run -125 sem stat --json
	one_line
	run -125 barrier ls --json extra
	one_line
	run -125 event stat e --json
	one_line
	[[ "$output" == *"options go before"* ]]
}

@test "a control character in a value: \\u escaped in JSON, '?' in text, so lines still split at tabs" {
	command -v python3 >/dev/null || skip "python3 is not installed"
	cp "$(command -v sleep)" "$PWD/a"$'\t'"b"
	bg "./a"$'\t'"b" 1000
	wait_for grep -qx $'a\tb' "/proc/$!/comm"
	sem acquire --owner "$!" s
	run -0 pyjson 'ascii(d["holder"][0]["command"])' <<<"$(sem stat --json s)"
	[ "$output" = "'a\\tb'" ]
	sem stat --json s | grep -q '"command": "a\\u0009b"'
	run -0 sem stat s
	[ "$(awk -F '\t' '$1 == "holder" { print NF, $7 }' <<<"$output")" = "8 a?b" ]
}
