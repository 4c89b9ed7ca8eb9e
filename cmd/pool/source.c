/* pool: where the items come from, as GNU parallel's users write it.
 *
 * A source is stdin, a file (-a FILE, :::: FILE) or a list of words on the
 * command line (::: A B C). With one source, each item is one value. With
 * several, a job gets one value from each: sources linked with :::+ or
 * ::::+ to the one before form a group read in step (the shortest ends
 * it), and the groups combine as a cartesian product, the last group
 * varying fastest, like an odometer. --colsep splits every value into
 * columns, which become further values.
 *
 * Memory: the first source of the first group is read lazily through
 * pool's input (an endless stdin runs in constant memory); every other
 * source must be read again for each row of the first, so it is read
 * whole at the start (a ::: list already is in memory), up to 64 MiB:
 * an endless one is an error, not a machine out of memory. */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "pool.h"

/* The most bytes of items a source other than the first may hold. */
#define LOAD_MAX (64 << 20)

struct source {
	const char *file;       /* a file ("-" stdin), or NULL: a list */
	int linked;             /* :::+ or ::::+: read in step with the
	                         * source before it */
	char **vals;            /* the values, once in memory */
	size_t n, cap;
	struct buf store;       /* a file's values, NUL-terminated */
	size_t *off;            /* ... where each starts in store */
};

static struct source *src;
static int nsrc;
static int stream = -1;         /* the source read through pool's input */
static const char *stream_file;
static size_t row;              /* the streamed group's rows so far */
static size_t *odo;             /* per source: the product's position */
static struct buf cur;          /* the streamed group's current row */
static int have_row, exhausted;
static int single;              /* one source, one value per row */

static struct buf held;        /* -X: items handed back by source_hold */
static size_t *hoff, nheld, kheld;

static int shuf;                /* --shuf */
static size_t *perm, nperm, kperm;

static int colsep_on, colsep_char = -1;
static regex_t colsep_re;

static char **names;            /* --header: the column names */
static int nnames;
static long header_skip;        /* --header N: lines skipped per source */
static int header_names;        /* --header : */

static struct source *
add(const char *file, int linked)
{
	struct source *s = realloc(src, (nsrc + 1) * sizeof *s);

	if (s == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	src = s;
	s = &src[nsrc++];
	memset(s, 0, sizeof *s);
	s->file = file;
	s->linked = linked;
	return s;
}

static void
push(struct source *s, char *v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		char **p = realloc(s->vals, cap * sizeof *p);
		if (p == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		s->vals = p;
		s->cap = cap;
	}
	s->vals[s->n++] = v;
}

void
source_file(const char *file)
{
	add(file, 0);
}

static int
is_sep(const char *w)
{
	return strcmp(w, ":::") == 0 || strcmp(w, ":::+") == 0 ||
	    strcmp(w, "::::") == 0 || strcmp(w, "::::+") == 0;
}

int
source_split(char **cmd, int ncmd)
{
	int i, k = -1;
	struct source *s = NULL;

	for (i = 0; i < ncmd; i++) {
		const char *w = cmd[i];
		if (!is_sep(w)) {
			if (s)
				push(s, cmd[i]);
			continue;
		}
		if (k < 0)
			k = i;
		s = NULL;
		if (w[3] != ':') {   /* ::: or :::+ */
			s = add(NULL, w[3] == '+');
			continue;
		}
		if (i + 1 >= ncmd || is_sep(cmd[i + 1]))
			err_diex(EXIT_TOOL, "%s: no file given", w);
		for (; i + 1 < ncmd && !is_sep(cmd[i + 1]); i++)
			add(cmd[i + 1], w[4] == '+');
	}
	return k < 0 ? ncmd : k;
}

void
source_shuf(void)
{
	shuf = 1;
}

int
source_count(void)
{
	return nsrc;
}

void
source_colsep(const char *re)
{
	char msg[200];
	int e;

	colsep_on = 1;
	if (strcmp(re, "\\t") == 0)
		re = "\t";
	if (re[0] && !re[1]) {
		colsep_char = (unsigned char)re[0];
		return;
	}
	if (*re == '\0')
		err_diex(EXIT_TOOL, "--colsep: empty");
	if ((e = regcomp(&colsep_re, re, REG_EXTENDED)) != 0) {
		regerror(e, &colsep_re, msg, sizeof msg);
		err_diex(EXIT_TOOL, "--colsep %s: %s", re, msg);
	}
}

int
source_colsep_on(void)
{
	return colsep_on;
}

void
source_header(const char *s)
{
	char *end;

	if (strcmp(s, ":") == 0) {
		header_names = 1;
		return;
	}
	errno = 0;
	header_skip = strtol(s, &end, 10);
	if (errno || end == s || *end || header_skip < 0 || header_skip > 1000000)
		err_diex(EXIT_TOOL, "--header %s: not ':' or a number of lines",
		    s);
}

int
source_header_names(void)
{
	return header_names;
}

/* Append one value to J's items. */
static void
add_value(struct job *j, const char *p, size_t n)
{
	if (j->nitems == j->icap) {
		int cap = j->icap ? 2 * j->icap : 4;
		size_t *o = realloc(j->ioff, cap * sizeof *o);
		if (o == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		j->ioff = o;
		j->icap = cap;
	}
	j->ioff[j->nitems++] = j->items.len;
	buf_add(&j->items, p, n);
	buf_add(&j->items, "", 1);
}

/* Append P (N bytes, NUL-terminated) to J, split into columns with
 * --colsep. An empty match of the regular expression splits nothing. */
static void
add_cols(struct job *j, const char *p, size_t n)
{
	const char *s = p, *end = p + n, *d;
	regmatch_t m;

	if (!colsep_on) {
		add_value(j, p, n);
		return;
	}
	if (colsep_char >= 0) {
		while ((d = memchr(s, colsep_char, end - s)) != NULL) {
			add_value(j, s, d - s);
			s = d + 1;
		}
		add_value(j, s, end - s);
		return;
	}
	while (s <= end && regexec(&colsep_re, s, 1, &m,
	    s == p ? 0 : REG_NOTBOL) == 0 && m.rm_eo > m.rm_so) {
		add_value(j, s, m.rm_so);
		s += m.rm_eo;
	}
	add_value(j, s, end - s);
}

/* Read a file source whole. */
static void
load(struct source *s, int delim)
{
	struct input fin;
	const char *p;
	size_t n, i;
	int r;

	if (input_open(&fin, s->file, delim) < 0)
		err_die(EXIT_TOOL, "open %s", s->file);
	while ((r = input_item(&fin, &p, &n)) > 0) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 16;
			size_t *o = realloc(s->off, cap * sizeof *o);
			if (o == NULL)
				err_diex(EXIT_TOOL, "out of memory");
			s->off = o;
			s->cap = cap;
		}
		s->off[s->n++] = s->store.len;
		buf_add(&s->store, p, n + 1);
		if (s->store.len + s->n * sizeof *s->off > LOAD_MAX)
			err_diex(EXIT_TOOL, "%s: more than %d MiB of items, too "
			    "many to hold (only the first source is read as "
			    "it comes: give this one first)",
			    strcmp(s->file, "-") ? s->file : "standard input",
			    LOAD_MAX >> 20);
	}
	if (fin.err)
		exit(EXIT_TOOL);
	if (fin.fd > 0)
		close(fin.fd);
	free(fin.buf);
	s->vals = malloc((s->n + 1) * sizeof *s->vals);
	if (s->vals == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	for (i = 0; i < s->n; i++)
		s->vals[i] = s->store.p + s->off[i];
	free(s->off);
	s->off = NULL;
}

/* --header: take a first line's columns as names. */
static void
add_names(const char *p, size_t n)
{
	struct job t;
	int i;

	memset(&t, 0, sizeof t);
	add_cols(&t, p, n);
	names = realloc(names, (nnames + t.nitems) * sizeof *names);
	if (names == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	for (i = 0; i < t.nitems; i++)
		if ((names[nnames++] = strdup(t.items.p + t.ioff[i])) == NULL)
			err_diex(EXIT_TOOL, "out of memory");
	buf_free(&t.items);
	free(t.ioff);
}

static size_t group_rows(int g);
static int next_group(int g);

#define SHUF_MAX ((size_t)1 << 24)

static void
shuffle(void)
{
	long long total = source_total(1, -1);
	unsigned long long x;
	size_t i, k;

	if (total > (long long)SHUF_MAX)
		err_diex(EXIT_TOOL, "--shuf: more than %zu jobs", SHUF_MAX);
	nperm = (size_t)total;
	perm = malloc((nperm ? nperm : 1) * sizeof *perm);
	if (perm == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	for (i = 0; i < nperm; i++)
		perm[i] = i;
	if (getentropy(&x, sizeof x) < 0)
		x = (unsigned long long)getpid() * 2654435761u ^ (unsigned long long)time(NULL);
	/* Fisher-Yates with xorshift64*. */
	for (i = nperm; i > 1; i--) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		k = (size_t)((x * 2685821657736338717ULL) % i);
		size_t t = perm[i - 1];
		perm[i - 1] = perm[k];
		perm[k] = t;
	}
}

/* --shuf: job number IDX's values, the last group varying fastest. */
static void
shuf_row(struct job *j, size_t idx)
{
	size_t at[64], *pos = nsrc <= 64 ? at : malloc(nsrc * sizeof *pos);
	const char *p;
	int g, i;

	if (pos == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	for (g = nsrc - 1; g >= 0; g--) {
		if (src[g].linked)
			continue;
		pos[g] = idx % group_rows(g);
		idx /= group_rows(g);
	}
	for (i = 0; i < nsrc; i++) {
		for (g = i; src[g].linked; g--)
			;
		p = src[i].vals[pos[g]];
		add_cols(j, p, strlen(p));
	}
	if (pos != at)
		free(pos);
}

/* --header for a source in memory: drop its header lines. */
static void
strip_header(struct source *s)
{
	size_t k = header_names ? 1 : (size_t)header_skip;

	if (k > s->n)
		k = s->n;
	if (header_names && k == 1)
		add_names(s->vals[0], strlen(s->vals[0]));
	memmove(s->vals, s->vals + k, (s->n - k) * sizeof *s->vals);
	s->n -= k;
}

/* --header for the streamed source: read its header lines now, before
 * the event loop watches it (the reads block). */
static void
stream_header(struct input *in)
{
	long k = header_names ? 1 : header_skip;
	const char *p;
	size_t n;

	for (; k > 0; k--) {
		if (input_item(in, &p, &n) <= 0) {
			if (in->err)
				exit(EXIT_TOOL);
			break;
		}
		if (header_names)
			add_names(p, n);
	}
}

int
source_setup(struct input *in, int delim)
{
	int i;

	if (nsrc == 0)
		add("-", 0);
	src[0].linked = 0;
	odo = calloc(nsrc, sizeof *odo);
	if (odo == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	single = nsrc == 1 && !colsep_on;
	if (src[0].file && shuf) {
		/* --shuf: every source in memory, the jobs in a random
		 * order of their numbers. */
		load(&src[0], delim);
		src[0].file = NULL;
	}
	if (src[0].file) {
		stream = 0;
		stream_file = src[0].file;
		if (strcmp(stream_file, "-") == 0 && isatty(0))
			err_warnx("reading items from the terminal (end them "
			    "with Ctrl-D, or give them with ::: or -a)");
		if (input_open(in, stream_file, delim) < 0)
			err_die(EXIT_TOOL, "open %s", stream_file);
		if (header_names || header_skip)
			stream_header(in);
	} else {
		/* No stream: an input that has ended. */
		if (input_open(in, "-", delim) < 0)
			err_die(EXIT_TOOL, "input");
		in->fd = -1;
		in->eof = 1;
		if (header_names || header_skip)
			strip_header(&src[0]);
	}
	for (i = 1; i < nsrc; i++) {
		if (src[i].file)
			load(&src[i], delim);
		if (header_names || header_skip)
			strip_header(&src[i]);
	}
	if (shuf)
		shuffle();
	return stream >= 0;
}

long
source_column(const char *name, size_t n)
{
	int i;

	for (i = 0; i < nnames; i++)
		if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0)
			return i + 1;
	return -1;
}

/* The number of rows of the group that starts at source G, in memory. */
static size_t
group_rows(int g)
{
	size_t rows = src[g].n;
	int i;

	for (i = g + 1; i < nsrc && src[i].linked; i++)
		if (src[i].n < rows)
			rows = src[i].n;
	return rows;
}

/* The first source of the group after the one that starts at G. */
static int
next_group(int g)
{
	for (g++; g < nsrc && src[g].linked; g++)
		;
	return g;
}

/* Start the next row of the first group: 1, 0 (wait for input), -1. */
static int
first_row(struct input *in)
{
	const char *p;
	size_t n;
	int g, r;

	for (g = next_group(0); g < nsrc; g = next_group(g))
		if (group_rows(g) == 0)
			return -1;
	if (stream >= 0) {
		r = input_item(in, &p, &n);
		if (r <= 0)
			return r;
		cur.len = 0;
		buf_add(&cur, p, n + 1);
	} else if (row >= src[0].n)
		return -1;
	for (g = 1; g < nsrc && src[g].linked; g++)
		if (row >= src[g].n)
			return -1;
	for (g = next_group(0); g < nsrc; g++)
		odo[g] = 0;
	row++;
	have_row = 1;
	return 1;
}

int
source_next(struct input *in, struct job *j)
{
	const char *p;
	size_t n;
	int g, i, r;

	if (kheld < nheld) {
		p = held.p + hoff[kheld++];
		add_value(j, p, strlen(p));
		if (kheld == nheld) {
			free(hoff);
			buf_free(&held);
			hoff = NULL;
			nheld = kheld = 0;
		}
		return 1;
	}
	if (exhausted)
		return -1;
	if (shuf) {
		if (kperm >= nperm)
			return -1;
		shuf_row(j, perm[kperm++]);
		return 1;
	}
	if (single) {
		if (stream >= 0) {
			r = input_item(in, &p, &n);
			if (r > 0)
				add_value(j, p, n);
			return r;
		}
		if (odo[0] >= src[0].n)
			return -1;
		p = src[0].vals[odo[0]++];
		add_value(j, p, strlen(p));
		return 1;
	}
	if (!have_row && (r = first_row(in)) <= 0) {
		exhausted = r < 0;
		return r;
	}
	/* The first group's row, then each other group's current row. */
	for (i = 0; i < nsrc; i++) {
		if (i == 0 && stream == 0)
			p = cur.p, n = cur.len - 1;
		else {
			g = i;
			while (src[g].linked)
				g--;
			p = src[i].vals[g == 0 ? row - 1 : odo[g]];
			n = strlen(p);
		}
		add_cols(j, p, n);
	}
	/* Turn the odometer: the last group fastest. */
	for (g = nsrc - 1; g > 0; g--) {
		if (src[g].linked)
			continue;
		if (++odo[g] < group_rows(g))
			return 1;
		odo[g] = 0;
	}
	have_row = 0;
	return 1;
}

void
source_unget(struct input *in, struct job *j)
{
	if (shuf)
		kperm--;
	else if (stream >= 0)
		input_unget(in);
	else
		odo[0]--;
	j->nitems--;
	j->items.len = j->ioff[j->nitems];
}

void
source_hold(struct job *j, int from)
{
	int i;

	hoff = malloc((j->nitems - from) * sizeof *hoff);
	if (hoff == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	for (i = from; i < j->nitems; i++) {
		const char *p = j->items.p + j->ioff[i];
		hoff[nheld++] = held.len;
		buf_add(&held, p, strlen(p) + 1);
	}
	j->nitems = from;
	j->items.len = j->ioff[from];
}

long long
source_total(long maxargs, long long lines)
{
	long long n, rows;
	int g;

	if (stream >= 0 && lines < 0)
		return -1;
	rows = stream >= 0 ? lines : (long long)src[0].n;
	if (single)
		return (rows + maxargs - 1) / maxargs;
	for (g = 1; g < nsrc && src[g].linked; g++)
		if ((long long)src[g].n < rows)
			rows = (long long)src[g].n;
	n = rows;
	for (g = next_group(0); g < nsrc; g = next_group(g))
		n *= (long long)group_rows(g);
	return n;
}
