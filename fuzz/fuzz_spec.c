/* libFuzzer target: parallel's job specs (cmd/parallel/spec.c): the
 * Procfile, --names, --prefix formats and --input/--success targets.
 * Input: NUL-separated fields: the Procfile (read as "-", from stdin),
 * then optionally --names, --prefix and a target. A bad spec ends in
 * exit(125) (caught, see fuzz.h). Checked on success: every job has a
 * name of A-Z a-z 0-9 _ - (from a Procfile), a command that is neither
 * empty nor padded with blanks, no two jobs share a name, and a target
 * is one of the jobs. The tools leak what they hold when they exit on a
 * bad spec (they are about to exit anyway), hence no leak checks. */
// fuzz-sources: cmd/parallel/spec.c
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "../cmd/parallel/parallel.h"

struct opts opt;
struct job *jobs;
int njobs;
int nteardown;

/* ASan's hook for its defaults: no leak checks (see above). */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_dir();
	err_init("parallel");
	return 0;
}

static void
check_jobs(int from_procfile)
{
	int i, k;

	for (i = 0; i < njobs; i++) {
		const char *n = jobs[i].name, *c = jobs[i].cmd;
		size_t len = strlen(c);
		if (from_procfile && (*n == '\0' ||
		    strspn(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_-") != strlen(n)))
			abort();
		if (len == 0 || isspace((unsigned char)c[0]) ||
		    isspace((unsigned char)c[len - 1]))
			abort();
		for (k = 0; k < i; k++)
			if (strcmp(jobs[k].name, n) == 0)
				abort();
		if (jobs[i].index != i + 1)
			abort();
	}
}

static void
free_jobs(void)
{
	int i;

	for (i = 0; i < njobs; i++) {
		free(jobs[i].name);
		free(jobs[i].cmd);
	}
	free(jobs);
	jobs = NULL;
	njobs = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[4096];
	char *buf = fuzz_str(data, size), *field[4] = { NULL };
	const char *names, *prefix, *target;
	jmp_buf jb;
	size_t k;
	int nf = 0, i, t;

	for (k = 0; nf < 4; k += strlen(buf + k) + 1) {
		field[nf++] = buf + k;
		if (k + strlen(buf + k) >= size)
			break;
	}
	names = nf > 1 && *field[1] ? field[1] : NULL;
	prefix = nf > 2 && *field[2] ? field[2] : NULL;
	target = nf > 3 ? field[3] : NULL;
	snprintf(path, sizeof path, "%s/Procfile", fuzz_dir());
	fuzz_write(path, field[0], strlen(field[0]));
	if (freopen(path, "r", stdin) == NULL)
		abort();
	memset(&opt, 0, sizeof opt);

	fuzz_catch(&jb);
	if (setjmp(jb) == 0) {
		spec_procfile("-");
		fuzz_uncatch();
		check_jobs(1);
	} else {
		fuzz_exited();
		goto out;
	}
	if (names) {
		fuzz_catch(&jb);
		if (setjmp(jb) == 0) {
			spec_names(names);
			fuzz_uncatch();
			check_jobs(0);
		} else {
			fuzz_exited();
			goto out;
		}
	}
	if (prefix) {
		fuzz_catch(&jb);
		if (setjmp(jb) == 0) {
			spec_check_prefix(prefix);
			fuzz_uncatch();
			opt.prefix = prefix;
			for (i = 0; i < njobs; i++)
				free(spec_prefix(&jobs[i], i & 1));
		} else {
			fuzz_exited();
		}
	}
	if (target) {
		fuzz_catch(&jb);
		if (setjmp(jb) == 0) {
			t = spec_target("--input", target);
			fuzz_uncatch();
			if (t < 0 || t >= njobs)
				abort();
		} else {
			fuzz_exited();
		}
	}
out:
	free_jobs();
	free(buf);
	return 0;
}
