#!/bin/bash
# bench/queue.sh: queue(1) against its physical limit and redis.
#
# Streaming: P consumers `queue get -f q`, then P producers
# `queue put q <PART`, moving M messages of S bytes (plus a newline), against
#   limit  bench/pipecopy.c: the same bytes through one pipe in 64 KiB
#          writes (no framing, no bound, no crash safety: the floor)
#   redis  redis-server on 127.0.0.1 with P clients of `redis-benchmark
#          -P 16 LPUSH` and P clients of `redis-benchmark -P 16 BRPOP`
#          running together (pipelined 16 deep, redis' own way of
#          batching; fewer messages, as it is slower: rates are compared)
# 1. Messages per second against P = 1, 2, 4, 8, 16 (16-byte messages).
# 2. Messages per second against S = 16 B .. 64 KiB (P = 1).
# 3. One message round trip, `queue put` + `queue get`, against two spawns
#    of true (the floor for two commands) and redis-cli LPUSH + RPOP.
# 4. queue run against pool over the same messages.
# Contenders alternate; figures are medians. BENCH_QUICK=1: a short run.
# BENCH_SECTIONS="1 3": only these sections (1, 1b, 2, 3, 4; default all).
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init queue

Q=$top/bin/queue
build pipecopy
PORT=${BENCH_REDIS_PORT:-6399}
# M: enough messages for a steady stream, past the fixed costs of
# starting 2P processes and of the first pages each touches.
if [ "$QUICK" = 1 ]; then
	rounds=1 M=200000 MR=10000 bytes=$((8 << 20)) pairs=10 prounds=3
	ps="1 4 16" sizes="16 1024 65536"
else
	rounds=3 M=2000000 MR=40000 bytes=$((64 << 20)) pairs=20 prounds=5
	ps="1 2 4 8 16" sizes="16 64 256 1024 4096 16384 65536"
fi
export CONC_DIR=$work/ns
SECTIONS=${BENCH_SECTIONS:-1 1b 2 3 4}
# section S: whether section S is to run.
section() { [[ " $SECTIONS " == *" $1 "* ]]; }

# Redis, if it can be had, on its own port with no persistence.
have_redis=0
if need redis-server redis-server && need redis-benchmark redis-tools &&
    need redis-cli redis-tools; then
	redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no \
	    --daemonize no >/dev/null 2>&1 &
	bench_bg_pid $!
	for _ in $(seq 100); do
		redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && have_redis=1 && break
		sleep 0.05
	done
	[ $have_redis = 1 ] || note "redis-server did not start on port $PORT: its figures are skipped"
fi

# msgs COUNT SIZE FILE: COUNT lines of SIZE bytes (and a newline).
msgs() { yes "$(head -c "$2" /dev/zero | tr '\0' m)" | head -n "$1" >"$3"; }

# Each run_* moves $n messages of $size bytes with $p producers and
# consumers; the parts are $work/part.*. The consumers start first, as a
# stream's would be running when its producers come: started after P
# producers, they would find the first milliseconds of the stream
# waiting for them, and measure the spawns more than the stream.
run_queue() {
	local i pids=() gets=()
	"$Q" rm q 2>/dev/null
	"$Q" create q || return 1
	for ((i = 0; i < p; i++)); do
		"$Q" get -f q &
		gets+=($!)
	done
	for f in "$work"/part.*; do
		"$Q" put q <"$f" &
		pids+=($!)
	done
	wait "${pids[@]}" || return 1
	"$Q" close q
	wait "${gets[@]}"
}
run_limit() { bench/bin/pipecopy rw $((n * (size + 1))); }
run_redis() {
	local v
	v=$(head -c "$size" /dev/zero | tr '\0' m)
	redis-cli -p "$PORT" DEL q >/dev/null
	redis-benchmark -p "$PORT" -q -c "$p" -n "$nr" -P 16 LPUSH q "$v" >/dev/null &
	v=$!
	redis-benchmark -p "$PORT" -q -c "$p" -n "$nr" -P 16 BRPOP q 0.2 >/dev/null
	wait "$v"
}
cases=(limit queue)
[ $have_redis = 1 ] && cases+=(redis)
label() {
	case $1 in
	limit) echo "one pipe in 64 KiB writes (limit)" ;;
	queue) echo "queue put | queue get -f" ;;
	redis) echo "redis LPUSH | BRPOP (pipelined)" ;;
	esac
}
# rate KEY CASE: messages per second.
rate() {
	local k=$n
	[ "$2" = redis ] && k=$nr
	calc "$k * 1e6 / $(med "$1" "$2")" %.0f
}
# prepare N SIZE P: the messages, split among P producers.
prepare() {
	n=$1 size=$2 p=$3
	nr=$((MR < n ? MR : n))
	rm -f "$work"/part.*
	msgs "$n" "$size" "$work/all"
	split -n "l/$p" "$work/all" "$work/part."
	rm -f "$work/all"
}

labels=()
for x in "${cases[@]}"; do labels+=("$(label "$x")"); done

# Sanity: every message arrives, once.
prepare 1000 16 4
got=$(run_queue | wc -l)
[ "$got" -eq 1000 ] || { say "queue: delivered $got of 1000 messages"; exit 1; }

# --- 1. against producers and consumers ---------------------------------
if section 1; then
	csv_start queue_rate_vs_procs "producers and consumers" "${labels[@]}"
	table_start "Messages per second against producers = consumers = P; $M 16-byte messages (redis: $MR), median of $rounds alternating round(s)" \
	    "P" "${labels[@]}" "queue over limit (time)"
	for p in $ps; do
		prepare "$M" 16 "$p"
		say "queue: P = $p"
		alternate "$rounds" "p$p" "${cases[@]}"
		row=$p cells=()
		for x in "${cases[@]}"; do
			row="$row,$(rate "p$p" "$x")"
			cells+=("$(fmt_rate "$(rate "p$p" "$x")")")
		done
		csv_row queue_rate_vs_procs "$row"
		table_row "$p" "${cells[@]}" "$(fmt_x "$(ratio_med "p$p" queue limit)")"
	done
	table_end
	plot queue_rate_vs_procs "queue: messages per second against producers and consumers" "producers = consumers" "messages per second (16 bytes)" logx logy
	p=1
	if [ $have_redis = 1 ]; then
		headline queue "16-byte messages streamed, 1 producer, 1 consumer" \
		    "$(fmt_rate "$(rate p1 queue)") msg/s" "redis LPUSH/BRPOP pipelined" \
		    "$(calc "$(rate p1 redis) / $(rate p1 queue)" %.3f)" \
		    "one pipe, 64 KiB writes" "$(ratio_med p1 queue limit)"
	else
		headline queue "16-byte messages streamed, 1 producer, 1 consumer" \
		    "$(fmt_rate "$(rate p1 queue)") msg/s" "-" "" \
		    "one pipe, 64 KiB writes" "$(ratio_med p1 queue limit)"
	fi
fi

# --- 1b. past the storage ----------------------------------------------------
# A producer faster than its consumer fills a bounded queue; from then on
# each batch goes into space a get has just freed, and the stream must
# keep the rate of an unfilled queue. `queue put q <FILE & queue get -n N
# q` with 16-byte messages (32 bytes of storage each): N that fit in the
# default 32 MiB, ten times what it holds, and N through --size 64K
# (2048 messages: N is hundreds of times that).
if section 1b; then
	if [ "$QUICK" = 1 ]; then NF=500000 frounds=1; else NF=1000000 frounds=3; fi
	NTEN=$((((32 << 20) / 32) * 10 + 100000))
	msgs "$NF" 16 "$work/fill.small"
	msgs "$NTEN" 16 "$work/fill.ten"
	# fill FILE N [SIZE]: stream FILE's N lines through a new queue.
	fill() {
		local p
		"$Q" rm f 2>/dev/null
		"$Q" create ${3:+--size "$3"} f || return 1
		"$Q" put f <"$1" &
		p=$!
		"$Q" get -n "$2" f >/dev/null || return 1
		wait "$p"
	}
	run_fill_none() { fill "$work/fill.small" "$NF"; }
	run_fill_ten() { fill "$work/fill.ten" "$NTEN"; }
	run_fill_small() { fill "$work/fill.small" "$NF" 64K; }
	say "queue: past the storage"
	alternate "$frounds" fill fill_none fill_ten fill_small
	fill_rate() { calc "$2 * 1e6 / $(med fill "$1")" %.0f; }
	table_start "A stream past the storage: put FILE & get -n N, 16-byte messages, median of $frounds alternating round(s)" \
	    "queue" "messages" "messages per second" "over unfilled (time per message)"
	none=$(fill_rate fill_none "$NF")
	table_row "unfilled (default 32 MiB)" "$NF" "$(fmt_rate "$none")" "1.00x"
	for x in ten small; do
		case $x in
		ten) k=$NTEN name="ten times full (default 32 MiB)" ;;
		small) k=$NF name="--size 64K" ;;
		esac
		r=$(fill_rate "fill_$x" "$k")
		table_row "$name" "$k" "$(fmt_rate "$r")" "$(fmt_x "$(calc "$none / $r")")"
	done
	table_end
	rm -f "$work"/fill.*
fi

# --- 2. against message size --------------------------------------------
if section 2; then
	csv_start queue_rate_vs_size "message size (bytes)" "${labels[@]}"
	table_start "Messages per second against message size; 1 producer, 1 consumer, $((bytes >> 20)) MiB or $M messages, median of $rounds alternating round(s)" \
	    "size" "${labels[@]}" "queue over limit (time)"
	for size in $sizes; do
		k=$((bytes / (size + 1)))
		prepare $((k < M ? k : M)) "$size" 1
		say "queue: $size-byte messages"
		alternate "$rounds" "s$size" "${cases[@]}"
		row=$size cells=()
		for x in "${cases[@]}"; do
			row="$row,$(rate "s$size" "$x")"
			cells+=("$(fmt_rate "$(rate "s$size" "$x")")")
		done
		csv_row queue_rate_vs_size "$row"
		table_row "$size" "${cells[@]}" "$(fmt_x "$(ratio_med "s$size" queue limit)")"
	done
	table_end
	plot queue_rate_vs_size "queue: messages per second against message size" "message size (bytes)" "messages per second" logx logy
fi

# --- 3. one round trip ------------------------------------------------------
if section 3; then
	true_bin=$(type -P true)
	run_rt_true() { for ((i = 0; i < pairs; i++)); do "$true_bin"; "$true_bin"; done; }
	run_rt_queue() { for ((i = 0; i < pairs; i++)); do "$Q" put r hello && "$Q" get r; done; }
	run_rt_redis() {
		for ((i = 0; i < pairs; i++)); do
			redis-cli -p "$PORT" LPUSH r hello && redis-cli -p "$PORT" RPOP r
		done
	}
	rt=(rt_true rt_queue)
	[ $have_redis = 1 ] && rt+=(rt_redis)
	say "queue: round trips"
	alternate "$prounds" rt "${rt[@]}"
	table_start "One message round trip (put, then get, from a shell loop; $pairs per sample, median of $prounds alternating samples)" \
	    "commands" "time" "over two spawns of true"
	for x in "${rt[@]}"; do
		case $x in
		rt_true) name="two spawns of true (limit)" ;;
		rt_queue) name="queue put + queue get" ;;
		rt_redis) name="redis-cli LPUSH + redis-cli RPOP" ;;
		esac
		table_row "$name" "$(fmt_us "$(calc "$(med rt "$x") / $pairs" %.0f)")" "$(fmt_x "$(ratio_med rt "$x" rt_true)")"
	done
	table_end
	if [ $have_redis = 1 ]; then
		headline queue "one put + get round trip" \
		    "$(fmt_us "$(calc "$(med rt rt_queue) / $pairs" %.0f)")" "redis-cli LPUSH + RPOP" \
		    "$(ratio_med rt rt_queue rt_redis)" "two spawns of true" "$(ratio_med rt rt_queue rt_true)"
	else
		headline queue "one put + get round trip" \
		    "$(fmt_us "$(calc "$(med rt rt_queue) / $pairs" %.0f)")" "-" "" \
		    "two spawns of true" "$(ratio_med rt rt_queue rt_true)"
	fi
fi

# --- 4. queue run: the cost per message of the crash-safe worker ------------
# The same N messages from a file, each run once by a job (bench/nop where
# it builds, else true(1)): `queue run -jJ` (claim, spawn, acknowledge)
# against `pool -jJ` reading the file (pool's per-job cost is the limit:
# run adds a lock round and a journal commit per message).
if section 4; then
	if [ "$QUICK" = 1 ]; then NR=300 rrounds=1; else NR=2000 rrounds=3; fi
	if ${CC:-cc} -O2 -static -nostdlib -o bench/bin/nop bench/nop.c 2>/dev/null; then
		runjob=$top/bench/bin/nop
	else
		runjob=$(type -P true)
	fi
	seq "$NR" >"$work/items"
	J=$(nproc)
	run_wk_pool() { "$top/bin/pool" -j"$J" -a "$work/items" "$runjob"; }
	run_wk_run() {
		"$Q" rm w 2>/dev/null
		"$Q" put w <"$work/items" && "$Q" close w &&
		    "$Q" run -j"$J" w "$runjob"
	}
	say "queue: run against pool"
	alternate "$rrounds" wk wk_pool wk_run
	table_start "queue run against pool: $NR messages, each run once by $(basename "$runjob") with -j$J, median of $rrounds alternating round(s)" \
	    "runner" "per message" "over pool"
	table_row "pool -a FILE (limit)" "$(fmt_us "$(calc "$(med wk wk_pool) / $NR" %.0f)")" "1.00x"
	table_row "queue put FILE; queue run" "$(fmt_us "$(calc "$(med wk wk_run) / $NR" %.0f)")" "$(fmt_x "$(ratio_med wk wk_run wk_pool)")"
	table_end
fi
