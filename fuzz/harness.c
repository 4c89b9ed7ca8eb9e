/* fuzz: the helpers every target is linked with (see fuzz.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "obj.h"

#define OWNER_DIED 0x40000000u   /* linux/futex.h: FUTEX_OWNER_DIED */
#define TID_MASK 0x3fffffffu     /* linux/futex.h: FUTEX_TID_MASK */

void __real_exit(int status) __attribute__((noreturn));
void __wrap_exit(int status) __attribute__((noreturn));

static jmp_buf *catcher;
int fuzz_exit_status;

void
__wrap_exit(int status)
{
	jmp_buf *jb = catcher;

	if (jb != NULL) {
		catcher = NULL;
		fuzz_exit_status = status;
		longjmp(*jb, 1);
	}
	__real_exit(status);
}

void
fuzz_catch(jmp_buf *jb)
{
	catcher = jb;
}

void
fuzz_uncatch(void)
{
	catcher = NULL;
}

int
fuzz_call(void (*fn)(unsigned), unsigned ops)
{
	jmp_buf jb;

	fuzz_catch(&jb);
	if (setjmp(jb) == 0) {
		fn(ops);
		fuzz_uncatch();
		return 0;
	}
	fuzz_exited();
	return 1;
}

void
fuzz_exited(void)
{
	if (fuzz_exit_status != 125) {
		fprintf(stderr, "fuzz: the tool exited with status %d, not 125\n",
		    fuzz_exit_status);
		abort();
	}
}

static char dir[64];

/* At exit: the directory and what the targets left in it. */
static void
remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	rmdir(dir);
}

const char *
fuzz_dir(void)
{
	static int made;

	/* In memory where there is a tmpfs: a disk file system stalls
	 * open(O_TRUNC) for seconds on a busy machine, which the fuzzer
	 * reports as a hang. */
	if (!made) {
		snprintf(dir, sizeof dir, "%s/conc-fuzz-XXXXXX",
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(remove_dir);
		setenv("CONC_DIR", dir, 1);
		made = 1;
	}
	return dir;
}

void
fuzz_write(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n || close(fd) < 0)
		abort();
}

char *
fuzz_str(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

void
fuzz_mutex_fix(pthread_mutex_t *m)
{
	static pthread_mutex_t clean;
	static int have;
	const unsigned char *b = (const unsigned char *)m;
	size_t i;
	int dirty = 0;

	if (!have) {
		if (obj_mutex_init(&clean) != 0)
			abort();
		have = 1;
	}
	for (i = 0; i < sizeof *m; i++)
		dirty |= b[i];
	memcpy(m, &clean, sizeof *m);
	if (dirty) {
		uint32_t word = OWNER_DIED;
		memcpy(m, &word, sizeof word);  /* __data.__lock */
	}
}

void
fuzz_mutex_strip(pthread_mutex_t *m)
{
	uint32_t word;

	memcpy(&word, m, sizeof word);
	memset(m, 0, sizeof *m);
	if (word != 0)
		*(unsigned char *)m = 1;
}

void
fuzz_mutex_drop(pthread_mutex_t *m)
{
	uint32_t word;

	memcpy(&word, m, sizeof word);
	if ((word & TID_MASK) == (uint32_t)gettid())
		pthread_mutex_unlock(m);
}

static uint32_t
get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

uint8_t *
fuzz_obj_decode(const uint8_t *data, size_t n, size_t min, size_t *size)
{
	size_t i = 4;
	uint8_t *img;

	if (n < 4)
		return NULL;
	*size = get32(data);
	if (*size < min || *size > FUZZ_OBJ_MAX)
		return NULL;
	/* Aligned as a mapping is (struct bar wants 64 bytes). */
	if (posix_memalign((void **)&img, 4096, *size) != 0)
		abort();
	memset(img, 0, *size);
	while (n - i >= 6) {
		size_t off = get32(data + i), len = data[i + 4] |
		    data[i + 5] << 8;
		i += 6;
		if (len > n - i)
			len = n - i;
		if (off < *size)
			memcpy(img + off, data + i, len < *size - off ? len :
			    *size - off);
		i += len;
	}
	return img;
}

uint8_t *
fuzz_obj_image(const uint8_t *data, size_t n, unsigned kind,
    unsigned version, size_t *size, unsigned *ops)
{
	uint8_t *img = fuzz_obj_decode(data, n, sizeof(struct obj_hdr), size);
	struct obj_hdr *h = (struct obj_hdr *)(void *)img;

	if (img == NULL)
		return NULL;
	h->magic = OBJ_MAGIC;
	h->kind = (uint16_t)kind;
	h->version = (uint16_t)version;
	h->size = *size;
	if (h->reserved[0] != 0)
		*ops = h->reserved[0];
	return img;
}

void
fuzz_obj_install(uint8_t *img, size_t size)
{
	static char path[4096];

	snprintf(path, sizeof path, "%s/x", fuzz_dir());
	fuzz_write(path, img, size);
	free(img);
}

static void
put32(FILE *f, uint32_t v)
{
	uint8_t b[4] = { v & 0xff, v >> 8 & 0xff, v >> 16 & 0xff, v >> 24 };

	fwrite(b, 1, 4, f);
}

void
fuzz_obj_seed(void (*strip)(uint8_t *img, size_t size))
{
	const char *spec = getenv("FUZZ_ENCODE");
	char in[4096], out[4096];
	uint8_t *img;
	size_t size, i, j;
	FILE *f;

	if (spec == NULL)
		return;
	if (sscanf(spec, "%4095s %4095s", in, out) != 2 ||
	    (f = fopen(in, "rb")) == NULL) {
		fprintf(stderr, "fuzz: FUZZ_ENCODE=\"IN OUT\": %s\n",
		    strerror(errno));
		exit(2);
	}
	img = malloc(FUZZ_OBJ_MAX);
	if (img == NULL)
		abort();
	size = fread(img, 1, FUZZ_OBJ_MAX, f);
	fclose(f);
	strip(img, size);
	if ((f = fopen(out, "wb")) == NULL)
		exit(2);
	put32(f, (uint32_t)size);
	/* A chunk per run of nonzero bytes; gaps of less than 8 zeros are
	 * kept inside a chunk. */
	for (i = 0; i < size; i = j) {
		size_t last;
		while (i < size && img[i] == 0)
			i++;
		if (i == size)
			break;
		for (j = last = i; j < size && j - i < 65535 &&
		    j - last < 8; j++)
			if (img[j])
				last = j;
		j = last + 1;
		put32(f, (uint32_t)i);
		fputc((int)((j - i) & 0xff), f);
		fputc((int)((j - i) >> 8), f);
		fwrite(img + i, 1, j - i, f);
	}
	free(img);
	exit(fclose(f) == 0 ? 0 : 2);
}
