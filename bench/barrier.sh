#!/bin/bash
# bench/barrier.sh: how fast a barrier releases its parties, against the
# physical limit, and what one `barrier wait -n 1` costs.
#
# Release spread (bench/barrier_lat.c): N parties each write a line to one
# datagram socket as soon as they are released, and the kernel timestamps
# each line when it is sent; the spread is the time from the first line to
# the last, i.e. how long one release takes to make every party run. For `barrier` the parties are `barrier wait -i` processes; for the
# limit they are forked children sleeping in FUTEX_WAIT on one word, woken
# by one FUTEX_WAKE. Measured against N = 2 .. 1000 parties; the runs
# alternate, and each figure is the median of the rounds' medians. The
# second barrier column adds the spawn of the last arrival (from its
# posix_spawn to the last line).
# Then the cost of one `barrier wait -n 1` against a spawn of true.
# BENCH_QUICK=1 makes a short run.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init barrier

build barrier_lat
bin=$top/bin/barrier
lat=$top/bench/bin/barrier_lat
export CONC_DIR=$work/ns
if [ "$QUICK" = 1 ]; then
	rounds=1 parties="2 10 100" spawns=30
else
	rounds=3 parties="2 5 10 20 50 100 200 500 1000" spawns=200
fi

csv_start barrier_release_vs_parties parties barrier "futex broadcast (limit)" \
    "barrier from the last arrival's spawn"
table_start "Release spread (µs, first released party to last) against parties; median of $rounds alternating round(s) (2 from 500 parties on), each the median of several releases" \
    "parties" "barrier" "futex broadcast (limit)" "barrier over limit" "barrier, from the last arrival's spawn"
for n in $parties; do
	# Fewer releases per round as N grows: each spawns N processes.
	reps=$((40 / n))
	[ $reps -gt 9 ] && reps=9
	[ $reps -lt 1 ] && reps=1
	# From 500 parties on, two rounds: each spawns hundreds of processes.
	nr=$rounds
	[ "$n" -ge 500 ] && [ "$nr" -gt 2 ] && nr=2
	say "barrier: $n parties, $nr x $reps release(s)"
	for ((r = 0; r < nr; r++)); do
		"$lat" tool "$bin" "$n" "$reps" >"$work/out" || exit 1
		read -r s t <"$work/out"
		echo "$s" >>"$work/b$n"
		echo "$t" >>"$work/t$n"
		"$lat" futex "$n" "$reps" >>"$work/f$n" || exit 1
	done
	b=$(median <"$work/b$n") f=$(median <"$work/f$n") t=$(median <"$work/t$n")
	csv_row barrier_release_vs_parties "$n,$b,$f,$t"
	ratio=$(awk -v b="$b" -v f="$f" 'BEGIN { if (f > 0) printf "%.2fx", b / f; else print "-" }')
	table_row "$n" "$b" "$f" "$ratio" "$t"
	[ "$n" = 100 ] && headline barrier "release of 100 parties (spread)" "$(fmt_us "$b")" \
	    "(no peer)" "" "futex broadcast" "$(awk -v b="$b" -v f="$f" 'BEGIN { if (f > 0) printf "%.3f", b / f }')"
done
table_end
plot barrier_release_vs_parties "barrier: release spread against parties" "parties" "µs, first released party to last" logx logy

"$bin" wait -n 1 one
say "barrier: cost of one call"
for ((r = 0; r < rounds + 2; r++)); do
	"$lat" spawn "$spawns" "$bin" wait -n 1 one >>"$work/call.barrier" || exit 1
	"$lat" spawn "$spawns" "$(type -P true)" >>"$work/call.true" || exit 1
done
a=$(median <"$work/call.barrier") b=$(median <"$work/call.true")
table_start "Cost of one call (posix_spawn + waitpid; median of $((rounds + 2)) alternating rounds, each the median of $spawns calls)" \
    "command" "per call" "over a spawn of true"
table_row "barrier wait -n 1" "$(fmt_us "$a")" "$(fmt_x "$(calc "$a / $b" %.3f)")"
table_row "true (the limit)" "$(fmt_us "$b")" "1.00x"
table_end
headline barrier "one \`barrier wait -n 1\`" "$(fmt_us "$a")" "(no peer)" "" \
    "a spawn of true" "$(calc "$a / $b" %.3f)"
