/* pipecopy: the physical limit for moving bytes between two processes.
 *
 *   pipecopy rw BYTES [BLOCK]      a writer process write(2)s BYTES in
 *                                  BLOCK-byte writes (default 64 KiB) into
 *                                  a pipe; this process read(2)s them
 *   pipecopy splice BYTES [BLOCK]  the same with vmsplice(2) into the pipe
 *                                  and splice(2) out of it to /dev/null:
 *                                  no copy through user space
 *
 * Prints the throughput in MB/s (10^6 bytes per second) measured from the
 * fork to the last byte read. The bytes are lines of 63 characters and a
 * newline, as a stream of messages would be. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static void
writer(int fd, long long bytes, size_t block, int use_splice)
{
	char *buf = malloc(block);
	size_t i;

	if (buf == NULL)
		die("malloc");
	for (i = 0; i < block; i++)
		buf[i] = i % 64 == 63 ? '\n' : 'm';
	while (bytes > 0) {
		size_t n = bytes < (long long)block ? (size_t)bytes : block;
		ssize_t w;
		if (use_splice) {
			struct iovec iov = { buf, n };
			w = vmsplice(fd, &iov, 1, 0);
		} else
			w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die(use_splice ? "vmsplice" : "write");
		bytes -= w;
	}
	_exit(0);
}

static long long
reader(int fd, size_t block, int use_splice)
{
	char *buf = malloc(block);
	long long got = 0;
	int null = open("/dev/null", O_WRONLY);
	ssize_t r;

	if (buf == NULL || null < 0)
		die("reader");
	for (;;) {
		if (use_splice)
			r = splice(fd, NULL, null, NULL, block, 0);
		else
			r = read(fd, buf, block);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die(use_splice ? "splice" : "read");
		if (r == 0)
			break;
		got += r;
	}
	free(buf);
	close(null);
	return got;
}

int
main(int argc, char **argv)
{
	long long bytes, got;
	size_t block = 65536;
	int use_splice, fd[2];
	int64_t t0, t1;
	pid_t pid;

	if (argc < 3 || argc > 4 || (strcmp(argv[1], "rw") != 0 &&
	    strcmp(argv[1], "splice") != 0) || (bytes = atoll(argv[2])) <= 0 ||
	    (argc == 4 && (block = (size_t)atol(argv[3])) == 0)) {
		fputs("usage: pipecopy rw|splice BYTES [BLOCK]\n", stderr);
		return 2;
	}
	use_splice = strcmp(argv[1], "splice") == 0;
	t0 = now_ns();
	if (pipe(fd) < 0)
		die("pipe");
	if ((pid = fork()) < 0)
		die("fork");
	if (pid == 0) {
		close(fd[0]);
		writer(fd[1], bytes, block, use_splice);
	}
	close(fd[1]);
	got = reader(fd[0], block, use_splice);
	t1 = now_ns();
	waitpid(pid, NULL, 0);
	if (got != bytes) {
		fprintf(stderr, "pipecopy: read %lld of %lld bytes\n", got, bytes);
		return 1;
	}
	printf("%.0f\n", bytes / ((t1 - t0) / 1e9) / 1e6);
	return 0;
}
