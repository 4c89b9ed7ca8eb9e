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
static unsigned char *skip;   /* one byte per job number: 1 = skip it */
static size_t nskip;
static struct buf line, cmd;
static int warned;

static void
mark(unsigned long long seq, int val)
{
	if (seq >= nskip) {
		size_t n = nskip ? nskip : 1024;
		unsigned char *p;
		while (n <= seq)
			n *= 2;
		p = realloc(skip, n);
		if (p == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		memset(p + nskip, 0, n - nskip);
		skip = p;
		nskip = n;
	}
	skip[seq] = (unsigned char)val;
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
}

int
joblog_open(const struct conf *c)
{
	struct stat st;
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;

	if (c->joblog == NULL)
		return 0;
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
	return 0;
}

int
joblog_skip(unsigned long long seq)
{
	return seq < nskip && skip[seq];
}

void
joblog_write(const struct job *j, int64_t now)
{
	int exitval = 0, sig = 0, n;
	char head[256];

	if (logfd < 0)
		return;
	if (WIFEXITED(j->wstatus))
		exitval = WEXITSTATUS(j->wstatus);
	else if (WIFSIGNALED(j->wstatus))
		sig = WTERMSIG(j->wstatus);
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
}
