#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "opt.h"

static char why_buf[64];

int
opt_parse_count(const char *s, long long min, long long max, long long *out,
    const char **why)
{
	char *end;
	long long v;

	if (*s == '\0' || isspace((unsigned char)*s)) {
		*why = "not a number";
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		*why = "not a number";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		snprintf(why_buf, sizeof why_buf, "must be at least %lld", min);
		*why = why_buf;
		return -1;
	}
	if (errno == ERANGE || v > max) {
		snprintf(why_buf, sizeof why_buf, "must be at most %lld", max);
		*why = why_buf;
		return -1;
	}
	*out = v;
	return 0;
}

/* Parse "digits[.digits]" exactly, without strtod, so that "nan", "inf",
 * hex floats and exponents are all rejected and no rounding surprises
 * creep in: the value is returned in units of 1e-9. */
static int
parse_decimal(const char *s, const char **end, long double *v)
{
	long double x = 0, scale = 1;
	int digits = 0;

	while (isdigit((unsigned char)*s)) {
		x = x * 10 + (*s++ - '0');
		digits++;
	}
	if (*s == '.') {
		s++;
		while (isdigit((unsigned char)*s)) {
			scale /= 10;
			x += (*s++ - '0') * scale;
			digits++;
		}
	}
	*end = s;
	*v = x;
	return digits ? 0 : -1;
}

int
opt_parse_duration(const char *s, int64_t *ns, const char **why)
{
	const char *end;
	long double v, unit;

	if (strcmp(s, "inf") == 0 || strcmp(s, "infinity") == 0) {
		*ns = OPT_DURATION_INF;
		return 0;
	}
	if (parse_decimal(s, &end, &v) < 0) {
		*why = "not a duration (try 1.5, 250ms, 2m, 1h)";
		return -1;
	}
	if (*end == '\0' || strcmp(end, "s") == 0)
		unit = 1;
	else if (strcmp(end, "ms") == 0)
		unit = 0.001L;
	else if (strcmp(end, "m") == 0)
		unit = 60;
	else if (strcmp(end, "h") == 0)
		unit = 3600;
	else {
		*why = "not a duration (try 1.5, 250ms, 2m, 1h)";
		return -1;
	}
	v = v * unit * OPT_NS_PER_SEC;
	if (v + 0.5L > (long double)OPT_DURATION_MAX) {
		*why = "too long (at most 146 years; 'inf' for no limit)";
		return -1;
	}
	*ns = (int64_t)(v + 0.5L);
	return 0;
}

/* N digits at *S, as a number; *S moves past them. -1: not N digits. */
static int
digits(const char **s, int n)
{
	int v = 0;

	for (; n > 0; n--, (*s)++) {
		if (!isdigit((unsigned char)**s))
			return -1;
		v = v * 10 + (**s - '0');
	}
	return v;
}

/* "YYYY-MM-DD HH:MM[:SS][Z]" into seconds since the epoch. */
static int
parse_date(const char *s, long long *secs)
{
	struct tm tm, want;
	time_t t;
	int utc;

	memset(&tm, 0, sizeof tm);
	if ((tm.tm_year = digits(&s, 4)) < 0 || *s++ != '-' ||
	    (tm.tm_mon = digits(&s, 2)) < 0 || *s++ != '-' ||
	    (tm.tm_mday = digits(&s, 2)) < 0 || (*s != ' ' && *s != 'T'))
		return -1;
	s++;
	if ((tm.tm_hour = digits(&s, 2)) < 0 || *s++ != ':' ||
	    (tm.tm_min = digits(&s, 2)) < 0)
		return -1;
	if (*s == ':') {
		s++;
		if ((tm.tm_sec = digits(&s, 2)) < 0)
			return -1;
	}
	utc = *s == 'Z';
	if (s[utc] != '\0')
		return -1;
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 59)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon--;
	tm.tm_isdst = -1;
	want = tm;
	t = utc ? timegm(&tm) : mktime(&tm);
	/* A day the month does not have (31 April) comes back moved. */
	if (t == (time_t)-1 || tm.tm_mday != want.tm_mday ||
	    tm.tm_mon != want.tm_mon)
		return -1;
	*secs = (long long)t;
	return 0;
}

int
opt_parse_time(const char *s, int64_t *ns, const char **why)
{
	static const char bad[] = "not a time (try @1700000000, "
	    "'2030-01-31 12:00', 2030-01-31T12:00:00Z)";
	const char *end;
	long double v;
	long long secs;

	if (*s == '@') {
		if (parse_decimal(s + 1, &end, &v) < 0 || *end != '\0') {
			*why = bad;
			return -1;
		}
	} else if (parse_date(s, &secs) == 0) {
		v = (long double)secs;
	} else {
		*why = bad;
		return -1;
	}
	v *= OPT_NS_PER_SEC;
	if (v < 0 || v + 0.5L > (long double)OPT_DURATION_MAX) {
		*why = "out of range (1970 to 2116)";
		return -1;
	}
	*ns = (int64_t)(v + 0.5L);
	return 0;
}

int64_t
opt_time(const char *name, const char *s)
{
	const char *why;
	int64_t v;

	if (opt_parse_time(s, &v, &why) < 0)
		err_diex(EXIT_TOOL, "%s %s: %s", name, s, why);
	return v;
}

int64_t
opt_deadline(int64_t now, int64_t dur)
{
	if (dur < 0 || dur == OPT_DURATION_INF)
		return -1;
	return now + dur;
}

int
opt_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why)
{
	const char *end;
	long double v;
	uint64_t mult = 1;

	if (parse_decimal(s, &end, &v) < 0) {
		*why = "not a size (try 4096, 64K, 1M, 2G)";
		return -1;
	}
	switch (*end) {
	case 'k': case 'K': mult = 1ULL << 10; end++; break;
	case 'm': case 'M': mult = 1ULL << 20; end++; break;
	case 'g': case 'G': mult = 1ULL << 30; end++; break;
	case 't': case 'T': mult = 1ULL << 40; end++; break;
	}
	if (mult > 1 && *end == 'i')
		end++;
	if (*end == 'B' || (*end == 'b' && mult > 1))
		end++;
	if (*end != '\0') {
		*why = "not a size (try 4096, 64K, 1M, 2G)";
		return -1;
	}
	v *= mult;
	/* Range first: converting an out-of-range value is undefined. */
	if (v < min) {
		snprintf(why_buf, sizeof why_buf, "must be at least %llu",
		    (unsigned long long)min);
		*why = why_buf;
		return -1;
	}
	if (v > max) {
		snprintf(why_buf, sizeof why_buf, "must be at most %llu",
		    (unsigned long long)max);
		*why = why_buf;
		return -1;
	}
	/* In range, so the conversion is defined; it drops any fraction. */
	if ((long double)(uint64_t)v != v) {
		*why = "not a whole number of bytes";
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

int
opt_parse_mode(const char *s, unsigned *mode, const char **why)
{
	unsigned v = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '7' && v <= 0777; p++)
		v = v * 8 + (unsigned)(*p - '0');
	if (*s == '\0' || *p != '\0' || v > 0777) {
		*why = "not an octal mode (try 600, 660, 666)";
		return -1;
	}
	if ((v & 0600) != 0600) {
		*why = "must give the owner read and write access";
		return -1;
	}
	*mode = v;
	return 0;
}

unsigned
opt_mode(const char *name, const char *s)
{
	const char *why;
	unsigned v;

	if (opt_parse_mode(s, &v, &why) < 0)
		err_diex(EXIT_TOOL, "%s %s: %s", name, s, why);
	return v;
}

long long
opt_count(const char *name, const char *s, long long min, long long max)
{
	const char *why;
	long long v;

	if (opt_parse_count(s, min, max, &v, &why) < 0)
		err_diex(EXIT_TOOL, "%s %s: %s", name, s, why);
	return v;
}

int64_t
opt_duration(const char *name, const char *s)
{
	const char *why;
	int64_t v;

	if (opt_parse_duration(s, &v, &why) < 0)
		err_diex(EXIT_TOOL, "%s %s: %s", name, s, why);
	return v;
}

uint64_t
opt_size(const char *name, const char *s, uint64_t min, uint64_t max)
{
	const char *why;
	uint64_t v;

	if (opt_parse_size(s, min, max, &v, &why) < 0)
		err_diex(EXIT_TOOL, "%s %s: %s", name, s, why);
	return v;
}
