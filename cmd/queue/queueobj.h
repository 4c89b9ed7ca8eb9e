/* queueobj: the shared-memory format of a queue and the operations on it.
 * The algorithm (ring, slots, journal, recovery) is explained at the top
 * of queue.c. Every function marked "locked" must be called between
 * q_lock and q_unlock. */
#ifndef QUEUE_QUEUEOBJ_H
#define QUEUE_QUEUEOBJ_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "obj.h"

/* Version 2: records may carry an extension (struct q_meta), and the
 * header counts ids and delayed messages. */
#define Q_VERSION 2
#define Q_NSLOT 512                     /* getters in flight at once */
#define Q_RECHDR 16                     /* bytes of bookkeeping per message */
#define Q_EXTSZ 24                      /* ... and more for one with q_meta */
#define Q_MSG_MAX (16u << 20)           /* longest message of any queue */
#define Q_SIZE_DEFAULT (32ull << 20)    /* storage of a queue by default */
#define Q_SIZE_MIN 64
#define Q_SIZE_MAX (2ull << 30)
#define Q_MAX_MAX 0xffffffffull         /* largest --max */
#define Q_NONE UINT64_MAX               /* "no position" */

enum { Q_FIFO, Q_LIFO, Q_PRIO };

/* What a waiting process waits for (shown by stat). */
enum { Q_WAIT_NONE, Q_WAIT_GET, Q_WAIT_PUT, Q_WAIT_JOIN };

/* One message in the ring: this header, then (if LEN has R_EXT set) its
 * q_meta in Q_EXTSZ bytes, then LEN bytes, then up to 3 bytes of padding
 * to keep headers 4-byte aligned. */
struct q_rec {
	uint32_t len;       /* | R_EXT: an extension follows */
	uint32_t state;     /* R_READY, R_FREE, R_PAD or R_CLAIMED | slot */
	uint32_t back;      /* distance to the previous message's start, 0: none */
	int32_t prio;
};

/* What a message may carry besides its bytes (the record's extension):
 * messages that were retried (queue run), dead-lettered or delayed. */
struct q_meta {
	uint64_t id;        /* QUEUE_ID (0: none given yet) */
	int64_t due;        /* CLOCK_REALTIME ns before which it stays hidden;
	                     * 0: visible */
	uint32_t attempt;   /* attempts made so far */
	int32_t status;     /* the last attempt's exit status */
};

/* A getter's slot: its robust mutex is held for as long as the getter
 * runs, so a slot whose mutex reports EOWNERDEAD belongs to a dead
 * process, and the messages it claimed go back to the queue. */
struct q_slot {
	pthread_mutex_t m;
	uint64_t state;     /* S_IDLE, S_ACTIVE, S_COMMITTED (journaled) */
	uint64_t lo, hi;    /* first and last position it has claimed */
	uint64_t nbytes, nused;
	uint32_t n;         /* messages it has claimed */
	uint32_t contig;    /* they are one run, nobody else's in between */
	uint32_t role;      /* Q_WAIT_*: what it is waiting for */
	int32_t pid;
};

#define Q_JMAX 8
struct q_journal {
	uint64_t n;         /* entries to apply; 0: nothing pending */
	uint64_t off[Q_JMAX];
	uint64_t val[Q_JMAX];
};

struct q_shared {
	struct obj_hdr obj;
	/* Settings, fixed at creation. */
	uint64_t ring_size;     /* R: bytes of storage, a multiple of 16 */
	uint64_t max;           /* most messages, 0: only R limits */
	uint64_t ring_off;      /* where the ring starts in the file */
	uint64_t heap_off;      /* where the priority heap starts */
	uint64_t heap_cap;      /* heap entries (priority queues) */
	uint32_t order;         /* Q_FIFO, Q_LIFO, Q_PRIO */
	uint32_t pad0;
	char boot[40];          /* boot id when the mutexes were made */
	pthread_mutex_t lock;
	uint32_t put_seq;       /* futex: bumped on put, close, return */
	uint32_t get_seq;       /* futex: bumped on get, done, close */
	uint32_t getw, putw;    /* processes waiting on put_seq / get_seq */
	struct q_journal j;
	/* Primary state: changed only through the journal. */
	uint64_t head, tail, last;
	uint64_t undone;        /* messages got and not yet done */
	uint64_t puts, gets;
	/* Single words, stored directly. */
	uint64_t closed, removed;
	/* Derived state: recomputed from the ring after a crash. */
	uint64_t ready, claimed, bytes, used;
	uint64_t rd;            /* where the next get starts looking */
	uint64_t heap_n;
	uint64_t repairs;       /* times a dead mutex holder was cleaned up */
	uint64_t ids;           /* the last QUEUE_ID given out */
	uint64_t delayed;       /* ready messages with a due time (derived) */
	struct q_slot slot[Q_NSLOT];
	/* Storage (see "Storage" in queue.c). Hints, stored directly: the
	 * pages of the AL_LEN ring bytes from offset AL_OFF on (going round)
	 * and of the heap's first HEAP_AL bytes are allocated. Zero in a
	 * queue whose file was allocated in full (SPARSE 0). */
	uint32_t sparse;        /* 1: storage is allocated as needed */
	uint32_t trims;         /* bumped whenever storage is given back */
	uint64_t al_off, al_len;
	uint64_t heap_al;
};

/* A priority heap entry: the message's priority and ring offset. */
struct q_hent {
	int32_t prio;
	uint32_t off;
};

struct q_settings {
	uint64_t size;      /* storage, rounded up to a multiple of 16 */
	uint64_t max;       /* 0: unlimited */
	uint32_t order;
	unsigned mode;      /* 0: 0600 */
};

struct queue {
	struct obj o;
	struct q_shared *sh;
	unsigned char *ring;
	struct q_hent *heap;
	uint64_t R;         /* ring bytes and (below) heap entries: fixed at
	                     * attach from the mapping; indices into the
	                     * file are bounded by these, never by counts
	                     * read from it */
	uint64_t hcap;
	uint32_t maxmsg;    /* longest message this queue takes */
	int slot;           /* our slot, -1: none */
	int jn;             /* journal entries being prepared */
	int wake_get, wake_put;
	uint64_t pf_hi;     /* ring positions below this are prefaulted */
	uint64_t pf_total;  /* bytes prefaulted so far; R: all of the ring */
	uint32_t trims;     /* sh->trims when pf_hi and pf_total were right */
	int sparse;         /* storage is allocated as needed (sh->sparse) */
	int changed;        /* we put or removed messages: q_close tidies up
	                     * the storage */
	int nospace;        /* q_insert stopped for want of storage: errno */
	int fsz_low;        /* the file size limit is below the file's size */
	int want_meta;      /* q_claim: give each message an id, keep meta */
	int hold;           /* q_claim: the claims are held while a job runs,
	                     * not only while they are written out */
	int nopace;         /* q_pace: the getters did not keep up */
	uint32_t pace_seq;  /* q_pace: get_seq when we saw it move last, */
	int64_t pace_since; /* ... at this time (q_now), 0: not yet */
	int print_meta;     /* q_claim: "ATTEMPTS<TAB>STATUS<TAB>" first */
	const char *tag;    /* q_claim: written before each message, or NULL */
	struct q_meta meta; /* q_claim: of the last message taken */
	int64_t next_due;   /* q_claim: earliest due time of the messages it
	                     * passed over (CLOCK_REALTIME ns), 0: none */
};

/* A message to put. */
struct q_msg {
	const char *data;
	uint32_t len;
};

/* Output of q_claim: messages each followed by the terminator, and
 * which messages of the queue they are, in the order taken: each one's
 * position and the end of its output in BUF (of the last q_claim). */
struct q_out {
	char *buf;
	size_t len, cap;
	uint64_t *pos;
	size_t *end;
	size_t n, ncap;
};

/* q_open: open queue NAME, creating it as S says when it is missing
 * (S NULL: it must exist). Returns 0, or -1 after printing why. */
int q_open(struct queue *q, const char *name, const struct q_settings *s);

/* q_attach: take over an object opened by obj_open (obj_list): check
 * the layout. Returns 0, or -1 after printing why. */
int q_attach(struct queue *q, const struct obj *o);

/* q_close: unmap the queue. After we put or removed messages, the
 * storage the queue does not need is given back first (q_shrink). */
void q_close(struct queue *q);

/* q_shrink (locked): give back the storage the queue does not need: all
 * but a few pages when it is empty, what lies far outside its messages
 * when the free part is much larger than they are. */
void q_shrink(struct queue *q);

/* q_allocated: bytes of storage the queue's file takes (what du says). */
uint64_t q_allocated(const struct queue *q);

/* q_boot_id: the kernel's boot id (as the queue keeps it, to know its
 * mutexes are from this boot) into BUF. */
void q_boot_id(char *buf, size_t len);

/* q_settings_of: the settings Q was created with. */
void q_settings_of(const struct queue *q, struct q_settings *s);

/* q_lock: lock the queue, repairing it first if the previous holder
 * died. q_unlock: unlock, then wake the waiters the operations asked
 * to wake. */
void q_lock(struct queue *q);
void q_unlock(struct queue *q);

/* q_slot_get (locked): take a slot for this process. Returns 0, or -1
 * if every slot is in use. q_slot_put (locked): give it back; its
 * claims must have been committed or returned. */
int q_slot_get(struct queue *q);

/* q_slot_get_waiter (locked): the same for a waiting putter or joiner,
 * which may use only half of the slots, so that getters always find
 * some. */
int q_slot_get_waiter(struct queue *q);
void q_slot_put(struct queue *q);

/* q_insert (locked): append messages M[0..N) with priority PRIO and
 * (unless NULL) META while they fit; returns how many were added. When
 * it stops because the file system has no storage for the next one,
 * q->nospace is its errno (else 0). */
size_t q_insert(struct queue *q, const struct q_msg *m, size_t n,
    int32_t prio, const struct q_meta *meta);

/* q_maxmsg_meta: the longest message that fits with a q_meta. */
uint32_t q_maxmsg_meta(const struct queue *q);

/* q_pace (locked): a putter about to add more to a queue that already
 * holds a few hundred KiB, while getters are taking messages, waits
 * (until a get wakes it, at most 10 ms, or DEADLINE) so that the stream
 * keeps to a small part of the ring (see early_wrap). Returns 1 if it
 * waited (look at the queue again), 0 if the put may go on. When the
 * getters take nothing for 100 ms of its waits, it does not wait again
 * until the queue has nearly drained. */
int q_pace(struct queue *q, int64_t deadline);

/* q_claim (locked, needs a slot): claim up to MAXN ready messages in
 * queue order (at least one if there is one, at most about MAXBYTES of
 * output) and copy them to OUT, each followed by TERM. Returns how
 * many. */
size_t q_claim(struct queue *q, size_t maxn, size_t maxbytes,
    struct q_out *out, char term);

/* q_commit (locked): the claimed messages were delivered: remove them
 * and count them as tasks to be done. */
void q_commit(struct queue *q);

/* q_unclaim (locked): give the claimed messages back to the queue. */
void q_unclaim(struct queue *q);

/* q_unclaim_after (locked): of the messages the last q_claim took into
 * OUT, keep the first K claimed and give the others back to the queue
 * (their output was not written in full). */
void q_unclaim_after(struct queue *q, const struct q_out *out, size_t k);

/* q_ack (locked): the one message claimed by our slot was handled:
 * remove it (as q_commit, but it leaves no task to be done). */
void q_ack(struct queue *q);

/* q_requeue (locked): replace the one message claimed by our slot with
 * a ready copy carrying META, in one journal commit (a crash leaves the
 * old or the new one, never both or neither). Returns 1, or 0 when it
 * does not fit now (the claim is kept). */
int q_requeue(struct queue *q, const struct q_meta *meta);

/* q_claimed_msg (locked): the bytes and length of the one message
 * claimed by our slot. */
const void *q_claimed_msg(struct queue *q, uint32_t *len);

/* q_count_delayed (locked): ready messages not yet due. */
uint64_t q_count_delayed(struct queue *q);

/* q_realtime: CLOCK_REALTIME in ns. q_due_mono: the CLOCK_MONOTONIC
 * deadline (q_now based) of due time DUE. */
int64_t q_realtime(void);
int64_t q_due_mono(int64_t due);

/* q_reap (locked): give back the messages claimed by dead processes.
 * Returns how many slots it recovered. */
int q_reap(struct queue *q);

/* q_reap_quick (locked): the same for holders the kernel marked dead in
 * their mutexes as they died; cheap enough for every round of a getter
 * (no system call). Only q_reap also finds a holder whose mutex names a
 * thread that is gone without that mark, as in a copy of a queue file
 * made while a getter held its slot. */
int q_reap_quick(struct queue *q);

/* q_wait (locked): release the lock and sleep until WORD (put_seq or
 * get_seq) changes or DEADLINE (monotonic ns, -1: none) passes, as
 * ROLE; wakes up every 250 ms while messages are claimed, to look for
 * dead getters. A getter waiting on put_seq is a chaining waiter (see
 * "Waking" in queue.c): a put wakes only one of those, and it wakes up
 * every second anyway. Returns with the lock held. */
void q_wait(struct queue *q, uint32_t *word, int role, int64_t deadline);

/* q_bump_put / q_bump_get (locked): something getters / putters and
 * joiners wait for happened: wake all of them at q_unlock. */
void q_bump_put(struct queue *q);
void q_bump_get(struct queue *q);

/* q_count_waiting (locked): live processes waiting as ROLE. */
unsigned q_count_waiting(struct queue *q, int role);

/* q_wait_bound: UNTIL (q_now based, -1: none), but no later than the
 * second from now in which every waiter looks again: a process killed
 * between unlocking and waking its waiters leaves them asleep. */
int64_t q_wait_bound(int64_t until);

/* q_now: CLOCK_MONOTONIC in ns. */
int64_t q_now(void);

#endif
