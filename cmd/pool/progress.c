/* pool: --bar, a progress line on stderr when stderr is a terminal. The
 * line is erased before job output is written and drawn again after it,
 * and redrawn at most ten times a second. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"

#define PROGRESS_EVERY 100000000LL   /* ns between redraws */

static int on, drawn;
static long long total = -1;
static unsigned long long ndone, nfailed;
static int64_t t0, last;

void
progress_init(int enabled, long long n)
{
	on = enabled && isatty(2);
	total = n;
	t0 = loop_now();
}

void
progress_total(long long n)
{
	total = n;
}

static void
put(const char *s, size_t n)
{
	(void)!write(2, s, n);
}

static void
draw(void)
{
	char line[200];
	double secs = (double)(loop_now() - t0) / 1e9;
	double rate = secs > 0 ? ndone / secs : 0;
	int n;

	n = snprintf(line, sizeof line, "\r\033[Kpool: %llu", ndone);
	if (total >= 0)
		n += snprintf(line + n, sizeof line - n, "/%lld", total);
	n += snprintf(line + n, sizeof line - n, " done, %llu failed, %.1f/s",
	    nfailed, rate);
	if (total >= 0 && rate > 0 && (unsigned long long)total >= ndone)
		n += snprintf(line + n, sizeof line - n, ", ETA %.0fs",
		    (double)((unsigned long long)total - ndone) / rate);
	put(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	drawn = 1;
}

void
progress_update(unsigned long long done, unsigned long long failed, int force)
{
	int64_t now;

	ndone = done;
	nfailed = failed;
	if (!on)
		return;
	now = loop_now();
	if (!force && now - last < PROGRESS_EVERY)
		return;
	last = now;
	draw();
}

void
progress_clear(void)
{
	if (on && drawn)
		put("\r\033[K", 4);
	drawn = 0;
}

void
progress_redraw(void)
{
	if (on)
		draw();
}

int
progress_active(void)
{
	return on;
}

void
progress_end(void)
{
	if (!on)
		return;
	draw();
	put("\n", 1);
	drawn = 0;
}
