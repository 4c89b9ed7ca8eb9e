#!/usr/bin/env bats
# queue run (the crash-safe worker), delayed messages, several queues and
# reopening. Background work is synchronised on the states queue itself
# reports (stat) or on files the jobs write, never on delays.
# shellcheck disable=SC2016 # the jobs' sh -c and awk programs expand their own

load helper

# stat_is NAME KEY VALUE: queue stat NAME has the line "KEY<TAB>VALUE".
stat_is() {
	queue stat "$1" | grep -qx "$2	$3"
}

test_setup() {
	# A job script: records "MSG ATTEMPT ID" in log, succeeds from
	# attempt $OK_AT on (default 1).
	cat >job <<'EOF'
#!/bin/sh
echo "$1 $QUEUE_ATTEMPT $QUEUE_ID $QUEUE_NAME" >>log
[ "$QUEUE_ATTEMPT" -ge "${OK_AT:-1}" ]
EOF
	chmod +x job
}

@test "run: exit 0 acknowledges; a failure comes back with its attempt raised" {
	queue put q a b
	queue close q
	OK_AT=2 run -0 queue run -j1 --retries 3 q ./job
	# The failed messages went to the back, so: a1 b1 a2 b2.
	run -0 awk '{ print $1, $2, $4 }' log
	[ "$output" = $'a 1 q\nb 1 q\na 2 q\nb 2 q' ]
	# Each message keeps its id across its attempts; the two differ.
	[ "$(awk '$1 == "a" { print $3 }' log | uniq | wc -l)" -eq 1 ]
	[ "$(awk '{ print $3 }' log | sort -u | wc -l)" -eq 2 ]
	stat_is q messages 0
	stat_is q claimed 0
	# Acknowledged messages leave no task behind for join.
	run -0 queue join --nowait q
}

@test "run: the message is the last argument, replaces {}, or goes to stdin" {
	queue put q 'a b' c
	queue close q
	run -0 queue run -j1 -k q echo x
	[ "$output" = $'x a b\nx c' ]
	queue open q
	queue put q m
	queue close q
	run -0 queue run -j1 q echo "<{}>" "{}{}"
	[ "$output" = "<m> mm" ]
	queue open q
	printf 'line1\nline2\0' | queue put -0 q
	queue close q
	run -0 queue run --stdin q cat
	[ "$output" = $'line1\nline2' ]
}

@test "run: replacement strings mean what they mean in pool" {
	printf '%s\n' /a/b.c.txt 'x y' .profile dir/ >msgs
	queue put q <msgs
	queue close q
	set -- '[{}]' '{.}' '{/}' '{//}' '{/.}' '{1}' '{1/.}' '#{#}' '%{%}' \
	    '${x}' 'a{}b{}'
	run -0 queue run -j1 -k q echo "$@"
	want=$(pool -j1 -k -a msgs echo "$@")
	[ "$output" = "$want" ]
	[ "${lines[0]}" = '[/a/b.c.txt] /a/b.c b.c.txt /a b.c /a/b.c.txt b.c #1 %1 ${x} a/a/b.c.txtb/a/b.c.txt' ]
	# {#} alone places no message: it is not appended either.
	queue open q
	queue put q m
	queue close q
	run -0 queue run q echo 'job {#}'
	[ "$output" = "job 1" ]
}

@test "run: after K retries a message goes to the dead queue, bytes intact" {
	printf 'a\nb\t\001\377\0c\0' >msgs
	queue put -0 q <msgs
	queue close q
	run -2 queue run -j1 --retries 1 --dead dq --stdin q sh -c 'cat >/dev/null; exit 3'
	[ -z "$output" ]
	stat_is q messages 0
	stat_is dq messages 2
	# The metadata: two attempts, the last one's status 3.
	run -0 queue get --meta -0 dq
	[ "$output" = "$(printf '2\t3\ta\nb\t\001\377')" ]
	run -0 sh -c 'queue get -0 dq | od -c'
	[ "$output" = "$(printf 'c\0' | od -c)" ]
}

@test "run: without --dead a message is dropped with one line; the status counts them" {
	queue put q a b c
	queue close q
	run -3 queue run -j2 q false
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" == "queue: q: message "*" failed 1 time (last status 1): dropped" ]]
	seq 101 | queue put r
	queue close r
	run -101 queue run -j2 r false
}

@test "run: --lease stops a hung job (TERM, then KILL after --grace) as a failed attempt" {
	queue put q a
	queue close q
	# Attempt 1 ignores SIGTERM and hangs; attempt 2 succeeds.
	run -0 queue run --lease 1 --grace 0.2 --retries 1 q sh -c \
	    'echo "$QUEUE_ATTEMPT" >>log; [ "$QUEUE_ATTEMPT" = 2 ] || { trap "" TERM; sleep 1000 & wait; }'
	[ "$(cat log)" = $'1\n2' ]
	queue open q
	queue put q b
	queue close q
	run -1 queue run --lease 0.5 --dead dq q sh -c 'exec sleep 1000'
	run -0 queue get --meta dq
	[ "$output" = $'1\t124\tb' ]
}

@test "run: CMD is checked before anything is taken (127, 126)" {
	queue put q a
	run -127 queue run q ./no-such-command
	[[ "$output" == *"No such file"* ]]
	touch plain
	run -126 queue run q ./plain
	stat_is q messages 1
	stat_is q gets 0
}

@test "run: bad input is 125 and takes nothing" {
	queue put q a
	sem create s
	run -125 queue run --retries x q true
	run -125 queue run --lease 0 q true
	run -125 queue run --retry-delay 1s,0.5s q true
	run -125 queue run --retry-delay bad q true
	run -125 queue run q
	[[ "$output" == *"missing CMD"* ]]
	run -125 queue run --dead q q true
	[[ "$output" == *"is the queue itself"* ]]
	run -125 queue run --dead s q true
	queue create --priority p
	run -125 queue run --retry-delay 1 p true
	run -125 queue run q echo '{2}'
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"{2}: a job of queue run has one value"* ]]
	stat_is q messages 1
	stat_is q gets 0
}

@test "run: SIGTERM stops the jobs and gives their messages back (143)" {
	queue put q a b
	bg queue run -j2 q sh -c 'echo $$ >>pids.job; exec sleep 1000'
	pid=$!
	wait_for stat_is q claimed 2
	wait_for test "$(wc -l <pids.job 2>/dev/null)" = 2
	kill -TERM "$pid"
	wait_status "$pid" 143
	stat_is q messages 2
	stat_is q claimed 0
	# shellcheck disable=SC2046 # one pid a line
	gone $(cat pids.job)
}

@test "run: SIGKILL of the worker returns its messages and ends its jobs" {
	queue put q a
	bg queue run q sh -c 'echo $$ >job.pid; exec sleep 1000'
	pid=$!
	wait_for test -s job.pid
	kill -KILL "$pid"
	wait "$pid" || true
	wait_for gone "$(cat job.pid)"
	run -0 queue get --nowait q
	[ "$output" = a ]
}

@test "run: SIGKILL of the worker kills its jobs' whole groups (the watcher); the message comes back" {
	queue put q a
	# The job's shell forks a grandchild, which the parent-death signal
	# of the shell alone would not reach.
	bg queue run q sh -c 'sleep 1000 & echo $! >bg.pid; wait'
	pid=$!
	wait_for test -s bg.pid
	kill -KILL "$pid"
	wait_status "$pid" 137
	wait_for gone "$(cat bg.pid)"
	stat_is q claimed 0
	run -0 queue get --nowait q
	[ "$output" = a ]
}

@test "run: every signal that would end it stops the jobs' groups first and gives their messages back" {
	queue put q a
	for sig in QUIT USR1 ALRM; do
		rm -f bg.pid
		bg queue run --grace 0 q sh -c 'sleep 1000 & echo $! >bg.pid; wait'
		pid=$!
		wait_for test -s bg.pid
		kill -"$sig" "$pid"
		wait_status "$pid" $((128 + $(kill -l "$sig")))
		wait_for gone "$(cat bg.pid)"
		stat_is q messages 1
		stat_is q claimed 0
	done
}

@test "run: a lease reaches what the job left running after its leader exited" {
	queue put q a
	queue close q
	# The leader exits at once; its background child holds the job's
	# output open and runs until the lease stops it.
	run -1 queue run --lease 0.5 --grace 0 q sh -c 'sleep 1000 & echo $! >bg.pid'
	[[ "$output" == *"failed 1 time (last status 124): dropped"* ]]
	wait_for gone "$(cat bg.pid)"
}

@test "run: two workers never run one message at once, and each runs once" {
	seq 100 | queue put q
	cat >once <<'EOF'
#!/bin/sh
mkdir "run.$1" || { echo "$1 twice at once" >>dup; exit 1; }
echo "$1" >>ok
rmdir "run.$1"
EOF
	chmod +x once
	bg queue run -j3 q ./once
	a=$!
	bg queue run -j3 q ./once
	b=$!
	wait_for stat_is q messages 0
	queue close q
	wait_status "$a" 0
	wait_status "$b" 0
	[ ! -e dup ]
	[ "$(sort -n ok)" = "$(seq 100)" ]
}

# The crash test of the issue: workers SIGKILLed at random instants while
# producers put. Every message must end acknowledged (a successful run),
# dead (the messages that always fail) or still queued: none lost. A
# message runs again only when a worker died after its job ended and
# before the acknowledgement, so reruns are at most the kills times -j.
@test "run: 200 SIGKILLs of workers while producers put lose no message" {
	cat >work <<'EOF'
#!/bin/sh
case $1 in *7) exit 3 ;; esac
echo "$1" >>ok
EOF
	chmod +x work
	queue create q
	# Two producers, 250 messages each, five to a put.
	for p in p r; do
		bg sh -c 'for i in $(seq 1 5 250); do
			queue put q "$0$i" "$0$((i + 1))" "$0$((i + 2))" \
			    "$0$((i + 3))" "$0$((i + 4))"
		done; echo >"$0.done"' "$p"
	done
	kills=0
	while [ "$kills" -lt 200 ]; do
		queue run -j2 --retries 1 --dead dq q ./work 2>/dev/null &
		w=$!
		sleep "0.00$((RANDOM % 10))"   # spreads the kills, orders nothing
		kill -KILL "$w"
		wait "$w" || true
		kills=$((kills + 1))
	done
	wait_for test -e p.done -a -e r.done
	queue close q
	queue run -j2 --retries 1 --dead dq q ./work 2>/dev/null || true
	stat_is q messages 0
	stat_is q claimed 0
	{ seq -f 'p%g' 250; seq -f 'r%g' 250; } | sort >all
	queue get -n "$(queue size dq)" dq | sort >dead
	sort -u ok >acked
	# Every message that does not fail was acknowledged, and those that
	# always fail are dead: none is lost.
	grep -v '7$' all | diff - acked
	grep '7$' all | diff - <(sort -u dead)
	reruns=$(( $(wc -l <ok) - $(wc -l <acked) + $(wc -l <dead) - $(sort -u dead | wc -l) ))
	echo "reruns: $reruns in $kills kills" >&3
	[ "$reruns" -le $((kills * 2)) ]
}

@test "put --delay: hidden until due (stat counts it); a waiting get wakes when due" {
	queue put --delay 1h q later
	queue put q now
	stat_is q messages 2
	stat_is q delayed 1
	run -0 queue get --nowait q
	[ "$output" = now ]
	run -75 queue get --nowait q
	queue put --delay 0.2 r soon
	run -0 queue get r
	[ "$output" = soon ]
	stat_is r delayed 0
	queue create --lifo l
	queue put --delay 0.2 l 'in a lifo'
	run -0 queue get l
	queue create --priority p
	run -125 queue put --delay 1 p x
	run -125 queue put --delay x q x
	stat_is p messages 0
}

@test "put --at TIME: hidden until the wall-clock time (@SECONDS, a local date or a UTC one)" {
	# 5 h 30 east of UTC, so that local and UTC times differ; ten
	# minutes from now or ago: no run of the test is that slow.
	export TZ=XYZ-5:30
	now=$(date +%s)
	later=$((now + 600)) ago=$((now - 600))
	queue put --at "@$later" q epoch
	queue put --at "$(date -d "@$later" '+%Y-%m-%d %H:%M:%S')" q local
	queue put --at "$(date -u -d "@$later" '+%Y-%m-%dT%H:%M:%SZ')" q utc
	stat_is q delayed 3
	run -75 queue get --nowait q
	# A time that has passed is due: the message is visible at once.
	queue put --at "@$ago" q epoch-ago
	queue put --at "$(date -d "@$ago" '+%Y-%m-%dT%H:%M')" q local-ago
	queue put --at "$(date -u -d "@$ago" '+%Y-%m-%d %H:%MZ')" q utc-ago
	run -0 queue get --nowait -n 3 q
	[ "$output" = $'epoch-ago\nlocal-ago\nutc-ago' ]
	stat_is q messages 3
	stat_is q delayed 3
	# A waiting get wakes when the time comes (on a slow machine it may
	# have come already).
	queue put --at "@$(($(date +%s) + 1))" r soon
	run -0 queue get -t 60 r
	[ "$output" = soon ]
	# Bad input: 125, one line, nothing added.
	queue create --priority p
	for bad in "--at 1700000000" "--at @x" "--at 2023-02-29T00:00" \
	    "--at @1 --delay 1"; do
		# shellcheck disable=SC2086 # the words of the options
		run -125 queue put $bad q x
		one_line
	done
	run -125 queue put --at "@$later" p x
	one_line
	[ "$output" = "queue: p: --at needs a FIFO or LIFO queue" ]
	stat_is q messages 3
	stat_is p messages 0
}

@test "run --retry-delay: a failed message waits in the queue, counted as delayed" {
	queue put q a
	queue close q
	export OK_AT=2
	bg queue run --retries 1 --retry-delay 1h q ./job
	pid=$!
	wait_for stat_is q delayed 1
	stat_is q messages 1
	stat_is q claimed 0
	kill -TERM "$pid"
	wait_status "$pid" 143
	[ "$(awk '{ print $1, $2 }' log)" = "a 1" ]
}

@test "open reopens a closed queue; a put into a closed one says how" {
	queue put q a
	queue close q
	run -1 queue put q b
	[ "$output" = "queue: q: queue closed (reopen it with 'queue open q')" ]
	run -0 queue open q
	run -0 queue put q b
	run -0 queue get -n 2 q
	[ "$output" = $'a\nb' ]
	run -0 queue open new
	stat_is new closed no
}

@test "run -k writes the jobs' output in message order" {
	queue put q a b c
	queue close q
	# c ends first, a last.
	run -0 queue run -k -j3 q sh -c '
		case $0 in
		a) until [ -e b.done ]; do sleep 0.01; done ;;
		b) until [ -e c.done ]; do sleep 0.01; done ;;
		esac
		echo "out $0"; echo "err $0" >&2; : >"$0.done"'
	[ "$output" = $'out a\nerr a\nout b\nerr b\nout c\nerr c' ]
}

@test "get from several queues takes from whichever has a message; --name says which" {
	queue put b x
	run -0 queue get --name a b
	[ "$output" = $'b\tx' ]
	# A waiting get wakes for any of its queues.
	bg sh -c 'queue get --name -n 2 a b c >got'
	pid=$!
	wait_for stat_is c getters 1
	queue put c y
	# Once y is taken (z put earlier could be taken first: the get
	# looks at its queues in order when it wakes).
	wait_for stat_is c gets 1
	queue put a z
	wait_status "$pid" 0
	[ "$(cat got)" = $'c\ty\na\tz' ]
	queue put a 1 2
	queue put c 3
	queue close a
	queue close b
	queue close c
	run -0 queue get -f a b c
	[ "$output" = $'1\n2\n3' ]
	run -1 queue get a b
	run -75 queue get --nowait d e
	run -124 queue get -t 0.1 d e
	# Every name is checked before any queue is made.
	run -125 queue get newq ..
	[ ! -e "$CONC_DIR/newq" ]
}
