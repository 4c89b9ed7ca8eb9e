#!/usr/bin/env bats
# A hostile environment (issue 8): odd names and files where objects
# should be, a full disk, file size, memory and process limits, closed
# and broken standard output. objects.bats covers the symlinked,
# foreign and group-writable namespace directory, objects replaced by a
# symlink or a FIFO, control characters and over-long names.

load helper

# as_nobody CMD: run the shell command CMD as user nobody, in /.
as_nobody() {
	# LeakSanitizer (sanitizer builds) needs a thread of its own at
	# exit, which RLIMIT_NPROC forbids.
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    env PATH="$PATH" CONC_DIR="${NOBODY_DIR:-/nonexistent}/ns" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    bash -c "cd / && $1"
}

test_teardown() {
	if mountpoint -q "$BATS_TEST_TMPDIR/small" 2>/dev/null; then
		umount "$BATS_TEST_TMPDIR/small"
	fi
}

need_nobody() {
	[ "$(id -u)" = 0 ] || skip "needs root to switch to user nobody"
	command -v setpriv >/dev/null || skip "needs setpriv (util-linux)"
	setpriv --reuid=nobody --regid=nogroup --clear-groups test -x "$TOP/bin/pool" ||
	    skip "user nobody cannot run $TOP/bin/pool"
}

@test "a world-writable namespace directory is refused, sticky bit or not" {
	for m in 703 1777; do
		rm -rf "$CONC_DIR"
		mkdir "$CONC_DIR"
		chmod "$m" "$CONC_DIR"
		for t in queue sem barrier; do
			run -125 make_obj "$t" x
			one_line
			[[ "$output" == *"writable by group or others"* ]]
		done
		[ -z "$(ls -A "$CONC_DIR")" ]
	done
}

@test "names: '/' tricks, '.' and '..' components, a newline in a path, 4 KiB: 125, nothing made" {
	mkdir d
	long=$(printf '%04096d' 0)
	deep=$(printf 'a/%.0s' $(seq 1 2048))b
	refused / // ./ d/ d/.. d/. ../.. $'d/a\nb' "$long" "$deep" "d/$long"
	[ -z "$(ls -A d)" ]
	[ ! -e "$CONC_DIR" ] || [ -z "$(ls -A "$CONC_DIR")" ]
}

@test "a device, a directory or a missing directory where an object should be: 125, one line" {
	mkdir -p dir "$CONC_DIR/sub"
	refused /dev/null /dev/zero "$PWD/dir" sub "$PWD/missing/x"
	[ -z "$(ls -A dir)" ]
	[ ! -e missing ]
}

@test "objects are created 0600 whatever the umask, and --mode exactly as given" {
	umask 000
	for t in queue sem barrier; do
		make_obj "$t" "u-$t"
		[ "$(stat -c %a "$CONC_DIR/u-$t")" = 600 ]
	done
	umask 077
	queue create --mode 640 m-queue
	sem create --mode 640 m-sem
	barrier wait -n 1 --mode 640 m-barrier
	for t in queue sem barrier; do
		[ "$(stat -c %a "$CONC_DIR/m-$t")" = 640 ]
	done
}

@test "a queue message of exactly the maximum size goes through; one byte more is refused" {
	queue create --size 1K q
	run -0 queue stat q
	[[ "$output" == *$'\nmaxmsg\t1008\n'* ]]
	max=$(printf '%01008d' 0)
	run -0 queue put q "$max"
	run -125 queue put q "${max}1"
	one_line
	[[ "$output" == *"longer than the maximum of 1008"* ]]
	run -0 queue size q
	[ "$output" = 1 ]
	run -0 queue get q
	[ "$output" = "$max" ]
	# The same from standard input, where the line ends the message.
	printf '%s\n' "$max" | queue put q
	# shellcheck disable=SC2016 # expanded by the inner shell
	run -125 sh -c 'printf "%s1\n" "$1" | queue put q' _ "$max"
	one_line
	run -0 queue size q
	[ "$output" = 1 ]
	run -0 queue get q
	[ "$output" = "$max" ]
}

@test "a full file system: creation fails with 125 and leaves nothing; objects work again once space is freed" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
	mkdir small
	mount -t tmpfs -o size=1m tmpfs small 2>/dev/null ||
	    skip "mounting a tmpfs is not permitted here"
	CONC_DIR=$PWD/small/ns
	# A queue made before the disk fills keeps the storage of the
	# messages it had.
	queue create --size 64K q
	msg=$(printf '%01000d' 0)
	for i in $(seq 1 40); do queue put --nowait q "$msg$i"; done
	head -c 2M /dev/zero >small/fill 2>/dev/null || true
	[ "$(df --output=avail small | tail -1)" -lt 8 ]
	run -125 queue create --size 256K big
	one_line
	[[ "$output" == *"No space left on device"* ]]
	run -125 sem create -n 1000 s
	one_line
	run -125 barrier wait -n 1000 -t 1 b
	one_line
	[ "$(ls -A small/ns)" = q ]
	# The old queue hands out its messages, and takes as many again.
	for r in 1 2; do
		run -0 queue get -n 40 q
		[ "${#lines[@]}" = 40 ]
		[ "${lines[39]}" = "${msg}40" ]
		for i in $(seq 1 40); do queue put --nowait q "$msg$i"; done
	done
	rm small/fill
	run -0 sem create -n 1000 s
	run -0 barrier wait -n 1 b
	run -0 queue create --size 256K big
	run -0 queue put big x
	run -0 queue get big
	[ "$output" = x ]
	umount small
}

# A queue's storage grows as messages come (queue(1), STORAGE): on a full
# file system a put that needs more fails with one line and 125, having
# added the messages that fit, and never dies of SIGBUS; the queue keeps
# what it had and works on, and takes messages again once there is room.
@test "a put that finds the file system full fails with 125 and one line, never SIGBUS; the queue works on" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
	mkdir small
	mount -t tmpfs -o size=1m tmpfs small 2>/dev/null ||
	    skip "mounting a tmpfs is not permitted here"
	CONC_DIR=$PWD/small/ns
	for order in "" --lifo --priority; do
		queue create $order q
		queue put q first
		head -c 2M /dev/zero >small/fill 2>/dev/null || true
		[ "$(df --output=avail small | tail -1)" -lt 8 ]
		# Arguments, then a stream: each stops where storage ends.
		run -125 queue put q $(seq 1 20000)
		one_line
		[ "$output" = "queue: q: no storage for the messages: No space left on device" ]
		n=$(queue size q)
		[ "$n" -gt 1 ] && [ "$n" -lt 20001 ]
		run -125 --separate-stderr queue put q < <(seq 1 20000)
		[ "$stderr" = "queue: q: no storage for the messages: No space left on device" ]
		m=$(queue size q)
		[ "$m" -ge "$n" ]
		# What went in comes out whole, in order.
		run -0 queue get -n "$m" q
		if [ -z "$order" ]; then
			[ "${lines[0]}" = first ]
			[ "${lines[1]}" = 1 ] && [ "${lines[$((n - 1))]}" = $((n - 1)) ]
		fi
		[ "$(printf '%s\n' "${lines[@]}" | grep -cvx '[0-9]*')" = 1 ]
		run -0 queue size q
		[ "$output" = 0 ]
		# Room again: a put takes what a drained queue gave back.
		rm small/fill
		seq 1 20000 | queue put q
		run -0 queue size q
		[ "$output" = 20000 ]
		queue rm q
	done
	umount small
}

@test "a file size limit: creation fails with 125, not SIGXFSZ, and leaves no private file (was: core dump)" {
	# The kernel sends SIGXFSZ when a file would grow past ulimit -f;
	# its default action killed the tools (status 153) with their
	# half-made object left behind as .NAME.new.PID.
	mkdir -p "$CONC_DIR"
	for t in "queue create --size 1M q" "sem create -n 100000 s" "barrier wait -n 60000 b"; do
		run -125 bash -c "ulimit -f 128 && exec $t"
		one_line
		[[ "$output" == *"File too large"* ]]
	done
	[ -z "$(ls -A "$CONC_DIR")" ]
	run -0 bash -c 'ulimit -f 128 && queue create --size 1K q && queue put q a && queue get q'
	[ "$output" = a ]
}

@test "out of memory (ulimit -v): 125 and one line, and the queue keeps its message" {
	! grep -q san "$TOP/bin/.flavour" 2>/dev/null ||
	    skip "AddressSanitizer reserves more address space than any ulimit -v here"
	queue create --size 17M q
	head -c 16000000 /dev/zero | tr '\0' x | queue put q
	run -125 bash -c 'ulimit -v 40000 && exec queue get q'
	one_line
	[[ "$output" == *"out of memory"* || "$output" == *"Cannot allocate memory"* ]]
	run -0 queue size q
	[ "$output" = 1 ]
	run -125 bash -c 'ulimit -v 40000 && exec queue create --size 1G big'
	one_line
	run -125 bash -c 'seq 3 | { ulimit -v 40000 && exec pool --pipe --block 1G wc -l; }'
	one_line
	[ ! -e "$CONC_DIR/big" ]
	run -0 bash -c 'queue get q | wc -c'
	[ "$output" = 16000001 ]
}

@test "RLIMIT_NPROC: pool and parallel report each job they cannot start, and do not crash" {
	need_nobody
	seq 1 6 >items
	# As nobody with room for one process, which is the tool itself.
	run -6 as_nobody 'ulimit -u 1 && exec pool -j4 echo' <items
	[ "${#lines[@]}" = 6 ]
	[[ "${lines[0]}" == "pool: cannot start job "*": Resource temporarily unavailable" ]]
	run -125 as_nobody 'ulimit -u 1 && exec parallel "echo a" "echo b"'
	[ "${#lines[@]}" = 2 ]
	[[ "${lines[0]}" == "parallel: start "*": Resource temporarily unavailable" ]]
	# With room for a few jobs, each job either ran or was reported.
	run as_nobody 'ulimit -u 3 && exec pool -j6 -k echo ran' <items
	[ "$status" -le 6 ]
	ran=$(grep -c '^ran ' <<<"$output" || true)
	failed=$(grep -c '^pool: cannot start job' <<<"$output" || true)
	[ "$((ran + failed))" = 6 ]
	[ "$status" = "$failed" ]
}

@test "RLIMIT_NPROC: sem run and barrier's action that cannot start leave nothing held" {
	need_nobody
	NOBODY_DIR=$(mktemp -d)
	chown nobody "$NOBODY_DIR"
	run -125 as_nobody 'ulimit -u 1 && exec sem run s echo x'
	one_line
	run -0 as_nobody 'sem value s'
	[ "$output" = 1 ]
	run -125 as_nobody 'ulimit -u 1 && exec barrier wait -n 1 -a true b'
	run -0 as_nobody 'barrier reset b && barrier wait -n 1 b -- echo released'
	[ "$output" = released ]
	rm -rf "$NOBODY_DIR"
}

@test "closed stdout: 125 and a message; queue get leaves its messages in the queue" {
	run -125 sh -c 'seq 3 | pool -k echo >&-'
	[[ "$output" == *"pool: write output: Bad file descriptor"* ]]
	queue put q a b
	for get in "get" "get -n 2" "get -f -t 0.1"; do
		run -125 sh -c "queue $get q >&-"
		one_line
		[ "$output" = "queue: q: standard output is closed" ]
	done
	run -0 queue get -n 2 q
	[ "$output" = "$(printf 'a\nb')" ]
}

@test "a broken pipe ends pool, parallel, queue get, sem run and barrier's command quietly with 141" {
	seq 1 100000 >items
	queue put q $(seq -f "%0500g" 1 2000)
	for cmd in "pool -k echo <items" "pool --pipe --block 10 cat <items" \
	    "parallel 'seq 100000'" "queue get -n 2000 q" "sem run s seq 100000" \
	    "barrier wait -n 1 b -- seq 100000"; do
		run -0 bash -c "$cmd 2>err | head -n 1 >/dev/null; echo \${PIPESTATUS[0]}"
		[ "$output" = 141 ]
		[ ! -s err ]
	done
}

@test "an rm the file system refuses (a sticky directory) leaves the object as it was" {
	need_nobody
	NOBODY_DIR=$(mktemp -d)
	chmod 755 "$NOBODY_DIR"
	mkdir -m 1777 "$NOBODY_DIR/sticky"
	s=$NOBODY_DIR/sticky
	queue create --mode 666 "$s/q"
	queue put "$s/q" kept
	barrier wait -n 2 -t 0 "$s/b" 2>/dev/null || true
	barrier reset "$s/b"
	chmod 666 "$s/b"
	sem create --mode 666 "$s/m"
	for t in queue barrier sem; do
		n=$s/$(case $t in queue) echo q ;; barrier) echo b ;; sem) echo m ;; esac)
		run -125 as_nobody "$t rm $n"
		one_line
		[ "$output" = "$t: $n: remove: Operation not permitted" ]
	done
	# Nothing changed: the queue takes and gives messages, the barrier
	# is not broken, the semaphore works.
	run -0 queue put "$s/q" more
	run -0 queue get -n 2 "$s/q"
	[ "$output" = "$(printf 'kept\nmore')" ]
	run -0 barrier stat "$s/b"
	[ "${lines[4]}" = "$(printf 'broken\tno')" ]
	run -0 sem run "$s/m" true
	rm -rf "$NOBODY_DIR"
}

# poke FILE OFFSET BYTES: overwrite FILE at OFFSET with BYTES (printf
# escapes), as another user who can write the object could at any time.
poke() {
	printf '%b' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# sem_waiting NAME N, bar_waiting NAME N: N processes wait in NAME.
sem_waiting() {
	[ "$(sem stat "$1" | awk '$1 == "waiters" { print $2 }')" = "$2" ]
}
bar_waiting() {
	[ "$(barrier stat "$1" | awk '$1 == "waiting" { print $2 }')" = "$2" ]
}

# ticked PID N: PID has slept and woken N more times (its voluntary
# context switches) than when ticks_of last looked.
ticks_of() {
	awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status"
}
ticked() {
	[ "$(ticks_of "$1")" -ge $((T0 + $2)) ]
}

@test "table sizes changed while a sem waits in the object: bounded by what it mapped, never a write outside (issue 24 point 1)" {
	sleep 1000 &
	local h=$! w
	echo "$h" >>"$BATS_TEST_TMPDIR/pids"
	sem acquire --owner "$h" s
	bg sem run s touch entered
	w=$!
	wait_for sem_waiting s 1
	# slots (byte 72), used (88) and the holder high-water mark (96)
	# := 2^32-1: the waiter's next look at the holders walked that many
	# records of 88 bytes, clearing those it took for dead, far past its
	# 33 KB mapping (into the next mapping, then SIGSEGV).
	poke "$CONC_DIR/s" 72 '\377\377\377\377'
	poke "$CONC_DIR/s" 88 '\377\377\377\377'
	poke "$CONC_DIR/s" 96 '\377\377\377\377'
	run -125 sem value s
	one_line
	[[ "$output" == *"damaged semaphore (bad table sizes)"* ]]
	kill -9 "$h"
	wait_status "$w" 0
	[ -e entered ]
}

@test "the slot count changed while a barrier party waits in the object: bounded by what it mapped (issue 24 point 1)" {
	bg barrier wait -n 2 b
	local a=$!
	wait_for bar_waiting b 1
	# nslots (byte 80) := 2^28: the party's look at its neighbour, every
	# 250 ms, went round 2^28 slots of 64 bytes (SIGSEGV).
	T0=$(ticks_of "$a")
	poke "$CONC_DIR/b" 80 '\0\0\0\020'
	run -125 barrier wait b
	[[ "$output" == *"damaged barrier"* ]]
	wait_for ticked "$a" 3
	poke "$CONC_DIR/b" 80 '\4\0\0\0'
	run -0 barrier wait b
	wait_status "$a" 0
}

@test "an object truncated while in use: 125 'damaged', no SIGBUS death; sem run still passes its command's status through (issue 24 point 4)" {
	run -7 sem run s sh -c "truncate -s 0 '$CONC_DIR/s'; exit 7"
	[ "$output" = "sem: s: damaged (file truncated while in use)" ]
	rm -f "$CONC_DIR/s"
	bg barrier wait -n 2 b
	local a=$!
	wait_for bar_waiting b 1
	truncate -s 0 "$CONC_DIR/b"
	wait_status "$a" 125
	sem acquire --owner $$ t
	bg sem acquire t
	local w=$!
	wait_for sem_waiting t 1
	truncate -s 0 "$CONC_DIR/t"
	wait_status "$w" 125
}

@test "a copy of a live queue gives back the claim of a getter that has gone, and join returns (issue 24 point 6)" {
	queue put q hello
	mkfifo started
	bg queue run -j1 q sh -c 'echo $$ >started; exec sleep 600'
	local w=$!
	read -r job <started
	echo "$job" >>"$BATS_TEST_TMPDIR/pids"
	# The copy's getter lock names the worker, which is alive: the
	# claim is held.
	cp "$CONC_DIR/q" "$CONC_DIR/c"
	[ "$(queue stat c | awk '$1 == "claimed" { print $2 }')" = 1 ]
	kill -9 "$w" "$job"
	wait "$w" || true
	wait_for gone "$job"
	# Now the lock names a thread that does not exist.
	run -0 queue get -t 30 c
	[ "$output" = hello ]
	queue 'done' c
	run -0 queue join -t 30 c
}

@test "a copy of a live barrier breaks when the copied party has gone, never releases one live party of two (issue 24 point 6)" {
	bg barrier wait -n 2 b
	local a=$!
	wait_for bar_waiting b 1
	cp "$CONC_DIR/b" "$CONC_DIR/c"
	kill -9 "$a"
	wait "$a" || true
	run -1 barrier wait -t 30 c
}

@test "a copy of a live event forgets a waiting party that has gone (issue 24 point 6)" {
	event create e
	bg event wait e
	local a=$!
	wait_for ev_waiters e 1
	cp "$CONC_DIR/e" "$CONC_DIR/c"
	ev_waiters c 1      # the party lives: present in the copy too
	kill -9 "$a"
	wait "$a" || true
	ev_waiters c 0
}

# ev_waiters NAME N: N live processes wait on event NAME.
ev_waiters() {
	[ "$(event stat "$1" | awk -F'\t' '$1 == "waiters" { print $2 }')" = "$2" ]
}

# state_of PID: the state letter of PID (T: stopped); stopped PID: it is T.
state_of() {
	awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat"
}
stopped() {
	[ "$(state_of "$1")" = T ]
}
# sig_in PID FIELD SIG...: each SIG is set in the mask FIELD (SigBlk,
# ShdPnd) of /proc/PID/status.
sig_in() {
	local m s
	m=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status")
	shift 2
	for s in "$@"; do
		(((16#$m >> (s - 1)) & 1)) || return 1
	done
}

@test "Ctrl-Z inside a critical section takes effect once the lock is given back; a process waiting for the lock stops at once (issue 24 point 5)" {
	local unit=${UNIT:-$TOP/build/test/unit} h w
	mkfifo in
	exec 7<>in
	# Job control, as in an interactive shell: each job in a group of
	# its own whose parent is in the session. The kernel discards
	# SIGTSTP sent to an orphaned group (bats' own may be one).
	set -m
	"$unit" lockhold "$PWD/l" <in >out &
	h=$!
	echo "$h" >>"$BATS_TEST_TMPDIR/pids"
	wait_for grep -qx locked out
	sig_in "$h" SigBlk 20 21 22     # SIGTSTP SIGTTIN SIGTTOU
	kill -TSTP "$h"
	sig_in "$h" ShdPnd 20
	[ "$(state_of "$h")" != T ]
	"$unit" lockhold "$PWD/l" </dev/null >out2 &
	w=$!
	echo "$w" >>"$BATS_TEST_TMPDIR/pids"
	kill -TSTP "$w"
	wait_for stopped "$w"
	[ ! -s out2 ]
	echo >&7
	wait_for stopped "$h"
	[ "$(cat out)" = locked ]
	# The lock was given back before h stopped: w takes it.
	kill -CONT "$w"
	wait_for grep -qx unlocked out2
	[ "$(cat out2)" = $'locked\nunlocked' ]
	kill -CONT "$h"
	wait_for grep -qx unlocked out
	[ "$(cat out)" = $'locked\nunlocked' ]
	set +m
}

@test "sem stat shows a stopped holder as stopped (issue 24 point 5)" {
	bg sleep 600
	local p=$!
	# The command name is read from the holder: wait until it is sleep
	# (bg's subshell executes it a moment later).
	wait_for grep -qx sleep "/proc/$p/comm"
	sem acquire --owner "$p" s
	run -0 sem stat s
	[[ "${lines[7]}" == "holder"$'\t'"$p"$'\tnone\t1\t'*$'\tsleep\trunning' ]]
	kill -STOP "$p"
	wait_for stopped "$p"
	run -0 sem stat s
	[[ "${lines[7]}" == "holder"$'\t'"$p"$'\tnone\t1\t'*$'\tsleep\tstopped' ]]
	kill -CONT "$p"
}

# in_shm CMD: run the shell command CMD (as root) in a mount namespace of
# its own with an empty /dev/shm, without CONC_DIR or XDG_RUNTIME_DIR and
# with HOME=$NOBODY_DIR/home: the default namespace directory, out of
# reach of every other test. CMD uses $nobody to run a tool as nobody.
in_shm() {
	unshare -m sh -c 'mount -t tmpfs -o mode=1777 none /dev/shm && exec "$@"' sh \
	    env -u CONC_DIR -u XDG_RUNTIME_DIR HOME="$NOBODY_DIR/home" PATH="$PATH" \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    nobody='setpriv --reuid=nobody --regid=nogroup --clear-groups' \
	    sh -c "cd / && $1"
}

@test "/dev/shm/concutils-UID taken by another user: the tools fall back to \$HOME/.cache/concutils and say so; 125 and why when they cannot (issue 24 point 3)" {
	need_nobody
	unshare -m sh -c 'mount -t tmpfs none /dev/shm' 2>/dev/null ||
	    skip "needs a mount namespace with a tmpfs"
	NOBODY_DIR=$(mktemp -d)
	chmod 755 "$NOBODY_DIR"
	mkdir -m 700 "$NOBODY_DIR/home"
	chown nobody "$NOBODY_DIR/home"
	# root has taken nobody's name: a directory, a symlink, a file.
	for take in 'mkdir -m 700' 'ln -s /tmp' 'touch'; do
		rm -rf "$NOBODY_DIR/home/.cache"
		run -0 in_shm "$take /dev/shm/concutils-65534 &&
		    \$nobody sh -c 'sem create s && sem value s && sem value s && sem ls'"
		[ "${lines[0]}" = "sem: namespace directory /dev/shm/concutils-65534: taken by another user; using $NOBODY_DIR/home/.cache/concutils instead" ]
		[ "${lines[1]}" = 1 ]
		[ "${lines[2]}" = 1 ]     # the fallback is kept: no warning
		[ "${lines[3]}" = $'s\towned\t1\t1\t0\tno\t0' ]
		[ "${#lines[@]}" = 4 ]
		[ "$(stat -c '%U %a' "$NOBODY_DIR/home/.cache/concutils")" = "nobody 700" ]
		[ -f "$NOBODY_DIR/home/.cache/concutils/s" ]
	done
	# No fallback possible (HOME not writable): 125, and what to do.
	rm -rf "$NOBODY_DIR/home/.cache"
	chmod 555 "$NOBODY_DIR/home"
	run -125 in_shm "mkdir -m 700 /dev/shm/concutils-65534 &&
	    \$nobody sem create s"
	one_line
	[ "$output" = "sem: namespace directory /dev/shm/concutils-65534: owned by another user, and no fallback ($NOBODY_DIR/home/.cache/concutils: Permission denied); set CONC_DIR or XDG_RUNTIME_DIR to a directory of your own" ]
	rm -rf "$NOBODY_DIR"
}

# in_pidns CMD...: run CMD in a pid namespace of its own (with its /proc).
in_pidns() {
	unshare -pf --mount-proc env \
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$@"
}

@test "an object in use from another pid namespace is refused with 125 and left as it was; one made inside works inside (issue 24 point 8)" {
	[ "$(id -u)" = 0 ] || skip "needs root for a pid namespace"
	unshare -pf --mount-proc true 2>/dev/null || skip "needs unshare -pf --mount-proc"
	sem create -n 1 s
	sem acquire --owner $$ s
	# Inside, pid $$ is not ours: it would be taken for dead.
	run -125 in_pidns sh -c 'sem acquire --nowait s; exit $?'
	one_line
	[[ "$output" == "sem: s: in use from another pid namespace (pid:["[0-9]*"]; this process is in pid:["[0-9]*"])" ]]
	run -125 in_pidns sem run s true
	one_line
	run -0 sem value s
	[ "$output" = 0 ]
	for t in queue barrier event; do
		make_obj "$t" "$t"
		run -125 in_pidns "$t" "$([ "$t" = queue ] && echo size || echo stat)" "$t"
		one_line
		[[ "$output" == "$t: $t: in use from another pid namespace"* ]]
	done
	run -0 queue size queue
	# The namespace is the first user's: made inside, used inside,
	# refused outside.
	run -0 in_pidns sh -c 'sem create -n 1 i && sem run i sem value i'
	[ "$output" = 0 ]
	run -125 sem value i
	one_line
}
