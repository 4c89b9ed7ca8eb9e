#!/bin/bash
# bench/io.sh: the classic "930 downloads with 4 workers" comparison, and
# its CPU-bound counterpart.
#
# I/O-bound: bench/httpd.c serves 930 small files on 127.0.0.1, waiting a
# fixed latency before each answer (a thread per connection, so waits
# overlap); curl fetches them all: one after the other from a shell loop,
# with `pool -j4`, `xargs -P4` and GNU `parallel -j4`. The limit is the
# serial time divided by 4.
# CPU-bound: jobs of bench/cpuburn.c (about 50 ms of arithmetic each on a
# current CPU), serially and with -j = cores; the limit is the serial time
# divided by the number of cores.
# Runners alternate; figures are medians; speed-up = serial time / time.
# BENCH_QUICK=1 makes a short run.
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
bench_init io

build httpd
build cpuburn
gnu_parallel
if [ "$QUICK" = 1 ]; then
	rounds=1 files=93 delay=20 cpujobs=8 budget=25
else
	rounds=2 files=930 delay=20 cpujobs=48 budget=280
fi
size=2048 burn=20
less() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# --- I/O-bound -------------------------------------------------------------
if need curl curl; then
	bench/bin/httpd "$files" "$size" "$delay" >"$work/port" &
	bench_bg_pid $!
	for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
	port=$(cat "$work/port")
	[ -n "$port" ] || { say "io: the HTTP server did not start"; exit 1; }
	fetch=(curl -fsS -o /dev/null)
	# A serial fetch costs the latency plus curl's start-up, which takes
	# tens of milliseconds of CPU on a small, busy machine. If all the
	# files would not fit the time budget (the serial run once; pool,
	# xargs and GNU parallel together up to 2.5 times the serial run's
	# time a round on 2 busy cores), run one round of the runners; if
	# even that would not fit, fetch fewer files and say so.
	t=$(time_us "${fetch[@]}" "http://127.0.0.1:$port/f1")
	t=$(time_us "${fetch[@]}" "http://127.0.0.1:$port/f2")
	est() { calc "$files * $t * (1 + $1 * 2.5) / 1e6" %.0f; }
	if [ "$rounds" -gt 1 ] && [ "$(est "$rounds")" -gt "$budget" ]; then
		note "io: one round instead of $rounds: a serial fetch costs $(fmt_us "$t") here, so $rounds rounds would take about $(est "$rounds") s"
		rounds=1
	fi
	fit=$(calc "$budget * 1e6 / ($t * (1 + $rounds * 2.5))" %.0f)
	if [ "$fit" -lt "$files" ]; then
		note "io: $fit downloads instead of $files: a serial fetch costs $(fmt_us "$t") here, so $files would take about $(est "$rounds") s"
		files=$fit
	fi
	for ((i = 1; i <= files; i++)); do echo "http://127.0.0.1:$port/f$i"; done >"$work/urls"
	run_serial() { while read -r u; do "${fetch[@]}" "$u" || return 1; done <"$work/urls"; }
	run_pool() { bin/pool -j4 "${fetch[@]}" <"$work/urls"; }
	run_xargs() { xargs -P4 -n1 "${fetch[@]}" <"$work/urls"; }
	run_gnu() { "$GNU_PARALLEL" -j4 "${fetch[@]}" <"$work/urls"; }
	io=(serial pool xargs)
	[ -n "$GNU_PARALLEL" ] && io+=(gnu)
	# The serial run is long: it runs in the first round only.
	say "io: $files downloads, $delay ms latency each, $rounds round(s)"
	alternate 1 io "${io[@]}"
	alternate $((rounds - 1)) io "${io[@]:1}"
	serial=$(med io serial)
	table_start "I/O-bound: $files files of $size bytes from a local HTTP server that waits $delay ms per request, fetched with curl; median of $rounds alternating round(s) (the serial run: one)" \
	    "runner" "wall time" "speed-up over serial" "time over the limit (serial / 4)"
	for x in "${io[@]}"; do
		case $x in
		serial) name="one after the other (shell loop)" ;;
		pool) name="pool -j4" ;;
		xargs) name="xargs -P4" ;;
		gnu) name="GNU parallel -j4" ;;
		esac
		m=$(med io "$x")
		table_row "$name" "$(fmt_us "$m")" "$(calc "$serial / $m" %.2f)" \
		    "$(fmt_x "$(calc "$m * 4 / $serial" %.3f)")"
	done
	table_end
	best="xargs"
	[ -n "$GNU_PARALLEL" ] && less "$(med io gnu)" "$(med io xargs)" && best=gnu
	case $best in xargs) bname="xargs -P4" ;; *) bname="GNU parallel -j4" ;; esac
	headline pool "$files downloads (${delay} ms latency), -j4" \
	    "$(calc "$serial / $(med io pool)" %.2f)x speed-up" "$bname" \
	    "$(ratio_med io pool "$best")" "serial time / 4" \
	    "$(calc "$(med io pool) * 4 / $serial" %.3f)"
fi

# --- CPU-bound -------------------------------------------------------------
seq "$cpujobs" >"$work/items"
burner=$top/bench/bin/cpuburn
run_cserial() { while read -r i; do "$burner" "$burn" "$i" || return 1; done <"$work/items"; }
run_cpool() { bin/pool -j "$CORES" "$burner" "$burn" <"$work/items"; }
run_cxargs() { xargs -P "$CORES" -n1 "$burner" "$burn" <"$work/items"; }
run_cgnu() { "$GNU_PARALLEL" -j "$CORES" "$burner" "$burn" <"$work/items"; }
cpu=(cserial cpool cxargs)
[ -n "$GNU_PARALLEL" ] && cpu+=(cgnu)
say "io: $cpujobs CPU-bound jobs, -j$CORES, $rounds round(s)"
alternate "$rounds" cpu "${cpu[@]}"
serial=$(med cpu cserial)
table_start "CPU-bound: $cpujobs jobs of about 50 ms of arithmetic, -j$CORES; median of $rounds alternating round(s)" \
    "runner" "wall time" "speed-up over serial" "time over the limit (serial / $CORES)"
for x in "${cpu[@]}"; do
	case $x in
	cserial) name="one after the other (shell loop)" ;;
	cpool) name="pool -j$CORES" ;;
	cxargs) name="xargs -P$CORES" ;;
	cgnu) name="GNU parallel -j$CORES" ;;
	esac
	m=$(med cpu "$x")
	table_row "$name" "$(fmt_us "$m")" "$(calc "$serial / $m" %.2f)" \
	    "$(fmt_x "$(calc "$m * $CORES / $serial" %.3f)")"
done
table_end
best=cxargs
[ -n "$GNU_PARALLEL" ] && less "$(med cpu cgnu)" "$(med cpu cxargs)" && best=cgnu
case $best in cxargs) bname="xargs -P$CORES" ;; *) bname="GNU parallel -j$CORES" ;; esac
headline pool "$cpujobs CPU-bound jobs, -j$CORES" \
    "$(calc "$serial / $(med cpu cpool)" %.2f)x speed-up" "$bname" \
    "$(ratio_med cpu cpool "$best")" "serial time / $CORES" \
    "$(calc "$(med cpu cpool) * $CORES / $serial" %.3f)"
