/* spawnloop: the physical limit for a process pool. Runs CMD ARG... I for
 * I = 1..N, keeping J running at once and reaping with wait; nothing else.
 * CMD is a full path, resolved by the caller. The job number is appended
 * as an argument because pool, xargs and GNU parallel all pass the item:
 * coreutils' true, for one, does more work when it has an argument.
 *
 * A process starts cheapest with vfork + execve: the child borrows the
 * parent's memory until it execs, so nothing is copied. That is the
 * default. -p starts each with posix_spawn instead, for comparison:
 * glibc's posix_spawn is the same clone(CLONE_VM | CLONE_VFORK) plus an
 * mmap and munmap of a stack for the child on every call, which shows
 * when the job itself costs little.
 * usage: spawnloop [-p] N J /path/to/cmd [ARG...] */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int
main(int argc, char **argv)
{
	long n, j, started = 0, running = 0;
	char num[32], **av;
	int status, k, use_spawn = 0;

	if (argc > 1 && strcmp(argv[1], "-p") == 0) {
		use_spawn = 1;
		argc--;
		argv++;
	}
	if (argc < 4) {
		fputs("usage: spawnloop [-p] N J /path/to/cmd [ARG...]\n",
		    stderr);
		return 2;
	}
	n = atol(argv[1]);
	j = atol(argv[2]);
	k = argc - 3;
	av = calloc(k + 2, sizeof *av);
	if (av == NULL)
		return 1;
	memcpy(av, argv + 3, k * sizeof *av);
	av[k] = num;
	while (started < n || running > 0) {
		while (started < n && running < j) {
			pid_t pid;
			snprintf(num, sizeof num, "%ld", started + 1);
			if (use_spawn) {
				if (posix_spawn(&pid, av[0], NULL, NULL, av,
				    environ) != 0) {
					perror("posix_spawn");
					return 1;
				}
			} else {
				pid = vfork();
				if (pid == 0) {
					execve(av[0], av, environ);
					_exit(127);
				}
				if (pid < 0) {
					perror("vfork");
					return 1;
				}
			}
			started++;
			running++;
		}
		if (wait(&status) > 0) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fputs("spawnloop: a job failed\n", stderr);
				return 1;
			}
			running--;
		}
	}
	return 0;
}
