/* queueobj: the queue's shared-memory format (see queueobj.h) and the
 * operations on it. The design is explained at the top of queue.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/falloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "obj.h"
#include "queueobj.h"

enum { R_READY = 1, R_FREE = 2, R_PAD = 3, R_CLAIMED = 0x10000 };
#define R_EXT 0x80000000u   /* in q_rec.len: the record has a q_meta */
/* A slot's state: S_HOLD is S_ACTIVE for claims held while a job runs
 * (queue run) rather than only while they are written out. */
enum { S_IDLE = 0, S_ACTIVE = 1, S_COMMITTED = 2, S_HOLD = 3 };

#define RING_OFF (((sizeof(struct q_shared)) + 4095) & ~(uint64_t)4095)
/* The storage hints came last, into the header's last page: queues made
 * before them have the same layout (and zeros there: not sparse). */
_Static_assert(((offsetof(struct q_shared, sparse) + 4095) & ~(size_t)4095) ==
    RING_OFF, "the storage hints moved the ring");
/* Waking (see "Waking" in queue.c): a getter of one queue (get_msgs)
 * waits on put_seq as a waiter of class W_CHAIN, every other waiter with
 * all bits; a wake of W_OTHER reaches all but the chaining getters. */
#define W_CHAIN 1u
#define W_OTHER 2u
#define FUTEX_BITS_ALL 0xffffffffu
/* What q_unlock wakes on a word (q->wake_get, q->wake_put). */
enum { WAKE_NONE, WAKE_ONE, WAKE_ALL };

static void wait_as(struct queue *, uint32_t *, int, int64_t, uint32_t);
#define PERIODIC_NS (250 * 1000000LL)
#define LOST_WAKE_NS (1000 * 1000000LL)
#define PREFAULT_MIN (32u << 10)
#define PREFAULT_MAX (1u << 20)

static const struct obj_type q_type = { OBJ_QUEUE, Q_VERSION, "queue" };

/* A compiler barrier: stores before it are done before stores after it.
 * No hardware fence is needed: the other processes only look at these
 * words under the mutex, and a killed process's executed stores are
 * never lost; what matters is that the compiler keeps their order. */
#define ORDER() atomic_signal_fence(memory_order_seq_cst)

static void damaged(const struct queue *q, const char *why)
	__attribute__((noreturn));

static void
damaged(const struct queue *q, const char *why)
{
	err_diex(EXIT_TOOL, "%s: damaged queue (%s)", q->o.name, why);
}

int64_t
q_wait_bound(int64_t until)
{
	int64_t t = q_now() + LOST_WAKE_NS;

	return until < 0 || t < until ? t : until;
}

int64_t
q_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint32_t
recsz(uint32_t len, int ext)
{
	return Q_RECHDR + (ext ? Q_EXTSZ : 0) + ((len + 3) & ~3u);
}

/* The message's length, without the R_EXT flag. */
static uint32_t
rec_len(const struct q_rec *r)
{
	return r->len & ~R_EXT;
}

static unsigned char *
rec_data(struct q_rec *r)
{
	return (unsigned char *)(r + 1) + (r->len & R_EXT ? Q_EXTSZ : 0);
}

/* The record's q_meta (zeros if it has none). The extension is only
 * 4-byte aligned: it is copied, never accessed in place. */
static void
rec_meta(const struct q_rec *r, struct q_meta *m)
{
	if (r->len & R_EXT)
		memcpy(m, r + 1, sizeof *m);
	else
		memset(m, 0, sizeof *m);
}

static void
rec_set_meta(struct q_rec *r, const struct q_meta *m)
{
	memcpy(r + 1, m, sizeof *m);
}

static uint64_t
heap_cap_for(uint32_t order, uint64_t max, uint64_t R)
{
	uint64_t cap = R / Q_RECHDR;

	if (order != Q_PRIO)
		return 0;
	return max && max < cap ? max : cap;
}

/* ---- Walking the ring ----
 * Positions are 64-bit and only grow; the byte offset of position P is
 * P % R. A cursor carries both so that a walk needs no division. Fewer
 * than Q_RECHDR bytes before the end of the ring are an implicit pad. */
struct cur {
	uint64_t p, off;
};

static void
cur_fix(const struct queue *q, struct cur *c)
{
	uint64_t room = q->R - c->off;

	if (room < Q_RECHDR) {
		c->p += room;
		c->off = 0;
	}
}

static void
cur_at(const struct queue *q, struct cur *c, uint64_t p)
{
	c->p = p;
	c->off = p % q->R;
	cur_fix(q, c);
}

static void
cur_next(const struct queue *q, struct cur *c, uint32_t sz)
{
	c->p += sz;
	c->off += sz;
	if (c->off == q->R)
		c->off = 0;
	cur_fix(q, c);
}

/* The record at byte offset OFF, checked so that a damaged file stops
 * the tool with a message instead of a crash. */
static struct q_rec *
rec_at(const struct queue *q, uint64_t off)
{
	struct q_rec *r;
	uint32_t st;

	/* OFF comes from the file too (a priority heap entry, a back
	 * link): outside the ring it must not even be added to it. */
	if (off % 4 || off > q->R || q->R - off < Q_RECHDR)
		damaged(q, "bad record length");
	r = (struct q_rec *)(void *)(q->ring + off);
	if (rec_len(r) > q->R - off - Q_RECHDR ||
	    recsz(rec_len(r), r->len & R_EXT) > q->R - off)
		damaged(q, "bad record length");
	st = r->state;
	if (st == R_PAD) {
		if (off + Q_RECHDR + r->len != q->R)
			damaged(q, "bad padding");
	} else if (st != R_READY && st != R_FREE &&
	    !(st >= R_CLAIMED && st < R_CLAIMED + Q_NSLOT))
		damaged(q, "bad record state");
	return r;
}

static uint32_t
rec_size(const struct q_rec *r)
{
	return recsz(rec_len(r), r->len & R_EXT);
}

/* Make the ring's pages from position P on, for LEN bytes but not
 * beyond position LIM (where its storage ends), writable in this process
 * with one system call: touching a fresh page of a shared mapping
 * otherwise costs a page fault, or two (read, then write), and a stream
 * touches every page of the ring once per process. Small batches are
 * left to fault, as that is cheaper for them. */
static void
prefault(struct queue *q, uint64_t p, uint64_t len, uint64_t lim)
{
	uint64_t off, start, stop;

	if (q->pf_total >= q->R || len < PREFAULT_MIN)
		return;
	if (p < q->pf_hi)
		p = q->pf_hi;
	if (len > PREFAULT_MAX)
		len = PREFAULT_MAX;
	if (p >= lim)
		return;
	if (len > lim - p)
		len = lim - p;
	off = p % q->R;
	if (len > q->R - off)
		len = q->R - off;
	start = off & ~(uint64_t)4095;
	stop = (off + len + 4095) & ~(uint64_t)4095;
	if (madvise(q->ring + start, stop - start, MADV_POPULATE_WRITE) < 0 &&
	    errno == EINVAL)
		q->pf_total = q->R; /* an older kernel: do without */
	q->pf_hi = p + len;
	q->pf_total += len;
}

/* ---- Storage ----
 * A queue made with storage allocated as needed (sh->sparse) starts as
 * a hole but for its header (obj_open's PREFIX). A put allocates
 * (fallocate) the ring's pages before it writes there, up to GROW_MAX
 * ahead; a shrink gives back (punches) the pages outside the messages:
 * all but the first KEEP bytes of an empty queue. The hints al_off,
 * al_len and heap_al say what is allocated. They grow only after the
 * fallocate they describe, and shrink before the hole is punched, so a
 * process killed in between leaves them short of the truth (pages
 * allocated and not counted, which the next shrink gives back) and never
 * beyond it: no byte is written where no storage is, which on a full
 * file system would be SIGBUS. The run they describe is where puts
 * write; when the head leaves it (a put back at the start of the ring)
 * a new run starts there, and the pages of the messages left behind stay
 * allocated outside it. A shrink keeps every page that holds a byte of a
 * message (it trims a queue whose messages go round the end of the ring,
 * perhaps with padding between them, only once it has drained) and the
 * heap's entries for every message. A file system that fails an
 * allocation (ENOSPC, a quota) only makes the put stop there
 * (q->nospace). */
#define PG 4096u
#define KEEP (8u << 10)         /* ring bytes an empty queue keeps */
#define GROW_MAX (1u << 20)     /* most bytes allocated ahead at once */
#define SLACK (64u << 10)       /* more than the messages need, kept */
#define IDLE_NS (1000 * 1000000LL) /* a drained queue idle this long shrinks */

static uint64_t
pg_down(uint64_t x)
{
	return x & ~(uint64_t)(PG - 1);
}

static uint64_t
pg_up(uint64_t x)
{
	return (x + PG - 1) & ~(uint64_t)(PG - 1);
}

/* Ring bytes allocated from offset OFF on, going round: UINT64_MAX when
 * all of the ring is; 0 when OFF is where the allocated run ends, or
 * outside it. */
static uint64_t
al_ahead(const struct queue *q, uint64_t off)
{
	const struct q_shared *sh = q->sh;
	uint64_t a = sh->al_off, len = sh->al_len, d;

	if (!q->sparse || len >= q->R)
		return UINT64_MAX;
	if (a >= q->R)
		return 0;
	d = off >= a ? off - a : off + q->R - a;
	return d < len ? len - d : 0;
}

/* fallocate LEN bytes of the file from OFF: allocate them, or with PUNCH
 * give them back. Returns 0, or -1 with errno set. */
static int
falloc(const struct queue *q, int punch, uint64_t off, uint64_t len)
{
	struct sigaction ign, old;
	int r, e;

	if (len == 0)
		return 0;
	/* Under a file size limit below the file's size, tmpfs fails an
	 * allocation with EFBIG after sending SIGXFSZ, whose default
	 * action would kill us: ignore it meanwhile (see obj_open). */
	if (q->fsz_low) {
		memset(&ign, 0, sizeof ign);
		ign.sa_handler = SIG_IGN;
		sigemptyset(&ign.sa_mask);
		sigaction(SIGXFSZ, &ign, &old);
	}
	do
		r = fallocate(q->o.fd, punch ? FALLOC_FL_PUNCH_HOLE |
		    FALLOC_FL_KEEP_SIZE : 0, (off_t)off, (off_t)len);
	while (r < 0 && errno == EINTR);
	if (q->fsz_low) {
		e = errno;
		sigaction(SIGXFSZ, &old, NULL);
		errno = e;
	}
	return r;
}

/* Allocate the N ring bytes from offset A on, going round. */
static int
ring_alloc(const struct queue *q, uint64_t a, uint64_t n)
{
	uint64_t first;

	a %= q->R;
	first = n < q->R - a ? n : q->R - a;
	if (falloc(q, 0, RING_OFF + a, first) < 0)
		return -1;
	return falloc(q, 0, RING_OFF, n - first);
}

/* Keep the pages of the LEN ring bytes from offset OFF (< R) on (going
 * round) and of the heap's entries for the messages there are; give back
 * every other page but the header's. The pages kept are allocated
 * first: they are what the hints say from now on. */
static void
trim(struct queue *q, uint64_t off, uint64_t len)
{
	struct q_shared *sh = q->sh;
	uint64_t R = q->R, a = pg_down(off), heap = RING_OFF + R;
	uint64_t hkeep = (sh->ready + sh->claimed) * sizeof(struct q_hent);
	uint64_t keep[4][2], at, end = pg_up(q->o.size), t0, t1, klen;
	int n = 0, i, j;

	len = len > R ? R : pg_up(len + off - a);
	if (len > R)
		len = R;
	/* What must stay is kept whatever happens; if it cannot be made
	 * sure of (fallocate failed), only the hints say nothing of it. */
	klen = len;
	if (len > 0 && ring_alloc(q, a, len) < 0)
		len = 0;
	if (hkeep > q->hcap * sizeof(struct q_hent))
		hkeep = q->hcap * sizeof(struct q_hent);
	/* Never a moment when the hints say more than is allocated. */
	sh->al_len = 0;
	ORDER();
	sh->al_off = a;
	ORDER();
	sh->al_len = len;
	if (sh->heap_al > hkeep)
		sh->heap_al = hkeep;
	sh->trims++;
	ORDER();
	/* What stays, in file offsets: the header, the ring's run (in two
	 * pieces if it goes round), the heap's entries. */
	keep[n][0] = 0;
	keep[n++][1] = RING_OFF;
	keep[n][0] = RING_OFF + a;
	keep[n++][1] = RING_OFF + (a + klen < R ? a + klen : R);
	if (a + klen > R) {
		keep[n][0] = RING_OFF;
		keep[n++][1] = RING_OFF + (a + klen - R);
	}
	keep[n][0] = heap;
	keep[n++][1] = heap + hkeep;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && keep[j][0] < keep[j - 1][0]; j--) {
			t0 = keep[j][0];
			t1 = keep[j][1];
			keep[j][0] = keep[j - 1][0];
			keep[j][1] = keep[j - 1][1];
			keep[j - 1][0] = t0;
			keep[j - 1][1] = t1;
		}
	/* Punch the whole pages between them (a page that holds a byte to
	 * keep is kept), up to the end of the file's last page. */
	for (at = 0, i = 0; i < n; i++) {
		uint64_t s = pg_down(keep[i][0]), e = pg_up(keep[i][1]);
		if (keep[i][1] <= keep[i][0])
			continue;
		if (s > at)
			(void)falloc(q, 1, at, s - at);
		if (e > at)
			at = e;
	}
	if (end > at)
		(void)falloc(q, 1, at, end - at);
}

/* Allocate the storage for NEED ring bytes from position P (offset OFF)
 * on, which the caller is about to write, and for MORE after them that
 * it may write next (the rest of its batch), or as much again as there
 * is (up to GROW_MAX), whichever is more. Returns the position up to
 * which the ring is allocated from P on: P + NEED or more, or less
 * (q->nospace set) when the file system has no room. */
static uint64_t
grow(struct queue *q, uint64_t p, uint64_t off, uint64_t need,
    uint64_t more)
{
	struct q_shared *sh = q->sh;
	uint64_t R = q->R, d, len, want, to, ahead;

	if (sh->al_off >= R || sh->al_off % PG || sh->al_len > R ||
	    (d = (off + R - sh->al_off) % R) > sh->al_len) {
		/* P lies outside the allocated run: the queue was empty and
		 * starts again at the start of the ring, or went back there
		 * early (early_wrap), or the hints are wrong. A new run
		 * starts at P. The storage of the messages there are stays
		 * (outside the run: the next shrink of the drained queue
		 * gives it back); an empty queue gives the rest back now. */
		uint64_t a = pg_down(off);
		if (sh->head == sh->tail && p == sh->head) {
			trim(q, off, 0);
		} else {
			if (ring_alloc(q, a, off - a) < 0) {
				q->nospace = errno;
				return p;
			}
			sh->al_len = 0;
			ORDER();
			sh->al_off = a;
			ORDER();
			sh->al_len = off - a;
		}
		d = (off + R - sh->al_off) % R;
		if (d > sh->al_len) {   /* wrong hints, and no storage */
			q->nospace = ENOSPC;
			return p;
		}
	}
	len = sh->al_len;
	want = d + need;
	ahead = len < PG ? PG : len > GROW_MAX ? GROW_MAX : len;
	if (more > ahead)
		ahead = more;
	to = want >= R || ahead >= R ? R : pg_up(want + ahead);
	if (to > R)
		to = R;
	if (ring_alloc(q, sh->al_off + len, to - len) < 0) {
		/* Room for what is needed now may be left. */
		to = want > R ? R : want;
		if (to <= len || ring_alloc(q, sh->al_off + len, to - len) < 0) {
			q->nospace = errno;
			return p + (len - d);
		}
	}
	ORDER();
	sh->al_len = to;
	return to >= R ? UINT64_MAX : p + (to - d);
}

/* Room in the heap for N entries: returns how many it has room for now,
 * N or more, or fewer (q->nospace set) when the file system has none. */
static uint64_t
heap_room(struct queue *q, uint64_t n)
{
	struct q_shared *sh = q->sh;
	uint64_t es = sizeof(struct q_hent), cap = q->hcap * es;
	uint64_t have = sh->heap_al, want = n * es, to;

	if (!q->sparse)
		return UINT64_MAX;
	if (have > cap)
		have = sh->heap_al = 0;   /* wrong: say nothing is */
	if (want <= have)
		return have / es;
	to = have < PG ? PG : 2 * have;
	if (to < want)
		to = want;
	if (to > cap)
		to = cap;
	if (falloc(q, 0, RING_OFF + q->R + have, to - have) < 0) {
		to = want;
		if (want > cap || falloc(q, 0, RING_OFF + q->R + have,
		    to - have) < 0) {
			q->nospace = errno;
			return have / es;
		}
	}
	ORDER();
	sh->heap_al = to;
	return to / es;
}

/* A shrink gave pages back: the ones we prefaulted may be gone. */
static void
pf_check(struct queue *q)
{
	if (q->trims != q->sh->trims) {
		q->trims = q->sh->trims;
		q->pf_hi = 0;
		q->pf_total = 0;
	}
}

/* The queue is empty, and its hints say it has more storage than an
 * empty queue keeps. */
static int
idle_big(const struct queue *q)
{
	const struct q_shared *sh = q->sh;

	return q->sparse && sh->head == sh->tail && (sh->al_off != 0 ||
	    sh->al_len > KEEP || sh->heap_al > 0);
}

void
q_shrink(struct queue *q)
{
	struct q_shared *sh = q->sh;
	uint64_t span = sh->head - sh->tail, R = q->R;
	uint64_t hneed = (sh->ready + sh->claimed) * sizeof(struct q_hent);
	struct stat st;
	uint64_t have;

	if (!q->sparse || span > R || fstat(q->o.fd, &st) < 0)
		return;
	if (hneed > q->hcap * sizeof(struct q_hent))
		hneed = q->hcap * sizeof(struct q_hent);
	/* What the file takes (du), against what it needs: the header,
	 * the messages' pages and heap entries, and a few pages that hold
	 * some of either. */
	have = (uint64_t)st.st_blocks * 512;
	if (span == 0) {
		/* Empty: keep the start of the ring, where the next put
		 * goes. */
		if (have > RING_OFF + KEEP + 2 * PG || idle_big(q))
			trim(q, 0, KEEP < R ? KEEP : R);
	} else if (have > RING_OFF + pg_up(span) + hneed + SLACK &&
	    sh->tail / R == (sh->head - 1) / R) {
		/* Messages that go round the end of the ring may have
		 * padding (early_wrap) between them, which needs no storage:
		 * those wait until the queue drains. */
		trim(q, sh->tail % R, span);
	}
}

uint64_t
q_allocated(const struct queue *q)
{
	struct stat st;

	return fstat(q->o.fd, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
}

/* ---- The journal ----
 * A critical section that changes several primary words writes their
 * new values here, commits them with one store of the count, applies
 * them and clears the count. Whoever finds the mutex's owner dead
 * applies a committed journal again: every entry is an absolute value,
 * so applying twice is harmless. */
static void
j_add(struct queue *q, const uint64_t *field, uint64_t val)
{
	struct q_journal *j = &q->sh->j;

	if (q->jn == Q_JMAX)
		damaged(q, "journal overflow");
	j->off[q->jn] = (uint64_t)((const char *)field - (const char *)q->sh);
	j->val[q->jn] = val;
	q->jn++;
}

static void
j_apply(struct queue *q, uint64_t n)
{
	struct q_journal *j = &q->sh->j;
	uint64_t i;

	if (n > Q_JMAX)
		damaged(q, "bad journal");
	for (i = 0; i < n; i++) {
		uint64_t off = __atomic_load_n(&j->off[i], __ATOMIC_RELAXED);

		if (off % 8 || off < offsetof(struct q_shared, j) ||
		    off > sizeof(struct q_shared) - 8)
			damaged(q, "bad journal");
		*(uint64_t *)(void *)((char *)q->sh + off) = j->val[i];
	}
	ORDER();
	j->n = 0;
	q->jn = 0;
}

static void
j_commit(struct queue *q)
{
	ORDER();
	q->sh->j.n = (uint64_t)q->jn;
	ORDER();
	j_apply(q, (uint64_t)q->jn);
}

/* ---- The priority heap (derived state, rebuilt after a crash) ----
 * Order: lower priority value first, then older first. The age of a
 * message is its distance from the tail, which every ready message is
 * at or above. */
static uint64_t
heap_age(const struct queue *q, uint64_t toff, uint32_t off)
{
	return off >= toff ? off - toff : off + q->R - toff;
}

static int
heap_before(const struct queue *q, uint64_t toff, const struct q_hent *a,
    const struct q_hent *b)
{
	if (a->prio != b->prio)
		return a->prio < b->prio;
	return heap_age(q, toff, a->off) < heap_age(q, toff, b->off);
}

static void
heap_push(struct queue *q, int32_t prio, uint64_t off)
{
	struct q_shared *sh = q->sh;
	uint64_t toff = sh->tail % q->R, i = sh->heap_n;
	struct q_hent e = { prio, (uint32_t)off };

	if (i >= q->hcap)
		damaged(q, "priority heap overflow");
	while (i > 0) {
		uint64_t parent = (i - 1) / 2;
		if (!heap_before(q, toff, &e, &q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = e;
	sh->heap_n++;
}

static void
heap_pop(struct queue *q)
{
	struct q_shared *sh = q->sh;
	uint64_t toff = sh->tail % q->R, n = sh->heap_n, i = 0;
	struct q_hent e;

	if (n == 0 || n > q->hcap)
		damaged(q, "bad priority heap");
	sh->heap_n = --n;
	e = q->heap[n];

	for (;;) {
		uint64_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && heap_before(q, toff, &q->heap[c + 1],
		    &q->heap[c]))
			c++;
		if (!heap_before(q, toff, &q->heap[c], &e))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	if (n > 0)
		q->heap[i] = e;
}

/* ---- Tidying: give the space of removed messages back ----
 * The tail moves up over removed messages and padding; the head moves
 * down over removed messages at the top (they are removed out of order
 * in LIFO and priority queues). The new values are journaled together
 * with whatever the caller has already added. */
static void
tidy(struct queue *q)
{
	struct q_shared *sh = q->sh;
	uint64_t head = sh->head, last = sh->last;
	struct cur c;
	struct q_rec *r;

	cur_at(q, &c, sh->tail);
	while (c.p < head) {
		r = rec_at(q, c.off);
		if (r->state != R_FREE && r->state != R_PAD)
			break;
		cur_next(q, &c, rec_size(r));
	}
	if (c.p > head)
		damaged(q, "tail beyond head");
	/* The walk down the back links below starts at the newest message,
	 * which lies between the oldest one left and the head; from a
	 * damaged "last" far above, it would take for ever. */
	if (head > c.p && (last < c.p || last >= head))
		damaged(q, "bad last record");
	while (head > c.p) {
		r = rec_at(q, last % q->R);
		if (r->state != R_FREE)
			break;
		head = last;
		if (r->back == 0 || r->back > last - c.p)
			break;      /* (last - back would wrap below 0) */
		last -= r->back;
	}
	j_add(q, &sh->tail, c.p);
	j_add(q, &sh->head, head);
	j_add(q, &sh->last, last);
	j_commit(q);
	if (sh->order == Q_LIFO && sh->rd != Q_NONE &&
	    (sh->rd >= head || head == sh->tail))
		sh->rd = head == sh->tail ? Q_NONE : last;
	/* New messages go in at the head: a FIFO get must not start
	 * looking above it. */
	if (sh->order == Q_FIFO && sh->rd > head)
		sh->rd = head;
}

/* Turn every record claimed by slot I into NEWSTATE (R_READY: give it
 * back; R_FREE: delivered), keeping the counts right. Idempotent. */
static void
settle(struct queue *q, int i, uint32_t newstate)
{
	struct q_shared *sh = q->sh;
	struct q_slot *s = &sh->slot[i];
	uint32_t mine = R_CLAIMED | (uint32_t)i;
	struct cur c;
	struct q_rec *r;

	if (s->n == 0)
		return;
	if (s->lo < sh->tail || s->hi >= sh->head || s->lo > s->hi)
		damaged(q, "bad claim");
	for (cur_at(q, &c, s->lo); c.p <= s->hi; cur_next(q, &c,
	    rec_size(r))) {
		r = rec_at(q, c.off);
		if (r->state != mine)
			continue;
		r->state = newstate;
		sh->claimed--;
		if (newstate == R_READY) {
			sh->ready++;
			if (sh->order == Q_PRIO)
				heap_push(q, r->prio, c.off);
		} else {
			sh->bytes -= rec_len(r);
			sh->used -= rec_size(r);
		}
	}
	if (newstate == R_READY) {
		if (sh->order == Q_FIFO && sh->rd > s->lo)
			sh->rd = s->lo;
		if (sh->order == Q_LIFO && (sh->rd == Q_NONE || sh->rd < s->hi))
			sh->rd = s->hi;
	}
	s->n = 0;
	s->nbytes = s->nused = 0;
}

/* Slot S's owner died while waiting: it counted itself in getw or putw
 * (together with setting its role, under the lock); uncount it, so that
 * wakers do not make futex calls for nobody for ever after. */
static void
forget_waiter(struct q_shared *sh, struct q_slot *s)
{
	uint32_t *nwait = s->role == Q_WAIT_GET ? &sh->getw : &sh->putw;

	if (s->role != Q_WAIT_NONE && *nwait > 0)
		(*nwait)--;
	s->role = Q_WAIT_NONE;
}

/* Give back what slot I held (locked; we hold the slot's mutex, whose
 * owner has died): claims it had committed are finished, others return
 * to the queue. Returns 1 if anything changed. */
static int
recover_slot(struct queue *q, int i)
{
	struct q_slot *s = &q->sh->slot[i];
	int changed = s->n != 0;

	if (s->state == S_COMMITTED) {
		settle(q, i, R_FREE);
		j_add(q, &s->state, S_IDLE);
		tidy(q);
	} else {
		settle(q, i, R_READY);
		s->state = S_IDLE;
	}
	forget_waiter(q->sh, s);
	s->pid = 0;
	return changed;
}

/* Lock slot I if its owner is gone. Returns 1 (we now hold it) or 0. */
static int
slot_take_dead(struct queue *q, int i)
{
	int e = obj_mutex_trylock(&q->sh->slot[i].m);

	if (e == EOWNERDEAD) {
		pthread_mutex_consistent(&q->sh->slot[i].m);
		return 1;
	}
	return e == 0;
}

/* Every position is a multiple of 4 (records and pads are), and the
 * messages fit between tail and head. */
static int
bad_ends(const struct queue *q)
{
	const struct q_shared *sh = q->sh;

	return sh->tail > sh->head || sh->head - sh->tail > q->R ||
	    (sh->head | sh->tail) % 4 != 0;
}

/* ---- Repair after the mutex holder died ----
 * Replay the journal, find the slots whose owners are gone, then walk
 * the whole ring: claims of the dead are finished (if committed) or
 * given back, and every derived count is recomputed. Each step can be
 * repeated, so a repairer that dies in turn leaves work for the next. */
static void
repair(struct queue *q)
{
	struct q_shared *sh = q->sh;
	unsigned char dead[Q_NSLOT];
	uint64_t last = Q_NONE;
	struct cur c;
	struct q_rec *r;
	uint32_t st;
	int i;

	j_apply(q, sh->j.n);
	if (bad_ends(q))
		damaged(q, "bad head or tail");
	for (i = 0; i < Q_NSLOT; i++)
		dead[i] = i != q->slot && slot_take_dead(q, i);
	sh->ready = sh->claimed = sh->bytes = sh->used = sh->heap_n = 0;
	sh->delayed = 0;
	for (cur_at(q, &c, sh->tail); c.p < sh->head; cur_next(q, &c,
	    rec_size(r))) {
		r = rec_at(q, c.off);
		if (r->state == R_PAD)
			continue;
		last = c.p;
		st = r->state;
		if (st >= R_CLAIMED && st < R_CLAIMED + Q_NSLOT &&
		    dead[st - R_CLAIMED])
			r->state = sh->slot[st - R_CLAIMED].state ==
			    S_COMMITTED ? R_FREE : R_READY;
		if (r->state == R_FREE)
			continue;
		sh->bytes += rec_len(r);
		sh->used += rec_size(r);
		if (r->state == R_READY) {
			struct q_meta m;
			rec_meta(r, &m);
			sh->delayed += m.due != 0;
			sh->ready++;
			if (sh->order == Q_PRIO)
				heap_push(q, r->prio, c.off);
		} else {
			sh->claimed++;
		}
	}
	if (c.p != sh->head)
		damaged(q, "records overrun the head");
	for (i = 0; i < Q_NSLOT; i++) {
		struct q_slot *s = &sh->slot[i];
		if (!dead[i])
			continue;
		s->state = S_IDLE;
		s->n = 0;
		s->nbytes = s->nused = 0;
		forget_waiter(sh, s);
		s->pid = 0;
		pthread_mutex_unlock(&s->m);
	}
	if (last != Q_NONE)
		j_add(q, &sh->last, last);
	tidy(q);
	sh->rd = sh->order == Q_LIFO ?
	    (sh->head == sh->tail ? Q_NONE : sh->last) : sh->tail;
	sh->repairs++;
	q_bump_put(q);
	q_bump_get(q);
}

void
q_lock(struct queue *q)
{
	struct q_shared *sh = q->sh;

	if (obj_lock(&sh->lock))
		repair(q);
	if (bad_ends(q) || sh->j.n != 0)
		damaged(q, "bad head or tail");
}

/* Wake the waiters on WORD as HOW (WAKE_ONE, WAKE_ALL) says. */
static void
wake(uint32_t *word, int how)
{
	if (how == WAKE_ALL) {
		obj_futex_wake(word, INT32_MAX);
	} else if (how == WAKE_ONE) {
		obj_futex_wake_bits(word, INT32_MAX, W_OTHER);
		obj_futex_wake_bits(word, 1, W_CHAIN);
	}
}

void
q_unlock(struct queue *q)
{
	struct q_shared *sh = q->sh;
	int wg = sh->getw ? q->wake_get : 0, wp = sh->putw ? q->wake_put : 0;

	q->wake_get = q->wake_put = 0;
	obj_unlock(&sh->lock);
	wake(&sh->put_seq, wg);
	wake(&sh->get_seq, wp);
}

void
q_bump_put(struct queue *q)
{
	q->sh->put_seq++;
	q->wake_get = WAKE_ALL;
}

/* Something one getter can take came (see "Waking" in queue.c): wake
 * one of the chaining getters, and every other waiter. */
static void
bump_put_one(struct queue *q)
{
	q->sh->put_seq++;
	if (q->wake_get < WAKE_ONE)
		q->wake_get = WAKE_ONE;
}

void
q_bump_get(struct queue *q)
{
	q->sh->get_seq++;
	q->wake_put = WAKE_ALL;
}

/* Messages were taken: wake every putter waiting for room and every
 * joiner, and one pacing putter (q_pace). */
static void
bump_get_one(struct queue *q)
{
	q->sh->get_seq++;
	if (q->wake_put < WAKE_ONE)
		q->wake_put = WAKE_ONE;
}

/* ---- Opening ---- */

struct q_init_arg {
	struct q_settings set;
	char boot[sizeof ((struct q_shared *)0)->boot];
	int sparse;     /* obj_open allocated only the header */
};

static int
q_init(void *map, size_t size, void *arg)
{
	const struct q_init_arg *a = arg;
	const struct q_settings *set = &a->set;
	struct q_shared *sh = map;
	int e, i;

	sh->ring_size = set->size;
	sh->max = set->max;
	sh->order = set->order;
	sh->ring_off = RING_OFF;
	sh->heap_off = RING_OFF + set->size;
	sh->heap_cap = heap_cap_for(set->order, set->max, set->size);
	sh->rd = set->order == Q_LIFO ? Q_NONE : 0;
	sh->sparse = a->sparse != 0;
	memcpy(sh->boot, a->boot, sizeof sh->boot);
	(void)size;
	if ((e = obj_mutex_init(&sh->lock)) != 0)
		goto fail;
	for (i = 0; i < Q_NSLOT; i++)
		if ((e = obj_mutex_init(&sh->slot[i].m)) != 0)
			goto fail;
	return 0;
fail:
	errno = e;
	err_warn("init mutex");
	return -1;
}

/* The kernel's boot id: a robust mutex left locked by a process of an
 * earlier boot (a queue kept on disk) would never be released, so the
 * mutexes are made again when it changes. */
void
q_boot_id(char *buf, size_t len)
{
	static char id[sizeof ((struct q_shared *)0)->boot];
	static int have;
	ssize_t n = -1;
	int fd;

	if (!have) {
		fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY |
		    O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, id, sizeof id - 1);
			close(fd);
		}
		id[n > 0 ? n : 0] = '\0';
		have = 1;
	}
	snprintf(buf, len, "%s", id);
}

static int
after_reboot(struct queue *q, const char *boot)
{
	struct q_shared *sh = q->sh;
	int i;

	/* flock serialises the processes that notice the new boot; the
	 * boot id is stored last, so whoever sees it current also sees
	 * working mutexes. */
	if (flock(q->o.fd, LOCK_EX) < 0) {
		err_warn("%s: lock file", q->o.name);
		return -1;
	}
	if (strncmp(sh->boot, boot, sizeof sh->boot) != 0) {
		obj_mutex_init(&sh->lock);
		for (i = 0; i < Q_NSLOT; i++)
			obj_mutex_init(&sh->slot[i].m);
		obj_lock(&sh->lock);
		repair(q);
		q_unlock(q);
		ORDER();
		snprintf(sh->boot, sizeof sh->boot, "%s", boot);
	}
	flock(q->o.fd, LOCK_UN);
	return 0;
}

int
q_attach(struct queue *q, const struct obj *o)
{
	struct q_shared *sh = o->map;
	char boot[sizeof sh->boot];
	struct rlimit fsz;
	uint64_t R;

	memset(q, 0, sizeof *q);
	q->o = *o;
	q->slot = -1;
	q->sh = sh;
	R = sh->ring_size;
	if (o->size < RING_OFF || sh->ring_off != RING_OFF ||
	    R < Q_SIZE_MIN || R > Q_SIZE_MAX || R % 16 || sh->order > Q_PRIO ||
	    sh->max > Q_MAX_MAX || sh->heap_off != RING_OFF + R ||
	    sh->heap_cap != heap_cap_for(sh->order, sh->max, R) ||
	    o->size != sh->heap_off + sh->heap_cap * sizeof(struct q_hent)) {
		err_warnx("%s: damaged queue (bad layout)", o->name);
		return -1;
	}
	q->R = R;
	q->hcap = (o->size - RING_OFF - R) / sizeof(struct q_hent);
	q->ring = (unsigned char *)o->map + RING_OFF;
	q->heap = (struct q_hent *)(void *)((char *)o->map + sh->heap_off);
	q->maxmsg = R - Q_RECHDR < Q_MSG_MAX ? (uint32_t)(R - Q_RECHDR) :
	    Q_MSG_MAX;
	q->sparse = sh->sparse == 1;
	q->trims = sh->trims;
	q->fsz_low = getrlimit(RLIMIT_FSIZE, &fsz) == 0 &&
	    fsz.rlim_cur != RLIM_INFINITY && fsz.rlim_cur < o->size;
	q_boot_id(boot, sizeof boot);
	if (strncmp(sh->boot, boot, sizeof boot) != 0)
		return after_reboot(q, boot);
	return 0;
}

int
q_open(struct queue *q, const char *name, const struct q_settings *s)
{
	struct obj o;
	struct obj_create c = { 0 };
	struct q_init_arg a;

	if (s) {
		a.set = *s;
		c.size = RING_OFF + s->size + heap_cap_for(s->order, s->max,
		    s->size) * sizeof(struct q_hent);
		c.mode = s->mode;
		c.init = q_init;
		c.arg = &a;
		/* Only the header has storage at first (Storage, above). */
		c.prefix = RING_OFF;
		c.sparse = &a.sparse;
		/* The boot id goes in before the object is published, or
		 * an early opener would make the mutexes again under us. */
		q_boot_id(a.boot, sizeof a.boot);
	}
	if (obj_open(&o, name, &q_type, s ? &c : NULL) < 0)
		return -1;
	if (q_attach(q, &o) < 0) {
		obj_close(&o);
		return -1;
	}
	return 0;
}

void
q_close(struct queue *q)
{
	if (q->changed && q->sparse && q->sh) {
		q_lock(q);
		q_shrink(q);
		q_unlock(q);
	}
	obj_close(&q->o);
}

void
q_settings_of(const struct queue *q, struct q_settings *s)
{
	s->size = q->R;
	s->max = q->sh->max;
	s->order = q->sh->order;
	s->mode = q->sh->obj.mode;
}

/* ---- Slots ---- */

/* Take a free slot among the N slots from LO on. */
static int
slot_get_in(struct queue *q, int lo, int n)
{
	struct q_shared *sh = q->sh;
	int i, k, start = (int)(getpid() % n);

	if (q->slot >= 0)
		return 0;
	for (k = 0; k < n; k++) {
		i = lo + (start + k) % n;
		if (!slot_take_dead(q, i))
			continue;
		/* A free slot is clean, unless its owner died: then its
		 * claims go back before we reuse it. */
		if (recover_slot(q, i)) {
			q_bump_put(q);
			q_bump_get(q);
		}
		sh->slot[i].pid = (int32_t)getpid();
		q->slot = i;
		return 0;
	}
	return -1;
}

int
q_slot_get(struct queue *q)
{
	return slot_get_in(q, 0, Q_NSLOT);
}

/* Waiting putters and joiners take slots only to show up in stat. They
 * keep to the upper half of the table: were they to fill every slot,
 * no getter could claim the message that would let them go on. */
int
q_slot_get_waiter(struct queue *q)
{
	return slot_get_in(q, Q_NSLOT / 2, Q_NSLOT - Q_NSLOT / 2);
}

void
q_slot_put(struct queue *q)
{
	struct q_slot *s;

	if (q->slot < 0)
		return;
	s = &q->sh->slot[q->slot];
	s->role = Q_WAIT_NONE;
	s->pid = 0;
	s->state = S_IDLE;
	pthread_mutex_unlock(&s->m);
	q->slot = -1;
}

/* Give back what dead processes held; QUICK: only those the kernel has
 * marked dead. */
static int
reap(struct queue *q, int quick)
{
	struct q_shared *sh = q->sh;
	int i, n = 0, e;

	for (i = 0; i < Q_NSLOT; i++) {
		struct q_slot *s = &sh->slot[i];
		if (i == q->slot || (s->state == S_IDLE && s->n == 0 &&
		    s->role == Q_WAIT_NONE))
			continue;
		if (quick) {
			/* No look at a live-looking holder's thread (a
			 * system call per busy slot). */
			e = pthread_mutex_trylock(&s->m);
			if (e == EOWNERDEAD)
				pthread_mutex_consistent(&s->m);
			else if (e != 0)
				continue;
		} else if (!slot_take_dead(q, i)) {
			continue;
		}
		n += recover_slot(q, i);
		pthread_mutex_unlock(&s->m);
	}
	if (n) {
		q_bump_put(q);
		q_bump_get(q);
	}
	return n;
}

int
q_reap(struct queue *q)
{
	return reap(q, 0);
}

int
q_reap_quick(struct queue *q)
{
	return reap(q, 1);
}

unsigned
q_count_waiting(struct queue *q, int role)
{
	unsigned i, n = 0;

	/* Dead waiters have been reaped (q_reap) by the caller. */
	for (i = 0; i < Q_NSLOT; i++)
		if ((int)i != q->slot && q->sh->slot[i].role == (uint32_t)role)
			n++;
	return n;
}

/* ---- Putting ---- */

static void
write_pad(struct queue *q, uint64_t off, uint64_t room)
{
	struct q_rec *r = (struct q_rec *)(void *)(q->ring + off);

	r->len = (uint32_t)(room - Q_RECHDR);
	r->state = R_PAD;
	r->back = 0;
	r->prio = 0;
}

/* A stream whose getters keep up holds little at any time, and could
 * hold it in the first MiB or so of the ring; walking through all of the
 * ring instead makes every process touch every page of it, and touching
 * a page for the first time costs each process a fault (several
 * microseconds on a virtual machine), besides the cache misses. So a put
 * goes back to the start of the ring early (the rest of the ring
 * becomes padding) when the head has passed WRAP_AT, the queue holds
 * less than WRAP_AT / 2 and the whole batch fits in front of its tail,
 * and getters are at work: some hold claims, none of them while a job
 * runs (queue run), so that the tail passes the padding as soon as the
 * messages before it are written out. (An empty queue goes back to the
 * start anyway.) Putters help by pacing themselves (q_pace). */
#define WRAP_AT (1u << 20)
#define PACE_HI (256u << 10)    /* a putter paces itself above this... */
#define PACE_NS (10 * 1000000LL) /* ... for at most this long a wait, */
#define PACE_STUCK_NS (100 * 1000000LL) /* and not when the getters took
                                         * nothing for this long */

/* Whether some claim is held while a job runs (queue run). */
static int
held_claims(const struct q_shared *sh)
{
	int i;

	for (i = 0; i < Q_NSLOT; i++)
		if (sh->slot[i].state == S_HOLD && sh->slot[i].n > 0)
			return 1;
	return 0;
}

/* Whether getters are at work: waiting for messages, or holding claims
 * only while they write them out. */
static int
getters_busy(const struct q_shared *sh)
{
	if (sh->claimed == 0)
		return sh->getw > 0;
	return !held_claims(sh);
}

/* Whether a put at C of M[0..N) goes back to the start of the ring now
 * (see above). */
static int
early_wrap(const struct queue *q, const struct cur *c, const struct q_msg *m,
    size_t n, int ext)
{
	const struct q_shared *sh = q->sh;
	uint64_t inq = c->p - sh->tail, front, want = 0;
	size_t k;

	if (c->off < WRAP_AT || inq >= WRAP_AT / 2 || sh->claimed == 0)
		return 0;
	front = c->off - inq;
	for (k = 0; k < n && want <= front; k++)
		want += recsz(m[k].len, ext);
	return want <= front && !held_claims(sh);
}

int
q_pace(struct queue *q, int64_t deadline)
{
	struct q_shared *sh = q->sh;
	uint64_t inq = sh->head - sh->tail;
	int64_t now, until;

	if (inq < PACE_HI / 2)
		q->nopace = 0;
	if (q->nopace || inq < PACE_HI || !getters_busy(sh))
		return 0;
	now = q_now();
	if (q->pace_since == 0 || sh->get_seq != q->pace_seq) {
		q->pace_seq = sh->get_seq;
		q->pace_since = now;
	}
	/* A put with -t whose time is up does not pace: it would only spin
	 * on the lock. */
	if (deadline >= 0 && deadline <= now)
		return 0;
	until = now + PACE_NS;
	if (deadline >= 0 && deadline < until)
		until = deadline;
	/* With a slot, as a putter waiting for room: if we die waiting,
	 * whoever reaps the slot uncounts us from putw (forget_waiter). A
	 * pacer waits as a chaining waiter: a get wakes one of them (it
	 * makes room for about one batch), and every pacer looks again
	 * after PACE_NS anyway. */
	(void)q_slot_get_waiter(q);
	wait_as(q, &sh->get_seq, Q_WAIT_PUT, until, W_CHAIN);
	/* The getters took nothing in all that time: they are stuck (a
	 * reader that does not read), and the queue is here to hold what
	 * they cannot take yet. Not after one wait: with many processes on
	 * few processors, getters that are only waiting for a processor
	 * take nothing for milliseconds at a time. */
	if (sh->get_seq == q->pace_seq && q_now() - q->pace_since >=
	    PACE_STUCK_NS)
		q->nopace = 1;
	return 1;
}

/* Append M[0..N) (see q_insert). REPLACING: one claimed message is to
 * go in the same commit (q_requeue), so it does not count against --max,
 * and the messages are not new puts. */
static size_t
insert(struct queue *q, const struct q_msg *m, size_t n, int32_t prio,
    const struct q_meta *meta, int replacing)
{
	struct q_shared *sh = q->sh;
	uint64_t R = q->R, tail, last = sh->last;
	uint64_t count = sh->ready + sh->claimed - (replacing ? 1 : 0);
	int ext = meta != NULL;
	struct cur c;
	size_t k, pf_upto = 0;  /* messages below it counted for prefault */
	uint64_t al_hi, h_room, trims;

	q->nospace = 0;
	pf_check(q);
	/* An empty queue starts again at the start of the ring, so that
	 * any message up to R - 16 bytes fits into it. */
	if (sh->head == sh->tail && sh->tail % R != 0) {
		tail = sh->tail + (R - sh->tail % R);
		j_add(q, &sh->tail, tail);
		j_add(q, &sh->head, tail);
		j_commit(q);
	}
	tail = sh->tail;
	cur_at(q, &c, sh->head);
	/* The padding's header must have storage (Storage, above). */
	if (al_ahead(q, c.off) >= Q_RECHDR && early_wrap(q, &c, m, n, ext)) {
		write_pad(q, c.off, R - c.off);
		cur_next(q, &c, (uint32_t)(R - c.off));
	}
	/* Positions below al_hi have storage; so have heap entries below
	 * h_room (Storage, above). */
	al_hi = al_ahead(q, c.off);
	al_hi = al_hi > UINT64_MAX - c.p ? UINT64_MAX : c.p + al_hi;
	h_room = sh->order == Q_PRIO ? heap_room(q, 0) : UINT64_MAX;
	trims = sh->trims;
	for (k = 0; k < n; k++) {
		uint32_t len = m[k].len, sz = recsz(len, ext);
		uint64_t room = R - c.off, need = sz;
		struct q_rec *r;

		if ((sh->max && count >= sh->max) || len > q->maxmsg ||
		    (ext && len > q_maxmsg_meta(q)))
			break;
		if (sz > room)
			need += room;
		if (c.p - tail + need > R)
			break;
		/* Each message is counted once: prefault may leave pf_hi
		 * where it was (a short batch, the whole ring done), and
		 * summing the batch again for every message made a put
		 * into a full ring quadratic. The batch gets its storage
		 * at once, before it is prefaulted. */
		if (k >= pf_upto && (c.p + need > al_hi ||
		    (c.p + sz > q->pf_hi && q->pf_total < R))) {
			uint64_t want = need - sz;
			size_t i;
			for (i = k; i < n && want < PREFAULT_MAX; i++)
				want += recsz(m[i].len, ext);
			pf_upto = i;
			if (c.p + want > al_hi)
				al_hi = grow(q, c.p, c.off, need, want - need);
			prefault(q, c.p, want, al_hi);
		}
		if (c.p + need > al_hi)
			al_hi = grow(q, c.p, c.off, need, 0);
		if (c.p + need > al_hi)
			break;
		/* A grow may have trimmed the heap (an empty queue's new
		 * run): what it has room for is asked again. */
		if (sh->order == Q_PRIO && sh->trims != trims)
			h_room = heap_room(q, 0), trims = sh->trims;
		if (count >= h_room && (h_room = heap_room(q, count + 1)) <=
		    count)
			break;
		if (sz > room) {
			write_pad(q, c.off, room);
			cur_next(q, &c, (uint32_t)room);
		}
		r = (struct q_rec *)(void *)(q->ring + c.off);
		r->len = len | (ext ? R_EXT : 0);
		r->state = R_READY;
		r->back = count ? (uint32_t)(c.p - last) : 0;
		r->prio = prio;
		if (ext) {
			rec_set_meta(r, meta);
			sh->delayed += meta->due != 0;
		}
		memcpy(rec_data(r), m[k].data, len);
		if (sh->order == Q_PRIO)
			heap_push(q, prio, c.off);
		last = c.p;
		count++;
		sh->ready++;
		sh->bytes += len;
		sh->used += sz;
		cur_next(q, &c, sz);
	}
	if (k == 0)
		return 0;
	q->changed = 1;
	/* The messages are in place above the head; moving the head is
	 * what publishes them. */
	j_add(q, &sh->head, c.p);
	j_add(q, &sh->last, last);
	if (!replacing)
		j_add(q, &sh->puts, sh->puts + k);
	j_commit(q);
	if (sh->order == Q_LIFO)
		sh->rd = last;
	/* Every waiter must learn a delayed message's due time. */
	if (ext && meta->due != 0)
		q_bump_put(q);
	else
		bump_put_one(q);
	return k;
}

size_t
q_insert(struct queue *q, const struct q_msg *m, size_t n, int32_t prio,
    const struct q_meta *meta)
{
	return insert(q, m, n, prio, meta, 0);
}

uint32_t
q_maxmsg_meta(const struct queue *q)
{
	return q->maxmsg > q->R - Q_RECHDR - Q_EXTSZ ?
	    (uint32_t)(q->R - Q_RECHDR - Q_EXTSZ) : q->maxmsg;
}

/* ---- Getting ---- */

static int
out_reserve(struct q_out *out, size_t need)
{
	size_t cap = out->cap ? out->cap : 65536;
	char *nb;

	if (out->len + need <= out->cap)
		return 0;
	while (cap < out->len + need)
		cap *= 2;
	if ((nb = realloc(out->buf, cap)) == NULL)
		return -1;
	out->buf = nb;
	out->cap = cap;
	return 0;
}

/* Room in OUT to note one more message taken. */
static int
out_reserve_took(struct q_out *out)
{
	size_t cap = out->ncap ? 2 * out->ncap : 4096;
	uint64_t *np;
	size_t *ne;

	if (out->n < out->ncap)
		return 0;
	if ((np = realloc(out->pos, cap * sizeof *np)) == NULL)
		return -1;
	out->pos = np;
	if ((ne = realloc(out->end, cap * sizeof *ne)) == NULL)
		return -1;
	out->end = ne;
	out->ncap = cap;
	return 0;
}

/* Claim the record R at position P for our slot, copying it to OUT. */
static void
take(struct queue *q, struct q_rec *r, uint64_t p, struct q_out *out,
    char term)
{
	struct q_shared *sh = q->sh;
	struct q_slot *s = &sh->slot[q->slot];
	uint64_t off = (uint64_t)((unsigned char *)r - q->ring);
	uint32_t raw = __atomic_load_n(&r->len, __ATOMIC_RELAXED);
	uint32_t len = raw & ~R_EXT;
	int ext = (raw & R_EXT) != 0;

	/* Read once and checked again: rec_at's look is not ours to keep. */
	if (recsz(len, ext) > q->R - off)
		damaged(q, "bad record length");
	if (ext) {
		rec_meta(r, &q->meta);
		if (q->meta.due != 0) {
			/* Due now: it counts as delayed no longer. */
			q->meta.due = 0;
			rec_set_meta(r, &q->meta);
			if (sh->delayed > 0)
				sh->delayed--;
		}
	} else {
		memset(&q->meta, 0, sizeof q->meta);
	}
	if (q->want_meta && q->meta.id == 0)
		q->meta.id = ++sh->ids;
	size_t tl = q->tag ? strlen(q->tag) : 0;

	if (out_reserve(out, (size_t)len + 32 + tl) < 0 ||
	    out_reserve_took(out) < 0)
		err_die(EXIT_TOOL, "%s: out of memory", q->o.name);
	if (tl) {
		memcpy(out->buf + out->len, q->tag, tl);
		out->len += tl;
	}
	if (q->print_meta)
		out->len += (size_t)snprintf(out->buf + out->len, 32,
		    "%" PRIu32 "\t%" PRId32 "\t", q->meta.attempt,
		    q->meta.status);
	memcpy(out->buf + out->len, (unsigned char *)(r + 1) +
	    (ext ? Q_EXTSZ : 0), len);
	out->len += len;
	out->buf[out->len++] = term;
	out->pos[out->n] = p;
	out->end[out->n++] = out->len;
	if (s->n == 0 || p < s->lo)
		s->lo = p;
	if (s->n == 0 || p > s->hi)
		s->hi = p;
	s->n++;
	s->nbytes += len;
	s->nused += recsz(len, ext);
	r->state = R_CLAIMED | (uint32_t)q->slot;
	sh->ready--;
	sh->claimed++;
}

/* A ready record R that is not due yet at NOW (CLOCK_REALTIME ns, 0:
 * nothing is delayed) stays where it is; q->next_due learns its time. */
static int
hidden(struct queue *q, const struct q_rec *r, int64_t now)
{
	struct q_meta m;

	if (now == 0 || !(r->len & R_EXT))
		return 0;
	rec_meta(r, &m);
	if (m.due <= now)
		return 0;
	if (q->next_due == 0 || m.due < q->next_due)
		q->next_due = m.due;
	return 1;
}

static size_t
claim_fifo(struct queue *q, size_t maxn, size_t maxbytes, struct q_out *out,
    char term, int64_t now)
{
	struct q_shared *sh = q->sh;
	struct q_slot *s = &sh->slot[q->slot];
	uint64_t skipped = Q_NONE;
	struct cur c;
	struct q_rec *r;
	size_t k = 0;

	cur_at(q, &c, sh->rd > sh->tail ? sh->rd : sh->tail);
	while (c.p < sh->head && k < maxn) {
		if (c.p + Q_RECHDR > q->pf_hi && q->pf_total < q->R)
			prefault(q, c.p, sh->head - c.p < maxbytes ?
			    sh->head - c.p : maxbytes, sh->head);
		r = rec_at(q, c.off);
		if (r->state == R_READY && hidden(q, r, now)) {
			/* The tail must not move past it (q_commit). */
			if (skipped == Q_NONE)
				skipped = c.p;
			s->contig = 0;
		} else if (r->state == R_READY) {
			if (k && out->len + rec_len(r) + 1 > maxbytes)
				break;
			take(q, r, c.p, out, term);
			k++;
		} else if (k && r->state >= R_CLAIMED) {
			s->contig = 0;
		}
		cur_next(q, &c, rec_size(r));
	}
	sh->rd = skipped != Q_NONE ? skipped : c.p;
	return k;
}

static size_t
claim_lifo(struct queue *q, size_t maxn, size_t maxbytes, struct q_out *out,
    char term, int64_t now)
{
	struct q_shared *sh = q->sh;
	uint64_t p = sh->rd, off, skipped = Q_NONE;
	struct q_rec *r;
	size_t k = 0;

	if (p == Q_NONE || p < sh->tail || p >= sh->head)
		p = sh->head == sh->tail ? Q_NONE : sh->last;
	if (p == Q_NONE)
		return 0;
	if (p < sh->tail || p >= sh->head)
		damaged(q, "bad last record");
	off = p % q->R;
	while (k < maxn) {
		r = rec_at(q, off);
		if (r->state == R_READY && hidden(q, r, now)) {
			if (skipped == Q_NONE)
				skipped = p;
		} else if (r->state == R_READY) {
			if (k && out->len + rec_len(r) + 1 > maxbytes)
				break;
			take(q, r, p, out, term);
			k++;
		}
		if (r->back == 0 || r->back > p - sh->tail) {
			p = Q_NONE;
			break;
		}
		p -= r->back;
		off = off >= r->back ? off - r->back : off + q->R - r->back;
	}
	sh->rd = skipped != Q_NONE ? skipped : p;
	return k;
}

static size_t
claim_prio(struct queue *q, size_t maxn, size_t maxbytes, struct q_out *out,
    char term)
{
	struct q_shared *sh = q->sh;
	size_t k = 0;

	if (sh->heap_n > q->hcap)
		damaged(q, "bad priority heap");
	while (k < maxn && sh->heap_n > 0) {
		uint64_t off = q->heap[0].off, toff = sh->tail % q->R;
		struct q_rec *r = rec_at(q, off);

		if (r->state != R_READY)
			damaged(q, "priority heap out of step");
		if (k && out->len + rec_len(r) + 1 > maxbytes)
			break;
		heap_pop(q);
		take(q, r, sh->tail + heap_age(q, toff, (uint32_t)off), out,
		    term);
		k++;
	}
	return k;
}

size_t
q_claim(struct queue *q, size_t maxn, size_t maxbytes, struct q_out *out,
    char term)
{
	struct q_shared *sh = q->sh;
	struct q_slot *s = &sh->slot[q->slot];
	size_t k;

	/* Priority queues take no delayed messages (refused at put). */
	int64_t now = sh->delayed > 0 ? q_realtime() : 0;

	q->next_due = 0;
	out->n = 0;
	if (sh->ready == 0)
		return 0;
	pf_check(q);
	if (s->n != 0)
		damaged(q, "claim over claim");
	s->state = q->hold ? S_HOLD : S_ACTIVE;
	s->contig = 1;
	switch (sh->order) {
	case Q_LIFO:
		k = claim_lifo(q, maxn, maxbytes, out, term, now);
		break;
	case Q_PRIO:
		k = claim_prio(q, maxn, maxbytes, out, term);
		break;
	default:
		k = claim_fifo(q, maxn, maxbytes, out, term, now);
		break;
	}
	/* The chain (see "Waking" in queue.c): what we leave is for the
	 * next getter. */
	if (k > 0 && sh->ready > sh->delayed && sh->getw > 0)
		bump_put_one(q);
	return k;
}

/* Remove the messages our slot claimed; TASKS: count them as tasks to
 * be done (queue done, join). */
static void
commit(struct queue *q, int tasks)
{
	struct q_shared *sh = q->sh;
	struct q_slot *s;
	uint64_t k;

	if (q->slot < 0 || (s = &sh->slot[q->slot])->n == 0)
		return;
	k = s->n;
	q->changed = 1;
	if (tasks)
		j_add(q, &sh->undone, sh->undone + k);
	j_add(q, &sh->gets, sh->gets + k);
	if (sh->order == Q_FIFO && s->contig && s->lo == sh->tail) {
		/* The usual case: our messages are the oldest, in one run.
		 * Moving the tail past them removes them all at once. */
		struct cur c;
		cur_at(q, &c, s->hi);
		cur_next(q, &c, rec_size(rec_at(q, c.off)));
		j_add(q, &sh->tail, c.p);
		j_add(q, &s->state, S_IDLE);
		j_commit(q);
		sh->claimed -= k;
		sh->bytes -= s->nbytes;
		sh->used -= s->nused;
		s->n = 0;
		s->nbytes = s->nused = 0;
		tidy(q);
	} else {
		/* Record the commit first: if we die while freeing, the
		 * repair finishes the job instead of redelivering. */
		j_add(q, &s->state, S_COMMITTED);
		j_commit(q);
		settle(q, q->slot, R_FREE);
		j_add(q, &s->state, S_IDLE);
		tidy(q);
	}
	bump_get_one(q);
}

void
q_commit(struct queue *q)
{
	commit(q, 1);
}

void
q_ack(struct queue *q)
{
	commit(q, 0);
}

/* The one record our slot claimed. */
static struct q_rec *
claimed_rec(struct queue *q)
{
	struct q_shared *sh = q->sh;
	struct q_slot *s = &sh->slot[q->slot];
	struct q_rec *r;

	if (s->n != 1 || s->lo != s->hi || s->lo < sh->tail ||
	    s->lo >= sh->head)
		damaged(q, "bad claim");
	r = rec_at(q, s->lo % q->R);
	if (r->state != (R_CLAIMED | (uint32_t)q->slot))
		damaged(q, "bad claim");
	return r;
}

const void *
q_claimed_msg(struct queue *q, uint32_t *len)
{
	struct q_rec *r = claimed_rec(q);

	*len = rec_len(r);
	return rec_data(r);
}

int
q_requeue(struct queue *q, const struct q_meta *meta)
{
	struct q_shared *sh = q->sh;
	struct q_slot *s = &sh->slot[q->slot];
	struct q_rec *r = claimed_rec(q);
	struct q_msg m = { (const char *)rec_data(r), rec_len(r) };

	/* The copy goes above the head, never over the claimed record. Its
	 * publication (the head's move) and our slot's "committed" mark
	 * are one journal commit: a repair then frees the old record. */
	j_add(q, &s->state, S_COMMITTED);
	if (insert(q, &m, 1, r->prio, meta, 1) == 0) {
		q->jn = 0;
		return 0;
	}
	settle(q, q->slot, R_FREE);
	j_add(q, &s->state, S_IDLE);
	tidy(q);
	q_bump_get(q);
	return 1;
}

uint64_t
q_count_delayed(struct queue *q)
{
	struct q_shared *sh = q->sh;
	int64_t now;
	uint64_t n = 0;
	struct cur c;
	struct q_rec *r;

	if (sh->delayed == 0)
		return 0;
	now = q_realtime();
	for (cur_at(q, &c, sh->tail); c.p < sh->head; cur_next(q, &c,
	    rec_size(r))) {
		struct q_meta m;
		r = rec_at(q, c.off);
		if (r->state != R_READY)
			continue;
		rec_meta(r, &m);
		n += m.due > now;
	}
	return n;
}

int64_t
q_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t
q_due_mono(int64_t due)
{
	int64_t left = due - q_realtime();

	return q_now() + (left > 0 ? left : 0);
}

void
q_unclaim(struct queue *q)
{
	if (q->slot < 0)
		return;
	settle(q, q->slot, R_READY);
	q->sh->slot[q->slot].state = S_IDLE;
	q_bump_put(q);
}

void
q_unclaim_after(struct queue *q, const struct q_out *out, size_t k)
{
	struct q_shared *sh = q->sh;
	struct q_slot *s;
	uint32_t mine = R_CLAIMED | (uint32_t)q->slot;
	size_t i;

	if (q->slot < 0 || k >= out->n)
		return;
	s = &sh->slot[q->slot];
	if (s->n != out->n)
		damaged(q, "bad claim");
	for (i = k; i < out->n; i++) {
		uint64_t p = out->pos[i];
		struct q_rec *r;
		if (p < s->lo || p > s->hi)
			damaged(q, "bad claim");
		r = rec_at(q, p % q->R);
		if (r->state != mine)
			damaged(q, "bad claim");
		r->state = R_READY;
		sh->claimed--;
		sh->ready++;
		s->n--;
		s->nbytes -= rec_len(r);
		s->nused -= rec_size(r);
		if (sh->order == Q_PRIO)
			heap_push(q, r->prio, p % q->R);
		if (sh->order == Q_FIFO && sh->rd > p)
			sh->rd = p;
		if (sh->order == Q_LIFO && (sh->rd == Q_NONE || sh->rd < p))
			sh->rd = p;
	}
	/* The claims left are no longer one run up to s->hi: commit must
	 * free them one by one rather than move the tail over them. */
	s->contig = 0;
	if (s->n == 0)
		s->state = S_IDLE;
	q_bump_put(q);
}

/* ---- Waiting ---- */

/* q_wait as a waiter of class BITS (see "Waking" in queue.c). */
static void
wait_as(struct queue *q, uint32_t *word, int role, int64_t deadline,
    uint32_t bits)
{
	struct q_shared *sh = q->sh;
	uint32_t seen = *word, *nwait = word == &sh->put_seq ? &sh->getw :
	    &sh->putw;
	int64_t until = deadline, idle = -1, t;

	/* A dead getter cannot wake anybody: while messages are claimed
	 * (or we wait for a slot), look again every 250 ms; and a process
	 * killed between giving back the lock and waking us (q_unlock)
	 * did not, nor a chaining getter woken in our place that died
	 * before it looked (see "Waking" in queue.c): look again every
	 * second anyway. */
	t = q_now() + (sh->claimed > 0 || (role == Q_WAIT_GET && q->slot < 0) ?
	    PERIODIC_NS : LOST_WAKE_NS);
	if (until < 0 || t < until)
		until = t;
	/* A getter waiting on a drained queue gives its storage back once
	 * nothing came for IDLE_NS: not at once, so that a stream whose
	 * consumer keeps up keeps its pages. */
	if (role == Q_WAIT_GET && idle_big(q)) {
		idle = q_now() + IDLE_NS;
		if (until < 0 || idle < until)
			until = idle;
	}
	(*nwait)++;
	if (q->slot >= 0)
		sh->slot[q->slot].role = (uint32_t)role;
	q_unlock(q);
	obj_futex_wait_bits(word, seen, until, bits);
	q_lock(q);
	if (*nwait > 0)
		(*nwait)--;
	if (q->slot >= 0)
		sh->slot[q->slot].role = Q_WAIT_NONE;
	if (idle >= 0 && idle_big(q) && q_now() >= idle)
		q_shrink(q);
}

void
q_wait(struct queue *q, uint32_t *word, int role, int64_t deadline)
{
	wait_as(q, word, role, deadline, word == &q->sh->put_seq &&
	    role == Q_WAIT_GET ? W_CHAIN : FUTEX_BITS_ALL);
}
