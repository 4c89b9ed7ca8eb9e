/* bar: the shared barrier object (layout and operations). barrier.c
 * explains the algorithm; this header states each operation's contract. */
#ifndef BARRIER_BARRIEROBJ_H
#define BARRIER_BARRIEROBJ_H

#include <pthread.h>
#include <stdint.h>

#include "obj.h"

/* Most parties a barrier may have (its file holds two slots per party). */
#define BAR_PARTIES_MAX 65536

/* Why a barrier is broken (0: it is not). */
enum barobj_why {
	BAR_WHY_TIMEOUT = 1, /* a party's --timeout expired */
	BAR_WHY_ABORT,       /* barrier abort */
	BAR_WHY_DEAD,        /* a waiting party died */
	BAR_WHY_ACTION,      /* the --action failed */
	BAR_WHY_RESET,       /* a reset was interrupted */
	BAR_WHY_REMOVED,     /* barrier rm */
};

/* What barobj_wait reports. */
enum barobj_outcome {
	BAR_RELEASED,  /* the generation was released */
	BAR_BROKEN,    /* the barrier is (or became) broken */
	BAR_RESET,     /* a reset cancelled this party's generation */
	BAR_TIMEOUT,   /* the deadline passed; this party broke the barrier */
	BAR_ERROR,     /* the action could not be started (reported) */
	BAR_SIGNAL,    /* a signal interrupted the action (barrier broken) */
};

/* One party's place in the object, cache-line sized so that parties
 * never share a line. */
struct barobj_slot {
	pthread_mutex_t alive; /* held by the party while it uses the slot */
	uint32_t state;        /* SLOT_* in barrierobj.c; read without the lock */
	uint32_t index;        /* arrival index in its generation */
	uint32_t why;          /* enum barobj_why when the state is broken */
} __attribute__((aligned(64)));

struct barobj {
	struct obj_hdr hdr;
	pthread_mutex_t lock;  /* robust; guards everything below */
	uint32_t seq;          /* futex word: changes on every release,
	                        * break and reset */
	uint32_t parties;
	uint32_t nslots;
	uint32_t count;        /* parties arrived in this generation */
	uint32_t broken;       /* enum barobj_why, 0 if not broken */
	uint32_t hint;         /* where the search for a free slot starts */
	uint64_t gen;          /* generations released or reset so far */
	uint64_t releasing;    /* while a release is being written: the
	                        * generation it leads to */
	struct barobj_slot slot[];
};

/* What a party asks for. */
struct barobj_req {
	int64_t deadline;      /* absolute CLOCK_MONOTONIC ns, -1: none */
	const char *action;    /* sh -c command run by the last arrival */
};

struct barobj_res {
	uint32_t index;        /* arrival index (BAR_RELEASED only) */
	uint32_t why;          /* enum barobj_why (BAR_BROKEN only) */
	int action_status;     /* the failed action's status (BAR_WHY_ACTION) */
	int signal;            /* the signal (BAR_SIGNAL) */
};

/* barobj_open: open barrier NAME into O. PARTIES > 0 creates it with that
 * many parties (file mode MODE) when missing and requires an existing one
 * to match; PARTIES == 0 requires it to exist. Prints why and returns
 * NULL on failure. */
struct barobj *barobj_open(struct obj *o, const char *name, uint32_t parties,
    unsigned mode);

/* barobj_attach: the barrier in O, an object obj_list opened, or NULL
 * (reported) if it is damaged. */
struct barobj *barobj_attach(struct obj *o);

/* barobj_check: break B (BAR_WHY_DEAD) if a party waiting at it has
 * died, as the next arrival would, so that what stat and ls report is
 * the truth. */
void barobj_check(struct barobj *b);

/* barobj_wait: arrive at B and wait for the generation to end. Returns an
 * enum barobj_outcome and fills RES. */
int barobj_wait(struct barobj *b, const struct barobj_req *req, struct barobj_res *res);

/* barobj_break: break B for reason WHY (a broken barrier keeps its first
 * reason); every party waiting now ends with BAR_BROKEN. */
void barobj_break(struct barobj *b, uint32_t why);

/* barobj_remove: unlink PATH, B's file, and break B (BAR_WHY_REMOVED), so
 * that parties waiting on it are told. Under the lock, and only once the
 * unlink has worked: a refused rm leaves B as it was. -1 with errno. */
int barobj_remove(struct barobj *b, const char *path);

/* barobj_reset: return B to a fresh, unbroken generation; every party
 * waiting now ends with BAR_RESET. */
void barobj_reset(struct barobj *b);

/* barobj_why_text: a short phrase for a break reason. */
const char *barobj_why_text(uint32_t why);

#endif
