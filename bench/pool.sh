#!/bin/bash
# bench/pool.sh: pool against its peers and the physical limit.
#
# A job is one run of bench/nop (nop.c: a static program that exits at
# once, so that what is measured is the pool's cost per job, not the
# dynamic loader's) with the item as its argument; true(1) where nop.c
# does not build. Contenders:
#   limit     bench/spawnloop.c: a bare vfork + execve + wait loop keeping
#             J jobs in flight (the physical limit of a process pool)
#   spawn     the same loop with posix_spawn (glibc's costs a stack mmap
#             and munmap per call); in the -j series only
#   pool      bin/pool -j J JOB
#   xargs     xargs -P J -n 1 JOB
#   moreutils moreutils' parallel -j J JOB -- ITEMS...
#   gnu       GNU parallel -j J JOB (run on a tenth of the jobs in the -j
#             series: it costs tens of times more per job, and a per-job
#             figure is what is compared)
# 1. Per-job time (wall time / jobs) against -j = 1, 2, 4, 8, 16.
# 2. What --memfree and --load cost when far from binding (1 MiB free
#    asked, a load of 1000 allowed): per-job time against plain pool's.
# 3. Per-job time against the number of jobs (1e2 to 1e5, at -j = cores):
#    flat lines mean no cost grows with the job count.
# 4. --pipe throughput: a file through wc -l, plain and in 1M and 64M
#    blocks, against GNU parallel --pipe; and the same stream through a
#    pipe (cat FILE |), against cat FILE | wc -l.
# Process creation costs very different amounts on different machines, so
# the job counts are sized from a first measurement of every contender to
# keep each series within its time budget; points that would not fit are
# skipped with a note. BENCH_QUICK=1 makes a short run.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init pool

build spawnloop
gnu_parallel
moreutils_parallel
if ${CC:-cc} -O2 -static -nostdlib -o bench/bin/nop bench/nop.c 2>/dev/null; then
	job=$PWD/bench/bin/nop jobname=nop
else
	job=$(type -P true) jobname=true
	note "pool: bench/nop.c does not build on $(uname -m): the jobs run true(1), whose start costs several times more"
fi

if [ "$QUICK" = 1 ]; then
	rounds=1 budget_j=12 budget_n=15 counts="30 100 1000" mib=32
	jays="1 2 4 16"
else
	rounds=3 budget_j=60 budget_n=250 counts="100 1000 2000 10000 100000" mib=1024
	jays="1 2 4 8 16"
fi

run_limit() { bench/bin/spawnloop "$n" "$j" "$job"; }
run_spawn() { bench/bin/spawnloop -p "$n" "$j" "$job"; }
run_pool() { bin/pool -j "$j" "$job" <"$work/items.$n"; }
run_poolk() { bin/pool -k -j "$j" "$job" <"$work/items.$n"; }
run_xargs() { xargs -P "$j" -n 1 "$job" <"$work/items.$n"; }
run_moreutils() { xargs "$MU_PARALLEL" -j "$j" "$job" -- <"$work/items.$n"; }
run_gnu() { "$GNU_PARALLEL" -j "$j" "$job" <"$work/items.$ngnu"; }

cases=(limit spawn pool poolk xargs)
[ -n "$MU_PARALLEL" ] && cases+=(moreutils)
[ -n "$GNU_PARALLEL" ] && cases+=(gnu)
label() {
	case $1 in
	limit) echo "vfork+exec+wait loop (limit)" ;;
	spawn) echo "posix_spawn+wait loop" ;;
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
# cells KEY CASE...: append to $row (CSV) and $cells (table) each CASE's
# per-job time and its ratio to the limit, or a dash for a case not run.
cells() {
	local key=$1 x
	shift
	for x in "${cases[@]}"; do
		case " $* " in
		*" $x "*)
			row="$row,$(per_job "$key" "$x")"
			cells+=("$(per_job "$key" "$x") ($(fmt_x "$(vs_limit "$key" "$x")"))")
			;;
		*) row="$row," cells+=("-") ;;
		esac
	done
}

# Calibration: what one job costs each contender at -j cores, in µs (100
# jobs; 20 for GNU parallel, whose start-up then counts for much).
declare -A cost
j=$CORES n=100 ngnu=20
seq "$n" >"$work/items.$n"
seq "$ngnu" >"$work/items.$ngnu"
for x in "${cases[@]}"; do
	cost[$x]=$(($(time_us "run_$x") / $(jobs_of "$x") + 1))
done
say "pool: µs per $jobname job at -j$j: $(for x in "${cases[@]}"; do printf '%s %s  ' "$x" "${cost[$x]}"; done)"

# --- 1. per-job time against -j ---------------------------------------
# One round at every -j costs n µs times each contender's per-job cost
# (a tenth of it for GNU parallel); n is sized to the budget, in 50s.
per_n=0
for x in "${cases[@]}"; do
	if [ "$x" = gnu ]; then
		per_n=$((per_n + cost[$x] / 10))
	else
		per_n=$((per_n + cost[$x]))
	fi
done
n=$(awk -v b="$budget_j" -v r="$rounds" -v js="$(echo "$jays" | wc -w)" -v p="$per_n" 'BEGIN {
	n = int(b * 1e6 / (r * js * p * 1.1) / 50) * 50
	print (n < 50 ? 50 : n > 5000 ? 5000 : n) }')
ngnu=$((n / 10 < 20 ? 20 : n / 10))
seq "$n" >"$work/items.$n"
seq "$ngnu" >"$work/items.$ngnu"
say "pool: per-job time against -j: $n jobs ($ngnu for GNU parallel), $rounds round(s)"
labels=()
for x in "${cases[@]}"; do labels+=("$(label "$x")"); done
csv_start pool_jobs_vs_j "jobs at once (-j)" "${labels[@]}"
table_start "Per-job time (µs, wall time / jobs) against -j; $n jobs of \`$jobname\` ($ngnu for GNU parallel), median of $rounds alternating round(s); in brackets: time over the vfork loop's" \
    "-j" "${labels[@]}"
for j in $jays; do
	alternate "$rounds" "j$j" "${cases[@]}"
	row=$j cells=()
	cells "j$j" "${cases[@]}"
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
headline pool "$n \`$jobname\` jobs, -j$j" "$(per_job "j$j" pool) µs/job" \
    "$(label "$best") -j$j" "$bestr" "vfork+exec+wait loop" "$(vs_limit "j$j" pool)"

# --- 2. --memfree and --load far from binding, at -j cores -------------
run_plainpool() { bin/pool -j "$CORES" "$job" <"$work/items.$n"; }
run_memfree() { bin/pool --memfree 1M -j "$CORES" "$job" <"$work/items.$n"; }
run_load() { bin/pool --load 1000 -j "$CORES" "$job" <"$work/items.$n"; }
say "pool: --memfree and --load far from binding, $n jobs"
alternate "$rounds" sched plainpool memfree load
table_start "--memfree and --load far from binding: per-job time (µs), $n jobs of \`$jobname\`, -j$CORES, median of $rounds alternating round(s); in brackets: time over plain pool's" \
    "command" "per job" "over plain pool"
for x in plainpool memfree load; do
	case $x in
	plainpool) name="pool" ;;
	memfree) name="pool --memfree 1M" ;;
	load) name="pool --load 1000" ;;
	esac
	table_row "$name" "$(calc "$(med sched "$x") / $n" %.0f)" "$(fmt_x "$(ratio_med sched "$x" plainpool)")"
done
table_end

# --- 3. per-job time against the number of jobs ------------------------
# The plan, from the calibration: every count gets one round of the limit
# and pool; counts that do not fit even that are skipped, from the
# largest. What the budget has left then buys, from the smallest count
# up, the other contenders (GNU parallel only within a twentieth of the
# budget), and then up to three rounds.
j=$CORES
budget_us=$((budget_n * 1000000))
kept=() need=0
for n in $counts; do
	add=$((n * (cost[limit] + cost[pool])))
	if [ $((need + add)) -gt "$budget_us" ]; then
		note "pool: $n jobs skipped: about $((add / 1000000)) s for one round of the limit and pool here, over the time budget"
		continue
	fi
	kept+=("$n")
	need=$((need + add))
done
left=$((budget_us - need))
declare -A these per_round nrounds
for n in "${kept[@]}"; do
	these[$n]="limit pool" per_round[$n]=$((n * (cost[limit] + cost[pool]))) nrounds[$n]=1
	for x in poolk xargs moreutils gnu; do
		case " ${cases[*]} " in *" $x "*) ;; *) continue ;; esac
		add=$((n * cost[$x]))
		[ "$x" = gnu ] && [ "$add" -gt $((budget_us / 20)) ] && continue
		[ "$add" -gt "$left" ] && continue
		these[$n]="${these[$n]} $x"
		per_round[$n]=$((per_round[$n] + add))
		left=$((left - add))
	done
done
for n in "${kept[@]}"; do
	while [ "${nrounds[$n]}" -lt 3 ] && [ "${per_round[$n]}" -le "$left" ]; do
		nrounds[$n]=$((nrounds[$n] + 1))
		left=$((left - per_round[$n]))
	done
done
csv_start pool_jobs_vs_n jobs "${labels[@]}"
table_start "Per-job time (µs) against the number of jobs, -j$j; in brackets: time over the vfork loop's; a dash: not run within the time budget" \
    "jobs" "${labels[@]}"
for n in "${kept[@]}"; do
	ngnu=$n
	seq "$n" >"$work/items.$n"
	read -ra run <<<"${these[$n]}"
	say "pool: $n jobs: ${run[*]}, ${nrounds[$n]} round(s)"
	alternate "${nrounds[$n]}" "n$n" "${run[@]}"
	row=$n cells=()
	cells "n$n" "${run[@]}"
	csv_row pool_jobs_vs_n "$row"
	table_row "$n" "${cells[@]}"
done
table_end
plot pool_jobs_vs_n "pool: time per job against the number of jobs (-j$j)" "jobs" "µs per job (wall / jobs)" logx logy

# --- 4. --pipe throughput ------------------------------------------------
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
