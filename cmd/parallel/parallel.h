/* parallel: what the parts of the program share. */
#ifndef PARALLEL_H
#define PARALLEL_H

#include <stdint.h>
#include <sys/types.h>

#include "loop.h"
#include "mux.h"
#include "pgroup.h"

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
	struct pgroup *grp;  /* its process group while the leader runs */
	int out[2];          /* our ends of its stdout/stderr pipes (-1: none) */
	int file[2];         /* --group: the spool files of stdout/stderr */
	struct mux_src src[2];
	int in;              /* --tee: our end of its stdin pipe (-1: none) */
	size_t tee_off;      /* --tee: bytes of the current chunk it has */
	int runs;            /* runs started */
	int status;          /* exit status of the last run (128+N: signal) */
	int stopping;        /* we asked it to stop: never restart it */
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

/* spec.c: turning the command line and a Procfile into jobs. */
void spec_jobs(char **cmds, int ncmds);
void spec_procfile(const char *path);
void spec_names(const char *list);
int spec_target(const char *what, const char *s);
void spec_check_prefix(const char *fmt);
char *spec_prefix(const struct job *j, int colour);

/* run.c: the engine. */
struct loop *run_loop(void);
void run_start(void);
int run_wait(void);
int run_summary(int status);

/* tee.c: parallel's stdin copied to every job. */
extern int tee_error;     /* reading stdin failed: status 125 */
void tee_init(struct loop *l);
void tee_start(void);
/* tee_attach: a pipe for J's stdin; returns the child's end, -1 when the
 * input has ended (give it /dev/null), -2 on failure (errno set). */
int tee_attach(struct job *j);
void tee_detach(struct job *j);

#endif
