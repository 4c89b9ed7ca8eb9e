#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cli.h"
#include "err.h"
#include "proc.h"
#include "remote.h"

static char **ssh_words;
static int ssh_nwords;
static char ssh_path[PATH_MAX];
static char ctl_dir[PATH_MAX];
static unsigned ctl_seq;

/* The connections that are open, so that an exit on any path closes
 * them and removes the control directory. */
static struct remote_conn **open_conns;
static size_t nopen, capopen;

/* The ssh command words ($CONC_SSH or "ssh"), NULL-terminated, and their
 * count in *N; ssh's path is looked up the first time. */
static char **
remote_ssh(int *n)
{
	const char *env;
	char *copy, *w, *save;

	if (ssh_words) {
		*n = ssh_nwords;
		return ssh_words;
	}
	env = getenv("CONC_SSH");
	if (env == NULL)
		env = "ssh";
	copy = strdup(env);
	ssh_words = calloc(strlen(env) / 2 + 2, sizeof *ssh_words);
	if (copy == NULL || ssh_words == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	for (w = strtok_r(copy, " \t\n", &save); w;
	    w = strtok_r(NULL, " \t\n", &save))
		ssh_words[ssh_nwords++] = w;
	if (ssh_nwords == 0)
		err_diex(EXIT_TOOL, "CONC_SSH is set but names no command");
	if (proc_resolve(ssh_words[0], ssh_path, sizeof ssh_path) != 0)
		ssh_path[0] = '\0';
	*n = ssh_nwords;
	return ssh_words;
}

/* argv: the ssh words, then the middle words MID, then EXTRA, then
 * "--", HOST and CMD. */
static char **
build(const char *const *mid, char *const *extra, const char *host,
    const char *cmd)
{
	int n, k = 0, i, nmid = 0, nextra = 0;
	char **w = remote_ssh(&n), **v;

	while (mid && mid[nmid])
		nmid++;
	while (extra && extra[nextra])
		nextra++;
	v = malloc((n + nmid + nextra + 4) * sizeof *v);
	if (v == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		v[k++] = w[i];
	for (i = 0; i < nmid; i++)
		v[k++] = (char *)mid[i];
	for (i = 0; i < nextra; i++)
		v[k++] = extra[i];
	v[k++] = (char *)"--";
	v[k++] = (char *)host;
	if (cmd)
		v[k++] = (char *)cmd;
	v[k] = NULL;
	return v;
}

/* The options of a session that goes through C's master. */
#define CHANNEL_OPTS(c) { "-S", (c)->ctl, "-o", "ControlMaster=no", NULL }

char **
remote_argv(const struct remote_conn *c, char *const *extra, const char *cmd)
{
	const char *mid[] = CHANNEL_OPTS(c);

	return build(mid, extra, c->host, cmd);
}

void
remote_ssh_line(const struct remote_conn *c, struct buf *b)
{
	const char *mid[] = CHANNEL_OPTS(c);
	int n, i;
	char **w = remote_ssh(&n);

	buf_quote_argv(b, w, 0);
	for (i = 0; mid[i]; i++) {
		buf_adds(b, " ");
		buf_quote(b, mid[i], 0);
	}
}

const char *
remote_ssh_path(void)
{
	int n;

	remote_ssh(&n);
	return ssh_path[0] ? ssh_path : NULL;
}

static void
cleanup(void)
{
	while (nopen > 0)
		remote_close(open_conns[nopen - 1]);
	if (ctl_dir[0])
		rmdir(ctl_dir);
}

/* The private directory of the control sockets. A socket's path must fit
 * in sockaddr_un (108 bytes), so a long $TMPDIR gives way to /tmp. */
static int
make_dir(void)
{
	const char *t = getenv("TMPDIR");

	if (ctl_dir[0])
		return 0;
	if (t == NULL || *t != '/' || strlen(t) > 60)
		t = "/tmp";
	snprintf(ctl_dir, sizeof ctl_dir, "%s/concutils-ssh.XXXXXX", t);
	if (mkdtemp(ctl_dir) == NULL) {
		ctl_dir[0] = '\0';
		return -1;
	}
	atexit(cleanup);
	return 0;
}

static int
track(struct remote_conn *c)
{
	size_t i;

	for (i = 0; i < nopen; i++)
		if (open_conns[i] == c)
			return 0;
	if (nopen == capopen) {
		size_t cap = capopen ? 2 * capopen : 8;
		struct remote_conn **p = realloc(open_conns, cap * sizeof *p);
		if (p == NULL)
			return -1;
		open_conns = p;
		capopen = cap;
	}
	open_conns[nopen++] = c;
	return 0;
}

static void
untrack(const struct remote_conn *c)
{
	size_t i;

	for (i = 0; i < nopen; i++)
		if (open_conns[i] == c) {
			open_conns[i] = open_conns[--nopen];
			return;
		}
}

static pid_t
spawn(char **argv, int in, int out, int err, int pgroup, int *eerr)
{
	struct proc_spec sp;

	proc_spec_init(&sp, argv);
	sp.path = remote_ssh_path();
	sp.fd[0] = in;
	sp.fd[1] = out;
	sp.fd[2] = err;
	sp.pgroup = pgroup;
	sp.pdeathsig = SIGTERM;
	return proc_spawn(&sp, eerr);
}

int
remote_open(struct remote_conn *c, const char *host, const char *probe,
    int lifeline)
{
	const char *mid[] = { "-M", "-S", NULL, "-o", "ControlPersist=no",
		NULL };
	struct buf cmd = { 0 };
	char **argv;
	int p[2], e;
	pid_t pid;

	c->host = host;
	c->master = 0;
	c->out = -1;
	c->rlen = 0;
	if (make_dir() < 0)
		return -1;
	if (c->ctl == NULL) {
		size_t n = strlen(ctl_dir) + 16;
		if ((c->ctl = malloc(n)) == NULL)
			return -1;
		snprintf(c->ctl, n, "%s/%u", ctl_dir, ctl_seq++);
	}
	mid[2] = c->ctl;
	if (probe) {
		buf_adds(&cmd, "printf 'conc-ready %s\\n' \"$(");
		buf_adds(&cmd, probe);
		buf_adds(&cmd, ")\"");
	} else
		buf_adds(&cmd, "echo conc-ready");
	buf_adds(&cmd, "; exec cat >/dev/null");
	if ((argv = build(mid, NULL, host, buf_str(&cmd))) == NULL) {
		buf_free(&cmd);
		errno = ENOMEM;
		return -1;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		e = errno;
		buf_free(&cmd);
		free(argv);
		errno = e;
		return -1;
	}
	/* Its own process group: a ^C meant for the jobs must not cut
	 * every job's connection first. */
	pid = spawn(argv, lifeline, p[1], -1, 1, NULL);
	e = errno;
	buf_free(&cmd);
	free(argv);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		errno = e;
		return -1;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	c->master = pid;
	c->out = p[0];
	if (track(c) < 0) {
		remote_close(c);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
remote_ready(struct remote_conn *c, char *answer, size_t n)
{
	for (;;) {
		char *nl;
		ssize_t r;

		while ((nl = memchr(c->rbuf, '\n', c->rlen)) != NULL) {
			size_t ln = nl - c->rbuf, skip = ln + 1;
			/* Lines before ours are a login script's chatter. */
			if (ln >= 10 && memcmp(c->rbuf, "conc-ready", 10) == 0) {
				const char *a = c->rbuf + 10;
				size_t an = ln - 10;
				if (an && *a == ' ')
					a++, an--;
				if (an >= n)
					an = n - 1;
				memcpy(answer, a, an);
				answer[an] = '\0';
				c->rlen = 0;
				return 1;
			}
			memmove(c->rbuf, c->rbuf + skip, c->rlen - skip);
			c->rlen -= skip;
		}
		if (c->rlen == sizeof c->rbuf)
			c->rlen = 0;
		r = read(c->out, c->rbuf + c->rlen, sizeof c->rbuf - c->rlen);
		if (r > 0)
			c->rlen += r;
		else if (r == 0)
			return -1;
		else if (errno == EAGAIN)
			return 0;
		else if (errno != EINTR)
			return -1;
	}
}

int
remote_wait_ready(struct remote_conn *c, char *answer, size_t n)
{
	struct pollfd p = { c->out, POLLIN, 0 };
	int r;

	while ((r = remote_ready(c, answer, n)) == 0)
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return -1;
	return r;
}

/* Run ssh -O OP for C and wait for it: its exit status, or -1. */
static int
control(struct remote_conn *c, const char *op)
{
	char *extra[] = { (char *)"-O", (char *)op, NULL };
	char **argv = remote_argv(c, extra, NULL);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), ws, st = -1;
	pid_t pid = -1;

	if (argv && null >= 0)
		pid = spawn(argv, null, null, null, 0, NULL);
	while (pid > 0 && waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR) {
			pid = -1;
			break;
		}
	if (pid > 0)
		st = proc_status(ws);
	free(argv);
	if (null >= 0)
		close(null);
	return st;
}

int
remote_check(struct remote_conn *c)
{
	return control(c, "check") == 0 ? 0 : -1;
}

void
remote_close(struct remote_conn *c)
{
	int ws;

	untrack(c);
	if (c->master > 0) {
		if (control(c, "exit") != 0)
			kill(c->master, SIGTERM);
		while (waitpid(c->master, &ws, 0) < 0 && errno == EINTR)
			;
	}
	c->master = 0;
	if (c->out >= 0)
		close(c->out);
	c->out = -1;
	if (c->ctl)
		unlink(c->ctl);
}

static volatile sig_atomic_t run_sig;
static volatile pid_t run_child;

static void
on_run_signal(int sig)
{
	run_sig = sig;
	if (run_child > 0)
		kill(run_child, SIGTERM);
}

int
remote_run(const char *host, const char *prog, char *const *argv)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct remote_conn c = { 0 };
	struct sigaction sa;
	struct buf cmd = { 0 };
	char ans[8], **av;
	int life[2], ws, st, i;
	pid_t pid;

	if (pipe2(life, O_CLOEXEC) < 0)
		err_die(EXIT_TOOL, "pipe");
	if (remote_open(&c, host, NULL, life[0]) < 0)
		err_die(EXIT_TOOL, "ssh %s", host);
	close(life[0]);
	if (remote_wait_ready(&c, ans, sizeof ans) <= 0) {
		remote_close(&c);
		free(c.ctl);
		err_warnx("%s: cannot connect (ssh failed)", host);
		return EXIT_TOOL;
	}
	/* Not "exec PROG": a program killed by a signal would then make
	 * ssh exit 255; the shell turns that into 128+N instead. */
	buf_adds(&cmd, "CONC_REMOTE=1 ");
	buf_quote(&cmd, prog, 0);
	if (argv[0])
		buf_adds(&cmd, " ");
	buf_quote_argv(&cmd, argv, 0);
	buf_adds(&cmd, "; exit $?");
	if ((av = remote_argv(&c, NULL, buf_str(&cmd))) == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_run_signal;
	for (i = 0; i < 3; i++)
		if (!proc_sig_kept(sigs[i]))
			sigaction(sigs[i], &sa, NULL);
	pid = spawn(av, -1, -1, -1, 0, NULL);
	if (pid < 0)
		err_die(EXIT_TOOL, "ssh %s", host);
	run_child = pid;
	if (run_sig)
		kill(pid, SIGTERM);
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			err_die(EXIT_TOOL, "waitpid");
	run_child = 0;
	st = proc_status(ws);
	if (run_sig)
		st = 128 + run_sig;
	else if (st == REMOTE_SSH_FAILED && remote_check(&c) < 0) {
		err_warnx("%s: the connection failed (ssh exited 255)", host);
		st = EXIT_TOOL;
	}
	buf_free(&cmd);
	free(av);
	remote_close(&c);
	free(c.ctl);
	close(life[1]);
	return st;
}

static void *
watch_stdout(void *arg)
{
	struct pollfd p = { 1, 0, 0 };

	/* Asking for no event at all still reports the two we want: a pipe
	 * whose reader has gone gives POLLERR, a socket POLLHUP. */
	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return NULL;
	if (p.revents & (POLLERR | POLLHUP))
		kill(getpid(), SIGTERM);
	return NULL;
}

void
remote_serve(void)
{
	sigset_t all, old;
	pthread_attr_t at;
	pthread_t t;

	if (getenv("CONC_REMOTE") == NULL)
		return;
	unsetenv("CONC_REMOTE");
	/* The thread blocks every signal, so that signals keep going to
	 * the main thread (and to a signalfd there). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_attr_init(&at) == 0) {
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&at, 64 * 1024);
		if (pthread_create(&t, &at, watch_stdout, NULL) != 0)
			err_warnx("cannot watch the ssh session; going on");
		pthread_attr_destroy(&at);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int
remote_main(int argc, char **argv, const struct cli *cli)
{
	enum { OPT_RPATH = 0x7e01 };
	static const struct option longopts[] = {
		{ "host", required_argument, 0, 'H' },
		{ "remote-path", required_argument, 0, OPT_RPATH },
		CLI_STD_OPTIONS,
		{ 0, 0, 0, 0 }
	};
	const char *host = NULL, *path = NULL;
	int c;

	remote_serve();
	while ((c = cli_next(argc, argv, "H:", longopts, cli)) != -1) {
		if (c == 'H')
			host = optarg;
		else if (c == OPT_RPATH)
			path = optarg;
	}
	if (path && host == NULL)
		cli_usage_error(cli, "--remote-path needs -H");
	if (host == NULL)
		return optind;
	if (*host == '\0' || *host == '-')
		cli_usage_error(cli, "-H %s: not a host name", host);
	if (path && *path == '\0')
		cli_usage_error(cli, "--remote-path: empty");
	if (optind >= argc)
		cli_usage_error(cli, "missing command");
	exit(remote_run(host, path ? path : err_prog, argv + optind));
}
