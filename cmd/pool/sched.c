/* pool: when the next job may start. --delay spaces the starts of jobs;
 * --load holds them back while the machine has too many runnable tasks,
 * --memfree while too little memory is available (and below half of it,
 * pool.c stops the youngest job: sched_shed); --retry-delay and --memfree
 * put jobs aside to run again later, out of their slots (sched_park).
 *
 * pool.c asks sched_hold before each start (a new job, a retry, a job
 * moving to another host). When the start must wait, sched_hold arms one
 * timer on the loop, whose firing wakes the loop, which asks again: at
 * the end of the --delay, or SCHED_PERIOD later while --load holds jobs
 * back. The load is also read again at every turn of the loop while a
 * job waits (when a job ends, for instance). Nothing here costs anything
 * unless one of the options is given (sched_on). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "opt.h"
#include "pool.h"

int sched_on;

static struct loop *L;
static struct loop_timer *timer;
static int64_t delay;           /* --delay, ns; 0: none */
static int64_t last_start;
static int started;
static long load_max;           /* --load: start while fewer runnable */
static const char *loadavg = "/proc/loadavg";
static long load_seen = -1;     /* held back by --load at this count */
static uint64_t memfree;        /* --memfree, bytes; 0: none */
static const char *memfree_arg;
static const char *meminfo = "/proc/meminfo";
static char cgdir[4096];        /* pool's cgroup v2 directory, or "" */
static size_t cgroot;           /* ... the length of its file system's root */
static struct loop_timer *wtimer;
static int64_t mem_seen = -1;   /* held back by --memfree at this much */

static const char *
duration_why(const char *s, int64_t *ns)
{
	const char *why;

	if (opt_parse_duration(s, ns, &why) < 0)
		return why;
	if (*ns == OPT_DURATION_INF)
		return "must be finite";
	return NULL;
}

void
sched_delay(const char *s)
{
	const char *why = duration_why(s, &delay);

	if (why)
		err_diex(EXIT_TOOL, "--delay %s: %s", s, why);
	sched_on |= delay > 0;
}

void
sched_load(const char *s, long ncpus)
{
	size_t n = strlen(s);
	const char *why;
	char num[32];
	long long v;

	if (n > 1 && n < sizeof num && s[n - 1] == '%') {
		memcpy(num, s, n - 1);
		num[n - 1] = '\0';
		if (opt_parse_count(num, 1, 100000, &v, &why) < 0)
			err_diex(EXIT_TOOL, "--load %s: %s", s, why);
		v = ncpus * v / 100;
		if (v < 1)
			v = 1;
	} else if (opt_parse_count(s, 1, 1000000, &v, &why) < 0)
		err_diex(EXIT_TOOL, "--load %s: %s (a count of runnable "
		    "tasks, or a percentage of the CPUs)", s, why);
	load_max = (long)v;
	sched_on = 1;
}

void
sched_memfree(const char *s)
{
	memfree = opt_size("--memfree", s, 1, (uint64_t)1 << 60);
	memfree_arg = s;
	sched_on = 1;
}

/* Pool's own cgroup v2, from the "0::PATH" line of /proc/self/cgroup,
 * under /sys/fs/cgroup. POOL_CGROUP names a directory to read instead
 * (alone, not its parents). */
static void
find_cgroup(void)
{
	const char *f = getenv("POOL_CGROUP");
	char line[4096];
	FILE *fp;

	if (f && *f) {
		snprintf(cgdir, sizeof cgdir, "%s", f);
		cgroot = strlen(cgdir);
		return;
	}
	if ((fp = fopen("/proc/self/cgroup", "re")) == NULL)
		return;
	while (fgets(line, sizeof line, fp)) {
		size_t n = strcspn(line, "\n");
		line[n] = '\0';
		if (strncmp(line, "0::/", 4) == 0 && (size_t)snprintf(cgdir,
		    sizeof cgdir, "/sys/fs/cgroup%s", line + 3) < sizeof cgdir) {
			cgroot = strlen("/sys/fs/cgroup");
			if (cgdir[strlen(cgdir) - 1] == '/')
				cgdir[strlen(cgdir) - 1] = '\0';
			break;
		}
		cgdir[0] = '\0';
	}
	fclose(fp);
}

void
sched_init(struct loop *l)
{
	const char *f = getenv("POOL_LOADAVG");

	L = l;
	if (f && *f)
		loadavg = f;
	f = getenv("POOL_MEMINFO");
	if (f && *f)
		meminfo = f;
	if (memfree)
		find_cgroup();
}

static void
on_timer(struct loop *l, void *arg)
{
	(void)l;
	(void)arg;
	timer = NULL;   /* the loop has woken: pool.c asks again */
}

static void
arm(int64_t deadline)
{
	if (timer)
		loop_del_timer(L, timer);
	timer = loop_add_timer(L, deadline, on_timer, NULL);
	if (timer == NULL)
		err_diex(EXIT_TOOL, "out of memory");
}

/* The runnable tasks on the machine but pool itself: the fourth field
 * of /proc/loadavg is RUNNABLE/ALL. -1 when it cannot be read (then the
 * load holds nothing back, and pool says so once). */
static long
runnable(void)
{
	static int warned;
	char b[256], *p;
	ssize_t n;
	long r;
	int fd, i;

	fd = open(loadavg, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto bad;
	n = read(fd, b, sizeof b - 1);
	close(fd);
	if (n <= 0)
		goto bad;
	b[n] = '\0';
	p = b;
	for (i = 0; i < 3 && p; i++)
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	if (p == NULL || *p < '0' || *p > '9')
		goto bad;
	r = strtol(p, NULL, 10);
	return r > 0 ? r - 1 : 0;
bad:
	if (!warned) {
		warned = 1;
		err_warnx("warning: --load: cannot read the runnable tasks from %s; "
		    "going on without --load", loadavg);
	}
	return -1;
}

/* The first number in the file DIR/NAME (or FILE when NAME is NULL)
 * after KEY (at the start of a line; NULL: the file's start), in *V: 1;
 * 0 when it holds "max"; -1 when it cannot be read. */
static int
read_num(const char *dir, const char *name, const char *key, uint64_t *v)
{
	char path[4200], b[8192], *p = b;
	ssize_t n;
	int fd;

	if (name)
		snprintf(path, sizeof path, "%s/%s", dir, name);
	else
		snprintf(path, sizeof path, "%s", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, b, sizeof b - 1);
	close(fd);
	if (n <= 0)
		return -1;
	b[n] = '\0';
	if (key) {
		size_t k = strlen(key);
		while (strncmp(p, key, k) != 0) {
			if ((p = strchr(p, '\n')) == NULL)
				return -1;
			p++;
		}
		p += k;
		p += strspn(p, " \t");
	}
	if (strncmp(p, "max", 3) == 0)
		return 0;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*v = strtoull(p, NULL, 10);
	return errno ? -1 : 1;
}

/* The memory available: MemAvailable, or less when a cgroup v2 that pool
 * runs in (or one above it) has less room left under its memory.max;
 * -1 when unknown (pool then says so once, and --memfree holds nothing
 * back). */
static int64_t
mem_available(void)
{
	static int warned;
	char d[sizeof cgdir];
	uint64_t v, max, cur, a = UINT64_MAX;
	char *slash;

	if (read_num(meminfo, NULL, "MemAvailable:", &v) == 1 &&
	    v < UINT64_MAX / 1024)
		a = v * 1024;
	memcpy(d, cgdir, sizeof d);
	while (d[0] != '\0') {
		if (read_num(d, "memory.max", NULL, &max) == 1 &&
		    read_num(d, "memory.current", NULL, &cur) == 1 &&
		    (max > cur ? max - cur : 0) < a)
			a = max > cur ? max - cur : 0;
		if (strlen(d) <= cgroot || (slash = strrchr(d, '/')) == NULL)
			break;
		*slash = '\0';
	}
	if (a == UINT64_MAX) {
		if (!warned) {
			warned = 1;
			err_warnx("warning: --memfree: cannot read the memory "
			    "available from %s; going on without --memfree",
			    meminfo);
		}
		return -1;
	}
	return a > INT64_MAX ? INT64_MAX : (int64_t)a;
}

static void
on_wtimer(struct loop *l, void *arg)
{
	(void)l;
	(void)arg;
	wtimer = NULL;
}

int
sched_shed(long nrun)
{
	int64_t a;

	if (!memfree)
		return 0;
	if (nrun < 2) {
		if (wtimer)
			loop_del_timer(L, wtimer);
		wtimer = NULL;
		return 0;
	}
	if (wtimer)
		return 0;       /* looked less than SCHED_PERIOD ago */
	wtimer = loop_add_timer(L, loop_now() + SCHED_PERIOD, on_wtimer, NULL);
	if (wtimer == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	a = mem_available();
	return a >= 0 && (uint64_t)a < memfree / 2;
}

/* Say why jobs are held back, when that changes. */
static void
held(long load, int64_t mem)
{
	if (load == load_seen && mem == mem_seen)
		return;
	load_seen = load;
	mem_seen = mem;
	progress_redraw();
}

int
sched_hold(long busy)
{
	int64_t now;
	long r;

	if (!sched_on)
		return 0;
	now = loop_now();
	if (delay && started && now - last_start < delay) {
		arm(last_start + delay);
		return 1;
	}
	/* When no job runs, one starts whatever the load: the run always
	 * goes on. */
	r = load_max && busy > 0 ? runnable() : -1;
	if (r >= load_max) {
		held(r, -1);
		arm(now + SCHED_PERIOD);
		return 1;
	}
	if (memfree && busy > 0) {
		int64_t a = mem_available();
		if (a >= 0 && (uint64_t)a < memfree) {
			held(-1, a);
			arm(now + SCHED_PERIOD);
			return 1;
		}
	}
	held(-1, -1);
	return 0;
}

void
sched_started(int64_t now)
{
	last_start = now;
	started = 1;
}

int
sched_why(char *b, size_t n)
{
	int k;

	if (load_seen >= 0)
		k = snprintf(b, n, "held back by --load %ld: %ld runnable tasks",
		    load_max, load_seen);
	else if (mem_seen >= 0)
		k = snprintf(b, n, "held back by --memfree %s: %.1fM available",
		    memfree_arg, (double)mem_seen / (1 << 20));
	else
		return 0;
	return k < 0 ? 0 : (size_t)k < n ? k : (int)n - 1;
}

/* --retry-delay: a failed job waits for its retry out of its slot, in
 * a struct job of its own (the slot gets a blank one in exchange), so
 * that the slot runs other jobs meanwhile. At most as many jobs wait as
 * there are slots (pool.c starts no new job while they do), so memory
 * stays bounded. */
struct parked {
	struct job *j;
	int64_t at;                 /* loop_now() when it may run again */
};

int sched_retry_on;
static int64_t rdelay, rdelay_max;
static struct parked *parked;
static size_t nparked, capparked;
static struct job **spare;      /* blank jobs, for the next exchange */
static size_t nspare, capspare;
static struct loop_timer *ptimer;

void
sched_retry_delay(const char *s)
{
	opt_backoff_arg("--retry-delay", s, &rdelay, &rdelay_max);
	if (rdelay == OPT_DURATION_INF)
		err_diex(EXIT_TOOL, "--retry-delay %s: must be finite", s);
	sched_retry_on = rdelay > 0;
}

static void
on_ptimer(struct loop *l, void *arg)
{
	(void)l;
	(void)arg;
	ptimer = NULL;
}

/* Wake the loop when the next parked job's wait is over. */
static void
rearm(void)
{
	int64_t next = -1;
	size_t i;

	for (i = 0; i < nparked; i++)
		if (next < 0 || parked[i].at < next)
			next = parked[i].at;
	if (ptimer) {
		loop_del_timer(L, ptimer);
		ptimer = NULL;
	}
	if (next >= 0 && (ptimer = loop_add_timer(L, next, on_ptimer,
	    NULL)) == NULL)
		err_diex(EXIT_TOOL, "out of memory");
}

/* Exchange the jobs A and B but their slot numbers. */
static void
exchange(struct job *a, struct job *b)
{
	struct job t = *a;
	int slot = a->slot;

	*a = *b;
	*b = t;
	b->slot = a->slot;
	a->slot = slot;
	if (a->rec)
		a->rec->job = a;
	if (b->rec)
		b->rec->job = b;
}

static void *
grow(void *p, size_t *cap, size_t size)
{
	size_t n = *cap ? *cap * 2 : 8;

	if ((p = realloc(p, n * size)) == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	*cap = n;
	return p;
}

int64_t
sched_retry_wait(int tries)
{
	return opt_backoff(rdelay, rdelay_max, (unsigned long)tries);
}

struct job *
sched_park(struct job *j, int64_t wait)
{
	struct job *p;

	if (nspare > 0)
		p = spare[--nspare];
	else {
		if ((p = calloc(1, sizeof *p)) == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		p->state = JOB_FREE;
		p->fd[0] = p->fd[1] = p->infd = -1;
	}
	exchange(j, p);
	if (nparked == capparked)
		parked = grow(parked, &capparked, sizeof *parked);
	parked[nparked].j = p;
	parked[nparked].at = loop_now() + wait;
	nparked++;
	rearm();
	return p;
}

size_t
sched_parked(void)
{
	return nparked;
}

unsigned long long
sched_parked_oldest(void)
{
	unsigned long long m = (unsigned long long)-1;
	size_t i;

	for (i = 0; i < nparked; i++)
		if (parked[i].j->seq < m)
			m = parked[i].j->seq;
	return m;
}

struct job *
sched_ready(int all)
{
	int64_t now = loop_now();
	struct parked *best = NULL;
	size_t i;

	for (i = 0; i < nparked; i++)
		if ((all || parked[i].at <= now) && (best == NULL ||
		    parked[i].at < best->at))
			best = &parked[i];
	return best ? best->j : NULL;
}

void
sched_unpark(struct job *p, struct job *slot)
{
	size_t i;

	for (i = 0; i < nparked && parked[i].j != p; i++)
		;
	if (i == nparked)
		abort();
	parked[i] = parked[--nparked];
	exchange(slot, p);
	if (nspare == capspare)
		spare = grow(spare, &capspare, sizeof *spare);
	spare[nspare++] = p;
	rearm();
}

void
sched_list(struct buf *b)
{
	struct buf cmd = { 0 };
	int64_t now = loop_now();
	char head[160];
	size_t i;
	int n;

	for (i = 0; i < nparked; i++) {
		const struct job *j = parked[i].j;
		double left = parked[i].at > now ?
		    (double)(parked[i].at - now) / 1e9 : 0;
		n = snprintf(head, sizeof head, "pool: job %llu waits %.3fs "
		    "to run again: ", j->seq, left);
		buf_add(b, head, n);
		job_command_line(j, &cmd);
		buf_add(b, cmd.p, cmd.len);
		buf_add(b, "\n", 1);
	}
	buf_free(&cmd);
}
