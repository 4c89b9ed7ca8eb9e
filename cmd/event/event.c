/* event: named events for processes (threading.Event, and Condition's
 * notify and notify_all, for the shell).
 *
 * The object is one file (obj.h, kind OBJ_EVENT): a robust mutex, the
 * flag, a generation counter, a futex word `seq` that changes on every
 * set and notify, and a table of EV_SLOTS waiter slots, each holding a
 * robust mutex, a state and an arrival ticket.
 *
 * Waiting: under the lock, a waiter that finds the flag clear (and, with
 * --since, the generation unchanged) takes a slot whose mutex nobody
 * alive holds, keeps that mutex until it leaves, marks the slot WAITING
 * with the next ticket, unlocks and sleeps on `seq`. `set` raises the
 * flag, marks every WAITING slot WOKEN, and wakes them all with one
 * futex broadcast; `notify -n N` marks the N WAITING slots with the
 * lowest tickets (the oldest waiters) and wakes. A waiter's outcome is
 * thus stored in its own slot: a `clear` right after a `set` cannot
 * strand a waiter that has not run yet, and a notify for N wakes exactly
 * N.
 *
 * Generations: every set and notify advances the generation, so a
 * process that read it (event gen) before checking a condition and
 * waits with --since returns at once if anything happened in between:
 * no wake-up is lost between the check and the wait.
 *
 * Crash safety: the kernel marks a robust mutex "owner died" when its
 * holder exits, so pthread_mutex_trylock on a waiter's slot tells,
 * without /proc or pid-reuse worries, whether the waiter still lives:
 * notify skips dead waiters, stat does not count them, and their slots
 * are taken again. A waiter needs nobody's liveness (no periodic
 * wake-up). A set or notify announces itself (pending) before it writes
 * anything; a holder killed half-way is finished by the next locker, so
 * an event is set or not, never half (eventobj.c). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "eventobj.h"
#include "loop.h"
#include "obj.h"
#include "opt.h"
#include "proc.h"
#include "remote.h"
#include "report.h"

#define USAGE_SET "event set NAME"
#define USAGE_CLEAR "event clear NAME"
#define USAGE_IS_SET "event is-set NAME"
#define USAGE_WAIT "event wait [--timeout DUR | --nowait] [--since GEN] " \
	"NAME [-- CMD [ARG...]]"
#define USAGE_NOTIFY "event notify [-n N | --all] NAME"
#define USAGE_GEN "event gen NAME"
#define USAGE_CREATE "event create [--mode MODE] [--set] NAME"
#define USAGE_STAT "event stat [--json] NAME"
#define USAGE_LS "event ls [--json] [--header]"
#define USAGE_RM "event rm NAME..."

static const char help_text[] =
	"usage: " USAGE_SET "\n"
	"       " USAGE_CLEAR "\n"
	"       " USAGE_IS_SET "\n"
	"       " USAGE_WAIT "\n"
	"       " USAGE_NOTIFY "\n"
	"       " USAGE_GEN "\n"
	"       " USAGE_CREATE "\n"
	"       " USAGE_STAT "\n"
	"       " USAGE_LS "\n"
	"       " USAGE_RM "\n"
	"Named events: processes wait until one of them sets the event or\n"
	"notifies them. Every subcommand but stat, ls and rm creates NAME.\n"
	"  set        set the event and wake every waiter\n"
	"  clear      clear the event\n"
	"  is-set     exit 0 if the event is set, 1 if it is clear\n"
	"  wait       return once the event is set or a notify wakes us\n"
	"  notify     wake waiters (the oldest first) without setting it\n"
	"  gen        print the generation (it counts sets and notifies)\n"
	"  create     create the event if missing\n"
	"  stat       print the state, generation and waiters\n"
	"  ls         list the events: name, state, generation, waiters\n"
	"  rm         remove events (their waiters exit 1)\n"
	"  -t, --timeout DUR  wait: give up after DUR (status 124)\n"
	"  -w, --nowait       wait: do not wait (status 75 if clear)\n"
	"  -s, --since GEN    wait: return at once if the generation is not GEN\n"
	"  -- CMD [ARG...]    wait: then execute CMD\n"
	"  -n, --count N      notify: wake up to N waiters (default 1)\n"
	"  -a, --all          notify: wake every waiter\n"
	"  -m, --mode MODE    permission bits of a new event (default 0600)\n"
	"      --set          create: a new event starts set\n"
	"      --json         stat, ls: print JSON\n"
	"      --header       ls: print the column names first\n"
	"  -H, --host HOST    (before the command) run it on HOST over ssh;\n"
	"      --remote-path PATH  the program there (default: in its PATH)\n"
	"  -h, --help         show this help\n"
	"      --version      show the version\n"
	"Exit: 0 done/set/woken; 1 clear (is-set), removed while waiting;\n"
	"75 clear with --nowait; 124 timed out; 125 error; wait -- CMD: CMD's\n"
	"status (126/127 cannot run it).\n";

static const struct cli cli_main = { "event COMMAND [OPTIONS] NAME ...",
	help_text };
static const struct cli cli_set = { USAGE_SET, help_text };
static const struct cli cli_clear = { USAGE_CLEAR, help_text };
static const struct cli cli_is_set = { USAGE_IS_SET, help_text };
static const struct cli cli_wait = { USAGE_WAIT, help_text };
static const struct cli cli_notify = { USAGE_NOTIFY, help_text };
static const struct cli cli_gen = { USAGE_GEN, help_text };
static const struct cli cli_create = { USAGE_CREATE, help_text };
static const struct cli cli_stat = { USAGE_STAT, help_text };
static const struct cli cli_ls = { USAGE_LS, help_text };
static const struct cli cli_rm = { USAGE_RM, help_text };

enum { OPT_TIMEOUT = 't', OPT_NOWAIT = 'w', OPT_SINCE = 's',
	OPT_COUNT = 'n', OPT_ALL = 'a', OPT_MODE = 'm', OPT_SET = 0x100 };

static const struct option longopts[] = {
	{ "timeout", required_argument, 0, OPT_TIMEOUT },
	{ "nowait", no_argument, 0, OPT_NOWAIT },
	{ "since", required_argument, 0, OPT_SINCE },
	{ "count", required_argument, 0, OPT_COUNT },
	{ "all", no_argument, 0, OPT_ALL },
	{ "mode", required_argument, 0, OPT_MODE },
	{ "set", no_argument, 0, OPT_SET },
	CLI_STD_OPTIONS,
	{ 0, 0, 0, 0 }
};

/* What the options of a subcommand said. */
struct args {
	int64_t timeout;      /* ns, -1: none */
	int nowait;
	int64_t since;        /* -1: none */
	uint32_t count;       /* notify: 0 all */
	unsigned mode;
	int set;
	const char *name;
	char **cmd;           /* wait -- CMD, else NULL */
};

static const char *
opt_name(int c)
{
	static char s[4];
	const struct option *o;

	for (o = longopts; o->name; o++)
		if (o->val == c)
			return o->name;
	snprintf(s, sizeof s, "%c", c);
	return s;
}

/* Parse the options of subcommand argv[0] (ALLOWED: the option codes it
 * takes) and its NAME. Only wait takes more after NAME: "--" and a
 * command. */
static void
parse(int argc, char **argv, const char *allowed, const struct cli *cli,
    struct args *a)
{
	int c, timeout_given = 0, count_given = 0, all = 0;

	memset(a, 0, sizeof *a);
	a->timeout = -1;
	a->since = -1;
	a->count = 1;
	cli_reset();
	while ((c = cli_next(argc, argv, "t:ws:n:am:", longopts, cli)) !=
	    -1) {
		if (c > 0xff ? strchr(allowed, 'S') == NULL :
		    strchr(allowed, c) == NULL)
			cli_usage_error(cli, "option '--%s' is not for "
			    "'event %s'", opt_name(c), argv[0]);
		switch (c) {
		case OPT_TIMEOUT:
			a->timeout = opt_duration("--timeout", optarg);
			timeout_given = 1;
			break;
		case OPT_NOWAIT:
			a->nowait = 1;
			break;
		case OPT_SINCE:
			a->since = opt_count("--since", optarg, 0, INT64_MAX);
			break;
		case OPT_COUNT:
			a->count = opt_count("-n", optarg, 1, EV_SLOTS);
			count_given = 1;
			break;
		case OPT_ALL:
			all = 1;
			break;
		case OPT_MODE:
			a->mode = opt_mode("--mode", optarg);
			break;
		case OPT_SET:
			a->set = 1;
			break;
		}
	}
	if (timeout_given && a->nowait)
		cli_usage_error(cli, "--timeout and --nowait exclude each other");
	if (count_given && all)
		cli_usage_error(cli, "-n and --all exclude each other");
	if (all)
		a->count = 0;
	if (optind >= argc)
		cli_usage_error(cli, "missing NAME");
	a->name = argv[optind++];
	if (optind >= argc)
		return;
	cli_after_name(cli, argv[optind]);
	if (cli != &cli_wait)
		cli_usage_error(cli, "unexpected operand '%s'", argv[optind]);
	if (strcmp(argv[optind], "--") != 0)
		cli_usage_error(cli, "unexpected '%s' (put '--' before a "
		    "command)", argv[optind]);
	if (++optind >= argc)
		cli_usage_error(cli, "missing command after '--'");
	a->cmd = argv + optind;
}

/* Open (and, but for stat and rm, create) the event A names. */
static struct evobj *
open_event(struct obj *o, const struct args *a, int create)
{
	return evobj_open(o, a->name, create, a->mode, a->set);
}

static int
cmd_set(int argc, char **argv)
{
	struct args a;
	struct obj o;
	struct evobj *e;

	parse(argc, argv, "", &cli_set, &a);
	if ((e = open_event(&o, &a, 1)) == NULL)
		return EXIT_TOOL;
	evobj_set(e);
	obj_close(&o);
	return 0;
}

static int
cmd_clear(int argc, char **argv)
{
	struct args a;
	struct obj o;
	struct evobj *e;

	parse(argc, argv, "", &cli_clear, &a);
	if ((e = open_event(&o, &a, 1)) == NULL)
		return EXIT_TOOL;
	evobj_clear(e);
	obj_close(&o);
	return 0;
}

static int
cmd_is_set(int argc, char **argv)
{
	struct args a;
	struct obj o;
	struct evobj *e;
	struct evobj_view v;

	parse(argc, argv, "", &cli_is_set, &a);
	if ((e = open_event(&o, &a, 1)) == NULL)
		return EXIT_TOOL;
	evobj_view(e, &v);
	obj_close(&o);
	return v.set ? 0 : EXIT_NO;
}

static int
cmd_wait(int argc, char **argv)
{
	struct args a;
	struct obj o;
	struct evobj *e;
	char path[PATH_MAX];
	int64_t deadline = -1;
	int r, err;

	parse(argc, argv, "tws", &cli_wait, &a);
	/* Find the command before waiting for a moment it could not use. */
	if (a.cmd && (err = proc_resolve(a.cmd[0], path, sizeof path)) != 0) {
		errno = err;
		err_warn("%s", a.cmd[0]);
		return proc_exec_status(err);
	}
	deadline = opt_deadline(loop_now(), a.timeout);
	if ((e = open_event(&o, &a, 1)) == NULL)
		return EXIT_TOOL;
	r = evobj_wait(e, a.since, a.nowait, deadline);
	obj_close(&o);
	switch (r) {
	case EV_WOULDBLOCK:
		return EXIT_WOULDBLOCK;
	case EV_TIMEOUT:
		err_warnx("%s: timed out", a.name);
		return EXIT_TIMEOUT;
	case EV_FULL:
		err_warnx("%s: too many waiters (%d)", a.name, EV_SLOTS);
		return EXIT_TOOL;
	case EV_REMOVED:
		err_warnx("%s: removed", a.name);
		return EXIT_NO;
	}
	if (a.cmd == NULL)
		return 0;
	execv(path, a.cmd);
	err_warn("%s", a.cmd[0]);
	return proc_exec_status(errno);
}

static int
cmd_notify(int argc, char **argv)
{
	struct args a;
	struct obj o;
	struct evobj *e;

	parse(argc, argv, "na", &cli_notify, &a);
	if ((e = open_event(&o, &a, 1)) == NULL)
		return EXIT_TOOL;
	evobj_notify(e, a.count);
	obj_close(&o);
	return 0;
}

static int
cmd_gen(int argc, char **argv)
{
	struct args a;
	struct obj o;
	struct evobj *e;
	struct evobj_view v;

	parse(argc, argv, "", &cli_gen, &a);
	if ((e = open_event(&o, &a, 1)) == NULL)
		return EXIT_TOOL;
	evobj_view(e, &v);
	obj_close(&o);
	printf("%" PRIu64 "\n", v.gen);
	return 0;
}

static int
cmd_create(int argc, char **argv)
{
	struct args a;
	struct obj o;

	parse(argc, argv, "mS", &cli_create, &a);
	if (open_event(&o, &a, 1) == NULL)
		return EXIT_TOOL;
	obj_close(&o);
	return 0;
}

static void
report_event(struct report *r, const char *name, const struct evobj_view *v)
{
	report_begin(r);
	report_str(r, "name", name);
	report_str(r, "state", v->set ? "set" : "clear");
	report_num(r, "generation", v->gen);
	report_num(r, "waiters", v->waiters);
	report_end(r);
}

static int
cmd_stat(int argc, char **argv)
{
	struct report r;
	struct obj o;
	struct evobj *e;
	struct evobj_view v;
	const char *name = argv[report_options(argc, argv, &cli_stat, 0, 1,
	    &r)];

	if ((e = evobj_open(&o, name, 0, 0, 0)) == NULL)
		return EXIT_TOOL;
	evobj_view(e, &v);
	obj_close(&o);
	report_event(&r, name, &v);
	return 0;
}

static void
list_one(struct obj *o, void *arg)
{
	struct evobj *e = evobj_attach(o);
	struct evobj_view v;

	if (e == NULL)
		return;
	evobj_view(e, &v);
	report_event(arg, o->name, &v);
}

static int
cmd_ls(int argc, char **argv)
{
	static const struct obj_type t = { OBJ_EVENT, 1, "event" };
	static const char *const cols[] = { "name", "state", "generation",
		"waiters", NULL };

	return report_ls(argc, argv, &cli_ls, &t, cols, list_one);
}

static int
cmd_rm(int argc, char **argv)
{
	int i = cli_operands(argc, argv, &cli_rm, -1), status = 0;
	struct obj o;
	struct evobj *e;

	for (; i < argc; i++) {
		if ((e = evobj_open(&o, argv[i], 0, 0, 0)) == NULL) {
			status = EXIT_TOOL;
			continue;
		}
		if (evobj_remove(e, o.path) < 0) {
			err_warn("%s: remove", argv[i]);
			status = EXIT_TOOL;
		}
		obj_close(&o);
	}
	return status;
}

int
main(int argc, char **argv)
{
	static const struct cli_cmd cmds[] = {
		{ "set", cmd_set }, { "clear", cmd_clear },
		{ "is-set", cmd_is_set }, { "wait", cmd_wait },
		{ "notify", cmd_notify }, { "gen", cmd_gen },
		{ "create", cmd_create }, { "stat", cmd_stat },
		{ "ls", cmd_ls }, { "rm", cmd_rm }, { NULL, NULL }
	};

	err_init(argv[0]);
	optind = remote_main(argc, argv, &cli_main);
	return cli_dispatch(argc - optind, argv + optind, cmds, &cli_main);
}
