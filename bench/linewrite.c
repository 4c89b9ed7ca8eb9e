/* linewrite FILE: copy FILE to stdout with one write(2) per line, the
 * way a naive producer feeds a FIFO (bench/queue.sh). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	static char buf[1 << 16];
	FILE *f;

	if (argc != 2 || (f = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: linewrite FILE\n");
		return 2;
	}
	while (fgets(buf, sizeof buf, f) != NULL) {
		size_t n = strlen(buf);
		if (write(1, buf, n) != (ssize_t)n)
			return 1;
	}
	return 0;
}
