/* libFuzzer target: a semaphore file. The input stands for the whole
 * file (the compact encoding of fuzz.h), which is written where
 * semaphore "x" is expected; the tool then opens it and does what sem
 * stat, acquire --nowait (--count 2, --shared), release (--count 2, or
 * of an unowned one) and rm do (choice: the low bits of the header's
 * first reserved word). Every outcome is fine but a crash, a
 * hang (-timeout), or an exit with another status than 125. The
 * header's magic, kind, version and size and the mutex are fixed up
 * first (see fuzz.h). */
// fuzz-sources: cmd/sem/semobj.c
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fuzz.h"
#include "obj.h"
#include "../cmd/sem/semobj.h"

static void
strip(uint8_t *img, size_t size)
{
	if (size >= sizeof(struct sem_shm))
		fuzz_mutex_strip(&((struct sem_shm *)(void *)img)->lock);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_obj_seed(strip);
	fuzz_dir();
	err_init("sem");
	return 0;
}

static struct sem m;
static struct semobj_view v;

static void
run(unsigned ops)
{
	static volatile sig_atomic_t stop;
	struct sem_req r;
	int slot;

	if (semobj_open(&m, "x", NULL) < 0)
		return;
	memset(&r, 0, sizeof r);
	(void)obj_owner_of(&r.owner, getpid()); /* we run */
	r.self = r.owner;
	r.comm = "fuzz";
	r.nowait = 1;
	r.deadline = -1;
	r.stop = &stop;
	if (ops & 64)
		r.count = 2;
	if (ops & 128)
		r.shared = 1;
	if (ops & 1) {
		semobj_view(&m, &v);
		free(v.holders);
		v.holders = NULL;
	}
	if ((ops & 2) && semobj_take(&m, &r, &slot) == 0 && !(ops & 4))
		semobj_give(&m, &r.owner, slot);
	if (ops & 8)
		semobj_give(&m, &r.owner, -1);
	if (ops & 256)
		semobj_give_count(&m, &r.owner, 2);
	if (ops & 512)
		semobj_post(&m, 1);
	if (ops & 16)
		semobj_remove(&m, (ops & 32) != 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *img;
	size_t n;
	struct sem_shm *s;
	unsigned ops = 3;

	img = fuzz_obj_image(data, size, OBJ_SEM, SEM_VERSION, &n, &ops);
	if (img == NULL)
		return 0;
	s = (struct sem_shm *)(void *)img;
	if (n >= sizeof *s)
		fuzz_mutex_fix(&s->lock);
	fuzz_obj_install(img, n);

	memset(&m, 0, sizeof m);
	if (fuzz_call(run, ops)) {
		free(v.holders);
		v.holders = NULL;
		if (m.s != NULL)
			fuzz_mutex_drop(&m.s->lock);
	}
	if (m.o.map != NULL)
		semobj_close(&m);
	return 0;
}
