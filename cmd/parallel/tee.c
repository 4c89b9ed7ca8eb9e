/* tee: parallel's stdin copied to the stdin of every job (--tee).
 *
 * One chunk of stdin is in memory at a time. Every job's pipe is written
 * (non-blocking) from its own offset into the chunk; the next chunk is
 * read only when every job has taken the whole current one, so the
 * slowest reader sets the pace and memory stays at one chunk. A job whose
 * pipe breaks (it exited or closed its stdin) is dropped and the others
 * go on. A job started later (a restart) joins at the next chunk. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "err.h"
#include "parallel.h"

static struct loop *loop;
static char chunk[65536];
static size_t len;      /* bytes in the chunk; 0: none */
static int pending;     /* jobs that have not taken the whole chunk yet */
static int targets;     /* jobs with a pipe from us */
static int watched;     /* stdin is in the loop (else: always readable) */
static int started, eof;
int tee_error;

static void fill(void);

/* Read the next chunk when the current one is done and someone wants it. */
static void
update(void)
{
	int want = started && !eof && len == 0 && targets > 0;

	if (watched)
		loop_mod_fd(loop, 0, want ? LOOP_IN : 0);
	else if (want)
		fill();
}

static void
on_stdin(struct loop *l, int fd, unsigned events, void *arg)
{
	fill();
}

void
tee_init(struct loop *l)
{
	loop = l;
	/* epoll refuses regular files and /dev/null (EPERM): those are
	 * always readable, and we read them when the chunk is done. */
	if (loop_add_fd(l, 0, LOOP_IN, on_stdin, NULL) == 0) {
		watched = 1;
		loop_mod_fd(l, 0, 0);
	}
	else if (errno != EPERM)
		err_die(EXIT_TOOL, "watch stdin");
	else if (fcntl(0, F_GETFL) < 0)
		err_die(EXIT_TOOL, "stdin");
}

void
tee_start(void)
{
	started = 1;
	update();
}

static void
end_of_input(void)
{
	int i;

	eof = 1;
	if (watched)
		loop_del_fd(loop, 0);
	watched = 0;
	for (i = 0; i < njobs; i++)
		tee_detach(&jobs[i]);
}

static void
fill(void)
{
	ssize_t n = read(0, chunk, sizeof chunk);
	int i;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (n < 0) {
			err_warn("read stdin");
			tee_error = 1;
		}
		end_of_input();
		return;
	}
	len = n;
	pending = 0;
	for (i = 0; i < njobs; i++) {
		if (jobs[i].in < 0)
			continue;
		jobs[i].tee_off = 0;
		loop_mod_fd(loop, jobs[i].in, LOOP_OUT);
		pending++;
	}
	if (watched)
		loop_mod_fd(loop, 0, 0);
}

static void
chunk_taken(void)
{
	if (--pending == 0) {
		len = 0;
		update();
	}
}

static void
on_writable(struct loop *l, int fd, unsigned events, void *arg)
{
	struct job *j = arg;
	ssize_t w = write(fd, chunk + j->tee_off, len - j->tee_off);

	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR)
			tee_detach(j);
		return;
	}
	j->tee_off += w;
	if (j->tee_off == len) {
		loop_mod_fd(loop, fd, 0);
		chunk_taken();
	}
}

int
tee_attach(struct job *j)
{
	int p[2];

	if (eof)
		return -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -2;
	if (fcntl(p[1], F_SETFL, O_NONBLOCK) < 0 ||
	    loop_add_fd(loop, p[1], 0, on_writable, j) < 0) {
		close(p[0]);
		close(p[1]);
		return -2;
	}
	j->in = p[1];
	j->tee_off = len;
	targets++;
	update();
	return p[0];
}

void
tee_detach(struct job *j)
{
	int was_pending;

	if (j->in < 0)
		return;
	was_pending = j->tee_off < len;
	loop_del_fd(loop, j->in);
	close(j->in);
	j->in = -1;
	targets--;
	if (was_pending)
		chunk_taken();
}
