/* cli: the command-line conventions every tool shares (concutils(7)).
 * Options come before operands: parsing stops at the first operand and at
 * "--". -h/--help prints the help text to stdout and exits 0; --version
 * prints "prog (concutils) VERSION" and exits 0 (prog: the name the tool
 * was invoked as, here and in the help text, see cli_put_named); an unknown option or a
 * missing option value prints one line with the usage on stderr and exits 125. */
#ifndef CONC_CLI_H
#define CONC_CLI_H

#include <getopt.h>
#include <stdio.h>

/* Values for struct option.val that cli_next handles itself. Put
 * CLI_STD_OPTIONS into every long-option table (before the terminator). */
enum { CLI_HELP = 'h', CLI_VERSION = 0x7f00 };
#define CLI_STD_OPTIONS \
	{ "help", no_argument, 0, CLI_HELP }, \
	{ "version", no_argument, 0, CLI_VERSION }

struct cli {
	const char *usage; /* one line: "pool [OPTIONS] [--] CMD [ARG...]" */
	const char *help;  /* the full --help text, ending with a newline */
};

/* cli_next: the next option, getopt_long style (shortopts without the
 * leading '+' or ':'; "h" is added). Returns -1 at the first operand or
 * after "--" (optind then indexes it). Handles help, version and errors
 * itself, as described above. */
int cli_next(int argc, char **argv, const char *shortopts,
    const struct option *longopts, const struct cli *cli);

/* cli_usage_error: print "prog: MESSAGE; usage: USAGE" and exit 125. */
void cli_usage_error(const struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/* cli_put_named: write TEXT to F with the program's own name where TEXT
 * names it: USAGE starts with the program's canonical name ("queue"),
 * which is replaced by the name it was invoked as (err_prog: "cqueue"
 * when installed with PROGPREFIX=c) at the start of a line, after blanks
 * or "usage: ". Help and usage errors go through it. */
void cli_put_named(FILE *f, const char *text, const char *usage);

/* cli_reset: make the next cli_next call start again at argv[1]
 * (for tools with subcommands, which parse each subcommand's options). */
void cli_reset(void);

#endif
