#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "err.h"
#include "proc.h"
#include "wrap.h"

/* The state the signal handlers share with wrap_wait. */
static volatile pid_t w_pid;            /* the command; 0: none running */
static volatile sig_atomic_t w_sig;     /* first signal passed on */
static int w_tty = -1;                  /* the terminal we gave it */
static unsigned w_kind;                 /* its identity (proc_ident_any) */
static unsigned long long w_id;

static const int w_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };
static struct sigaction w_old[sizeof w_sigs / sizeof w_sigs[0]];
static sigset_t w_mask;                 /* w_sigs */

/* Pass SIG on to the command's whole group, and give it WRAP_GRACE
 * seconds (SIGALRM then kills the group). The leader is not reaped
 * before wrap_wait is done with the group, so -w_pid is still its
 * group. */
static void
forward(int sig)
{
	int e = errno;

	if (sig == SIGALRM) {
		if (w_pid > 0)
			kill(-w_pid, SIGKILL);
	} else {
		if (w_sig == 0) {
			w_sig = sig;
			alarm(WRAP_GRACE);
		}
		if (w_pid > 0)
			kill(-w_pid, sig);
	}
	errno = e;
}

static void
on_signal(int sig)
{
	forward(sig);
}

static void
catch_signals(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&w_mask);
	for (i = 0; i < sizeof w_sigs / sizeof w_sigs[0]; i++) {
		sigaddset(&w_mask, w_sigs[i]);
		sigaction(w_sigs[i], NULL, &w_old[i]);
	}
	sa.sa_mask = w_mask;
	for (i = 0; i < sizeof w_sigs / sizeof w_sigs[0]; i++)
		if (w_sigs[i] == SIGALRM || !proc_sig_kept(w_sigs[i]))
			sigaction(w_sigs[i], &sa, NULL);
}

static void
restore_signals(void)
{
	size_t i;

	for (i = 0; i < sizeof w_sigs / sizeof w_sigs[0]; i++)
		sigaction(w_sigs[i], &w_old[i], NULL);
}

/* The terminal whose foreground process group we are in (stdin, stdout
 * or stderr), or -1. Only then is the terminal ours to hand on. */
static int
our_terminal(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (isatty(fd) && tcgetpgrp(fd) == getpgrp())
			return fd;
	return -1;
}

/* Make PGRP the terminal's foreground group. A background process that
 * does so gets SIGTTOU unless it blocks it. */
static void
give_terminal(pid_t pgrp)
{
	sigset_t ttou, old;

	sigemptyset(&ttou);
	sigaddset(&ttou, SIGTTOU);
	sigprocmask(SIG_BLOCK, &ttou, &old);
	tcsetpgrp(w_tty, pgrp);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

pid_t
wrap_start(struct proc_spec *sp, int *exec_errno, int pending)
{
	pid_t pid;

#ifdef __linux__
	prctl(PR_SET_CHILD_SUBREAPER, 1);
#endif
	w_sig = 0;
	w_pid = 0;
	w_tty = our_terminal();
	sp->pgroup = 1;
	sp->tty = w_tty;
	catch_signals();
	if ((pid = proc_spawn(sp, exec_errno)) < 0) {
		int e = errno;
		restore_signals();
		errno = e;
		return -1;
	}
	if (proc_ident_any(pid, &w_kind, &w_id) < 0)
		w_kind = PROC_ID_TICKS, w_id = 0;
	w_pid = pid;
	if (pending)
		forward(pending);
	else if (w_sig)   /* came while the command was being started */
		kill(-pid, w_sig);
	return pid;
}

/* The command stopped on a terminal stop signal SIG (^Z, or a read or
 * write of the terminal from the background): stop as its job would,
 * with the terminal handed back, and carry on both when continued. */
static void
follow_stop(int sig)
{
	give_terminal(getpgrp());
	kill(getpid(), sig);
	/* Continued (fg or bg). */
	if (our_terminal() >= 0)
		give_terminal(w_pid);
	kill(-w_pid, SIGCONT);
}

/* Reap the children (orphans of the command, reparented to us as its
 * subreaper) that have exited, other than the command itself. */
static void
reap_orphans(pid_t keep)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    si.si_pid == 0 || si.si_pid == keep)
			return;
		waitpid(si.si_pid, NULL, 0);
	}
}

/* After a passed-on signal the command has ended and what was left of
 * its group has been sent SIGKILL: wait until the group has no member
 * left. Its members are the command's descendants, so they are our
 * children by now (we are their subreaper) or will be; SIGCHLD says when
 * to look again, and a bounded wait covers a member whose parent is not
 * us. */
static void
await_group(pid_t pgid, unsigned kind, unsigned long long id)
{
	struct timespec tick = { 0, 50 * 1000000L };
	sigset_t chld, old;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	for (;;) {
		reap_orphans(0);
		if (!proc_group_alive(pgid, kind, id))
			break;
		sigtimedwait(&chld, NULL, &tick);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int
wrap_wait(int *sig)
{
	siginfo_t si;
	sigset_t old;
	pid_t pid = w_pid;
	int ws = 0, tty_sig, stops = w_tty >= 0 ? WSTOPPED : 0;

	for (;;) {
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, pid, &si, WEXITED | stops | WNOWAIT) < 0) {
			if (errno == EINTR)
				continue;
			err_die(EXIT_TOOL, "wait for the command");
		}
		if (si.si_code != CLD_STOPPED)
			break;
		/* Take the stop report (WNOWAIT left it). */
		waitid(P_PID, pid, &si, WSTOPPED | WNOHANG);
		if (si.si_status == SIGTSTP || si.si_status == SIGTTIN ||
		    si.si_status == SIGTTOU)
			follow_stop(si.si_status);
	}
	/* From here on the handlers must not change what we decide. */
	sigprocmask(SIG_BLOCK, &w_mask, &old);
	/* Killed by the terminal's ^C or ^\ while it had the terminal: the
	 * user's interrupt, as if it had been passed on (a shell takes it
	 * as its own too). */
	tty_sig = 0;
	if (w_sig == 0 && w_tty >= 0 && (si.si_code == CLD_KILLED ||
	    si.si_code == CLD_DUMPED) && (si.si_status == SIGINT ||
	    si.si_status == SIGQUIT))
		tty_sig = si.si_status;
	/* The leader is a zombie, so -pid is still its group. */
	if (w_sig || tty_sig)
		kill(-pid, SIGKILL);
	if (w_tty >= 0 && tcgetpgrp(w_tty) == pid)
		give_terminal(getpgrp());
	alarm(0);
	w_pid = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	if (w_sig || tty_sig)
		await_group(pid, w_kind, w_id);
	reap_orphans(0);
#ifdef __linux__
	prctl(PR_SET_CHILD_SUBREAPER, 0);
#endif
	restore_signals();
	if (sig)
		*sig = w_sig ? w_sig : tty_sig;
	return proc_status(ws);
}
