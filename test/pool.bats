#!/usr/bin/env bats
# Job bodies are shell snippets in single quotes, expanded by the job.
# shellcheck disable=SC2016,SC2013,SC2002
# pool(1): items, replacement strings, output modes, exit statuses,
# timeouts, retries, --halt, --joblog, --pipe, signals and the jobserver.

load helper

# make_counter DIR: a job body that counts how many jobs run at the same time.
# It raises DIR/cur under a lock, records the highest value in DIR/max,
# works for a moment, and lowers DIR/cur again.
make_counter() {
	mkdir -p "$1"
	echo 0 >"$1/cur"
	echo 0 >"$1/max"
	cat >"$1/job" <<-'EOF'
	#!/bin/sh
	d=$(dirname "$0")
	flock "$d/lock" sh -c 'n=$(($(cat "$1/cur") + 1)); echo $n >"$1/cur"
		[ "$n" -gt "$(cat "$1/max")" ] && echo $n >"$1/max"; :' _ "$d"
	sleep 0.2
	flock "$d/lock" sh -c 'echo $(($(cat "$1/cur") - 1)) >"$1/cur"' _ "$d"
	EOF
	chmod +x "$1/job"
}

# ------------------------------------------------------------ items

@test "each item becomes one argument, whatever it contains" {
	printf '%s\n' 'a b' "it's" '"q"' '-x' '--help' '*' >in
	run -0 pool -k -j2 printf '[%s]\n' <in
	[ "$output" = "$(printf '[%s]\n' 'a b' "it's" '"q"' '-x' '--help' '*')" ]
}

@test "a NUL byte in an item cuts it short, with one warning" {
	printf 'a\0b\nc\0d\ne' >in
	run -0 --separate-stderr pool -k echo <in
	[ "$output" = "$(printf 'a\nc\ne')" ]
	[ "$stderr" = "pool: warning: a NUL byte in item 1 cuts it short (-0 takes NUL-separated items)" ]
	run -0 --separate-stderr pool -k -0 echo <in
	[ -z "$stderr" ]
}

@test "empty input runs nothing and exits 0" {
	run -0 pool touch ran </dev/null
	[ -z "$output" ]
	[ ! -e ran ]
}

@test "the last item may lack its newline; an empty line is an empty item" {
	printf 'a\n\nb' >in
	run -0 pool -k -j1 printf '<%s>\n' <in
	[ "$output" = "$(printf '<a>\n<>\n<b>')" ]
}

@test "-0 separates items by NUL, so items may hold newlines" {
	printf 'one\nline\0two\0' >in
	run -0 pool -0 -k printf '<%s>\n' <in
	[ "$output" = "$(printf '<one\nline>\n<two>')" ]
}

@test "-d separates items by a given character, with escapes" {
	run -0 pool -k -d , echo < <(printf 'a,b,c')
	[ "$output" = "$(printf 'a\nb\nc')" ]
	run -0 pool -k -d '\t' echo < <(printf 'x y\tz')
	[ "$output" = "$(printf 'x y\nz')" ]
	run -125 pool -d ab echo
	one_line
	[[ "$output" == "pool: -d ab: not one character"* ]]
}

@test "-a reads items from a file; an unreadable one is status 125" {
	printf '1\n2\n' >items
	run -0 pool -k -a items echo </dev/null
	[ "$output" = "$(printf '1\n2')" ]
	run -125 pool -a missing echo
	one_line
	[[ "$output" == "pool: open missing: No such file or directory" ]]
	run -0 pool -k -a - echo <items
	[ "$output" = "$(printf '1\n2')" ]
}

@test "input is read lazily: an endless input runs in constant memory" {
	# pool stops after 50 jobs; had it slurped its input it would have
	# grown by the hundreds of megabytes yes writes meanwhile. Sizes are
	# compared with pool's size on an empty input (sanitizers inflate it).
	base=$(/usr/bin/time -f %M pool true 2>&1 </dev/null | tail -n 1)
	run -0 bash -c 'yes | /usr/bin/time -f "%M" pool -j2 --halt now,done=50 true 2>&1 >/dev/null | tail -n 1'
	[ "$output" -lt $((base + 10000)) ]
	run -0 bash -c 'yes | head -n 200000 | /usr/bin/time -f "%M" pool -j2 -n 5000 true 2>&1 | tail -n 1'
	[ "$output" -lt $((base + 10000)) ]
}

@test "a job's items come from a slow producer as they arrive" {
	mkfifo f
	# The second item is only written after the first job has run:
	# pool must not wait for the whole input.
	bg sh -c 'exec >f; echo first; while [ ! -e first.done ]; do sleep 0.01; done; echo second'
	run -0 pool -k -j2 sh -c 'touch "$1.done"; echo "$1"' _ <f
	[ "$output" = "$(printf 'first\nsecond')" ]
	wait "$(tail -n 1 "$BATS_TEST_TMPDIR/pids")"
}

# ------------------------------------------------------------ replacements

@test "replacement strings are substituted instead of appending the item" {
	printf 'dir/sub/file.tar.gz\n.profile\nplain\n/top\n' >in
	run -0 pool -k -j1 echo '{}|{.}|{/}|{//}|{/.}|{#}|{%}' <in
	[ "${lines[0]}" = "dir/sub/file.tar.gz|dir/sub/file.tar|file.tar.gz|dir/sub|file.tar|1|1" ]
	[ "${lines[1]}" = ".profile|.profile|.profile|.|.profile|2|1" ]
	[ "${lines[2]}" = "plain|plain|plain|.|plain|3|1" ]
	[ "${lines[3]}" = "/top|/top|top|/|top|4|1" ]
}

@test "a replacement string may sit inside a longer argument" {
	run -0 pool -k echo 'out/{/.}.gz' < <(printf 'a/b.txt\n')
	[ "$output" = "out/b.gz" ]
}

@test "-n gives a job up to N items; {} joins them, {N} picks one" {
	run -0 pool -k -n 2 echo < <(seq 5)
	[ "$output" = "$(printf '1 2\n3 4\n5')" ]
	run -0 pool -k -n 3 printf '%s|' < <(seq 4)
	[ "$output" = "1|2|3|4|" ]
	run -0 pool -k -n 2 echo '{2}-{1}' '[{}]' < <(seq 4)
	[ "$output" = "$(printf '2-1 [1 2]\n4-3 [3 4]')" ]
}

@test "-n: a job takes fewer items when more would make its command line too long" {
	# 30000 items of 106 bytes: 3 MB, more than one command line holds.
	seq 30000 | awk '{ printf "%s-%0100d\n", $1, 0 }' >in
	run -0 pool -j1 -n 30000 sh -c 'printf "%s\n" "$@" >>all; echo $#' _ <in
	[ "${#lines[@]}" -gt 20 ]
	cmp all in
	# The last item, without its newline, is given back whole too.
	{ for c in a b c; do head -c 70000 /dev/zero | tr '\0' $c; echo; done
	  head -c 70000 /dev/zero | tr '\0' d; } >big
	run -0 pool -k -n 5 sh -c 'echo "$# ${#1} $(printf %.1s "$1")"' _ <big
	[ "$output" = "$(printf '1 70000 a\n1 70000 b\n1 70000 c\n1 70000 d')" ]
	run -0 pool -k -n 5 echo '{}' <big
	[ "${#lines[@]}" -eq 4 ]
}

# ------------------------------------------------------------ slots and env

@test "-j N runs at most N jobs at once, and really runs N" {
	make_counter c
	# Jobs 1 to 3 meet before they go on: each waits (for at most about
	# 20 s) until all three have started, which only N >= 3 allows; a job
	# that gives up fails, and pool with it.
	cat >meet <<-'EOF'
	#!/bin/sh
	if [ "$1" -le 3 ]; then
		touch "in.$1"
		n=0
		until [ -e in.1 ] && [ -e in.2 ] && [ -e in.3 ]; do
			n=$((n + 1))
			[ "$n" -lt 2000 ] || exit 9
			sleep 0.01
		done
	fi
	exec c/job
	EOF
	chmod +x meet
	run -0 pool -j3 ./meet < <(seq 9)
	[ "$(cat c/max)" -le 3 ]
}

@test "-j accepts N% of the CPUs and rejects negatives and non-numbers with 125" {
	run -0 pool -j 50% true < <(echo x)
	run -125 pool -j -1 true
	one_line
	run -125 pool -j x true
	one_line
	run -125 pool -j 0% true
	one_line
}

@test "-j beyond the soft descriptor limit: pool raises it, and the jobs get the old one" {
	# 150 jobs at once hold 300 pipes, past a soft limit of 128. Each
	# job says it started and waits for a lock we hold until all 150
	# have said so; without room for all of them they never would.
	exec 8>gate
	flock -x 8
	bg bash -c 'ulimit -Sn 128 && seq 150 | exec pool -j 150 sh -c "echo \$1 >>started; flock -s gate true; ulimit -Sn" _ >out 2>err' 8>&-
	started() { [ "$(wc -l <started)" = 150 ]; }
	wait_for started || { exec 8>&-; false; }
	exec 8>&-
	wait_status "$(tail -n 1 "$BATS_TEST_TMPDIR/pids")" 0
	[ ! -s err ]
	[ "$(grep -cx 128 out)" = 150 ]
}

@test "-j beyond the hard descriptor limit: fewer jobs at once, with one warning" {
	run -0 bash -c 'ulimit -n 100 && seq 300 | pool -j 300 sh -c "echo \$1" _ 2>err | wc -l'
	[ "$output" = 300 ]
	[ "$(wc -l <err)" = 1 ]
	grep -q '^pool: -j 300: only enough open files for [0-9]* jobs at once (ulimit -n is 100)$' err
}

@test "the descriptors pool keeps for itself are what it needs: under ulimit -n 64, -j 30 runs 20 or more at once" {
	# The reserve used to be a fixed 64, so that under ulimit -n 64 pool
	# ran one job at a time. The jobs it says fit all run at once: each
	# says it started and waits for a lock we hold until all have.
	only_std='for f in /proc/$$/fd/*; do f=${f##*/}; [ "$f" -le 2 ] || eval "exec $f>&-"; done'
	exec 8>gate
	flock -x 8
	bg bash -c "$only_std; ulimit -n 64 && seq 30 | exec pool -j 30 sh -c 'echo \$1 >>started; flock -s gate true' _ >out 2>err"
	wait_for test -s err
	fit=$(sed -n 's/^pool: -j 30: only enough open files for \([0-9]*\) jobs at once (ulimit -n is 64)$/\1/p' err)
	[ "$fit" -ge 20 ]
	all_started() { [ "$(wc -l <started)" -ge "$fit" ]; }
	wait_for all_started || { exec 8>&-; false; }
	exec 8>&-
	wait_status "$(tail -n 1 "$BATS_TEST_TMPDIR/pids")" 0
	[ "$(wc -l <started)" = 30 ]
	[ "$(wc -l <err)" = 1 ]
}

@test "a descriptor limit too low for even one job: 125 and one line, before reading input" {
	# It used to read every item and fail each job with "Too many open
	# files". The items left unread show that pool read none of them.
	seq 3 >items
	# Only 0-2 open (bats holds more), so that the limit is what counts.
	only_std='for f in /proc/$$/fd/*; do f=${f##*/}; [ "$f" -le 2 ] || eval "exec $f>&-"; done'
	# pool itself holds about 9 descriptors, and a job's two pipes 4
	# more. Under 7, pool's own set-up fails first, with one line too.
	for n in 7 11; do
		run -0 bash -c "$only_std; ulimit -n $n && { pool -j4 echo 2>err; echo \$?; cat; } <items"
		[ "$output" = "$(printf '125\n1\n2\n3')" ]
		[ "$(wc -l <err)" = 1 ]
		grep -Eq "^pool: (.*: Too many open files|not enough open files to run even one job \(ulimit -n is $n\))\$" err
	done
	grep -q "^pool: not enough open files to run even one job (ulimit -n is 11)\$" err
	# With room for one job (-u needs no pipes), it runs them one at a time.
	run -0 bash -c "$only_std; ulimit -n 13 && pool -u -j4 echo <items | sort"
	[ "$output" = "$(printf '1\n2\n3')" ]
}

@test "jobs see POOL_SEQ and POOL_SLOT, and /dev/null as stdin" {
	run -0 pool -k -j2 sh -c 'echo "$POOL_SEQ $POOL_SLOT $(wc -c)"' _ < <(seq 3)
	[ "${lines[0]}" = "1 1 0" ]
	[ "${lines[1]}" = "2 2 0" ]
	[[ "${lines[2]}" == "3 "[12]" 0" ]]
}

# ------------------------------------------------------------ output

@test "default output: long lines of concurrent jobs are never torn" {
	# Four jobs each write 200 lines of 100 KiB (more than a pipe holds)
	# made of one repeated letter; every output line must be whole.
	cat >gen <<-'EOF'
	#!/bin/sh
	line=$(head -c 102400 /dev/zero | tr '\0' "$1")
	i=0
	while [ $i -lt 200 ]; do echo "$line"; i=$((i + 1)); done
	EOF
	chmod +x gen
	printf '%s\n' a b c d | pool -j4 ./gen >out
	[ "$(wc -l <out)" -eq 800 ]
	run -0 awk '{ c = substr($0, 1, 1); t = $0; gsub(c, "", t)
		if (length($0) != 102400 || t != "") { print "torn at " NR; exit 1 } }' out
}

@test "default output: stdout and stderr stay apart; an unterminated last line is ended" {
	run --separate-stderr -0 pool sh -c 'printf out; printf err >&2' _ < <(echo x)
	[ "$output" = "out" ]
	[ "$stderr" = "err" ]
	pool sh -c 'printf out' _ < <(echo x) >o
	[ "$(od -An -c o | tr -d ' ')" = 'out\n' ]
}

@test "-k keeps input order whatever the job durations" {
	for i in $(seq 24); do echo "$i $((RANDOM % 4))"; done >in
	run -0 pool -k -j4 sh -c 'set -- $1; sleep "0.0$2"; echo "$1 a"; echo "$1 b"' _ <in
	expect=$(for i in $(seq 24); do echo "$i a"; echo "$i b"; done)
	[ "$output" = "$expect" ]
}

@test "-k streams the earliest job's output before it ends" {
	mkfifo gate
	# Job 1 prints, then waits for a line that we send only once we
	# have seen its output: -k must not hold it back until the end.
	bg sh -c 'pool -k -j2 sh -c "echo \$1; [ \$1 = 1 ] && read x <gate; :" _ >out <<-EOF
	1
	2
	EOF'
	wait_for grep -qx 1 out
	echo go >gate
	wait "$(tail -n 1 "$BATS_TEST_TMPDIR/pids")"
	[ "$(cat out)" = "$(printf '1\n2')" ]
}

@test "-k holds back at most its memory budget: a later job blocks instead" {
	# Job 2 writes 100 MB while job 1, which comes first, still runs.
	# pool holds 64 MiB of it, then stops reading job 2's pipe; job 1
	# waits until its parent, pool, has read that much, then ends. The
	# output is complete and in order, and pool never held it all.
	base=$(/usr/bin/time -f %M pool true 2>&1 </dev/null | tail -n 1)
	cat >j <<-'EOF'
	#!/bin/sh
	if [ "$1" = 1 ]; then
		while [ "$(awk '/^rchar/ { print $2 }' /proc/$PPID/io)" -lt 67108864 ]; do
			sleep 0.05
		done
		echo first
	else
		yes "$(head -c 999 /dev/zero | tr '\0' y)" | head -c 100000000
	fi
	EOF
	chmod +x j
	/usr/bin/time -f %M -o rss pool -k -j2 ./j < <(printf '1\n2\n') >out
	[ "$(head -n 1 out)" = first ]
	[ "$(wc -c <out)" -eq 100000006 ]
	[ "$(tail -n +2 out | uniq | wc -l)" -eq 1 ]
	# (ASan keeps freed memory in quarantine: sizes mean nothing there.)
	grep -q san "$TOP/bin/.flavour" || [ "$(tail -n 1 rss)" -lt $((base + 90000)) ]
}

@test "--group emits each job's output in one piece" {
	# a prints a1, waits until b has printed b1, prints a2: without
	# grouping a1 b1 a2 b2 would interleave.
	cat >j <<-'EOF'
	#!/bin/sh
	echo "${1}1"; touch "$1.1"
	other=$([ "$1" = a ] && echo b || echo a)
	while [ ! -e "$other.1" ]; do sleep 0.01; done
	echo "${1}2"
	EOF
	chmod +x j
	run -0 pool -j2 --group ./j < <(printf 'a\nb\n')
	[[ "$output" == "$(printf 'a1\na2\nb1\nb2')" || "$output" == "$(printf 'b1\nb2\na1\na2')" ]]
	rm -f a.1 b.1
	run -0 pool -j2 -k --group ./j < <(printf 'a\nb\n')
	[ "$output" = "$(printf 'a1\na2\nb1\nb2')" ]
}

@test "-k and --group with stdout and stderr in one place: each job's stdout, then its stderr" {
	# Job 1 ends once pool has reaped 2 and 3: with -k, 2 and 3 go out
	# together after 1.
	cat >j <<-'EOF'
	#!/bin/sh
	echo $$ >"pid.$1"
	if [ "$1" = 1 ]; then
		until [ -s pid.2 ] && [ -s pid.3 ] &&
		    ! kill -0 "$(cat pid.2)" 2>/dev/null &&
		    ! kill -0 "$(cat pid.3)" 2>/dev/null; do
			sleep 0.01
		done
	fi
	echo "out$1"; echo "err$1" >&2
	EOF
	chmod +x j
	for how in -k --group "-k --group"; do
		rm -f pid.*
		# shellcheck disable=SC2086
		run -0 sh -c 'seq 3 | pool "$@" -j3 ./j 2>&1' _ $how
		case $how in
		# (Jobs 2 and 3 may be reaped in either order.)
		--group) [ "$(paste -d ' ' - - <<<"$output")" = "$(printf 'out2 err2\nout3 err3\nout1 err1')" ] ||
			[ "$(paste -d ' ' - - <<<"$output")" = "$(printf 'out3 err3\nout2 err2\nout1 err1')" ] ;;
		*) [ "$output" = "$(printf 'out1\nerr1\nout2\nerr2\nout3\nerr3')" ] ;;
		esac
	done
}

@test "-u lets jobs write straight to pool's stdout" {
	run -125 pool -u -k echo
	one_line
	run -0 pool -u -j2 sh -c 'echo "$1"' _ < <(printf 'x\ny\n')
	[ "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" = "x y " ]
}

@test "--tag prefixes each output line with the item and a TAB" {
	run -0 pool -k --tag sh -c 'echo one; echo two' _ < <(printf 'a b\n')
	[ "$output" = "$(printf 'a b\tone\na b\ttwo')" ]
	run -0 pool --tag sh -c 'echo e >&2' _ < <(printf 'x\n')
	[ "$output" = "$(printf 'x\te')" ]
}

@test "a stdout closed by the reader ends pool with status 141" {
	run -0 bash -c 'seq 100000 | pool -j2 echo | head -n 1; echo "${PIPESTATUS[1]}"'
	[[ "${lines[0]}" =~ ^[0-9]+$ ]]
	[ "${lines[1]}" = 141 ]
	# Also when pool itself writes nothing: with -u, or with jobs that
	# print nothing. The input never ends, so only the reader's going
	# stops pool (timeout is a guard against a hang, not a measure).
	run -0 bash -c 'yes | timeout 60 pool -u echo | head -n 1; echo "${PIPESTATUS[1]}"'
	[ "$output" = "$(printf 'y\n141')" ]
	run -0 bash -c '{ echo first; yes; } | timeout 60 pool -k sh -c "[ \$1 = y ] || echo \$1" _ |
		head -n 1; echo "${PIPESTATUS[1]}"'
	[ "$output" = "$(printf 'first\n141')" ]
}

# ------------------------------------------------------------ exit status

@test "status is the number of failed jobs, 101 above 100" {
	run -0 pool true < <(seq 3)
	run -3 pool -j1 sh -c 'exit "$1"' _ < <(seq 3)
	run -1 pool sh -c '[ "$1" != 2 ]' _ < <(seq 3)
	run -101 pool -j4 false < <(seq 101)
	run -100 pool -j4 false < <(seq 100)
}

@test "a command that is not found is 127 at once, one that cannot run 126, as in xargs" {
	run -127 pool nosuchcmd-xyz < <(seq 2)
	[ "$output" = "pool: nosuchcmd-xyz: command not found" ]
	run -126 pool ./ < <(seq 1)
	[ "$output" = "pool: cannot run ./: Permission denied" ]
	# Before reading any item: the input is not consumed.
	run -0 sh -c 'seq 3 >in; { pool nosuchcmd-xyz; echo "$?"; cat; } <in'
	[ "${lines[1]}" = 127 ]
	[ "${lines[2]}" = 1 ]
	# A shell line given as CMD gets a hint.
	run -127 pool 'echo x | tr x y' < <(seq 1)
	[ "$output" = "pool: echo x | tr x y: command not found (a shell command line runs with --shell, or as sh -c '...')" ]
	# A command found per job (a replacement string in its name) fails
	# that job with 127 and pool goes on.
	run -1 pool {} < <(printf '%s\n' true ./nosuchcmd-xyz)
	run -127 pool --halt now,fail=1 {} < <(echo ./nosuchcmd-xyz)
}

@test "bad options are status 125 with one line and start no job" {
	run -125 pool
	one_line
	[[ "$output" == "pool: no command given; usage: pool "* ]]
	run -125 pool --bogus touch ran
	run -125 pool --timeout 1x touch ran
	one_line
	run -125 pool --halt soon,fail=0 touch ran
	run -125 pool --halt later,fail=1 touch ran
	one_line
	[[ "$output" == "pool: --halt later,fail=1: not a rule"* ]]
	for r in soon,fail=0% soon,fail=101% soon,done=50% now,fail=% now,success=1x%; do
		run -125 pool --halt "$r" touch ran
		one_line
	done
	run -125 pool --retries -1 touch ran
	run -125 pool --block 1M touch ran
	run -125 pool --resume touch ran
	run -125 pool --pipe -n 2 touch ran
	[ ! -e ran ]
}

# ------------------------------------------------------------ timeout, retries

@test "--timeout kills the job's whole process group; the job counts as failed" {
	# The job forks a sleeper that records its pid, then sleeps itself.
	run -1 pool --timeout 2 --joblog log sh -c 'sleep 60 & echo $! >pid; sleep 60' _ < <(echo x)
	pid=$(cat pid)
	gone "$pid"
	# The joblog records the killing signal (TERM).
	[ "$(sed -n 2p log | cut -f 7,8)" = "$(printf '0\t15')" ]
	run -124 pool --halt now,fail=1 --timeout 100ms sleep < <(echo 60)
}

@test "--timeout: a job that catches SIGTERM and exits 0 is logged with Exitval 124 and rerun by --resume-failed" {
	echo a >in
	run -1 pool --joblog log --timeout 2 -a in sh -c '
		[ -e again ] && { echo rerun; exit 0; }
		trap "exit 0" TERM; touch again; sleep 60 & wait' _
	[ "$(sed -n 2p log | cut -f 7,8)" = "$(printf '124\t0')" ]
	run -0 pool --joblog log --resume-failed -a in sh -c '
		[ -e again ] && { echo rerun; exit 0; }; exit 9' _
	[ "$output" = rerun ]
}

@test "--timeout escalates to SIGKILL after the grace period" {
	run -1 pool --timeout 100ms --grace 100ms sh -c 'trap "" TERM; sleep 60 & echo $! >pid; wait' _ < <(echo x)
	# On a loaded machine the SIGTERM may come before the trap is set:
	# the shell then dies having started nothing.
	[ ! -e pid ] || gone "$(cat pid)"
}

@test "--timeout also kills what the job left in its group when its leader dies (was: survivor)" {
	# The leader dies of SIGTERM; its child ignores it and holds no pipe of
	# ours, so only the grace period's SIGKILL to the group stops it.
	run -1 pool --timeout 100ms --grace 100ms sh -c 'sh -c "trap \"\" TERM; exec sleep 1000" >/dev/null 2>&1 &
		echo $! >pid; wait' _ < <(echo x)
	# (No pid file: the SIGTERM came before the leader had written it.)
	[ -e pid ] || return 0
	cat pid >>"$BATS_TEST_TMPDIR/pids"
	wait_for gone "$(cat pid)"
}

@test "--timeout stops what a job left running with its output after its leader exited (pool crashed)" {
	# The leader exits at once; the sleeper holds the job's stdout, so
	# the job is not over until the timeout stops it.
	run -1 pool --timeout 200ms sh -c 'sleep 1000 & echo $! >pid; exit 0' _ < <(echo x)
	[ "$output" = "pool: job 1 (x): timed out after 0.2s" ]
	# (No pid file: the SIGTERM came before the leader had written it.)
	[ ! -e pid ] || gone "$(cat pid)"
}

@test "--retries reruns a failed job up to N more times" {
	# Fails twice, then succeeds.
	cat >flaky <<-'EOF'
	#!/bin/sh
	echo x >>tries
	[ "$(wc -l <tries)" -ge 3 ]
	EOF
	chmod +x flaky
	run -0 pool --retries 2 ./flaky < <(echo a)
	[ "$(wc -l <tries)" -eq 3 ]
	rm tries
	run -1 pool --retries 1 ./flaky < <(echo a)
	[ "$(wc -l <tries)" -eq 2 ]
}

@test "--retries with -k or --group writes only the last attempt's output" {
	cat >flaky <<-'EOF'
	#!/bin/sh
	echo x >>"tries.$1"
	n=$(wc -l <"tries.$1")
	echo "$1 out $n"; echo "$1 err $n" >&2
	[ "$n" -ge 3 ]
	EOF
	chmod +x flaky
	for how in -k --group "-k --group"; do
		rm -f tries.*
		# shellcheck disable=SC2086
		run -0 sh -c 'seq 2 | pool "$@" -j2 --retries 2 ./flaky 2>err' _ $how
		[ "$(sort <<<"$output")" = "$(printf '1 out 3\n2 out 3')" ]
		[ "$(sort err)" = "$(printf '1 err 3\n2 err 3')" ]
	done
	# Line by line without them: every attempt's lines go out.
	rm -f tries.*
	run -0 sh -c 'echo 1 | pool --retries 2 ./flaky 2>/dev/null'
	[ "$output" = "$(printf '1 out 1\n1 out 2\n1 out 3')" ]
}

# ------------------------------------------------------------ halt

@test "--halt soon,fail=1 starts nothing after the first failure" {
	run -3 pool -j1 --halt soon,fail=1 sh -c 'echo "$1" >>ran; exit "$1"' _ < <(printf '0\n3\n0\n0\n')
	[ "$(cat ran | tr '\n' ' ')" = "0 3 " ]
}

@test "--halt now,fail=1 kills the running jobs" {
	run -5 pool -j2 --halt now,fail=1 sh -c '[ "$1" = fail ] && { while [ ! -e started ]; do sleep 0.01; done; exit 5; }
		echo $$ >pid; touch started; sleep 60' _ < <(printf 'sleep\nfail\n')
	gone "$(cat pid)"
}

@test "--halt now,success=1 is a race: the first success wins" {
	run -0 pool -j3 --halt now,success=1 sh -c '[ "$1" = win ] || { echo $$ >>pids; exec sleep 60; }
		while [ "$(cat pids 2>/dev/null | wc -l)" -lt 2 ]; do sleep 0.01; done' _ < <(printf 'a\nwin\nb\n')
	for p in $(cat pids); do gone "$p"; done
	run -0 pool -j1 --halt soon,success=1 sh -c 'echo "$1" >>ran; [ "$1" = 2 ]' _ < <(seq 5)
	[ "$(cat ran | tr '\n' ' ')" = "1 2 " ]
}

@test "--halt done=N stops after N jobs; --halt never is the default" {
	run -0 pool -j1 --halt soon,done=2 sh -c 'echo "$1" >>ran' _ < <(seq 5)
	[ "$(wc -l <ran)" -eq 2 ]
	run -2 pool --halt never false < <(seq 2)
}

@test "--halt fail=P% stops once P percent of at least 3 finished jobs failed" {
	# Jobs 1 and 2 fail: 2 of 2 is 100%, but fewer than 3 are done. Job 3
	# succeeds (2 of 3, 66% < 70%); job 4 fails: 3 of 4 = 75% >= 70%.
	run -7 pool -j1 --halt soon,fail=70% sh -c 'echo "$1" >>ran; exit "$1"' _ < <(printf '9\n8\n0\n7\n0\n0\n')
	[ "$(cat ran)" = "$(printf '9\n8\n0\n7')" ]
	rm ran
	# success=P% in the same way.
	run -0 pool -j1 --halt soon,success=50% sh -c 'echo "$1" >>ran; exit "$1"' _ < <(printf '0\n1\n0\n1\n1\n')
	[ "$(cat ran)" = "$(printf '0\n1\n0')" ]
}

# ------------------------------------------------------------ joblog

@test "--joblog writes GNU parallel's format" {
	run -1 pool -j1 --joblog log sh -c 'exit "$1"' _ < <(printf '0\n3\n')
	[ "$(sed -n 1p log)" = "$(printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand')" ]
	[ "$(wc -l <log)" -eq 3 ]
	run -0 awk -F '\t' 'NR > 1 && (NF != 9 || $2 != ":" || $3 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ ||
		$4 !~ /^[0-9]+\.[0-9][0-9][0-9]$/) { exit 1 }' log
	[ "$(sed -n 3p log | cut -f 1,7,8,9)" = "$(printf "2\t3\t0\tsh -c 'exit \"\$1\"' _ 3")" ]
}

@test "--joblog quotes commands so that a shell reads them back" {
	pool -j1 -0 --joblog log printf '%s' < <(printf "a b\0it's\0x\ny\0") >/dev/null
	run -0 sh -c 'tail -n 3 log | cut -f 9'
	[ "${lines[0]}" = "printf %s 'a b'" ]
	[ "${lines[1]}" = "printf %s 'it'\\''s'" ]
	[ "${lines[2]}" = "printf %s \$'x\\x0ay'" ]
}

@test "--resume skips logged jobs, --resume-failed reruns the failed ones" {
	cat >job <<-'EOF'
	#!/bin/sh
	echo "$1" >>ran
	[ ! -e "fail.$1" ]
	EOF
	chmod +x job
	touch fail.2
	run -1 pool -j1 --joblog log ./job < <(seq 3)
	# Job 4 is new; 1-3 are logged.
	run -0 pool -j1 --joblog log --resume ./job < <(seq 4)
	[ "$(tr '\n' ' ' <ran)" = "1 2 3 4 " ]
	rm fail.2
	run -0 pool -j1 --joblog log --resume-failed ./job < <(seq 4)
	[ "$(tr '\n' ' ' <ran)" = "1 2 3 4 2 " ]
	run -0 pool -j1 --joblog log --resume-failed ./job < <(seq 4)
	[ "$(tr '\n' ' ' <ran)" = "1 2 3 4 2 " ]
}

@test "an unwritable --joblog is status 125 and no job starts" {
	run -125 pool --joblog nodir/log touch ran < <(echo x)
	one_line
	[[ "$output" == "pool: open joblog nodir/log: No such file or directory" ]]
	[ ! -e ran ]
}

# ------------------------------------------------------------ bar

@test "--bar draws progress on a terminal stderr, and nothing otherwise" {
	command -v script >/dev/null || skip "script(1) is not installed"
	seq 3 >in
	run -0 script -qec "pool --bar -a in true" /dev/null
	[[ "$output" == *"pool: 3/3 done, 0 failed"* ]]
	run --separate-stderr -0 pool --bar true <in
	[ -z "$stderr" ]
}

# ------------------------------------------------------------ pipe

# Each --pipe test runs twice: from a file (blocks are ranges of it, fed
# with splice) and from a pipe (blocks are read into memory).
pipe_in() { # pipe_in file|pipe FILE CMD...: run CMD with FILE as stdin
	local how=$1 f=$2
	shift 2
	if [ "$how" = file ]; then "$@" <"$f"; else cat "$f" | "$@"; fi
}

@test "--pipe feeds blocks of whole records to the jobs' stdin" {
	seq 100000 >in
	for how in file pipe; do
		run -0 pipe_in $how in pool --pipe --block 10K -k cat
		[ "$output" = "$(cat in)" ]
		# Blocks end at record boundaries: every job sees whole lines.
		run -0 pipe_in $how in pool --pipe --block 10K sh -c 'tail -c 1 | od -An -c'
		for l in "${lines[@]}"; do [ "$l" = '  \n' ]; done
		[ "${#lines[@]}" -gt 10 ]
		run -0 pipe_in $how in pool --pipe --block 64K -j2 wc -l
		[ "$(printf '%s\n' "${lines[@]}" | awk '{ s += $1 } END { print s }')" = 100000 ]
	done
}

@test "--pipe keeps a record longer than the block whole, and the last one without newline" {
	{ head -c 30000 /dev/zero | tr '\0' a; echo; printf 'tail'; } >in
	for how in file pipe; do
		run -0 pipe_in $how in pool --pipe --block 1K -k sh -c 'wc -c'
		[ "$output" = "$(printf '30001\n4')" ]
	done
	# Longer than the block and a read's worth more: nothing after it
	# is lost.
	{ head -c 200000 /dev/zero | tr '\0' a; echo; seq 3000; } >in
	for how in file pipe; do
		run -0 pipe_in $how in pool --pipe --block 1K -k cat
		[ "$output" = "$(cat in)" ]
	done
	printf 'a\0b\0' >nul
	for how in file pipe; do
		run -0 pipe_in $how nul pool --pipe -0 --block 1K -k od -An -c
		[ "${#lines[@]}" -eq 1 ]
	done
	# A block of 1 byte holds one record each.
	printf 'a\nbb\nccc' >in
	for how in file pipe; do
		run -0 pipe_in $how in pool --pipe --block 1 -k sh -c 'echo "[$(cat)]"'
		[ "$output" = "$(printf '[a]\n[bb]\n[ccc]')" ]
	done
}

@test "--pipe -k passes the jobs' bytes exactly: gzip members concatenate" {
	head -c 300000 /dev/urandom >data
	for how in file pipe; do
		run -0 pipe_in $how data sh -c 'pool --pipe -k --block 64K gzip >data.gz'
		gzip -dc data.gz | cmp - data
		run -0 pipe_in $how data sh -c 'pool --pipe --group --block 64K -j1 cat >copy'
		cmp copy data
	done
}

@test "--pipe from a file starts at its offset and leaves the offset at the end" {
	seq 5 >in
	run -0 sh -c '{ read -r first; pool --pipe --block 1 -k cat; echo "rest:$(cat)"; } <in'
	[ "$output" = "$(printf '2\n3\n4\n5\nrest:')" ]
}

@test "--pipe --retries feeds the same block again" {
	seq 1000 >in
	# Each block's first attempt fails after reading it; the retry sees it
	# again whole.
	for how in file pipe; do
		rm -f tried.*
		run -0 pipe_in $how in pool --pipe --block 1K -k --retries 1 sh -c \
		    'f=tried.$POOL_SEQ; d=$(cat); [ -e $f ] || { : >$f; exit 1; }; printf "%s\n" "$d"'
		[ "$output" = "$(cat in)" ]
	done
}

@test "--pipe from a pipe: a job starts on the first records of its block and gets the rest as they come" {
	# The writer sends one line, then waits until the job has read it: a
	# pool that waited for the whole 1M block first would never see more.
	{ echo first; wait_for test -s got || echo "not started"; seq 3; } |
	    pool --pipe --block 1M sh -c 'read -r l; echo "$l" >got; echo "$l"; cat' >out
	[ "$(cat out)" = "$(printf 'first\n1\n2\n3')" ]
}

@test "--pipe from a pipe: a job that ends or fails before its block is read whole" {
	seq 300000 >in
	# head ends at once: the rest of its block is still its own, the next
	# job starts at the next block, as from a file.
	run -0 pool --pipe --block 100K -k head -n 1 <in
	want=$output
	run -0 pipe_in pipe in pool --pipe --block 100K -k head -n 1
	[ "$output" = "$want" ]
	# A first attempt that fails before reading anything: the retry gets
	# the whole block.
	run -0 pipe_in pipe in pool --pipe --block 4M --retries 1 sh -c \
	    '[ -e tried ] || { : >tried; exit 1; }; wc -l'
	[ "$output" = 300000 ]
}

# ------------------------------------------------------------ signals

@test "SIGTERM is forwarded to every job's group; pool exits 143 with no orphans" {
	seq 4 >in
	pool -j2 sh -c 'sleep 60 & echo $! >>pids; echo $$ >>pids; wait' _ <in &
	p=$!
	echo "$p" >>"$BATS_TEST_TMPDIR/pids"
	wait_for sh -c '[ "$(wc -l <pids)" -ge 4 ]'
	kill -TERM "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" = 143 ]
	for q in $(cat pids); do gone "$q"; done
}

@test "SIGTERM, SIGINT while stdout is stalled: pool drops the output and exits" {
	mkfifo out
	exec 4<>out # a reader that never reads
	echo x >in
	for sig in TERM INT; do
		for k in "" -k; do
			bg pool $k -a in sh -c 'echo $$ >"$1"; yes | head -c 1M; exec sleep 1000' _ "$sig$k" >out
			pid=$!
			wait_for blocked_in_write "$pid"
			kill -"$sig" "$pid"
			wait_for gone "$pid"
			wait_status "$pid" $((128 + $(kill -l "$sig")))
			gone "$(cat "$sig$k")"
		done
	done
	exec 4<&-
}

@test "SIGINT: a job that ignores it is killed after the grace period; status 130" {
	echo x >in
	bg pool -a in --grace 200ms sh -c 'trap "" INT TERM; echo $$ >pid; sleep 60 & wait' _
	p=$!
	wait_for test -s pid
	kill -INT "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" = 130 ]
	gone "$(cat pid)"
}

@test "SIGINT: what a job left in its group is killed after the grace period (was: orphan)" {
	echo x >in
	# The leader ends at the SIGINT; its child ignores it and writes
	# nowhere near pool, so pool must not forget its group.
	bg pool -a in --grace 100ms sh -c 'sh -c "trap \"\" INT TERM; exec sleep 1000" >/dev/null 2>&1 &
		echo $! >pid; trap "exit 1" INT; wait' _
	p=$!
	wait_for test -s pid
	kill -INT "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" = 130 ]
	cat pid >>"$BATS_TEST_TMPDIR/pids"
	wait_for gone "$(cat pid)"
}

@test "a second SIGINT kills the jobs at once" {
	echo x >in
	# The job notes the forwarded SIGINT (and goes on): only then is the
	# second one sent, so that the two cannot merge into one pending
	# signal.
	bg pool -a in --grace 1h sh -c 'trap "echo int >>got" INT; trap "" TERM; echo $$ >pid
		while :; do sleep 0.1; done' _
	p=$!
	wait_for test -s pid
	kill -INT "$p"
	wait_for test -s got
	kill -INT "$p"
	st=0
	wait "$p" || st=$?
	[ "$st" = 130 ]
	gone "$(cat pid)"
}

@test "jobs start with the signals pool ignores or catches at their default, and none blocked" {
	# pool ignores SIGPIPE and catches SIGCHLD, SIGINT, SIGTERM, SIGHUP,
	# SIGUSR1, SIGUSR2 and SIGURG; its child resets only SIGPIPE (exec
	# resets the caught ones), and nothing stays blocked. The job reads
	# its own status: a shell that waits for a child (dash) blocks every
	# signal for a moment, which a look from the child caught now and
	# then.
	run -0 env --default-signal=INT,QUIT,PIPE pool sh -c \
	    'exec grep -E "^Sig(Blk|Ign|Cgt)" /proc/self/status' _ <<<x
	[[ "$output" == *"SigBlk:	0000000000000000"* ]]
	[[ "$output" =~ SigIgn:.[0-9a-f]{8}[08]0000000 ]] || { echo "$output"; false; }
}

@test "a stop signal ignored at pool's start stays ignored, in pool and in its jobs (nohup)" {
	mkfifo gate
	exec {g}<>gate
	echo x >in
	bg sh -c 'trap "" HUP; exec pool -a in sh -c "grep ^SigIgn /proc/\$\$/status >ign.t; mv ign.t ign; read x <gate" _'
	p=$!
	wait_for test -s ign
	ignores 1
	kill -HUP "$p"
	echo go >&"$g"
	wait_status "$p" 0
}

@test "jobs of a pool killed with SIGKILL die with it" {
	echo x >in
	pool sh -c 'echo $$ >pid; exec sleep 60' _ <in &
	p=$!
	echo "$p" >>"$BATS_TEST_TMPDIR/pids"
	wait_for test -s pid
	kill -KILL "$p"
	{ wait "$p"; } 2>/dev/null || true
	wait_for gone "$(cat pid)"
}

@test "every signal that would end pool stops the jobs' groups first: SIGQUIT, SIGALRM, SIGPROF" {
	# pool used to exit without signalling them (issue 24).
	for sig in QUIT ALRM PROF; do
		rm -f p
		echo x >in
		bg pool -a in --grace 0 sh -c 'sleep 1000 & echo $! >p; wait'
		pid=$!
		wait_for test -s p
		kill -"$sig" "$pid"
		wait_status "$pid" $((128 + $(kill -l "$sig")))
		wait_for gone "$(cat p)"
	done
}

@test "pool killed with SIGKILL: the jobs' groups die too (the watcher)" {
	seq 2 >in
	bg pool -a in -j 2 sh -c 'sleep 1000 & echo $! >p$1; wait' _
	pid=$!
	wait_for test -s p1 -a -s p2
	kill -KILL "$pid"
	wait_status "$pid" 137
	wait_for gone "$(cat p1)" "$(cat p2)"
}

@test "SIGURG lists the number of slots and the running jobs on stderr" {
	echo item >in
	bg pool -j 3 -a in sh -c 'touch started; while [ ! -e stop ]; do sleep 0.01; done' _ 2>err
	wait_for test -e started
	kill -URG "$(tail -n 1 "$BATS_TEST_TMPDIR/pids")"
	wait_for grep -q "pool: job 1 slot 1 pid [0-9]* .*s: sh -c" err
	[ "$(head -n 1 err)" = "pool: 3 slots, 1 in use" ]
	touch stop
	wait "$(tail -n 1 "$BATS_TEST_TMPDIR/pids")"
}

# ------------------------------------------------------------ jobserver

@test "under make -j2, two recipes each running pool -j4 run at most 2 jobs" {
	command -v make >/dev/null || skip "make is not installed"
	make_counter c
	printf 'all: a b\na b:\n\t+seq 6 | pool -j4 c/job\n' >Makefile
	run -0 make -s -j2
	[ "$(cat c/max)" -le 2 ]
	[ "$(cat c/max)" -ge 1 ]
}

@test "without the '+' mark the closed jobserver is reported and pool goes on alone" {
	command -v make >/dev/null || skip "make is not installed"
	make_counter c
	printf 'all:\n\tseq 2 | pool -j2 c/job\n' >Makefile
	run -0 make -s -j2
	[ "$output" = "pool: not using the make jobserver in MAKEFLAGS: its descriptors are closed (mark the make recipe with '+')" ]
	[ "$(cat c/max)" -le 2 ]
}

@test "a make run inside a pool job takes pool's tokens" {
	command -v make >/dev/null || skip "make is not installed"
	make_counter c
	printf 'all: t1 t2 t3 t4\nt1 t2 t3 t4:\n\t@../c/job\n' >Makefile.in
	mkdir -p m1 m2
	cp Makefile.in m1/Makefile
	cp Makefile.in m2/Makefile
	# Alone, each make would run 2 recipes (-j2): 4 in total. Sharing
	# pool's 2 slots, at most 2 run at once.
	run -0 pool -j2 make -s -C < <(printf 'm1\nm2\n')
	[ "$(cat c/max)" -le 2 ]
}

@test "pool takes its slots from a jobserver FIFO (make 4.4 style) and gives them back" {
	mkfifo js
	exec 7<>js
	printf '+' >&7
	make_counter c
	# One implicit slot plus one token: at most 2 jobs at once.
	run -0 env MAKEFLAGS="-j2 --jobserver-auth=fifo:$PWD/js" pool -j8 c/job < <(seq 6)
	[ "$(cat c/max)" -le 2 ]
	# The token is back in the FIFO.
	run -0 timeout 5 dd bs=1 count=1 status=none <&7
	[ "$output" = "+" ]
	exec 7>&-
}
