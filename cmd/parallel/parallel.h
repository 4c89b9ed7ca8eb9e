/* parallel: what the parts of the program share. */
#ifndef PARALLEL_H
#define PARALLEL_H

#include <stdint.h>
#include <sys/types.h>

#include "loop.h"
#include "mux.h"
#include "pgroup.h"

enum job_state {
	JOB_PENDING,  /* not started yet: waits for its dependencies or -m */
	JOB_RUNNING,  /* its leader process has not been reaped yet */
	JOB_WAITING,  /* ended, and waits for its restart delay */
	JOB_DONE,     /* ended for good (or never started) */
};

/* When a job counts as ready (--ready). */
enum ready_kind {
	READY_START,  /* once started (no --ready) */
	READY_LINE,   /* a line of its output matches a regex */
	READY_TCP,    /* a TCP connection succeeds */
	READY_FILE,   /* a path exists */
	READY_EXIT,   /* it exited 0 */
};

struct job {
	char *name;
	char *cmd;           /* the shell command */
	int index;           /* 1-based position on the command line */
	int entry, copy;     /* --port: its 0-based command (Procfile entry)
	                      * and, with --formation, 1-based copy */
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
	int stopped;         /* we stopped it (or ended it unstarted): it is
	                      * not restarted, and its status is no failure */
	int64_t delay;       /* the next restart delay (-1: not yet set) */
	/* stack.c: readiness and dependencies */
	enum ready_kind ready_kind;
	const char *ready_cond;  /* the condition as given */
	int ready_procfile;      /* it was given in the Procfile */
	void *ready_re;          /* READY_LINE: its regex_t */
	struct addrinfo *addrs;  /* READY_TCP: where to connect */
	struct addrinfo *next_addr;
	int sock;                /* READY_TCP: a connect in progress, or -1 */
	int *after;              /* indexes of the jobs it waits for */
	int nafter;
	int ready;               /* it has become ready (and stays so) */
	int64_t t_ready;
	struct loop_timer *check, *ready_timer;
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
	int pty;                 /* --pty */
	int tee;
	const char *input;       /* --input NAME|INDEX */
	int input_job;           /* its index once the jobs are known; -1 */
	int kill_others, kill_others_on_fail;
	const char *success;
	int success_of;          /* SUCCESS_* or a job's index, once known */
	long long restart;        /* LLONG_MAX: always */
	int restart_on_exit;      /* --restart-on exit */
	int64_t restart_delay, restart_max, timeout, grace;
	char **ready, **after;    /* --ready, --after as given */
	int nready, nafter;
	int nready_procfile;      /* how many of ready[] the Procfile gave */
	int64_t ready_timeout;
	int no_ready_line;
	int max;                  /* -m: at most this many at once (0: all) */
	char **env;               /* -e: env files, in order */
	int nenv;
	int no_env;               /* --no-env: not the .env beside -f FILE */
	long port;                /* --port BASE (0: none) */
	const char *formation;
	char **teardown;          /* --teardown commands */
	int nteardown;
	int summary;
	int json;                 /* --json: the summary as one JSON object */
	uint64_t max_line;
};

extern struct opts opt;
extern struct job *jobs;
extern int njobs;
extern int nteardown;     /* --teardown commands, at jobs[njobs...] */

/* spec.c: turning the command line and a Procfile into jobs. Each exits
 * 125 with a message on bad input. */
/* spec_jobs: one job per shell command in CMDS, named 1, 2, ... */
void spec_jobs(char **cmds, int ncmds);
/* spec_procfile: one job per "name: command" line of the Procfile PATH
 * ("-": stdin); its "#parallel: OPTIONS" lines go to spec_directives
 * (an argv, with spec_ndirectives words, argv[0] included). */
extern char **spec_directives;
extern int spec_ndirectives;
void spec_procfile(const char *path);
/* spec_names: --names: the comma-separated LIST names the jobs in turn. */
void spec_names(const char *list);
/* spec_target: the index of the job named S, or else numbered S (from
 * 1); WHAT is the option, for the message when there is none. */
int spec_target(const char *what, const char *s);
/* spec_env_file: load the KEY=VALUE lines of PATH into our environment
 * (foreman's rules: '...', "..." with \n and \X); a missing file is
 * ignored unless MUST_EXIST. */
void spec_env_file(const char *path, int must_exist);
/* spec_procfile_env: the .env beside the Procfile PROCFILE, if any. */
void spec_procfile_env(const char *procfile);
/* spec_teardown: --teardown: N commands after the others in jobs[]. */
void spec_teardown(char **cmds, int n);
/* spec_formation: --formation LIST: copies of the Procfile entries. */
void spec_formation(const char *list);
/* spec_check_prefix: --prefix FMT uses only known fields. */
void spec_check_prefix(const char *fmt);
/* spec_prefix: J's line prefix for its current run, malloc'ed: the
 * expanded format, with MUX_CLOCK where the time goes, in colour if
 * COLOUR. */
char *spec_prefix(const struct job *j, int colour);

/* stack.c: readiness (--ready) and dependencies (--after). */
/* stack_spec: resolve --ready and --after; an unknown name, a bad
 * condition or a cycle is 125 with one line. */
void stack_spec(void);
/* stack_init: watch readiness from loop L. */
void stack_init(struct loop *l);
/* stack_started: a run of J has started: start its readiness checks (J
 * with no --ready is ready now). */
void stack_started(struct job *j);
/* stack_exited: a run of J has ended with J->status: stop its checks
 * (--ready exit: ready if the status is 0). */
void stack_exited(struct job *j);
/* stack_deps_ready: every job J waits for is ready. */
int stack_deps_ready(const struct job *j);
/* stack_is_dep: some job that has not started waits for J. */
int stack_is_dep(const struct job *j);
/* stack_stop: J ends for good: cancel its timers. */
void stack_stop(struct job *j);

/* run.c: the engine. */
/* run_ready: J has become ready (called by stack.c). */
void run_ready(struct job *j);
/* run_halt: stop the stack as --kill-others does, the exit status
 * STATUS (called by stack.c for --ready-timeout). */
void run_halt(int status);
/* run_setup: everything that can fail for lack of resources before any
 * job starts (the event loop, signals, descriptors, output sinks, spool
 * files); returns the loop. */
struct loop *run_setup(void);
/* run_start: start the jobs that wait for nothing (and --tee's reading
 * of stdin). */
void run_start(void);
/* run_wait: run the loop until every job has ended for good; returns
 * parallel's exit status (see --success). */
int run_wait(void);
/* run_summary: --summary: one line per job on stderr (--json: one JSON
 * object); returns STATUS, or 125 when the summary could not be
 * written. */
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
