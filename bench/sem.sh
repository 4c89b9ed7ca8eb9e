#!/bin/sh
# bench/sem.sh: sem against its peers, side by side in one run.
#
# 1. Cost per call, from one shell loop: `sem run x true` against
#    `flock FILE true` (util-linux), a bare spawn of true (the floor) and
#    GNU `sem --fg --id x true` (far fewer calls: it is slow). The loops
#    alternate A B C A B C ...; each figure is the median over the rounds.
# 2. Hand-off latency: two processes take a mutex in turn, each holding
#    it until the other waits; microseconds from one's release to the
#    other's entry (bench/sem_handoff.c): the sem object, flock(2), and a
#    bare futex ping-pong (the physical limit of a cross-process wake-up).
#
# BENCH_QUICK=1 makes a short run. Missing peers are installed with
# apt-get when we are root, or skipped with a note.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	rounds=3 calls=100 gnucalls=2 handoffs=1000
else
	rounds=5 calls=200 gnucalls=5 handoffs=10000
fi

[ -x bin/sem ] && [ -f lib/libconc.a ] || make -s >/dev/null || exit 1
mkdir -p bench/bin
cc -O2 -D_GNU_SOURCE -Ilib -Icmd/sem -o bench/bin/sem_handoff \
    bench/sem_handoff.c cmd/sem/semobj.c lib/libconc.a -lpthread || exit 1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CONC_DIR=$work/ns
export CONC_DIR

have() { command -v "$1" >/dev/null 2>&1; }
install_peer() { # install_peer COMMAND PACKAGE
	have "$1" && return 0
	if [ "$(id -u)" = 0 ] && have apt-get; then
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq "$2"; } >/dev/null 2>&1
	fi
	have "$1" || { echo "note: $1 ($2) is not installed; skipped"; return 1; }
}
flock_ok=0 gnu_ok=0
install_peer flock util-linux && flock_ok=1
# GNU sem is a link to GNU parallel; make sure it is that one.
if install_peer parallel parallel && have sem &&
    sem --version 2>/dev/null | grep -q 'GNU parallel'; then
	gnu_ok=1
fi

sem=$top/bin/sem
truebin=$(command -v true)
case $truebin in /*) ;; *) truebin=/bin/true ;; esac

now() { date +%s%N; }

# percall NAME N CMD...: run CMD N times in a loop; append the µs per call
# to $work/NAME.
percall() {
	name=$1 n=$2
	shift 2
	t0=$(now)
	i=0
	while [ "$i" -lt "$n" ]; do
		"$@" >/dev/null 2>&1
		i=$((i + 1))
	done
	t1=$(now)
	echo $(((t1 - t0) / n / 1000)) >>"$work/$name"
}

median() { # median FILE
	sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

ratio() { # ratio A B: A/B with two decimals
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

echo "sem benchmark: $rounds rounds of $calls calls (GNU sem: $gnucalls), $handoffs hand-offs; $(nproc) CPUs"
"$sem" create x
r=0
while [ "$r" -lt "$rounds" ]; do
	percall true "$calls" "$truebin"
	percall sem "$calls" "$sem" run x "$truebin"
	[ "$flock_ok" = 1 ] && percall flock "$calls" flock "$work/lockfile" "$truebin"
	[ "$gnu_ok" = 1 ] && percall gnusem "$gnucalls" sem --will-cite --fg --id "bench$$" "$truebin"
	r=$((r + 1))
done

t=$(median "$work/true")
s=$(median "$work/sem")
echo
echo "Cost per call (median of $rounds rounds, µs; ratio to a spawn of true, and to flock)"
printf '%-34s %10s %9s %9s\n' "command" "µs/call" "× true" "× flock"
f=""
[ "$flock_ok" = 1 ] && f=$(median "$work/flock")
row() { # row LABEL US
	if [ -n "$f" ]; then
		printf '%-34s %10s %9s %9s\n' "$1" "$2" "$(ratio "$2" "$t")" "$(ratio "$2" "$f")"
	else
		printf '%-34s %10s %9s %9s\n' "$1" "$2" "$(ratio "$2" "$t")" "-"
	fi
}
row "true (spawn, the floor)" "$t"
row "sem run x true" "$s"
[ -n "$f" ] && row "flock FILE true" "$f"
[ "$gnu_ok" = 1 ] && row "GNU sem --fg --id x true" "$(median "$work/gnusem")"

echo
echo "Hand-off latency, $handoffs lock/unlock per process (median of $rounds rounds)"
printf '%-34s %10s %9s %12s\n' "lock" "median µs" "p90 µs" "handed off"
for r in $(seq "$rounds"); do
	bench/bin/sem_handoff sem "ho$r" "$handoffs" >>"$work/ho.sem"
	[ "$flock_ok" = 1 ] && bench/bin/sem_handoff flock "$work/flockfile" "$handoffs" >>"$work/ho.flock"
	bench/bin/sem_handoff futex - "$handoffs" >>"$work/ho.futex"
done
horow() { # horow LABEL FILE
	sort -n "$2" | awk -v label="$1" '{ m[NR] = $1; p[NR] = $2; h[NR] = $3; n[NR] = $4 }
	    END { i = int((NR + 1) / 2); printf "%-34s %10s %9s %11.0f%%\n", label, m[i], p[i], 100 * h[i] / n[i] }'
}
horow "sem (futex hand-off, FIFO)" "$work/ho.sem"
[ "$flock_ok" = 1 ] && horow "flock(2) (not fair)" "$work/ho.flock"
horow "bare futex ping-pong (floor)" "$work/ho.futex"
exit 0
