#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "ns.h"

int
ns_check_name(const char *name, const char **why)
{
	const char *base, *p;
	size_t len = strlen(name);

	if (len == 0) {
		*why = "empty name";
		return -1;
	}
	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*why = "control character in name";
			return -1;
		}
	if (name[len - 1] == '/') {
		*why = "name ends with '/'";
		return -1;
	}
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
		*why = "name is '.' or '..'";
		return -1;
	}
	if (base == name && *name == '.') {
		*why = "name starts with '.'";
		return -1;
	}
	if (base == name ? len > NS_NAME_MAX : len >= PATH_MAX - 64 ||
	    strlen(base) > NS_NAME_MAX) {
		*why = "name too long";
		return -1;
	}
	return 0;
}

/* Make sure DIR is a directory we alone control. lstat, not stat: a
 * symlink planted in a shared /tmp must not redirect our objects. */
static int
check_dir(const char *dir, const char **why)
{
	struct stat st;

	if (lstat(dir, &st) < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		*why = "is a symbolic link";
		errno = ELOOP;
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = "not a directory";
		errno = ENOTDIR;
		return -1;
	}
	if (st.st_uid != geteuid()) {
		*why = "owned by another user";
		errno = EPERM;
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		*why = "writable by group or others";
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Pick the namespace directory; *SHARED tells that it is a per-user name
 * in a directory everyone can write (/dev/shm, /tmp), which another user
 * can take first. */
static int
pick_dir(char *buf, size_t len, int *shared)
{
	const char *env = getenv("CONC_DIR");
	struct stat st;
	int n;

	*shared = 0;
	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if ((env = getenv("XDG_RUNTIME_DIR")) && *env == '/' &&
	    stat(env, &st) == 0 && S_ISDIR(st.st_mode) &&
	    access(env, W_OK) == 0)
		n = snprintf(buf, len, "%s/concutils", env);
	else {
		*shared = 1;
		if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
		    access("/dev/shm", W_OK) == 0)
			n = snprintf(buf, len, "/dev/shm/concutils-%lu",
			    (unsigned long)geteuid());
		else
			n = snprintf(buf, len, "/tmp/concutils-%lu",
			    (unsigned long)geteuid());
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* The fallback for a shared name taken by another user: a directory
 * under $HOME, which only the user can write. */
static int
fallback_path(char *buf, size_t len)
{
	const char *home = getenv("HOME");
	int n;

	if (home == NULL || *home != '/') {
		errno = ENOENT;
		return -1;
	}
	n = snprintf(buf, len, "%s/.cache/concutils", home);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Nonzero if what is at DIR was put there by another user (a directory,
 * a symlink or a file of someone else's): the name is taken. */
static int
taken(const char *dir)
{
	struct stat st;

	return lstat(dir, &st) == 0 && st.st_uid != geteuid();
}

/* Make (if missing) and check the fallback FB; returns 0 or -1 with
 * *why set. */
static int
make_fallback(const char *fb, const char **why)
{
	char parent[PATH_MAX];
	char *slash;

	snprintf(parent, sizeof parent, "%s", fb);
	if ((slash = strrchr(parent, '/')) != NULL)
		*slash = '\0';
	if ((mkdir(parent, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(fb, 0700) < 0 && errno != EEXIST)) {
		*why = strerror(errno);
		return -1;
	}
	return check_dir(fb, why);
}

int
ns_dir(char *buf, size_t len, const char **why)
{
	static char msg[PATH_MAX + 160];
	char fb[PATH_MAX];
	const char *fwhy;
	int shared;

	fb[0] = '\0';
	if (pick_dir(buf, len, &shared) < 0) {
		*why = strerror(errno);
		return -1;
	}
	/* Once made, the fallback is used for as long as it exists, so
	 * that the user's processes agree on one directory even if the
	 * shared name is given up later. */
	if (shared && fallback_path(fb, sizeof fb) == 0 &&
	    check_dir(fb, &fwhy) == 0 && strlen(fb) < len) {
		snprintf(buf, len, "%s", fb);
		return 0;
	}
	/* mkdir fails with EEXIST on an existing symlink too, so the
	 * check that follows sees whatever is there. */
	if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
		*why = strerror(errno);
		return -1;
	}
	if (check_dir(buf, why) == 0)
		return 0;
	if (!shared || !taken(buf))
		return -1;
	if (fallback_path(fb, sizeof fb) < 0)
		fwhy = "HOME is not set to an absolute path";
	else if (strlen(fb) >= len)
		fwhy = strerror(ENAMETOOLONG);
	else if (make_fallback(fb, &fwhy) == 0) {
		err_warnx("namespace directory %s: taken by another user; "
		    "using %s instead", buf, fb);
		snprintf(buf, len, "%s", fb);
		return 0;
	}
	snprintf(msg, sizeof msg, "%s, and no fallback (%s: %s); set "
	    "CONC_DIR or XDG_RUNTIME_DIR to a directory of your own", *why,
	    fb[0] == '/' ? fb : "$HOME/.cache/concutils", fwhy);
	*why = msg;
	errno = EPERM;
	return -1;
}

/* A name fit for a one-line message: control characters escaped, and
 * cut short (with "...") past 60 bytes. */
static const char *
printable(const char *name)
{
	static char out[256];
	size_t o = 0;

	for (const char *p = name; *p && o < sizeof out - 8; p++) {
		unsigned char c = *p;
		if (p - name >= 60) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f)
			o += snprintf(out + o, sizeof out - o, "\\x%02x", c);
		else
			out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

int
ns_path(const char *name, char *buf, size_t len)
{
	char dir[PATH_MAX];
	const char *why;

	if (ns_check_name(name, &why) < 0) {
		err_warnx("%s: bad name: %s", printable(name), why);
		return -1;
	}
	if (strchr(name, '/')) {
		snprintf(buf, len, "%s", name);
		return 0;
	}
	if (ns_dir(dir, sizeof dir, &why) < 0) {
		err_warnx("namespace directory %s: %s", dir, why);
		return -1;
	}
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len) {
		err_warnx("%s: bad name: name too long", name);
		return -1;
	}
	return 0;
}
