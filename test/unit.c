/* unit: a small driver that exposes the library to test/lib.bats, so that
 * each lib contract is checked from the command line:
 *   unit duration S | size S | count S MIN MAX   parse and print, or "error: why"
 *   unit name NAME        "ok" or "error: why"
 *   unit nsdir            the namespace directory, or "error: why"
 *   unit spawn CMD...     proc_spawn CMD (own process group) and print its status
 *   unit timers           fire timers out of order, print them in deadline order
 *   unit signal           SIGUSR1 to self arrives through the loop
 *   unit mux N            N writers interleave lines through one mux sink
 *   unit orphans N        N times, as a child subreaper: a child spawns
 *                         "sleep 1" with a parent-death signal and is
 *                         SIGKILLed at once; print how many sleeps ran on
 *   unit repl WORD VALUE [I]  WORD with its replacement strings (lib/repl)
 *                         expanded for VALUE: {#} is 7, {%} 3, {N} <N>
 *   unit expand WORD VALUE SEQ SLOT  WORD parsed by repl_parse: a line per
 *                         piece (lit|val POS PART|seq|slot, then its text
 *                         in brackets), then "= " and the pieces expanded
 *                         by repl_expand for VALUE, SEQ and SLOT
 *   unit lockhold PATH    lock the lock object PATH (made if missing) with
 *                         obj_lock, print "locked", read a line from stdin,
 *                         unlock, print "unlocked"
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "loop.h"
#include "repl.h"
#include "mux.h"
#include "ns.h"
#include "obj.h"
#include "opt.h"
#include "proc.h"

static int
fail(const char *why)
{
	printf("error: %s\n", why);
	return 1;
}

static int
do_spawn(char **argv)
{
	struct proc_spec sp;
	int ws, eerr;
	pid_t pid;

	proc_spec_init(&sp, argv);
	sp.pgroup = 1;
	pid = proc_spawn(&sp, &eerr);
	if (pid < 0)
		return fail(strerror(errno));
	if (waitpid(pid, &ws, 0) < 0)
		return fail(strerror(errno));
	printf("status %d%s%s\n", proc_status(ws), eerr ? " exec: " : "",
	    eerr ? strerror(eerr) : "");
	return 0;
}

/* A job must not outlive a runner killed while spawning it, even when
 * the runner's death hands it to a subreaper (pool, parallel, a service
 * manager) rather than to init. The kill lands at instants spread over
 * the first few hundred microseconds of the runner's life, so that some
 * fall between vfork and the child's prctl. */
static int
do_orphans(int n)
{
	char *argv[] = { "sleep", "1", NULL };
	int ws, survivors = 0;
	pid_t pid, w;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return fail(strerror(errno));
	for (int i = 0; i < n; i++) {
		struct timespec t0, t;
		struct proc_spec sp;

		if ((pid = fork()) < 0)
			return fail(strerror(errno));
		if (pid == 0) {
			proc_spec_init(&sp, argv);
			sp.pdeathsig = SIGKILL;
			proc_spawn(&sp, NULL);
			pause();
			_exit(0);
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		do
			clock_gettime(CLOCK_MONOTONIC, &t);
		while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec <
		    (long)(i % 300) * 1000);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		/* Reap what has ended by now; a sleep that survived has not. */
		while ((w = waitpid(-1, &ws, WNOHANG)) > 0)
			;
	}
	while ((w = waitpid(-1, &ws, 0)) > 0)
		if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
			survivors++;
	printf("survivors %d\n", survivors);
	return 0;
}

static void
on_timer(struct loop *l, void *arg)
{
	printf("timer %ld\n", (long)(intptr_t)arg);
}

static int
do_timers(void)
{
	struct loop *l = loop_new();
	int64_t now = loop_now();
	struct loop_timer *t;
	static const int order[] = { 30, 10, 50, 20, 40 };

	for (int i = 0; i < 5; i++)
		loop_add_timer(l, now + order[i] * 1000000LL, on_timer,
		    (void *)(intptr_t)order[i]);
	t = loop_add_timer(l, now + 15 * 1000000LL, on_timer, (void *)15);
	loop_del_timer(l, t);
	loop_run(l);
	if (loop_now() - now < 50 * 1000000LL)
		return fail("a timer fired before its deadline");
	loop_free(l);
	return 0;
}

static void
on_usr1(struct loop *l, int signo, void *arg)
{
	printf("signal %d\n", signo);
	loop_stop(l);
}

static int
do_signal(void)
{
	struct loop *l = loop_new();

	loop_add_signal(l, SIGUSR1, on_usr1, NULL);
	kill(getpid(), SIGUSR1);
	loop_add_timer(l, loop_now() + 10 * OPT_NS_PER_SEC, on_timer, NULL);
	loop_run(l);
	loop_free(l);
	return 0;
}

struct writer {
	struct mux_src src;
	int fd;
};

static void
on_readable(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct writer *w = arg;
	ssize_t n = mux_src_read(&w->src, fd);

	if (n == 0 || (n < 0 && errno != EAGAIN)) {
		loop_del_fd(l, fd);
		close(fd);
	}
	mux_out_flush(w->src.out);
}

/* N children each write 2000 lines of varying length (some longer than a
 * pipe buffer) in small pieces; the output must hold every line whole. */
static int
do_mux(int n)
{
	struct loop *l = loop_new();
	struct mux_out out;
	struct writer *w = calloc(n, sizeof *w);
	char (*prefix)[32] = calloc(n, sizeof *prefix);

	mux_out_init(&out, 1, 1 << 16);
	for (int i = 0; i < n; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0)
			return fail(strerror(errno));
		if (fork() == 0) {
			char *line = malloc(200000);
			close(p[0]);
			for (int k = 0; k < 2000; k++) {
				int len = (k * 7919 + i * 31) % (k % 100 == 0 ?
				    150000 : 300);
				memset(line, 'a' + i % 26, len);
				line[len] = '\n';
				for (int off = 0; off <= len; off += 97) {
					int m = len + 1 - off < 97 ?
					    len + 1 - off : 97;
					if (write(p[1], line + off, m) < 0)
						_exit(1);
				}
			}
			_exit(0);
		}
		close(p[1]);
		fcntl(p[0], F_SETFL, O_NONBLOCK);
		snprintf(prefix[i], sizeof prefix[i], "%d ", i);
		mux_src_init(&w[i].src, &out, prefix[i], "", 1 << 20);
		loop_add_fd(l, p[0], LOOP_IN, on_readable, &w[i]);
	}
	loop_run(l);
	mux_out_flush(&out);
	while (wait(NULL) > 0)
		;
	for (int i = 0; i < n; i++)
		mux_src_free(&w[i].src);
	mux_out_free(&out);
	loop_free(l);
	free(w);
	free(prefix);
	return 0;
}

/* An object holding one robust lock, for the critical-section tests. */
static int
lock_init(void *map, size_t size, void *arg)
{
	(void)size;
	(void)arg;
	return obj_mutex_init((pthread_mutex_t *)(void *)
	    ((char *)map + sizeof(struct obj_hdr))) ? -1 : 0;
}

static int
do_lockhold(const char *path)
{
	static const struct obj_type t = { 99, 1, "lock" };
	struct obj_create c = { sizeof(struct obj_hdr) +
	    sizeof(pthread_mutex_t), 0600, lock_init, NULL, 0,
	    NULL };
	pthread_mutex_t *m;
	struct obj o;
	char line[64];

	if (obj_open(&o, path, &t, &c) < 0)
		return 1;
	m = (pthread_mutex_t *)(void *)((char *)o.map +
	    sizeof(struct obj_hdr));
	obj_lock(m);
	puts("locked");
	(void)!fgets(line, sizeof line, stdin);
	obj_unlock(m);
	puts("unlocked");
	obj_close(&o);
	return 0;
}

/* unit repl: see the top. */
static int
do_repl(const char *word, const char *value, const char *I)
{
	const char *p, *s;
	struct repl r;
	size_t len, n;

	for (p = word; *p;) {
		if (repl_at(word, p, I, &len, &r) < 0) {
			putchar(*p++);
			continue;
		}
		if (r.kind == REPL_SEQ)
			fputs("7", stdout);
		else if (r.kind == REPL_SLOT)
			fputs("3", stdout);
		else if (r.pos > 1)
			printf("<%ld>", r.pos);
		else {
			s = repl_part(r.part, value, &n);
			fwrite(s, 1, n, stdout);
		}
		p += len;
	}
	putchar('\n');
	return 0;
}

/* unit expand: see the top. */
static int
do_expand(const char *word, const char *value, const char *seq,
    const char *slot)
{
	static const char *kind[] = { "lit", "val", "seq", "slot" };
	struct repl_word w = { 0 };
	struct buf b = { 0 };
	int g;

	repl_parse(&w, word, NULL, NULL);
	for (g = 0; g < w.n; g++) {
		const struct repl_piece *p = &w.p[g];
		if (p->kind == REPL_VAL)
			printf("val %ld %d", p->pos, p->part);
		else
			fputs(kind[p->kind], stdout);
		printf(" [%.*s]\n", (int)p->n, p->s);
		repl_expand(&b, p, value, strtoull(seq, NULL, 10),
		    strtoull(slot, NULL, 10));
	}
	printf("%s %d\n= %s\n", w.repl ? "repl" : "norepl", w.n,
	    buf_str(&b));
	buf_free(&b);
	repl_free(&w);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *why;
	char buf[PATH_MAX];

	err_init("unit");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "duration") == 0 && argc == 3) {
		int64_t ns;
		if (opt_parse_duration(argv[2], &ns, &why) < 0)
			return fail(why);
		printf("%lld\n", (long long)ns);
	} else if (strcmp(argv[1], "backoff") == 0 && argc == 4) {
		int64_t first, max;
		if (opt_parse_backoff(argv[2], &first, &max, &why) < 0)
			return fail(why);
		printf("%lld\n", (long long)opt_backoff(first, max,
		    strtoul(argv[3], NULL, 10)));
	} else if (strcmp(argv[1], "time") == 0 && argc == 3) {
		int64_t ns;
		if (opt_parse_time(argv[2], &ns, &why) < 0)
			return fail(why);
		printf("%lld\n", (long long)ns);
	} else if (strcmp(argv[1], "size") == 0 && argc == 3) {
		uint64_t v;
		if (opt_parse_size(argv[2], 0, UINT64_MAX, &v, &why) < 0)
			return fail(why);
		printf("%llu\n", (unsigned long long)v);
	} else if (strcmp(argv[1], "count") == 0 && argc == 5) {
		long long v;
		if (opt_parse_count(argv[2], atoll(argv[3]), atoll(argv[4]),
		    &v, &why) < 0)
			return fail(why);
		printf("%lld\n", v);
	} else if (strcmp(argv[1], "name") == 0 && argc == 3) {
		if (ns_check_name(argv[2], &why) < 0)
			return fail(why);
		puts("ok");
	} else if (strcmp(argv[1], "nsdir") == 0) {
		if (ns_dir(buf, sizeof buf, &why) < 0)
			return fail(why);
		puts(buf);
	} else if (strcmp(argv[1], "spawn") == 0 && argc > 2) {
		return do_spawn(argv + 2);
	} else if (strcmp(argv[1], "timers") == 0) {
		return do_timers();
	} else if (strcmp(argv[1], "signal") == 0) {
		return do_signal();
	} else if (strcmp(argv[1], "mux") == 0 && argc == 3) {
		return do_mux(atoi(argv[2]));
	} else if (strcmp(argv[1], "orphans") == 0 && argc == 3) {
		return do_orphans(atoi(argv[2]));
	} else if (strcmp(argv[1], "repl") == 0 && (argc == 4 || argc == 5)) {
		return do_repl(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
	} else if (strcmp(argv[1], "expand") == 0 && argc == 6) {
		return do_expand(argv[2], argv[3], argv[4], argv[5]);
	} else if (strcmp(argv[1], "lockhold") == 0 && argc == 3) {
		return do_lockhold(argv[2]);
	} else if (strcmp(argv[1], "ident") == 0 && argc == 3) {
		unsigned kind;
		unsigned long long id;
		if (proc_ident(atoi(argv[2]), &kind, &id) < 0)
			return fail("no such running process");
		printf("%s %llu\n", kind == PROC_ID_PIDFS ? "pidfs" : "ticks",
		    id);
	} else {
		return 2;
	}
	return 0;
}
