#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"

void
buf_reserve(struct buf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->len + more <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (p == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	b->p = p;
	b->cap = cap;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)     /* B may have no memory yet: memcpy(NULL, ...) */
		return;
	buf_reserve(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

char *
buf_str(struct buf *b)
{
	buf_reserve(b, 1);
	b->p[b->len] = '\0';
	return b->p;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

void
buf_quote(struct buf *b, const char *w, int flags)
{
	/* A leading '=' or '%' is harmless, but '~' and '#' are not, and
	 * neither is an empty word: those get quotes. */
	static const char safe[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-";
	const unsigned char *p;
	int ctl = 0;
	char esc[8];

	if (*w && strspn(w, safe) == strlen(w)) {
		buf_adds(b, w);
		return;
	}
	if (flags & BUF_QUOTE_CTL)
		for (p = (const unsigned char *)w; *p; p++)
			ctl |= *p < 0x20 || *p == 0x7f;
	buf_adds(b, ctl ? "$'" : "'");
	for (p = (const unsigned char *)w; *p; p++) {
		if (*p == '\'' && !ctl)
			buf_add(b, "'\\''", 4);
		else if (ctl && (*p == '\'' || *p == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)*p;
			buf_add(b, esc, 2);
		} else if (ctl && (*p < 0x20 || *p == 0x7f)) {
			snprintf(esc, sizeof esc, "\\x%02x", *p);
			buf_add(b, esc, 4);
		} else
			buf_add(b, p, 1);
	}
	buf_add(b, "'", 1);
}

void
buf_quote_argv(struct buf *b, char *const *argv, int flags)
{
	int i;

	for (i = 0; argv[i]; i++) {
		if (i > 0)
			buf_add(b, " ", 1);
		buf_quote(b, argv[i], flags);
	}
}
