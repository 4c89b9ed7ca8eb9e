/* The interface between loop.c and its backends (loop_epoll.c, loop_poll.c). */
#ifndef CONC_LOOP_IMPL_H
#define CONC_LOOP_IMPL_H

struct loop;
struct loop_be;

/* be_new: backend state, or NULL with errno set. */
struct loop_be *be_new(void);
void be_free(struct loop_be *b);
/* be_set: watch FD for EVENTS; ADD is nonzero on the first call for FD. */
int be_set(struct loop_be *b, int fd, unsigned events, int add);
void be_del(struct loop_be *b, int fd);
/* be_wait: wait up to TIMEOUT_MS (-1: forever) and call loop_ready for each
 * ready descriptor. Returns the count, 0 on timeout or EINTR, -1 on error. */
int be_wait(struct loop_be *b, struct loop *l, int timeout_ms);

/* Implemented by loop.c, called by be_wait. */
void loop_ready(struct loop *l, int fd, unsigned events);

#endif
