/* epoll backend of loop.c. */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"
#include "loop_impl.h"

struct loop_be {
	int ep;
};

struct loop_be *
be_new(void)
{
	struct loop_be *b = malloc(sizeof *b);

	if (b == NULL)
		return NULL;
	b->ep = epoll_create1(EPOLL_CLOEXEC);
	if (b->ep < 0) {
		free(b);
		return NULL;
	}
	return b;
}

void
be_free(struct loop_be *b)
{
	close(b->ep);
	free(b);
}

int
be_set(struct loop_be *b, int fd, unsigned events, int add)
{
	struct epoll_event ev = { 0 };

	ev.events = (events & LOOP_IN ? EPOLLIN : 0) |
	    (events & LOOP_OUT ? EPOLLOUT : 0);
	ev.data.fd = fd;
	return epoll_ctl(b->ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

void
be_del(struct loop_be *b, int fd)
{
	epoll_ctl(b->ep, EPOLL_CTL_DEL, fd, NULL);
}

int
be_wait(struct loop_be *b, struct loop *l, int timeout_ms)
{
	struct epoll_event ev[64];
	int i, n;

	n = epoll_wait(b->ep, ev, 64, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (i = 0; i < n; i++) {
		unsigned e = 0;
		if (ev[i].events & EPOLLIN)
			e |= LOOP_IN;
		if (ev[i].events & EPOLLOUT)
			e |= LOOP_OUT;
		if (ev[i].events & (EPOLLHUP | EPOLLERR))
			e |= LOOP_HUP;
		loop_ready(l, ev[i].data.fd, e);
	}
	return n;
}
