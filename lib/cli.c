#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"

void
cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	err_diex(EXIT_TOOL, "%s; usage: %s", msg, cli->usage);
}

void
cli_reset(void)
{
	optind = 0; /* glibc: 0 also resets getopt's internal state */
}

/* getopt_long refused ARG, a long option: unknown, or given a value it
 * does not take (--nowait=1). For the latter glibc leaves the option's
 * internal code in optopt, which is no character to print. */
static void __attribute__((noreturn))
bad_long(const struct cli *cli, const char *arg, const struct option *lo)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg - 2) : 0;

	for (; eq && lo && lo->name; lo++)
		if (lo->has_arg == no_argument && strncmp(lo->name, arg + 2, n) == 0)
			cli_usage_error(cli, "option '--%s' takes no value",
			    lo->name);
	cli_usage_error(cli, "unknown option '%s'", arg);
}

int
cli_next(int argc, char **argv, const char *shortopts,
    const struct option *longopts, const struct cli *cli)
{
	char opts[128];
	int c, prev = optind ? optind : 1;

	snprintf(opts, sizeof opts, "+:h%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, NULL);
	switch (c) {
	case CLI_HELP:
		fputs(cli->help, stdout);
		exit(fflush(stdout) == 0 ? 0 : EXIT_TOOL);
	case CLI_VERSION:
		printf("%s (concutils) %s\n", err_prog, CONC_VERSION);
		exit(fflush(stdout) == 0 ? 0 : EXIT_TOOL);
	case '?':
		if (strncmp(argv[prev], "--", 2) == 0)
			bad_long(cli, argv[prev], longopts);
		if (optopt > ' ' && optopt < 127)
			cli_usage_error(cli, "unknown option '-%c'", optopt);
		cli_usage_error(cli, "unknown option '%s'", argv[prev]);
	case ':':
		if (optopt && strncmp(argv[prev], "--", 2) != 0)
			cli_usage_error(cli, "option '-%c' needs a value", optopt);
		cli_usage_error(cli, "option '%s' needs a value", argv[prev]);
	}
	return c;
}

void
cli_after_name(const struct cli *cli, const char *word)
{
	if (word[0] == '-' && word[1] != '\0' && strcmp(word, "--") != 0)
		cli_usage_error(cli, "option '%s' after NAME (options go "
		    "before NAME)", word);
}

int
cli_operands(int argc, char **argv, const struct cli *cli, int n)
{
	static const struct option longopts[] = { CLI_STD_OPTIONS, { 0 } };
	int i, left;

	cli_reset();
	while (cli_next(argc, argv, "", longopts, cli) != -1)
		;
	for (i = optind + 1; i < argc; i++)
		cli_after_name(cli, argv[i]);
	left = argc - optind;
	if (left < (n < 0 ? 1 : n))
		cli_usage_error(cli, "missing operand");
	if (n >= 0 && left > n)
		cli_usage_error(cli, "unexpected operand '%s'", argv[optind + n]);
	return optind;
}

int
cli_dispatch(int argc, char **argv, const struct cli_cmd *cmds,
    const struct cli *cli)
{
	int status;

	if (argc < 1)
		cli_usage_error(cli, "missing subcommand");
	for (; cmds->name; cmds++)
		if (strcmp(argv[0], cmds->name) == 0)
			break;
	if (cmds->name == NULL)
		cli_usage_error(cli, "unknown subcommand '%s'", argv[0]);
	status = cmds->run(argc, argv);
	if (fflush(stdout) != 0) {
		err_warn("write");
		return EXIT_TOOL;
	}
	return status;
}
