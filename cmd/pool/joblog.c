/* pool: --joblog in GNU parallel's format, and --resume/--resume-failed.
 *
 * One line per finished job is written with a single write(2) on a file
 * opened with O_APPEND, as soon as the job ends, so a pool killed at any
 * instant leaves a log whose every line is whole and true. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "pool.h"

static const char header[] =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

static int logfd = -1;
static const char *logname;
/* The job numbers an existing log names, sorted, each with its verdict
 * (1: skip it). A table indexed by job number would cost memory in
 * proportion to the largest number in the file, which need not be small
 * (a line "1099511627776\t..." asked for a terabyte). */
struct mark {
	unsigned long long seq;
	size_t line;         /* the file's later lines win */
	int skip;
};
static struct mark *marks;
static size_t nmarks, capmarks;
static struct buf line, cmd;
static int warned;

static void
mark(unsigned long long seq, int val)
{
	if (nmarks == capmarks) {
		size_t n = capmarks ? 2 * capmarks : 1024;
		struct mark *p = realloc(marks, n * sizeof *p);
		if (p == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		marks = p;
		capmarks = n;
	}
	marks[nmarks] = (struct mark){ seq, nmarks, val };
	nmarks++;
}

static int
by_seq(const void *a, const void *b)
{
	const struct mark *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Sort the marks and keep the last line's verdict for each job. */
static void
settle(void)
{
	size_t i, k = 0;

	if (nmarks == 0)
		return;     /* marks is NULL: no qsort(NULL, ...) */
	qsort(marks, nmarks, sizeof *marks, by_seq);
	for (i = 0; i < nmarks; i++) {
		if (k > 0 && marks[k - 1].seq == marks[i].seq)
			k--;
		marks[k++] = marks[i];
	}
	nmarks = k;
}

/* Read an existing log: with --resume every logged job is skipped, with
 * --resume-failed only those whose last line says it succeeded. */
static void
load(const char *path, int failed_only)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	size_t cap = 0;

	if (f == NULL) {
		if (errno == ENOENT)
			return;
		err_die(EXIT_TOOL, "open joblog %s", path);
	}
	while (getline(&s, &cap, f) > 0) {
		char *field[8], *p = s, *end;
		unsigned long long seq;
		int i;

		for (i = 0; i < 8 && p; i++) {
			field[i] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = '\0';
		}
		if (i < 8 || p == NULL)
			continue;
		errno = 0;
		seq = strtoull(field[0], &end, 10);
		if (errno || *end || end == field[0] || seq > (1ULL << 40))
			continue;   /* the header, or a torn line */
		mark(seq, !failed_only || (strcmp(field[6], "0") == 0 &&
		    strcmp(field[7], "0") == 0));
	}
	free(s);
	fclose(f);
	settle();
}

void
joblog_open(const struct conf *c)
{
	struct stat st;
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;

	if (c->joblog == NULL)
		return;
	logname = c->joblog;
	if (c->resume || c->resume_failed)
		load(c->joblog, c->resume_failed);
	else
		flags |= O_TRUNC;
	logfd = open(c->joblog, flags, 0666);
	if (logfd < 0)
		err_die(EXIT_TOOL, "open joblog %s", c->joblog);
	if (fstat(logfd, &st) == 0 && st.st_size == 0 &&
	    write(logfd, header, sizeof header - 1) != sizeof header - 1)
		err_die(EXIT_TOOL, "write joblog %s", c->joblog);
}

int
joblog_skip(unsigned long long seq)
{
	size_t lo = 0, hi = nmarks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (marks[mid].seq == seq)
			return marks[mid].skip;
		if (marks[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

void
joblog_write(const struct job *j, int64_t now)
{
	int exitval = 0, sig = 0, n;
	char head[256];

	if (logfd < 0)
		return;
	if (WIFSIGNALED(j->wstatus))
		sig = WTERMSIG(j->wstatus);
	else if (j->timedout)
		/* It caught SIGTERM and exited: still a failure, as pool
		 * counted it, so that --resume-failed runs it again. */
		exitval = EXIT_TIMEOUT;
	else if (WIFEXITED(j->wstatus))
		exitval = WEXITSTATUS(j->wstatus);
	n = snprintf(head, sizeof head, "%llu\t%.100s\t%.3f\t%.3f\t0\t0\t%d\t%d\t",
	    j->seq, host_name(j), j->start_wall, (double)(now - j->start_mono) / 1e9,
	    exitval, sig);
	job_command_line(j, &cmd);
	line.len = 0;
	buf_add(&line, head, n);
	buf_add(&line, cmd.p, cmd.len);
	buf_add(&line, "\n", 1);
	if (write(logfd, line.p, line.len) != (ssize_t)line.len && !warned) {
		warned = 1;
		err_warn("write joblog %s", logname);
	}
}

void
joblog_close(void)
{
	if (logfd >= 0)
		close(logfd);
	logfd = -1;
	free(marks);
	marks = NULL;
	nmarks = capmarks = 0;
}
