#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mux.h"

#define MUX_READ 65536

/* mux_src_read reads up to MUX_BIG bytes at once, into the sink's read
 * buffer, after the partial line the source holds if it is no longer
 * than MUX_HELD. */
#define MUX_BIG (256 * 1024)
#define MUX_HELD MUX_READ

/* Every buffer has this many spare bytes past its capacity, so that the
 * fast path can copy whole words without checking for the end. */
#define MUX_SLACK 64

/* The fast path looks for newlines in a block of bytes at once: 16 with
 * SSE2 (every x86-64 has it), else 8 in a 64-bit word, which needs the
 * lowest-addressed byte in the low bits and a count of trailing zeros. */
#if defined(__GNUC__) && defined(__SSE2__)
#include <emmintrin.h>
#define MUX_FAST 1
#define BLK 16
typedef __m128i blk;
#define blk_load(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define blk_store(d, b) _mm_storeu_si128((__m128i *)(void *)(d), (b))
/* The newlines of B: bit I set when byte I is '\n'. */
#define blk_newlines(b) \
	((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8((b), _mm_set1_epi8('\n'))))
#define blk_first(m) ((size_t)__builtin_ctzll(m))
/* The newlines of the first K bytes of a block (0 < K < BLK). */
#define blk_before(k) ((1ULL << (k)) - 1)
#elif defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MUX_FAST 1
#define BLK 8
typedef uint64_t blk;
#define blk_load(p) load8(p)
#define blk_store(d, b) memcpy((d), &(b), 8)
#define blk_newlines(b) newlines(b)
#define blk_first(m) ((size_t)__builtin_ctzll(m) >> 3)
#define blk_before(k) ((1ULL << 8 * (k)) - 1)
#endif
#define MUX_FAST_PREFIX 32

int
mux_out_init(struct mux_out *o, int fd, size_t cap)
{
	struct stat st;

	memset(o, 0, sizeof *o);
	o->fd = fd;
	o->cap = cap < 4096 ? 4096 : cap;
	o->cont = "\n";
	o->buf = malloc(o->cap + MUX_SLACK);
	if (fd >= 0 && fstat(fd, &st) == 0)
		o->may_stall = S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
		    S_ISCHR(st.st_mode);
	return o->buf ? 0 : -1;
}

void
mux_out_free(struct mux_out *o)
{
	free(o->buf);
	o->buf = NULL;
	free(o->rbuf);
	o->rbuf = NULL;
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The deadline of O's writes, or -1 when they may wait for ever. */
static int64_t
deadline_of(const struct mux_out *o)
{
	return o->deadline && o->may_stall ? o->deadline() : -1;
}

/* Wait for room in O's descriptor until DEADLINE. Returns nonzero if
 * there is room; 0 once the deadline has passed. */
static int
room_by(const struct mux_out *o, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { o->fd, POLLOUT, 0 };
		int64_t left = deadline - mono_ns();
		int ms, r;
		if (left <= 0)
			return 0;
		ms = left > 86400000LL * 1000000 ? 86400000 :
		    (int)((left + 999999) / 1000000);
		r = poll(&pfd, 1, ms);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1;  /* let the write report it */
	}
}

static void
write_all(struct mux_out *o, const char *p, size_t n)
{
	while (n > 0 && !o->err) {
		size_t k = n;
		ssize_t w;
		int64_t d = deadline_of(o);
		int quit = (o->cancel && o->cancel()) ||
		    (d >= 0 && mono_ns() >= d);
		if (!quit && d >= 0) {
			/* Wait for room until the deadline (then the next
			 * turn gives up); after POLLOUT, PIPE_BUF bytes go
			 * without waiting. */
			if (!room_by(o, d))
				continue;
			if (k > PIPE_BUF)
				k = PIPE_BUF;
		} else if (quit) {
			/* Given up: write only what goes without waiting.
			 * After POLLOUT, PIPE_BUF bytes fit in a pipe. */
			struct pollfd pfd = { o->fd, POLLOUT, 0 };
			if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT)) {
				o->err = ECANCELED;
				break;
			}
			if (k > PIPE_BUF)
				k = PIPE_BUF;
		}
		w = write(o->fd, p, k);
		if (w >= 0) {
			p += w;
			n -= w;
			if (n == 0)
				break;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			/* Someone made the descriptor non-blocking (it may
			 * be shared with other processes): wait here, as a
			 * blocking write would. */
			struct pollfd pfd = { o->fd, POLLOUT, 0 };
			(void)poll(&pfd, 1, -1);
		} else if (errno != EINTR) {
			o->err = errno;
			break;
		}
	}
}

int
mux_out_flush(struct mux_out *o)
{
	write_all(o, o->buf, o->len);
	o->len = 0;
	return o->err ? -1 : 0;
}

void
mux_out_write(struct mux_out *o, const void *p, size_t n)
{
	if (n == 0)
		return;     /* P may be NULL then (an empty buffer) */
	if (o->len + n > o->cap) {
		mux_out_flush(o);
		if (n > o->cap) {
			/* Too big to buffer: straight through. */
			write_all(o, p, n);
			return;
		}
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

int
mux_src_init(struct mux_src *s, struct mux_out *out, const char *prefix,
    const char *suffix, size_t max)
{
	memset(s, 0, sizeof *s);
	s->out = out;
	s->prefix = prefix ? prefix : "";
	s->plen = strlen(s->prefix);
	s->suffix = suffix ? suffix : "";
	s->slen = strlen(s->suffix);
	s->max = max < MUX_READ ? MUX_READ : max;
	s->cap = MUX_READ;
	s->buf = malloc(s->cap + MUX_SLACK);
	return s->buf ? 0 : -1;
}

void
mux_src_free(struct mux_src *s)
{
	free(s->buf);
	s->buf = NULL;
	free(s->own);
	s->own = NULL;
}

int
mux_src_prefix(struct mux_src *s, const char *prefix)
{
	size_t n = 0;
	const char *p;
	char *own, *d;
	int nclock = 0;

	for (p = prefix; *p; p++)
		n += (*p == MUX_CLOCK && nclock++ < 4) ? 8 : 1;
	own = malloc(n + 1);
	if (own == NULL)
		return -1;
	nclock = 0;
	for (p = prefix, d = own; *p; p++) {
		if (*p == MUX_CLOCK && nclock < 4) {
			s->clock_at[nclock++] = d - own;
			memcpy(d, "00:00:00", 8);
			d += 8;
		} else {
			*d++ = *p;
		}
	}
	*d = '\0';
	free(s->own);
	s->own = own;
	s->prefix = own;
	s->plen = n;
	s->nclock = nclock;
	s->clock_sec = -1;
	return 0;
}

/* Bring the clock in the prefix up to date (at most once a second). */
static void
clock_tick(struct mux_src *s)
{
	time_t now = time(NULL);
	struct tm tm;
	char hms[16];
	int i;

	if ((long long)now == s->clock_sec || localtime_r(&now, &tm) == NULL)
		return;
	s->clock_sec = now;
	strftime(hms, sizeof hms, "%H:%M:%S", &tm);
	for (i = 0; i < s->nclock; i++)
		memcpy(s->own + s->clock_at[i], hms, 8);
}

#ifdef MUX_FAST
#if BLK == 8
static uint64_t
load8(const char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

/* The newline bytes of W: bit 7 of each byte that is '\n', exactly (no
 * carry crosses a byte, so there are no false hits). */
static uint64_t
newlines(uint64_t w)
{
	const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
	uint64_t x = w ^ 0x0a0a0a0a0a0a0a0aULL;

	return ~(((x & low7) + low7) | x | low7);
}
#endif

/* The line at P (up to its newline, before END) does not fit in O's
 * buffer after D: put it there the slow way, flushing first. Returns
 * the start of the next line. */
static const char *
emit_one(struct mux_src *s, char *d, const char *p, const char *end)
{
	struct mux_out *o = s->out;
	const char *nl = memchr(p, '\n', end - p);
	size_t len = nl - p + 1;

	o->len = d - o->buf;
	mux_out_write(o, s->prefix, s->plen);
	mux_out_write(o, p, len);
	s->lines++;
	return nl + 1;
}

/* emit_prefixed: the fast path of emit_lines for a prefix of at most
 * MUX_FAST_PREFIX bytes and no suffix. A line is copied a block (BLK
 * bytes) at a time as its newline is looked for in the same block, so
 * each byte is loaded once; the newlines found in one block all end
 * lines from that one load, so short lines do not wait for each other's
 * loads. A line costs a fixed-size copy of the prefix and one block
 * copy per BLK bytes. The fixed-size copies may run past the line, into
 * the spare bytes every buffer has; what lies beyond a line is
 * overwritten by the next one or never counted. A block read past END
 * may show newlines beyond it: those are masked off (END - 1 is a
 * newline, the last one counted). A line that does not fit in the rest
 * of the sink's buffer goes through emit_one. */
static void
emit_prefixed(struct mux_src *s, const char *p, const char *end)
{
	struct mux_out *o = s->out;
	size_t plen = s->plen;
	char pfx[MUX_FAST_PREFIX] = { 0 }, *d, *w, *x, *lim, *wlim;
	unsigned long long lines = 0;
	const char *start = p, *q;
	blk b;
	uint64_t m;

	memcpy(pfx, s->prefix, plen);
	d = o->buf + o->len;
	/* A block may be stored up to WLIM, a line's prefix up to LIM. */
	wlim = o->buf + o->cap - BLK;
	lim = wlim - plen;
	for (;;) {
		/* A line starts at P; its prefix goes to D. */
		if (d > lim)
			goto slow;
		memcpy(d, pfx, MUX_FAST_PREFIX);
		w = d + plen;
		for (q = p, x = w;; q += BLK, x += BLK) {
			if (x > wlim)
				goto slow;
			b = blk_load(q);
			blk_store(x, b);
			if ((m = blk_newlines(b)) != 0)
				break;
		}
		/* Only the newlines before END count (END - 1 is one). */
		if (end - q < BLK)
			m &= blk_before(end - q);
		/* Every newline of the block at Q ends a line; all but the
		 * last of those lines lie wholly in it. */
		for (;;) {
			const char *nl = q + blk_first(m);
			d = w + (nl + 1 - p);
			p = nl + 1;
			lines++;
			m &= m - 1;
			if (m == 0 || d > lim)
				break;
			memcpy(d, pfx, MUX_FAST_PREFIX);
			w = d + plen;
			b = blk_load(p);
			blk_store(w, b);
		}
		if (p == end)
			break;
		continue;
slow:
		/* The line does not fit in the rest of the buffer. */
		p = emit_one(s, d, p, end);
		d = o->buf + o->len;
		if (p == end)
			break;
	}
	o->len = d - o->buf;
	s->lines += lines;
	s->bytes += end - start;
}
#endif

/* Emit N bytes of complete lines starting at P (N ends with '\n'). With
 * no prefix and suffix the whole run goes in one copy. */
static void
emit_lines(struct mux_src *s, const char *p, size_t n)
{
	struct mux_out *o = s->out;
	const char *end = p + n, *nl;

	if (s->plen == 0 && s->slen == 0) {
		mux_out_write(o, p, n);
		s->bytes += n;
		return;
	}
#ifdef MUX_FAST
	if (s->slen == 0 && s->plen <= MUX_FAST_PREFIX) {
		emit_prefixed(s, p, end);
		return;
	}
#endif
	while (p < end) {
		size_t len;
		nl = memchr(p, '\n', end - p);
		len = nl - p;
		if (o->len + s->plen + len + s->slen + 1 <= o->cap) {
			char *d = o->buf + o->len;
			memcpy(d, s->prefix, s->plen);
			d += s->plen;
			memcpy(d, p, len);
			d += len;
			memcpy(d, s->suffix, s->slen);
			d[s->slen] = '\n';
			o->len += s->plen + len + s->slen + 1;
		} else {
			mux_out_write(o, s->prefix, s->plen);
			mux_out_write(o, p, len);
			mux_out_write(o, s->suffix, s->slen);
			mux_out_write(o, "\n", 1);
		}
		s->lines++;
		s->bytes += len + 1;
		p = nl + 1;
	}
}

/* Emit the first N bytes of the held partial line as one piece of a
 * longer line; the rest stays held. */
static void
emit_piece(struct mux_src *s, size_t n, const char *mark)
{
	struct mux_out *o = s->out;

	mux_out_write(o, s->prefix, s->plen);
	mux_out_write(o, s->buf, n);
	mux_out_write(o, s->suffix, s->slen);
	mux_out_write(o, mark, strlen(mark));
	s->bytes += n;
	memmove(s->buf, s->buf + n, s->len - n);
	s->len -= n;
}

/* Process the bytes at s->buf[from .. s->len): emit the complete lines,
 * keep the rest at the start of the buffer. */
static void
process(struct mux_src *s, size_t from)
{
	char *last = NULL;

	if (s->len > from)
		last = memrchr(s->buf + from, '\n', s->len - from);
	if (last) {
		size_t n = last - s->buf + 1;
		/* The fast path may look at the spare bytes past the data:
		 * let them hold something known. */
		memset(s->buf + s->len, 0, MUX_SLACK);
		if (s->watch)
			s->watch(s, s->buf, n, s->watch_arg);
		emit_lines(s, s->buf, n);
		memmove(s->buf, s->buf + n, s->len - n);
		s->len -= n;
	}
	/* The buffer grows to MAX + 1 bytes: a line of MAX bytes is held
	 * whole until its newline, and only a line known to be longer is
	 * cut, after MAX bytes. */
	if (s->len == s->cap) {
		size_t cap = s->cap * 2;
		char *b;
		if (cap > s->max + 1)
			cap = s->max + 1;
		if (s->cap > s->max ||
		    (b = realloc(s->buf, cap + MUX_SLACK)) == NULL) {
			emit_piece(s, s->len > s->max ? s->max : s->len,
			    s->out->cont);
			return;
		}
		s->buf = b;
		s->cap = cap;
	}
}

/* mux_src_read's way for a source that holds a long partial line (or
 * when there is no read buffer): read into the source's own buffer. */
static ssize_t
read_own(struct mux_src *s, int fd)
{
	ssize_t n;

	if (s->len == s->cap)
		process(s, s->len);
	n = read(fd, s->buf + s->len, s->cap - s->len);
	if (n > 0 && s->raw) {
		mux_out_write(s->out, s->buf, n);
		s->bytes += n;
	} else if (n > 0) {
		size_t from = s->len;
		s->len += n;
		process(s, from);
	} else if (n == 0) {
		mux_src_finish(s);
	}
	return n;
}

/* A read goes into the sink's read buffer, after a copy of the partial
 * line the source holds; the complete lines are emitted from there and
 * only what follows the last newline is kept in the source's buffer.
 * So a source's own buffer holds only its partial line, while one big
 * read empties a big pipe in one system call (waking its writer once). */
ssize_t
mux_src_read(struct mux_src *s, int fd)
{
	struct mux_out *o = s->out;
	size_t held = s->len, want, k;
	char *last;
	ssize_t n;

	if (s->nclock)
		clock_tick(s);
	if (o->rbuf == NULL && (o->rbuf = malloc(MUX_HELD + MUX_BIG +
	    MUX_SLACK)) == NULL)
		return read_own(s, fd);
	if (held > MUX_HELD)
		return read_own(s, fd);
	/* No more than MAX + 1 bytes in all: a line longer than MAX has
	 * no newline among them, so it is cut into pieces, as ever. */
	want = s->max + 1 - held;
	if (want > MUX_BIG)
		want = MUX_BIG;
	memcpy(o->rbuf, s->buf, held);
	n = read(fd, o->rbuf + held, want);
	if (n <= 0) {
		if (n == 0)
			mux_src_finish(s);
		return n;
	}
	if (s->raw) {
		mux_out_write(o, o->rbuf + held, n);
		s->bytes += n;
		return n;
	}
	last = memrchr(o->rbuf + held, '\n', n);
	if (last == NULL) {
		mux_src_feed(s, o->rbuf + held, n);
		return n;
	}
	k = last + 1 - o->rbuf;
	memset(o->rbuf + held + n, 0, MUX_SLACK);
	if (s->watch)
		s->watch(s, o->rbuf, k, s->watch_arg);
	emit_lines(s, o->rbuf, k);
	s->len = 0;
	mux_src_feed(s, last + 1, held + n - k);
	return n;
}

void
mux_src_feed(struct mux_src *s, const char *p, size_t n)
{
	if (s->raw) {
		mux_out_write(s->out, p, n);
		s->bytes += n;
		return;
	}
	if (s->nclock)
		clock_tick(s);
	while (n > 0) {
		size_t room = s->cap - s->len, k = n < room ? n : room;
		size_t from = s->len;
		memcpy(s->buf + s->len, p, k);
		s->len += k;
		p += k;
		n -= k;
		process(s, from);
	}
}

void
mux_src_finish(struct mux_src *s)
{
	if (s->nclock)
		clock_tick(s);
	if (s->len > 0) {
		if (s->watch)
			s->watch(s, s->buf, s->len, s->watch_arg);
		emit_piece(s, s->len, "\n");
		s->lines++;
		s->bytes++;
	}
	s->eof = 1;
}
