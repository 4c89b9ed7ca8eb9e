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
 * period (lib/pgroup). A signal that would end us (SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT, SIGUSR1, SIGALRM...) and --timeout are "hard" stops:
 * they interrupt even a blocked write (lib/loop's interrupting signals;
 * a write waits no longer than the --timeout), output that cannot be
 * written any more is dropped, and we exit 128+N (124) once the groups
 * are empty. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "opt.h"
#include "parallel.h"
#include "proc.h"

struct opts opt = {
	.success = "all",
	.grace = 5 * OPT_NS_PER_SEC,
	.max_line = 1024 * 1024,
};
static struct opts initial;  /* opt before any option */
struct job *jobs;
int njobs;
int nteardown;

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
	"      --pty                each command's stdout and stderr are a terminal\n"
	"      --tee                copy stdin to every command\n"
	"      --input NAME|INDEX   send stdin to that command only\n"
	"  -k, --kill-others        when one command ends, stop the others\n"
	"      --kill-others-on-fail  when one command fails, stop the others\n"
	"  -s, --success WHICH      exit status from: all (default), first, last,\n"
	"                           or the command NAME|INDEX\n"
	"      --ready NAME=COND    NAME is ready when COND holds: /ERE/ (a line\n"
	"                           of its output), tcp:[HOST:]PORT, file:PATH, exit\n"
	"      --after NAME=DEP,... start NAME once every DEP is ready\n"
	"      --ready-timeout DUR  stop everything (124) if one is not ready by then\n"
	"      --no-ready-line      do not print 'NAME | ready (1.2s)'\n"
	"  -m, --max N              run at most N commands at once\n"
	"  -e, --env FILE           add FILE's KEY=VALUE lines to the environment\n"
	"      --no-env             not the .env beside the Procfile (-f)\n"
	"      --port BASE          PORT=BASE+100*(command's index-1) for each\n"
	"      --formation NAME=N,...  run N copies of Procfile entries (NAME.1...)\n"
	"      --restart N|always   restart a failing command up to N times\n"
	"      --restart-delay DUR[,MAX]  wait DUR before a restart; with MAX,\n"
	"                           double it each time up to MAX\n"
	"      --restart-on failure|exit  restart after a failure (default) or\n"
	"                           after any exit\n"
	"      --timeout DUR        stop everything after DUR, exit 124\n"
	"      --teardown CMD       run CMD after everything has ended, any way\n"
	"      --grace DUR          SIGKILL this long after SIGTERM (default 5s)\n"
	"      --max-line SIZE      split longer lines, marked with '\\' (default 1M)\n"
	"      --summary            print status and run time of each command\n"
	"      --json               print the summary as one JSON object\n"
	"  -h, --help               show this help\n"
	"      --version            show the version\n",
};

enum {
	OPT_NO_PREFIX = 0x100, OPT_COLOR, OPT_TEE, OPT_INPUT, OPT_KOF,
	OPT_RESTART, OPT_RESTART_DELAY, OPT_TIMEOUT, OPT_GRACE, OPT_MAX_LINE,
	OPT_SUMMARY, OPT_READY, OPT_AFTER, OPT_READY_TIMEOUT, OPT_NO_READY_LINE,
	OPT_RESTART_ON, OPT_NO_ENV, OPT_PORT, OPT_FORMATION, OPT_PTY,
	OPT_TEARDOWN, OPT_JSON,
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
	{ "pty", no_argument, 0, OPT_PTY },
	{ "teardown", required_argument, 0, OPT_TEARDOWN },
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
	{ "json", no_argument, 0, OPT_JSON },
	{ "ready", required_argument, 0, OPT_READY },
	{ "after", required_argument, 0, OPT_AFTER },
	{ "ready-timeout", required_argument, 0, OPT_READY_TIMEOUT },
	{ "no-ready-line", no_argument, 0, OPT_NO_READY_LINE },
	{ "max", required_argument, 0, 'm' },
	{ "restart-on", required_argument, 0, OPT_RESTART_ON },
	{ "env", required_argument, 0, 'e' },
	{ "no-env", no_argument, 0, OPT_NO_ENV },
	{ "port", required_argument, 0, OPT_PORT },
	{ "formation", required_argument, 0, OPT_FORMATION },
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

/* A repeatable option's values, in order. */
static void
add(char ***v, int *n, char *arg)
{
	*v = realloc(*v, (*n + 1) * sizeof **v);
	if (*v == NULL)
		err_die(EXIT_TOOL, "out of memory");
	(*v)[(*n)++] = arg;
}

/* --restart-delay DUR[,MAX] */
static void
parse_restart_delay(char *arg)
{
	char *comma = strchr(arg, ',');

	if (comma)
		*comma = '\0';
	opt.restart_delay = opt_duration("--restart-delay", arg);
	opt.restart_max = 0;
	if (comma) {
		opt.restart_max = opt_duration("--restart-delay", comma + 1);
		if (opt.restart_max < opt.restart_delay)
			err_diex(EXIT_TOOL, "--restart-delay %s,%s: MAX is less "
			    "than DUR", arg, comma + 1);
	}
}

static void
parse_options(int argc, char **argv)
{
	int c;

	while ((c = cli_next(argc, argv, "f:n:p:gks:m:e:", longopts, &cli)) != -1) {
		switch (c) {
		case 'f': opt.procfile = optarg; break;
		case 'n': opt.names = optarg; break;
		case 'p': opt.prefix = optarg; break;
		case OPT_NO_PREFIX: opt.no_prefix = 1; break;
		case OPT_COLOR: opt.color = parse_color(optarg); break;
		case 'g': opt.group = 1; break;
		case OPT_TEE: opt.tee = 1; break;
		case OPT_PTY: opt.pty = 1; break;
		case OPT_TEARDOWN:
			add(&opt.teardown, &opt.nteardown, optarg);
			break;
		case OPT_INPUT: opt.input = optarg; break;
		case 'k': opt.kill_others = 1; break;
		case OPT_KOF: opt.kill_others_on_fail = 1; break;
		case 's': opt.success = optarg; break;
		case OPT_RESTART:
			opt.restart = strcmp(optarg, "always") == 0 ? LLONG_MAX :
			    opt_count("--restart", optarg, 0, 1000000000);
			break;
		case OPT_RESTART_DELAY:
			parse_restart_delay(optarg);
			break;
		case OPT_RESTART_ON:
			if (strcmp(optarg, "exit") == 0)
				opt.restart_on_exit = 1;
			else if (strcmp(optarg, "failure") == 0)
				opt.restart_on_exit = 0;
			else
				err_diex(EXIT_TOOL, "--restart-on %s: must be "
				    "failure or exit", optarg);
			break;
		case OPT_READY: add(&opt.ready, &opt.nready, optarg); break;
		case OPT_AFTER: add(&opt.after, &opt.nafter, optarg); break;
		case OPT_READY_TIMEOUT:
			opt.ready_timeout = opt_duration("--ready-timeout", optarg);
			break;
		case OPT_NO_READY_LINE: opt.no_ready_line = 1; break;
		case 'e': add(&opt.env, &opt.nenv, optarg); break;
		case OPT_NO_ENV: opt.no_env = 1; break;
		case OPT_PORT:
			opt.port = (long)opt_count("--port", optarg, 1, 65535);
			break;
		case OPT_FORMATION: opt.formation = optarg; break;
		case 'm':
			opt.max = (int)opt_count("-m", optarg, 1, 1000000);
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
		case OPT_JSON: opt.json = 1; break;
		}
	}
	if (opt.json && !opt.summary)
		cli_usage_error(&cli, "--json needs --summary");
	if (opt.tee && opt.input)
		cli_usage_error(&cli, "--tee and --input exclude each other");
	if (opt.prefix && opt.no_prefix)
		cli_usage_error(&cli, "--prefix and --no-prefix exclude each other");
	if (opt.prefix)
		spec_check_prefix(opt.prefix);
}

/* -e files in order, else (foreman's rule) the .env beside the Procfile;
 * --port: every job's PORT must be a port. */
static void
load_env(void)
{
	int i;

	for (i = 0; i < opt.nenv; i++)
		spec_env_file(opt.env[i], 1);
	if (opt.nenv == 0 && opt.procfile && !opt.no_env)
		spec_procfile_env(opt.procfile);
	for (i = 0; opt.port && i < njobs; i++)
		if (opt.port + 100L * jobs[i].entry + jobs[i].copy - 1 > 65535)
			err_diex(EXIT_TOOL, "--port %ld: %s would get port %ld, "
			    "above 65535", opt.port, jobs[i].name, opt.port +
			    100L * jobs[i].entry + jobs[i].copy - 1);
}

/* The Procfile's "#parallel:" lines count as options given before the
 * command line's: parse them on fresh options, then the command line
 * again (whose options thus win). */
static void
procfile_options(int argc, char **argv)
{
	struct opts cmdline = opt;

	opt = initial;
	cli_reset();
	optind = 0;
	parse_options(spec_ndirectives, spec_directives);
	if (optind < spec_ndirectives)
		err_diex(EXIT_TOOL, "%s: '%s' in a #parallel: line is not an "
		    "option", cmdline.procfile, spec_directives[optind]);
	opt.nready_procfile = opt.nready;
	cli_reset();
	optind = 0;
	parse_options(argc, argv);
	/* The first reading of the command line is replaced. */
	free(cmdline.ready);
	free(cmdline.after);
	free(cmdline.env);
	free(cmdline.teardown);
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
	if (spec_ndirectives)
		procfile_options(argc, argv);
	if (opt.formation && (!opt.procfile || opt.names))
		cli_usage_error(&cli, "--formation needs a Procfile (-f) and "
		    "excludes --names");
	if (opt.formation)
		spec_formation(opt.formation);
	if (opt.names)
		spec_names(opt.names);
	spec_teardown(opt.teardown, opt.nteardown);
	load_env();
}

/* --input and --success name jobs: resolve them once the jobs are known. */
static void
resolve_targets(void)
{
	opt.input_job = opt.input ? spec_target("--input", opt.input) : -1;
	if (strcmp(opt.success, "all") == 0)
		opt.success_of = SUCCESS_ALL;
	else if (strcmp(opt.success, "first") == 0)
		opt.success_of = SUCCESS_FIRST;
	else if (strcmp(opt.success, "last") == 0)
		opt.success_of = SUCCESS_LAST;
	else
		opt.success_of = spec_target("--success", opt.success);
}

int
main(int argc, char **argv)
{
	int status;

	err_init(argv[0]);
	(void)proc_std_fds();
	initial = opt;
	parse_options(argc, argv);
	load_jobs(argc, argv);
	resolve_targets();
	stack_spec();
	run_setup();
	run_start();
	status = run_wait();
	if (opt.summary)
		status = run_summary(status);
	return status;
}
