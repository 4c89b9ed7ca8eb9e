#!/bin/bash
# bench/sem.sh: sem against its peers and the physical limit.
#
# 1. Cost per call, from a shell loop: `sem run x true` against
#    `flock FILE true` (util-linux), GNU `sem --fg --id x true` (far fewer
#    calls: it is slow) and a bare spawn of true (the floor).
# 2. Hand-off latency against the number of waiters: 1 + W processes take
#    a mutex in turn, each holding it until the others wait; microseconds
#    from one's release to the next one's entry (bench/sem_handoff.c), for
#    the sem object, flock(2), and two floors: a futex hand-off to the
#    next process (one directed wake-up, the physical limit) and a
#    process-shared pthread condition variable.
# Contenders alternate round by round; figures are medians. BENCH_QUICK=1
# makes a short run.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init sem

build sem_handoff -Icmd/sem cmd/sem/semobj.c build/libconc.a
if [ "$QUICK" = 1 ]; then
	rounds=3 calls=20 gnucalls=1 total=400 ws="1 4 16"
else
	rounds=5 calls=50 gnucalls=2 total=1200 ws="1 2 4 8 16"
fi
export CONC_DIR=$work/ns
sem=$top/bin/sem
true_bin=$(type -P true)
flock_ok=0
need flock util-linux && flock_ok=1
gnu_parallel
gnusem=
# GNU sem is a link to GNU parallel's program, installed with it.
[ -n "$GNU_PARALLEL" ] && [ -x /usr/bin/sem ] && gnusem=/usr/bin/sem

# --- 1. cost per call ----------------------------------------------------
loop() { # loop N CMD...: run CMD N times
	local i n=$1
	shift
	for ((i = 0; i < n; i++)); do "$@" || return 1; done
}
run_true() { loop "$calls" "$true_bin"; }
run_sem() { loop "$calls" "$sem" run x "$true_bin"; }
run_flock() { loop "$calls" flock "$work/lockfile" "$true_bin"; }
run_gnusem() { loop "$gnucalls" "$gnusem" --fg --id "bench$$" "$true_bin"; }
cases=(true sem)
[ $flock_ok = 1 ] && cases+=(flock)
[ -n "$gnusem" ] && cases+=(gnusem)
"$sem" create x
say "sem: cost per call"
alternate "$rounds" call "${cases[@]}"
percall() { # percall CASE: median µs per call
	local k=$calls
	[ "$1" = gnusem ] && k=$gnucalls
	calc "$(med call "$1") / $k" %.0f
}
table_start "Cost per call from a shell loop ($calls calls a round, GNU sem $gnucalls; median of $rounds alternating rounds)" \
    "command" "per call" "over a spawn of true" "over flock"
for x in "${cases[@]}"; do
	case $x in
	true) name="true (a spawn: the limit)" ;;
	sem) name="sem run x true" ;;
	flock) name="flock FILE true" ;;
	gnusem) name="GNU sem --fg --id x true" ;;
	esac
	vf="-"
	[ $flock_ok = 1 ] && vf=$(fmt_x "$(calc "$(percall "$x") / $(percall flock)" %.3f)")
	table_row "$name" "$(fmt_us "$(percall "$x")")" \
	    "$(fmt_x "$(calc "$(percall "$x") / $(percall true)" %.3f)")" "$vf"
done
table_end
if [ $flock_ok = 1 ]; then
	headline sem "\`sem run x true\` per call" "$(fmt_us "$(percall sem)")" \
	    "flock FILE true" "$(calc "$(percall sem) / $(percall flock)" %.3f)" \
	    "a spawn of true" "$(calc "$(percall sem) / $(percall true)" %.3f)"
fi

# --- 2. hand-off latency against waiters ---------------------------------
hrounds=3
modes=(sem futex condvar)
[ $flock_ok = 1 ] && modes+=(flock)
label() {
	case $1 in
	sem) echo "sem" ;;
	flock) echo "flock(2) (unfair)" ;;
	futex) echo "futex hand-off (limit)" ;;
	condvar) echo "pthread condvar (limit)" ;;
	esac
}
labels=()
for x in "${modes[@]}"; do labels+=("$(label "$x")"); done
csv_start sem_handoff_vs_waiters waiters "${labels[@]}"
table_start "Hand-off latency (median µs from a release to the next holder's entry) against the number of waiters; $total acquisitions a run, median of $hrounds alternating runs; in brackets: the share of releases that went to a waiter" \
    "waiters" "${labels[@]}"
for w in $ws; do
	np=$((w + 1))
	say "sem: $w waiter(s)"
	for ((r = 0; r < hrounds; r++)); do
		for x in "${modes[@]}"; do
			case $x in
			sem) obj="ho$w.$r" ;;
			flock) obj=$work/flockfile ;;
			*) obj=- ;;
			esac
			bench/bin/sem_handoff "$x" "$obj" $((total / np)) "$np" \
			    >>"$work/ho$w.$x" || exit 1
		done
	done
	row=$w cells=()
	for x in "${modes[@]}"; do
		m=$(cut -d' ' -f1 "$work/ho$w.$x" | median)
		share=$(awk '{ print 100 * $3 / $4 }' "$work/ho$w.$x" | median)
		row="$row,$m"
		cells+=("$m ($(calc "$share" %.0f)%)")
	done
	csv_row sem_handoff_vs_waiters "$row"
	table_row "$w" "${cells[@]}"
done
table_end
plot sem_handoff_vs_waiters "sem: hand-off latency against waiters" "waiting processes" "µs from release to the next holder" logx logy
hs=$(cut -d' ' -f1 "$work/ho1.sem" | median)
hf=$(cut -d' ' -f1 "$work/ho1.futex" | median)
if [ $flock_ok = 1 ]; then
	hl=$(cut -d' ' -f1 "$work/ho1.flock" | median)
	headline sem "contended hand-off, 1 waiter" "$hs µs" "flock(2) (unfair)" \
	    "$(calc "$hs / $hl" %.3f)" "futex hand-off" "$(calc "$hs / $hf" %.3f)"
else
	headline sem "contended hand-off, 1 waiter" "$hs µs" "-" "" \
	    "futex hand-off" "$(calc "$hs / $hf" %.3f)"
fi
