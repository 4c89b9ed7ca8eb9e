/* barrier: named barriers for processes (threading.Barrier for the shell).
 *
 * The object is one file: a robust mutex, the party count, the number
 * arrived in the current generation, a broken flag, a futex word `seq`
 * that changes on every release, break and reset, and a table of 2N
 * slots. Each slot holds a robust mutex and an outcome word.
 *
 * Arriving: under the lock, a party takes a free slot, locks the slot's
 * mutex and keeps it until it leaves, marks the slot WAITING with index
 * count++, unlocks and sleeps on `seq`. The last arrival runs --action
 * (with the lock released; newcomers wait at the door while the
 * generation is full), then, under the lock, rewrites every WAITING slot
 * to RELEASED and broadcasts `seq`. A break or reset rewrites them to
 * BROKEN or RESET instead. A party's outcome is therefore stored in its
 * own slot, which nobody else can take while its mutex is held: a party
 * that wakes late can never mistake a later generation for its own, and
 * a fast party looping on `barrier wait` simply takes another slot in
 * the next generation. 2N slots suffice: N-1 parties of the previous
 * generation may not have left yet when the N of the next arrive.
 *
 * Liveness: the kernel marks a robust mutex "owner died" when its holder
 * exits, so pthread_mutex_trylock on a party's slot tells, without any
 * /proc lookup or pid reuse worry, whether the party is still alive.
 * Every 250 ms each waiting party checks the next waiting slot after its
 * own (each party is watched by its predecessor: O(1) per party), and the
 * last arrival checks everybody before it releases. A dead party breaks
 * the barrier. A process killed while holding the object lock is
 * repaired by the next locker (see repair() in barrierobj.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "barrierobj.h"
#include "cli.h"
#include "err.h"
#include "loop.h"
#include "obj.h"
#include "opt.h"
#include "proc.h"
#include "remote.h"
#include "report.h"

#define USAGE_WAIT \
	"barrier wait [-i] [-n N] [-t DUR] [-a CMD] [--mode MODE] NAME " \
	"[-- CMD [ARG...]]"
#define USAGE_CREATE "barrier create -n N [--mode MODE] NAME"

static const char help[] =
	"usage: " USAGE_WAIT "\n"
	"       " USAGE_CREATE "\n"
	"       barrier stat [--json] NAME\n"
	"       barrier ls [--json] [--header]\n"
	"       barrier rm NAME...\n"
	"       barrier reset NAME\n"
	"       barrier abort NAME\n"
	"Make N processes wait for each other at the named barrier NAME.\n"
	"  wait     arrive at NAME and wait until N parties have arrived\n"
	"    -n, --parties N     number of parties (creates NAME if missing)\n"
	"    -t, --timeout DUR   give up after DUR, breaking the barrier\n"
	"    -a, --action CMD    the last arrival runs 'sh -c CMD' before\n"
	"                        the release; if it fails the barrier breaks\n"
	"    -i, --index         print this party's arrival index (0..N-1)\n"
	"        --mode MODE     file mode of a new barrier (octal, 600)\n"
	"    -- CMD [ARG...]     after the release, execute CMD\n"
	"  create   create NAME for N parties (-n N, --mode MODE) if missing\n"
	"  stat     print parties, waiting, generation and broken state\n"
	"  ls       list the barriers\n"
	"    --json              stat, ls: print JSON\n"
	"    --header            ls: print the column names first\n"
	"  rm       break and remove barriers\n"
	"  reset    return a barrier to a fresh state\n"
	"  abort    break a barrier\n"
	"  -H, --host HOST    (before the command) run it on HOST over ssh;\n"
	"      --remote-path PATH  the program there (default: in its PATH)\n"
	"  -h, --help     show this help\n"
	"      --version  show the version\n"
	"Exit: 0 released, 1 broken/aborted/reset, 124 timed out, 125 error.\n";

static const struct cli cli_main = {
	"barrier wait|create|stat|ls|rm|reset|abort ...", help
};

static const struct cli cli_wait = { USAGE_WAIT, help };
static const struct cli cli_create = { USAGE_CREATE, help };
static const struct cli cli_stat = { "barrier stat [--json] NAME", help };
static const struct cli cli_ls = { "barrier ls [--json] [--header]", help };
static const struct cli cli_rm = { "barrier rm NAME...", help };
static const struct cli cli_resetcmd = { "barrier reset NAME", help };
static const struct cli cli_abort = { "barrier abort NAME", help };

struct wait_opts {
	uint32_t parties;
	int64_t timeout;   /* ns, -1: none */
	const char *action;
	int index;
	unsigned mode;
	const char *name;
	char **cmd;        /* NULL: none */
	char path[PATH_MAX]; /* where CMD was found */
};

/* Parse the options and operands of wait or create (CLI says which). */
static void
parse_wait(int argc, char **argv, const struct cli *cli, struct wait_opts *w)
{
	static const struct option longopts[] = {
		{ "parties", required_argument, 0, 'n' },
		{ "timeout", required_argument, 0, 't' },
		{ "action", required_argument, 0, 'a' },
		{ "index", no_argument, 0, 'i' },
		{ "mode", required_argument, 0, 'm' },
		CLI_STD_OPTIONS, { 0 }
	};
	int c;

	memset(w, 0, sizeof *w);
	w->timeout = -1;
	cli_reset();
	while ((c = cli_next(argc, argv, "n:t:a:i", longopts, cli)) != -1) {
		if (cli == &cli_create && c != 'n' && c != 'm')
			cli_usage_error(cli, "option '%s' is not for "
			    "'barrier create'", argv[optind - 1]);
		switch (c) {
		case 'n':
			w->parties = opt_count("-n", optarg, 1,
			    BAR_PARTIES_MAX);
			break;
		case 't':
			w->timeout = opt_duration("--timeout", optarg);
			break;
		case 'a':
			w->action = optarg;
			break;
		case 'i':
			w->index = 1;
			break;
		case 'm':
			w->mode = opt_mode("--mode", optarg);
			break;
		}
	}
	if (optind >= argc)
		cli_usage_error(cli, "missing barrier name");
	w->name = argv[optind++];
	if (optind < argc) {
		cli_after_name(cli, argv[optind]);
		if (cli == &cli_create)
			cli_usage_error(cli, "unexpected operand '%s'",
			    argv[optind]);
		if (strcmp(argv[optind], "--") != 0)
			cli_usage_error(cli, "unexpected '%s' (put '--' "
			    "before a command)", argv[optind]);
		if (++optind >= argc)
			cli_usage_error(cli, "missing command after '--'");
		w->cmd = argv + optind;
	}
}

/* After the release: print the index, then become CMD if there is one. */
static int
released(const struct wait_opts *w, uint32_t index)
{
	char buf[16];

	if (w->index) {
		printf("%u\n", index);
		if (fflush(stdout) != 0)
			err_die(EXIT_TOOL, "write index");
	}
	if (w->cmd == NULL)
		return 0;
	snprintf(buf, sizeof buf, "%u", index);
	setenv("BARRIER_INDEX", buf, 1);
	execv(w->path, w->cmd);
	err_warn("%s", w->cmd[0]);
	return proc_exec_status(errno);
}

static int
cmd_wait(int argc, char **argv)
{
	struct wait_opts w;
	struct barobj_req req = { -1, NULL };
	struct barobj_res res;
	struct obj o;
	struct barobj *b;
	int r;

	parse_wait(argc, argv, &cli_wait, &w);
	/* Find the command before arriving: a party that could not run it
	 * must not count for the others (127/126 at once). */
	if (w.cmd && (r = proc_resolve(w.cmd[0], w.path, sizeof w.path))) {
		errno = r;
		err_warn("%s", w.cmd[0]);
		return proc_exec_status(r);
	}
	req.deadline = opt_deadline(loop_now(), w.timeout);
	req.action = w.action;
	if ((b = barobj_open(&o, w.name, w.parties, w.mode)) == NULL)
		return EXIT_TOOL;
	r = barobj_wait(b, &req, &res);
	obj_close(&o);
	switch (r) {
	case BAR_RELEASED:
		return released(&w, res.index);
	case BAR_TIMEOUT:
		err_warnx("%s: timed out", w.name);
		return EXIT_TIMEOUT;
	case BAR_RESET:
		err_warnx("%s: reset while waiting", w.name);
		return EXIT_NO;
	case BAR_ERROR:
		return EXIT_TOOL;
	case BAR_SIGNAL:
		return 128 + res.signal;
	}
	if (res.why == BAR_WHY_ACTION && res.action_status)
		err_warnx("%s: broken: the action failed with status %d",
		    w.name, res.action_status);
	else
		err_warnx("%s: broken: %s", w.name, barobj_why_text(res.why));
	return EXIT_NO;
}

static void
report_barrier(struct report *r, const struct barobj *b, const char *name)
{
	uint32_t why = __atomic_load_n(&b->broken, __ATOMIC_SEQ_CST);

	report_begin(r);
	report_str(r, "name", name);
	report_num(r, "parties", b->parties);
	report_num(r, "waiting", __atomic_load_n(&b->count, __ATOMIC_SEQ_CST));
	report_num(r, "generation", __atomic_load_n(&b->gen, __ATOMIC_SEQ_CST));
	report_bool(r, "broken", why != 0);
	if (why)
		report_str(r, "reason", barobj_why_text(why));
	else
		report_none(r, "reason");
	report_end(r);
}

/* stat and ls first break a barrier at which a party died waiting (the
 * next arrival would), then read without the lock: a snapshot that may
 * be a moment old is all they promise. */
static int
cmd_create(int argc, char **argv)
{
	struct wait_opts w;
	struct obj o;

	parse_wait(argc, argv, &cli_create, &w);
	if (w.parties == 0)
		cli_usage_error(&cli_create, "missing -n N");
	if (barobj_open(&o, w.name, w.parties, w.mode) == NULL)
		return EXIT_TOOL;
	obj_close(&o);
	return 0;
}

static int
cmd_stat(int argc, char **argv)
{
	struct report r;
	int i = report_options(argc, argv, &cli_stat, 0, 1, &r);
	struct obj o;
	struct barobj *b;

	if ((b = barobj_open(&o, argv[i], 0, 0)) == NULL)
		return EXIT_TOOL;
	barobj_check(b);
	report_barrier(&r, b, argv[i]);
	obj_close(&o);
	return 0;
}

static void
list_one(struct obj *o, void *arg)
{
	struct barobj *b = barobj_attach(o);

	if (b == NULL)
		return;
	barobj_check(b);
	report_barrier(arg, b, o->name);
}

static int
cmd_ls(int argc, char **argv)
{
	static const struct obj_type t = { OBJ_BARRIER, 1, "barrier" };
	static const char *const cols[] = { "name", "parties", "waiting",
		"generation", "broken", "reason", NULL };

	return report_ls(argc, argv, &cli_ls, &t, cols, list_one);
}

/* rm breaks the barrier as it unlinks it, so that parties waiting on
 * the removed file are told instead of waiting forever. */
static int
cmd_rm(int argc, char **argv)
{
	int i = cli_operands(argc, argv, &cli_rm, -1), status = 0;
	struct obj o;
	struct barobj *b;

	for (; i < argc; i++) {
		if ((b = barobj_open(&o, argv[i], 0, 0)) == NULL) {
			status = EXIT_TOOL;
			continue;
		}
		if (barobj_remove(b, o.path) < 0) {
			err_warn("%s: remove", argv[i]);
			status = EXIT_TOOL;
		}
		obj_close(&o);
	}
	return status;
}

static int
reset_abort(int argc, char **argv, int reset)
{
	int i = cli_operands(argc, argv, reset ? &cli_resetcmd : &cli_abort, 1);
	struct obj o;
	struct barobj *b;

	if ((b = barobj_open(&o, argv[i], 0, 0)) == NULL)
		return EXIT_TOOL;
	if (reset)
		barobj_reset(b);
	else
		barobj_break(b, BAR_WHY_ABORT);
	obj_close(&o);
	return 0;
}

static int
cmd_reset(int argc, char **argv)
{
	return reset_abort(argc, argv, 1);
}

static int
cmd_abort(int argc, char **argv)
{
	return reset_abort(argc, argv, 0);
}

int
main(int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
		{ "wait", cmd_wait }, { "create", cmd_create },
		{ "stat", cmd_stat }, { "ls", cmd_ls },
		{ "rm", cmd_rm }, { "reset", cmd_reset }, { "abort", cmd_abort },
		{ NULL, NULL }
	};

	err_init(argv[0]);
	(void)proc_std_fds();
	optind = remote_main(argc, argv, &cli_main);
	return cli_dispatch(argc - optind, argv + optind, cmds, &cli_main);
}
