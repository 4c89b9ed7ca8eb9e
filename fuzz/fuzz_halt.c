/* libFuzzer target: pool's own option values, --halt RULE and -d C
 * (cmd/pool/parse.c). A bad value ends in exit(125) (caught, see
 * fuzz.h); an accepted one gives a rule in range, whose canonical form
 * parses back to the same rule, and a delimiter byte. */
// fuzz-sources: cmd/pool/parse.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "../cmd/pool/pool.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	err_init("pool");
	return 0;
}

static struct conf c, back;
static int delim;

static void
check_rule(void)
{
	static const char *const when[] = { "never", "soon", "now" };
	static const char *const on[] = { "fail", "success", "done" };
	char canon[64];

	if (c.halt_when < HALT_NEVER || c.halt_when > HALT_NOW ||
	    c.halt_on < HALT_FAIL || c.halt_on > HALT_DONE ||
	    c.halt_n < 1 || c.halt_n > 1L << 40)
		abort();
	if (c.halt_when == HALT_NEVER)
		snprintf(canon, sizeof canon, "never");
	else
		snprintf(canon, sizeof canon, "%s,%s=%ld", when[c.halt_when],
		    on[c.halt_on], c.halt_n);
	parse_halt(canon, &back);
	if (back.halt_when != c.halt_when || (c.halt_when != HALT_NEVER &&
	    (back.halt_on != c.halt_on || back.halt_n != c.halt_n)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	jmp_buf jb;

	memset(&c, 0, sizeof c);
	fuzz_catch(&jb);
	if (setjmp(jb) == 0) {
		parse_halt(s, &c);
		fuzz_uncatch();
		check_rule();   /* an exit in here is a finding */
	} else {
		fuzz_exited();
	}
	delim = -1;
	fuzz_catch(&jb);
	if (setjmp(jb) == 0) {
		delim = parse_delim(s);
		fuzz_uncatch();
		if (delim < 0 || delim > 255)
			abort();
	} else {
		fuzz_exited();
	}
	free(s);
	return 0;
}
