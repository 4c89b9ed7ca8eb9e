/* opt: option values (counts, durations, sizes) with range checks and
 * precise messages. The opt_parse_* functions never print or exit: they
 * return 0, or -1 with *why set to a static reason ("must be at least 1").
 * The opt_* wrappers print "prog: NAME VALUE: why" and exit 125. */
#ifndef CONC_OPT_H
#define CONC_OPT_H

#include <stdint.h>

/* Nanoseconds in a duration; durations are at most OPT_DURATION_MAX. */
#define OPT_NS_PER_SEC 1000000000LL
#define OPT_DURATION_MAX (100LL * 365 * 86400 * OPT_NS_PER_SEC)

/* opt_parse_count: a decimal integer in [min, max]. */
int opt_parse_count(const char *s, long long min, long long max,
    long long *out, const char **why);

/* opt_parse_duration: "1.5" (seconds), "250ms", "2s", "2m", "1h"; >= 0,
 * at most OPT_DURATION_MAX; the result in nanoseconds. */
int opt_parse_duration(const char *s, int64_t *ns, const char **why);

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
uint64_t opt_size(const char *name, const char *s, uint64_t min, uint64_t max);
unsigned opt_mode(const char *name, const char *s);

#endif
