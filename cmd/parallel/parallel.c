/* parallel: run several commands at once and multiplex their output.
 *
 * Every COMMAND runs as "sh -c COMMAND" in a process group of its own.
 * One event loop (lib/loop) watches the pipes of all jobs' stdout and
 * stderr, SIGCHLD and the stop signals. Output goes through the line
 * multiplexer (lib/mux): only whole lines leave a job's buffer, each with
 * the job's prefix, gathered into large writes to our stdout or stderr;
 * so lines of different jobs never mix. While our stdout does not drain,
 * the write blocks and we stop reading: the jobs block in their writes,
 * and memory stays bounded. A job has ended when its leader is reaped;
 * what its pipes hold then is emitted and the pipes are closed.
 *
 * Stopping a job sends SIGTERM to its group, SIGKILL after the grace
 * period. SIGINT/SIGTERM/SIGHUP to us (and --timeout) are "hard" stops:
 * they interrupt even a blocked write (lib/loop's interrupting signals,
 * the grace period timed by SIGALRM), output that cannot be written any
 * more is dropped, and we exit 128+N (124) once the groups are empty. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "opt.h"
#include "parallel.h"

struct opts opt = {
	.success = "all",
	.grace = 5 * OPT_NS_PER_SEC,
	.max_line = 1024 * 1024,
};
struct job *jobs;
int njobs;

#define USAGE "parallel [OPTIONS] [--] COMMAND... | parallel [OPTIONS] -f PROCFILE"

static const struct cli cli = {
	USAGE,
	"usage: " USAGE "\n"
	"Run the COMMANDs (each with sh -c) at the same time; prefix and merge\n"
	"their output line by line. (This is not GNU parallel.)\n"
	"  -f, --procfile FILE      take 'name: command' lines from FILE\n"
	"  -n, --names A,B,...      names of the commands (default: 1, 2, ...)\n"
	"  -p, --prefix FMT         line prefix with {name} {index} {pid} {time}\n"
	"                           (default: the padded name and ' | ')\n"
	"      --no-prefix          no prefix (lines are still kept whole)\n"
	"      --color WHEN         colour the prefixes: auto, always, never\n"
	"  -g, --group              print each command's output in one piece when\n"
	"                           it ends, in command-line order\n"
	"      --tee                copy stdin to every command\n"
	"      --input NAME|INDEX   send stdin to that command only\n"
	"  -k, --kill-others        when one command ends, stop the others\n"
	"      --kill-others-on-fail  when one command fails, stop the others\n"
	"  -s, --success WHICH      exit status from: all (default), first, last,\n"
	"                           or the command NAME|INDEX\n"
	"      --restart N          restart a failing command up to N times\n"
	"      --restart-delay DUR  wait DUR before a restart (default 0)\n"
	"      --timeout DUR        stop everything after DUR, exit 124\n"
	"      --grace DUR          SIGKILL this long after SIGTERM (default 5s)\n"
	"      --max-line SIZE      split longer lines, marked with '\\' (default 1M)\n"
	"      --summary            print status and run time of each command\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n",
};

enum {
	OPT_NO_PREFIX = 0x100, OPT_COLOR, OPT_TEE, OPT_INPUT, OPT_KOF,
	OPT_RESTART, OPT_RESTART_DELAY, OPT_TIMEOUT, OPT_GRACE, OPT_MAX_LINE,
	OPT_SUMMARY,
};

static const struct option longopts[] = {
	{ "procfile", required_argument, 0, 'f' },
	{ "names", required_argument, 0, 'n' },
	{ "prefix", required_argument, 0, 'p' },
	{ "no-prefix", no_argument, 0, OPT_NO_PREFIX },
	{ "color", required_argument, 0, OPT_COLOR },
	{ "colour", required_argument, 0, OPT_COLOR },
	{ "group", no_argument, 0, 'g' },
	{ "tee", no_argument, 0, OPT_TEE },
	{ "input", required_argument, 0, OPT_INPUT },
	{ "kill-others", no_argument, 0, 'k' },
	{ "kill-others-on-fail", no_argument, 0, OPT_KOF },
	{ "success", required_argument, 0, 's' },
	{ "restart", required_argument, 0, OPT_RESTART },
	{ "restart-delay", required_argument, 0, OPT_RESTART_DELAY },
	{ "timeout", required_argument, 0, OPT_TIMEOUT },
	{ "grace", required_argument, 0, OPT_GRACE },
	{ "max-line", required_argument, 0, OPT_MAX_LINE },
	{ "summary", no_argument, 0, OPT_SUMMARY },
	CLI_STD_OPTIONS,
	{ 0 },
};

static int
parse_color(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return COLOR_AUTO;
	if (strcmp(s, "always") == 0)
		return COLOR_ALWAYS;
	if (strcmp(s, "never") == 0)
		return COLOR_NEVER;
	err_diex(EXIT_TOOL, "--color %s: must be auto, always or never", s);
}

static void
parse_options(int argc, char **argv)
{
	int c;

	while ((c = cli_next(argc, argv, "f:n:p:gks:", longopts, &cli)) != -1) {
		switch (c) {
		case 'f': opt.procfile = optarg; break;
		case 'n': opt.names = optarg; break;
		case 'p': opt.prefix = optarg; break;
		case OPT_NO_PREFIX: opt.no_prefix = 1; break;
		case OPT_COLOR: opt.color = parse_color(optarg); break;
		case 'g': opt.group = 1; break;
		case OPT_TEE: opt.tee = 1; break;
		case OPT_INPUT: opt.input = optarg; break;
		case 'k': opt.kill_others = 1; break;
		case OPT_KOF: opt.kill_others_on_fail = 1; break;
		case 's': opt.success = optarg; break;
		case OPT_RESTART:
			opt.restart = opt_count("--restart", optarg, 0, 1000000000);
			break;
		case OPT_RESTART_DELAY:
			opt.restart_delay = opt_duration("--restart-delay", optarg);
			break;
		case OPT_TIMEOUT:
			opt.timeout = opt_duration("--timeout", optarg);
			/* 0 is a deadline already passed (concutils(7));
			 * opt.timeout 0 means none. */
			if (opt.timeout == 0)
				opt.timeout = 1;
			break;
		case OPT_GRACE: opt.grace = opt_duration("--grace", optarg); break;
		case OPT_MAX_LINE:
			opt.max_line = opt_size("--max-line", optarg, 65536,
			    1024ULL * 1024 * 1024);
			break;
		case OPT_SUMMARY: opt.summary = 1; break;
		}
	}
	if (opt.tee && opt.input)
		cli_usage_error(&cli, "--tee and --input exclude each other");
	if (opt.prefix && opt.no_prefix)
		cli_usage_error(&cli, "--prefix and --no-prefix exclude each other");
	if (opt.prefix)
		spec_check_prefix(opt.prefix);
}

/* The jobs: from the operands or the Procfile, then --names. */
static void
load_jobs(int argc, char **argv)
{
	if (opt.procfile && optind < argc)
		cli_usage_error(&cli, "a Procfile and COMMAND operands exclude "
		    "each other");
	if (opt.procfile)
		spec_procfile(opt.procfile);
	else if (optind == argc)
		cli_usage_error(&cli, "no COMMAND given");
	else
		spec_jobs(argv + optind, argc - optind);
	if (opt.names)
		spec_names(opt.names);
}

int
main(int argc, char **argv)
{
	int status;

	err_init(argv[0]);
	parse_options(argc, argv);
	load_jobs(argc, argv);
	run_loop();
	run_start();
	status = run_wait();
	if (opt.summary)
		status = run_summary(status);
	return status;
}
