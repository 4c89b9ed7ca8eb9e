/* loop: one event loop for descriptors, timers and signals.
 *
 * The backend (epoll on Linux, poll elsewhere) is chosen at build time
 * (make LOOP=poll forces poll). Timers use absolute deadlines on
 * CLOCK_MONOTONIC. Signals are never handled inside a signal handler: the
 * handler only writes the signal number to a self-pipe, and the loop calls
 * the callback from loop_run_once like any other event. The handler is
 * safe in a vfork child before its exec (proc_spawn): there the signal
 * gets its default action, so the children of a program whose only
 * handlers are the loop's need not reset them (proc_spec's sigreset). */
#ifndef CONC_LOOP_H
#define CONC_LOOP_H

#include <signal.h>
#include <stdint.h>

enum {
	LOOP_IN = 1,   /* readable (or at end of file) */
	LOOP_OUT = 2,  /* writable */
	LOOP_HUP = 4,  /* hang-up or error (reported whatever was asked);
	                * asked alone, it watches for nothing else (a
	                * pipe's reader going away, say) */
};

struct loop;
struct loop_timer;

typedef void loop_fd_fn(struct loop *l, int fd, unsigned events, void *arg);
typedef void loop_timer_fn(struct loop *l, void *arg);
typedef void loop_signal_fn(struct loop *l, int signo, void *arg);

/* loop_now: CLOCK_MONOTONIC in nanoseconds. */
int64_t loop_now(void);

/* loop_new: an empty loop, or NULL with errno set. */
struct loop *loop_new(void);

/* loop_free: release the loop; signals it caught return to SIG_DFL. */
void loop_free(struct loop *l);

/* loop_add_fd: watch FD for EVENTS (LOOP_IN|LOOP_OUT), calling FN. One
 * watch per descriptor. Returns 0, or -1 with errno set. */
int loop_add_fd(struct loop *l, int fd, unsigned events, loop_fd_fn *fn,
    void *arg);

/* loop_mod_fd: change the events watched on FD (0 pauses it). */
int loop_mod_fd(struct loop *l, int fd, unsigned events);

/* loop_del_fd: stop watching FD (call before closing it). */
void loop_del_fd(struct loop *l, int fd);


/* loop_add_timer: call FN once at DEADLINE (loop_now() based). Returns
 * the timer, valid until it fires or is deleted, or NULL on ENOMEM. */
struct loop_timer *loop_add_timer(struct loop *l, int64_t deadline,
    loop_timer_fn *fn, void *arg);

/* loop_del_timer: cancel a timer that has not fired yet. */
void loop_del_timer(struct loop *l, struct loop_timer *t);

/* loop_add_signal: catch SIGNO (SA_RESTART) and call FN from the loop.
 * A stop signal that was ignored at the program's start is left ignored
 * (see proc_sig_kept). Returns 0, or -1 with errno set. */
int loop_add_signal(struct loop *l, int signo, loop_signal_fn *fn, void *arg);

/* loop_add_signal_intr: like loop_add_signal, but without SA_RESTART: a
 * blocking system call that the signal interrupts fails with EINTR (or
 * returns a short count), so that a program stuck in write(2) on a full
 * pipe can notice the signal (see loop_interrupted) and give up. */
int loop_add_signal_intr(struct loop *l, int signo, loop_signal_fn *fn,
    void *arg);

/* loop_add_stop_signals: loop_add_signal_intr for every asynchronous
 * signal whose default action ends the program, so that it can stop what
 * it started before it goes: SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1,
 * SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGIO, SIGPWR,
 * SIGSTKFLT (where defined) and the real-time signals, but none in EXCEPT
 * (NULL: none) and none ignored now. Faults (SIGSEGV, SIGBUS, SIGILL,
 * SIGFPE, SIGABRT, SIGTRAP, SIGSYS) are not caught: a handler that
 * returns would run into the fault again (lib/pgroup's watcher covers a
 * program they kill). Returns 0, or -1 with errno set. */
int loop_add_stop_signals(struct loop *l, const sigset_t *except,
    loop_signal_fn *fn, void *arg);

/* loop_interrupted: nonzero once a signal added with loop_add_signal_intr
 * has been caught (it stays set). Safe to call at any time. */
int loop_interrupted(void);

/* loop_run_once: wait for events up to MAX_WAIT ns (-1: no limit besides
 * the timers) and dispatch them. Returns the number of events dispatched,
 * or -1 with errno set on a failure of the backend. */
int loop_run_once(struct loop *l, int64_t max_wait);

/* loop_run: dispatch until loop_stop is called or nothing is watched any
 * more (no descriptors and no timers). Returns 0, or -1 on error. */
int loop_run(struct loop *l);

/* loop_stop: make loop_run return after the current dispatch. */
void loop_stop(struct loop *l);

#endif
