# Shared set-up for every bats file: the freshly built tools first in PATH,
# and a private namespace directory per test so tests never share objects.
# shellcheck shell=bash
# shellcheck disable=SC2154 # lines, output, status come from bats' run

bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
PATH="$TOP/bin:$PATH"
export PATH

setup() {
	CONC_DIR="$BATS_TEST_TMPDIR/ns"
	export CONC_DIR
	cd "$BATS_TEST_TMPDIR" || return 1
	if declare -F test_setup >/dev/null; then
		test_setup
	fi
}

teardown() {
	if declare -F test_teardown >/dev/null; then
		test_teardown
	fi
	# Kill anything a failed test left running in our process group
	# would be too broad; tests that start background work record pids
	# in $BATS_TEST_TMPDIR/pids and we end them here.
	if [ -f "$BATS_TEST_TMPDIR/pids" ]; then
		while read -r p; do
			kill -9 "$p" 2>/dev/null || true
		done <"$BATS_TEST_TMPDIR/pids"
	fi
}

# bg CMD...: run CMD in the background, remembering its pid for teardown.
# A shell without job control starts an asynchronous command with SIGINT
# and SIGQUIT ignored, and our tools (like sh and make) keep a signal
# ignored at their start ignored: the tests send SIGINT as a terminal
# would, so those two are restored here. <&0: keep the caller's stdin
# rather than /dev/null.
bg() {
	if declare -F "$1" >/dev/null; then
		(trap - INT QUIT; "$@") <&0 &
	else
		(trap - INT QUIT; exec "$@") <&0 &
	fi
	echo $! >>"$BATS_TEST_TMPDIR/pids"
}

# wait_for CMD...: retry CMD until it succeeds, for at most 60 s of wall
# time (sanitized builds on a busy machine are slow; a state that is
# reached costs nothing extra). Used only to wait for a state the tools
# themselves report, never to order events by guessing a delay.
wait_for() {
	local end=$((SECONDS + 60))
	until "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "wait_for timed out: $*" >&2
			return 1
		fi
		sleep 0.01
	done
}

# gone PID...: none of the processes exists any more (a zombie nobody has
# reaped yet counts as gone).
gone() {
	local p s
	for p in "$@"; do
		s=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$p/stat" 2>/dev/null) || continue
		[ -z "$s" ] || [ "$s" = Z ] || { echo "process $p survives ($s)" >&2; return 1; }
	done
}

# wait_status PID STATUS: wait for the background PID; it exited STATUS.
wait_status() {
	local st=0
	wait "$1" || st=$?
	[ "$st" -eq "$2" ] || { echo "status $st, expected $2" >&2; return 1; }
}

# blocked_in_write PID: the process sleeps in a write to a full pipe.
blocked_in_write() {
	case $(cat "/proc/$1/wchan" 2>/dev/null) in
	*pipe_write*) return 0 ;;
	esac
	return 1
}

# ignores N [FILE]: FILE (default ign), a copy of a process's SigIgn line
# from /proc/PID/status, shows signal N ignored.
ignores() {
	local mask
	mask=$(awk '/^SigIgn/ { print $2 }' "${2:-ign}")
	(( (16#$mask >> ($1 - 1)) & 1 ))
}

# make_obj TOOL NAME: create an object of TOOL's kind under NAME.
make_obj() {
	case $1 in
	queue) queue create "$2" ;;
	sem) sem create "$2" ;;
	barrier) barrier wait -n 1 "$2" ;;
	event) event create "$2" ;;
	esac
}

# look TOOL NAME: a read-only query of NAME that needs a valid object.
look() {
	case $1 in
	queue) queue size "$2" ;;
	sem) sem value "$2" ;;
	barrier) barrier stat "$2" ;;
	event) event stat "$2" ;;
	esac
}

# refused NAME...: queue, sem, barrier and event each refuse every NAME with 125
# and one line, for a look and for a creation.
refused() {
	local t n
	for t in queue sem barrier event; do
		for n in "$@"; do
			run -125 look "$t" "$n"
			one_line
			run -125 make_obj "$t" "$n"
			one_line
		done
	done
}

# one_line: the output (stderr merged by 'run') is exactly one line.
one_line() {
	[ "${#lines[@]}" -eq 1 ] || {
		printf 'expected one line, got %d:\n%s\n' "${#lines[@]}" "$output" >&2
		return 1
	}
}
