/* mux: line-safe multiplexing of many output streams into one.
 *
 * Each source (a child's stdout or stderr pipe) has a line buffer; only
 * whole lines leave it, each preceded by the source's prefix, so lines of
 * different sources never mix. Lines are gathered in the sink's large
 * buffer and written in big blocks: the per-line cost is one memchr and
 * one memcpy (with a prefix of up to 32 bytes, lines are searched and
 * copied a block of 16 or 8 bytes at a time: a nanosecond or two for a
 * short line). A line that outgrows the source's
 * limit is emitted in pieces, every piece but the last ended by the sink's
 * continuation mark. A prefix may carry the local time (mux_src_prefix). */
#ifndef CONC_MUX_H
#define CONC_MUX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mux_out {
	int fd;
	char *buf;
	size_t len, cap;
	int err;            /* errno of the first failed write, else 0 */
	const char *cont;   /* ends a piece of an over-long line; default "\n" */
	/* cancel: if set, asked before every write; once it returns
	 * nonzero, only what can be written without waiting is written and
	 * the rest of the flush is abandoned with err = ECANCELED. Lets a
	 * program that must stop (SIGINT, a deadline) get out of a write to
	 * a stalled reader; the signal must interrupt the write (no
	 * SA_RESTART: see loop_add_signal_intr). */
	int (*cancel)(void);
	/* deadline: if set, asked before every write: a CLOCK_MONOTONIC
	 * time in ns (-1: none). A write to a pipe, socket or terminal
	 * waits for room no longer than that; past it the flush acts as
	 * cancelled. Lets a program's loop timer (a --timeout) get its
	 * turn while the reader has stalled, without a signal. */
	int64_t (*deadline)(void);
	int may_stall;      /* fd is a pipe, socket or terminal */
	char *rbuf;         /* mux_src_read's buffer, shared by the sources */
};

struct mux_src {
	struct mux_out *out;
	char *buf;
	size_t len, cap, max;
	const char *prefix; /* written before every line (may be "") */
	size_t plen;
	const char *suffix; /* written before every newline (may be "") */
	size_t slen;
	int eof;
	int raw;            /* pass bytes through as they are: no prefix,
	                     * no line handling, nothing added at the end */
	unsigned long long lines, bytes; /* emitted so far */
	/* watch: if set, called with each run of complete lines (N bytes
	 * ending with '\n') before they are emitted, and with the held
	 * partial line (no '\n') when the source finishes. Costs nothing
	 * when NULL; may be cleared by the callback. */
	void (*watch)(struct mux_src *s, const char *p, size_t n, void *arg);
	void *watch_arg;
	char *own;          /* the prefix copy made by mux_src_prefix */
	size_t clock_at[4]; /* where in it the clock goes */
	int nclock;
	long long clock_sec;
};

/* In a prefix given to mux_src_prefix, this byte stands for the clock. */
#define MUX_CLOCK '\001'

/* mux_out_init: a sink writing to FD through a buffer of CAP bytes.
 * Returns 0, or -1 on ENOMEM. */
int mux_out_init(struct mux_out *o, int fd, size_t cap);
void mux_out_free(struct mux_out *o);

/* mux_out_write: append raw bytes to the sink (flushing as needed). */
void mux_out_write(struct mux_out *o, const void *p, size_t n);

/* mux_out_flush: write everything buffered, blocking until done (a full
 * pipe blocks us, which is how back-pressure reaches the sources).
 * Returns 0, or -1 with o->err set (EPIPE, EIO...); after an error the
 * sink discards further output. */
int mux_out_flush(struct mux_out *o);

/* mux_src_init: a source feeding OUT, PREFIX before each line, SUFFIX
 * before each newline, holding partial lines of up to MAX bytes.
 * Returns 0, or -1 on ENOMEM. */
int mux_src_init(struct mux_src *s, struct mux_out *out, const char *prefix,
    const char *suffix, size_t max);
void mux_src_free(struct mux_src *s);

/* mux_src_read: read what FD has (one read call, up to 256 KiB, into a
 * buffer the sink allocates once and shares among its sources) and pass
 * every complete line to the sink. Returns the bytes read, 0 at end of
 * file (the held partial line is then emitted with a newline), or -1
 * with errno set (EAGAIN for a non-blocking FD with nothing to read).
 * Not to be called from a watch callback (the buffer is in use). */
ssize_t mux_src_read(struct mux_src *s, int fd);

/* mux_src_feed: the same for bytes already in memory. */
void mux_src_feed(struct mux_src *s, const char *p, size_t n);

/* mux_src_prefix: replace the prefix with a copy of PREFIX in which each
 * MUX_CLOCK byte (up to 4) becomes the local time "HH:MM:SS" at which the
 * lines are read. May be called again (a new job, a new prefix). Returns
 * 0, or -1 on ENOMEM (the old prefix stays). */
int mux_src_prefix(struct mux_src *s, const char *prefix);

/* mux_src_finish: emit the held partial line, ended with a newline. */
void mux_src_finish(struct mux_src *s);

#endif
