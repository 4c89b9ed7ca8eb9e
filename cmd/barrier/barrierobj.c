/* bar: the barrier object. See the top of barrier.c for the algorithm. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "barrierobj.h"
#include "err.h"
#include "loop.h"
#include "obj.h"
#include "proc.h"
#include "wrap.h"

/* Slot states. Only SLOT_WAITING changes under a party's feet (to one of
 * the three outcomes, under the lock); the other states stay put until
 * the slot's next owner takes it. */
enum { SLOT_FREE, SLOT_WAITING, SLOT_RELEASED, SLOT_BROKEN, SLOT_RESET };

/* How often a waiting party looks at its neighbour's liveness. */
#define CHECK_NS (250 * 1000000LL)

static const struct obj_type barobj_type = { OBJ_BARRIER, 1, "barrier" };

/* The slot count of the barrier barobj_attach attached last, fixed from its
 * mapping's size: every slot index is bounded by it, never by the count
 * in the file, which anyone who can write the file may change at any
 * time. A process uses one barrier at a time. */
static const struct barobj *fixed_b;
static uint32_t fixed_nslots;

static uint32_t
nslots(const struct barobj *b)
{
	if (b != fixed_b)
		err_diex(EXIT_TOOL, "barrier used without barobj_attach");
	return fixed_nslots;
}

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

static size_t
barobj_size(uint32_t nslots)
{
	return sizeof(struct barobj) + (size_t)nslots * sizeof(struct barobj_slot);
}

static int
barobj_init(void *map, size_t size, void *arg)
{
	struct barobj *b = map;
	uint32_t i;
	int e;

	b->parties = *(uint32_t *)arg;
	b->nslots = 2 * b->parties;
	if ((e = obj_mutex_init(&b->lock)) != 0)
		goto fail;
	for (i = 0; i < b->nslots; i++)
		if ((e = obj_mutex_init(&b->slot[i].alive)) != 0)
			goto fail;
	return 0;
fail:
	errno = e;
	err_warn("initialise barrier");
	return -1;
}

struct barobj *
barobj_attach(struct obj *o)
{
	struct barobj *b = o->map;

	if (o->size < sizeof *b || b->parties < 1 ||
	    b->parties > BAR_PARTIES_MAX || b->nslots != 2 * b->parties ||
	    o->size != barobj_size(b->nslots)) {
		err_warnx("%s: damaged barrier", o->name);
		return NULL;
	}
	fixed_b = b;
	fixed_nslots = (o->size - sizeof *b) / sizeof b->slot[0];
	return b;
}

struct barobj *
barobj_open(struct obj *o, const char *name, uint32_t parties, unsigned mode)
{
	struct obj_create c = { barobj_size(2 * parties), mode, barobj_init,
		&parties, 0, NULL };
	struct barobj *b;

	if (obj_open(o, name, &barobj_type, parties ? &c : NULL) < 0)
		return NULL;
	if ((b = barobj_attach(o)) == NULL)
		goto fail;
	if (parties && b->parties != parties) {
		err_warnx("%s: the barrier has %u parties, not %u", name,
		    b->parties, parties);
		goto fail;
	}
	return b;
fail:
	obj_close(o);
	return NULL;
}

const char *
barobj_why_text(uint32_t why)
{
	switch (why) {
	case BAR_WHY_TIMEOUT: return "a party timed out";
	case BAR_WHY_ABORT: return "aborted";
	case BAR_WHY_DEAD: return "a party died while waiting";
	case BAR_WHY_ACTION: return "the action failed";
	case BAR_WHY_RESET: return "a reset was interrupted";
	case BAR_WHY_REMOVED: return "removed";
	}
	return "broken";
}

/* Bump the event word and wake everybody sleeping on it. */
static void
wake_all(struct barobj *b)
{
	__atomic_add_fetch(&b->seq, 1, __ATOMIC_SEQ_CST);
	obj_futex_wake(&b->seq, INT32_MAX);
}

/* End the current generation: every waiting slot gets STATE. */
static void
end_generation(struct barobj *b, uint32_t state, uint32_t why)
{
	uint32_t i;

	for (i = 0; i < nslots(b); i++)
		if (b->slot[i].state == SLOT_WAITING) {
			b->slot[i].why = why;
			STORE(&b->slot[i].state, state);
		}
	STORE(&b->count, 0);
}

/* The release is written as: b->releasing = next generation; mark the
 * slots; b->gen = b->releasing; b->releasing = 0. A lock holder killed
 * half-way leaves b->releasing set, and the next locker finishes the
 * job, so a generation is never half released and half broken. */
static void
finish_release(struct barobj *b)
{
	end_generation(b, SLOT_RELEASED, 0);
	STORE(&b->gen, b->releasing);
	STORE(&b->releasing, 0);
}

static void
release(struct barobj *b)
{
	STORE(&b->releasing, b->gen + 1);
	finish_release(b);
	wake_all(b);
}

static void
break_locked(struct barobj *b, uint32_t why)
{
	if (b->broken == 0)
		STORE(&b->broken, why);
	end_generation(b, SLOT_BROKEN, b->broken);
	wake_all(b);
}

/* The previous owner of the lock died holding it. Each multi-step
 * update announces itself first (b->releasing, b->broken), so the
 * repair finishes what was under way; an arrival cut short leaves at
 * most a wrong count, recounted here, and a waiting slot whose holder
 * is dead, which the liveness checks turn into a break. */
static void
repair(struct barobj *b)
{
	uint32_t i, n = 0;

	if (b->releasing)
		finish_release(b);
	else if (b->broken)
		end_generation(b, SLOT_BROKEN, b->broken);
	for (i = 0; i < nslots(b); i++)
		n += b->slot[i].state == SLOT_WAITING;
	STORE(&b->count, n);
	wake_all(b);
}

static void
barobj_lock(struct barobj *b)
{
	if (obj_lock(&b->lock) == 1)
		repair(b);
}

void
barobj_break(struct barobj *b, uint32_t why)
{
	barobj_lock(b);
	break_locked(b, why);
	obj_unlock(&b->lock);
}

int
barobj_remove(struct barobj *b, const char *path)
{
	int e = 0;

	barobj_lock(b);
	if (unlink(path) < 0)
		e = errno;
	else
		break_locked(b, BAR_WHY_REMOVED);
	obj_unlock(&b->lock);
	errno = e;
	return e ? -1 : 0;
}

void
barobj_reset(struct barobj *b)
{
	barobj_lock(b);
	/* Marked broken first, so that a reset killed half-way leaves a
	 * broken barrier rather than a half-cancelled generation. */
	if (b->broken == 0)
		STORE(&b->broken, BAR_WHY_RESET);
	end_generation(b, SLOT_RESET, 0);
	STORE(&b->gen, b->gen + 1);
	STORE(&b->broken, 0);
	wake_all(b);
	obj_unlock(&b->lock);
}

/* A free slot is one that is not in the current generation and whose
 * previous holder has left (or died). Called with the lock held. */
static int
take_slot(struct barobj *b)
{
	uint32_t i, s;

	for (i = 0; i < nslots(b); i++) {
		s = (b->hint + i) % nslots(b);
		if (b->slot[s].state != SLOT_WAITING &&
		    obj_mutex_grab(&b->slot[s].alive) == 0) {
			b->hint = (s + 1) % nslots(b);
			return (int)s;
		}
	}
	return -1;
}

/* Nonzero if a waiting party other than SELF has died. Called with the
 * lock held, which keeps a slot from being taken while we look at it. */
static int
any_dead(struct barobj *b, uint32_t self)
{
	uint32_t i;

	for (i = 0; i < nslots(b); i++)
		if (i != self && b->slot[i].state == SLOT_WAITING &&
		    obj_mutex_dead(&b->slot[i].alive))
			return 1;
	return 0;
}

void
barobj_check(struct barobj *b)
{
	barobj_lock(b);
	if (b->broken == 0 && any_dead(b, nslots(b)))
		break_locked(b, BAR_WHY_DEAD);
	obj_unlock(&b->lock);
}

/* Check the next waiting slot after ours (cyclically), without the lock
 * in the common case: each waiting party watches its successor, so
 * every waiting party is watched by someone, at O(1) cost per party and
 * tick. If the successor's mutex can be taken, we keep holding it while
 * we lock the object and look again: a party that merely left cannot
 * have its slot taken by a newcomer meanwhile, so a slot still waiting
 * then really belongs to a dead party. */
static void
check_neighbour(struct barobj *b, uint32_t self)
{
	uint32_t k, i = self;
	pthread_mutex_t *m;
	int e;

	for (k = 1; k < nslots(b); k++) {
		i = (self + k) % nslots(b);
		if (LOAD(&b->slot[i].state) == SLOT_WAITING)
			break;
	}
	if (k == nslots(b))
		return;
	m = &b->slot[i].alive;
	e = obj_mutex_trylock(m);
	if (e == EBUSY)
		return;
	if (e == EOWNERDEAD)
		pthread_mutex_consistent(m);
	barobj_lock(b);
	if (b->slot[i].state == SLOT_WAITING &&
	    b->slot[self].state == SLOT_WAITING)
		break_locked(b, BAR_WHY_DEAD);
	obj_unlock(&b->lock);
	if (e == 0 || e == EOWNERDEAD)
		pthread_mutex_unlock(m);
}

/* The outcome recorded in our slot. */
static int
outcome(const struct barobj_slot *me, struct barobj_res *res)
{
	switch (LOAD(&me->state)) {
	case SLOT_RELEASED:
		res->index = me->index;
		return BAR_RELEASED;
	case SLOT_RESET:
		return BAR_RESET;
	}
	res->why = me->why;
	return BAR_BROKEN;
}

/* Our deadline passed: break the barrier unless the generation ended
 * in the meantime (then its outcome wins). */
static int
time_out(struct barobj *b, uint32_t self, struct barobj_res *res)
{
	int r = BAR_TIMEOUT;

	barobj_lock(b);
	if (b->slot[self].state == SLOT_WAITING)
		break_locked(b, BAR_WHY_TIMEOUT);
	else
		r = outcome(&b->slot[self], res);
	obj_unlock(&b->lock);
	return r;
}

static int64_t
next_wake(int64_t check, int64_t deadline)
{
	return deadline >= 0 && deadline < check ? deadline : check;
}

/* Sleep until our slot leaves SLOT_WAITING. The event word is read
 * before the slot, so a change made after our look at the slot also
 * changes the word and the futex wait returns at once. */
static int
await(struct barobj *b, uint32_t self, int64_t deadline, struct barobj_res *res)
{
	struct barobj_slot *me = &b->slot[self];
	int64_t now, check = loop_now() + CHECK_NS;
	uint32_t seq;

	for (;;) {
		seq = LOAD(&b->seq);
		if (LOAD(&me->state) != SLOT_WAITING)
			return outcome(me, res);
		now = loop_now();
		if (deadline >= 0 && now >= deadline)
			return time_out(b, self, res);
		if (now >= check) {
			check_neighbour(b, self);
			check = now + CHECK_NS;
			continue;
		}
		obj_futex_wait(&b->seq, seq, next_wake(check, deadline));
	}
}

/* Run the action through sh -c; returns its exit status, or -1 if it
 * could not be started (reported). It runs as sem run's command does
 * (wrap.h): in a process group of its own that gets the terminal if we
 * have it, SIGINT, SIGTERM and SIGHUP passed on to the whole group, and
 * the group killed WRAP_GRACE seconds later and waited for. *SIG gets
 * the signal passed on (0: none). If we are killed outright, the action
 * dies with us (SIGKILL as parent-death signal). */
static int
run_action(const char *action, int *sig)
{
	char *argv[] = { "sh", "-c", (char *)action, NULL };
	struct proc_spec sp;
	int st;

	proc_spec_init(&sp, argv);
	sp.path = "/bin/sh";
	sp.pdeathsig = SIGKILL;
	*sig = 0;
	if (wrap_start(&sp, NULL, 0) < 0) {
		err_warn("start the action");
		return -1;
	}
	st = wrap_wait(sig);
	return st;
}

/* We are the last arrival (lock held): run the action with the lock
 * released, so that the others' timeouts, liveness checks, abort and
 * reset still work meanwhile, then release unless something ended the
 * generation first. Newcomers wait at the door while the generation is
 * full, so nobody of the next generation can slip in. */
static int
last_arrival(struct barobj *b, uint32_t self, const struct barobj_req *req,
    struct barobj_res *res)
{
	struct barobj_slot *me = &b->slot[self];
	int st = 0, r;

	if (req->action) {
		obj_unlock(&b->lock);
		st = run_action(req->action, &res->signal);
		barobj_lock(b);
	}
	if (me->state == SLOT_WAITING) {
		if (st != 0) {
			res->action_status = st;
			break_locked(b, BAR_WHY_ACTION);
		} else if (any_dead(b, self)) {
			break_locked(b, BAR_WHY_DEAD);
		} else {
			release(b);
		}
	}
	r = outcome(me, res);
	obj_unlock(&b->lock);
	if (res->signal)
		return BAR_SIGNAL;
	return st < 0 && r == BAR_BROKEN ? BAR_ERROR : r;
}

/* Our deadline passed at the door. A generation that is full (its
 * action is running) does not count on us: it is still released, and
 * only the generations after it find the barrier broken. Otherwise the
 * barrier breaks as for any timeout. */
static void
door_timeout(struct barobj *b)
{
	barobj_lock(b);
	if (b->count == b->parties) {
		if (b->broken == 0)
			STORE(&b->broken, BAR_WHY_TIMEOUT);
		wake_all(b);
	} else {
		break_locked(b, BAR_WHY_TIMEOUT);
	}
	obj_unlock(&b->lock);
}

/* Take a slot in the current generation; returns -1 with the lock held
 * and *SLOT set, or an outcome. While the generation is full (its action
 * is running) or no slot is free (parties of past generations have not
 * left yet) we wait for the next event. */
static int
enter(struct barobj *b, int64_t deadline, int *slot, struct barobj_res *res)
{
	int64_t check = loop_now() + CHECK_NS;
	uint32_t seq;

	for (;;) {
		barobj_lock(b);
		if (b->broken) {
			res->why = b->broken;
			obj_unlock(&b->lock);
			return BAR_BROKEN;
		}
		if (b->count < b->parties && (*slot = take_slot(b)) >= 0)
			return -1;
		/* A full generation whose parties have all died (the last
		 * one while running the action) has nobody left to notice:
		 * those at the door watch it, or they would wait for ever. */
		if (b->count == b->parties && loop_now() >= check) {
			check = loop_now() + CHECK_NS;
			if (any_dead(b, nslots(b))) {
				break_locked(b, BAR_WHY_DEAD);
				res->why = b->broken;
				obj_unlock(&b->lock);
				return BAR_BROKEN;
			}
		}
		seq = LOAD(&b->seq);
		obj_unlock(&b->lock);
		if (deadline >= 0 && loop_now() >= deadline) {
			door_timeout(b);
			return BAR_TIMEOUT;
		}
		obj_futex_wait(&b->seq, seq,
		    next_wake(loop_now() + CHECK_NS, deadline));
	}
}

int
barobj_wait(struct barobj *b, const struct barobj_req *req, struct barobj_res *res)
{
	struct barobj_slot *me;
	int self, r;

	memset(res, 0, sizeof *res);
	if ((r = enter(b, req->deadline, &self, res)) >= 0)
		return r;
	me = &b->slot[self];
	me->index = b->count;
	me->why = 0;
	STORE(&me->state, SLOT_WAITING);
	STORE(&b->count, b->count + 1);
	if (b->count == b->parties) {
		r = last_arrival(b, self, req, res);
	} else {
		obj_unlock(&b->lock);
		r = await(b, self, req->deadline, res);
	}
	/* Leave: the slot's mutex is what tells others we are gone. */
	pthread_mutex_unlock(&me->alive);
	return r;
}
