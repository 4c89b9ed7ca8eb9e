#!/usr/bin/env bats
# Regression tests for what the libFuzzer targets (fuzz/) found: each
# test reproduces a finding through the program and names it.

load helper

@test "fuzz queue: a LIFO back link past the ring's start gives 125, not a crash" {
	queue create --lifo --size 4K ./l
	queue put ./l a bb
	# last (byte 328) far above the ring, rd (byte 408) "none", and a
	# back link of 64 KiB in the first record (ring at byte 53248): get
	# followed the link to an offset outside the file and read there.
	printf '\0\0\0\0\0\1\0\0' | dd of=l bs=1 seek=328 conv=notrunc 2>/dev/null
	printf '\377\377\377\377\377\377\377\377' |
		dd of=l bs=1 seek=408 conv=notrunc 2>/dev/null
	printf '\0\0\1\0' | dd of=l bs=1 seek=53256 conv=notrunc 2>/dev/null
	run -125 queue get -n 2 ./l
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
