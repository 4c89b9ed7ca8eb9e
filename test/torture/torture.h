/* torture: a randomized crash test of all five programs at once.
 * torture.c drives the run, ops.c knows every kind of participant,
 * ledger.c accounts for every queue message, helper.c holds the small
 * participants (semaphore holders, barrier actions) that check the
 * invariants from inside while they run. */
#ifndef TORTURE_H
#define TORTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The names of the objects under test. The semaphores have SEM_SLOTS
 * and 1 slots; the barrier has PARTIES parties. */
#define QUEUE "tq"
#define SEM "ts"
#define MUTEX "tm"
#define BARRIER "tb"
#define SEM_SLOTS 3
#define PARTIES 3
#define QUEUE_SIZE "16K"

/* The kinds of participant (ops.c). */
enum kind {
	K_PUT, K_PUT_STDIN, K_PUT_NUL, K_PUT_NOWAIT, K_PUT_TIMEOUT,
	K_GET, K_GET_N, K_GET_NUL, K_GET_FOLLOW, K_GET_NOWAIT,
	K_POOL, K_POOL_PIPE, K_PARALLEL,
	K_SEM_RUN, K_SEM_NOWAIT, K_SEM_TIMEOUT, K_MUTEX, K_ACQUIRE,
	K_PARTY, K_PARTY_TIMEOUT, K_BARFIX, K_LOOK,
	NKINDS
};

/* Roles: each has a number of slots that the driver keeps busy. */
enum role { R_PUT, R_GET, R_POOL, R_PAR, R_SEM, R_MUTEX, R_PARTY, R_MISC,
	NROLES };

struct op {
	unsigned id;
	enum kind kind;
	enum role role;
	pid_t pid;
	int64_t start, kill_at; /* monotonic ns; kill_at 0: no kill planned */
	int64_t progress;       /* when it last made progress (the watchdog) */
	long long out_size;     /* its output's size then */
	int touched;            /* a SIGKILL reached its process tree */
	uint32_t msg0, nmsg;    /* the ledger numbers of the messages it puts */
	int64_t gen0;           /* party: generations completed before it */
	char *out, *err;        /* its stdout and stderr files, or NULL */
	char *desc;             /* the command, for reports */
};

/* The run's shared settings. */
struct ctx {
	char dir[512];   /* work directory; CONC_DIR is dir/ns */
	char self[512];  /* this executable, for the helpers */
	uint64_t seed;
};
extern struct ctx T;

/* torture.c */
uint64_t rnd(void);                     /* the seeded generator */
uint64_t rnd_below(uint64_t n);         /* uniform in [0, n) */
int64_t now_ns(void);
void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern unsigned long checks;            /* invariant checks by the driver */

/* ops.c */
enum role kind_role(enum kind k);
const char *kind_name(enum kind k);
enum kind pick_kind(enum role r);
/* op_spawn: start OP (kind set); fills pid, desc, files. -1 on failure. */
int op_spawn(struct op *op);
/* op_done: account for OP, which ended with exit status ST. */
void op_done(struct op *op, int st);
/* op_max_kill_delay: how late a planned kill of this kind may come. */
int64_t op_max_kill_delay(enum kind k);
/* run_tool: run argv to the end, its stdout into OUT (NUL-terminated,
 * at most OUTLEN-1 bytes; OUT may be NULL). Returns the exit status. */
int run_tool(char *const argv[], char *out, size_t outlen);

/* ledger.c */
uint32_t ledger_new(uint32_t n);
void ledger_text(uint32_t g, char *buf, size_t len);
void ledger_ack(uint32_t g0, uint32_t n);
void ledger_dupok(uint32_t g0, uint32_t n);
/* ledger_read: account for the messages in FILE, each ended by SEP,
 * written by a getter that was killed (KILLED) or ended on its own;
 * returns the number of whole records. */
int ledger_read(const char *file, int sep, int killed, const char *who);
/* ledger_check: the final accounting (violations are reported). */
void ledger_check(void);
extern unsigned long ledger_puts, ledger_acked, ledger_got, ledger_redelivered;

/* helper.c: the participants that check from inside. */
int helper_main(int argc, char **argv);
int64_t gen_read(void);
void append_file(const char *name, const char *s, size_t len);
unsigned long file_size(const char *name);

#endif
