/* repl: replacement strings of command templates (see repl.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "repl.h"

/* The ending of a replacement string at S ("}", ".}", "/}", "//}",
 * "/.}"): its part, with its length in *LEN; -1 if none. */
static int
part_at(const char *s, size_t *len)
{
	static const struct { const char *s; int part; } tab[] = {
		{ "}", REPL_WHOLE }, { ".}", REPL_NOEXT }, { "/}", REPL_BASE },
		{ "//}", REPL_DIR }, { "/.}", REPL_BASENOEXT },
	};
	size_t i;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		size_t n = strlen(tab[i].s);
		if (strncmp(s, tab[i].s, n) == 0) {
			*len = n;
			return tab[i].part;
		}
	}
	return -1;
}

int
repl_at(const char *word, const char *s, const char *I, size_t *len,
    struct repl *r)
{
	size_t n;
	char *end;
	long v;

	memset(r, 0, sizeof *r);
	if (s > word && s[-1] == '$')
		return -1;
	if (I && *I && strncmp(s, I, strlen(I)) == 0) {
		*len = strlen(I);
		return r->kind = REPL_VAL;
	}
	if (*s != '{')
		return -1;
	if (strncmp(s, "{#}", 3) == 0 || strncmp(s, "{%}", 3) == 0) {
		*len = 3;
		return r->kind = s[1] == '#' ? REPL_SEQ : REPL_SLOT;
	}
	if ((r->part = part_at(s + 1, &n)) >= 0 &&
	    !(I && *I && r->part == REPL_WHOLE)) {
		*len = n + 1;
		return r->kind = REPL_VAL;
	}
	if (s[1] >= '1' && s[1] <= '9') {
		v = strtol(s + 1, &end, 10);
		if (v > 0 && v < INT_MAX && (r->part = part_at(end, &n)) >= 0) {
			*len = (size_t)(end - s) + n;
			r->pos = v;
			return r->kind = REPL_VAL;
		}
	}
	r->part = 0;
	return -1;
}

const char *
repl_part(int part, const char *value, size_t *len)
{
	const char *slash = strrchr(value, '/');
	const char *base = slash ? slash + 1 : value, *dot;
	size_t n = strlen(value);

	switch (part) {
	case REPL_BASE:
		*len = n - (size_t)(base - value);
		return base;
	case REPL_DIR:
		if (slash == NULL) {
			*len = 1;
			return ".";
		}
		*len = slash == value ? 1 : (size_t)(slash - value);
		return value;
	case REPL_NOEXT:
	case REPL_BASENOEXT:
		dot = strrchr(base, '.');
		if (dot == NULL || dot == base)
			dot = value + n;
		if (part == REPL_NOEXT) {
			*len = (size_t)(dot - value);
			return value;
		}
		*len = (size_t)(dot - base);
		return base;
	default:
		*len = n;
		return value;
	}
}

static void
add_piece(struct repl_word *w, const struct repl_piece *p)
{
	struct repl_piece *np = realloc(w->p, ((size_t)w->n + 1) * sizeof *np);

	if (np == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	w->p = np;
	np[w->n++] = *p;
	w->repl |= p->kind != REPL_LIT;
}

void
repl_parse(struct repl_word *w, const char *word,
    int (*at)(void *arg, const char *word, const char *s, size_t *len,
    struct repl *r), void *arg)
{
	const char *lit = word, *p;
	struct repl r;
	size_t len;

	for (p = word; *p;) {
		if ((at ? at(arg, word, p, &len, &r) :
		    repl_at(word, p, NULL, &len, &r)) < 0) {
			p++;
			continue;
		}
		if (p > lit)
			add_piece(w, &(struct repl_piece){ REPL_LIT, lit,
			    (size_t)(p - lit), 0, 0 });
		add_piece(w, &(struct repl_piece){ r.kind, p, len, r.pos,
		    r.part });
		p += len;
		lit = p;
	}
	if (*lit)
		add_piece(w, &(struct repl_piece){ REPL_LIT, lit, strlen(lit),
		    0, 0 });
}

void
repl_free(struct repl_word *w)
{
	free(w->p);
	w->p = NULL;
	w->n = w->repl = 0;
}

size_t
repl_num(char *p, unsigned long long v)
{
	char tmp[24];
	size_t n = 0, i;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	p[n] = '\0';
	return n;
}

void
repl_expand(struct buf *b, const struct repl_piece *p, const char *value,
    unsigned long long seq, unsigned long long slot)
{
	char num[24];
	const char *s;
	size_t n;

	switch (p->kind) {
	case REPL_LIT:
		buf_add(b, p->s, p->n);
		return;
	case REPL_VAL:
		s = repl_part(p->part, value, &n);
		buf_add(b, s, n);
		return;
	}
	n = repl_num(num, p->kind == REPL_SEQ ? seq : slot);
	buf_add(b, num, n);
}
