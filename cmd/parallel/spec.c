/* spec: the jobs, from COMMAND operands or a Procfile, their names and
 * their prefixes. Every mistake here is reported before anything runs. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "parallel.h"

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (p == NULL)
		err_die(EXIT_TOOL, "out of memory");
	return p;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		err_die(EXIT_TOOL, "out of memory");
	return p;
}

static void
job_init(struct job *j, int index, char *name, char *cmd)
{
	j->index = index;
	j->name = name;
	j->cmd = cmd;
	j->out[0] = j->out[1] = j->file[0] = j->file[1] = j->in = -1;
}

static int
all_blank(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

void
spec_jobs(char **cmds, int ncmds)
{
	char num[32];
	int i;

	jobs = xcalloc(ncmds, sizeof *jobs);
	njobs = ncmds;
	for (i = 0; i < ncmds; i++) {
		if (all_blank(cmds[i]))
			err_diex(EXIT_TOOL, "command %d is empty", i + 1);
		snprintf(num, sizeof num, "%d", i + 1);
		job_init(&jobs[i], i + 1, xstrdup(num), cmds[i]);
	}
}

static int
find_name(const char *name, int upto)
{
	int i;

	for (i = 0; i < upto; i++)
		if (strcmp(jobs[i].name, name) == 0)
			return i;
	return -1;
}

/* Parse one Procfile line "name: command" in place. Returns 0 and sets
 * *name and *cmd, or -1 with *why set. */
static int
parse_line(char *s, char **name, char **cmd, const char **why)
{
	char *p = s, *e;

	while (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
		p++;
	if (p == s || *p != ':') {
		*why = "expected 'name: command' (names use A-Z a-z 0-9 _ -)";
		return -1;
	}
	*p++ = '\0';
	while (isspace((unsigned char)*p))
		p++;
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = '\0';
	if (*p == '\0') {
		*why = "empty command";
		return -1;
	}
	*name = s;
	*cmd = p;
	return 0;
}

void
spec_procfile(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL, *s, *name, *cmd;
	size_t cap = 0, len;
	const char *why;
	int lineno = 0, cap_jobs = 0;

	if (f == NULL)
		err_die(EXIT_TOOL, "open %s", path);
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		len = strlen(line);
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		for (s = line; isspace((unsigned char)*s); s++)
			;
		if (*s == '\0' || *s == '#')
			continue;
		if (parse_line(s, &name, &cmd, &why) < 0)
			err_diex(EXIT_TOOL, "%s:%d: %s", path, lineno, why);
		if (find_name(name, njobs) >= 0)
			err_diex(EXIT_TOOL, "%s:%d: duplicate name '%s'", path,
			    lineno, name);
		if (njobs == cap_jobs) {
			cap_jobs = cap_jobs ? 2 * cap_jobs : 16;
			jobs = realloc(jobs, cap_jobs * sizeof *jobs);
			if (jobs == NULL)
				err_die(EXIT_TOOL, "out of memory");
		}
		memset(&jobs[njobs], 0, sizeof *jobs);
		job_init(&jobs[njobs], njobs + 1, xstrdup(name), xstrdup(cmd));
		njobs++;
	}
	if (ferror(f))
		err_die(EXIT_TOOL, "read %s", path);
	if (f != stdin)
		fclose(f);
	free(line);
	if (njobs == 0)
		err_diex(EXIT_TOOL, "%s: no commands", path);
}

void
spec_names(const char *list)
{
	char *copy = xstrdup(list), *p = copy, *comma;
	int i = 0;

	for (;;) {
		comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		if (i == njobs)
			err_diex(EXIT_TOOL, "--names: more names than commands (%d)",
			    njobs);
		if (*p == '\0')
			err_diex(EXIT_TOOL, "--names: name %d is empty", i + 1);
		free(jobs[i].name);
		jobs[i++].name = xstrdup(p);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	free(copy);
	for (i = 1; i < njobs; i++)
		if (find_name(jobs[i].name, i) >= 0)
			err_diex(EXIT_TOOL, "--names: duplicate name '%s'",
			    jobs[i].name);
}

/* A job named S, or else the job at index S; exits 125 if there is none. */
int
spec_target(const char *what, const char *s)
{
	int i = find_name(s, njobs);
	char *end;
	long n;

	if (i >= 0)
		return i;
	errno = 0;
	n = strtol(s, &end, 10);
	if (*s && *end == '\0' && errno == 0 && n >= 1 && n <= njobs)
		return (int)n - 1;
	err_diex(EXIT_TOOL, "%s '%s': no command has that name or index",
	    what, s);
}

static const char *const fields[] = { "{name}", "{index}", "{pid}",
	"{time}" };

/* The field that FMT starts with (0-3), or -1. */
static int
field_at(const char *fmt)
{
	int i;

	for (i = 0; i < 4; i++)
		if (strncmp(fmt, fields[i], strlen(fields[i])) == 0)
			return i;
	return -1;
}

void
spec_check_prefix(const char *fmt)
{
	const char *p, *e;
	int ntime = 0;

	for (p = fmt; (p = strchr(p, '{')) != NULL; p++) {
		/* lib/mux fills in at most 4 clocks per prefix. */
		if (field_at(p) == 3 && ++ntime > 4)
			err_diex(EXIT_TOOL, "--prefix: more than 4 {time} fields");
		if (field_at(p) >= 0)
			continue;
		for (e = p + 1; islower((unsigned char)*e); e++)
			;
		if (*e == '}' && e > p + 1)
			err_diex(EXIT_TOOL, "--prefix: unknown field '%.*s' "
			    "(known: {name} {index} {pid} {time})",
			    (int)(e - p + 1), p);
	}
	if (strchr(fmt, MUX_CLOCK))
		err_diex(EXIT_TOOL, "--prefix: control character \\001");
}

/* Colours for the prefixes, in turn: cyan, yellow, green, magenta, blue,
 * red, then their bright forms. */
static const char *const palette[] = { "36", "33", "32", "35", "34", "31",
	"96", "93", "92", "95", "94", "91" };

static size_t
name_width(void)
{
	static size_t w;
	int i;

	if (w == 0)
		for (i = 0; i < njobs; i++)
			if (strlen(jobs[i].name) > w)
				w = strlen(jobs[i].name);
	return w;
}

/* The prefix of J's lines for its current run: the expanded format, with
 * MUX_CLOCK where the time goes, in colour if COLOUR. */
char *
spec_prefix(const struct job *j, int colour)
{
	char *buf = NULL, num[32];
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	const char *p;
	int k;

	if (f == NULL)
		err_die(EXIT_TOOL, "out of memory");
	if (colour)
		fprintf(f, "\033[%sm", palette[(j->index - 1) % 12]);
	if (opt.prefix == NULL)
		fprintf(f, "%-*s | ", (int)name_width(), j->name);
	for (p = opt.prefix; p && *p; p++) {
		switch (k = field_at(p)) {
		case 0:
			fputs(j->name, f);
			break;
		case 1:
			fprintf(f, "%d", j->index);
			break;
		case 2:
			snprintf(num, sizeof num, "%ld", (long)j->pid);
			fputs(num, f);
			break;
		case 3:
			fputc(MUX_CLOCK, f);
			break;
		default:
			fputc(*p, f);
			continue;
		}
		p += strlen(fields[k]) - 1;
	}
	if (colour)
		fputs("\033[0m", f);
	if (fclose(f) != 0)
		err_die(EXIT_TOOL, "out of memory");
	return buf;
}
