/* sem: not implemented yet (see the issue tracker). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "err.h"

static const struct cli cli = {
	"sem [OPTIONS] ...",
	"usage: sem [OPTIONS] ...\n"
	"  -h, --help     show this help\n"
	"      --version  show the version\n",
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = { CLI_STD_OPTIONS, { 0 } };

	err_init(argv[0]);
	while (cli_next(argc, argv, "", longopts, &cli) != -1)
		;
	err_diex(EXIT_TOOL, "not implemented yet");
}
