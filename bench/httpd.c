/* httpd: a tiny HTTP/1.0-style file server for bench/io.sh.
 *
 *   httpd NFILES SIZE DELAY_MS
 *
 * Listens on 127.0.0.1 at a port the kernel chooses, prints that port on
 * stdout, and serves GET /f1 .. /fNFILES, each SIZE bytes of text, after
 * waiting DELAY_MS milliseconds: the latency of a distant server, which
 * is what makes downloads I/O-bound. Each connection gets its own thread,
 * so concurrent requests wait concurrently; a connection carries one
 * request (Connection: close). Anything else gets a 404. Runs until it
 * is killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long nfiles, size, delay_ms;
static char *body;

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/* Read the request head (up to the blank line) and answer it. */
static void *
serve(void *arg)
{
	int fd = (int)(long)arg;
	char req[4096], head[256];
	size_t got = 0;
	long n = 0;
	struct timespec ts = { delay_ms / 1000, delay_ms % 1000 * 1000000L };

	while (got < sizeof req - 1) {
		ssize_t r = read(fd, req + got, sizeof req - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[got] = '\0';
	nanosleep(&ts, NULL);
	if (sscanf(req, "GET /f%ld ", &n) == 1 && n >= 1 && n <= nfiles) {
		int h = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\n"
		    "Content-Type: text/plain\r\nContent-Length: %ld\r\n"
		    "Connection: close\r\n\r\n", size);
		if (write_all(fd, head, h) == 0)
			write_all(fd, body, size);
	} else {
		const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		    "Connection: close\r\n\r\n";
		write_all(fd, nf, strlen(nf));
	}
	close(fd);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	pthread_attr_t attr;
	int s, one = 1;
	long i;

	if (argc != 4 || (nfiles = atol(argv[1])) < 1 ||
	    (size = atol(argv[2])) < 0 || (delay_ms = atol(argv[3])) < 0) {
		fputs("usage: httpd NFILES SIZE DELAY_MS\n", stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((body = malloc(size + 1)) == NULL)
		die("malloc");
	for (i = 0; i < size; i++)
		body[i] = i % 64 == 63 ? '\n' : 'x';
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(s, 1024) < 0 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) < 0)
		die("bind");
	printf("%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (;;) {
		pthread_t t;
		int c = accept(s, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE)
				continue;
			die("accept");
		}
		if (pthread_create(&t, &attr, serve, (void *)(long)c) != 0)
			close(c);
	}
}
