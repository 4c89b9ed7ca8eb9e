#!/bin/bash
# bench/parallel.sh: how fast parallel moves the lines of many commands.
#
# N writers (bench/lines.c) together produce TOTAL bytes of lines and one
# reader merges them into /dev/null:
#   limit      the N writers share one pipe, read by cat (no prefix, and
#              lines stay whole only because writes are below PIPE_BUF)
#   parallel   bin/parallel with its default prefix ("1 | ")
#   pty        the same with --pty: each writer on a pseudo-terminal
#              (section 1 only)
#   gnu        GNU parallel --line-buffer --tag -j N (tag "1<TAB>")
#   moreutils  moreutils' parallel -j N -- CMD... (children write straight
#              to the shared output: neither prefixed nor line-safe)
# 1. At N = 4, with 2-byte ("y", like yes) and 64-byte lines: MB/s of
#    input and CPU seconds (user+system, all processes) per GB.
# 2. Throughput against N = 2 .. 500, 64-byte lines.
# Contenders alternate; figures are medians, ratios the median of the
# same-round ratios. BENCH_QUICK=1 makes a short run.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init parallel

build lines
gnu_parallel
moreutils_parallel
lines=$top/bench/bin/lines
ours=$top/bin/parallel

if [ "$QUICK" = 1 ]; then
	rounds=1 total=$((16 << 20)) short=$((2 << 20))
	ntotal=$((4 << 20)) ns="2 8 32 128"
else
	rounds=3 total=$((128 << 20)) short=$((8 << 20))
	ntotal=$((16 << 20)) ns="2 4 8 16 32 64 128 256 500"
fi
# The series has many points, each dominated by process start-up when N
# is large: two rounds each, one from 128 commands on.
nrounds=$((rounds < 2 ? rounds : 2))
# GNU parallel starts a job in tens of milliseconds: past this many
# commands it would take most of the run's time.
gnu_max=64

# Each run_* uses $n writers of $each bytes of $len-byte lines.
run_limit() {
	local i
	{
		for ((i = 1; i <= n; i++)); do "$lines" "$each" "$len" & done
		wait
	} | cat >/dev/null
}
run_parallel() {
	local i cmds=()
	for ((i = 1; i <= n; i++)); do cmds+=("$lines $each $len"); done
	"$ours" "${cmds[@]}"
}
run_pty() {
	local i cmds=()
	for ((i = 1; i <= n; i++)); do cmds+=("$lines $each $len"); done
	"$ours" --pty "${cmds[@]}"
}
run_gnu() {
	"$GNU_PARALLEL" --line-buffer --tag -j "$n" "$lines" "$each" "$len" \
	    ::: $(seq "$n")
}
run_moreutils() {
	local i cmds=()
	for ((i = 1; i <= n; i++)); do cmds+=("$lines $each $len"); done
	"$MU_PARALLEL" -j "$n" -- "${cmds[@]}"
}

cases=(limit parallel)
[ -n "$GNU_PARALLEL" ] && cases+=(gnu)
[ -n "$MU_PARALLEL" ] && cases+=(moreutils)
label() {
	case $1 in
	limit) echo "N writers into one pipe (limit)" ;;
	parallel) echo "parallel" ;;
	pty) echo "parallel --pty" ;;
	gnu) echo "GNU parallel --line-buffer --tag" ;;
	moreutils) echo "moreutils parallel (not line-safe)" ;;
	esac
}
mbs() { calc "$1 / $(med "$2" "$3")" %.0f; }  # mbs BYTES KEY CASE

# --- 1. four writers, short and long lines ----------------------------
# timed_cpu KEY CASE: one run; its wall time (µs) goes to $work/KEY.CASE
# and its CPU time (the children's user+system from bash's times, in
# seconds) to $work/cpu.KEY.CASE.
# (times runs in this shell: in a subshell it would see no children.)
timed_cpu() {
	local a b
	times >"$work/times"
	a=$(tail -n 1 "$work/times" | sed 's/m/ /g; s/s//g')
	time_us "run_$2" >>"$work/$1.$2"
	times >"$work/times"
	b=$(tail -n 1 "$work/times" | sed 's/m/ /g; s/s//g')
	echo "$a $b" | awk '{ printf "%.3f\n", ($5 * 60 + $6 + $7 * 60 + $8) - ($1 * 60 + $2 + $3 * 60 + $4) }' >>"$work/cpu.$1.$2"
}
table_start "Four writers, merged into /dev/null; median of $rounds alternating round(s)" \
    "line length" "command" "MB/s" "CPU s/GB" "time over the pipe's"
n=4
four=("${cases[@]}" pty)
for len in 2 64; do
	if [ $len = 2 ]; then bytes=$short; else bytes=$total; fi
	each=$((bytes / n))
	say "parallel: 4 writers, $len-byte lines, $((bytes >> 20)) MiB"
	for ((r = 0; r < rounds; r++)); do
		for x in "${four[@]}"; do
			timed_cpu "l$len" "$x"
		done
	done
	for x in "${four[@]}"; do
		table_row "$len bytes" "$(label "$x")" "$(mbs "$bytes" "l$len" "$x")" \
		    "$(calc "$(median <"$work/cpu.l$len.$x") * 1e9 / $bytes" %.2f)" \
		    "$(fmt_x "$(ratio_med "l$len" "$x" limit)")"
	done
done
table_end
for len in 64 2; do
	if [ -n "$GNU_PARALLEL" ]; then
		headline parallel "4 writers, $len-byte lines, prefixed" \
		    "$(mbs "$([ $len = 2 ] && echo "$short" || echo "$total")" "l$len" parallel) MB/s" \
		    "GNU parallel --line-buffer --tag" \
		    "$(ratio_med "l$len" parallel gnu)" \
		    "N writers into one pipe" "$(ratio_med "l$len" parallel limit)"
	else
		headline parallel "4 writers, $len-byte lines, prefixed" \
		    "$(mbs "$([ $len = 2 ] && echo "$short" || echo "$total")" "l$len" parallel) MB/s" \
		    "-" "" "N writers into one pipe" "$(ratio_med "l$len" parallel limit)"
	fi
done

# --- 2. throughput against the number of commands ------------------------
len=64
labels=()
for x in "${cases[@]}"; do labels+=("$(label "$x")"); done
csv_start parallel_throughput_vs_n commands "${labels[@]}"
table_start "Throughput (MB/s of input) against the number of commands; $((ntotal >> 20)) MiB of 64-byte lines in all, median of $nrounds alternating round(s) (one from 128 commands on); in brackets: time over the pipe's" \
    "commands" "${labels[@]}"
for n in $ns; do
	each=$((ntotal / n / len * len))
	these=()
	for x in "${cases[@]}"; do
		[ "$x" = gnu ] && [ "$n" -gt $gnu_max ] && continue
		these+=("$x")
	done
	r=$nrounds
	[ "$n" -ge 128 ] && r=1
	say "parallel: $n commands, $r round(s)"
	alternate "$r" "n$n" "${these[@]}"
	row=$n cells=()
	for x in "${cases[@]}"; do
		if [ ! -s "$work/n$n.$x" ]; then
			row="$row," cells+=("-")
			continue
		fi
		row="$row,$(mbs $((each * n)) "n$n" "$x")"
		cells+=("$(mbs $((each * n)) "n$n" "$x") ($(fmt_x "$(ratio_med "n$n" "$x" limit)"))")
	done
	csv_row parallel_throughput_vs_n "$row"
	table_row "$n" "${cells[@]}"
done
[ -n "$GNU_PARALLEL" ] && note "GNU parallel runs up to $gnu_max commands only: it starts a job in tens of milliseconds"
table_end
plot parallel_throughput_vs_n "parallel: throughput against the number of commands" "commands at once" "MB/s of input (64-byte lines)" logx
