#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mux.h"

#define MUX_READ 65536

int
mux_out_init(struct mux_out *o, int fd, size_t cap)
{
	memset(o, 0, sizeof *o);
	o->fd = fd;
	o->cap = cap < 4096 ? 4096 : cap;
	o->cont = "\n";
	o->buf = malloc(o->cap);
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
		if (w < 0) {
			if (errno == EINTR)
				continue;
			o->err = errno;
			break;
		}
		p += w;
		n -= w;
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
	s->buf = malloc(s->cap);
	return s->buf ? 0 : -1;
}

void
mux_src_free(struct mux_src *s)
{
	free(s->buf);
	s->buf = NULL;
}

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
		if (s->cap >= s->max || (b = realloc(s->buf, cap)) == NULL) {
			emit_piece(s, s->out->cont);
			return;
		}
		s->buf = b;
		s->cap = cap > s->max ? s->max : cap;
	}
}

ssize_t
mux_src_read(struct mux_src *s, int fd)
{
	ssize_t n;

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
	if (s->len > 0) {
		emit_piece(s, "\n");
		s->lines++;
		s->bytes++;
	}
	s->eof = 1;
}
