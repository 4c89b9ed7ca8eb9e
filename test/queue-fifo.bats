#!/usr/bin/env bats
# queue fifo: a named pipe as an endpoint of a queue. Everything is
# synchronised on the FIFO itself (opens block until the other side is
# there), on what queue stat reports, or on the bridge's stderr; never
# on delays.

load helper

# start ARGS...: run `queue fifo ARGS...` in the background, its stderr
# in ./err; $bridge is its pid.
start() {
	bg queue fifo "$@" 2>err
	bridge=$(tail -1 "$BATS_TEST_TMPDIR/pids")
}

# A bridge a test left running is stopped as a user would stop it (the
# helper's SIGKILL would leave its FIFO behind, and noise).
test_teardown() {
	if [ -n "${bridge:-}" ] && kill -TERM "$bridge" 2>/dev/null; then
		wait "$bridge" 2>/dev/null || true
	fi
}

stat_is() {
	queue stat "$1" | grep -qx "$2	$3"
}

size_is() {
	[ "$(queue size "$1")" = "$2" ]
}

size_ge() {
	[ "$(queue size "$1")" -ge "$2" ]
}

size_le() {
	[ "$(queue size "$1")" -le "$2" ]
}

# into FIFO FORMAT [ARG...]: printf into FIFO, giving up after 60 s (the
# open would wait for ever for a bridge that died).
into() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout 60 bash -c 'p=$1; shift; printf "$@" >"$p"' sh "$@"
}

# line_of FIFO: one line read from FIFO (byte by byte: nothing more is
# taken from the pipe), giving up after 60 s.
line_of() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	timeout 60 bash -c 'read -r l <"$1" && printf "%s\n" "$l"' sh "$1"
}

# lines_in FILE N: FILE has N lines.
lines_in() {
	[ "$(wc -l <"$1")" = "$2" ]
}

# big N: N bytes of 'x' (no newline).
big() {
	head -c "$1" /dev/zero | tr '\0' x
}

# complete FILE: its lines that end with a newline.
complete() {
	if [ -s "$1" ] && [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" != '\n' ]; then
		sed '$d' "$1"
	else
		cat "$1"
	fi
}

@test "fifo (--in by default): writers one after another each put their lines" {
	start q f
	wait_for test -p f
	for i in $(seq 20); do
		into f 'line %s\n' "$i"
	done
	wait_for size_is q 20
	run -0 queue get -n 20 q
	[ "$output" = "$(seq -f 'line %g' 20)" ]
	# still serving after all those ends of file
	into f 'one\ntwo\n'
	wait_for size_is q 2
	run -0 queue get -n 2 q
	[ "$output" = $'one\ntwo' ]
}

@test "a last line without its newline is put when no writer holds the FIFO any more" {
	start --in q f
	wait_for test -p f
	into f x
	wait_for size_is q 1
	into f 'y\n'
	wait_for size_is q 2
	run -0 queue get -n 2 q
	[ "$output" = $'x\ny' ]
	# a writer that holds it open continues its line
	exec 7>f
	printf 'a' >&7
	printf 'b\n' >&7
	wait_for size_is q 1
	exec 7>&-
	run -0 queue get q
	[ "$output" = ab ]
}

@test "-0: NUL-ended records, newlines kept inside them" {
	start -0 q f
	wait_for test -p f
	into f 'a\nb\0c\0d'
	wait_for size_is q 3
	run -0 bash -c 'queue get -0 -n 3 q | tr "\0" "|"'
	[ "$output" = $'a\nb|c|d|' ]
}

@test "concurrent writers interleave whole lines only (each write of whole lines, at most PIPE_BUF)" {
	start q f
	wait_for test -p f
	for w in 1 2 3; do
		# shellcheck disable=SC2016 # expanded by the inner shell
		bg bash -c 'for i in $(seq 400); do printf "w$1 %05d\n" "$i"; done >f' sh "$w"
	done
	wait_for size_is q 1200
	queue close q
	queue get -f q >all
	for w in 1 2 3; do
		[ "$(grep -c "^w$w [0-9]\{5\}\$" all)" = 400 ]
		[ "$(grep "^w$w " all | cut -d' ' -f2 | sed 's/^0*//')" = "$(seq 400)" ]
	done
	[ "$(wc -l <all)" = 1200 ]
}

@test "a line holding a NUL, or longer than the queue's maximum, is dropped with one line; the bridge goes on" {
	queue create --size 64 q
	stat_is q maxmsg 48
	start q f
	wait_for test -p f
	into f 'ok1\n%s\nok2\n' "$(big 100)"
	wait_for size_is q 2
	run -0 queue get -n 2 q
	[ "$output" = $'ok1\nok2' ]
	[ "$(wc -l <err)" = 1 ]
	grep -q 'longer than the maximum of 48 bytes dropped' err
	into f 'a\0b\nok3\n'
	wait_for size_is q 1
	run -0 queue get q
	[ "$output" = ok3 ]
	[ "$(wc -l <err)" = 2 ]
	grep -q 'NUL byte dropped' err
	# A long record that arrives in pieces is dropped as it comes.
	exec 7>f
	printf '%s' "$(big 60)" >&7
	wait_for lines_in err 3
	printf '%s\nok4\n' "$(big 30)" >&7
	exec 7>&-
	wait_for size_is q 1
	run -0 queue get q
	[ "$output" = ok4 ]
	[ "$(wc -l <err)" = 3 ]
}

@test "a full queue stops the reads: the writer waits, and nothing is lost" {
	queue create --max 2 q
	start q f
	wait_for test -p f
	bg sh -c 'seq 10 >f'
	wait_for stat_is q putters 1
	stat_is q messages 2
	run -0 queue get -n 10 q
	[ "$output" = "$(seq 10)" ]
	wait_status "$(tail -1 "$BATS_TEST_TMPDIR/pids")" 0
}

@test "a close ends it with 0 and removes the FIFO: --in at once, --out once drained" {
	start q f
	wait_for test -p f
	into f 'a\n'
	wait_for size_is q 1
	queue close q
	wait_status "$bridge" 0
	[ ! -e f ]
	run -0 queue get q
	[ "$output" = a ]
	# --out with no reader and nothing left: ends at the close
	queue open q
	start --out q o
	wait_for test -p o
	queue close q
	wait_status "$bridge" 0
	[ ! -e o ]
	# --out with messages left: a reader drains them, then end of file
	queue open q
	queue put q x y
	queue close q
	start --out q o
	wait_for test -p o
	run -0 timeout 60 cat o
	[ "$output" = $'x\ny' ]
	wait_status "$bridge" 0
	[ ! -e o ]
	[ ! -s err ]
}

@test "--in: records a closed queue refused: status 1 and one line" {
	queue create --max 1 q
	queue put q x
	start q f
	wait_for test -p f
	into f 'a\n'
	wait_for stat_is q putters 1
	queue close q
	wait_status "$bridge" 1
	run -0 cat err
	one_line
	[[ "$output" == *"queue closed: 1 record read from f not put"* ]]
	[ ! -e f ]
}

@test "--in on a closed queue: 1 at once, with the close's message, nothing made" {
	queue close q
	run -1 queue fifo q f
	one_line
	[[ "$output" == *"queue closed (reopen it with 'queue open q')"* ]]
	[ ! -e f ]
}

@test "queue rm ends it with 1, --in and --out" {
	start q f
	wait_for test -p f
	queue rm q
	wait_status "$bridge" 1
	grep -q 'queue removed' err
	[ ! -e f ]
	start --out q o
	wait_for test -p o
	queue rm q
	wait_status "$bridge" 1
	[ ! -e o ]
}

@test "SIGTERM, SIGINT and SIGHUP end it with 128+N and remove the FIFO" {
	local sig n mode
	for mode in --in --out; do
		for sig in TERM:143 INT:130 HUP:129; do
			start "$mode" q f
			wait_for test -p f
			kill -s "${sig%:*}" "$bridge"
			wait_status "$bridge" "${sig#*:}"
			[ ! -e f ]
		done
	done
	# --out stopped while a reader reads: what it wrote stays delivered
	seq 3 | queue put q
	start --out q o
	wait_for test -p o
	exec 7<o
	read -r n <&7
	[ "$n" = 1 ]
	kill -TERM "$bridge"
	wait_status "$bridge" 143
	[ "$(cat <&7)" = $'2\n3' ]
	exec 7<&-
	[ "$(queue size q)" = 0 ]
	[ ! -e o ]
}

@test "SIGTERM puts what writers wrote before it, a last unended line too" {
	start q f
	wait_for test -p f
	exec 7>f
	printf 'a\nb' >&7
	wait_for size_is q 1
	kill -TERM "$bridge"
	wait_status "$bridge" 143
	exec 7>&-
	run -0 queue get -n 2 q
	[ "$output" = $'a\nb' ]
	[ ! -e f ]
}

@test "--out: readers one after another each get the messages" {
	start --out q f
	wait_for test -p f
	queue put q a
	x=$(line_of f)
	[ "$x" = a ]
	# The bridge has seen the reader go (a reader coming before that
	# could meet the old pipe's end).
	wait_for stat_is q getters 0
	# shellcheck disable=SC2016 # expanded by the inner shell
	bg sh -c 'read -r y <f; echo "$y" >got2'
	queue put q b
	wait_status "$(tail -1 "$BATS_TEST_TMPDIR/pids")" 0
	[ "$(cat got2)" = b ]
	wait_for stat_is q getters 0
	bg sh -c 'cat f >got3'
	r=$(tail -1 "$BATS_TEST_TMPDIR/pids")
	queue put q c d
	wait_for size_is q 0
	queue close q
	wait_status "$bridge" 0
	wait_status "$r" 0
	[ "$(cat got3)" = $'c\nd' ]
	run -0 queue stat q
	[[ "$output" == *$'gets\t4'* ]]
}

@test "--out: a reader that goes early loses only what it left in the pipe; the rest goes back, in order" {
	seq 100000 | queue put q
	start --out q f
	wait_for test -p f
	x=$(line_of f)
	[ "$x" = 1 ]
	# Our end is closed before the claims go back (then the next
	# reader gets a new pipe).
	wait_for stat_is q claimed 0
	n=$(queue size q)
	lost=$((100000 - 1 - n))
	[ "$lost" -ge 0 ]
	# at most a pipe's capacity (64 KiB) of messages
	if [ "$lost" -gt 0 ]; then
		[ "$(seq 2 $((1 + lost)) | wc -c)" -le 65536 ]
	fi
	bg sh -c 'cat f >rest'
	wait_for size_is q 0
	queue close q
	wait_status "$bridge" 0
	wait_status "$(tail -1 "$BATS_TEST_TMPDIR/pids")" 0
	[ "$(cat rest)" = "$(seq $((2 + lost)) 100000)" ]
}

@test "--out: what a reader leaves unread in the pipe goes with it; the next starts at the next message" {
	start --out q f
	wait_for test -p f
	stat_is q getters 0
	queue put q a b c
	x=$(line_of f)
	[ "$x" = a ]
	# It counts as a getter while it has a reader, until its end of
	# the pipe is closed.
	wait_for stat_is q getters 0
	stat_is q messages 0
	queue put q d
	bg sh -c 'cat f >got'
	r=$(tail -1 "$BATS_TEST_TMPDIR/pids")
	wait_for stat_is q getters 1
	queue close q
	wait_status "$bridge" 0
	wait_status "$r" 0
	[ "$(cat got)" = d ]
	stat_is q gets 4
}

@test "--out: a delayed message goes out when it is due, not before" {
	queue put --delay 1h q later
	queue put --delay 300ms q soon
	start --out q f
	wait_for test -p f
	bg sh -c 'cat f >got'
	wait_for stat_is q getters 1
	wait_for grep -qx soon got
	stat_is q delayed 1
	stat_is q messages 1
	[ "$(cat got)" = soon ]
	kill -TERM "$bridge"
	wait_status "$bridge" 143
	stat_is q messages 1
}

@test "--out -0: each message ends with a NUL" {
	queue put q $'a\nb' c
	queue close q
	start --out -0 q f
	wait_for test -p f
	run -0 timeout 60 bash -c 'tr "\0" "|" <f'
	[ "$output" = $'a\nb|c|' ]
	wait_status "$bridge" 0
}

@test "SIGKILL of --in: the queue holds whole lines in order, never a torn one; the FIFO stays and a new bridge takes it over" {
	local round base w n
	# at most a million lines: the default 32 MiB holds them all
	queue create q
	for round in 1 2 3 4 5 6; do
		base=$(queue size q)
		start q f
		wait_for test -p f
		rm -f wrote
		if ((round % 2)); then
			# big writes, many lines per read
			bg sh -c "seq $((base + 1)) $((base + 200000)) >f"
		else
			# a line per write, and how many got into the pipe
			# shellcheck disable=SC2016 # expanded by the inner shell
			bg bash -c 'exec >f; trap "" PIPE; i=$1
			    while printf "%d\n" "$i" 2>/dev/null; do i=$((i + 1)); done
			    echo $((i - 1)) >wrote' sh $((base + 1))
		fi
		w=$(tail -1 "$BATS_TEST_TMPDIR/pids")
		wait_for size_ge q $((base + 1000))
		kill -9 "$bridge"
		wait "$bridge" || true
		wait "$w" || true
		# left behind, as documented
		[ -p f ]
		# lost: at most what the pipe held (64 KiB) and one read of
		# 64 KiB not yet put
		if ! ((round % 2)); then
			n=$(queue size q)
			[ "$(cat wrote)" -ge "$n" ]
			[ "$(seq $((n + 1)) "$(cat wrote)" | wc -c)" -le $((2 * 65536)) ]
		fi
	done
	base=$(queue size q)
	start q f
	into f 'last\n'
	wait_for size_is q $((base + 1))
	kill -TERM "$bridge"
	wait_status "$bridge" 143
	[ ! -e f ]
	queue close q
	queue get -f q >all
	[ "$(sed '$d' all)" = "$(seq "$base")" ]
	[ "$(tail -1 all)" = last ]
}

@test "SIGKILL of --out: every message is in the readers' output or still in the queue" {
	local round r n
	seq 600000 | queue put q
	for round in 1 2 3; do
		n=$(queue size q)
		[ "$n" -gt 0 ] || break
		start --out q f
		wait_for test -p f
		bg sh -c "timeout 60 cat f >got$round"
		r=$(tail -1 "$BATS_TEST_TMPDIR/pids")
		# this bridge has delivered some
		wait_for size_le q $((n - 1))
		kill -9 "$bridge"
		wait "$bridge" || true
		# the reader reads what was in the pipe, then end of file
		wait_status "$r" 0
		[ -p f ]
		# the reader got a run of whole messages in order (the last
		# maybe cut short)
		complete "got$round" >"whole$round"
		if [ -s "whole$round" ]; then
			[ "$(cat "whole$round")" = "$(seq "$(head -1 "whole$round")" "$(tail -1 "whole$round")")" ]
		fi
	done
	rm f
	queue close q
	queue get -f q >rest
	# nothing lost; a message may come twice only when the bridge died
	# between writing it and committing it
	[ "$(cat whole* rest | sort -n -u)" = "$(seq 600000)" ]
	if [ -s rest ]; then
		[ "$(cat rest)" = "$(seq "$(head -1 rest)" 600000)" ]
	fi
}

@test "bad input: one line, 125, nothing made or left behind" {
	run -125 queue fifo q
	one_line
	[[ "$output" == *"missing PATH"* ]]
	run -125 queue fifo
	one_line
	run -125 queue fifo --bogus q f
	one_line
	run -125 queue fifo --in --out q f
	one_line
	run -125 queue fifo q f --out
	one_line
	run -125 queue fifo q f extra
	one_line
	run -125 queue fifo --nowait q f
	one_line
	run -125 queue fifo '' f
	one_line
	[ ! -e f ] && [ ! -e ns/q ]
	echo data >file
	run -125 queue fifo q file
	one_line
	[[ "$output" == *"file: exists and is not a FIFO"* ]]
	[ "$(cat file)" = data ]
	mkdir dir
	run -125 queue fifo q dir
	one_line
	ln -s file link
	run -125 queue fifo q link
	one_line
	run -125 queue fifo q nodir/f
	one_line
	[ ! -e ns/q ]
	sem create s
	run -125 queue fifo s f
	one_line
	[ ! -e f ]
	run -125 queue fifo --mode 0 q f
	one_line
	[ ! -e f ] && [ ! -e ns/q ]
}

@test "PATH removed or replaced while it runs: 125 when it next opens PATH" {
	start q f
	wait_for test -p f
	exec 7>f
	rm f
	exec 7>&-
	wait_status "$bridge" 125
	run -0 cat err
	one_line
	[[ "$output" == *"f: No such file or directory"* ]]
	start --out q o
	wait_for test -p o
	exec 7<o
	wait_for stat_is q getters 1
	rm o
	mkfifo o
	exec 7<&-
	wait_status "$bridge" 125
	run -0 cat err
	one_line
	[[ "$output" == *"o: replaced by another file"* ]]
	[ -p o ]
}

@test "a second bridge on the same FIFO is refused; the first serves on" {
	start q f
	wait_for test -p f
	run -125 queue fifo --out q f
	one_line
	[[ "$output" == *"another queue fifo serves it"* ]]
	[ -p f ]
	into f 'a\n'
	wait_for size_is q 1
	kill -TERM "$bridge"
	wait_status "$bridge" 143
}

@test "--mode sets a new FIFO's bits; an existing FIFO is taken over and removed at exit; a PATH replaced meanwhile is left alone" {
	start --mode 640 q f
	wait_for test -p f
	[ "$(stat -c %a f)" = 640 ]
	kill -TERM "$bridge"
	wait_status "$bridge" 143
	mkfifo -m 600 g
	start q g
	into g 'a\n'
	wait_for size_is q 1
	kill -TERM "$bridge"
	wait_status "$bridge" 143
	[ ! -e g ]
	start q h
	wait_for test -p h
	rm h
	echo other >h
	kill -TERM "$bridge"
	wait_status "$bridge" 143
	[ "$(cat h)" = other ]
}
