/* The participants that check invariants from inside (run as
 * "torture HELPER DIR ..."):
 *
 *   hold DIR NAME N US     the command of a sem run: register as a holder
 *                          of NAME, check that at most N registered
 *                          holders are alive, hold US microseconds, leave.
 *   acquirer DIR NAME N US sem acquire; hold as above; sem release.
 *   action DIR             a barrier action: count one more generation.
 *   released DIR G0        the command of a released barrier party: a
 *                          generation must have completed (its action
 *                          run) since the party was started, when G0
 *                          generations had completed; print BARRIER_INDEX.
 *   barfix DIR             reset the barrier if it is broken.
 *
 * The holder table DIR/hold-NAME is a file of HOLD_MAX records (pid,
 * start time) guarded by flock, which the kernel drops when its holder
 * dies. A record whose process is dead (or a zombie) does not count: the
 * semaphore reclaims a dead holder's slot, and a zombie holds nothing.
 * Violations are appended to DIR/violations, and every check appends a
 * byte to DIR/checks, so the driver counts both at the end. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "torture.h"

#define HOLD_MAX 64

struct holder {
	int64_t pid;
	uint32_t kind;
	uint32_t pad;
	uint64_t start;
};

static char path_buf[1024];

static const char *
in_dir(const char *name)
{
	snprintf(path_buf, sizeof path_buf, "%s/%s", T.dir, name);
	return path_buf;
}

void
append_file(const char *name, const char *s, size_t len)
{
	int fd = open(in_dir(name), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0) {
		(void)!write(fd, s, len);
		close(fd);
	}
}

unsigned long
file_size(const char *name)
{
	struct stat st;

	return stat(in_dir(name), &st) == 0 ? (unsigned long)st.st_size : 0;
}

static void
helper_violation(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof buf - 2)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	append_file("violations", buf, n);
}

static void
check_done(void)
{
	append_file("checks", "c", 1);
}

static int
count_alive(const struct holder *t, pid_t self, char *list, size_t len)
{
	int i, n = 0;
	size_t k = 0;

	list[0] = '\0';
	for (i = 0; i < HOLD_MAX; i++) {
		if (t[i].pid == 0 || t[i].pid == self)
			continue;
		if (!proc_ident_alive((pid_t)t[i].pid, t[i].kind,
		    t[i].start))
			continue;
		n++;
		if (k < len)
			k += snprintf(list + k, len - k, " %lld", (long long)t[i].pid);
	}
	return n;
}

static void
pause_us(long us)
{
	struct timespec ts = { us / 1000000, us % 1000000 * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* With the table locked: check that, besides us, fewer than N
 * registered holders of NAME are alive. */
static void
check_holders(const char *name, int n, const struct holder *t, const char *when)
{
	char list[512];
	pid_t self = getpid();
	int alive = count_alive(t, self, list, sizeof list);

	if (alive >= n) {
		/* A holder killed a moment ago may still show as running
		 * while its SIGKILL is delivered, and the semaphore may
		 * already have seen it dead (the kernel releases its robust
		 * futexes before it reports it gone, and under heavy load
		 * the two can be a scheduling delay apart). Whoever is still
		 * there a second later was holding for real (nobody can
		 * leave: we hold the table's lock). */
		pause_us(1000000);
		alive = count_alive(t, self, list, sizeof list);
		if (alive >= n)
			helper_violation("%s: %d holders of %d slots at once (%s): pid %ld and%s",
			    name, alive + 1, n, when, (long)self, list);
	}
	check_done();
}

static int
table_lock(const char *name)
{
	char file[256];
	int fd;

	snprintf(file, sizeof file, "hold-%s", name);
	fd = open(in_dir(file), O_RDWR | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		perror("torture hold: holder table");
		exit(2);
	}
	return fd;
}

/* Lock NAME's holder table, read it into T and check the invariant;
 * returns the locked descriptor. */
static int
hold_table(const char *name, int n, struct holder t[HOLD_MAX],
    const char *when)
{
	int fd = table_lock(name);

	memset(t, 0, HOLD_MAX * sizeof t[0]);
	(void)!pread(fd, t, HOLD_MAX * sizeof t[0], 0);
	check_holders(name, n, t, when);
	return fd;
}

/* Register as a holder of NAME (N slots), checking the invariant. */
static void
hold_enter(const char *name, int n)
{
	struct holder t[HOLD_MAX];
	pid_t self = getpid();
	int fd = hold_table(name, n, t, "on entry"), i;
	unsigned kind = 0;
	unsigned long long id = 0;

	for (i = 0; i < HOLD_MAX; i++)
		if (t[i].pid == 0 || !proc_ident_alive((pid_t)t[i].pid,
		    t[i].kind, t[i].start))
			break;
	if (i == HOLD_MAX) {
		helper_violation("%s: holder table full", name);
	} else {
		t[i].pid = self;
		(void)proc_ident(self, &kind, &id);
		t[i].kind = kind;
		t[i].start = id;
		(void)!pwrite(fd, &t[i], sizeof t[i], i * sizeof t[i]);
	}
	flock(fd, LOCK_UN);
	close(fd);
}

/* Check again and leave. */
static void
hold_leave(const char *name, int n)
{
	struct holder t[HOLD_MAX];
	pid_t self = getpid();
	int fd = hold_table(name, n, t, "on leaving"), i;

	for (i = 0; i < HOLD_MAX; i++)
		if (t[i].pid == self) {
			memset(&t[i], 0, sizeof t[i]);
			(void)!pwrite(fd, &t[i], sizeof t[i], i * sizeof t[i]);
		}
	flock(fd, LOCK_UN);
	close(fd);
}

static int
do_hold(const char *name, int n, long us)
{
	hold_enter(name, n);
	pause_us(us);
	hold_leave(name, n);
	return 0;
}

static int
do_acquirer(const char *name, const char *n, long us)
{
	char own[32];
	char *acq[] = { "sem", "acquire", "-n", (char *)n, "-o", own, (char *)name, NULL };
	char *rel[] = { "sem", "release", "-o", own, (char *)name, NULL };
	int st;

	/* The owner is named: by default it would be the parent of sem
	 * acquire, and if we die before it has looked, that is whoever
	 * adopts it (init, or we, the subreaper), which never exits. */
	snprintf(own, sizeof own, "%ld", (long)getpid());

	if ((st = run_tool(acq, NULL, 0)) != 0)
		return st;
	hold_enter(name, atoi(n));
	pause_us(us);
	hold_leave(name, atoi(n));
	return run_tool(rel, NULL, 0);
}

static int
gen_fd(int how)
{
	int fd = open(in_dir("gen"), O_RDWR | O_CLOEXEC);

	if (fd < 0 || flock(fd, how) < 0) {
		perror("torture: generation counter");
		exit(2);
	}
	return fd;
}

int64_t
gen_read(void)
{
	int64_t g = 0;
	int fd = gen_fd(LOCK_SH);

	(void)!pread(fd, &g, sizeof g, 0);
	close(fd);
	return g;
}

static int
do_action(void)
{
	int64_t g = 0;
	int fd = gen_fd(LOCK_EX);

	(void)!pread(fd, &g, sizeof g, 0);
	g++;
	(void)!pwrite(fd, &g, sizeof g, 0);
	close(fd);
	return 0;
}

static int
do_released(const char *g0s)
{
	long long g0 = atoll(g0s), g1 = gen_read();
	const char *idx = getenv("BARRIER_INDEX");
	int i = idx ? atoi(idx) : -1;

	if (g1 <= g0)
		helper_violation("barrier: party %ld released, but no generation was completed "
		    "since it arrived (%lld before, %lld now)", (long)getpid(), g0, g1);
	if (idx == NULL || i < 0 || i >= PARTIES)
		helper_violation("barrier: released with BARRIER_INDEX=%s", idx ? idx : "(unset)");
	printf("%d\n", i);
	fflush(stdout);
	append_file("released", "r", 1);
	check_done();
	return 0;
}

static int
do_barfix(void)
{
	char *stat[] = { "barrier", "stat", BARRIER, NULL };
	char *reset[] = { "barrier", "reset", BARRIER, NULL };
	char out[1024];
	int st;

	if ((st = run_tool(stat, out, sizeof out)) != 0)
		return st;
	if (strstr(out, "broken\tno"))
		return 0;
	return run_tool(reset, NULL, 0);
}

int
helper_main(int argc, char **argv)
{
	const char *h = argv[1];

	if (argc < 3)
		return -1;
	snprintf(T.dir, sizeof T.dir, "%s", argv[2]);
	if (strcmp(h, "hold") == 0 && argc == 6)
		return do_hold(argv[3], atoi(argv[4]), atol(argv[5]));
	if (strcmp(h, "acquirer") == 0 && argc == 6)
		return do_acquirer(argv[3], argv[4], atol(argv[5]));
	if (strcmp(h, "action") == 0 && argc == 3)
		return do_action();
	if (strcmp(h, "released") == 0 && argc == 4)
		return do_released(argv[3]);
	if (strcmp(h, "barfix") == 0 && argc == 3)
		return do_barfix();
	return -1;
}
