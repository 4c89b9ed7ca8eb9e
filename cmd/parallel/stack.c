/* stack: readiness (--ready) and dependencies (--after).
 *
 * A job is ready once started, or when its --ready condition first holds:
 * a line of its output matches a regex (checked in the multiplexer on
 * whole lines, through the source's watch hook, only until it matches), a
 * TCP connection succeeds (a non-blocking connect from the event loop,
 * one every CHECK_PERIOD, each given that long), a path exists (checked
 * every CHECK_PERIOD), or it exits 0. Readiness stays once reached, over
 * restarts. A job with --after starts once every job it waits for is
 * ready (run.c's schedule). The graph is checked before anything starts. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "parallel.h"

#define CHECK_PERIOD (100 * 1000000LL)  /* ns between TCP and file checks */

static struct loop *loop;

static void
parse_tcp(struct job *j, const char *spec)
{
	struct addrinfo hints, *res;
	char *copy = strdup(spec), *host, *port, *colon;
	long n;
	int r;

	if (copy == NULL)
		err_die(EXIT_TOOL, "out of memory");
	colon = strrchr(copy, ':');
	if (colon) {
		*colon = '\0';
		host = copy;
		port = colon + 1;
		if (*host == '[' && host[strlen(host) - 1] == ']') {
			host[strlen(host) - 1] = '\0';
			host++;
		}
	} else {
		host = "localhost";
		port = copy;
	}
	n = strtol(port, &colon, 10);
	if (*port == '\0' || *colon != '\0' || n < 1 || n > 65535)
		err_diex(EXIT_TOOL, "--ready %s=tcp:%s: the port must be a "
		    "number from 1 to 65535", j->name, spec);
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0)
		err_diex(EXIT_TOOL, "--ready %s=tcp:%s: %s", j->name, spec,
		    gai_strerror(r));
	j->addrs = j->next_addr = res;
	free(copy);
}

static void
parse_ready(const char *arg, int from_procfile)
{
	const char *eq = strchr(arg, '=');
	char *name, *re;
	struct job *j;
	size_t len;
	int r;

	if (eq == NULL || eq == arg)
		err_diex(EXIT_TOOL, "--ready %s: expected NAME=CONDITION", arg);
	name = strndup(arg, eq - arg);
	if (name == NULL)
		err_die(EXIT_TOOL, "out of memory");
	j = &jobs[spec_target("--ready", name)];
	free(name);
	/* The command line's --ready replaces the Procfile's. */
	if (j->ready_kind != READY_START && (from_procfile ||
	    !j->ready_procfile))
		err_diex(EXIT_TOOL, "--ready %s: given twice for %s", arg,
		    j->name);
	j->ready_procfile = from_procfile;
	if (j->ready_re != NULL) { /* the Procfile's pattern, replaced */
		regfree(j->ready_re);
		free(j->ready_re);
		j->ready_re = NULL;
	}
	j->ready_kind = READY_START;
	j->ready_cond = ++eq;
	len = strlen(eq);
	if (len >= 2 && eq[0] == '/' && eq[len - 1] == '/') {
		j->ready_kind = READY_LINE;
		re = strndup(eq + 1, len - 2);
		j->ready_re = malloc(sizeof(regex_t));
		if (re == NULL || j->ready_re == NULL)
			err_die(EXIT_TOOL, "out of memory");
		r = regcomp(j->ready_re, re, REG_EXTENDED | REG_NOSUB);
		if (r != 0) {
			char why[256];
			regerror(r, j->ready_re, why, sizeof why);
			free(re);
			err_diex(EXIT_TOOL, "--ready %s: %s", arg, why);
		}
		free(re);
	} else if (strncmp(eq, "tcp:", 4) == 0) {
		j->ready_kind = READY_TCP;
		parse_tcp(j, eq + 4);
	} else if (strncmp(eq, "file:", 5) == 0 && eq[5] != '\0') {
		j->ready_kind = READY_FILE;
	} else if (strcmp(eq, "exit") == 0) {
		j->ready_kind = READY_EXIT;
	} else {
		err_diex(EXIT_TOOL, "--ready %s: the condition must be /ERE/, "
		    "tcp:[HOST:]PORT, file:PATH or exit", arg);
	}
}

static void
parse_after(const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *copy, *p, *comma;
	struct job *j;
	int d, i;

	if (eq == NULL || eq == arg || eq[1] == '\0')
		err_diex(EXIT_TOOL, "--after %s: expected NAME=DEP[,DEP...]",
		    arg);
	copy = strdup(arg);
	if (copy == NULL)
		err_die(EXIT_TOOL, "out of memory");
	copy[eq - arg] = '\0';
	j = &jobs[spec_target("--after", copy)];
	for (p = copy + (eq - arg) + 1; p; p = comma ? comma + 1 : NULL) {
		if ((comma = strchr(p, ',')) != NULL)
			*comma = '\0';
		d = spec_target("--after", p);
		if (&jobs[d] == j)
			err_diex(EXIT_TOOL, "--after %s: %s waits for itself",
			    arg, j->name);
		for (i = 0; i < j->nafter && j->after[i] != d; i++)
			;
		if (i < j->nafter)
			continue;
		j->after = realloc(j->after, (j->nafter + 1) * sizeof *j->after);
		if (j->after == NULL)
			err_die(EXIT_TOOL, "out of memory");
		j->after[j->nafter++] = d;
	}
	free(copy);
}

/* Depth-first search for a cycle through J: colour 1 on the path, 2 done.
 * Returns the job that closes a cycle, or -1. */
static int
find_cycle(int j, char *colour)
{
	int i, c;

	colour[j] = 1;
	for (i = 0; i < jobs[j].nafter; i++) {
		int d = jobs[j].after[i];
		if (colour[d] == 1)
			return d;
		if (colour[d] == 0 && (c = find_cycle(d, colour)) >= 0)
			return c;
	}
	colour[j] = 2;
	return -1;
}

void
stack_spec(void)
{
	char *colour;
	int i, c;

	for (i = 0; i < opt.nready; i++)
		parse_ready(opt.ready[i], i < opt.nready_procfile);
	for (i = 0; i < opt.nafter; i++)
		parse_after(opt.after[i]);
	colour = calloc(njobs, 1);
	if (colour == NULL)
		err_die(EXIT_TOOL, "out of memory");
	for (i = 0; i < njobs; i++)
		if (colour[i] == 0 && (c = find_cycle(i, colour)) >= 0)
			err_diex(EXIT_TOOL, "--after: %s waits for itself "
			    "through a cycle", jobs[c].name);
	free(colour);
	if (opt.group)
		for (i = 0; i < njobs; i++)
			if (jobs[i].ready_kind == READY_LINE)
				err_diex(EXIT_TOOL, "--ready %s=%s: a pattern "
				    "cannot be combined with --group (the "
				    "output is read only at the end)",
				    jobs[i].name, jobs[i].ready_cond);
}

void
stack_init(struct loop *l)
{
	loop = l;
}

static void
cancel(struct loop_timer **t)
{
	loop_del_timer(loop, *t);
	*t = NULL;
}

static void
close_sock(struct job *j)
{
	if (j->sock < 0)
		return;
	loop_del_fd(loop, j->sock);
	close(j->sock);
	j->sock = -1;
}

static void
become_ready(struct job *j)
{
	if (j->ready)
		return;
	j->ready = 1;
	j->t_ready = loop_now();
	cancel(&j->check);
	cancel(&j->ready_timer);
	close_sock(j);
	j->src[0].watch = j->src[1].watch = NULL;
	run_ready(j);
}

static void on_check(struct loop *l, void *arg);

static void
arm_check(struct job *j)
{
	cancel(&j->check);
	j->check = loop_add_timer(loop, loop_now() + CHECK_PERIOD, on_check, j);
	if (j->check == NULL)
		err_die(EXIT_TOOL, "out of memory");
}

static void
on_connect(struct loop *l, int fd, unsigned events, void *arg)
{
	struct job *j = arg;
	int e = 0;
	socklen_t len = sizeof e;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 && e == 0) {
		become_ready(j);
		return;
	}
	close_sock(j);  /* refused: the next check tries again */
}

/* One TCP check: a non-blocking connect to the next address, given until
 * the next check. */
static void
check_tcp(struct job *j)
{
	struct addrinfo *a = j->next_addr;

	close_sock(j);
	j->next_addr = a->ai_next ? a->ai_next : j->addrs;
	j->sock = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, a->ai_protocol);
	if (j->sock < 0)
		return;
	if (connect(j->sock, a->ai_addr, a->ai_addrlen) == 0) {
		become_ready(j);
		return;
	}
	if (errno != EINPROGRESS ||
	    loop_add_fd(loop, j->sock, LOOP_OUT, on_connect, j) < 0) {
		close(j->sock);
		j->sock = -1;
	}
}

static void
on_check(struct loop *l, void *arg)
{
	struct job *j = arg;
	struct stat st;

	j->check = NULL;
	if (j->ready_kind == READY_FILE &&
	    stat(j->ready_cond + 5, &st) == 0) {
		become_ready(j);
		return;
	}
	if (j->ready_kind == READY_TCP)
		check_tcp(j);
	if (!j->ready)
		arm_check(j);
}

/* The multiplexer's watch hook: N bytes of whole lines of J's output. */
static void
match_lines(struct mux_src *s, const char *p, size_t n, void *arg)
{
	struct job *j = arg;
	const char *end = p + n, *nl;
	regmatch_t m[1];

	for (; p < end && !j->ready; p = nl + 1) {
		nl = memchr(p, '\n', end - p);
		if (nl == NULL)
			nl = end;
		m[0].rm_so = 0;
		m[0].rm_eo = nl - p;
		/* A terminal's line ends with CR LF. */
		if (m[0].rm_eo > 0 && nl[-1] == '\r')
			m[0].rm_eo--;
		if (regexec(j->ready_re, p, 1, m, REG_STARTEND) == 0)
			become_ready(j);
	}
}

static void
on_ready_timeout(struct loop *l, void *arg)
{
	struct job *j = arg;

	j->ready_timer = NULL;
	err_warnx("%s: not ready after %.3g s (--ready %s=%s)", j->name,
	    opt.ready_timeout / 1e9, j->name, j->ready_cond);
	run_halt(EXIT_TIMEOUT);
}

void
stack_started(struct job *j)
{
	int k;

	if (j->ready)
		return;
	if (j->ready_kind == READY_START) {
		become_ready(j);
		return;
	}
	if (opt.ready_timeout && j->runs == 1) {
		j->ready_timer = loop_add_timer(loop, j->t_start +
		    opt.ready_timeout, on_ready_timeout, j);
		if (j->ready_timer == NULL)
			err_die(EXIT_TOOL, "out of memory");
	}
	if (j->ready_kind == READY_LINE)
		for (k = 0; k < 2; k++) {
			j->src[k].watch = match_lines;
			j->src[k].watch_arg = j;
		}
	if (j->ready_kind == READY_TCP || j->ready_kind == READY_FILE)
		on_check(loop, j);
}

void
stack_exited(struct job *j)
{
	if (j->ready)
		return;
	cancel(&j->check);
	close_sock(j);
	if (j->ready_kind == READY_EXIT && j->status == 0)
		become_ready(j);
}

void
stack_stop(struct job *j)
{
	cancel(&j->check);
	cancel(&j->ready_timer);
	close_sock(j);
}

int
stack_deps_ready(const struct job *j)
{
	int i;

	for (i = 0; i < j->nafter; i++)
		if (!jobs[j->after[i]].ready)
			return 0;
	return 1;
}

int
stack_is_dep(const struct job *j)
{
	int i, k;

	for (i = 0; i < njobs; i++)
		if (jobs[i].state == JOB_PENDING)
			for (k = 0; k < jobs[i].nafter; k++)
				if (&jobs[jobs[i].after[k]] == j)
					return 1;
	return 0;
}
