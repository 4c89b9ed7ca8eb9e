/* barrier_lat: measurements for bench/barrier.sh.
 *
 *   barrier_lat tool BARRIER N REPS   release spread of `barrier wait`
 *   barrier_lat futex N REPS          the same with a bare futex broadcast
 *   barrier_lat spawn REPS CMD...     posix_spawn + waitpid of CMD
 *
 * Each prints one number, the median over REPS in microseconds. The
 * release spread is the time from the first released party writing a
 * line to a shared pipe to the last one doing so: how long it takes a
 * release to make every party run. `tool` also prints, second, the
 * median time from starting the last arrival to the last line. */
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
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

/* Read N lines from FD; *FIRST and *LAST get the times of the reads
 * that brought the first and the last line. */
static void
read_lines(int fd, int n, int64_t *first, int64_t *last)
{
	char buf[4096];
	ssize_t r, i;
	int got = 0;

	*first = 0;
	while (got < n) {
		r = read(fd, buf, sizeof buf);
		if (r <= 0)
			die("read");
		*last = now_ns();
		if (*first == 0)
			*first = *last;
		for (i = 0; i < r; i++)
			got += buf[i] == '\n';
	}
}

/* Wait until barrier NAME has K parties waiting (set-up, not timed). */
static void
wait_waiting(const char *bin, const char *name, int k)
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
			sscanf(line, "waiting %d", &w);
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
		if (pipe(fd) < 0)
			die("pipe");
		for (i = 0; i < n - 1; i++)
			pids[i] = spawn_out(argv, fd[1]);
		wait_waiting(bin, name, n - 1);
		t0 = now_ns();
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

static void
futex_run(int n, int reps)
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
		if (pipe(fd) < 0)
			die("pipe");
		for (i = 0; i < n - 1; i++) {
			pid_t p = fork();
			if (p < 0)
				die("fork");
			if (p == 0) {
				__atomic_add_fetch(&shm[1], 1, __ATOMIC_SEQ_CST);
				while (__atomic_load_n(&shm[0], __ATOMIC_SEQ_CST) == 0)
					syscall(SYS_futex, &shm[0], FUTEX_WAIT, 0,
					    NULL, NULL, 0);
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
		t0 = now_ns();
		waitpid(spawn_out(argv, -1), NULL, 0);
		t[r] = now_ns() - t0;
	}
	printf("%.1f\n", median_us(t, reps));
}

int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 5 && strcmp(argv[1], "tool") == 0)
		tool(argv[2], atoi(argv[3]), atoi(argv[4]));
	else if (argc == 4 && strcmp(argv[1], "futex") == 0)
		futex_run(atoi(argv[2]), atoi(argv[3]));
	else if (argc >= 4 && strcmp(argv[1], "spawn") == 0)
		spawn_run(atoi(argv[2]), argv + 3);
	else {
		fprintf(stderr, "usage: barrier_lat tool BIN N REPS | "
		    "futex N REPS | spawn REPS CMD...\n");
		return 2;
	}
	return 0;
}
