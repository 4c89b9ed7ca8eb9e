#!/usr/bin/env bats
# barrier: the behaviour of CPython's Barrier tests, ported to processes,
# plus broken state, dead parties, the CLI and bad input.
# shellcheck disable=SC2016 # the sh -c scripts expand in the child

load helper

# field NAME KEY: one value from 'barrier stat NAME'.
field() {
	barrier stat "$1" | awk -F '\t' -v k="$2" '$1 == k { print $2 }'
}

# waiting NAME N: exactly N parties are waiting at NAME.
waiting() {
	[ "$(field "$1" waiting)" = "$2" ]
}

# is_perm FILE N: FILE holds the numbers 0..N-1, each once.
is_perm() {
	diff <(sort -n "$1") <(seq 0 $(($2 - 1)))
}

# pass_test N PASSES: CPython's test_barrier. Before each wait a party
# checks that nobody has gone past the previous barrier early; after it,
# that everybody arrived. Two waits per pass, so a fast party that could
# overtake a slower one would be caught.
pass_test() {
	local i n=$1
	for ((i = 0; i < $2; i++)); do
		echo x >>a
		[ "$(wc -l <b)" -eq $((i * n)) ] || echo "pass $i: b early" >>fail
		barrier wait -n "$n" g || echo "pass $i: first wait $?" >>fail
		echo x >>b
		[ "$(wc -l <a)" -eq $(((i + 1) * n)) ] || echo "pass $i: a short" >>fail
		barrier wait -n "$n" g || echo "pass $i: second wait $?" >>fail
	done
}

# reap PID STATUS: wait (in this shell: 'run' would use a subshell, which
# cannot wait for our children) for background PID and check its status.
reap() {
	local st=0
	wait "$1" || st=$?
	[ "$st" -eq "$2" ] || {
		echo "pid $1: status $st, expected $2" >&2
		return 1
	}
}

# wait_all PID...: wait for each, recording nonzero statuses in 'fail'.
wait_all() {
	local p
	for p in "$@"; do
		wait "$p" || echo "party $p: status $?" >>fail
	done
}

@test "N=1: every wait passes at once and the index is 0" {
	run -0 barrier wait -n 1 -i one
	[ "$output" = 0 ]
	run -0 barrier wait -i one
	[ "$output" = 0 ]
	[ "$(field one generation)" = 2 ]
}

@test "all parties are released together over several generations, none overtakes" {
	touch a b
	local pids=() i
	for i in 1 2 3 4; do
		bg pass_test 4 5
		pids+=($!)
	done
	wait_all "${pids[@]}"
	[ ! -s fail ] || { cat fail; false; }
	[ "$(wc -l <b)" -eq 20 ]
	[ "$(field g generation)" = 10 ]
}

@test "arrival indices are a permutation of 0..N-1 in every generation" {
	local pids=() i
	for i in 1 2 3 4 5; do
		bg sh -c 'for i in 0 1 2; do barrier wait -n 5 -i g >>idx.$i || exit 1; done'
		pids+=($!)
	done
	wait_all "${pids[@]}"
	[ ! -s fail ]
	for i in 0 1 2; do
		is_perm "idx.$i" 5
	done
}

@test "the action runs exactly once per generation, after all arrive and before any release" {
	touch act
	local pids=() i
	for i in 1 2 3; do
		bg sh -c 'for i in 0 1 2; do
			[ "$(wc -l <act)" -eq $i ] || echo "early action $i" >>fail
			barrier wait -n 3 -a "echo run >>act" g || exit 1
			[ "$(wc -l <act)" -eq $((i + 1)) ] || echo "no action $i" >>fail
		done'
		pids+=($!)
	done
	wait_all "${pids[@]}"
	[ ! -s fail ] || { cat fail; false; }
	[ "$(wc -l <act)" -eq 3 ]
}

@test "a failing action breaks the barrier: every party exits 1" {
	bg barrier wait -n 2 g
	local p=$!
	wait_for waiting g 1
	run -1 barrier wait -a 'exit 3' g
	[[ "$output" == *"g: broken: the action failed with status 3"* ]]
	reap "$p" 1
	run -1 barrier wait g
	[ "$(field g reason)" = "the action failed" ]
}

@test "a timeout breaks the barrier: 124 for the party, 1 for the others and later arrivals" {
	bg barrier wait -n 3 g
	local p=$!
	wait_for waiting g 1
	run -124 barrier wait -t 0.1 g
	one_line
	[ "$output" = "barrier: g: timed out" ]
	reap "$p" 1
	run -1 barrier wait g
	[ "$output" = "barrier: g: broken: a party timed out" ]
	[ "$(field g reason)" = "a party timed out" ]
}

@test "a timeout at the door while the action runs does not break the full generation" {
	# The generation is complete and runs its action; a party of the
	# next generation waits at the door and times out. That generation
	# is still released; only later waits find the barrier broken.
	bg barrier wait -n 1 -a 'touch started; until [ -e go ]; do sleep 0.01; done' g
	local p=$!
	wait_for test -e started
	run -124 barrier wait -t 0.1 g
	touch go
	reap "$p" 0
	[ "$(field g generation)" = 1 ]
	[ "$(field g reason)" = "a party timed out" ]
	run -1 barrier wait g
}

@test "a timeout that does not expire changes nothing" {
	run -0 barrier wait -n 1 -t 10 g
	run -0 barrier wait -t 0 g
	[ "$(field g broken)" = no ]
}

@test "abort breaks the barrier: waiting parties and later arrivals exit 1" {
	bg barrier wait -n 2 g
	local p=$!
	wait_for waiting g 1
	run -0 barrier abort g
	reap "$p" 1
	run -1 barrier wait g
	[[ "$output" == *"broken: aborted"* ]]
}

@test "reset while parties wait: they exit 1 and the barrier is fresh" {
	bg barrier wait -n 2 g
	local p=$!
	wait_for waiting g 1
	run -0 barrier reset g
	reap "$p" 1
	waiting g 0
	[ "$(field g broken)" = no ]
	bg barrier wait g 2>err
	p=$!
	run -0 barrier wait g
	reap "$p" 0
	[ ! -s err ]
}

@test "reset after a break makes the barrier usable again" {
	barrier wait -n 2 -t 0 g || true
	run -1 barrier wait g
	run -0 barrier reset g
	bg barrier wait -i g
	local p=$!
	wait_for waiting g 1
	run -0 barrier wait -i g
	[ "$output" = 1 ]
	reap "$p" 0
}

@test "a waiting party killed with SIGKILL breaks the barrier" {
	bg barrier wait -n 3 g
	local a=$!
	bg barrier wait -n 3 g 2>err
	local b=$!
	wait_for waiting g 2
	kill -9 "$a"
	reap "$b" 1
	[ "$(cat err)" = "barrier: g: broken: a party died while waiting" ]
	run -1 barrier wait g
}

@test "a full generation whose parties all die during the action does not wedge the barrier (was: door)" {
	# Found by the torture test: with the last arrival killed while
	# running the action and the others killed too, nobody watched the
	# full generation, and every later party waited at the door for ever
	# (here until its timeout, status 124, instead of 1 at once).
	bg barrier wait -n 2 g
	local a=$!
	wait_for waiting g 1
	# shellcheck disable=SC2016 # expanded by the action's shell
	bg barrier wait -n 2 -a 'echo $$ >acting; exec sleep 1000' g
	local b=$!
	wait_for test -s acting
	kill -9 "$a" "$b"
	run -1 barrier wait -n 2 -t 20 g
	[ "$output" = "barrier: g: broken: a party died while waiting" ]
	run -0 barrier reset g
	bg barrier wait g
	run -0 barrier wait g
}

@test "a killed party in the middle is noticed by its neighbours" {
	local pids=() i
	for i in 1 2 3 4; do
		bg barrier wait -n 5 g
		pids+=($!)
		wait_for waiting g "$i"
	done
	kill -9 "${pids[1]}"
	reap "${pids[0]}" 1
	reap "${pids[2]}" 1
	reap "${pids[3]}" 1
}

@test "killing the party that runs the action breaks the barrier and ends the action" {
	bg barrier wait -n 2 g
	local a=$!
	wait_for waiting g 1
	bg barrier wait -a 'echo $$ >apid; exec sleep 1000' g
	local r=$!
	wait_for test -s apid
	kill -9 "$r"
	reap "$a" 1
	wait_for gone "$(cat apid)"
}

@test "SIGTERM to the party running the action is passed on; it exits 143, the others 1" {
	bg barrier wait -n 2 g
	local a=$!
	wait_for waiting g 1
	bg barrier wait -a 'echo $$ >apid; exec sleep 1000' g
	local r=$!
	wait_for test -s apid
	kill -TERM "$r"
	reap "$r" 143
	reap "$a" 1
	gone "$(cat apid)"
}

@test "SIGTERM to the party running the action reaches the action's whole group; it returns only when the group is gone (issue 24 point 10)" {
	bg barrier wait -n 2 g
	local a=$!
	wait_for waiting g 1
	# A grandchild that ignores SIGTERM is killed once the action ends.
	bg barrier wait -a '(trap "" TERM; exec sleep 1000) & echo $! >gc; sleep 1000 & echo $! >gc2; echo $$ >apid; wait' g
	local r=$!
	wait_for test -s apid
	cat gc gc2 >>"$BATS_TEST_TMPDIR/pids"
	kill -TERM "$r"
	reap "$r" 143
	gone "$(cat apid)" "$(cat gc)" "$(cat gc2)"
	reap "$a" 1
}

@test "parties killed at arbitrary moments leave a consistent barrier" {
	# Kill one of four parties (N=2, with an action) at whatever point it
	# has reached: not yet arrived, holding the lock, waiting, running
	# the action or gone. The others must end with 0 or 1, never hang,
	# and after a reset the barrier must work.
	local round p pids last
	# k exists before the first round, so that its abort always finds it.
	barrier wait -n 2 -t 0 k 2>/dev/null || true
	barrier reset k
	for round in 1 2 3 4 5 6 7 8 9 10 11 12; do
		pids=()
		for p in 1 2 3 4; do
			bg barrier wait -n 2 -a true k 2>/dev/null
			pids+=($!)
		done
		kill -9 "${pids[round % 4]}" 2>/dev/null || true
		wait "${pids[round % 4]}" || true
		# A party may be left alone in its generation: end it.
		barrier abort k 2>/dev/null || true
		for p in "${pids[@]}"; do
			[ "$p" = "${pids[round % 4]}" ] && continue
			wait "$p" || [ $? -eq 1 ]
		done
		barrier reset k
		waiting k 0
		bg barrier wait k
		last=$!
		run -0 barrier wait k
		reap "$last" 0
	done
}

@test "N=200 parties: all released, indices 0..199" {
	local pids=() i
	for ((i = 0; i < 200; i++)); do
		bg barrier wait -n 200 -i big >>idx
		pids+=($!)
	done
	wait_all "${pids[@]}"
	[ ! -s fail ] || { cat fail; false; }
	is_perm idx 200
	[ "$(field big generation)" = 1 ]
}

@test "-- CMD runs after the release with BARRIER_INDEX and passes its status on" {
	run -7 barrier wait -n 1 g -- sh -c 'echo "i=$BARRIER_INDEX"; exit 7'
	[ "$output" = "i=0" ]
	run -0 barrier wait -i g -- echo hi
	[ "${lines[0]}" = 0 ]
	[ "${lines[1]}" = hi ]
	run -127 barrier wait g -- no-such-command-xyz
	[[ "$output" == *"no-such-command-xyz"* ]]
	printf 'echo\n' >noexec
	chmod 644 noexec
	run -126 barrier wait g -- ./noexec
}

@test "-- CMD does not run when the barrier is broken" {
	barrier wait -n 2 -t 0 g || true
	run -1 barrier wait g -- touch ran
	[ ! -e ran ]
}

@test "stat, ls and rm" {
	barrier wait -n 1 one
	barrier wait -n 3 -t 0 three || true
	run -0 barrier stat one
	[ "$output" = "$(printf 'name\tone\nparties\t1\nwaiting\t0\ngeneration\t1\nbroken\tno\nreason\tnone')" ]
	run -0 barrier ls
	[ "${lines[0]}" = "$(printf 'one\t1\t0\t1\tno\tnone')" ]
	[ "${lines[1]}" = "$(printf 'three\t3\t0\t0\tyes\ta party timed out')" ]
	run -0 barrier ls --header
	[ "${lines[0]}" = "$(printf 'name\tparties\twaiting\tgeneration\tbroken\treason')" ]
	run -0 barrier rm one three
	run -0 barrier ls
	[ -z "$output" ]
	run -125 barrier rm one
	[ "$output" = "barrier: one: no such barrier" ]
}

@test "rm breaks the barrier for the parties waiting on it" {
	bg barrier wait -n 2 g 2>err
	local p=$!
	wait_for waiting g 1
	run -0 barrier rm g
	reap "$p" 1
	[ "$(cat err)" = "barrier: g: broken: removed" ]
	[ ! -e "$CONC_DIR/g" ]
}

@test "--mode sets the file mode of a new barrier" {
	barrier wait -n 1 --mode 640 g
	[ "$(stat -c %a "$CONC_DIR/g")" = 640 ]
	run -125 barrier wait -n 1 --mode 8 h
	run -125 barrier wait -n 1 --mode 044 h
	[ ! -e "$CONC_DIR/h" ]
}

@test "bad input exits 125 with one line and leaves the barrier unchanged" {
	barrier wait -n 2 -t 0 g || true
	local before
	before=$(barrier stat g)
	run -125 barrier wait -n 0 x
	one_line
	[ "$output" = "barrier: -n 0: must be at least 1" ]
	run -125 barrier wait nosuch
	[ "$output" = "barrier: nosuch: no such barrier" ]
	run -125 barrier wait -n 3 g
	one_line
	[ "$output" = "barrier: g: the barrier has 2 parties, not 3" ]
	run -125 barrier wait -n 2 -t 1x g
	one_line
	[[ "$output" == "barrier: --timeout 1x: "* ]]
	run -125 barrier wait -n 2 ''
	one_line
	run -125 barrier wait -n 2 g extra
	one_line
	run -125 barrier wait -n 2 g --
	run -125 barrier wait
	run -125 barrier stat
	run -125 barrier frobnicate
	one_line
	run -125 barrier
	[ "$(barrier stat g)" = "$before" ]
	[ ! -e "$CONC_DIR/x" ]
	[ ! -e "$CONC_DIR/nosuch" ]
}

@test "an object of another kind, or a file that is no object, is refused" {
	mkdir -p "$CONC_DIR"
	chmod 700 "$CONC_DIR"
	# A semaphore header: magic "CONC", kind 2, version 1, size 32.
	printf 'CNOC\002\000\001\000\040\000\000\000\000\000\000\000' >"$CONC_DIR/s"
	head -c 16 /dev/zero >>"$CONC_DIR/s"
	run -125 barrier wait -n 1 s
	one_line
	[ "$output" = "barrier: s: not a barrier (another kind of object)" ]
	echo hello >"$CONC_DIR/t"
	run -125 barrier stat t
	one_line
	run -0 barrier ls
	[ -z "$output" ]
}

@test "closed stdout or stderr: the barrier is not written into" {
	barrier wait -n 1 b
	run -125 sh -c 'barrier wait -n 3 b 2>&-'
	run -125 sh -c 'barrier stat b >&-'
	run -125 sh -c 'barrier wait -i -n 1 b >&-'
	run -0 barrier stat b
	[ "${lines[1]}" = "$(printf 'parties\t1')" ]
}

@test "a name with a newline: 125 and one line, the name shown escaped" {
	run -125 barrier wait -n 2 $'a\nb'
	one_line
	[ "$output" = "barrier: a\\x0ab: bad name: control character in name" ]
}

@test "^C on a terminal reaches a running action, which may trap it; barrier then exits 130" {
	command -v script >/dev/null || skip "script(1) is not installed"
	cat >act.sh <<-'EOF'
	trap 'echo int >>got' INT
	echo $$ >apid
	until [ -e ./done ]; do sleep 0.01; done
	EOF
	# script(1) runs the shell on a new terminal whose ^C (the \003 we
	# type) signals the foreground group: sh (which only notes it),
	# barrier and the action. barrier does not pass that one on (the
	# action has it already); a second copy would mostly merge with the
	# first, so the test cannot tell, but the action must get it.
	# env --default-signal: the tests may run in a background shell
	# without job control, which ignores SIGINT for everything under it.
	{
		wait_for test -s apid
		printf '\003'
		wait_for test -s got
		touch ./done
		wait_for test -s st
	} | SHELL=/bin/sh env --default-signal=INT script -qfec 'trap : INT; barrier wait -n 1 -a "sh act.sh" b; echo $? >st' \
	    /dev/null >/dev/null 2>&1
	[ "$(cat got)" = int ]
	[ "$(cat st)" = 130 ]
}

@test "create -n N: stat, abort and reset work before the first party arrives" {
	run -0 barrier create -n 3 b
	[ "$(field b parties)" = 3 ]
	[ "$(field b waiting)" = 0 ]
	[ "$(field b broken)" = no ]
	run -0 barrier abort b
	[ "$(field b reason)" = aborted ]
	run -0 barrier reset b
	[ "$(field b broken)" = no ]
	run -0 barrier create -n 3 b
	run -125 barrier create -n 2 b
	one_line
	[[ "$output" == *"b: the barrier has 3 parties, not 2"* ]]
	run -125 barrier create b2
	[[ "$output" == *"missing -n N"* ]]
	run -125 barrier create -n 2 -t 1 b2
	[[ "$output" == *"is not for 'barrier create'"* ]]
	run -125 barrier create -n 2 b2 -- true
	run -125 barrier stat b2
	barrier create -n 2 --mode 640 b3
	[ "$(stat -c %a "$CONC_DIR/b3")" = 640 ]
	bg barrier wait b3
	local p=$!
	wait_for waiting b3 1
	run -0 barrier wait -t 60 b3
	reap "$p" 0
}

@test "stat and ls tell the truth after a waiting party died (was: waiting 1, broken no)" {
	bg barrier wait -n 3 b
	local p=$!
	wait_for waiting b 1
	kill -9 "$p"
	wait "$p" 2>/dev/null || true
	[ "$(field b reason)" = "a party died while waiting" ]
	[ "$(field b waiting)" = 0 ]
	run -0 barrier ls
	[ "$output" = "$(printf 'b\t3\t0\t0\tyes\ta party died while waiting')" ]
	run -1 barrier wait b
	[ "$output" = "barrier: b: broken: a party died while waiting" ]
	# ls alone notices too.
	barrier create -n 2 c
	bg barrier wait c
	p=$!
	wait_for waiting c 1
	kill -9 "$p"
	wait "$p" 2>/dev/null || true
	run -0 barrier ls
	[[ "$output" == *"$(printf 'c\t2\t0\t0\tyes\t')"* ]]
}

@test "wait -- CMD: a command that cannot run is 127/126 at once, before arriving" {
	run -127 barrier wait -n 2 b -- no-such-command-xyz
	one_line
	[[ "$output" == *"no-such-command-xyz"* ]]
	printf 'echo x\n' >noexec
	chmod 644 noexec
	run -126 barrier wait -n 2 b -- ./noexec
	one_line
	# Nobody arrived: the barrier was not even created.
	run -125 barrier stat b
	barrier create -n 2 b
	run -127 barrier wait b -- no-such-command-xyz
	[ "$(field b waiting)" = 0 ]
}
