/* repl: replacement strings of command templates (see repl.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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
