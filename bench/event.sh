#!/bin/bash
# bench/event.sh: how fast one `event set` releases its waiters, against
# the physical limit, and what a set + wait pair costs. The method is
# bench/barrier.sh's (bench/barrier_lat.c).
#
# Release spread: N processes run `event wait NAME -- xline` (xline.c: a
# static program without a C library that writes one line), one `event
# set` releases them, and the kernel timestamps each line as it is sent;
# the spread is the time from the first line to the last. The limit is N
# forked children sleeping in FUTEX_WAIT on one word, woken by one
# FUTEX_WAKE, each then executing the same xline (plus the waker's own
# line, as for barrier). The runs alternate; each figure is the median of
# the rounds' medians. The third column is from the set's spawn to the
# last line.
# Then the cost of one `event set` + `event wait` pair (the wait finds the
# event set) against two spawns of true.
# BENCH_QUICK=1 makes a short run.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init event

build barrier_lat
bin=$top/bin/event
lat=$top/bench/bin/barrier_lat
xline=$top/bench/bin/xline
export CONC_DIR=$work/ns
${CC:-cc} -static -nostdlib -o "$xline" bench/xline.c 2>/dev/null || {
	note "event: bench/xline.c does not build on $(uname -m)"
	exit 0
}
if [ "$QUICK" = 1 ]; then
	rounds=1 waiters="10 100" spawns=30
else
	rounds=3 waiters="2 10 100 500 1000" spawns=200
fi

csv_start event_release_vs_waiters waiters event "futex broadcast (limit)" \
    "event from the set's spawn"
table_start "Release spread (µs, first released waiter to last) against waiters; median of $rounds alternating round(s), each the median of several releases" \
    "waiters" "event" "futex broadcast (limit)" "event over limit" "event, from the set's spawn"
for n in $waiters; do
	reps=$((40 / n))
	[ $reps -gt 9 ] && reps=9
	[ $reps -lt 1 ] && reps=1
	say "event: $n waiters, $rounds x $reps release(s)"
	for ((r = 0; r < rounds; r++)); do
		"$lat" event "$bin" "$n" "$reps" "$xline" >"$work/out" || exit 1
		read -r s t <"$work/out"
		echo "$s" >>"$work/e$n"
		echo "$t" >>"$work/t$n"
		"$lat" futex $((n + 1)) "$reps" "$xline" >>"$work/f$n" || exit 1
	done
	e=$(median <"$work/e$n") f=$(median <"$work/f$n") t=$(median <"$work/t$n")
	csv_row event_release_vs_waiters "$n,$e,$f,$t"
	ratio=$(awk -v e="$e" -v f="$f" 'BEGIN { if (f > 0) printf "%.2fx", e / f; else print "-" }')
	table_row "$n" "$e" "$f" "$ratio" "$t"
	[ "$n" = 100 ] && headline event "release of 100 waiters (spread)" "$(fmt_us "$e")" \
	    "(no peer)" "" "futex broadcast" "$(awk -v e="$e" -v f="$f" 'BEGIN { if (f > 0) printf "%.3f", e / f }')"
done
table_end
plot event_release_vs_waiters "event: release spread against waiters" "waiters" "µs, first released waiter to last" logx logy

"$bin" create one
say "event: cost of a set + wait pair"
for ((r = 0; r < rounds + 2; r++)); do
	"$lat" spawn "$spawns" "$bin" set one >>"$work/call.set" || exit 1
	"$lat" spawn "$spawns" "$bin" wait one >>"$work/call.wait" || exit 1
	"$lat" spawn "$spawns" "$(type -P true)" >>"$work/call.true" || exit 1
done
s=$(median <"$work/call.set") w=$(median <"$work/call.wait") b=$(median <"$work/call.true")
table_start "Cost of one call (posix_spawn + waitpid; median of $((rounds + 2)) alternating rounds, each the median of $spawns calls)" \
    "command" "per call" "over a spawn of true"
table_row "event set" "$(fmt_us "$s")" "$(fmt_x "$(calc "$s / $b" %.3f)")"
table_row "event wait (set)" "$(fmt_us "$w")" "$(fmt_x "$(calc "$w / $b" %.3f)")"
table_row "set + wait pair" "$(fmt_us "$(calc "$s + $w" %.1f)")" "$(fmt_x "$(calc "($s + $w) / (2 * $b)" %.3f)") (over two)"
table_row "true (the limit)" "$(fmt_us "$b")" "1.00x"
table_end
headline event "one \`event set\` + \`event wait\` pair" "$(fmt_us "$(calc "$s + $w" %.1f)")" "(no peer)" "" \
    "two spawns of true" "$(calc "($s + $w) / (2 * $b)" %.3f)"
