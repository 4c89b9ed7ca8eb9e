/* libFuzzer target: a barrier file. The input stands for the whole file
 * (the compact encoding of fuzz.h), which is written where barrier "x"
 * is expected; the tool then opens it and does what barrier stat, wait
 * -t 0, reset and abort do (choice: the low bits of the header's first
 * reserved word). Every outcome is fine but a crash, a hang (-timeout),
 * or an exit with another status than 125. The header's magic, kind,
 * version and size and the mutexes are fixed up first (see fuzz.h). */
// fuzz-sources: cmd/barrier/barrierobj.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "loop.h"
#include "obj.h"
#include "../cmd/barrier/barrierobj.h"

static void
each_mutex(uint8_t *img, size_t size, void (*fn)(pthread_mutex_t *))
{
	struct barobj *b = (struct barobj *)(void *)img;
	size_t i;

	if (size < sizeof *b)
		return;
	fn(&b->lock);
	for (i = 0; i < (size - sizeof *b) / sizeof b->slot[0]; i++)
		fn(&b->slot[i].alive);
}

static void
strip(uint8_t *img, size_t size)
{
	each_mutex(img, size, fuzz_mutex_strip);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_obj_seed(strip);
	fuzz_dir();
	err_init("barrier");
	return 0;
}

static struct obj o;

static void
run(unsigned ops)
{
	struct barobj_req req = { -1, NULL };
	struct barobj_res res;
	struct barobj *b;

	if ((b = barobj_open(&o, "x", 0, 0)) == NULL)
		return;
	(void)barobj_why_text(b->broken);
	if (ops & 1) {
		req.deadline = loop_now();
		(void)barobj_wait(b, &req, &res);
	}
	if (ops & 2)
		barobj_reset(b);
	if (ops & 4)
		barobj_break(b, BAR_WHY_ABORT);
	if (ops & 8) {
		req.deadline = loop_now();
		(void)barobj_wait(b, &req, &res);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *img;
	size_t n;
	unsigned ops = 1;

	img = fuzz_obj_image(data, size, OBJ_BARRIER, 1, &n, &ops);
	if (img == NULL)
		return 0;
	each_mutex(img, n, fuzz_mutex_fix);
	fuzz_obj_install(img, n);

	memset(&o, 0, sizeof o);
	if (fuzz_call(run, ops) && o.map != NULL)
		each_mutex(o.map, o.size, fuzz_mutex_drop);
	if (o.map != NULL)
		obj_close(&o);
	return 0;
}
