/* queue: named message queues between unrelated processes.
 *
 * A queue is one file that every user maps (obj.h): a header, a ring of
 * messages and, for priority queues, a heap. No daemon: each process does
 * its own operations under one robust process-shared mutex.
 *
 * Ring. A message is a record (16-byte header, then its bytes) appended
 * at the head of a byte ring; FIFO gets take the oldest, LIFO gets the
 * newest (headers link back to the previous record), priority gets the
 * top of a heap ordered by (priority, age). Space comes back when the
 * tail (or, for out-of-order removals, the head) moves over removed
 * records. Payloads are copied in and out under the mutex: nobody touches
 * the ring unlocked, so there is no half-written message for anyone to
 * see. The copies are ones a process must make anyway, and a stream
 * moves thousands of messages per lock round.
 *
 * Delivery. A getter takes a slot and holds the slot's robust mutex for
 * as long as it runs. It claims messages (marks them with its slot) and
 * copies them out, unlocks, writes them to stdout in full, and then
 * commits (removes) them. If it dies in between, pthread_mutex_trylock on
 * its slot reports EOWNERDEAD and the claimed messages go back to the
 * queue: at-least-once delivery across crashes, exactly-once otherwise.
 * Liveness is checked this way (no /proc, no pid reuse) whenever a getter
 * finds nothing to get or a putter finds the queue full, and every 250 ms
 * while anyone waits with claims outstanding. A process killed between
 * unlocking and waking the waiters (a futex wake cannot be part of the
 * critical section) leaves them asleep: waiters look again every second.
 *
 * Crash of the mutex holder. The words that cannot be recomputed (head,
 * tail, newest record, task count, a slot's "committed" mark) change only
 * through a small redo journal committed by one store. Everything else
 * (counts, read cursor, heap) is recomputed by walking the ring. Whoever
 * gets EOWNERDEAD replays the journal, finishes or returns the claims of
 * dead slots and recounts. A put publishes its batch by moving the head,
 * so a killed put added all of its last batch or none of it.
 *
 * Storage follows the contents. The file has the size of a full queue,
 * but only its header is allocated at first; a put allocates (fallocate)
 * the ring's pages before it writes there, and the pages outside the
 * messages are punched out when the queue drains and a process that
 * changed it leaves or waits idle. No layout changes, so nothing moves
 * under other processes; hints in the header say what is allocated, and
 * err only towards "not allocated", so a crash costs at most some
 * storage kept until the next drain. queueobj.c, "Storage", has it all.
 *
 * Waiting is done with futexes on two sequence words: getters wait on
 * put_seq (bumped by put, close and returned claims), putters and joiners
 * on get_seq (bumped by get, done and close).
 *
 * Waking. Waking every waiting getter for each batch put makes a herd:
 * on few processors, all but one find nothing and sleep again, and a
 * crowd of runnable processes preempts whoever holds the lock. So a
 * getter of one queue (get_msgs) waits as a "chaining" waiter (futex
 * bitset W_CHAIN), and a put wakes one of those (and every other waiter:
 * getters of several queues, queue run's waiting thread, which pass
 * nothing on). A getter that claims and leaves visible messages behind
 * wakes one more (q_claim): a backlog draws in getters one at a time, as
 * many as it needs. Returned claims (q_unclaim, a dead getter's slot
 * recovered), close, reopen and a delayed message's put still wake every
 * waiter: they are rare, and each waiter must learn a due time.
 *   Can messages be left ready while every getter sleeps? A getter sleeps
 * only after it looked under the lock and found nothing to take, and it
 * registers as a waiter and reads put_seq in that same critical section;
 * a put or chain wake after it moves put_seq, so a getter between the
 * unlock and its futex wait returns at once. So when messages are ready
 * and chaining getters sleep, the messages came after those getters
 * looked, and whoever made them ready woke one getter after doing so;
 * that getter claims (and wakes the next if it leaves some), unless it
 * never looks: it was killed or stopped between its wake-up and its
 * claim, or it has no slot left. Then the next put wakes another, which
 * takes the older messages too; and with no next put, a chaining getter
 * never sleeps longer than LOST_WAKE_NS (one second) at a time, so ready
 * messages wait at most that long for a live getter (250 ms while
 * claims are outstanding, as before). A waiter of the other kinds is
 * woken by every put; one that starts waiting between a put's two wakes
 * may take the chaining wake, but it looked after that put's unlock and
 * found its messages taken already. Deaths lose no message either way:
 * claims are returned as before (EOWNERDEAD).
 *   Putters pacing themselves (q_pace) wait the same way on get_seq: a
 * get wakes one of them (it made room for about one batch), and every
 * pacer looks again after 10 ms anyway; putters waiting for room in a
 * full queue and joiners are woken all. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "ns.h"
#include "obj.h"
#include "opt.h"
#include "proc.h"
#include "remote.h"
#include "report.h"
#include "queue.h"
#include "queueobj.h"

#define BATCH_N 65536             /* messages per claim round */
#define BATCH_BYTES ((256u << 10) - 64) /* output bytes per claim round:
                                          * a few put batches, so that one
                                          * getter takes what several
                                          * putters added in one round */
#define READ_CHUNK (64u << 10)    /* input bytes per put round */

#define HELP_TEXT \
	"usage: queue put [-0] [--nowait | -t DUR] [-p PRIO] [--delay DUR | --at TIME] [--sync]\n" \
	"                 NAME [--] [MSG...]\n" \
	"       queue get [-0] [--nowait | -t DUR] [-n COUNT | -f] [--meta] [--name] [--sync] NAME...\n" \
	"       queue create [--max N] [--size BYTES] [--lifo | --priority] [--mode MODE] NAME\n" \
	"       queue close NAME\n" \
	"       queue open NAME\n" \
	"       queue run [-j N] [--retries K] [--retry-delay DUR[,MAX]] [--lease DUR]\n" \
	"                 [--grace DUR] [--dead NAME] [--stdin] [-k] NAME [--] CMD [ARG...]\n" \
	"       queue fifo [--in | --out] [-0] [--mode MODE] NAME PATH\n" \
	"       queue done NAME [N]\n" \
	"       queue join [--nowait | -t DUR] NAME\n" \
	"       queue size NAME\n" \
	"       queue stat [--json] NAME\n" \
	"       queue ls [--json] [--header]\n" \
	"       queue rm NAME...\n" \
	"  -0, --null          messages end with NUL, not newline\n" \
	"      --nowait        never block: exit 75 if the queue is full or empty\n" \
	"  -t, --timeout DUR   exit 124 after blocking DUR without progress\n" \
	"  -p, --prio PRIO     priority of the messages (lowest first; default 0)\n" \
	"      --delay DUR     the messages stay hidden for DUR\n" \
	"      --at TIME       ... until TIME (@SECONDS since the epoch,\n" \
	"                      'YYYY-MM-DD HH:MM[:SS]' local, or ...Z in UTC)\n" \
	"      --sync          flush the queue file to disk before exiting\n" \
	"  -n, --count COUNT   get COUNT messages (default 1)\n" \
	"  -f, --follow        get messages until the queue is closed and drained\n" \
	"      --meta          print ATTEMPTS<TAB>STATUS<TAB> before each message\n" \
	"      --name          print the queue's NAME<TAB> before each message\n" \
	"      --max N         hold at most N messages (default: as storage allows)\n" \
	"      --size BYTES    storage; a message takes its length + 16 (default 32M)\n" \
	"      --lifo          last in, first out\n" \
	"      --priority      lowest PRIO first, first in first out among equals\n" \
	"      --mode MODE     permission bits of a new queue or FIFO (octal, default 600)\n" \
	"      --in            fifo: PATH's writers put lines into NAME (the default)\n" \
	"      --out           fifo: PATH's readers get NAME's messages\n" \
	"      --json          stat, ls: print JSON\n" \
	"      --header        ls: print the column names first\n" \
	"  -H, --host HOST    (before the command) run it on HOST over ssh;\n" \
	"      --remote-path PATH  the program there (default: in its PATH)\n" \
	"  -h, --help          show this help\n" \
	"      --version       show the version\n"

const char queue_help[] = HELP_TEXT;

static const struct cli cli = {
	"queue put|get|create|close|open|run|fifo|done|join|size|stat|ls|rm [OPTIONS] ...",
	HELP_TEXT,
};

enum {
	OPT_NOWAIT = 0x100, OPT_SYNC, OPT_MAX, OPT_SIZE, OPT_LIFO, OPT_PRIORITY,
	OPT_MODE, OPT_DELAY, OPT_META, OPT_NAME, OPT_AT, OPT_IN, OPT_OUT,
};

struct opts {
	int null, nowait, sync, follow, meta_out, name_out;
	int in, out;            /* fifo --in, --out */
	int64_t timeout;        /* -1: none */
	long long count;        /* -1: not given */
	int have_prio;
	int32_t prio;
	int64_t delay;          /* --delay, ns; 0: none */
	int64_t at;             /* --at, CLOCK_REALTIME ns; -1: none */
	struct q_meta meta;     /* what a delayed put gives its messages */
	int have_meta;
	struct q_settings set;
	int have_order;
	int pace;               /* put: a stream, which gives busy getters
	                         * time to keep up (q_pace) */
};

static const struct q_settings defaults = { Q_SIZE_DEFAULT, 0, Q_FIFO, 0 };

/* Which of the standard descriptors were closed (see proc_std_fds). */
#define std_closed(fd) ((proc_std_fds() >> (fd)) & 1)

void
queue_thread(struct loop *L, void *(*fn)(void *), int req[2], int note[2],
    loop_fd_fn *cb)
{
	pthread_t t;
	sigset_t all, old;

	if (pipe2(req, O_CLOEXEC) < 0 || pipe2(note, O_CLOEXEC) < 0)
		err_die(EXIT_TOOL, "pipe");
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (pthread_create(&t, NULL, fn, NULL) != 0)
		err_diex(EXIT_TOOL, "cannot start a thread");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_detach(t);
	if (loop_add_fd(L, note[0], LOOP_IN, cb, NULL) < 0)
		err_die(EXIT_TOOL, "loop");
}

/* ---- Option parsing ---- */

/* Which options a subcommand takes (one bit per option). */
enum {
	A_NULL = 1 << 0, A_NOWAIT = 1 << 1, A_TIMEOUT = 1 << 2, A_PRIO = 1 << 3,
	A_SYNC = 1 << 4, A_COUNT = 1 << 5, A_FOLLOW = 1 << 6, A_MAX = 1 << 7,
	A_SIZE = 1 << 8, A_LIFO = 1 << 9, A_PRIORITY = 1 << 10, A_MODE = 1 << 11,
	A_DELAY = 1 << 12, A_META = 1 << 13, A_NAME = 1 << 14, A_AT = 1 << 15,
	A_IN = 1 << 16, A_OUT = 1 << 17,
};

/* Parse the options of subcommand ARGV[0], which takes those in
 * ALLOWED; returns optind. */
static int
parse(int argc, char **argv, const char *usage, unsigned allowed,
    struct opts *o)
{
	static const struct option longopts[] = {
		{ "null", no_argument, 0, '0' },
		{ "nowait", no_argument, 0, OPT_NOWAIT },
		{ "timeout", required_argument, 0, 't' },
		{ "prio", required_argument, 0, 'p' },
		{ "sync", no_argument, 0, OPT_SYNC },
		{ "count", required_argument, 0, 'n' },
		{ "follow", no_argument, 0, 'f' },
		{ "max", required_argument, 0, OPT_MAX },
		{ "size", required_argument, 0, OPT_SIZE },
		{ "lifo", no_argument, 0, OPT_LIFO },
		{ "priority", no_argument, 0, OPT_PRIORITY },
		{ "mode", required_argument, 0, OPT_MODE },
		{ "delay", required_argument, 0, OPT_DELAY },
		{ "meta", no_argument, 0, OPT_META },
		{ "name", no_argument, 0, OPT_NAME },
		{ "at", required_argument, 0, OPT_AT },
		{ "in", no_argument, 0, OPT_IN },
		{ "out", no_argument, 0, OPT_OUT },
		CLI_STD_OPTIONS,
		{ 0, 0, 0, 0 }
	};
	/* The bit of each entry of longopts, in the same order. */
	static const unsigned bits[] = {
		A_NULL, A_NOWAIT, A_TIMEOUT, A_PRIO, A_SYNC, A_COUNT, A_FOLLOW,
		A_MAX, A_SIZE, A_LIFO, A_PRIORITY, A_MODE, A_DELAY, A_META,
		A_NAME, A_AT, A_IN, A_OUT,
	};
	struct cli sub = { usage, HELP_TEXT };
	int c, have_delay = 0;
	size_t k;

	memset(o, 0, sizeof *o);
	o->timeout = -1;
	o->count = -1;
	o->at = -1;
	o->set = defaults;
	cli_reset();
	while ((c = cli_next(argc, argv, "0t:p:n:f", longopts, &sub)) != -1) {
		for (k = 0; k < sizeof bits / sizeof bits[0]; k++)
			if (longopts[k].val == c && !(allowed & bits[k]))
				cli_usage_error(&sub, "option '--%s' does not "
				    "apply to %s", longopts[k].name, argv[0]);
		switch (c) {
		case '0': o->null = 1; break;
		case OPT_NOWAIT: o->nowait = 1; break;
		case 't': o->timeout = opt_duration("--timeout", optarg); break;
		case 'p':
			o->prio = (int32_t)opt_count("-p", optarg, INT32_MIN,
			    INT32_MAX);
			o->have_prio = 1;
			break;
		case OPT_SYNC: o->sync = 1; break;
		case 'n': o->count = opt_count("-n", optarg, 1, LLONG_MAX); break;
		case 'f': o->follow = 1; break;
		case OPT_MAX:
			o->set.max = (uint64_t)opt_count("--max", optarg, 1,
			    (long long)Q_MAX_MAX);
			break;
		case OPT_SIZE:
			o->set.size = (opt_size("--size", optarg, Q_SIZE_MIN,
			    Q_SIZE_MAX) + 15) & ~(uint64_t)15;
			break;
		case OPT_LIFO:
		case OPT_PRIORITY:
			if (o->have_order)
				cli_usage_error(&sub, "--lifo and --priority "
				    "conflict");
			o->set.order = c == OPT_LIFO ? Q_LIFO : Q_PRIO;
			o->have_order = 1;
			break;
		case OPT_MODE: o->set.mode = opt_mode("--mode", optarg); break;
		case OPT_DELAY:
			o->delay = opt_duration("--delay", optarg);
			have_delay = 1;
			break;
		case OPT_AT: o->at = opt_time("--at", optarg); break;
		case OPT_META: o->meta_out = 1; break;
		case OPT_NAME: o->name_out = 1; break;
		case OPT_IN: o->in = 1; break;
		case OPT_OUT: o->out = 1; break;
		}
	}
	if (o->nowait && o->timeout >= 0)
		cli_usage_error(&sub, "--nowait and --timeout conflict");
	if (o->follow && o->count >= 0)
		cli_usage_error(&sub, "-n and -f conflict");
	if (have_delay && o->at >= 0)
		cli_usage_error(&sub, "--delay and --at conflict");
	if (o->in && o->out)
		cli_usage_error(&sub, "--in and --out conflict");
	return optind;
}

/* The NAME operand at ARGV[I]; no more than EXTRA operands after it. */
static const char *
name_operand(int argc, char **argv, int i, int extra, const char *usage)
{
	struct cli sub = { usage, HELP_TEXT };

	int k;

	if (i >= argc)
		cli_usage_error(&sub, "missing NAME");
	for (k = i + 1; k < argc && strcmp(argv[k], "--") != 0; k++)
		cli_after_name(&sub, argv[k]);
	if (extra >= 0 && argc - i - 1 > extra)
		cli_usage_error(&sub, "unexpected operand '%s'",
		    argv[i + 1 + extra]);
	return argv[i];
}

static void
open_or_die(struct queue *q, const char *name, const struct q_settings *s)
{
	if (q_open(q, name, s) < 0)
		exit(EXIT_TOOL);
}

void
queue_open_or_die(struct queue *q, const char *name)
{
	open_or_die(q, name, &defaults);
}

static void
sync_or_die(struct queue *q)
{
	if (fdatasync(q->o.fd) < 0)
		err_die(EXIT_TOOL, "%s: sync", q->o.name);
}

/* ---- put ---- */

void
queue_say_closed(const struct queue *q)
{
	if (q->sh->removed)
		err_warnx("%s: queue removed", q->o.name);
	else
		err_warnx("%s: queue closed (reopen it with 'queue open %s')",
		    q->o.name, q->o.name);
}

/* Put M[0..N): returns 0, or the exit status that ends the put. */
static int
put_msgs(struct queue *q, const struct q_msg *m, size_t n,
    const struct opts *o)
{
	struct q_shared *sh = q->sh;
	int64_t deadline = opt_deadline(q_now(), o->timeout);
	size_t done = 0, k;
	int st = 0;

	if ((o->delay > 0 || o->at >= 0) && sh->order == Q_PRIO)
		err_diex(EXIT_TOOL, "%s: --%s needs a FIFO or LIFO queue",
		    q->o.name, o->at >= 0 ? "at" : "delay");
	for (k = 0; o->have_meta && k < n; k++)
		if (m[k].len > q_maxmsg_meta(q))
			err_diex(EXIT_TOOL, "%s: message of %" PRIu32 " bytes is "
			    "longer than the maximum of %" PRIu32 " for a "
			    "delayed one", q->o.name, m[k].len,
			    q_maxmsg_meta(q));
	q_lock(q);
	while (done < n) {
		if (sh->closed) {
			queue_say_closed(q);
			st = EXIT_NO;
			break;
		}
		if (o->pace && !o->nowait && q_pace(q, deadline))
			continue;
		if ((k = q_insert(q, m + done, n - done, o->prio,
		    o->have_meta ? &o->meta : NULL)) > 0) {
			done += k;
			deadline = opt_deadline(q_now(), o->timeout);
			continue;
		}
		if (q->nospace) {
			/* The file system is full: waiting would not help. */
			errno = q->nospace;
			err_warn("%s: no storage for the message%s", q->o.name,
			    n - done > 1 ? "s" : "");
			st = EXIT_TOOL;
			break;
		}
		if (sh->claimed > 0 && q_reap(q) > 0)
			continue;
		if (o->nowait) {
			st = EXIT_WOULDBLOCK;
			break;
		}
		if (deadline >= 0 && q_now() >= deadline) {
			st = EXIT_TIMEOUT;
			break;
		}
		/* A slot only makes us visible to stat; waiting works
		 * without one. */
		(void)q_slot_get_waiter(q);
		q_wait(q, &sh->get_seq, Q_WAIT_PUT, deadline);
	}
	q_slot_put(q);
	q_unlock(q);
	return st;
}

int
queue_put_meta(struct queue *q, const struct q_msg *m,
    const struct q_meta *meta)
{
	struct opts o;

	memset(&o, 0, sizeof o);
	o.timeout = -1;
	o.at = -1;
	o.meta = *meta;
	o.meta.due = 0;
	o.have_meta = 1;
	return put_msgs(q, m, 1, &o);
}

static void
too_long(const struct queue *q, size_t len)
{
	err_diex(EXIT_TOOL, "%s: message of %zu bytes is longer than the "
	    "maximum of %" PRIu32, q->o.name, len, q->maxmsg);
}

/* A put that would create its queue opens it only when it has a first
 * batch of valid messages, so that refused input leaves nothing behind.
 * Until then the limit is that of a queue made with the defaults. */
static void
open_for_put(struct queue *q, const char *name, struct q_msg *m, size_t n)
{
	size_t k;

	open_or_die(q, name, &defaults);
	for (k = 0; k < n; k++)
		if (m[k].len > q->maxmsg)
			too_long(q, m[k].len);
}

/* realloc or die: the put stops, having added what it already had. */
static void *
xrealloc(const struct queue *q, void *p, size_t n)
{
	void *np = realloc(p, n);

	if (np == NULL)
		err_die(EXIT_TOOL, "%s: out of memory", q->o.name);
	return np;
}

/* Without -0, no message may hold a NUL byte: it would split in two in
 * -0 output, the one framing that is safe for any message. */
static void
nul_in_line(const struct queue *q)
{
	err_diex(EXIT_TOOL, "%s: a line of standard input holds a NUL byte "
	    "(messages cannot; -0 reads NUL-terminated ones)", q->o.name);
}

/* Every record of stdin, split at DELIM, is a message; put them in
 * batches of one read each. A record too long, or without -0 holding a
 * NUL, ends the put once the records before it are in. */
static int
put_stream(struct queue *q, const struct opts *o, const char *name,
    int opened)
{
	char delim = o->null ? '\0' : '\n';
	size_t cap = READ_CHUNK * 2, len = 0, nm = 0, mcap = 0;
	struct q_msg *m = NULL;
	char *buf = malloc(cap);
	int st = 0, eof = 0;

	if (buf == NULL)
		err_die(EXIT_TOOL, "%s: out of memory", q->o.name);
	while (!eof && st == 0) {
		size_t start = 0, i, bad = 0, nulat = SIZE_MAX;
		int nul = 0;
		ssize_t r;
		char *z;

		if (cap - len < READ_CHUNK) {
			/* Only a record longer than READ_CHUNK gets here. */
			if (len > q->maxmsg)
				too_long(q, len);
			cap *= 2;
			buf = xrealloc(q, buf, cap);
		}
		/* READ_CHUNK at a time, into the same pages: each new page
		 * of the buffer and of M costs a fault. */
		r = read(0, buf + len, READ_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err_die(EXIT_TOOL, "%s: read standard input",
			    q->o.name);
		eof = r == 0;
		i = len;
		len += (size_t)r;
		nm = 0;
		/* One scan of the whole read; the earlier bytes of the record
		 * carried over had none. */
		if (!o->null && (z = memchr(buf + i, '\0', (size_t)r)) != NULL)
			nulat = (size_t)(z - buf);
		for (;;) {
			char *e = memchr(buf + i, delim, len - i);
			size_t end = e ? (size_t)(e - buf) : len;
			if (e == NULL && !(eof && start < len))
				break;
			if (end > nulat) {
				nul = 1;
				break;
			}
			if (end - start > q->maxmsg) {
				bad = end - start;
				break;
			}
			if (nm == mcap) {
				mcap = mcap ? 2 * mcap : 4096;
				m = xrealloc(q, m, mcap * sizeof *m);
			}
			m[nm].data = buf + start;
			m[nm++].len = (uint32_t)(end - start);
			start = i = end + 1;
			if (e == NULL)
				break;
		}
		if (nulat != SIZE_MAX)
			nul = 1;    /* in this record or the one still open */
		else if (!bad && len - (start < len ? start : len) > q->maxmsg)
			bad = len - start;
		/* The messages before a record that is too long go in
		 * first, as they would have in separate reads. */
		if (nm > 0 && !opened) {
			open_for_put(q, name, m, nm);
			opened = 1;
		}
		if (nm > 0)
			st = put_msgs(q, m, nm, o);
		if (nul && st == 0)
			nul_in_line(q);
		if (bad && st == 0)
			too_long(q, bad);
		if (start >= len)
			len = 0;
		else if (start > 0) {
			memmove(buf, buf + start, len - start);
			len -= start;
		}
	}
	free(m);
	free(buf);
	if (!opened)
		open_for_put(q, name, NULL, 0);
	return st;
}

/* Whether the object NAME exists (a bad name exits 125). */
static int
exists(const char *name)
{
	char path[PATH_MAX];

	if (ns_path(name, path, sizeof path) < 0)
		exit(EXIT_TOOL);
	return access(path, F_OK) == 0;
}

static void
no_prio(const char *name)
{
	err_diex(EXIT_TOOL, "%s: -p needs a priority queue (make it with "
	    "'queue create --priority')", name);
}

static int
cmd_put(int argc, char **argv)
{
	static const char usage[] = "queue put [-0] [--nowait | -t DUR] [-p PRIO] "
	    "[--delay DUR | --at TIME] [--sync] NAME [--] [MSG...]";
	struct opts o;
	struct queue q;
	int i = parse(argc, argv, usage, A_NULL | A_NOWAIT | A_TIMEOUT | A_PRIO |
	    A_SYNC | A_DELAY | A_AT, &o), st, have;
	const char *name = name_operand(argc, argv, i, -1, usage);

	/* The messages; a "--" right after NAME lets them look like
	 * options. */
	if (i + 1 < argc && strcmp(argv[i + 1], "--") == 0)
		i++;
	if (o.delay > 0) {
		o.meta.due = q_realtime() + o.delay;
		o.have_meta = 1;
	}
	/* A time that has passed is due: an ordinary message. */
	if (o.at > q_realtime()) {
		o.meta.due = o.at;
		o.have_meta = 1;
	}

	if (i + 1 >= argc && std_closed(0))
		err_diex(EXIT_TOOL, "%s: standard input is closed", name);
	/* A missing queue would be created FIFO: with -p, refuse that
	 * before creating anything. */
	have = exists(name);
	if (o.have_prio && !have)
		no_prio(name);
	memset(&q, 0, sizeof q);
	snprintf(q.o.name, sizeof q.o.name, "%s", name);
	q.maxmsg = Q_MSG_MAX;
	if (have) {
		open_or_die(&q, name, o.have_prio ? NULL : &defaults);
		if (o.have_prio && q.sh->order != Q_PRIO)
			no_prio(name);
	}
	if (i + 1 < argc) {
		int n = argc - i - 1, k;
		struct q_msg *m = calloc((size_t)n, sizeof *m);
		if (m == NULL)
			err_die(EXIT_TOOL, "%s: out of memory", name);
		for (k = 0; k < n; k++) {
			size_t len = strlen(argv[i + 1 + k]);
			if (len > q.maxmsg)
				too_long(&q, len);
			m[k].data = argv[i + 1 + k];
			m[k].len = (uint32_t)len;
		}
		if (!have)
			open_for_put(&q, name, m, (size_t)n);
		st = put_msgs(&q, m, (size_t)n, &o);
		free(m);
	} else {
		o.pace = 1;
		st = put_stream(&q, &o, name, have);
	}
	if (o.sync)
		sync_or_die(&q);
	q_close(&q);
	return st;
}

/* ---- get ---- */

/* A getter waiting for messages would not see its reader go until its
 * next write: 'queue get -f q | head -1' would wait on an idle queue
 * for ever. So a thread watches a pipe or socket on standard output and
 * ends the process as a failed write would, by SIGPIPE or, with SIGPIPE
 * ignored, status 125. It does so only while the getter waits for
 * messages (get_msgs holds `busy` at all other times): a reader that
 * read its message and left must not have it delivered again. */
static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;

/* Write P[0..N) to stdout; *DONE: how much was written. */
static int
write_all(const char *p, size_t n, size_t *done)
{
	*done = 0;
	while (n > 0) {
		ssize_t w = write(1, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { 1, POLLOUT, 0 };
			poll(&pfd, 1, -1);
			continue;
		}
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
		*done += (size_t)w;
	}
	return 0;
}

/* Write OUT, the messages just claimed from Q. On a write error (a full
 * file system...), the messages written in full are delivered and
 * removed, the rest (the one cut short first) go back to the queue in
 * their place, and we exit 125. */
static void
write_claimed(struct queue *q, const struct q_out *out)
{
	size_t done, k = 0;
	int e;

	if (write_all(out->buf, out->len, &done) == 0)
		return;
	e = errno;
	while (k < out->n && out->end[k] <= done)
		k++;
	q_lock(q);
	q_unclaim_after(q, out, k);
	q_commit(q);
	q_slot_put(q);
	q_unlock(q);
	errno = e;
	err_die(EXIT_TOOL, "%s: write", q->o.name);
}

static void
out_free(struct q_out *out)
{
	free(out->buf);
	free(out->pos);
	free(out->end);
}

/* When a getter that found nothing waits until: DEADLINE, or earlier when
 * the first delayed message q_claim passed over is due. */
static int64_t
q_wake_time(struct queue *q, int64_t deadline)
{
	int64_t due;

	if (q->next_due == 0)
		return deadline;
	due = q_due_mono(q->next_due);
	return deadline < 0 || due < deadline ? due : deadline;
}

/* Get messages as O says: returns the exit status. Each round commits
 * what the previous round wrote and claims the next batch under one
 * lock. */
static int
get_msgs(struct queue *q, const struct opts *o)
{
	struct q_shared *sh = q->sh;
	uint64_t left = o->follow ? UINT64_MAX : o->count > 0 ?
	    (uint64_t)o->count : 1;
	int64_t deadline = opt_deadline(q_now(), o->timeout);
	int64_t look_at = 0;    /* the next full look for dead holders */
	struct q_out out = { 0 };
	int st = 0;
	size_t k;

	q_lock(q);
	for (;;) {
		q_commit(q);
		if (left == 0)
			break;
		/* Claims of dead getters go back first, so that they keep
		 * their place in the queue's order; holders that went
		 * otherwise (q_reap_quick) are looked for when there is
		 * nothing to get, every 250 ms at most. */
		if (sh->claimed > 0)
			q_reap_quick(q);
		k = 0;
		if (q->slot >= 0 || q_slot_get(q) == 0)
			k = q_claim(q, left < BATCH_N ? left : BATCH_N,
			    BATCH_BYTES, &out, o->null ? '\0' : '\n');
		if (k == 0) {
			if (sh->claimed > 0 && q_now() >= look_at) {
				look_at = q_now() + 250 * 1000000LL;
				if (q_reap(q) > 0)
					continue;
			}
			if (sh->removed) {
				err_warnx("%s: queue removed", q->o.name);
				st = EXIT_NO;
				break;
			}
			if (sh->closed && sh->ready == 0 && sh->claimed == 0) {
				st = o->follow ? 0 : EXIT_NO;
				break;
			}
			if (o->nowait) {
				st = EXIT_WOULDBLOCK;
				break;
			}
			if (deadline >= 0 && q_now() >= deadline) {
				st = EXIT_TIMEOUT;
				break;
			}
			/* Nothing is claimed: the reader watcher may end
			 * us while we wait (see watch_reader). */
			pthread_mutex_unlock(&busy);
			q_wait(q, &sh->put_seq, Q_WAIT_GET,
			    q_wake_time(q, deadline));
			pthread_mutex_lock(&busy);
			continue;
		}
		q_unlock(q);
		write_claimed(q, &out);
		out.len = 0;
		left -= k;
		deadline = opt_deadline(q_now(), o->timeout);
		q_lock(q);
	}
	q_slot_put(q);
	q_unlock(q);
	out_free(&out);
	return st;
}

/* Undo multi_register for the first N queues. */
static void
multi_unregister(struct queue *qs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		q_lock(&qs[i]);
		if (qs[i].sh->getw > 0)
			qs[i].sh->getw--;
		if (qs[i].slot >= 0)
			qs[i].sh->slot[qs[i].slot].role = Q_WAIT_NONE;
		q_unlock(&qs[i]);
	}
}

/* Register as a getter waiting on each of the NQ queues (so that their
 * putters wake us) and read their put_seq words into SEEN. Returns 1 if
 * one of them has a message by now (then nobody is registered). */
static int
multi_register(struct queue *qs, int nq, uint32_t *seen, int64_t *wake)
{
	int i;

	for (i = 0; i < nq; i++) {
		struct q_shared *sh = qs[i].sh;
		q_lock(&qs[i]);
		if (sh->ready > sh->delayed) {
			q_unlock(&qs[i]);
			multi_unregister(qs, i);
			return 1;
		}
		/* A dead getter cannot wake us (see q_wait). */
		if (sh->claimed > 0) {
			int64_t t = q_now() + 250 * 1000000LL;
			if (*wake < 0 || t < *wake)
				*wake = t;
		}
		sh->getw++;
		if (qs[i].slot >= 0)
			sh->slot[qs[i].slot].role = Q_WAIT_GET;
		seen[i] = sh->put_seq;
		q_unlock(&qs[i]);
	}
	return 0;
}

/* queue get NAME1 NAME2...: messages from whichever queue has one, the
 * queues looked at in the order given; it waits on all of them at once
 * (futex_waitv). With o->follow it ends when every queue is closed and
 * drained. */
static int
get_multi(struct queue *qs, int nq, const struct opts *o)
{
	uint64_t left = o->follow ? UINT64_MAX : o->count > 0 ?
	    (uint64_t)o->count : 1;
	int64_t deadline = opt_deadline(q_now(), o->timeout);
	struct q_out out = { 0 };
	uint32_t *seen = calloc((size_t)nq, sizeof *seen);
	uint32_t **words = calloc((size_t)nq, sizeof *words);
	int st = 0, i;

	if (seen == NULL || words == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	for (i = 0; i < nq; i++)
		words[i] = &qs[i].sh->put_seq;
	while (left > 0) {
		int ended = 0, removed = -1;
		int64_t wake = deadline;
		size_t k = 0;

		for (i = 0; i < nq && k == 0; i++) {
			struct queue *q = &qs[i];
			struct q_shared *sh = q->sh;
			q_lock(q);
			if (sh->claimed > 0)
				q_reap(q);
			if (q->slot >= 0 || q_slot_get(q) == 0)
				k = q_claim(q, left < BATCH_N ? left : BATCH_N,
				    BATCH_BYTES, &out, o->null ? '\0' : '\n');
			if (k == 0) {
				if (sh->removed)
					removed = i;
				ended += sh->closed && sh->ready == 0 &&
				    sh->claimed == 0;
				if (q->next_due) {
					int64_t d = q_due_mono(q->next_due);
					if (wake < 0 || d < wake)
						wake = d;
				}
				q_unlock(q);
				continue;
			}
			q_unlock(q);
			write_claimed(q, &out);
			out.len = 0;
			q_lock(q);
			q_commit(q);
			q_unlock(q);
			left -= k;
			deadline = opt_deadline(q_now(), o->timeout);
		}
		if (k > 0)
			continue;
		if (removed >= 0) {
			err_warnx("%s: queue removed", qs[removed].o.name);
			st = EXIT_NO;
			break;
		}
		if (ended == nq) {
			st = o->follow ? 0 : EXIT_NO;
			break;
		}
		if (o->nowait) {
			st = EXIT_WOULDBLOCK;
			break;
		}
		if (deadline >= 0 && q_now() >= deadline) {
			st = EXIT_TIMEOUT;
			break;
		}
		if (multi_register(qs, nq, seen, &wake))
			continue;
		pthread_mutex_unlock(&busy);
		if (obj_futex_waitv(words, seen, nq, wake) < 0) {
			/* A kernel before 5.16: look at each queue in turn,
			 * 100 ms at a time. */
			int64_t t = q_now() + 100 * 1000000LL;
			obj_futex_wait(words[0], seen[0], wake < 0 ||
			    t < wake ? t : wake);
		}
		pthread_mutex_lock(&busy);
		multi_unregister(qs, nq);
	}
	for (i = 0; i < nq; i++) {
		q_lock(&qs[i]);
		q_slot_put(&qs[i]);
		q_unlock(&qs[i]);
	}
	out_free(&out);
	free(seen);
	free(words);
	return st;
}

static void *
watch_reader(void *arg)
{
	struct pollfd pfd = { 1, 0, 0 };

	while (poll(&pfd, 1, -1) < 0 || pfd.revents == 0)
		;
	pthread_mutex_lock(&busy);
	raise(SIGPIPE);
	errno = EPIPE;
	err_die(EXIT_TOOL, "%s: write", (const char *)arg);
}

static void
watch_stdout(const char *name)
{
	struct stat st;
	pthread_t t;

	if (fstat(1, &st) == 0 && (S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode)) &&
	    pthread_create(&t, NULL, watch_reader, (void *)name) == 0)
		pthread_detach(t);
}

static int
cmd_get(int argc, char **argv)
{
	static const char usage[] = "queue get [-0] [--nowait | -t DUR] "
	    "[-n COUNT | -f] [--meta] [--name] [--sync] NAME...";
	struct opts o;
	struct queue *qs;
	int i = parse(argc, argv, usage, A_NULL | A_NOWAIT | A_TIMEOUT | A_COUNT |
	    A_FOLLOW | A_SYNC | A_META | A_NAME, &o), st, nq, k;
	const char *name = name_operand(argc, argv, i, -1, usage);
	struct cli sub = { usage, HELP_TEXT };

	nq = argc - i;
	if (nq > OBJ_WAITV_MAX)
		cli_usage_error(&sub, "more than %d queues", OBJ_WAITV_MAX);
	if (std_closed(1))
		err_diex(EXIT_TOOL, "%s: standard output is closed", name);
	if ((qs = calloc((size_t)nq, sizeof *qs)) == NULL)
		err_diex(EXIT_TOOL, "out of memory");
	/* Every name is checked before any queue is made. */
	for (k = 0; k < nq; k++)
		(void)exists(argv[i + k]);
	for (k = 0; k < nq; k++) {
		char *tag = NULL;
		open_or_die(&qs[k], argv[i + k], &defaults);
		qs[k].print_meta = o.meta_out;
		if (o.name_out && asprintf(&tag, "%s\t", argv[i + k]) < 0)
			err_diex(EXIT_TOOL, "out of memory");
		qs[k].tag = tag;
	}
	pthread_mutex_lock(&busy);
	watch_stdout(name);
	st = nq == 1 ? get_msgs(&qs[0], &o) : get_multi(qs, nq, &o);
	for (k = 0; k < nq; k++) {
		if (o.sync)
			sync_or_die(&qs[k]);
		free((char *)qs[k].tag);
		q_close(&qs[k]);
	}
	free(qs);
	return st;
}

/* ---- fifo (fifo.c) ---- */

static int
cmd_fifo(int argc, char **argv)
{
	static const char usage[] = "queue fifo [--in | --out] [-0] "
	    "[--mode MODE] NAME PATH";
	struct cli sub = { usage, HELP_TEXT };
	struct fifo_conf c;
	struct opts o;
	int i = parse(argc, argv, usage, A_NULL | A_MODE | A_IN | A_OUT, &o);
	const char *name = name_operand(argc, argv, i, 1, usage);

	if (i + 1 >= argc)
		cli_usage_error(&sub, "missing PATH");
	memset(&c, 0, sizeof c);
	c.name = name;
	c.path = argv[i + 1];
	c.out = o.out;
	c.null = o.null;
	c.mode = o.set.mode ? o.set.mode : 0600;
	c.exists = exists(name);
	return queue_fifo(&c);
}

/* ---- create, close, done, join ---- */

static const char *
order_name(uint32_t order)
{
	return order == Q_LIFO ? "lifo" : order == Q_PRIO ? "priority" :
	    "fifo";
}

static int
cmd_create(int argc, char **argv)
{
	static const char usage[] = "queue create [--max N] [--size BYTES] "
	    "[--lifo | --priority] [--mode MODE] NAME";
	struct opts o;
	struct queue q;
	struct q_settings have;
	int i = parse(argc, argv, usage, A_MAX | A_SIZE | A_LIFO | A_PRIORITY |
	    A_MODE, &o);
	const char *name = name_operand(argc, argv, i, 0, usage);

	if (o.set.mode == 0)
		o.set.mode = 0600;
	open_or_die(&q, name, &o.set);
	q_settings_of(&q, &have);
	if (!q.o.created && (have.size != o.set.size ||
	    have.max != o.set.max || have.order != o.set.order ||
	    have.mode != o.set.mode))
		err_diex(EXIT_TOOL, "%s: exists with other settings (%s, "
		    "--size %" PRIu64 ", --max %" PRIu64 ", --mode %o)", name,
		    order_name(have.order), have.size, have.max, have.mode);
	q_close(&q);
	return 0;
}

static int
cmd_close(int argc, char **argv)
{
	static const char usage[] = "queue close NAME";
	struct opts o;
	struct queue q;
	int i = parse(argc, argv, usage, 0, &o);
	const char *name = name_operand(argc, argv, i, 0, usage);

	open_or_die(&q, name, &defaults);
	q_lock(&q);
	q.sh->closed = 1;
	q_bump_put(&q);
	q_bump_get(&q);
	q_unlock(&q);
	q_close(&q);
	return 0;
}

/* Reopen a closed queue: puts are taken again (a missing queue is
 * created, as close does). A removed queue stays closed (its file is
 * gone; a put makes a new one). */
static int
cmd_open(int argc, char **argv)
{
	static const char usage[] = "queue open NAME";
	struct opts o;
	struct queue q;
	int i = parse(argc, argv, usage, 0, &o);
	const char *name = name_operand(argc, argv, i, 0, usage);

	open_or_die(&q, name, &defaults);
	q_lock(&q);
	if (!q.sh->removed)
		q.sh->closed = 0;
	q_unlock(&q);
	q_close(&q);
	return 0;
}

static int
cmd_done(int argc, char **argv)
{
	static const char usage[] = "queue done NAME [N]";
	struct opts o;
	struct queue q;
	int i = parse(argc, argv, usage, 0, &o);
	const char *name = name_operand(argc, argv, i, 1, usage);
	uint64_t n = i + 1 < argc ? (uint64_t)opt_count("N", argv[i + 1], 1,
	    LLONG_MAX) : 1;

	open_or_die(&q, name, NULL);
	q_lock(&q);
	if (n > q.sh->undone) {
		uint64_t u = q.sh->undone;
		q_unlock(&q);
		err_diex(EXIT_TOOL, "%s: done %" PRIu64 ": only %" PRIu64
		    " got message%s not done yet", name, n, u,
		    u == 1 ? " is" : "s are");
	}
	q.sh->undone -= n;
	q_bump_get(&q);
	q_unlock(&q);
	q_close(&q);
	return 0;
}

static int
cmd_join(int argc, char **argv)
{
	static const char usage[] = "queue join [--nowait | -t DUR] NAME";
	struct opts o;
	struct queue q;
	struct q_shared *sh;
	int i = parse(argc, argv, usage, A_NOWAIT | A_TIMEOUT, &o), st = 0;
	const char *name = name_operand(argc, argv, i, 0, usage);
	int64_t deadline = opt_deadline(q_now(), o.timeout);

	open_or_die(&q, name, &defaults);
	sh = q.sh;
	q_lock(&q);
	while (sh->ready + sh->claimed + sh->undone > 0) {
		if (sh->claimed > 0 && q_reap(&q) > 0)
			continue;
		if (o.nowait) {
			st = EXIT_WOULDBLOCK;
			break;
		}
		if (deadline >= 0 && q_now() >= deadline) {
			st = EXIT_TIMEOUT;
			break;
		}
		(void)q_slot_get_waiter(&q);
		q_wait(&q, &sh->get_seq, Q_WAIT_JOIN, deadline);
	}
	q_slot_put(&q);
	q_unlock(&q);
	q_close(&q);
	return st;
}

/* ---- size, stat, ls, rm ---- */

struct counts {
	uint64_t messages, claimed, bytes, used, tasks, delayed;
	unsigned getters, putters, joiners;
};

static void
read_counts(struct queue *q, struct counts *c)
{
	struct q_shared *sh = q->sh;

	q_lock(q);
	if (sh->claimed > 0 || sh->getw > 0 || sh->putw > 0)
		q_reap(q);
	c->messages = sh->ready + sh->claimed;
	c->claimed = sh->claimed;
	c->bytes = sh->bytes;
	c->used = sh->used;
	c->tasks = sh->ready + sh->claimed + sh->undone;
	c->delayed = q_count_delayed(q);
	c->getters = q_count_waiting(q, Q_WAIT_GET);
	c->putters = q_count_waiting(q, Q_WAIT_PUT);
	c->joiners = q_count_waiting(q, Q_WAIT_JOIN);
	q_unlock(q);
}

/* The common start of size and stat: parse NAME (no options), open the
 * existing queue, refuse a closed stdout, and count what is in it. */
static const char *
open_for_report(int argc, char **argv, const char *usage, struct queue *q,
    struct counts *c)
{
	struct opts o;
	int i = parse(argc, argv, usage, 0, &o);
	const char *name = name_operand(argc, argv, i, 0, usage);

	open_or_die(q, name, NULL);
	if (std_closed(1))
		err_diex(EXIT_TOOL, "%s: standard output is closed", name);
	read_counts(q, c);
	return name;
}

static int
cmd_size(int argc, char **argv)
{
	struct queue q;
	struct counts c;

	open_for_report(argc, argv, "queue size NAME", &q, &c);
	printf("%" PRIu64 "\n", c.messages);
	q_close(&q);
	return 0;
}

static void
report_queue(struct report *r, const char *name, struct queue *q)
{
	struct counts c;

	read_counts(q, &c);
	report_begin(r);
	report_str(r, "name", name);
	report_str(r, "order", order_name(q->sh->order));
	report_num(r, "size", q->R);
	report_num(r, "allocated", q_allocated(q));
	if (q->sh->max)
		report_num(r, "max", q->sh->max);
	else
		report_none(r, "max");
	report_num(r, "maxmsg", q->maxmsg);
	report_num(r, "messages", c.messages);
	report_num(r, "claimed", c.claimed);
	report_num(r, "delayed", c.delayed);
	report_num(r, "bytes", c.bytes);
	report_num(r, "used", c.used);
	report_num(r, "tasks", c.tasks);
	report_bool(r, "closed", q->sh->closed);
	report_num(r, "getters", c.getters);
	report_num(r, "putters", c.putters);
	report_num(r, "joiners", c.joiners);
	report_num(r, "puts", q->sh->puts);
	report_num(r, "gets", q->sh->gets);
	report_num(r, "repairs", q->sh->repairs);
	report_end(r);
}

static int
cmd_stat(int argc, char **argv)
{
	static const struct cli sub = { "queue stat [--json] NAME", HELP_TEXT };
	struct report r;
	struct queue q;
	const char *name = argv[report_options(argc, argv, &sub, 0, 1, &r)];

	open_or_die(&q, name, NULL);
	if (std_closed(1))
		err_diex(EXIT_TOOL, "%s: standard output is closed", name);
	report_queue(&r, name, &q);
	q_close(&q);
	return 0;
}

static void
ls_one(struct obj *o, void *arg)
{
	struct queue q;

	if (q_attach(&q, o) < 0)
		return;
	report_queue(arg, o->name, &q);
}

static int
cmd_ls(int argc, char **argv)
{
	static const struct cli sub = { "queue ls [--json] [--header]",
		HELP_TEXT };
	static const struct obj_type t = { OBJ_QUEUE, Q_VERSION, "queue" };
	static const char *const cols[] = { "name", "order", "size",
		"allocated", "max", "maxmsg", "messages", "claimed", "delayed",
		"bytes", "used", "tasks", "closed", "getters", "putters",
		"joiners", "puts", "gets", "repairs", NULL };

	if (std_closed(1))
		err_diex(EXIT_TOOL, "standard output is closed");
	return report_ls(argc, argv, &sub, &t, cols, ls_one);
}

static int
cmd_rm(int argc, char **argv)
{
	static const char usage[] = "queue rm NAME...";
	struct opts o;
	int i = parse(argc, argv, usage, 0, &o), st = 0;

	(void)name_operand(argc, argv, i, -1, usage);
	for (; i < argc; i++) {
		struct queue q;
		if (q_open(&q, argv[i], NULL) < 0) {
			st = EXIT_TOOL;
			continue;
		}
		/* Whoever still waits on the removed file is told so; a
		 * refused unlink changes nothing. */
		q_lock(&q);
		if (unlink(q.o.path) < 0) {
			err_warn("%s: remove", argv[i]);
			st = EXIT_TOOL;
		} else {
			q.sh->closed = q.sh->removed = 1;
			q_bump_put(&q);
			q_bump_get(&q);
		}
		q_unlock(&q);
		q_close(&q);
	}
	return st;
}

static const struct cli_cmd cmds[] = {
	{ "put", cmd_put }, { "get", cmd_get }, { "create", cmd_create },
	{ "close", cmd_close }, { "open", cmd_open }, { "done", cmd_done },
	{ "join", cmd_join }, { "run", cmd_run }, { "fifo", cmd_fifo },
	{ "size", cmd_size }, { "stat", cmd_stat }, { "ls", cmd_ls },
	{ "rm", cmd_rm }, { NULL, NULL }
};

int
main(int argc, char **argv)
{
	err_init(argv[0]);
	(void)proc_std_fds();
	optind = remote_main(argc, argv, &cli);
	return cli_dispatch(argc - optind, argv + optind, cmds, &cli);
}
