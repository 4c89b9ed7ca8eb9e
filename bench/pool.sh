#!/bin/sh
# bench/pool.sh: pool against its peers and the physical limit.
#
# 1. Job overhead: N jobs of /bin/true with -j equal to the core count,
#    run by a bare posix_spawn+waitpid loop (bench/spawnloop.c, the
#    physical limit), xargs -P, GNU parallel, and pool (default output
#    mode and -k). Contenders alternate round by round (A B C A B C ...);
#    the table shows the median time, the cost per job and the ratio to
#    the spawn loop.
# 2. --pipe throughput: a stream of text through wc -l, as one plain
#    wc -l, pool --pipe and GNU parallel --pipe; MB/s of the median.
#
# BENCH_QUICK=1 makes a short run (fewer jobs, a smaller stream, one round).
# A benchmark, not a test: it asserts nothing.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

if [ "${BENCH_QUICK:-0}" = 1 ]; then
	jobs=200 rounds=1 mib=64
else
	jobs=2000 rounds=5 mib=1024
fi
cores=$(getconf _NPROCESSORS_ONLN)
true_bin=$(command -v true)
case $true_bin in /*) ;; *) true_bin=/bin/true ;; esac
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

[ -x bin/pool ] || make -s bin/pool || exit 1
mkdir -p bench/bin
cc -O2 -o bench/bin/spawnloop bench/spawnloop.c || exit 1

if ! command -v parallel >/dev/null 2>&1 ||
    ! parallel --version 2>/dev/null | grep -q GNU; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq parallel; } >/dev/null 2>&1
	fi
fi
have_parallel=0
if parallel --version 2>/dev/null | grep -q GNU; then
	have_parallel=1
	# GNU parallel asks for a citation once; this says it was seen.
	mkdir -p "$HOME/.parallel" && touch "$HOME/.parallel/will-cite"
else
	echo "note: GNU parallel is not installed and could not be; its rows are skipped"
fi

# now: a monotonic-enough clock in seconds with nanoseconds.
now() { date +%s.%N; }

# timeit FILE CMD...: append CMD's wall time in seconds to FILE.
timeit() {
	out=$1
	shift
	t0=$(now)
	"$@" >/dev/null 2>&1
	t1=$(now)
	echo "$t0 $t1" | awk '{ printf "%.6f\n", $2 - $1 }' >>"$out"
}

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

seq "$jobs" >"$tmp/items"

run_spawn() { bench/bin/spawnloop "$jobs" "$cores" "$true_bin"; }
run_xargs() { xargs -P "$cores" -n 1 "$true_bin" <"$tmp/items"; }
run_parallel() { parallel -j "$cores" "$true_bin" <"$tmp/items"; }
run_pool() { bin/pool -j "$cores" "$true_bin" <"$tmp/items"; }
run_pool_k() { bin/pool -k -j "$cores" "$true_bin" <"$tmp/items"; }

contenders="spawn xargs pool pool_k"
[ $have_parallel = 1 ] && contenders="$contenders parallel"

echo "pool benchmark: $jobs jobs of true, -j $cores, median of $rounds round(s) (GNU parallel: 1)"
# GNU parallel takes minutes per run: it runs in the first round only.
r=0
while [ $r -lt $rounds ]; do
	for c in $contenders; do
		[ "$c" = parallel ] && [ "$r" -gt 0 ] && continue
		timeit "$tmp/t.$c" "run_$c"
	done
	r=$((r + 1))
done

base=$(median "$tmp/t.spawn")
printf '%-34s %10s %12s %8s\n' "runner" "time (s)" "per job (us)" "ratio"
for c in $contenders; do
	case $c in
	spawn) name="posix_spawn+waitpid loop (limit)" ;;
	xargs) name="xargs -P$cores" ;;
	parallel) name="GNU parallel -j$cores" ;;
	pool) name="pool -j$cores" ;;
	pool_k) name="pool -k -j$cores" ;;
	esac
	m=$(median "$tmp/t.$c")
	echo "$m $base $jobs" | awk -v n="$name" \
	    '{ printf "%-34s %10.3f %12.0f %7.2fx\n", n, $1, $1 / $3 * 1e6, $1 / $2 }'
done

# --pipe throughput. The stream comes from a file in the page cache
# through cat (a generator such as yes | head is slower than the consumers
# on this machine class), the same way for every contender.
bytes=$((mib * 1024 * 1024))
yes 'a line of text, about forty bytes long.' | head -c "$bytes" >"$tmp/stream"
cat "$tmp/stream" >/dev/null
stream() { cat "$tmp/stream"; }
pipe_plain() { stream | wc -l; }
pipe_pool() { stream | bin/pool --pipe -j "$cores" wc -l; }
pipe_pool64() { stream | bin/pool --pipe --block 64M -j "$cores" wc -l; }
pipe_poolfile() { bin/pool --pipe --block 64M -j "$cores" wc -l <"$tmp/stream"; }
pipe_parallel() { stream | parallel --pipe -j "$cores" wc -l; }
pipe_parallel64() { stream | parallel --pipe --block 64M -j "$cores" wc -l; }

# GNU parallel --pipe with 1M blocks needs minutes for 1 GiB here, so
# it runs in the short mode only; a full run does one round of each.
pipes="plain pool pool64 poolfile"
[ $have_parallel = 1 ] && pipes="$pipes parallel64"
[ $have_parallel = 1 ] && [ "${BENCH_QUICK:-0}" = 1 ] && pipes="$pipes parallel"
prounds=1
echo
echo "--pipe throughput: $mib MiB through wc -l, -j $cores, $prounds round(s)"
r=0
while [ $r -lt $prounds ]; do
	for c in $pipes; do
		timeit "$tmp/p.$c" "pipe_$c"
	done
	r=$((r + 1))
done
printf '%-34s %10s %10s\n' "runner" "time (s)" "MB/s"
for c in $pipes; do
	case $c in
	plain) name="wc -l (one process, the limit)" ;;
	pool) name="pool --pipe (1M blocks)" ;;
	pool64) name="pool --pipe --block 64M" ;;
	poolfile) name="pool --pipe --block 64M <file" ;;
	parallel) name="GNU parallel --pipe (1M blocks)" ;;
	parallel64) name="GNU parallel --pipe --block 64M" ;;
	esac
	m=$(median "$tmp/p.$c")
	echo "$m $bytes" | awk -v n="$name" \
	    '{ printf "%-34s %10.3f %10.0f\n", n, $1, $2 / $1 / 1e6 }'
done
