#!/usr/bin/env bats
# sem: named counting semaphores (issue 6). Every exit status of sem(1)
# is checked here; waiting states are observed through `sem stat`, never
# guessed with sleep.

load helper

# waiters NAME N: NAME has N registered waiters.
waiters() {
	[ "$(sem stat "$1" | awk '$1 == "waiters" { print $2 }')" = "$2" ]
}

# free_is NAME N: NAME has N free slots.
free_is() {
	[ "$(sem value "$1")" = "$2" ]
}

# has_lines FILE N: FILE exists and has N lines.
has_lines() {
	[ -f "$1" ] && [ "$(wc -l <"$1")" = "$2" ]
}

# holder PID: start a process that can own slots (ended at teardown).
holder() {
	sleep 1000 &
	HOLDER=$!
	disown "$HOLDER"
	echo "$HOLDER" >>"$BATS_TEST_TMPDIR/pids"
	# stat shows its command name: sleep, once the forked shell has
	# executed it.
	wait_for grep -qx sleep "/proc/$HOLDER/comm"
}

# make_crit: crit.sh, a critical section that proves how many commands
# are inside at once. It leaves a token named by its pid that holds its
# start time, counts the tokens whose process is still alive (a command
# killed inside leaves its token behind), appends the count to log, and
# removes its token. A slow section makes overlaps likely.
make_crit() {
	mkdir -p in
	: >log
	cat >crit.sh <<'EOF'
#!/bin/sh
read -r line </proc/$$/stat
# shellcheck disable=SC2086
set -- $line
echo "${22}" >in/.$$
mv in/.$$ in/$$
n=0
for f in in/*; do
	[ -e "$f" ] || continue
	read -r want <"$f" || continue
	read -r line 2>/dev/null </proc/"${f##*/}"/stat || continue
	# shellcheck disable=SC2086
	set -- $line
	[ "$3" != Z ] && [ "${22}" = "$want" ] && n=$((n + 1))
done
echo "$n" >>log
sleep 0.01
rm -f in/$$
EOF
	chmod +x crit.sh
}

# log_past N: crit.sh has logged more than N sections.
log_past() {
	[ "$(wc -l <log)" -gt "$1" ]
}

# max_inside: the largest count crit.sh saw.
max_inside() {
	sort -n log | tail -n 1
}

# not_stopped PID: the process is not stopped.
not_stopped() {
	[ "$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat")" != T ]
}

# unchanged NAME: the state of NAME is what it was when snapshot ran.
snapshot() {
	sem stat "$1" >"$BATS_TEST_TMPDIR/snap"
}
unchanged() {
	sem stat "$1" | diff "$BATS_TEST_TMPDIR/snap" -
}

@test "run: takes the slot, runs CMD and releases it; the semaphore is created" {
	run -0 sem run lock echo hello
	[ "$output" = hello ]
	run -0 sem value lock
	[ "$output" = 1 ]
	run -0 sem stat lock
	[[ "$output" == *$'slots\t1'* ]]
}

@test "run: passes CMD's exit status through, 128+N for a signal" {
	run -7 sem run lock sh -c 'exit 7'
	run -143 sem run lock sh -c 'kill -TERM $$'
	run -0 sem run lock -- true
	free_is lock 1
}

@test "run: 127 for a missing command, 126 for one that cannot run; no slot is used" {
	run -127 sem run lock no-such-command-xyz
	one_line
	[[ "$output" == "sem: no-such-command-xyz: "* ]]
	printf 'not a program\n' >notexec
	chmod -x notexec
	run -126 sem run lock ./notexec
	# Paths are checked before the semaphore is made or waited for.
	run -127 sem run lock ./no-such-file
	run -127 sem run lock /no/such/dir/cmd
	run -126 sem run lock /etc
	run -0 sem ls
	[ -z "$output" ]
	sem create lock
	holder
	sem acquire --owner "$HOLDER" lock
	run -127 sem run --nowait lock no-such-command-xyz
	# Not --nowait: a missing path must not wait for the held slot.
	run -127 sem run lock ./no-such-file
	run -126 sem run lock ./notexec
}

@test "run: 50 concurrent calls on a missing mutex never overlap (file counter)" {
	make_crit
	echo 0 >counter
	for _ in $(seq 50); do
		# shellcheck disable=SC2016 # expanded by the inner sh
		sem run mx sh -c 'c=$(cat counter); ./crit.sh; echo $((c + 1)) >counter' &
	done
	wait
	[ "$(cat counter)" = 50 ]
	[ "$(max_inside)" = 1 ]
	[ "$(wc -l <log)" = 50 ]
	run -0 sem ls
	[ "$output" = $'mx\towned\t1\t1\t0\tno\t0' ]
}

@test "run -n 3: at most 3 inside, and 3 do get in together" {
	make_crit
	for _ in $(seq 50); do
		sem run -n 3 c3 ./crit.sh &
	done
	wait
	[ "$(max_inside)" -le 3 ]
	[ "$(wc -l <log)" = 50 ]
	free_is c3 3
	# Three holders at once, the fourth must wait.
	holder
	a=$HOLDER; holder; b=$HOLDER; holder; c=$HOLDER
	sem acquire --owner "$a" c3
	sem acquire --owner "$b" c3
	sem acquire --owner "$c" c3
	free_is c3 0
	run -75 sem run --nowait c3 true
}

@test "--nowait exits 75 and --timeout 124 when no slot is free" {
	holder
	sem acquire --owner "$HOLDER" lock
	run -75 sem run --nowait lock true
	[ -z "$output" ]
	run -75 sem acquire --nowait lock
	run -124 sem run --timeout 0.2 lock true
	run -124 sem acquire --timeout 100ms lock
	run -124 sem acquire --timeout 0 lock
	waiters lock 0
	sem release --owner "$HOLDER" lock
	run -0 sem run --nowait lock true
	run -0 sem run --timeout 1 lock true
}

@test "acquire/release: the slot belongs to the calling process by default" {
	sem acquire lock
	free_is lock 0
	run -0 sem stat lock
	[[ "$output" == *$'\nholder\t'"$$"$'\tnone\t1\t'* ]]
	sem release lock
	free_is lock 1
	# A shell that exits without releasing gives its slot back.
	sh -c 'sem acquire lock && sem value lock' >out
	[ "$(cat out)" = 0 ]
	free_is lock 1
}

@test "release as a shell's last command, which the shell execs, gives back the shell's slot" {
	# bash runs its last command with exec: sem release is then the
	# process that acquired, not its child.
	run -0 bash -c 'sem acquire lock; sem value lock; sem release lock'
	[ "$output" = 0 ]
	free_is lock 1
	run -0 bash -c 'sem acquire --count 2 -n 3 multi; sem release --count 2 multi'
	free_is multi 3
	# The exec'd sem is tried before the shell's parent, which may hold
	# a slot of its own: that one stays taken.
	run -0 bash -c 'sem acquire -n 2 two; bash -c "sem acquire two; sem release two"; sem value two; true'
	[ "$output" = 1 ]
	# Still only the slot of that process: another's is refused.
	sem acquire lock
	run -125 --separate-stderr bash -c 'sem release lock'
	[[ "$stderr" == "sem: lock: process "*" holds no slot" ]]
	free_is lock 0
	sem release lock
}

@test "acquire/release --owner: another process owns the slot" {
	holder
	sem acquire --owner "$HOLDER" -n 2 two
	free_is two 1
	run -125 sem release two
	one_line
	[[ "$output" =~ ^sem:\ two:\ process\ [0-9]+\ holds\ no\ slot$ ]]
	sem release --owner "$HOLDER" two
	free_is two 2
	run -125 sem release --owner "$HOLDER" two
	one_line
}

@test "bad --owner values exit 125 and change nothing" {
	sem create lock
	snapshot lock
	run -125 sem acquire --owner abc lock
	one_line
	[[ "$output" == *"--owner abc: not a number"* ]]
	run -125 sem acquire --owner 0 lock
	one_line
	run -125 sem release --owner 12x lock
	one_line
	# A pid that does not exist (above pid_max).
	run -125 sem acquire --owner 2147483647 lock
	one_line
	[[ "$output" == "sem: owner 2147483647: no such process" ]]
	unchanged lock
}

@test "bad input exits 125 with one line and leaves the semaphore unchanged" {
	sem create -n 2 s2
	snapshot s2
	run -125 sem run
	one_line
	[[ "$output" == "sem: missing NAME; usage: sem run "* ]]
	run -125 sem run s2
	one_line
	[[ "$output" == "sem: missing CMD; usage: sem run "* ]]
	run -125 sem run s2 --
	one_line
	run -125 sem run -n 0 s2 true
	one_line
	[[ "$output" == "sem: -n 0: must be at least 1" ]]
	run -125 sem run -n 3 s2 true
	one_line
	[[ "$output" == "sem: s2: exists with 2 slots, not 3" ]]
	run -125 sem acquire -n 1 s2
	one_line
	run -125 sem run --reentrant s2 true
	one_line
	[[ "$output" == "sem: s2: exists and is not reentrant" ]]
	run -125 sem run --nowait --timeout 1 s2 true
	one_line
	run -125 sem run --timeout soon s2 true
	one_line
	run -125 sem run --mode 999 new true
	one_line
	run -125 sem create --mode 0400 new
	one_line
	[ "$output" = "sem: --mode 0400: must give the owner read and write access" ]
	run -125 sem value new
	run -125 sem acquire
	one_line
	run -125 sem acquire s2 extra
	one_line
	run -125 sem release --force s2
	one_line
	[[ "$output" == "sem: option '--force' is not for 'sem release'; usage: "* ]]
	run -125 sem frobnicate s2
	one_line
	run -125 sem
	one_line
	run -125 sem value
	one_line
	run -125 sem run '' true
	one_line
	run -125 sem run .hidden true
	one_line
	unchanged s2
	run -0 sem ls
	[ "$output" = $'s2\towned\t2\t2\t0\tno\t0' ]
}

@test "an object that is not a semaphore is refused with 125" {
	mkdir -p "$CONC_DIR"
	# The header of a concutils object of kind 1 (a queue), little-endian.
	{ printf 'CNOC\001\000\001\000'; head -c 56 /dev/zero; } >"$CONC_DIR/q"
	printf 'just text\n' >"$CONC_DIR/t"
	cp "$CONC_DIR/q" before
	run -125 sem run q true
	one_line
	[[ "$output" == "sem: q: not a semaphore (another kind of object)" ]]
	run -125 sem value t
	one_line
	[[ "$output" == "sem: t: not a semaphore"* ]]
	run -125 sem rm q
	cmp before "$CONC_DIR/q"
	run -125 sem value missing
	one_line
	[[ "$output" == "sem: missing: no such semaphore" ]]
}

@test "a holder killed with SIGKILL gives its slot to the waiter" {
	holder
	sem acquire --owner "$HOLDER" lock
	bg sem run lock touch entered
	wait_for waiters lock 1
	[ ! -e entered ]
	kill -9 "$HOLDER"
	# No new process arrives: the waiter itself notices (within a tick).
	wait_for test -e entered
	wait_for free_is lock 1
}

@test "sem run killed with SIGKILL: its command dies and the slot comes back" {
	mkfifo ready
	bg sem run lock sh -c 'echo $$ >cmdpid; echo >ready; exec sleep 1000'
	pid=$!
	read -r _ <ready
	free_is lock 0
	kill -9 "$pid"
	wait_for free_is lock 1
	wait_for gone "$(cat cmdpid)"
}

@test "sem run killed with SIGKILL: the slot stays taken while the command's children run (issue 24 point 10)" {
	mkfifo ready
	bg sem run lock sh -c 'sleep 1000 & echo $! >gc; echo $$ >cmdpid; echo >ready; wait'
	pid=$!
	read -r _ <ready
	cat gc >>"$BATS_TEST_TMPDIR/pids"
	kill -9 "$pid"
	wait_for gone "$(cat cmdpid)"
	# sem and its command are dead; the sleep in the command's group runs.
	run -75 sem run --nowait lock true
	kill "$(cat gc)"
	wait_for free_is lock 1
	run -0 sem run --nowait lock true
}

@test "SIGTERM to sem run reaches the command's whole group; sem returns only when the group is gone (issue 24 point 10)" {
	mkfifo ready
	# The grandchild ignores SIGTERM: it is killed once the command ends.
	bg sem run lock sh -c '(trap "" TERM; exec sleep 1000) & echo $! >gc; sleep 1000 & echo $! >gc2; echo >ready; wait'
	pid=$!
	read -r _ <ready
	cat gc gc2 >>"$BATS_TEST_TMPDIR/pids"
	kill -TERM "$pid"
	wait_status "$pid" 143
	gone "$(cat gc)" "$(cat gc2)"
	free_is lock 1
}

@test "sem run on a terminal: the command has the terminal's foreground, ^C ends its whole group (issue 24 point 10)" {
	command -v script >/dev/null || skip "script(1) is not installed"
	# The command reads a line from the terminal (a background group
	# would be stopped by SIGTTIN), then waits with a child that ignores
	# SIGINT (as sh starts background commands). env --default-signal:
	# a shell started in the background without job control (as a CI
	# runner may start the tests) ignores SIGINT, and everything under it
	# would inherit that.
	cat >cmd.sh <<-'EOF'
	read -r x; echo "got $x" >out
	sleep 1000 & echo $! >gc
	wait
	EOF
	{
		printf 'hello\n'
		wait_for test -s gc
		printf '\003'
		wait_for test -s st
	} | SHELL=/bin/sh env --default-signal=INT script -qfec 'sem run lock sh cmd.sh; echo $? >st' \
	    /dev/null >/dev/null 2>&1
	[ "$(cat out)" = "got hello" ]
	[ "$(cat st)" = 130 ]
	gone "$(cat gc)"
	free_is lock 1
}

@test "sem run on a terminal under an interactive shell: ^Z stops sem and its command, fg continues both (issue 24 point 10)" {
	command -v script >/dev/null || skip "script(1) is not installed"
	command -v bash >/dev/null || skip "bash is needed for job control"
	cat >cmd.sh <<-'EOF'
	echo $$ >cpid
	read -r x; echo "got $x" >out
	EOF
	# A job that ^Z stops is reported "Stopped" by the shell, which
	# takes the terminal back; only then is "fg" typed (the ^Z flushed
	# what was typed before).
	{
		printf 'sem run lock sh cmd.sh; echo $? >st1\n'
		wait_for test -s cpid
		printf '\032'
		wait_for grep -q Stopped ts
		printf 'fg\n'
		wait_for not_stopped "$(cat cpid)"
		printf 'hi\n'
		wait_for test -s out
		printf 'exit\n'
	} | SHELL=/bin/bash script -qfec 'bash --norc --noprofile -i' ts >/dev/null 2>&1
	[ "$(cat out)" = "got hi" ]
	free_is lock 1
}

@test "a daemon started by the command does not keep the slot" {
	run -0 sem run lock sh -c 'sleep 1000 >/dev/null 2>&1 & echo $! >daemon'
	cat daemon >>"$BATS_TEST_TMPDIR/pids"
	kill -0 "$(cat daemon)"
	free_is lock 1
	run -0 sem run --nowait lock true
}

@test "a waiter killed with SIGKILL does not block the ones behind it" {
	holder
	sem acquire --owner "$HOLDER" lock
	bg sem run lock touch first
	first=$!
	wait_for waiters lock 1
	bg sem run lock touch second
	wait_for waiters lock 2
	kill -9 "$first"
	sem release --owner "$HOLDER" lock
	wait_for test -e second
	[ ! -e first ]
	wait_for waiters lock 0
	wait_for free_is lock 1
}

@test "FIFO: waiters enter in arrival order; newcomers do not overtake" {
	holder
	sem acquire --owner "$HOLDER" lock
	for i in 1 2 3 4 5 6; do
		bg sem run lock sh -c "echo $i >>order"
		wait_for waiters lock "$i"
	done
	# A newcomer does not jump the queue even when a slot frees up.
	run -75 sem run --nowait lock true
	sem release --owner "$HOLDER" lock
	wait_for has_lines order 6
	[ "$(tr '\n' ' ' <order)" = "1 2 3 4 5 6 " ]
}

@test "recycled pid: a new process with a dead owner's pid does not hold its slot" {
	# Method: make the kernel hand the dead owner's pid to a new process
	# by writing pid-1 to /proc/sys/kernel/ns_last_pid (root only), then
	# check that the slot counts as free although that pid is alive.
	# Regression (issue 24 point 7): with the start time in 10 ms ticks as
	# the identity, a pid reused within one tick was taken for the dead
	# owner, and this test failed now and then. The pidfs identity cannot
	# be faked; where the kernel lacks pidfs the tick fallback is
	# documented to have that hole, so the test would be a coin toss.
	[ -w /proc/sys/kernel/ns_last_pid ] || skip "needs a writable /proc/sys/kernel/ns_last_pid (root)"
	unit=${UNIT:-$TOP/build/test/unit}
	[ -x "$unit" ] || { echo "no $unit: run the tests with make check" >&2; return 1; }
	"$unit" ident $$ | grep -q '^pidfs ' ||
		skip "no pidfs (Linux < 6.9): the documented tick identity cannot tell a pid reused within 10 ms"
	sleep 1000 &
	old=$!
	sem acquire --owner "$old" lock
	kill -9 "$old"
	wait "$old" || true
	new=0
	# A try that missed is killed and reaped at once, and only the pid
	# that came back is left for teardown to kill: the numbers of the
	# others are free again, and pids are being handed out again near
	# them, so killing them later could hit an unrelated process.
	for _ in $(seq 100); do
		echo $((old - 1)) >/proc/sys/kernel/ns_last_pid 2>/dev/null || true
		sleep 1000 &
		new=$!
		[ "$new" = "$old" ] && break
		# SIGKILL: a SIGTERM ignored where the tests were started
		# (nohup) would leave this wait hanging.
		kill -9 "$new"
		wait "$new" || true
	done
	[ "$new" = "$old" ] || skip "could not get pid $old back"
	echo "$new" >>"$BATS_TEST_TMPDIR/pids"
	kill -0 "$old"
	free_is lock 1
	run -0 sem stat lock
	[[ "$output" != *$'\nholder\t'"$old"$'\t'* ]]
}

@test "acquire --owner of a process that has exited (a zombie) is refused" {
	# Regression (issue 24 point 9): the zombie was accepted (exit 0) and
	# its slot reclaimed at once.
	sh -c 'sleep 1000 & echo $! >zpid; exec sleep 1000' &
	parent=$!
	echo "$parent" >>"$BATS_TEST_TMPDIR/pids"
	wait_for test -s zpid
	z=$(cat zpid)
	kill -9 "$z"
	wait_for gone "$z"
	kill -0 "$z" # still there, as a zombie
	sem create lock
	run -125 sem acquire --owner "$z" lock
	[ "$output" = "sem: owner $z: has exited (a zombie)" ]
	free_is lock 1
	kill "$parent"
}

@test "reentrant: the same owner acquiring again is counted, not deadlocked" {
	holder
	sem acquire --reentrant --owner "$HOLDER" rl
	sem acquire --owner "$HOLDER" --nowait rl
	sem acquire --owner "$HOLDER" rl
	free_is rl 0
	run -0 sem stat rl
	[[ "$output" == *$'reentrant\tyes'* ]]
	[[ "$output" == *$'\nholder\t'"$HOLDER"$'\tnone\t3\t'* ]]
	# Another owner still has to wait.
	run -75 sem acquire --nowait rl
	sem release --owner "$HOLDER" rl
	sem release --owner "$HOLDER" rl
	free_is rl 0
	sem release --owner "$HOLDER" rl
	free_is rl 1
	run -125 sem release --owner "$HOLDER" rl
	one_line
}

@test "not reentrant: acquiring again takes another slot" {
	holder
	sem acquire -n 2 --owner "$HOLDER" s2
	sem acquire --owner "$HOLDER" s2
	free_is s2 0
	run -75 sem acquire --owner "$HOLDER" --nowait s2
	sem release --owner "$HOLDER" s2
	sem release --owner "$HOLDER" s2
	free_is s2 2
	# A mutex taken twice by the same owner blocks like any other.
	sem acquire --owner "$HOLDER" m1
	run -75 sem acquire --owner "$HOLDER" --nowait m1
}

@test "SIGTERM, SIGINT and SIGHUP to sem run reach the command; the slot is released" {
	for sig in TERM INT HUP; do
		rm -f ready got
		mkfifo ready
		bg sem run lock sh -c "trap 'echo $sig >got; exit 3' $sig; echo >ready; while :; do sleep 0.05; done"
		pid=$!
		read -r _ <ready
		kill -s "$sig" "$pid"
		st=0
		wait "$pid" || st=$?
		[ "$st" = 3 ]
		[ "$(cat got)" = "$sig" ]
		free_is lock 1
	done
}

@test "a signal ignored at sem run's start stays ignored, in sem and in the command (nohup)" {
	mkfifo gate
	exec {g}<>gate
	bg sh -c 'trap "" HUP; exec sem run lock sh -c "grep ^SigIgn /proc/\$\$/status >ign.t; mv ign.t ign; read x <gate"'
	pid=$!
	wait_for test -s ign
	ignores 1
	kill -HUP "$pid"
	echo go >&"$g"
	wait_status "$pid" 0
	free_is lock 1
}

@test "a signal while waiting ends sem with 128+N and leaves the queue" {
	holder
	sem acquire --owner "$HOLDER" lock
	bg sem run lock touch never
	pid=$!
	wait_for waiters lock 1
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" = 143 ]
	waiters lock 0
	[ ! -e never ]
	bg sem acquire lock
	pid=$!
	wait_for waiters lock 1
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" = 130 ]
	waiters lock 0
}

@test "value, stat and ls report slots, free slots, holders and waiters" {
	holder
	sem create -n 3 pool3
	sem acquire --owner "$HOLDER" pool3
	mkfifo ready
	bg sem run pool3 sh -c 'echo >ready; exec sleep 1000'
	read -r _ <ready
	run -0 sem value pool3
	[ "$output" = 1 ]
	run -0 sem stat pool3
	[ "${lines[0]}" = $'name\tpool3' ]
	[ "${lines[1]}" = $'kind\towned' ]
	[ "${lines[2]}" = $'slots\t3' ]
	[ "${lines[3]}" = $'free\t1' ]
	[ "${lines[4]}" = $'waiters\t0' ]
	[ "${lines[5]}" = $'reentrant\tno' ]
	[ "${lines[6]}" = $'holders\t2' ]
	[ "${#lines[@]}" = 9 ]
	[[ "$output" == *$'\nholder\t'"$HOLDER"$'\tnone\t1\t1\t'*$'\tsleep\trunning'* ]]
	[[ "$output" == *$'\t1\t1\t'????-??-??T??:??:??$'\tsh\trunning'* ]]
	sem create other
	run -0 sem ls
	[ "${lines[0]}" = $'other\towned\t1\t1\t0\tno\t0' ]
	[ "${lines[1]}" = $'pool3\towned\t3\t1\t0\tno\t2' ]
	run -0 sem ls --header
	[ "${lines[0]}" = $'name\tkind\tslots\tfree\twaiters\treentrant\tholders' ]
}

@test "rm: refuses while held (status 1), --force removes anyway; waiters then fail" {
	holder
	sem acquire --owner "$HOLDER" lock
	run -1 sem rm lock
	one_line
	[[ "$output" == "sem: lock: in use (rm --force removes it anyway)" ]]
	free_is lock 0
	bg sem acquire lock
	pid=$!
	wait_for waiters lock 1
	run -0 sem rm --force lock
	st=0
	wait "$pid" || st=$?
	[ "$st" = 125 ]
	run -125 sem value lock
	sem create a
	sem create b
	run -0 sem rm a b
	run -0 sem ls
	[ -z "$output" ]
	run -125 sem rm a
}

@test "create with --mode and --reentrant; --help and --version" {
	sem create --mode 0640 -n 4 --reentrant m
	[ "$(stat -c %a "$CONC_DIR/m")" = 640 ]
	run -0 sem stat m
	[[ "$output" == *$'reentrant\tyes'* ]]
	run -0 sem create m
	run -0 sem run -n 4 --reentrant m true
	run -0 sem --help
	[[ "$output" == *"sem run "*"sem rm "* ]]
	run -0 sem run --help
	run -0 sem --version
}

@test "torture: SIGKILL of random holders, waiters and commands never lets more than N in" {
	make_crit
	sem create -n 2 t
	kills=0
	: >workers
	for _ in $(seq 6); do
		bg sh -c 'while [ ! -e stop ]; do sem run t ./crit.sh; done'
		echo $! >>workers
	done
	# Kill until 12 kills have landed (at most 300 tries). After each try
	# the test waits for the workers to finish one more critical section,
	# so every try finds the semaphore moving again; no delay is guessed.
	tries=0
	while [ "$kills" -lt 12 ] && [ "$tries" -lt 300 ]; do
		tries=$((tries + 1))
		seen=$(wc -l <log)
		# Victims: the command of a holder, a holder's sem (both from
		# sem stat), or a worker's sem (mostly waiters). pgrep -x keeps
		# the killer off anything else, such as the helper that
		# LeakSanitizer forks when a sem exits.
		case $((RANDOM % 3)) in
		0) v=$(sem stat t | awk -F '\t' '$1 == "holder" && $3 != "none" { print $3 }' | shuf -n 1) ;;
		1) v=$(sem stat t | awk -F '\t' '$1 == "holder" { print $2 }' | shuf -n 1) ;;
		*) v=$(pgrep -P "$(shuf -n 1 workers)" -x sem | head -n 1) || true ;;
		esac
		if [ -n "$v" ] && kill -9 "$v" 2>/dev/null; then
			kills=$((kills + 1))
		fi
		wait_for log_past "$seen"
	done
	wait_for log_past 20
	touch stop
	while read -r w; do
		wait "$w" || true
	done <workers
	[ "$kills" -ge 12 ]
	[ "$(max_inside)" -le 2 ]
	wait_for free_is t 2
	wait_for waiters t 0
}

@test "closed stdout or stderr: 125 and the semaphore is not written into" {
	sem create s
	run -125 sh -c 'sem value s >&-'
	run -125 sh -c 'sem stat s >&-'
	run -125 sh -c 'sem ls >&-'
	run -125 sh -c 'sem release s 2>&-'
	run -0 sem value s
	[ "$output" = 1 ]
}

@test "rm --force of a semaphore held through acquire: release then fails with 125" {
	holder
	sem acquire --owner "$HOLDER" s
	run -0 sem rm --force s
	run -125 sem release --owner "$HOLDER" s
	one_line
	[ "$output" = "sem: s: no such semaphore" ]
}

@test "a name with a newline: 125 and one line, the name shown escaped" {
	run -125 sem value $'a\nb'
	one_line
	[ "$output" = "sem: a\\x0ab: bad name: control character in name" ]
}

# Unowned semaphores (issue 20): permits that belong to nobody.

# kind_is NAME KIND: stat says NAME is of KIND.
kind_is() {
	[ "$(sem stat "$1" | awk '$1 == "kind" { print $2 }')" = "$2" ]
}

@test "unowned: Semaphore(0) signalling between two processes, in either order" {
	sem create --unowned --value 0 ready
	kind_is ready unowned
	free_is ready 0
	run -75 sem acquire --nowait ready
	run -124 sem acquire --timeout 0 ready
	waiters ready 0
	# The consumer takes one permit per item, and finds the item there
	# every time: the producer releases only after writing it.
	# shellcheck disable=SC2016 # expanded by the inner sh
	bg sh -c 'for i in $(seq 20); do sem acquire ready || exit 9; [ -e item.$i ] || exit 8; echo $i >>got; done'
	consumer=$!
	wait_for waiters ready 1
	[ ! -e got ]
	# shellcheck disable=SC2016 # expanded by the inner sh
	bg sh -c 'for i in $(seq 20); do echo x >item.$i; sem release ready || exit 9; done'
	wait_status $! 0
	wait_status "$consumer" 0
	[ "$(tr '\n' ' ' <got)" = "$(seq 20 | tr '\n' ' ')" ]
	free_is ready 0
	# The producer first: the permits wait for the consumer.
	for _ in 1 2 3; do sem release ready; done
	free_is ready 3
	run -0 sem acquire --count 3 --nowait ready
	free_is ready 0
}

@test "unowned -n N (BoundedSemaphore): a release beyond N is refused with 1 and the value unchanged" {
	sem create --unowned -n 2 b
	run -0 sem stat b
	[ "${lines[2]}" = $'slots\t2' ]
	[ "${lines[3]}" = $'free\t2' ]
	run -1 sem release b
	one_line
	[ "$output" = "sem: b: release refused: the value would pass its bound of 2" ]
	free_is b 2
	sem acquire b
	free_is b 1
	run -1 sem release --count 2 b
	one_line
	free_is b 1
	# Any process may release, not only the one that acquired.
	sh -c 'sem release b'
	free_is b 2
	sem acquire --count 2 b
	sem release --count 2 b
	free_is b 2
	run -125 sem acquire --count 3 b
	one_line
	[ "$output" = "sem: b: --count 3: more than its 2 slots" ]
	free_is b 2
}

@test "unowned --unbounded (Semaphore): release never refuses; --value V starts at V, 0 allowed" {
	sem create --unowned --unbounded u
	free_is u 1
	sem create --unowned u
	sem create --unowned --unbounded u
	run -0 sem stat u
	[ "${lines[2]}" = $'slots\tnone' ]
	sem release --count 1000000 u
	sem release u
	free_is u 1000002
	sem acquire --count 1000000 u
	free_is u 2
	sem create --unowned --value 0 z
	free_is z 0
	sem create --unowned -n 5 --value 3 five
	free_is five 3
	sem create --unowned -n 5 d
	free_is d 5
	# The largest value: 2^63-1; going past it is an error, not a wrap.
	sem create --unowned --value 9223372036854775807 max
	free_is max 9223372036854775807
	run -125 sem release max
	one_line
	[ "$output" = "sem: max: release refused: the value would pass 9223372036854775807" ]
	free_is max 9223372036854775807
	run -0 sem ls
	[ "${lines[0]}" = $'d\tunowned\t5\t5\t0\tno\t0' ]
	[ "${lines[3]}" = $'u\tunowned\tnone\t2\t0\tno\t0' ]
}

@test "unowned: no reclamation, no owner, no sem run" {
	sem create --unowned -n 3 p
	# A process that took a permit and died keeps it: the permits belong
	# to nobody, so nothing tells that one was taken for good.
	sh -c 'sem acquire p'
	free_is p 2
	run -0 sem stat p
	[ "${lines[6]}" = $'holders\t0' ]
	[ "${#lines[@]}" = 7 ]
	run -125 sem run p true
	one_line
	[ "$output" = "sem: p: sem run: not for an unowned semaphore (its permits belong to nobody)" ]
	holder
	run -125 sem acquire --owner "$HOLDER" p
	one_line
	run -125 sem release --owner "$HOLDER" p
	one_line
	[ "$output" = "sem: p: --owner: not for an unowned semaphore (its permits belong to nobody)" ]
	free_is p 2
}

@test "unowned: bad creation options exit 125 with one line and change nothing" {
	sem create --unowned -n 2 b
	sem create o
	snapshot b
	run -125 sem create --value 1 x
	one_line
	[[ "$output" == "sem: --value is for --unowned semaphores; usage: "* ]]
	run -125 sem create --unbounded x
	one_line
	run -125 sem create --unowned --unbounded -n 2 x
	one_line
	[[ "$output" == "sem: -n and --unbounded exclude each other; usage: "* ]]
	run -125 sem create --unowned -n 2 --value 3 x
	one_line
	[[ "$output" == "sem: --value 3: more than the bound 2; usage: "* ]]
	run -125 sem create --unowned --reentrant x
	one_line
	run -125 sem create --unowned --rw x
	one_line
	run -125 sem create --unowned --value -1 x
	one_line
	run -125 sem create --unowned --value abc x
	one_line
	run -125 sem create --unowned -n 0 x
	one_line
	run -125 sem acquire --unowned x
	one_line
	[[ "$output" == "sem: option '--unowned' is not for 'sem acquire'; usage: "* ]]
	run -125 sem create --unowned -n 3 b
	one_line
	[ "$output" = "sem: b: exists with a bound of 2, not 3" ]
	run -125 sem create --unowned --unbounded b
	one_line
	[ "$output" = "sem: b: exists with a bound of 2, not unbounded" ]
	run -125 sem create --unowned o
	one_line
	[ "$output" = "sem: o: exists and is not unowned (it is owned)" ]
	run -125 sem release --count 0 b
	one_line
	unchanged b
	run -0 sem create --unowned -n 2 --value 0 b
	unchanged b
	[ ! -e "$CONC_DIR/x" ]
}

@test "unowned: a waiter killed with SIGKILL leaves stat true and takes no permit" {
	sem create --unowned --value 0 s
	bg sem acquire s
	first=$!
	wait_for waiters s 1
	bg sem acquire --count 2 s
	second=$!
	wait_for waiters s 2
	kill -9 "$first"
	wait_for waiters s 1
	run -0 sem stat s
	[ "${lines[3]}" = $'free\t0' ]
	[ "${lines[4]}" = $'waiters\t1' ]
	# The second waiter asks for 2: one release is not enough for it.
	sem release s
	free_is s 1
	waiters s 1
	sem release s
	wait_status "$second" 0
	free_is s 0
	waiters s 0
	kill -9 "$second" 2>/dev/null || true
}

# Weighted acquire (issue 20): --count K slots at once.

@test "--count K: K slots at once, given back by release, all or --count of them" {
	holder
	sem acquire -n 4 --count 3 --owner "$HOLDER" w
	free_is w 1
	run -0 sem stat w
	[ "${lines[6]}" = $'holders\t1' ]
	[[ "${lines[7]}" == "holder"$'\t'"$HOLDER"$'\tnone\t1\t3\t'* ]]
	run -75 sem acquire --count 2 --nowait w
	sem acquire --owner "$HOLDER" w
	free_is w 0
	# release: the most recent acquisition (1 slot), then the 3 at once.
	sem release --owner "$HOLDER" w
	free_is w 1
	sem release --owner "$HOLDER" w
	free_is w 4
	# release --count: from the most recent acquisitions on; a record
	# that holds more keeps the rest.
	sem acquire --count 2 --owner "$HOLDER" w
	sem acquire --owner "$HOLDER" w
	sem release --count 2 --owner "$HOLDER" w
	free_is w 3
	run -0 sem stat w
	[[ "${lines[7]}" == "holder"$'\t'"$HOLDER"$'\tnone\t1\t1\t'* ]]
	run -125 sem release --count 2 --owner "$HOLDER" w
	one_line
	[[ "$output" =~ ^sem:\ w:\ process\ [0-9]+\ holds\ fewer\ than\ 2\ slots$ ]]
	free_is w 3
	sem release --count 1 --owner "$HOLDER" w
	free_is w 4
	run -0 sem run --count 4 w sem value w
	[ "$output" = 0 ]
	free_is w 4
}

@test "--count: bad values and kinds exit 125 with one line and change nothing" {
	sem create -n 4 w
	sem create --reentrant -n 2 r
	snapshot w
	run -125 sem acquire --count 5 w
	one_line
	[ "$output" = "sem: w: --count 5: more than its 4 slots" ]
	run -125 sem run --count 5 w true
	one_line
	run -125 sem acquire --count 0 w
	one_line
	run -125 sem acquire --count 2x w
	one_line
	run -125 sem acquire --count 2 r
	one_line
	[ "$output" = "sem: r: --count: not for a reentrant semaphore" ]
	run -125 sem release --count 1 r
	one_line
	run -125 sem create --count 2 w
	one_line
	unchanged w
	# Nothing is created for a --count that cannot be served.
	run -125 sem run --count 2 new true
	one_line
	[ "$output" = "sem: new: no such semaphore" ]
	run -125 sem acquire -n 2 --count 3 new
	one_line
	[[ "$output" == "sem: --count 3: more than -n 2; usage: "* ]]
	[ ! -e "$CONC_DIR/new" ]
	run -0 sem run -n 3 --count 3 new sem value new
	[ "$output" = 0 ]
}

@test "--count FIFO: a large request at the head is not overtaken by later small ones" {
	holder
	sem acquire -n 4 --count 3 --owner "$HOLDER" f
	mkfifo gate
	# A wants 2 (1 is free), so it waits; B, behind it, wants 1, which
	# is free, and still waits; so does a newcomer with --nowait.
	bg sem run --count 2 f sh -c 'echo A >>order; read -r _ <gate'
	a=$!
	wait_for waiters f 1
	bg sem run f sh -c 'echo B >>order'
	b=$!
	wait_for waiters f 2
	run -75 sem run --nowait f true
	[ ! -e order ]
	free_is f 1
	# One more slot: A's 2 are free, B's turn has not come (2 + 1 > 2).
	sem release --count 1 --owner "$HOLDER" f
	wait_for test -e order
	waiters f 1
	[ "$(cat order)" = A ]
	# The rest: B enters while A still holds its 2.
	sem release --owner "$HOLDER" f
	wait_status "$b" 0
	[ "$(tr '\n' ' ' <order)" = "A B " ]
	echo >gate
	wait_status "$a" 0
	free_is f 4
}

@test "--count: a large request that gives up lets the small ones behind it in" {
	holder
	sem acquire -n 4 --count 3 --owner "$HOLDER" f
	bg sem acquire --count 4 f
	a=$!
	wait_for waiters f 1
	bg sem run f touch small
	wait_for waiters f 2
	kill -TERM "$a"
	wait_status "$a" 143
	wait_for test -e small
	wait_for waiters f 0
	free_is f 1
}

@test "--count: a holder of K slots killed with SIGKILL gives all K back; so does a killed waiter its place" {
	holder
	sem acquire -n 4 --count 3 --owner "$HOLDER" k
	bg sem acquire --count 4 k
	big=$!
	wait_for waiters k 1
	bg sem run --count 2 k touch entered
	wait_for waiters k 2
	# The big waiter at the head dies: the 2-slot request behind it still
	# waits (1 free), until the holder of 3 dies too.
	kill -9 "$big"
	wait_for waiters k 1
	[ ! -e entered ]
	kill -9 "$HOLDER"
	wait_for test -e entered
	wait_for free_is k 4
	# sem run --count killed with SIGKILL: its command dies and the K
	# slots come back.
	mkfifo ready
	bg sem run --count 3 k sh -c 'echo $$ >cmdpid; echo >ready; exec sleep 1000'
	pid=$!
	read -r _ <ready
	free_is k 1
	kill -9 "$pid"
	wait_for free_is k 4
	wait_for gone "$(cat cmdpid)"
}

@test "format version: a semaphore of another format version is refused with 125, unchanged" {
	sem create s
	# The header's version (bytes 6-7) := 1, the format before weights.
	printf '\001\000' | dd of="$CONC_DIR/s" bs=1 seek=6 conv=notrunc 2>/dev/null
	cp "$CONC_DIR/s" before
	run -125 sem value s
	one_line
	[ "$output" = "sem: s: semaphore format version 1, expected 2" ]
	run -125 sem run s true
	one_line
	cmp before "$CONC_DIR/s"
}

# Shared/exclusive semaphores (issue 20): --rw, --shared.

@test "rw: any number of shared holders up to N, or one exclusive holder" {
	holder
	a=$HOLDER; holder; b=$HOLDER; holder; c=$HOLDER
	sem create --rw -n 3 rw
	kind_is rw rw
	sem acquire --shared --owner "$a" rw
	sem acquire --shared --owner "$b" rw
	free_is rw 1
	run -75 sem acquire --nowait --owner "$c" rw
	sem acquire --shared --owner "$c" rw
	run -75 sem acquire --shared --nowait rw
	sem release --owner "$a" rw
	sem release --owner "$b" rw
	sem release --owner "$c" rw
	free_is rw 3
	# Exclusive: all N slots, shown as COUNT N.
	sem acquire --owner "$a" rw
	free_is rw 0
	run -0 sem stat rw
	[[ "${lines[7]}" == "holder"$'\t'"$a"$'\tnone\t1\t3\t'* ]]
	run -75 sem acquire --shared --nowait rw
	run -75 sem run --nowait rw true
	sem release --owner "$a" rw
	run -0 sem run --shared rw sem value rw
	[ "$output" = 2 ]
	run -0 sem run rw sem value rw
	[ "$output" = 0 ]
	# --shared creates a missing semaphore as an rw one, N 1024.
	sem run --shared fresh true
	kind_is fresh rw
	run -0 sem value fresh
	[ "$output" = 1024 ]
	sem run --rw fresh2 true
	kind_is fresh2 rw
}

@test "rw: a waiting exclusive request blocks later shared ones; FIFO otherwise" {
	holder
	r1=$HOLDER
	sem acquire --rw --shared --owner "$r1" rw
	bg sem run rw sh -c 'echo W >>order'
	w=$!
	wait_for waiters rw 1
	# Slots are free, but a writer waits: readers queue behind it.
	run -75 sem acquire --shared --nowait rw
	bg sem run --shared rw sh -c 'echo R2 >>order'
	r2=$!
	wait_for waiters rw 2
	[ ! -e order ]
	sem release --owner "$r1" rw
	wait_status "$w" 0
	wait_status "$r2" 0
	[ "$(tr '\n' ' ' <order)" = "W R2 " ]
	free_is rw 1024
}

@test "rw: bad options and kinds exit 125 with one line and change nothing" {
	sem create -n 2 o
	sem create --rw -n 2 rw
	snapshot o
	run -125 sem acquire --shared o
	one_line
	[ "$output" = "sem: o: exists and is not a shared/exclusive (rw) semaphore (it is owned)" ]
	run -125 sem run --rw o true
	one_line
	run -125 sem create --rw --reentrant x
	one_line
	[[ "$output" == "sem: --rw and --reentrant exclude each other; usage: "* ]]
	run -125 sem acquire --shared --reentrant x
	one_line
	run -125 sem acquire --shared --count 2 x
	one_line
	[[ "$output" == "sem: --count and --shared exclude each other; usage: "* ]]
	run -125 sem acquire --count 2 rw
	one_line
	[ "$output" = "sem: rw: --count: not for a shared/exclusive semaphore" ]
	run -125 sem release --shared rw
	one_line
	run -125 sem create --rw -n 3 rw
	one_line
	[ "$output" = "sem: rw: exists with 2 slots, not 3" ]
	unchanged o
	[ ! -e "$CONC_DIR/x" ]
}

@test "rw: an exclusive holder killed with SIGKILL lets the readers in; a dead reader lets the writer in" {
	holder
	sem acquire --rw -n 2 --owner "$HOLDER" rw
	bg sem run --shared rw touch r1
	wait_for waiters rw 1
	kill -9 "$HOLDER"
	wait_for test -e r1
	holder
	sem acquire --shared --owner "$HOLDER" rw
	bg sem run rw touch w1
	wait_for waiters rw 1
	kill -9 "$HOLDER"
	wait_for test -e w1
	wait_for free_is rw 2
}

# make_crit_rw: crit_rw.sh r|w, the critical section of a reader or a
# writer: like crit.sh, it leaves a token (its start time and r or w),
# and logs "KIND READERS WRITERS", the others it finds inside alive.
make_crit_rw() {
	mkdir -p in
	: >log
	cat >crit_rw.sh <<'EOF2'
#!/bin/sh
me=$1
read -r line </proc/$$/stat
# shellcheck disable=SC2086
set -- $line
echo "${22} $me" >in/.$$
mv in/.$$ in/$$
r=0 w=0
for f in in/*; do
	[ -e "$f" ] && [ "$f" != "in/$$" ] || continue
	read -r want kind <"$f" || continue
	read -r line 2>/dev/null </proc/"${f##*/}"/stat || continue
	# shellcheck disable=SC2086
	set -- $line
	if [ "$3" != Z ] && [ "${22}" = "$want" ]; then
		case $kind in r) r=$((r + 1)) ;; *) w=$((w + 1)) ;; esac
	fi
done
echo "$me $r $w" >>log
sleep 0.01
rm -f in/$$
EOF2
	chmod +x crit_rw.sh
}

@test "rw torture: SIGKILL of random readers, writers and commands never lets a writer in with anyone, nor more than N readers" {
	make_crit_rw
	sem create --rw -n 3 t
	: >workers
	for k in r r r r w w; do
		if [ "$k" = r ]; then
			bg sh -c 'while [ ! -e stop ]; do sem run --shared t ./crit_rw.sh r; done'
		else
			bg sh -c 'while [ ! -e stop ]; do sem run t ./crit_rw.sh w; done'
		fi
		echo $! >>workers
	done
	kills=0 tries=0
	while [ "$kills" -lt 12 ] && [ "$tries" -lt 300 ]; do
		tries=$((tries + 1))
		seen=$(wc -l <log)
		case $((RANDOM % 3)) in
		0) v=$(sem stat t | awk -F '\t' '$1 == "holder" && $3 != "none" { print $3 }' | shuf -n 1) ;;
		1) v=$(sem stat t | awk -F '\t' '$1 == "holder" { print $2 }' | shuf -n 1) ;;
		*) v=$(pgrep -P "$(shuf -n 1 workers)" -x sem | head -n 1) || true ;;
		esac
		if [ -n "$v" ] && kill -9 "$v" 2>/dev/null; then
			kills=$((kills + 1))
		fi
		wait_for log_past "$seen"
	done
	wait_for log_past 40
	wait_for grep -q '^w ' log
	touch stop
	while read -r w; do
		wait "$w" || true
	done <workers
	[ "$kills" -ge 12 ]
	# Writers saw nobody; readers saw no writer and at most 2 others.
	[ -z "$(awk '$1 == "w" && ($2 != 0 || $3 != 0)' log)" ]
	[ -z "$(awk '$1 == "r" && ($3 != 0 || $2 > 2)' log)" ]
	wait_for free_is t 3
	wait_for waiters t 0
}

# poke FILE OFFSET BYTES: overwrite FILE at OFFSET with BYTES (printf
# escapes), as anyone who can write the object could at any time.
poke() {
	printf '%b' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

@test "kind, counts and wants changed while a sem waits: it keeps what it fixed at open, never trusts the new fields (issue 24 point 1)" {
	holder
	sem acquire --owner "$HOLDER" s
	bg sem run s touch entered
	w=$!
	wait_for waiters s 1
	# flags (byte 76) := unowned and unbounded, which a mutex's sizes do
	# not fit; the holder's count (record at 128, count at +48) and the
	# waiter's want (record at 128 + 88, want at +28) := 2^32-1.
	poke "$CONC_DIR/s" 76 '\006\0\0\0'
	poke "$CONC_DIR/s" 176 '\377\377\377\377'
	poke "$CONC_DIR/s" 244 '\377\377\377\377'
	run -125 sem value s
	one_line
	[ "$output" = "sem: s: damaged semaphore (bad table sizes)" ]
	# The waiter still sees the mutex it opened: the dead holder's huge
	# count is recounted, not wrapped, and its own want is its own.
	kill -9 "$HOLDER"
	wait_status "$w" 0
	[ -e entered ]
	poke "$CONC_DIR/s" 76 '\0\0\0\0'
	free_is s 1
	waiters s 0
}

# make_crit_w: crit_w.sh K, the critical section of a holder of K slots:
# like crit.sh, it leaves a token (its start time and K) and logs the sum
# of K over the holders it finds inside alive, itself included.
make_crit_w() {
	mkdir -p in
	: >log
	cat >crit_w.sh <<'EOF2'
#!/bin/sh
k=$1
read -r line </proc/$$/stat
# shellcheck disable=SC2086
set -- $line
echo "${22} $k" >in/.$$
mv in/.$$ in/$$
sum=0
for f in in/*; do
	[ -e "$f" ] || continue
	read -r want n <"$f" || continue
	read -r line 2>/dev/null </proc/"${f##*/}"/stat || continue
	# shellcheck disable=SC2086
	set -- $line
	[ "$3" != Z ] && [ "${22}" = "$want" ] && sum=$((sum + n))
done
echo "$sum" >>log
sleep 0.01
rm -f in/$$
EOF2
	chmod +x crit_w.sh
}

@test "--count torture: SIGKILL of random holders, waiters and commands never lets more than N slots' worth in" {
	make_crit_w
	sem create -n 4 t
	: >workers
	for k in 1 1 2 3 4; do
		bg sh -c "while [ ! -e stop ]; do sem run --count $k t ./crit_w.sh $k; done"
		echo $! >>workers
	done
	kills=0 tries=0
	while [ "$kills" -lt 12 ] && [ "$tries" -lt 300 ]; do
		tries=$((tries + 1))
		seen=$(wc -l <log)
		case $((RANDOM % 3)) in
		0) v=$(sem stat t | awk -F '\t' '$1 == "holder" && $3 != "none" { print $3 }' | shuf -n 1) ;;
		1) v=$(sem stat t | awk -F '\t' '$1 == "holder" { print $2 }' | shuf -n 1) ;;
		*) v=$(pgrep -P "$(shuf -n 1 workers)" -x sem | head -n 1) || true ;;
		esac
		if [ -n "$v" ] && kill -9 "$v" 2>/dev/null; then
			kills=$((kills + 1))
		fi
		wait_for log_past "$seen"
	done
	wait_for log_past 40
	touch stop
	while read -r w; do
		wait "$w" || true
	done <workers
	[ "$kills" -ge 12 ]
	[ "$(max_inside)" -le 4 ]
	wait_for free_is t 4
	wait_for waiters t 0
}
