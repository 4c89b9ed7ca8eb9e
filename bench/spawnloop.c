/* spawnloop: the physical limit for a process pool. Runs CMD ARG... I for
 * I = 1..N with posix_spawn (CMD is a full path, resolved by the caller),
 * keeping J running at once and reaping with wait; nothing else. The job
 * number is appended as an argument because pool, xargs and GNU parallel
 * all pass the item: coreutils' true, for one, does more work when it has
 * an argument.
 * usage: spawnloop N J /path/to/cmd [ARG...] */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

int
main(int argc, char **argv)
{
	long n, j, started = 0, running = 0;
	char num[32], **av;
	int status, k = argc - 3;

	if (argc < 4) {
		fputs("usage: spawnloop N J /path/to/cmd [ARG...]\n", stderr);
		return 2;
	}
	n = atol(argv[1]);
	j = atol(argv[2]);
	av = calloc(k + 2, sizeof *av);
	if (av == NULL)
		return 1;
	memcpy(av, argv + 3, k * sizeof *av);
	av[k] = num;
	while (started < n || running > 0) {
		while (started < n && running < j) {
			pid_t pid;
			snprintf(num, sizeof num, "%ld", started + 1);
			if (posix_spawn(&pid, av[0], NULL, NULL, av,
			    environ) != 0) {
				perror("posix_spawn");
				return 1;
			}
			started++;
			running++;
		}
		if (wait(&status) > 0)
			running--;
	}
	return 0;
}
