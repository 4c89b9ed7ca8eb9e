#!/bin/bash
# bench/queue.sh: queue(1) side by side with its physical limit and peers.
#  1. Streaming N short messages: queue put | queue get -f, against the
#     same lines through a FIFO (block writes: the pipe's limit; one write
#     per line: what a naive producer gets) and redis LPUSH/RPOP over
#     loopback (redis-benchmark, no pipelining).
#  2. One message round trip: queue put + queue get, against two spawns
#     of true (the floor for two commands) and redis-cli LPUSH + RPOP.
# Runs alternate (A B C A B C ...); the table shows medians and ratios.
# BENCH_QUICK=1: a short run.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
Q=$top/bin/queue
N=1000000 REPS=5 RN=100000 PAIRS=50 PREPS=11
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	N=200000 REPS=3 RN=20000 PAIRS=20 PREPS=5
fi
PORT=6399
# The queues live on a memory file system, as in the default namespace.
work=$(mktemp -d /dev/shm/queue-bench.XXXXXX 2>/dev/null || mktemp -d)
redis_pid=
cleanup() {
	[ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
export CONC_DIR=$work/ns

[ -x "$Q" ] || { echo "queue.sh: build first (make)" >&2; exit 1; }
mkdir -p "$top/bench/bin"
cc -O2 -o "$top/bench/bin/linewrite" "$top/bench/linewrite.c" || exit 1
seq "$N" >"$work/lines"
mkfifo "$work/fifo"

us() { echo "${EPOCHREALTIME/./}"; }

median() {
	sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# Each run_* prints its time in microseconds.
run_queue() {
	local t0 t1
	"$Q" rm s 2>/dev/null
	t0=$(us)
	{ "$Q" put s <"$work/lines"; "$Q" close s; } &
	"$Q" get -f s >/dev/null
	wait
	t1=$(us)
	echo $((t1 - t0))
}
run_fifo_block() {
	local t0 t1
	t0=$(us)
	cat "$work/lines" >"$work/fifo" &
	cat "$work/fifo" >/dev/null
	wait
	t1=$(us)
	echo $((t1 - t0))
}
run_fifo_line() {
	local t0 t1
	t0=$(us)
	"$top/bench/bin/linewrite" "$work/lines" >"$work/fifo" &
	cat "$work/fifo" >/dev/null
	wait
	t1=$(us)
	echo $((t1 - t0))
}
run_pairs_queue() {
	local t0 t1 i
	t0=$(us)
	for ((i = 0; i < PAIRS; i++)); do
		"$Q" put r hello
		"$Q" get r >/dev/null
	done
	t1=$(us)
	echo $(((t1 - t0) / PAIRS))
}
run_pairs_true() {
	local t0 t1 i
	t0=$(us)
	for ((i = 0; i < PAIRS; i++)); do
		/bin/true
		/bin/true
	done
	t1=$(us)
	echo $(((t1 - t0) / PAIRS))
}
run_pairs_redis() {
	local t0 t1 i
	t0=$(us)
	for ((i = 0; i < PAIRS; i++)); do
		redis-cli -p "$PORT" LPUSH k hello >/dev/null
		redis-cli -p "$PORT" RPOP k >/dev/null
	done
	t1=$(us)
	echo $(((t1 - t0) / PAIRS))
}
# redis-benchmark prints "LPUSH: 57803.47 requests per second, ...".
run_redis_bench() { # TEST
	redis-benchmark -p "$PORT" -q -n "$RN" -t "$1" 2>/dev/null |
	    tr '\r' '\n' | awk -v t="$1" 'toupper($1) == toupper(t) ":" { printf "%d\n", $2 }' | tail -1
}

start_redis() {
	if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
			echo "queue.sh: installing redis-server for the comparison" >&2
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			    apt-get install -y -qq redis-server; } >/dev/null 2>&1
		fi
	fi
	if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
		echo "queue.sh: redis is not installed and cannot be: skipping it" >&2
		return 1
	fi
	redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
	    --daemonize no >/dev/null 2>&1 &
	redis_pid=$!
	for _ in $(seq 100); do
		redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.05
	done
	echo "queue.sh: redis-server did not start: skipping it" >&2
	return 1
}

# Sanity: the queue delivers every line.
"$Q" rm s 2>/dev/null
{ "$Q" put s <"$work/lines"; "$Q" close s; } &
got=$("$Q" get -f s | wc -l)
wait
[ "$got" -eq "$N" ] || { echo "queue.sh: queue delivered $got of $N lines" >&2; exit 1; }

have_redis=0
start_redis && have_redis=1

q=() fb=() fl=() rl=() rr=() pq=() pt=() pr=()
for ((i = 0; i < REPS; i++)); do
	q+=("$(run_queue)")
	fb+=("$(run_fifo_block)")
	fl+=("$(run_fifo_line)")
	if [ $have_redis = 1 ]; then
		rl+=("$(run_redis_bench lpush)")
		rr+=("$(run_redis_bench rpop)")
	fi
done
# Round trips: many short alternating samples, as start-up times are noisy.
for ((i = 0; i < PREPS; i++)); do
	pt+=("$(run_pairs_true)")
	pq+=("$(run_pairs_queue)")
	[ $have_redis = 1 ] && pr+=("$(run_pairs_redis)")
done

med() { printf '%s\n' "$@" | median; }
mq=$(med "${q[@]}") mfb=$(med "${fb[@]}") mfl=$(med "${fl[@]}")
mpq=$(med "${pq[@]}") mpt=$(med "${pt[@]}")

rate() { awk -v n="$N" -v t="$1" 'BEGIN { r = n / t * 1e6; if (r >= 1e6) printf "%.2fM", r / 1e6; else printf "%.1fK", r / 1e3 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { r = a / b; printf (r < 0.1 ? "%.4f" : "%.2f"), r }'; }
secs() { awk -v t="$1" 'BEGIN { printf "%.3f s", t / 1e6 }'; }
ms() { awk -v t="$1" 'BEGIN { printf "%.2f ms", t / 1e3 }'; }

echo "queue benchmark: $N messages, $REPS runs each; round trips: $PREPS samples of $PAIRS; medians ($(nproc) cores, load average $(cut -d" " -f1 /proc/loadavg) at the end)"
echo
printf '| %-44s | %10s | %12s | %16s |\n' "streaming $N lines" time "messages/s" "queue / this"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 46))" "------------" "--------------" "------------------"
printf '| %-44s | %10s | %12s | %16s |\n' "queue put \\| queue get -f" "$(secs "$mq")" "$(rate "$mq")" 1.00
printf '| %-44s | %10s | %12s | %16s |\n' "FIFO, block writes (pipe limit)" "$(secs "$mfb")" "$(rate "$mfb")" "$(ratio "$mq" "$mfb")"
printf '| %-44s | %10s | %12s | %16s |\n' "FIFO, one write per line" "$(secs "$mfl")" "$(rate "$mfl")" "$(ratio "$mq" "$mfl")"
if [ $have_redis = 1 ]; then
	mrl=$(med "${rl[@]}") mrr=$(med "${rr[@]}")
	# Time redis would need for N LPUSH plus N RPOP.
	tr_us=$(awk -v n="$N" -v a="$mrl" -v b="$mrr" 'BEGIN { printf "%d", (n / a + n / b) * 1e6 }')
	printf '| %-44s | %10s | %12s | %16s |\n' "redis LPUSH then RPOP ($RN each, scaled)" "$(secs "$tr_us")" "$(rate "$tr_us")" "$(ratio "$mq" "$tr_us")"
fi
echo
printf '| %-44s | %10s | %16s |\n' "one message round trip" "time" "this / 2x true"
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 46))" "------------" "------------------"
printf '| %-44s | %10s | %16s |\n' "two spawns of true" "$(ms "$mpt")" 1.00
printf '| %-44s | %10s | %16s |\n' "queue put + queue get" "$(ms "$mpq")" "$(ratio "$mpq" "$mpt")"
if [ $have_redis = 1 ]; then
	mpr=$(med "${pr[@]}")
	printf '| %-44s | %10s | %16s |\n' "redis-cli LPUSH + redis-cli RPOP" "$(ms "$mpr")" "$(ratio "$mpr" "$mpt")"
fi
