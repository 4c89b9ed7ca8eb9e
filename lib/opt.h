/* opt: option values (counts, durations, sizes) with range checks and
 * precise messages. The opt_parse_* functions never print or exit: they
 * return 0, or -1 with *why set to a static reason ("must be at least 1").
 * The opt_* wrappers print "prog: NAME VALUE: why" and exit 125. */
#ifndef CONC_OPT_H
#define CONC_OPT_H

#include <stdint.h>

/* Nanoseconds in a duration. Durations are at most OPT_DURATION_MAX,
 * half of what a signed 64-bit count of nanoseconds holds (about 146
 * years; the whole range, Python's threading.TIMEOUT_MAX, is about 292):
 * the other half is for the clock reading a deadline is added to, so
 * that now + duration never overflows, in any tool. "inf" is
 * OPT_DURATION_INF, just above the largest: no limit. */
#define OPT_NS_PER_SEC 1000000000LL
#define OPT_DURATION_MAX (INT64_MAX / 2)
#define OPT_DURATION_INF (OPT_DURATION_MAX + 1)

/* opt_parse_count: a decimal integer in [min, max]. */
int opt_parse_count(const char *s, long long min, long long max,
    long long *out, const char **why);

/* opt_parse_duration: "1.5" (seconds), "250ms", "2s", "2m", "1h"; >= 0,
 * at most OPT_DURATION_MAX; the result in nanoseconds. "inf" (or
 * "infinity") gives OPT_DURATION_INF. */
int opt_parse_duration(const char *s, int64_t *ns, const char **why);

/* opt_deadline: the absolute deadline DUR after NOW (both in ns, NOW a
 * CLOCK_MONOTONIC reading), for a --timeout: -1 ("none") when DUR is
 * negative (not given) or OPT_DURATION_INF. */
int64_t opt_deadline(int64_t now, int64_t dur);

/* opt_parse_time: an absolute wall-clock time: "@SECONDS" since the
 * epoch (fractions allowed: "@1700000000.5"), or a date and time
 * "YYYY-MM-DD HH:MM[:SS]" (a "T" in place of the space allowed), local
 * time as TZ says, or UTC with a final "Z". The result in nanoseconds
 * since the epoch (CLOCK_REALTIME), in [0, OPT_DURATION_MAX]. */
int opt_parse_time(const char *s, int64_t *ns, const char **why);

/* opt_parse_size: "4096", "64K", "1M", "2G" (powers of 1024, a trailing
 * "B" or "iB" allowed: "1MiB"); the result in bytes, in [min, max]. */
int opt_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **why);

/* opt_parse_mode: an octal file mode ("600", "0660") of at most 0777 that
 * gives the owner read and write access: every use of a named object
 * opens it read-write, so an object its owner cannot open would be left
 * behind, unusable. */
int opt_parse_mode(const char *s, unsigned *mode, const char **why);

/* Wrappers for option parsing: NAME is how the user wrote the option
 * ("-j", "--timeout"); on error they exit 125 with one line. */
long long opt_count(const char *name, const char *s, long long min,
    long long max);
int64_t opt_duration(const char *name, const char *s);
int64_t opt_time(const char *name, const char *s);
uint64_t opt_size(const char *name, const char *s, uint64_t min, uint64_t max);
unsigned opt_mode(const char *name, const char *s);

#endif
