/* queue fifo: a named pipe as one end of a queue, for programs that can
 * only write to a path (--log-file) or read from one (-o FILE).
 *
 * In (--in). We hold the FIFO open for reading, without blocking, read
 * what its writers write, split it into records (lines, or NUL-ended
 * with -0) and put each whole record into the queue. Writers come and
 * go: when the last one has closed, a read returns end of file, a last
 * record without its end is put as it is (as `queue put` does at the
 * end of its input), and we open the FIFO again before closing the old
 * descriptor. So the FIFO never lacks a reader (a writer's open never
 * blocks or fails for want of one), and the new descriptor reports no
 * hang-up until a writer has come and gone (Linux keeps, per open, the
 * count of writers it has seen). We read only while the queue takes
 * what we read: a full queue stops the reads, and writers then block in
 * the kernel on the full pipe.
 *
 * Out (--out). We wait for a reader by opening the FIFO for writing,
 * which blocks until somebody opens it for reading: a thread does that
 * open. Only with a reader do we claim messages (as `queue get` does,
 * holding a slot of our own), write them into the pipe without blocking,
 * and commit them once write(2) has taken every byte of them. When the
 * reader goes (EPIPE, or a hang-up while we wait for messages), what we
 * claimed and had not written in full goes back to the queue
 * (q_unclaim_after), and we close our end, which frees the pipe with
 * whatever its reader left unread: the next reader starts with the next
 * message.
 *
 * Waiting. Everything waits in one event loop (lib/loop): the FIFO's
 * descriptors, timers, signals, and the reports of two threads: one
 * waits on the queue's futex (put_seq for --out, get_seq for --in; close
 * and rm bump both), as the waiter of `queue run` does; the other does
 * the blocking open of --out. Only the main thread touches the queue.
 *
 * Crashes. A killed bridge loses no message that is in the queue: a
 * put adds its batch whole or not at all, and our claims go back to the
 * queue when our slot's owner is found dead, as those of `queue get`.
 * What it loses is in flight: the pipe's bytes, and (--in) at most one
 * read not yet put.
 *
 * Ownership. An abstract Unix socket named after the FIFO's device and
 * inode is our lock: a second bridge on the same FIFO is refused, and
 * the lock goes with the process, however it ends. At exit PATH is
 * removed if it is still the FIFO we served. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "err.h"
#include "loop.h"
#include "obj.h"
#include "queue.h"
#include "queueobj.h"

#define READ_SIZE (64u << 10)     /* per read: the most read and not put */
#define BATCH_N 65536             /* messages per claim, as queue get */
#define BATCH_BYTES ((64u << 10) - 64) /* output bytes per claim, as get */
#define PERIODIC_NS (250 * 1000000LL)

static const struct fifo_conf *C;
static struct queue Q;
static struct loop *L;
static struct stat fst;           /* the FIFO we serve */
static int served;                /* ours to remove at exit */
static int finished, status;

/* The threads: requests go out on *_req, reports come in on *_note. */
struct wreq {
	uint32_t *word;
	uint32_t seen;
};
static int w_req[2], w_note[2], waiting;
static int o_req[2], o_note[2], opening;

/* --in: BUF[0..LEN) holds what was read; records before START are split
 * (into MSG, of which MPUT are in the queue), SCAN is how far the record
 * after START was looked at. */
static int rfd = -1;
static char *buf;
static size_t cap, len, start, scan;
static int skipping;              /* dropping the rest of a long record */
static struct q_msg *msg;
static size_t nmsg, mcap, mput;

/* --out: OUT holds the claimed messages, OFF of its bytes are written. */
static int wfd = -1;
static struct q_out out;
static size_t off;
static int holding;
static struct loop_timer *tmr;
static int64_t look_at;           /* the next full look for dead holders */

static void feed(void);
static void fill(void);

/* How many of the messages in OUT its first DONE bytes hold in full. */
static size_t
whole(size_t done)
{
	size_t k = 0;

	while (k < out.n && out.end[k] <= done)
		k++;
	return k;
}

static void
nomem(void)
{
	err_diex(EXIT_TOOL, "out of memory");
}

/* ---- The FIFO ---- */

static int
same_file(const struct stat *st)
{
	return S_ISFIFO(st->st_mode) && st->st_dev == fst.st_dev &&
	    st->st_ino == fst.st_ino;
}

static void
remove_fifo(void)
{
	struct stat st;

	if (served && lstat(C->path, &st) == 0 && same_file(&st))
		(void)unlink(C->path);
	served = 0;
}

/* Take the FIFO's lock (see the top); MADE: we have just made it. */
static void
lock_fifo(int made)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), n;

	if (fd < 0)
		err_die(EXIT_TOOL, "%s: lock", C->path);
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1,
	    "concutils/queue-fifo/%llx/%llx", (unsigned long long)fst.st_dev,
	    (unsigned long long)fst.st_ino);
	if (bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct
	    sockaddr_un, sun_path) + 1 + (size_t)n)) < 0) {
		int e = errno;
		if (made)
			(void)unlink(C->path);
		errno = e;
		if (e == EADDRINUSE)
			err_diex(EXIT_TOOL, "%s: another queue fifo serves it",
			    C->path);
		err_die(EXIT_TOOL, "%s: lock", C->path);
	}
	served = 1;     /* fd stays open: the lock lasts as long as we do */
}

/* Make PATH a FIFO, or take the one that is there. */
static void
make_fifo(void)
{
	int made = 0;

	for (;;) {
		mode_t old;
		int r;

		if (lstat(C->path, &fst) == 0) {
			if (!S_ISFIFO(fst.st_mode))
				err_diex(EXIT_TOOL, "%s: exists and is not a "
				    "FIFO", C->path);
			break;
		}
		if (errno != ENOENT)
			err_die(EXIT_TOOL, "%s", C->path);
		old = umask(0);
		r = mkfifo(C->path, (mode_t)C->mode);
		umask(old);
		if (r == 0)
			made = 1;
		else if (errno != EEXIST)
			err_die(EXIT_TOOL, "%s: mkfifo", C->path);
	}
	lock_fifo(made);
}

/* FD, just opened by path, must be the FIFO we serve. */
static int
check_fd(int fd)
{
	struct stat st;

	if (fd < 0)
		err_die(EXIT_TOOL, "%s", C->path);
	if (fstat(fd, &st) < 0)
		err_die(EXIT_TOOL, "%s", C->path);
	if (!same_file(&st))
		err_diex(EXIT_TOOL, "%s: replaced by another file", C->path);
	return fd;
}

/* ---- The threads ---- */

static void *
waiter(void *arg)
{
	struct wreq r;
	char c = 1;

	(void)arg;
	while (read(w_req[0], &r, sizeof r) == (ssize_t)sizeof r) {
		obj_futex_wait(r.word, r.seen, q_wait_bound(-1));
		while (write(w_note[1], &c, 1) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

/* Opens the FIFO for writing, which blocks until it has a reader. */
static void *
opener(void *arg)
{
	char c;
	int fd;

	(void)arg;
	while (read(o_req[0], &c, 1) == 1) {
		if ((fd = open(C->path, O_WRONLY | O_CLOEXEC)) < 0)
			fd = -errno;
		while (write(o_note[1], &fd, sizeof fd) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

/* (locked) Have the waiter wait for the queue to change, unless it does
 * already; we count as a waiting getter (--out) or putter (--in), so
 * that the queue's changes wake us. */
static void
wait_queue(void)
{
	struct q_shared *sh = Q.sh;
	struct wreq r;

	if (waiting)
		return;
	/* Idle: storage the queue does not need goes back, as queue run
	 * gives it back. */
	q_shrink(&Q);
	memset(&r, 0, sizeof r);
	r.word = C->out ? &sh->put_seq : &sh->get_seq;
	r.seen = *r.word;
	if (C->out)
		sh->getw++;
	else
		sh->putw++;
	waiting = 1;
	if (write(w_req[1], &r, sizeof r) != (ssize_t)sizeof r)
		err_die(EXIT_TOOL, "%s: wait", C->name);
}

/* (locked) The waiter has reported, or we stop counting on it. */
static void
unwait(void)
{
	uint32_t *n = C->out ? &Q.sh->getw : &Q.sh->putw;

	if (waiting && *n > 0)
		(*n)--;
	waiting = 0;
}

/* (locked) What stat shows us doing. */
static void
set_role(int role)
{
	if (Q.slot >= 0)
		Q.sh->slot[Q.slot].role = (uint32_t)role;
}

static void
on_note(struct loop *l, int fd, unsigned ev, void *arg)
{
	char b[16];

	(void)l; (void)ev; (void)arg;
	if (read(fd, b, sizeof b) <= 0)
		return;
	q_lock(&Q);
	unwait();
	q_unlock(&Q);
	if (C->out)
		fill();
	else
		feed();
}

/* End with status ST, the queue left as it should be. */
static void
finish(int st)
{
	if (finished)
		return;
	q_lock(&Q);
	if (holding) {
		/* The messages written in full are delivered; the rest go
		 * back in their place. */
		q_unclaim_after(&Q, &out, whole(off));
		holding = 0;
	}
	q_commit(&Q);
	unwait();
	q_slot_put(&Q);
	q_unlock(&Q);
	if (wfd >= 0)
		close(wfd);     /* its reader sees end of file */
	wfd = -1;
	status = st;
	finished = 1;
}

/* (locked) The queue is closed (or removed): end. */
static void
end_closed(void)
{
	size_t left = nmsg - mput;

	if (Q.sh->removed) {
		q_unlock(&Q);
		queue_say_closed(&Q);
		finish(EXIT_NO);
		return;
	}
	q_unlock(&Q);
	if (left > 0)
		err_warnx("%s: queue closed: %zu record%s read from %s not "
		    "put", C->name, left, left == 1 ? "" : "s", C->path);
	finish(left > 0 ? EXIT_NO : 0);
}

/* ---- In: the FIFO's writers put into the queue ---- */

static void
add_msg(size_t s, size_t e)
{
	if (nmsg == mcap) {
		struct q_msg *m;
		mcap = mcap ? 2 * mcap : 1024;
		if ((m = realloc(msg, mcap * sizeof *m)) == NULL)
			nomem();
		msg = m;
	}
	msg[nmsg].data = buf + s;
	msg[nmsg++].len = (uint32_t)(e - s);
}

/* A record that cannot be a message is dropped, with one line. */
static int
rec_ok(size_t s, size_t e)
{
	if (!C->null && memchr(buf + s, '\0', e - s) != NULL) {
		err_warnx("%s: %s: a line holding a NUL byte dropped (-0 "
		    "reads NUL-ended records)", C->name, C->path);
		return 0;
	}
	return 1;
}

/* Split what was read into records; with EOF (no writer is left) the
 * bytes after the last end make one too. A record longer than the
 * queue's maximum is dropped as it is read. */
static void
split(int eof)
{
	char d = C->null ? '\0' : '\n';

	for (;;) {
		char *e = scan < len ? memchr(buf + scan, d, len - scan) : NULL;
		size_t end = e ? (size_t)(e - buf) : len;
		if (e == NULL) {
			scan = len;
			if (!eof || start == len)
				break;
		}
		if (skipping)
			skipping = 0;
		else if (end - start > Q.maxmsg)
			err_warnx("%s: %s: a record longer than the maximum of "
			    "%u bytes dropped", C->name, C->path,
			    (unsigned)Q.maxmsg);
		else if (rec_ok(start, end))
			add_msg(start, end);
		start = scan = e ? end + 1 : len;
	}
	if (!skipping && len - start > Q.maxmsg) {
		err_warnx("%s: %s: a record longer than the maximum of %u "
		    "bytes dropped", C->name, C->path, (unsigned)Q.maxmsg);
		skipping = 1;
	}
	if (skipping)
		len = scan = start;
	if (eof)
		skipping = 0;
}

/* Make room for a read: drop what is in the queue, keep the record
 * being read. */
static void
make_room(void)
{
	if (mput == nmsg) {
		nmsg = mput = 0;
		if (start > 0)
			memmove(buf, buf + start, len - start);
		len -= start;
		scan -= start;
		start = 0;
	}
	if (cap - len < READ_SIZE) {
		char *b;
		cap = cap ? 2 * cap : 2 * READ_SIZE;
		if ((b = realloc(buf, cap)) == NULL)
			nomem();
		buf = b;
	}
}

/* (locked) Put what was split, as far as the queue takes it now.
 * Returns 0, or -1 if the queue is closed. The file system out of
 * storage for the queue ends us, as it ends a put: waiting would not
 * help. */
static int
put_some(void)
{
	struct q_shared *sh = Q.sh;

	while (!sh->closed && mput < nmsg) {
		size_t k = q_insert(&Q, msg + mput, nmsg - mput, 0, NULL);
		if (k == 0 && Q.nospace) {
			size_t left = nmsg - mput;
			q_unlock(&Q);
			errno = Q.nospace;
			err_die(EXIT_TOOL, "%s: no storage for the message%s "
			    "(%zu record%s read from %s not put)", C->name,
			    left > 1 ? "s" : "", left, left > 1 ? "s" : "",
			    C->path);
		}
		if (k == 0 && !(sh->claimed > 0 && q_reap(&Q) > 0))
			break;
		mput += k;
	}
	return sh->closed ? -1 : 0;
}

/* Put what was split; read on when it is all in, else wait for room.
 * The waiter always waits: a close must end us even when idle. */
static void
feed(void)
{
	int full;

	if (finished)
		return;
	q_lock(&Q);
	if (put_some() < 0) {
		end_closed();
		return;
	}
	full = mput < nmsg;
	set_role(full ? Q_WAIT_PUT : Q_WAIT_NONE);
	wait_queue();
	q_unlock(&Q);
	if (loop_mod_fd(L, rfd, full ? 0 : LOOP_IN) < 0)
		err_die(EXIT_TOOL, "loop");
}

static void on_read(struct loop *l, int fd, unsigned ev, void *arg);

/* Every writer has gone: a new descriptor, then the old one closed, so
 * that the FIFO always has a reader. */
static void
reopen(void)
{
	int fd = check_fd(open(C->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC));

	loop_del_fd(L, rfd);
	close(rfd);
	rfd = fd;
	if (loop_add_fd(L, rfd, 0, on_read, NULL) < 0)
		err_die(EXIT_TOOL, "loop");
}

static void
on_read(struct loop *l, int fd, unsigned ev, void *arg)
{
	ssize_t r;

	(void)l; (void)fd; (void)ev; (void)arg;
	if (mput < nmsg)
		return;
	make_room();
	r = read(rfd, buf + len, READ_SIZE);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r < 0)
		err_die(EXIT_TOOL, "%s: read", C->path);
	len += (size_t)r;
	split(r == 0);
	if (r == 0)
		reopen();
	feed();
}

/* Stopped by a signal: put what the writers have written so far (the
 * bytes in the pipe now, a last unended record as a message), as far as
 * the queue takes it without waiting. */
static void
drain(void)
{
	int avail = 0, closed;
	size_t want;

	q_lock(&Q);
	closed = put_some() < 0;
	if (!closed && mput == nmsg && ioctl(rfd, FIONREAD, &avail) == 0)
		for (want = avail > 0 ? (size_t)avail : 0; want > 0 &&
		    mput == nmsg && !closed;) {
			ssize_t r;
			make_room();
			r = read(rfd, buf + len, want < cap - len ? want :
			    cap - len);
			if (r <= 0)
				break;
			want -= (size_t)r;
			len += (size_t)r;
			split(0);
			closed = put_some() < 0;
		}
	if (!closed && mput == nmsg) {
		split(1);
		closed = put_some() < 0;
	}
	q_unlock(&Q);
	if (nmsg > mput)
		err_warnx("%s: %zu record%s read from %s not put: the queue "
		    "is %s", C->name, nmsg - mput, nmsg - mput == 1 ? "" : "s",
		    C->path, closed ? "closed" : "full");
}

/* ---- Out: the FIFO's readers get the queue's messages ---- */

static void
on_timer(struct loop *l, void *arg)
{
	(void)l; (void)arg;
	tmr = NULL;
	fill();
}

/* (locked) Look at the queue again when the first delayed message we
 * passed over is due, and every 250 ms while others hold claims (their
 * owner may die; see q_wait). */
static void
arm_timer(void)
{
	int64_t t = -1;

	if (wfd >= 0 && Q.next_due)
		t = q_due_mono(Q.next_due);
	if (Q.sh->claimed > 0) {
		int64_t p = q_now() + PERIODIC_NS;
		if (t < 0 || p < t)
			t = p;
	}
	loop_del_timer(L, tmr);
	tmr = NULL;
	if (t >= 0 && (tmr = loop_add_timer(L, t, on_timer, NULL)) == NULL)
		nomem();
}

static void
drop_reader(void)
{
	loop_del_fd(L, wfd);
	close(wfd);
	wfd = -1;
}

/* Write the claimed messages. Returns 0 if we must wait for room in the
 * pipe, else 1: all written, or the reader has gone (the messages not
 * written in full are back in the queue). */
static int
write_out(void)
{
	while (off < out.len) {
		ssize_t w = write(wfd, out.buf + off, out.len - off);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (loop_mod_fd(L, wfd, LOOP_OUT) < 0)
				err_die(EXIT_TOOL, "loop");
			return 0;
		}
		if (w < 0 && errno != EPIPE)
			err_warn("%s: %s: write", C->name, C->path);
		/* Our end is closed before the claims go back: once stat
		 * shows them back, the next reader gets a new pipe. */
		drop_reader();
		q_lock(&Q);
		set_role(Q_WAIT_NONE);
		q_unclaim_after(&Q, &out, whole(off));
		q_commit(&Q);
		q_unlock(&Q);
		break;
	}
	holding = 0;
	return 1;
}

static void
want_reader(void)
{
	struct stat st;
	char c = 1;

	if (opening)
		return;
	/* The opener's open would wait on another FIFO at PATH. */
	if (lstat(C->path, &st) < 0)
		err_die(EXIT_TOOL, "%s", C->path);
	if (!same_file(&st))
		err_diex(EXIT_TOOL, "%s: replaced by another file", C->path);
	if (write(o_req[1], &c, 1) != 1)
		err_die(EXIT_TOOL, "%s: open", C->path);
	opening = 1;
}

/* Claim messages while we have a reader, write them, commit them; wait
 * for messages, room or a reader; end when the queue is closed and
 * drained. */
static void
fill(void)
{
	struct q_shared *sh = Q.sh;

	while (!finished) {
		size_t k = 0;

		if (holding) {
			if (!write_out())
				return;
			continue;
		}
		q_lock(&Q);
		q_commit(&Q);
		/* As queue get does: claims of dead getters go back first;
		 * holders q_reap_quick cannot see are looked for when there
		 * is nothing to take, every 250 ms at most. */
		if (sh->claimed > 0)
			q_reap_quick(&Q);
		if (wfd >= 0) {
			out.len = 0;
			k = q_claim(&Q, BATCH_N, BATCH_BYTES, &out,
			    C->null ? '\0' : '\n');
		}
		if (k == 0 && sh->claimed > 0 && q_now() >= look_at) {
			look_at = q_now() + PERIODIC_NS;
			if (q_reap(&Q) > 0) {
				q_unlock(&Q);
				continue;
			}
		}
		if (k > 0) {
			q_unlock(&Q);
			holding = 1;
			off = 0;
			continue;
		}
		if (sh->removed || (sh->closed && sh->ready == 0 &&
		    sh->claimed == 0)) {
			int removed = sh->removed != 0;
			q_unlock(&Q);
			if (removed)
				queue_say_closed(&Q);
			finish(removed ? EXIT_NO : 0);
			return;
		}
		set_role(wfd >= 0 ? Q_WAIT_GET : Q_WAIT_NONE);
		wait_queue();
		arm_timer();
		q_unlock(&Q);
		if (wfd < 0)
			want_reader();
		else if (loop_mod_fd(L, wfd, LOOP_HUP) < 0)
			err_die(EXIT_TOOL, "loop");
		return;
	}
}

/* The reader's end: room in the pipe, or the reader has gone. */
static void
on_wfd(struct loop *l, int fd, unsigned ev, void *arg)
{
	(void)l; (void)fd; (void)arg;
	if (!holding && (ev & LOOP_HUP))
		drop_reader();
	fill();
}

static void
on_opened(struct loop *l, int fd, unsigned ev, void *arg)
{
	int nfd;

	(void)l; (void)ev; (void)arg;
	if (read(fd, &nfd, sizeof nfd) != (ssize_t)sizeof nfd)
		return;
	opening = 0;
	if (nfd < 0) {
		errno = -nfd;
		nfd = -1;
	}
	wfd = check_fd(nfd);
	if (fcntl(wfd, F_SETFL, O_WRONLY | O_NONBLOCK) < 0 ||
	    loop_add_fd(L, wfd, LOOP_HUP, on_wfd, NULL) < 0)
		err_die(EXIT_TOOL, "%s", C->path);
	/* stat counts us as a getter while we have a reader, until our
	 * end is closed. */
	q_lock(&Q);
	set_role(Q_WAIT_GET);
	q_unlock(&Q);
	fill();
}

/* ---- Main ---- */

/* SIGINT, SIGTERM, SIGHUP and every other signal that would end us:
 * settle and exit 128+N. */
static void
on_stop(struct loop *l, int sig, void *arg)
{
	(void)l; (void)arg;
	if (!C->out && !finished)
		drain();
	finish(128 + sig);
}

int
queue_fifo(const struct fifo_conf *c)
{
	C = c;
	if ((L = loop_new()) == NULL)
		err_die(EXIT_TOOL, "loop");
	signal(SIGPIPE, SIG_IGN);
	if (loop_add_stop_signals(L, NULL, on_stop, NULL) < 0)
		err_die(EXIT_TOOL, "signals");
	/* An existing NAME must be a queue before PATH is made; a new
	 * queue is made only once PATH is ours. */
	if (c->exists) {
		queue_open_or_die(&Q, c->name);
		/* A closed queue refuses puts from the start, as it would
		 * refuse those of `queue put`. */
		if (!c->out && Q.sh->closed) {
			queue_say_closed(&Q);
			q_close(&Q);
			loop_free(L);
			return EXIT_NO;
		}
	}
	make_fifo();
	atexit(remove_fifo);
	if (!c->exists)
		queue_open_or_die(&Q, c->name);
	q_lock(&Q);
	if ((c->out ? q_slot_get(&Q) : q_slot_get_waiter(&Q)) < 0 && c->out) {
		q_unlock(&Q);
		err_diex(EXIT_TOOL, "%s: too many processes use the queue",
		    c->name);
	}
	q_unlock(&Q);
	queue_thread(L, waiter, w_req, w_note, on_note);
	if (c->out) {
		queue_thread(L, opener, o_req, o_note, on_opened);
		fill();
	} else {
		rfd = check_fd(open(c->path, O_RDONLY | O_NONBLOCK |
		    O_CLOEXEC));
		if (loop_add_fd(L, rfd, LOOP_IN, on_read, NULL) < 0)
			err_die(EXIT_TOOL, "loop");
		feed();
	}
	while (!finished)
		if (loop_run_once(L, -1) < 0)
			err_die(EXIT_TOOL, "loop");
	remove_fifo();
	q_close(&Q);
	free(buf);
	free(msg);
	free(out.buf);
	free(out.pos);
	free(out.end);
	loop_free(L);
	return status;
}
