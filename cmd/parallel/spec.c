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
	j->entry = index - 1;
	j->copy = 1;
	j->sock = -1;
	j->delay = -1;
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

char **spec_directives;
int spec_ndirectives;

static void
add_word(const char *w, size_t n)
{
	/* Room for the program's name first (argv[0] of the words), the
	 * word and the terminating NULL. */
	char **v = realloc(spec_directives,
	    (spec_ndirectives + 3) * sizeof *v);

	if (v == NULL)
		err_die(EXIT_TOOL, "out of memory");
	spec_directives = v;
	if (spec_ndirectives == 0)
		v[spec_ndirectives++] = xstrdup(err_prog);
	v[spec_ndirectives] = strndup(w, n);
	if (v[spec_ndirectives] == NULL)
		err_die(EXIT_TOOL, "out of memory");
	v[++spec_ndirectives] = NULL;
}

/* The options a Procfile may carry: those that describe the stack. */
static int
stack_option(const char *w)
{
	static const char *const ok[] = { "--ready", "--after",
		"--ready-timeout", "--restart", "--restart-delay", "--restart-on",
		"--teardown", "--max", "-m", "--port", "--formation", "--grace",
		"--kill-others", "-k", "--kill-others-on-fail", "--timeout" };
	size_t i, n = strcspn(w, "=");

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strlen(ok[i]) == n && strncmp(w, ok[i], n) == 0)
			return 1;
	return 0;
}

/* A "#parallel: OPTIONS" line of a Procfile (foreman reads it as a
 * comment): words split at blanks, '...' and "..." kept whole. */
static void
directive(const char *path, int lineno, const char *p)
{
	int want_value = 0;
	char word[4096];
	size_t n;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		for (n = 0; *p && *p != ' ' && *p != '\t'; p++) {
			if (*p == '\'' || *p == '"') {
				const char *e = strchr(p + 1, *p);
				if (e == NULL)
					err_diex(EXIT_TOOL, "%s:%d: unterminated "
					    "quote", path, lineno);
				while (++p < e && n < sizeof word - 1)
					word[n++] = *p;
				continue;
			}
			if (n < sizeof word - 1)
				word[n++] = *p;
		}
		word[n] = '\0';
		if (!want_value && word[0] == '-' && !stack_option(word))
			err_diex(EXIT_TOOL, "%s:%d: %s cannot be given in a "
			    "Procfile", path, lineno, word);
		if (!want_value && word[0] != '-')
			err_diex(EXIT_TOOL, "%s:%d: '%s' is not an option", path,
			    lineno, word);
		want_value = !want_value && word[0] == '-' &&
		    strchr(word, '=') == NULL && strcmp(word, "-k") != 0 &&
		    strcmp(word, "--kill-others") != 0 &&
		    strcmp(word, "--kill-others-on-fail") != 0;
		add_word(word, n);
	}
	if (want_value)
		err_diex(EXIT_TOOL, "%s:%d: %s needs a value", path, lineno,
		    spec_directives[spec_ndirectives - 1]);
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
		if (strncmp(line, "#parallel:", 10) == 0) {
			directive(path, lineno, line + 10);
			continue;
		}
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

/* An env file's value as foreman reads it: '...' taken as is; "..." with
 * \n a newline and \X the character X; anything else as it stands. */
static void
env_value(char *v)
{
	size_t n = strlen(v);
	char *s, *d;

	if (n >= 2 && v[0] == '\'' && v[n - 1] == '\'') {
		memmove(v, v + 1, n - 2);
		v[n - 2] = '\0';
	} else if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = '\0';
		for (s = v + 1, d = v; *s; s++) {
			if (*s == '\\' && s[1]) {
				s++;
				*d++ = *s == 'n' ? '\n' : *s;
			} else {
				*d++ = *s;
			}
		}
		*d = '\0';
	}
}

void
spec_env_file(const char *path, int must_exist)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *s, *eq;
	size_t cap = 0, len;
	int lineno = 0;

	if (f == NULL && !must_exist && errno == ENOENT)
		return;
	if (f == NULL)
		err_die(EXIT_TOOL, "open env file %s", path);
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		for (s = line; isspace((unsigned char)*s); s++)
			;
		if (*s == '\0' || *s == '#')
			continue;
		for (eq = line; isalnum((unsigned char)*eq) || *eq == '_'; eq++)
			;
		if (eq == line || *eq != '=')
			err_diex(EXIT_TOOL, "%s:%d: expected KEY=VALUE (keys use "
			    "A-Z a-z 0-9 _)", path, lineno);
		*eq++ = '\0';
		env_value(eq);
		if (setenv(line, eq, 1) < 0)
			err_die(EXIT_TOOL, "%s:%d: setenv", path, lineno);
	}
	if (ferror(f))
		err_die(EXIT_TOOL, "read env file %s", path);
	fclose(f);
	free(line);
}

/* foreman's rule: the .env beside the Procfile. */
void
spec_procfile_env(const char *procfile)
{
	const char *slash = strrchr(procfile, '/');
	char *path;

	if (strcmp(procfile, "-") == 0)
		return;
	if (asprintf(&path, "%.*s.env", slash ? (int)(slash - procfile + 1) :
	    0, procfile) < 0)
		err_die(EXIT_TOOL, "out of memory");
	spec_env_file(path, 0);
	free(path);
}

/* --formation NAME=N,...: N copies of the Procfile entry NAME (all=N:
 * of every entry), named NAME.1 ... NAME.N as foreman names them; an
 * entry given 0 is not run. */
void
spec_formation(const char *list)
{
	char *copy = xstrdup(list), *p, *comma, *eq, *end;
	int *count = xcalloc(njobs, sizeof *count), i, k, n = 0, all = 1;
	struct job *nj;
	long c;

	for (p = copy; p; p = comma ? comma + 1 : NULL) {
		if ((comma = strchr(p, ',')) != NULL)
			*comma = '\0';
		eq = strchr(p, '=');
		if (eq == NULL || eq == p)
			err_diex(EXIT_TOOL, "--formation %s: expected "
			    "NAME=N[,NAME=N...]", list);
		*eq++ = '\0';
		errno = 0;
		c = strtol(eq, &end, 10);
		if (*eq == '\0' || *end != '\0' || errno || c < 0 || c > 1000)
			err_diex(EXIT_TOOL, "--formation %s=%s: N must be a "
			    "number from 0 to 1000", p, eq);
		if (strcmp(p, "all") == 0) {
			all = (int)c;
			continue;
		}
		if ((i = find_name(p, njobs)) < 0)
			err_diex(EXIT_TOOL, "--formation '%s': no Procfile entry "
			    "has that name", p);
		count[i] = (int)c + 1;
	}
	for (i = 0; i < njobs; i++) {
		count[i] = count[i] ? count[i] - 1 : all;
		n += count[i];
	}
	if (n == 0)
		err_diex(EXIT_TOOL, "--formation %s: no command to run", list);
	nj = xcalloc(n, sizeof *nj);
	for (i = 0, n = 0; i < njobs; i++)
		for (k = 1; k <= count[i]; k++) {
			char *name;
			if (asprintf(&name, "%s.%d", jobs[i].name, k) < 0)
				err_die(EXIT_TOOL, "out of memory");
			job_init(&nj[n], n + 1, name, jobs[i].cmd);
			nj[n].entry = i;
			nj[n].copy = k;
			n++;
		}
	/* The copies have names of their own and share the commands. */
	for (i = 0; i < njobs; i++) {
		free(jobs[i].name);
		if (count[i] == 0)
			free(jobs[i].cmd);
	}
	free(jobs);
	jobs = nj;
	njobs = n;
	free(count);
	free(copy);
}

/* --teardown: the commands go after the others in jobs[], named
 * "teardown" (or teardown.1, teardown.2, ... when there are several). */
void
spec_teardown(char **cmds, int n)
{
	struct job *nj;
	char *name;
	int i;

	if (n == 0)
		return;
	nj = realloc(jobs, (njobs + n) * sizeof *jobs);
	if (nj == NULL)
		err_die(EXIT_TOOL, "out of memory");
	jobs = nj;
	memset(jobs + njobs, 0, n * sizeof *jobs);
	for (i = 0; i < n; i++) {
		if (all_blank(cmds[i]))
			err_diex(EXIT_TOOL, "--teardown %d is empty", i + 1);
		if (n == 1)
			name = xstrdup("teardown");
		else if (asprintf(&name, "teardown.%d", i + 1) < 0)
			err_die(EXIT_TOOL, "out of memory");
		job_init(&jobs[njobs + i], njobs + i + 1, name, cmds[i]);
	}
	nteardown = n;
}
