/* buf: a growable byte buffer, and quoting words for a POSIX shell.
 *
 * Running out of memory is not an error a caller can do anything useful
 * about here: every function that grows a buffer exits with status 125
 * and "out of memory" instead of returning a failure. A zeroed struct buf
 * is an empty buffer. */
#ifndef CONC_BUF_H
#define CONC_BUF_H

#include <stddef.h>

struct buf {
	char *p;          /* the bytes (NULL while nothing was ever added) */
	size_t len, cap;  /* bytes in use, bytes allocated */
};

/* buf_reserve: make room for MORE bytes after the LEN used ones. */
void buf_reserve(struct buf *b, size_t more);

/* buf_add: append the N bytes at P. */
void buf_add(struct buf *b, const void *p, size_t n);

/* buf_adds: append the string S (without its NUL). */
void buf_adds(struct buf *b, const char *s);

/* buf_str: B's bytes as a string: a NUL is kept after the LEN bytes (not
 * counted in LEN), so that B->p is valid even for an empty buffer. */
char *buf_str(struct buf *b);

/* buf_free: release B's memory; B is empty afterwards. */
void buf_free(struct buf *b);

/* buf_quote: append WORD quoted so that a POSIX shell reads back exactly
 * WORD whatever it holds (blanks, quotes, $, `, \, newlines): bare when
 * it is made of safe characters, else in single quotes with each '
 * written as '\''. An empty word becomes ''. With BUF_QUOTE_CTL, a word
 * holding control characters goes in $'...' with those written as \xNN
 * (POSIX.1-2024, bash, ksh, zsh), so that the text never holds a raw
 * newline or TAB: for text meant to be read (a log line), not for a shell
 * that may predate $'...'. */
enum { BUF_QUOTE_CTL = 1 };
void buf_quote(struct buf *b, const char *word, int flags);

/* buf_quote_argv: the words of ARGV (NULL-terminated) quoted by
 * buf_quote and separated by blanks. */
void buf_quote_argv(struct buf *b, char *const *argv, int flags);

#endif
