#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "err.h"
#include "pgroup.h"
#include "proc.h"

/* The most groups the watcher can know of at once; the mapping is
 * reserved, not used, beyond the pages touched. A group beyond it is
 * supervised as usual but not known to the watcher. */
#define SHARED_MAX (1 << 20)

enum stage {
	PG_RUNNING,   /* not asked to stop */
	PG_STOPPING,  /* signalled; its grace timer runs */
	PG_KILLED,    /* SIGKILL sent */
};

struct pgroup {
	pid_t pgid;
	enum stage stage;
	int orphaned;              /* the leader has been reaped */
	int64_t killed_at;
	struct loop_timer *timer;  /* PG_STOPPING: the grace; PG_KILLED and
	                            * orphaned: the end of the kill wait */
	size_t idx;                /* position in tab[] and shared->pg[] */
};

/* What the watcher reads after our death. Entries [0, n) are groups;
 * removing one moves the last into its place before n shrinks, so at
 * every instant each held group is listed at least once. */
struct shared {
	volatile size_t n;
	volatile pid_t pg[];
};

static struct loop *loop;
static int64_t grace;
static int keep_leftover;
static struct pgroup **tab;
static size_t ntab, captab;
static size_t norphans;        /* held groups whose leader has ended */
static struct shared *shared;

static void
share(size_t i)
{
	if (shared && i < SHARED_MAX)
		shared->pg[i] = tab[i]->pgid;
}

static void
set_shared_n(void)
{
	if (shared)
		shared->n = ntab < SHARED_MAX ? ntab : SHARED_MAX;
}

static void
forget(struct pgroup *g)
{
	size_t i = g->idx;

	if (g->timer)
		loop_del_timer(loop, g->timer);
	if (g->orphaned)
		norphans--;
	tab[i] = tab[--ntab];
	tab[i]->idx = i;
	share(i);
	set_shared_n();
	free(g);
}

static int
has_members(const struct pgroup *g)
{
	return !(kill(-g->pgid, 0) < 0 && errno == ESRCH);
}

static void
on_kill_wait(struct loop *l, void *arg)
{
	struct pgroup *g = arg;

	g->timer = NULL;
	forget(g);
}

/* An orphaned group that got SIGKILL is waited for until KILLED_AT plus
 * the kill wait. */
static void
arm_kill_wait(struct pgroup *g)
{
	g->timer = loop_add_timer(loop, g->killed_at + PGROUP_KILL_WAIT,
	    on_kill_wait, g);
	if (g->timer == NULL)
		err_diex(EXIT_TOOL, "out of memory");
}

static void
kill_now(struct pgroup *g)
{
	if (g->timer) {
		loop_del_timer(loop, g->timer);
		g->timer = NULL;
	}
	proc_kill_group(g->pgid, SIGKILL);
	if (g->stage != PG_KILLED) {
		g->stage = PG_KILLED;
		g->killed_at = loop_now();
	}
	if (g->orphaned)
		arm_kill_wait(g);
}

static void
on_grace(struct loop *l, void *arg)
{
	struct pgroup *g = arg;

	g->timer = NULL;
	kill_now(g);
}

/* The watcher: wait for the end of file on FD (the program is gone),
 * then SIGKILL every group the program still held. */
static void __attribute__((noreturn))
watch(int fd)
{
	static const int ign[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP,
		SIGTTIN, SIGTTOU, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM };
	sigset_t none;
	char c;
	ssize_t r;
	size_t i, n;
	long maxfd;
	int nul, s;

	(void)setpgid(0, 0);
	for (s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	for (i = 0; i < sizeof ign / sizeof ign[0]; i++)
		signal(ign[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef __linux__
	(void)prctl(PR_SET_NAME, "conc-watcher");
#endif
	/* Hold none of the program's descriptors: a reader waiting for the
	 * end of its output must not wait for us. */
	nul = open("/dev/null", O_RDWR);
	if (fd != 0)
		(void)dup2(fd, 0);
	if (nul >= 0) {
		(void)dup2(nul, 1);
		(void)dup2(nul, 2);
	}
#ifdef CLOSE_RANGE_UNSHARE
	if (close_range(3, ~0U, 0) < 0)
#endif
	{
		maxfd = sysconf(_SC_OPEN_MAX);
		for (s = 3; s < (maxfd > 0 ? maxfd : 1024); s++)
			(void)close(s);
	}
	while ((r = read(0, &c, 1)) != 0)
		if (r < 0 && errno != EINTR)
			break;
	n = shared->n;
	for (i = 0; i < n && i < SHARED_MAX; i++)
		if (shared->pg[i] > 1)
			(void)kill(-shared->pg[i], SIGKILL);
	_exit(0);
}

/* Without a process to spare (RLIMIT_NPROC) or memory for the table, we
 * run without a watcher, as before there was one: the jobs' leaders
 * still get SIGKILL from the kernel when we die (PR_SET_PDEATHSIG). */
static void
start_watcher(void)
{
	size_t len = sizeof(struct shared) + SHARED_MAX * sizeof(pid_t);
	struct shared *sh;
	int p[2];
	pid_t pid;

	sh = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (sh == MAP_FAILED)
		return;
	if (pipe2(p, O_CLOEXEC) < 0) {
		munmap(sh, len);
		return;
	}
	shared = sh;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		watch(p[0]);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		munmap(sh, len);
		shared = NULL;
	}
	/* Otherwise the write end stays open, unused, until we exit: its
	 * closing is the news. Close-on-exec keeps it from the jobs. */
}

void
pgroup_init(struct loop *l, int64_t g, int keep)
{
	loop = l;
	grace = g;
	keep_leftover = keep;
#ifdef __linux__
	/* Orphans of our jobs become our children, so that we learn when a
	 * group that outlived its leader has emptied. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
	start_watcher();
}

struct pgroup *
pgroup_add(pid_t pgid)
{
	struct pgroup *g;

	if (ntab == captab) {
		size_t cap = captab ? 2 * captab : 64;
		struct pgroup **t = realloc(tab, cap * sizeof *t);
		if (t == NULL)
			err_diex(EXIT_TOOL, "out of memory");
		tab = t;
		captab = cap;
	}
	g = calloc(1, sizeof *g);
	if (g == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	g->pgid = pgid;
	g->stage = PG_RUNNING;
	g->idx = ntab;
	tab[ntab++] = g;
	share(g->idx);
	set_shared_n();
	return g;
}

void
pgroup_stop(struct pgroup *g, int sig)
{
	proc_kill_group(g->pgid, sig);
	if (g->stage != PG_RUNNING)
		return;
	g->stage = PG_STOPPING;
	g->timer = loop_add_timer(loop, loop_now() + grace, on_grace, g);
	if (g->timer == NULL)
		err_diex(EXIT_TOOL, "out of memory");
}

void
pgroup_exited(struct pgroup *g)
{
	g->orphaned = 1;
	norphans++;
	if (!has_members(g) || (g->stage == PG_RUNNING && !keep_leftover)) {
		forget(g);
		return;
	}
	if (g->stage == PG_KILLED) {
		if (loop_now() >= g->killed_at + PGROUP_KILL_WAIT)
			forget(g);
		else
			arm_kill_wait(g);
	}
}

void
pgroup_leader_gone(struct pgroup **gp, int ended)
{
	if (*gp == NULL || (!ended && has_members(*gp)))
		return;
	pgroup_exited(*gp);
	*gp = NULL;
}

/* Forget the orphaned groups that have emptied; an empty group's number
 * may be reused, so it must never be signalled again. */
static void
forget_empty(void)
{
	size_t i = 0;

	while (norphans && i < ntab)
		if (tab[i]->orphaned && !has_members(tab[i]))
			forget(tab[i]);   /* tab[i] is now another group */
		else
			i++;
}

void
pgroup_stop_all(int sig)
{
	size_t i;

	forget_empty();
	for (i = 0; i < ntab; i++)
		pgroup_stop(tab[i], sig);
}

void
pgroup_kill_all(void)
{
	size_t i = 0, n;

	forget_empty();
	/* kill_now can forget nothing, but its timers may; walk a count. */
	for (n = ntab; i < n && i < ntab; i++)
		kill_now(tab[i]);
}

int
pgroup_waiting(void)
{
	size_t i;
	int n = 0;

	if (norphans == 0)
		return 0;
	forget_empty();
	for (i = 0; i < ntab; i++)
		if (tab[i]->orphaned && tab[i]->stage != PG_RUNNING)
			n++;
	return n;
}

void
pgroup_release(void)
{
	if (shared)
		shared->n = 0;
}
