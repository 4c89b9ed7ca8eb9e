#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jobserver.h"

void
jobserver_init(struct jobserver *js)
{
	memset(js, 0, sizeof *js);
	js->rfd = js->wfd = -1;
	js->srv[0] = js->srv[1] = -1;
}

/* A private, non-blocking read descriptor on the pipe behind FD (see the
 * header: the shared one must keep its flags). */
static int
reopen_nonblock(int fd)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

static int
is_fifo(int fd)
{
	struct stat st;

	return fcntl(fd, F_GETFD) >= 0 && fstat(fd, &st) == 0 &&
	    S_ISFIFO(st.st_mode);
}

/* The value of the last --jobserver-auth= (or the older --jobserver-fds=)
 * option in MAKEFLAGS, copied to OUT; 0 if there is none. */
static int
find_auth(const char *mf, char *out, size_t outlen)
{
	static const char *const keys[] = { "--jobserver-auth=",
		"--jobserver-fds=" };
	const char *best = NULL, *p;
	size_t i, n;

	for (i = 0; i < 2; i++) {
		size_t klen = strlen(keys[i]);
		for (p = mf; (p = strstr(p, keys[i])) != NULL; p += klen)
			if ((p == mf || p[-1] == ' ') && (best == NULL || p > best))
				best = p + klen;
	}
	if (best == NULL)
		return 0;
	n = strcspn(best, " ");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, best, n);
	out[n] = '\0';
	return 1;
}

int
jobserver_from_env(struct jobserver *js, const char *mf, const char **why)
{
	char auth[4096];
	int r, w, n;

	jobserver_init(js);
	if (mf == NULL || !find_auth(mf, auth, sizeof auth))
		return 0;
	if (strncmp(auth, "fifo:", 5) == 0) {
		/* Opened for reading and writing: we are then a writer
		 * ourselves, so a read finds EAGAIN rather than end of file
		 * when the FIFO is empty. */
		js->rfd = open(auth + 5, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (js->rfd < 0 || !is_fifo(js->rfd)) {
			if (js->rfd >= 0)
				close(js->rfd);
			js->rfd = -1;
			*why = "its FIFO cannot be opened";
			return -1;
		}
		js->wfd = js->rfd;
		return 1;
	}
	if (sscanf(auth, "%d,%d%n", &r, &w, &n) != 2 || auth[n] != '\0') {
		*why = "its --jobserver-auth value is not understood";
		return -1;
	}
	/* make passes -2,-2 (or closes the descriptors) for recipe lines
	 * that it does not consider recursive. */
	if (r < 0 || w < 0 || !is_fifo(r) || !is_fifo(w)) {
		*why = "its descriptors are closed (mark the make recipe "
		    "with '+')";
		return -1;
	}
	js->rfd = reopen_nonblock(r);
	if (js->rfd < 0) {
		*why = "its read descriptor cannot be reopened through /proc";
		return -1;
	}
	js->wfd = w;
	return 1;
}

int
jobserver_serve(struct jobserver *js, int tokens)
{
	char buf[256];

	jobserver_init(js);
	/* Not close-on-exec: children inherit the pipe, as make's do. */
	if (pipe(js->srv) < 0)
		return -1;
	js->wfd = js->srv[1];
	js->rfd = reopen_nonblock(js->srv[0]);
	if (js->rfd < 0) {
		/* Without /proc our own pipe may as well be non-blocking:
		 * clients that follow the protocol handle EAGAIN. */
		if (fcntl(js->srv[0], F_SETFL, O_NONBLOCK) < 0)
			goto fail;
		js->rfd = fcntl(js->srv[0], F_DUPFD_CLOEXEC, 3);
		if (js->rfd < 0)
			goto fail;
	}
	memset(buf, '+', sizeof buf);
	while (tokens > 0) {
		int n = tokens < (int)sizeof buf ? tokens : (int)sizeof buf;
		ssize_t k = write(js->wfd, buf, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			goto fail;
		tokens -= k;
	}
	return 0;
fail:
	jobserver_free(js);
	return -1;
}

/* Should WORD of an old MAKEFLAGS be dropped in favour of ours? */
static int
superseded(const char *w, size_t n)
{
	return (n >= 2 && strncmp(w, "-j", 2) == 0) ||
	    (n >= 17 && strncmp(w, "--jobserver-auth=", 17) == 0) ||
	    (n >= 16 && strncmp(w, "--jobserver-fds=", 16) == 0);
}

char *
jobserver_makeflags(const struct jobserver *js, int jobs, const char *old)
{
	size_t cap = (old ? strlen(old) : 0) + 80, len = 0;
	const char *p = old ? old : "", *rest = "";
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	/* Options come before a " -- " that starts the variable
	 * definitions; a -j or jobserver option of the old value would
	 * contradict ours, so those words are left out. */
	while (*p) {
		size_t n;
		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == 0)
			break;
		if (n == 2 && strncmp(p, "--", 2) == 0) {
			rest = p;
			break;
		}
		if (!superseded(p, n)) {
			memcpy(s + len, p, n);
			len += n;
			s[len++] = ' ';
		}
		p += n;
	}
	snprintf(s + len, cap - len, "-j%d --jobserver-auth=%d,%d%s%s", jobs,
	    js->srv[0], js->srv[1], *rest ? " " : "", rest);
	return s;
}

int
jobserver_take(struct jobserver *js)
{
	unsigned char c;
	ssize_t n;

	if (js->nheld == js->cap) {
		size_t cap = js->cap ? 2 * js->cap : 16;
		unsigned char *h = realloc(js->held, cap);
		if (h == NULL)
			return -1;
		js->held = h;
		js->cap = cap;
	}
	do
		n = read(js->rfd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1) {
		js->held[js->nheld++] = c;
		return 1;
	}
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n == 0)
		errno = EPIPE;
	return -1;
}

void
jobserver_give(struct jobserver *js)
{
	ssize_t n;

	if (js->nheld == 0)
		return;
	do
		n = write(js->wfd, &js->held[js->nheld - 1], 1);
	while (n < 0 && errno == EINTR);
	/* A write that fails means the jobserver is gone: nobody is left
	 * to give the token to. */
	js->nheld--;
}

int
jobserver_add(struct jobserver *js)
{
	unsigned char c = '+';
	ssize_t n;

	if (js->srv[1] < 0) {
		errno = EINVAL;
		return -1;
	}
	do
		n = write(js->srv[1], &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

void
jobserver_drop(struct jobserver *js)
{
	if (js->nheld > 0)
		js->nheld--;
}

void
jobserver_give_all(struct jobserver *js)
{
	while (js->nheld > 0)
		jobserver_give(js);
}

void
jobserver_free(struct jobserver *js)
{
	jobserver_give_all(js);
	if (js->rfd >= 0 && js->rfd != js->wfd)
		close(js->rfd);
	if (js->srv[0] >= 0)
		close(js->srv[0]);
	if (js->srv[1] >= 0)
		close(js->srv[1]);
	else if (js->wfd >= 0 && js->wfd == js->rfd)
		close(js->wfd);
	free(js->held);
	jobserver_init(js);
}
