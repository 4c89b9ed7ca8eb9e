#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mux.h"

#define MUX_READ 65536

/* Every buffer has this many spare bytes past its capacity, so that the
 * fast path can copy whole words without checking for the end. */
#define MUX_SLACK 64

/* The fast path finds a newline in 8 bytes at once, which needs the
 * lowest-addressed byte in the low bits of a word and a count of trailing
 * zero bits. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MUX_SWAR 1
#define MUX_FAST_PREFIX 32
#endif

int
mux_out_init(struct mux_out *o, int fd, size_t cap)
{
	memset(o, 0, sizeof *o);
	o->fd = fd;
	o->cap = cap < 4096 ? 4096 : cap;
	o->cont = "\n";
	o->buf = malloc(o->cap + MUX_SLACK);
	return o->buf ? 0 : -1;
}

void
mux_out_free(struct mux_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

static void
write_all(struct mux_out *o, const char *p, size_t n)
{
	while (n > 0 && !o->err) {
		ssize_t w = write(o->fd, p, n);
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
		/* The write was cut short: by a signal, or because the
		 * reader is slow. The owner may want to give up now. */
		if (o->cancel && o->cancel())
			o->err = ECANCELED;
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

#ifdef MUX_SWAR
/* emit_prefixed: the fast path of emit_lines for a prefix of at most
 * MUX_FAST_PREFIX bytes and no suffix. Each line costs a fixed-size copy
 * of the prefix and, for lines of up to 8 bytes, one word load, one word
 * store and a few arithmetic operations; longer lines add a memchr and a
 * memcpy. The word copies may run past the line (and past the data) into
 * the spare bytes every buffer has; the bytes beyond the line are
 * overwritten by the next line or never counted. */
static void
emit_prefixed(struct mux_src *s, const char *p, const char *end)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t highs = 0x8080808080808080ULL;
	const uint64_t nls = 0x0a0a0a0a0a0a0a0aULL;
	struct mux_out *o = s->out;
	size_t plen = s->plen, len;
	char pfx[MUX_FAST_PREFIX] = { 0 }, *d, *lim;
	unsigned long long lines = 0;
	const char *start = p, *nl;
	uint64_t w, m;

	memcpy(pfx, s->prefix, plen);
	d = o->buf + o->len;
	lim = o->buf + o->cap;
	while (p < end) {
		if ((size_t)(lim - d) < plen + 8) {
			o->len = d - o->buf;
			mux_out_flush(o);
			d = o->buf + o->len;
		}
		memcpy(d, pfx, MUX_FAST_PREFIX);
		d += plen;
		memcpy(&w, p, 8);
		memcpy(d, &w, 8);
		/* A zero byte of w ^ nls is a newline; the lowest flagged
		 * byte is always a true one (borrows only run upwards). */
		w ^= nls;
		m = (w - ones) & ~w & highs;
		if (m) {
			len = (size_t)(__builtin_ctzll(m) >> 3) + 1;
			d += len;
			p += len;
			lines++;
			continue;
		}
		/* The run ends with a newline, so one follows p + 7. */
		nl = memchr(p + 8, '\n', end - p - 8);
		len = nl - p + 1;
		if ((size_t)(lim - d) >= len) {
			memcpy(d, p, len);
			d += len;
		} else {
			o->len = d - o->buf;
			mux_out_write(o, p, len);
			d = o->buf + o->len;
		}
		p += len;
		lines++;
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
#ifdef MUX_SWAR
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

/* Emit the held partial line as one piece of a longer line. */
static void
emit_piece(struct mux_src *s, const char *mark)
{
	struct mux_out *o = s->out;

	mux_out_write(o, s->prefix, s->plen);
	mux_out_write(o, s->buf, s->len);
	mux_out_write(o, s->suffix, s->slen);
	mux_out_write(o, mark, strlen(mark));
	s->bytes += s->len;
	s->len = 0;
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
		emit_lines(s, s->buf, n);
		memmove(s->buf, s->buf + n, s->len - n);
		s->len -= n;
	}
	if (s->len == s->cap) {
		size_t cap = s->cap * 2;
		char *b;
		if (cap > s->max)
			cap = s->max;
		if (s->cap >= s->max ||
		    (b = realloc(s->buf, cap + MUX_SLACK)) == NULL) {
			emit_piece(s, s->out->cont);
			return;
		}
		s->buf = b;
		s->cap = cap;
	}
}

ssize_t
mux_src_read(struct mux_src *s, int fd)
{
	ssize_t n;

	if (s->nclock)
		clock_tick(s);
	if (s->len == s->cap)
		process(s, s->len);
	n = read(fd, s->buf + s->len, s->cap - s->len);
	if (n > 0) {
		size_t from = s->len;
		s->len += n;
		process(s, from);
	} else if (n == 0) {
		mux_src_finish(s);
	}
	return n;
}

void
mux_src_feed(struct mux_src *s, const char *p, size_t n)
{
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
		emit_piece(s, "\n");
		s->lines++;
		s->bytes++;
	}
	s->eof = 1;
}
