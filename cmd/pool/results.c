/* pool: --results, each job's output kept in files in GNU parallel's
 * layouts.
 *
 * --results DIR: the job's stdout and stderr are files it writes itself
 * (DIR/1/VALUE1/2/VALUE2/stdout, stderr, and seq), so pool holds none of
 * it. --results FILE.csv, .tsv or .json: the job writes to two unnamed
 * temporary files, and when it has ended pool copies them into its row,
 * quoted, a block at a time: memory stays bounded whatever a job prints.
 * With -k the rows are in input order, as GNU parallel writes them: a
 * row that finishes before an earlier job is written to one unnamed
 * spill file, and copied into the table once every earlier job's row
 * is; only its number and place are kept in memory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "pool.h"

enum { R_DIR, R_CSV, R_TSV, R_JSON };

static int mode;
static const char *where;
static FILE *table;
static int nvals = -1;          /* V1..Vn: the values of the first row */
static int (*tmp)[2];           /* per slot: the job's output files */
static long nslots;
static int failed;
static int shell_line;          /* --shell: Command is the line */
static int ordered;             /* -k: the rows in input order */
static FILE *spill;             /* -k: the rows waiting for their turn */
static struct held {
	unsigned long long seq;
	off_t off, len;
} *held;                        /* ... in input order */
static size_t nheld, capheld;

static int
ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && strcmp(s + n - m, suf) == 0;
}

/* mkdir -p P (modified in place and restored). */
static int
mkdirs(char *p)
{
	char *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			*s = '/';
			return -1;
		}
		*s = '/';
	}
	return mkdir(p, 0777) < 0 && errno != EEXIST ? -1 : 0;
}

void
results_open(const struct conf *c, long slots)
{
	char *p;

	where = c->results;
	shell_line = c->shell;
	ordered = c->results_keep;
	mode = ends_with(where, ".csv") ? R_CSV : ends_with(where, ".tsv") ?
	    R_TSV : ends_with(where, ".json") ? R_JSON : R_DIR;
	if (mode == R_DIR) {
		if ((p = strdup(where)) == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		if (mkdirs(p) < 0)
			err_die(EXIT_TOOL, "--results %s", where);
		free(p);
		return;
	}
	table = fopen(where, "w");
	if (table == NULL)
		err_die(EXIT_TOOL, "--results %s", where);
	tmp = malloc(slots * sizeof *tmp);
	if (tmp == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	for (nslots = 0; nslots < slots; nslots++)
		tmp[nslots][0] = tmp[nslots][1] = -1;
}

/* A value as one safe path component, as GNU parallel makes it: \ is
 * \\ and / is \_ (and . and .. get a \ so they stay inside DIR). */
static void
component(struct buf *b, const char *v)
{
	if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		buf_add(b, "\\", 1);
	for (; *v; v++)
		if (*v == '/')
			buf_add(b, "\\_", 2);
		else if (*v == '\\')
			buf_add(b, "\\\\", 2);
		else
			buf_add(b, v, 1);
}

static int
unnamed(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR &&
	    errno != EINVAL))
		return fd;
	snprintf(path, sizeof path, "%s/pool.XXXXXX", dir);
	if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
		unlink(path);
	return fd;
}

static int
dir_fds(const struct job *j, int fd[2])
{
	struct buf b = { 0 };
	char num[32];
	int i, n, sfd, e;

	buf_add(&b, where, strlen(where));
	for (i = 0; i < j->nitems; i++) {
		n = snprintf(num, sizeof num, "/%d/", i + 1);
		buf_add(&b, num, n);
		component(&b, j->items.p + j->ioff[i]);
	}
	buf_add(&b, "/", 2);
	fd[0] = fd[1] = sfd = -1;
	if (mkdirs(b.p) == 0) {
		size_t len = b.len - 1;
		b.len = len;
		buf_add(&b, "stdout", 7);
		fd[0] = open(b.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		b.len = len;
		buf_add(&b, "stderr", 7);
		fd[1] = open(b.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		b.len = len;
		buf_add(&b, "seq", 4);
		sfd = open(b.p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	}
	n = snprintf(num, sizeof num, "%llu", j->seq);
	if (fd[0] < 0 || fd[1] < 0 || sfd < 0 || write(sfd, num, n) != n) {
		e = errno;
		err_warn("--results %s", b.p);
		for (i = 0; i < 2; i++)
			if (fd[i] >= 0)
				close(fd[i]);
		if (sfd >= 0)
			close(sfd);
		buf_free(&b);
		errno = e;
		return -1;
	}
	close(sfd);
	buf_free(&b);
	return 0;
}

int
results_fds(const struct job *j, int fd[2])
{
	int *t, i;

	if (mode == R_DIR)
		return dir_fds(j, fd);
	t = tmp[j->slot - 1];
	for (i = 0; i < 2; i++) {
		if (t[i] >= 0)
			close(t[i]);    /* an earlier attempt's */
		if ((t[i] = unnamed()) < 0) {
			err_warn("--results: temporary file");
			return -1;
		}
		fd[i] = t[i];
	}
	return 0;
}

int
results_own_fds(void)
{
	return mode != R_DIR;
}

/* A field for CSV or TSV: bare, or in double quotes (doubled inside)
 * when it holds the separator, a quote, a space or a line break. */
static void
field(const char *s, size_t n, int first)
{
	char sep = mode == R_CSV ? ',' : '\t';
	size_t i;
	int q = 0;

	if (!first)
		putc(sep, table);
	for (i = 0; i < n && !q; i++)
		q = s[i] == sep || s[i] == '"' || s[i] == ' ' ||
		    s[i] == '\n' || s[i] == '\r';
	if (!q) {
		fwrite(s, 1, n, table);
		return;
	}
	putc('"', table);
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			putc('"', table);
		putc(s[i], table);
	}
	putc('"', table);
}

static void
json_str(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\')
			fprintf(table, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(table, "\\u%04x", ch);
		else
			putc(ch, table);
	}
}

/* Copy a job's output file into the table as one quoted field, a block
 * at a time (after a separator, for CSV and TSV). */
static void
copy_out(int fd)
{
	char blk[65536];
	off_t off = 0;
	ssize_t n, i;

	if (mode != R_JSON)
		putc(mode == R_CSV ? ',' : '\t', table);
	putc('"', table);
	while (fd >= 0 && (n = pread(fd, blk, sizeof blk, off)) > 0) {
		off += n;
		if (mode == R_JSON)
			json_str(blk, n);
		else
			for (i = 0; i < n; i++) {
				if (blk[i] == '"')
					putc('"', table);
				putc(blk[i], table);
			}
	}
	putc('"', table);
}

static void
header(int n)
{
	static const char *const cols[] = { "Seq", "Host", "Starttime",
		"JobRuntime", "Send", "Receive", "Exitval", "Signal",
		"Command" };
	char v[32];
	size_t i;
	int k;

	nvals = n;
	if (mode == R_JSON)
		return;
	for (i = 0; i < sizeof cols / sizeof cols[0]; i++)
		field(cols[i], strlen(cols[i]), i == 0);
	for (k = 1; k <= n; k++) {
		snprintf(v, sizeof v, "V%d", k);
		field(v, strlen(v), 0);
	}
	field("Stdout", 6, 0);
	field("Stderr", 6, 0);
	putc('\n', table);
}

/* J's row, to the table (or the spill file, as table points). */
static void
write_row(const struct job *j, int64_t now, int *t)
{
	static struct buf cmd;
	struct stat st;
	int exitval = 0, sig = 0, i;
	char num[200];
	int n;

	if (WIFSIGNALED(j->wstatus))
		sig = WTERMSIG(j->wstatus);
	else if (j->timedout)
		exitval = EXIT_TIMEOUT;
	else if (WIFEXITED(j->wstatus))
		exitval = WEXITSTATUS(j->wstatus);
	job_command_line(j, &cmd);
	if (shell_line) {
		/* The line as sh ran it, control characters and all. */
		cmd.len = 0;
		buf_add(&cmd, j->argv[2], strlen(j->argv[2]));
	}
	n = snprintf(num, sizeof num, "%llu", j->seq);
	if (mode == R_JSON)
		fprintf(table, "{ \"Seq\": %s, \"Host\": \"", num);
	else
		field(num, n, 1);
	if (mode == R_JSON)
		json_str(host_name(j), strlen(host_name(j)));
	else
		field(host_name(j), strlen(host_name(j)), 0);
	st.st_size = 0;
	if (t[0] >= 0)
		(void)fstat(t[0], &st);
	if (mode == R_JSON) {
		fprintf(table, "\", \"Starttime\": %.3f, \"JobRuntime\": %.3f, "
		    "\"Send\": 0, \"Receive\": %lld, \"Exitval\": %d, "
		    "\"Signal\": %d, \"Command\": \"", j->start_wall,
		    (double)(now - j->start_mono) / 1e9,
		    (long long)st.st_size, exitval, sig);
		json_str(cmd.p, cmd.len);
		fputs("\", \"V\": [ ", table);
		for (i = 0; i < j->nitems; i++) {
			fputs(i ? ", \"" : "\"", table);
			json_str(j->items.p + j->ioff[i],
			    strlen(j->items.p + j->ioff[i]));
			putc('"', table);
		}
		fputs(" ], \"Stdout\": ", table);
	} else {
		n = snprintf(num, sizeof num, "%c%.3f%c%.3f%c0%c%lld%c%d%c%d",
		    mode == R_CSV ? ',' : '\t', j->start_wall,
		    mode == R_CSV ? ',' : '\t', (double)(now - j->start_mono) / 1e9,
		    mode == R_CSV ? ',' : '\t', mode == R_CSV ? ',' : '\t',
		    (long long)st.st_size, mode == R_CSV ? ',' : '\t', exitval,
		    mode == R_CSV ? ',' : '\t', sig);
		fwrite(num, 1, n, table);
		field(cmd.p, cmd.len, 0);
		for (i = 0; i < nvals; i++) {
			const char *v = i < j->nitems ?
			    j->items.p + j->ioff[i] : "";
			field(v, strlen(v), 0);
		}
	}
	copy_out(t[0]);
	if (mode == R_JSON)
		fputs(", \"Stderr\": ", table);
	copy_out(t[1]);
	fputs(mode == R_JSON ? " }\n" : "\n", table);
}

static void
write_failed(FILE *f, const char *what)
{
	if (ferror(f) && !failed) {
		failed = 1;
		err_warn("write --results %s", what);
	}
}

/* -k: copy the held rows before job SEQ (all of them: ULLONG_MAX) into
 * the table, in order; the spill file starts again empty when none is
 * left. */
static void
release(unsigned long long seq)
{
	char blk[65536];
	size_t k, i;
	off_t at, end;
	ssize_t n;

	if (nheld == 0 || held[0].seq >= seq)
		return;
	if (fflush(spill) != 0)
		write_failed(spill, "(a temporary file)");
	for (k = 0; k < nheld && held[k].seq < seq; k++)
		for (at = held[k].off, end = at + held[k].len; at < end;
		    at += n) {
			n = pread(fileno(spill), blk, end - at > (off_t)sizeof
			    blk ? sizeof blk : (size_t)(end - at), at);
			if (n <= 0) {
				if (!failed)
					err_warn("read --results' temporary "
					    "file");
				failed = 1;
				break;
			}
			fwrite(blk, 1, n, table);
		}
	for (i = k; i < nheld; i++)
		held[i - k] = held[i];
	nheld -= k;
	if (nheld == 0 && (ftruncate(fileno(spill), 0) != 0 ||
	    fseeko(spill, 0, SEEK_SET) != 0) && !failed) {
		failed = 1;
		err_warn("--results' temporary file");
	}
}

/* -k: hold J's row until the rows before it are in. */
static void
hold_row(const struct job *j, int64_t now, int *t)
{
	FILE *f = table;
	size_t k;
	int fd;

	if (spill == NULL) {
		if ((fd = unnamed()) < 0 || (spill = fdopen(fd, "w+")) == NULL)
			err_die(EXIT_TOOL, "--results: temporary file");
	}
	if (nheld == capheld) {
		struct held *h;
		capheld = capheld ? 2 * capheld : 16;
		if ((h = realloc(held, capheld * sizeof *h)) == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		held = h;
	}
	/* Rows finish in nearly input order: the place is near the end. */
	for (k = nheld; k > 0 && held[k - 1].seq > j->seq; k--)
		held[k] = held[k - 1];
	held[k].seq = j->seq;
	held[k].off = ftello(spill);
	nheld++;
	table = spill;
	write_row(j, now, t);
	table = f;
	held[k].len = ftello(spill) - held[k].off;
	write_failed(spill, "(a temporary file)");
}

void
results_done(const struct job *j, int64_t now, unsigned long long oldest)
{
	int *t, i;

	if (mode == R_DIR || j->slot < 1)
		return;
	t = tmp[j->slot - 1];
	if (nvals < 0)
		header(j->nitems);
	/* An earlier job still runs: this row waits (the rows held all
	 * come after the running ones, so when none runs before J, none
	 * held does either). */
	if (ordered && oldest < j->seq)
		hold_row(j, now, t);
	else
		write_row(j, now, t);
	for (i = 0; i < 2; i++) {
		if (t[i] >= 0)
			close(t[i]);
		t[i] = -1;
	}
	if (ordered)
		release(oldest);
	write_failed(table, where);
}

int
results_close(void)
{
	if (table == NULL)
		return 0;
	if (spill) {
		release(ULLONG_MAX);
		fclose(spill);
		spill = NULL;
	}
	free(held);
	held = NULL;
	if (fclose(table) != 0 && !failed) {
		failed = 1;
		err_warn("write --results %s", where);
	}
	table = NULL;
	return failed;
}
