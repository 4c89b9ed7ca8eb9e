#!/usr/bin/env bats
# Job bodies are shell snippets in single quotes, expanded by the job.
# shellcheck disable=SC2016
# pool(1): the number of slots changes while pool runs: SIGUSR1, SIGUSR2,
# -j FILE; SIGURG's listing says how many there are.

load helper

# gated N: items 1..N in "in", and a FIFO gN for each: job N touches s.N,
# then waits until the test writes a line to gN (release N).
gated() {
	seq "$1" >in
	for i in $(seq "$1"); do mkfifo "g$i"; done
}
JOB='touch s.$1; read -r x <g$1'
# A write that finds no reader within 30 s (pool gone before the job
# opened its gate) fails the test instead of hanging it.
release() {
	local i
	for i in "$@"; do
		timeout 30 sh -c 'echo >"$1"' _ "g$i" || return 1
	done
}

# listing: make pool ($pid) list its slots and jobs (SIGURG) and wait for
# the listing; $list is then that listing and what came after it in err.
listings() {
	grep -c '^pool: [0-9]* slots*, [0-9]* in use$' err || :
}
more_listings() {
	[ "$(listings)" -gt "$1" ]
}
listing() {
	local n
	n=$(listings)
	kill -URG "$pid"
	wait_for more_listings "$n"
	list=$(awk -v n="$n" '/^pool: [0-9]+ slots?, [0-9]+ in use$/ { k++ } k > n' err)
}

# logged N: the joblog has job N's line (pool has seen it end).
logged() {
	tail -n +2 log | cut -f 1 | grep -qx "$1"
}

# warnings: the lines of err that are not SIGURG's listing.
warnings() {
	grep -v -e '^pool: [0-9]* slots*, ' -e '^pool: job ' err || :
}

@test "SIGUSR1 adds a slot while the run goes on: -j 1 becomes 2, then 3 jobs at once" {
	gated 5
	bg pool -j 1 -a in sh -c "$JOB" _ 2>err
	pid=$!
	wait_for [ -e s.1 ]
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 1 slot, 1 in use" ]
	[ ! -e s.2 ]
	kill -USR1 "$pid"
	wait_for [ -e s.2 ]     # job 1 still waits: two at once
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 2 slots, 2 in use" ]
	[[ "$list" != *"pool: job 3 "* ]]
	kill -USR1 "$pid"
	wait_for [ -e s.3 ]
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 3 slots, 3 in use" ]
	[[ "$list" == *"pool: job 3 slot 3 "* ]]
	release 1
	wait_for [ -e s.4 ]
	release 2 3 4
	wait_for [ -e s.5 ]
	release 5
	wait_status "$pid" 0
	[ -z "$(warnings)" ]
}

@test "SIGUSR1 at -j 2: the jobserver pool offers its jobs gets one more token, and three run at once" {
	gated 3
	bg pool -j 2 -a in sh -c "$JOB" _ 2>err
	pid=$!
	wait_for [ -e s.1 -a -e s.2 ]
	kill -USR1 "$pid"
	wait_for [ -e s.3 ]
	release 1 2 3
	wait_status "$pid" 0
	[ -z "$(warnings)" ]
}

@test "SIGUSR2 removes a slot as jobs end: no running job is stopped, and never below 1" {
	gated 5
	bg pool -j 2 --joblog log -a in sh -c "$JOB" _ 2>err
	pid=$!
	wait_for [ -e s.1 -a -e s.2 ]
	kill -USR2 "$pid"
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 1 slot, 2 in use" ]
	[[ "$list" == *"pool: job 1 "* && "$list" == *"pool: job 2 "* ]]
	# Job 1 ends: with one slot, and job 2 running, job 3 waits.
	release 1
	wait_for logged 1
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 1 slot, 1 in use" ]
	[[ "$list" != *"pool: job 3 "* ]]
	[ ! -e s.3 ]
	release 2
	wait_for [ -e s.3 ]
	# At 1, SIGUSR2 leaves 1.
	kill -USR2 "$pid"
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 1 slot, 1 in use" ]
	release 3
	wait_for [ -e s.4 ]
	release 4
	wait_for [ -e s.5 ]
	release 5
	wait_status "$pid" 0
	[ "$(tail -n +2 log | cut -f 7 | sort -u)" = 0 ]
	[ -z "$(warnings)" ]
}

@test "-j FILE: the number of slots is read again when a job ends; an empty FILE keeps it silently" {
	gated 5
	echo 1 >jf
	bg pool -j jf --joblog log -a in sh -c "$JOB" _ 2>err
	pid=$!
	wait_for [ -e s.1 ]
	echo 3 >jf.new && mv jf.new jf
	release 1
	wait_for [ -e s.2 -a -e s.3 -a -e s.4 ]
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 3 slots, 3 in use" ]
	# Blanks around the count are fine. Two slots: job 5 starts once
	# jobs 2 and 3 have ended.
	printf ' 2 \n' >jf.new && mv jf.new jf
	release 2 3
	wait_for [ -e s.5 ]
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 2 slots, 2 in use" ]
	# Empty, as while it is being written: no warning, still 2.
	: >jf
	release 4
	wait_for logged 4
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 2 slots, 1 in use" ]
	release 5
	wait_status "$pid" 0
	[ -z "$(warnings)" ]
}

@test "-j FILE holding garbage, or gone, keeps the last count and warns once until it holds a count again" {
	gated 7
	echo 2 >jf
	bg pool -j jf --joblog log -a in sh -c "$JOB" _ 2>err
	pid=$!
	wait_for [ -e s.1 -a -e s.2 ]
	echo lots >jf.new && mv jf.new jf
	release 1
	wait_for [ -e s.3 ]
	[ "$(warnings)" = "pool: -j jf: it holds no count of jobs (N, N% or 0); still 2 jobs at once" ]
	rm jf
	release 2
	wait_for [ -e s.4 ]
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 2 slots, 2 in use" ]
	[ "$(warnings | wc -l)" -eq 1 ]
	echo 3 >jf.new && mv jf.new jf
	release 3
	wait_for [ -e s.5 -a -e s.6 ]
	rm jf
	release 4
	wait_for [ -e s.7 ]
	[ "$(warnings | wc -l)" -eq 2 ]
	[ "$(warnings | tail -n 1)" = "pool: -j jf: No such file or directory; still 3 jobs at once" ]
	release 5 6 7
	wait_status "$pid" 0
}

@test "-j FILE unreadable or not a count at start: status 125 with one line, and no job starts" {
	for v in x '' ' ' 1.5 0% 40000 -3 2x; do
		printf '%s' "$v" >jf
		run -125 pool -j jf touch ran ::: a
		one_line
		[[ "$output" == "pool: -j jf: "* ]]
	done
	mkdir d
	run -125 pool -j d touch ran ::: a
	one_line
	[ "$output" = "pool: -j d: Is a directory" ]
	run -125 pool -j nosuch touch ran ::: a
	one_line
	[ "$output" = "pool: -j nosuch: not a number" ]
	[ ! -e ran ]
}

@test "-j N is a count even when a file N exists; -j ./N names the file" {
	echo x >./4
	run -0 pool -j 4 true ::: a
	run -125 pool -j ./4 true ::: a
	one_line
	echo 2 >./4
	run -0 pool -j ./4 echo ::: a
	[ "$output" = a ]
}

@test "-j FILE cannot be combined with -S or --slurm: status 125" {
	echo 2 >jf
	run -125 pool -j jf -S 1/: touch ran ::: a
	one_line
	[[ "$output" == "pool: -j FILE cannot be combined with -S"* ]]
	run -125 pool --slurm -j jf touch ran ::: a
	one_line
	[[ "$output" == "pool: -j FILE cannot be combined with -S"* ]]
	[ ! -e ran ]
}

@test "slots beyond what the open files allow are capped with one warning: -j FILE" {
	seq 4 >in
	mkfifo g1
	echo 1 >jf
	bg sh -c 'ulimit -n 40 && exec pool -j jf -a in sh -c \
	    "touch s.\$1; [ \$1 != 1 ] || read -r x <g1" _' 2>err
	pid=$!
	wait_for [ -e s.1 ]
	echo 1000 >jf.new && mv jf.new jf
	release 1
	wait_status "$pid" 0
	run -0 warnings
	one_line
	[[ "$output" =~ ^"pool: -j jf: only enough open files for "[0-9]+" jobs at once (ulimit -n is 40)"$ ]]
}

@test "slots beyond what the open files allow are capped with one warning: SIGUSR1" {
	gated 1
	bg sh -c 'ulimit -n 40 && exec pool -j 1000 -a in sh -c "$0" _' "$JOB" 2>err
	pid=$!
	wait_for [ -e s.1 ]
	n=$(sed -n 's/^pool: -j 1000: only enough open files for \([0-9]*\) jobs* at once (ulimit -n is 40)$/\1/p' err)
	[ "$n" -ge 1 ]
	kill -USR1 "$pid"
	listing
	kill -USR1 "$pid"
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: $n slot$([ "$n" = 1 ] || echo s), 1 in use" ]
	release 1
	wait_status "$pid" 0
	run -0 warnings
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == "pool: SIGUSR1: only enough open files for $n job"*" at once (ulimit -n is 40)" ]]
}

@test "SIGUSR1 and SIGUSR2 with -S: refused with a warning, the hosts' slots stay" {
	gated 2
	bg pool -S 1/: -a in sh -c "$JOB" _ 2>err
	pid=$!
	wait_for [ -e s.1 ]
	kill -USR1 "$pid"
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 1 slot, 1 in use" ]
	kill -USR2 "$pid"
	listing
	release 1
	wait_for [ -e s.2 ]
	release 2
	wait_status "$pid" 0
	[ "$(warnings)" = "$(printf '%s\n' \
	    "pool: SIGUSR1: the number of slots cannot change with -S or --slurm (ignored)" \
	    "pool: SIGUSR2: the number of slots cannot change with -S or --slurm (ignored)")" ]
}

@test "the jobserver pool offers its jobs follows the slots: SIGUSR2 takes tokens out, SIGUSR1 puts one in" {
	# The outer pool's one job waits for 'go', then runs an inner pool,
	# a client of the outer's jobserver, whose jobs wait on FIFOs.
	gated 3
	mkfifo go
	cat >inner <<-'EOF2'
	#!/bin/sh
	touch ready
	read -r x <go
	echo $$ >inner.pid
	exec pool -j 8 -a in sh -c 'touch s.$1; read -r x <g$1' _ 2>inner.err
	EOF2
	chmod +x inner
	bg pool -j 3 ./inner ::: x 2>err
	pid=$!
	wait_for [ -e ready ]
	# Its two free tokens leave the pipe at once. (Two signals sent at
	# once may count once.)
	kill -USR2 "$pid"
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 2 slots, 1 in use" ]
	kill -USR2 "$pid"
	listing
	[ "$(head -n 1 <<<"$list")" = "pool: 1 slot, 1 in use" ]
	echo >go
	wait_for [ -e s.1 ]
	# The inner pool has found no token for job 2.
	n=$(grep -c '^pool: 8 slots' inner.err || :)
	kill -URG "$(cat inner.pid)"
	wait_for eval '[ "$(grep -c "^pool: 8 slots" inner.err)" -gt "$n" ]'
	grep -qx 'pool: 8 slots, 1 in use' inner.err
	[ ! -e s.2 ]
	kill -USR1 "$pid"
	wait_for [ -e s.2 ]
	release 1 2
	wait_for [ -e s.3 ]
	release 3
	wait_status "$pid" 0
	[ -z "$(warnings)" ]
}
