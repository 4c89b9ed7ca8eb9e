/* wrap: run one command the way a wrapper must (sem run, barrier's
 * action), so that nothing the command starts outlives it unnoticed.
 *
 * - The command leads a process group of its own, and the wrapper is a
 *   child subreaper (PR_SET_CHILD_SUBREAPER): what the command leaves
 *   behind when it ends is reparented to the wrapper, which can reap it.
 * - When the wrapper runs in the foreground of a terminal, the new group
 *   gets the terminal's foreground (tcsetpgrp), as an interactive shell
 *   gives it to a job: the command can read the terminal, and the
 *   terminal's ^C, ^\ and ^Z reach the command's group. A ^Z that stops
 *   the command stops the wrapper too (the shell sees its job stop); when
 *   the wrapper is continued, so is the command, with the terminal given
 *   back if the wrapper is in the foreground again.
 * - SIGINT, SIGTERM and SIGHUP sent to the wrapper are passed on to the
 *   whole group; a group still there WRAP_GRACE seconds later gets
 *   SIGKILL. Once the command has ended after such a signal, what is left
 *   of its group is killed, and wrap_wait returns only when the group is
 *   gone; the same when the terminal's ^C or ^\ killed the command while
 *   it had the terminal. A command that ends by itself may leave processes running in
 *   the background (a daemon): those are left alone.
 * - The group is signalled only while its leader is unreaped, so its
 *   number cannot have passed to a stranger.
 *
 * One command at a time per process (the state is static: signal
 * handlers need it). */
#ifndef CONC_WRAP_H
#define CONC_WRAP_H

#include <sys/types.h>

#include "proc.h"

#define WRAP_GRACE 5  /* seconds between a forwarded signal and SIGKILL */

/* wrap_start: start SP (its pgroup and tty fields are set here) as the
 * wrapped command and catch SIGINT, SIGTERM and SIGHUP (those not kept
 * ignored, see proc_sig_kept) to pass them on. PENDING, if nonzero, is a
 * signal that came before the command existed: it is passed on at once.
 * Returns the command's pid, or -1 with errno set (nothing started;
 * the handlers are back as they were). *EXEC_ERRNO as for proc_spawn. */
pid_t wrap_start(struct proc_spec *sp, int *exec_errno, int pending);

/* wrap_wait: wait for the command wrap_start started, following its
 * terminal stops; clean up its group if a signal was passed on; take the
 * terminal back; reap. Restores the signal handlers. Returns the
 * command's status (proc_status). *SIG (if not NULL) gets the first
 * signal passed on, or the SIGINT or SIGQUIT that killed the command
 * while it had the terminal (the user's ^C or ^\, which a shell takes as
 * its own), else 0. */
int wrap_wait(int *sig);

#endif
