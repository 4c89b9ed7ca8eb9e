/* libFuzzer target: object-name validation. An accepted name never holds
 * a control character, is never "." or "..", and a name without '/' is
 * never longer than NS_NAME_MAX nor starts with '.'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *why, *base;

	memcpy(s, data, size);
	s[size] = '\0';
	if (ns_check_name(s, &why) == 0) {
		for (const char *p = s; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
		base = strrchr(s, '/');
		base = base ? base + 1 : s;
		if (!strcmp(base, ".") || !strcmp(base, "..") || !*base)
			abort();
		if (base == s && (strlen(s) > NS_NAME_MAX || *s == '.'))
			abort();
	}
	free(s);
	return 0;
}
