#!/bin/bash
# bench/pool.sh: pool against its peers and the physical limit.
#
# A job is one run of true(1) with the item as its argument. Contenders:
#   limit     bench/spawnloop.c: a bare posix_spawn + wait loop keeping J
#             jobs in flight (the physical limit of a process pool)
#   pool      bin/pool -j J true
#   xargs     xargs -P J -n 1 true
#   moreutils moreutils' parallel -j J true -- ITEMS...
#   gnu       GNU parallel -j J true (run on a tenth of the jobs: it costs
#             about ten times more per job, and a per-job figure is what
#             is compared)
# 1. Per-job time (wall time / jobs) against -j = 1, 2, 4, 8, 16.
# 2. Per-job time against the number of jobs (1e3 to 1e5, at -j = cores):
#    flat lines mean no cost grows with the job count.
# 3. --pipe throughput: a file through wc -l, plain and in 1M and 64M
#    blocks, against GNU parallel --pipe; and the same stream through a
#    pipe (cat FILE |), against cat FILE | wc -l.
# Process creation costs very different amounts on different machines, so
# the job counts are sized from a first measurement of the spawn loop to
# keep the run within its time budget; points that would not fit are
# skipped with a note. BENCH_QUICK=1 makes a short run.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init pool

build spawnloop
gnu_parallel
moreutils_parallel
true_bin=$(type -P true)

if [ "$QUICK" = 1 ]; then
	rounds=1 budget_j=12 budget_n=10 counts="30 100 1000" mib=32
	jays="1 2 4 16"
else
	rounds=3 budget_j=75 budget_n=260 counts="100 1000 2000 10000 100000" mib=1024
	jays="1 2 4 8 16"
fi

# What one job costs at -j cores in the spawn loop, in µs (calibration).
t=$(time_us bench/bin/spawnloop 200 "$CORES" "$true_bin")
c=$((t / 200))
say "pool: a job costs about $c µs in the spawn loop at -j$CORES"

# n_for BUDGET_S FACTOR: the job count whose run fits BUDGET_S seconds when
# a job costs FACTOR spawn-loop jobs (between 50 and 2000, in 50s).
n_for() {
	awk -v b="$1" -v f="$2" -v c="$c" 'BEGIN {
		n = int(b * 1e6 / (c * f) / 50) * 50
		print (n < 50 ? 50 : n > 2000 ? 2000 : n) }'
}

run_limit() { bench/bin/spawnloop "$n" "$j" "$true_bin"; }
run_pool() { bin/pool -j "$j" "$true_bin" <"$work/items.$n"; }
run_poolk() { bin/pool -k -j "$j" "$true_bin" <"$work/items.$n"; }
run_xargs() { xargs -P "$j" -n 1 "$true_bin" <"$work/items.$n"; }
run_moreutils() { xargs "$MU_PARALLEL" -j "$j" "$true_bin" -- <"$work/items.$n"; }
run_gnu() { "$GNU_PARALLEL" -j "$j" "$true_bin" <"$work/items.$ngnu"; }

cases=(limit pool poolk xargs)
[ -n "$MU_PARALLEL" ] && cases+=(moreutils)
[ -n "$GNU_PARALLEL" ] && cases+=(gnu)
label() {
	case $1 in
	limit) echo "posix_spawn+waitpid loop (limit)" ;;
	pool) echo "pool" ;;
	poolk) echo "pool -k" ;;
	xargs) echo "xargs -P" ;;
	moreutils) echo "moreutils parallel" ;;
	gnu) echo "GNU parallel" ;;
	esac
}
# jobs_of CASE: how many jobs CASE ran.
jobs_of() { if [ "$1" = gnu ]; then echo "$ngnu"; else echo "$n"; fi; }
# per_job KEY CASE: median µs per job.
per_job() { calc "$(med "$1" "$2") / $(jobs_of "$2")" %.0f; }
# vs_limit KEY CASE: the median same-round ratio of per-job times.
vs_limit() { calc "$(ratio_med "$1" "$2" limit) * $n / $(jobs_of "$2")" %.3f; }

# --- 1. per-job time against -j ---------------------------------------
# -j 1 costs about twice as much per job as -j cores; GNU parallel about
# ten times as much on a tenth of the jobs.
ncases=${#cases[@]}
n=$(n_for "$budget_j" "$(calc "$rounds * $(echo "$jays" | wc -w) * $ncases * 1.2")")
ngnu=$(( n / 10 < 20 ? 20 : n / 10 ))
seq "$n" >"$work/items.$n"
seq "$ngnu" >"$work/items.$ngnu"
say "pool: per-job time against -j: $n jobs ($ngnu for GNU parallel), $rounds round(s)"
labels=()
for x in "${cases[@]}"; do labels+=("$(label "$x")"); done
csv_start pool_jobs_vs_j "jobs at once (-j)" "${labels[@]}"
table_start "Per-job time (µs, wall time / jobs) against -j; $n jobs of \`true\` ($ngnu for GNU parallel), median of $rounds alternating round(s); in brackets: time over the spawn loop's" \
    "-j" "${labels[@]}"
for j in $jays; do
	alternate "$rounds" "j$j" "${cases[@]}"
	row=$j cells=()
	for x in "${cases[@]}"; do
		row="$row,$(per_job "j$j" "$x")"
		cells+=("$(per_job "j$j" "$x") ($(fmt_x "$(vs_limit "j$j" "$x")"))")
	done
	csv_row pool_jobs_vs_j "$row"
	table_row "$j" "${cells[@]}"
done
table_end
plot pool_jobs_vs_j "pool: time per job against -j" "jobs at once (-j)" "µs per job (wall / jobs)" logx logy

# Headline: the -j cores point (or the nearest measured -j above it).
for j in $jays; do [ "$j" -ge "$CORES" ] && break; done
best="" bestr=""
for x in xargs moreutils gnu; do
	case " ${cases[*]} " in *" $x "*) ;; *) continue ;; esac
	r=$(calc "$(per_job "j$j" pool) / $(per_job "j$j" "$x")" %.3f)
	if [ -z "$bestr" ] || awk -v a="$r" -v b="$bestr" 'BEGIN { exit !(a > b) }'; then
		best=$x bestr=$r
	fi
done
headline pool "$n \`true\` jobs, -j$j" "$(per_job "j$j" pool) µs/job" \
    "$(label "$best") -j$j" "$bestr" "posix_spawn+waitpid loop" "$(vs_limit "j$j" pool)"

# --- 2. per-job time against the number of jobs ------------------------
j=$CORES
csv_start pool_jobs_vs_n jobs "${labels[@]}"
table_start "Per-job time (µs) against the number of jobs, -j$j; in brackets: time over the spawn loop's" \
    "jobs" "${labels[@]}"
spent=0
for n in $counts; do
	# Each count is one alternating round of every fast contender (three
	# for the smallest counts); GNU parallel and moreutils join in where
	# they fit their tenth of the budget.
	# pool -k runs up to 2000 jobs (the count of the pool issue's table).
	fast=3
	[ "$n" -le 2000 ] && fast=4
	est=$(calc "$n * $c * $fast / 1e6" %.0f)
	if [ $((spent + est)) -gt "$budget_n" ]; then
		note "pool: $n jobs skipped: about $est s a round here, over the time budget"
		continue
	fi
	r=$(calc "($budget_n - $spent) / $fast / ($est + 1)" %.0f)
	[ "$r" -gt 3 ] && r=3
	[ "$r" -lt 1 ] && r=1
	these=(limit pool xargs)
	[ "$fast" = 4 ] && these+=(poolk)
	for x in moreutils gnu; do
		case " ${cases[*]} " in *" $x "*) ;; *) continue ;; esac
		f=1
		[ $x = gnu ] && f=10
		[ "$(calc "$n * $c * $f * $r / 1e6" %.0f)" -le $((budget_n / 10)) ] &&
		    these+=("$x")
	done
	ngnu=$n
	seq "$n" >"$work/items.$n"
	say "pool: $n jobs: ${these[*]}, $r round(s)"
	t0=$(now_us)
	alternate "$r" "n$n" "${these[@]}"
	spent=$((spent + ($(now_us) - t0) / 1000000))
	row=$n cells=()
	for x in "${cases[@]}"; do
		case " ${these[*]} " in
		*" $x "*)
			row="$row,$(per_job "n$n" "$x")"
			cells+=("$(per_job "n$n" "$x") ($(fmt_x "$(vs_limit "n$n" "$x")"))")
			;;
		*) row="$row," cells+=("-") ;;
		esac
	done
	csv_row pool_jobs_vs_n "$row"
	table_row "$n" "${cells[@]}"
done
table_end
plot pool_jobs_vs_n "pool: time per job against the number of jobs (-j$j)" "jobs" "µs per job (wall / jobs)" logx logy

# --- 3. --pipe throughput ------------------------------------------------
bytes=$((mib * 1024 * 1024))
yes 'a line of text, about forty bytes long.' | head -c "$bytes" >"$work/stream"
run_plain() { wc -l <"$work/stream"; }
run_pipe1m() { bin/pool --pipe -j "$CORES" wc -l <"$work/stream"; }
run_pipe64m() { bin/pool --pipe --block 64M -j "$CORES" wc -l <"$work/stream"; }
run_gnupipe64m() { "$GNU_PARALLEL" --pipe --block 64M -j "$CORES" wc -l <"$work/stream"; }
# The stream through a pipe on purpose: cat is the producer.
# shellcheck disable=SC2002
run_catplain() { cat "$work/stream" | wc -l; }
# shellcheck disable=SC2002
run_catpipe16m() { cat "$work/stream" | bin/pool --pipe --block 16M -j "$CORES" wc -l; }
# shellcheck disable=SC2002
run_catpipe64m() { cat "$work/stream" | bin/pool --pipe --block 64M -j "$CORES" wc -l; }
pipes=(plain pipe1m pipe64m catplain catpipe16m catpipe64m)
[ -n "$GNU_PARALLEL" ] && pipes+=(gnupipe64m)
say "pool: --pipe, $mib MiB"
alternate 2 pipe "${pipes[@]}"
table_start "--pipe throughput: $mib MiB of 40-byte lines through \`wc -l\`, -j$CORES, median of 2 alternating rounds" \
    "command" "time" "MB/s" "time over the limit's"
for x in "${pipes[@]}"; do
	case $x in
	plain) name="wc -l alone (limit)" ;;
	pipe1m) name="pool --pipe (1M blocks)" ;;
	pipe64m) name="pool --pipe --block 64M" ;;
	gnupipe64m) name="GNU parallel --pipe --block 64M" ;;
	catplain) name="cat FILE | wc -l (limit from a pipe)" ;;
	catpipe16m) name="cat FILE | pool --pipe --block 16M" ;;
	catpipe64m) name="cat FILE | pool --pipe --block 64M" ;;
	esac
	m=$(med pipe "$x")
	case $x in
	cat*) base=catplain ;;
	*) base=plain ;;
	esac
	table_row "$name" "$(fmt_us "$m")" "$(calc "$bytes / $m" %.0f)" "$(fmt_x "$(ratio_med pipe "$x" "$base")")"
done
table_end
