/* sem: the shared semaphore object and the operations on it (semobj.c).
 * The algorithm is described at the top of sem.c. */
#ifndef SEM_SEMOBJ_H
#define SEM_SEMOBJ_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "obj.h"

#define SEM_VERSION 2          /* 2: weights, unowned and rw kinds */
#define SEM_SLOTS_MAX 100000    /* -n at most this */
#define SEM_WAITERS 1024        /* waiter table size (fixed since version 1) */
#define SEM_RW_SLOTS 1024       /* shared holders of an rw semaphore, default */
#define SEM_VAL_MAX ((uint64_t)INT64_MAX) /* value of an unowned one */
#define SEM_COUNT_MAX INT32_MAX /* --count at most this */
#define SEM_COMM 32             /* command name kept per holder */
#define SEM_TICK_NS 250000000LL /* waiters wake this often to spot the dead */

/* struct sem_shm.flags. A semaphore is of one kind: owned (slots that
 * belong to their holder; SEM_REENTRANT possibly), SEM_UNOWNED (a value
 * that anyone may raise; SEM_UNBOUNDED if it has no bound) or SEM_RW
 * (N slots; a shared holder takes one, an exclusive holder all N). */
enum { SEM_REENTRANT = 1, SEM_UNOWNED = 2, SEM_UNBOUNDED = 4, SEM_RW = 8 };
#define SEM_KINDS (SEM_UNOWNED | SEM_RW)
enum { SEM_HOLDER_GROUP = 1 };  /* struct sem_holder.flags: child leads a
                                 * process group that holds the slot too */

/* Slots in use: one record per acquisition, holding COUNT slots (1 but
 * for a weighted or exclusive one). In reentrant mode one record per
 * owner, with a depth (COUNT 1). owner.pid 0 marks a free
 * record; it is written last when a record is filled and first when one
 * is cleared, so a record is never half valid. */
struct sem_holder {
	struct obj_owner owner; /* who holds it (sem run: the sem process) */
	struct obj_owner child; /* sem run: the command; pid 0 otherwise */
	int64_t since;          /* CLOCK_REALTIME, ns */
	uint32_t depth;
	uint32_t flags;         /* SEM_HOLDER_GROUP */
	uint32_t count;         /* slots held, >= 1 */
	uint32_t pad;
	char comm[SEM_COMM];
};

/* One process waiting for a slot. It sleeps on its own futex word WAKE,
 * which is bumped when the waiter may have become eligible. */
struct sem_waiter {
	struct obj_owner who;   /* the waiting sem process; pid 0: free */
	uint64_t ticket;        /* arrival order */
	uint32_t wake;
	uint32_t want;          /* slots (or permits) it asks for, >= 1 */
};

struct sem_shm {
	struct obj_hdr hdr;
	pthread_mutex_t lock;   /* guards everything below */
	uint32_t slots;         /* N: slots, or the bound of an unowned one
	                         * (0: unbounded); size of the holder table
	                         * but for unowned ones, which have none */
	uint32_t flags;
	uint32_t maxwait;       /* size of the waiter table */
	uint32_t removed;       /* unlinked by sem rm: reopen by name */
	/* Derived from the tables, recomputed after a crash under the lock. */
	uint32_t used;          /* valid holder records */
	uint32_t nwait;         /* valid waiter records */
	uint32_t hhigh;         /* holder records >= hhigh are all free */
	uint32_t whigh;         /* waiter records >= whigh are all free */
	uint64_t next_ticket;
	int64_t next_reap;      /* CLOCK_MONOTONIC ns of the next dead-peer scan */
	uint64_t value;         /* SEM_UNOWNED: the permits free */
	/* struct sem_holder holders[nrec]; struct sem_waiter waiters[maxwait],
	 * nrec being slots, or 0 for an unowned semaphore */
};

/* A semaphore as this process sees it. SLOTS, KIND, NREC and MAXWAIT are
 * fixed when it is attached, from the mapping's size: every index into
 * the tables is bounded by them, never by a count read from the shared
 * file, which anyone who can write the file can change at any time. */
struct sem {
	struct obj o;
	struct sem_shm *s;
	struct sem_holder *h;
	struct sem_waiter *w;
	uint32_t slots, maxwait;
	uint32_t kind;          /* flags & SEM_KINDS|SEM_UNBOUNDED|SEM_REENTRANT */
	uint32_t nrec;          /* holder records: slots, or 0 when unowned */
};

/* What to create when the semaphore is missing, and what to insist on
 * when it exists (slots 0: whatever it has). */
struct sem_params {
	uint32_t slots;
	uint32_t flags;
	unsigned mode;
	int64_t value;          /* unowned: the start value; -1 the default */
};

/* A request for a slot. */
struct sem_req {
	struct obj_owner owner;            /* who will hold the slot */
	struct obj_owner self;             /* this process, the waiter */
	const char *comm;
	uint32_t count;                    /* slots to take (0 is 1) */
	int shared;                        /* rw: one slot; else all N */
	int nowait;
	int64_t deadline;                  /* CLOCK_MONOTONIC ns, -1: none */
	volatile sig_atomic_t *stop;       /* nonzero: a signal asks us to stop */
};

/* Results of semobj_take besides 0 (a slot was taken). */
enum { SEM_GONE = -2 };

extern const struct obj_type semobj_type;

/* semobj_kind_name: "owned", "unowned" or "rw" for struct sem.kind. */
const char *semobj_kind_name(uint32_t kind);

/* semobj_attach: use the open object O (copied into M) as a semaphore, after
 * checking that its tables fit the file. Prints why and returns -1 if not. */
int semobj_attach(struct sem *m, const struct obj *o);

/* semobj_open: open NAME; create it as P says when missing (P NULL: it must
 * exist). P->slots or P->flags that conflict with an existing semaphore
 * are an error. Prints why and returns -1 on failure. */
int semobj_open(struct sem *m, const char *name, const struct sem_params *p);
void semobj_close(struct sem *m);

/* semobj_take: take a slot for R->owner. Returns 0 with *slot set (the
 * holder record), EXIT_WOULDBLOCK, EXIT_TIMEOUT, 128+N when *R->stop
 * became N, EXIT_TOOL (reported), or SEM_GONE when the semaphore was
 * removed under us (the caller opens the name again). */
int semobj_take(struct sem *m, const struct sem_req *r, int *slot);

/* semobj_set_child: record the command sem run started for holder SLOT. */
void semobj_set_child(struct sem *m, int slot, pid_t pid);

/* semobj_give: give back the most recent acquisition (one level,
 * reentrant) of OWNER; SLOT is the record if known, else -1. Returns 0,
 * or -1 if OWNER holds none. */
int semobj_give(struct sem *m, const struct obj_owner *owner, int slot);

/* semobj_give_count: give back COUNT slots of OWNER, from its most recent
 * acquisitions on. Returns 0, or -1 (nothing changed) if it holds fewer. */
int semobj_give_count(struct sem *m, const struct obj_owner *owner,
    uint32_t count);

/* semobj_post: raise the value of an unowned semaphore by COUNT and wake
 * who may now proceed. Returns 0, 1 (nothing changed) if that would pass
 * its bound, or -1 if it would pass SEM_VAL_MAX. */
int semobj_post(struct sem *m, uint32_t count);

/* A consistent picture of the semaphore, taken under its lock after dead
 * holders and waiters have been reclaimed. */
struct semobj_view {
	uint32_t slots, flags, used, nwait;
	uint32_t nheld;             /* holder records */
	uint64_t free;              /* slots, or permits when unowned */
	struct sem_holder *holders; /* NHELD records, malloc'd (NULL if none) */
};

/* semobj_view: fill V (free V->holders afterwards). */
void semobj_view(struct sem *m, struct semobj_view *v);

/* semobj_remove: unlink the semaphore unless it is held or waited on (FORCE:
 * even then; its waiters then fail). Returns 0, or 1 if it was busy. */
int semobj_remove(struct sem *m, int force);

int64_t semobj_now(void);

#endif
