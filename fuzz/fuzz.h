/* fuzz: what the libFuzzer targets share (fuzz/harness.c, linked into
 * every target by fuzz/run).
 *
 * The tools stop on bad input with err_diex(125, ...), that is exit(125).
 * The targets are linked with -Wl,--wrap=exit, so that an exit inside
 * fuzz_catch ... fuzz_uncatch longjmps back to the target instead of
 * ending the fuzzer; the target then insists on status 125 (anything
 * else is a finding) and cleans up what the tool left. */
#ifndef CONC_FUZZ_H
#define CONC_FUZZ_H

#include <pthread.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* fuzz_catch: from now on exit(S) does longjmp(*JB, 1) with S in
 * fuzz_exit_status (once: the catch is then disarmed). Call it right
 * before "if (setjmp(*JB) == 0)". */
extern int fuzz_exit_status;
void fuzz_catch(jmp_buf *jb);
void fuzz_uncatch(void);

/* fuzz_exited: the code under fuzz_catch called exit: abort (a finding)
 * unless the status was 125, the tools' "bad input" status. */
void fuzz_exited(void);

/* fuzz_call: FN(OPS) under fuzz_catch. Returns 0 if FN returned, 1 if
 * it called exit (with 125: any other status is a finding, fuzz_exited);
 * the caller then lets go of what the tool held. */
int fuzz_call(void (*fn)(unsigned), unsigned ops);

/* fuzz_dir: a private namespace directory (in /dev/shm if it can),
 * made once; CONC_DIR names it. */
const char *fuzz_dir(void);

/* fuzz_write: make PATH hold exactly the N bytes at P (abort on error). */
void fuzz_write(const char *path, const void *p, size_t n);

/* fuzz_str: a NUL-terminated malloc'd copy of N bytes at P. */
char *fuzz_str(const uint8_t *p, size_t n);

/* ---- Object files: the robust mutexes in them ----
 * Arbitrary bytes in a robust mutex name an owner that does not exist
 * (the kernel marks a mutex "owner died" only for a process that held it
 * when it died): obj_lock notices after about a second and repairs, which
 * is too slow for fuzzing. So the targets rewrite every mutex of the
 * fuzzed file: unlocked if its bytes were all zero, else "owner died",
 * which drives the same repair code at once. */
void fuzz_mutex_fix(pthread_mutex_t *m);

/* fuzz_mutex_strip: the inverse of fuzz_mutex_fix, for a seed: all zero
 * if M is unlocked, one nonzero byte if it is held (or its owner died). */
void fuzz_mutex_strip(pthread_mutex_t *m);

/* fuzz_mutex_drop: unlock M if this thread holds it (after a caught
 * exit): glibc keeps held robust mutexes on a list, which must not point
 * into a mapping that is about to go. */
void fuzz_mutex_drop(pthread_mutex_t *m);

/* ---- Object files: a compact encoding ----
 * A queue file is at least 53 KiB, mostly zeros. A fuzz input stands for
 * one as: a 32-bit little-endian file size, then chunks of (32-bit
 * offset, 16-bit length, bytes) laid over a zero-filled file. */
#define FUZZ_OBJ_MAX (256u << 10)

/* fuzz_obj_decode: the file image for DATA (malloc'd, *SIZE bytes), or
 * NULL if DATA does not stand for one of at least MIN and at most
 * FUZZ_OBJ_MAX bytes. */
uint8_t *fuzz_obj_decode(const uint8_t *data, size_t n, size_t min,
    size_t *size);

/* fuzz_obj_image: fuzz_obj_decode (at least a struct obj_hdr), then make
 * the header name an object of KIND and VERSION and of the image's size,
 * so that the fuzzing reaches past obj_open's first checks. The header's
 * first reserved word, when nonzero, is the target's choice of
 * operations: it replaces *OPS. */
uint8_t *fuzz_obj_image(const uint8_t *data, size_t n, unsigned kind,
    unsigned version, size_t *size, unsigned *ops);

/* fuzz_obj_install: make IMG (SIZE bytes) the object "x" of fuzz_dir(),
 * and free it. */
void fuzz_obj_install(uint8_t *img, size_t size);

/* fuzz_obj_seed: when FUZZ_ENCODE="IN OUT" is set, encode the object
 * file IN as a fuzz input OUT after STRIP (which zeroes what the target
 * rewrites anyway: mutexes...) and exit; used by fuzz/seeds. */
void fuzz_obj_seed(void (*strip)(uint8_t *img, size_t size));

#endif
