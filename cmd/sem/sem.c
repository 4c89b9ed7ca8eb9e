/* sem: named counting semaphores and mutexes that never leak a slot.
 *
 * A semaphore is one object file (obj.h, kind OBJ_SEM) holding a robust
 * process-shared mutex, the number of slots N, a table of N holder
 * records and a table of waiter records (semobj.c, semobj.h).
 *
 * Ownership. A holder record names its owner by pid plus process start
 * time, so a recycled pid never passes for the owner. `acquire` gives the
 * slot to its parent (the calling shell) or to --owner PID; `run` gives it
 * to the sem process itself and also records the command it starts, so
 * the slot lives exactly as long as sem run or its command, and never
 * longer: a daemon the command leaves behind has another pid and keeps
 * nothing. The command leads a process group of its own (lib/wrap):
 * signals reach the whole group, a signalled group is gone before the
 * slot is given back, and the record names the group, so that a sem run
 * killed with SIGKILL (its command then gets SIGKILL as parent-death
 * signal) keeps the slot while anything of the group still runs.
 *
 * Kinds. An owned semaphore (the default) is the above. An rw one is an
 * owned one in which a shared holder takes one slot and an exclusive
 * holder all N, by the weights below. An unowned one has no holder table:
 * a value, lowered by acquire and raised by release from anyone, within
 * its bound if it has one; nothing is reclaimed, since nobody owns it.
 *
 * Weights. A holder record holds COUNT slots (--count K, or N for an
 * exclusive holder), and a waiter record says how many it WANTs.
 *
 * Fairness. A process that finds no slot for it takes a ticket (arrival
 * order) and registers in the waiter table. A waiter may take its slots
 * only when they are free together with all that the earlier waiters
 * still waiting want; a newcomer counts every registered waiter as
 * earlier, so it can never overtake one. This is FIFO, a large request at
 * the head holds back the smaller ones behind it, and a prefix of the
 * queue can still be admitted at once.
 *
 * Hand-off. Each waiter sleeps on its own futex word in its record. Who
 * frees a slot (release, the end of a run, a reclaim, a waiter giving up)
 * bumps the words of the oldest waiters that may now proceed, as long as
 * what they want together is free, and wakes them after dropping the lock. No
 * condition variable is involved (they are not crash-safe), and the wait
 * is in the kernel, not a sleep loop.
 *
 * Crash recovery. Records are filled with the pid written last and
 * cleared with the pid written first; the counters beside the tables are
 * recomputed by whoever locks the mutex after its owner died (EOWNERDEAD).
 * A dead holder or waiter cannot announce its death, so every waiter also
 * wakes every 250 ms and, at most once per tick among all of them, scans
 * both tables for dead processes (/proc/PID/stat); their slots and tickets
 * are reclaimed and the next waiters woken. A newcomer that finds no slot
 * scans the holders at once (and the waiters too, with --nowait), so a
 * dead holder never makes --nowait fail. `value`, `stat`, `ls` and `rm`
 * scan as well, so they report only the living.
 *
 * Removal. `rm` sets a flag and unlinks the file under the lock. Anyone
 * who opened the file before sees the flag once it holds the lock and
 * opens the name again; waiters of a semaphore removed with --force fail.
 *
 * Sizes. The holder table has N records (N <= 100000), enough for every
 * slot. The waiter table has 1024 records: a process that finds it full
 * fails with 125 rather than wait outside the queue, where it could be
 * neither fair nor found when it dies. The mutex itself is not fair, but
 * it is held for microseconds and only to take a ticket or a slot, so it
 * cannot starve a process that, like every sem, takes one slot per life.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "obj.h"
#include "opt.h"
#include "proc.h"
#include "remote.h"
#include "report.h"
#include "semobj.h"
#include "wrap.h"

#define USAGE_RUN "sem run [-n N] [--reentrant | --rw] " \
	"[--count K | --shared] [--mode MODE] [--timeout DUR | --nowait] " \
	"NAME [--] CMD [ARG...]"
#define USAGE_ACQUIRE "sem acquire [-n N] [--reentrant | --rw] " \
	"[--count K | --shared] [--mode MODE] [--timeout DUR | --nowait] " \
	"[--owner PID] NAME"
#define USAGE_RELEASE "sem release [--count K] [--owner PID] NAME"
#define USAGE_CREATE "sem create [-n N | --unbounded] " \
	"[--reentrant | --rw | --unowned [--value V]] [--mode MODE] NAME"
#define USAGE_VALUE "sem value NAME"
#define USAGE_STAT "sem stat [--json] NAME"
#define USAGE_LS "sem ls [--json] [--header]"
#define USAGE_RM "sem rm [--force] NAME..."

static const char help_text[] =
	"usage: " USAGE_RUN "\n"
	"       " USAGE_ACQUIRE "\n"
	"       " USAGE_RELEASE "\n"
	"       " USAGE_CREATE "\n"
	"       " USAGE_VALUE "\n"
	"       " USAGE_STAT "\n"
	"       " USAGE_LS "\n"
	"       " USAGE_RM "\n"
	"Named counting semaphores; a slot held by a dead process is reclaimed.\n"
	"  run        take a slot, run CMD, release it when CMD ends; exit with CMD's status\n"
	"  acquire    take a slot for the calling process (or --owner PID)\n"
	"  release    give back the last slot(s) taken by the calling process (or\n"
	"             --owner PID); unowned: add a permit, from any process\n"
	"  create     create the semaphore if missing\n"
	"  value      print the number of free slots\n"
	"  stat       print the slots, free slots, waiters and every holder\n"
	"  ls         list the semaphores: name, slots, free, waiters\n"
	"  rm         remove semaphores that nobody holds or waits for\n"
	"  -n, --slots N      slots of a new semaphore (default 1: a mutex)\n"
	"  -r, --reentrant    a new semaphore counts re-acquisition by a holder\n"
	"      --unowned      a new semaphore's permits belong to nobody: acquire\n"
	"                     takes one, release by anyone adds one (-n N: bound)\n"
	"      --unbounded    an unowned semaphore without a bound (the default)\n"
	"      --value V      start value of a new unowned semaphore (default: N, or 1)\n"
	"      --rw           a new semaphore is shared/exclusive: up to N shared\n"
	"                     holders (default 1024) or one exclusive holder\n"
	"  -s, --shared       take a shared slot of an rw semaphore (default:\n"
	"                     exclusive); a missing one is created --rw\n"
	"  -c, --count K      take, or give back, K slots (permits) at once\n"
	"  -m, --mode MODE    permission bits of a new semaphore (default 0600)\n"
	"      --json         stat, ls: print JSON\n"
	"      --header       ls: print the column names first\n"
	"  -t, --timeout DUR  give up waiting after DUR (status 124)\n"
	"  -w, --nowait       do not wait for a slot (status 75)\n"
	"  -o, --owner PID    the process the slot belongs to (default: the caller)\n"
	"  -f, --force        rm: remove even while held or waited for\n"
	"  -H, --host HOST    (before the command) run it on HOST over ssh;\n"
	"      --remote-path PATH  the program there (default: in its PATH)\n"
	"  -h, --help         show this help\n"
	"      --version      show the version\n"
	"Exit: 0 done; 1 rm refused (busy), or release above an unowned bound;\n"
	"75 no slot with --nowait; 124 timed out; 125 error;\n"
	"run: CMD's status (126/127 cannot run it).\n";

static const struct cli cli_main = { "sem COMMAND [OPTIONS] [ARG...]", help_text };
static const struct cli cli_run = { USAGE_RUN, help_text };
static const struct cli cli_acquire = { USAGE_ACQUIRE, help_text };
static const struct cli cli_release = { USAGE_RELEASE, help_text };
static const struct cli cli_create = { USAGE_CREATE, help_text };
static const struct cli cli_value = { USAGE_VALUE, help_text };
static const struct cli cli_stat = { USAGE_STAT, help_text };
static const struct cli cli_ls = { USAGE_LS, help_text };
static const struct cli cli_rm = { USAGE_RM, help_text };

/* The letters of long-only options are not in the short option string. */
enum { OPT_SLOTS = 'n', OPT_REENTRANT = 'r', OPT_MODE = 'm',
	OPT_TIMEOUT = 't', OPT_NOWAIT = 'w', OPT_OWNER = 'o', OPT_FORCE = 'f',
	OPT_COUNT = 'c', OPT_UNOWNED = 'U', OPT_UNBOUNDED = 'B',
	OPT_VALUE = 'V', OPT_RW = 'R', OPT_SHARED = 's' };

static const struct option longopts[] = {
	{ "slots", required_argument, 0, OPT_SLOTS },
	{ "reentrant", no_argument, 0, OPT_REENTRANT },
	{ "mode", required_argument, 0, OPT_MODE },
	{ "timeout", required_argument, 0, OPT_TIMEOUT },
	{ "nowait", no_argument, 0, OPT_NOWAIT },
	{ "owner", required_argument, 0, OPT_OWNER },
	{ "force", no_argument, 0, OPT_FORCE },
	{ "count", required_argument, 0, OPT_COUNT },
	{ "unowned", no_argument, 0, OPT_UNOWNED },
	{ "unbounded", no_argument, 0, OPT_UNBOUNDED },
	{ "value", required_argument, 0, OPT_VALUE },
	{ "rw", no_argument, 0, OPT_RW },
	{ "shared", no_argument, 0, OPT_SHARED },
	CLI_STD_OPTIONS,
	{ 0, 0, 0, 0 }
};

/* What the options of a subcommand said. */
struct args {
	struct sem_params p;
	int64_t timeout;      /* ns, -1: none */
	int nowait;
	pid_t owner;          /* 0: the default */
	int force;
	uint32_t count;       /* --count; 0: not given */
	int shared;
	char **rest;          /* operands */
	int nrest;
};

/* The signal that asks us to stop waiting. */
static volatile sig_atomic_t stop_sig;

static const char *
long_name(int c)
{
	const struct option *o;

	for (o = longopts; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

/* The options that choose the kind of a new semaphore must agree. */
static void
check_kind(const struct args *a, const struct cli *cli)
{
	uint32_t f = a->p.flags;

	if ((f & SEM_UNOWNED) && (f & SEM_REENTRANT))
		cli_usage_error(cli, "--unowned and --reentrant exclude each other");
	if ((f & SEM_UNOWNED) && (f & SEM_RW))
		cli_usage_error(cli, "--unowned and --rw exclude each other");
	if ((f & SEM_RW) && (f & SEM_REENTRANT))
		cli_usage_error(cli, "--%s and --reentrant exclude each other",
		    a->shared ? "shared" : "rw");
	if (a->shared && a->count)
		cli_usage_error(cli, "--count and --shared exclude each other");
	if (a->count > 1 && a->p.slots && a->count > a->p.slots)
		cli_usage_error(cli, "--count %u: more than -n %u", a->count,
		    a->p.slots);
	if ((f & SEM_UNBOUNDED) && !(f & SEM_UNOWNED))
		cli_usage_error(cli, "--unbounded is for --unowned semaphores");
	if ((f & SEM_UNBOUNDED) && a->p.slots)
		cli_usage_error(cli, "-n and --unbounded exclude each other");
	if (a->p.value >= 0 && !(f & SEM_UNOWNED))
		cli_usage_error(cli, "--value is for --unowned semaphores");
	if (a->p.value >= 0 && a->p.slots && a->p.value > a->p.slots)
		cli_usage_error(cli, "--value %lld: more than the bound %u",
		    (long long)a->p.value, a->p.slots);
}

/* Parse the options of subcommand argv[0]; ALLOWED lists the letters of
 * the options it takes. */
static void
parse(int argc, char **argv, const char *allowed, const struct cli *cli,
    struct args *a)
{
	int c, timeout_given = 0;

	memset(a, 0, sizeof *a);
	a->timeout = -1;
	cli_reset();
	a->p.value = -1;
	while ((c = cli_next(argc, argv, "n:rm:t:wo:fc:s", longopts, cli)) != -1) {
		if (strchr(allowed, c) == NULL)
			cli_usage_error(cli, "option '--%s' is not for 'sem %s'",
			    long_name(c), argv[0]);
		switch (c) {
		case OPT_SLOTS:
			a->p.slots = opt_count("-n", optarg, 1, SEM_SLOTS_MAX);
			break;
		case OPT_REENTRANT:
			a->p.flags |= SEM_REENTRANT;
			break;
		case OPT_MODE:
			a->p.mode = opt_mode("--mode", optarg);
			break;
		case OPT_TIMEOUT:
			a->timeout = opt_duration("--timeout", optarg);
			timeout_given = 1;
			break;
		case OPT_NOWAIT:
			a->nowait = 1;
			break;
		case OPT_OWNER:
			a->owner = opt_count("--owner", optarg, 1, INT32_MAX);
			break;
		case OPT_FORCE:
			a->force = 1;
			break;
		case OPT_COUNT:
			a->count = opt_count("--count", optarg, 1,
			    SEM_COUNT_MAX);
			break;
		case OPT_UNOWNED:
			a->p.flags |= SEM_UNOWNED;
			break;
		case OPT_UNBOUNDED:
			a->p.flags |= SEM_UNBOUNDED;
			break;
		case OPT_RW:
			a->p.flags |= SEM_RW;
			break;
		case OPT_SHARED:
			a->shared = 1;
			a->p.flags |= SEM_RW;
			break;
		case OPT_VALUE:
			a->p.value = opt_count("--value", optarg, 0,
			    (long long)SEM_VAL_MAX);
			break;
		}
	}
	if (timeout_given && a->nowait)
		cli_usage_error(cli, "--timeout and --nowait exclude each other");
	check_kind(a, cli);
	a->rest = argv + optind;
	a->nrest = argc - optind;
}

/* Exactly one operand, NAME. */
static const char *
one_name(const struct args *a, const struct cli *cli)
{
	if (a->nrest < 1)
		cli_usage_error(cli, "missing NAME");
	if (a->nrest > 1) {
		cli_after_name(cli, a->rest[1]);
		cli_usage_error(cli, "unexpected operand '%s'", a->rest[1]);
	}
	return a->rest[0];
}

static void
on_signal(int sig)
{
	stop_sig = sig;
}

/* No SA_RESTART: a signal must interrupt the futex wait. */
static void
catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (!proc_sig_kept(sigs[i]))
			sigaction(sigs[i], &sa, NULL);
}

/* The owner of an acquire or release: --owner PID or our parent. */
static void
owner_of(const struct args *a, struct obj_owner *ow)
{
	pid_t pid = a->owner ? a->owner : getppid();

	/* An owner that has exited (a zombie) would be reclaimed at once:
	 * refuse it as one that does not exist. */
	if (obj_owner_of(ow, pid) < 0)
		err_diex(EXIT_TOOL, "owner %ld: %s", (long)pid,
		    kill(pid, 0) == 0 ? "has exited (a zombie)" :
		    "no such process");
}

/* The command name of PID, as /proc/PID/comm has it. */
static void
read_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/* Open NAME (creating it as A says) and take a slot; the name is opened
 * again if the semaphore is removed under us. RUN: for sem run, which an
 * unowned semaphore is not for. */
static int
take(struct sem *m, const char *name, const struct args *a,
    const struct sem_req *r, int *slot, int run)
{
	int rc, tries;

	for (tries = 0; tries < 100; tries++) {
		/* A semaphore made without -n would have 1 slot, too few
		 * for --count K: only an existing one is used then. */
		if (semobj_open(m, name, a->count > 1 && a->p.slots == 0 ?
		    NULL : &a->p) < 0)
			return EXIT_TOOL;
		if ((m->kind & SEM_UNOWNED) && (run || a->owner)) {
			err_warnx("%s: %s: not for an unowned semaphore (its "
			    "permits belong to nobody)", name,
			    run ? "sem run" : "--owner");
			semobj_close(m);
			return EXIT_TOOL;
		}
		rc = semobj_take(m, r, slot);
		if (rc != SEM_GONE)
			return rc;
		semobj_close(m);
	}
	err_warnx("%s: keeps being removed", name);
	return EXIT_TOOL;
}

static void
init_req(struct sem_req *r, const struct args *a)
{
	memset(r, 0, sizeof *r);
	r->count = a->count;
	r->shared = a->shared;
	r->nowait = a->nowait;
	r->deadline = opt_deadline(semobj_now(), a->timeout);
	r->stop = &stop_sig;
}

static int
cmd_run(int argc, char **argv)
{
	struct args a;
	struct sem m;
	struct sem_req r;
	struct proc_spec sp;
	static sigjmp_buf bus;
	static volatile int bad;
	char path[PATH_MAX], **cmd;
	const char *name, *base;
	int rc, slot, e;
	pid_t pid;

	parse(argc, argv, "nrmtwcRs", &cli_run, &a);
	if (a.nrest < 1)
		cli_usage_error(&cli_run, "missing NAME");
	name = a.rest[0];
	cmd = a.rest + 1;
	if (*cmd && strcmp(*cmd, "--") == 0)
		cmd++;
	else if (*cmd)
		cli_after_name(&cli_run, *cmd);
	if (*cmd == NULL)
		cli_usage_error(&cli_run, "missing CMD");
	/* Find the command before waiting for a slot it could not use. */
	if ((e = proc_resolve(cmd[0], path, sizeof path)) != 0) {
		errno = e;
		err_warn("%s", cmd[0]);
		return proc_exec_status(e);
	}
	catch_signals();
	init_req(&r, &a);
	(void)obj_owner_of(&r.owner, getpid()); /* we run */
	r.self = r.owner;
	base = strrchr(cmd[0], '/');
	r.comm = base ? base + 1 : cmd[0];
	if ((rc = take(&m, name, &a, &r, &slot, 1)) != 0)
		return rc;

	/* The command leads a process group of its own, which gets the
	 * terminal if we have it; signals reach the whole group, and the
	 * slot is given back only when a signalled group is gone (wrap.h).
	 * Killed with SIGKILL, we cannot clean up: the record names the
	 * group, and the slot stays taken while any of it runs. */
	proc_spec_init(&sp, cmd);
	sp.path = path;
	sp.pdeathsig = SIGKILL;
	pid = wrap_start(&sp, &e, stop_sig);
	if (pid < 0) {
		err_warn("%s: start", cmd[0]);
		semobj_give(&m, &r.owner, slot);
		return EXIT_TOOL;
	}
	if (e != 0) {
		errno = e;
		err_warn("%s", cmd[0]);
	} else if (sigsetjmp(bus, 1) == 0) {
		/* The command may damage the file before we note it (it
		 * did, on a loaded machine): we still wait for it, and its
		 * status still passes through. */
		obj_bus_jump(&bus);
		semobj_set_child(&m, slot, pid);
	} else {
		/* The fault may have come with the lock held: the object
		 * is not touched again. */
		bad = 1;
	}
	obj_bus_jump(NULL);
	rc = wrap_wait(NULL);
	if (bad) {
		err_warnx("%s: damaged (file truncated while in use)", name);
		return rc;
	}
	/* The semaphore file truncated under us (SIGBUS) must not hide the
	 * command's status: the give below reports it damaged and ends
	 * with RC. */
	obj_bus_status(rc);
	semobj_give(&m, &r.owner, slot);
	return rc;
}

static int
cmd_acquire(int argc, char **argv)
{
	struct args a;
	struct sem m;
	struct sem_req r;
	char comm[SEM_COMM];
	const char *name;
	int slot;

	parse(argc, argv, "nrmtwocRs", &cli_acquire, &a);
	name = one_name(&a, &cli_acquire);
	init_req(&r, &a);
	owner_of(&a, &r.owner);
	(void)obj_owner_of(&r.self, getpid());
	read_comm(r.owner.pid, comm, sizeof comm);
	r.comm = comm;
	catch_signals();
	return take(&m, name, &a, &r, &slot, 0);
}

/* Give back N slots (--count) or the most recent acquisition of OW. */
static int
give(struct sem *m, const struct args *a, struct obj_owner *ow, uint32_t n)
{
	return a->count ? semobj_give_count(m, ow, n) : semobj_give(m, ow, -1);
}

static int
cmd_release(int argc, char **argv)
{
	struct args a;
	struct sem m;
	struct obj_owner ow, self;
	const char *name;

	uint32_t n;
	int rc;

	parse(argc, argv, "oc", &cli_release, &a);
	name = one_name(&a, &cli_release);
	if (semobj_open(&m, name, NULL) < 0)
		return EXIT_TOOL;
	n = a.count ? a.count : 1;
	if (m.kind & SEM_UNOWNED) {
		/* Anyone may release: the permits belong to nobody. */
		if (a.owner)
			err_diex(EXIT_TOOL, "%s: --owner: not for an unowned "
			    "semaphore (its permits belong to nobody)", name);
		if ((rc = semobj_post(&m, n)) == 1) {
			err_warnx("%s: release refused: the value would pass "
			    "its bound of %u", name, m.slots);
			return EXIT_NO;
		}
		if (rc < 0)
			err_diex(EXIT_TOOL, "%s: release refused: the value "
			    "would pass %llu", name,
			    (unsigned long long)SEM_VAL_MAX);
		return 0;
	}
	owner_of(&a, &ow);
	if (a.count && (m.kind & (SEM_RW | SEM_REENTRANT)))
		err_diex(EXIT_TOOL, "%s: --count: not for a%s semaphore", name,
		    (m.kind & SEM_RW) ? " shared/exclusive" : " reentrant");
	/* A shell runs its last command with exec (sh -c '...; sem release
	 * x'): then sem is itself the shell that acquired. That is tried
	 * first: a sem just started holds nothing otherwise, and the shell's
	 * parent may hold a slot of its own that is not ours to give. */
	if (!a.owner && obj_owner_of(&self, getpid()) == 0 &&
	    give(&m, &a, &self, n) == 0)
		return 0;
	if (give(&m, &a, &ow, n) == 0)
		return 0;
	if (a.count)
		err_diex(EXIT_TOOL, "%s: process %ld holds fewer than %u slots",
		    name, (long)ow.pid, n);
	err_diex(EXIT_TOOL, "%s: process %ld holds no slot", name,
	    (long)ow.pid);
}

static int
cmd_create(int argc, char **argv)
{
	struct args a;
	struct sem m;

	parse(argc, argv, "nrmUBVR", &cli_create, &a);
	return semobj_open(&m, one_name(&a, &cli_create), &a.p) < 0 ? EXIT_TOOL : 0;
}

static int
cmd_value(int argc, char **argv)
{
	struct args a;
	struct sem m;
	struct semobj_view v;

	parse(argc, argv, "", &cli_value, &a);
	if (semobj_open(&m, one_name(&a, &cli_value), NULL) < 0)
		return EXIT_TOOL;
	semobj_view(&m, &v);
	free(v.holders);
	printf("%llu\n", (unsigned long long)v.free);
	return 0;
}

static void
report_holder(struct report *r, const struct sem_holder *h)
{
	char when[32];
	struct tm tm;
	time_t t = (time_t)(h->since / 1000000000LL);

	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S",
	    localtime_r(&t, &tm));
	report_begin(r);
	report_num(r, "pid", (unsigned long long)h->owner.pid);
	if (h->child.pid != 0)
		report_num(r, "child", (unsigned long long)h->child.pid);
	else
		report_none(r, "child");
	report_num(r, "depth", h->depth);
	report_num(r, "count", h->count);
	report_str(r, "since", when);
	report_str(r, "command", h->comm[0] ? h->comm : "?");
	report_str(r, "state", proc_stopped(h->owner.pid) ||
	    (h->child.pid != 0 && proc_stopped(h->child.pid)) ?
	    "stopped" : "running");
	report_end(r);
}

/* The fields of stat and ls; with HOLDERS (stat), the holders' list. */
static void
report_sem(struct report *r, const char *name, struct sem *m, int holders)
{
	struct semobj_view v;
	uint32_t i;

	semobj_view(m, &v);
	report_begin(r);
	report_str(r, "name", name);
	report_str(r, "kind", semobj_kind_name(v.flags));
	if (v.flags & SEM_UNBOUNDED)
		report_none(r, "slots");
	else
		report_num(r, "slots", v.slots);
	report_num(r, "free", v.free);
	report_num(r, "waiters", v.nwait);
	report_bool(r, "reentrant", v.flags & SEM_REENTRANT);
	report_num(r, "holders", v.nheld);
	if (holders) {
		report_list_begin(r, "holder");
		for (i = 0; i < v.nheld; i++)
			report_holder(r, &v.holders[i]);
		report_list_end(r);
	}
	report_end(r);
	free(v.holders);
}

static int
cmd_stat(int argc, char **argv)
{
	struct report r;
	struct sem m;
	const char *name = argv[report_options(argc, argv, &cli_stat, 0, 1,
	    &r)];

	if (semobj_open(&m, name, NULL) < 0)
		return EXIT_TOOL;
	report_sem(&r, name, &m, 1);
	return 0;
}

static void
list_one(struct obj *o, void *arg)
{
	struct sem m;

	if (semobj_attach(&m, o) < 0)
		return;
	report_sem(arg, o->name, &m, 0);
}

static int
cmd_ls(int argc, char **argv)
{
	static const char *const cols[] = { "name", "kind", "slots", "free",
		"waiters", "reentrant", "holders", NULL };

	return report_ls(argc, argv, &cli_ls, &semobj_type, cols, list_one);
}

static int
cmd_rm(int argc, char **argv)
{
	struct args a;
	struct sem m;
	int i, r, rc = 0;

	parse(argc, argv, "f", &cli_rm, &a);
	if (a.nrest < 1)
		cli_usage_error(&cli_rm, "missing NAME");
	for (i = 1; i < a.nrest; i++)
		cli_after_name(&cli_rm, a.rest[i]);
	for (i = 0; i < a.nrest; i++) {
		if (semobj_open(&m, a.rest[i], NULL) < 0) {
			rc = EXIT_TOOL;
			continue;
		}
		r = semobj_remove(&m, a.force);
		if (r == 1) {
			err_warnx("%s: in use (rm --force removes it anyway)",
			    a.rest[i]);
			if (rc == 0)
				rc = EXIT_NO;
		} else if (r < 0)
			rc = EXIT_TOOL;
		semobj_close(&m);
	}
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
		{ "run", cmd_run }, { "acquire", cmd_acquire },
		{ "release", cmd_release }, { "create", cmd_create },
		{ "value", cmd_value }, { "stat", cmd_stat }, { "ls", cmd_ls },
		{ "rm", cmd_rm }, { NULL, NULL }
	};

	err_init(argv[0]);
	(void)proc_std_fds();
	optind = remote_main(argc, argv, &cli_main);
	return cli_dispatch(argc - optind, argv + optind, cmds, &cli_main);
}
