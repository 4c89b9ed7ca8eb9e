/* pool: the parts of the program shared between its files. */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "jobserver.h"
#include "loop.h"
#include "mux.h"

enum halt_when { HALT_NEVER, HALT_SOON, HALT_NOW };
enum halt_on { HALT_FAIL, HALT_SUCCESS, HALT_DONE };

/* The options, as parsed. */
struct conf {
	long slots;              /* -j */
	long maxargs;            /* -n (0: the job gets no value) */
	int xctx;                /* -X: as many items as fit, {} repeating
	                          * its word for each */
	int delim;               /* item delimiter byte */
	const char *argfile;     /* -a, or NULL for stdin */
	int keep, group, ungroup, tag;
	int64_t timeout, grace;  /* nanoseconds; timeout 0: none */
	long retries;
	int halt_when, halt_on;
	long halt_n;
	int halt_pct;            /* halt_n is a percentage of the jobs done */
	const char *joblog;
	int resume, resume_failed;
	int bar, eta;             /* --bar, --eta */
	long long total;         /* --total: the number of jobs, or -1 */
	int pipe;
	size_t block;
	int slots_given;         /* -j was given (with -S: slots per host) */
	int transfer, cleanup;   /* --transfer, --cleanup */
	char **returns;          /* --return PATTERNs */
	int nreturns;
	const char *workdir;     /* --workdir on remote hosts */
	long slurm_cpus;         /* --slurm-cpus, or 0 */
	const char *replace;     /* -I STR: STR stands for {} */
	int shell;               /* --shell: CMD is a line for sh -c */
	int dry_run, verbose;    /* --dry-run, -t */
	int quiet;               /* --quiet: no line for a killed job */
	int shuf;                /* --shuf */
	const char *results;     /* --results DIR or FILE.csv/.tsv/.json */
	int results_keep;        /* ... with -k: rows in input order */
	char **cmd;              /* CMD ARG..., NULL-terminated */
	int ncmd;
};

/* The output record of a job in the ordered (-k) and grouped modes: what
 * it printed while it could not write through, kept until its turn. */
enum rec_state { REC_FREE, REC_RUN, REC_DONE };
struct orec {
	unsigned long long seq;
	int state;
	struct buf spool[2];    /* stdout, stderr bytes held back */
	char *tag;              /* --tag prefix, or NULL */
	struct job *job;        /* while it runs */
	struct orec *next;      /* the queue of finished records (--group) */
};

/* The life of a job in its slot. The transitions are made by set_state
 * in pool.c, and only those its table allows:
 *
 *   FREE -> RUNNING            started (launch)
 *   RUNNING -> REAPED          its process exited, or it could not start
 *   REAPED -> FREE             done: both its pipes at end of file too
 *   REAPED -> RUNNING          failed, and runs again here (--retries)
 *   REAPED -> AWAIT            runs again on another host (-S)
 *   AWAIT -> RUNNING           a host has room for it
 *   AWAIT -> REAPED            no host is left for it (status 255)
 *
 * A REAPED job whose pipes are both at end of file is complete. */
enum job_state {
	JOB_FREE,        /* the slot holds no job */
	JOB_AWAIT,       /* -S: waiting for a host with a free slot */
	JOB_RUNNING,     /* started, its process not reaped yet */
	JOB_REAPED,      /* reaped; its output may still be in its pipes */
};

/* A job slot. */
struct job {
	int slot;                    /* 1..N */
	enum job_state state;
	pid_t pid;
	unsigned long long seq;
	int fd[2];                   /* read ends of stdout/stderr, or -1 */
	int paused[2];               /* not read until memory frees up */
	int infd;                    /* --pipe: our end of the job's stdin */
	struct buf blk;              /* --pipe: the block being fed */
	off_t bpos;                  /* ... or where it starts in the input
	                              * file (in.ranged: blk.len bytes) */
	size_t boff;                 /* bytes of it fed so far */
	int open;                    /* blk is the part read so far of a
	                              * block still being read (a view of
	                              * in.buf); own keeps the slot's buffer.
	                              * The slot is not free until the block
	                              * is complete, even if the job is done */
	struct buf own;
	int wstatus;                 /* as waitpid gave it */
	int timedout;                /* this attempt hit --timeout */
	int tries;                   /* attempts so far, less one */
	struct loop_timer *timer;    /* --timeout */
	struct pgroup *grp;          /* its process group, until reaped */
	int64_t start_mono;
	double start_wall;
	struct buf items;            /* the job's items, NUL-terminated */
	size_t *ioff;                /* offsets of the items in items.p */
	int nitems, icap;
	struct buf args;             /* expanded ARGs with replacements */
	char **argv;
	int argc_cap;
	struct buf tag;              /* --tag: "ITEMS\t" */
	struct mux_src src[2];       /* line mode: stdout, stderr */
	struct orec *rec;
	struct host *host;           /* -S: where it runs, or NULL */
	char **filev;                /* --transfer, --cleanup: the items */
	struct buf rets;             /* --return: the patterns expanded */
	char **retv;                 /* ... one string each */
	struct buf rcmd;             /* -S: the remote command or script */
	char **rargv;                /* -S: the local ssh or sh argv */
};

/* What a job runs. job_build makes it from the job (its command and
 * arguments, run here); hosts_wrap turns it into the ssh (or sh) command
 * that runs it on the job's host; job_start starts it. The strings belong
 * to the job and stay valid until the job is built again. */
struct launch {
	char *const *argv;
	const char *path;         /* argv[0]'s file, or NULL: search PATH */
	int in;                   /* its stdin, or -1: /dev/null */
	int deathsig;             /* sent to it when pool dies */
	unsigned long long seq;   /* {#}, POOL_SEQ */
	int slot;                 /* {%}, POOL_SLOT */
	char *const *files;       /* --transfer, --cleanup: the job's items;
	                           * else NULL (NULL-terminated vectors) */
	char *const *rets;        /* --return: the patterns expanded, or NULL */
};

/* input.c: items and blocks read lazily from stdin or --arg-file. */
struct input {
	int fd;
	int pollable;   /* the loop can watch fd; else reads never block */
	int ready;      /* the loop said fd is readable */
	int watched;
	int eof, err;
	int ranged;     /* --pipe from a regular file: blocks are ranges */
	off_t pos;      /* ranged: where the next block starts */
	int delim;
	int nul_seen;   /* warned of a NUL byte in an item */
	size_t last;    /* the last item's bytes, delimiter included */
	int last_delim; /* ... which did end with a delimiter */
	char *buf;
	size_t start, len, cap;
	size_t scan, sure;  /* --pipe from a pipe: see input_block_sure */
	unsigned long long nread;   /* items or blocks returned */
};

/* input_open: read items separated by DELIM from FILE (NULL or "-":
 * stdin); -1 with errno set when FILE cannot be opened. */
int input_open(struct input *in, const char *file, int delim);
/* input_item: 1 and the next item in *p, *n (valid until the next call),
 * 0 when reading would block (wait for readiness), -1 at the end. */
int input_item(struct input *in, const char **p, size_t *n);
/* input_unget: give back the item input_item last returned (once). */
void input_unget(struct input *in);
/* input_block: the same for --pipe: fills B with about SIZE bytes ending
 * at a record boundary; when in->ranged, B->p is left alone and the block
 * is the B->len bytes of the input file at *POS. */
int input_block(struct input *in, struct buf *b, off_t *pos, size_t size);
/* input_block_sure: --pipe from a pipe, while the block being read is
 * not complete (input_block returned 0): how many bytes at in->buf are
 * sure to be in it whatever comes next, that is up to the last delimiter
 * within SIZE bytes read so far. A job may be fed those already. */
size_t input_block_sure(struct input *in, size_t size);
/* input_blocks: prepare IN for --pipe blocks of SIZE bytes; a regular
 * file becomes ranged. */
void input_blocks(struct input *in, size_t size);
/* input_ahead: read towards a block of SIZE without taking it: 1 when
 * it is there (or the input has ended), 0 when reading would block. */
int input_ahead(struct input *in, size_t size);
/* input_count: the number of items left in a regular file, or -1. */
long long input_count(const struct input *in);

/* parse.c: option values that need more than lib/opt; each exits 125
 * with a message when the value is bad. */
/* parse_delim: -d C: the delimiter byte ('\t', '\0', '\x1e' or one
 * character). */
int parse_delim(const char *s);
/* parse_halt: --halt RULE into C's halt_when, halt_on, halt_n and
 * halt_pct. */
void parse_halt(const char *s, struct conf *c);

/* job.c: command templates, argv and environment, spawning. */
/* tmpl_init: parse C's ARGs into literal and replacement pieces, and
 * resolve CMD's path, once for all jobs. */
void tmpl_init(const struct conf *c);
/* env_init: the environment of every job: ours, with POOL_SEQ and
 * POOL_SLOT (filled in per job) and, unless NULL, MAKEFLAGS replaced. */
void env_init(const char *makeflags);
/* job_build: J's argv with its items (or sh -c LINE with --shell),
 * environment and --return files into X. */
void job_build(struct job *j, const struct conf *c, struct launch *x);
/* job_item_cost: how many bytes ITEM adds to a job's command line with
 * -X, at most (its words, their pointers; quoted with --shell). */
size_t job_item_cost(const char *item);
/* job_start: start X for J in its own process group with its output
 * pipes (none with -u) and --pipe's input pipe; 0, or -1 with errno set
 * when it could not be started. */
int job_start(struct job *j, const struct conf *c, const struct launch *x,
    int devnull);
/* job_command_line: J's argv as a shell would read it, in OUT (replaced,
 * NUL-terminated), for --joblog and SIGURG; never a raw newline or TAB. */
void job_command_line(const struct job *j, struct buf *out);

/* source.c: input sources: stdin, -a FILE, ::: WORDS, :::: FILES. */
void source_file(const char *file);         /* -a FILE */
/* source_split: take the sources after CMD ARG... (::: and the rest);
 * returns the number of words before them. */
int source_split(char **cmd, int ncmd);
int source_count(void);
/* source_shuf: --shuf, the jobs in a random order (every source is then
 * read whole first). */
void source_shuf(void);
void source_colsep(const char *re);         /* --colsep; exits 125 if bad */
int source_colsep_on(void);
void source_header(const char *s);          /* --header : or N */
int source_header_names(void);
/* source_setup: open the sources; IN is the one read lazily. Returns 1
 * when IN is a real input (to watch), 0 when every source is in memory. */
int source_setup(struct input *in, int delim);
/* source_next: append the next job's values to J: 1, 0 (reading would
 * block), -1 (no more). */
int source_next(struct input *in, struct job *j);
/* source_unget: take back the last values (one source only). */
void source_unget(struct input *in, struct job *j);
/* source_hold: take J's values from the FROM-th on back (one source
 * only); source_next gives them again, before any other. */
void source_hold(struct job *j, int from);
/* source_total: the number of jobs, MAXARGS items a job, LINES the
 * items left in the first source when it is read lazily (-1: unknown,
 * and so is the total). */
long long source_total(long maxargs, long long lines);
/* source_column: the 1-based column named NAME (N bytes), or -1. */
long source_column(const char *name, size_t n);

/* results.c: --results DIR or FILE.csv, .tsv, .json (exits 125 when it
 * cannot be made). results_fds: the files J writes its stdout and stderr
 * to (-1 if they cannot be made); with results_own_fds() they stay
 * results.c's, else the caller closes them after the spawn.
 * results_done: J's row; OLDEST is the lowest number of a job that
 * has not finished yet (-k holds the rows after it). results_close: 1
 * if a write failed. */
void results_open(const struct conf *c, long slots);
int results_fds(const struct job *j, int fd[2]);
int results_own_fds(void);
void results_done(const struct job *j, int64_t now,
    unsigned long long oldest);
int results_close(void);

/* hosts.c: -S/--sshlogin, jobs on other hosts over ssh. */
extern int hosts_on;          /* -S or --sshloginfile was given */
/* hosts_add: add the hosts of the comma-separated [N/]HOST LIST; FROM
 * names the option in messages. Exits 125 on a bad entry. */
void hosts_add(const char *list, const char *from);
/* hosts_add_file: hosts_add for each line of FILE but blank ones and
 * #-comments. */
void hosts_add_file(const char *file);
/* hosts_setup: connect to every host; returns the slots of all hosts. */
long hosts_setup(const struct conf *c, struct loop *l);
/* host_pick: the host with the most room, avoiding AVOID while another
 * has room; NULL when no host has a free slot. */
struct host *host_pick(const struct host *avoid);
/* host_take: J runs on H (takes one of its slots). */
void host_take(struct job *j, struct host *h);
/* host_name: the login J runs on, ":" for this host (joblog, --tag). */
const char *host_name(const struct job *j);
/* hosts_job_ended: J's attempt ended with STATUS; frees its host slot.
 * 1 when the host's connection failed (run J again elsewhere). */
int hosts_job_ended(struct job *j, int status, int may_rerun);
int hosts_reaped(pid_t pid, int ws);   /* 1: PID was a master */
int hosts_alive(void);                  /* 0 once every host has failed */
/* hosts_wrap: X (built for J) becomes the command that runs it on J's
 * host, when that is another host. */
void hosts_wrap(struct job *j, struct launch *x);
/* hosts_close: end every master connection (at exit). */
void hosts_close(void);
/* hosts_add_node: a node of the Slurm allocation, with SLOTS slots. */
void hosts_add_node(const char *name, long slots);

/* slurm.c: --slurm, jobs as steps of the Slurm allocation. */
extern int slurm_on;
void slurm_args(const char *s);          /* --slurm-args */
/* slurm_setup: the allocation's nodes become hosts; returns their slots
 * (exit 125 outside an allocation). */
long slurm_setup(const struct conf *c);
void slurm_slots(long slots);            /* the number of slots, once */
/* slurm_wrap: X (built for J) becomes the srun that runs it as a step
 * on NODE. */
void slurm_wrap(struct job *j, struct launch *x, const char *node);
/* slurm_scan: bytes of J's stderr, where srun reports failed nodes. */
void slurm_scan(struct job *j, const char *p, size_t n);
/* slurm_failed: srun said J's node or step failed (not the task). */
int slurm_failed(const struct job *j);

/* sched.c: when the next job may start: --delay, --load, --memfree. */
#define SCHED_PERIOD (250 * 1000000LL)  /* ns between looks at the load */
extern int sched_on;          /* one of them was given */
void sched_delay(const char *s);            /* --delay DUR */
void sched_load(const char *s, long ncpus); /* --load N or N% */
void sched_memfree(const char *s);          /* --memfree SIZE */
/* sched_init: the timers go on L. Testing aids: POOL_LOADAVG names the
 * file read instead of /proc/loadavg, POOL_MEMINFO instead of
 * /proc/meminfo, POOL_CGROUP the cgroup v2 directory instead of pool's. */
void sched_init(struct loop *l);
/* sched_shed: --memfree: 1 when the youngest of the NRUN jobs running
 * (never the last one) must be stopped, as memory is below half of
 * --memfree; looks at most once every SCHED_PERIOD (a timer wakes the
 * loop for the next look while two jobs or more run). */
int sched_shed(long nrun);
/* sched_hold: 1 when a job may not start now (a timer of the loop is
 * armed to wake it when the answer may change); BUSY jobs run. When none
 * runs, --load holds nothing back. */
int sched_hold(long busy);
/* sched_started: a job started at NOW (loop_now). */
void sched_started(int64_t now);
/* sched_why: why jobs are held back, in B (N bytes), for --bar and
 * SIGURG; its length, 0 when they are not. */
int sched_why(char *b, size_t n);

/* Parked jobs wait to run again out of their slots: a failed job for its
 * --retry-delay, a job --memfree stopped. sched_retry_wait: the wait
 * before retry number TRIES. sched_park: J (its slot, now free) is put
 * aside for WAIT ns: the slot gets a blank job, and the job its own
 * place, which is returned (valid until sched_unpark). sched_ready: a
 * parked job whose wait is over (any, if ALL), the longest due first;
 * NULL if none. sched_unpark: P goes back into the free SLOT. A timer of
 * the loop wakes it when a wait ends. */
extern int sched_retry_on;
void sched_retry_delay(const char *s);
int64_t sched_retry_wait(int tries);
struct job *sched_park(struct job *j, int64_t wait);
size_t sched_parked(void);
/* sched_parked_oldest: the lowest job number parked, or ULLONG_MAX. */
unsigned long long sched_parked_oldest(void);
struct job *sched_ready(int all);
void sched_unpark(struct job *p, struct job *slot);
/* sched_list: SIGURG's line for each parked job, appended to B. */
void sched_list(struct buf *b);

/* output.c: the output modes. */
/* out_init: set up the output mode C asks for, for the slots at JOBS, N
 * of them at once at first (the -k window is made for that many). */
void out_init(const struct conf *c, struct loop *l, struct job *jobs,
    long njobs);
/* out_used: slots 1..N of JOBS are in use now (N never shrinks). */
void out_used(long n);
/* out_job_start: J (its seq set) is about to start: its record, tag and
 * line sources. */
void out_job_start(struct job *j);
/* out_readable: J's stdout (WHICH 0) or stderr (1) is readable: read it;
 * at end of file the descriptor is closed and j->fd[WHICH] set to -1. */
void out_readable(struct job *j, int which);
/* out_job_done: J is complete: its output goes out when its turn comes
 * (-k, --group). */
void out_job_done(struct job *j);
/* out_job_retry: J failed and runs again; with -k or --group the output
 * it held back is dropped, so only the last attempt's goes out. */
void out_job_retry(struct job *j);
void out_job_retag(struct job *j);   /* --tag: J moved to another host */
int out_flush(void);        /* 0, or the errno of a failed write */
/* out_window_full: 1 when job SEQ may not start yet: -k or --group would
 * hold more records than the ring has (the oldest is still pending). */
int out_window_full(unsigned long long seq);
/* out_skip: job SEQ will not run (--resume): the order moves past it. */
void out_skip(unsigned long long seq);
extern struct mux_out out_std[2];

/* joblog.c: --joblog, --resume, --resume-failed. */
/* joblog_open: with --resume, read which jobs the log has; open it for
 * appending (truncated without --resume) and write its header. Exits 125
 * when it cannot. */
void joblog_open(const struct conf *c);
/* joblog_skip: 1 when job SEQ is logged as done (--resume) or done well
 * (--resume-failed), so it is not run again. */
int joblog_skip(unsigned long long seq);
/* joblog_write: the log line of J, which ended at NOW_MONO. */
void joblog_write(const struct job *j, int64_t now_mono);
/* joblog_close: close the log (at exit). */
void joblog_close(void);

/* progress.c: --bar and --eta. */
/* progress_init: show a progress line if ENABLED (GNU parallel's ETA line
 * if ETA) and stderr is a terminal; TOTAL jobs, or -1 while unknown. */
void progress_init(int enabled, int eta, long long total);
/* progress_total: the number of jobs is now known to be TOTAL. */
void progress_total(long long total);
/* progress_update: DONE jobs have ended, FAILED of them failed, RUNNING
 * run; redrawn at most ten times a second unless FORCE. */
void progress_update(unsigned long long done, unsigned long long failed,
    unsigned long long running, int force);
/* progress_clear, progress_redraw: erase the line before output is
 * written to the terminal, draw it again afterwards. */
void progress_clear(void);
void progress_redraw(void);
/* progress_wrote: the N bytes at P went out on FD; the line is not drawn
 * while they end a partial line on the terminal. */
void progress_wrote(int fd, const char *p, size_t n);
/* progress_active: 1 when the line is on (--bar or --eta, and stderr is
 * a terminal). */
int progress_active(void);
/* progress_end: draw the line a last time, on a line of its own, and end
 * it with a newline. */
void progress_end(void);

#endif
