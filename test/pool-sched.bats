#!/usr/bin/env bats
# Job bodies are shell snippets in single quotes, expanded by the job.
# shellcheck disable=SC2016
# pool(1): when jobs start: --delay, --load.

load helper

# joblog_gaps LOG: the gaps between the sorted start times of LOG's jobs.
joblog_gaps() {
	tail -n +2 "$1" | cut -f 3 | sort -n |
		awk 'NR > 1 { printf "%.3f\n", $1 - prev } { prev = $1 }'
}

# ------------------------------------------------------------ delay

@test "--delay: at least DUR between the starts of two jobs, whatever -j" {
	seq 5 >in
	run -0 pool -j5 --delay 0.2 --joblog log -a in true
	[ "$(tail -n +2 log | wc -l)" -eq 5 ]
	# The joblog's start times have a resolution of 1 ms: a lower bound
	# only, never an upper one.
	run joblog_gaps log
	[ "${#lines[@]}" -eq 4 ]
	for g in "${lines[@]}"; do
		awk -v g="$g" 'BEGIN { exit !(g >= 0.198) }'
	done
}

@test "--delay holds the next job back; SIGTERM ends the run, and the held job never started" {
	printf '%s\n' 1 2 >in
	bg pool -j2 --delay 1h --joblog log -a in sh -c 'touch started.$1' _
	pid=$!
	wait_for [ -e started.1 ]
	kill -TERM "$pid"
	wait_status "$pid" 143
	[ ! -e started.2 ]
	[ "$(tail -n +2 log | cut -f 1)" = 1 ]
}

@test "--delay spaces a retry too: a failed job waits, and is logged as it ended when pool stops" {
	echo a >in
	bg pool --retries 3 --delay 1h --joblog log -a in sh -c 'echo x >>tries; exit 3'
	pid=$!
	wait_for [ -e tries ]
	kill -TERM "$pid"
	wait_status "$pid" 143
	[ "$(wc -l <tries)" -eq 1 ]
	# One line for the job: exit 3, or SIGTERM if it had not ended yet.
	run cut -f 1,7,8 log
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == "$(printf '1\t3\t0')" || "${lines[1]}" == "$(printf '1\t0\t15')" ]]
}

@test "--delay with --retries: the retries run after the delay and the run succeeds" {
	cat >flaky <<-'EOF'
	#!/bin/sh
	echo x >>tries
	[ "$(wc -l <tries)" -ge 3 ]
	EOF
	chmod +x flaky
	run -0 pool --retries 2 --delay 100ms ./flaky < <(echo a)
	[ "$(wc -l <tries)" -eq 3 ]
}

@test "--delay and --load: bad values are status 125 with one line and start no job" {
	for d in x -1 1y inf ''; do
		run -125 pool --delay "$d" touch ran ::: a
		one_line
		[[ "$output" == "pool: --delay $d: "* ]]
	done
	for n in 0 -1 x 1.5 0% 101x% %; do
		run -125 pool --load "$n" touch ran ::: a
		one_line
		[[ "$output" == "pool: --load $n: "* ]]
	done
	[ ! -e ran ]
}

# ------------------------------------------------------------ load

# POOL_LOADAVG names the file read instead of /proc/loadavg: its fourth
# field is RUNNABLE/ALL, and pool does not count itself.
load_file() {
	printf '0.00 0.00 0.00 %s/100 1\n' "$1" >"$2.new"
	mv "$2.new" "$2"
}

@test "--load N: while N or more tasks are runnable one job runs at a time, and the run ends" {
	load_file 5 la    # 4 besides pool
	seq 4 >in
	POOL_LOADAVG=la run -0 pool -j4 --load 3 -a in sh -c '
		echo "start $1" >>log; sleep 0.1; echo "end $1" >>log' _
	# Each job ended before the next one started.
	[ "$(awk '{ print $1 }' log | paste -sd ' ')" = "start end start end start end start end" ]
}

@test "--load: the jobs held back start once the load drops, while the first still runs" {
	load_file 5 la
	seq 3 >in
	cat >job <<-'EOF'
	#!/bin/sh
	echo "start $1" >>log
	[ "$1" = 1 ] || { touch "s$1"; exit 0; }
	echo dropped >>log
	printf '0.00 0.00 0.00 1/100 1\n' >la.new
	mv la.new la
	# Job 1 ends only once the others have started beside it.
	while [ ! -e s2 ] || [ ! -e s3 ]; do sleep 0.01; done
	EOF
	chmod +x job
	POOL_LOADAVG=la run -0 timeout 120 pool -j3 --load 3 -a in ./job
	[ "$(head -n 2 log | paste -sd ' ')" = "start 1 dropped" ]
	[ "$(tail -n +3 log | sort | paste -sd ' ')" = "start 2 start 3" ]
}

@test "--load N%: a percentage of the CPUs; SIGURG says why jobs are held back" {
	n=$(( $(nproc) / 2 ))
	[ "$n" -ge 1 ] || n=1
	load_file $((n + 5)) la
	printf '%s\n' 1 2 >in
	mkfifo go
	POOL_LOADAVG=la bg pool -j2 --load 50% -a in sh -c '
		[ "$1" = 2 ] && exit 0; touch started; read -r x <go' _ 2>err
	pid=$!
	wait_for [ -e started ]
	kill -URG "$pid"
	wait_for grep -q 'held back' err
	echo >go
	wait_status "$pid" 0
	grep -qx "pool: held back by --load $n: $((n + 4)) runnable tasks" err
}

@test "--load: --bar says that jobs are held back, and why" {
	command -v script >/dev/null || skip "script(1) is not installed"
	load_file 5 la
	seq 3 >in
	run -0 script -qec "POOL_LOADAVG=la pool --bar -j3 --load 3 -a in true" /dev/null
	[[ "$output" == *"pool: 0/3 done, 0 failed, 0.0/s, held back by --load 3: 4 runnable tasks"* ]]
	[[ "$output" == *"pool: 3/3 done, 0 failed"* ]]
}

@test "--load: when the load cannot be read, pool says so once and goes on without it" {
	seq 3 >in
	POOL_LOADAVG=nosuchfile run -0 --separate-stderr pool -j3 --load 1 -a in true
	[ "$stderr" = "pool: warning: --load: cannot read the runnable tasks from nosuchfile; going on without --load" ]
}

@test "pool(1)'s and the README's example of --delay and --load runs verbatim" {
	line=$(sed -n '/^\.Sh EXAMPLES/,/^\.Sh SEE ALSO/p' "$TOP/man/pool.1" |
	    grep -E '^\.Dl .*--delay' | sed 's/^\.Dl //')
	[ -n "$line" ]
	run -0 bash -c "$line"
	[ "$output" = "$(printf 'job %s\n' 1 2 3)" ]
	readme=$(grep -E '^pool .*--delay' "$TOP/README.md")
	[ "$readme" = "$line" ]
}

# ------------------------------------------------------------ retry delay

@test "--retry-delay: the slot runs other jobs while a failed job waits; SIGTERM ends the waiting job as its attempt did" {
	printf '%s\n' a b >in
	bg pool -j1 --retries 1 --retry-delay 1h --joblog log -a in sh -c '
		echo "$1" >>tries; [ "$1" = b ]' _
	pid=$!
	wait_for grep -qx b tries
	wait_for grep -q '^2	' log
	kill -TERM "$pid"
	wait_status "$pid" 143
	[ "$(cat tries)" = "$(printf 'a\nb')" ]
	# a is logged once, with the exit status of its only attempt.
	run cut -f 1,7,8 log
	[ "${#lines[@]}" -eq 3 ]
	[ "${lines[1]}" = "$(printf '2\t0\t0')" ]
	[ "${lines[2]}" = "$(printf '1\t1\t0')" ]
}

@test "--retry-delay DUR,MAX: DUR before the first retry, doubling up to MAX (lower bounds from the jobs' own stamps)" {
	# An attempt's stamp is written before it ends, the next one's after
	# it starts: their gap is at least the delay.
	run -1 pool --retries 3 --retry-delay 0.1,0.25 sh -c '
		date +%s.%N >>stamps; exit 1' ::: a
	[ "$(wc -l <stamps)" -eq 4 ]
	run awk 'NR > 1 { printf "%.3f\n", $1 - prev } { prev = $1 }' stamps
	[ "${#lines[@]}" -eq 3 ]
	awk -v g="${lines[0]}" 'BEGIN { exit !(g >= 0.099) }'
	awk -v g="${lines[1]}" 'BEGIN { exit !(g >= 0.199) }'
	awk -v g="${lines[2]}" 'BEGIN { exit !(g >= 0.249) }'
}

@test "--retry-delay with -k: output in input order, only the last attempt's" {
	cat >flaky <<-'EOF2'
	#!/bin/sh
	echo x >>"tries.$1"
	n=$(wc -l <"tries.$1")
	echo "$1 attempt $n"
	[ "$1" != a ] || [ "$n" -ge 2 ]
	EOF2
	chmod +x flaky
	run -0 pool -k -j2 --retries 1 --retry-delay 50ms ./flaky ::: a b c
	[ "$output" = "$(printf 'a attempt 2\nb attempt 1\nc attempt 1')" ]
}

# listed_more N: SIGURG has listed job 1 more than N times in err.
listed_more() {
	[ "$(grep -c '^pool: job 1 waits' err)" -gt "$1" ]
}

@test "--retry-delay: SIGURG lists the waiting jobs; no new job starts while more wait than there are slots" {
	seq 3 >in
	touch err
	bg pool -j1 --retries 1 --retry-delay 1h -a in sh -c 'echo "$1" >>tries; exit 1' _ 2>>err
	pid=$!
	wait_for grep -qx 2 tries
	# Job 2's failure is known once SIGURG lists it as waiting; job 3
	# would have started at that same turn. Job 1 waits all along.
	until grep -q '^pool: job 2 waits' err; do
		n=$(grep -c '^pool: job 1 waits' err || :)
		kill -URG "$pid"
		wait_for listed_more "$n"
	done
	grep -q "^pool: job 1 waits [0-9.]*s to run again: sh -c" err
	run -1 grep -q '^pool: job 3' err
	[ "$(cat tries)" = "$(printf '1\n2')" ]
	kill -TERM "$pid"
	wait_status "$pid" 143
	[ "$(cat tries)" = "$(printf '1\n2')" ]
}

@test "--retry-delay: bad values are status 125 with one line and start no job" {
	for d in x 2s,1s 1s,x inf -1 ,1s; do
		run -125 pool --retries 1 --retry-delay "$d" touch ran ::: a
		one_line
		[[ "$output" == "pool: --retry-delay $d: "* ]]
	done
	[ ! -e ran ]
}

@test "--pipe --retry-delay feeds the same block again, also one still being read from a pipe" {
	seq 1000 >in
	# Each block's first attempt fails after reading it; the retry sees it
	# again whole, while other blocks go to the slot.
	run -0 pool --pipe --block 1K -k -j2 --retries 1 --retry-delay 10ms sh -c \
	    'f=tried.$POOL_SEQ; d=$(cat); [ -e $f ] || { : >$f; exit 1; }; printf "%s\n" "$d"' <in
	[ "$output" = "$(cat in)" ]
	rm -f tried.*
	run -0 sh -c 'cat in | pool --pipe --block 1K -k -j2 --retries 1 --retry-delay 10ms sh -c \
	    '\''f=tried.$POOL_SEQ; d=$(cat); [ -e $f ] || { : >$f; exit 1; }; printf "%s\n" "$d"'\'
	[ "$output" = "$(cat in)" ]
	# A first attempt that fails before reading anything, from a pipe:
	# the retry gets the whole block.
	seq 300000 >in
	run -0 sh -c 'cat in | pool --pipe --block 4M --retries 1 --retry-delay 10ms sh -c \
	    '\''[ -e tried ] || { : >tried; exit 1; }; wc -l'\'
	[ "$output" = 300000 ]
}

# ------------------------------------------------------------ memfree

# POOL_MEMINFO names the file read instead of /proc/meminfo, POOL_CGROUP
# the cgroup v2 directory instead of pool's own.
mem_file() { # mem_file KB: MemAvailable is KB
	printf 'MemTotal:       8000000 kB\nMemFree:          100 kB\nMemAvailable: %8d kB\n' "$1" >mi.new
	mv mi.new mi
}

@test "--memfree: while less is available one job runs at a time, and the run ends" {
	mem_file 80000     # 78M: below 100M, above half of it
	seq 4 >in
	POOL_MEMINFO=mi run -0 pool -j4 --memfree 100M -a in sh -c '
		echo "start $1" >>log; sleep 0.1; echo "end $1" >>log' _
	[ "$(awk '{ print $1 }' log | paste -sd ' ')" = "start end start end start end start end" ]
}

@test "--memfree: --bar says that jobs are held back, and why" {
	command -v script >/dev/null || skip "script(1) is not installed"
	mem_file 80000
	seq 3 >in
	run -0 script -qec "POOL_MEMINFO=mi pool --bar -j3 --memfree 100M -a in true" /dev/null
	[[ "$output" == *"pool: 0/3 done, 0 failed, 0.0/s, held back by --memfree 100M: 78.1M available"* ]]
	[[ "$output" == *"pool: 3/3 done, 0 failed"* ]]
}

@test "--memfree: the last running job is never stopped, however low memory is" {
	mem_file 1
	POOL_MEMINFO=mi run -0 --separate-stderr pool -j2 --memfree 1G --joblog log sh -c \
	    'echo "$1" >>ran; sleep 0.3' _ ::: a b
	[ -z "$stderr" ]
	[ "$(sort ran | paste -sd ' ')" = "a b" ]
	[ "$(tail -n +2 log | cut -f 7,8 | sort -u)" = "$(printf '0\t0')" ]
}

# listed PATTERN: SIGURG has made pool ($pid) list a line matching
# PATTERN in err (a new listing is asked for each time).
listed() {
	local n
	n=$(grep -c '^pool: job 1 slot' err || :)
	kill -URG "$pid"
	wait_for more_listings "$n"
	grep -q "$1" err
}
more_listings() {
	[ "$(grep -c '^pool: job 1 slot' err)" -gt "$1" ]
}
started_twice() { # started_twice N: job N has started twice
	[ "$(grep -c "^start $1\$" log)" -eq 2 ]
}

@test "--memfree: below half of SIZE the youngest job is stopped and put back, runs again once memory allows, and the run succeeds" {
	mem_file 1000000
	cat >job <<-'EOF2'
	#!/bin/sh
	echo "start $1" >>log
	[ -e "term.$1" ] || trap 'echo "term $1" >>log; : >"term.$1"; exit 143' TERM
	while [ ! -e go ]; do sleep 0.01; done
	EOF2
	chmod +x job
	touch err
	POOL_MEMINFO=mi bg pool -j2 --memfree 100M --joblog jl ./job ::: 1 2 2>>err
	pid=$!
	wait_for grep -qx 'start 2' log
	wait_for grep -qx 'start 1' log
	mem_file 40000     # below half of 100M
	# Job 2, the youngest, is stopped; job 1 runs on.
	wait_for grep -qx 'term 2' log
	grep -qx 'pool: job 2: stopped, as the memory available is below half of --memfree; it runs again later' err
	# Put back, it waits while memory is short: SIGURG says so.
	wait_for listed '^pool: held back by --memfree 100M: 39.1M available$'
	grep -q '^pool: job 2 waits 0.000s to run again: ./job 2$' err
	[ "$(grep -c 'start 2' log)" -eq 1 ]
	[ ! -e term.1 ]
	mem_file 1000000
	wait_for started_twice 2
	touch go
	wait_status "$pid" 0
	# One joblog line each, both successes; the stop is no failure.
	[ "$(tail -n +2 jl | cut -f 1,7,8 | sort | paste -sd ' ')" = "$(printf '1\t0\t0 2\t0\t0')" ]
}

@test "--memfree: the room left under a cgroup v2 memory.max counts when it is smaller" {
	mem_file 1000000
	mkdir cg
	echo $((200 << 20)) >cg/memory.max
	echo $((150 << 20)) >cg/memory.current
	printf '%s\n' 1 2 >in
	mkfifo go
	touch err
	POOL_MEMINFO=mi POOL_CGROUP=$PWD/cg bg pool -j2 --memfree 100M -a in sh -c '
		[ "$1" = 2 ] && exit 0; touch started; read -r x <go' _ 2>>err
	pid=$!
	wait_for [ -e started ]
	wait_for listed 'held back'
	grep -qx 'pool: held back by --memfree 100M: 50.0M available' err
	echo >go
	wait_status "$pid" 0
	# "max" is no limit.
	echo max >cg/memory.max
	POOL_MEMINFO=mi POOL_CGROUP=$PWD/cg run -0 --separate-stderr pool -j2 --memfree 100M true ::: a b
	[ -z "$stderr" ]
}

test_teardown() {
	if [ -n "${CG:-}" ] && [ -d "$CG" ]; then
		wait_for rmdir "$CG" || true
	fi
}

@test "--memfree: pool in a real cgroup v2 with memory.max sees the room left there" {
	local root=/sys/fs/cgroup
	[ "$(id -u)" = 0 ] || skip "cgroup v2: not root"
	[ -f $root/cgroup.controllers ] || skip "cgroup v2 is not mounted on $root"
	grep -qw memory $root/cgroup.subtree_control 2>/dev/null ||
	    echo +memory >$root/cgroup.subtree_control 2>/dev/null ||
	    skip "cgroup v2: the memory controller cannot be enabled"
	CG=$root/concutils-test-$$-$BATS_TEST_NUMBER
	mkdir "$CG" 2>/dev/null || skip "cgroup v2 is not writable"
	echo $((300 << 20)) >"$CG/memory.max" || skip "cgroup v2: memory.max is not writable"
	printf '%s\n' 1 2 >in
	mkfifo go
	touch err
	bg sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$CG" pool -j2 --memfree 1G -a in \
	    sh -c '[ "$1" = 2 ] && exit 0; touch started; read -r x <go' _ 2>>err
	pid=$!
	wait_for [ -e started ]
	wait_for listed 'held back'
	m=$(sed -n 's/^pool: held back by --memfree 1G: \([0-9.]*\)M available$/\1/p' err | tail -n 1)
	[ -n "$m" ]
	awk -v m="$m" 'BEGIN { exit !(m <= 300) }'
	echo >go
	wait_status "$pid" 0
}

@test "--memfree: bad sizes are status 125 with one line and start no job; unreadable memory is a warning" {
	for m in x -1 0 1Q ''; do
		run -125 pool --memfree "$m" touch ran ::: a
		one_line
		[[ "$output" == "pool: --memfree $m: "* ]]
	done
	[ ! -e ran ]
	POOL_MEMINFO=nosuchfile POOL_CGROUP=nosuchdir run -0 --separate-stderr pool -j2 --memfree 1G true ::: a b c
	[ "$stderr" = "pool: warning: --memfree: cannot read the memory available from nosuchfile; going on without --memfree" ]
}

# ------------------------------------------------------------ job control

# pstate PID: the state letter of PID (T: stopped).
pstate() {
	awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat"
}
# stopped PID...: PID is stopped, and so is the process group each of
# them leads: every member is stopped (T), or waits in vfork (D) for a
# child that was stopped before it could exec (dash runs commands so).
stopped() {
	local p
	for p in "$@"; do
		[ "$(pstate "$p")" = T ] && continue
		ps -eo pgid=,stat= | awk -v g="$p" '$1 == g { n++; t += $2 ~ /^T/
			if ($2 !~ /^[TD]/) bad = 1 } END { exit !(t > 0 && !bad) }' || return 1
	done
}
running() { # running PID...: no PID is stopped
	local p
	for p in "$@"; do [ "$(pstate "$p")" != T ] || return 1; done
}

@test "SIGTSTP (^Z) stops every job with pool; SIGCONT (fg) continues them, and the run ends well" {
	bg pool -j2 sh -c 'echo $$ >"pid.$1"; while [ ! -e go ]; do sleep 0.01; done' _ ::: 1 2
	pid=$!
	wait_for [ -s pid.1 ]
	wait_for [ -s pid.2 ]
	kill -TSTP "$pid"
	wait_for stopped "$pid" "$(cat pid.1)" "$(cat pid.2)"
	kill -CONT "$pid"
	wait_for running "$pid" "$(cat pid.1)" "$(cat pid.2)"
	touch go
	wait_status "$pid" 0
}

@test "SIGTSTP: the time pool is stopped does not count towards --timeout" {
	bg pool --timeout 4s sh -c 'echo $$ >pid; while [ ! -e go ]; do sleep 0.01; done' _ ::: 1
	pid=$!
	wait_for [ -s pid ]
	kill -TSTP "$pid"
	wait_for stopped "$pid" "$(cat pid)"
	# Stopped for longer than the timeout: not an ordering of events,
	# the condition under test.
	sleep 5
	kill -CONT "$pid"
	touch go
	wait_status "$pid" 0
}

@test "^Z on a real terminal stops pool and its jobs; fg continues them" {
	command -v script >/dev/null || skip "script(1) is not installed"
	cat >job <<-'EOF2'
	#!/bin/sh
	echo $$ >"pid.$1"
	while [ ! -e go ]; do sleep 0.01; done
	EOF2
	chmod +x job
	# The keystrokes for an interactive shell on script's terminal, each
	# once the state it needs is reached.
	cat >drive <<-'EOF2'
	#!/bin/sh
	# The job's group is stopped: every member stopped (T), waiting in
	# vfork (D) for a child stopped before its exec, or a zombie (Z: a
	# sleep that ended just before its stopped shell could reap it).
	st() { ps -eo pgid=,stat= | awk -v g="$(cat "$1")" '$1 == g { n++
		t += $2 ~ /^T/; if ($2 !~ /^[TDZ]/) bad = 1 }
		END { print ((t > 0 && !bad) ? "T" : "-") }'; }
	printf 'pool -j2 ./job ::: 1 2\n'
	until [ -s pid.1 ] && [ -s pid.2 ]; do sleep 0.01; done
	printf '\032'
	until [ "$(st pid.1)" = T ] && [ "$(st pid.2)" = T ]; do sleep 0.01; done
	echo stopped >state
	printf 'touch go; fg; echo "status $?" >status\n'
	until [ -s status ]; do sleep 0.01; done
	printf 'exit\n'
	EOF2
	chmod +x drive
	run -0 timeout 120 sh -c './drive | script -qec "bash --norc --noprofile -i" /dev/null'
	[ "$(cat state)" = stopped ]
	[ "$(cat status)" = "status 0" ]
}
