#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"

/* at_name: TEXT at P names the program CANON (N bytes) if the word is
 * CANON, alone, and comes first on a line (after blanks or "usage:") or
 * after a '|' ("usage: parallel ... | parallel -f PROCFILE"). */
static int
at_name(const char *text, const char *p, const char *canon, size_t n)
{
	const char *q = p;

	if (strncmp(p, canon, n) != 0 || (p[n] != ' ' && p[n] != '\n' &&
	    p[n] != '\0'))
		return 0;
	while (q > text && q[-1] == ' ')
		q--;
	if (q - text >= 6 && strncmp(q - 6, "usage:", 6) == 0)
		q -= 6;
	return q == text || q[-1] == '\n' || (q != p && q[-1] == '|');
}

void
cli_put_named(FILE *f, const char *text, const char *usage)
{
	size_t n = strcspn(usage, " ");
	const char *p;

	for (p = text; *p != '\0'; p++) {
		if (at_name(text, p, usage, n)) {
			fputs(err_prog, f);
			p += n - 1;
		} else {
			putc(*p, f);
		}
	}
}

void
cli_usage_error(const struct cli *cli, const char *fmt, ...)
{
	char msg[1024], *usage = NULL;
	size_t len;
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	f = open_memstream(&usage, &len);
	if (f != NULL) {
		cli_put_named(f, cli->usage, cli->usage);
		if (fclose(f) != 0)
			usage = NULL;
	}
	err_diex(EXIT_TOOL, "%s; usage: %s", msg, usage ? usage : cli->usage);
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
		cli_put_named(stdout, cli->help, cli->usage);
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

	cli_reset();
	while (cli_next(argc, argv, "", longopts, cli) != -1)
		;
	return cli_rest(argc, argv, cli, n);
}

int
cli_rest(int argc, char **argv, const struct cli *cli, int n)
{
	int i, left;

	for (i = optind + 1; i < argc; i++)
		cli_after_name(cli, argv[i]);
	left = argc - optind;
	if (left < (n < 0 ? 1 : n))
		cli_usage_error(cli, "missing NAME");
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
