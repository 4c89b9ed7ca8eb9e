/* spawnloop: the physical limit for a process pool. Runs CMD (resolved
 * once) N times with posix_spawn, keeping J running at once and reaping
 * with waitpid; nothing else. usage: spawnloop N J /path/to/cmd [ARG...] */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

extern char **environ;

int
main(int argc, char **argv)
{
	long n, j, started = 0, running = 0;
	int status;

	if (argc < 4) {
		fputs("usage: spawnloop N J /path/to/cmd [ARG...]\n", stderr);
		return 2;
	}
	n = atol(argv[1]);
	j = atol(argv[2]);
	while (started < n || running > 0) {
		while (started < n && running < j) {
			pid_t pid;
			if (posix_spawn(&pid, argv[3], NULL, NULL, argv + 3,
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
