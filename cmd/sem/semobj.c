/* The semaphore object: the holder and waiter tables under a robust mutex,
 * FIFO tickets, per-waiter futex words and dead-peer reclaim. sem.c says
 * how the pieces fit together. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "obj.h"
#include "proc.h"
#include "semobj.h"

const struct obj_type semobj_type = { OBJ_SEM, SEM_VERSION, "semaphore" };

/* Futex words to wake once the lock is released: waking while holding it
 * would only make the woken process block on the lock at once. */
struct wakes {
	int n;
	uint32_t *word[SEM_WAITERS];
};

int64_t
semobj_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static size_t
semobj_size(uint32_t nrec, uint32_t maxwait)
{
	return sizeof(struct sem_shm) + (size_t)nrec * sizeof(struct sem_holder)
	    + (size_t)maxwait * sizeof(struct sem_waiter);
}

/* The holder records of a semaphore of kind FLAGS with SLOTS. */
static uint32_t
semobj_nrec(uint32_t flags, uint32_t slots)
{
	return (flags & SEM_UNOWNED) ? 0 : slots;
}

static int
init_shm(void *map, size_t size, void *arg)
{
	const struct sem_params *p = arg;
	struct sem_shm *s = map;
	int e;

	s->slots = p->slots;
	s->flags = p->flags;
	s->maxwait = SEM_WAITERS;
	s->value = p->value < 0 ? 0 : (uint64_t)p->value;
	if ((e = obj_mutex_init(&s->lock)) != 0) {
		errno = e;
		err_warn("initialise the lock");
		return -1;
	}
	return 0;
}

int
semobj_attach(struct sem *m, const struct obj *o)
{
	struct sem_shm *s = o->map;
	uint32_t slots, maxwait, flags, nrec;
	int bad;

	/* Read once what we may not trust in a file someone else wrote, and
	 * check our copies: the kind and the tables must fit the mapping
	 * before we index them, and only these copies are used from now
	 * on, whatever the file says later. */
	slots = __atomic_load_n(&s->slots, __ATOMIC_RELAXED);
	maxwait = __atomic_load_n(&s->maxwait, __ATOMIC_RELAXED);
	flags = __atomic_load_n(&s->flags, __ATOMIC_RELAXED) &
	    (SEM_REENTRANT | SEM_UNOWNED | SEM_UNBOUNDED | SEM_RW);
	if (((flags & SEM_UNOWNED) && (flags & (SEM_RW | SEM_REENTRANT))) ||
	    ((flags & SEM_REENTRANT) && (flags & SEM_RW))) {
		err_warnx("%s: damaged semaphore (bad kind)", o->name);
		return -1;
	}
	if (flags & SEM_UNBOUNDED)
		bad = !(flags & SEM_UNOWNED) || slots != 0;
	else
		bad = slots < 1 || slots > SEM_SLOTS_MAX;
	nrec = semobj_nrec(flags, slots);
	if (bad || maxwait < 1 || maxwait > SEM_WAITERS ||
	    o->size != semobj_size(nrec, maxwait)) {
		err_warnx("%s: damaged semaphore (bad table sizes)", o->name);
		return -1;
	}
	if (&m->o != o)
		m->o = *o;
	m->s = m->o.map;
	m->slots = slots;
	m->maxwait = maxwait;
	m->kind = flags;
	m->nrec = nrec;
	m->h = (struct sem_holder *)(m->s + 1);
	m->w = (struct sem_waiter *)(m->h + m->nrec);
	return 0;
}

/* The name of a kind, for messages and stat. */
const char *
semobj_kind_name(uint32_t flags)
{
	if (flags & SEM_UNOWNED)
		return "unowned";
	if (flags & SEM_RW)
		return "rw";
	return "owned";
}

int
semobj_open(struct sem *m, const char *name, const struct sem_params *p)
{
	struct obj_create c;
	struct sem_params q;

	memset(m, 0, sizeof *m);
	if (p) {
		/* A new semaphore has P->slots, or when the caller did not
		 * say: 1 (a mutex), SEM_RW_SLOTS shared holders, or no bound
		 * for an unowned one. An unowned one starts at P->value, or
		 * at its bound (1 when it has none). */
		q = *p;
		if (q.slots == 0 && (q.flags & SEM_UNOWNED))
			q.flags |= SEM_UNBOUNDED;
		if (q.slots == 0 && !(q.flags & SEM_UNBOUNDED))
			q.slots = (q.flags & SEM_RW) ? SEM_RW_SLOTS : 1;
		if ((q.flags & SEM_UNOWNED) && q.value < 0)
			q.value = q.slots ? q.slots : 1;
		memset(&c, 0, sizeof c);
		c.size = semobj_size(semobj_nrec(q.flags, q.slots), SEM_WAITERS);
		c.mode = q.mode;
		c.init = init_shm;
		c.arg = &q;
	}
	if (obj_open(&m->o, name, &semobj_type, p ? &c : NULL) < 0)
		return -1;
	if (semobj_attach(m, &m->o) < 0)
		goto fail;
	if (p == NULL || m->o.created)
		return 0;
	/* What the caller insists on must be what the semaphore is; what
	 * it leaves unsaid (no -n, no kind) takes the semaphore as it is. */
	if ((p->flags & SEM_UNOWNED) && !(m->kind & SEM_UNOWNED)) {
		err_warnx("%s: exists and is not unowned (it is %s)", name,
		    semobj_kind_name(m->kind));
		goto fail;
	}
	if ((p->flags & SEM_RW) && !(m->kind & SEM_RW)) {
		err_warnx("%s: exists and is not a shared/exclusive (rw) "
		    "semaphore (it is %s)", name, semobj_kind_name(m->kind));
		goto fail;
	}
	if ((p->flags & SEM_UNBOUNDED) && !(m->kind & SEM_UNBOUNDED)) {
		err_warnx("%s: exists with a bound of %u, not unbounded", name,
		    m->slots);
		goto fail;
	}
	if (p->slots && (m->kind & SEM_UNBOUNDED)) {
		err_warnx("%s: exists unbounded, not with a bound of %u", name,
		    p->slots);
		goto fail;
	}
	if (p->slots && p->slots != m->slots && (m->kind & SEM_UNOWNED)) {
		err_warnx("%s: exists with a bound of %u, not %u", name,
		    m->slots, p->slots);
		goto fail;
	}
	if (p->slots && p->slots != m->slots) {
		err_warnx("%s: exists with %u slot%s, not %u", name,
		    m->slots, m->slots == 1 ? "" : "s", p->slots);
		goto fail;
	}
	if ((p->flags & SEM_REENTRANT) && !(m->kind & SEM_REENTRANT)) {
		err_warnx("%s: exists and is not reentrant", name);
		goto fail;
	}
	return 0;
fail:
	obj_close(&m->o);
	return -1;
}

void
semobj_close(struct sem *m)
{
	obj_close(&m->o);
}

/* The file changed under us in a way no crash explains (someone who can
 * write it wrote nonsense): give up with 125. The lock, if held, is
 * released by our exit, and the next locker repairs the counters. */
static void __attribute__((noreturn))
damaged(const struct sem *m, const char *what)
{
	err_diex(EXIT_TOOL, "%s: damaged semaphore (%s)", m->o.name, what);
}

/* The high-water marks as indices we may use: read once from the
 * shared file and bounded by the table sizes fixed at attach. */
static uint32_t
hhigh(const struct sem *m)
{
	uint32_t v = __atomic_load_n(&m->s->hhigh, __ATOMIC_RELAXED);

	return v < m->nrec ? v : m->nrec;
}

static uint32_t
whigh(const struct sem *m)
{
	uint32_t v = __atomic_load_n(&m->s->whigh, __ATOMIC_RELAXED);

	return v < m->maxwait ? v : m->maxwait;
}

/* Rebuild the derived counters from the tables. Called when the previous
 * lock owner died in the middle of an update, or when they are out of
 * range: the tables themselves are always valid record by record, since
 * a record's pid is written last on fill and first on clear. */
static void
repair(struct sem *m)
{
	struct sem_shm *s = m->s;
	uint64_t used = 0;
	uint32_t i;

	s->used = s->nwait = s->hhigh = s->whigh = 0;
	for (i = 0; i < m->nrec; i++)
		if (m->h[i].owner.pid != 0) {
			used += m->h[i].count;
			s->hhigh = i + 1;
		}
	s->used = used < UINT32_MAX ? (uint32_t)used : UINT32_MAX;
	for (i = 0; i < m->maxwait; i++)
		if (m->w[i].who.pid != 0) {
			s->nwait++;
			s->whigh = i + 1;
		}
}

static void
lock(struct sem *m)
{
	struct sem_shm *s = m->s;

	if (obj_lock(&s->lock) == 1 || s->hhigh > m->nrec ||
	    s->whigh > m->maxwait || s->used > (m->nrec ? m->slots : 0) ||
	    s->nwait > s->whigh)
		repair(m);
}

static void
unlock(struct sem *m, struct wakes *wk)
{
	int i;

	obj_unlock(&m->s->lock);
	for (i = 0; wk && i < wk->n; i++)
		obj_futex_wake(wk->word[i], 1);
	if (wk)
		wk->n = 0;
}

/* What can be taken now: the free slots, or an unowned one's value. */
static uint64_t
free_slots(const struct sem *m)
{
	uint32_t used = m->s->used;

	if (m->kind & SEM_UNOWNED)
		return m->s->value;
	return used < m->slots ? m->slots - used : 0;
}

/* What waiter record I asks for (a value read from the file: it may
 * upset the order, never an index). */
static uint64_t
want_of(const struct sem *m, uint32_t i)
{
	return m->w[i].want;
}

/* What request R takes: an rw semaphore's exclusive holder takes all its
 * slots, every other request R->count (0 is 1). */
static uint32_t
req_want(const struct sem *m, const struct sem_req *r)
{
	if (m->kind & SEM_RW)
		return r->shared ? 1 : m->slots;
	return r->count ? r->count : 1;
}

static void
bump(struct sem_waiter *w, struct wakes *wk)
{
	w->wake++;
	if (wk->n < SEM_WAITERS)
		wk->word[wk->n++] = &w->wake;
}

/* What all the waiters ask for together. */
static uint64_t
queued_want(const struct sem *m)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < whigh(m); i++)
		if (m->w[i].who.pid != 0)
			sum += want_of(m, i);
	return sum;
}

/* Wake the waiters that may now proceed: the oldest ones, in arrival
 * order, as long as what they ask for together is free; the first that
 * does not fit stops the walk (a large request at the head is not
 * overtaken). They re-check for themselves under the lock. */
static void
wake_eligible(struct sem *m, struct wakes *wk)
{
	struct sem_shm *s = m->s;
	uint64_t k = free_slots(m), last = 0, sum = 0;
	uint32_t i, j;

	if (k == 0 || s->nwait == 0)
		return;
	if (queued_want(m) <= k) {
		for (i = 0; i < whigh(m); i++)
			if (m->w[i].who.pid != 0)
				bump(&m->w[i], wk);
		return;
	}
	for (j = 0; j < m->maxwait; j++) {
		int best = -1;
		for (i = 0; i < whigh(m); i++) {
			const struct sem_waiter *w = &m->w[i];
			if (w->who.pid == 0 || (j > 0 && w->ticket <= last))
				continue;
			if (best < 0 || w->ticket < m->w[best].ticket)
				best = i;
		}
		if (best < 0 || (sum += want_of(m, best)) > k)
			break;
		last = m->w[best].ticket;
		bump(&m->w[best], wk);
	}
}

/* Take N off the count of slots in use (a damaged count is recounted,
 * not wrapped). */
static void
drop_used(struct sem *m, uint32_t n)
{
	if (m->s->used < n)
		repair(m);
	else
		m->s->used -= n;
}

static void
clear_holder(struct sem *m, uint32_t i)
{
	struct sem_shm *s = m->s;
	uint32_t n = m->h[i].count;

	__atomic_store_n(&m->h[i].owner.pid, 0, __ATOMIC_RELEASE);
	drop_used(m, n);
	i = hhigh(m);
	while (i > 0 && m->h[i - 1].owner.pid == 0)
		i--;
	s->hhigh = i;
}

static void
clear_waiter(struct sem *m, uint32_t i)
{
	struct sem_shm *s = m->s;

	__atomic_store_n(&m->w[i].who.pid, 0, __ATOMIC_RELEASE);
	if (s->nwait == 0) {
		repair(m);
		return;
	}
	s->nwait--;
	i = whigh(m);
	while (i > 0 && m->w[i - 1].who.pid == 0)
		i--;
	s->whigh = i;
}

/* A holder is alive while its owner or the command sem run started for
 * it is, or anything in the command's process group: if sem run is
 * killed, its command (sent SIGKILL by the kernel through the
 * parent-death signal) and what the command started keep the slot until
 * they are gone. */
static int
holder_alive(const struct sem_holder *h)
{
	if (obj_owner_alive(&h->owner))
		return 1;
	if (h->child.pid == 0)
		return 0;
	if (h->flags & SEM_HOLDER_GROUP)
		return proc_group_alive(h->child.pid, h->child.kind,
		    h->child.start);
	return obj_owner_alive(&h->child);
}

/* Reclaim the records of dead holders and (if WAITERS) dead waiters other
 * than SELF. Each check opens a pidfd (or reads /proc/PID/stat), so this
 * is done only when it can matter: no slot free, a timed wake-up, or a
 * report. */
static void
reap(struct sem *m, int waiters, int self, struct wakes *wk)
{
	uint32_t i;

	for (i = 0; i < hhigh(m); i++)
		if (m->h[i].owner.pid != 0 && !holder_alive(&m->h[i]))
			clear_holder(m, i);
	for (i = 0; waiters && i < whigh(m); i++)
		if (m->w[i].who.pid != 0 && (int)i != self &&
		    !obj_owner_alive(&m->w[i].who))
			clear_waiter(m, i);
	wake_eligible(m, wk);
}

static int
find_holder(const struct sem *m, const struct obj_owner *ow)
{
	int i, best = -1;

	for (i = 0; i < (int)hhigh(m); i++) {
		const struct sem_holder *h = &m->h[i];
		if (obj_owner_same(&h->owner, ow) &&
		    (best < 0 || h->since >= m->h[best].since))
			best = i;
	}
	return best;
}

/* Give R what it asks for (WANT, which is free): a holder record, or
 * for an unowned semaphore permits off its value (returns -1). */
static int
grant(struct sem *m, const struct sem_req *r, uint32_t want)
{
	struct sem_shm *s = m->s;
	struct sem_holder *h;
	struct timespec ts;
	uint32_t i;

	if (m->kind & SEM_UNOWNED) {
		s->value -= s->value < want ? s->value : want;
		return -1;
	}
	/* used + want <= slots here and every record holds a slot at
	 * least, so a free record exists, unless the file was changed
	 * behind the lock's back. Records at hhigh and above are free. */
	i = hhigh(m);
	if (i >= m->nrec || m->h[i].owner.pid != 0)
		for (i = 0; i < m->nrec && m->h[i].owner.pid != 0; i++)
			;
	if (i >= m->nrec)
		damaged(m, "no free holder record");
	h = &m->h[i];
	clock_gettime(CLOCK_REALTIME, &ts);
	h->since = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	h->depth = 1;
	h->flags = 0;
	h->count = want;
	h->owner.kind = r->owner.kind;
	h->owner.start = r->owner.start;
	memset(&h->child, 0, sizeof h->child);
	snprintf(h->comm, sizeof h->comm, "%s", r->comm ? r->comm : "");
	__atomic_store_n(&h->owner.pid, r->owner.pid, __ATOMIC_RELEASE);
	s->used += want;
	if (i >= s->hhigh)
		s->hhigh = i + 1;
	return (int)i;
}

/* Register R->self as a waiter with the next ticket. */
static int
enqueue(struct sem *m, const struct sem_req *r, uint32_t want)
{
	struct sem_shm *s = m->s;
	struct sem_waiter *w;
	uint32_t i;

	i = __atomic_load_n(&s->whigh, __ATOMIC_RELAXED);
	if (s->nwait != i || i >= m->maxwait) {
		for (i = 0; i < m->maxwait && m->w[i].who.pid != 0; i++)
			;
		if (i == m->maxwait)
			return -1;
	}
	w = &m->w[i];
	w->ticket = s->next_ticket++;
	w->want = want;
	w->who.kind = r->self.kind;
	w->who.start = r->self.start;
	__atomic_store_n(&w->who.pid, r->self.pid, __ATOMIC_RELEASE);
	s->nwait++;
	if (i >= s->whigh)
		s->whigh = i + 1;
	return (int)i;
}

/* May waiter ME take the WANT slots it asks for? Only if they are free
 * together with all that the waiters that arrived before it ask for:
 * nobody overtakes, and a prefix of the queue can be admitted at once. */
static int
eligible(const struct sem *m, int me, uint32_t want)
{
	uint64_t k = free_slots(m), sum = want;
	uint64_t t = m->w[me].ticket;
	uint32_t i;

	for (i = 0; i < whigh(m) && sum <= k; i++)
		if (m->w[i].who.pid != 0 && (int)i != me && m->w[i].ticket < t)
			sum += want_of(m, i);
	return sum <= k;
}

/* Sleep as waiter ME until eligible; returns 0 or why not. Called and
 * returns with the lock held; *WK is flushed by each unlock. */
static int
wait_turn(struct sem *m, const struct sem_req *r, int me, uint32_t want,
    struct wakes *wk)
{
	struct sem_shm *s = m->s;
	int64_t now, until;
	uint32_t seen;
	int e;

	for (;;) {
		seen = m->w[me].wake;
		unlock(m, wk);
		now = semobj_now();
		until = now + SEM_TICK_NS;
		if (r->deadline >= 0 && r->deadline < until)
			until = r->deadline;
		/* A signal that lands between this test and the futex wait
		 * is seen at the next tick, at most SEM_TICK_NS later. */
		e = *r->stop ? EINTR : obj_futex_wait(&m->w[me].wake, seen,
		    until);
		lock(m);
		if (s->removed) {
			err_warnx("%s: removed while waiting", m->o.name);
			return EXIT_TOOL;
		}
		if (eligible(m, me, want))
			return 0;
		if (*r->stop)
			return 128 + *r->stop;
		if (e != ETIMEDOUT)
			continue;
		now = semobj_now();
		if (r->deadline >= 0 && now >= r->deadline)
			return EXIT_TIMEOUT;
		/* Every waiter wakes each tick, but one scan per tick is
		 * enough to find the dead. */
		if (now >= s->next_reap) {
			s->next_reap = now + SEM_TICK_NS;
			reap(m, 1, me, wk);
			if (eligible(m, me, want))
				return 0;
		}
	}
}

/* Is R a request that this semaphore can ever grant? Prints why not. */
static int
check_req(const struct sem *m, const struct sem_req *r)
{
	const char *n = m->o.name;

	if (r->shared && !(m->kind & SEM_RW)) {
		err_warnx("%s: --shared: not a shared/exclusive semaphore "
		    "(create it with --rw)", n);
		return -1;
	}
	if (r->count > 1 && (m->kind & (SEM_RW | SEM_REENTRANT))) {
		err_warnx("%s: --count: not for a%s semaphore", n,
		    (m->kind & SEM_RW) ? " shared/exclusive" : " reentrant");
		return -1;
	}
	if (r->count > 1 && !(m->kind & SEM_UNBOUNDED) && r->count > m->slots) {
		err_warnx("%s: --count %u: more than its %u slot%s", n,
		    r->count, m->slots, m->slots == 1 ? "" : "s");
		return -1;
	}
	return 0;
}

int
semobj_take(struct sem *m, const struct sem_req *r, int *slot)
{
	struct sem_shm *s = m->s;
	struct wakes wk;
	uint32_t want;
	int me, rc;

	if (check_req(m, r) < 0)
		return EXIT_TOOL;
	want = req_want(m, r);
	*slot = -1;
	wk.n = 0;
	lock(m);
	if (s->removed) {
		unlock(m, NULL);
		return SEM_GONE;
	}
	if ((m->kind & SEM_REENTRANT) &&
	    (*slot = find_holder(m, &r->owner)) >= 0) {
		if (m->h[*slot].depth < UINT32_MAX)
			m->h[*slot].depth++;
		unlock(m, NULL);
		return 0;
	}
	/* A newcomer may go ahead only if every waiter can be served too.
	 * If it cannot, look for dead holders and waiters first: always with
	 * --nowait, which must not fail because of the dead, otherwise at
	 * most once a tick (a waiter looks again at its next tick anyway). */
	if (queued_want(m) + want > free_slots(m)) {
		int64_t now = semobj_now();
		if (r->nowait || now >= s->next_reap) {
			s->next_reap = now + SEM_TICK_NS;
			reap(m, 1, -1, &wk);
		}
	}
	if (queued_want(m) + want <= free_slots(m)) {
		*slot = grant(m, r, want);
		unlock(m, &wk);
		return 0;
	}
	if (r->nowait) {
		unlock(m, &wk);
		return EXIT_WOULDBLOCK;
	}
	if ((me = enqueue(m, r, want)) < 0) {
		unlock(m, &wk);
		err_warnx("%s: too many waiters (%u)", m->o.name, m->maxwait);
		return EXIT_TOOL;
	}
	rc = wait_turn(m, r, me, want, &wk);
	clear_waiter(m, me);
	if (rc == 0)
		*slot = grant(m, r, want);
	/* More slots may be free (several released at once), or our leaving
	 * may let the next waiters in (a large request that gave up no
	 * longer holds back the small ones behind it). */
	wake_eligible(m, &wk);
	unlock(m, &wk);
	return rc;
}

void
semobj_set_child(struct sem *m, int slot, pid_t pid)
{
	struct obj_owner c;
	unsigned kind;
	unsigned long long id;

	/* A command that is already gone (not even a zombie) needs no
	 * record; a record without its identity would match any process
	 * that later gets the pid. A zombie's is kept: what it started may
	 * still run in its group. */
	if (slot < 0 || (uint32_t)slot >= m->nrec ||
	    proc_ident_any(pid, &kind, &id) < 0)
		return;
	c.pid = pid;
	c.kind = kind;
	c.start = id;
	lock(m);
	m->h[slot].flags |= SEM_HOLDER_GROUP;
	m->h[slot].child.kind = c.kind;
	m->h[slot].child.start = c.start;
	__atomic_store_n(&m->h[slot].child.pid, c.pid, __ATOMIC_RELEASE);
	unlock(m, NULL);
}

int
semobj_give(struct sem *m, const struct obj_owner *ow, int slot)
{
	struct wakes wk;
	struct sem_holder *h;

	wk.n = 0;
	lock(m);
	if (slot < 0 || slot >= (int)hhigh(m) ||
	    !obj_owner_same(&m->h[slot].owner, ow))
		slot = find_holder(m, ow);
	if (slot < 0) {
		unlock(m, NULL);
		return -1;
	}
	h = &m->h[slot];
	if (--h->depth == 0 || !(m->kind & SEM_REENTRANT))
		clear_holder(m, slot);
	wake_eligible(m, &wk);
	unlock(m, &wk);
	return 0;
}

int
semobj_give_count(struct sem *m, const struct obj_owner *ow, uint32_t count)
{
	struct wakes wk;
	uint64_t held = 0;
	uint32_t i, n;
	int k;

	wk.n = 0;
	lock(m);
	for (i = 0; i < hhigh(m); i++)
		if (obj_owner_same(&m->h[i].owner, ow))
			held += m->h[i].count;
	if (held < count) {
		unlock(m, NULL);
		return -1;
	}
	/* Most recent first; a record that holds more than is left to give
	 * keeps the rest. Each step leaves the tables valid, and a crash
	 * between the record and the count is repaired by the next lock. */
	while (count > 0 && (k = find_holder(m, ow)) >= 0) {
		n = m->h[k].count;
		if (n <= count) {
			clear_holder(m, (uint32_t)k);
			count -= n;
		} else {
			m->h[k].count = n - count;
			drop_used(m, count);
			count = 0;
		}
	}
	wake_eligible(m, &wk);
	unlock(m, &wk);
	return 0;
}

int
semobj_post(struct sem *m, uint32_t count)
{
	struct sem_shm *s = m->s;
	struct wakes wk;
	uint64_t v;

	wk.n = 0;
	lock(m);
	v = s->value;
	if (!(m->kind & SEM_UNBOUNDED) && (v > m->slots ||
	    count > m->slots - v)) {
		unlock(m, NULL);
		return 1;
	}
	if (v > SEM_VAL_MAX || count > SEM_VAL_MAX - v) {
		unlock(m, NULL);
		return -1;
	}
	s->value = v + count;
	wake_eligible(m, &wk);
	unlock(m, &wk);
	return 0;
}

void
semobj_view(struct sem *m, struct semobj_view *v)
{
	struct sem_shm *s = m->s;
	struct wakes wk;
	uint64_t used = 0;
	uint32_t i, n = 0;

	wk.n = 0;
	lock(m);
	reap(m, 1, -1, &wk);
	v->slots = m->slots;
	v->flags = m->kind;
	v->nwait = s->nwait;
	v->holders = NULL;
	/* Counted here, from the table: the shared count is only a hint. */
	for (i = 0; i < hhigh(m); i++)
		if (m->h[i].owner.pid != 0) {
			n++;
			used += m->h[i].count;
		}
	v->nheld = n;
	if (n && (v->holders = calloc(n, sizeof *v->holders))) {
		uint32_t k = 0;
		for (i = 0; i < hhigh(m) && k < n; i++)
			if (m->h[i].owner.pid != 0)
				v->holders[k++] = m->h[i];
		v->nheld = k;
	}
	v->used = used < m->slots ? (uint32_t)used : m->slots;
	if (m->kind & SEM_UNOWNED)
		v->free = s->value;
	else
		v->free = m->slots - v->used;
	unlock(m, &wk);
	/* Our copy, not the shared count: a slot taken since the unlock
	 * made this report "stat: No such process" (the errno of reap). */
	if (v->nheld && v->holders == NULL)
		err_diex(EXIT_TOOL, "%s: stat: out of memory", m->o.name);
}

int
semobj_remove(struct sem *m, int force)
{
	struct sem_shm *s = m->s;
	struct wakes wk;
	uint32_t i;

	wk.n = 0;
	lock(m);
	reap(m, 1, -1, &wk);
	if (s->removed) {
		unlock(m, &wk);
		err_warnx("%s: no such semaphore", m->o.name);
		return -1;
	}
	if ((s->used || s->nwait) && !force) {
		unlock(m, &wk);
		return 1;
	}
	/* Unlink under the lock, with the flag set first: whoever opened
	 * the file before the unlink sees the flag once it gets the lock,
	 * and opens the name again. */
	s->removed = 1;
	if (unlink(m->o.path) < 0) {
		err_warn("%s: remove", m->o.name);
		s->removed = 0;
		unlock(m, &wk);
		return -1;
	}
	for (i = 0; i < whigh(m); i++)
		if (m->w[i].who.pid != 0)
			bump(&m->w[i], &wk);
	unlock(m, &wk);
	return 0;
}
