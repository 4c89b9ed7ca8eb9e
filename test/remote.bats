#!/usr/bin/env bats
# Job bodies are shell snippets in single quotes, expanded by the job.
# shellcheck disable=SC2016,SC1091
# Remote execution: pool -S/--sshlogin and -H/--host for queue, sem and
# barrier, against real sshd servers on 127.0.0.1 (test/sshd.sh): hosts
# h1, h2 and h3, which the failover test kills.

load helper

setup_file() {
	SSHD_DIR="$BATS_FILE_TMPDIR/sshd"
	export SSHD_DIR
	# shellcheck source=test/sshd.sh
	. "$BATS_TEST_DIRNAME/sshd.sh"
	SSHD_PATH="$(cd "$BATS_TEST_DIRNAME/.." && pwd)/bin:/usr/local/bin:/usr/bin:/bin"
	export SSHD_PATH
	if ! sshd_start "$SSHD_DIR" 3; then
		sshd_stop "$SSHD_DIR"
		echo skip >"$SSHD_DIR/skip"
	fi
}

teardown_file() {
	# shellcheck source=test/sshd.sh
	. "$BATS_TEST_DIRNAME/sshd.sh"
	sshd_stop "$SSHD_DIR"
}

test_setup() {
	if [ -f "$SSHD_DIR/skip" ]; then
		skip "cannot start sshd: $(tr '\n' ' ' <"$SSHD_DIR/why")"
	fi
	CONC_SSH="ssh -F $SSHD_DIR/ssh_config"
	# Control directories of tools a test kills with SIGKILL stay here.
	TMPDIR=$BATS_TEST_TMPDIR
	export CONC_SSH TMPDIR
	# shellcheck source=test/sshd.sh
	. "$BATS_TEST_DIRNAME/sshd.sh"
}

# gone PID: the process has exited (a zombie waiting for init counts).
gone() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -z "$st" ] || [ "$st" = Z ]
}

lines_in() { # FILE N: FILE has N lines
	[ -f "$1" ] && [ "$(wc -l <"$1")" -eq "$2" ]
}

all_gone() { # FILE: every pid listed in FILE has exited
	local p
	while read -r p; do
		gone "$p" || return 1
	done <"$1"
}

# ------------------------------------------------------------ pool -S

@test "pool -S spreads jobs over the hosts and --tag names the host" {
	run -0 pool -S 2/h1,2/h2 --tag -k sh -c 'echo "$1"' sh < <(seq 8)
	[ "${#lines[@]}" -eq 8 ]
	[ "$(printf '%s\n' "${lines[@]}" | cut -f2 | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 " ]
	printf '%s\n' "${lines[@]}" | grep -q '^h1	'
	printf '%s\n' "${lines[@]}" | grep -q '^h2	'
}

@test "pool -S runs the jobs on the host through its sshd" {
	run -0 pool -S h1 -k sh -c 'echo "${SSH_CONNECTION:+remote} $(pwd)"' sh < <(seq 2)
	[ "$output" = "$(printf 'remote %s\nremote %s' ~ ~)" ]
}

@test "the remote shell sees exactly the local items (quotes, \$, backticks, newlines)" {
	printf '%s\0' 'a b' "it's" '$HOME' '`id`' "$(printf 'x\ny')" '"q"' '' '\n' '*' >in
	run -0 pool -0 -k -S h1,h2 printf '[%s]\n' <in
	[ "$output" = "$(pool -0 -k printf '[%s]\n' <in)" ]
	[ "${#lines[@]}" -eq 10 ]
}

@test "a remote job's status is its own; the joblog names the host" {
	run -1 pool -S h1 --joblog log sh -c 'exit "$1"' sh < <(printf '0\n7\n')
	[ "$(cut -f2,7 log | sort | tr '\t\n' ': ')" = "Host:Exitval h1:0 h1:7 " ]
}

@test "a job's own 255 is not taken for a connection failure" {
	run -1 pool -S h1,h2 --joblog log sh -c 'echo ran >>"$1"; exit 255' sh \
	    "$BATS_TEST_TMPDIR/ran" < <(echo x)
	[ "$(wc -l <ran)" -eq 1 ]
	[ "$(cut -f7 log | tail -1)" = 255 ]
}

@test "a remote job killed by a signal reports 128+N, and nothing is said of it" {
	run -1 pool -S h1 --joblog log sh -c 'kill -9 $$' < <(echo x)
	[ "$(cut -f7 log | tail -1)" = 137 ]
	# The wrapper's shell (bash as the login shell) says nothing.
	[ -z "$output" ]
}

@test "':' mixes the local machine in; --sshloginfile takes comments" {
	printf '# hosts\n1/h1\n\n  1/:\n' >hosts
	run -0 pool --sshloginfile hosts --tag -k sh -c 'echo "${SSH_CONNECTION:+remote}"' sh < <(seq 6)
	printf '%s\n' "${lines[@]}" | grep -qx 'h1	[0-9]	remote'
	printf '%s\n' "${lines[@]}" | grep -qx ':	[0-9]	'
}

@test "-j with -S is the number of jobs per host" {
	run -0 pool -S h1 -j 3 --joblog log sh -c 'echo "$POOL_SLOT"' sh < <(seq 3)
	[ "$(sort -u <<<"$output" | wc -l)" -eq 3 ]
}

@test "an unreachable host is left out with a message" {
	printf 'Host nowhere\n  Port 1\n' >"$BATS_TEST_TMPDIR/cfg"
	cat "$SSHD_DIR/ssh_config" >>"$BATS_TEST_TMPDIR/cfg"
	CONC_SSH="ssh -F $BATS_TEST_TMPDIR/cfg" run -0 pool -S h1,nowhere echo < <(seq 3)
	[[ "$output" == *"pool: nowhere: cannot connect; no jobs go there"* ]]
	[ "$(grep -c '^[123]$' <<<"$output")" -eq 3 ]
	CONC_SSH="ssh -F $BATS_TEST_TMPDIR/cfg" run -125 pool -S nowhere echo < <(seq 3)
	[[ "$output" == *"pool: no host can be reached"* ]]
}

@test "bad -S and remote options are refused with 125" {
	run -125 pool -S 0/h1 true </dev/null
	one_line
	run -125 pool -S 'h1,,h2' true </dev/null
	one_line
	run -125 pool -S x/h1 true </dev/null
	one_line
	run -125 pool -S -oProxyCommand=x true </dev/null
	one_line
	run -125 pool --sshloginfile "$BATS_TEST_TMPDIR/none" true </dev/null
	one_line
	: >empty
	run -125 pool --sshloginfile empty true </dev/null
	one_line
	run -125 pool --transfer true </dev/null
	one_line
	run -125 pool -S h1 --pipe true </dev/null
	one_line
	CONC_SSH=' ' run -125 pool -S h1 true </dev/null
	one_line
}

@test "a host that dies mid-run: its jobs run again elsewhere, none fails" {
	mkfifo started
	# Job 3 says when it first runs. Every job then waits until h3 is
	# dead (the test says so with a file) and until pool has given h3
	# up, so that h3 dies under running jobs and pool still has jobs
	# left when its third reconnection fails. Each wait gives up after
	# about a minute.
	cat >job <<-'EOF'
	if [ "$1" = 3 ] && mkdir "$2/said" 2>/dev/null; then echo go >"$2/started"; fi
	n=0
	until [ -e "$2/killed" ] && grep -q 'h3: the connection failed 3' "$2/err"; do
		n=$((n + 1))
		[ "$n" -lt 6000 ] || break
		sleep 0.01
	done
	echo "$1"
	EOF
	cat >run <<-'EOF'
	seq 12 | pool -S 2/h3,2/h2 --joblog log sh "$PWD/job" {} "$PWD" >out 2>err
	echo $? >status
	EOF
	bg sh run
	runner=$!
	read -r _ <started
	sshd_kill "$SSHD_DIR" 3
	touch killed
	wait "$runner"
	[ "$(cat status)" = 0 ]
	[ "$(sort -n out | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 11 12 " ]
	[ "$(tail -n +2 log | cut -f7 | sort -u)" = 0 ]
	[ "$(tail -n +2 log | wc -l)" -eq 12 ]
	grep -q 'pool: h3: the connection failed 3 times in a row' err
}

@test "SIGTERM reaches the remote jobs: nothing survives on the host" {
	seq 4 >items
	bg pool -S 2/h1,2/h2 -a items sh -c 'echo $$ >>"$1"; exec sleep 100' sh "$PWD/jpids"
	pool_pid=$!
	wait_for lines_in jpids 4
	kill -TERM "$pool_pid"
	st=0
	wait "$pool_pid" || st=$?
	[ "$st" -eq 143 ]
	wait_for all_gone jpids
}

@test "--timeout kills the remote job (status 124 counted as a failure)" {
	run -1 pool -S h1 --timeout 5 --joblog log sh -c 'echo $$ >>"$1"; exec sleep 100' \
	    sh "$PWD/jpids" < <(echo x)
	[ "$(wc -l <jpids)" -eq 1 ]
	wait_for all_gone jpids
	[ "$(tail -n +2 log | wc -l)" -eq 1 ]
}

@test "pool killed with SIGKILL leaves no remote job behind" {
	echo x >items
	bg pool -S h1 -a items sh -c 'echo $$ >>"$1"; exec sleep 100' sh "$PWD/jpids"
	pool_pid=$!
	wait_for test -s jpids
	kill -9 "$pool_pid"
	wait_for all_gone jpids
}

@test "--transfer, --return and --cleanup move files with rsync" {
	command -v rsync >/dev/null || skip "rsync is not installed"
	mkdir -p in "in/sp ace"
	echo hello >in/a
	echo "it's" >"in/sp ace/b'c"
	printf '%s\n' in/a "in/sp ace/b'c" >list
	run -0 pool -S h1,h2 --workdir "$PWD/remote" --transfer --return '{}.up' --cleanup \
	    sh -c 'tr a-z A-Z <"$1" >"$1.up"' sh <list
	[ "$(cat in/a.up)" = HELLO ]
	[ "$(cat "in/sp ace/b'c.up")" = "IT'S" ]
	[ -z "$(find remote -type f)" ]
}

@test "--transfer and --return work without rsync (ssh and cat)" {
	mkdir -p in nors
	for b in ssh mkdir dirname cat sh; do ln -s "$(command -v "$b")" "nors/$b"; done
	echo hello >in/a
	PATH="$TOP/bin:$PWD/nors" run -0 pool -S h1 --workdir "$PWD/remote" --transfer \
	    --return '{}.up' sh -c 'tr a-z A-Z <"$1" >"$1.up"' sh < <(echo in/a)
	[ "$(cat in/a.up)" = HELLO ]
	[ "$(cat remote/in/a)" = hello ]
}

@test "a failed transfer fails the job with 255" {
	run -1 pool -S h1 --workdir "$PWD/remote" --transfer --joblog log cat < <(echo missing)
	[ "$(cut -f7 log | tail -1)" = 255 ]
}

@test "no control directory is left behind" {
	before=$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'concutils-ssh.*' 2>/dev/null | sort)
	run -0 pool -S h1,h2 true < <(seq 4)
	run -0 queue -H h1 ls
	after=$(find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'concutils-ssh.*' 2>/dev/null | sort)
	[ "$before" = "$after" ]
}

# ------------------------------------------------------------ -H

@test "queue -H: put and get stream through ssh; statuses come back" {
	q="$BATS_TEST_TMPDIR/q"
	run -0 queue -H h1 create "$q"
	printf 'a b\nc\n' | queue -H h1 put "$q"
	run -0 queue size "$q"
	[ "$output" = 2 ]
	run -0 queue -H h2 get -n 2 "$q"
	[ "$output" = "$(printf 'a b\nc')" ]
	run -75 queue -H h1 get --nowait "$q"
	run -0 queue -H h1 close "$q"
	run -1 queue -H h1 get "$q"
}

@test "queue -H: workers on several hosts pull from one queue" {
	q="$BATS_TEST_TMPDIR/jobs"
	queue create "$q"
	seq 20 | queue put "$q"
	queue close "$q"
	run -0 pool -S h1,h2 sh -c 'exec queue get -f "$0"' "$q" < <(seq 2)
	[ "$(sort -n <<<"$output" | tr '\n' ' ')" = "$(seq 20 | tr '\n' ' ')" ]
}

@test "--remote-path names the program on the host" {
	q="$BATS_TEST_TMPDIR/q"
	run -0 queue -H h1 --remote-path "$TOP/bin/queue" create "$q"
	[ -f "$q" ]
	run -127 queue -H h1 --remote-path /nonexistent/queue ls
}

@test "sem -H: run's status, 255 included, passes through" {
	s="$BATS_TEST_TMPDIR/s"
	run -0 sem -H h1 run "$s" -- true
	run -7 sem -H h1 run "$s" -- sh -c 'exit 7'
	run -255 sem -H h1 run "$s" -- sh -c 'exit 255'
	run -137 sem -H h1 run "$s" -- sh -c 'kill -9 $$'
}

@test "sem -H: one semaphore across hosts" {
	s="$BATS_TEST_TMPDIR/s"
	mkfifo held
	bg sem -H h1 run "$s" -- sh -c 'echo in >"$1"; exec sleep 100' sh "$PWD/held"
	read -r _ <held
	run -75 sem -H h2 acquire --nowait "$s"
	run -75 sem acquire --nowait "$s"
}

@test "barrier -H: parties on two hosts meet" {
	b="$BATS_TEST_TMPDIR/b"
	bg sh -c 'barrier -H h1 wait -n 3 "$1"; echo $? >"$2/r1"' sh "$b" "$PWD"
	bg sh -c 'barrier -H h2 wait -n 3 "$1"; echo $? >"$2/r2"' sh "$b" "$PWD"
	run -0 barrier wait -n 3 -t 10 "$b"
	wait_for test -s r1
	wait_for test -s r2
	[ "$(cat r1 r2)" = "$(printf '0\n0')" ]
}

@test "-H: SIGTERM ends the remote operation too" {
	q="$BATS_TEST_TMPDIR/q"
	queue create "$q"
	bg queue -H h1 get "$q"
	qpid=$!
	wait_for pgrep -f "^queue get $q\$"
	remote=$(pgrep -f "^queue get $q\$")
	kill -TERM "$qpid"
	st=0
	wait "$qpid" || st=$?
	[ "$st" -eq 143 ]
	wait_for gone "$remote"
}

@test "-H: a host that cannot be reached gives 125 and a message" {
	printf 'Host nowhere\n  HostName 127.0.0.1\n  Port 1\n' >cfg
	CONC_SSH="ssh -F $PWD/cfg" run -125 queue -H nowhere ls
	[[ "$output" == *"queue: nowhere: cannot connect (ssh failed)"* ]]
}

@test "-H: bad use is refused with 125" {
	run -125 queue -H h1
	one_line
	run -125 sem --remote-path x value s
	one_line
	run -125 barrier -H -x ls
	one_line
	run -125 queue -H h1 --remote-path '' ls
	one_line
}

@test "event -H: a waiter on one host is woken by a set from another" {
	e="$BATS_TEST_TMPDIR/e"
	bg sh -c 'event -H h1 wait "$1"; echo $? >"$2/r1"' sh "$e" "$PWD"
	wait_for sh -c 'event stat "$1" | grep -qx "waiters	1"' sh "$e"
	run -0 event -H h2 set "$e"
	wait_for test -s r1
	[ "$(cat r1)" = 0 ]
	run -0 event -H h1 is-set "$e"
}

@test "-S with --retry-delay and --delay: a failed job runs again on a host after its wait" {
	run -0 pool -S 1/h1,1/h2 --retries 1 --retry-delay 50ms --delay 10ms \
	    --joblog log sh -c 'echo "$2" >>"$1"; [ "$(grep -c "$2" "$1")" -ge 2 ]' sh \
	    "$BATS_TEST_TMPDIR/ran" < <(printf '%s\n' a b c)
	[ "$(sort "$BATS_TEST_TMPDIR/ran" | paste -sd ' ')" = "a a b b c c" ]
	[ "$(tail -n +2 log | cut -f 7 | paste -sd ' ')" = "0 0 0" ]
}
