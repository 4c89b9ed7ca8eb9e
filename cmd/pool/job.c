/* pool: building a job's argument vector and environment, and starting it.
 *
 * A job is started in three steps, each in one file: job_build (here)
 * makes its argv from the template and its items; hosts_wrap (hosts.c)
 * turns that into the ssh command that runs it on its host, with -S;
 * job_start (here) starts it with its pipes.
 *
 * Everything that does not change between jobs is prepared once: the
 * command's path is resolved once (execvp would try every PATH entry for
 * every job), the ARGs are parsed into literal and replacement pieces once,
 * and the environment is copied once with two slots, POOL_SEQ and
 * POOL_SLOT, whose digits are rewritten in place before each spawn. That
 * is safe because proc_spawn returns only after the child has exec'd (or
 * exited), and execve copies the strings into the new image. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "pool.h"
#include "proc.h"
#include "repl.h"

extern char **environ;

/* Characters that suggest CMD was meant as a shell command line. */
#define SHELL_CHARS " \t\n|&;<>()$`\\\"'*?[#~=%"

/* A word of the template: lib/repl's pieces, literal text and
 * replacement strings, with what pool adds. */
struct targ {
	struct repl_word w;
	int ctx;        /* -X: holds {} (or {.}, ...), so is repeated */
	int glue;       /* --shell -X: follows the word before it with no
	                 * space (see split_blanks) */
};

static struct targ *targ;    /* one per word of CMD ARG... */
static int ntarg;
static int any_repl;         /* in a word of CMD ARG... */
static size_t *woff;         /* where each expanded word starts */
static size_t woff_cap;
static char path[PATH_MAX];
static int have_path;
static char **envp;
static char seqvar[40] = "POOL_SEQ=", slotvar[40] = "POOL_SLOT=";
static sigset_t sigreset;    /* see job_start */
static int exec_warned;
static const struct conf *conf;

/* The replacement string that starts at S in word A, or -1; *len is
 * its length, and *r what it stands for: lib/repl's (with -I), and with
 * --header a column's name in braces. */
static int
repl_seg_at(void *arg, const char *a, const char *s, size_t *len,
    struct repl *r)
{
	size_t n;
	long v;

	(void)arg;
	if (repl_at(a, s, conf->replace, len, r) >= 0)
		return r->kind;
	if (*s == '{' && !(s > a && s[-1] == '$') && source_header_names()) {
		n = strcspn(s + 1, "{} \t\n$'\"\\");
		if (n > 0 && s[1 + n] == '}') {
			v = source_column(s + 1, n);
			if (v < 0)
				err_diex(EXIT_TOOL, "%.*s: no column of that "
				    "name in the header", (int)n + 2, s);
			*len = n + 2;
			r->pos = v;
			return r->kind = REPL_VAL;
		}
	}
	return -1;
}

/* No replacement string anywhere: a run of blanks (split_blanks). */
static int
no_repl(void *arg, const char *a, const char *s, size_t *len,
    struct repl *r)
{
	(void)arg, (void)a, (void)s, (void)len, (void)r;
	return -1;
}

/* Parse word A into T; with -X, a word with {} (or {.}, ...) is
 * repeated. */
static void
parse_arg(struct targ *t, const char *a)
{
	int g;

	/* (${name} in a shell line is the shell's: see repl.h.) */
	repl_parse(&t->w, a, repl_seg_at, NULL);
	for (g = 0; g < t->w.n && conf->xctx; g++)
		if (t->w.p[g].kind == REPL_VAL && t->w.p[g].pos == 0)
			t->ctx = 1;
}

/* --shell with -X: GNU parallel repeats the blank-delimited word of the
 * line around {}, so each run of blanks or of other characters of CMD
 * ARG... is a word of its own here; those that followed another run of
 * the same ARG are glued to it when the line is put back together. The
 * strings live as long as pool. */
static void
split_blanks(const struct conf *c)
{
	const char *p, *q;
	char *w;
	int i, cap = 0;

	for (i = 0; i < c->ncmd; i++)
		for (p = c->cmd[i]; *p; p = q) {
			int blank = *p == ' ' || *p == '\t' || *p == '\n';
			for (q = p; *q && (*q == ' ' || *q == '\t' ||
			    *q == '\n') == blank; q++)
				;
			if (ntarg == cap) {
				struct targ *t;
				cap = cap ? 2 * cap : 16;
				t = realloc(targ, cap * sizeof *t);
				if (t == NULL)
					err_diex(EXIT_TOOL, "out of memory");
				targ = t;
			}
			if ((w = strndup(p, q - p)) == NULL)
				err_diex(EXIT_TOOL, "out of memory");
			memset(&targ[ntarg], 0, sizeof *targ);
			targ[ntarg].glue = p > c->cmd[i];
			if (blank)
				repl_parse(&targ[ntarg].w, w, no_repl, NULL);
			else
				parse_arg(&targ[ntarg], w);
			ntarg++;
		}
}

/* The command cannot run: say so once and exit as xargs does, before
 * any job starts (a shell line in CMD gets a hint). */
static void
no_command(const char *cmd, int e)
{
	if (e == ENOENT && strpbrk(cmd, SHELL_CHARS) != NULL)
		err_warnx("%s: command not found (a shell command line runs "
		    "with --shell, or as sh -c '...')", cmd);
	else if (e == ENOENT)
		err_warnx("%s: command not found", cmd);
	else {
		errno = e;
		err_warn("cannot run %s", cmd);
	}
	exit(proc_exec_status(e));
}

void
tmpl_init(const struct conf *c)
{
	int i, e;

	conf = c;
	if (c->shell && c->xctx) {
		split_blanks(c);
	} else {
		targ = calloc(c->ncmd, sizeof *targ);
		if (targ == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		for (i = 0; i < c->ncmd; i++)
			parse_arg(&targ[i], c->cmd[i]);
		ntarg = c->ncmd;
	}
	/* The values are appended unless a word places them. */
	for (i = 0; i < ntarg; i++)
		any_repl |= targ[i].w.repl;
	/* pool's signal handlers are lib/loop's, which exec resets and
	 * which are safe in the child before exec: the child need only
	 * reset what pool ignores. */
	sigemptyset(&sigreset);
	sigaddset(&sigreset, SIGPIPE);
	if (c->shell) {
		e = proc_resolve("sh", path, sizeof path);
		have_path = e == 0;
		return;
	}
	if (targ[0].w.repl)
		return;     /* found again for every job */
	e = proc_resolve(c->cmd[0], path, sizeof path);
	have_path = e == 0;
	/* On other hosts, or when nothing runs, CMD is not looked for. */
	if (e && !hosts_on && !c->dry_run)
		no_command(c->cmd[0], e);
}
void
env_init(const char *makeflags)
{
	size_t n = 0, k = 0;
	char **e;

	for (e = environ; *e; e++)
		n++;
	envp = malloc((n + 4) * sizeof *envp);
	if (envp == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	for (e = environ; *e; e++) {
		if (strncmp(*e, "POOL_SEQ=", 9) == 0 ||
		    strncmp(*e, "POOL_SLOT=", 10) == 0 ||
		    (makeflags && strncmp(*e, "MAKEFLAGS=", 10) == 0))
			continue;
		envp[k++] = *e;
	}
	envp[k++] = seqvar;
	envp[k++] = slotvar;
	if (makeflags) {
		size_t len = strlen(makeflags) + 11;
		char *m = malloc(len);
		if (m == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		snprintf(m, len, "MAKEFLAGS=%s", makeflags);
		envp[k++] = m;
	}
	envp[k] = NULL;
}

/* How the values of a replacement string are put together: as one
 * string with spaces between them (--return patterns), as words of their
 * own (a NUL between them marks where a word ends), or quoted for sh
 * (--shell). */
enum join { JOIN_SPACE, JOIN_WORDS, JOIN_SHELL };

/* Append the part of J's I-th value that G stands for to B. */
static void
put_value(struct buf *b, const struct repl_piece *g, const struct job *j,
    int i, int join)
{
	const char *s;
	size_t n;
	char *q;

	if (join != JOIN_SHELL) {
		repl_expand(b, g, j->items.p + j->ioff[i], 0, 0);
		return;
	}
	s = repl_part(g->part, j->items.p + j->ioff[i], &n);
	if ((q = strndup(s, n)) == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	buf_quote(b, q, 0);
	free(q);
}

/* Whether J has its I-th value: with -n 0 the values it took are
 * there but empty, and GNU parallel puts nothing of them in its shell
 * line, not even ''; nor of {3} with two. */
static int
present(const struct job *j, long i)
{
	return i < j->nitems && conf->maxargs != 0;
}

/* Append the expansion of piece G for job J to B; with -X, ONLY is
 * the value that {} stands for in this repetition of its word (else -1). */
static void
expand_seg(const struct repl_piece *g, const struct job *j, struct buf *b,
    int join, int only)
{
	int i;

	if (g->kind != REPL_VAL) {
		repl_expand(b, g, "", j->seq, (unsigned long long)j->slot);
		return;
	}
	if (g->pos > 0 || only >= 0) {
		i = g->pos > 0 ? (int)g->pos - 1 : only;
		if (present(j, i))
			put_value(b, g, j, i, join);
		return;
	}
	/* Several values (-n, several sources, --colsep): each its own
	 * word, as GNU parallel makes them. */
	for (i = 0; i < j->nitems; i++) {
		if (i > 0)
			buf_add(b, join == JOIN_WORDS ? "" : " ", 1);
		if (present(j, i))
			put_value(b, g, j, i, join);
	}
}

/* How many times word T is put in J's command: once, or with -X once
 * for each value. */
static int
reps(const struct targ *t, const struct job *j)
{
	return t->ctx ? j->nitems : 1;
}

/* Append TMPL with J's replacement strings expanded to B. */
static void
job_expand(const struct job *j, const char *tmpl, struct buf *b)
{
	struct targ t = { 0 };
	int g;

	parse_arg(&t, tmpl);
	for (g = 0; g < t.w.n; g++)
		expand_seg(&t.w.p[g], j, b, JOIN_SPACE, -1);
	repl_free(&t.w);
}

static void
add_word(size_t *nw, size_t at)
{
	if (*nw == woff_cap) {
		size_t cap = woff_cap ? 2 * woff_cap : 64;
		size_t *w = realloc(woff, cap * sizeof *w);
		if (w == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		woff = w;
		woff_cap = cap;
	}
	woff[(*nw)++] = at;
}

/* End the word of J's command started at FROM: a word if HAS (anything
 * but values J does not have), else nothing. */
static void
end_word(struct job *j, size_t *nw, size_t from, int has)
{
	if (!has) {
		j->args.len = from;
		return;
	}
	add_word(nw, from);
	buf_add(&j->args, "", 1);
}

/* --shell: the line "CMD ARG..." with the values quoted in it, or after
 * it when it has no replacement string. */
static void
build_line(struct job *j)
{
	int i, g, r, n;

	for (i = 0; i < ntarg; i++) {
		n = reps(&targ[i], j);
		for (r = 0; r < n; r++) {
			if (j->args.len > 0 && (r > 0 || !targ[i].glue))
				buf_add(&j->args, " ", 1);
			for (g = 0; g < targ[i].w.n; g++)
				expand_seg(&targ[i].w.p[g], j, &j->args,
				    JOIN_SHELL, targ[i].ctx ? r : -1);
		}
	}
	if (!any_repl && conf->maxargs != 0)
		for (i = 0; i < j->nitems; i++) {
			buf_add(&j->args, " ", 1);
			buf_quote(&j->args, j->items.p + j->ioff[i], 0);
		}
	buf_add(&j->args, "", 1);
}

size_t
job_item_cost(const char *item)
{
	size_t n = strlen(item), cost = 0, v = n;
	const char *p;
	int i, g;

	/* --shell: quoted for sh (see buf_quote), each ' as 4 bytes. */
	if (conf->shell)
		for (v += 2, p = item; (p = strchr(p, '\'')) != NULL; p++)
			v += 3;
	for (i = 0; i < ntarg; i++) {
		if (!targ[i].ctx)
			continue;
		cost += 1 + sizeof(char *);
		for (g = 0; g < targ[i].w.n; g++)
			cost += targ[i].w.p[g].kind == REPL_LIT ?
			    targ[i].w.p[g].n : v;
	}
	/* The item is also kept, and appended when no word places it. */
	n += 1 + sizeof(char *) + (v - n);
	return cost > n ? cost : n;
}

static void
grow_argv(struct job *j, size_t n)
{
	if ((size_t)j->argc_cap < n) {
		char **v = realloc(j->argv, n * sizeof *v);
		if (v == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		j->argv = v;
		j->argc_cap = (int)n;
	}
}

/* Fill j->argv: CMD and the ARGs expanded, then the items when no word
 * has a replacement string; with --shell, sh -c LINE. */
static void
build_argv(struct job *j, const struct conf *c)
{
	size_t nw = 0, k, i, from;
	int a, g, r, n, has;

	j->args.len = 0;
	if (c->shell) {
		build_line(j);
		grow_argv(j, 4);
		j->argv[0] = "sh";
		j->argv[1] = "-c";
		j->argv[2] = j->args.p;
		j->argv[3] = NULL;
		return;
	}
	/* Each word with a replacement string expands into j->args, NUL
	 * after NUL, possibly into several words (one per value of {}); the
	 * others are used as they are (woff holds (size_t)-1 - index for
	 * those). A word made of values J does not have and nothing else
	 * is no word at all, as in GNU parallel's shell line. */
	for (a = 0; a < ntarg; a++) {
		if (!targ[a].w.repl) {
			add_word(&nw, (size_t)-1 - a);
			continue;
		}
		n = reps(&targ[a], j);
		for (r = 0; r < n; r++) {
			from = j->args.len;
			has = 0;
			for (g = 0; g < targ[a].w.n; g++) {
				const struct repl_piece *s = &targ[a].w.p[g];
				long v = s->pos > 0 ? s->pos - 1 : r;
				if (s->kind != REPL_VAL || s->pos > 0 ||
				    targ[a].ctx) {
					expand_seg(s, j, &j->args, JOIN_WORDS,
					    targ[a].ctx ? r : -1);
					has |= s->kind != REPL_VAL ||
					    present(j, v);
					continue;
				}
				for (i = 0; i < (size_t)j->nitems; i++) {
					if (i > 0) {
						end_word(j, &nw, from, has);
						from = j->args.len;
						has = 0;
					}
					expand_seg(s, j, &j->args, JOIN_WORDS,
					    (int)i);
					has |= present(j, (long)i);
				}
			}
			end_word(j, &nw, from, has);
		}
	}
	k = any_repl || c->pipe || !c->maxargs ? 0 : (size_t)j->nitems;
	grow_argv(j, nw + k + 2);
	for (i = 0; i < nw; i++)
		j->argv[i] = woff[i] >= j->args.len ?
		    c->cmd[(size_t)-1 - woff[i]] : j->args.p + woff[i];
	for (i = 0; i < k; i++)
		j->argv[nw + i] = j->items.p + j->ioff[i];
	j->argv[nw + k] = NULL;
	/* Every word left out ({3} alone with one value): GNU parallel runs
	 * an empty shell line, which does nothing and succeeds. */
	if (nw + k == 0) {
		j->argv[0] = "true";
		j->argv[1] = NULL;
	}
}

static void
close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

/* A NULL-terminated vector of the N NUL-terminated strings in B at OFF
 * (or one after the other when OFF is NULL), in *V (grown as needed). */
static char **
str_vector(char ***v, const struct buf *b, const size_t *off, int n)
{
	char **p = realloc(*v, (n + 1) * sizeof *p);
	size_t at = 0;
	int i;

	if (p == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	for (i = 0; i < n; i++) {
		p[i] = b->p + (off ? off[i] : at);
		at += strlen(p[i]) + 1;
	}
	p[n] = NULL;
	return *v = p;
}

void
job_build(struct job *j, const struct conf *c, struct launch *x)
{
	int k;

	build_argv(j, c);
	repl_num(seqvar + 9, j->seq);
	repl_num(slotvar + 10, (unsigned long long)j->slot);
	memset(x, 0, sizeof *x);
	x->argv = j->argv;
	x->path = have_path ? path : NULL;
	x->in = -1;
	x->deathsig = SIGKILL;
	x->seq = j->seq;
	x->slot = j->slot;
	if (c->transfer || c->cleanup)
		x->files = str_vector(&j->filev, &j->items, j->ioff,
		    j->nitems);
	if (c->nreturns) {
		j->rets.len = 0;
		for (k = 0; k < c->nreturns; k++) {
			job_expand(j, c->returns[k], &j->rets);
			buf_add(&j->rets, "", 1);
		}
		x->rets = str_vector(&j->retv, &j->rets, NULL, c->nreturns);
	}
}

int
job_start(struct job *j, const struct conf *c, const struct launch *x,
    int devnull)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, in[2] = { -1, -1 };
	int res[2] = { -1, -1 };
	struct proc_spec sp;
	int eerr, i;
	pid_t pid;

	proc_spec_init(&sp, x->argv);
	sp.path = x->path;
	sp.envp = envp;
	sp.pgroup = 1;
	sp.pdeathsig = x->deathsig;
	sp.sigreset = &sigreset;
	sp.fd[0] = x->in >= 0 ? x->in : devnull;
	if (!c->ungroup) {
		if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
			goto fail;
		sp.fd[1] = out[1];
		sp.fd[2] = err[1];
	}
	if (c->results) {
		if (results_fds(j, res) < 0)
			goto fail;
		sp.fd[1] = res[0];
		sp.fd[2] = res[1];
	}
	if (c->pipe) {
		if (pipe2(in, O_CLOEXEC) < 0)
			goto fail;
		/* Our end only: the job's end stays blocking. A bigger
		 * pipe means fewer wake-ups per block. */
		fcntl(in[1], F_SETFL, O_NONBLOCK);
		fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
		sp.fd[0] = in[0];
	}
	pid = proc_spawn(&sp, &eerr);
	if (pid < 0)
		goto fail;
	if (eerr && !exec_warned) {
		exec_warned = 1;
		if (eerr == ENOENT && strpbrk(sp.argv[0], SHELL_CHARS))
			err_warnx("%s: command not found (a shell command "
			    "line runs with --shell, or as sh -c '...')",
			    sp.argv[0]);
		else {
			errno = eerr;
			err_warn("cannot run %s", sp.argv[0]);
		}
	}
	for (i = 0; i < 2; i++) {
		j->fd[i] = i == 0 ? out[0] : err[0];
		j->paused[i] = 0;
	}
	if (out[1] >= 0)
		close(out[1]);
	if (err[1] >= 0)
		close(err[1]);
	if (in[0] >= 0)
		close(in[0]);
	if (!results_own_fds())
		close_pair(res);
	j->infd = in[1];
	j->pid = pid;
	return 0;
fail:
	i = errno;
	close_pair(out);
	close_pair(err);
	close_pair(in);
	if (!results_own_fds())
		close_pair(res);
	errno = i;
	return -1;
}

static int
has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

void
job_command_line(const struct job *j, struct buf *out)
{
	out->len = 0;
	if (conf->shell && j->argv && !has_ctl(j->argv[2])) {
		/* The line itself, as sh reads it. */
		buf_adds(out, j->argv[2]);
	} else if (j->argv)
		/* $'...' for control characters: a joblog line never holds
		 * a raw newline or TAB. */
		buf_quote_argv(out, j->argv, BUF_QUOTE_CTL);
	buf_str(out);
}
