/* barrier_lat: measurements for bench/barrier.sh and bench/event.sh.
 *
 *   barrier_lat tool BARRIER N REPS   release spread of `barrier wait`
 *   barrier_lat event EVENT N REPS XLINE
 *                                     release spread of N `event wait
 *                                     -- XLINE` by one `event set`
 *   barrier_lat futex N REPS [XLINE]  the same with a bare futex broadcast
 *                                     (the woken children exec XLINE, a
 *                                     program that writes the line, if
 *                                     given)
 *   barrier_lat spawn REPS CMD...     posix_spawn + waitpid of CMD
 *
 * Each prints one number, the median over REPS in microseconds. The
 * release spread is the time from the first released party writing a
 * line to the last one doing so: how long it takes a release to make
 * every party run. The parties write to one end of a datagram socket
 * pair whose other end asks for kernel timestamps (SO_TIMESTAMPNS), so
 * each line is timed when it is sent, not when this process gets round
 * to reading it: a reader that is woken late (it competes for the CPUs
 * with the parties it measures) would see many lines at once. `tool`
 * also prints, second, the median time from starting the last arrival
 * to the last line. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t
now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static double
median_us(int64_t *v, int n)
{
	qsort(v, n, sizeof *v, cmp64);
	return v[n / 2] / 1000.0;
}

static pid_t
spawn_out(char **argv, int out)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	if (out >= 0)
		posix_spawn_file_actions_adddup2(&fa, out, 1);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		die("posix_spawn");
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* The channel the parties write to: fd[1] for them, fd[0] for us. */
static void
sink(int fd[2])
{
	int one = 1, big = 16 << 20;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fd) < 0)
		die("socketpair");
	if (setsockopt(fd[0], SOL_SOCKET, SO_TIMESTAMPNS, &one,
	    sizeof one) < 0)
		die("SO_TIMESTAMPNS");
	/* Room for every party's line at once: a sender that had to wait
	 * for room would be timed when it got it. */
	if (setsockopt(fd[1], SOL_SOCKET, SO_SNDBUFFORCE, &big,
	    sizeof big) < 0)
		(void)setsockopt(fd[1], SOL_SOCKET, SO_SNDBUF, &big,
		    sizeof big);
	/* The parties' stdout must survive their exec. */
	if (fcntl(fd[1], F_SETFD, 0) < 0)
		die("fcntl");
}

/* Receive N lines from FD; *FIRST and *LAST get the earliest and the
 * latest send time (CLOCK_REALTIME, in ns). */
static void
read_lines(int fd, int n, int64_t *first, int64_t *last)
{
	char buf[256], ctl[CMSG_SPACE(sizeof(struct timespec))];
	struct iovec iov = { buf, sizeof buf };
	struct msghdr mh;
	struct cmsghdr *c;
	int got;

	*first = INT64_MAX;
	*last = 0;
	for (got = 0; got < n; got++) {
		int64_t t = 0;
		memset(&mh, 0, sizeof mh);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof ctl;
		if (recvmsg(fd, &mh, 0) <= 0)
			die("recvmsg");
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET &&
			    c->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;
				memcpy(&ts, CMSG_DATA(c), sizeof ts);
				t = ts.tv_sec * 1000000000LL + ts.tv_nsec;
			}
		if (t == 0) {
			fputs("barrier_lat: a line without a timestamp\n",
			    stderr);
			exit(1);
		}
		if (t < *first)
			*first = t;
		if (t > *last)
			*last = t;
	}
}

/* Wait until the object NAME has K processes waiting, as its stat's
 * KEY line says (set-up, not timed). */
static void
wait_waiting(const char *bin, const char *name, const char *key, int k)
{
	char cmd[PATH_MAX + 256], line[128];
	int w;

	snprintf(cmd, sizeof cmd, "'%s' stat '%s' 2>/dev/null", bin, name);
	for (;;) {
		FILE *p = popen(cmd, "r");
		w = -1;
		if (p == NULL)
			die("popen");
		while (fgets(line, sizeof line, p))
			if (strncmp(line, key, strlen(key)) == 0)
				sscanf(line + strlen(key), " %d", &w);
		pclose(p);
		if (w == k)
			return;
		usleep(1000);
	}
}

static void
tool(const char *bin, int n, int reps)
{
	int64_t *spread = calloc(reps, sizeof *spread);
	int64_t *total = calloc(reps, sizeof *total);
	char nbuf[16], name[64];
	pid_t *pids = calloc(n, sizeof *pids);
	int r, i, fd[2];
	int64_t t0, first, last;

	if (!spread || !total || !pids)
		die("calloc");
	snprintf(nbuf, sizeof nbuf, "%d", n);
	for (r = 0; r < reps; r++) {
		char *argv[] = { (char *)bin, "wait", "-i", "-n", nbuf, name,
			NULL };
		snprintf(name, sizeof name, "lat-%ld-%d", (long)getpid(), r);
		sink(fd);
		for (i = 0; i < n - 1; i++)
			pids[i] = spawn_out(argv, fd[1]);
		wait_waiting(bin, name, "waiting", n - 1);
		t0 = now_ns(CLOCK_REALTIME); /* the kernel's stamps' clock */
		pids[n - 1] = spawn_out(argv, fd[1]);
		close(fd[1]);
		read_lines(fd[0], n, &first, &last);
		close(fd[0]);
		for (i = 0; i < n; i++)
			waitpid(pids[i], NULL, 0);
		spread[r] = last - first;
		total[r] = last - t0;
		{
			char *rm[] = { (char *)bin, "rm", name, NULL };
			waitpid(spawn_out(rm, -1), NULL, 0);
		}
	}
	printf("%.1f %.1f\n", median_us(spread, reps), median_us(total, reps));
}

/* One `event set` releasing N `event wait -- XLINE`: the spread, and
 * the time from the set's spawn to the last line. */
static void
event_run(const char *bin, int n, int reps, const char *xline)
{
	int64_t *spread = calloc(reps, sizeof *spread);
	int64_t *total = calloc(reps, sizeof *total);
	pid_t *pids = calloc(n, sizeof *pids);
	char name[64];
	int r, i, fd[2];
	int64_t t0, first, last;

	if (!spread || !total || !pids)
		die("calloc");
	for (r = 0; r < reps; r++) {
		char *argv[] = { (char *)bin, "wait", name, "--",
			(char *)xline, NULL };
		char *set[] = { (char *)bin, "set", name, NULL };
		char *rm[] = { (char *)bin, "rm", name, NULL };
		snprintf(name, sizeof name, "lat-%ld-%d", (long)getpid(), r);
		sink(fd);
		for (i = 0; i < n; i++)
			pids[i] = spawn_out(argv, fd[1]);
		close(fd[1]);
		wait_waiting(bin, name, "waiters", n);
		t0 = now_ns(CLOCK_REALTIME);
		waitpid(spawn_out(set, -1), NULL, 0);
		read_lines(fd[0], n, &first, &last);
		close(fd[0]);
		for (i = 0; i < n; i++)
			waitpid(pids[i], NULL, 0);
		spread[r] = last - first;
		total[r] = last - t0;
		waitpid(spawn_out(rm, -1), NULL, 0);
	}
	printf("%.1f %.1f\n", median_us(spread, reps), median_us(total, reps));
}

static void
futex_run(int n, int reps, const char *xline)
{
	int64_t *spread = calloc(reps, sizeof *spread);
	uint32_t *shm;
	int r, i, fd[2];
	int64_t first, last;

	shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED || spread == NULL)
		die("mmap");
	for (r = 0; r < reps; r++) {
		shm[0] = 0; /* the word the children sleep on */
		shm[1] = 0; /* how many are about to sleep */
		sink(fd);
		for (i = 0; i < n - 1; i++) {
			pid_t p = fork();
			if (p < 0)
				die("fork");
			if (p == 0) {
				__atomic_add_fetch(&shm[1], 1, __ATOMIC_SEQ_CST);
				while (__atomic_load_n(&shm[0], __ATOMIC_SEQ_CST) == 0)
					syscall(SYS_futex, &shm[0], FUTEX_WAIT, 0,
					    NULL, NULL, 0);
				if (xline) {
					char *xv[] = { (char *)xline, NULL };
					dup2(fd[1], 1);
					execv(xline, xv);
					_exit(127);
				}
				if (write(fd[1], "x\n", 2) != 2)
					_exit(1);
				_exit(0);
			}
		}
		while (__atomic_load_n(&shm[1], __ATOMIC_SEQ_CST) != (uint32_t)n - 1)
			usleep(1000);
		usleep(5000); /* let the last ones reach FUTEX_WAIT */
		__atomic_store_n(&shm[0], 1, __ATOMIC_SEQ_CST);
		syscall(SYS_futex, &shm[0], FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
		if (write(fd[1], "x\n", 2) != 2)
			die("write");
		close(fd[1]);
		read_lines(fd[0], n, &first, &last);
		close(fd[0]);
		while (wait(NULL) > 0)
			;
		spread[r] = last - first;
	}
	printf("%.1f\n", median_us(spread, reps));
}

static void
spawn_run(int reps, char **argv)
{
	int64_t *t = calloc(reps, sizeof *t), t0;
	int r;

	if (t == NULL)
		die("calloc");
	for (r = 0; r < reps; r++) {
		t0 = now_ns(CLOCK_MONOTONIC);
		waitpid(spawn_out(argv, -1), NULL, 0);
		t[r] = now_ns(CLOCK_MONOTONIC) - t0;
	}
	printf("%.1f\n", median_us(t, reps));
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 5 && strcmp(argv[1], "tool") == 0)
		tool(argv[2], atoi(argv[3]), atoi(argv[4]));
	else if (argc == 6 && strcmp(argv[1], "event") == 0)
		event_run(argv[2], atoi(argv[3]), atoi(argv[4]), argv[5]);
	else if ((argc == 4 || argc == 5) && strcmp(argv[1], "futex") == 0)
		futex_run(atoi(argv[2]), atoi(argv[3]), argv[4]);
	else if (argc >= 4 && strcmp(argv[1], "spawn") == 0)
		spawn_run(atoi(argv[2]), argv + 3);
	else {
		fprintf(stderr, "usage: barrier_lat tool BIN N REPS | "
		    "event BIN N REPS XLINE | futex N REPS [XLINE] | "
		    "spawn REPS CMD...\n");
		return 2;
	}
	return 0;
}
