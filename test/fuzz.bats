#!/usr/bin/env bats
# Regression tests for what the libFuzzer targets (fuzz/) found: each
# test reproduces a finding through the program and names it.

load helper

@test "fuzz queue: a record offset outside the ring gives 125, not a crash" {
	queue create --priority --size 4K ./p
	queue put ./p a
	# The first heap entry's offset (byte 57348: the heap follows the
	# ring, at 53248 + 4096) := 1 GiB: get read there and died of SIGSEGV.
	printf '\0\0\0\100' | dd of=p bs=1 seek=57348 conv=notrunc 2>/dev/null
	run -125 queue get ./p
	one_line
	[[ "$output" == *"damaged queue (bad record length)"* ]]
}

@test "fuzz queue: a head that is not a multiple of 4 is damage (125), not a misaligned put" {
	queue create --size 4K ./q
	queue put ./q a
	# head (byte 312) := 21: put wrote its record at an odd place.
	printf '\25' | dd of=q bs=1 seek=312 conv=notrunc 2>/dev/null
	run -125 queue put ./q b
	one_line
	[[ "$output" == *"damaged queue (bad head or tail)"* ]]
}

@test "fuzz sem: a holder count of 0 beside a dead holder is recounted, not wrapped" {
	sleep 100 &
	local p=$!
	echo "$p" >>"$BATS_TEST_TMPDIR/pids"
	sem acquire -n 2 --owner "$p" s
	kill "$p"
	wait "$p" || true
	# used (byte 88) := 0. Reaping the dead holder took it to 2^32-1,
	# and stat then failed to allocate that many holder records.
	printf '\0\0\0\0' | dd of="$CONC_DIR/s" bs=1 seek=88 conv=notrunc 2>/dev/null
	run -0 sem stat s
	[[ "$output" == *"holders	0"* ]]
	run -0 sem value s
	[ "$output" = 2 ]
}

@test "fuzz repl: an empty item in a replacement string that starts the ARGs (UBSan: memcpy to NULL)" {
	# The first expanded ARG appended 0 bytes to a buffer that had no
	# memory yet; the sanitizer build (make SANITIZE=...) stopped there.
	run -0 pool printf '[%s]\n' {} < <(printf '\n')
	[ "$output" = "[]" ]
}

@test "fuzz joblog: --resume with a huge job number in the log needs no memory in proportion to it" {
	{
		printf 'Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n'
		printf '1\t:\t0\t0\t0\t0\t0\t0\techo a\n'
		# 2^40, the largest job number a log may name: a table indexed
		# by job number asked for 2 TiB and pool died "out of memory".
		printf '1099511627776\t:\t0\t0\t0\t0\t0\t0\techo x\n'
	} >log
	run -0 pool --joblog log --resume echo < <(printf 'a\nb\n')
	[ "$output" = b ]
}

@test "fuzz queue: a back link longer than the way down to the oldest message ends the walk, not a hang" {
	queue create --lifo --size 4K ./l
	queue put ./l a bb
	# bb's back link (ring byte 20 + 8) := 925 * 4096: after get, the
	# walk that trims freed messages off the top computed last - back
	# below 0 and went round the ring for ever.
	printf '\0\320\71\0' | dd of=l bs=1 seek=53276 conv=notrunc 2>/dev/null
	run -0 timeout 10 queue get ./l
	[ "$output" = bb ]
}

@test "fuzz queue: a newest-message position far above the head is damage (125), not an endless walk" {
	queue create --lifo --size 4K ./l
	queue put ./l a bb
	# bb (ring byte 20) := free with a back link of 4096, rd (byte 408)
	# := none, last (byte 328) := 2^50 + 20: get walked down from there,
	# 4096 bytes at a time.
	printf '\2\0\0\0\0\020\0\0' | dd of=l bs=1 seek=53272 conv=notrunc 2>/dev/null
	printf '\377\377\377\377\377\377\377\377' |
		dd of=l bs=1 seek=408 conv=notrunc 2>/dev/null
	printf '\024\0\0\0\0\0\004\0' | dd of=l bs=1 seek=328 conv=notrunc 2>/dev/null
	run -125 timeout 10 queue get -n 2 ./l
	one_line
	[[ "$output" == *"damaged queue (bad last record)"* ]]
}

@test "a lock word naming a thread that does not exist is repaired, not waited on for ever" {
	# The owner field of each object's robust mutex (byte 32 of a
	# semaphore and of a barrier, byte 120 of a queue) := thread
	# 0x3ffffff0, above any pid_max: no one will ever unlock it, and the
	# kernel only marks holders that die. The tools take it for a dead
	# holder after about a second and repair; timeout(1) is only a net.
	sem create s
	barrier wait -n 1 b
	queue create q
	for o in s:32 b:32 q:120; do
		printf '\360\377\377\77' | dd of="$CONC_DIR/${o%:*}" bs=1 seek="${o#*:}" conv=notrunc 2>/dev/null
	done
	run -0 timeout 60 sem run s echo ran
	[ "$output" = ran ]
	run -0 timeout 60 sem value s
	[ "$output" = 1 ]
	run -0 timeout 60 barrier wait -n 1 b
	run -0 timeout 60 queue put q hello
	run -0 timeout 60 queue get q
	[ "$output" = hello ]
}
