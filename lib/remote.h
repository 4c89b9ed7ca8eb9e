/* remote: running things on other hosts through the system's ssh client.
 *
 * The ssh command is $CONC_SSH split on blanks (default "ssh"), so that a
 * config file or options can be given: CONC_SSH="ssh -F ~/cluster.conf".
 * Every host gets one master connection (ControlMaster) whose socket lives
 * in a private directory (mkdtemp, mode 0700) removed at exit; everything
 * else reaches the host as a session multiplexed over that connection
 * ("ssh -S SOCKET -o ControlMaster=no HOST CMD"): a channel open, not a
 * handshake.
 *
 * The master is our own child (not a daemon): it runs a probe on the host,
 * prints "conc-ready ANSWER" once it is connected and listening, and then
 * holds its session open with "cat" reading the LIFELINE descriptor the
 * caller gives it, a pipe nobody writes to. The master ends when we close
 * it, when we die (parent-death signal, and the lifeline's end of file
 * reaches the remote cat), or when the connection breaks, so it never
 * outlives us.
 *
 * ssh exits 255 both when the connection fails and when the remote
 * command itself exits 255. remote_check tells the two apart by asking
 * the master whether its connection still stands ("ssh -O check"): a
 * dead connection takes its master with it. */
#ifndef CONC_REMOTE_H
#define CONC_REMOTE_H

#include <stddef.h>
#include <sys/types.h>

struct buf;

/* ssh's own status for "the connection failed". */
#define REMOTE_SSH_FAILED 255

struct remote_conn {
	const char *host;     /* the destination as given (not copied) */
	char *ctl;            /* the control socket's path (malloc'ed) */
	pid_t master;         /* the master ssh, 0 once reaped */
	int out;              /* read end of the master's stdout, or -1 */
	char rbuf[512];       /* a partial line of the master's output */
	size_t rlen;
};

/* remote_argv: a malloc'ed argv: the ssh command, then the options that
 * go through C's master (-S SOCKET -o ControlMaster=no), then EXTRA
 * (NULL-terminated, may be NULL), then "--", the host and CMD (CMD NULL:
 * none). The strings are not copied. NULL on ENOMEM. Exits 125 with a
 * message if $CONC_SSH is blank. */
char **remote_argv(const struct remote_conn *c, char *const *extra,
    const char *cmd);

/* remote_ssh_line: append to B, quoted for a shell and separated by
 * blanks, the words of remote_argv up to the "--": the ssh command and
 * the options that go through C's master. For a shell script that runs
 * ssh itself ("... -- HOST CMD" follow), or for rsync's -e. */
void remote_ssh_line(const struct remote_conn *c, struct buf *b);

/* remote_ssh_path: the ssh command's path, looked up in PATH once, or
 * NULL when it was not found (exec then fails as execvp would). */
const char *remote_ssh_path(void);

/* remote_open: start the master connection to HOST (see above), running
 * the shell text PROBE there (may be NULL) and reporting its output on
 * the ready line. LIFELINE is the master's stdin. The master's stderr is
 * ours, so ssh's own messages reach the user. Returns 0 (the connection
 * is then being made: wait for remote_ready), or -1 with errno set. */
int remote_open(struct remote_conn *c, const char *host, const char *probe,
    int lifeline);

/* remote_ready: read what the master printed. Returns 1 when it is
 * connected, with the probe's answer copied to ANSWER (N bytes at most,
 * NUL-terminated); 0 when c->out has nothing more yet (it is
 * non-blocking once remote_open returns); -1 when the master ended
 * without connecting (its output closed). */
int remote_ready(struct remote_conn *c, char *answer, size_t n);

/* remote_wait_ready: remote_ready, waiting for the answer. */
int remote_wait_ready(struct remote_conn *c, char *answer, size_t n);

/* remote_check: 0 when C's master connection still stands, -1 when it
 * is gone ("ssh -O check"). Waits for that one ssh. */
int remote_check(struct remote_conn *c);

/* remote_close: end C's master ("ssh -O exit", then SIGTERM if it is
 * still there), reap it unless c->master is 0, and remove its socket.
 * C may be reopened with remote_open afterwards. */
void remote_close(struct remote_conn *c);

/* remote_run: run PROG ARGV... on HOST and return its exit status: the
 * queue/sem/barrier -H option. Our stdin, stdout and stderr are the
 * remote program's. The remote program learns through $CONC_REMOTE that
 * it runs for us (see remote_serve). SIGINT, SIGTERM and SIGHUP end the
 * session, which ends the remote program; we then return 128+N. A
 * connection that fails or breaks is reported and gives 125; a remote
 * 255 is returned as such. */
int remote_run(const char *host, const char *prog, char *const *argv);

/* remote_serve: called first thing by a program that -H may start on a
 * remote host. When $CONC_REMOTE is set (and then removed from the
 * environment), a thread waits for our stdout to hang up: ssh's session
 * has ended because the local side went away, and we get SIGTERM as if
 * the user had sent it, so that nothing is left waiting on the host. */
void remote_serve(void);

struct cli;

/* remote_main: the start of main for a program with subcommands that -H
 * may send to another host. Calls remote_serve, then parses the options
 * before the subcommand: -h/--help, --version, -H/--host HOST and
 * --remote-path PATH (the program on HOST; default: our own name). With
 * -H it runs the rest of the command line on HOST through remote_run and
 * exits with its status; otherwise it returns the index of the
 * subcommand (argc when there is none). */
int remote_main(int argc, char **argv, const struct cli *cli);

#endif
