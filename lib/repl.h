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
 * shell's). */
#ifndef CONC_REPL_H
#define CONC_REPL_H

#include <stddef.h>

enum repl_kind { REPL_VAL = 1, REPL_SEQ, REPL_SLOT };
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

#endif
