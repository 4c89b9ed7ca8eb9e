/* queue: what queue.c shares with run.c (queue run) and fifo.c (queue
 * fifo). */
#ifndef QUEUE_QUEUE_H
#define QUEUE_QUEUE_H

#include "loop.h"
#include "queueobj.h"

/* The --help text of every subcommand. */
extern const char queue_help[];

/* queue_open_or_die: open queue NAME, creating it with the defaults if
 * it is missing; exit 125 after saying why it cannot be. */
void queue_open_or_die(struct queue *q, const char *name);

/* queue_put_meta: put M into Q with META, waiting while it is full.
 * Returns 0, or 1 (after a message) if Q is closed. */
int queue_put_meta(struct queue *q, const struct q_msg *m,
    const struct q_meta *meta);

/* queue_say_closed: say on stderr that Q refused a put, being closed
 * (and how to reopen it) or removed. */
void queue_say_closed(const struct queue *q);

/* queue_thread: start FN in a thread of its own that takes no signals
 * (the loop L's handlers run in the main thread), with the pipes REQ
 * (requests to it) and NOTE (its reports, on which L calls CB) made
 * first; exit 125 if it cannot be. */
void queue_thread(struct loop *L, void *(*fn)(void *), int req[2],
    int note[2], loop_fd_fn *cb);

/* queue fifo (fifo.c): serve the FIFO PATH for queue NAME, which EXISTS
 * already or not; the other fields are the options. Returns the exit
 * status. */
struct fifo_conf {
	const char *name, *path;
	int out, null, exists;
	unsigned mode;
};
int queue_fifo(const struct fifo_conf *c);

/* cmd_run: queue run (run.c). */
int cmd_run(int argc, char **argv);

#endif
