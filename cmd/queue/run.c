/* queue run: a worker that runs a command once per message and removes
 * the message only when the command exits 0.
 *
 * Delivery. Every job slot of the worker is a getter slot of the queue
 * (queueobj.h) whose robust mutex the worker holds for its life. A job's
 * message stays claimed by its slot while the job runs: if the worker
 * dies, even by SIGKILL, the next process to look finds the slot's owner
 * dead and returns the message to the queue (the same mechanism that
 * redelivers the claims of a dead `queue get`), and the jobs, which get
 * SIGKILL as their parent-death signal, do not run on. When a job ends,
 * its output is written out first; then, under the queue's lock, exit 0
 * acknowledges (removes) the message, and any other end replaces it with
 * a copy that carries the raised attempt count, the last status and the
 * due time of the retry (q_requeue: one journal commit), or moves it to
 * the dead queue after --retries retries (put there first, then removed:
 * a crash in between leaves it in both, never in neither).
 *
 * Supervision. Every job is the leader of a process group of its own,
 * held by lib/pgroup from its start: a lease or a stop signals the whole
 * group and SIGKILLs it after the grace time, and pgroup's watcher kills
 * every group still held when the worker dies without ending normally
 * (SIGKILL, a crash), so that what the jobs started does not run on
 * either. A job keeps its group until the job has ended or, once its
 * leader has been reaped, until the group is empty: what the leader left
 * running (holding the job's pipes) is still reached by a lease.
 *
 * Waiting. The event loop (lib/loop) watches the jobs' output pipes,
 * their timers and signals; a queue is waited for with a futex, which no
 * event loop can watch. So a thread does the futex wait for the loop and
 * reports through a pipe when the queue changed or the time it was given
 * passed (the first delayed message's due time; 250 ms while another
 * worker holds claims, to notice its death). Only the main thread locks
 * the queue and the slots, so a slot's robust mutex always names a
 * thread of a live worker. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "err.h"
#include "loop.h"
#include "mux.h"
#include "obj.h"
#include "opt.h"
#include "pgroup.h"
#include "proc.h"
#include "queue.h"
#include "queueobj.h"
#include "repl.h"

#define JOBS_MAX (Q_NSLOT / 4)
#define GRACE_DEFAULT (2 * OPT_NS_PER_SEC)
#define PERIODIC_NS (250 * 1000000LL)
#define RETRY_FULL_NS (100 * 1000000LL)
#define OUT_CAP (256 * 1024)
#define LINE_MAX_BYTES ((size_t)16 << 20)
#define SPOOL_BUDGET ((size_t)16 << 20)
#define SPOOL_READ 65536

extern char **environ;

static const char usage[] = "queue run [-j N] [--retries K] "
    "[--retry-delay DUR[,MAX]] [--lease DUR] [--grace DUR] [--dead NAME] "
    "[--stdin] [-k] NAME [--] CMD [ARG...]";

enum { OPT_RETRIES = 0x200, OPT_RETRY_DELAY, OPT_LEASE, OPT_GRACE, OPT_DEAD,
	OPT_STDIN };

struct conf {
	long jobs;
	long retries;
	int64_t delay, delay_max;   /* ns; 0: retry at once */
	int64_t lease, grace;       /* ns; lease 0: none */
	const char *dead;
	int stdin_msg, keep;
	const char *name;
	char **cmd;
	int ncmd;
};

/* A job's life: FREE, then RUN from the spawn until it is reaped and
 * both of its pipes reached end of file, then (with -k) DONE until its
 * turn to be written out, then ended (its message settled) and FREE. */
enum { J_FREE, J_RUN, J_DONE };

struct rjob {
	int state;
	struct queue q;            /* a view of the queue with its own slot */
	pid_t pid;
	int reaped, wstatus, leased;
	struct pgroup *grp;        /* its process group, see group_release */
	int fd[2];
	int paused[2];
	struct mux_src src[2];
	struct buf spool[2];       /* -k: held until its turn */
	struct loop_timer *timer;  /* --lease */
	struct q_meta meta;
	unsigned long long seq;
	struct loop_timer *retry;  /* a requeue that did not fit yet */
	int status;                /* how the job ended */
};

static struct conf C;
static struct loop *L;
static struct queue Q;         /* the main view: waiting, stat's getter */
static struct queue D;         /* the dead queue */
static int have_dead;
static struct rjob *jobs;
static long running;           /* jobs not FREE */
static struct mux_out out_std[2];
static unsigned long long next_seq = 1, emit_seq = 1;
static int stopping, stop_sig, removed, finished;
static unsigned long long ndead;
static char path[PATH_MAX];
static char **envp;
static char idvar[48] = "QUEUE_ID=", attvar[48] = "QUEUE_ATTEMPT=";
static char *namevar;
static int devnull = -1;

/* The waiter thread: requests come in on req[], reports go out on
 * note[]. */
struct wreq {
	uint32_t seen;
	int64_t until;
};
static int req[2], note[2];
static int waiting;            /* a request is out */

static void
nomem(void)
{
	err_diex(EXIT_TOOL, "out of memory");
}

/* ---- Options ---- */

static void
parse_retry_delay(const char *s)
{
	opt_backoff_arg("--retry-delay", s, &C.delay, &C.delay_max);
}

static void
parse_opts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, 0, 'j' },
		{ "retries", required_argument, 0, OPT_RETRIES },
		{ "retry-delay", required_argument, 0, OPT_RETRY_DELAY },
		{ "lease", required_argument, 0, OPT_LEASE },
		{ "grace", required_argument, 0, OPT_GRACE },
		{ "dead", required_argument, 0, OPT_DEAD },
		{ "stdin", no_argument, 0, OPT_STDIN },
		{ "keep-order", no_argument, 0, 'k' },
		CLI_STD_OPTIONS,
		{ 0, 0, 0, 0 }
	};
	struct cli sub = { usage, queue_help };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int c;

	C.jobs = ncpu < 1 ? 1 : ncpu > JOBS_MAX ? JOBS_MAX : ncpu;
	C.grace = GRACE_DEFAULT;
	cli_reset();
	while ((c = cli_next(argc, argv, "j:k", longopts, &sub)) != -1) {
		switch (c) {
		case 'j': C.jobs = (long)opt_count("-j", optarg, 1, JOBS_MAX);
			break;
		case OPT_RETRIES:
			C.retries = (long)opt_count("--retries", optarg, 0,
			    1000000);
			break;
		case OPT_RETRY_DELAY: parse_retry_delay(optarg); break;
		case OPT_LEASE:
			C.lease = opt_duration("--lease", optarg);
			if (C.lease == 0)
				err_diex(EXIT_TOOL, "--lease %s: must be more "
				    "than 0", optarg);
			break;
		case OPT_GRACE: C.grace = opt_duration("--grace", optarg); break;
		case OPT_DEAD: C.dead = optarg; break;
		case OPT_STDIN: C.stdin_msg = 1; break;
		case 'k': C.keep = 1; break;
		}
	}
	if (optind >= argc)
		cli_usage_error(&sub, "missing NAME");
	C.name = argv[optind++];
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	else if (optind < argc)
		cli_after_name(&sub, argv[optind]);
	if (optind >= argc)
		cli_usage_error(&sub, "missing CMD");
	C.cmd = argv + optind;
	C.ncmd = argc - optind;
}

/* ---- Setup ---- */

/* CMD must be there before anything is taken: every message would fail. */
static void
check_cmd(void)
{
	int e = proc_resolve(C.cmd[0], path, sizeof path);

	if (e != 0) {
		errno = e;
		err_warn("%s", C.cmd[0]);
		exit(proc_exec_status(e));
	}
}

static void
open_queues(void)
{
	struct stat a, b;

	queue_open_or_die(&Q, C.name);
	if (C.delay > 0 && Q.sh->order == Q_PRIO)
		err_diex(EXIT_TOOL, "%s: --retry-delay needs a FIFO or LIFO "
		    "queue", C.name);
	if (C.dead == NULL)
		return;
	queue_open_or_die(&D, C.dead);
	have_dead = 1;
	if (fstat(Q.o.fd, &a) == 0 && fstat(D.o.fd, &b) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		err_diex(EXIT_TOOL, "--dead %s: is the queue itself", C.dead);
}

static void
env_init(void)
{
	size_t n = 0, k = 0, len = strlen(C.name) + sizeof "QUEUE_NAME=";
	char **e;

	for (e = environ; *e; e++)
		n++;
	envp = malloc((n + 4) * sizeof *envp);
	namevar = malloc(len);
	if (envp == NULL || namevar == NULL)
		nomem();
	snprintf(namevar, len, "QUEUE_NAME=%s", C.name);
	for (e = environ; *e; e++)
		if (strncmp(*e, "QUEUE_NAME=", 11) != 0 &&
		    strncmp(*e, "QUEUE_ID=", 9) != 0 &&
		    strncmp(*e, "QUEUE_ATTEMPT=", 14) != 0)
			envp[k++] = *e;
	envp[k++] = namevar;
	envp[k++] = idvar;
	envp[k++] = attvar;
	envp[k] = NULL;
}

/* ---- The waiter thread ---- */

static void *
waiter(void *arg)
{
	struct wreq r;
	char c = 1;

	(void)arg;
	while (read(req[0], &r, sizeof r) == (ssize_t)sizeof r) {
		obj_futex_wait(&Q.sh->put_seq, r.seen, q_wait_bound(r.until));
		while (write(note[1], &c, 1) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

static void fill(void);

static void
on_note(struct loop *l, int fd, unsigned ev, void *arg)
{
	char buf[16];

	(void)l; (void)ev; (void)arg;
	if (read(fd, buf, sizeof buf) <= 0)
		return;
	q_lock(&Q);
	if (Q.sh->getw > 0)
		Q.sh->getw--;
	Q.sh->slot[Q.slot].role = Q_WAIT_NONE;
	q_unlock(&Q);
	waiting = 0;
	fill();
}

/* (locked) Ask the thread to wait for the queue to change, until UNTIL
 * (q_now based, -1: no limit). */
static void
wait_for_queue(int64_t until)
{
	struct wreq r;

	memset(&r, 0, sizeof r);   /* no padding of ours goes out unset */
	r.seen = Q.sh->put_seq;
	r.until = until;
	/* Nothing to take: storage the queue does not need goes back. */
	q_shrink(&Q);
	Q.sh->getw++;
	Q.sh->slot[Q.slot].role = Q_WAIT_GET;
	waiting = 1;
	if (write(req[1], &r, sizeof r) != (ssize_t)sizeof r)
		err_die(EXIT_TOOL, "%s: wait", C.name);
}

/* ---- Output ---- */

static int
streams(const struct rjob *j)
{
	return !C.keep || j->seq == emit_seq;
}

static void job_check(struct rjob *j);
static void flush_out(void);

static void
on_output(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct rjob *j = arg;
	int w = fd == j->fd[0] ? 0 : 1;
	ssize_t n;

	(void)ev;
	if (streams(j)) {
		n = mux_src_read(&j->src[w], fd);
		/* Whole lines go out as they come (the job may run long). */
		flush_out();
	} else {
		char buf[SPOOL_READ];
		n = read(fd, buf, sizeof buf);
		if (n > 0)
			buf_add(&j->spool[w], buf, (size_t)n);
		/* Memory stays bounded: a job that may not write out yet
		 * blocks in write(2) once this much is held. */
		if (j->spool[w].len >= SPOOL_BUDGET) {
			loop_mod_fd(l, fd, 0);
			j->paused[w] = 1;
		}
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		if (!streams(j) && n == 0)
			j->src[w].eof = 1;
		loop_del_fd(l, fd);
		close(fd);
		j->fd[w] = -1;
		job_check(j);
	}
}

/* -k: J's turn has come: what it held goes out, then it writes through. */
static void
start_streaming(struct rjob *j)
{
	int w;

	for (w = 0; w < 2; w++) {
		if (j->spool[w].len)
			mux_src_feed(&j->src[w], j->spool[w].p,
			    j->spool[w].len);
		j->spool[w].len = 0;
		if (j->fd[w] < 0)
			mux_src_finish(&j->src[w]);
		else if (j->paused[w]) {
			loop_mod_fd(L, j->fd[w], LOOP_IN);
			j->paused[w] = 0;
		}
	}
}

static void
flush_out(void)
{
	if (mux_out_flush(&out_std[0]) < 0 || mux_out_flush(&out_std[1]) < 0) {
		errno = out_std[0].err ? out_std[0].err : out_std[1].err;
		if (errno == EPIPE)
			exit(128 + SIGPIPE);
		err_die(EXIT_TOOL, "write");
	}
}

/* ---- Settling a message ---- */

static int64_t
retry_delay(uint32_t attempt)
{
	return opt_backoff(C.delay, C.delay_max, attempt);
}

/* Put the message claimed by J into the dead queue with its meta. */
static void
bury(struct rjob *j)
{
	struct q_msg m;
	uint32_t len;
	char *copy;
	const void *p;

	q_lock(&j->q);
	p = q_claimed_msg(&j->q, &len);
	if ((copy = malloc(len ? len : 1)) == NULL)
		nomem();
	memcpy(copy, p, len);
	q_unlock(&j->q);
	m.data = copy;
	m.len = len;
	if (queue_put_meta(&D, &m, &j->meta) != 0)
		exit(EXIT_TOOL);
	free(copy);
}

static void job_free(struct rjob *j);

static void
on_retry_full(struct loop *l, void *arg)
{
	struct rjob *j = arg;

	(void)l;
	j->retry = NULL;
	job_free(j);
}

/* J has ended and its output is out: settle its message. Returns 0, or
 * -1 when a retry did not fit into the queue yet (tried again later). */
static int
settle_msg(struct rjob *j)
{
	int st = j->status;

	if (stopping && st != 0) {
		/* Stopped by our signal: the message goes back as it was. */
		q_lock(&j->q);
		q_unclaim(&j->q);
		q_unlock(&j->q);
		return 0;
	}
	if (st == 0) {
		q_lock(&j->q);
		q_ack(&j->q);
		q_unlock(&j->q);
		return 0;
	}
	j->meta.attempt++;
	j->meta.status = st;
	if ((long)j->meta.attempt > C.retries) {
		ndead++;
		if (have_dead) {
			bury(j);
		} else {
			err_warnx("%s: message %" PRIu64 " failed %" PRIu32
			    " time%s (last status %d): dropped", C.name,
			    j->meta.id, j->meta.attempt,
			    j->meta.attempt == 1 ? "" : "s", st);
		}
		q_lock(&j->q);
		q_ack(&j->q);
		q_unlock(&j->q);
		return 0;
	}
	j->meta.due = C.delay > 0 ? q_realtime() +
	    retry_delay(j->meta.attempt) : 0;
	q_lock(&j->q);
	if (!q_requeue(&j->q, &j->meta)) {
		q_unlock(&j->q);
		j->meta.attempt--;
		return -1;
	}
	q_unlock(&j->q);
	return 0;
}

static void
job_free(struct rjob *j)
{
	if (settle_msg(j) < 0) {
		/* No room for the copy now: hold the message and try again
		 * shortly (a full queue is a corner case). */
		j->retry = loop_add_timer(L, loop_now() + RETRY_FULL_NS,
		    on_retry_full, j);
		if (j->retry == NULL)
			nomem();
		return;
	}
	j->state = J_FREE;
	running--;
	fill();
}

/* -k: write out and settle, in message order, every job that is done. */
static void
emit_done(void)
{
	long i;
	int found;

	do {
		found = 0;
		for (i = 0; i < C.jobs; i++) {
			struct rjob *j = &jobs[i];
			if (j->state == J_FREE || j->seq != emit_seq)
				continue;
			found = 1;
			if (j->state != J_DONE) {
				start_streaming(j);
				return;
			}
			start_streaming(j);
			emit_seq++;
			flush_out();
			j->state = J_RUN; /* job_free counts it down */
			job_free(j);
		}
	} while (found);
}

/* J's group goes to pgroup once J's leader has been reaped and J has
 * ENDED or its group is empty (pgroup_leader_gone). */
static void
group_release(struct rjob *j, int ended)
{
	if (j->reaped)
		pgroup_leader_gone(&j->grp, ended);
}

/* J is complete when reaped and both pipes are at end of file. */
static void
job_check(struct rjob *j)
{
	if (!j->reaped || j->fd[0] >= 0 || j->fd[1] >= 0 ||
	    j->state != J_RUN)
		return;
	group_release(j, 1);
	if (j->timer) {
		loop_del_timer(L, j->timer);
		j->timer = NULL;
	}
	j->status = j->leased ? EXIT_TIMEOUT : proc_status(j->wstatus);
	if (C.keep) {
		j->state = J_DONE;
		emit_done();
		return;
	}
	flush_out();
	job_free(j);
}

/* ---- Jobs ---- */

/* --lease: SIGTERM to the job's group, SIGKILL after the grace time. */
static void
on_lease(struct loop *l, void *arg)
{
	struct rjob *j = arg;

	(void)l;
	j->timer = NULL;
	j->leased = 1;
	if (j->grp)
		pgroup_stop(j->grp, SIGTERM);
}

/* ---- The command template ----
 * The ARGs' replacement strings are lib/repl's, with pool's meaning for a
 * job of one value, its message: {} and {1} are the message, {.} {/}
 * {//} {/.} (and {1.} ...) its parts, {#} the job's number in this run
 * (1, 2, ...), {%} its job slot (1 to -j). The ARGs are parsed once. */
static struct repl_word *words;    /* one per word of CMD ARG... */
static int any_repl;

/* Parse the ARGs; a string that would need a second value ({2}) is bad
 * input, refused before anything is taken. */
static void
tmpl_parse(void)
{
	int i;

	if ((words = calloc((size_t)C.ncmd, sizeof *words)) == NULL)
		nomem();
	for (i = 1; i < C.ncmd; i++) {
		struct repl_word *w = &words[i];
		int g;

		repl_parse(w, C.cmd[i], NULL, NULL);
		for (g = 0; g < w->n; g++)
			if (w->p[g].kind == REPL_VAL && w->p[g].pos > 1)
				err_diex(EXIT_TOOL, "%.*s: a job of queue run "
				    "has one value, its message ({} or {1})",
				    (int)w->p[g].n, w->p[g].s);
		any_repl |= w->repl;
	}
}

static void
tmpl_free(void)
{
	int i;

	for (i = 0; words && i < C.ncmd; i++)
		repl_free(&words[i]);
	free(words);
	words = NULL;
}

/* The job's argv: CMD, the ARGs with their replacement strings expanded
 * for MSG, job number SEQ and slot SLOT, then MSG itself unless an ARG
 * has a replacement string or the message goes to stdin. The strings
 * made go into STRS (*NSTR of them) for the caller to free. */
static char **
build_argv(const char *msg, unsigned long long seq, long slot, char **strs,
    int *nstr)
{
	char **v = calloc((size_t)C.ncmd + 2, sizeof *v);
	int i, g, k = 0;

	if (v == NULL)
		nomem();
	*nstr = 0;
	v[k++] = C.cmd[0];
	for (i = 1; i < C.ncmd; i++) {
		const struct repl_word *w = &words[i];
		struct buf b = { 0 };

		if (!w->repl) {
			v[k++] = C.cmd[i];
			continue;
		}
		for (g = 0; g < w->n; g++)
			repl_expand(&b, &w->p[g], msg, seq,
			    (unsigned long long)slot);
		strs[(*nstr)++] = v[k++] = buf_str(&b);
	}
	if (!any_repl && !C.stdin_msg)
		v[k++] = (char *)msg;
	v[k] = NULL;
	return v;
}

static void
put_num(char *var, size_t at, size_t size, unsigned long long v)
{
	snprintf(var + at, size - at, "%llu", v);
}

/* Start J on the message claimed into OUT. */
static void
job_start(struct rjob *j, struct q_out *out)
{
	char **strs = calloc((size_t)C.ncmd + 1, sizeof *strs), **argv;
	int outp[2], errp[2], nstr, i, in = devnull, eerr;
	struct proc_spec sp;
	size_t len = out->len - 1;

	if (strs == NULL)
		nomem();
	out->buf[len] = '\0';    /* the terminator q_claim added */
	if (C.stdin_msg) {
		in = memfd_create("queue-msg", MFD_CLOEXEC);
		if (in < 0 || write(in, out->buf, len) != (ssize_t)len ||
		    lseek(in, 0, SEEK_SET) < 0)
			err_die(EXIT_TOOL, "%s: message to stdin", C.name);
	}
	argv = build_argv(out->buf, next_seq, (long)(j - jobs) + 1, strs,
	    &nstr);
	put_num(idvar, 9, sizeof idvar, j->meta.id);
	put_num(attvar, 14, sizeof attvar, j->meta.attempt + 1ULL);
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		err_die(EXIT_TOOL, "pipe");
	proc_spec_init(&sp, argv);
	sp.path = path;
	sp.envp = envp;
	sp.pgroup = 1;
	sp.pdeathsig = SIGKILL;
	sp.fd[0] = in;
	sp.fd[1] = outp[1];
	sp.fd[2] = errp[1];
	j->pid = proc_spawn(&sp, &eerr);
	if (j->pid < 0)
		err_die(EXIT_TOOL, "cannot start %s", C.cmd[0]);
	j->grp = pgroup_add(j->pid);
	close(outp[1]);
	close(errp[1]);
	if (in != devnull)
		close(in);
	for (i = 0; i < nstr; i++)
		free(strs[i]);
	free(strs);
	free(argv);
	j->fd[0] = outp[0];
	j->fd[1] = errp[0];
	j->reaped = j->leased = 0;
	j->state = J_RUN;
	j->seq = next_seq++;
	for (i = 0; i < 2; i++) {
		j->paused[i] = 0;
		j->spool[i].len = 0;
		j->src[i].eof = 0;
		if (loop_add_fd(L, j->fd[i], LOOP_IN, on_output, j) < 0)
			err_die(EXIT_TOOL, "loop");
	}
	if (C.lease > 0 && (j->timer = loop_add_timer(L, loop_now() +
	    C.lease, on_lease, j)) == NULL)
		nomem();
	running++;
}

static struct rjob *
free_job(void)
{
	long i;

	for (i = 0; i < C.jobs; i++)
		if (jobs[i].state == J_FREE)
			return &jobs[i];
	return NULL;
}

/* Our jobs' claims: those of running (or held) jobs. */
static uint64_t
own_claims(void)
{
	return (uint64_t)running;
}

/* Take messages for the free job slots; when there is none, have the
 * thread wait for the queue to change (unless it waits already: every
 * change that matters bumps put_seq and wakes it); end when we stop, or
 * when the queue is closed and drained and our jobs have ended. */
static void
fill(void)
{
	static struct q_out out;
	struct q_shared *sh = Q.sh;
	struct rjob *j;
	int drained = 0;

	while (!stopping && (j = free_job()) != NULL) {
		size_t k = 0;
		int64_t until = -1, due;

		q_lock(&j->q);
		if (sh->claimed > own_claims())
			q_reap(&j->q);
		if (j->q.slot >= 0 || q_slot_get(&j->q) == 0) {
			out.len = 0;
			k = q_claim(&j->q, 1, 1, &out, '\n');
		}
		if (k > 0) {
			j->meta = j->q.meta;
			q_unlock(&j->q);
			job_start(j, &out);
			continue;
		}
		due = j->q.next_due;
		removed = sh->removed != 0;
		drained = sh->closed && sh->ready == 0 && sh->claimed == 0;
		if (!removed && !drained && !waiting) {
			if (due)
				until = q_due_mono(due);
			if (sh->claimed > own_claims()) {
				int64_t t = q_now() + PERIODIC_NS;
				if (until < 0 || t < until)
					until = t;
			}
			wait_for_queue(until);
		}
		q_unlock(&j->q);
		break;
	}
	if (running == 0 && !stopping && !removed && !drained) {
		/* No free job slot was looked at: look at the queue. */
		q_lock(&Q);
		removed = sh->removed != 0;
		drained = sh->closed && sh->ready == 0 && sh->claimed == 0;
		q_unlock(&Q);
	}
	if (running == 0 && (stopping || removed || drained))
		finished = 1;
}

/* ---- Signals ---- */

static void
on_chld(struct loop *l, int sig, void *arg)
{
	int ws;
	pid_t pid;
	long i;

	(void)l; (void)sig; (void)arg;
	/* Orphans of our jobs (we are a subreaper: see pgroup) are reaped
	 * here too; their end may have emptied a job's group. */
	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
		for (i = 0; i < C.jobs; i++)
			if (jobs[i].state == J_RUN && !jobs[i].reaped &&
			    jobs[i].pid == pid) {
				jobs[i].reaped = 1;
				jobs[i].wstatus = ws;
				job_check(&jobs[i]);
				break;
			}
	for (i = 0; i < C.jobs; i++)
		group_release(&jobs[i], 0);
}

/* Every signal that would end us: stop taking messages, pass the signal
 * on to the jobs' groups (SIGTERM for one a job would not expect), and
 * SIGKILL them after the grace time; a second signal kills them at once.
 * The stopped jobs' messages go back as they were (settle_msg). */
static void
on_stop(struct loop *l, int sig, void *arg)
{
	(void)l; (void)arg;
	if (stopping) {
		pgroup_kill_all();
		return;
	}
	stopping = 1;
	stop_sig = sig;
	pgroup_stop_all(proc_sig_forward(sig));
	fill();
}

static void
setup_loop(void)
{
	long k;

	if ((L = loop_new()) == NULL)
		err_die(EXIT_TOOL, "loop");
	/* Before the waiter thread: pgroup forks its watcher. */
	pgroup_init(L, C.grace, 0);
	signal(SIGPIPE, SIG_IGN);
	if (loop_add_signal(L, SIGCHLD, on_chld, NULL) < 0 ||
	    loop_add_stop_signals(L, NULL, on_stop, NULL) < 0)
		err_die(EXIT_TOOL, "signals");
	if (mux_out_init(&out_std[0], 1, OUT_CAP) < 0 ||
	    mux_out_init(&out_std[1], 2, OUT_CAP) < 0)
		nomem();
	out_std[0].cancel = out_std[1].cancel = loop_interrupted;
	if ((jobs = calloc((size_t)C.jobs, sizeof *jobs)) == NULL)
		nomem();
	for (k = 0; k < C.jobs; k++) {
		jobs[k].q = Q;
		jobs[k].q.slot = -1;
		jobs[k].q.want_meta = 1;
		jobs[k].q.hold = 1;
		jobs[k].fd[0] = jobs[k].fd[1] = -1;
		if (mux_src_init(&jobs[k].src[0], &out_std[0], "", "",
		    LINE_MAX_BYTES) < 0 || mux_src_init(&jobs[k].src[1],
		    &out_std[1], "", "", LINE_MAX_BYTES) < 0)
			nomem();
	}
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		err_die(EXIT_TOOL, "/dev/null");
}

/* Give the slots back (every claim has been settled), and stop counting
 * as a waiting getter. */
static void
release_slots(void)
{
	long k;

	q_lock(&Q);
	if (waiting && Q.sh->getw > 0)
		Q.sh->getw--;
	for (k = 0; k < C.jobs; k++)
		q_slot_put(&jobs[k].q);
	q_slot_put(&Q);
	q_shrink(&Q);
	q_unlock(&Q);
}

int
cmd_run(int argc, char **argv)
{
	parse_opts(argc, argv);
	tmpl_parse();
	check_cmd();
	open_queues();
	env_init();
	setup_loop();
	q_lock(&Q);
	if (q_slot_get(&Q) < 0) {
		q_unlock(&Q);
		err_diex(EXIT_TOOL, "%s: too many processes use the queue",
		    C.name);
	}
	q_unlock(&Q);
	queue_thread(L, waiter, req, note, on_note);
	fill();
	/* Then the groups asked to stop that outlived their leaders. */
	while (!finished || pgroup_waiting() > 0)
		if (loop_run_once(L, -1) < 0)
			err_die(EXIT_TOOL, "loop");
	flush_out();
	pgroup_release();
	release_slots();
	tmpl_free();
	if (stopping)
		return 128 + stop_sig;
	if (removed) {
		err_warnx("%s: queue removed", C.name);
		return EXIT_NO;
	}
	return ndead == 0 ? 0 : ndead > 100 ? 101 : (int)ndead;
}
