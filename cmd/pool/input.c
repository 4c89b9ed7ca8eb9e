/* pool: reading items (or --pipe blocks) lazily.
 *
 * Input is read only when a job slot is free and needs an item, so an
 * endless input runs in constant memory. A descriptor the event loop can
 * watch (a pipe, a terminal) is read once per readiness report, so a slow
 * producer never stalls the loop; a regular file never blocks and is read
 * directly.
 *
 * --pipe from a regular file does not read the blocks at all: a block is a
 * range of the file, found by reading only a window around its end to
 * place the record boundary, and pool.c feeds it to the job with splice(2),
 * so its bytes go from the page cache to the job's pipe without a copy
 * through our memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "pool.h"

#define INPUT_CHUNK 65536
/* MAX_ARG_STRLEN (32 pages) less the terminating NUL. */
#define ITEM_MAX (128 * 1024 - 1)

/* Memory for a --pipe block: with transparent huge pages on request
 * (madvise mode), a 64 MiB block costs 32 page faults instead of 16384,
 * which on a virtual machine is most of the time of its first use. */
static void *
block_alloc(void *old, size_t n)
{
	void *p = realloc(old, n);
#ifdef MADV_HUGEPAGE
	const uintptr_t huge = (uintptr_t)2 << 20;

	if (p != NULL && n >= 2 * huge) {
		uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
		uintptr_t e = ((uintptr_t)p + n) & ~(huge - 1);
		(void)madvise((void *)a, e - a, MADV_HUGEPAGE);
	}
#endif
	if (p == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	return p;
}

int
input_open(struct input *in, const char *file, int delim)
{
	memset(in, 0, sizeof *in);
	in->delim = delim;
	in->fd = 0;
	if (file && strcmp(file, "-") != 0) {
		in->fd = open(file, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0)
			return -1;
	}
	in->cap = INPUT_CHUNK + 1;
	in->buf = malloc(in->cap);
	if (in->buf == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	return 0;
}

/* Make room for at least WANT bytes of reading after the held data. */
static void
make_room(struct input *in, size_t want)
{
	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->len - in->start);
		in->len -= in->start;
		in->start = 0;
	}
	if (in->cap - in->len < want + 1) {
		size_t cap = in->cap;
		char *p;
		while (cap - in->len < want + 1)
			cap *= 2;
		p = realloc(in->buf, cap);
		if (p == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		in->buf = p;
		in->cap = cap;
	}
}

/* One read. Returns 1 after progress (data or end of file), 0 when the
 * descriptor has nothing now. */
static int
fill(struct input *in, size_t want)
{
	ssize_t n;

	make_room(in, want);
	do
		n = read(in->fd, in->buf + in->len, in->cap - in->len - 1);
	while (n < 0 && errno == EINTR);
	in->ready = 0;
	if (n > 0) {
		in->len += n;
		return 1;
	}
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n < 0) {
		err_warn("read %s", in->fd == 0 ? "standard input" : "--arg-file");
		in->err = 1;
	}
	in->eof = 1;
	return 1;
}

/* An argument ends at its first NUL byte: say so once, as xargs does. */
static void
check_nul(struct input *in, const char *s, size_t n)
{
	if (in->delim != '\0' && !in->nul_seen && memchr(s, '\0', n)) {
		in->nul_seen = 1;
		err_warnx("warning: a NUL byte in item %llu cuts it short "
		    "(-0 takes NUL-separated items)", in->nread + 1);
	}
}

void
input_unget(struct input *in)
{
	in->start -= in->last;
	if (in->last_delim)     /* put back what the NUL replaced */
		in->buf[in->start + in->last - 1] = (char)in->delim;
	in->nread--;
	in->last = 0;
}

/* An item longer than the kernel takes in one argument can never run:
 * reading stops there instead of buffering it without end. */
static int
too_long(struct input *in)
{
	err_warnx("item %llu: longer than %d bytes, the most one argument "
	    "can hold", in->nread + 1, ITEM_MAX);
	in->err = 1;
	in->eof = 1;
	in->start = in->len;
	return -1;
}

int
input_item(struct input *in, const char **p, size_t *n)
{
	for (;;) {
		char *s = in->buf + in->start, *d;
		size_t avail = in->len - in->start;

		d = avail ? memchr(s, in->delim, avail) : NULL;
		if ((d ? (size_t)(d - s) : avail) > ITEM_MAX)
			return too_long(in);
		if (d) {
			check_nul(in, s, d - s);
			*d = '\0';
			*p = s;
			*n = d - s;
			in->last = *n + 1;
			in->last_delim = 1;
			in->start += *n + 1;
			in->nread++;
			return 1;
		}
		if (in->eof) {
			if (avail == 0)
				return -1;
			/* The last item may lack its delimiter; the
			 * buffer always keeps one byte spare for the NUL. */
			check_nul(in, s, avail);
			s[avail] = '\0';
			*p = s;
			*n = avail;
			in->last = avail;
			in->last_delim = 0;
			in->start = in->len;
			in->nread++;
			return 1;
		}
		if (in->pollable && !in->ready)
			return 0;
		if (!fill(in, INPUT_CHUNK))
			return 0;
	}
}

/* Where a block of about SIZE bytes starting at in->start ends: after the
 * last delimiter within SIZE bytes, or after the first one beyond when a
 * record is longer than SIZE; 0 when no delimiter has been read yet. */
static size_t
block_end(const struct input *in, size_t size)
{
	const char *s = in->buf + in->start, *d;
	size_t avail = in->len - in->start;

	d = memrchr(s, in->delim, avail < size ? avail : size);
	if (d == NULL && avail > size)
		d = memchr(s + size, in->delim, avail - size);
	return d ? (size_t)(d - in->buf) + 1 : 0;
}

#define WINDOW 65536

/* Read up to N bytes of the file at OFF into P; -1 after a read error. */
static ssize_t
window(struct input *in, char *p, size_t n, off_t off)
{
	ssize_t r;

	do
		r = pread(in->fd, p, n, off);
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		err_warn("read %s", in->fd == 0 ? "standard input" : "--arg-file");
		in->err = 1;
	}
	return r;
}

/* block_end for a ranged input: the file offset just after the block of
 * about SIZE bytes at in->pos, END when the file ends within it, -1 after
 * a read error. Windows are read backwards from in->pos + SIZE, then
 * forwards past it when one record is longer than SIZE. */
static off_t
range_end(struct input *in, size_t size, off_t end)
{
	char w[WINDOW];
	const char *d;
	off_t lo = in->pos, at = in->pos + (off_t)size;
	ssize_t n;

	if (end - lo <= (off_t)size)
		return end;
	while (at > lo) {
		off_t from = at - lo > WINDOW ? at - WINDOW : lo;
		if ((n = window(in, w, at - from, from)) < 0)
			return -1;
		if ((d = memrchr(w, in->delim, n)) != NULL)
			return from + (d - w) + 1;
		at = from;
	}
	for (at = in->pos + (off_t)size; at < end; at += n) {
		if ((n = window(in, w, WINDOW, at)) <= 0)
			return n < 0 ? -1 : end;
		if ((d = memchr(w, in->delim, n)) != NULL)
			return at + (d - w) + 1;
	}
	return end;
}

static int
range_block(struct input *in, struct buf *b, off_t *pos, size_t size)
{
	struct stat st;
	off_t end;

	/* The size is looked up for every block: a growing file is read
	 * up to where it ends at the time. */
	if (fstat(in->fd, &st) < 0 || st.st_size <= in->pos ||
	    (end = range_end(in, size, st.st_size)) < 0) {
		/* Leave the offset where a reader that shares it expects. */
		(void)lseek(in->fd, in->pos, SEEK_SET);
		in->eof = 1;
		return -1;
	}
	*pos = in->pos;
	b->len = (size_t)(end - in->pos);
	in->pos = end;
	in->nread++;
	return 1;
}

int
input_block(struct input *in, struct buf *b, off_t *pos, size_t size)
{
	size_t end = 0, tail, spare_cap;
	char *spare;

	if (in->ranged)
		return range_block(in, b, pos, size);
	make_room(in, 0);
	for (;;) {
		size_t avail = in->len - in->start;
		if (in->eof && avail == 0)
			return -1;
		if (in->eof || avail >= size) {
			end = in->eof ? 0 : block_end(in, size);
			if (in->eof || end)
				break;
		}
		if (in->pollable && !in->ready)
			return 0;
		/* A record longer than the block makes the block grow. */
		if (!fill(in, avail < size ? size + INPUT_CHUNK - avail :
		    INPUT_CHUNK))
			return 0;
	}
	if (end == 0)
		end = in->len;
	/* Hand the whole buffer to the job instead of copying the block:
	 * the job's previous buffer becomes ours and only the tail (a part
	 * of one record) moves. In this mode in->start is always 0. */
	spare = b->p;
	spare_cap = b->cap;
	if (spare_cap < in->cap) {
		/* Nothing in it is needed: no realloc, which would copy. */
		free(spare);
		spare = block_alloc(NULL, in->cap);
		spare_cap = in->cap;
	}
	tail = in->len - end;
	memcpy(spare, in->buf + end, tail);
	b->p = in->buf;
	b->cap = in->cap;
	b->len = end;
	in->buf = spare;
	in->cap = spare_cap;
	in->len = tail;
	in->scan = in->sure = 0;
	in->nread++;
	return 1;
}

size_t
input_block_sure(struct input *in, size_t size)
{
	size_t lim = in->len < size ? in->len : size;
	const char *d;

	/* Only what was read since the last look is searched. */
	if (lim > in->scan) {
		d = memrchr(in->buf + in->scan, in->delim, lim - in->scan);
		if (d != NULL)
			in->sure = (size_t)(d - in->buf) + 1;
		in->scan = lim;
	}
	return in->sure;
}

void
input_blocks(struct input *in, size_t size)
{
	struct stat st;

	if (fstat(in->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (in->pos = lseek(in->fd, 0, SEEK_CUR)) >= 0) {
		in->ranged = 1;
		return;
	}
	/* Room for a block and one more read, allocated once, so that the
	 * buffers that take turns as blocks never grow by copying. */
	in->cap = size + INPUT_CHUNK + 1;
	in->buf = block_alloc(in->buf, in->cap);
}

int
input_ahead(struct input *in, size_t size)
{
	while (!in->ranged && !in->eof && in->len - in->start < size) {
		if (in->pollable && !in->ready)
			return 0;
		if (!fill(in, size + INPUT_CHUNK - (in->len - in->start)))
			return 0;
	}
	return 1;
}

long long
input_count(const struct input *in)
{
	struct stat st;
	char buf[65536];
	long long count = 0;
	off_t off;
	ssize_t n;
	char last = (char)in->delim;

	if (fstat(in->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	off = lseek(in->fd, 0, SEEK_CUR);
	if (off < 0)
		return -1;
	while ((n = pread(in->fd, buf, sizeof buf, off)) > 0) {
		const char *p = buf, *end = buf + n;
		while ((p = memchr(p, in->delim, end - p)) != NULL) {
			count++;
			p++;
		}
		last = buf[n - 1];
		off += n;
	}
	if (last != (char)in->delim)
		count++;
	return count;
}
