/* obj: named shared objects (queue, sem, barrier, event) as memory-mapped files.
 *
 * Every object file starts with struct obj_hdr (magic, kind, version,
 * size), which obj_open validates before anything else is trusted. A new
 * object is initialised in a private temporary file next to its final
 * name and published with link(2), which fails if the name exists: of two
 * processes creating the same object at once exactly one wins, and the
 * other opens the winner's, so nobody ever sees a half-built object.
 *
 * Waiting is done with futexes on 32-bit words in the mapping and mutual
 * exclusion with robust process-shared mutexes; both survive SIGKILL of a
 * participant (see REFERENCE.md on why condition variables do not). */
#ifndef CONC_OBJ_H
#define CONC_OBJ_H

#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OBJ_MAGIC 0x434f4e43u /* "CONC" */

enum { OBJ_QUEUE = 1, OBJ_SEM = 2, OBJ_BARRIER = 3, OBJ_EVENT = 4 };

struct obj_hdr {
	uint32_t magic;
	uint16_t kind;
	uint16_t version;
	uint64_t size;      /* size of the whole file */
	uint32_t mode;      /* permission bits it was created with */
	uint32_t reserved[1];
	uint32_t pidns;     /* inode of the pid namespace of its users */
	uint32_t boot;      /* a hash of the boot id when PIDNS was set */
};

/* What a tool says about its kind of object. */
struct obj_type {
	uint16_t kind;
	uint16_t version;
	const char *name;   /* "queue", "semaphore", "barrier" */
};

struct obj {
	char name[PATH_MAX];
	char path[PATH_MAX];
	int fd;
	void *map;          /* starts with struct obj_hdr */
	size_t size;
	int created;        /* this obj_open created the object */
};

/* Called on the private mapping of a new object, after the header is
 * filled in and before it is published. Returns 0, or -1 to abandon. */
typedef int obj_init_fn(void *map, size_t size, void *arg);

struct obj_create {
	size_t size;        /* whole file, at least sizeof(struct obj_hdr) */
	unsigned mode;      /* permission bits (0600 by default) */
	obj_init_fn *init;
	void *arg;
	size_t prefix;      /* nonzero: allocate only the first PREFIX bytes
	                     * (see obj_open) */
	int *sparse;        /* if not NULL: set to 1 if only PREFIX bytes were
	                     * allocated, 0 if all were, before INIT runs */
};

/* obj_open: open the object NAME of type T into O. When it does not exist
 * and C is not NULL, create it as C says: every byte of the file is
 * allocated (posix_fallocate), so that a full file system never meets
 * the mapping later (SIGBUS); or, with C->PREFIX, only the first PREFIX
 * bytes are, the rest of the file being a hole that the tool allocates
 * (fallocate) before it writes there and may give back (a punched hole)
 * where it holds nothing. That needs fallocate and hole punching from the
 * file system: where either is missing (EOPNOTSUPP), all of the file is
 * allocated as without PREFIX, and *C->SPARSE tells which it was.
 * Prints "prog: NAME: why" and returns -1 on every failure: bad name,
 * no such object (C NULL), not an object, an object of another kind or
 * version, a file of another user (obj_owner_trusted), an object in use
 * from another pid namespace, a system error.
 *
 * Pid namespaces. The pids an object records (sem holders, the threads
 * in its lock words) mean something only in the pid namespace of the
 * process that wrote them, so an object is used from one pid namespace:
 * the header records it (PIDNS, with the boot it was recorded in), the
 * first opener of an object without one (or recorded in an earlier
 * boot) records its own, and a process in another pid namespace is
 * refused. Where /proc/self/ns/pid cannot be read, nothing is checked. */
int obj_open(struct obj *o, const char *name, const struct obj_type *t,
    const struct obj_create *c);

/* obj_owner_trusted: nonzero if an object file owned by UID may be used:
 * UID is ours or root's, or CONC_SHARED is set (non-empty), which says
 * that the user shares objects with others and trusts them
 * (concutils(7), "Sharing objects"). obj_open refuses any other. */
int obj_owner_trusted(uid_t uid);

/* obj_close: unmap and close (the object itself stays). */
void obj_close(struct obj *o);

/* A file truncated while mapped makes every access past its new end a
 * SIGBUS. obj_open catches it: an access to an open object's mapping
 * that faults ends the tool with "prog: NAME: damaged (file truncated
 * while in use)" and the status last given to obj_bus_status (125 by
 * default; sem run gives its command's status, which must pass
 * through). A SIGBUS elsewhere keeps its default action. */
void obj_bus_status(int status);

/* obj_bus_jump: while JB is set (not NULL), such a fault jumps to JB
 * (siglongjmp, value 1) instead, without a word: for a tool that must
 * go on after finding its object damaged (sem run waits for its command
 * first). The object is not to be touched again but to end as above. */
void obj_bus_jump(sigjmp_buf *jb);

/* obj_list: call FN for every object of type T in the namespace
 * directory, in name order, with the object open. Returns 0, or -1 if
 * the directory cannot be read (after printing why). */
int obj_list(const struct obj_type *t,
    void (*fn)(struct obj *o, void *arg), void *arg);

/* obj_mutex_init: a process-shared robust mutex. Returns 0 or an errno. */
int obj_mutex_init(pthread_mutex_t *m);

/* obj_lock: lock M. Returns 0, or 1 if the previous owner died holding
 * it: the caller then repairs the state it guards before unlocking (the
 * mutex is already marked consistent). A holder that does not exist (a
 * damaged or copied file) is taken for a dead one after about a second.
 * Aborts the tool with 125 on any other error. From obj_lock to the
 * matching obj_unlock, SIGTSTP, SIGTTIN and SIGTTOU are blocked (they
 * take effect at obj_unlock), so that a Ctrl-Z never stops a process
 * that locks everyone else out; while it still waits for M, one that
 * came stops it within about a second. Locks may nest. */
int obj_lock(pthread_mutex_t *m);
void obj_unlock(pthread_mutex_t *m);

/* obj_mutex_trylock: pthread_mutex_trylock of robust mutex M, except
 * that a lock word naming a thread that does not exist (a copied or
 * damaged object: the kernel marks a robust mutex only for a holder
 * that dies holding it) is taken for a dead holder's: EOWNERDEAD. */
int obj_mutex_trylock(pthread_mutex_t *m);

/* obj_mutex_grab: take robust mutex M if nobody alive holds it. Returns
 * 0 if it is now ours (it was free, or its holder died: the kernel tells
 * through the robust futex list, and obj_mutex_trylock for the thread
 * of a copied object), -1 if a live process holds it (we among them). */
int obj_mutex_grab(pthread_mutex_t *m);

/* obj_mutex_dead: nonzero if no live process holds M (its holder left or
 * died); M is left unlocked either way. Call it with the lock that keeps
 * M from being taken meanwhile. */
int obj_mutex_dead(pthread_mutex_t *m);

/* obj_futex_wait: sleep while *WORD == VAL, until woken or the absolute
 * CLOCK_MONOTONIC DEADLINE (ns; -1: none). Returns 0 (woken, or the
 * value had changed), ETIMEDOUT, or EINTR. */
int obj_futex_wait(uint32_t *word, uint32_t val, int64_t deadline);

/* obj_futex_wait_bits: the same, as a waiter of class BITS (a nonzero
 * mask): obj_futex_wake_bits wakes it only with a mask that shares a bit
 * with BITS. obj_futex_wait and obj_futex_waitv wait with every bit. */
int obj_futex_wait_bits(uint32_t *word, uint32_t val, int64_t deadline,
    uint32_t bits);

/* obj_futex_waitv: obj_futex_wait on N (at most OBJ_WAITV_MAX) words at
 * once: sleep while every *WORDS[i] == VALS[i]. Returns as
 * obj_futex_wait, or -1 with errno ENOSYS on a kernel before Linux 5.16
 * (which has no futex_waitv) and EINVAL for too many words. */
#define OBJ_WAITV_MAX 128
int obj_futex_waitv(uint32_t *const *words, const uint32_t *vals, int n,
    int64_t deadline);

/* obj_futex_wake: wake up to N waiters on WORD (INT32_MAX: all). */
void obj_futex_wake(uint32_t *word, int n);

/* obj_futex_wake_bits: wake up to N of the waiters on WORD whose class
 * shares a bit with BITS (see obj_futex_wait_bits). Returns how many it
 * woke (-1 on error). */
int obj_futex_wake_bits(uint32_t *word, int n, uint32_t bits);

/* The process that owns a slot or a claim: pid plus an identity
 * (proc_ident: a pidfs inode number where the kernel has pidfs, else the
 * start time in clock ticks), so that a recycled pid is not mistaken for
 * the owner. */
struct obj_owner {
	int32_t pid;
	uint32_t kind;   /* PROC_ID_PIDFS or PROC_ID_TICKS */
	uint64_t start;  /* the identity proc_ident gave */
};

/* obj_owner_of: describe PID in *OW. Returns 0, or -1 (and *OW zeroed)
 * if PID does not exist or has already exited. */
int obj_owner_of(struct obj_owner *ow, pid_t pid);

/* obj_owner_same: nonzero if A and B describe the same process. */
int obj_owner_same(const struct obj_owner *a, const struct obj_owner *b);

/* obj_owner_alive: nonzero if the owner still runs. */
int obj_owner_alive(const struct obj_owner *ow);

#endif
