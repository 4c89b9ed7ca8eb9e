#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "ns.h"
#include "obj.h"
#include "proc.h"

/* The open mappings, for the SIGBUS handler (kept by value: a struct
 * obj is copied around; a tool has few objects open at once, more are
 * simply not covered). */
#define BUS_MAX 8
static struct {
	char *volatile map;
	size_t size;
	char name[128];
} bus_map[BUS_MAX];
static volatile sig_atomic_t bus_exit = EXIT_TOOL;
static sigjmp_buf *volatile bus_jump;

void
obj_bus_status(int status)
{
	bus_exit = status;
}

void
obj_bus_jump(sigjmp_buf *jb)
{
	bus_jump = jb;
}

static void
on_bus(int sig, siginfo_t *si, void *ctx)
{
	static const char msg[] = ": damaged (file truncated while in use)\n";
	const char *a = si->si_addr;
	size_t i;

	(void)ctx;
	for (i = 0; i < BUS_MAX; i++) {
		const char *m = bus_map[i].map;
		if (m && a >= m && a < m + bus_map[i].size) {
			if (bus_jump != NULL)
				siglongjmp(*bus_jump, 1);
			(void)!write(2, err_prog, strlen(err_prog));
			(void)!write(2, ": ", 2);
			(void)!write(2, bus_map[i].name,
			    strlen(bus_map[i].name));
			(void)!write(2, msg, sizeof msg - 1);
			_exit(bus_exit);
		}
	}
	signal(sig, SIG_DFL);   /* not ours: fault again, and die of it */
}

static void
bus_watch(const struct obj *o)
{
	static int installed;
	struct sigaction sa;
	size_t i;

	if (!installed) {
		memset(&sa, 0, sizeof sa);
		sa.sa_sigaction = on_bus;
		sa.sa_flags = SA_SIGINFO;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGBUS, &sa, NULL);
		installed = 1;
	}
	for (i = 0; i < BUS_MAX; i++)
		if (bus_map[i].map == NULL) {
			bus_map[i].size = o->size;
			snprintf(bus_map[i].name, sizeof bus_map[i].name,
			    "%.127s", o->name);
			bus_map[i].map = o->map;
			return;
		}
}

static void
bus_unwatch(const struct obj *o)
{
	size_t i;

	for (i = 0; i < BUS_MAX; i++)
		if (o->map && bus_map[i].map == o->map)
			bus_map[i].map = NULL;
}

/* "a" or "an", for "not a queue", "not an event". */
static const char *
article(const char *noun)
{
	return strchr("aeiou", noun[0]) ? "an" : "a";
}

/* Check the header of a mapped file of SIZE bytes; returns why not, or
 * NULL if it is a valid object of type T. */
static const char *
check_hdr(const void *map, size_t size, const struct obj_type *t)
{
	const struct obj_hdr *h = map;
	static char why[96];

	if (size < sizeof *h || h->magic != OBJ_MAGIC)
		snprintf(why, sizeof why, "not %s %s (no concutils object)",
		    article(t->name), t->name);
	else if (h->kind != t->kind)
		snprintf(why, sizeof why, "not %s %s (another kind of object)",
		    article(t->name), t->name);
	else if (h->version != t->version)
		snprintf(why, sizeof why, "%s format version %u, expected %u",
		    t->name, h->version, t->version);
	else if (h->size != size)
		snprintf(why, sizeof why, "damaged %s (size %llu, file %zu)",
		    t->name, (unsigned long long)h->size, size);
	else
		return NULL;
	return why;
}

int
obj_owner_trusted(uid_t uid)
{
	const char *env = getenv("CONC_SHARED");

	return uid == geteuid() || uid == 0 || (env && *env);
}

/* This process's pid namespace (the inode of /proc/self/ns/pid), 0 if
 * unknown; and a hash of the boot id (FNV-1a), never 0. */
static uint32_t
my_pidns(void)
{
	struct stat st;

	return stat("/proc/self/ns/pid", &st) == 0 ? (uint32_t)st.st_ino : 0;
}

static uint32_t
my_boot(void)
{
	static uint32_t h;
	char id[64];
	ssize_t n = 0, i;
	int fd;

	if (h != 0)
		return h;
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, id, sizeof id);
		close(fd);
	}
	h = 2166136261u;
	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)id[i]) * 16777619u;
	if (h == 0)
		h = 1;
	return h;
}

/* Record our pid namespace in an object that has none (or one from an
 * earlier boot); refuse the object if it is used from another. Returns
 * 0, or -1 (reported). */
static int
check_pidns(struct obj *o)
{
	struct obj_hdr *h = o->map;
	uint32_t ns = my_pidns(), boot = my_boot();

	if (ns == 0)
		return 0;
	if (__atomic_load_n(&h->boot, __ATOMIC_ACQUIRE) != boot ||
	    __atomic_load_n(&h->pidns, __ATOMIC_RELAXED) == 0) {
		/* flock serialises the processes that record it; the boot
		 * is stored last, so whoever sees it current sees the
		 * namespace recorded with it. */
		if (flock(o->fd, LOCK_EX) < 0) {
			err_warn("%s: lock file", o->name);
			return -1;
		}
		if (h->boot != boot || h->pidns == 0) {
			__atomic_store_n(&h->pidns, ns, __ATOMIC_RELAXED);
			__atomic_store_n(&h->boot, boot, __ATOMIC_RELEASE);
		}
		flock(o->fd, LOCK_UN);
	}
	if (__atomic_load_n(&h->pidns, __ATOMIC_RELAXED) != ns) {
		err_warnx("%s: in use from another pid namespace (pid:[%lu]; "
		    "this process is in pid:[%lu])", o->name,
		    (unsigned long)h->pidns, (unsigned long)ns);
		return -1;
	}
	return 0;
}

/* Open and map PATH; returns 0, -1 (reported), or ENOENT (not reported). */
static int
open_existing(struct obj *o, const struct obj_type *t)
{
	struct stat st;
	const char *why;

	/* O_NOFOLLOW: a symlink planted in place of an object is refused;
	 * O_NONBLOCK: a FIFO planted there cannot block the open. */
	o->fd = open(o->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (o->fd < 0) {
		if (errno == ENOENT)
			return ENOENT;
		if (errno == ELOOP)
			err_warnx("%s: not %s %s (a symbolic link)", o->name,
			    article(t->name), t->name);
		else
			err_warn("%s: open %s", o->name, o->path);
		return -1;
	}
	if (fstat(o->fd, &st) < 0) {
		err_warn("%s: stat", o->name);
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		err_warnx("%s: not %s %s (not a regular file)", o->name,
		    article(t->name), t->name);
		goto fail;
	}
	if (!obj_owner_trusted(st.st_uid)) {
		err_warnx("%s: owned by another user (uid %lu); set "
		    "CONC_SHARED=1 to use other users' objects", o->name,
		    (unsigned long)st.st_uid);
		goto fail;
	}
	if ((size_t)st.st_size < sizeof(struct obj_hdr)) {
		err_warnx("%s: not %s %s (no concutils object)", o->name,
		    article(t->name), t->name);
		goto fail;
	}
	o->size = st.st_size;
	o->map = mmap(NULL, o->size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    o->fd, 0);
	if (o->map == MAP_FAILED) {
		o->map = NULL;
		err_warn("%s: mmap", o->name);
		goto fail;
	}
	bus_watch(o);
	if ((why = check_hdr(o->map, o->size, t)) != NULL) {
		err_warnx("%s: %s", o->name, why);
		goto fail;
	}
	if (check_pidns(o) < 0)
		goto fail;
	return 0;
fail:
	obj_close(o);
	return -1;
}

/* Give FD its SIZE bytes for real, so that the mapping never meets a
 * full disk later (SIGBUS); with PREFIX (and a file system that can),
 * only its first PREFIX bytes, the rest a hole (*SPARSE = 1; see
 * obj_open). A file size limit (ulimit -f) would make the kernel send
 * SIGXFSZ, whose default action kills us with a core and leaves the
 * private file behind: ignore it meanwhile, so that the call fails with
 * EFBIG instead. Returns 0, or -1 with errno set. */
static int
allocate(int fd, size_t size, size_t prefix, int *sparse)
{
	struct sigaction ign, old;
	int e = 0;

	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGXFSZ, &ign, &old);
	*sparse = 0;
	if (prefix > 0 && prefix < size) {
		/* The size first: a hole punched at its end (to see that
		 * the file system can) must not shorten it. */
		if (ftruncate(fd, size) < 0)
			e = errno;
		else if (fallocate(fd, 0, 0, prefix) < 0)
			e = errno;
		else if (fallocate(fd, FALLOC_FL_PUNCH_HOLE |
		    FALLOC_FL_KEEP_SIZE, prefix, size - prefix) < 0)
			e = errno;
		else
			*sparse = 1;
		if (e == EOPNOTSUPP || e == ENOSYS)
			e = 0;  /* allocate it all, as below */
	}
	if (e == 0 && !*sparse) {
		e = posix_fallocate(fd, 0, size);
		if (e == EOPNOTSUPP || e == EINVAL)
			e = 0;
		if (e == 0 && ftruncate(fd, size) < 0)
			e = errno;
	}
	sigaction(SIGXFSZ, &old, NULL);
	errno = e;
	return e ? -1 : 0;
}

/* Build the object in a private file and publish it with link(2). Returns
 * 0 if we published it, EEXIST if someone else got there first, -1 on
 * error (reported). */
static int
create_new(struct obj *o, const struct obj_type *t, const struct obj_create *c)
{
	char tmp[PATH_MAX + 64], *slash;
	struct obj_hdr *h;
	void *map;
	int fd = -1, r = -1, unnamed = 0, sparse;
	size_t dlen;

	slash = strrchr(o->path, '/');
	dlen = slash ? (size_t)(slash - o->path) + 1 : 0;
#ifdef O_TMPFILE
	/* A file without a name until it is complete: a creator killed
	 * half-way leaves nothing behind. It gets its name through
	 * /proc/self/fd (linkat with AT_EMPTY_PATH needs privilege). */
	if (access("/proc/self/fd", X_OK) == 0) {
		snprintf(tmp, sizeof tmp, "%.*s", (int)(dlen ? dlen : 1),
		    dlen ? o->path : ".");
		fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		unnamed = fd >= 0;
	}
#endif
	snprintf(tmp, sizeof tmp, "%.*s.%s.new.%ld", (int)dlen, o->path,
	    slash ? slash + 1 : o->path, (long)getpid());
	if (!unnamed)   /* a file system without O_TMPFILE */
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* Left by a process of our pid that died mid-creation. */
		unlink(tmp);
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
	}
	if (fd < 0) {   /* the temporary name is ours: never show it */
		err_warn("%s: create", o->name);
		return -1;
	}
	if (fchmod(fd, c->mode ? c->mode : 0600) < 0) {
		err_warn("%s: chmod", o->name);
		goto out;
	}
	if (allocate(fd, c->size, c->prefix, &sparse) < 0) {
		err_warn("%s: allocate %zu bytes", o->name,
		    c->prefix ? c->prefix : c->size);
		goto out;
	}
	if (c->sparse)
		*c->sparse = sparse;
	map = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		err_warn("%s: mmap", o->name);
		goto out;
	}
	h = map;
	h->magic = OBJ_MAGIC;
	h->kind = t->kind;
	h->version = t->version;
	h->size = c->size;
	h->mode = c->mode ? c->mode : 0600;
	h->pidns = my_pidns();
	h->boot = my_boot();
	if (c->init && c->init(map, c->size, c->arg) < 0) {
		munmap(map, c->size);
		goto out;
	}
	munmap(map, c->size);
	if (unnamed)
		snprintf(tmp, sizeof tmp, "/proc/self/fd/%d", fd);
	if (linkat(AT_FDCWD, tmp, AT_FDCWD, o->path,
	    unnamed ? AT_SYMLINK_FOLLOW : 0) == 0)
		r = 0;
	else if (errno == EEXIST)
		r = EEXIST;
	else
		err_warn("%s: create %s", o->name, o->path);
out:
	close(fd);
	if (!unnamed)
		unlink(tmp);
	return r;
}

int
obj_open(struct obj *o, const char *name, const struct obj_type *t,
    const struct obj_create *c)
{
	int r, tries;

	/* The object must not become stdin, stdout or stderr. */
	(void)proc_std_fds();
	memset(o, 0, sizeof *o);
	o->fd = -1;
	snprintf(o->name, sizeof o->name, "%s", name);
	if (ns_path(name, o->path, sizeof o->path) < 0)
		return -1;
	/* A removal between a lost creation race and our open could make
	 * the object vanish: go round again a few times. */
	for (tries = 0; tries < 8; tries++) {
		r = open_existing(o, t);
		if (r != ENOENT)
			return r;
		if (c == NULL) {
			err_warnx("%s: no such %s", name, t->name);
			return -1;
		}
		r = create_new(o, t, c);
		if (r < 0)
			return -1;
		o->created = (r == 0);
	}
	err_warnx("%s: keeps disappearing while being opened", name);
	return -1;
}

void
obj_close(struct obj *o)
{
	bus_unwatch(o);
	if (o->map)
		munmap(o->map, o->size);
	if (o->fd >= 0)
		close(o->fd);
	o->map = NULL;
	o->fd = -1;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
obj_list(const struct obj_type *t, void (*fn)(struct obj *, void *),
    void *arg)
{
	char dir[PATH_MAX], **names = NULL;
	size_t n = 0, cap = 0, i;
	const char *why;
	struct dirent *d;
	DIR *dp;

	(void)proc_std_fds();

	if (ns_dir(dir, sizeof dir, &why) < 0) {
		err_warnx("namespace directory %s: %s", dir, why);
		return -1;
	}
	if ((dp = opendir(dir)) == NULL) {
		err_warn("namespace directory %s", dir);
		return -1;
	}
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn;
			cap = cap ? 2 * cap : 32;
			nn = realloc(names, cap * sizeof *nn);
			if (nn == NULL)
				err_die(EXIT_TOOL, "list %s", dir);
			names = nn;
		}
		if ((names[n] = strdup(d->d_name)) == NULL)
			err_die(EXIT_TOOL, "list %s", dir);
		n++;
	}
	closedir(dp);
	if (n > 0) /* qsort must not be given a null array, even empty */
		qsort(names, n, sizeof *names, cmp_names);
	for (i = 0; i < n; i++) {
		struct obj o;
		const struct obj_hdr *h;
		int fd;
		struct stat st;

		/* Look before opening, so that other kinds of object and
		 * stray files are skipped without a message. */
		memset(&o, 0, sizeof o);
		snprintf(o.name, sizeof o.name, "%s", names[i]);
		if ((size_t)snprintf(o.path, sizeof o.path, "%s/%s", dir,
		    names[i]) >= sizeof o.path) {
			free(names[i]);
			continue;
		}
		fd = open(o.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
		    O_NONBLOCK);
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    (size_t)st.st_size >= sizeof *h) {
			struct obj_hdr hb;
			if (pread(fd, &hb, sizeof hb, 0) == sizeof hb &&
			    hb.magic == OBJ_MAGIC && hb.kind == t->kind) {
				o.fd = -1;
				if (open_existing(&o, t) == 0) {
					fn(&o, arg);
					obj_close(&o);
				}
			}
		}
		if (fd >= 0)
			close(fd);
		free(names[i]);
	}
	free(names);
	return 0;
}

int
obj_mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int e;

	if ((e = pthread_mutexattr_init(&a)) != 0)
		return e;
	if ((e = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED)) ||
	    (e = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST)) ||
	    (e = pthread_mutex_init(m, &a))) {
		pthread_mutexattr_destroy(&a);
		return e;
	}
	pthread_mutexattr_destroy(&a);
	return 0;
}

/* M has been held for a while: if the thread its lock word names does
 * not exist, no one will ever unlock it (the kernel marks a robust mutex
 * "owner died" only for a holder that dies holding it, so a damaged file
 * can name a thread that never was). Mark it as the kernel would, and
 * wake its waiters: the next lock returns EOWNERDEAD and the tool
 * repairs what it guards. */
static void
unstick(pthread_mutex_t *m)
{
#ifdef __GLIBC__
	int *word = &m->__data.__lock;
	int v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	pid_t tid = v & FUTEX_TID_MASK;

	if (tid == 0 || kill(tid, 0) == 0 || errno != ESRCH)
		return;
	if (__atomic_compare_exchange_n(word, &v, (v & FUTEX_WAITERS) |
	    FUTEX_OWNER_DIED, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
#else
	(void)m;
#endif
}

/* The stop signals a terminal sends (Ctrl-Z, a background job's read or
 * write) are blocked while this process holds an object's lock, so that
 * it never stops with every other user locked out: they take effect as
 * the lock is given back. SIGSTOP cannot be blocked (concutils(7)). */
static int lock_depth;
static sigset_t lock_unblock;   /* the stop signals we blocked */

static void
stops_block(void)
{
	sigset_t s, old;

	if (lock_depth++ > 0)
		return;
	sigemptyset(&s);
	sigaddset(&s, SIGTSTP);
	sigaddset(&s, SIGTTIN);
	sigaddset(&s, SIGTTOU);
	sigprocmask(SIG_BLOCK, &s, &old);
	sigemptyset(&lock_unblock);
	if (!sigismember(&old, SIGTSTP))
		sigaddset(&lock_unblock, SIGTSTP);
	if (!sigismember(&old, SIGTTIN))
		sigaddset(&lock_unblock, SIGTTIN);
	if (!sigismember(&old, SIGTTOU))
		sigaddset(&lock_unblock, SIGTTOU);
}

static void
stops_unblock(void)
{
	if (lock_depth == 0 || --lock_depth > 0)
		return;
	sigprocmask(SIG_UNBLOCK, &lock_unblock, NULL);
}

int
obj_lock(pthread_mutex_t *m)
{
	struct timespec ts;
	int e;

	/* Blocked before the lock is taken: blocked after, a stop could
	 * land in between. */
	stops_block();
	/* Look at the holder once a second (the clock that timedlock
	 * takes, CLOCK_REALTIME, may jump: that only moves the look). */
	for (;;) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		e = pthread_mutex_timedlock(m, &ts);
		if (e != ETIMEDOUT)
			break;
		/* Still waiting, holding no lock: a Ctrl-Z that came
		 * meanwhile stops us here. */
		if (lock_depth == 1) {
			sigprocmask(SIG_UNBLOCK, &lock_unblock, NULL);
			sigprocmask(SIG_BLOCK, &lock_unblock, NULL);
		}
		unstick(m);
	}
	if (e == 0)
		return 0;
	if (e == EOWNERDEAD) {
		pthread_mutex_consistent(m);
		return 1;
	}
	stops_unblock();
	errno = e;
	err_die(EXIT_TOOL, "lock");
}

void
obj_unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
	stops_unblock();
}

int
obj_mutex_trylock(pthread_mutex_t *m)
{
	int e = pthread_mutex_trylock(m);

	/* A copied object (cp of a live one, a backup restored) keeps the
	 * lock words of its original: a holder that has since gone is
	 * found as for the main lock, by the thread it names. */
	if (e == EBUSY) {
		unstick(m);
		e = pthread_mutex_trylock(m);
	}
	return e;
}

int
obj_mutex_grab(pthread_mutex_t *m)
{
	int e = obj_mutex_trylock(m);

	if (e == EOWNERDEAD) {
		pthread_mutex_consistent(m);
		return 0;
	}
	if (e == ENOTRECOVERABLE && obj_mutex_init(m) == 0)
		e = pthread_mutex_trylock(m);
	return e == 0 ? 0 : -1;
}

int
obj_mutex_dead(pthread_mutex_t *m)
{
	int e = obj_mutex_trylock(m);

	if (e == EBUSY)
		return 0;
	if (e == EOWNERDEAD)
		pthread_mutex_consistent(m);
	if (e == 0 || e == EOWNERDEAD)
		pthread_mutex_unlock(m);
	return 1;
}

int
obj_futex_wait(uint32_t *word, uint32_t val, int64_t deadline)
{
	return obj_futex_wait_bits(word, val, deadline,
	    FUTEX_BITSET_MATCH_ANY);
}

int
obj_futex_wait_bits(uint32_t *word, uint32_t val, int64_t deadline,
    uint32_t bits)
{
	struct timespec ts, *tp = NULL;
	long r;

	if (deadline >= 0) {
		ts.tv_sec = deadline / 1000000000LL;
		ts.tv_nsec = deadline % 1000000000LL;
		tp = &ts;
	}
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline,
	 * so a wait restarted after a spurious wake-up never stretches. */
	r = syscall(SYS_futex, word, FUTEX_WAIT_BITSET, val, tp, NULL, bits);
	if (r == 0 || errno == EAGAIN)
		return 0;
	return errno == ETIMEDOUT ? ETIMEDOUT : EINTR;
}

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

/* struct futex_waitv of <linux/futex.h> (Linux 5.16), spelled out for
 * older headers. */
struct obj_waitv {
	uint64_t val;
	uint64_t uaddr;
	uint32_t flags;
	uint32_t reserved;
};

int
obj_futex_waitv(uint32_t *const *words, const uint32_t *vals, int n,
    int64_t deadline)
{
	struct obj_waitv v[OBJ_WAITV_MAX];
	struct timespec ts, *tp = NULL;
	int i;
	long r;

	if (n == 1)
		return obj_futex_wait(words[0], vals[0], deadline);
	if (n > OBJ_WAITV_MAX) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < n; i++) {
		v[i].val = vals[i];
		v[i].uaddr = (uint64_t)(uintptr_t)words[i];
		v[i].flags = 2;    /* FUTEX2_SIZE_U32, shared */
		v[i].reserved = 0;
	}
	if (deadline >= 0) {
		ts.tv_sec = deadline / 1000000000LL;
		ts.tv_nsec = deadline % 1000000000LL;
		tp = &ts;
	}
	r = syscall(SYS_futex_waitv, v, (unsigned)n, 0, tp, CLOCK_MONOTONIC);
	if (r >= 0 || errno == EAGAIN)
		return 0;
	if (errno == ENOSYS)
		return -1;
	return errno == ETIMEDOUT ? ETIMEDOUT : EINTR;
}

void
obj_futex_wake(uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0);
}

int
obj_futex_wake_bits(uint32_t *word, int n, uint32_t bits)
{
	return (int)syscall(SYS_futex, word, FUTEX_WAKE_BITSET, n, NULL, NULL,
	    bits);
}

int
obj_owner_of(struct obj_owner *ow, pid_t pid)
{
	unsigned kind;
	unsigned long long id;

	memset(ow, 0, sizeof *ow);
	if (proc_ident(pid, &kind, &id) < 0)
		return -1;
	ow->pid = pid;
	ow->kind = kind;
	ow->start = id;
	return 0;
}

int
obj_owner_same(const struct obj_owner *a, const struct obj_owner *b)
{
	return a->pid == b->pid && a->kind == b->kind && a->start == b->start;
}

int
obj_owner_alive(const struct obj_owner *ow)
{
	return proc_ident_alive(ow->pid, ow->kind, ow->start);
}
