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

/* A subcommand: its name and its handler, which gets the subcommand's
 * own argv (argv[0] is the subcommand's name) and returns the exit
 * status. Handlers are named cmd_NAME. */
struct cli_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
};

/* cli_dispatch: run the subcommand ARGV[0] from the table CMDS (ended by
 * a NULL name); a missing or unknown subcommand is a usage error (CLI's
 * usage line). Standard output is flushed here, once, for every
 * subcommand: a write that failed makes the status 125. Returns the
 * handler's status. */
int cli_dispatch(int argc, char **argv, const struct cli_cmd *cmds,
    const struct cli *cli);

/* cli_operands: parse the options of a subcommand that has none but
 * -h/--help and --version, and return the index of its first operand;
 * exactly N operands are required (N < 0: at least one). An operand that
 * looks like an option is refused (cli_after_name). */
int cli_operands(int argc, char **argv, const struct cli *cli, int n);
/* cli_rest: the operands from optind on, once the options are parsed:
 * exactly N (N < 0: at least one), none looking like an option after the
 * first (cli_after_name). Returns optind. */
int cli_rest(int argc, char **argv, const struct cli *cli, int n);

/* cli_after_name: WORD came after NAME; if it looks like an option
 * ("-x", "--xyz", but not "-" or "--"), it is a usage error with the
 * hint that options go before NAME. */
void cli_after_name(const struct cli *cli, const char *word);

#endif
