/* sem_handoff: how long it takes to hand a lock from one process to
 * another that is waiting for it.
 *
 *   sem_handoff sem NAME ITER    the semaphore object of sem(1)
 *   sem_handoff flock FILE ITER  flock(2), each process with its own open
 *   sem_handoff futex - ITER     a bare futex ping-pong: the floor
 *
 * Two processes each take the lock ITER times. The holder keeps it for
 * HOLD_US, long enough for the other to be asleep waiting, notes the
 * time, and releases it. When a process takes the lock from the other,
 * the time since that release is one hand-off latency. A lock that is
 * not fair (flock) often goes back to the process that just released
 * it: then no hand-off happens, and the waiter waits another HOLD_US.
 *
 * Prints "MEDIAN_US P90_US HANDOFFS RELEASES". Built by bench/sem.sh with
 * cmd/sem/semobj.c and lib/libconc.a. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "obj.h"
#include "sem.h"

#define HOLD_US 200

struct shared {
	uint32_t ready;
	uint32_t go;
	uint32_t turn;        /* futex mode: whose turn it is (0 or 1) */
	uint32_t last;        /* who released last (1 or 2), 0: nobody */
	int64_t released;     /* when */
	uint64_t handoffs, releases;
	int64_t lat[];        /* ns, one per hand-off */
};

static struct shared *sh;
static volatile sig_atomic_t never;

/* Called with the lock held, right after taking it. */
static void
taken(int me)
{
	int64_t now = sem_now();

	if (sh->last != 0 && sh->last != (uint32_t)me)
		sh->lat[sh->handoffs++] = now - sh->released;
	usleep(HOLD_US);
	sh->last = me;
	sh->releases++;
	sh->released = sem_now();
}

static void
run_sem(const char *name, long iter, int me)
{
	struct sem m;
	struct sem_req r;
	struct sem_params p = { 1, 0, 0 };
	int slot;
	long i;

	if (sem_open(&m, name, &p) < 0)
		exit(1);
	memset(&r, 0, sizeof r);
	obj_owner_of(&r.owner, getpid());
	r.self = r.owner;
	r.comm = "handoff";
	r.deadline = -1;
	r.stop = &never;
	for (i = 0; i < iter; i++) {
		if (sem_take(&m, &r, &slot) != 0)
			exit(1);
		taken(me);
		sem_give(&m, &r.owner, slot);
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

static void
run_futex(long iter, int me)
{
	uint32_t mine = me - 1, next = 2 - me;
	long i;

	for (i = 0; i < iter; i++) {
		uint32_t t;
		while ((t = __atomic_load_n(&sh->turn, __ATOMIC_ACQUIRE)) != mine)
			obj_futex_wait(&sh->turn, t, -1);
		taken(me);
		__atomic_store_n(&sh->turn, next, __ATOMIC_RELEASE);
		obj_futex_wake(&sh->turn, 1);
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

	err_init(argv[0]);
	if (argc != 4 || (iter = atol(argv[3])) <= 0 || iter > 10000000)
		err_diex(2, "usage: sem_handoff sem|flock|futex NAME ITER");
	sh = mmap(NULL, sizeof *sh + 2 * iter * sizeof sh->lat[0],
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		err_die(1, "mmap");
	for (me = 1; me <= 2; me++)
		if (fork() == 0)
			child(argv[1], argv[2], iter, me);
	while ((r = __atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE)) < 2)
		obj_futex_wait(&sh->ready, r, -1);
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	obj_futex_wake(&sh->go, 2);
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
