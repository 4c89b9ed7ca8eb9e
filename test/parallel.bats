#!/usr/bin/env bats
# parallel: several commands at once, one clean output.
# The commands are shell strings for parallel to run: single quotes are
# meant, so SC2016 is off for the whole file.
# shellcheck disable=SC2016

load helper

test_setup() {
	# reaped FILE: wait until the process whose pid is in FILE has been
	# reaped by parallel (kill -0 still succeeds on an unreaped zombie).
	# Commands use it to end strictly after another command has ended.
	cat >reaped <<-'EOF'
		#!/bin/sh
		while [ ! -s "$1" ]; do sleep 0.01; done
		p=$(cat "$1")
		while kill -0 "$p" 2>/dev/null; do sleep 0.01; done
	EOF
	chmod +x reaped
}

test_teardown() {
	if mountpoint -q "$BATS_TEST_TMPDIR/small" 2>/dev/null; then
		umount "$BATS_TEST_TMPDIR/small"
	fi
}

count_files() { # count_files N GLOB-PREFIX: exactly N files start so
	[ "$(find . -maxdepth 1 -name "$2*" | wc -l)" -eq "$1" ]
}

@test "no command, an empty command, bad option values: 125 and one line" {
	run -125 parallel
	one_line
	[[ "$output" == "parallel: no COMMAND given; usage: parallel "* ]]
	run -125 parallel 'true' '  '
	one_line
	[ "$output" = "parallel: command 2 is empty" ]
	run -125 parallel --color sometimes true
	one_line
	run -125 parallel --restart -1 true
	one_line
	run -125 parallel --timeout soon true
	one_line
	run -125 parallel --max-line 1K true
	one_line
	run -125 parallel --prefix '{nmae} ' true
	one_line
	[[ "$output" == *"unknown field '{nmae}'"* ]]
	run -125 parallel --tee --input 1 cat
	one_line
	run -125 parallel --prefix x --no-prefix true
	one_line
}

@test "duplicate names and unknown targets: 125, nothing started" {
	run -125 parallel -n a,a 'touch started' 'touch started'
	one_line
	[ "$output" = "parallel: --names: duplicate name 'a'" ]
	run -125 parallel -n 2 'touch started' 'touch started'
	one_line
	run -125 parallel -n a,b,c 'touch started' 'touch started'
	one_line
	run -125 parallel -n a, 'touch started' 'touch started'
	one_line
	run -125 parallel --success web 'touch started'
	one_line
	[ "$output" = "parallel: --success 'web': no command has that name or index" ]
	run -125 parallel --input 3 'touch started' 'touch started'
	one_line
	[ ! -e started ]
}

@test "the default prefix is the padded name and '| '" {
	run -0 --separate-stderr parallel -n a,long 'echo x' 'echo y; echo z'
	[ "$(printf '%s\n' "$output" | sort)" = "$(printf 'a    | x\nlong | y\nlong | z')" ]
	run -0 parallel 'echo one'
	[ "$output" = "1 | one" ]
}

@test "--prefix expands {name} {index} {pid} {time}" {
	run -0 parallel -n web,db -p '[{name}:{index}:{pid}] ' 'true' 'echo $$'
	[[ "$output" =~ ^\[db:2:([0-9]+)\]\ ([0-9]+)$ ]]
	[ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
	run -0 parallel --prefix '{time} {name}: ' 'echo hi'
	[[ "$output" =~ ^[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\ 1:\ hi$ ]]
	run -0 parallel --prefix '{{name}} {x ' 'echo hi'
	[ "$output" = "{1} {x hi" ]
	# A fifth {time} came out as a raw control character (\001).
	run -125 parallel --prefix '{time}{time}{time}{time}{time} ' 'echo hi'
	[ "$output" = "parallel: --prefix: more than 4 {time} fields" ]
}

@test "--no-prefix passes lines through unchanged" {
	run -0 parallel --no-prefix 'printf "a b\n\tc\n"'
	[ "$output" = "$(printf 'a b\n\tc')" ]
}

@test "--color: always, never, auto (a terminal, NO_COLOR)" {
	run -0 parallel --color always 'echo x' 'true'
	[ "$output" = $'\e[36m1 | \e[0mx' ]
	NO_COLOR=1 run -0 parallel --color always 'echo x'
	[ "$output" = $'\e[36m1 | \e[0mx' ]
	run -0 parallel --color never 'echo x'
	[ "$output" = "1 | x" ]
	run -0 parallel 'echo x'
	[ "$output" = "1 | x" ]
	command -v script >/dev/null || skip "script(1) is needed for a terminal"
	run -0 script -qec "parallel 'echo x'" /dev/null
	[[ "$output" == *$'\e[36m1 | \e[0mx'* ]]
	NO_COLOR=1 run -0 script -qec "parallel 'echo x'" /dev/null
	[[ "$output" != *$'\e['* ]]
}

@test "stdout lines go to stdout and stderr lines to stderr, both prefixed" {
	run -0 --separate-stderr parallel -n job 'echo out; echo err >&2'
	[ "$output" = "job | out" ]
	[ "$stderr" = "job | err" ]
}

@test "no mixed lines: 4 commands x 100k lines of varying length" {
	gen='awk -v n=N "BEGIN { s = \"abcdefghijklmnopqrstuvwxyz0123456789\"; while (length(s) < 3000) s = s s; for (i = 0; i < 100000; i++) { l = (i * 7919 + n * 31) % 300; if (i % 5000 == 0) l = 2500; printf \"%d %d %s\n\", n, i, substr(s, 1, l) } }"'
	parallel -p '{name}|' "${gen/N/1}" "${gen/N/2}" "${gen/N/3}" "${gen/N/4}" >out
	# Every line is whole, carries the right prefix, and each command's
	# lines come in order.
	run -0 awk -F'|' '
	BEGIN { s = "abcdefghijklmnopqrstuvwxyz0123456789"; while (length(s) < 3000) s = s s }
	{
		split($2, f, " "); n = f[1]; i = f[2]
		l = (i * 7919 + n * 31) % 300; if (i % 5000 == 0) l = 2500
		if (NF != 2 || $1 != n || $2 != n " " i " " substr(s, 1, l) || i != next_i[n] + 0) bad++
		next_i[n] = i + 1
	}
	END { print bad + 0, next_i[1], next_i[2], next_i[3], next_i[4], NR }' out
	[ "$output" = "0 100000 100000 100000 100000 400000" ]
}

@test "a partial line is held until its newline, or until the command ends" {
	mkfifo go
	run -0 parallel 'printf par; read x <go; echo tial' 'echo other; echo x >go' 'printf "no newline"'
	[ "$(printf '%s\n' "$output" | sort)" = "$(printf '1 | partial\n2 | other\n3 | no newline')" ]
}

@test "an over-long line is split at --max-line, pieces marked with a backslash" {
	run -0 parallel --max-line 64K 'head -c 150000 /dev/zero | tr "\0" x; echo; echo next'
	[ "${#lines[@]}" -eq 4 ]
	[ "${#lines[0]}" -eq $((4 + 65536 + 1)) ]
	[[ "${lines[0]}" == "1 | xxx"*"x\\" ]]
	[ "${#lines[1]}" -eq $((4 + 65536 + 1)) ]
	[ "${lines[2]}" = "1 | $(head -c 18928 /dev/zero | tr '\0' x)" ]
	[ "${lines[3]}" = "1 | next" ]
}

@test "a line of exactly --max-line bytes is printed whole, not split" {
	run -0 parallel --max-line 64K 'head -c 65536 /dev/zero | tr "\0" x; echo; echo next'
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "1 | $(head -c 65536 /dev/zero | tr '\0' x)" ]
	[ "${lines[1]}" = "1 | next" ]
}

@test "--group prints each command's output in one piece, in command-line order" {
	mkfifo go
	run -0 --separate-stderr parallel -g 'read x <go; echo a1; echo a2; echo a3 >&2' 'echo b1; echo b2 >&2; echo x >go; echo b3'
	[ "$output" = "$(printf '1 | a1\n1 | a2\n2 | b1\n2 | b3')" ]
	[ "$stderr" = "$(printf '1 | a3\n2 | b2')" ]
}

@test "--tee gives every command the same bytes: a slow reader, an early exit" {
	seq 1 150000 >in
	want=$(cksum <in)
	run -0 parallel --tee --no-prefix 'cksum' \
	    'while IFS= read -r l; do printf "%s\n" "$l"; done | cksum' \
	    'head -c 10 >/dev/null; echo early' 'cksum' <in
	[ "${#lines[@]}" -eq 4 ]
	[ "$(printf '%s\n' "$output" | grep -c -x -F "$want")" -eq 3 ]
	[[ "$output" == *early* ]]
	# The same from a pipe rather than a file.
	run -0 sh -c 'cat in | parallel --tee --no-prefix cksum "head -c 10 >/dev/null" cksum'
	[ "$output" = "$(printf '%s\n%s' "$want" "$want")" ]
}

@test "--input NAME|INDEX sends stdin to one command; others get /dev/null" {
	run -0 sh -c 'echo hi | parallel -n a,b --input b cat cat'
	[ "$output" = "b | hi" ]
	run -0 sh -c 'echo hi | parallel --input 1 cat cat'
	[ "$output" = "1 | hi" ]
	run -0 sh -c 'echo hi | parallel cat cat'
	[ "$output" = "" ]
}

@test "--tee: stdin that cannot be read is status 125, the commands see its end" {
	mkdir d
	run -125 --separate-stderr parallel --tee --no-prefix 'wc -c' 'wc -c' <d
	[ "$output" = "$(printf '0\n0')" ]
	[ "$stderr" = "parallel: read stdin: Is a directory" ]
}

@test "--kill-others stops the rest when one ends" {
	run -143 parallel -k 'until [ -s p2 ]; do sleep 0.01; done' 'echo $$ >p2; sleep 1000'
	gone "$(cat p2)"
	run -0 parallel -k -s first 'true' 'sleep 1000'
}

@test "--kill-others-on-fail stops the rest only when one fails" {
	run -3 parallel --kill-others-on-fail 'until [ -s p2 ]; do sleep 0.01; done; exit 3' 'echo $$ >p2; exec sleep 1000'
	gone "$(cat p2)"
	run -0 parallel --kill-others-on-fail 'true' 'echo second'
	[ "$output" = "2 | second" ]
}

@test "--success all|first|last|NAME|INDEX picks the exit status" {
	a='echo $$ >pa.t; mv pa.t pa; exit 3'
	b='./reaped pa; exit 0'
	run -3 parallel "$a" "$b"
	rm pa
	run -3 parallel -s first "$a" "$b"
	rm pa
	run -0 parallel -s last "$a" "$b"
	rm pa
	run -0 parallel -n a,b -s b "$a" "$b"
	rm pa
	run -3 parallel -n a,b -s 1 "$a" "$b"
	rm pa
	# all: the first to fail in time, not on the command line.
	run -4 parallel './reaped pa; exit 5' 'echo $$ >pa.t; mv pa.t pa; exit 4'
	run -0 parallel true true
}

@test "--restart N restarts a failing command up to N times" {
	count='n=$(cat c 2>/dev/null || echo 0); n=$((n + 1)); echo $n >c; echo run $n; [ $n -ge 3 ]'
	run -0 --separate-stderr parallel --restart 2 --restart-delay 1ms "$count"
	[ "$output" = "$(printf '1 | run 1\n1 | run 2\n1 | run 3')" ]
	[[ "$stderr" == *"parallel: 1: exit status 1, restart 2 of 2"* ]]
	rm c
	run -1 parallel --restart 1 "$count"
	[ "${#lines[@]}" -eq 3 ]
	rm c
	run -0 parallel --restart 5 'echo once'
	[ "$output" = "1 | once" ]
	# The restart notice of a command with a very long name was cut
	# without its newline, and the next line on stderr ran into it.
	long=$(printf '%0600d' 0)
	run -1 --separate-stderr parallel -n "$long" --restart 1 '[ -e x ] && echo second >&2; touch x; exit 1'
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ "${stderr_lines[0]}" == "parallel: 000"* ]]
	[ "${stderr_lines[1]}" = "$long | second" ]
}

@test "--timeout stops everything and exits 124, SIGKILL after --grace" {
	run -124 parallel --timeout 0.1 'sleep 1000'
	run -124 parallel --timeout 0.1 --grace 0.1 'trap "" TERM; echo $$ >p; sleep 1000 & echo $! >>p; wait'
	# On a loaded machine the SIGTERM may come before the trap is set:
	# the shell then dies having started nothing.
	[ -e p ] || return 0
	mapfile -t pids <p
	wait_for gone "${pids[@]}"
}

@test "SIGINT: forwarded to every group, exit 130, no survivors" {
	bg parallel --grace 1 'trap "" INT TERM; sleep 1000 & echo $! >p1; wait' 'echo $$ >p2; exec sleep 1000'
	pid=$!
	wait_for test -s p1 -a -s p2
	kill -INT "$pid"
	wait_status "$pid" 130
	wait_for gone "$(cat p1)" "$(cat p2)"
}

@test "SIGINT ignored at the start (an asynchronous command of a script) stays ignored, in parallel and its commands" {
	mkfifo gate
	exec {g}<>gate
	bg sh -c 'trap "" INT; exec parallel "grep ^SigIgn /proc/\$\$/status >ign.t; mv ign.t ign; read x <gate"'
	pid=$!
	wait_for test -s ign
	ignores 2
	kill -INT "$pid"
	echo go >&"$g"
	wait_status "$pid" 0
}

@test "SIGINT also stops what an ended command left in its process group" {
	# Command 1 ends at once, leaving a background process in its group;
	# command 2 starts its sleep only once parallel has reaped command 1.
	bg parallel 'sleep 1000 >/dev/null 2>&1 & echo $! >p1; echo $$ >pa.t; mv pa.t pa' './reaped pa; echo $$ >p2; exec sleep 1000'
	pid=$!
	wait_for test -s p1 -a -s p2
	kill -INT "$pid"
	wait_status "$pid" 130
	wait_for gone "$(cat p1)" "$(cat p2)" || { kill "$(cat p1)"; return 1; }
}

@test "SIGTERM exits 143, SIGHUP 129; SIGINT exits 130 even when stdout is blocked" {
	bg parallel 'echo $$ >p; exec sleep 1000'
	pid=$!
	wait_for test -s p
	kill -TERM "$pid"
	wait_status "$pid" 143
	gone "$(cat p)"
	rm p
	bg parallel 'echo $$ >p; exec sleep 1000'
	pid=$!
	wait_for test -s p
	kill -HUP "$pid"
	wait_status "$pid" 129
	gone "$(cat p)"
	mkfifo out
	exec 4<>out # a reader that never reads
	bg parallel yes >out
	pid=$!
	wait_for blocked_in_write "$pid"
	kill -INT "$pid"
	wait_status "$pid" 130
	# Output left over after the signal is not waited for either: the
	# command dies at once, and parallel does not sit out its grace.
	bg parallel --grace 1000 'yes | head -c 300K; echo $$ >p; exec sleep 1000' >out
	pid=$!
	wait_for blocked_in_write "$pid"
	kill -INT "$pid"
	wait_for gone "$pid"
	wait_status "$pid" 130
	exec 4<&-
}

@test "every signal that would end parallel stops the commands' groups first: SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM" {
	# Each left a background process running (issue 24).
	for sig in QUIT USR1 USR2 ALRM; do
		rm -f p
		bg parallel --grace 0 'sleep 1000 & echo $! >p; wait'
		pid=$!
		wait_for test -s p
		kill -"$sig" "$pid"
		wait_status "$pid" $((128 + $(kill -l "$sig")))
		wait_for gone "$(cat p)"
	done
}

@test "parallel killed with SIGKILL: the commands' groups die too (the watcher)" {
	bg parallel 'sleep 1000 & echo $! >p1; echo $$ >p2; wait' 'sh -c "sleep 1000 & echo \$! >p3; wait"'
	pid=$!
	wait_for test -s p1 -a -s p2 -a -s p3
	kill -KILL "$pid"
	wait_status "$pid" 137
	wait_for gone "$(cat p1)" "$(cat p2)" "$(cat p3)"
}

@test "an external SIGALRM is a signal like the others, not --timeout: 142" {
	# It used to stop everything and exit 124 with no --timeout given.
	run -142 parallel 'kill -ALRM $PPID; exec sleep 1000'
}

@test "--timeout also ends a parallel whose stdout does not drain" {
	mkfifo out
	exec 4<>out # a reader that never reads
	run -124 sh -c 'parallel --timeout 0.2 yes >out'
	exec 4<&-
}

@test "--group with a full TMPDIR: one line, status 125, the rest of the output as before" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
	mkdir small
	mount -t tmpfs -o size=64k tmpfs small 2>/dev/null ||
	    skip "mounting a tmpfs is not permitted here"
	# The spool file used to end short without a word, and the
	# command's own complaint went into the full file system too.
	run -125 --separate-stderr env TMPDIR="$PWD/small" parallel -g 'head -c 300000 /dev/zero | tr "\0" x; echo; echo end' 'echo two'
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$stderr" = "parallel: write the output of 1 to a spool file in $PWD/small: No space left on device" ]
	[ "${lines[-1]}" = "2 | two" ]
}

@test "when stdout goes away the commands see a broken pipe" {
	run -0 bash -c 'parallel yes yes | head -n 1000 >/dev/null; echo "${PIPESTATUS[0]}"'
	[ "$output" = 141 ]
}

@test "a failed write to stdout (not a broken pipe) is parallel's failure: 125" {
	run -125 sh -c "parallel 'echo hi' >&-"
	one_line
	[ "$output" = "parallel: write stdout: Bad file descriptor" ]
	run -0 sh -c "parallel --tee 'cat; echo done' <&-"
	[ "$output" = "1 | done" ]
}

@test "the commands' own statuses pass through: 126, 127, 128+N" {
	run -127 parallel 'no-such-command-xyz'
	run -126 parallel /dev/null
	run -137 parallel 'kill -9 $$'
}

@test "--summary prints one line per command on stderr" {
	run -2 --separate-stderr parallel --summary -s bad -n ok,bad,sig 'true' 'exit 2' 'kill -TERM $$'
	[ "${#stderr_lines[@]}" -eq 3 ]
	[[ "${stderr_lines[0]}" =~ ^parallel:\ ok:\ exit\ 0,\ [0-9]+\.[0-9]{3}\ s$ ]]
	[[ "${stderr_lines[1]}" =~ ^parallel:\ bad:\ exit\ 2,\ [0-9.]+\ s$ ]]
	[[ "${stderr_lines[2]}" =~ ^parallel:\ sig:\ signal\ 15\ \(.*\),\ [0-9.]+\ s$ ]]
	# A summary that cannot be written is parallel's failure.
	run -125 sh -c 'parallel --summary true 2>/dev/full'
	run -125 sh -c 'parallel --summary true 2>&-'
	run -0 sh -c 'parallel true 2>&-'
}

@test "Procfile: names, comments, blank lines" {
	cat >Procfile <<-'EOF'
		# the dev stack

		web: echo web-ran
		  worker:   echo worker-ran   
	EOF
	run -0 parallel -f Procfile
	[ "$(printf '%s\n' "$output" | sort)" = "$(printf 'web    | web-ran\nworker | worker-ran')" ]
	run -0 parallel -f Procfile --input worker -s web
}

@test "Procfile errors: 125 with file:line, nothing started" {
	run -125 parallel -f nonexistent
	one_line
	[ "$output" = "parallel: open nonexistent: No such file or directory" ]
	printf 'a: touch started\n\nb touch started\n' >P1
	run -125 parallel -f P1
	one_line
	[[ "$output" == "parallel: P1:3: expected 'name: command'"* ]]
	printf 'a: touch started\nb: touch started\na: touch started\n' >P2
	run -125 parallel -f P2
	[ "$output" = "parallel: P2:3: duplicate name 'a'" ]
	printf 'a:   \n' >P3
	run -125 parallel -f P3
	[ "$output" = "parallel: P3:1: empty command" ]
	printf '# nothing\n' >P4
	run -125 parallel -f P4
	[ "$output" = "parallel: P4: no commands" ]
	run -125 parallel -f P1 'touch started'
	one_line
	[ ! -e started ]
}

@test "500 commands at once" {
	mkfifo go
	set --
	for i in $(seq 1 500); do
		set -- "$@" ": >s.$i; read x <go; echo done $i"
	done
	ulimit -Sn 256 # parallel raises it as far as it needs
	bg parallel --no-prefix "$@" >out
	pid=$!
	wait_for count_files 500 s.
	exec 7>go # all 500 are waiting: release them at once
	exec 7>&-
	wait_status "$pid" 0
	[ "$(sort -n -k2 out | uniq | wc -l)" -eq 500 ]
	[ "$(sort -n -k2 out | tail -n 1)" = "done 500" ]
}

@test "the commands get the descriptor limit parallel started with" {
	run -0 bash -c 'ulimit -Sn 200 && parallel --no-prefix "ulimit -Sn" "ulimit -Sn"'
	[ "$output" = "$(printf '200\n200')" ]
}

@test "more commands than the hard descriptor limit allows: 125 and one line, nothing started" {
	set --
	for i in $(seq 1 100); do
		set -- "$@" ": >s.$i"
	done
	run -125 bash -c 'ulimit -n 150 && exec parallel "$@"' _ "$@"
	one_line
	[ "$output" = "parallel: 100 commands need about 232 open files, but the limit is 150 (ulimit -n)" ]
	count_files 0 s.
}
