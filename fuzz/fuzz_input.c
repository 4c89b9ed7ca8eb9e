/* libFuzzer target: pool's input splitting (cmd/pool/input.c): items at
 * a delimiter (-d, -0, newline) and --pipe blocks that end at a record
 * boundary. Input: the delimiter byte, the block size - 1, a mode byte
 * (bit 0: --pipe; bit 1: look ahead before each block, as pool does;
 * bit 2: read from a pipe, else from a regular file, whose --pipe blocks
 * are ranges of it), then the data. Checked: the items or blocks
 * put together give the data back; an item holds no delimiter and their
 * number is what input_count said; every block but the last ends with
 * the delimiter, and a block longer than the size is one record (no
 * delimiter in its first SIZE bytes). */
// fuzz-sources: cmd/pool/input.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fuzz.h"
#include "../cmd/pool/pool.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_dir();
	err_init("pool");
	return 0;
}

static void
items(struct input *in, const uint8_t *d, size_t n, int delim)
{
	long long count = input_count(in), got = 0;
	size_t off = 0, len;
	const char *p;

	while (input_item(in, &p, &len) == 1) {
		if (memchr(p, delim, len) || p[len] != '\0' || off + len > n ||
		    memcmp(p, d + off, len) != 0)
			abort();
		off += len;
		if (off < n && d[off++] != (uint8_t)delim)
			abort();
		got++;
	}
	if (off != n || (count >= 0 && got != count))
		abort();    /* count: -1 for a pipe */
}

static void
blocks(struct input *in, const uint8_t *d, size_t n, int delim, size_t size,
    int ahead)
{
	struct buf b = { 0 };
	size_t off = 0, sure;
	off_t pos = -1;
	char *range = NULL;

	input_blocks(in, size);
	for (;;) {
		if (ahead && input_ahead(in, size) != 1)
			abort();    /* neither a regular file nor a full pipe blocks */
		/* What pool may feed a job before its block is complete
		 * must be a part of the block. */
		sure = in->ranged ? 0 : input_block_sure(in, size);
		if (input_block(in, &b, &pos, size) != 1) {
			if (sure != 0)
				abort();
			break;
		}
		if (b.len == 0 || off + b.len > n || sure > b.len)
			abort();
		if (in->ranged) {
			/* A range of the file: it must start where the last
			 * block ended; read it to check it. */
			char *r = realloc(range, b.len);
			if (r == NULL)
				abort();
			range = r;
			if (pos != (off_t)off ||
			    pread(in->fd, range, b.len, pos) != (ssize_t)b.len)
				abort();
			b.p = range;
		}
		if (memcmp(b.p, d + off, b.len) != 0)
			abort();
		off += b.len;
		if (off < n && b.p[b.len - 1] != (char)delim)
			abort();
		if (b.len > size && memchr(b.p, delim, size) != NULL)
			abort();
	}
	if (off != n)
		abort();
	if (in->ranged) {
		free(range);
		b.p = NULL;
	}
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[4096];
	struct input in;
	int delim;
	size_t bsize;

	if (size < 3)
		return 0;
	delim = data[0];
	bsize = (size_t)data[1] + 1;
	if (data[2] & 4) {
		/* From a pipe (max_len keeps the data below its capacity):
		 * --pipe blocks are then read into memory. */
		int fds[2];
		if (pipe(fds) < 0 || write(fds[1], data + 3, size - 3) !=
		    (ssize_t)(size - 3))
			abort();
		close(fds[1]);
		snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
		if (input_open(&in, path, delim) < 0)
			abort();
		close(fds[0]);
	} else {
		snprintf(path, sizeof path, "%s/in", fuzz_dir());
		fuzz_write(path, data + 3, size - 3);
		if (input_open(&in, path, delim) < 0)
			abort();
	}
	if (data[2] & 1)
		blocks(&in, data + 3, size - 3, delim, bsize, data[2] & 2);
	else
		items(&in, data + 3, size - 3, delim);
	close(in.fd);
	free(in.buf);
	return 0;
}
