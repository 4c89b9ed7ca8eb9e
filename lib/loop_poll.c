/* poll backend of loop.c: a dense pollfd array with an index per fd. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "loop_impl.h"

struct loop_be {
	struct pollfd *pfd;
	int n, cap;
	int *slot;      /* slot[fd]: index into pfd, or -1 */
	int nslot;
};

struct loop_be *
be_new(void)
{
	return calloc(1, sizeof(struct loop_be));
}

void
be_free(struct loop_be *b)
{
	free(b->pfd);
	free(b->slot);
	free(b);
}

int
be_set(struct loop_be *b, int fd, unsigned events, int add)
{
	short pe = (events & LOOP_IN ? POLLIN : 0) |
	    (events & LOOP_OUT ? POLLOUT : 0);

	if (fd >= b->nslot) {
		int n = fd + 64, *s = realloc(b->slot, n * sizeof *s);
		if (s == NULL)
			return -1;
		memset(s + b->nslot, 0xff, (n - b->nslot) * sizeof *s);
		b->slot = s;
		b->nslot = n;
	}
	if (add) {
		if (b->n == b->cap) {
			int cap = b->cap ? 2 * b->cap : 16;
			struct pollfd *p = realloc(b->pfd, cap * sizeof *p);
			if (p == NULL)
				return -1;
			b->pfd = p;
			b->cap = cap;
		}
		b->slot[fd] = b->n++;
		b->pfd[b->slot[fd]].fd = fd;
	}
	b->pfd[b->slot[fd]].events = pe;
	/* Paused descriptors stay in the array with no events; poll still
	 * reports POLLHUP for them, which loop.c filters out. */
	return 0;
}

void
be_del(struct loop_be *b, int fd)
{
	int i;

	if (fd >= b->nslot || (i = b->slot[fd]) < 0)
		return;
	b->pfd[i] = b->pfd[--b->n];
	if (i < b->n)
		b->slot[b->pfd[i].fd] = i;
	b->slot[fd] = -1;
}

int
be_wait(struct loop_be *b, struct loop *l, int timeout_ms)
{
	int i, n, done = 0;

	n = poll(b->pfd, b->n, timeout_ms);
	if (n <= 0)
		return n < 0 && errno != EINTR ? -1 : 0;
	/* Callbacks may add or delete descriptors: walk a snapshot. */
	struct pollfd *snap = malloc(b->n * sizeof *snap);
	int cnt = b->n;
	if (snap == NULL)
		return -1;
	memcpy(snap, b->pfd, cnt * sizeof *snap);
	for (i = 0; i < cnt && done < n; i++) {
		unsigned e = 0;
		if (snap[i].revents == 0)
			continue;
		done++;
		if (snap[i].revents & POLLIN)
			e |= LOOP_IN;
		if (snap[i].revents & POLLOUT)
			e |= LOOP_OUT;
		if (snap[i].revents & (POLLHUP | POLLERR | POLLNVAL))
			e |= LOOP_HUP;
		loop_ready(l, snap[i].fd, e);
	}
	free(snap);
	return n;
}
