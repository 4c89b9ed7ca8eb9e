/* eventobj: the shared event object (layout and operations). event.c
 * explains the algorithm; this header states each operation's contract. */
#ifndef EVENT_EVENTOBJ_H
#define EVENT_EVENTOBJ_H

#include <pthread.h>
#include <stdint.h>

#include "obj.h"

/* Most processes that may wait on one event at a time. */
#define EV_SLOTS 4096

/* One waiter's place in the object. */
struct evobj_slot {
	pthread_mutex_t alive; /* held by the waiter while it uses the slot */
	uint32_t state;        /* EV_SLOT_* in eventobj.c */
	uint32_t reserved;
	uint64_t ticket;       /* arrival order */
} __attribute__((aligned(64)));

struct evobj {
	struct obj_hdr hdr;
	pthread_mutex_t lock;  /* robust; guards everything below */
	uint32_t seq;          /* futex word: changes on every set and notify */
	uint32_t set;          /* 1 set, 0 clear */
	uint64_t gen;          /* sets and notifies so far */
	uint64_t ticket;       /* the next waiter's ticket */
	uint64_t pending;      /* while a set or notify is being written:
	                        * the generation it leads to, else 0 */
	uint32_t pending_set;  /* that update is a set (1) or a notify (0) */
	uint32_t nslots;
	uint32_t top;          /* slots at or above it were never used */
	uint32_t removed;      /* event rm unlinked the file */
	struct evobj_slot slot[];
};

/* What evobj_wait reports. */
enum evobj_outcome {
	EV_WOKEN,      /* the event is set, or a set or notify woke us */
	EV_WOULDBLOCK, /* NOWAIT and nothing to return for */
	EV_TIMEOUT,    /* the deadline passed */
	EV_FULL,       /* EV_SLOTS processes wait already */
	EV_REMOVED,    /* event rm removed it (before or while we waited) */
};

/* evobj_open: open event NAME into O, creating it (file mode MODE, set
 * if SET) when CREATE and missing. Prints why and returns NULL on
 * failure. */
struct evobj *evobj_open(struct obj *o, const char *name, int create,
    unsigned mode, int set);

/* evobj_attach: the event in O, an object obj_list opened, or NULL
 * (reported) if it is damaged. */
struct evobj *evobj_attach(struct obj *o);

/* evobj_set: set E and wake every waiter (one futex broadcast). */
void evobj_set(struct evobj *e);

/* evobj_clear: clear E; nobody is woken. */
void evobj_clear(struct evobj *e);

/* evobj_notify: wake the N oldest live waiters (N 0: all) without
 * setting E; returns how many were woken. The generation advances even
 * when nobody waits. */
uint32_t evobj_notify(struct evobj *e, uint32_t n);

/* evobj_wait: return EV_WOKEN at once if E is set or, with SINCE >= 0,
 * if its generation is no longer SINCE; else EV_WOULDBLOCK if NOWAIT;
 * else wait until a set or notify wakes us or the absolute
 * CLOCK_MONOTONIC DEADLINE (ns, -1: none) passes. */
int evobj_wait(struct evobj *e, int64_t since, int nowait, int64_t deadline);

/* What evobj_view reports: a consistent snapshot (taken under the lock,
 * with dead waiters left out). */
struct evobj_view {
	int set;
	uint64_t gen;
	uint32_t waiters;
};
void evobj_view(struct evobj *e, struct evobj_view *v);

/* evobj_remove: unlink PATH, E's file, under the lock, and tell the
 * waiters (EV_REMOVED). A refused unlink leaves E as it was. -1 with
 * errno. */
int evobj_remove(struct evobj *e, const char *path);

#endif
