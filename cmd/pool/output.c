/* pool: the output modes.
 *
 * Line mode (the default): every job slot has a mux source per stream;
 * whole lines go to pool's stdout or stderr as they arrive, so lines of
 * different jobs never mix.
 *
 * Ordered (-k) and grouped (--group) modes: at most one job, the
 * "streamer", writes through (line by line, via the emit sources); every
 * other job's bytes are spooled in memory in its output record until its
 * turn comes. With -k the streamer is the earliest job in input order that
 * has not been emitted; with --group a job's record is emitted whole when
 * it ends, in completion order. Records live in a ring indexed by job
 * number, so pool never starts a job more than RING jobs ahead of the
 * oldest record not yet emitted.
 *
 * Memory stays bounded: when the spooled bytes reach the budget, a job
 * that may not stream stops being read. Its pipe fills and the job blocks
 * in write(2) until memory frees up or its turn comes. In --group mode the
 * job that hits the budget when nobody streams becomes the streamer (its
 * output is then no longer in one piece, but nothing deadlocks). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "pool.h"

#define OUT_CAP (256 * 1024)
#define LINE_MAX_BYTES ((size_t)16 << 20)
#define SPOOL_READ 65536
#define SPOOL_BUDGET ((size_t)64 << 20)

struct mux_out out_std[2];

static const struct conf *C;
static struct loop *L;
static struct job *jobs;
static long njobs;
static int ordered, hold;
static struct orec *ring;
static unsigned long long W, low = 1, hiseq = 1;
static struct mux_src emit[2];
static struct orec *streamer, *dq_head, *dq_tail;
static size_t spooled;

static void
nomem(int r)
{
	if (r < 0)
		err_diex(EXIT_TOOL, "out of memory");
}

void
out_init(const struct conf *c, struct loop *l, struct job *j, long n)
{
	C = c;
	L = l;
	jobs = j;
	njobs = n;
	ordered = c->keep || c->group;
	/* With --retries the jobs' output is held until they end, so that
	 * a failed attempt's can be dropped (see out_job_retry). */
	hold = c->group || c->retries > 0;
	if (c->ungroup)
		return;
	nomem(mux_out_init(&out_std[0], 1, OUT_CAP));
	nomem(mux_out_init(&out_std[1], 2, OUT_CAP));
	/* After SIGINT, SIGTERM or SIGHUP, output that cannot be written
	 * at once is dropped: a stalled reader must not keep pool (and the
	 * jobs it has to clean up after) waiting. */
	out_std[0].cancel = out_std[1].cancel = loop_interrupted;
	if (!ordered)
		return;     /* the slots' sources are set up on first use */
	W = n * 4 > 1024 ? (unsigned long long)n * 4 : 1024;
	ring = calloc(W, sizeof *ring);
	if (ring == NULL)
		nomem(-1);
	nomem(mux_src_init(&emit[0], &out_std[0], "", "", LINE_MAX_BYTES));
	nomem(mux_src_init(&emit[1], &out_std[1], "", "", LINE_MAX_BYTES));
	/* Only one job at a time writes in these modes, so its bytes go out
	 * exactly as it wrote them (`pool --pipe -k gzip` makes a valid
	 * multi-member gzip file); --tag needs lines to prefix. */
	emit[0].raw = emit[1].raw = !c->tag;
}

static void
set_prefix(struct mux_src *s, const char *tag)
{
	s->prefix = tag ? tag : "";
	s->plen = strlen(s->prefix);
}

/* --tag: the job's items, separated by spaces, and a TAB. */
static void
make_tag(struct job *j)
{
	int i;

	j->tag.len = 0;
	if (hosts_on) {
		const char *h = host_name(j);
		buf_add(&j->tag, h, strlen(h));
		buf_add(&j->tag, "\t", 1);
	}
	for (i = 0; i < j->nitems; i++) {
		const char *s = j->items.p + j->ioff[i];
		if (i > 0)
			buf_add(&j->tag, " ", 1);
		if (C->maxargs != 0)    /* -n 0: the values are empty */
			buf_add(&j->tag, s, strlen(s));
	}
	buf_add(&j->tag, "\t", 2);
}

static int
is_paused(const struct job *j)
{
	return j->paused[0] || j->paused[1];
}

static void
pause_job(struct job *j)
{
	int i;

	for (i = 0; i < 2; i++)
		if (j->fd[i] >= 0 && !j->paused[i]) {
			loop_mod_fd(L, j->fd[i], 0);
			j->paused[i] = 1;
		}
}

static void
resume_job(struct job *j)
{
	int i;

	for (i = 0; i < 2; i++)
		if (j->fd[i] >= 0 && j->paused[i]) {
			loop_mod_fd(L, j->fd[i], LOOP_IN);
			j->paused[i] = 0;
		}
}

/* Pass a record's spooled bytes through the emit sources. */
static void
emit_spool(struct orec *r)
{
	int i;

	for (i = 0; i < 2; i++) {
		emit[i].len = 0;
		emit[i].eof = 0;
		set_prefix(&emit[i], r->tag);
		mux_src_feed(&emit[i], r->spool[i].p, r->spool[i].len);
		spooled -= r->spool[i].len;
		r->spool[i].len = 0;
	}
}

static void
release(struct orec *r)
{
	buf_free(&r->spool[0]);
	buf_free(&r->spool[1]);
	free(r->tag);
	r->tag = NULL;
	r->job = NULL;
	r->next = NULL;
	r->state = REC_FREE;
}

/* A job's output goes out before the next job's starts to: with stdout
 * and stderr on one terminal or file, the stderr still held for one job
 * must not come after the next job's stdout. */
static void
flush_between(void)
{
	if (out_std[1].len > 0)
		(void)out_flush();
}

static void
emit_whole(struct orec *r)
{
	flush_between();
	emit_spool(r);
	mux_src_finish(&emit[0]);
	mux_src_finish(&emit[1]);
	release(r);
}

/* Make R the streamer: what it spooled goes out now, the rest as it
 * comes. */
static void
stream(struct orec *r)
{
	streamer = r;
	flush_between();
	emit_spool(r);
	if (r->job)
		resume_job(r->job);
}

static void
advance(void)
{
	struct orec *r;
	long i;

	if (C->keep) {
		while (low < hiseq) {
			r = &ring[low % W];
			if (r->state == REC_FREE || r->seq != low) {
				low++;
				continue;
			}
			if (r->state == REC_DONE) {
				emit_whole(r);
				low++;
				continue;
			}
			/* The head streams, except with --group or
			 * --retries, where it does so only once it has
			 * hit the budget. */
			if (streamer != r && (!hold || is_paused(r->job)))
				stream(r);
			break;
		}
	} else {
		while (streamer == NULL && dq_head) {
			r = dq_head;
			dq_head = r->next;
			if (dq_head == NULL)
				dq_tail = NULL;
			emit_whole(r);
		}
		for (i = 0; streamer == NULL && i < njobs; i++)
			if (jobs[i].pid && jobs[i].rec && is_paused(&jobs[i]))
				stream(jobs[i].rec);
		while (low < hiseq && (ring[low % W].state == REC_FREE ||
		    ring[low % W].seq != low))
			low++;
	}
	if (spooled < SPOOL_BUDGET)
		for (i = 0; i < njobs; i++)
			if (jobs[i].pid && is_paused(&jobs[i]))
				resume_job(&jobs[i]);
}

void
out_used(long n)
{
	njobs = n;
}

void
out_job_start(struct job *j)
{
	struct orec *r;
	int i;

	if (C->ungroup)
		return;
	if (C->tag)
		make_tag(j);
	if (!ordered) {
		for (i = 0; i < 2; i++) {
			if (j->src[i].buf == NULL)
				nomem(mux_src_init(&j->src[i], &out_std[i], "",
				    "", LINE_MAX_BYTES));
			j->src[i].len = 0;
			j->src[i].eof = 0;
			set_prefix(&j->src[i], C->tag ? j->tag.p : NULL);
		}
		return;
	}
	r = &ring[j->seq % W];
	r->seq = j->seq;
	r->state = REC_RUN;
	r->job = j;
	r->next = NULL;
	if (C->tag && (r->tag = strdup(j->tag.p)) == NULL)
		nomem(-1);
	j->rec = r;
	if (j->seq >= hiseq)
		hiseq = j->seq + 1;
	advance();
}

void
out_job_retag(struct job *j)
{
	int i;

	if (C->ungroup || !C->tag)
		return;
	make_tag(j);
	if (!ordered) {
		for (i = 0; i < 2; i++)
			set_prefix(&j->src[i], j->tag.p);
		return;
	}
	free(j->rec->tag);
	if ((j->rec->tag = strdup(j->tag.p)) == NULL)
		nomem(-1);
}

/* A job that may not stream has filled the memory budget. */
static void
overflow(struct job *j)
{
	struct orec *r = j->rec;
	int may = C->keep ? r->seq == low : 1;

	if (may && streamer == NULL)
		stream(r);
	else
		pause_job(j);
}

static ssize_t
spool_read(struct job *j, int which)
{
	struct buf *b = &j->rec->spool[which];
	ssize_t n;

	buf_reserve(b, SPOOL_READ);
	n = read(j->fd[which], b->p + b->len, b->cap - b->len);
	if (n > 0) {
		b->len += n;
		spooled += n;
		if (spooled >= SPOOL_BUDGET)
			overflow(j);
	}
	return n;
}

/* --slurm: the job's stderr passes through slurm_scan, which looks for
 * srun's reports of a failed node, on its way to where it goes. */
static ssize_t
scan_read(struct job *j, int which)
{
	char tmp[SPOOL_READ];
	struct mux_src *s = !ordered ? &j->src[which] :
	    j->rec == streamer ? &emit[which] : NULL;
	ssize_t n = read(j->fd[which], tmp, sizeof tmp);

	if (n == 0 && s)
		mux_src_finish(s);
	if (n <= 0)
		return n;
	slurm_scan(j, tmp, n);
	if (s) {
		mux_src_feed(s, tmp, n);
		return n;
	}
	buf_add(&j->rec->spool[which], tmp, n);
	spooled += n;
	if (spooled >= SPOOL_BUDGET)
		overflow(j);
	return n;
}

void
out_readable(struct job *j, int which)
{
	int fd = j->fd[which];
	ssize_t n;

	if (slurm_on && which == 1)
		n = scan_read(j, which);
	else if (!ordered)
		n = mux_src_read(&j->src[which], fd);
	else if (j->rec == streamer)
		n = mux_src_read(&emit[which], fd);
	else
		n = spool_read(j, which);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		loop_del_fd(L, fd);
		close(fd);
		j->fd[which] = -1;
		j->paused[which] = 0;
	}
}

void
out_job_retry(struct job *j)
{
	struct orec *r = j->rec;
	int i;

	if (!ordered || r == NULL || r == streamer)
		return;
	for (i = 0; i < 2; i++) {
		spooled -= r->spool[i].len;
		r->spool[i].len = 0;
	}
}

void
out_job_done(struct job *j)
{
	struct orec *r = j->rec;

	if (!ordered || r == NULL)
		return;
	j->rec = NULL;
	r->job = NULL;
	r->state = REC_DONE;
	if (r == streamer) {
		mux_src_finish(&emit[0]);
		mux_src_finish(&emit[1]);
		streamer = NULL;
		release(r);
	} else if (!C->keep) {
		if (dq_tail)
			dq_tail->next = r;
		else
			dq_head = r;
		dq_tail = r;
	}
	advance();
}

int
out_window_full(unsigned long long seq)
{
	return ordered && seq - low >= W;
}

void
out_skip(unsigned long long seq)
{
	if (!ordered)
		return;
	if (seq >= hiseq)
		hiseq = seq + 1;
	advance();
}

int
out_flush(void)
{
	int i;

	if (C->ungroup)
		return 0;
	/* A failure is reported again with empty buffers: flush_between
	 * may have met it. */
	if (out_std[0].len > 0 || out_std[1].len > 0) {
		if (progress_active()) {
			progress_clear();
			for (i = 0; i < 2; i++)
				if (out_std[i].len > 0)
					progress_wrote(i + 1, out_std[i].buf,
					    out_std[i].len);
		}
		mux_out_flush(&out_std[0]);
		mux_out_flush(&out_std[1]);
		if (progress_active())
			progress_redraw();
	}
	return out_std[0].err ? out_std[0].err : out_std[1].err;
}
