#!/bin/bash
# bench/remote.sh: the cost of a remote job, against the physical limit and
# GNU parallel, on two sshd "hosts" on 127.0.0.1 (test/sshd.sh).
#
# Contenders, one job slot on one host, N remote jobs of "true" each:
#   ssh -S loop   a master connection, then a shell loop of "ssh -S SOCKET
#                 h1 true" over it: one channel open per job, the limit
#   pool -S       seq N | pool -S 1/h1 true
# Each opens one master connection (a handshake: hundreds of ms on a
# loaded machine) and closes it within the time measured, so that the
# ratios compare per-job costs (with the master opened outside, 20 jobs
# of pool would carry that handshake alone at over 10 ms a job).
#   parallel -S   seq N | parallel -S 1/h1 --controlmaster true
# and the same with 2 slots on each of 2 hosts (pool and GNU parallel).
# Contenders alternate round by round (A B C A B C ...); the table shows
# the median per-job cost and the ratio to the ssh -S loop.
# BENCH_QUICK=1 makes a short run.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init remote

if [ "$QUICK" = 1 ]; then
	jobs=20 rounds=1
else
	jobs=40 rounds=2
fi
gnu_parallel
# shellcheck source=test/sshd.sh
. test/sshd.sh
if ! sshd_bin >/dev/null 2>&1 || ! command -v ssh >/dev/null 2>&1; then
	apt_install openssh-server openssh-client
fi
stop_sshd() {
	[ -S "$work/ctl" ] &&
	    ssh -F "$work/s/ssh_config" -S "$work/ctl" -O exit h1 2>/dev/null
	sshd_stop "$work/s"
	bench_cleanup
}
trap stop_sshd EXIT
if ! sshd_start "$work/s" 2; then
	note "remote: skipped: cannot start sshd: $(cat "$work/s/why" 2>/dev/null)"
	table_end
	exit 0
fi
cfg=$work/s/ssh_config
export CONC_SSH="ssh -F $cfg"
ssh -F "$cfg" h1 true </dev/null || exit 1

run_loop() {
	local i
	ssh -F "$cfg" -o ControlMaster=yes -o ControlPersist=600 -S "$work/ctl" h1 true </dev/null ||
	    return 1
	for ((i = 0; i < jobs; i++)); do
		ssh -F "$cfg" -S "$work/ctl" -o ControlMaster=no h1 true </dev/null || return 1
	done
	ssh -F "$cfg" -S "$work/ctl" -O exit h1 2>/dev/null
}
run_pool1() { seq "$jobs" | bin/pool -S 1/h1 true; }
run_pool4() { seq "$jobs" | bin/pool -S 2/h1,2/h2 true; }
run_par1() { seq "$jobs" | PARALLEL_SSH="ssh -F $cfg" "$GNU_PARALLEL" -S 1/h1 --controlmaster true; }
run_par4() { seq "$jobs" | PARALLEL_SSH="ssh -F $cfg" "$GNU_PARALLEL" -S 2/h1,2/h2 --controlmaster true; }

names=(loop pool1 pool4)
[ -n "$GNU_PARALLEL" ] && names+=(par1 par4)
label() {
	case $1 in
	loop) echo "ssh -S loop, 1 slot (limit)" ;;
	pool1) echo "pool -S 1/h1" ;;
	pool4) echo "pool -S 2/h1,2/h2" ;;
	par1) echo "GNU parallel -S 1/h1 --controlmaster" ;;
	par4) echo "GNU parallel -S 2/h1,2/h2 --controlmaster" ;;
	esac
}
say "remote: $jobs jobs of true, $rounds round(s)"
alternate "$rounds" remote "${names[@]}"
table_start "Remote jobs: $jobs jobs of \`true\` on sshd hosts on 127.0.0.1, $CORES cores; median of $rounds alternating round(s)" \
    "contender" "per job" "time over the ssh -S loop's"
for n in "${names[@]}"; do
	table_row "$(label "$n")" "$(fmt_us "$(calc "$(med remote "$n") / $jobs")")" \
	    "$(fmt_x "$(ratio_med remote "$n" loop)")"
done
table_end
if [ -n "$GNU_PARALLEL" ]; then
	headline pool "$jobs remote \`true\` jobs, 1 slot on 1 host" \
	    "$(fmt_us "$(calc "$(med remote pool1) / $jobs")")/job" \
	    "GNU parallel -S --controlmaster" \
	    "$(calc "$(med remote pool1) / $(med remote par1)" %.3f)" \
	    "an ssh -S channel per job" "$(ratio_med remote pool1 loop)"
fi
