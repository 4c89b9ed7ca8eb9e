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

extern char **environ;

enum seg_kind { SEG_LIT, SEG_ITEM, SEG_NOEXT, SEG_BASE, SEG_DIR,
	SEG_BASENOEXT, SEG_SEQ, SEG_SLOT, SEG_POS };

struct seg {
	int kind;
	const char *s;  /* SEG_LIT: the literal text */
	size_t n;
	long pos;       /* SEG_POS: the item number, 1-based */
};

struct targ {
	struct seg *seg;
	int nseg;
	int repl;       /* holds a replacement string */
};

static struct targ *targ;    /* one per ARG (index 0 is CMD, unused) */
static int any_repl;
static size_t *argoff;       /* where each expanded ARG starts */
static char path[PATH_MAX];
static int have_path;
static char **envp;
static char seqvar[40] = "POOL_SEQ=", slotvar[40] = "POOL_SLOT=";
static int exec_warned;

/* The replacement string that starts at S ("{...}"), or -1; *len is
 * its length and *pos the number of a positional one. */
static int
repl_at(const char *s, size_t *len, long *pos)
{
	static const struct { const char *s; int kind; } tab[] = {
		{ "{}", SEG_ITEM }, { "{.}", SEG_NOEXT }, { "{/}", SEG_BASE },
		{ "{//}", SEG_DIR }, { "{/.}", SEG_BASENOEXT },
		{ "{#}", SEG_SEQ }, { "{%}", SEG_SLOT },
	};
	size_t i;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		size_t n = strlen(tab[i].s);
		if (strncmp(s, tab[i].s, n) == 0) {
			*len = n;
			return tab[i].kind;
		}
	}
	if (s[1] >= '1' && s[1] <= '9') {
		char *end;
		long v = strtol(s + 1, &end, 10);
		if (*end == '}' && v > 0 && v < INT_MAX) {
			*len = end - s + 1;
			*pos = v;
			return SEG_POS;
		}
	}
	return -1;
}

static void
add_seg(struct targ *t, int kind, const char *s, size_t n, long pos)
{
	struct seg *g = realloc(t->seg, (t->nseg + 1) * sizeof *g);

	if (g == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	t->seg = g;
	g[t->nseg++] = (struct seg){ kind, s, n, pos };
	if (kind != SEG_LIT)
		t->repl = 1;
}

static void
parse_arg(struct targ *t, const char *a)
{
	const char *lit = a, *p;

	for (p = a; (p = strchr(p, '{')) != NULL;) {
		size_t len;
		long pos = 0;
		int kind = repl_at(p, &len, &pos);
		if (kind < 0) {
			p++;
			continue;
		}
		if (p > lit)
			add_seg(t, SEG_LIT, lit, p - lit, 0);
		add_seg(t, kind, NULL, 0, pos);
		p += len;
		lit = p;
	}
	if (*lit)
		add_seg(t, SEG_LIT, lit, strlen(lit), 0);
}

void
tmpl_init(const struct conf *c)
{
	int i;

	targ = calloc(c->ncmd, sizeof *targ);
	argoff = calloc(c->ncmd, sizeof *argoff);
	if (targ == NULL || argoff == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	for (i = 1; i < c->ncmd; i++) {
		parse_arg(&targ[i], c->cmd[i]);
		any_repl |= targ[i].repl;
	}
	/* A command that cannot be found is not pool's error: each job
	 * then fails with 127 (or 126), and --halt decides what follows. */
	have_path = proc_resolve(c->cmd[0], path, sizeof path) == 0;
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

/* Write V in decimal at P; returns the length. */
static size_t
put_ull(char *p, unsigned long long v)
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

/* The part of ITEM that a replacement KIND stands for. */
static const char *
transform(int kind, const char *item, size_t *len)
{
	const char *slash = strrchr(item, '/');
	const char *base = slash ? slash + 1 : item, *dot;
	size_t n = strlen(item);

	switch (kind) {
	case SEG_BASE:
		*len = n - (base - item);
		return base;
	case SEG_DIR:
		if (slash == NULL) {
			*len = 1;
			return ".";
		}
		*len = slash == item ? 1 : (size_t)(slash - item);
		return item;
	case SEG_NOEXT:
	case SEG_BASENOEXT:
		/* The extension starts at the basename's last dot, unless
		 * that dot begins the name (".profile" has none). */
		dot = strrchr(base, '.');
		if (dot == NULL || dot == base)
			dot = item + n;
		if (kind == SEG_NOEXT) {
			*len = dot - item;
			return item;
		}
		*len = dot - base;
		return base;
	default:
		*len = n;
		return item;
	}
}

/* Append the expansion of replacement segment G for job J to B. */
static void
expand_seg(const struct seg *g, const struct job *j, struct buf *b)
{
	char num[24];
	const char *s;
	size_t n;
	int i;

	switch (g->kind) {
	case SEG_LIT:
		buf_add(b, g->s, g->n);
		return;
	case SEG_SEQ:
	case SEG_SLOT:
		n = put_ull(num, g->kind == SEG_SEQ ? j->seq :
		    (unsigned long long)j->slot);
		buf_add(b, num, n);
		return;
	case SEG_POS:
		if (g->pos <= j->nitems) {
			s = j->items.p + j->ioff[g->pos - 1];
			buf_add(b, s, strlen(s));
		}
		return;
	}
	/* With several items per job (-n), the item replacements expand to
	 * all of them, separated by spaces. */
	for (i = 0; i < j->nitems; i++) {
		if (i > 0)
			buf_add(b, " ", 1);
		s = transform(g->kind, j->items.p + j->ioff[i], &n);
		buf_add(b, s, n);
	}
}

/* Append TMPL with J's replacement strings expanded to B. */
static void
job_expand(const struct job *j, const char *tmpl, struct buf *b)
{
	struct targ t = { 0 };
	int g;

	parse_arg(&t, tmpl);
	for (g = 0; g < t.nseg; g++)
		expand_seg(&t.seg[g], j, b);
	free(t.seg);
}

/* Fill j->argv: CMD, the ARGs (expanded), then the items when no ARG
 * has a replacement string. */
static void
build_argv(struct job *j, const struct conf *c)
{
	size_t *off = argoff;
	int i, k, g;

	j->args.len = 0;
	if (any_repl) {
		for (i = 1; i < c->ncmd; i++) {
			if (!targ[i].repl)
				continue;
			off[i] = j->args.len;
			for (g = 0; g < targ[i].nseg; g++)
				expand_seg(&targ[i].seg[g], j, &j->args);
			buf_add(&j->args, "", 1);
		}
	}
	j->argv[0] = c->cmd[0];
	for (i = 1; i < c->ncmd; i++)
		j->argv[i] = targ[i].repl ? j->args.p + off[i] : c->cmd[i];
	k = c->ncmd;
	if (!any_repl && !c->pipe)
		for (i = 0; i < j->nitems; i++)
			j->argv[k++] = j->items.p + j->ioff[i];
	j->argv[k] = NULL;
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

	if (j->argc_cap < c->ncmd + j->nitems + 1) {
		int cap = c->ncmd + j->nitems + 1;
		char **v = realloc(j->argv, cap * sizeof *v);
		if (v == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		j->argv = v;
		j->argc_cap = cap;
	}
	build_argv(j, c);
	put_ull(seqvar + 9, j->seq);
	put_ull(slotvar + 10, (unsigned long long)j->slot);
	memset(x, 0, sizeof *x);
	x->argv = j->argv;
	x->path = have_path ? path : NULL;
	x->in = -1;
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
	struct proc_spec sp;
	int eerr, i;
	pid_t pid;

	proc_spec_init(&sp, x->argv);
	sp.path = x->path;
	sp.envp = envp;
	sp.pgroup = 1;
	sp.pdeathsig = SIGKILL;
	sp.fd[0] = x->in >= 0 ? x->in : devnull;
	if (!c->ungroup) {
		if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
			goto fail;
		sp.fd[1] = out[1];
		sp.fd[2] = err[1];
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
		errno = eerr;
		err_warn("cannot run %s", sp.argv[0]);
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
	j->infd = in[1];
	j->pid = pid;
	return 0;
fail:
	i = errno;
	close_pair(out);
	close_pair(err);
	close_pair(in);
	errno = i;
	return -1;
}

void
job_command_line(const struct job *j, struct buf *out)
{
	/* $'...' for control characters: a joblog line never holds a raw
	 * newline or TAB. */
	out->len = 0;
	if (j->argv)
		buf_quote_argv(out, j->argv, BUF_QUOTE_CTL);
	buf_str(out);
}
