/* pgroup: supervising the process groups of the jobs a program starts.
 *
 * Every job runs as the leader of a process group of its own, so that a
 * stop reaches what the job started too. This module holds those groups
 * and is driven by the event loop's timers:
 *
 * - pgroup_stop signals a group and, after the grace period, sends
 *   SIGKILL to it if it still has members;
 * - a group that outlives its leader (a background process that ignores
 *   the signal) is kept while it has members: its number cannot be reused
 *   until it is empty. On Linux the program is a child subreaper, so the
 *   orphaned members are its children and their exits wake the loop;
 *   after SIGKILL we wait for them at most PGROUP_KILL_WAIT (a process
 *   stuck in the kernel cannot die);
 * - a watcher process, started by pgroup_init, sends SIGKILL to every
 *   group still held when the program ends without pgroup_release: when
 *   it is killed with SIGKILL or crashes. The watcher is a forked copy of
 *   the program named "conc-watcher", in a process group of its own (a
 *   terminal's ^C does not reach it), holding no descriptor but the
 *   read end of a pipe whose end of file tells it the program is gone;
 *   the groups are in a shared mapping that it reads only then, so that
 *   starting and ending a job costs nothing more.
 *
 * When no process can be spared for the watcher (RLIMIT_NPROC), the
 * program runs without it.
 *
 * What the watcher cannot do: reach a process that left its job's group
 * (setsid, setpgid: a daemon), act when it was killed itself, or tell a
 * group number that was reused after the group emptied between the
 * program's last look and its death (pids are handed out in turn, so
 * that would take the whole pid range within that instant). */
#ifndef CONC_PGROUP_H
#define CONC_PGROUP_H

#include <stdint.h>
#include <sys/types.h>

#include "loop.h"

#define PGROUP_KILL_WAIT 1000000000 /* ns to wait for groups to die of SIGKILL */

struct pgroup;

/* pgroup_init: supervise groups from loop L, with GRACE ns between a stop
 * signal and SIGKILL. With KEEP_LEFTOVER, a group that outlives its
 * leader without having been asked to stop is held too, so that a later
 * pgroup_stop_all reaches it (otherwise it is left alone). Makes the
 * program a child subreaper (Linux) and starts the watcher if it can. */
void pgroup_init(struct loop *l, int64_t grace, int keep_leftover);

/* pgroup_add: hold the new group PGID, whose leader is our child. Dies
 * with 125 when out of memory. */
struct pgroup *pgroup_add(pid_t pgid);

/* pgroup_stop: send SIG to G's group; the first time, also arm its grace
 * timer (SIGKILL at its end if the group still has members). */
void pgroup_stop(struct pgroup *g, int sig);

/* pgroup_exited: G's leader has been reaped. G belongs to this module
 * from now on (the caller must forget it): it is held while its group
 * has members and it was asked to stop (or KEEP_LEFTOVER), else freed. */
void pgroup_exited(struct pgroup *g);

/* pgroup_leader_gone: the leader of *GP's group has been reaped (ENDED:
 * and its job is over: its output has ended too). The group goes to this
 * module (pgroup_exited, and *GP becomes NULL) once ENDED or once it has
 * no member left (an empty group's number may be reused); until then the
 * caller keeps it, so that a stop (--timeout, a lease) still reaches what
 * the leader left running. Call it again on each SIGCHLD: the end of an
 * orphan may have emptied the group. Does nothing when *GP is NULL. */
void pgroup_leader_gone(struct pgroup **gp, int ended);
/* pgroup_stop_all: pgroup_stop every group held, including those that
 * outlived their leaders. */
void pgroup_stop_all(int sig);

/* pgroup_kill_all: SIGKILL to every group held, at once (a second
 * request to stop does not wait for the grace period). */
void pgroup_kill_all(void);

/* pgroup_waiting: the number of groups whose leader has ended that we
 * still wait for: asked to stop, with members, and not SIGKILLed more
 * than PGROUP_KILL_WAIT ago. Forgets the groups found empty. Cheap when
 * no group has outlived its leader. */
int pgroup_waiting(void);

/* pgroup_release: the program ends normally and leaves the groups it
 * still holds alone: the watcher exits without signalling them. */
void pgroup_release(void);

#endif
