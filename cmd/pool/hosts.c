/* pool: -S/--sshlogin, running jobs on other hosts over ssh.
 *
 * Every remote host has one master connection (lib/remote), opened for
 * all hosts at once before the first job; its probe answers the host's CPU
 * count (the default number of slots) and whether it has rsync. A job on
 * a remote host is "ssh -S SOCKET HOST -- WRAPPED-COMMAND": a channel
 * over the master, so the per-job cost is a channel open, not a handshake.
 *
 * Which host. A job goes to the host with the lowest share of its slots
 * in use, among the hosts that are up. A job that has to be run again
 * (its host's connection failed, or --retries) avoids the host it last
 * ran on while another host has a free slot.
 *
 * Connection failures. ssh exits 255 both when the connection fails and
 * when the remote command exits 255. On a 255 we ask the master whether
 * its connection stands ("ssh -O check"): if it does, 255 is the job's own
 * status; if not, the job did not fail, its host did, and the job waits
 * for a slot on a host that is up (it is never counted failed while some
 * host is up or reconnecting). A master that ends is restarted after a
 * short pause; after HOST_FAILS failures in a row without a job finishing
 * on the host in between, the host is left out for the rest of the run.
 *
 * Stopping remote jobs. The remote command runs under a small wrapper
 * (remote_wrapper below), a script for the login shell, that reads its
 * stdin, a pipe nobody writes to (the "lifeline", which the master and
 * every ssh get as stdin). Its read returns when the session ends: when pool kills the job's local ssh
 * (--timeout, SIGINT, SIGTERM, --halt now), when pool dies (the lifeline
 * closes), or when the connection breaks. The wrapper then sends SIGTERM
 * to the session's process group on the host (the remote sshd makes every
 * session a process group), waits the --grace period and sends SIGKILL,
 * so nothing of the job survives on the host. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "opt.h"
#include "pool.h"
#include "proc.h"
#include "remote.h"

#define HOST_FAILS 3
#define SLOTS_PROBED_MAX 10      /* sshd's default MaxSessions */
#define REOPEN_PAUSE (OPT_NS_PER_SEC / 2)

enum host_state { H_OPENING, H_UP, H_DOWN, H_DEAD };

struct host {
	char *login;                 /* as given: HOST or user@HOST, ":" */
	int local;
	int slurm;                   /* a node of the Slurm allocation */
	long slots, given;           /* given: N/ or 0 */
	long running;
	int state, fails;
	int rsync;                   /* both ends have rsync */
	struct remote_conn conn;
	struct loop_timer *timer;    /* the pause before reopening */
};

int hosts_on;
static struct host *hosts;
static int nhosts, caphosts;
static struct loop *L;
static const struct conf *C;
static int lifeline[2] = { -1, -1 };
static int local_rsync;
static int gone_warned;

static const char probe[] =
    "echo $(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null) "
    "$(command -v rsync >/dev/null 2>&1 && echo rsync)";

/* The remote side of a job, run by the login shell itself (an "sh -c"
 * of its own would cost every job one more exec): "set -- GRACE WORKDIR
 * SEQ SLOT CMD ARG..." and then this (ssh passes no environment:
 * POOL_SEQ and POOL_SLOT go along). The job is a child of the shell, which
 * reports a job killed by signal N as 128+N (were the job the session's
 * process, ssh would only say 255); the shell's own stderr is /dev/null,
 * so that a shell such as bash does not report that as "Killed" on the
 * job's stderr. The watcher ignores the SIGTERM it
 * sends to the whole group, so that it lives on to send SIGKILL after the
 * grace period. The login shell may have read a startup file (bash
 * reads ~/.bashrc for ssh commands): set +e and "command" keep its
 * options and functions from changing how the job runs. */
static const char remote_wrapper[] =
    "set +e; g=$1 d=$2; POOL_SEQ=$3 POOL_SLOT=$4; export POOL_SEQ POOL_SLOT; shift 4\n"
    "if [ -n \"$d\" ]; then mkdir -p -- \"$d\" && cd -- \"$d\" || exit 255; fi\n"
    "exec 3<&0 </dev/null 4>&2 2>/dev/null\n"
    "{ read -r _ <&3; trap '' TERM; kill -TERM 0; sleep \"$g\"; kill -KILL 0; }"
    " >/dev/null 2>&1 4>&- &\n"
    "w=$!\n"
    "exec 3<&-\n"
    "command \"$@\" 2>&4 4>&-\n"
    "s=$?\n"
    "kill \"$w\" 2>/dev/null\n"
    "exit \"$s\"\n";

static void
nomem(void)
{
	err_diex(EXIT_TOOL, "out of memory");
}

static void
add_login(const char *spec, size_t n, const char *from)
{
	struct host *h;
	const char *slash = memchr(spec, '/', n);
	long long v = 0;
	const char *why;
	char num[32];

	while (n && (*spec == ' ' || *spec == '\t'))
		spec++, n--;
	while (n && (spec[n - 1] == ' ' || spec[n - 1] == '\t'))
		n--;
	if (n == 0)
		err_diex(EXIT_TOOL, "%s: an empty host", from);
	if (slash && (size_t)(slash - spec) < sizeof num) {
		memcpy(num, spec, slash - spec);
		num[slash - spec] = '\0';
		if (opt_parse_count(num, 1, 32768, &v, &why) < 0)
			err_diex(EXIT_TOOL, "%s %.*s: %s", from, (int)n, spec,
			    why);
		n -= slash + 1 - spec;
		spec = slash + 1;
	} else if (slash)
		err_diex(EXIT_TOOL, "%s %.*s: not [N/]HOST", from, (int)n, spec);
	if (n == 0 || spec[0] == '-' || memchr(spec, ' ', n) ||
	    memchr(spec, '\t', n))
		err_diex(EXIT_TOOL, "%s %.*s: not a host", from, (int)n, spec);
	if (nhosts == caphosts) {
		int cap = caphosts ? 2 * caphosts : 8;
		struct host *p = realloc(hosts, cap * sizeof *p);
		if (p == NULL)
			nomem();
		hosts = p;
		caphosts = cap;
	}
	h = &hosts[nhosts++];
	memset(h, 0, sizeof *h);
	h->login = strndup(spec, n);
	if (h->login == NULL)
		nomem();
	h->local = strcmp(h->login, ":") == 0;
	h->given = (long)v;
	h->conn.out = -1;
	hosts_on = 1;
}

void
hosts_add(const char *list, const char *from)
{
	const char *p = list, *comma;

	do {
		comma = strchr(p, ',');
		add_login(p, comma ? (size_t)(comma - p) : strlen(p), from);
		p = comma + 1;
	} while (comma);
}

void
hosts_add_file(const char *file)
{
	FILE *f = fopen(file, "r");
	char *line = NULL, *p;
	size_t cap = 0;
	ssize_t n;
	int any = 0;

	if (f == NULL)
		err_die(EXIT_TOOL, "open %s", file);
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		hosts_add(p, "--sshloginfile");
		any = 1;
	}
	if (ferror(f))
		err_die(EXIT_TOOL, "read %s", file);
	free(line);
	fclose(f);
	if (!any)
		err_diex(EXIT_TOOL, "--sshloginfile %s: no host in it", file);
}

void
hosts_add_node(const char *name, long slots)
{
	struct host *h;

	add_login(name, strlen(name), "--slurm");
	h = &hosts[nhosts - 1];
	h->slurm = 1;
	h->slots = slots;
}

/* "N rsync" or "N": the probe's answer. */
static void
take_answer(struct host *h, const char *ans)
{
	long n = strtol(ans, NULL, 10);

	if (n < 1)
		n = 1;
	if (n > SLOTS_PROBED_MAX)
		n = SLOTS_PROBED_MAX;
	h->rsync = local_rsync && strstr(ans, "rsync") != NULL;
	if (h->slots == 0)
		h->slots = h->given ? h->given : C->slots_given ? C->slots : n;
	h->state = H_UP;
}

static void on_ready(struct loop *l, int fd, unsigned ev, void *arg);
static int node_ended(struct job *j, int may_rerun);

static int
open_host(struct host *h)
{
	if (remote_open(&h->conn, h->login, probe, lifeline[0]) < 0) {
		err_warn("ssh %s", h->login);
		return -1;
	}
	h->state = H_OPENING;
	return 0;
}

/* The masters' answers before the first job: how many slots each host
 * has depends on them. */
static void
wait_all(void)
{
	struct pollfd *p = calloc(nhosts, sizeof *p);
	char ans[128];
	int i, left;

	if (p == NULL)
		nomem();
	for (;;) {
		for (i = left = 0; i < nhosts; i++) {
			struct host *h = &hosts[i];
			int r;
			p[i].fd = -1;
			if (h->state != H_OPENING)
				continue;
			r = remote_ready(&h->conn, ans, sizeof ans);
			if (r > 0) {
				take_answer(h, ans);
			} else if (r < 0) {
				remote_close(&h->conn);
				err_warnx("%s: cannot connect; no jobs go "
				    "there", h->login);
				h->state = H_DEAD;
			} else {
				p[i].fd = h->conn.out;
				p[i].events = POLLIN;
				left++;
			}
		}
		if (left == 0)
			break;
		if (poll(p, nhosts, -1) < 0 && errno != EINTR)
			err_die(EXIT_TOOL, "poll");
	}
	free(p);
}

long
hosts_setup(const struct conf *c, struct loop *l)
{
	char path[PATH_MAX];
	long total = 0;
	int i;

	C = c;
	L = l;
	local_rsync = proc_resolve("rsync", path, sizeof path) == 0;
	if (pipe2(lifeline, O_CLOEXEC) < 0)
		err_die(EXIT_TOOL, "pipe");
	for (i = 0; i < nhosts; i++) {
		struct host *h = &hosts[i];
		if (h->slurm)
			h->state = H_UP;
		else if (h->local) {
			h->slots = h->given ? h->given : c->slots;
			h->state = H_UP;
		} else if (open_host(h) < 0)
			h->state = H_DEAD;
	}
	wait_all();
	for (i = 0; i < nhosts; i++)
		if (hosts[i].state == H_UP)
			total += hosts[i].slots;
	if (total == 0)
		err_diex(EXIT_TOOL, "no host can be reached");
	return total > 32768 ? 32768 : total;
}

static void
on_ready(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct host *h = arg;
	char ans[128];
	int r = remote_ready(&h->conn, ans, sizeof ans);

	if (r == 0)
		return;
	loop_del_fd(l, fd);
	if (r > 0)
		take_answer(h, ans);
	/* r < 0: the master is ending; hosts_reaped counts the failure. */
}

static void
on_reopen(struct loop *l, void *arg)
{
	struct host *h = arg;

	h->timer = NULL;
	if (open_host(h) < 0 ||
	    loop_add_fd(L, h->conn.out, LOOP_IN, on_ready, h) < 0) {
		h->state = H_DEAD;
		return;
	}
}

static void
host_failed(struct host *h)
{
	if (h->state == H_DEAD)
		return;
	if (h->state == H_OPENING && h->conn.out >= 0)
		loop_del_fd(L, h->conn.out);
	remote_close(&h->conn);
	if (++h->fails >= HOST_FAILS) {
		h->state = H_DEAD;
		err_warnx("%s: the connection failed %d times in a row; no "
		    "more jobs go there", h->login, h->fails);
		return;
	}
	h->state = H_DOWN;
	h->timer = loop_add_timer(L, loop_now() + h->fails * REOPEN_PAUSE,
	    on_reopen, h);
	if (h->timer == NULL)
		h->state = H_DEAD;
}

int
hosts_reaped(pid_t pid, int ws)
{
	int i;

	for (i = 0; i < nhosts; i++)
		if (hosts[i].conn.master == pid && pid > 0) {
			hosts[i].conn.master = 0;
			host_failed(&hosts[i]);
			return 1;
		}
	return 0;
}

int
hosts_alive(void)
{
	int i;

	for (i = 0; i < nhosts; i++)
		if (hosts[i].state != H_DEAD)
			return 1;
	if (!gone_warned) {
		gone_warned = 1;
		err_warnx("every host has failed; giving up");
	}
	return 0;
}

struct host *
host_pick(const struct host *avoid)
{
	struct host *best = NULL;
	double bs = 0;
	int i;

	for (i = 0; i < nhosts; i++) {
		struct host *h = &hosts[i];
		double s;
		if (h->state != H_UP || h->running >= h->slots)
			continue;
		s = (double)h->running / h->slots + (h == avoid ? 2 : 0);
		if (best == NULL || s < bs) {
			best = h;
			bs = s;
		}
	}
	return best;
}

void
host_take(struct job *j, struct host *h)
{
	j->host = h;
	h->running++;
}

const char *
host_name(const struct job *j)
{
	return j->host ? j->host->login : ":";
}

int
hosts_job_ended(struct job *j, int status, int may_rerun)
{
	struct host *h = j->host;
	int lost;

	h->running--;
	if (h->local)
		return 0;
	if (h->slurm)
		return node_ended(j, may_rerun);
	if (status != REMOTE_SSH_FAILED) {
		h->fails = 0;
		return 0;
	}
	if (!may_rerun)
		return 0;
	if (h->state == H_UP) {
		if (remote_check(&h->conn) == 0) {
			h->fails = 0;
			return 0;   /* the job's own 255 */
		}
		/* Its master is on its way out: make sure it goes, so that
		 * hosts_reaped counts the failure and reconnects. */
		if (h->conn.master > 0)
			kill(h->conn.master, SIGTERM);
		h->state = H_DOWN;
	}
	lost = hosts_alive();
	return lost;
}

/* --slurm: srun said the node or the step failed (see slurm.c): the job
 * runs again elsewhere; after HOST_FAILS such failures in a row the node
 * is left out. A node is not reopened: one that failed is down or gone
 * from the allocation, and srun fails on it at once. */
static int
node_ended(struct job *j, int may_rerun)
{
	struct host *h = j->host;

	if (!slurm_failed(j)) {
		h->fails = 0;
		return 0;
	}
	if (!may_rerun)
		return 0;
	if (++h->fails >= HOST_FAILS && h->state != H_DEAD) {
		h->state = H_DEAD;
		err_warnx("%s: the node failed %d times in a row; no more "
		    "jobs go there", h->login, h->fails);
	}
	return hosts_alive();
}

/* The remote command for X, for the login shell: the wrapper's
 * parameters, the job's argv and the wrapper. */
static void
remote_command(const struct launch *x, struct buf *s)
{
	char grace[32], seq[24], slot[24];
	char *pre[] = { (char *)"set", (char *)"--", grace,
		(char *)(C->workdir ? C->workdir : ""), seq, slot, NULL };

	snprintf(grace, sizeof grace, "%.3f", (double)C->grace / 1e9);
	snprintf(seq, sizeof seq, "%llu", x->seq);
	snprintf(slot, sizeof slot, "%d", x->slot);
	buf_quote_argv(s, pre, 0);
	buf_adds(s, " ");
	buf_quote_argv(s, x->argv, 0);
	buf_adds(s, "\n");
	buf_adds(s, remote_wrapper);
}

/* Append "ssh ... -S SOCKET -o ControlMaster=no -- HOST " to the script. */
static void
add_ssh(struct buf *s, const struct host *h)
{
	remote_ssh_line(&h->conn, s);
	buf_adds(s, " -- ");
	buf_quote(s, h->login, 0);
	buf_adds(s, " ");
}

/* The -e value for rsync: the ssh words, bare or in single quotes. */
static void
add_rsync(struct buf *s, const struct host *h)
{
	struct buf e = { 0 };

	remote_ssh_line(&h->conn, &e);
	buf_adds(s, "rsync -Rq -e ");
	buf_quote(s, buf_str(&e), 0);
	buf_adds(s, " ");
	buf_free(&e);
}

/* Append the remote path of local file F: relative files go under the
 * working directory (or the login directory), absolute ones stay. With
 * rsync, "/./" marks where the relative part starts. */
static void
add_rpath(struct buf *q, const char *f, int marker)
{
	if (f[0] != '/' && C->workdir) {
		buf_adds(q, C->workdir);
		buf_adds(q, "/");
	}
	if (f[0] != '/' && marker)
		buf_adds(q, "./");
	buf_adds(q, f);
}

/* A remote shell command, quoted into the script; CD: in the working
 * directory. A word starting with \001 is shell text, not quoted. */
static void
add_rcmd(struct buf *s, const char *const *words, int n, int cd)
{
	struct buf r = { 0 };
	int i;

	if (cd && C->workdir) {
		buf_adds(&r, "cd -- ");
		buf_quote(&r, C->workdir, 0);
		buf_adds(&r, " && ");
	}
	for (i = 0; i < n; i++) {
		if (words[i][0] == '\001')
			buf_adds(&r, words[i] + 1);
		else
			buf_quote(&r, words[i], 0);
		buf_adds(&r, " ");
	}
	buf_quote(s, buf_str(&r), 0);
	buf_free(&r);
}

static void
transfer_one(struct buf *s, const struct host *h, const char *f)
{
	struct buf d = { 0 }, rp = { 0 };

	if (h->rsync) {
		add_rsync(s, h);
		if (C->workdir) {
			buf_adds(&rp, "mkdir -p -- ");
			buf_quote(&rp, C->workdir, 0);
			buf_adds(&rp, " && rsync");
			buf_adds(s, "--rsync-path=");
			buf_quote(s, buf_str(&rp), 0);
			buf_adds(s, " ");
		}
		buf_adds(s, "-- ");
		buf_quote(s, f, 0);
		buf_adds(s, " ");
		buf_adds(&d, h->login);
		buf_adds(&d, f[0] == '/' ? ":/" : ":");
		if (f[0] != '/' && C->workdir) {
			buf_adds(&d, C->workdir);
			buf_adds(&d, "/");
		}
		buf_quote(s, buf_str(&d), 0);
	} else {
		const char *w[] = { "\001mkdir -p -- \"$(dirname --", NULL,
			"\001)\" && cat >", NULL };
		add_rpath(&d, f, 0);
		w[1] = w[3] = buf_str(&d);
		add_ssh(s, h);
		add_rcmd(s, w, 4, 0);
		buf_adds(s, " <");
		buf_quote(s, f, 0);
	}
	buf_free(&d);
	buf_free(&rp);
	buf_adds(s, " || exit 255\n");
}

static void
return_one(struct buf *s, const struct host *h, const char *f)
{
	struct buf d = { 0 };

	if (h->rsync) {
		add_rsync(s, h);
		buf_adds(s, "-- ");
		buf_adds(&d, h->login);
		buf_adds(&d, ":");
		add_rpath(&d, f, 1);
		buf_quote(s, buf_str(&d), 0);
		buf_adds(s, f[0] == '/' ? " /" : " .");
	} else {
		const char *w[] = { "cat", "--", f };
		buf_adds(s, "mkdir -p -- \"$(dirname -- ");
		buf_quote(s, f, 0);
		buf_adds(s, ")\" && ");
		add_ssh(s, h);
		add_rcmd(s, w, 3, 1);
		buf_adds(s, " >");
		buf_quote(s, f, 0);
	}
	buf_free(&d);
	buf_adds(s, " || s=255\n");
}

/* The local script of a job X on host H with --transfer, --return or
 * --cleanup: transfer, run, return, clean up. Its status is the job's, or
 * 255 when a transfer or a return failed (see the man page). */
static void
file_script(const struct host *h, const struct launch *x, struct buf *s)
{
	struct buf r = { 0 };
	const char **w;
	int i, n = 0, nfiles = 0, nrets = 0;

	while (x->files && x->files[nfiles])
		nfiles++;
	while (x->rets && x->rets[nrets])
		nrets++;
	for (i = 0; C->transfer && i < nfiles; i++)
		transfer_one(s, h, x->files[i]);
	add_ssh(s, h);
	remote_command(x, &r);
	buf_quote(s, buf_str(&r), 0);
	buf_adds(s, "\ns=$?\n[ \"$s\" = 255 ] && exit 255\n");
	for (i = 0; i < nrets; i++)
		return_one(s, h, x->rets[i]);
	if (C->cleanup && (C->transfer || nrets)) {
		if ((w = calloc(nfiles + nrets + 1, sizeof *w)) == NULL)
			nomem();
		w[n++] = "\001rm -f --";
		for (i = 0; C->transfer && i < nfiles; i++)
			w[n++] = x->files[i];
		for (i = 0; i < nrets; i++)
			w[n++] = x->rets[i];
		add_ssh(s, h);
		add_rcmd(s, w, n, 1);
		buf_adds(s, "\n");
		free(w);
	}
	buf_free(&r);
	buf_adds(s, "exit \"$s\"\n");
}

void
hosts_wrap(struct job *j, struct launch *x)
{
	struct host *h = j->host;

	if (h == NULL || h->local)
		return;
	if (h->slurm) {
		slurm_wrap(j, x, h->login);
		return;
	}
	j->rcmd.len = 0;
	if (C->transfer || C->nreturns || C->cleanup) {
		static char sh[] = "sh", dash_c[] = "-c";
		file_script(h, x, &j->rcmd);
		j->rargv = realloc(j->rargv, 4 * sizeof *j->rargv);
		if (j->rargv == NULL)
			nomem();
		j->rargv[0] = sh;
		j->rargv[1] = dash_c;
		j->rargv[2] = buf_str(&j->rcmd);
		j->rargv[3] = NULL;
		x->path = "/bin/sh";
	} else {
		remote_command(x, &j->rcmd);
		free(j->rargv);
		j->rargv = remote_argv(&h->conn, NULL, buf_str(&j->rcmd));
		if (j->rargv == NULL)
			nomem();
		x->path = remote_ssh_path();
	}
	x->argv = j->rargv;
	x->in = lifeline[0];
}

void
hosts_close(void)
{
	int i;

	for (i = 0; i < nhosts; i++)
		if (!hosts[i].local && !hosts[i].slurm &&
		    hosts[i].state != H_DEAD)
			remote_close(&hosts[i].conn);
}
