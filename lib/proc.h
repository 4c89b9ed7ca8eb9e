/* proc: starting and reaping child processes.
 *
 * proc_spawn uses vfork+execve rather than posix_spawn: it costs less
 * (glibc's posix_spawn is a CLONE_VFORK too, but maps and unmaps a stack
 * for the child on every call), and only a child we control
 * between fork and exec can ask for a parent-death signal
 * (PR_SET_PDEATHSIG), which keeps jobs from running on after their runner
 * is SIGKILLed. The child resets the signal mask and every handled signal's
 * disposition, so jobs start with a clean slate, except for a stop signal
 * the program found ignored at its start (see proc_sig_kept). */
#ifndef CONC_PROC_H
#define CONC_PROC_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

struct proc_spec {
	const char *path;    /* file to execute; NULL: search argv[0] in PATH */
	char *const *argv;   /* argument vector, NULL-terminated */
	char *const *envp;   /* environment; NULL: the current environ */
	int fd[3];           /* child's 0, 1, 2: an fd to dup2, or -1 to inherit */
	int pgroup;          /* nonzero: the child leads a new process group */
	int tty;             /* with pgroup, a terminal (fd) whose foreground
	                      * the new group becomes; -1: none */
	int ctty;            /* nonzero: the child starts a new session (so
	                      * leads a new group too) and makes its fd 1, a
	                      * terminal, its controlling terminal */
	int pdeathsig;       /* nonzero: signal sent to the child if we die */
	const char *dir;     /* working directory, or NULL */
	const sigset_t *sigreset; /* signals the child resets to SIG_DFL
	                      * before exec; NULL: every signal a program
	                      * may catch or ignore (a fixed list of 15). A
	                      * program whose only handlers are lib/loop's
	                      * (safe in the child, see proc_in_child) gives
	                      * just the signals it ignores: exec resets
	                      * handled ones itself, but not ignored ones. */
};

/* proc_in_child: nonzero only in a child of proc_spawn before its exec.
 * Such a vfork child shares the parent's memory: a signal handler that
 * runs there must not touch the parent's state (lib/loop's give the
 * signal its default action instead). */
extern volatile sig_atomic_t proc_in_child;

/* proc_sig_kept: nonzero if SIGNO is SIGHUP, SIGINT, SIGQUIT or SIGTERM and
 * was ignored when the program started (nohup; `trap '' INT`; an
 * asynchronous command of a shell without job control). As in sh and make,
 * such a signal stays ignored: we install no handler for it, and what we
 * start inherits the ignoring. */
int proc_sig_kept(int signo);

/* proc_sig_forward: the signal to pass on to our children's groups when
 * SIGNO stops us: SIGHUP, SIGINT, SIGQUIT and SIGTERM themselves (as a
 * terminal or a shell would send them), SIGTERM for any other. */
int proc_sig_forward(int signo);

/* proc_sig_from_tty: SI (from an SA_SIGINFO handler) is a signal the
 * terminal sent to its whole foreground process group (^C, ^\\, hang-up),
 * so a child in our process group has it already: passing it on would
 * deliver it twice. */
int proc_sig_from_tty(const siginfo_t *si);

/* proc_std_fds: call before opening anything. Each of the descriptors
 * 0, 1 and 2 that is closed gets /dev/null opened read-only, so that no
 * file we open later becomes stdin, stdout or stderr (and output meant
 * for them lands in it): reads from it see end of file, and writes fail
 * with EBADF as they would on the closed descriptor. Returns a mask with
 * bit FD set for each one that was closed (the same on every call). If
 * /dev/null cannot be opened: "open /dev/null" and exit 125. */
unsigned proc_std_fds(void);

/* proc_want_fds: make room for NEED open descriptors, raising the soft
 * RLIMIT_NOFILE (up to the hard limit) if it is lower; returns the limit
 * now in force. What proc_spawn starts gets the soft limit we started
 * with, as it would have without us: programs that use select(2) cannot
 * handle descriptors above 1023. */
long proc_want_fds(long need);

/* proc_fds_open: how many descriptors this process has open now (from
 * /proc/self/fd, or by probing each one below the limit without it). */
long proc_fds_open(void);

/* proc_spec_init: a spec that inherits everything and runs argv. */
void proc_spec_init(struct proc_spec *sp, char *const *argv);

/* proc_spawn: start a child as SP describes. Returns its pid, or -1 with
 * errno set if no process could be created (EAGAIN, ENOMEM). When the
 * program cannot be executed the child still exists and exits 127 (not
 * found) or 126 (found but not executable); *exec_errno (if not NULL) then
 * holds the exec errno, otherwise 0. */
pid_t proc_spawn(const struct proc_spec *sp, int *exec_errno);

/* proc_resolve: find CMD in PATH once (as execvp would), writing the full
 * path to OUT. A CMD with a '/' is only checked (an executable regular
 * file) and copied. Returns 0, or an errno (ENOENT, EACCES,
 * ENAMETOOLONG, or what stat(2) said of a path). */
int proc_resolve(const char *cmd, char *out, size_t outlen);

/* proc_status: a wait status as an exit status: the exit code, or 128+N
 * for a child killed by signal N. */
int proc_status(int wstatus);

/* proc_exec_status: 127 for ENOENT (and ENOTDIR), 126 otherwise. */
int proc_exec_status(int exec_errno);

/* Process identities (proc_ident). PROC_ID_PIDFS: the inode number of a
 * pidfd in pidfs (Linux 6.9 and later), unique for the life of the boot,
 * so no pid reuse can fake it. PROC_ID_TICKS, the fallback where pidfs is
 * missing: the start time in clock ticks since boot (/proc/PID/stat field
 * 22), which a pid reused within the same tick (10 ms) does fake. */
enum { PROC_ID_TICKS = 0, PROC_ID_PIDFS = 1 };

/* proc_ident: the identity of PID (*KIND, *ID). Returns 0, or -1 if PID
 * does not exist or has exited (a zombie holds nothing). */
int proc_ident(pid_t pid, unsigned *kind, unsigned long long *id);

/* proc_ident_any: the same, also for a process that has exited and not
 * been reaped yet (a zombie). */
int proc_ident_any(pid_t pid, unsigned *kind, unsigned long long *id);

/* proc_ident_alive: nonzero if the process that had identity (KIND, ID)
 * as PID still runs (not a zombie). Where it cannot tell (out of file
 * descriptors), it answers alive: a live holder is never taken for dead. */
int proc_ident_alive(pid_t pid, unsigned kind, unsigned long long id);

/* proc_group_alive: nonzero while the process group PGID, whose leader
 * had identity (KIND, ID), still has members (zombies included). The
 * number of a group cannot go to a new process while the group lasts, so
 * a live process of that pid with another identity means the group has
 * ended. Answers alive where it cannot tell (another user's group). */
int proc_group_alive(pid_t pgid, unsigned kind, unsigned long long id);

/* proc_kill_group: send SIG to the process group PGID; ESRCH is ignored. */
void proc_kill_group(pid_t pgid, int sig);

#endif
