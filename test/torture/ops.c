/* The kinds of participant: how each is started, which exit statuses it
 * may have when no SIGKILL reached it, and what its end tells the
 * ledger. Producers put ledger messages (queue put with operands, from
 * lines or NUL-separated stdin, --nowait and --timeout; pool feeding
 * queue put, per item or --pipe; parallel running a put and a sem run);
 * getters write what they get to a file (get, -n, -0, -f, --nowait);
 * semaphore holders run the hold helper under sem run, or acquire and
 * release around it; barrier parties run the released helper after the
 * release, with the action helper as the barrier's action. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "torture.h"

static const struct {
	const char *name;
	enum role role;
	int weight;
	int ok[3];          /* exit statuses allowed without a kill (-1 ends) */
	int64_t kill_max;   /* latest planned kill, in microseconds */
} K[NKINDS] = {
	[K_PUT]           = { "put",          R_PUT,   3, { 0, -1, -1 }, 50000 },
	[K_PUT_STDIN]     = { "put-stdin",    R_PUT,   2, { 0, -1, -1 }, 50000 },
	[K_PUT_NUL]       = { "put-0",        R_PUT,   1, { 0, -1, -1 }, 50000 },
	[K_PUT_NOWAIT]    = { "put-nowait",   R_PUT,   1, { 0, 75, -1 }, 20000 },
	[K_PUT_TIMEOUT]   = { "put-timeout",  R_PUT,   1, { 0, 124, -1 }, 50000 },
	[K_GET]           = { "get",          R_GET,   2, { 0, 124, -1 }, 50000 },
	[K_GET_N]         = { "get-n",        R_GET,   3, { 0, 124, -1 }, 50000 },
	[K_GET_NUL]       = { "get-0",        R_GET,   1, { 0, 124, -1 }, 50000 },
	[K_GET_FOLLOW]    = { "get-f",        R_GET,   1, { 0, 124, -1 }, 300000 },
	[K_GET_NOWAIT]    = { "get-nowait",   R_GET,   1, { 0, 75, -1 }, 20000 },
	[K_POOL]          = { "pool",         R_POOL,  2, { 0, -1, -1 }, 200000 },
	[K_POOL_PIPE]     = { "pool-pipe",    R_POOL,  1, { 0, -1, -1 }, 200000 },
	[K_PARALLEL]      = { "parallel",     R_PAR,   1, { 0, -1, -1 }, 200000 },
	[K_SEM_RUN]       = { "sem-run",      R_SEM,   4, { 0, -1, -1 }, 100000 },
	[K_SEM_NOWAIT]    = { "sem-nowait",   R_SEM,   1, { 0, 75, -1 }, 50000 },
	[K_SEM_TIMEOUT]   = { "sem-timeout",  R_SEM,   1, { 0, 124, -1 }, 100000 },
	[K_MUTEX]         = { "mutex-run",    R_MUTEX, 2, { 0, -1, -1 }, 100000 },
	[K_ACQUIRE]       = { "acquire",      R_SEM,   2, { 0, -1, -1 }, 100000 },
	[K_PARTY]         = { "party",        R_PARTY, 5, { 0, 1, -1 }, 500000 },
	[K_PARTY_TIMEOUT] = { "party-timeout", R_PARTY, 1, { 0, 1, 124 }, 500000 },
	[K_BARFIX]        = { "barrier-fix",  R_PARTY, 0, { 0, -1, -1 }, 20000 },
	[K_LOOK]          = { "look",         R_MISC,  1, { 0, -1, -1 }, 20000 },
};

enum role
kind_role(enum kind k)
{
	return K[k].role;
}

const char *
kind_name(enum kind k)
{
	return K[k].name;
}

int64_t
op_max_kill_delay(enum kind k)
{
	return K[k].kill_max * 1000;
}

enum kind
pick_kind(enum role r)
{
	int total = 0, i, x;

	for (i = 0; i < NKINDS; i++)
		if (K[i].role == r)
			total += K[i].weight;
	x = (int)rnd_below(total);
	for (i = 0; i < NKINDS; i++)
		if (K[i].role == r && (x -= K[i].weight) < 0)
			return (enum kind)i;
	return K_LOOK;
}

/* An argument vector under construction; strings are copies. */
struct av {
	char *v[96];
	int n;
};

static void __attribute__((format(printf, 2, 3)))
add(struct av *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0 || a->n >= 95) {
		fprintf(stderr, "torture: argument vector\n");
		exit(2);
	}
	va_end(ap);
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void
av_free(struct av *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

static char *
io_file(const struct op *op, const char *ext)
{
	char *s;

	if (asprintf(&s, "%s/io/%u.%s", T.dir, op->id, ext) < 0)
		exit(2);
	return s;
}

/* Allocate COUNT ledger messages for OP; write them to IN (ended by SEP)
 * if IN is not NULL, else add them to A as operands. */
static void
messages(struct op *op, uint32_t count, struct av *a, const char *in, int sep)
{
	char buf[4096];
	FILE *f = NULL;

	op->msg0 = ledger_new(count);
	op->nmsg = count;
	if (in && (f = fopen(in, "we")) == NULL) {
		perror(in);
		exit(2);
	}
	for (uint32_t i = 0; i < count; i++) {
		ledger_text(op->msg0 + i, buf, sizeof buf);
		if (f)
			fprintf(f, "%s%c", buf, sep);
		else
			add(a, "%s", buf);
	}
	if (f && fclose(f) != 0) {
		perror(in);
		exit(2);
	}
}

/* The hold helper's arguments: a random hold of up to 20 ms. */
static void
hold_args(struct av *a, const char *name, int slots)
{
	add(a, "%s", T.self);
	add(a, "hold");
	add(a, "%s", T.dir);
	add(a, "%s", name);
	add(a, "%d", slots);
	add(a, "%ld", (long)rnd_below(20000));
}

static void
describe(struct op *op, const struct av *a, const char *in)
{
	size_t len = 0, cap = 200;
	char *d = malloc(cap + 64);

	if (d == NULL)
		exit(2);
	for (int i = 0; i < a->n && len < cap; i++)
		len += snprintf(d + len, cap + 64 - len, "%s%s", i ? " " : "", a->v[i]);
	if (in && len < cap)
		snprintf(d + len, cap + 64 - len, " <%s", in);
	op->desc = d;
}

/* Build the command of OP. *IN gets its stdin file (or NULL), *OUT
 * whether its stdout is kept. */
static void
build(struct op *op, struct av *a, char **in, int *out)
{
	uint32_t n = 1 + (uint32_t)rnd_below(5);
	char *sh;

	*in = NULL;
	*out = 0;
	switch (op->kind) {
	case K_PUT:
	case K_PUT_NOWAIT:
	case K_PUT_TIMEOUT:
		add(a, "queue");
		add(a, "put");
		if (op->kind == K_PUT_NOWAIT)
			add(a, "--nowait");
		if (op->kind == K_PUT_TIMEOUT)
			add(a, "-t%dms", 1 + (int)rnd_below(200));
		add(a, QUEUE);
		messages(op, n, a, NULL, 0);
		break;
	case K_PUT_STDIN:
	case K_PUT_NUL:
		add(a, "queue");
		add(a, "put");
		if (op->kind == K_PUT_NUL)
			add(a, "-0");
		add(a, QUEUE);
		*in = io_file(op, "in");
		messages(op, 1 + (uint32_t)rnd_below(20), a, *in,
		    op->kind == K_PUT_NUL ? '\0' : '\n');
		break;
	case K_GET:
	case K_GET_N:
	case K_GET_NUL:
	case K_GET_FOLLOW:
	case K_GET_NOWAIT:
		add(a, "queue");
		add(a, "get");
		if (op->kind == K_GET_NUL)
			add(a, "-0");
		if (op->kind == K_GET_N || op->kind == K_GET_NUL || op->kind == K_GET_NOWAIT)
			add(a, "-n%u", 1 + (unsigned)rnd_below(20));
		if (op->kind == K_GET_FOLLOW)
			add(a, "-f");
		if (op->kind == K_GET_NOWAIT)
			add(a, "--nowait");
		else
			add(a, "-t%s", op->kind == K_GET_FOLLOW ? "300ms" : "2");
		add(a, QUEUE);
		*out = 1;
		break;
	case K_POOL:
		add(a, "pool");
		add(a, "-j%d", 1 + (int)rnd_below(3));
		add(a, "--retries");
		add(a, "3");
		if (rnd_below(2))
			add(a, "-k");
		add(a, "queue");
		add(a, "put");
		add(a, QUEUE);
		*in = io_file(op, "in");
		messages(op, 2 + (uint32_t)rnd_below(9), a, *in, '\n');
		break;
	case K_POOL_PIPE:
		add(a, "pool");
		add(a, "--pipe");
		add(a, "--block");
		add(a, "%d", 100 + (int)rnd_below(900));
		add(a, "-j2");
		add(a, "queue");
		add(a, "put");
		add(a, QUEUE);
		*in = io_file(op, "in");
		messages(op, 5 + (uint32_t)rnd_below(26), a, *in, '\n');
		break;
	case K_PARALLEL: {
		struct av put = { .n = 0 }, hold = { .n = 0 };
		char *p = NULL;
		size_t plen = 0;
		FILE *f;

		add(a, "parallel");
		add(a, "--no-prefix");
		add(&put, "queue");
		add(&put, "put");
		add(&put, QUEUE);
		messages(op, n, &put, NULL, 0);
		add(&hold, "sem");
		add(&hold, "run");
		add(&hold, "-n%d", SEM_SLOTS);
		add(&hold, SEM);
		hold_args(&hold, SEM, SEM_SLOTS);
		for (struct av *c = &put; c; c = c == &put ? &hold : NULL) {
			/* Everything here is free of quotes and spaces but
			 * the paths, which are single-quoted. */
			if ((f = open_memstream(&p, &plen)) == NULL)
				exit(2);
			for (int i = 0; i < c->n; i++)
				fprintf(f, "%s'%s'", i ? " " : "", c->v[i]);
			fclose(f);
			add(a, "%s", p);
			free(p);
			p = NULL;
			av_free(c);
		}
		break;
	}
	case K_SEM_RUN:
	case K_SEM_NOWAIT:
	case K_SEM_TIMEOUT:
	case K_MUTEX:
		add(a, "sem");
		add(a, "run");
		if (op->kind == K_SEM_NOWAIT)
			add(a, "--nowait");
		if (op->kind == K_SEM_TIMEOUT)
			add(a, "-t%dms", 1 + (int)rnd_below(50));
		if (op->kind == K_MUTEX) {
			add(a, MUTEX);
			add(a, "--");
			hold_args(a, MUTEX, 1);
		} else {
			add(a, "-n%d", SEM_SLOTS);
			add(a, SEM);
			hold_args(a, SEM, SEM_SLOTS);
		}
		break;
	case K_ACQUIRE:
		add(a, "%s", T.self);
		add(a, "acquirer");
		add(a, "%s", T.dir);
		if (rnd_below(3) == 0) {
			add(a, MUTEX);
			add(a, "1");
		} else {
			add(a, SEM);
			add(a, "%d", SEM_SLOTS);
		}
		add(a, "%ld", (long)rnd_below(20000));
		break;
	case K_PARTY:
	case K_PARTY_TIMEOUT:
		op->gen0 = gen_read();
		add(a, "barrier");
		add(a, "wait");
		add(a, "-i");
		add(a, "-n%d", PARTIES);
		if (op->kind == K_PARTY_TIMEOUT)
			add(a, "-t%dms", 1 + (int)rnd_below(500));
		if (asprintf(&sh, "exec '%s' action '%s'", T.self, T.dir) < 0)
			exit(2);
		add(a, "-a");
		add(a, "%s", sh);
		free(sh);
		add(a, BARRIER);
		add(a, "--");
		add(a, "%s", T.self);
		add(a, "released");
		add(a, "%s", T.dir);
		add(a, "%lld", (long long)op->gen0);
		*out = 1;
		break;
	case K_BARFIX:
		add(a, "%s", T.self);
		add(a, "barfix");
		add(a, "%s", T.dir);
		break;
	case K_LOOK:
	default:
		switch (rnd_below(7)) {
		case 0: add(a, "queue"); add(a, "stat"); add(a, QUEUE); break;
		case 1: add(a, "queue"); add(a, "size"); add(a, QUEUE); *out = 1; break;
		case 2: add(a, "queue"); add(a, "ls"); break;
		case 3: add(a, "sem"); add(a, "stat"); add(a, SEM); break;
		case 4: add(a, "sem"); add(a, "value"); add(a, SEM); *out = 1; break;
		case 5: add(a, "barrier"); add(a, "stat"); add(a, BARRIER); break;
		default: add(a, "barrier"); add(a, "ls"); break;
		}
		break;
	}
}

static int
open_or_die(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd < 0) {
		perror(path);
		exit(2);
	}
	return fd;
}

int
op_spawn(struct op *op)
{
	struct proc_spec sp;
	struct av a = { .n = 0 };
	char *in;
	int out, fd[3], e;

	op->role = kind_role(op->kind);
	build(op, &a, &in, &out);
	describe(op, &a, in);
	op->err = io_file(op, "err");
	if (out)
		op->out = io_file(op, "out");
	fd[0] = open_or_die(in ? in : "/dev/null", O_RDONLY);
	fd[1] = open_or_die(out ? op->out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC);
	fd[2] = open_or_die(op->err, O_WRONLY | O_CREAT | O_TRUNC);
	if (in)
		unlink(in);
	free(in);
	proc_spec_init(&sp, a.v);
	memcpy(sp.fd, fd, sizeof fd);
	sp.pgroup = 1;
	op->start = now_ns();
	op->pid = proc_spawn(&sp, &e);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
	av_free(&a);
	return op->pid < 0 ? -1 : 0;
}

static char *
slurp(const char *path, size_t max)
{
	char *s = calloc(1, max + 1);
	int fd;
	ssize_t n;

	if (s == NULL)
		exit(2);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, s, max);
		if (n > 0)
			s[n] = '\0';
		close(fd);
	}
	return s;
}

static int
status_ok(const struct op *op, int st)
{
	for (int i = 0; i < 3 && K[op->kind].ok[i] >= 0; i++)
		if (K[op->kind].ok[i] == st)
			return 1;
	return 0;
}

/* A party that ended on its own with 0 printed its index twice: once
 * from -i, once from the released helper (BARRIER_INDEX). */
static void
party_done(const struct op *op, int st)
{
	char *s = slurp(op->out, 64);
	int a = -1, b = -1;

	checks++;
	if (sscanf(s, "%d\n%d\n", &a, &b) != 2 || a != b || a < 0 || a >= PARTIES)
		violation("op %u (%s) exited 0 but printed \"%s\" as its index", op->id,
		    op->desc, s);
	free(s);
}

static void
look_done(const struct op *op)
{
	char *s = slurp(op->out, 64);
	char *end;
	long v = strtol(s, &end, 10);

	checks++;
	if (end == s || *end != '\n' || v < 0 ||
	    (strstr(op->desc, "sem value") && v > SEM_SLOTS))
		violation("op %u (%s) printed \"%s\"", op->id, op->desc, s);
	free(s);
}

void
op_done(struct op *op, int st)
{
	int killed = st > 128;
	char who[64];

	snprintf(who, sizeof who, "op %u (%s)", op->id, kind_name(op->kind));
	checks++;
	if (!op->touched && !status_ok(op, st)) {
		char *err = slurp(op->err, 600);
		violation("op %u exited %d, which no kill explains: %s%s%s", op->id, st,
		    op->desc, *err ? "\n    stderr: " : "", err);
		free(err);
	}
	switch (op->kind) {
	case K_PUT: case K_PUT_STDIN: case K_PUT_NUL: case K_PUT_NOWAIT:
	case K_PUT_TIMEOUT: case K_POOL: case K_POOL_PIPE: case K_PARALLEL:
		if (st == 0)
			ledger_ack(op->msg0, op->nmsg);
		/* pool --retries runs a killed job again: the killed put
		 * may have added its message already. */
		if (op->kind == K_POOL && op->touched)
			ledger_dupok(op->msg0, op->nmsg);
		break;
	case K_GET: case K_GET_N: case K_GET_NUL: case K_GET_FOLLOW:
	case K_GET_NOWAIT: {
		int n = ledger_read(op->out, op->kind == K_GET_NUL ? '\0' : '\n',
		    killed, who);
		const char *c = strstr(op->desc, " -n");
		int want = op->kind == K_GET ? 1 : c ? atoi(c + 3) : -1;
		checks++;
		if (st == 0 && want > 0 && n != want)
			violation("%s exited 0 with %d messages instead of %d", who, n, want);
		if (!killed && want > 0 && n > want)
			violation("%s wrote %d messages, more than %d", who, n, want);
		break;
	}
	case K_PARTY: case K_PARTY_TIMEOUT:
		if (st == 0)
			party_done(op, st);
		break;
	case K_LOOK:
		if (st == 0 && op->out)
			look_done(op);
		break;
	default:
		break;
	}
	if (op->out)
		unlink(op->out);
	unlink(op->err);
}

int
run_tool(char *const argv[], char *out, size_t outlen)
{
	struct proc_spec sp;
	int p[2] = { -1, -1 }, ws = 0;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	proc_spec_init(&sp, argv);
	if (out) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return 125;
		sp.fd[1] = p[1];
	}
	pid = proc_spawn(&sp, NULL);
	if (out) {
		close(p[1]);
		while (pid > 0 && (n = read(p[0], out + len, outlen - 1 - len)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || (len += n) == outlen - 1)
				break;
		}
		out[len] = '\0';
		close(p[0]);
	}
	if (pid < 0)
		return 125;
	while (waitpid(pid, &ws, 0) < 0)
		if (errno != EINTR)
			return 125;
	return proc_status(ws);
}
