#!/bin/sh
# bench/barrier.sh: how fast a barrier releases its parties, against the
# physical limit (a bare futex broadcast to N-1 sleeping processes), and
# what one `barrier wait -n 1` costs against spawning `true`.
#
# Release spread: N parties print a line to one pipe as soon as they are
# released; the spread is the time from the first line to the last. For
# `barrier` the parties are `barrier wait -i` processes; for the limit
# they are forked children sleeping in FUTEX_WAIT. Rounds alternate
# A B A B; each cell is the median of the rounds' medians.
# BENCH_QUICK=1 makes a short run.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/bin/barrier"
lat="$top/bench/bin/barrier_lat"

if [ ! -x "$bin" ]; then
	echo "barrier.sh: $bin missing: run make first" >&2
	exit 1
fi
mkdir -p "$top/bench/bin"
cc -O2 -o "$lat" "$top/bench/barrier_lat.c"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	rounds=3 reps=5 spawns=50
else
	rounds=5 reps=15 spawns=300
fi

CONC_DIR=$(mktemp -d)
export CONC_DIR
trap 'rm -rf "$CONC_DIR"' EXIT INT TERM

# median: the middle of the numbers on stdin.
median() {
	sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# ratio A B: A / B with two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

echo "barrier: release spread, first to last released party (median of $rounds rounds x $reps)"
printf '%-6s %14s %14s %8s %22s\n' N "barrier (us)" "futex (us)" ratio "last arrival->all (us)"
for n in 2 10 100; do
	: >"$CONC_DIR/a"
	: >"$CONC_DIR/b"
	: >"$CONC_DIR/t"
	r=0
	while [ $r -lt $rounds ]; do
		"$lat" tool "$bin" "$n" "$reps" | {
			read -r s t
			echo "$s" >>"$CONC_DIR/a"
			echo "$t" >>"$CONC_DIR/t"
		}
		"$lat" futex "$n" "$reps" >>"$CONC_DIR/b"
		r=$((r + 1))
	done
	a=$(median <"$CONC_DIR/a")
	b=$(median <"$CONC_DIR/b")
	t=$(median <"$CONC_DIR/t")
	printf '%-6s %14s %14s %8s %22s\n' "$n" "$a" "$b" "$(ratio "$a" "$b")" "$t"
done

echo
echo "barrier: cost of one call (posix_spawn + waitpid, median of $rounds rounds x $spawns)"
"$bin" wait -n 1 one
: >"$CONC_DIR/a"
: >"$CONC_DIR/b"
r=0
while [ $r -lt $rounds ]; do
	"$lat" spawn "$spawns" "$bin" wait -n 1 one >>"$CONC_DIR/a"
	"$lat" spawn "$spawns" /bin/true >>"$CONC_DIR/b"
	r=$((r + 1))
done
a=$(median <"$CONC_DIR/a")
b=$(median <"$CONC_DIR/b")
printf '%-24s %10s\n' "command" "us/call"
printf '%-24s %10s\n' "barrier wait -n 1" "$a"
printf '%-24s %10s\n' "true" "$b"
printf '%-24s %10s\n' "ratio" "$(ratio "$a" "$b")"
