/* torture: a reproducible randomized crash test of the five programs.
 *
 * The driver keeps a fixed number of participants of each role running
 * against one queue, two semaphores (SEM_SLOTS slots, and a mutex) and
 * one barrier: queue producers and getters, pool and parallel feeding the
 * queue, semaphore holders, barrier parties and read-only lookers (see
 * ops.c). Every participant gets, with probability -k, a SIGKILL planned
 * at a random instant after its start (log-uniform from 20 us up to a
 * limit that depends on its kind), aimed at the participant itself or at
 * one of its descendants (a pool job, the command of a sem run, a
 * barrier action). All choices come from one generator seeded with the
 * printed seed, so SEED=... replays the same schedule of operations and
 * kills; what a kill hits still depends on timing.
 *
 * Invariants are checked while the run goes on (by the holders, the
 * released parties and the driver: statuses, outputs) and at the end:
 * the message ledger (ledger.c), no participant blocked past a limit
 * (-S), no process left over (the driver is a child subreaper, so every
 * orphan comes back to it), and every object still works: the queue
 * drains and passes a message, each semaphore has all its slots free and
 * hands out exactly that many, the barrier completes a round.
 *
 * Exit status: 0 when every invariant held, 1 otherwise, 2 on a failure
 * of the driver itself. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "opt.h"
#include "proc.h"
#include "torture.h"

struct ctx T;
unsigned long checks;

static uint64_t rng_state;
static unsigned long violations, kills, kills_desc, kills_missed, orphans,
    spawn_failures, stuck, nops;
static unsigned long kind_count[NKINDS], kind_killed[NKINDS];
static int slots[NROLES] = {
	[R_PUT] = 2, [R_GET] = 2, [R_POOL] = 1, [R_PAR] = 1,
	[R_SEM] = 4, [R_MUTEX] = 2, [R_PARTY] = 4, [R_MISC] = 1,
};
static int busy[NROLES];
#define MAX_ACTIVE 64
static struct op *active[MAX_ACTIVE];
static int nactive;
static int sfd;
static int need_barfix, barfix_running;
static int64_t t0;

uint64_t
rnd(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * OPT_NS_PER_SEC + ts.tv_nsec;
}

void
violation(const char *fmt, ...)
{
	va_list ap;

	violations++;
	fprintf(stderr, "torture: VIOLATION: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "torture: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* The parent (field 4) and state (field 3) of PID, from /proc. */
static int
proc_parent(pid_t pid, pid_t *ppid, char *state)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 2, "%c %d", state, ppid) != 2)
		return -1;
	return 0;
}

/* The living descendants of ROOT (not ROOT itself), at most MAX. */
static int
descendants(pid_t root, pid_t *out, int max)
{
	static pid_t pid[32768], parent[32768];
	int n = 0, k = 0, i, j;
	struct dirent *d;
	DIR *dir;
	char state;

	if ((dir = opendir("/proc")) == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL && n < 32768) {
		pid_t p = (pid_t)atol(d->d_name), pp;
		if (p > 0 && proc_parent(p, &pp, &state) == 0 && state != 'Z') {
			pid[n] = p;
			parent[n++] = pp;
		}
	}
	closedir(dir);
	/* Breadth first: OUT holds the tree found so far. */
	for (j = -1; j < k; j++) {
		pid_t up = j < 0 ? root : out[j];
		for (i = 0; i < n && k < max; i++)
			if (parent[i] == up)
				out[k++] = pid[i];
	}
	return k;
}

static void
kill_tree(pid_t root)
{
	pid_t d[256];
	int n = descendants(root, d, 256);

	kill(root, SIGKILL);
	while (n-- > 0)
		kill(d[n], SIGKILL);
}

/* The planned kill of OP: the participant itself, or half the time one
 * of its descendants if it has any. */
static void
kill_op(struct op *op)
{
	pid_t d[256], target = op->pid;
	int n = 0;
	unsigned kind;
	unsigned long long id;

	op->kill_at = 0;
	if (rnd_below(2) && (n = descendants(op->pid, d, 256)) > 0)
		target = d[rnd_below(n)];
	else if (proc_ident(op->pid, &kind, &id) < 0) {
		kills_missed++;
		return;
	}
	if (kill(target, SIGKILL) == 0) {
		kills++;
		kind_killed[op->kind]++;
		if (target != op->pid)
			kills_desc++;
		op->touched = 1;
	} else
		kills_missed++;
}

static void
plan_kill(struct op *op, int permille)
{
	double lo = log(20e3), hi = log((double)op_max_kill_delay(op->kind));

	if ((int)rnd_below(1000) >= permille)
		return;
	op->kill_at = op->start +
	    (int64_t)exp(lo + (hi - lo) * (double)rnd_below(1000000) / 1e6);
}

static void
spawn_role(enum role r, int kill_permille)
{
	struct op *op = calloc(1, sizeof *op);

	if (op == NULL)
		die("out of memory");
	op->id = (unsigned)++nops;
	if (r == R_PARTY && need_barfix && !barfix_running) {
		op->kind = K_BARFIX;
		need_barfix = 0;
		barfix_running = 1;
	} else
		op->kind = pick_kind(r);
	if (op_spawn(op) < 0) {
		/* Out of processes: try again on the next round. */
		spawn_failures++;
		if (op->kind == K_BARFIX) {
			barfix_running = 0;
			need_barfix = 1;
		}
		free(op->out);
		free(op->err);
		free(op->desc);
		free(op);
		return;
	}
	kind_count[op->kind]++;
	op->progress = op->start;
	plan_kill(op, kill_permille);
	active[nactive++] = op;
	busy[r]++;
}

/* The object each role works on; the watchdog looks at its progress. */
static int
role_object(enum role r)
{
	return r == R_SEM || r == R_MUTEX ? 1 : r == R_PARTY ? 2 : r == R_MISC ? 3 : 0;
}

static int64_t object_progress[4];

static void
finish(struct op *op, int st)
{
	op_done(op, st);
	if (st < 128)
		object_progress[role_object(op->role)] = now_ns();
	if (op->kind == K_BARFIX)
		barfix_running = 0;
	if ((op->kind == K_PARTY || op->kind == K_PARTY_TIMEOUT) && st != 0)
		need_barfix = 1;
	busy[op->role]--;
	free(op->out);
	free(op->err);
	free(op->desc);
	free(op);
}

/* Reap every child that has ended. Returns 1 if any did. */
static int
reap(void)
{
	int ws, i, any = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		any = 1;
		for (i = 0; i < nactive; i++)
			if (active[i]->pid == pid)
				break;
		if (i == nactive) {
			orphans++;
			continue;
		}
		struct op *op = active[i];
		active[i] = active[--nactive];
		finish(op, proc_status(ws));
	}
	return any;
}

static void
wait_event(int64_t timeout)
{
	struct signalfd_siginfo si;
	struct pollfd p = { sfd, POLLIN, 0 };
	struct timespec ts;

	if (timeout < 0)
		timeout = 0;
	ts.tv_sec = timeout / OPT_NS_PER_SEC;
	ts.tv_nsec = timeout % OPT_NS_PER_SEC;
	if (ppoll(&p, 1, &ts, NULL) > 0) {
		while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
			if (si.ssi_signo != SIGCHLD) {
				for (int i = 0; i < nactive; i++)
					kill_tree(active[i]->pid);
				fprintf(stderr, "torture: interrupted; work directory %s\n", T.dir);
				exit(2);
			}
		}
	}
}

static void
dump_state(void)
{
	char *q[] = { "queue", "stat", QUEUE, NULL };
	char *s[] = { "sem", "stat", SEM, NULL };
	char *m[] = { "sem", "stat", MUTEX, NULL };
	char *b[] = { "barrier", "stat", BARRIER, NULL };
	char *const *all[] = { q, s, m, b };
	char out[4096];

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		run_tool(all[i], out, sizeof out);
		fprintf(stderr, "  %s %s:\n%s", all[i][0], all[i][2], out);
	}
}

/* A participant is stuck when it has been blocked for LIMIT while no
 * participant of its object (the queue, the semaphores, the barrier)
 * ended on its own either: a get -n 12 may well wait for a long time
 * behind others on a slow machine, but a dead peer that blocks an
 * object stops all of it. */
static void
watchdog(int64_t now, int64_t limit)
{
	struct stat st;

	for (int i = 0; i < nactive; i++) {
		struct op *op = active[i];
		int64_t last = object_progress[role_object(op->role)];
		/* A getter progresses while its output grows. */
		if (op->out && op->role == R_GET && stat(op->out, &st) == 0 &&
		    st.st_size != op->out_size) {
			op->out_size = st.st_size;
			op->progress = now;
		}
		if (op->progress && now - op->progress > limit && now - last > limit) {
			stuck++;
			violation("op %u blocked for %.0f s, and so was its object (a dead peer?): %s",
			    op->id, (double)(now - op->progress) / 1e9, op->desc);
			dump_state();
			op->progress = 0;
			op->touched = 1;
			kill_tree(op->pid);
		}
	}
}

struct limits {
	int64_t duration, stuck;
	int kill_permille;
	int verbose;
};

/* Run the loop: spawn the roles in ROLEMASK, and the planned kills when
 * KILL is set, until DONE says so. */
static void
loop(const struct limits *lim, unsigned rolemask, int kill, int (*done)(int64_t))
{
	int64_t now, next_report = now_ns() + 10 * OPT_NS_PER_SEC, wake;

	for (;;) {
		reap();
		now = now_ns();
		if (done(now))
			return;
		wake = now + 100 * 1000000LL;
		for (int i = 0; i < nactive; i++) {
			struct op *op = active[i];
			if (!op->kill_at)
				continue;
			if (!kill)
				op->kill_at = 0;
			else if (op->kill_at <= now)
				kill_op(op);
			else if (op->kill_at < wake)
				wake = op->kill_at;
		}
		watchdog(now, lim->stuck);
		for (int r = 0; r < NROLES; r++)
			while ((rolemask & 1u << r) && busy[r] < slots[r] && nactive < MAX_ACTIVE) {
				unsigned long f = spawn_failures;
				spawn_role((enum role)r, kill ? lim->kill_permille : 0);
				if (f != spawn_failures)
					break;
			}
		if (lim->verbose && now >= next_report) {
			fprintf(stderr, "torture: %.0f s: %lu ops, %lu kills, %lu violations\n",
			    (double)(now - t0) / 1e9, nops, kills, violations);
			next_report += 10 * OPT_NS_PER_SEC;
		}
		wait_event(wake - now_ns());
	}
}

static int64_t run_end;

static int
run_done(int64_t now)
{
	return now >= run_end;
}

/* Settling: only getters are started, so that blocked producers finish. */
static int
producers_done(int64_t now)
{
	(void)now;
	for (int i = 0; i < nactive; i++)
		if (active[i]->role != R_GET && active[i]->role != R_PARTY)
			return 0;
	return 1;
}

static int
parties_done(int64_t now)
{
	static int64_t next;
	char *reset[] = { "barrier", "reset", BARRIER, NULL };
	int left = 0;

	for (int i = 0; i < nactive; i++)
		left += active[i]->role == R_PARTY;
	/* Fewer parties than a generation are left waiting: release them
	 * by a reset, and again if they arrived after it. */
	if (left && now >= next) {
		run_tool(reset, NULL, 0);
		next = now + 200 * 1000000LL;
	}
	return left == 0;
}

static int
all_done(int64_t now)
{
	(void)now;
	return nactive == 0;
}

/* Every process left is a child of ours (we are their subreaper): wait
 * for them for a while, then report and kill what is left. */
static void
leftovers(int64_t limit)
{
	int64_t end = now_ns() + limit;
	pid_t d[256];
	int n;

	checks++;
	for (;;) {
		reap();
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return;
		if (now_ns() >= end)
			break;
		wait_event(100 * 1000000LL);
	}
	n = descendants(getpid(), d, 256);
	for (int i = 0; i < n; i++) {
		char path[64], cmd[256] = "";
		int fd;
		ssize_t r;
		snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)d[i]);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			if ((r = read(fd, cmd, sizeof cmd - 1)) > 0) {
				for (ssize_t j = 0; j < r - 1; j++)
					if (cmd[j] == '\0')
						cmd[j] = ' ';
			}
			close(fd);
		}
		violation("process %ld left over: %s", (long)d[i], cmd);
		kill(d[i], SIGKILL);
	}
	while (waitpid(-1, NULL, 0) > 0)
		;
}

static long
stat_value(const char *out, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof k, "\n%s", key);
	if (strncmp(out, key, strlen(key)) == 0)
		p = out + strlen(key);
	else if ((p = strstr(out, k)) != NULL)
		p += strlen(k);
	else
		return -1;
	return strtol(p, NULL, 10);
}

static void
expect(int got, int want, const char *what)
{
	checks++;
	if (got != want)
		violation("afterwards: %s: status %d, expected %d", what, got, want);
}

static long repairs;

static void
final_queue(void)
{
	char *drain[] = { "queue", "get", "--nowait", "-n1000000", QUEUE, NULL };
	char *stat[] = { "queue", "stat", QUEUE, NULL };
	char *put[] = { "queue", "put", QUEUE, "final-message", NULL };
	char *get[] = { "queue", "get", "-t10", QUEUE, NULL };
	char out[4096], file[600];
	struct proc_spec sp;
	int fd, ws, st;
	pid_t pid;

	/* Drain into a file and account for it like any getter. */
	snprintf(file, sizeof file, "%s/io/drain", T.dir);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	proc_spec_init(&sp, drain);
	sp.fd[1] = fd;
	pid = proc_spawn(&sp, NULL);
	close(fd);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	st = proc_status(ws);
	checks++;
	if (st != 75)
		violation("afterwards: draining the queue: status %d, expected 75", st);
	ledger_read(file, '\n', 0, "the final drain");
	run_tool(stat, out, sizeof out);
	repairs = stat_value(out, "repairs\t");
	checks += 2;
	if (stat_value(out, "messages\t") != 0 || stat_value(out, "claimed\t") != 0)
		violation("afterwards: the drained queue is not empty:\n%s", out);
	expect(run_tool(put, NULL, 0), 0, "queue put");
	st = run_tool(get, out, sizeof out);
	expect(st, 0, "queue get");
	checks++;
	if (st == 0 && strcmp(out, "final-message\n") != 0)
		violation("afterwards: queue get gave \"%s\"", out);
}

static void
final_sem(const char *name, int n)
{
	char own[32], ns[16], out[4096];
	char *value[] = { "sem", "value", (char *)name, NULL };
	char *acq[] = { "sem", "acquire", "--nowait", "-n", ns, "-o", own, (char *)name, NULL };
	char *rel[] = { "sem", "release", "-o", own, (char *)name, NULL };

	snprintf(own, sizeof own, "%ld", (long)getpid());
	snprintf(ns, sizeof ns, "%d", n);
	expect(run_tool(value, out, sizeof out), 0, "sem value");
	checks++;
	if (atoi(out) != n)
		violation("afterwards: %s has %d free slots of %d", name, atoi(out), n);
	for (int i = 0; i < n; i++)
		expect(run_tool(acq, NULL, 0), 0, "sem acquire");
	expect(run_tool(acq, NULL, 0), 75, "sem acquire of a slot too many");
	for (int i = 0; i < n; i++)
		expect(run_tool(rel, NULL, 0), 0, "sem release");
	run_tool(value, out, sizeof out);
	checks++;
	if (atoi(out) != n)
		violation("afterwards: %s has %d free slots of %d after the round", name,
		    atoi(out), n);
}

static void
final_barrier(void)
{
	char *stat[] = { "barrier", "stat", BARRIER, NULL };
	char *wait[] = { "barrier", "wait", "-i", "-t10", BARRIER, NULL };
	char out[4096];
	pid_t pid[PARTIES];
	int p[PARTIES][2], seen = 0;

	char *reset[] = { "barrier", "reset", BARRIER, NULL };

	/* The last parties may have broken it as they should: one timed
	 * out, or the watchdog killed one. Once reset it must be fresh. */
	expect(run_tool(reset, NULL, 0), 0, "barrier reset");
	run_tool(stat, out, sizeof out);
	checks++;
	if (!strstr(out, "broken\tno") || stat_value(out, "waiting\t") != 0)
		violation("afterwards: the barrier is not fresh:\n%s", out);
	for (int i = 0; i < PARTIES; i++) {
		struct proc_spec sp;
		if (pipe2(p[i], O_CLOEXEC) < 0)
			die("pipe: %s", strerror(errno));
		proc_spec_init(&sp, wait);
		sp.fd[1] = p[i][1];
		pid[i] = proc_spawn(&sp, NULL);
		close(p[i][1]);
	}
	for (int i = 0; i < PARTIES; i++) {
		char buf[32] = "";
		ssize_t n = read(p[i][0], buf, sizeof buf - 1);
		int ws = 0, idx = n > 0 ? atoi(buf) : -1;
		close(p[i][0]);
		while (waitpid(pid[i], &ws, 0) < 0 && errno == EINTR)
			;
		expect(proc_status(ws), 0, "barrier wait");
		if (idx >= 0 && idx < PARTIES)
			seen |= 1 << idx;
	}
	checks++;
	if (seen != (1 << PARTIES) - 1)
		violation("afterwards: the barrier round gave indices 0x%x", seen);
}

static void
make_objects(void)
{
	char *q[] = { "queue", "create", "--size", QUEUE_SIZE, QUEUE, NULL };
	char *s[] = { "sem", "create", "-n", "3", SEM, NULL };
	char *m[] = { "sem", "create", MUTEX, NULL };
	char np[16], *b[] = { "barrier", "create", np, BARRIER, NULL };
	static const char *files[] = { "gen", "hold-" SEM, "hold-" MUTEX };
	char path[700];

	/* The barrier too: made by its first party instead, it was missing
	 * for a "barrier stat" that came before (125, seen in CI). */
	snprintf(np, sizeof np, "-n%d", PARTIES);
	if (run_tool(q, NULL, 0) || run_tool(s, NULL, 0) || run_tool(m, NULL, 0) ||
	    run_tool(b, NULL, 0))
		die("cannot create the objects in %s/ns", T.dir);
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", T.dir, files[i]);
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, 4096) < 0)
			die("%s: %s", path, strerror(errno));
		close(fd);
	}
}

static void
setup(const char *base, const char *bindir)
{
	char path[1100], *p;
	ssize_t n;

	n = readlink("/proc/self/exe", T.self, sizeof T.self - 1);
	if (n <= 0)
		die("cannot find myself: %s", strerror(errno));
	T.self[n] = '\0';
	if (bindir == NULL) {
		/* build[-san]/test/torture/torture -> bin/ */
		snprintf(path, sizeof path, "%s", T.self);
		for (int i = 0; i < 4 && (p = strrchr(path, '/')); i++)
			*p = '\0';
		strcat(path, "/bin");
	} else
		snprintf(path, sizeof path, "%s", bindir);
	snprintf(path + strlen(path), sizeof path - strlen(path), "/queue");
	if (access(path, X_OK) != 0)
		die("%s: not found (give the tools' directory with -B)", path);
	*strrchr(path, '/') = '\0';
	{
		const char *old = getenv("PATH");
		char *np;
		if (asprintf(&np, "%s:%s", path, old ? old : "/usr/bin:/bin") < 0)
			die("out of memory");
		setenv("PATH", np, 1);
		free(np);
	}
	/* In a sanitizer build, LeakSanitizer checks at exit from a helper
	 * process of its own, which the killer may pick as a descendant
	 * to kill: the tool then waits for it for ever. Leaks are the
	 * business of the other tests. */
	{
		const char *old = getenv("ASAN_OPTIONS");
		char *opt;
		if (asprintf(&opt, "%s%sdetect_leaks=0", old ? old : "",
		    old && *old ? ":" : "") < 0)
			die("out of memory");
		setenv("ASAN_OPTIONS", opt, 1);
		free(opt);
	}
	snprintf(T.dir, sizeof T.dir, "%s/torture.XXXXXX", base);
	if (mkdtemp(T.dir) == NULL)
		die("mkdtemp %s: %s", T.dir, strerror(errno));
	snprintf(path, sizeof path, "%s/ns", T.dir);
	setenv("CONC_DIR", path, 1);
	snprintf(path, sizeof path, "%s/io", T.dir);
	if (mkdir(path, 0700) < 0)
		die("%s: %s", path, strerror(errno));
	make_objects();
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: torture [-t DUR] [-s SEED] [-k PERMILLE] [-S DUR] [-d DIR] [-B BINDIR] [-K] [-v]\n"
	    "  -t DUR      run this long (default $TORTURE_TIME or 20s)\n"
	    "  -s SEED     the seed (default $SEED or random); printed first\n"
	    "  -k PERMILLE participants that get a SIGKILL (default 400)\n"
	    "  -S DUR      a participant running this long is stuck (default 30s)\n"
	    "  -d DIR      where to make the work directory (default /dev/shm or $TMPDIR)\n"
	    "  -B BINDIR   the tools (default: bin/ of this build)\n"
	    "  -K          keep the work directory\n"
	    "  -v          report progress every 10 s\n");
	exit(2);
}

static void
summary(int64_t elapsed, unsigned long helper_checks, unsigned long released,
    int64_t gens)
{
	printf("torture: seed %llu, %.1f s\n", (unsigned long long)T.seed,
	    (double)elapsed / 1e9);
	printf("torture: %lu operations:", nops);
	for (int k = 0; k < NKINDS; k++)
		if (kind_count[k])
			printf(" %s %lu", kind_name((enum kind)k), kind_count[k]);
	printf("\ntorture: %lu kills (%lu of descendants; %lu planned kills came too late):",
	    kills, kills_desc, kills_missed);
	for (int k = 0; k < NKINDS; k++)
		if (kind_killed[k])
			printf(" %s %lu", kind_name((enum kind)k), kind_killed[k]);
	printf("\ntorture: queue: %lu messages tried, %lu acknowledged, %lu deliveries, "
	    "%lu delivered more than once (killed getters), %ld lock repairs\n",
	    ledger_puts, ledger_acked, ledger_got, ledger_redelivered, repairs);
	printf("torture: barrier: %lld generations, %lu parties released\n",
	    (long long)gens, released);
	printf("torture: %lu orphans reaped, %lu spawn failures, %lu stuck\n",
	    orphans, spawn_failures, stuck);
	printf("torture: %lu invariant checks, %lu violations: %s\n",
	    checks + helper_checks, violations, violations ? "FAILED" : "all invariants hold");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct limits lim = { 20 * OPT_NS_PER_SEC, 30 * OPT_NS_PER_SEC, 400, 0 };
	const char *base = NULL, *bindir = NULL, *why, *e;
	int c, keep = 0;
	sigset_t set;

	if (argc >= 3 && argv[1][0] != '-') {
		int st = helper_main(argc, argv);
		if (st < 0)
			usage();
		return st;
	}
	if ((e = getenv("TORTURE_TIME")) && *e && opt_parse_duration(e, &lim.duration, &why) < 0)
		die("TORTURE_TIME=%s: %s", e, why);
	T.seed = (e = getenv("SEED")) && *e ? strtoull(e, NULL, 10)
	    : (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
	while ((c = getopt(argc, argv, "t:s:k:S:d:B:Kv")) != -1) {
		switch (c) {
		case 't':
			if (opt_parse_duration(optarg, &lim.duration, &why) < 0)
				die("-t %s: %s", optarg, why);
			break;
		case 'S':
			if (opt_parse_duration(optarg, &lim.stuck, &why) < 0)
				die("-S %s: %s", optarg, why);
			break;
		case 's': T.seed = strtoull(optarg, NULL, 10); break;
		case 'k': lim.kill_permille = atoi(optarg); break;
		case 'd': base = optarg; break;
		case 'B': bindir = optarg; break;
		case 'K': keep = 1; break;
		case 'v': lim.verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (base == NULL)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
		    : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	rng_state = T.seed;
	printf("torture: seed %llu (SEED=%llu reproduces this run's schedule)\n",
	    (unsigned long long)T.seed, (unsigned long long)T.seed);
	fflush(stdout);

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		die("signalfd: %s", strerror(errno));
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die("cannot become a child subreaper: %s", strerror(errno));
	setup(base, bindir);

	t0 = now_ns();
	for (int i = 0; i < 4; i++)
		object_progress[i] = t0;
	run_end = t0 + lim.duration;
	loop(&lim, (1u << NROLES) - 1, 1, run_done);
	loop(&lim, 1u << R_GET, 0, producers_done);
	loop(&lim, 1u << R_GET, 0, parties_done);
	loop(&lim, 0, 0, all_done);
	leftovers(10 * OPT_NS_PER_SEC);

	final_queue();
	ledger_check();
	final_sem(SEM, SEM_SLOTS);
	final_sem(MUTEX, 1);
	final_barrier();
	leftovers(10 * OPT_NS_PER_SEC);

	unsigned long released = file_size("released");
	int64_t gens = gen_read();
	checks++;
	if ((int64_t)released > PARTIES * gens)
		violation("barrier: %lu parties released by %lld completed generations of %d",
		    released, (long long)gens, PARTIES);
	{
		char path[700];
		FILE *f;
		char line[2048];
		snprintf(path, sizeof path, "%s/violations", T.dir);
		if ((f = fopen(path, "re")) != NULL) {
			while (fgets(line, sizeof line, f)) {
				line[strcspn(line, "\n")] = '\0';
				violation("%s", line);
			}
			fclose(f);
		}
	}
	summary(now_ns() - t0, file_size("checks"), released, gens);
	if (violations || keep) {
		fprintf(stderr, "torture: work directory kept: %s\n", T.dir);
	} else {
		char *rm[] = { "rm", "-rf", T.dir, NULL };
		run_tool(rm, NULL, 0);
	}
	return violations ? 1 : 0;
}
