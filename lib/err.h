/* err: diagnostics in the form "tool: what failed: why".
 * Everything goes to stderr; stdout is data and never carries a diagnostic. */
#ifndef CONC_ERR_H
#define CONC_ERR_H

/* Exit statuses shared by every tool (concutils(7)). */
enum {
	EXIT_NO = 1,          /* the object said no: closed, broken, answer no */
	EXIT_WOULDBLOCK = 75, /* --nowait and the operation would have blocked */
	EXIT_TIMEOUT = 124,   /* --timeout expired */
	EXIT_TOOL = 125,      /* the tool itself failed */
	EXIT_NOEXEC = 126,    /* command found but not executable */
	EXIT_NOTFOUND = 127,  /* command not found */
};

/* The program name used as the prefix of every message; set once by err_init. */
extern const char *err_prog;

/* err_init: remember the program name (the basename of argv0). */
void err_init(const char *argv0);

/* err_warn: print "prog: MESSAGE: strerror(errno)". errno is preserved. */
void err_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* err_warnx: print "prog: MESSAGE" without an errno text. */
void err_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* err_die / err_diex: err_warn / err_warnx, then exit(status). */
void err_die(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void err_diex(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

#endif
