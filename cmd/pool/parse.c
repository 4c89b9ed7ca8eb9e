/* pool: the values of pool's own options (-d, --halt), apart from the
 * rest of the option parsing so that fuzz/fuzz_halt.c can reach them. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "opt.h"
#include "pool.h"

/* -d C: one byte, or \n \t \r \0 \\ or \xHH. */
int
parse_delim(const char *s)
{
	if (s[0] && !s[1])
		return (unsigned char)s[0];
	if (s[0] == '\\' && s[1] && !s[2]) {
		switch (s[1]) {
		case 'n': return '\n';
		case 't': return '\t';
		case 'r': return '\r';
		case '0': return '\0';
		case '\\': return '\\';
		}
	}
	if (s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
	    isxdigit((unsigned char)s[3]) && !s[4])
		return (int)strtol(s + 2, NULL, 16);
	err_diex(EXIT_TOOL, "-d %s: not one character (try ',', '\\t' or "
	    "'\\x1e')", s);
}

/* --halt never | 0 | 1 | 2 | now|soon,fail|success|done=N,
 * or now|soon,fail|success=P% */
void
parse_halt(const char *s, struct conf *c)
{
	static const char *const on[] = { "fail=", "success=", "done=" };
	const char *p = s, *why = "not a rule (try now,fail=1 or soon,success=1)";
	char num[32];
	long long v;
	size_t n;
	int i;

	c->halt_on = HALT_FAIL;
	c->halt_n = 1;
	c->halt_pct = 0;
	if (strcmp(s, "never") == 0 || strcmp(s, "0") == 0) {
		c->halt_when = HALT_NEVER;
		return;
	}
	if (strcmp(s, "1") == 0 || strcmp(s, "2") == 0) {
		c->halt_when = s[0] == '1' ? HALT_SOON : HALT_NOW;
		return;
	}
	if (strncmp(p, "now,", 4) == 0)
		c->halt_when = HALT_NOW, p += 4;
	else if (strncmp(p, "soon,", 5) == 0)
		c->halt_when = HALT_SOON, p += 5;
	else
		err_diex(EXIT_TOOL, "--halt %s: %s", s, why);
	for (i = 0; i < 3; i++)
		if (strncmp(p, on[i], strlen(on[i])) == 0)
			break;
	if (i == 3)
		err_diex(EXIT_TOOL, "--halt %s: %s", s, why);
	p += strlen(on[i]);
	n = strlen(p);
	c->halt_pct = n > 0 && p[n - 1] == '%';
	if (c->halt_pct && (i == HALT_DONE || n > sizeof num - 1))
		err_diex(EXIT_TOOL, "--halt %s: %s", s, i == HALT_DONE ?
		    "done takes a count, not a percentage" : why);
	if (c->halt_pct) {
		memcpy(num, p, n - 1);
		num[n - 1] = '\0';
		p = num;
	}
	if (opt_parse_count(p, 1, c->halt_pct ? 100 : 1LL << 40, &v, &why) < 0)
		err_diex(EXIT_TOOL, "--halt %s: %s", s, why);
	c->halt_on = i;
	c->halt_n = (long)v;
}
