/* cpuburn ITER [ITEM]: a CPU-bound job for bench/io.sh: ITER million
 * rounds of a xorshift generator, whose last value is printed so that the
 * work cannot be optimised away. ITEM is ignored (the runners pass one). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
	uint64_t x = 88172645463325252ULL;
	long i, n;

	if (argc < 2 || (n = atol(argv[1])) < 1) {
		fputs("usage: cpuburn MILLIONS [ITEM]\n", stderr);
		return 2;
	}
	for (i = 0; i < n * 1000000L; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	printf("%llu\n", (unsigned long long)x);
	return 0;
}
