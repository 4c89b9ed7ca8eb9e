#!/bin/bash
# bench/parallel.sh: how fast parallel moves prefixed lines.
#
# Four writers each produce SIZE bytes of lines, 2 bytes long ("y", like
# yes) and 64 bytes long, and one reader merges them into /dev/null:
#   pipe   the physical limit: the 4 writers into one pipe, read by cat
#   ours   bin/parallel with its default prefix ("1 | ")
#   gnu    GNU parallel --line-buffer --tag -j4 (tag "1<TAB>")
# The cases alternate (pipe ours gnu pipe ours gnu ...); the table shows
# medians: throughput in MB/s of input, CPU seconds (user+system, all
# processes) per GB of input, and the median over the rounds of each
# case's time relative to the pipe's in the same round.
# BENCH_QUICK=1: 32 MiB per writer, one round. BENCH_ROUNDS=N: N rounds.
# bench/run starts every script with sh: come back as bash.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	size=$((32 * 1024 * 1024)) rounds=${BENCH_ROUNDS:-1}
else
	size=$((256 * 1024 * 1024)) rounds=${BENCH_ROUNDS:-3}
fi

mkdir -p bench/bin
if [ ! -x bench/bin/lines ] || [ bench/lines.c -nt bench/bin/lines ]; then
	${CC:-cc} -O2 -o bench/bin/lines bench/lines.c || exit 1
fi
[ -x bin/parallel ] || make -s bin/parallel || exit 1
lines=$top/bench/bin/lines
ours=$top/bin/parallel

gnu=/usr/bin/parallel
if ! "$gnu" --version 2>/dev/null | grep -q 'GNU parallel'; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "bench: installing GNU parallel" >&2
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq parallel; } >/dev/null 2>&1
	fi
fi
if ! "$gnu" --version 2>/dev/null | grep -q 'GNU parallel'; then
	echo "bench: GNU parallel is not installed (apt-get install parallel): skipping it" >&2
	gnu=
fi

# run CASE LEN: one run, output to /dev/null.
run() {
	case $1 in
	pipe)
		{
			for i in 1 2 3 4; do "$lines" "$size" "$2" "$i" & done
			wait
		} | cat >/dev/null
		;;
	ours)
		"$ours" "$lines $size $2" "$lines $size $2" "$lines $size $2" \
		    "$lines $size $2" >/dev/null
		;;
	gnu)
		"$gnu" --line-buffer --tag -j4 "$lines" "$size" "$2" ::: 1 2 3 4 >/dev/null
		;;
	esac
}

# timed CASE LEN: print "real user+sys" in seconds.
timed() {
	local t
	t=$( { TIMEFORMAT='%3R %3U %3S'; time run "$1" "$2" 2>/dev/null; } 2>&1 )
	echo "$t" | awk '{ printf "%s %.3f\n", $1, $2 + $3 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cases="pipe ours"
[ -n "$gnu" ] && cases="$cases gnu"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
total_mb=$(awk -v s="$size" 'BEGIN { printf "%.0f", 4 * s / 1048576 }')
echo "bench: 4 writers x $((size / 1048576)) MiB, $rounds round(s), cases: $cases" >&2
for len in 2 64; do
	for r in $(seq 1 "$rounds"); do
		for c in $cases; do
			timed "$c" "$len" >>"$tmp/$c.$len"
			echo "bench: len $len round $r $c: $(tail -n 1 "$tmp/$c.$len")" >&2
		done
	done
done

gb=$(awk -v s="$size" 'BEGIN { print 4 * s / 1e9 }')
printf '| line length | command | MB/s | CPU s/GB | time vs pipe |\n'
printf '|---|---|---:|---:|---:|\n'
for len in 2 64; do
	for c in $cases; do
		real=$(cut -d' ' -f1 "$tmp/$c.$len" | median)
		cpu=$(cut -d' ' -f2 "$tmp/$c.$len" | median)
		# Each round's time over the pipe's in the same round: a
		# machine whose load drifts affects both alike.
		ratio=$(paste -d' ' "$tmp/$c.$len" "$tmp/pipe.$len" |
		    awk '{ print $1 / $3 }' | median)
		# shellcheck disable=SC2016 # Markdown backquotes, not commands
		case $c in
		pipe) name='plain pipe (4 writers into one `cat`)' ;;
		ours) name='`parallel` (prefix `1 \| `)' ;;
		gnu) name='GNU `parallel --line-buffer --tag`' ;;
		esac
		awk -v len="$len" -v name="$name" -v mb="$total_mb" -v r="$real" \
		    -v cpu="$cpu" -v gb="$gb" -v ratio="$ratio" 'BEGIN {
			printf "| %d bytes | %s | %.0f | %.2f | %.2fx |\n",
			    len, name, mb * 1.048576 / r, cpu / gb, ratio }'
	done
done
