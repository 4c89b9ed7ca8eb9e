/* libFuzzer target: reading a --joblog for --resume and --resume-failed
 * (cmd/pool/joblog.c). The first input byte picks the mode (bit 0:
 * --resume-failed), the rest is the log. joblog_skip must then agree,
 * for every job number the log names and a few it does not, with a
 * plain reading of GNU parallel's format: a line of at least nine
 * TAB-separated fields whose first is a job number up to 2^40 counts,
 * the last such line of a job wins, and --resume-failed skips only the
 * jobs whose Exitval and Signal are both 0. */
// fuzz-sources: cmd/pool/joblog.c cmd/pool/job.c cmd/pool/input.c cmd/pool/hosts.c cmd/pool/source.c cmd/pool/results.c cmd/pool/slurm.c
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz.h"
#include "../cmd/pool/pool.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_dir();
	err_init("pool");
	return 0;
}

#define NSEEN 64

/* The verdict for job SEQ by the last line naming it; -1: none. */
static int
expect(const char *log, size_t n, unsigned long long seq, int failed_only)
{
	const char *p = log, *end = log + n;
	int v = -1;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p), *q;
		const char *f[9];
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char num[64], *e;
		unsigned long long s;
		int i;

		for (i = 0, q = p; i < 9 && q; i++) {
			f[i] = q;
			q = memchr(q, '\t', len - (q - p));
			if (q)
				q++;
		}
		p += len + 1;
		if (i < 9 || f[8] == NULL || f[1] - f[0] - 1 >= (long)sizeof num ||
		    memchr(f[0], '\0', f[1] - f[0] - 1))
			continue;
		memcpy(num, f[0], f[1] - f[0] - 1);
		num[f[1] - f[0] - 1] = '\0';
		errno = 0;
		s = strtoull(num, &e, 10);
		if (errno || *e || e == num || s > 1ULL << 40 || s != seq)
			continue;
		v = !failed_only || (f[7] - f[6] == 2 && f[6][0] == '0' &&
		    f[8] - f[7] == 2 && f[7][0] == '0');
	}
	return v;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[4096];
	unsigned long long seen[NSEEN];
	struct conf c;
	char *log;
	const char *p;
	size_t n, k = 0, i;
	int failed_only, v;

	if (size < 1 || memchr(data, '\0', size))
		return 0;   /* getline stops at no NUL, but strchr would */
	failed_only = data[0] & 1;
	n = size - 1;
	log = fuzz_str(data + 1, n);
	snprintf(path, sizeof path, "%s/log", fuzz_dir());
	fuzz_write(path, log, n);
	memset(&c, 0, sizeof c);
	c.joblog = path;
	c.resume = !failed_only;
	c.resume_failed = failed_only;
	joblog_open(&c);

	/* The numbers that start lines, and their neighbours. */
	for (p = log; p && p < log + n && k + 3 <= NSEEN;) {
		char num[32];
		size_t len = strspn(p, "0123456789");
		if (len > 0 && len < sizeof num) {
			memcpy(num, p, len);
			num[len] = '\0';
			seen[k] = strtoull(num, NULL, 10);
			seen[k + 1] = seen[k] + 1;
			seen[k + 2] = seen[k] - 1;
			k += 3;
		}
		p = memchr(p, '\n', log + n - p);
		if (p)
			p++;
	}
	for (i = 0; i < k; i++) {
		v = expect(log, n, seen[i], failed_only);
		if (joblog_skip(seen[i]) != (v == 1)) {
			fprintf(stderr, "fuzz: job %llu: skip %d, expected %d\n",
			    seen[i], joblog_skip(seen[i]), v == 1);
			abort();
		}
	}
	joblog_close();
	free(log);
	return 0;
}
