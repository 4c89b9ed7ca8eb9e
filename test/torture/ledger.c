/* The message ledger: every message a producer tries to put gets a
 * number g, and its text is "m<g>-" followed by a payload whose length
 * and bytes follow from g and the seed, so a getter's output can be
 * checked byte for byte without keeping the texts. Per message the ledger
 * counts deliveries to getters that ended on their own (ok) and to
 * getters that were killed (killed); a killed getter may have written a
 * message out before it could remove it, and queue(1) then delivers it
 * again (at-least-once). The final check:
 *   - an acknowledged message (its put exited 0) was delivered: lost if not;
 *   - no message was delivered to two getters that ended on their own,
 *     unless a SIGKILL of a pool job may have made pool --retries put it
 *     twice (dupok);
 *   - every delivered record is a message some producer tried to put, in
 *     full (corrupt, torn or invented records are violations). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "torture.h"

struct msg {
	uint8_t acked, dupok;
	uint16_t ok, killed;
};

static struct msg *L;
static uint32_t nL, capL;
unsigned long ledger_puts, ledger_acked, ledger_got, ledger_redelivered;

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint32_t
ledger_new(uint32_t n)
{
	uint32_t g0 = nL;

	if (nL + n > capL) {
		capL = capL ? capL * 2 : 65536;
		while (capL < nL + n)
			capL *= 2;
		L = realloc(L, capL * sizeof *L);
		if (L == NULL) {
			perror("torture: ledger");
			exit(2);
		}
	}
	memset(L + nL, 0, n * sizeof *L);
	nL += n;
	ledger_puts += n;
	return g0;
}

/* Mostly short messages, some long enough to wrap the ring often. */
static size_t
payload_len(uint64_t h)
{
	unsigned r = h % 100;
	h >>= 8;
	if (r < 70)
		return h % 40;
	if (r < 95)
		return 40 + h % 400;
	return 440 + h % 2600;
}

void
ledger_text(uint32_t g, char *buf, size_t len)
{
	uint64_t h = mix(T.seed ^ ((uint64_t)g << 20));
	size_t n = payload_len(h), i;
	int k = snprintf(buf, len, "m%u-", g);

	for (i = 0; i < n && k + i + 1 < len; i++) {
		if (i % 8 == 0)
			h = mix(h);
		buf[k + i] = "abcdefghijklmnopqrstuvwxyz0123456789"[(h >> (i % 8 * 8)) % 36];
	}
	buf[k + i] = '\0';
}

void
ledger_ack(uint32_t g0, uint32_t n)
{
	for (uint32_t g = g0; g < g0 + n; g++) {
		L[g].acked = 1;
		ledger_acked++;
	}
}

void
ledger_dupok(uint32_t g0, uint32_t n)
{
	for (uint32_t g = g0; g < g0 + n; g++)
		L[g].dupok = 1;
}

/* One delivered record, S of LEN bytes (without its separator). */
static void
record(const char *s, size_t len, int killed, const char *who)
{
	char want[4096];
	unsigned long g;
	char *end;

	checks++;
	if (len == 0 || s[0] != 'm' || len >= sizeof want)
		goto bad;
	errno = 0;
	g = strtoul(s + 1, &end, 10);
	if (errno || end == s + 1 || g >= nL)
		goto bad;
	ledger_text((uint32_t)g, want, sizeof want);
	if (strlen(want) != len || memcmp(want, s, len) != 0)
		goto bad;
	if (killed)
		L[g].killed++;
	else
		L[g].ok++;
	ledger_got++;
	return;
bad:
	violation("%s delivered a record that no producer put: \"%.*s\"%s",
	    who, (int)(len > 60 ? 60 : len), s, len > 60 ? "..." : "");
}

int
ledger_read(const char *file, int sep, int killed, const char *who)
{
	struct stat st;
	char *buf, *p, *e;
	int fd, n = 0;
	ssize_t r;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		violation("%s: cannot read its output %s: %s", who, file,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return 0;
	}
	buf = malloc(st.st_size + 1);
	if (buf == NULL) {
		perror("torture: malloc");
		exit(2);
	}
	r = st.st_size ? read(fd, buf, st.st_size) : 0;
	close(fd);
	if (r != st.st_size) {
		violation("%s: short read of %s", who, file);
		free(buf);
		return 0;
	}
	for (p = buf; p < buf + r; p = e + 1) {
		e = memchr(p, sep, buf + r - p);
		if (e == NULL) {
			/* A getter killed while writing may leave a torn
			 * last record; one that ended on its own may not. */
			if (!killed)
				violation("%s: output ends in a torn record: \"%.*s\"",
				    who, (int)(buf + r - p > 60 ? 60 : buf + r - p), p);
			break;
		}
		record(p, e - p, killed, who);
		n++;
	}
	free(buf);
	return n;
}

void
ledger_check(void)
{
	unsigned long lost = 0, dup = 0;

	for (uint32_t g = 0; g < nL; g++) {
		const struct msg *m = &L[g];
		checks++;
		if (m->ok + m->killed > 1)
			ledger_redelivered++;
		if (m->acked && m->ok + m->killed == 0 && lost++ < 10)
			violation("message m%u was put (put exited 0) but never delivered", g);
		if (m->ok > 1 && !m->dupok && dup++ < 10)
			violation("message m%u was delivered %u times to getters that were not killed",
			    g, m->ok);
	}
	if (lost > 10)
		violation("%lu messages lost in all", lost);
	if (dup > 10)
		violation("%lu messages duplicated in all", dup);
}
