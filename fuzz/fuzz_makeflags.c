/* libFuzzer target: MAKEFLAGS, as pool reads it for a jobserver and
 * rewrites it for its jobs (lib/jobserver.c). The input is MAKEFLAGS.
 * jobserver_from_env must return cleanly; when it finds a jobserver, a
 * token is taken and given back. The target serves a pipe on
 * descriptors 100 and 101 and makes a FIFO f and a plain file r in
 * DIR below; an input with a "fifo:" not followed by DIR, or with "..",
 * is only rewritten, so that nothing outside DIR is ever opened. jobserver_makeflags must keep
 * the words of the old value but its -j and jobserver options, then
 * give its own, then the old " -- VAR=value" part. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "jobserver.h"

#define DIR "/tmp/conc-fuzz-makeflags/"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int p[2];

	if (pipe(p) < 0 || dup2(p[0], 100) < 0 || dup2(p[1], 101) < 0 ||
	    write(101, "+", 1) != 1)
		abort();
	close(p[0]);
	close(p[1]);
	(void)mkdir(DIR, 0700);
	(void)mkfifo(DIR "f", 0600);
	fuzz_write(DIR "r", "", 0);
	return 0;
}

/* May jobserver_from_env open what MF names? */
static int
safe(const char *mf)
{
	const char *p;

	if (strstr(mf, "..") != NULL)
		return 0;
	for (p = mf; (p = strstr(p, "fifo:")) != NULL; p += 5)
		if (strncmp(p + 5, DIR, strlen(DIR)) != 0)
			return 0;
	return 1;
}

static int
dropped(const char *w, size_t n)
{
	return (n >= 2 && strncmp(w, "-j", 2) == 0) ||
	    (n >= 17 && strncmp(w, "--jobserver-auth=", 17) == 0) ||
	    (n >= 16 && strncmp(w, "--jobserver-fds=", 16) == 0);
}

/* Every word of OLD before " -- " that is not dropped is in NEW, in
 * order, then ours, then OLD's " -- " part. */
static void
check_makeflags(const char *old, const char *new, const char *ours)
{
	const char *p = old, *q = new, *rest = "";
	size_t n;

	for (;;) {
		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == 0)
			break;
		if (n == 2 && strncmp(p, "--", 2) == 0) {
			rest = p;
			break;
		}
		if (!dropped(p, n)) {
			if (strncmp(q, p, n) != 0 || q[n] != ' ')
				abort();
			q += n + 1;
		}
		p += n;
	}
	n = strlen(ours);
	if (strncmp(q, ours, n) != 0)
		abort();
	q += n;
	if (*rest ? *q != ' ' || strcmp(q + 1, rest) != 0 : *q != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *mf = fuzz_str(data, size), *s;
	struct jobserver js;
	const char *why;
	int r;

	if (strlen(mf) == size && safe(mf)) {
		r = jobserver_from_env(&js, mf, &why);
		if (r < -1 || r > 1 || (r < 0 && why == NULL))
			abort();
		if (r == 1 && jobserver_take(&js) == 1)
			jobserver_give(&js);
		jobserver_free(&js);
	}
	jobserver_init(&js);
	js.srv[0] = 100;
	js.srv[1] = 101;
	s = jobserver_makeflags(&js, 8, mf);
	if (s == NULL)
		abort();
	check_makeflags(mf, s, "-j8 --jobserver-auth=100,101");
	free(s);
	free(mf);
	return 0;
}
