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

@test "a command's stdout pipe holds 256 KiB where the system allows, its stderr pipe 64 KiB" {
	[ "$(cat /proc/sys/fs/pipe-max-size)" -ge 262144 ] || skip "pipe-max-size below 256 KiB"
	# F_GETPIPE_SZ is 1032 on Linux.
	run -0 parallel 'python3 -c "import fcntl; print(fcntl.fcntl(1, 1032), fcntl.fcntl(2, 1032))"'
	[ "$output" = "1 | 262144 65536" ]
	# Twenty commands share 4 MiB: 128 KiB each.
	local rest=() i
	for ((i = 0; i < 19; i++)); do rest+=(true); done
	run -0 parallel --no-prefix 'python3 -c "import fcntl; print(fcntl.fcntl(1, 1032))"' "${rest[@]}"
	[ "$output" = 131072 ]
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
	# The commands parallel stopped are no failures (they were, 143).
	run -0 parallel -k 'until [ -s p2 ]; do sleep 0.01; done' 'echo $$ >p2; sleep 1000'
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
	# -m 1: the small command has ended, and its spool file is printed
	# and gone, before the big one fills the file system (run side by
	# side, which fills it first is a race).
	run -125 --separate-stderr env TMPDIR="$PWD/small" parallel -g -m 1 'echo one' 'head -c 300000 /dev/zero | tr "\0" x; echo; echo end'
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$stderr" = "parallel: write the output of 2 to a spool file in $PWD/small: No space left on device" ]
	[ "${lines[0]}" = "1 | one" ]
	[[ "${lines[1]}" = "2 | xxx"* ]]
	[ "${#lines[@]}" -eq 2 ]
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

# A stack: readiness and dependencies (issue 19).

@test "--ready /ERE/ and file:, --after: a chain of three starts in order" {
	# Each command checks, when it starts, that the ready line of what it
	# waits for is already out (parallel writes it before it starts them).
	run -0 sh -c "parallel -k -n db,api,web --ready 'db=/accepting/' --ready api=file:api.up --after api=db --after web=api 'echo starting; echo accepting connections; exec sleep 1000' 'grep -q \"^db  *| ready (\" err && echo after-db; touch api.up; exec sleep 1000' 'grep -q \"^api *| ready (\" err && echo after-api' 2>err"
	[ "${lines[0]}" = "db  | starting" ]
	[[ "$output" == *"api | after-db"* ]]
	[[ "$output" == *"web | after-api"* ]]
	run -0 grep -c ready err
	[ "$output" = 2 ]
	# --no-ready-line: no line, the same order.
	rm api.up
	run -0 sh -c "parallel -k --no-ready-line -n db,web --ready 'db=/up/' --after web=db 'echo up; exec sleep 1000' 'echo web' 2>err"
	[ ! -s err ]
}

@test "--ready /ERE/ is matched on whole lines until the first match; later matches change nothing" {
	# "lis" and "tening" are two writes: however they are read, the
	# pattern sees the whole line. A command without --ready is matched
	# against nothing; every line of both is printed as it was.
	run -0 sh -c "parallel -n srv,other --ready 'srv=/^listening\$/' 'printf lis; printf \"tening\\n\"; echo listening; echo listening' 'echo listening' 2>err"
	[ "$(grep -c '^srv   | listening$' <<<"$output")" = 3 ]
	[ "$(grep -c '^other | listening$' <<<"$output")" = 1 ]
	run -0 cat err
	[ "${#lines[@]}" = 1 ]
	[[ "${lines[0]}" == "srv   | ready ("* ]]
	# The line in two writes is the only one that matches.
	run -0 sh -c "parallel --ready '1=/^listening\$/' 'printf lis; printf \"tening\\n\"; echo listening!' 2>err"
	[ "$output" = "1 | listening
1 | listening!" ]
	run -0 cat err
	[[ "$output" == "1 | ready ("* ]]
}

@test "--ready tcp:HOST:PORT: the dependent starts once a connection succeeds" {
	command -v perl >/dev/null || skip "perl is needed for a listener"
	mkfifo gate
	# Bind a free port, say which, and listen only once the gate opens.
	bg perl -MSocket -e '
		socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
		bind($s, pack_sockaddr_in(0, inet_aton("127.0.0.1"))) or die "bind: $!";
		my ($port) = unpack_sockaddr_in(getsockname($s));
		open(my $f, ">", "port.t") or die; print $f "$port\n"; close $f;
		rename("port.t", "port") or die;
		open(my $g, "<", "gate") or die; my $x = <$g>;
		open(my $m, ">", "listening") or die; close $m;
		listen($s, 5) or die "listen: $!";
		while (accept(my $c, $s)) { close $c }'
	wait_for test -s port
	port=$(cat port)
	bg parallel -k -n srv,cli --ready "srv=tcp:127.0.0.1:$port" --after cli=srv 'echo $$ >srv; exec sleep 1000' 'test -e listening && echo after-listen' >out 2>err
	pid=$!
	wait_for test -s srv
	echo go >gate
	wait_status "$pid" 0
	grep -q "^cli | after-listen$" out
	grep -q "^srv | ready (" err
}

@test "--ready exit: a one-shot step; one that fails stops the stack with its status" {
	# Its successful end does not count for --kill-others.
	run -0 parallel -k -n migrate,web --ready migrate=exit --after web=migrate 'touch migrated' 'test -e migrated && echo after-migrate'
	[[ "$output" == *"web     | after-migrate"* ]]
	run -3 --separate-stderr parallel -n migrate,web --ready migrate=exit --after web=migrate 'exit 3' 'touch web-started'
	[ ! -e web-started ]
	[ "$stderr" = "parallel: migrate: ended before it was ready (exit status 3)" ]
	# A dependency that ends (status 0) before its pattern matched: 1.
	run -1 --separate-stderr parallel -n db,web --ready 'db=/never/' --after web=db 'echo bye' 'touch web-started'
	[ ! -e web-started ]
	[[ "$stderr" == "parallel: db: ended before it was ready (exit status 0)" ]]
}

@test "--ready and --after: unknown names, cycles, bad conditions: 125 and one line, nothing started" {
	run -125 parallel -n a,b --after a=b --after b=a 'touch s1' 'touch s2'
	one_line
	[[ "$output" == "parallel: --after: "?" waits for itself through a cycle" ]]
	run -125 parallel -n a,b --after a=zz 'touch s1' 'touch s2'
	[ "$output" = "parallel: --after 'zz': no command has that name or index" ]
	run -125 parallel -n a,b --after a=a 'touch s1' 'touch s2'
	[ "$output" = "parallel: --after a=a: a waits for itself" ]
	run -125 parallel --ready 'zz=exit' 'touch s1'
	[ "$output" = "parallel: --ready 'zz': no command has that name or index" ]
	run -125 parallel --ready '1=/(/' 'touch s1'
	one_line
	[[ "$output" == "parallel: --ready 1=/(/: "* ]]
	run -125 parallel --ready '1=tcp:70000' 'touch s1'
	[ "$output" = "parallel: --ready 1=tcp:70000: the port must be a number from 1 to 65535" ]
	run -125 parallel --ready '1=soon' 'touch s1'
	one_line
	run -125 parallel --ready '1' 'touch s1'
	[ "$output" = "parallel: --ready 1: expected NAME=CONDITION" ]
	run -125 parallel -g --ready '1=/x/' 'touch s1'
	one_line
	count_files 0 s
}

@test "--ready-timeout: a command not ready in time stops the stack, 124 and one line" {
	run -124 --separate-stderr parallel --ready-timeout 0.2 -n db,web --ready db=file:never --after web=db 'exec sleep 1000' 'touch web-started'
	[ "$stderr" = "parallel: db: not ready after 0.2 s (--ready db=file:never)" ]
	[ ! -e web-started ]
}

@test "--summary --json prints one JSON object on stderr" {
	run -2 --separate-stderr parallel --summary --json -s bad -m 1 \
	    --kill-others-on-fail -n $'ok,bad,t\tq"' true 'exit 2' true
	[ "${#stderr_lines[@]}" -eq 1 ]
	printf '%s' "$stderr" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == 2, d
c = d["commands"]
assert [x["name"] for x in c] == ["ok", "bad", "t\tq\""], c
assert [x["runs"] for x in c] == [1, 1, 0], c
assert [x["status"] for x in c] == [0, 2, None], c
assert [x["signal"] for x in c] == [None, None, None], c
for x in c:
    assert isinstance(x["seconds"], float) and x["seconds"] >= 0, x
    assert x["ready"] is None, x
'
	# A command killed by a signal; the time to ready.
	run -0 --separate-stderr parallel -k --summary --json --no-ready-line \
	    --ready '1=/up/' --after 2=1 'echo up; exec sleep 1000' 'true'
	printf '%s' "$stderr" | python3 -c '
import json, sys
c = json.load(sys.stdin)["commands"]
assert c[0]["status"] == 143 and c[0]["signal"] == 15, c
assert isinstance(c[0]["ready"], float) and c[0]["ready"] <= c[0]["seconds"], c
assert c[1]["status"] == 0 and c[1]["ready"] is None, c
'
	# --json alone is a usage error; an unwritable summary is 125.
	run -125 --separate-stderr parallel --json true
	[ "$stderr" = "parallel: --json needs --summary; usage: parallel [OPTIONS] [--] COMMAND... | parallel [OPTIONS] -f PROCFILE" ]
	run -125 sh -c 'parallel --summary --json true 2>/dev/full'
}

@test "--summary shows the time to ready" {
	run -0 --separate-stderr parallel -k --summary --no-ready-line --ready '1=/up/' --after 2=1 'echo up; exec sleep 1000' 'true'
	[[ "${stderr_lines[0]}" =~ ^parallel:\ 1:\ signal\ 15\ \(.*\),\ [0-9.]+\ s,\ ready\ after\ [0-9]+\.[0-9]{3}\ s$ ]]
}

@test "--restart-delay DUR,MAX doubles the delay up to MAX; --restart always; --restart-on exit" {
	run -1 --separate-stderr parallel --restart 4 --restart-delay 1ms,10s 'exit 1'
	[ "${stderr_lines[0]}" = "parallel: 1: exit status 1, restart 1 of 4 in 0.001 s" ]
	[ "${stderr_lines[1]}" = "parallel: 1: exit status 1, restart 2 of 4 in 0.002 s" ]
	[ "${stderr_lines[2]}" = "parallel: 1: exit status 1, restart 3 of 4 in 0.004 s" ]
	[ "${stderr_lines[3]}" = "parallel: 1: exit status 1, restart 4 of 4 in 0.008 s" ]
	# Up to MAX (each run is much shorter than MAX, which would reset it).
	run -1 --separate-stderr parallel --restart 3 --restart-delay 0.5s,1s 'exit 1'
	[ "${stderr_lines[1]}" = "parallel: 1: exit status 1, restart 2 of 3 in 1 s" ]
	[ "${stderr_lines[2]}" = "parallel: 1: exit status 1, restart 3 of 3 in 1 s" ]
	# always: until it succeeds.
	count='n=$(cat c 2>/dev/null || echo 0); n=$((n + 1)); echo $n >c; [ $n -ge 5 ]'
	run -0 --separate-stderr parallel --restart always "$count"
	[ "${stderr_lines[3]}" = "parallel: 1: exit status 1, restart 4 in 0 s" ]
	[ "$(cat c)" = 5 ]
	# exit: after a success too.
	run -0 --separate-stderr parallel --restart 2 --restart-on exit 'echo run'
	[ "${#lines[@]}" -eq 3 ]
	[ "${stderr_lines[1]}" = "parallel: 1: exit status 0, restart 2 of 2 in 0 s" ]
	run -125 parallel --restart-on never true
	run -125 parallel --restart-delay 2s,1s true
}

@test "--restart-delay: a run longer than MAX resets the delay" {
	# Runs 1 and 3 fail at once; run 2 lasts longer than MAX (1s).
	cmd='n=$(cat c 2>/dev/null || echo 0); n=$((n + 1)); echo $n >c; [ $n = 2 ] && sleep 1.1; exit 1'
	run -1 --separate-stderr parallel --restart 3 --restart-delay 1ms,1s "$cmd"
	[ "${stderr_lines[0]}" = "parallel: 1: exit status 1, restart 1 of 3 in 0.001 s" ]
	[ "${stderr_lines[1]}" = "parallel: 1: exit status 1, restart 2 of 3 in 0.001 s" ]
	[ "${stderr_lines[2]}" = "parallel: 1: exit status 1, restart 3 of 3 in 0.002 s" ]
}

@test "with --restart, the commands waiting for a dependency keep waiting while it restarts" {
	cmd='n=$(cat c 2>/dev/null || echo 0); n=$((n + 1)); echo $n >c; [ $n -ge 2 ] && echo up && exec sleep 1000; exit 1'
	run -0 --separate-stderr parallel -k -n db,web --restart 1 --ready 'db=/up/' --after web=db "$cmd" 'echo web'
	[[ "$output" == *"web | web"* ]]
}

@test "-m N runs at most N commands at once, the rest in order as slots free up" {
	run -0 parallel -m 1 'touch a; sleep 0.1; touch a.done' 'test -e a.done && echo b-after-a'
	[ "$output" = "2 | b-after-a" ]
	# The third starts when the second ends; the first waits for it.
	run -0 parallel -m 2 'until [ -e three ]; do sleep 0.01; done' 'touch two' 'test -e two && touch three && echo three'
	[ "$output" = "3 | three" ]
	run -125 parallel -m 0 true
}

@test "a clean stop is no failure: --kill-others gives the status of the one that ended" {
	run -0 parallel -k 'true' 'sleep 1000' 'sleep 1000'
	run -4 parallel -k 'exit 4' 'sleep 1000'
	run -0 parallel -k -s 2 'true' 'sleep 1000'
}

@test "-e FILE: KEY=VALUE lines as foreman reads them; a malformed line is 125 naming the file and line" {
	cat >vars <<-'EOF2'
		# a comment

		PLAIN=a b  c
		SINGLE='x "y" \n'
		DOUBLE="one\ntwo \"q\" \$HOME"
		EMPTY=
	EOF2
	printf 'CRLF=yes\r\n' >>vars
	run -0 parallel --no-prefix -e vars 'printf "%s|" "$PLAIN" "$SINGLE" "$DOUBLE" "$EMPTY" "$CRLF"'
	[ "$output" = "$(printf 'a b  c|x "y" \\n|one\ntwo "q" $HOME||yes|')" ]
	# Later files win.
	echo PLAIN=later >later.env
	run -0 parallel --no-prefix -e vars -e later.env 'echo "$PLAIN"'
	[ "$output" = later ]
	printf 'A=1\nnot a pair\n' >bad
	run -125 parallel -e bad 'touch s1'
	[ "$output" = "parallel: bad:2: expected KEY=VALUE (keys use A-Z a-z 0-9 _)" ]
	run -125 parallel -e missing 'touch s1'
	one_line
	[[ "$output" == "parallel: open env file missing: "* ]]
	count_files 0 s
}

@test "-f Procfile loads the .env beside it (not with -e or --no-env)" {
	mkdir app
	printf 'show: echo "$WHO"\n' >app/Procfile
	echo WHO=dotenv >app/.env
	echo WHO=other >other
	run -0 parallel --no-prefix -f app/Procfile
	[ "$output" = dotenv ]
	run -0 parallel --no-prefix -f app/Procfile -e other
	[ "$output" = other ]
	run -0 parallel --no-prefix -f app/Procfile --no-env
	[ "$output" = "" ]
}

@test "--port BASE: PORT is BASE + 100 x the command's index, + the copy with --formation" {
	run -0 parallel --no-prefix --port 5000 -n a,b 'echo $PORT >a' 'until [ -s a ]; do sleep 0.01; done; echo $PORT; cat a'
	[ "$output" = "$(printf '5100\n5000')" ]
	printf 'web: echo $PORT >$PORT\nworker: echo $PORT >$PORT\n' >Procfile
	run -0 parallel --formation web=2,worker=1 --port 5000 -f Procfile
	[ -e 5000 ] && [ -e 5001 ] && [ -e 5100 ]
	run -125 parallel --port 65500 'true' 'true'
	[ "$output" = "parallel: --port 65500: 2 would get port 65600, above 65535" ]
	run -125 parallel --port 0 true
}

@test "--formation NAME=N,...: N copies named NAME.1 ... NAME.N; all=N; 0 runs none" {
	printf 'web: echo web\nworker: echo worker\nclock: echo clock\n' >Procfile
	run -0 parallel -g --formation web=2,clock=0 -f Procfile
	[ "$output" = "$(printf 'web.1    | web\nweb.2    | web\nworker.1 | worker')" ]
	run -0 parallel -g --formation all=0,worker=1 -f Procfile
	[ "$output" = "worker.1 | worker" ]
	run -125 parallel --formation zz=1 -f Procfile
	[ "$output" = "parallel: --formation 'zz': no Procfile entry has that name" ]
	run -125 parallel --formation web=x -f Procfile
	one_line
	run -125 parallel --formation all=0 -f Procfile
	one_line
	run -125 parallel --formation web=1 true
	one_line
}

@test "--pty: a command's stdout and stderr are a terminal; lines without CR, colours pass through, order kept" {
	run -0 parallel --pty -n ab 'test -t 1 && echo out-tty; test -t 2 && echo err-tty >&2; tty <&2 | grep -q "^/dev/" && echo named; printf "\033[31mred\033[0m\n"; printf "a\rb\n"; test -t 0 || echo stdin-not-tty'
	[ "${lines[0]}" = "ab | out-tty" ]
	[ "${lines[1]}" = "ab | err-tty" ]
	[ "${lines[2]}" = "ab | named" ]
	[ "${lines[3]}" = "$(printf 'ab | \033[31mred\033[0m')" ]
	[ "${lines[4]}" = "$(printf 'ab | a\rb')" ]
	[ "${lines[5]}" = "ab | stdin-not-tty" ]
	# Without --pty, a pipe.
	run -0 parallel 'test -t 1 || echo pipe'
	[ "$output" = "1 | pipe" ]
}

@test "--pty: the window is parallel's terminal less the prefix, and follows SIGWINCH" {
	command -v script >/dev/null || skip "script(1) is needed for a terminal"
	cat >t.sh <<-'EOF2'
		stty cols 100 rows 30
		parallel --pty --color never -n ab 'trap "stty size </dev/tty; exit 0" WINCH; stty size </dev/tty; touch started; while :; do sleep 0.01; done' &
		p=$!
		while [ ! -e started ]; do sleep 0.01; done
		stty cols 90
		kill -WINCH $p
		wait $p
	EOF2
	run -0 script -qec "sh t.sh" /dev/null
	run -0 tr -d '\r' <<<"$output"
	[ "${lines[0]}" = "ab | 30 95" ]
	[ "${lines[1]}" = "ab | 30 85" ]
}

@test "--teardown runs after every command has ended, on every way out; its failure does not change the status" {
	run -0 parallel --teardown 'test -e ended && echo after' 'sleep 0.1; touch ended'
	[ "${lines[-1]}" = "teardown | after" ]
	rm ended
	# --kill-others
	# (the first ends once the second's trap is set).
	run -0 parallel -k --teardown 'test -e ended && echo after' 'until [ -e trapped ]; do sleep 0.01; done' 'trap "touch ended; exit 0" TERM; touch trapped; while :; do sleep 0.01; done'
	[ "${lines[-1]}" = "teardown | after" ]
	rm ended
	# --timeout (the command may be stopped before its trap is set)
	run -124 parallel --timeout 0.2 --teardown 'echo after' 'exec sleep 1000'
	[ "${lines[-1]}" = "teardown | after" ]
	# Ctrl-C
	bg parallel --teardown 'test -e ended && echo after' 'trap "touch ended; exit 0" INT; echo $$ >p; while :; do sleep 0.01; done' >out
	pid=$!
	wait_for test -s p
	kill -INT "$pid"
	wait_status "$pid" 130
	[ "$(tail -n 1 out)" = "teardown | after" ]
	# Several, all at once; a failing one is reported, the status stays.
	run -0 --separate-stderr parallel --teardown 'exit 3' --teardown 'echo two' 'true'
	[ "$output" = "teardown.2 | two" ]
	[ "$stderr" = "parallel: teardown.1: exit status 3" ]
}

@test "waiting out --grace, parallel says once for which commands" {
	bg parallel --grace 1000 -n web,db 'trap "" TERM; echo $$ >p1; while :; do sleep 0.01; done' 'trap "" TERM; echo $$ >p2; while :; do sleep 0.01; done' 2>err
	pid=$!
	wait_for test -s p1 -a -s p2
	kill -TERM "$pid"
	wait_for grep -q waiting err
	kill -INT "$pid"
	wait_status "$pid" 143
	[ "$(cat err)" = "parallel: waiting up to 1000s for web, db; Ctrl-C again to kill" ]
	# A short grace: no word.
	run -143 --separate-stderr sh -c 'parallel --grace 0.5 "trap \"\" TERM; kill -TERM \$PPID; while :; do sleep 0.01; done"'
	[ -z "$stderr" ]
}

@test "a Procfile's #parallel: lines give the stack's options; the command line wins" {
	cat >Procfile <<-'EOF2'
		#parallel: --ready 'db=/accepting/' --after web=db
		#parallel: --teardown "echo bye"
		db: echo accepting; exec sleep 1000
		web: echo web
	EOF2
	run -0 --separate-stderr parallel -k -f Procfile
	[ "$output" = "$(printf 'db  | accepting\nweb | web\nteardown | bye')" ]
	[[ "$stderr" == "db  | ready ("* ]]
	# The command line's --ready replaces the Procfile's.
	run -124 --separate-stderr parallel -k --ready-timeout 0.2 --ready db=file:never -f Procfile
	[ "${stderr_lines[0]}" = "parallel: db: not ready after 0.2 s (--ready db=file:never)" ]
	printf '#parallel: --tee\nweb: echo web\n' >Procfile
	run -125 parallel -f Procfile
	[ "$output" = "parallel: Procfile:1: --tee cannot be given in a Procfile" ]
	printf '#parallel: --ready "db=/x/\nweb: echo web\n' >Procfile
	run -125 parallel -f Procfile
	[ "$output" = "parallel: Procfile:1: unterminated quote" ]
	printf '#parallel: --ready\nweb: echo web\n' >Procfile
	run -125 parallel -f Procfile
	[ "$output" = "parallel: Procfile:1: --ready needs a value" ]
}
