/* run: the engine. Starting, watching, restarting and stopping jobs, and
 * moving their output through the line multiplexer. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "parallel.h"
#include "pgroup.h"
#include "proc.h"
#include "report.h"

#define SINK_CAP (256 * 1024)

/* The jobs' stdout pipes are enlarged (F_SETPIPE_SZ) to share this much
 * kernel memory, each to at most PIPE_MAX: a big pipe lets a job write
 * on while we are busy, and we empty it in one read, which wakes the job
 * once rather than for every 64 KiB. Where the system refuses (its
 * pipe-max-size, a user's pipe-user-pages-soft), pipes stay as they are;
 * so do the stderr pipes, seldom flooded. */
#define PIPE_BUDGET (4 * 1024 * 1024)
#define PIPE_MAX (256 * 1024)

static struct loop *loop;
static struct mux_out sink[2];  /* our stdout and stderr */
static int sink_dead[2];        /* a write failed: the readers are gone */
static int out_error;           /* a write failed, not for a broken pipe */
static int spool_error;         /* --group: a write to a spool file failed */
static const char *spool_dir;   /* --group: where the spool files are */
static int colour[2];
static int devnull = -1;
static int input_tee;           /* --input from a terminal: through a pipe */
static int nended;              /* jobs in state JOB_DONE */
static int first_fail = -1;     /* the first job that ended failing */
static int next_emit;           /* --group: the next job to print */
static int hard;                /* exit status of a hard stop, else 0 */
static int soft;                /* --kill-others has stopped the rest */
static int halt_status;         /* run_halt's exit status, else 0 */
static int nheld;               /* jobs started and not ended for good */
static int nteardown_done;      /* --teardown commands that have ended */
static struct loop_timer *grace_note;
static struct loop_timer *timeout_timer;
static int64_t timeout_at;

static void job_done(struct job *j);

static struct job *
job_of(pid_t pid)
{
	int i;

	for (i = 0; i < njobs + nteardown; i++)
		if (jobs[i].pid == pid)
			return &jobs[i];
	return NULL;
}

static void
close_stream(struct job *j, int k)
{
	loop_del_fd(loop, j->out[k]);
	close(j->out[k]);
	j->out[k] = -1;
}

/* The readers of sink K are gone (EPIPE) or we gave up writing to them
 * (ECANCELED). Close the pipes that feed it, so that the jobs see what a
 * plain pipe would show them: EPIPE and SIGPIPE on their next write. */
static void
sink_gone(int k)
{
	int i;

	sink_dead[k] = 1;
	if (sink[k].err != EPIPE && sink[k].err != ECANCELED) {
		out_error = 1;
		errno = sink[k].err;
		err_warn("write %s", k ? "stderr" : "stdout");
	}
	for (i = 0; i < njobs + nteardown; i++)
		if (jobs[i].out[k] >= 0)
			close_stream(&jobs[i], k);
}

static void
flush_sinks(void)
{
	int k;

	for (k = 0; k < 2; k++) {
		if (sink[k].len)
			mux_out_flush(&sink[k]);
		if (sink[k].err && !sink_dead[k])
			sink_gone(k);
	}
}

/* --group: a job's output reaches its spool file through us rather than
 * straight from the job, so that a failed write there (a full TMPDIR) is
 * seen: it is reported once, the rest of that output is read and
 * dropped, and we exit 125 at the end. */
static ssize_t
spool_read(struct job *j, int k)
{
	char buf[65536];
	ssize_t n = read(j->out[k], buf, sizeof buf), w;
	size_t off = 0;

	while (n > 0 && off < (size_t)n && j->file[k] >= 0) {
		w = write(j->file[k], buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (!spool_error)
				err_warn("write the output of %s to a spool file "
				    "in %s", j->name, spool_dir);
			spool_error = 1;
			break;
		}
		off += w;
	}
	return n;
}

/* Read what J's stream K holds: into the multiplexer, or (--group) the
 * spool file. */
static ssize_t
read_output(struct job *j, int k)
{
	return opt.group && j->file[k] >= 0 ? spool_read(j, k) :
	    mux_src_read(&j->src[k], j->out[k]);
}

static void
on_output(struct loop *l, int fd, unsigned events, void *arg)
{
	struct job *j = arg;
	int k = fd == j->out[0] ? 0 : 1;
	ssize_t n = read_output(j, k);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		mux_src_finish(&j->src[k]);
	if (n <= 0)
		close_stream(j, k);
}

/* The leader of J has exited: take what its pipes hold now and close
 * them. A background process of the job may still hold the pipes open;
 * we do not wait for it (it gets EPIPE if it writes on). The number of
 * reads is bounded so that such a process cannot keep us here. */
static void
drain(struct job *j, int k)
{
	ssize_t n = -1;
	int i;

	if (j->out[k] < 0)
		return;
	for (i = 0; i < 64; i++) {
		n = read_output(j, k);
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
	}
	if (n != 0)
		mux_src_finish(&j->src[k]);
	close_stream(j, k);
}

/* Enlarge the job pipe FD (see PIPE_BUDGET); never an error. */
static void
pipe_size(int fd)
{
#ifdef F_SETPIPE_SZ
	static int size = -1;

	if (size < 0) {
		long each = PIPE_BUDGET / (njobs + nteardown);
		for (size = PIPE_MAX; size > each && size > 65536; size /= 2)
			;
	}
	while (size > 65536 && fcntl(fd, F_SETPIPE_SZ, size) < 0)
		size /= 2;  /* over pipe-max-size: smaller from now on */
#else
	(void)fd;
#endif
}

static int
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void
set_prefixes(struct job *j)
{
	int k;

	if (opt.no_prefix)
		return;
	for (k = 0; k < 2; k++) {
		char *p = spec_prefix(j, colour[k]);
		if (mux_src_prefix(&j->src[k], p) < 0)
			err_die(EXIT_TOOL, "out of memory");
		free(p);
	}
}

/* --pty: the window size for J: our terminal's (stdout's, else
 * stderr's, else stdin's), less the width of J's prefix; 0 x 0 (unknown)
 * when none is a terminal. */
static void
pty_size(const struct job *j, struct winsize *ws)
{
	char *p;
	int fd, w = 0;

	memset(ws, 0, sizeof *ws);
	for (fd = 1; fd != 0; fd = (fd + 1) % 3)
		if (ioctl(fd, TIOCGWINSZ, ws) == 0 && ws->ws_col > 0)
			break;
	if (ws->ws_col == 0)
		return;
	if (!opt.no_prefix && (p = spec_prefix(j, 0)) != NULL) {
		for (w = 0; p[w]; w++)
			;
		w += 7 * (int)(strchr(p, MUX_CLOCK) != NULL);
		free(p);
	}
	ws->ws_col = ws->ws_col > w + 1 ? ws->ws_col - w : 1;
}

/* --pty: a pseudo-terminal pair for J: FD[0] the master (ours), FD[1]
 * the slave (its stdout and stderr). The slave does not turn LF into
 * CR LF (ONLCR off), so lines arrive as they were written. */
static int
open_pty(const struct job *j, int fd[2])
{
	struct winsize ws;
	struct termios t;
	const char *name;

	fd[0] = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd[0] < 0)
		return -1;
	if (grantpt(fd[0]) < 0 || unlockpt(fd[0]) < 0 ||
	    (name = ptsname(fd[0])) == NULL ||
	    (fd[1] = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		close(fd[0]);
		fd[0] = -1;
		return -1;
	}
	if (tcgetattr(fd[1], &t) == 0) {
		t.c_oflag &= ~ONLCR;
		(void)tcsetattr(fd[1], TCSANOW, &t);
	}
	pty_size(j, &ws);
	(void)ioctl(fd[0], TIOCSWINSZ, &ws);
	return 0;
}

/* SIGWINCH: our terminal changed size; so do the commands' (the kernel
 * sends them SIGWINCH). */
static void
on_winch(struct loop *l, int signo, void *arg)
{
	struct winsize ws;
	int i;

	for (i = 0; i < njobs; i++)
		if (jobs[i].state == JOB_RUNNING && jobs[i].out[0] >= 0) {
			pty_size(&jobs[i], &ws);
			(void)ioctl(jobs[i].out[0], TIOCSWINSZ, &ws);
		}
}

/* Start one run of J: sh -c COMMAND as the leader of a new process group,
 * stdout and stderr into pipes (or the --group spool files; with --pty
 * both into one pseudo-terminal, of which it leads the session), stdin
 * from /dev/null, our stdin (--input) or a pipe of ours (--tee). */
static int
spawn(struct job *j)
{
	char *argv[] = { "sh", "-c", j->cmd, NULL };
	int p[2][2] = { { -1, -1 }, { -1, -1 } }, in = -1, k, e, via_tee;
	struct proc_spec sp;
	pid_t pid = -1;

	for (k = 0; k < (opt.pty ? 1 : 2); k++)
		if ((opt.pty ? open_pty(j, p[k]) : pipe2(p[k], O_CLOEXEC)) < 0)
			goto out;
	via_tee = j - jobs < njobs &&
	    (opt.tee || (input_tee && j - jobs == opt.input_job));
	if (via_tee && (in = tee_attach(j)) == -2)
		goto out;
	if (in < 0)
		in = !via_tee && j - jobs == opt.input_job ? 0 : devnull;
	if (opt.port) {
		char port[24];
		snprintf(port, sizeof port, "%ld", opt.port + 100L * j->entry +
		    j->copy - 1);
		if (setenv("PORT", port, 1) < 0)
			goto out;
	}
	proc_spec_init(&sp, argv);
	sp.path = "/bin/sh";
	sp.fd[0] = in;
	sp.fd[1] = p[0][1];
	sp.fd[2] = opt.pty ? p[0][1] : p[1][1];
	sp.pgroup = 1;
	sp.ctty = opt.pty;
	sp.pdeathsig = SIGKILL;
	pid = proc_spawn(&sp, NULL);
	if (pid > 0) {
		/* With vfork the child has already done this; with fork (the
		 * sanitizer build) the parent must, before it may signal the
		 * group. An error (the child has exec'd) is harmless. A
		 * session leader (--pty) has it already. */
		if (!opt.pty)
			(void)setpgid(pid, pid);
	}
out:
	e = errno;
	if (in > 0 && in != devnull)
		close(in);
	for (k = 0; k < 2; k++) {
		if (p[k][1] >= 0)
			close(p[k][1]);
		if (p[k][0] >= 0 && (pid <= 0 || (sink_dead[k] && !opt.group)))
			close(p[k][0]);
	}
	if (pid <= 0) {
		tee_detach(j);
		errno = e;
		return -1;
	}
	j->pid = pid;
	j->grp = pgroup_add(pid);
	j->state = JOB_RUNNING;
	j->t_start = loop_now();
	if (j->runs++ == 0)
		j->t_first = j->t_start;
	nheld += j->runs == 1;
	set_prefixes(j);
	for (k = 0; k < 2; k++) {
		if ((sink_dead[k] && !opt.group) || p[k][0] < 0)
			continue;
		j->out[k] = p[k][0];
		if (k == 0 && !opt.pty)
			pipe_size(p[k][0]);
		if (nonblock(p[k][0]) < 0 ||
		    loop_add_fd(loop, p[k][0], LOOP_IN, on_output, j) < 0)
			err_die(EXIT_TOOL, "watch the output of %s", j->name);
	}
	stack_started(j);
	return 0;
}

static void
start(struct job *j)
{
	if (spawn(j) == 0)
		return;
	err_warn("start %s", j->name);
	j->status = EXIT_TOOL;
	job_done(j);
}

/* Start the jobs that wait for nothing any more, in command-line order:
 * their dependencies are ready (--after) and a slot is free (-m). A job
 * holds its slot from its first start until it ends for good. */
static void
schedule(void)
{
	static int busy, again;
	int i;

	/* A job that becomes ready as it starts asks again from inside:
	 * one more round here, rather than a recursion per job. */
	if (busy) {
		again = 1;
		return;
	}
	busy = 1;
	do {
		again = 0;
		for (i = 0; i < njobs && !soft && !hard &&
		    (!opt.max || nheld < opt.max); i++)
			if (jobs[i].state == JOB_PENDING &&
			    stack_deps_ready(&jobs[i]))
				start(&jobs[i]);
	} while (again);
	busy = 0;
}

void
run_ready(struct job *j)
{
	struct mux_src m;
	char line[64], *p;
	int n;

	/* One line in J's stderr prefix (with its clock and colour), out
	 * before the jobs that wait for J start. */
	if (j->ready_kind != READY_START && !opt.no_ready_line &&
	    !sink_dead[1] && mux_src_init(&m, &sink[1], "", "", 4096) == 0) {
		p = opt.no_prefix ? NULL : spec_prefix(j, colour[1]);
		n = snprintf(line, sizeof line, "ready (%.1fs)\n",
		    (j->t_ready - j->t_first) / 1e9);
		if ((p == NULL || mux_src_prefix(&m, p) == 0) && n > 0)
			mux_src_feed(&m, line, n);
		free(p);
		mux_src_free(&m);
		flush_sinks();
	}
	schedule();
}

static void
on_restart(struct loop *l, void *arg)
{
	struct job *j = arg;

	j->timer = NULL;
	start(j);
}

/* Ask J to stop (SIG to its process group); a job waiting for its
 * restart, or not started yet, simply ends. */
static void
stop_job(struct job *j, int sig)
{
	switch (j->state) {
	case JOB_RUNNING:
		j->stopped = 1;
		pgroup_stop(j->grp, sig);
		break;
	case JOB_WAITING:
		loop_del_timer(loop, j->timer);
		j->timer = NULL;
		/* FALLTHROUGH */
	case JOB_PENDING:
		j->stopped = 1;
		job_done(j);
		break;
	case JOB_DONE:
		break;
	}
}

/* Half a second into a stop, once: which commands we are still waiting
 * for, and for how long at most (they may ignore the signal). */
static void
on_grace_note(struct loop *l, void *arg)
{
	char line[1024], msg[1200];
	size_t n = 0;
	int i, many = 0;

	grace_note = NULL;
	for (i = 0; i < njobs && n < sizeof line - 128; i++) {
		const struct job *j = &jobs[i];
		int w;
		if (j->state != JOB_RUNNING || !j->stopped)
			continue;
		w = snprintf(line + n, sizeof line - 128 - n, "%s%s",
		    many++ ? ", " : "", j->name);
		n += w < 0 ? 0 : (size_t)w;
	}
	if (many == 0)
		return;
	if (n > sizeof line - 128)
		n = sizeof line - 128;
	/* Through the stderr sink, in its place among the jobs' lines. */
	n = snprintf(msg, sizeof msg, "%s: waiting up to %gs for %.*s%s\n",
	    err_prog, opt.grace / 1e9, (int)n, line,
	    hard ? "; Ctrl-C again to kill" : "");
	if (n > 0 && n < sizeof msg)
		mux_out_write(&sink[1], msg, n);
}

static void
note_grace(void)
{
	if (grace_note || opt.grace < 1000000000LL)
		return;
	grace_note = loop_add_timer(loop, loop_now() + 500000000LL,
	    on_grace_note, NULL);
	if (grace_note == NULL)
		err_die(EXIT_TOOL, "out of memory");
}

/* --kill-others, --kill-others-on-fail: SIGTERM to the rest, SIGKILL after
 * the grace period (pgroup). Output still flows as usual meanwhile. */
static void
stop_others(struct job *except)
{
	int i;

	if (soft || hard)
		return;
	soft = 1;
	for (i = 0; i < njobs; i++)
		if (&jobs[i] != except)
			stop_job(&jobs[i], SIGTERM);
	note_grace();
}

/* A signal to parallel or --timeout: signal every job's group (and the
 * groups that outlived their jobs), give them the grace period, then
 * SIGKILL; exit with STATUS whatever the jobs do. Once a stop signal has
 * been caught, writes no longer wait for a stalled reader, so the loop
 * gets to the grace timers (see mux_out.cancel). */
static void
hard_stop(int sig, int status)
{
	int i;

	hard = status;
	for (i = 0; i < njobs; i++)
		if (jobs[i].state != JOB_RUNNING)
			stop_job(&jobs[i], sig);
		else
			jobs[i].stopped = 1;
	pgroup_stop_all(sig);
	note_grace();
}

/* Every signal that would end us (SIGINT, SIGQUIT, SIGUSR1, SIGALRM...):
 * the jobs' groups get SIGHUP, SIGINT, SIGQUIT or SIGTERM as we did, or
 * SIGTERM for any other; we exit 128+N. */
static void
on_stop_signal(struct loop *l, int signo, void *arg)
{
	if (hard)
		pgroup_kill_all(); /* asked twice: no more grace */
	else
		hard_stop(proc_sig_forward(signo), 128 + signo);
}

/* --timeout, a loop timer. Writes to a stalled stdout wait no longer
 * than its deadline (see sink_deadline), so that it gets its turn. */
static void
on_timeout(struct loop *l, void *arg)
{
	timeout_timer = NULL;
	if (!hard)
		hard_stop(SIGTERM, EXIT_TIMEOUT);
}

/* mux_out's cancel: once we stop hard, writes no longer wait. */
static int
sink_cancelled(void)
{
	return hard || loop_interrupted();
}

/* mux_out's deadline: the --timeout, while it is armed. */
static int64_t
sink_deadline(void)
{
	return timeout_timer ? timeout_at : -1;
}

/* --group: print the output of the jobs that have ended, in the order of
 * the command line, each in one piece. */
static void
group_emit(void)
{
	struct job *j;
	ssize_t n;
	int k;

	while (next_emit < njobs && jobs[next_emit].state == JOB_DONE) {
		j = &jobs[next_emit++];
		for (k = 0; k < 2; k++) {
			if (j->file[k] < 0)
				continue;
			if (lseek(j->file[k], 0, SEEK_SET) < 0)
				err_die(EXIT_TOOL, "spool file of %s", j->name);
			while ((n = mux_src_read(&j->src[k], j->file[k])) != 0)
				if (n < 0 && errno != EINTR) {
					err_warn("read spool file of %s", j->name);
					mux_src_finish(&j->src[k]);
					break;
				}
			close(j->file[k]);
			j->file[k] = -1;
		}
		flush_sinks();
	}
}

static void
job_done(struct job *j)
{
	if (j->runs)
		nheld--;
	j->state = JOB_DONE;
	j->order = ++nended;
	stack_stop(j);
	if (j->status != 0 && !j->stopped && first_fail < 0)
		first_fail = j - jobs;
	if (opt.group)
		group_emit();
	/* A job that others wait for has ended before it became ready: they
	 * never will start. Stop the stack with its status. */
	if (!j->ready && !j->stopped && stack_is_dep(j)) {
		err_warnx("%s: ended before it was ready (exit status %d)",
		    j->name, j->status);
		run_halt(j->status ? j->status : 1);
	}
	/* A one-shot step (--ready exit) is meant to end. */
	if ((opt.kill_others && !(j->ready_kind == READY_EXIT && j->ready)) ||
	    (opt.kill_others_on_fail && j->status != 0))
		stop_others(j);
	schedule();
}

void
run_halt(int status)
{
	if (!halt_status)
		halt_status = status;
	stop_others(NULL);
}

static void
say_restart(struct job *j, int64_t delay)
{
	char line[512];
	int n;

	if (opt.restart == LLONG_MAX)
		n = snprintf(line, sizeof line,
		    "%s: %s: exit status %d, restart %d in %.3g s\n", err_prog,
		    j->name, j->status, j->runs, delay / 1e9);
	else
		n = snprintf(line, sizeof line,
		    "%s: %s: exit status %d, restart %d of %lld in %.3g s\n",
		    err_prog, j->name, j->status, j->runs, opt.restart,
		    delay / 1e9);
	if (n <= 0)
		return;
	/* A very long name is cut short, but the line keeps its newline:
	 * the next line on stderr must not run into it. */
	if ((size_t)n >= sizeof line) {
		n = sizeof line - 1;
		line[n - 1] = '\n';
	}
	mux_out_write(&sink[1], line, n);
}

/* A --teardown command has ended: its failure is reported, and does not
 * change our exit status. */
static void
teardown_done(struct job *j)
{
	j->state = JOB_DONE;
	nteardown_done++;
	if (j->status != 0)
		err_warnx("%s: exit status %d", j->name, j->status);
}

/* --teardown: once every command has ended (whatever the way out), run
 * the teardown commands, all at once, and wait for them. */
static void
teardown(void)
{
	int i;

	for (i = njobs; i < njobs + nteardown; i++)
		if (spawn(&jobs[i]) < 0) {
			err_warn("start %s", jobs[i].name);
			jobs[i].state = JOB_DONE;
			nteardown_done++;
		}
	while (nteardown_done < nteardown || pgroup_waiting()) {
		if (loop_run_once(loop, -1) < 0 && errno != EINTR)
			err_die(EXIT_TOOL, "event loop");
		flush_sinks();
	}
}

/* --restart-delay DUR[,MAX]: DUR, doubled after each restart up to MAX,
 * back to DUR once a run has lasted longer than MAX. */
static int64_t
restart_delay(struct job *j)
{
	int64_t d;

	if (j->delay < 0 || (opt.restart_max &&
	    j->t_end - j->t_start > opt.restart_max))
		j->delay = opt.restart_delay;
	d = j->delay;
	if (opt.restart_max)
		j->delay = d * 2 > opt.restart_max ? opt.restart_max : d * 2;
	return d;
}

static void
job_exited(struct job *j, int wstatus)
{
	j->status = proc_status(wstatus);
	j->pid = 0;
	j->t_end = loop_now();
	/* Background processes of the job may live on in its group; a hard
	 * stop must reach them too (pgroup keeps the group). */
	pgroup_exited(j->grp);
	j->grp = NULL;
	drain(j, 0);
	drain(j, 1);
	tee_detach(j);
	if (j - jobs >= njobs) {
		teardown_done(j);
		return;
	}
	stack_exited(j);
	if (!j->stopped && !hard && !soft && (j->status != 0 ||
	    opt.restart_on_exit) && j->runs <= opt.restart) {
		int64_t delay = restart_delay(j);
		say_restart(j, delay);
		j->state = JOB_WAITING;
		j->timer = loop_add_timer(loop, j->t_end + delay, on_restart,
		    j);
		if (j->timer == NULL)
			err_die(EXIT_TOOL, "out of memory");
		return;
	}
	job_done(j);
}

/* SIGCHLD: reap every child that has ended. As a subreaper (Linux) we
 * also get the orphaned descendants of our jobs; they are reaped and
 * otherwise only end the groups they leave empty (see finished). */
static void
on_child(struct loop *l, int signo, void *arg)
{
	struct job *j;
	pid_t pid;
	int ws;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
		if ((j = job_of(pid)) != NULL)
			job_exited(j, ws);
}

/* Everything has ended: every job is done, and the process groups we
 * signalled are empty (or got SIGKILL a while ago: pgroup_waiting). */
static int
finished(void)
{
	return nended == njobs && pgroup_waiting() == 0;
}

/* Every command holds two pipes (or --group files) and with --tee a
 * third, all at once: 500 commands need more than the usual soft limit of
 * 1024 descriptors. Refuse before starting any if even the hard limit is
 * too low, rather than start some and fail the rest. */
static void
want_fds(void)
{
	long need = 32 + (long)njobs * (opt.tee ? 3 : 2) + (input_tee ? 1 : 0);
	long have = proc_want_fds(need);

	if (have < need)
		err_diex(EXIT_TOOL, "%d commands need about %ld open files, but "
		    "the limit is %ld (ulimit -n)", njobs, need, have);
}

static int
want_colour(int fd)
{
	const char *nc = getenv("NO_COLOR");

	if (opt.color != COLOR_AUTO)
		return opt.color == COLOR_ALWAYS;
	return isatty(fd) && (nc == NULL || *nc == '\0');
}

static int
spool_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	int fd;

	spool_dir = dir && *dir ? dir : "/tmp";
	snprintf(path, sizeof path, "%s/parallel.XXXXXX", spool_dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		err_die(EXIT_TOOL, "create a spool file in %s", spool_dir);
	unlink(path);
	return fd;
}

/* Everything that can fail for lack of resources, before any job starts. */
struct loop *
run_setup(void)
{
	unsigned closed;
	int i, k;

	/* A job runs in a process group of its own, which is never the
	 * terminal's foreground group: reading the terminal would stop it
	 * (SIGTTIN). So we read the terminal and pass the bytes on. */
	input_tee = opt.input_job >= 0 && isatty(0);
	/* Our writes to a closed stdout or stderr still fail (EBADF), as
	 * they would have: that sink writes to -1. */
	closed = proc_std_fds();
	want_fds();
	signal(SIGPIPE, SIG_IGN);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	loop = loop_new();
	if (devnull < 0 || loop == NULL)
		err_die(EXIT_TOOL, devnull < 0 ? "open /dev/null" : "event loop");
	pgroup_init(loop, opt.grace, 1);
	stack_init(loop);
	if (loop_add_signal(loop, SIGCHLD, on_child, NULL) < 0 ||
	    loop_add_stop_signals(loop, NULL, on_stop_signal, NULL) < 0 ||
	    (opt.pty && loop_add_signal(loop, SIGWINCH, on_winch, NULL) < 0))
		err_die(EXIT_TOOL, "signals");
	if (opt.tee || input_tee)
		tee_init(loop);
	for (k = 0; k < 2; k++) {
		if (mux_out_init(&sink[k], closed >> (k + 1) & 1 ? -1 : k + 1,
		    SINK_CAP) < 0)
			err_die(EXIT_TOOL, "out of memory");
		sink[k].cont = "\\\n";
		sink[k].cancel = sink_cancelled;
		sink[k].deadline = sink_deadline;
		colour[k] = want_colour(k + 1);
	}
	for (i = 0; i < njobs + nteardown; i++)
		for (k = 0; k < 2; k++) {
			if (mux_src_init(&jobs[i].src[k], &sink[k], "", "",
			    opt.max_line) < 0)
				err_die(EXIT_TOOL, "out of memory");
			if (opt.group && i < njobs)
				jobs[i].file[k] = spool_file();
		}
	return loop;
}

void
run_start(void)
{
	if (opt.timeout > 0) {
		timeout_at = loop_now() + opt.timeout;
		timeout_timer = loop_add_timer(loop, timeout_at, on_timeout,
		    NULL);
		if (timeout_timer == NULL)
			err_die(EXIT_TOOL, "out of memory");
	}
	schedule();
	if (opt.tee || input_tee)
		tee_start();
}

/* A job we stopped (or never started) is no failure. */
static int
status_of(const struct job *j)
{
	return j->stopped ? 0 : j->status;
}

static int
exit_status(void)
{
	int i;

	if (hard)
		return hard;
	if (out_error || tee_error || spool_error)
		return EXIT_TOOL;
	if (halt_status)
		return halt_status;
	switch (opt.success_of) {
	case SUCCESS_ALL:
		return first_fail < 0 ? 0 : jobs[first_fail].status;
	case SUCCESS_FIRST:
	case SUCCESS_LAST:
		for (i = 0; i < njobs; i++)
			if (jobs[i].order == (opt.success_of == SUCCESS_FIRST ? 1 :
			    njobs))
				return status_of(&jobs[i]);
		return EXIT_TOOL;
	default:
		return status_of(&jobs[opt.success_of]);
	}
}

int
run_wait(void)
{
	while (!finished()) {
		if (loop_run_once(loop, -1) < 0 && errno != EINTR)
			err_die(EXIT_TOOL, "event loop");
		flush_sinks();
	}
	/* A --timeout that expires now would cut the last flush short. */
	loop_del_timer(loop, timeout_timer);
	timeout_timer = NULL;
	flush_sinks();
	if (nteardown)
		teardown();
	flush_sinks();
	pgroup_release();
	return exit_status();
}

/* --summary --json: the summary as one JSON object in BUF (malloc'd),
 * its length in *LEN; -1 when out of memory. */
static int
summary_json(int status, char **buf, size_t *len)
{
	struct report r;
	FILE *f;
	int i;

	if ((f = open_memstream(buf, len)) == NULL)
		return -1;
	report_init(&r, f, 1);
	report_begin(&r);
	report_num(&r, "status", status);
	report_list_begin(&r, "commands");
	for (i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		report_begin(&r);
		report_str(&r, "name", j->name);
		report_num(&r, "runs", j->runs);
		if (j->runs)
			report_num(&r, "status", j->status);
		else
			report_none(&r, "status");
		if (j->runs && j->status > 128 && j->status < 128 + NSIG)
			report_num(&r, "signal", j->status - 128);
		else
			report_none(&r, "signal");
		report_secs(&r, "seconds", j->runs ? j->t_end - j->t_first : 0);
		if (j->ready && j->ready_kind != READY_START)
			report_secs(&r, "ready", j->t_ready - j->t_first);
		else
			report_none(&r, "ready");
		report_end(&r);
	}
	report_list_end(&r);
	report_end(&r);
	return fclose(f) == 0 ? 0 : -1;
}

/* --summary: one line per job on stderr (--json: one JSON object).
 * Returns STATUS, or 125 when the summary could not be written, as for
 * output (exit_status). */
int
run_summary(int status)
{
	char line[1024], how[128], *buf;
	size_t len;
	int i, n;

	if (opt.json) {
		if (summary_json(status, &buf, &len) < 0)
			err_die(EXIT_TOOL, "--json");
		mux_out_write(&sink[1], buf, len);
		free(buf);
	}
	for (i = 0; i < njobs && !opt.json; i++) {
		struct job *j = &jobs[i];
		double secs = j->runs ? (j->t_end - j->t_first) / 1e9 : 0;
		if (j->runs == 0)
			snprintf(how, sizeof how, "not started");
		else if (j->status > 128 && j->status < 128 + NSIG)
			snprintf(how, sizeof how, "signal %d (%s)",
			    j->status - 128, strsignal(j->status - 128));
		else
			snprintf(how, sizeof how, "exit %d", j->status);
		n = snprintf(line, sizeof line, "%s: %s: %s, %.3f s", err_prog,
		    j->name, how, secs);
		if (n < 0)
			continue;
		if ((size_t)n >= sizeof line - 32)
			n = sizeof line - 32;
		if (j->runs > 1)
			n += snprintf(line + n, sizeof line - n, ", %d runs",
			    j->runs);
		if (j->ready && j->ready_kind != READY_START)
			n += snprintf(line + n, sizeof line - n,
			    ", ready after %.3f s", (j->t_ready - j->t_first) / 1e9);
		line[n++] = '\n';
		mux_out_write(&sink[1], line, n);
	}
	mux_out_flush(&sink[1]);
	return sink[1].err && sink[1].err != EPIPE && !hard ? EXIT_TOOL :
	    status;
}
