#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#endif

#include "err.h"
#include "proc.h"

extern char **environ;

/* The stop signals that were ignored when the program started. Recorded
 * before main, since the programs install their own handlers later. */
static sigset_t entry_ignored;

static void __attribute__((constructor))
note_entry_signals(void)
{
	static const int stops[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM };
	struct sigaction sa;
	size_t i;

	sigemptyset(&entry_ignored);
	for (i = 0; i < sizeof stops / sizeof stops[0]; i++)
		if (sigaction(stops[i], NULL, &sa) == 0 &&
		    sa.sa_handler == SIG_IGN)
			sigaddset(&entry_ignored, stops[i]);
}

int
proc_sig_kept(int signo)
{
	return sigismember(&entry_ignored, signo) == 1;
}

int
proc_sig_forward(int signo)
{
	return signo == SIGHUP || signo == SIGINT || signo == SIGQUIT ||
	    signo == SIGTERM ? signo : SIGTERM;
}

int
proc_sig_from_tty(const siginfo_t *si)
{
	return si->si_code == SI_KERNEL;
}

unsigned
proc_std_fds(void)
{
	static unsigned closed;
	static int done;
	int fd;

	if (done)
		return closed;
	done = 1;
	for (fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			closed |= 1u << fd;
			if (open("/dev/null", O_RDONLY) != fd)
				err_die(EXIT_TOOL, "open /dev/null");
		}
	return closed;
}

/* The descriptor limit before proc_want_fds raised it, which the jobs
 * get back. */
static struct rlimit nofile_orig;
static int nofile_raised;

long
proc_want_fds(long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return need;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need &&
	    rl.rlim_cur < rl.rlim_max) {
		if (!nofile_raised)
			nofile_orig = rl;
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max > (rlim_t)need ? (rlim_t)need : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			nofile_raised = 1;
		else
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)LONG_MAX)
		return LONG_MAX;
	return (long)rl.rlim_cur;
}

long
proc_fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	struct rlimit rl;
	long n = 0, fd, top;

	if (d != NULL) {
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
		return n - 1;        /* the directory's own descriptor */
	}
	top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ?
	    (long)rl.rlim_cur : 65536;
	for (fd = 0; fd < top; fd++)
		if (fcntl((int)fd, F_GETFD) >= 0)
			n++;
	return n;
}

void
proc_spec_init(struct proc_spec *sp, char *const *argv)
{
	memset(sp, 0, sizeof *sp);
	sp->argv = argv;
	sp->fd[0] = sp->fd[1] = sp->fd[2] = -1;
	sp->tty = -1;
}

int
proc_exec_status(int e)
{
	return (e == ENOENT || e == ENOTDIR) ? EXIT_NOTFOUND : EXIT_NOEXEC;
}

volatile sig_atomic_t proc_in_child;

/* Our pid, asked once (proc_spawn's child compares it with its parent's):
 * a fork(2) child learns its own through the atfork handler. */
static pid_t self_pid;

static void
forget_pid(void)
{
	self_pid = 0;
}

static pid_t
self(void)
{
	if (self_pid == 0) {
		static int registered;
		if (!registered && pthread_atfork(NULL, NULL, forget_pid) == 0)
			registered = 1;
		if (!registered)
			return getpid();
		self_pid = getpid();
	}
	return self_pid;
}

/* The child half of proc_spawn. It shares the parent's memory (vfork), so
 * it only calls async-signal-safe functions and writes nothing but
 * *errslot, which the parent reads after the child has exec'd or exited
 * (in fork mode it also writes the errno to ERRFD). */
static void __attribute__((noreturn))
child(const struct proc_spec *sp, const sigset_t *mask, volatile int *errslot,
    int errfd, pid_t parent)
{
	/* The signals a runner may catch or ignore: handlers would run on
	 * the parent's memory, and ignored ones would survive exec. Setting
	 * a fixed list is cheaper than asking about all 64 per spawn. */
	static const int reset[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP,
		SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGTSTP,
		SIGTTIN, SIGTTOU, SIGCONT, SIGXFSZ };
	struct sigaction sa;
	int i, fd[3];

	proc_in_child = 1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < (int)(sizeof reset / sizeof reset[0]); i++)
		if (!proc_sig_kept(reset[i]) && (sp->sigreset == NULL ||
		    sigismember(sp->sigreset, reset[i]) == 1))
			sigaction(reset[i], &sa, NULL);
	if (nofile_raised)
		setrlimit(RLIMIT_NOFILE, &nofile_orig);
	if (sp->ctty)
		setsid();
	else if (sp->pgroup) {
		setpgid(0, 0);
		/* Every signal is blocked here, so the SIGTTOU that a
		 * background group's tcsetpgrp would raise cannot stop us. */
		if (sp->tty >= 0)
			tcsetpgrp(sp->tty, getpid());
	}
#ifdef __linux__
	if (sp->pdeathsig) {
		prctl(PR_SET_PDEATHSIG, sp->pdeathsig);
		/* The parent may have died before prctl: then we were
		 * reparented and no signal will ever come. The new parent
		 * is init or, as often, a subreaper (pool, parallel, a
		 * service manager): compare with the parent we had. */
		if (getppid() != parent)
			_exit(128 + sp->pdeathsig);
	}
#endif
	/* Move the descriptors above 2 first, so that dup2 of one cannot
	 * clobber another that is still to be placed. */
	for (i = 0; i < 3; i++) {
		fd[i] = sp->fd[i];
		if (fd[i] >= 0 && fd[i] <= 2 && fd[i] != i)
			fd[i] = fcntl(fd[i], F_DUPFD_CLOEXEC, 3);
	}
	for (i = 0; i < 3; i++) {
		if (fd[i] < 0)
			continue;
		if (fd[i] == i)
			fcntl(i, F_SETFD, 0);
		else if (dup2(fd[i], i) < 0)
			goto fail;
	}
	if (sp->ctty && ioctl(1, TIOCSCTTY, 0) < 0)
		goto fail;
	if (sp->dir && chdir(sp->dir) < 0)
		goto fail;
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (sp->path) {
		execve(sp->path, sp->argv, sp->envp ? sp->envp : environ);
		if (errno == ENOEXEC) {
			/* A script without a #! line: run it with sh, as
			 * execvp and the shells do. */
			int n = 0;
			while (sp->argv[n])
				n++;
			char *av[n + 2];
			av[0] = (char *)"sh";
			av[1] = (char *)sp->path;
			for (i = 1; i <= n; i++)
				av[i + 1] = sp->argv[i];
			execve("/bin/sh", av, sp->envp ? sp->envp : environ);
			errno = ENOEXEC;
		}
	}
	else if (sp->envp)
		execvpe(sp->argv[0], sp->argv, sp->envp);
	else
		execvp(sp->argv[0], sp->argv);
fail:
	*errslot = errno ? errno : ENOEXEC;
	if (errfd >= 0)
		(void)!write(errfd, (const void *)errslot, sizeof(int));
	_exit(proc_exec_status(*errslot));
}

/* Sanitizer runtimes do not survive a vfork child that shares their
 * state, so sanitizer builds fork; the exec errno then comes back through
 * a close-on-exec pipe instead of shared memory. */
#if defined(__SANITIZE_ADDRESS__)
#define PROC_FORK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROC_FORK 1
#endif
#endif

pid_t
proc_spawn(const struct proc_spec *sp, int *exec_errno)
{
	sigset_t all, old, none;
	volatile int errslot = 0;
	pid_t pid;
	volatile pid_t parent = self();
#ifdef PROC_FORK
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
#endif

	/* Block every signal across vfork: a handler must not run in the
	 * child on the parent's stack. The child unblocks everything just
	 * before exec, since a job should start with no signal blocked. */
	sigfillset(&all);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &all, &old);
#ifdef PROC_FORK
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		child(sp, &none, &errslot, p[1], parent);
	}
	close(p[1]);
	if (pid > 0) {
		int e;
		if (read(p[0], &e, sizeof e) == (ssize_t)sizeof e)
			errslot = e;
	}
	close(p[0]);
#else
	pid = vfork();
	if (pid == 0)
		child(sp, &none, &errslot, -1, parent);
	proc_in_child = 0;      /* the child set it in our memory */
#endif
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (exec_errno)
		*exec_errno = errslot;
	return pid;
}

int
proc_resolve(const char *cmd, char *out, size_t outlen)
{
	const char *path, *p, *colon;
	int err = ENOENT;
	struct stat st;

	if (*cmd == '\0')
		return ENOENT;
	if (strchr(cmd, '/')) {
		/* Checked as the PATH entries are, so that a caller that
		 * looks first (sem run) can fail before it waits. */
		if (strlen(cmd) >= outlen)
			return ENAMETOOLONG;
		if (stat(cmd, &st) < 0)
			return errno;
		if (!S_ISREG(st.st_mode) || access(cmd, X_OK) < 0)
			return EACCES;
		strcpy(out, cmd);
		return 0;
	}
	path = getenv("PATH");
	if (path == NULL)
		path = "/usr/local/bin:/bin:/usr/bin";
	for (p = path;; p = colon + 1) {
		size_t dlen;
		colon = strchr(p, ':');
		dlen = colon ? (size_t)(colon - p) : strlen(p);
		if (dlen == 0) {
			p = ".";
			dlen = 1;
		}
		if (dlen + 1 + strlen(cmd) < outlen) {
			memcpy(out, p, dlen);
			out[dlen] = '/';
			strcpy(out + dlen + 1, cmd);
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
				if (access(out, X_OK) == 0)
					return 0;
				err = EACCES;
			}
		}
		if (colon == NULL)
			break;
	}
	return err;
}

int
proc_status(int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws);
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return EXIT_TOOL;
}

/* Read the state (field 3) and start time (field 22) of PID. */
static int
read_stat(pid_t pid, char *state, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses: the
	 * fields after it start after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return -1;
	*state = p[2];
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field != 22)
		return -1;
	*start = strtoull(p, NULL, 10);
	return 0;
}

#ifdef __linux__
#ifndef PIDFS_MAGIC
#define PIDFS_MAGIC 0x50494446
#endif

/* pidfs_open: a pidfd for PID, and its stat in *ST, if pidfds live in
 * pidfs (whose inode numbers are never reused in a boot). Returns the
 * descriptor, or -1 with errno ESRCH (no such process; EINVAL, a thread
 * that is not a process, counts as none), ENOSYS (no pidfs: use the tick
 * identity) or another errno (no descriptor to spare). */
static int
pidfs_open(pid_t pid, struct stat *st)
{
	static int have = -1; /* pidfs: -1 not known yet, 0 no, 1 yes */
	struct statfs sf;
	int fd;

	if (have == 0) {
		errno = ENOSYS;
		return -1;
	}
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		if (errno == EINVAL)
			errno = ESRCH;
		else if (errno == ENOSYS)
			have = 0;
		return -1;
	}
	if (have < 0)
		have = fstatfs(fd, &sf) == 0 && sf.f_type == PIDFS_MAGIC;
	if (!have || fstat(fd, st) < 0) {
		close(fd);
		errno = ENOSYS;
		return -1;
	}
	return fd;
}

/* A pidfd polls readable once its process has exited (a zombie too). */
static int
pidfd_exited(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, 0) > 0;
}
#endif

/* The identity of PID, also of a zombie (*ZOMBIE then set). */
static int
ident_read(pid_t pid, unsigned *kind, unsigned long long *id, int *zombie)
{
	unsigned long long start;
	char state;
#ifdef __linux__
	struct stat st;
	int fd;
#endif

	if (pid <= 0)
		return -1;
#ifdef __linux__
	fd = pidfs_open(pid, &st);
	if (fd >= 0) {
		*zombie = pidfd_exited(fd);
		close(fd);
		*kind = PROC_ID_PIDFS;
		*id = (unsigned long long)st.st_ino;
		return 0;
	}
	if (errno == ESRCH)
		return -1;
#endif
	if (read_stat(pid, &state, &start) < 0 || state == 'X')
		return -1;
	*zombie = state == 'Z';
	*kind = PROC_ID_TICKS;
	*id = start;
	return 0;
}

int
proc_ident(pid_t pid, unsigned *kind, unsigned long long *id)
{
	int zombie;

	return ident_read(pid, kind, id, &zombie) < 0 || zombie ? -1 : 0;
}

int
proc_ident_any(pid_t pid, unsigned *kind, unsigned long long *id)
{
	int zombie;

	return ident_read(pid, kind, id, &zombie);
}

int
proc_ident_alive(pid_t pid, unsigned kind, unsigned long long id)
{
	unsigned long long now;
	char state;

	if (pid <= 0)
		return 0;
#ifdef __linux__
	if (kind == PROC_ID_PIDFS) {
		struct stat st;
		int fd = pidfs_open(pid, &st), alive;

		if (fd < 0)
			return errno == ESRCH ? 0 :
			    kill(pid, 0) == 0 || errno == EPERM;
		alive = (unsigned long long)st.st_ino == id &&
		    !pidfd_exited(fd);
		close(fd);
		return alive;
	}
#endif
	if (read_stat(pid, &state, &now) < 0) {
		/* No /proc: fall back to kill(0), which cannot tell a
		 * recycled pid. */
		return kill(pid, 0) == 0 || errno == EPERM;
	}
	/* A zombie has exited: it holds nothing any more. */
	if (state == 'Z' || state == 'X')
		return 0;
	return id == 0 || now == id;
}

/* Nonzero if PID is the process with identity (KIND, ID), alive or a
 * zombie; -1 if there is no process PID. */
static int
ident_is(pid_t pid, unsigned kind, unsigned long long id)
{
	unsigned long long start;
	char state;

#ifdef __linux__
	if (kind == PROC_ID_PIDFS) {
		struct stat st;
		int fd = pidfs_open(pid, &st);

		if (fd < 0)
			return errno == ESRCH ? -1 : 1;
		close(fd);
		return (unsigned long long)st.st_ino == id;
	}
#endif
	if (read_stat(pid, &state, &start) < 0)
		return kill(pid, 0) == 0 || errno == EPERM ? 1 : -1;
	return start == id;
}

int
proc_group_alive(pid_t pgid, unsigned kind, unsigned long long id)
{
	int same;

	if (pgid <= 0)
		return 0;
	if (kill(-pgid, 0) < 0 && errno == ESRCH)
		return 0;
	/* The group has members. Ours, or a new group whose leader got the
	 * number after ours ended? Its number is our leader's pid: held by
	 * the leader (alive or a zombie), or free of processes while the
	 * group lasts without it. */
	same = ident_is(pgid, kind, id);
	if (same < 0)   /* no such process: the leader has gone, or left */
		return kill(-pgid, 0) == 0 || errno == EPERM;
	return same;
}

void
proc_kill_group(pid_t pgid, int sig)
{
	if (pgid > 0)
		kill(-pgid, sig);
}
