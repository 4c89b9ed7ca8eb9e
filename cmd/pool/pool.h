/* pool: the parts of the program shared between its files. */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "jobserver.h"
#include "loop.h"
#include "mux.h"

enum halt_when { HALT_NEVER, HALT_SOON, HALT_NOW };
enum halt_on { HALT_FAIL, HALT_SUCCESS, HALT_DONE };

/* The options, as parsed. */
struct conf {
	long slots;              /* -j */
	long maxargs;            /* -n */
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
	int bar;
	int pipe;
	size_t block;
	int slots_given;         /* -j was given (with -S: slots per host) */
	int transfer, cleanup;   /* --transfer, --cleanup */
	char **returns;          /* --return PATTERNs */
	int nreturns;
	const char *workdir;     /* --workdir on remote hosts */
	const char *replace;     /* -I STR: STR stands for {} */
	int shell;               /* --shell: CMD is a line for sh -c */
	int dry_run, verbose;    /* --dry-run, -t */
	int quiet;               /* --quiet: no line for a killed job */
	const char *results;     /* --results DIR or FILE.csv/.tsv/.json */
	char **cmd;              /* CMD ARG..., NULL-terminated */
	int ncmd;
};

/* A growable byte buffer. */
struct buf {
	char *p;
	size_t len, cap;
};

int buf_reserve(struct buf *b, size_t more);
void buf_add(struct buf *b, const void *p, size_t n);
void buf_free(struct buf *b);

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

/* A job slot. A slot is busy from the spawn until the job has exited and
 * both of its output pipes have reached end of file. */
struct job {
	int slot;                    /* 1..N */
	int busy;                    /* from launch to completion */
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
	                              * in.buf); own keeps the slot's buffer */
	struct buf own;
	int reaped, wstatus, timedout, tries;
	struct loop_timer *timer;    /* --timeout, then the kill grace */
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
	int await;                   /* waiting for a host to run on */
	char *rcmd;                  /* -S: the remote command or script */
	char **rargv;                /* -S: the local ssh or sh argv */
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

/* parse.c: -d C (the byte) and --halt RULE (into C); exit 125 if bad. */
int parse_delim(const char *s);
void parse_halt(const char *s, struct conf *c);

/* job.c: command templates, argv and environment, spawning. */
int tmpl_init(const struct conf *c);
int tmpl_uses_items(void);
void env_init(const char *makeflags);
/* job_build: J's argv (CMD and ARGs expanded, or sh -c LINE). */
void job_build(struct job *j, const struct conf *c);
int job_spawn(struct job *j, const struct conf *c, int devnull);
void job_command_line(const struct job *j, struct buf *out);
const char *job_resolved_path(void);
/* job_expand: append TMPL with J's replacement strings expanded to B. */
void job_expand(const struct job *j, const char *tmpl, struct buf *b);

/* source.c: input sources: stdin, -a FILE, ::: WORDS, :::: FILES. */
void source_file(const char *file);         /* -a FILE */
/* source_split: take the sources after CMD ARG... (::: and the rest);
 * returns the number of words before them. */
int source_split(char **cmd, int ncmd);
int source_count(void);
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
/* source_column: the 1-based column named NAME (N bytes), or -1. */
long source_column(const char *name, size_t n);

/* results.c: --results DIR or FILE.csv, .tsv, .json (exits 125 when it
 * cannot be made). results_fds: the files J writes its stdout and stderr
 * to (-1 if they cannot be made); with results_own_fds() they stay
 * results.c's, else the caller closes them after the spawn.
 * results_done: J's row. results_close: 1 if a write failed. */
void results_open(const struct conf *c, long slots);
int results_fds(const struct job *j, int fd[2]);
int results_own_fds(void);
void results_done(const struct job *j, int64_t now);
int results_close(void);

/* hosts.c: -S/--sshlogin, jobs on other hosts over ssh. */
struct proc_spec;
extern int hosts_on;
void hosts_add(const char *list, const char *from);
void hosts_add_file(const char *file);
/* hosts_setup: connect to every host; returns the slots of all hosts. */
long hosts_setup(const struct conf *c, struct loop *l);
/* host_pick: the host with the most room, avoiding AVOID while another
 * has room; NULL when no host has a free slot. */
struct host *host_pick(const struct host *avoid);
void host_take(struct job *j, struct host *h);
const char *host_name(const struct job *j);
/* hosts_job_ended: J's attempt ended with STATUS; frees its host slot.
 * 1 when the host's connection failed (run J again elsewhere). */
int hosts_job_ended(struct job *j, int status, int may_rerun);
int hosts_reaped(pid_t pid, int ws);   /* 1: PID was a master */
int hosts_alive(void);                  /* 0 once every host has failed */
int hosts_spec(struct job *j, struct proc_spec *sp);
void hosts_close(void);

/* output.c: the output modes. */
void out_init(const struct conf *c, struct loop *l, struct job *jobs,
    long njobs);
void out_job_start(struct job *j);
void out_readable(struct job *j, int which);
void out_job_done(struct job *j);
/* out_job_retry: J failed and runs again; with -k or --group the output
 * it held back is dropped, so only the last attempt's goes out. */
void out_job_retry(struct job *j);
void out_job_retag(struct job *j);   /* --tag: J moved to another host */
int out_flush(void);        /* 0, or the errno of a failed write */
int out_window_full(unsigned long long seq);
void out_skip(unsigned long long seq);
extern struct mux_out out_std[2];

/* joblog.c: --joblog, --resume, --resume-failed. */
int joblog_open(const struct conf *c);
int joblog_skip(unsigned long long seq);
void joblog_write(const struct job *j, int64_t now_mono);
void joblog_close(void);

/* progress.c: --bar, the progress line. */
void progress_init(int enabled, long long total);
void progress_total(long long total);
void progress_update(unsigned long long done, unsigned long long failed, int force);
void progress_clear(void);
void progress_redraw(void);
int progress_active(void);
void progress_end(void);

#endif
