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

@test "--load N%: a percentage of the CPUs; SIGUSR1 says why jobs are held back" {
	n=$(( $(nproc) / 2 ))
	[ "$n" -ge 1 ] || n=1
	load_file $((n + 5)) la
	printf '%s\n' 1 2 >in
	mkfifo go
	POOL_LOADAVG=la bg pool -j2 --load 50% -a in sh -c '
		[ "$1" = 2 ] && exit 0; touch started; read -r x <go' _ 2>err
	pid=$!
	wait_for [ -e started ]
	kill -USR1 "$pid"
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
