/* libFuzzer target: a queue file. The input stands for the whole file
 * (the compact encoding of fuzz.h), which is written where queue "x" is
 * expected; the tool then opens it and runs a bounded operation on it as
 * queue stat, put --nowait, get --nowait, close do (choice: the low bits
 * of the header's first reserved word). Every outcome is fine but a
 * crash, a hang (-timeout), or an exit with another status than 125.
 *
 * Fixed up before the tool sees the file: the header's magic, kind,
 * version and size (obj_open's checks have fuzz_obj), the mutexes (see
 * fuzz.h), and a boot id that starts with a NUL, which becomes this
 * boot's (any other stands for a queue made before a reboot, whose
 * mutexes the tool makes anew). */
// fuzz-sources: cmd/queue/queueobj.c
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fuzz.h"
#include "obj.h"
#include "../cmd/queue/queueobj.h"

static const struct obj_type q_type = { OBJ_QUEUE, Q_VERSION, "queue" };

static void
each_mutex(struct q_shared *sh, void (*fn)(pthread_mutex_t *))
{
	int i;

	fn(&sh->lock);
	for (i = 0; i < Q_NSLOT; i++)
		fn(&sh->slot[i].m);
}

/* For fuzz/seeds: what the target rewrites is left out of a seed. */
static void
strip(uint8_t *img, size_t size)
{
	struct q_shared *sh = (struct q_shared *)(void *)img;

	if (size < sizeof *sh)
		return;
	each_mutex(sh, fuzz_mutex_strip);
	memset(sh->boot, 0, sizeof sh->boot);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_obj_seed(strip);
	fuzz_dir();
	err_init("queue");
	return 0;
}

static struct queue q;
static struct q_out out;

/* HOW: 0 commit what was claimed, 1 give it back, 2 commit the first
 * half and give the rest back (a write error). */
static void
get(int how)
{
	struct q_shared *sh = q.sh;
	size_t k = 0;

	q_lock(&q);
	q_commit(&q);
	if (sh->claimed > 0)
		q_reap(&q);
	if ((q.slot >= 0 || q_slot_get(&q) == 0) &&
	    (k = q_claim(&q, 4, 65536, &out, '\n')) > 0) {
		q_unlock(&q);
		q_lock(&q);
		if (how == 1)
			q_unclaim(&q);
		else if (how == 2)
			q_unclaim_after(&q, &out, k / 2);
		q_commit(&q);
	}
	q_slot_put(&q);
	q_unlock(&q);
}

static void
put(int32_t prio)
{
	static const struct q_msg m[2] = { { "hello", 5 }, { "", 0 } };
	/* An odd priority puts with an extension (a retried message's). */
	static const struct q_meta meta = { 7, 0, 2, 1 };
	struct q_shared *sh = q.sh;

	q_lock(&q);
	if (!sh->closed && q_insert(&q, m, 2, prio, prio & 1 ? &meta : NULL) ==
	    0 && sh->claimed > 0)
		q_reap(&q);
	q_slot_put(&q);
	q_unlock(&q);
}

static void
stat_(void)
{
	struct q_shared *sh = q.sh;

	q_lock(&q);
	if (sh->claimed > 0 || sh->getw > 0 || sh->putw > 0)
		q_reap(&q);
	(void)q_count_waiting(&q, Q_WAIT_GET);
	q_unlock(&q);
}

static void
run(unsigned ops)
{
	struct obj o;

	if (obj_open(&o, "x", &q_type, NULL) < 0)
		abort();    /* the header was made valid */
	if (q_attach(&q, &o) < 0) {
		obj_close(&o);
		memset(&q, 0, sizeof q);
		return;
	}
	if (ops & 1)
		stat_();
	if (ops & 2)
		put((int32_t)(ops >> 8));
	if (ops & 4)
		get(0);
	if (ops & 8)
		get(1);
	if (ops & 64)
		get(2);
	if (ops & 16) {
		q_lock(&q);
		q.sh->closed = 1;
		q_bump_get(&q);
		q_unlock(&q);
	}
	if (ops & 32)
		stat_();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *img;
	size_t n;
	struct q_shared *sh;
	unsigned ops = 7;

	img = fuzz_obj_image(data, size, OBJ_QUEUE, Q_VERSION, &n, &ops);
	if (img == NULL)
		return 0;
	sh = (struct q_shared *)(void *)img;
	if (n >= sizeof *sh) {
		each_mutex(sh, fuzz_mutex_fix);
		if (sh->boot[0] == '\0')
			q_boot_id(sh->boot, sizeof sh->boot);
	}
	fuzz_obj_install(img, n);

	memset(&q, 0, sizeof q);
	/* Stopped half-way: let go of what the tool held. */
	if (fuzz_call(run, ops) && q.o.map != NULL && n >= sizeof *sh)
		each_mutex(q.sh, fuzz_mutex_drop);
	if (q.o.map != NULL)
		q_close(&q);
	free(out.buf);
	free(out.pos);
	free(out.end);
	memset(&out, 0, sizeof out);
	return 0;
}
