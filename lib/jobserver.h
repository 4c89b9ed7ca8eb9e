/* jobserver: the GNU make jobserver protocol, as a client and as a server.
 *
 * A jobserver is a pipe (or a named FIFO) holding one byte per free job
 * slot. Every client owns one implicit slot; for each further job it runs
 * at the same time it reads one byte, and it writes the same byte back when
 * that job ends. Clients find the jobserver in MAKEFLAGS:
 * "--jobserver-auth=R,W" (inherited descriptors, make 4.3 and older) or
 * "--jobserver-auth=fifo:PATH" (make 4.4); the last such option wins.
 *
 * Reading a token must never block the caller's event loop, and another
 * process may take the byte between our poll and our read. The inherited
 * read descriptor shares its file description (and so its O_NONBLOCK flag)
 * with make and every sibling, so we never change its flags: we open the
 * same pipe again through /proc/self/fd, which gives us a private file
 * description that can be non-blocking. */
#ifndef CONC_JOBSERVER_H
#define CONC_JOBSERVER_H

#include <stddef.h>

struct jobserver {
	int rfd;             /* private non-blocking read end (poll this) */
	int wfd;             /* where tokens go back */
	int srv[2];          /* the pipe we serve, or -1 */
	unsigned char *held; /* tokens taken and not yet returned */
	size_t nheld, cap;
};

/* jobserver_init: an empty jobserver (no descriptors, no tokens). */
void jobserver_init(struct jobserver *js);

/* jobserver_from_env: look for a jobserver in MAKEFLAGS (may be NULL).
 * Returns 1 when one was found and opened, 0 when MAKEFLAGS names none,
 * -1 when it names one that cannot be used (closed or wrong descriptors,
 * a missing FIFO); *why then says why, for a warning. */
int jobserver_from_env(struct jobserver *js, const char *makeflags,
    const char **why);

/* jobserver_serve: become a jobserver with TOKENS free tokens (the
 * caller's own implicit slot not included). The pipe's descriptors are
 * inherited by children (not close-on-exec). Returns 0, or -1 with errno. */
int jobserver_serve(struct jobserver *js, int tokens);

/* jobserver_makeflags: the MAKEFLAGS value to give children of a server
 * with JOBS slots: the options of OLD (may be NULL) except its -j and
 * jobserver options, then "-jJOBS --jobserver-auth=R,W", then OLD's
 * " -- VAR=value" part if any. Returns a malloc'ed string, or NULL. */
char *jobserver_makeflags(const struct jobserver *js, int jobs,
    const char *old);

/* jobserver_take: take one token without blocking. Returns 1 when a
 * token was taken, 0 when none is free now (poll rfd for LOOP_IN and try
 * again), -1 with errno on failure (the jobserver is gone). */
int jobserver_take(struct jobserver *js);

/* jobserver_give: give back one held token (no-op when none is held). */
void jobserver_give(struct jobserver *js);

/* jobserver_add: a server puts one more token in its pipe (its number of
 * slots has grown). Returns 0, or -1 with errno. */
int jobserver_add(struct jobserver *js);

/* jobserver_drop: a server forgets one held token instead of giving it
 * back, which takes it out of circulation (its number of slots has
 * shrunk); no-op when none is held. */
void jobserver_drop(struct jobserver *js);

/* jobserver_give_all: give back every held token (call on every exit
 * path: a lost token lowers the whole build's parallelism for good). */
void jobserver_give_all(struct jobserver *js);

/* jobserver_free: give back all tokens, close our descriptors. */
void jobserver_free(struct jobserver *js);

#endif
