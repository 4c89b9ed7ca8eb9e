/* lines BYTES LEN [ID]: write BYTES bytes of LEN-byte lines to stdout, in
 * blocks of whole lines of about 64 KiB (what yes(1) does for LEN 2, "y").
 * ID is ignored: it lets GNU parallel tag the job with a short name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	static char block[65536];
	long long left, len, n, i;

	if (argc < 3 || (left = atoll(argv[1])) < 0 || (len = atoll(argv[2])) < 1 ||
	    len > (long long)sizeof block) {
		fputs("usage: lines BYTES LEN [ID]\n", stderr);
		return 2;
	}
	n = sizeof block / len * len;
	memset(block, 'y', n);
	for (i = len - 1; i < n; i += len)
		block[i] = '\n';
	while (left > 0) {
		ssize_t w = write(1, block, left < n ? left : n);
		if (w <= 0)
			return 1;
		left -= w;
	}
	return 0;
}
