#!/bin/bash
# bench/slurm.sh: the cost of a job run as a Slurm job step, on a real
# two-node cluster on this machine (test/slurm.sh), inside one allocation
# of 2 nodes with 2 CPUs each.
#
# Contenders, N jobs of "true" each:
#   srun loop     a shell loop of "srun -Q --exact -N1 -n1 true", one step
#                 after the other: the limit for one slot
#   pool 1        seq N | pool --slurm -j 1 true
#   parallel 1    seq N | parallel -j 1 srun --exclusive -N1 -n1 true
#                 (GNU parallel's documented way to drive srun)
# and the same with the allocation's 4 slots (pool --slurm, parallel -j 4).
# Contenders alternate round by round; the table shows the median per-job
# cost and the ratio to the srun loop. BENCH_QUICK=1 makes a short run.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init slurm

if [ "$QUICK" = 1 ]; then
	jobs=8 rounds=1
else
	jobs=24 rounds=3
fi
gnu_parallel
# shellcheck source=test/slurm.sh
. test/slurm.sh
if [ -n "$(slurm_missing)" ]; then
	apt_install slurmctld slurmd slurm-client munge
fi
stop_slurm() {
	# The allocation ends first: salloc ends with it.
	[ -n "${SLURM_JOB_ID:-}" ] && scancel "$SLURM_JOB_ID" 2>/dev/null
	[ -s "$work/holder" ] && kill "$(cat "$work/holder")" 2>/dev/null
	slurm_stop "$work/s"
	bench_cleanup
}
trap stop_slurm EXIT
if ! slurm_start "$work/s"; then
	note "slurm: skipped: cannot start Slurm: $(cat "$work/s/why" 2>/dev/null)"
	table_end
	exit 0
fi
export SLURM_CONF=$work/s/slurm.conf
# One allocation for every contender: its variables are taken over here.
salloc -Q -N 2 --ntasks-per-node=2 sh -c "echo \$\$ >'$work/holder'; env | grep '^SLURM_' >'$work/env'; exec sleep 100000" 3>&- &
bench_bg_pid $!
for _ in $(seq 600); do
	[ -s "$work/env" ] && break
	sleep 0.1
done
while IFS= read -r v; do
	export "${v?}"
done <"$work/env"

run_loop() {
	local i
	for ((i = 0; i < jobs; i++)); do
		srun -Q --exact -N1 -n1 true </dev/null || return 1
	done
}
run_pool1() { seq "$jobs" | bin/pool --slurm -j 1 true; }
run_pool4() { seq "$jobs" | bin/pool --slurm true; }
run_par1() { seq "$jobs" | "$GNU_PARALLEL" -j 1 srun --exclusive -N1 -n1 true; }
run_par4() { seq "$jobs" | "$GNU_PARALLEL" -j 4 srun --exclusive -N1 -n1 true; }

names=(loop pool1 pool4)
[ -n "$GNU_PARALLEL" ] && names+=(par1 par4)
label() {
	case $1 in
	loop) echo "srun loop, 1 slot (limit)" ;;
	pool1) echo "pool --slurm -j 1" ;;
	pool4) echo "pool --slurm (4 slots)" ;;
	par1) echo "GNU parallel -j 1 srun --exclusive -N1 -n1" ;;
	par4) echo "GNU parallel -j 4 srun --exclusive -N1 -n1" ;;
	esac
}
say "slurm: $jobs jobs of true, $rounds round(s)"
alternate "$rounds" slurm "${names[@]}"
table_start "Slurm job steps: $jobs jobs of \`true\` in an allocation of 2 nodes x 2 CPUs (two slurmd on 127.0.0.1), $CORES cores; median of $rounds alternating round(s)" \
    "contender" "per job" "time over the srun loop's"
for n in "${names[@]}"; do
	table_row "$(label "$n")" "$(fmt_us "$(calc "$(med slurm "$n") / $jobs")")" \
	    "$(fmt_x "$(ratio_med slurm "$n" loop)")"
done
table_end
if [ -n "$GNU_PARALLEL" ]; then
	headline pool "$jobs \`true\` jobs as Slurm steps, 4 slots" \
	    "$(fmt_us "$(calc "$(med slurm pool4) / $jobs")")/job" \
	    "GNU parallel -j 4 srun --exclusive" \
	    "$(calc "$(med slurm pool4) / $(med slurm par4)" %.3f)" \
	    "a bare srun loop (1 slot)" "$(ratio_med slurm pool4 loop)"
fi
