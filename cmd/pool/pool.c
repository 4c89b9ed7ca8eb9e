/* pool: run a command once per input item, at most N at a time.
 *
 * The algorithm. One event loop (lib/loop) watches the jobs' output pipes,
 * the input (only while a free slot waits for an item), the jobserver
 * (only while a ready job waits for a token) and signals (SIGCHLD reaps
 * with waitpid(-1, WNOHANG) until nothing is left). Each turn of the loop
 * first starts as many jobs as slots, input, tokens and the output window
 * allow, then writes out the output gathered so far, then sleeps in
 * epoll_wait. A job occupies its slot until it has been reaped AND both of
 * its output pipes have reached end of file, so that every byte it wrote is
 * accounted to it. A finished job is retried, logged, counted, its output
 * released (output.c) and --halt consulted, in that order.
 *
 * Slots. SIGUSR1 adds one, SIGUSR2 removes one, -j FILE is read again as
 * each job ends: only the limit on the running jobs moves. The array of
 * slots is made once for the most the run may have (want_fds), so that
 * no job moves; a removed slot takes effect as jobs end.
 *
 * Jobserver: pool owns one implicit token and holds one more per further
 * running job. A token freed by a finished job is kept if another job
 * starts in the same turn (no write and read back), and every token beyond
 * what the running jobs need is given back before the loop sleeps; an
 * atexit handler gives back the rest on every exit path. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "opt.h"
#include "pgroup.h"
#include "pool.h"
#include "proc.h"
#include "remote.h"

#define JOBS_MAX 32768
#define GRACE_DEFAULT (2 * OPT_NS_PER_SEC)
/* The most bytes of items (strings and pointers) one job takes with -n:
 * the size of the command line xargs uses by default. It also keeps {}
 * (the items joined by spaces) within the kernel's limit on one argument. */
#define ITEMS_MAX (128 * 1024 - 2048)

static const struct cli cli = {
	"pool [OPTIONS] [--] CMD [ARG...] [::: ITEM... | :::: FILE...]...",
	"usage: pool [OPTIONS] [--] CMD [ARG...] [::: ITEM... | :::: FILE...]...\n"
	"Run CMD ARG... ITEM for every item read from stdin, N at a time.\n"
	"::: A B takes the items from the command line, :::: F from files;\n"
	"several sources combine (cartesian product; :::+ and ::::+ link).\n"
	"A replacement string in an ARG puts the item there instead:\n"
	"{} item, {.} without extension, {/} basename, {//} dirname,\n"
	"{/.} basename without extension, {#} job number, {%} slot, {N} value N\n"
	"({N.} {N/} {N//} {N/.} too), {name} with --header :.\n"
	"  -j, --jobs N|FILE     run N jobs at once (or N% of the CPUs, 0 as many\n"
	"                        as possible; default: the CPUs available); FILE\n"
	"                        holds N, read again whenever a job ends\n"
	"  -n, --max-args N      up to N items per job (0: run without the item)\n"
	"  -X                    as many items as fit, each word with {} repeated\n"
	"  -0, --null            items are separated by NUL, not newline\n"
	"  -d, --delimiter C     items are separated by C ('\\t', '\\0', '\\x1e')\n"
	"  -a, --arg-file FILE   read items from FILE instead of stdin (repeatable)\n"
	"  -c, --shell           CMD is a line for sh -c; values quoted in it\n"
	"      --colsep REGEX    split each item into columns {1} {2}...\n"
	"      --header :|N      first line names the columns, or skip N lines\n"
	"  -I STR                STR stands for {}\n"
	"  -P N|FILE             the same as -j\n"
	"  -t, --verbose         print each command line on stderr first\n"
	"  -r                    accepted (pool never runs without items)\n"
	"      --dry-run         print the command lines, run nothing\n"
	"      --shuf            run the jobs in a random order (reads all first)\n"
	"      --quiet           no line for a job killed by a signal, --timeout\n"
	"                        or --halt\n"
	"      --results OUT     keep each job's output: a DIR, or a .csv, .tsv\n"
	"                        or .json file (GNU parallel's layouts)\n"
	"  -k, --keep-order      output in input order\n"
	"      --group           output each job's output in one piece at its end\n"
	"  -u, --ungroup         jobs write straight to pool's stdout and stderr\n"
	"      --tag             prefix output lines with the item and a TAB\n"
	"      --timeout DUR     kill a job that runs longer than DUR (status 124)\n"
	"      --grace DUR       wait DUR between SIGTERM and SIGKILL (default 2s)\n"
	"      --retries N       run a failed job up to N more times\n"
	"      --retry-delay DUR[,MAX]  wait DUR before a failed job's first\n"
	"                        retry, doubling up to MAX; the slot runs others\n"
	"      --delay DUR       at least DUR between the starts of two jobs\n"
	"      --load N          start a job only while fewer than N tasks are\n"
	"                        runnable (or N% of the CPUs)\n"
	"      --memfree SIZE    start a job only while SIZE of memory is\n"
	"                        available; below half, stop the youngest job\n"
	"                        and run it again later\n"
	"      --halt RULE       now|soon,fail|success|done=N (or P%), never\n"
	"      --joblog FILE     log finished jobs to FILE (GNU parallel format)\n"
	"      --resume          skip the jobs FILE has logged\n"
	"      --resume-failed   skip the jobs FILE has logged as successful\n"
	"      --bar             show progress on stderr when it is a terminal\n"
	"      --eta             the same, as GNU parallel's ETA line\n"
	"      --total N         the number of jobs, for --bar and --eta\n"
	"      --pipe            feed blocks of stdin to the jobs' stdin\n"
	"      --block SIZE      --pipe block size (default 1M)\n"
	"  -S, --sshlogin [N/]HOST[,...]  run jobs on HOSTs over ssh, N at a time\n"
	"                        on each (default: its CPU count); ':' is here\n"
	"      --sshloginfile FILE  the same, one [N/]HOST a line\n"
	"      --transfer        copy each item (a file) to the host first\n"
	"      --return PATTERN  copy the file PATTERN names back afterwards\n"
	"      --cleanup         remove the transferred and returned files there\n"
	"      --workdir DIR     run remote jobs in DIR (default: the login dir)\n"
	"      --slurm           run every job as a step of the Slurm allocation\n"
	"                        this runs in (salloc, sbatch)\n"
	"      --slurm-cpus C    CPUs per job step (default: SLURM_CPUS_PER_TASK\n"
	"                        or 1)\n"
	"      --slurm-args ARGS more srun options for every step\n"
	"  -h, --help            show this help\n"
	"      --version         show the version\n",
};

enum { O_GROUP = 0x100, O_TAG, O_TIMEOUT, O_GRACE, O_RETRIES, O_HALT,
	O_JOBLOG, O_RESUME, O_RESUME_FAILED, O_BAR, O_PIPE, O_BLOCK,
	O_SSHLOGINFILE, O_TRANSFER, O_RETURN, O_CLEANUP, O_WORKDIR,
	O_SLURM, O_SLURM_CPUS, O_SLURM_ARGS,
	O_DRY_RUN, O_COLSEP, O_HEADER, O_QUIET, O_RESULTS, O_ETA, O_TOTAL,
	O_SHUF };
enum { O_DELAY = 0x180, O_LOAD, O_RETRY_DELAY, O_MEMFREE };   /* sched.c */

static struct conf C;
static struct loop *L;
static struct job *jobs;
static struct input in;
static struct jobserver js;
static int js_on;
static long js_debt;             /* tokens of the jobserver pool serves
                                  * to take out, as slots were removed
                                  * (see change_slots) */
static int devnull = -1;
static long running;
static struct job *stage;        /* the slot gathering the next job */
static struct job *open_job;     /* --pipe: the job whose block is still
                                  * being read (from a pipe) */
static unsigned long long nextseq = 1, ndone, nfailed, nsucc;
static int input_done, halting, halt_status = -1, stopping, tool_error;
static int out_failed;
static int jobs0;                /* -j 0 */
static int terminated;           /* terminate() has signalled the jobs */
static struct job *shedding;     /* the job --memfree is stopping */

static long
cpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? n : 1;
}

/* -j 0: as many as the limits on processes (and open files, see
 * want_fds) allow, as GNU parallel does: half of ulimit -u when that is
 * the lower. */
static long
jobs_any(int say)
{
	struct rlimit rl;
	long v;

	if (getrlimit(RLIMIT_NPROC, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur / 2 < JOBS_MAX) {
		v = rl.rlim_cur / 2 > 0 ? (long)(rl.rlim_cur / 2) : 1;
		if (say)
			err_warnx("-j 0: %ld jobs at once at most (half of "
			    "ulimit -u)", v);
		return v;
	}
	if (say)
		jobs0 = 1;
	return JOBS_MAX;
}

/* The number of jobs -j S asks for: N, N% (of the CPUs, at least one
 * job) or 0. 0 and *V, or -1 and *WHY when S is none of these. SAY: this
 * is the -j operand at start (-j 0 may warn). */
static int
jobs_value(const char *s, int say, long *v, const char **why)
{
	size_t n = strlen(s);
	long long k;

	if (n > 1 && n < 32 && s[n - 1] == '%') {
		char num[32];
		memcpy(num, s, n - 1);
		num[n - 1] = '\0';
		if (opt_parse_count(num, 1, 100000, &k, why) < 0)
			return -1;
		k = cpus() * k / 100;
		*v = k < 1 ? 1 : k > JOBS_MAX ? JOBS_MAX : (long)k;
		return 0;
	}
	if (strcmp(s, "0") == 0) {
		*v = jobs_any(say);
		return 0;
	}
	if (opt_parse_count(s, 1, JOBS_MAX, &k, why) < 0)
		return -1;
	*v = (long)k;
	return 0;
}

/* -j FILE: the number of jobs is what FILE holds (a -j value, blanks
 * around it ignored), read at start and again whenever a job ends. */
static const char *jfile;
static int jfile_bad;           /* warned that FILE holds no count */

/* jfile_read: 0 and the count in *V; -1 and *WHY (errno set when FILE
 * cannot be read); -2 when FILE is empty (being written, maybe). */
static int
jfile_read(int say, long *v, const char **why)
{
	char b[64], *p, *e;
	ssize_t n;
	int fd;

	fd = open(jfile, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	do
		n = read(fd, b, sizeof b - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		*why = strerror(errno);
	close(fd);
	if (n < 0)
		return -1;
	if (n == (ssize_t)sizeof b - 1) {
		*why = "it holds no count of jobs (too long)";
		return -1;
	}
	b[n] = '\0';
	for (p = b; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
		;
	for (e = p + strlen(p); e > p && (e[-1] == ' ' || e[-1] == '\t' ||
	    e[-1] == '\n' || e[-1] == '\r'); e--)
		;
	*e = '\0';
	if (*p == '\0')
		return -2;
	if (jobs_value(p, say, v, why) < 0) {
		*why = "it holds no count of jobs (N, N% or 0)";
		return -1;
	}
	return 0;
}

/* -j N, N%, 0 or FILE. */
static long
parse_jobs(const char *s)
{
	const char *why, *why_file;
	struct stat st;
	long v;
	int r;

	jfile = NULL;
	if (jobs_value(s, 1, &v, &why) == 0)
		return v;
	/* A count is a count even if a file has its name (-j ./4). */
	if (*s == '\0' || stat(s, &st) < 0)
		err_diex(EXIT_TOOL, "-j %s: %s", s, why);
	jfile = s;
	r = jfile_read(1, &v, &why_file);
	if (r == -2)
		err_diex(EXIT_TOOL, "-j %s: the file is empty", s);
	if (r < 0)
		err_diex(EXIT_TOOL, "-j %s: %s", s, why_file);
	return v;
}

static void
parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, 0, 'j' },
		{ "max-args", required_argument, 0, 'n' },
		{ "null", no_argument, 0, '0' },
		{ "delimiter", required_argument, 0, 'd' },
		{ "arg-file", required_argument, 0, 'a' },
		{ "keep-order", no_argument, 0, 'k' },
		{ "ungroup", no_argument, 0, 'u' },
		{ "group", no_argument, 0, O_GROUP },
		{ "tag", no_argument, 0, O_TAG },
		{ "timeout", required_argument, 0, O_TIMEOUT },
		{ "grace", required_argument, 0, O_GRACE },
		{ "retries", required_argument, 0, O_RETRIES },
		{ "delay", required_argument, 0, O_DELAY },
		{ "retry-delay", required_argument, 0, O_RETRY_DELAY },
		{ "load", required_argument, 0, O_LOAD },
		{ "memfree", required_argument, 0, O_MEMFREE },
		{ "halt", required_argument, 0, O_HALT },
		{ "joblog", required_argument, 0, O_JOBLOG },
		{ "resume", no_argument, 0, O_RESUME },
		{ "resume-failed", no_argument, 0, O_RESUME_FAILED },
		{ "bar", no_argument, 0, O_BAR },
		{ "pipe", no_argument, 0, O_PIPE },
		{ "block", required_argument, 0, O_BLOCK },
		{ "sshlogin", required_argument, 0, 'S' },
		{ "sshloginfile", required_argument, 0, O_SSHLOGINFILE },
		{ "transfer", no_argument, 0, O_TRANSFER },
		{ "return", required_argument, 0, O_RETURN },
		{ "cleanup", no_argument, 0, O_CLEANUP },
		{ "workdir", required_argument, 0, O_WORKDIR },
		{ "slurm", no_argument, 0, O_SLURM },
		{ "slurm-cpus", required_argument, 0, O_SLURM_CPUS },
		{ "slurm-args", required_argument, 0, O_SLURM_ARGS },
		{ "shell", no_argument, 0, 'c' },
		{ "dry-run", no_argument, 0, O_DRY_RUN },
		{ "verbose", no_argument, 0, 't' },
		{ "no-run-if-empty", no_argument, 0, 'r' },
		{ "colsep", required_argument, 0, O_COLSEP },
		{ "header", required_argument, 0, O_HEADER },
		{ "quiet", no_argument, 0, O_QUIET },
		{ "eta", no_argument, 0, O_ETA },
		{ "shuf", no_argument, 0, O_SHUF },
		{ "total", required_argument, 0, O_TOTAL },
		{ "total-jobs", required_argument, 0, O_TOTAL },
		{ "results", required_argument, 0, O_RESULTS },
		CLI_STD_OPTIONS,
		{ 0, 0, 0, 0 }
	};
	int c, block_set = 0, slurm_set = 0, maxargs_set = 0;

	C.slots = 0;
	C.maxargs = 1;
	C.delim = '\n';
	C.grace = GRACE_DEFAULT;
	C.block = 1 << 20;
	C.total = -1;
	while ((c = cli_next(argc, argv, "j:P:n:0d:a:kuS:I:ctrX", longopts, &cli)) != -1) {
		switch (c) {
		case 'j':
		case 'P':
			C.slots = parse_jobs(optarg);
			C.slots_given = 1;
			break;
		case 'n':
			C.maxargs = (long)opt_count("-n", optarg, 0, 65536);
			maxargs_set = 1;
			break;
		case 'X': C.xctx = 1; break;
		case '0': C.delim = '\0'; break;
		case 'd': C.delim = parse_delim(optarg); break;
		case 'a': C.argfile = optarg; source_file(optarg); break;
		case 'I':
			if (*optarg == '\0')
				cli_usage_error(&cli, "-I: empty");
			C.replace = optarg;
			break;
		case 'c': C.shell = 1; break;
		case 't': C.verbose = 1; break;
		case 'r': break;    /* xargs -r: pool never runs without items */
		case O_DRY_RUN: C.dry_run = 1; break;
		case O_COLSEP: source_colsep(optarg); break;
		case O_HEADER: source_header(optarg); break;
		case O_QUIET: C.quiet = 1; break;
		case O_ETA: C.eta = 1; break;
		case O_SHUF: C.shuf = 1; source_shuf(); break;
		case O_TOTAL:
			C.total = (long long)opt_count("--total", optarg, 0,
			    (uint64_t)1 << 62);
			break;
		case O_RESULTS:
			if (*optarg == '\0')
				cli_usage_error(&cli, "--results: empty");
			C.results = optarg;
			break;
		case 'k': C.keep = 1; break;
		case 'u': C.ungroup = 1; break;
		case O_GROUP: C.group = 1; break;
		case O_TAG: C.tag = 1; break;
		case O_TIMEOUT:
			C.timeout = opt_duration("--timeout", optarg);
			/* 0 is a deadline already passed (concutils(7));
			 * C.timeout 0 means none. */
			if (C.timeout == 0)
				C.timeout = 1;
			break;
		case O_GRACE: C.grace = opt_duration("--grace", optarg); break;
		case O_RETRIES:
			C.retries = (long)opt_count("--retries", optarg, 0,
			    1000000);
			break;
		case O_DELAY: sched_delay(optarg); break;
		case O_RETRY_DELAY: sched_retry_delay(optarg); break;
		case O_LOAD: sched_load(optarg, cpus()); break;
		case O_MEMFREE: sched_memfree(optarg); break;
		case O_HALT: parse_halt(optarg, &C); break;
		case O_JOBLOG: C.joblog = optarg; break;
		case O_RESUME: C.resume = 1; break;
		case O_RESUME_FAILED: C.resume_failed = 1; break;
		case O_BAR: C.bar = 1; break;
		case O_PIPE: C.pipe = 1; break;
		case O_BLOCK:
			C.block = (size_t)opt_size("--block", optarg, 1,
			    (uint64_t)1 << 30);
			block_set = 1;
			break;
		case 'S': hosts_add(optarg, "-S"); break;
		case O_SSHLOGINFILE: hosts_add_file(optarg); break;
		case O_TRANSFER: C.transfer = 1; break;
		case O_CLEANUP: C.cleanup = 1; break;
		case O_WORKDIR:
			if (*optarg == '\0')
				cli_usage_error(&cli, "--workdir: empty");
			C.workdir = optarg;
			break;
		case O_SLURM: slurm_on = 1; break;
		case O_SLURM_CPUS:
			C.slurm_cpus = (long)opt_count("--slurm-cpus", optarg, 1,
			    65536);
			slurm_set = 1;
			break;
		case O_SLURM_ARGS: slurm_args(optarg); slurm_set = 1; break;
		case O_RETURN:
			C.returns = realloc(C.returns, (C.nreturns + 1) *
			    sizeof *C.returns);
			if (C.returns == NULL)
				err_diex(EXIT_TOOL, "out of memory");
			C.returns[C.nreturns++] = optarg;
			break;
		default:
			cli_usage_error(&cli, "unknown option");
		}
	}
	if (optind >= argc)
		cli_usage_error(&cli, "no command given");
	C.cmd = argv + optind;
	C.ncmd = source_split(C.cmd, argc - optind);
	if (C.ncmd == 0)
		cli_usage_error(&cli, "no command given");
	C.cmd[C.ncmd] = NULL;
	if (C.pipe && (source_count() > 1 || C.ncmd < argc - optind ||
	    source_colsep_on()))
		cli_usage_error(&cli, "--pipe reads stdin or one -a FILE: it "
		    "cannot be combined with :::, ::::, several -a or --colsep");
	if (C.shuf && C.pipe)
		cli_usage_error(&cli, "--shuf cannot be combined with --pipe");
	if (C.xctx && !maxargs_set)
		C.maxargs = 65536;
	if ((C.maxargs > 1 || C.xctx) && (source_count() > 1 ||
	    source_colsep_on()))
		cli_usage_error(&cli, "-n and -X cannot be combined with "
		    "several input sources or --colsep");
	if (C.xctx && C.maxargs == 0)
		cli_usage_error(&cli, "-X cannot be combined with -n 0");
	if (C.slots == 0)
		C.slots = cpus() > JOBS_MAX ? JOBS_MAX : cpus();
	if (C.ungroup && (C.keep || C.group || C.tag))
		cli_usage_error(&cli, "-u cannot be combined with -k, --group "
		    "or --tag");
	if (C.pipe && (C.maxargs != 1 || C.xctx || C.tag))
		cli_usage_error(&cli, "--pipe cannot be combined with -n, -X "
		    "or --tag");
	if (jfile && (hosts_on || slurm_on))
		cli_usage_error(&cli, "-j FILE cannot be combined with -S, "
		    "--sshloginfile or --slurm (the hosts' slots are fixed)");
	if (slurm_set && !slurm_on)
		cli_usage_error(&cli, "--slurm-cpus and --slurm-args need "
		    "--slurm");
	if (slurm_on && (hosts_on || C.transfer || C.cleanup ||
	    C.nreturns || C.workdir))
		cli_usage_error(&cli, "--slurm cannot be combined with -S, "
		    "--transfer, --return, --cleanup or --workdir (the nodes "
		    "share the file system)");
	/* srun's reports of failed nodes are read on the jobs' stderr. */
	if (slurm_on && (C.pipe || C.ungroup || C.results))
		cli_usage_error(&cli, "--slurm cannot be combined with --pipe, "
		    "-u or --results");
	if (C.results && C.pipe)
		cli_usage_error(&cli, "--results cannot be combined with --pipe");
	/* --results: the jobs write to files, not to pool. */
	if (C.results)
		C.results_keep = C.keep, C.ungroup = 1,
		C.keep = C.group = C.tag = 0;
	if (block_set && !C.pipe)
		cli_usage_error(&cli, "--block needs --pipe");
	if ((C.transfer || C.cleanup || C.nreturns || C.workdir) && !hosts_on)
		cli_usage_error(&cli, "--transfer, --return, --cleanup and "
		    "--workdir need -S or --sshloginfile");
	if (C.pipe && hosts_on)
		cli_usage_error(&cli, "--pipe cannot be combined with -S");
	if ((C.resume || C.resume_failed) && C.joblog == NULL)
		cli_usage_error(&cli, "--resume and --resume-failed need "
		    "--joblog");
}

static void
give_tokens(void)
{
	jobserver_give_all(&js);
}

static void on_token(struct loop *l, int fd, unsigned ev, void *arg);

/* Be a client of make's jobserver, or else offer one to our jobs. */
static void
setup_jobserver(void)
{
	const char *mf = getenv("MAKEFLAGS"), *why = NULL;
	char *flags = NULL;
	int r;

	r = jobserver_from_env(&js, mf, &why);
	if (r > 0) {
		js_on = 1;
	} else {
		if (r < 0)
			err_warnx("not using the make jobserver in MAKEFLAGS: "
			    "%s", why);
		if (C.slots > 1 && jobserver_serve(&js, C.slots - 1) == 0) {
			js_on = 1;
			flags = jobserver_makeflags(&js, C.slots, mf);
			if (flags == NULL)
				err_diex(EXIT_TOOL, "out of memory");
		}
	}
	env_init(flags);
	free(flags);
	if (js_on && loop_add_fd(L, js.rfd, 0, on_token, NULL) < 0)
		err_die(EXIT_TOOL, "event loop");
	atexit(give_tokens);
}

static void on_input(struct loop *l, int fd, unsigned ev, void *arg);

static void
setup_input(void)
{
	struct stat st;

	if (!source_setup(&in, C.delim))
		return;     /* every item is in memory */
	if (C.pipe)
		input_blocks(&in, C.block);
	/* epoll refuses regular files (EPERM): reading them never blocks. */
	if (fstat(in.fd, &st) == 0 && (S_ISREG(st.st_mode) ||
	    S_ISBLK(st.st_mode)))
		return;
	if (loop_add_fd(L, in.fd, LOOP_IN, on_input, NULL) == 0) {
		in.pollable = 1;
		loop_mod_fd(L, in.fd, 0);
	}
	if (C.pipe && S_ISFIFO(st.st_mode))
		fcntl(in.fd, F_SETPIPE_SZ, 1 << 20);
}

static void on_chld(struct loop *l, int signo, void *arg);
static void on_stop(struct loop *l, int signo, void *arg);
static void on_slots(struct loop *l, int signo, void *arg);
static void on_list(struct loop *l, int signo, void *arg);
static void on_tstp(struct loop *l, int signo, void *arg);

/* Each running job holds the read ends of its stdout and stderr pipes
 * (none with -u) and with --pipe the write end of its stdin: -j 1000
 * needs more than the usual soft limit of 1024 descriptors. When even the
 * hard limit is too low, run fewer jobs at once (as GNU parallel does)
 * rather than fail the jobs that find no descriptor. */
static long fds_have;       /* the limit, when it allows fewer jobs */

static long
fd_need_per_job(void)
{
	return (C.ungroup && !C.results ? 0 : 2) + (C.pipe ? 1 : 0) +
	    (C.results ? 2 : 0);
}

/* What pool holds besides the jobs' own descriptors: what is open now,
 * what setup opens after want_fds (the loop's signal pipe, the
 * jobserver's two ends, the --results table, the process-group watcher)
 * and, while a job starts, the child's ends of its pipes and --results'
 * seq file. */
#define FDS_LATER 6

static long
fd_reserve(void)
{
	return proc_fds_open() + FDS_LATER + fd_need_per_job() + 1;
}

/* The slots. The array is made once, for the most slots the run may
 * ever have (SIGUSR1, -j FILE): what the open files allow, at most
 * JOBS_MAX; with -S or --slurm, the hosts' slots (which do not change).
 * Its entries are set up as they come into use (nused never shrinks),
 * so that its untouched pages cost nothing; C.slots is the number of
 * jobs that may run at once now. The loops over the slots go up to
 * nused; jobs stay where they are, as output.c, results.c and slurm.c
 * hold pointers into the array. */
static long nslots, nused;
static long fds_lim;            /* ulimit -n, when it caps nslots */
static long fds_reserve;        /* fd_reserve() at start */

static int
slots_fixed(void)
{
	return hosts_on || slurm_on;
}

/* The soft limit on open files is raised only as far as the slots in
 * use need (a child started under a raised limit has it set back, one
 * more system call per job); the hard limit caps nslots. */
static void
want_fds(void)
{
	long per = fd_need_per_job(), need, have, fit;
	struct rlimit rl;

	nslots = slots_fixed() ? C.slots : JOBS_MAX;
	if (per == 0)
		return;
	fds_reserve = fd_reserve();
	need = fds_reserve + C.slots * per;
	have = proc_want_fds(need);
	if (slots_fixed())
		return;
	if (have >= need) {
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
		    rl.rlim_max != RLIM_INFINITY &&
		    rl.rlim_max < (rlim_t)(fds_reserve + nslots * per)) {
			fds_lim = (long)rl.rlim_max;
			nslots = (fds_lim - fds_reserve) / per;
		}
		return;
	}
	fit = (have - fds_reserve) / per;
	fds_lim = have;
	if (fit < 1) {
		/* Whether one job fits is known once everything else is
		 * open: see one_job_fits. */
		fds_have = have;
		C.slots = nslots = 1;
		return;
	}
	nslots = fit;
	err_warnx("-j %ld: only enough open files for %ld job%s at once "
	    "(ulimit -n is %ld)", jobs0 ? 0 : C.slots, fit, fit == 1 ? "" : "s",
	    have);
	C.slots = fit;
}

/* Slots 1..N come into use. */
static void
use_slots(long n)
{
	for (; nused < n; nused++) {
		jobs[nused].slot = (int)nused + 1;
		jobs[nused].fd[0] = jobs[nused].fd[1] = jobs[nused].infd = -1;
	}
	out_used(nused);
}

/* Under a tiny ulimit -n every job would fail to start ("Too many open
 * files") one after the other, consuming the whole input: say so once,
 * before reading any. A job needs both ends of each of its pipes at once,
 * until the child has its ends. */
static void
one_job_fits(long slots_asked)
{
	int fds[6], n = 0, ok = 1;
	long want = 2 * fd_need_per_job();

	if (fds_have == 0)
		return;
	while (n < want && ok)
		if ((fds[n] = fcntl(0, F_DUPFD_CLOEXEC, 3)) >= 0)
			n++;
		else
			ok = 0;
	while (n > 0)
		close(fds[--n]);
	if (!ok)
		err_diex(EXIT_TOOL, "not enough open files to run even one job "
		    "(ulimit -n is %ld)", fds_have);
	if (slots_asked > 1)
		err_warnx("-j %ld: only enough open files for 1 job at once "
		    "(ulimit -n is %ld)", slots_asked, fds_have);
}

static void
setup(void)
{
	sigset_t mine;
	long slots_asked = C.slots;
	long long total = -1;

	(void)proc_std_fds();
	signal(SIGPIPE, SIG_IGN);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0)
		err_die(EXIT_TOOL, "open /dev/null");
	L = loop_new();
	if (L == NULL)
		err_die(EXIT_TOOL, "event loop");
	/* A group that outlives its job is held only when the job was told
	 * to stop (--timeout, SIGINT, --halt now...): its members get SIGKILL
	 * when the grace period ends, as they would have if the job had
	 * lasted. */
	pgroup_init(L, C.grace, 0);
	sched_init(L);
	setup_input();
	joblog_open(&C);
	tmpl_init(&C);
	if (slurm_on) {
		long n = slurm_setup(&C);
		hosts_setup(&C, L);
		if (!C.slots_given || C.slots > n)
			C.slots = n;
	} else if (hosts_on)
		C.slots = hosts_setup(&C, L);
	want_fds();
	if (slurm_on)
		slurm_slots(C.slots);
	jobs = calloc(nslots, sizeof *jobs);
	if (jobs == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	out_init(&C, L, jobs, C.slots);
	use_slots(C.slots);
	if (C.results)
		results_open(&C, nslots);
	setup_jobserver();
	if (loop_add_signal(L, SIGCHLD, on_chld, NULL) < 0 ||
	    loop_add_signal(L, SIGUSR1, on_slots, NULL) < 0 ||
	    loop_add_signal(L, SIGUSR2, on_slots, NULL) < 0 ||
	    loop_add_signal(L, SIGURG, on_list, NULL) < 0 ||
	    loop_add_signal(L, SIGTSTP, on_tstp, NULL) < 0)
		err_die(EXIT_TOOL, "signals");
	/* Every other signal that would end us stops the jobs first.
	 * Interrupting: a write to a reader that has stalled must not keep
	 * them from being handled (see out_init). */
	sigemptyset(&mine);
	sigaddset(&mine, SIGUSR1);
	sigaddset(&mine, SIGUSR2);
	if (loop_add_stop_signals(L, &mine, on_stop, NULL) < 0)
		err_die(EXIT_TOOL, "signals");
	one_job_fits(slots_asked);
	if (C.total >= 0)
		total = C.total;
	else if ((C.bar || C.eta) && !C.pipe)
		total = C.xctx ? -1 : source_total(C.maxargs ? C.maxargs : 1,
		    input_count(&in));
	progress_init(C.bar, C.eta, total);
}

/* Ask every job to stop with SIG; SIGKILL after the grace period. With
 * --slurm a job is srun, which takes a single SIGINT as a request to
 * report the step's state: any request to stop is SIGTERM, on which srun
 * cancels the step. */
static void
terminate(int sig)
{
	terminated = 1;
	pgroup_stop_all(slurm_on ? SIGTERM : sig);
}

static void
check_halt(int status)
{
	int hit;

	if (halting || C.halt_when == HALT_NEVER)
		return;
	if (C.halt_pct)
		/* A percentage of the jobs done so far, judged from the
		 * third one on, so that one early job does not decide. */
		hit = ndone >= 3 && (C.halt_on == HALT_FAIL ?
		    status != 0 && nfailed * 100 >= (unsigned long long)C.halt_n * ndone :
		    status == 0 && nsucc * 100 >= (unsigned long long)C.halt_n * ndone);
	else
		hit = C.halt_on == HALT_FAIL ? status != 0 && nfailed >= (unsigned long long)C.halt_n :
		    C.halt_on == HALT_SUCCESS ? status == 0 && nsucc >= (unsigned long long)C.halt_n :
		    ndone >= (unsigned long long)C.halt_n;
	if (!hit)
		return;
	halting = 1;
	halt_status = status;
	if (C.halt_when == HALT_NOW)
		terminate(SIGTERM);
}

/* Every change of a job's state goes through here (see enum job_state),
 * and so does the count of the slots in use. */
static void
set_state(struct job *j, enum job_state to)
{
	static const unsigned char allowed[4][4] = {
		[JOB_FREE] = { [JOB_RUNNING] = 1 },
		[JOB_AWAIT] = { [JOB_RUNNING] = 1, [JOB_REAPED] = 1 },
		[JOB_RUNNING] = { [JOB_REAPED] = 1 },
		[JOB_REAPED] = { [JOB_FREE] = 1, [JOB_RUNNING] = 1,
			[JOB_AWAIT] = 1 },
	};

	if (!allowed[j->state][to])
		abort();
	if (j->state == JOB_FREE)
		running++;
	else if (to == JOB_FREE)
		running--;
	j->state = to;
}

static void attempt(struct job *j);
static void jfile_reread(void);
static void print_command(struct job *j, int fd);

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One line on stderr for a job that did not end by itself, as xargs
 * says: killed by a signal, or stopped by --timeout or --halt. A signal
 * that stops pool itself says enough. */
static void
why_killed(const struct job *j)
{
	struct buf b = { 0 };
	char head[200], num[48];
	int i, n, sig;

	if (stopping || j->pid <= 0)
		return;
	if (j->timedout)
		n = snprintf(head, sizeof head, "timed out after %.3gs",
		    (double)C.timeout / 1e9);
	else if (terminated && halting)
		n = snprintf(head, sizeof head, "stopped by --halt");
	else if (WIFSIGNALED(j->wstatus) && WTERMSIG(j->wstatus) != SIGPIPE) {
		sig = WTERMSIG(j->wstatus);
		n = snprintf(head, sizeof head, "killed by signal %d (%s)",
		    sig, strsignal(sig));
	} else
		/* SIGPIPE: the job wrote to a reader that went away, as
		 * happens when pool's own reader goes (pool then exits 141,
		 * which says it once). */
		return;
	i = snprintf(num, sizeof num, "pool: job %llu (", j->seq);
	buf_add(&b, num, i);
	/* The values, at most 80 bytes of them, control characters shown
	 * as '?' so that the line stays one line. */
	for (i = 0; i < j->nitems && b.len < 100; i++) {
		const char *v = j->items.p + j->ioff[i];
		size_t k, m = strlen(v);
		if (i > 0)
			buf_add(&b, " ", 1);
		for (k = 0; k < m && k < 80; k++)
			buf_add(&b, (unsigned char)v[k] < 0x20 ? "?" : v + k, 1);
		if (m > 80)
			buf_add(&b, "...", 3);
	}
	buf_add(&b, "): ", 3);
	buf_add(&b, head, n);
	buf_add(&b, "\n", 1);
	if (!C.ungroup)
		mux_out_flush(&out_std[1]);
	progress_clear();
	(void)write_all(2, b.p, b.len);
	buf_free(&b);
}

/* J waits WAIT ns to run again (--retry-delay, --memfree) out of its
 * slot, which is free from now on. */
static void
park(struct job *j, int64_t wait)
{
	struct job *p;

	set_state(j, JOB_FREE);
	p = sched_park(j, wait);
	if (open_job == j)
		open_job = p;
}

/* The lowest number of a job started and not finished, J aside (a job
 * waiting out --retry-delay out of its slot included). */
static unsigned long long
oldest_running(const struct job *j)
{
	unsigned long long m = sched_parked_oldest();   /* or none */
	long i;

	for (i = 0; i < nused; i++)
		if (&jobs[i] != j && jobs[i].state != JOB_FREE &&
		    jobs[i].seq < m)
			m = jobs[i].seq;
	return m;
}

/* The job has exited and its output pipes are closed. */
static void
complete(struct job *j)
{
	int64_t now = loop_now();
	int status;

	if (j->timer) {
		loop_del_timer(L, j->timer);
		j->timer = NULL;
	}
	status = j->timedout ? EXIT_TIMEOUT : proc_status(j->wstatus);
	/* --memfree stopped it: it runs again later, and that is neither a
	 * failure nor a retry. */
	if (j == shedding) {
		shedding = NULL;
		if (!terminated) {
			if (j->host)
				(void)hosts_job_ended(j, status, 0);
			out_job_retry(j);
			park(j, 0);
			return;
		}
	}
	/* A job whose host's connection failed runs again elsewhere. */
	if (j->host && hosts_job_ended(j, status, !j->timedout &&
	    !terminated)) {
		out_job_retry(j);
		set_state(j, JOB_AWAIT);
		return;
	}
	if (status != 0 && j->tries < C.retries && !stopping && !halting) {
		j->tries++;
		out_job_retry(j);
		if (sched_retry_on) {
			park(j, sched_retry_wait(j->tries));
			return;
		}
		/* To another host, preferably; or when sched.c allows. */
		if (j->host || sched_on)
			set_state(j, JOB_AWAIT);
		else
			attempt(j);
		return;
	}
	joblog_write(j, now);
	if (!C.quiet)
		why_killed(j);
	if (C.results)
		results_done(j, now, oldest_running(j));
	ndone++;
	if (status)
		nfailed++;
	else
		nsucc++;
	out_job_done(j);
	j->pid = 0;
	set_state(j, JOB_FREE);
	check_halt(status);
	if (jfile)
		jfile_reread();
	progress_update(ndone, nfailed, (unsigned long long)running, 0);
}

static void
check_complete(struct job *j)
{
	if (j->state == JOB_REAPED && j->fd[0] < 0 && j->fd[1] < 0) {
		pgroup_leader_gone(&j->grp, 1);
		complete(j);
	}
}

/* J did not run after all (it could not be started, or no host is left
 * for it): it ends as if its process had exited with STATUS. */
static void
end_unstarted(struct job *j, int status)
{
	j->pid = 0;
	j->timedout = 0;
	j->wstatus = status << 8;
	set_state(j, JOB_REAPED);
	complete(j);
}

static void
close_feed(struct job *j)
{
	loop_del_fd(L, j->infd);
	close(j->infd);
	j->infd = -1;
}

static void
on_output(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct job *j = arg;

	out_readable(j, fd == j->fd[0] ? 0 : 1);
	check_complete(j);
}

/* --pipe from a file: move the next part of the job's range into its
 * pipe. splice(2) moves page-cache pages without copying them; where the
 * file system cannot splice, the bytes are copied through a buffer. */
static ssize_t
feed_range(struct job *j, int fd)
{
	static int nosplice;
	char buf[65536];
	size_t want = j->blk.len - j->boff;
	loff_t off = j->bpos + (off_t)j->boff;
	ssize_t n;

	if (!nosplice) {
		n = splice(in.fd, &off, fd, NULL, want, SPLICE_F_NONBLOCK);
		if (n > 0 || (n < 0 && errno != EINVAL))
			return n;
		if (n == 0)
			goto shrunk;
		nosplice = 1;
	}
	n = pread(in.fd, buf, want < sizeof buf ? want : sizeof buf, off);
	if (n > 0)
		return write(fd, buf, n);
shrunk:
	/* The file is shorter than when the block was cut, or unreadable:
	 * the job gets what there was. */
	errno = EIO;
	return -1;
}

/* --pipe: write the job's block to its stdin as the pipe drains. */
static void
on_feed(struct loop *l, int fd, unsigned ev, void *arg)
{
	struct job *j = arg;
	ssize_t n;

	if (in.ranged)
		n = feed_range(j, fd);
	else
		n = write(fd, j->blk.p + j->boff, j->blk.len - j->boff);
	if (n > 0)
		j->boff += n;
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		close_feed(j);
	else if (j->boff == j->blk.len) {
		if (j->open)
			loop_mod_fd(L, fd, 0);  /* until more of it is read */
		else
			close_feed(j);
	}
}

static void
on_timeout(struct loop *l, void *arg);

static void
on_timeout(struct loop *l, void *arg)
{
	struct job *j = arg;

	j->timer = NULL;
	j->timedout = 1;
	/* Its leader may have ended, its group emptied, while what holds
	 * its output left the group (setsid): nothing to stop then. */
	if (j->grp)
		pgroup_stop(j->grp, SIGTERM);
}

static void
attempt(struct job *j)
{
	struct launch x;
	int i;

	set_state(j, JOB_RUNNING);
	j->timedout = 0;
	j->start_mono = loop_now();
	if (C.joblog || C.results) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		j->start_wall = ts.tv_sec + ts.tv_nsec / 1e9;
	}
	if (sched_on)
		sched_started(j->start_mono);
	job_build(j, &C, &x);
	if (C.verbose)
		print_command(j, 2);
	if (j->host)
		hosts_wrap(j, &x);
	if (job_start(j, &C, &x, devnull) < 0) {
		err_warn("cannot start job %llu", j->seq);
		end_unstarted(j, EXIT_TOOL);
		return;
	}
	j->grp = pgroup_add(j->pid);
	for (i = 0; i < 2; i++)
		if (j->fd[i] >= 0 &&
		    loop_add_fd(L, j->fd[i], LOOP_IN, on_output, j) < 0)
			err_die(EXIT_TOOL, "event loop");
	if (j->infd >= 0) {
		j->boff = 0;
		if (loop_add_fd(L, j->infd, LOOP_OUT, on_feed, j) < 0)
			err_die(EXIT_TOOL, "event loop");
	}
	if (C.timeout)
		j->timer = loop_add_timer(L, j->start_mono + C.timeout,
		    on_timeout, j);
}

static void
launch(struct job *j, unsigned long long seq)
{
	j->seq = seq;
	j->tries = 0;
	if (hosts_on)
		host_take(j, host_pick(NULL));
	out_job_start(j);
	attempt(j);
}

static struct job *
free_slot(void)
{
	long i;

	if (running >= C.slots)
		return NULL;    /* slots removed take effect as jobs end */
	for (i = 0; i < nused; i++)
		if (jobs[i].state == JOB_FREE && !jobs[i].open)
			return &jobs[i];
	return NULL;
}

/* Collect the next job's items (or block) into J: 1 ready; 2 ready as
 * an open block (--pipe from a pipe: the block's first records are in,
 * the rest is still to be read, see open_block); 0 wait for input; -1 no
 * more input. */
static int
gather(struct job *j)
{
	static size_t cost;     /* of the staged job's items */
	static int spread;
	int r;

	if (C.pipe) {
		/* From a pipe a job starts as soon as the first records of
		 * its block are in, and is fed the rest as it comes
		 * (open_block): the bytes pass through while still in the
		 * CPU's caches, and the job works while pool reads. */
		r = input_block(&in, &j->blk, &j->bpos, C.block);
		if (r == 0 && !in.ranged && !joblog_skip(nextseq) &&
		    input_block_sure(&in, C.block) > 0)
			return 2;
		return r;
	}
	/* A job takes -n items (one value from each source otherwise), or
	 * with -X as many as fit. */
	if (j->nitems == 0)
		cost = 0;
	while (C.maxargs <= 1 ? j->nitems == 0 : j->nitems < C.maxargs) {
		int before = j->nitems;
		r = source_next(&in, j);
		if (r == 0)
			return 0;
		if (r < 0 && C.xctx && !spread && j->nitems > 1) {
			/* -X at the end of the input: the items left are
			 * shared out among the slots, as GNU parallel does,
			 * so that they run side by side. */
			spread = 1;
			C.maxargs = (j->nitems + C.slots - 1) / C.slots;
			source_hold(j, (int)C.maxargs);
			return 1;
		}
		if (r < 0)
			return j->nitems ? 1 : -1;
		/* -n N: a job takes fewer items when more would make its
		 * command line too long, as xargs does. */
		if (C.xctx)
			cost += job_item_cost(j->items.p +
			    j->ioff[j->nitems - 1]);
		else
			cost = j->nitems * sizeof(char *) + j->items.len;
		if (before > 0 && cost > ITEMS_MAX) {
			source_unget(&in, j);
			return 1;
		}
	}
	return 1;
}

/* Before a warning while jobs run: their lines on stderr go out first,
 * and the progress line is cleared. */
static void
warn_first(void)
{
	if (!C.ungroup)
		mux_out_flush(&out_std[1]);
	progress_clear();
}

/* The jobserver pool serves (not make's) holds a token per slot but
 * pool's own: a removed slot's token is taken out of the pipe as soon
 * as one is free there (the loop watches the pipe until then), or when
 * pool gives one back. */
static void
pay_tokens(void)
{
	int r = 1;

	while (js_on && js_debt > 0 && (r = jobserver_take(&js)) > 0) {
		jobserver_drop(&js);
		js_debt--;
	}
	if (r < 0)
		js_debt = 0;    /* our own pipe: cannot happen */
	else if (js_on && js_debt > 0)
		loop_mod_fd(L, js.rfd, LOOP_IN);
}

/* The number of slots becomes N (SIGUSR1, SIGUSR2, -j FILE; FROM names
 * the cause in a warning): at least 1, and no more than the open files
 * allow (said once). A slot removed takes effect as jobs end: no running
 * job is stopped for it. */
static void
change_slots(long n, const char *from)
{
	static int capped;

	if (n > nslots) {
		if (!capped)
			warn_first();
		if (!capped && fds_lim)
			err_warnx("%s: only enough open files for %ld job%s at "
			    "once (ulimit -n is %ld)", from, nslots,
			    nslots == 1 ? "" : "s", fds_lim);
		else if (!capped)
			err_warnx("%s: at most %ld job%s at once", from, nslots,
			    nslots == 1 ? "" : "s");
		capped = 1;
		n = nslots;
	}
	if (n < 1)
		n = 1;
	if (n > C.slots && fd_need_per_job() > 0) {
		long per = fd_need_per_job();
		long have = proc_want_fds(fds_reserve + n * per);
		if (have < fds_reserve + n * per)
			n = have > fds_reserve + per ?
			    (have - fds_reserve) / per : 1;
	}
	if (js_on && js.srv[0] >= 0) {
		long d = n - C.slots;
		for (; d > 0 && js_debt > 0; d--)
			js_debt--;
		for (; d > 0; d--)
			if (jobserver_add(&js) < 0)
				break;
		if (d < 0)
			js_debt -= d;
		pay_tokens();
	}
	C.slots = n;
	if (n > nused)
		use_slots(n);
}

/* -j FILE: read it again (a job has ended). A FILE that cannot be read
 * or holds no count keeps the number of slots, with a warning until it
 * holds a count again; an empty one (being written) keeps it silently. */
static void
jfile_reread(void)
{
	const char *why;
	long v;
	int r = jfile_read(0, &v, &why);

	if (r == 0) {
		jfile_bad = 0;
		if (v != C.slots) {
			struct buf from = { 0 };
			buf_add(&from, "-j ", 3);
			buf_add(&from, jfile, strlen(jfile) + 1);
			change_slots(v, from.p);
			buf_free(&from);
		}
	} else if (r == -1 && !jfile_bad) {
		jfile_bad = 1;
		warn_first();
		err_warnx("-j %s: %s; still %ld job%s at once", jfile, why,
		    C.slots, C.slots == 1 ? "" : "s");
	}
}

/* May the next job start? 1, or 0 with the jobserver being watched. */
static int
take_token(void)
{
	int r;

	if (!js_on || js.nheld >= (size_t)running)
		return 1;
	r = jobserver_take(&js);
	if (r > 0)
		return 1;
	if (r == 0) {
		loop_mod_fd(L, js.rfd, LOOP_IN);
		return 0;
	}
	err_warn("jobserver; going on without it");
	loop_del_fd(L, js.rfd);
	js_on = 0;
	return 1;
}

static void
give_spare_tokens(void)
{
	size_t need = running > 0 ? (size_t)running - 1 : 0;

	if (js_debt)
		pay_tokens();
	while (js_on && js.nheld > need)
		if (js_debt > 0) {
			jobserver_drop(&js);
			js_debt--;
		} else
			jobserver_give(&js);
}

/* --pipe: while every slot is busy, read the next block ahead (one block
 * at most), so that a slot that frees up gets its block at once. */
static void
prefetch(void)
{
	if (!C.pipe || input_done || stopping || halting || tool_error)
		return;
	if (input_ahead(&in, C.block) == 0 && in.pollable)
		loop_mod_fd(L, in.fd, LOOP_IN);
}

/* --memfree: memory is below half of it; stop the youngest job, which
 * runs again later (see complete). */
static void
shed(void)
{
	struct job *y = NULL;
	char line[200];
	long i;
	int n;

	for (i = 0; i < nused; i++)
		if (jobs[i].state == JOB_RUNNING && jobs[i].grp &&
		    (y == NULL || jobs[i].start_mono > y->start_mono))
			y = &jobs[i];
	if (y == NULL)
		return;
	shedding = y;
	pgroup_stop(y->grp, SIGTERM);
	if (C.quiet)
		return;
	n = snprintf(line, sizeof line, "pool: job %llu: stopped, as the "
	    "memory available is below half of --memfree; it runs again "
	    "later\n", y->seq);
	if (!C.ungroup)
		mux_out_flush(&out_std[1]);
	progress_clear();
	(void)write_all(2, line, (size_t)n);
}

/* The jobs whose processes run. */
static long
nprocs(void)
{
	long i, n = 0;

	for (i = 0; i < nused; i++)
		n += jobs[i].state == JOB_RUNNING;
	return n;
}

/* The jobs that have started and not ended yet (sched_hold). */
static long
busy(void)
{
	long i, n = 0;

	for (i = 0; i < nused; i++)
		n += jobs[i].state == JOB_RUNNING || jobs[i].state == JOB_REAPED;
	return n;
}

/* Start the jobs that wait to run again: -S, on a host that has room
 * (when every host has failed, or we stop, they end with ssh's 255);
 * --delay or --load, once sched.c allows (when we stop, they end as
 * their last attempt did). */
static void
place_awaiting(void)
{
	long i;
	int alive = hosts_on ? hosts_alive() : 1;

	if (!alive)
		tool_error = 1;
	for (i = 0; i < nused; i++) {
		struct job *j = &jobs[i];
		struct host *h;
		if (j->state != JOB_AWAIT)
			continue;
		if (hosts_on && (!alive || terminated)) {
			j->host = NULL;
			end_unstarted(j, REMOTE_SSH_FAILED);
			continue;
		}
		if (terminated) {
			j->tries = C.retries;
			set_state(j, JOB_REAPED);
			complete(j);
			continue;
		}
		if (sched_hold(busy()))
			break;
		if (!hosts_on) {
			attempt(j);
			continue;
		}
		if ((h = host_pick(j->host)) == NULL)
			continue;
		host_take(j, h);
		out_job_retag(j);
		attempt(j);
	}
}

/* The parked jobs (--retry-delay, --memfree) whose wait is over go
 * back into free slots, before any new job, and run again. When pool stops (or no host is left) every one of them
 * ends at once, as its last attempt did; no job starts any more, so the
 * slot gathering the next one may take it. */
static void
unpark(void)
{
	int end = terminated || (hosts_on && !hosts_alive());
	struct host *h;
	struct job *p, *j;
	long i;

	if (end)
		stage = NULL;
	while ((p = sched_ready(end)) != NULL) {
		h = NULL;
		for (i = 0; i < nused; i++)
			if (jobs[i].state == JOB_FREE && !jobs[i].open &&
			    &jobs[i] != stage)
				break;
		if (i == nused || (!end && running >= C.slots))
			return;     /* until a slot frees up */
		j = &jobs[i];
		if (!end && (sched_hold(busy()) || (hosts_on &&
		    (h = host_pick(p->host)) == NULL) || !take_token()))
			return;
		sched_unpark(p, j);
		if (open_job == p)
			open_job = j;
		if (end) {
			/* Its host slot was given back when it failed. */
			j->host = NULL;
			j->tries = C.retries;
			set_state(j, JOB_RUNNING);
			set_state(j, JOB_REAPED);
			complete(j);
			continue;
		}
		if (h) {
			host_take(j, h);
			out_job_retag(j);
		}
		attempt(j);
	}
}

/* J starts on the part of its block read so far: its buffer is kept
 * aside and it is fed from in.buf, which holds the block until it is
 * complete (in pipe mode in.buf is never moved or grown). */
static void
open_block(struct job *j)
{
	j->own = j->blk;
	j->blk.p = in.buf;
	j->blk.cap = in.cap;
	j->blk.len = input_block_sure(&in, C.block);
	j->open = 1;
	open_job = j;
}

/* Read more of the open job's block. Returns 1 once the block is
 * complete (the input is free for the next one), else 0. */
static int
grow_open_block(void)
{
	struct job *j = open_job;
	int r = input_block(&in, &j->own, &j->bpos, C.block);

	if (r == 0) {
		j->blk.len = input_block_sure(&in, C.block);
		if (in.pollable)
			loop_mod_fd(L, in.fd, LOOP_IN);
	} else {
		/* Complete: in.buf (the block) is now j->own.p, and the
		 * slot's old buffer holds what came after the block. The
		 * input cannot end inside an open block, whose first
		 * records were read, so r is 1. */
		j->blk = j->own;
		memset(&j->own, 0, sizeof j->own);
		j->open = 0;
		open_job = NULL;
	}
	if (j->infd >= 0 && j->boff < j->blk.len)
		loop_mod_fd(L, j->infd, LOOP_OUT);
	else if (j->infd >= 0 && !j->open)
		close_feed(j);
	return r != 0;
}

/* The command line of J, on FD, for --dry-run and -t. */
static void
print_command(struct job *j, int fd)
{
	static struct buf line;

	job_command_line(j, &line);
	buf_add(&line, "\n", 1);
	if (fd == 1 && !C.ungroup) {
		mux_out_write(&out_std[0], line.p, line.len);
		return;
	}
	if (!C.ungroup)
		mux_out_flush(&out_std[1]);
	if (write_all(fd, line.p, line.len) < 0 && fd == 1) {
		err_warn("write output");
		tool_error = 1;
	}
}

/* --dry-run: the job's command line instead of the job. */
static void
dry_run(struct job *j)
{
	struct launch x;

	j->seq = nextseq;
	job_build(j, &C, &x);
	print_command(j, 1);
}

static void
start_jobs(void)
{
	if (hosts_on || sched_on)
		place_awaiting();
	if (sched_parked())
		unpark();
	/* The open block's job gets its block even while we halt. */
	if (open_job && !stopping && !tool_error && !grow_open_block())
		goto out;
	while (!input_done && !stopping && !halting && !tool_error) {
		struct job *j = stage ? stage : free_slot();
		int r;

		if (j == NULL || running >= C.slots)
			break;
		/* While more jobs wait to run again than there are
		 * slots, no new one starts, so that memory stays bounded.
		 * Nor while -k's window is full: the slot taken would
		 * wait for a job that waits for a slot. */
		if (stage == NULL && sched_parked() &&
		    (sched_parked() > (size_t)C.slots ||
		    out_window_full(nextseq)))
			break;
		if (stage == NULL) {
			j->nitems = 0;
			j->items.len = 0;
			stage = j;
		}
		r = gather(j);
		if (r == 0) {
			if (in.pollable)
				loop_mod_fd(L, in.fd, LOOP_IN);
			break;
		}
		if (r < 0) {
			stage = NULL;
			input_done = 1;
			tool_error |= in.err;
			if (C.total < 0)
				progress_total((long long)nextseq - 1);
			break;
		}
		if (joblog_skip(nextseq) || C.dry_run) {
			if (C.dry_run)
				dry_run(j);
			out_skip(nextseq++);
			j->nitems = 0;
			j->items.len = 0;
			continue;
		}
		if (out_window_full(nextseq) || (hosts_on &&
		    host_pick(NULL) == NULL) || (sched_on && sched_hold(busy())) ||
		    !take_token())
			break;
		stage = NULL;
		if (r == 2)
			open_block(j);
		launch(j, nextseq++);
		if (r == 2)
			goto out;   /* the input is the open block's for now */
	}
	prefetch();
out:
	give_spare_tokens();
}

static void
on_input(struct loop *l, int fd, unsigned ev, void *arg)
{
	loop_mod_fd(l, fd, 0);
	in.ready = 1;
}

static void
on_token(struct loop *l, int fd, unsigned ev, void *arg)
{
	/* start_jobs tries to take the token; another client may have
	 * taken it first, and then we simply wait again. */
	loop_mod_fd(l, fd, 0);
}

static void
on_chld(struct loop *l, int signo, void *arg)
{
	pid_t pid;
	int ws;
	long i;

	/* Orphans of our jobs (we are a subreaper: see pgroup) are reaped
	 * and otherwise ignored. */
	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		if (hosts_on && hosts_reaped(pid, ws))
			continue;
		for (i = 0; i < nused; i++)
			if (jobs[i].state == JOB_RUNNING &&
			    jobs[i].pid == pid)
				break;
		if (i == nused)
			continue;
		set_state(&jobs[i], JOB_REAPED);
		jobs[i].wstatus = ws;
		pgroup_leader_gone(&jobs[i].grp, 0);
		if (jobs[i].infd >= 0)
			close_feed(&jobs[i]);
		check_complete(&jobs[i]);
	}
	/* The end of an orphan (we are a subreaper) may have emptied the
	 * group of a job whose output has not ended yet. */
	for (i = 0; i < nused; i++)
		if (jobs[i].state == JOB_REAPED)
			pgroup_leader_gone(&jobs[i].grp, 0);
}

static void
on_stop(struct loop *l, int signo, void *arg)
{
	/* A second request to stop does not wait for the grace period. */
	if (stopping) {
		pgroup_kill_all();
		return;
	}
	stopping = signo;
	terminate(proc_sig_forward(signo));
}

/* SIGTSTP (^Z): stop every job's process group, then pool itself; once
 * pool is continued (fg, bg, SIGCONT), continue them. The time stopped
 * counts neither towards --timeout nor in the jobs' run times. */
static void
on_tstp(struct loop *l, int signo, void *arg)
{
	int64_t t0, d;
	long i;

	pgroup_signal_all(SIGSTOP);
	progress_clear();
	t0 = loop_now();
	kill(getpid(), SIGSTOP);
	d = loop_now() - t0;
	pgroup_signal_all(SIGCONT);
	for (i = 0; i < nused; i++) {
		struct job *j = &jobs[i];
		if (j->state != JOB_RUNNING)
			continue;
		j->start_mono += d;
		if (j->timer) {
			loop_del_timer(L, j->timer);
			j->timer = loop_add_timer(L, j->start_mono + C.timeout,
			    on_timeout, j);
		}
	}
}

/* SIGUSR1: one slot more; SIGUSR2: one fewer (as GNU xargs -P does).
 * With -S or --slurm the slots are the hosts': refused. */
static void
on_slots(struct loop *l, int signo, void *arg)
{
	const char *name = signo == SIGUSR1 ? "SIGUSR1" : "SIGUSR2";

	if (slots_fixed()) {
		warn_first();
		err_warnx("%s: the number of slots cannot change with -S or "
		    "--slurm (ignored)", name);
		return;
	}
	change_slots(C.slots + (signo == SIGUSR1 ? 1 : -1), name);
}

/* SIGURG: the number of slots, then one line per running job, on
 * stderr. */
static void
on_list(struct loop *l, int signo, void *arg)
{
	struct buf b = { 0 }, cmd = { 0 };
	int64_t now = loop_now();
	char head[160];
	long i;
	int n;

	if (!C.ungroup)
		mux_out_flush(&out_std[1]);
	n = snprintf(head, sizeof head, "pool: %ld slot%s, %ld in use\n",
	    C.slots, C.slots == 1 ? "" : "s", running);
	buf_add(&b, head, n);
	for (i = 0; i < nused; i++) {
		const struct job *j = &jobs[i];
		if (j->state == JOB_FREE)
			continue;
		n = snprintf(head, sizeof head, "pool: job %llu slot %d pid %ld "
		    "%.3fs: ", j->seq, j->slot, (long)j->pid,
		    (double)(now - j->start_mono) / 1e9);
		buf_add(&b, head, n);
		job_command_line(j, &cmd);
		buf_add(&b, cmd.p, cmd.len);
		buf_add(&b, "\n", 1);
	}
	sched_list(&b);
	if (sched_on && (n = sched_why(head, sizeof head)) > 0) {
		buf_add(&b, "pool: ", 6);
		buf_add(&b, head, n);
		buf_add(&b, "\n", 1);
	}
	if (b.len)
		(void)!write(2, b.p, b.len);
	buf_free(&b);
	buf_free(&cmd);
}

/* The reader of our standard output has gone: like a program killed by
 * SIGPIPE (status 141), but cleaning up after our jobs first. */
static void
reader_gone(void)
{
	if (!stopping)
		stopping = SIGPIPE;
	terminate(SIGTERM);
}

static void
flush_output(void)
{
	int e = out_flush();

	if (e == 0 || out_failed)
		return;
	out_failed = 1;
	if (e == ECANCELED)
		return;     /* stopping on a signal: the rest is dropped */
	if (e == EPIPE) {
		reader_gone();
		return;
	}
	errno = e;
	err_warn("write output");
	tool_error = 1;
	terminate(SIGTERM);
}

/* A pipe's writing end reports an error once its last reader has gone.
 * Watching it notices that even when nothing is written (with -u the
 * jobs write there themselves, or the jobs may print nothing at all). */
static void
on_stdout_error(struct loop *l, int fd, unsigned events, void *arg)
{
	(void)events;
	(void)arg;
	loop_del_fd(l, fd);
	out_failed = 1;
	reader_gone();
}

static void
watch_stdout(void)
{
	struct stat st;

	if (fstat(1, &st) == 0 && S_ISFIFO(st.st_mode) &&
	    loop_add_fd(L, 1, LOOP_HUP, on_stdout_error, NULL) < 0)
		err_die(EXIT_TOOL, "event loop");
}

static void
run(void)
{
	watch_stdout();
	for (;;) {
		start_jobs();
		if (running == 0 && pgroup_waiting() == 0 &&
		    sched_parked() == 0 && (input_done ||
		    stopping || halting || tool_error))
			break;
		/* --memfree: after the starts, so that its timer is armed
		 * while two jobs or more run. */
		if (sched_on && shedding == NULL && !terminated &&
		    sched_shed(nprocs()))
			shed();
		flush_output();
		if (loop_run_once(L, -1) < 0)
			err_die(EXIT_TOOL, "event loop");
	}
	flush_output();
	pgroup_release();
}

static int
finish(void)
{
	progress_update(ndone, nfailed, 0, 1);
	progress_end();
	joblog_close();
	if (C.results && results_close())
		tool_error = 1;
	jobserver_free(&js);
	if (hosts_on)
		hosts_close();
	if (stopping)
		return 128 + stopping;
	if (tool_error)
		return EXIT_TOOL;
	if (halt_status >= 0)
		return halt_status;
	return nfailed > 100 ? 101 : (int)nfailed;
}

int
main(int argc, char **argv)
{
	err_init(argv[0]);
	parse_options(argc, argv);
	setup();
	run();
	return finish();
}
