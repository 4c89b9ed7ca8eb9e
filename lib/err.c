#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

const char *err_prog = "concutils";

void
err_init(const char *argv0)
{
	const char *s;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	s = strrchr(argv0, '/');
	err_prog = s ? s + 1 : argv0;
}

/* One fprintf per message part would let another process's output slip
 * between them on a shared stderr, so the line is formatted first and
 * written with a single call. */
static void
vwarn(int errnum, const char *fmt, va_list ap)
{
	char buf[4096];
	int n;

	n = snprintf(buf, sizeof buf, "%s: ", err_prog);
	if (n < 0 || (size_t)n >= sizeof buf)
		n = 0;
	n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	if ((size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	if (errnum)
		n += snprintf(buf + n, sizeof buf - n, ": %s", strerror(errnum));
	if ((size_t)n >= sizeof buf - 1)
		n = sizeof buf - 2;
	buf[n++] = '\n';
	fflush(stdout);
	fwrite(buf, 1, n, stderr);
}

void
err_warn(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vwarn(e, fmt, ap);
	va_end(ap);
	errno = e;
}

void
err_warnx(const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
	errno = e;
}

void
err_die(int status, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vwarn(e, fmt, ap);
	va_end(ap);
	exit(status);
}

void
err_diex(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(0, fmt, ap);
	va_end(ap);
	exit(status);
}
