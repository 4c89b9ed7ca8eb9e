/* repl: the replacement strings of a command template, as pool and
 * queue run read them.
 *
 *   {}      the value            {.}   without its extension
 *   {/}     its basename         {//}  its directory
 *   {/.}    its basename without its extension
 *   {N}     the Nth value (N from 1), with the same endings: {N.} {N/}
 *           {N//} {N/.}
 *   {#}     the job's sequence number     {%}  its job slot
 *
 * A string right after a '$' is none ("${x}" in a shell line is the
 * shell's).
 *
 * A word of a template is parsed once (repl_parse) into pieces, and each
 * job expands the pieces (repl_expand) for its value; what a program
 * adds (pool's --header names, -X, quoting for sh, several values) stays
 * the program's. */
#ifndef CONC_REPL_H
#define CONC_REPL_H

#include <stddef.h>

struct buf;

enum repl_kind { REPL_LIT, REPL_VAL, REPL_SEQ, REPL_SLOT };
enum repl_part { REPL_WHOLE, REPL_NOEXT, REPL_BASE, REPL_DIR,
	REPL_BASENOEXT };

struct repl {
	int kind;       /* enum repl_kind */
	long pos;       /* REPL_VAL: the value's number, from 1; 0: {} */
	int part;       /* REPL_VAL: enum repl_part */
};

/* repl_at: the replacement string at S in WORD: returns its kind, with
 * its length in *LEN and what it stands for in *R; -1 when there is none
 * at S. I, unless NULL, is a string that takes the place of {} (pool's
 * -I); {.} and the others stay. */
int repl_at(const char *word, const char *s, const char *I, size_t *len,
    struct repl *r);

/* repl_part: the part PART of VALUE: returns where it starts, its
 * length in *LEN. The extension starts at the basename's last dot,
 * unless that dot begins the name; the directory of a name without a
 * slash is ".". */
const char *repl_part(int part, const char *value, size_t *len);

/* A word of a template, parsed once into pieces: literal text and
 * replacement strings, in order. */
struct repl_piece {
	int kind;       /* enum repl_kind: REPL_LIT for literal text */
	const char *s;  /* where its text is in the word (which must outlive
	                 * the pieces) */
	size_t n;       /* its length */
	long pos;       /* REPL_VAL: as in struct repl */
	int part;       /* REPL_VAL: as in struct repl */
};

struct repl_word {
	struct repl_piece *p;
	int n;
	int repl;       /* holds a replacement string */
};

/* repl_parse: parse WORD into the pieces of W (zeroed by the caller),
 * the replacement strings being where AT(ARG, WORD, s, len, r) finds one
 * (the same contract as repl_at); repl_at's, with no -I, when AT is NULL.
 * Out of memory it exits with status 125. */
void repl_parse(struct repl_word *w, const char *word,
    int (*at)(void *arg, const char *word, const char *s, size_t *len,
    struct repl *r), void *arg);

/* repl_free: release W's pieces; W is empty afterwards. */
void repl_free(struct repl_word *w);

/* repl_num: write V in decimal at P (room for 21 bytes), with a NUL
 * after it; returns its length. The numbers of {#} and {%}. */
size_t repl_num(char *p, unsigned long long v);

/* repl_expand: append to B the expansion of piece P for VALUE, job
 * sequence number SEQ and job slot SLOT: a literal's text, the number
 * for {#} or {%}, the part of VALUE that a REPL_VAL stands for (whatever
 * its pos: choosing the value is the caller's). Nothing is allocated
 * but B's room. */
void repl_expand(struct buf *b, const struct repl_piece *p,
    const char *value, unsigned long long seq, unsigned long long slot);

#endif
