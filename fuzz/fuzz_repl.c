/* libFuzzer target: pool's replacement strings ({} {.} {/} {//} {/.} {#}
 * {%} {N}) and the shell quoting of a job's command line for --joblog
 * (cmd/pool/job.c, included to reach its static parser and argv
 * builder). The input is NUL-separated fields: the ARGs, an empty field,
 * then the items of one job. Checked: the argv's shape, what a lone
 * replacement string expands to, and that the quoted command line never
 * holds a raw newline or TAB (a joblog line stays one line). */
// fuzz-sources: cmd/pool/source.c cmd/pool/results.c cmd/pool/input.c cmd/pool/hosts.c cmd/pool/slurm.c
#include "../cmd/pool/job.c"

#include "fuzz.h"

#define MAXF 24

static int
is_prefix(const char *p, size_t n, const char *s)
{
	return n <= strlen(s) && memcmp(p, s, n) == 0;
}

/* What a lone replacement string ARG must have expanded to, for the
 * only item S. */
static void
check_lone(const char *arg, const char *res, const char *s,
    const struct job *j)
{
	char num[24];
	size_t n = strlen(res);

	if (strcmp(arg, "{}") == 0 && strcmp(res, s) != 0)
		abort();
	if ((strcmp(arg, "{/}") == 0 || strcmp(arg, "{/.}") == 0) &&
	    strchr(res, '/') != NULL)
		abort();
	if (strcmp(arg, "{/}") == 0 && (n > strlen(s) ||
	    strcmp(s + strlen(s) - n, res) != 0))
		abort();
	if (strcmp(arg, "{//}") == 0 && strcmp(res, ".") != 0 &&
	    !is_prefix(res, n, s))
		abort();
	if (strcmp(arg, "{.}") == 0 && !is_prefix(res, n, s))
		abort();
	if (strcmp(arg, "{#}") == 0) {
		snprintf(num, sizeof num, "%llu", j->seq);
		if (strcmp(res, num) != 0)
			abort();
	}
	if (strcmp(arg, "{%}") == 0 && strcmp(res, "7") != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_str(data, size), *field[MAXF], *cmd[MAXF + 2];
	struct conf c;
	struct job j;
	struct buf line = { 0 };
	int nf = 0, na, i;
	size_t k;

	/* Split at NUL bytes (fuzz_str added the last one). */
	for (k = 0; nf < MAXF; k += strlen(buf + k) + 1) {
		field[nf++] = buf + k;
		if (k + strlen(buf + k) >= size)
			break;
	}
	for (na = 0; na < nf && *field[na]; na++)
		;
	memset(&c, 0, sizeof c);
	c.maxargs = 1;
	cmd[0] = "/bin/true";
	for (i = 0; i < na; i++)
		cmd[i + 1] = field[i];
	cmd[na + 1] = NULL;
	c.cmd = cmd;
	c.ncmd = na + 1;
	tmpl_init(&c);

	memset(&j, 0, sizeof j);
	j.seq = size * 1000003ULL;
	j.slot = 7;
	j.ioff = calloc(MAXF, sizeof *j.ioff);
	for (i = na + 1; i < nf; i++) {
		j.ioff[j.nitems++] = j.items.len;
		buf_add(&j.items, field[i], strlen(field[i]) + 1);
	}
	if (j.ioff == NULL)
		abort();
	build_argv(&j, &c);

	/* With several items a word holding {} becomes several words, and
	 * a word of values the job lacks ({2} with one item) none; else word
	 * i of the argv is ARG i. */
	for (k = 0; j.argv[k] != NULL; k++)
		;
	if (j.argv[0] != cmd[0] || (!any_repl &&
	    k != (size_t)(c.ncmd + j.nitems)))
		abort();
	/* A lone {2} with one item is no word. */
	for (i = 1; i < c.ncmd && j.nitems == 1; i++)
		if (strcmp(cmd[i], "{2}") == 0 && k >= (size_t)c.ncmd)
			abort();
	if (any_repl && (j.nitems > 1 || k != (size_t)c.ncmd))
		c.ncmd = 1;     /* the shape was all there is to check */
	for (i = 1; i < c.ncmd; i++) {
		if (!targ[i].w.repl && j.argv[i] != cmd[i])
			abort();
		if (targ[i].w.repl && j.nitems == 1)
			check_lone(cmd[i], j.argv[i], j.items.p, &j);
	}
	job_command_line(&j, &line);
	if (memchr(line.p, '\n', line.len) || memchr(line.p, '\t', line.len) ||
	    strlen(line.p) != line.len)
		abort();

	buf_free(&line);
	buf_free(&j.items);
	buf_free(&j.args);
	free(j.ioff);
	free(j.argv);
	for (i = 0; i < na + 1; i++)
		repl_free(&targ[i].w);
	free(targ);
	targ = NULL;
	any_repl = 0;
	free(buf);
	return 0;
}
