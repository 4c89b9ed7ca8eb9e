/* eventobj: the event object. See the top of event.c for the algorithm. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "eventobj.h"
#include "obj.h"

/* How many slots a scan must look at: those ever used (a damaged top
 * is taken for "all"). */
static uint32_t
used(const struct evobj *e)
{
	return e->top < e->nslots ? e->top : e->nslots;
}

/* Slot states. A WAITING slot changes to WOKEN under the lock (set,
 * notify); its owner turns it back to FREE when it leaves. */
enum { EV_SLOT_FREE, EV_SLOT_WAITING, EV_SLOT_WOKEN };

static const struct obj_type evobj_type = { OBJ_EVENT, 1, "event" };

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

static size_t
evobj_size(void)
{
	return sizeof(struct evobj) + EV_SLOTS * sizeof(struct evobj_slot);
}

static int
evobj_init(void *map, size_t size, void *arg)
{
	struct evobj *e = map;
	uint32_t i;
	int r;

	(void)size;
	e->set = *(int *)arg != 0;
	e->nslots = EV_SLOTS;
	if ((r = obj_mutex_init(&e->lock)) != 0)
		goto fail;
	for (i = 0; i < e->nslots; i++)
		if ((r = obj_mutex_init(&e->slot[i].alive)) != 0)
			goto fail;
	return 0;
fail:
	errno = r;
	err_warn("initialise event");
	return -1;
}

struct evobj *
evobj_attach(struct obj *o)
{
	struct evobj *e = o->map;

	if (o->size != evobj_size() || e->nslots != EV_SLOTS) {
		err_warnx("%s: damaged event", o->name);
		return NULL;
	}
	return e;
}

struct evobj *
evobj_open(struct obj *o, const char *name, int create, unsigned mode,
    int set)
{
	struct obj_create c = { evobj_size(), mode, evobj_init, &set, 0,
		NULL };
	struct evobj *e;

	if (obj_open(o, name, &evobj_type, create ? &c : NULL) < 0)
		return NULL;
	if ((e = evobj_attach(o)) == NULL)
		obj_close(o);
	return e;
}

/* Bump the futex word and wake everybody sleeping on it. */
static void
wake_all(struct evobj *e)
{
	__atomic_add_fetch(&e->seq, 1, __ATOMIC_SEQ_CST);
	obj_futex_wake(&e->seq, INT32_MAX);
}

/* A set or notify is written as: pending_set; pending = next
 * generation; the slots marked (and the flag, for a set); gen =
 * pending; pending = 0. A lock holder killed half-way leaves pending
 * set, and the next locker finishes the update (finish): the event is
 * then set or not, never half, and the generation moves exactly once. */
static void
finish(struct evobj *e)
{
	uint32_t i;

	if (e->pending_set) {
		STORE(&e->set, 1);
		for (i = 0; i < used(e); i++)
			if (e->slot[i].state == EV_SLOT_WAITING)
				STORE(&e->slot[i].state, EV_SLOT_WOKEN);
	}
	STORE(&e->gen, e->pending);
	STORE(&e->pending, 0);
	wake_all(e);
}

static void
begin(struct evobj *e, int set)
{
	STORE(&e->pending_set, set);
	STORE(&e->pending, e->gen + 1);
}

/* The previous holder of the lock died holding it: finish what it had
 * announced. Anything else it may have left (a slot taken but not yet
 * marked waiting) is a slot whose holder is dead, which take_slot and
 * the counts treat as free. */
static void
evobj_lock(struct evobj *e)
{
	if (obj_lock(&e->lock) == 1) {
		if (e->pending)
			finish(e);
		else
			wake_all(e);
	}
}

void
evobj_set(struct evobj *e)
{
	evobj_lock(e);
	begin(e, 1);
	finish(e);
	obj_unlock(&e->lock);
}

void
evobj_clear(struct evobj *e)
{
	evobj_lock(e);
	STORE(&e->set, 0);
	obj_unlock(&e->lock);
}

/* A waiting slot whose holder is alive (lock held). */
static int
waiting(struct evobj *e, uint32_t i)
{
	return e->slot[i].state == EV_SLOT_WAITING &&
	    !obj_mutex_dead(&e->slot[i].alive);
}

static int
by_ticket(const void *a, const void *b, void *arg)
{
	const struct evobj *e = arg;
	uint64_t x = e->slot[*(const uint32_t *)a].ticket;
	uint64_t y = e->slot[*(const uint32_t *)b].ticket;

	return x < y ? -1 : x > y;
}

uint32_t
evobj_notify(struct evobj *e, uint32_t n)
{
	static uint32_t live[EV_SLOTS];
	uint32_t i, k = 0;

	evobj_lock(e);
	begin(e, 0);
	for (i = 0; i < used(e); i++)
		if (waiting(e, i))
			live[k++] = i;
	if (n == 0 || n > k)
		n = k;
	if (n < k)
		qsort_r(live, k, sizeof live[0], by_ticket, e);
	for (i = 0; i < n; i++)
		STORE(&e->slot[live[i]].state, EV_SLOT_WOKEN);
	finish(e);
	obj_unlock(&e->lock);
	return n;
}

/* The lowest slot nobody alive holds (lock held): ours, with its mutex
 * held; -1 if every slot is in use. Taking the lowest keeps the part of
 * the table that scans look at (used()) as small as the most waiters
 * there ever were at once. */
static int
take_slot(struct evobj *e)
{
	uint32_t s;

	for (s = 0; s < e->nslots; s++)
		if (obj_mutex_grab(&e->slot[s].alive) == 0) {
			if (s >= used(e))
				STORE(&e->top, s + 1);
			return (int)s;
		}
	return -1;
}

/* Our deadline passed: leave the queue of waiters, unless a set or
 * notify marked us first (then it wins). */
static int
time_out(struct evobj *e, struct evobj_slot *me)
{
	int r = EV_WOKEN;

	evobj_lock(e);
	if (me->state == EV_SLOT_WAITING)
		r = EV_TIMEOUT;
	STORE(&me->state, EV_SLOT_FREE);
	obj_unlock(&e->lock);
	return r;
}

/* Sleep until our slot is marked. The futex word is read before the
 * slot, so a mark made after our look also changes the word and the
 * futex wait returns at once. */
static int
await(struct evobj *e, struct evobj_slot *me, int64_t deadline)
{
	uint32_t seq;

	for (;;) {
		seq = LOAD(&e->seq);
		if (LOAD(&me->state) != EV_SLOT_WAITING)
			return EV_WOKEN;
		if (LOAD(&e->removed))
			return EV_REMOVED;
		if (obj_futex_wait(&e->seq, seq, deadline) == ETIMEDOUT)
			return time_out(e, me);
	}
}

int
evobj_wait(struct evobj *e, int64_t since, int nowait, int64_t deadline)
{
	struct evobj_slot *me;
	int s = -1, r = -1;

	evobj_lock(e);
	if (e->removed)
		r = EV_REMOVED;
	else if (e->set || (since >= 0 && e->gen != (uint64_t)since))
		r = EV_WOKEN;
	else if (nowait)
		r = EV_WOULDBLOCK;
	else if ((s = take_slot(e)) < 0)
		r = EV_FULL;
	if (s < 0) {
		obj_unlock(&e->lock);
		return r;
	}
	me = &e->slot[s];
	me->ticket = e->ticket++;
	STORE(&me->state, EV_SLOT_WAITING);
	obj_unlock(&e->lock);
	r = await(e, me, deadline);
	/* Leave: the slot's mutex is what tells others we are gone. */
	STORE(&me->state, EV_SLOT_FREE);
	pthread_mutex_unlock(&me->alive);
	return r;
}

void
evobj_view(struct evobj *e, struct evobj_view *v)
{
	uint32_t i;

	memset(v, 0, sizeof *v);
	evobj_lock(e);
	v->set = e->set;
	v->gen = e->gen;
	for (i = 0; i < used(e); i++)
		v->waiters += waiting(e, i);
	obj_unlock(&e->lock);
}

int
evobj_remove(struct evobj *e, const char *path)
{
	int r = 0;

	evobj_lock(e);
	if (unlink(path) < 0) {
		r = errno;
	} else {
		STORE(&e->removed, 1);
		wake_all(e);
	}
	obj_unlock(&e->lock);
	errno = r;
	return r ? -1 : 0;
}
