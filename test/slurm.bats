#!/usr/bin/env bats
# Job bodies are shell snippets in single quotes, expanded by the job.
# shellcheck disable=SC2016,SC1091
# pool --slurm on a real two-node Slurm cluster (test/slurm.sh): nodes n1
# and n2 of 4 CPUs each, brought up once for the file. The node failure
# tests kill n2; its slurmd is started again after each.

load helper

setup_file() {
	SLURM_DIR="$BATS_FILE_TMPDIR/slurm"
	export SLURM_DIR
	. "$BATS_TEST_DIRNAME/slurm.sh"
	slurm_start "$SLURM_DIR"
	case $? in
	0) ;;
	2) echo skip >"$SLURM_DIR/skip" ;;
	*) echo fail >"$SLURM_DIR/skip" ;;
	esac
}

teardown_file() {
	. "$BATS_TEST_DIRNAME/slurm.sh"
	slurm_stop "$SLURM_DIR"
}

test_setup() {
	if [ -f "$SLURM_DIR/skip" ]; then
		if [ "$(cat "$SLURM_DIR/skip")" = skip ]; then
			skip "$(cat "$SLURM_DIR/why")"
		fi
		cat "$SLURM_DIR/why" "$SLURM_DIR"/*.log >&2
		return 1
	fi
	. "$BATS_TEST_DIRNAME/slurm.sh"
	SLURM_CONF="$SLURM_DIR/slurm.conf"
	PATH="$PATH:/usr/sbin"
	export SLURM_CONF PATH
}

# Whatever a failed test left running ends with its allocation; a node
# a test made fail comes back (its slurmd registers again).
test_teardown() {
	local j
	[ ! -f "$SLURM_DIR/skip" ] || return 0
	for j in $(squeue -h -o %i 2>/dev/null); do
		scancel "$j"
	done
	if gone "$(slurm_slurmd_pid "$SLURM_DIR" n2)" 2>/dev/null; then
		slurm_slurmd "$SLURM_DIR" n2 && slurm_idle "$SLURM_DIR"
	fi
}

# fail_node NODE: NODE dies: its slurmd, and the slurmstepd and the job of
# each step, from the "PID PPID" the jobs wrote to run.*.NODE; Slurm is
# told it is down (as a health check would, rather than after
# SlurmdTimeout).
fail_node() {
	local f p s
	kill -9 "$(slurm_slurmd_pid "$SLURM_DIR" "$1")"
	for f in run.*."$1"; do
		read -r p s <"$f"
		kill -9 "$s" "$p"
	done
	scontrol update nodename="$1" state=down reason=test
}

# alloc ARGS... CMD...: run CMD in a new allocation (salloc).
alloc() {
	salloc -Q --no-kill "$@"
}

# no_steps: no job step is left in the cluster.
no_steps() {
	[ -z "$(squeue -h --steps -o %i)" ]
}

# all_gone FILE...: the process whose pid is the first word of each FILE
# has exited.
all_gone() {
	local f p
	for f in "$@"; do
		read -r p _ <"$f" || return 1
		gone "$p" || return 1
	done
}

count() { # GLOB-PREFIX N: N files start with the prefix
	local n
	n=$(find . -maxdepth 1 -name "$1*" | wc -l)
	[ "$n" -ge "$2" ]
}

@test "pool --slurm outside an allocation: 125 and one line" {
	run -125 env -u SLURM_JOB_ID pool --slurm true </dev/null
	one_line
	[[ $output == *"run pool in salloc or sbatch"* ]]
}

@test "--transfer, -S and -u are refused with --slurm; --slurm-cpus needs --slurm" {
	run -125 pool --slurm --transfer true </dev/null
	one_line
	run -125 pool --slurm -S h1 true </dev/null
	one_line
	run -125 pool --slurm -u true </dev/null
	one_line
	run -125 pool --slurm-cpus 2 true </dev/null
	one_line
}

@test "jobs land on both nodes: the joblog's Host is the node the job saw (SLURMD_NODENAME)" {
	# Four jobs that all wait for each other run at once on 2+2 slots.
	seq 4 | alloc -N 2 --ntasks-per-node=2 pool --slurm --joblog jl sh -c '
		echo "$SLURMD_NODENAME" >"seen.$1"
		n=0; while [ "$(ls seen.* | wc -l)" -lt 4 ] && [ $n -lt 600 ]; do
			sleep 0.1; n=$((n + 1)); done' sh
	count seen. 4
	for i in 1 2 3 4; do
		host=$(awk -F'\t' -v s="$i" '$1 == s { print $2 }' jl)
		[ "$host" = "$(cat "seen.$i")" ]
	done
	[ "$(cut -f2 jl | grep -c '^n1$')" -eq 2 ]
	[ "$(cut -f2 jl | grep -c '^n2$')" -eq 2 ]
	no_steps
}

@test "-k keeps input order, --tag names node and item, replacement strings and POOL_SEQ" {
	run -0 alloc -N 2 --ntasks-per-node=2 pool --slurm -k --tag sh -c 'echo "{} {#} $POOL_SEQ"; echo err >&2' sh <<<"$(seq 8)"
	[ "${#lines[@]}" -eq 16 ]
	[ "$(printf '%s\n' "${lines[@]}" | grep -v err | cut -f3 | tr '\n' ' ')" = "1 1 1 2 2 2 3 3 3 4 4 4 5 5 5 6 6 6 7 7 7 8 8 8 " ]
	printf '%s\n' "${lines[@]}" | grep -q '^n[12]	1	err$'
}

@test "a failing job: its status counts, --retries runs it again" {
	run -2 alloc -n 2 pool --slurm sh -c 'exit $(($1 % 2))' sh <<<"$(seq 4)"
	run -0 alloc -n 2 pool --slurm --retries 1 sh -c '[ -e "t.$1" ] || { : >"t.$1"; exit 3; }' sh <<<"$(seq 2)"
}

@test "salloc -n 3 runs 3 jobs at a time (a shared counter), -j caps it" {
	# Each job counts itself in and waits until 3 have been counted (or
	# every job has started): 3 must run at once, and {%} never passes 3.
	seq 6 | alloc -n 3 pool --slurm sh -c '
		flock c sh -c "echo x >>c"
		echo "$POOL_SLOT" >>slots
		n=0; while [ "$(wc -l <c)" -lt 3 ] && [ $n -lt 600 ]; do
			sleep 0.1; n=$((n + 1)); done
		[ "$(wc -l <c)" -ge 3 ]' sh
	[ "$(wc -l <c)" -eq 6 ]
	[ "$(sort -n slots | tail -1)" -eq 3 ]
	rm slots
	run -0 alloc -n 3 pool --slurm -j 2 sh -c 'echo "$POOL_SLOT" >>slots' sh <<<"$(seq 6)"
	[ "$(sort -n slots | tail -1)" -eq 2 ]
	rm slots
	run -0 alloc -N 2 --ntasks-per-node=2 pool --slurm --slurm-cpus 2 sh -c 'echo "$POOL_SLOT $SLURM_CPUS_PER_TASK" >>slots' sh <<<"$(seq 6)"
	[ "$(sort -n slots | tail -1)" = "2 2" ]
}

@test "--resume skips what the joblog holds" {
	run -0 alloc -n 2 pool --slurm --joblog jl sh -c 'echo "$1" >>ran' sh <<<"$(seq 3)"
	run -0 alloc -n 2 pool --slurm --joblog jl --resume sh -c 'echo "$1" >>ran' sh <<<"$(seq 5)"
	[ "$(sort -n ran | tr '\n' ' ')" = "1 2 3 4 5 " ]
}

@test "--timeout cancels the step: status 124 in the joblog, no process and no step left" {
	run -1 alloc -n 1 pool --slurm --timeout 3 --joblog jl sh -c 'echo $$ >pid; exec sleep 1000' sh <<<"x"
	[ "$(awk -F'\t' 'NR == 2 { print $7 }' jl)" -eq 124 ]
	if [ -s pid ]; then
		wait_for all_gone pid
	fi
	wait_for no_steps
}

# run_stopped SIG: pool with two jobs that wait forever, sent SIG once both
# have started.
run_stopped() {
	seq 2 >items
	bg salloc -Q --no-kill -n 2 sh -c 'echo $$ >poolpid; exec pool --slurm -a items sh -c "echo \$\$ >pid.\$1; exec sleep 1000" sh'
	wait_for count pid. 2
	kill "-$1" "$(cat poolpid)"
}

@test "Ctrl-C: every step is cancelled, pool exits 130" {
	run_stopped INT
	st=0
	wait "$(tail -1 "$BATS_TEST_TMPDIR/pids")" || st=$?
	[ "$st" -eq 130 ]
	wait_for all_gone pid.1 pid.2
	wait_for no_steps
}

@test "SIGKILL of pool leaves no step behind" {
	run_stopped KILL
	wait_for all_gone pid.1 pid.2
	wait_for no_steps
}

@test "--halt now,fail=1 cancels the other steps and exits with the failed job's status" {
	run -7 alloc -n 3 pool --slurm --halt now,fail=1 sh -c '
		if [ "$1" = 3 ]; then
			n=0; while [ ! -e pid.1 ] || [ ! -e pid.2 ]; do
				sleep 0.1; n=$((n + 1)); [ $n -lt 600 ] || break; done
			exit 7
		fi
		echo $$ >"pid.$1"; exec sleep 1000' sh <<<"$(seq 5)"
	wait_for all_gone pid.1 pid.2
	wait_for no_steps
}

@test "a node that fails: its jobs run again on the other node and are not counted failed" {
	seq 4 >items
	bg salloc -Q --no-kill -N 2 --ntasks-per-node=2 pool --slurm -a items --joblog jl sh -c '
		echo "$$ $PPID" >"run.$1.$SLURMD_NODENAME"
		n=0; while [ ! -e go ] && [ $n -lt 1200 ]; do
			sleep 0.1; n=$((n + 1)); done
		[ -e go ]' sh 2>err
	wait_for count run. 4
	fail_node n2
	wait_for grep -q 'Node failure on n2' err
	: >go
	st=0
	wait "$(tail -1 "$BATS_TEST_TMPDIR/pids")" || st=$?
	[ "$st" -eq 0 ]
	[ "$(tail -n +2 jl | wc -l)" -eq 4 ]
	[ "$(cut -f2 jl | grep -c '^n1$')" -eq 4 ]
	[ "$(cut -f7 jl | sort -u | tr '\n' ' ')" = "0 Exitval " ]
}

@test "a node that keeps failing is left out after 3 failures in a row" {
	seq 4 >items
	# One slot a node: job 1 holds n1 until the test says go, so job 2,
	# whose node fails under it, can only run again on n2, where srun
	# can no longer create a step: its first failure and two more.
	bg salloc -Q --no-kill -N 2 --ntasks-per-node=1 pool --slurm -a items --joblog jl sh -c '
		echo "$$ $PPID" >"run.$1.$SLURMD_NODENAME"
		n=0; while [ ! -e go ] && [ $n -lt 1200 ]; do
			sleep 0.1; n=$((n + 1)); done
		[ -e go ]' sh 2>err
	wait_for count run. 2
	[ -f run.1.n1 ] && [ -f run.2.n2 ]
	fail_node n2
	wait_for grep -q 'pool: n2: the node failed 3 times in a row; no more jobs go there' err
	: >go
	st=0
	wait "$(tail -1 "$BATS_TEST_TMPDIR/pids")" || st=$?
	[ "$st" -eq 0 ]
	# Three tries on n2, then every job on n1, none counted failed.
	[ "$(grep -c -e '^srun: error: Node failure on n2' \
	    -e '^srun: error: Task launch for ' \
	    -e '^srun: error: Unable to create step ' err)" -eq 3 ]
	[ "$(grep -c '^pool: ' err)" -eq 1 ]
	[ "$(tail -n +2 jl | wc -l)" -eq 4 ]
	[ "$(tail -n +2 jl | cut -f2 | sort -u)" = n1 ]
	[ "$(tail -n +2 jl | cut -f7 | sort -u)" = 0 ]
	[ "$(find . -maxdepth 1 -name 'run.*.n2' | wc -l)" -eq 1 ]
}
