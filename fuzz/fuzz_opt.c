/* libFuzzer target: the option-value parsers (durations, times, sizes,
 * counts).
 * Each must return cleanly and, on success, give a value in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *why;
	int64_t ns;
	uint64_t bytes;
	long long n;

	memcpy(s, data, size);
	s[size] = '\0';
	if (opt_parse_duration(s, &ns, &why) == 0 &&
	    (ns < 0 || (ns > OPT_DURATION_MAX && ns != OPT_DURATION_INF)))
		abort();
	if (opt_parse_time(s, &ns, &why) == 0 &&
	    (ns < 0 || ns > OPT_DURATION_MAX))
		abort();
	if (opt_parse_size(s, 1, 1ULL << 40, &bytes, &why) == 0 &&
	    (bytes < 1 || bytes > 1ULL << 40))
		abort();
	if (opt_parse_count(s, 1, 1000, &n, &why) == 0 && (n < 1 || n > 1000))
		abort();
	free(s);
	return 0;
}
