/* pool: --slurm, every job a job step of the Slurm allocation pool runs in.
 *
 * The allocation. Inside salloc or sbatch, SLURM_JOB_ID names the job,
 * SLURM_JOB_NODELIST its nodes (a compressed host list, expanded by
 * "scontrol show hostnames" once at the start) and SLURM_JOB_CPUS_PER_NODE
 * the CPUs it holds on each ("4(x2),2"). Every node becomes a host of
 * hosts.c with CPUs / --slurm-cpus slots, so the placement, the rerun of a
 * job whose node failed and the leaving out of a node that keeps failing
 * are those of -S; the slots of all nodes together are capped by
 * SLURM_NTASKS when the allocation names a task count.
 *
 * A job. pool chooses the node and runs
 *   srun -Q --exact -N 1 -n 1 -c CPUS -w NODE [--slurm-args] -- CMD ARG...
 * one task on CPUS CPUs of that node, not shared with other steps. srun
 * carries the job's stdout, stderr and stdin, its environment (POOL_SEQ,
 * POOL_SLOT) and its exit status (128+N for a signal), and it is the
 * job's process for everything else: to stop a job pool sends srun SIGTERM
 * (one SIGINT only makes srun report), and srun cancels the step, which
 * ends every process of it on the node; SIGKILL after the grace period
 * kills srun, and slurmstepd then ends the step it can no longer report
 * to. srun gets SIGTERM when pool dies (the parent-death signal), so even
 * SIGKILL of pool cancels every step.
 *
 * A failed node. srun exits 0 when the node of its task fails (the task is
 * marked as ended without a status), so the status cannot tell. What srun
 * says can: it reports a node failure, a task that could not be launched
 * or a step that could not be created on its stderr, which is the job's
 * stderr pipe; slurm_scan reads those lines as they pass (output.c) and
 * such a job is not counted: it runs again on another node.
 *
 * After a node failure Slurm (22.05) shrinks the allocation and can no
 * longer account the CPUs its steps use ("unable to update job's core use
 * information due to job resizing"): a step asking for CPUs of its own
 * (--exact) then waits for ever. From the first node failure on, steps
 * are started with --overlap instead, and pool's own slot counts keep the
 * nodes from being overloaded. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#define LINE_KEEP 96   /* enough of a line to recognise srun's reports */

int slurm_on;

/* What slurm_scan keeps of each slot's job: the start of the stderr line
 * being read, and whether srun said the node or the step failed. */
struct sjob {
	char line[LINE_KEEP];
	size_t len;
	int at_start;       /* the next byte starts a line */
	int failed;
	char **argv;
	int cap;
};

static struct sjob *sj;
static char srun_path[PATH_MAX];
static int overlap;             /* a node failed: steps use --overlap */
static char cpus_arg[24];
static char **extra;            /* --slurm-args, split at blanks */
static int nextra;

static void
nomem(void)
{
	err_diex(EXIT_TOOL, "out of memory");
}

void
slurm_args(const char *s)
{
	const char *p = s;

	while (*p) {
		size_t n;
		char **v;
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, " \t\n");
		v = realloc(extra, (nextra + 2) * sizeof *extra);
		if (v == NULL || (v[nextra] = strndup(p, n)) == NULL)
			nomem();
		extra = v;
		nextra++;
		p += n;
	}
}

/* "4(x2),2" -> the CPU count of node I (0-based), or -1. */
static long
cpus_of(const char *spec, long i)
{
	const char *p = spec;

	while (*p) {
		char *end;
		long n = strtol(p, &end, 10), rep = 1;
		if (end == p || n < 0)
			return -1;
		p = end;
		if (strncmp(p, "(x", 2) == 0) {
			rep = strtol(p + 2, &end, 10);
			if (end == p + 2 || *end != ')' || rep < 1)
				return -1;
			p = end + 1;
		}
		if (i < rep)
			return n;
		i -= rep;
		if (*p == ',')
			p++;
		else if (*p)
			return -1;
	}
	return -1;
}

/* Start "scontrol show hostnames LIST": the expanded node list, one name
 * a line, on *F; reap it with done_names once F is read to its end. */
static pid_t
node_names(const char *list, FILE **f)
{
	char *argv[] = { (char *)"scontrol", (char *)"show", (char *)"hostnames",
		(char *)list, NULL };
	struct proc_spec sp;
	int p[2], eerr;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		err_die(EXIT_TOOL, "pipe");
	proc_spec_init(&sp, argv);
	sp.fd[1] = p[1];
	pid = proc_spawn(&sp, &eerr);
	close(p[1]);
	if (pid < 0 || eerr) {
		if (eerr)
			errno = eerr;
		err_die(EXIT_TOOL, "--slurm: scontrol");
	}
	if ((*f = fdopen(p[0], "r")) == NULL)
		nomem();
	return pid;
}

static void
done_names(pid_t pid, FILE *f, const char *list)
{
	int ws;

	fclose(f);
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			err_die(EXIT_TOOL, "--slurm: wait for scontrol");
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
		err_diex(EXIT_TOOL, "--slurm: scontrol show hostnames %s "
		    "failed", list);
}

long
slurm_setup(const struct conf *c)
{
	const char *job = getenv("SLURM_JOB_ID");
	const char *list = getenv("SLURM_JOB_NODELIST");
	const char *cpn = getenv("SLURM_JOB_CPUS_PER_NODE");
	const char *nt = getenv("SLURM_NTASKS");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long i = 0, total = 0, cpus = c->slurm_cpus;
	FILE *f;
	pid_t pid;

	if (job == NULL || *job == '\0')
		err_diex(EXIT_TOOL, "--slurm: not inside a Slurm allocation "
		    "(SLURM_JOB_ID is not set); run pool in salloc or sbatch");
	if (list == NULL || cpn == NULL)
		err_diex(EXIT_TOOL, "--slurm: SLURM_JOB_NODELIST and "
		    "SLURM_JOB_CPUS_PER_NODE must be set in an allocation");
	if (proc_resolve("srun", srun_path, sizeof srun_path) != 0)
		err_diex(EXIT_TOOL, "--slurm: srun not found in PATH");
	if (cpus == 0) {
		const char *cpt = getenv("SLURM_CPUS_PER_TASK");
		cpus = cpt ? strtol(cpt, NULL, 10) : 1;
		if (cpus < 1)
			cpus = 1;
	}
	snprintf(cpus_arg, sizeof cpus_arg, "%ld", cpus);
	pid = node_names(list, &f);
	while ((n = getline(&line, &cap, f)) > 0) {
		long k;
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		k = cpus_of(cpn, i++);
		if (k < 0)
			err_diex(EXIT_TOOL, "--slurm: SLURM_JOB_CPUS_PER_NODE %s: "
			    "not a CPU count for every node", cpn);
		k /= cpus;
		if (k > 0)
			hosts_add_node(line, k);
		total += k;
	}
	free(line);
	done_names(pid, f, list);
	if (total == 0)
		err_diex(EXIT_TOOL, "--slurm-cpus %ld: no node of the allocation "
		    "has that many CPUs", cpus);
	if (nt && strtol(nt, NULL, 10) > 0 && strtol(nt, NULL, 10) < total)
		total = strtol(nt, NULL, 10);
	return total > 32768 ? 32768 : total;
}

/* The slots' records; called once the number of slots is known. */
void
slurm_slots(long slots)
{
	sj = calloc(slots, sizeof *sj);
	if (sj == NULL)
		nomem();
}

static struct sjob *
sjob_of(const struct job *j)
{
	return &sj[j->slot - 1];
}

void
slurm_wrap(struct job *j, struct launch *x, const char *node)
{
	static const char *const head[] = { "srun", "-Q", "--exact", "-N", "1",
		"-n", "1", "-c", NULL, "-w", NULL };
	struct sjob *s = sjob_of(j);
	int nhead = sizeof head / sizeof head[0], argc, k, need;

	for (argc = 0; x->argv[argc]; argc++)
		;
	need = nhead + nextra + 1 + argc + 1;
	if (s->cap < need) {
		char **v = realloc(s->argv, need * sizeof *v);
		if (v == NULL)
			nomem();
		s->argv = v;
		s->cap = need;
	}
	memcpy(s->argv, head, sizeof head);
	if (overlap)
		s->argv[2] = (char *)"--overlap";
	s->argv[8] = cpus_arg;
	s->argv[10] = (char *)node;
	k = nhead;
	if (nextra > 0)
		memcpy(s->argv + k, extra, nextra * sizeof *extra);
	k += nextra;
	s->argv[k++] = (char *)"--";
	memcpy(s->argv + k, x->argv, (argc + 1) * sizeof *x->argv);
	s->len = 0;
	s->at_start = 1;
	s->failed = 0;
	x->argv = s->argv;
	x->path = srun_path;
	/* srun cancels its step on SIGTERM; after SIGKILL that would be
	 * left to slurmstepd noticing that srun has gone. */
	x->deathsig = SIGTERM;
}

/* srun's reports of a node or a step that failed (not of the task). */
static int
failure_line(const char *p, size_t n)
{
	static const char *const said[] = {
		"srun: error: Node failure on ",
		"srun: error: Task launch for ",
		"srun: error: Unable to create step for job ",
	};
	size_t i;

	for (i = 0; i < sizeof said / sizeof said[0]; i++) {
		size_t k = strlen(said[i]);
		if (n >= k && memcmp(p, said[i], k) == 0)
			return 1;
	}
	return 0;
}

void
slurm_scan(struct job *j, const char *p, size_t n)
{
	struct sjob *s = sjob_of(j);

	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) : n, room;
		if (s->at_start)
			s->len = 0;
		room = sizeof s->line - s->len;
		memcpy(s->line + s->len, p, k < room ? k : room);
		s->len += k < room ? k : room;
		s->at_start = nl != NULL;
		if (failure_line(s->line, s->len))
			s->failed = 1;
		if (s->failed == 1 && s->len >= 28 &&
		    memcmp(s->line, "srun: error: Node failure on ", 28) == 0)
			overlap = 1;
		if (nl == NULL)
			break;
		p = nl + 1;
		n -= k + 1;
	}
}

int
slurm_failed(const struct job *j)
{
	return sjob_of(j)->failed;
}
