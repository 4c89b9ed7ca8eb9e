/* pool: --bar and --eta, a progress line on stderr when stderr is a
 * terminal. The line is erased before job output is written and drawn
 * again after it, and redrawn at most ten times a second.
 *
 * The line is drawn with a carriage return and an erase to the end of the
 * line, so it may only be drawn where the cursor is at the start of a
 * line: output that ends without a newline (a job's partial line, with -k
 * or --group, which pass bytes as they are) is left alone, and the line
 * comes back after the next newline, or at the end on a line of its own. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pool.h"

#define PROGRESS_EVERY 100000000LL   /* ns between redraws */

static int on, drawn, eta, midline, out_tty;
static long long total = -1;
static unsigned long long ndone, nfailed, nrunning;
static int64_t t0, last;

void
progress_init(int enabled, int eta_line, long long n)
{
	on = (enabled || eta_line) && isatty(2);
	eta = eta_line;
	out_tty = isatty(1);
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
	long long left = total >= 0 && (unsigned long long)total >= ndone ?
	    total - (long long)ndone : -1;
	int n;

	if (midline)
		return;     /* it would overwrite a partial line */
	if (eta) {
		/* GNU parallel's --eta line. */
		n = snprintf(line, sizeof line, "\r\033[KETA: %.0fs Left: ",
		    left >= 0 && rate > 0 ? left / rate : 0);
		if (left >= 0)
			n += snprintf(line + n, sizeof line - n, "%lld", left);
		else
			n += snprintf(line + n, sizeof line - n, "?");
		n += snprintf(line + n, sizeof line - n, " AVG: %.2fs  "
		    "local:%llu/%llu/100%%/%.1fs", ndone ? secs / ndone : 0,
		    nrunning, ndone, ndone ? secs / ndone : 0);
	} else {
		n = snprintf(line, sizeof line, "\r\033[Kpool: %llu", ndone);
		if (total >= 0)
			n += snprintf(line + n, sizeof line - n, "/%lld", total);
		n += snprintf(line + n, sizeof line - n,
		    " done, %llu failed, %.1f/s", nfailed, rate);
		if (left >= 0 && rate > 0)
			n += snprintf(line + n, sizeof line - n, ", ETA %.0fs",
			    left / rate);
	}
	if (sched_on && n > 0 && (size_t)n < sizeof line - 3) {
		/* Why no job starts, when it is --load. */
		line[n++] = ',';
		line[n++] = ' ';
		n += sched_why(line + n, sizeof line - n);
		if (line[n - 1] == ' ')
			n -= 2;
	}
	put(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	drawn = 1;
}

void
progress_update(unsigned long long done, unsigned long long failed,
    unsigned long long running, int force)
{
	int64_t now;

	ndone = done;
	nfailed = failed;
	nrunning = running;
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
progress_wrote(int fd, const char *p, size_t n)
{
	if (on && n > 0 && (fd == 2 || out_tty))
		midline = p[n - 1] != '\n';
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
	if (midline)
		put("\n", 1);
	midline = 0;
	draw();
	put("\n", 1);
	drawn = 0;
}
