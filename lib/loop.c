/* The backend-independent part of the event loop: the descriptor table,
 * a binary heap of timers, and signal delivery through a self-pipe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "loop_impl.h"
#include "proc.h"

struct watch {
	loop_fd_fn *fn;
	void *arg;
	unsigned events;
	int used;
};

struct loop_timer {
	int64_t deadline;
	loop_timer_fn *fn;
	void *arg;
	size_t idx;     /* position in the heap */
};

struct sigwatch {
	loop_signal_fn *fn;
	void *arg;
};

struct loop {
	struct loop_be *be;
	struct watch *w;
	int nw;
	int nwatched;
	struct loop_timer **heap;
	size_t nheap, capheap;
	struct sigwatch sig[NSIG];
	int stop;
};

/* One self-pipe for the process: signal handlers are process-wide. */
static int sigpipe_fd[2] = { -1, -1 };

/* Set by the handler of the signals added with loop_add_signal_intr. */
static volatile sig_atomic_t intr_caught;

int64_t
loop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct loop *
loop_new(void)
{
	struct loop *l = calloc(1, sizeof *l);

	if (l == NULL)
		return NULL;
	l->be = be_new();
	if (l->be == NULL) {
		free(l);
		return NULL;
	}
	return l;
}

void
loop_free(struct loop *l)
{
	int s;

	if (l == NULL)
		return;
	for (s = 1; s < NSIG; s++)
		if (l->sig[s].fn)
			signal(s, SIG_DFL);
	for (size_t i = 0; i < l->nheap; i++)
		free(l->heap[i]);
	be_free(l->be);
	free(l->heap);
	free(l->w);
	free(l);
}

static struct watch *
watch_of(struct loop *l, int fd)
{
	if (fd < 0 || fd >= l->nw || !l->w[fd].used)
		return NULL;
	return &l->w[fd];
}

int
loop_add_fd(struct loop *l, int fd, unsigned events, loop_fd_fn *fn,
    void *arg)
{
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (fd >= l->nw) {
		int n = fd + 64;
		struct watch *w = realloc(l->w, n * sizeof *w);
		if (w == NULL)
			return -1;
		memset(w + l->nw, 0, (n - l->nw) * sizeof *w);
		l->w = w;
		l->nw = n;
	}
	if (l->w[fd].used) {
		errno = EEXIST;
		return -1;
	}
	if (events && be_set(l->be, fd, events, 1) < 0)
		return -1;
	l->w[fd] = (struct watch){ fn, arg, events, 1 };
	l->nwatched++;
	return 0;
}

/* A paused descriptor (no events) is taken out of the backend entirely,
 * because both epoll and poll report hang-ups whatever was asked for, and
 * a level-triggered hang-up on a paused pipe would spin the loop. */
int
loop_mod_fd(struct loop *l, int fd, unsigned events)
{
	struct watch *w = watch_of(l, fd);

	if (w == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (events == w->events)
		return 0;
	if (events == 0)
		be_del(l->be, fd);
	else if (be_set(l->be, fd, events, w->events == 0) < 0)
		return -1;
	w->events = events;
	return 0;
}

void
loop_del_fd(struct loop *l, int fd)
{
	struct watch *w = watch_of(l, fd);

	if (w == NULL)
		return;
	if (w->events)
		be_del(l->be, fd);
	memset(w, 0, sizeof *w);
	l->nwatched--;
}

void
loop_ready(struct loop *l, int fd, unsigned events)
{
	struct watch *w = watch_of(l, fd);

	if (w == NULL || w->events == 0)
		return;
	w->fn(l, fd, events, w->arg);
}

static void
heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_timer *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->idx = a;
	l->heap[b]->idx = b;
}

static void
heap_up(struct loop *l, size_t i)
{
	while (i > 0 && l->heap[(i - 1) / 2]->deadline > l->heap[i]->deadline) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		if (c < l->nheap && l->heap[c]->deadline < l->heap[m]->deadline)
			m = c;
		if (c + 1 < l->nheap &&
		    l->heap[c + 1]->deadline < l->heap[m]->deadline)
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

struct loop_timer *
loop_add_timer(struct loop *l, int64_t deadline, loop_timer_fn *fn, void *arg)
{
	struct loop_timer *t;

	if (l->nheap == l->capheap) {
		size_t cap = l->capheap ? 2 * l->capheap : 16;
		struct loop_timer **h = realloc(l->heap, cap * sizeof *h);
		if (h == NULL)
			return NULL;
		l->heap = h;
		l->capheap = cap;
	}
	t = malloc(sizeof *t);
	if (t == NULL)
		return NULL;
	*t = (struct loop_timer){ deadline, fn, arg, l->nheap };
	l->heap[l->nheap++] = t;
	heap_up(l, t->idx);
	return t;
}

static void
heap_remove(struct loop *l, struct loop_timer *t)
{
	size_t i = t->idx;

	l->nheap--;
	if (i != l->nheap) {
		l->heap[i] = l->heap[l->nheap];
		l->heap[i]->idx = i;
		heap_down(l, i);
		heap_up(l, i);
	}
}

void
loop_del_timer(struct loop *l, struct loop_timer *t)
{
	if (t == NULL)
		return;
	heap_remove(l, t);
	free(t);
}

static void
on_signal(int signo)
{
	int e = errno;
	unsigned char c = (unsigned char)signo;

	/* In a vfork child that has not exec'd yet (see proc_in_child) the
	 * signal is the child's: it gets the default action, as after
	 * exec, and the loop (the parent's memory) is left alone. */
	if (proc_in_child) {
		signal(signo, SIG_DFL);
		raise(signo);
		errno = e;
		return;
	}

	/* A full pipe means the loop already has signals to read. */
	(void)!write(sigpipe_fd[1], &c, 1);
	errno = e;
}

static void
on_signal_intr(int signo)
{
	if (!proc_in_child)
		intr_caught = 1;
	on_signal(signo);
}

int
loop_interrupted(void)
{
	return intr_caught;
}

static void
read_signals(struct loop *l, int fd, unsigned events, void *arg)
{
	unsigned char buf[64];
	ssize_t n, i;

	/* A short read has drained the pipe: no read just to see EAGAIN. */
	do {
		n = read(fd, buf, sizeof buf);
		for (i = 0; i < n; i++)
			if (buf[i] < NSIG && l->sig[buf[i]].fn)
				l->sig[buf[i]].fn(l, buf[i], l->sig[buf[i]].arg);
	} while (n == (ssize_t)sizeof buf);
}

static int
add_signal(struct loop *l, int signo, loop_signal_fn *fn, void *arg,
    int intr)
{
	struct sigaction sa;

	if (signo <= 0 || signo >= NSIG) {
		errno = EINVAL;
		return -1;
	}
	if (proc_sig_kept(signo))
		return 0;
	if (sigpipe_fd[0] < 0) {
		if (pipe2(sigpipe_fd, O_CLOEXEC | O_NONBLOCK) < 0)
			return -1;
	}
	if (!watch_of(l, sigpipe_fd[0]) &&
	    loop_add_fd(l, sigpipe_fd[0], LOOP_IN, read_signals, NULL) < 0)
		return -1;
	l->sig[signo] = (struct sigwatch){ fn, arg };
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = intr ? on_signal_intr : on_signal;
	sa.sa_flags = (intr ? 0 : SA_RESTART) |
	    (signo == SIGCHLD ? SA_NOCLDSTOP : 0);
	sigfillset(&sa.sa_mask);
	if (sigaction(signo, &sa, NULL) < 0)
		return -1;
	return 0;
}

int
loop_add_signal(struct loop *l, int signo, loop_signal_fn *fn, void *arg)
{
	return add_signal(l, signo, fn, arg, 0);
}

int
loop_add_signal_intr(struct loop *l, int signo, loop_signal_fn *fn, void *arg)
{
	return add_signal(l, signo, fn, arg, 1);
}

int
loop_add_stop_signals(struct loop *l, const sigset_t *except,
    loop_signal_fn *fn, void *arg)
{
	static const int fixed[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1,
		SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ,
#ifdef SIGIO
		SIGIO,
#endif
#ifdef SIGPWR
		SIGPWR,
#endif
#ifdef SIGSTKFLT
		SIGSTKFLT,
#endif
	};
	int n = (int)(sizeof fixed / sizeof fixed[0]), i, s;

	for (i = 0; i < n + SIGRTMAX - SIGRTMIN + 1; i++) {
		struct sigaction old;
		s = i < n ? fixed[i] : SIGRTMIN + i - n;
		if (except && sigismember(except, s) == 1)
			continue;
		if (sigaction(s, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		/* A real-time signal may be taken (valgrind keeps one for
		 * itself): that one stays at its default. */
		if (add_signal(l, s, fn, arg, 1) < 0 && i < n)
			return -1;
	}
	return 0;
}

int
loop_run_once(struct loop *l, int64_t max_wait)
{
	int64_t now = loop_now(), wait = max_wait;
	int n, fired = 0, ms;

	if (l->nheap) {
		int64_t d = l->heap[0]->deadline - now;
		if (d < 0)
			d = 0;
		if (wait < 0 || d < wait)
			wait = d;
	}
	/* Round up, so that a timer never fires before its deadline. */
	ms = wait < 0 ? -1 : wait > 86400000LL * 1000000 ? 86400000 :
	    (int)((wait + 999999) / 1000000);
	n = be_wait(l->be, l, ms);
	if (n < 0)
		return -1;
	now = loop_now();
	while (l->nheap && l->heap[0]->deadline <= now) {
		struct loop_timer *t = l->heap[0];
		heap_remove(l, t);
		t->fn(l, t->arg);
		free(t);
		fired++;
	}
	return n + fired;
}

int
loop_run(struct loop *l)
{
	/* The signal self-pipe alone does not keep the loop going. */
	l->stop = 0;
	while (!l->stop) {
		int self = watch_of(l, sigpipe_fd[0]) != NULL;
		if (l->nwatched <= self && l->nheap == 0)
			break;
		if (loop_run_once(l, -1) < 0)
			return -1;
	}
	return 0;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}
