#!/usr/bin/env bats
# queue(1), STORAGE: a queue's file takes storage as its messages come
# and gives it back when they are gone; it never grows past --size, and
# SIGKILLs during growth or shrink lose, tear and duplicate nothing.
# Background work is synchronised on what queue itself reports (stat).

load helper

# alloc NAME: the storage queue stat reports for NAME, in KiB.
alloc() {
	echo $(($(queue stat "$1" | awk -F '\t' '$1 == "allocated" { print $2 }') / 1024))
}

# alloc_le NAME KIB: NAME takes at most KIB KiB (stat), and du agrees.
alloc_le() {
	local a d
	a=$(alloc "$1")
	d=$(du -k "$CONC_DIR/$1" | cut -f 1)
	[ "$a" = "$d" ] || { echo "stat says $a KiB, du $d KiB" >&2; return 1; }
	[ "$a" -le "$2" ] || { echo "$1 takes $a KiB, more than $2" >&2; return 1; }
}

# msgs N TAG: N messages of 1 to 400 bytes, each unique, one a line.
msgs() {
	awk -v n="$1" -v t="$2" 'BEGIN { for (i = 1; i <= n; i++) {
		s = t "-" i "-"; k = (i * 37) % 400
		while (length(s) < k) s = s "x"
		print s } }'
}

@test "100 empty queues take less than 10 MiB of the file system, each at most 64 KiB" {
	for i in $(seq 1 20); do
		queue create "c$i"
		st=0
		queue get --nowait "typo$i" || st=$?   # made by a mistyped get
		[ "$st" = 75 ]
		queue put "d$i" x
		queue get "d$i" >/dev/null
		queue create --priority "p$i"
		queue put -p 3 "p$i" y
		queue get "p$i" >/dev/null
		queue create --lifo --size 100 "l$i"
	done
	seq 1 100000 | queue put big
	queue get -n 100000 big >/dev/null
	[ "$(find "$CONC_DIR" -type f | wc -l)" = 101 ]
	[ "$(du -sk "$CONC_DIR" | cut -f 1)" -lt 10240 ]
	for f in "$CONC_DIR"/*; do
		alloc_le "${f##*/}" 64
	done
}

@test "stat and ls show the storage allocated beside the size" {
	queue create --size 1M q
	run -0 queue stat q
	[ "${lines[2]}" = $'size\t1048576' ]
	[[ "${lines[3]}" == allocated$'\t'* ]]
	run -0 queue ls --header
	[ "$(cut -f 3,4 <<<"${lines[0]}")" = $'size\tallocated' ]
	[ "$(cut -f 4 <<<"${lines[1]}")" = "$(queue stat q | awk -F '\t' '$1 == "allocated" { print $2 }')" ]
	run -0 queue stat --json q
	[[ "$output" == *'"size": 1048576, "allocated": '* ]]
}

@test "a queue grows as messages come, to --size at most, and gives the storage back as it drains" {
	for order in "" --lifo --priority; do
		queue create $order --size 8M q
		alloc_le q 64
		msgs 40000 m >all                      # about 9 MB of records
		run -75 queue put --nowait q <all      # fills the ring, no more
		n=$(queue size q)
		[ "$n" -gt 20000 ] && [ "$n" -lt 40000 ]
		[ "$(alloc q)" -gt 7000 ]
		# The ring, the header, a priority queue's heap (8 bytes a
		# message, allocated in doubling steps).
		heap=0
		[ "$order" != --priority ] || heap=$((n * 16 / 1024))
		alloc_le q $((8192 + 52 + 64 + heap))
		# Half taken: half of the storage (and some) given back.
		queue get -n $((n / 2)) q >got
		alloc_le q $((4096 + 52 + 64 + 1100 + heap))
		queue get -n $((n - n / 2)) q >>got
		alloc_le q 64
		head -n "$n" all | sort >want
		sort got | cmp - want
		# Grown again from empty, and given back again.
		seq 1 100000 | queue put q
		[ "$(alloc q)" -gt 2000 ]
		queue get -n 100000 q | sort -n | cmp - <(seq 1 100000)
		alloc_le q 64
		queue rm q
	done
}

@test "a get -f waiting on a drained queue gives the storage back" {
	seq 1 200000 | queue put q
	[ "$(alloc q)" -gt 4000 ]
	bg queue get -f q >out
	wait_for alloc_le q 64
	run -0 queue size q
	[ "$output" = 0 ]
	queue close q
	wait "$(cat "$BATS_TEST_TMPDIR/pids")"
	cmp out <(seq 1 200000)
}

@test "queue run gives the storage back when the queue has drained" {
	awk 'BEGIN { for (i = 1; i <= 300; i++) {
		s = i; while (length(s) < 8000) s = s "x"; print s } }' | queue put q
	queue close q
	[ "$(alloc q)" -gt 2000 ]
	run -0 queue run -j 2 q true
	alloc_le q 64
	run -0 queue size q
	[ "$output" = 0 ]
}

# SIGKILL at random moments while the ring grows (put), shrinks (a get
# that drained it, a getter that waits) and wraps: every message a put
# added comes out whole; a put killed half-way added a first part of its
# messages, in order; and when no getter of the round was killed, each
# message came out exactly once.
@test "SIGKILLs during growth and shrink keep every message exactly" {
	queue create --size 256K f
	queue create --priority --size 256K p
	queue create w      # 32 MiB: a stream goes back to its start early
	rounds=${STORAGE_ROUNDS:-42}
	for ((r = 1; r <= rounds; r++)); do
		case $((r % 3)) in
		0) q=f N=5000 ;;    # about 1 MB: four times the ring
		1) q=p N=5000 ;;
		2) q=w N=12000 ;;   # about 2.4 MB
		esac
		msgs "$N" "r$r" >"in.$r"
		queue put "$q" <"in.$r" & pp=$!
		queue get -n "$N" "$q" >"got.$r.a" & ga=$!
		# After a random delay (to vary the moment, not to order
		# anything), kill the putter, the getter, both or none.
		sleep "0.0$((RANDOM % 4))$((RANDOM % 10))"
		k=$((RANDOM % 4))
		case $k in
		0) kill -9 $pp 2>/dev/null || true ;;
		1) kill -9 $ga 2>/dev/null || true ;;
		2) kill -9 $pp $ga 2>/dev/null || true ;;
		esac
		# A second getter, never killed, takes what is left and ends
		# (0) once the queue is closed and drained, with what a killed
		# getter held.
		queue get -f "$q" >"got.$r.b" & gb=$!
		put_ok=0
		if wait $pp; then put_ok=1; fi
		queue close "$q"
		got_st=0
		wait $ga || got_st=$?
		wait $gb
		queue open "$q"
		queue stat "$q" | grep -qx $'messages\t0'
		queue stat "$q" | grep -qx $'claimed\t0'
		# Whole lines only: a killed getter may leave a torn last line
		# (that message went back and came out again).
		if [ -s "got.$r.a" ] && [ -n "$(tail -c 1 "got.$r.a")" ]; then
			sed -i '$d' "got.$r.a"
		fi
		cat "got.$r.a" "got.$r.b" >"out.$r"
		# Every line is one of the round's messages, and together they
		# are its first L messages.
		sort -u "out.$r" >"set.$r"
		L=$(wc -l <"set.$r")
		head -n "$L" "in.$r" | sort | cmp - "set.$r"
		if [ "$put_ok" = 1 ]; then [ "$L" = "$N" ]; fi
		# No getter killed: exactly once.
		if [ "$got_st" -le 1 ]; then    # 1: closed before its N
			[ "$(wc -l <"out.$r")" = "$L" ]
		fi
	done
	# Drained and left: each queue is back to its header and a page or
	# two. A getter killed after its last commit and before the shrink
	# at its exit may have left the storage held: the next put and get
	# that change the queue give it back as they end.
	for q in f p w; do
		queue put "$q" x
		[ "$(queue get "$q")" = x ]
	done
	alloc_le f 64
	alloc_le p 64
	alloc_le w 64
	queue put f after
	run -0 queue get f
	[ "$output" = after ]
}
