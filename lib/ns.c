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

static int
pick_dir(char *buf, size_t len)
{
	const char *env = getenv("CONC_DIR");
	struct stat st;
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if ((env = getenv("XDG_RUNTIME_DIR")) && *env == '/' &&
	    stat(env, &st) == 0 && S_ISDIR(st.st_mode) &&
	    access(env, W_OK) == 0)
		n = snprintf(buf, len, "%s/concutils", env);
	else if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK) == 0)
		n = snprintf(buf, len, "/dev/shm/concutils-%lu",
		    (unsigned long)geteuid());
	else
		n = snprintf(buf, len, "/tmp/concutils-%lu",
		    (unsigned long)geteuid());
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
ns_dir(char *buf, size_t len, const char **why)
{
	if (pick_dir(buf, len) < 0) {
		*why = strerror(errno);
		return -1;
	}
	/* mkdir fails with EEXIST on an existing symlink too, so the
	 * check that follows sees whatever is there. */
	if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
		*why = strerror(errno);
		return -1;
	}
	return check_dir(buf, why);
}

int
ns_path(const char *name, char *buf, size_t len)
{
	char dir[PATH_MAX];
	const char *why;

	if (ns_check_name(name, &why) < 0) {
		/* The name is shown with its control characters as '?', so
		 * that the diagnostic stays on one line. */
		char shown[PATH_MAX];
		size_t i;
		snprintf(shown, sizeof shown, "%s", name);
		for (i = 0; shown[i]; i++)
			if ((unsigned char)shown[i] < 0x20 || shown[i] == 0x7f)
				shown[i] = '?';
		err_warnx("%s: bad name: %s", shown, why);
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
