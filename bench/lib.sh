# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables set here are the scripts' to use
# bench/lib.sh: what every bench/*.sh shares. Source it first:
#   . "$(dirname "$0")/lib.sh"; bench_init NAME
#
# It gives: the repository root as $top (and the working directory), the
# run size ($QUICK is 1 under BENCH_QUICK=1), a private scratch directory
# $work on a memory file system (removed on exit), peers installed with
# apt-get when missing (need, gnu_parallel, moreutils_parallel), C
# helpers built into bench/bin (build), wall-clock timing in microseconds
# (time_us), alternating rounds (alternate) with medians (med) and
# same-round ratios (ratio_med), and the outputs: CSV series and their SVG
# plots in bench/results (csv_*, plot), markdown tables (table_*), and one
# headline row per program (headline) for the summary bench/run builds.
#
# Figures are wall-clock times of whole commands, as a user would see
# them; the contenders of one comparison run alternately (A B C A B C
# ...), so that a machine whose load drifts slows them alike, and every
# figure is a median over the rounds.

set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top" || exit 1
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 1 ] || QUICK=0
results=$top/bench/results
CORES=$(getconf _NPROCESSORS_ONLN)
work='' BENCH='' GNU_PARALLEL='' MU_PARALLEL=''

# bench_init NAME: set up for the script NAME (pool, queue, ...).
bench_init() {
	BENCH=$1
	mkdir -p "$results" "$top/bench/bin" || exit 1
	work=$(mktemp -d /dev/shm/bench-"$BENCH".XXXXXX 2>/dev/null ||
	    mktemp -d) || exit 1
	BENCH_PIDS=""
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	: >"$results/$BENCH.md"
	: >"$work/headline"
	if [ ! -x bin/pool ] || [ ! -x bin/barrier ] || [ ! -f build/libconc.a ]; then
		make -s >/dev/null || exit 1
	fi
	say "== $BENCH: $( [ "$QUICK" = 1 ] && echo quick || echo full) run, $CORES cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# bench_cleanup: stop the servers this script started, drop $work, and
# publish the headline rows (only a script that got this far has any).
bench_cleanup() {
	local p
	for p in $BENCH_PIDS; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	if [ -s "$work/headline" ]; then
		cp "$work/headline" "$results/headline-$BENCH.csv"
	fi
	rm -rf "$work"
}

# bench_bg_pid PID: a server to kill when the script ends.
bench_bg_pid() { BENCH_PIDS="$BENCH_PIDS $1"; }

# say MSG: progress on stderr. note MSG: a remark that belongs with the
# results too (a skipped peer, a shortened series).
say() { echo "$*" >&2; }
note() {
	echo "note: $*" >&2
	echo "Note: $*" >>"$work/notes"
}

# --- peers -----------------------------------------------------------

# apt_install PKG...: install packages when we are root and have apt-get
# (the package lists are refreshed once per run of bench/run).
apt_install() {
	[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
	local stamp=${BENCH_APT_STAMP:-$work/apt-updated}
	say "bench: installing $*"
	if [ ! -e "$stamp" ]; then
		apt-get update -qq >/dev/null 2>&1 && : >"$stamp"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" \
	    >/dev/null 2>&1
}

# need CMD PKG: make sure CMD exists, installing PKG if needed; if it
# cannot be had, say so (the caller skips that peer) and return 1.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	apt_install "$2"
	command -v "$1" >/dev/null 2>&1 && return 0
	note "$1 (Debian package $2) is not installed and could not be: its figures are skipped"
	return 1
}

# gnu_parallel: set GNU_PARALLEL to GNU parallel's path, or to "" (with a
# note) if it cannot be had. Our own parallel is $top/bin/parallel and is
# never found through PATH here.
gnu_parallel() {
	GNU_PARALLEL=/usr/bin/parallel
	if ! "$GNU_PARALLEL" --version 2>/dev/null | grep -q 'GNU parallel'; then
		apt_install parallel
	fi
	if ! "$GNU_PARALLEL" --version 2>/dev/null | grep -q 'GNU parallel'; then
		note "GNU parallel (Debian package parallel) is not installed and could not be: its figures are skipped"
		GNU_PARALLEL=
		return 1
	fi
	# It asks for a citation once; this says the notice was seen.
	mkdir -p "$HOME/.parallel" && touch "$HOME/.parallel/will-cite"
}

# moreutils_parallel: set MU_PARALLEL to moreutils' parallel, or "".
# Both packages ship /usr/bin/parallel; Debian resolves the clash with a
# dpkg diversion: the parallel package moves moreutils' program to
# /usr/bin/parallel.moreutils, so with both installed each has its path.
moreutils_parallel() {
	local p
	for p in /usr/bin/parallel.moreutils /usr/bin/parallel; do
		MU_PARALLEL=$p
		[ -x "$p" ] && ! "$p" --version 2>/dev/null | grep -q GNU &&
		    "$p" -j 1 true -- x 2>/dev/null && return 0
	done
	if apt_install moreutils; then
		for p in /usr/bin/parallel.moreutils /usr/bin/parallel; do
			MU_PARALLEL=$p
			[ -x "$p" ] && ! "$p" --version 2>/dev/null | grep -q GNU &&
			    return 0
		done
	fi
	note "moreutils' parallel (Debian package moreutils) is not installed and could not be: its figures are skipped"
	MU_PARALLEL=
	return 1
}

# --- helpers ---------------------------------------------------------

# build NAME [CC ARGS...]: compile bench/NAME.c into bench/bin/NAME when
# it is missing or older than its source; extra arguments go to the
# compiler (sources and libraries to link with).
build() {
	local name=$1
	shift
	local out=bench/bin/$name
	if [ ! -x "$out" ] || [ "bench/$name.c" -nt "$out" ] ||
	    [ build/libconc.a -nt "$out" ]; then
		${CC:-cc} -O2 -Wall -D_GNU_SOURCE -iquote lib -o "$out" \
		    "bench/$name.c" "$@" -lpthread || exit 1
	fi
}

# now_us: microseconds since the epoch (bash 5's $EPOCHREALTIME).
now_us() { echo "${EPOCHREALTIME/./}"; }

# time_us CMD...: run CMD with its output discarded; print the wall time
# in microseconds. A failing CMD ends the benchmark: a figure measured
# on a failure would be meaningless.
time_us() {
	local t0 t1
	t0=${EPOCHREALTIME/./}
	if ! "$@" >/dev/null 2>"$work/stderr"; then
		say "bench: $BENCH: failed: $*"
		sed 's/^/  /' "$work/stderr" | head -n 5 >&2
		exit 1
	fi
	t1=${EPOCHREALTIME/./}
	echo $((t1 - t0))
}

# alternate ROUNDS KEY CASE...: for each of ROUNDS rounds run every
# function run_CASE once, in turn; each time (µs) is appended to
# $work/KEY.CASE, one line per round.
alternate() {
	local rounds=$1 key=$2 r c
	shift 2
	for ((r = 0; r < rounds; r++)); do
		for c in "$@"; do
			time_us "run_$c" >>"$work/$key.$c"
		done
	done
}

# median: the median of the numbers on stdin (mean of the middle two).
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) print "";
		else if (NR % 2) print v[(NR + 1) / 2];
		else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# med KEY CASE: median of the times alternate recorded.
med() { median <"$work/$1.$2"; }

# ratio_med KEY A B: the median over the rounds of A's time over B's in
# the same round.
ratio_med() {
	paste -d' ' "$work/$1.$2" "$work/$1.$3" |
	    awk '$2 > 0 { print $1 / $2 }' | median
}

# calc EXPR: print an awk expression's value (%.4g unless FMT given as $2).
calc() { awk "BEGIN { printf \"${2:-%.4g}\n\", $1 }"; }

# --- outputs ---------------------------------------------------------

# csv_start NAME X SERIES...: start bench/results/NAME.csv with a header;
# csv_row NAME X Y...: add a row (an empty Y is a point not measured).
csv_start() {
	local name=$1 f cols=()
	shift
	for f in "$@"; do cols+=("${f//,/;}"); done  # a name holds no comma
	(IFS=,; echo "${cols[*]}") >"$results/$name.csv"
}
csv_row() {
	local name=$1
	shift
	(IFS=,; echo "$*") >>"$results/$name.csv"
}

# plot NAME TITLE XLABEL YLABEL [logx] [logy]: draw bench/results/NAME.csv
# as bench/results/NAME.svg. A series whose name contains "limit" is
# drawn dashed.
plot() {
	local logx=0 logy=0
	case " ${5:-} ${6:-} " in *" logx "*) logx=1 ;; esac
	case " ${5:-} ${6:-} " in *" logy "*) logy=1 ;; esac
	awk -F, -v title="$2" -v xlabel="$3" -v ylabel="$4" \
	    -v logx="$logx" -v logy="$logy" \
	    -v sub_title="$CORES cores, load average $(cut -d' ' -f1 /proc/loadavg), $(date -u +%Y-%m-%d)" \
	    -f bench/plot.awk "$results/$1.csv" >"$results/$1.svg" || exit 1
	echo "![$2](results/$1.svg)" >>"$results/$BENCH.md"
	echo >>"$results/$BENCH.md"
}

# table_start TITLE COLUMN...: a markdown table, printed and kept in
# bench/results/BENCH.md; table_row CELL...: one row of it.
table_start() {
	local title=$1 c sep="|"
	shift
	{
		echo "$title"
		echo
		printf '|'
		for c in "$@"; do
			printf ' %s |' "${c//|/\\|}"
			sep="$sep---|"
		done
		echo
		echo "$sep"
	} | tee -a "$results/$BENCH.md"
}
table_row() {
	{
		local c
		printf '|'
		for c in "$@"; do printf ' %s |' "${c//|/\\|}"; done
		echo
	} | tee -a "$results/$BENCH.md"
}
table_end() {
	{
		if [ -s "$work/notes" ]; then
			echo
			cat "$work/notes"
			: >"$work/notes"
		fi
		echo
	} | tee -a "$results/$BENCH.md"
}

# headline PROGRAM WORKLOAD OURS PEER PEER_RATIO LIMIT LIMIT_RATIO: one row
# of the summary table: concutils' figure, the best peer and concutils'
# time over that peer's (below 1: concutils is faster), the physical
# limit and concutils' time over the limit's (at least 1 in theory).
headline() {
	local IFS=';'
	echo "$*" >>"$work/headline"
}

# fmt_us US: a time in µs made readable (µs, ms or s).
fmt_us() {
	awk -v t="$1" 'BEGIN {
		if (t == "") print "-";
		else if (t < 1000) printf "%.1f µs\n", t;
		else if (t < 1e6) printf "%.2f ms\n", t / 1e3;
		else printf "%.2f s\n", t / 1e6 }'
}

# fmt_x RATIO: a ratio as "1.23x" ("-" if empty).
fmt_x() { awk -v r="$1" 'BEGIN { if (r == "") print "-"; else printf (r < 0.1 ? "%.3fx\n" : "%.2fx\n"), r }'; }

# fmt_rate PER_S: a rate with a K/M suffix.
fmt_rate() {
	awk -v r="$1" 'BEGIN {
		if (r == "") print "-";
		else if (r >= 1e6) printf "%.2f M\n", r / 1e6;
		else if (r >= 1e3) printf "%.1f K\n", r / 1e3;
		else printf "%.0f\n", r }'
}
