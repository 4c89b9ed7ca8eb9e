/* sem_handoff: how long it takes to hand a lock from one process to
 * another that is waiting for it.
 *
 *   sem_handoff sem NAME ITER [NPROC]    the semaphore object of sem(1)
 *   sem_handoff flock FILE ITER [NPROC]  flock(2), each process with its
 *                                        own open file description
 *   sem_handoff futex - ITER [NPROC]     a bare futex hand-off: the lock
 *                                        goes round the processes, each
 *                                        sleeping on its own futex word
 *                                        (the floor: one directed wake-up)
 *   sem_handoff condvar - ITER [NPROC]   the same round with a process-
 *                                        shared pthread mutex and condition
 *                                        variable (a broadcast per turn)
 *
 * NPROC processes (default 2: one holder, one waiter) each take the lock
 * ITER times. The holder keeps it for HOLD_US, long enough for the others
 * to be asleep waiting, notes the time, and releases it. When a process
 * takes the lock from another, the time since that release is one
 * hand-off latency. A lock that is not fair (flock) often goes back to
 * the process that just released it: then no hand-off happens.
 *
 * Prints "MEDIAN_US P90_US HANDOFFS RELEASES". Built by bench/sem.sh with
 * cmd/sem/semobj.c and build/libconc.a. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "obj.h"
#include "semobj.h"

#define HOLD_US 200
#define NPROC_MAX 64

struct shared {
	uint32_t ready;
	uint32_t go;
	uint32_t turn;        /* condvar mode: whose turn it is (0..NPROC-1) */
	uint32_t mine[NPROC_MAX]; /* futex mode: 1 when it is I's turn */
	pthread_mutex_t mu;   /* condvar mode */
	pthread_cond_t cv;
	uint32_t last;        /* who released last (1..NPROC), 0: nobody */
	int64_t released;     /* when */
	uint64_t handoffs, releases;
	int64_t lat[];        /* ns, one per hand-off */
};

static struct shared *sh;
static volatile sig_atomic_t never;
static int nproc = 2;

/* Called with the lock held, right after taking it. */
static void
taken(int me)
{
	int64_t now = semobj_now();

	if (sh->last != 0 && sh->last != (uint32_t)me)
		sh->lat[sh->handoffs++] = now - sh->released;
	usleep(HOLD_US);
	sh->last = me;
	sh->releases++;
	sh->released = semobj_now();
}

static void
run_sem(const char *name, long iter, int me)
{
	struct sem m;
	struct sem_req r;
	struct sem_params p = { 1, 0, 0 };
	int slot;
	long i;

	if (semobj_open(&m, name, &p) < 0)
		exit(1);
	memset(&r, 0, sizeof r);
	obj_owner_of(&r.owner, getpid());
	r.self = r.owner;
	r.comm = "handoff";
	r.deadline = -1;
	r.stop = &never;
	for (i = 0; i < iter; i++) {
		if (semobj_take(&m, &r, &slot) != 0)
			exit(1);
		taken(me);
		semobj_give(&m, &r.owner, slot);
	}
}

static void
run_flock(const char *file, long iter, int me)
{
	int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	long i;

	if (fd < 0)
		err_die(1, "open %s", file);
	for (i = 0; i < iter; i++) {
		flock(fd, LOCK_EX);
		taken(me);
		flock(fd, LOCK_UN);
	}
}

/* Futex round: process ME (1..nproc) sleeps on its own word until the
 * previous one sets it, then passes the turn to the next. */
static void
run_futex(long iter, int me)
{
	uint32_t *mine = &sh->mine[me - 1], *next = &sh->mine[me % nproc];
	long i;

	for (i = 0; i < iter; i++) {
		while (__atomic_load_n(mine, __ATOMIC_ACQUIRE) == 0)
			obj_futex_wait(mine, 0, -1);
		__atomic_store_n(mine, 0, __ATOMIC_RELAXED);
		taken(me);
		__atomic_store_n(next, 1, __ATOMIC_RELEASE);
		obj_futex_wake(next, 1);
	}
}

/* Condvar round: the turn number under a mutex; each pass broadcasts. */
static void
run_condvar(long iter, int me)
{
	long i;

	for (i = 0; i < iter; i++) {
		pthread_mutex_lock(&sh->mu);
		while (sh->turn != (uint32_t)me - 1)
			pthread_cond_wait(&sh->cv, &sh->mu);
		pthread_mutex_unlock(&sh->mu);
		taken(me);
		pthread_mutex_lock(&sh->mu);
		sh->turn = me % nproc;
		pthread_cond_broadcast(&sh->cv);
		pthread_mutex_unlock(&sh->mu);
	}
}

static void
child(const char *mode, const char *name, long iter, int me)
{
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_SEQ_CST);
	obj_futex_wake(&sh->ready, 1);
	while (__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE) == 0)
		obj_futex_wait(&sh->go, 0, -1);
	if (strcmp(mode, "sem") == 0)
		run_sem(name, iter, me);
	else if (strcmp(mode, "flock") == 0)
		run_flock(name, iter, me);
	else if (strcmp(mode, "condvar") == 0)
		run_condvar(iter, me);
	else
		run_futex(iter, me);
	_exit(0);
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	long iter;
	uint64_t n;
	uint32_t r;
	int me;

	pthread_mutexattr_t ma;
	pthread_condattr_t ca;

	err_init(argv[0]);
	if ((argc != 4 && argc != 5) || (iter = atol(argv[3])) <= 0 ||
	    iter > 10000000 || (argc == 5 && ((nproc = atoi(argv[4])) < 2 ||
	    nproc > NPROC_MAX)))
		err_diex(2, "usage: sem_handoff sem|flock|futex|condvar NAME ITER [NPROC]");
	sh = mmap(NULL, sizeof *sh + nproc * iter * sizeof sh->lat[0],
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		err_die(1, "mmap");
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&sh->mu, &ma);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&sh->cv, &ca);
	sh->mine[0] = 1;
	for (me = 1; me <= nproc; me++)
		if (fork() == 0)
			child(argv[1], argv[2], iter, me);
	while ((r = __atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE)) < (uint32_t)nproc)
		obj_futex_wait(&sh->ready, r, -1);
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	obj_futex_wake(&sh->go, INT32_MAX);
	while (wait(NULL) > 0)
		;
	n = sh->handoffs;
	if (n == 0)
		err_diex(1, "no hand-offs");
	qsort(sh->lat, n, sizeof sh->lat[0], cmp64);
	printf("%.1f %.1f %llu %llu\n", sh->lat[n / 2] / 1000.0,
	    sh->lat[n * 9 / 10] / 1000.0, (unsigned long long)n,
	    (unsigned long long)sh->releases);
	return 0;
}
