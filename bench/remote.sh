#!/bin/bash
# bench/remote.sh: the cost of a remote job, against the physical limit and
# GNU parallel, on two sshd "hosts" on 127.0.0.1 (test/sshd.sh).
#
# Contenders, one job slot on one host, N remote jobs of "true" each:
#   ssh -S loop   a shell loop of "ssh -S SOCKET h1 true" over an open
#                 master connection: one channel open per job, the limit
#   pool -S       seq N | pool -S 1/h1 true (includes its one handshake)
#   parallel -S   seq N | parallel -S 1/h1 --controlmaster true
# and the same with 2 slots on each of 2 hosts (pool and GNU parallel).
# Contenders alternate round by round (A B C A B C ...); the table shows
# the median per-job cost and the ratio to the ssh -S loop.
#
# BENCH_QUICK=1 makes a short run. A benchmark, not a test.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	jobs=20 rounds=1
else
	jobs=40 rounds=2
fi
[ -x bin/pool ] || make -s bin/pool || exit 1
tmp=$(mktemp -d) || exit 1
# shellcheck source=test/sshd.sh
. test/sshd.sh
cleanup() {
	[ -S "$tmp/ctl" ] && ssh -F "$tmp/s/ssh_config" -S "$tmp/ctl" -O exit h1 2>/dev/null
	sshd_stop "$tmp/s"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! sshd_start "$tmp/s" 2; then
	echo "remote: skipped: cannot start sshd: $(cat "$tmp/s/why" 2>/dev/null)"
	exit 0
fi
cfg=$tmp/s/ssh_config
export CONC_SSH="ssh -F $cfg"
have_parallel=0
if parallel --version 2>/dev/null | grep -q GNU; then
	have_parallel=1
fi

ssh -F "$cfg" -o ControlMaster=yes -o ControlPersist=600 -S "$tmp/ctl" h1 true ||
    exit 1

ms() { date +%s%N; }
run_loop() {
	local i
	for ((i = 0; i < jobs; i++)); do
		ssh -F "$cfg" -S "$tmp/ctl" -o ControlMaster=no h1 true </dev/null
	done
}
run_pool1() { seq "$jobs" | bin/pool -S 1/h1 true; }
run_par1() { seq "$jobs" | PARALLEL_SSH="ssh -F $cfg" parallel -S 1/h1 --controlmaster true; }
run_pool4() { seq "$jobs" | bin/pool -S 2/h1,2/h2 true; }
run_par4() { seq "$jobs" | PARALLEL_SSH="ssh -F $cfg" parallel -S 2/h1,2/h2 --controlmaster true; }

names=(loop pool1 pool4)
[ "$have_parallel" = 1 ] && names+=(par1 par4)
declare -A t
for ((r = 0; r < rounds; r++)); do
	for n in "${names[@]}"; do
		s=$(ms)
		"run_$n" >/dev/null 2>&1
		e=$(ms)
		t[$n]="${t[$n]:-} $(((e - s) / 1000))"
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
label() {
	case $1 in
	loop) echo "ssh -S loop, 1 slot" ;;
	pool1) echo "pool -S 1/h1" ;;
	par1) echo "parallel -S 1/h1 -M" ;;
	pool4) echo "pool -S 2/h1,2/h2" ;;
	par4) echo "parallel -S 2/h1,2/h2 -M" ;;
	esac
}
base=$(echo "${t[loop]}" | median)
echo "remote: $jobs jobs of true, median of $rounds round(s), $(nproc) cores"
printf '%-28s %12s %8s\n' contender "ms/job" ratio
for n in "${names[@]}"; do
	m=$(echo "${t[$n]}" | median)
	awk -v n="$(label "$n")" -v m="$m" -v b="$base" -v j="$jobs" \
	    'BEGIN { printf "%-28s %12.2f %8.2f\n", n, m / j / 1000, m / b }'
done
[ "$have_parallel" = 1 ] || echo "(GNU parallel is not installed: its rows are missing)"
