/* libFuzzer target: the object-file reader. Arbitrary bytes written where
 * an object is expected must be refused (or accepted only with a valid
 * header) by obj_open for every kind, never crash it. The tools check
 * their own fields beyond the header; their targets live beside this. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "obj.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct obj_type types[] = {
		{ OBJ_QUEUE, 1, "queue" }, { OBJ_SEM, 1, "semaphore" },
		{ OBJ_BARRIER, 1, "barrier" },
	};
	char path[4096];
	struct obj o;

	snprintf(path, sizeof path, "%s/x", fuzz_dir());
	fuzz_write(path, data, size);
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		if (obj_open(&o, "x", &types[i], NULL) == 0) {
			const struct obj_hdr *h = o.map;
			if (h->magic != OBJ_MAGIC || h->kind != types[i].kind ||
			    h->size != o.size)
				abort();
			obj_close(&o);
		}
	}
	return 0;
}
