/* parallel: what the parts of the program share. */
#ifndef PARALLEL_H
#define PARALLEL_H

#include <stdint.h>
#include <sys/types.h>

#include "loop.h"
#include "mux.h"

enum job_state {
	JOB_RUNNING,  /* its leader process has not been reaped yet */
	JOB_WAITING,  /* failed, and waits for its restart delay */
	JOB_DONE,     /* ended for good */
};

struct job {
	char *name;
	char *cmd;           /* the shell command */
	int index;           /* 1-based position on the command line */
	enum job_state state;
	pid_t pid;           /* the running leader, or 0 */
	pid_t pgid;          /* process group of the last run */
	int out[2];          /* our ends of its stdout/stderr pipes (-1: none) */
	int file[2];         /* --group: the spool files of stdout/stderr */
	struct mux_src src[2];
	int in;              /* --tee: our end of its stdin pipe (-1: none) */
	size_t tee_off;      /* --tee: bytes of the current chunk it has */
	int runs;            /* runs started */
	int status;          /* exit status of the last run (128+N: signal) */
	int stopping;        /* we asked it to stop: never restart it */
	int swept;           /* its group got our stop signal */
	int leftover;        /* its group outlived its leader (see run.c) */
	int order;           /* 1-based rank among the jobs that ended */
	int64_t t_first, t_start, t_end;
	struct loop_timer *timer; /* --restart-delay */
};

enum { SUCCESS_ALL = -1, SUCCESS_FIRST = -2, SUCCESS_LAST = -3 };
enum { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct opts {
	const char *names;
	const char *procfile;
	const char *prefix;      /* NULL: the default padded name and "| " */
	int no_prefix;
	int color;
	int group;
	int tee;
	const char *input;       /* --input NAME|INDEX */
	int kill_others, kill_others_on_fail;
	const char *success;
	long long restart;
	int64_t restart_delay, timeout, grace;
	int summary;
	uint64_t max_line;
};

extern struct opts opt;
extern struct job *jobs;
extern int njobs;

/* spec.c: turning the command line and a Procfile into jobs. Each exits
 * 125 with a message on bad input. */
/* spec_jobs: one job per shell command in CMDS, named 1, 2, ... */
void spec_jobs(char **cmds, int ncmds);
/* spec_procfile: one job per "name: command" line of the Procfile PATH
 * ("-": stdin). */
void spec_procfile(const char *path);
/* spec_names: --names: the comma-separated LIST names the jobs in turn. */
void spec_names(const char *list);
/* spec_target: the index of the job named S, or else numbered S (from
 * 1); WHAT is the option, for the message when there is none. */
int spec_target(const char *what, const char *s);
/* spec_check_prefix: --prefix FMT uses only known fields. */
void spec_check_prefix(const char *fmt);
/* spec_prefix: J's line prefix for its current run, malloc'ed: the
 * expanded format, with MUX_CLOCK where the time goes, in colour if
 * COLOUR. */
char *spec_prefix(const struct job *j, int colour);

/* run.c: the engine. */
/* run_loop: everything that can fail for lack of resources before any
 * job starts (the event loop, signals, descriptors, output sinks, spool
 * files; --input and --success resolved to jobs); returns the loop. */
struct loop *run_loop(void);
/* run_start: start every job (and --tee's reading of stdin). */
void run_start(void);
/* run_wait: run the loop until every job has ended for good; returns
 * parallel's exit status (see --success). */
int run_wait(void);
/* run_summary: --summary: one line per job on stderr; returns STATUS, or
 * 125 when the summary could not be written. */
int run_summary(int status);

/* tee.c: parallel's stdin copied to every job. */
extern int tee_error;     /* reading stdin failed: status 125 */
/* tee_init: watch stdin in L (or read it directly where L cannot). */
void tee_init(struct loop *l);
/* tee_start: begin reading stdin once the first jobs have their pipes. */
void tee_start(void);
/* tee_attach: a pipe for J's stdin; returns the child's end, -1 when the
 * input has ended (give it /dev/null), -2 on failure (errno set). */
int tee_attach(struct job *j);
/* tee_detach: J no longer takes stdin (it ended, or its pipe broke):
 * close our end; the others go on without waiting for it. */
void tee_detach(struct job *j);

#endif
