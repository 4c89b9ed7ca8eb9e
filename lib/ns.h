/* ns: the namespace of named objects (concutils(7), "Named objects").
 * A NAME without '/' lives in the namespace directory: $CONC_DIR, else
 * $XDG_RUNTIME_DIR/concutils, else /dev/shm/concutils-UID, else
 * /tmp/concutils-UID; those last two, names in directories everyone can
 * write, fall back to $HOME/.cache/concutils when another user has taken
 * the name (and keep to it while it exists). A NAME with a '/' is a
 * filesystem path. */
#ifndef CONC_NS_H
#define CONC_NS_H

#include <stddef.h>

/* Longest NAME without a '/'. */
#define NS_NAME_MAX 200

/* ns_check_name: 0 if NAME is acceptable, else -1 with *why set: empty,
 * ".", "..", a leading '.', control characters, too long, a trailing '/'
 * or a path whose last component is one of those. */
int ns_check_name(const char *name, const char **why);

/* ns_dir: the namespace directory, created mode 0700 if missing, written
 * to BUF. Refuses (-1, errno set, *why set) a directory that is a symlink,
 * not a directory, owned by another user, or writable by group or others;
 * a taken /dev/shm or /tmp name is not refused but replaced by the
 * fallback (with a warning on stderr the first time), unless that cannot
 * be made either (*why then says so). */
int ns_dir(char *buf, size_t len, const char **why);

/* ns_path: the file behind NAME (checked with ns_check_name; the
 * namespace directory is prepared with ns_dir). On error prints
 * "prog: NAME: why" and returns -1. */
int ns_path(const char *name, char *buf, size_t len);

#endif
