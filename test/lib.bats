#!/usr/bin/env bats
# The shared library's contracts, driven through test/unit.c (built by
# make check as $UNIT): option values, names, the namespace directory,
# spawning and exit-status mapping, the event loop and the multiplexer.

load helper

u() { "${UNIT:-$TOP/build/test/unit}" "$@"; }

@test "durations: seconds with fractions and ms s m h suffixes" {
	run u duration 1.5;    [ "$output" = 1500000000 ]
	run u duration 250ms;  [ "$output" = 250000000 ]
	run u duration 2s;     [ "$output" = 2000000000 ]
	run u duration 2m;     [ "$output" = 120000000000 ]
	run u duration 1h;     [ "$output" = 3600000000000 ]
	run u duration .5;     [ "$output" = 500000000 ]
	run u duration 0;      [ "$output" = 0 ]
}

@test "retry delays: DUR[,MAX] doubles for each further retry, up to MAX" {
	run -0 u backoff 1s 1;        [ "$output" = 1000000000 ]
	run -0 u backoff 1s 5;        [ "$output" = 1000000000 ]
	run -0 u backoff 1s,5s 2;     [ "$output" = 2000000000 ]
	run -0 u backoff 1s,5s 3;     [ "$output" = 4000000000 ]
	run -0 u backoff 1s,5s 4;     [ "$output" = 5000000000 ]
	run -0 u backoff 1s,inf 4;    [ "$output" = 8000000000 ]
	run -0 u backoff 1s,inf 99;   [ "$output" = 4611686018427387904 ]
	run -0 u backoff 0,1s 1000000; [ "$output" = 0 ]
	run -1 u backoff 2s,1s 1
	[[ "$output" == *"MAX is below DUR"* ]]
	for d in "" "," "1s," ",1s" x "1s,x" "$(printf '%070d' 1)"; do
		run -1 u backoff "$d" 1
	done
}

@test "times: @SECONDS, a date and time in UTC (Z) or local time (TZ); junk and impossible dates are refused" {
	run -0 u time @1700000000;       [ "$output" = 1700000000000000000 ]
	run -0 u time @1700000000.25;    [ "$output" = 1700000000250000000 ]
	run -0 u time @0;                [ "$output" = 0 ]
	run -0 u time 2023-11-14T22:13:20Z;  [ "$output" = 1700000000000000000 ]
	run -0 u time "2023-11-14 22:13Z";   [ "$output" = 1699999980000000000 ]
	run -0 u time 2024-02-29T00:00:00Z;  [ "$output" = 1709164800000000000 ]
	# Local time: 5 h 30 east of UTC (a POSIX TZ needs no tz database).
	run -0 env TZ=XYZ-5:30 "${UNIT:-$TOP/build/test/unit}" time "2023-11-15 03:43:20"
	[ "$output" = 1700000000000000000 ]
	run -0 env TZ=XYZ-5:30 "${UNIT:-$TOP/build/test/unit}" time 2023-11-15T03:43
	[ "$output" = 1699999980000000000 ]
	run -0 u time @4600000000
	run -1 u time @4700000000
	[[ "$output" == *"out of range (1970 to 2116)"* ]]
	for t in "" @ @x @-1 @+1 @1e9 @0x10 "@1 " 1700000000 2023-11-14 \
	    "2023-11-14 22" 2023-11-14T22:13:20+01 2023-11-14x22:13 \
	    "2023-13-01 00:00" "2023-02-29 00:00" "2023-04-31 00:00" \
	    "2023-01-01 24:00" "2023-01-01 00:60" "2023-01-01 00:00:60" \
	    "23-01-01 00:00" "2023-1-01 00:00" "1969-12-31 00:00Z"; do
		run -1 u time "$t"
		[[ "$output" == *"not a time (try @1700000000, '2030-01-31 12:00', 2030-01-31T12:00:00Z)"* ]] ||
		    [[ "$output" == *"out of range"* ]]
	done
}

@test "durations: up to 146 years, and inf; junk, signs, nan, exponents and overflow are refused" {
	# 146 years of 365.25 days fit; 147 do not (concutils(7)).
	run -0 u duration $((146 * 8766))h
	run -1 u duration $((147 * 8766))h
	[[ "$output" == *"too long (at most 146 years; 'inf' for no limit)"* ]]
	run -0 u duration inf
	[ "$output" = 4611686018427387904 ]
	run -0 u duration infinity
	[ "$output" = 4611686018427387904 ]
	for d in "" x 1x -1 +1 1e3 nan Inf -inf 0x10 "1 s" 1.5.5 ms 1sm 99999999999h; do
		run -1 u duration "$d"
		[[ "$output" == "error: "* ]]
	done
	run -1 u duration 99999999999h
	[[ "$output" == *"too long"* ]]
}

@test "sizes: bytes and K M G suffixes are powers of 1024" {
	run u size 4096; [ "$output" = 4096 ]
	run u size 64K;  [ "$output" = 65536 ]
	run u size 1M;   [ "$output" = 1048576 ]
	run u size 1MiB; [ "$output" = 1048576 ]
	run u size 2G;   [ "$output" = 2147483648 ]
	run u size 1.5K; [ "$output" = 1536 ]
	run u size 18446744073709551615; [ "$output" = 18446744073709551615 ]
	run -1 u size 1.5
	[ "$output" = "error: not a whole number of bytes" ]
	run -1 u size 0.001K
	[ "$output" = "error: not a whole number of bytes" ]
	# Regression (found by fuzz/fuzz_opt.c): converting a huge value to
	# an integer was undefined behaviour; it must be a range error.
	run -1 u size 99999999999999999999999G
	[ "$output" = "error: must be at most 18446744073709551615" ]
	for s in "" K -1 1X 1.3 0x10 "1 K"; do
		run -1 u size "$s"
	done
}

@test "counts: range-checked with a precise message" {
	run u count 4 1 100; [ "$output" = 4 ]
	run -1 u count 0 1 100
	[ "$output" = "error: must be at least 1" ]
	run -1 u count 101 1 100
	[ "$output" = "error: must be at most 100" ]
	run -1 u count 4x 1 100
	[ "$output" = "error: not a number" ]
	run -1 u count 99999999999999999999999 1 100
	[ "$output" = "error: must be at most 100" ]
	run -1 u count " 4" 1 100
}

@test "names: empty, dot names, control characters and long names are refused" {
	run u name jobs;           [ "$output" = ok ]
	run u name /tmp/x/jobs;    [ "$output" = ok ]
	run u name a.b-c_d;        [ "$output" = ok ]
	run -1 u name "";          [ "$output" = "error: empty name" ]
	run -1 u name .;           [[ "$output" == *"'.' or '..'"* ]]
	run -1 u name ..;          [[ "$output" == *"'.' or '..'"* ]]
	run -1 u name /tmp/..;     [[ "$output" == *"'.' or '..'"* ]]
	run -1 u name .hidden;     [[ "$output" == *"starts with '.'"* ]]
	run -1 u name dir/;        [[ "$output" == *"ends with '/'"* ]]
	run -1 u name "$(printf 'a\nb')"; [[ "$output" == *"control character"* ]]
	run -1 u name "$(printf 'a\tb')"; [[ "$output" == *"control character"* ]]
	run -1 u name "$(printf '%0201d' 0)"; [[ "$output" == *"too long"* ]]
	run u name "$(printf '%0200d' 0)"; [ "$output" = ok ]
	run -1 u name "/$(printf '%04096d' 0)"; [[ "$output" == *"too long"* ]]
}

@test "namespace: CONC_DIR is created mode 0700" {
	run u nsdir
	[ "$output" = "$CONC_DIR" ]
	[ "$(stat -c %a "$CONC_DIR")" = 700 ]
}

@test "namespace: without CONC_DIR it is XDG_RUNTIME_DIR/concutils" {
	mkdir -m 700 xdg
	CONC_DIR='' XDG_RUNTIME_DIR=$PWD/xdg run u nsdir
	[ "$output" = "$PWD/xdg/concutils" ]
	[ "$(stat -c %a xdg/concutils)" = 700 ]
}

@test "namespace: a symlinked directory is refused" {
	mkdir -m 700 real
	ln -s real "$CONC_DIR"
	run -1 u nsdir
	[ "$output" = "error: is a symbolic link" ]
}

@test "namespace: a directory owned by another user is refused" {
	[ "$(id -u)" = 0 ] || skip "needs root to chown"
	mkdir -m 700 "$CONC_DIR"
	chown 65534 "$CONC_DIR"
	run -1 u nsdir
	[ "$output" = "error: owned by another user" ]
}

@test "namespace: a group- or world-writable directory is refused" {
	mkdir "$CONC_DIR"
	chmod 770 "$CONC_DIR"
	run -1 u nsdir
	[ "$output" = "error: writable by group or others" ]
	chmod 703 "$CONC_DIR"
	run -1 u nsdir
	chmod 755 "$CONC_DIR"
	run u nsdir
	[ "$output" = "$CONC_DIR" ]
}

@test "namespace: a file in place of the directory is refused" {
	touch "$CONC_DIR"
	run -1 u nsdir
	[ "$output" = "error: not a directory" ]
}

@test "exit statuses: exit codes pass through, signals become 128+N" {
	run u spawn sh -c 'exit 3';          [ "$output" = "status 3" ]
	run u spawn true;                    [ "$output" = "status 0" ]
	run u spawn sh -c 'kill -TERM $$';   [ "$output" = "status 143" ]
	run u spawn sh -c 'kill -KILL $$';   [ "$output" = "status 137" ]
}

@test "exit statuses: 127 for a command not found, 126 for one not executable" {
	run u spawn no-such-command-xyz
	[ "$output" = "status 127 exec: No such file or directory" ]
	printf 'echo hi\n' >notexec
	run u spawn ./notexec
	[ "$output" = "status 126 exec: Permission denied" ]
	run u spawn "$PWD"
	[ "$output" = "status 126 exec: Permission denied" ]
}

@test "spawn: a script without a #! line runs with sh, as execvp does" {
	# shellcheck disable=SC2016 # $1 is for the script
	printf 'echo "script $1"\nexit 7\n' >noshebang
	chmod +x noshebang
	run u spawn "$PWD/noshebang" arg
	[ "$output" = "$(printf 'script arg\nstatus 7')" ]
}

@test "spawn: the child gets default signal dispositions and an empty mask" {
	# From a runner that started with SIGINT at its default, SIGINT is at
	# its default in the child, and nothing is blocked.
	run env --default-signal=INT,QUIT "${UNIT:-$TOP/build/test/unit}" spawn \
	    sh -c 'grep -E "^Sig(Blk|Ign)" /proc/self/status'
	[[ "$output" == *"SigBlk:	0000000000000000"* ]]
	# Signals 1..31 (the low 31 bits); glibc reserves 32 and 33 itself.
	[[ "$output" =~ SigIgn:.[0-9a-f]{8}[08]0000000 ]] || { echo "$output"; false; }
}

@test "spawn: a stop signal ignored when the runner started stays ignored in the child (nohup)" {
	run env --ignore-signal=HUP,INT "${UNIT:-$TOP/build/test/unit}" spawn \
	    sh -c 'grep -E "^SigIgn" /proc/self/status'
	[[ "$output" =~ SigIgn:.[0-9a-f]{8}[08]0000003 ]] || { echo "$output"; false; }
}

@test "spawn: a job does not outlive a runner killed while spawning it under a subreaper (was: orphan)" {
	# The child checked for a parent that died before its prctl by
	# comparing getppid() with 1; under a subreaper (pool, parallel,
	# systemd) the new parent is not 1 and the job ran on, unkilled.
	# Found while writing the torture test: a sem run killed then left
	# its command running without the slot. Runners are killed at
	# instants spread over their first 300 us; some land in the window.
	run -0 u orphans 1000
	[ "$output" = "survivors 0" ]
}

@test "loop: timers fire in deadline order, cancelled ones never" {
	run u timers
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'timer 10\ntimer 20\ntimer 30\ntimer 40\ntimer 50')" ]
}

@test "loop: a signal is delivered as a loop event" {
	run u signal
	[ "$output" = "signal 10" ]
}

@test "mux: lines from several writers never mix, long lines included" {
	u mux 4 >out
	run awk '{ c = substr("abcd", $1 + 1, 1); s = $2; gsub(c, "", s);
		if (s != "" || NF > 2) bad++; n[$1]++ }
		END { print NR, bad + 0, n[0], n[1], n[2], n[3] }' out
	[ "$output" = "8000 0 2000 2000 2000 2000" ]
}

@test "replacement strings (lib/repl): the value and its parts, {N}, {#}, {%}, -I; none after a \$" {
	run -0 u repl 'x{}y {.} {/} {//} {/.} {1} {1/.} {2} {12//} {#} {%}' /a/b.c.txt
	[ "$output" = 'x/a/b.c.txty /a/b.c b.c.txt /a b.c /a/b.c.txt b.c <2> <12> 7 3' ]
	# A dot that begins the basename is no extension; no slash: ".".
	run -0 u repl '{.} {/.} {//}' .profile
	[ "$output" = '.profile .profile .' ]
	run -0 u repl '{//} {/} {.}' /x
	[ "$output" = '/ x /x' ]
	run -0 u repl '{.} {/.}' dir.d/file
	[ "$output" = 'dir.d/file file' ]
	# "${x}" is the shell's; unknown braces are text.
	# shellcheck disable=SC2016 # the $ is the point
	run -0 u repl '${} ${#} {x} {0} {} }{' v
	# shellcheck disable=SC2016
	[ "$output" = '${} ${#} {x} {0} v }{' ]
	# -I STR takes the place of {}; {.} and the others stay.
	run -0 u repl 'I{}-{.}' a.b I
	[ "$output" = 'a.b{}-a' ]
}

@test "replacement strings (lib/repl): a word parsed once into pieces, each expanded for a value" {
	run -0 u expand 'a{}b{/.}{2//}{#}-{%}' /d/f.x 42 3
	[ "${lines[0]}" = 'lit [a]' ]
	[ "${lines[1]}" = 'val 0 0 [{}]' ]
	[ "${lines[2]}" = 'lit [b]' ]
	[ "${lines[3]}" = 'val 0 4 [{/.}]' ]
	# {N}: the piece keeps N; which value it takes is the caller's.
	[ "${lines[4]}" = 'val 2 3 [{2//}]' ]
	[ "${lines[5]}" = 'seq [{#}]' ]
	[ "${lines[6]}" = 'lit [-]' ]
	[ "${lines[7]}" = 'slot [{%}]' ]
	[ "${lines[8]}" = 'repl 8' ]
	[ "${lines[9]}" = '= a/d/f.xbf/d42-3' ]
	[ "${#lines[@]}" -eq 10 ]
	# No replacement string: one literal piece; none at all for "".
	# shellcheck disable=SC2016 # the $ is the point
	run -0 u expand 'x ${} {y}' v 1 1
	# shellcheck disable=SC2016
	[ "$output" = "$(printf '%s\n' 'lit [x ${} {y}]' 'norepl 1' '= x ${} {y}')" ]
	run -0 u expand '' v 1 1
	[ "$output" = "$(printf '%s\n' 'norepl 0' '= ')" ]
	# The numbers in full, to the largest.
	run -0 u expand '{#}{%}' v 18446744073709551615 0
	[ "${lines[3]}" = '= 184467440737095516150' ]
}
