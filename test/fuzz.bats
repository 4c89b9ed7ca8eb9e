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
