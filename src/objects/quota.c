#include "quota.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* Defaults, stated in RELIABILITY.md: generous enough for real servers. */
#define DEFAULT_MEMFDS 8192
#define DEFAULT_HANDLES (1u << 20)
#define DEFAULT_PENDING 65536
/* Without a physical memory size to go by. */
#define FALLBACK_MEMORY (16ull << 30)
/* Empty memfds kept for the next allocations: enough for a program's working set of a few. */
#define SPARE_MEMFDS 64

struct spare {
	struct hh_account *owner;
	int fd;
	uint64_t size;          /* its length; it holds no data */
};

static struct {
	struct hh_limits limits;
	uint64_t memfds_open;           /* memfds made here and not closed, spares included */
	unsigned spares;
	struct spare spare[SPARE_MEMFDS];
} state = {
	.limits = {
		.memory_bytes = FALLBACK_MEMORY,
		.memfds = DEFAULT_MEMFDS,
		.handles = DEFAULT_HANDLES,
		.pending = DEFAULT_PENDING,
		.memfd_budget = DEFAULT_MEMFDS,
	},
};

int hh_limits_parse(const char *text, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno || end == text || *text == '-')
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	default: break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static void from_env(const char *name, uint64_t *value)
{
	const char *text = getenv(name);
	if (!text || !*text)
		return;
	if (hh_limits_parse(text, value) < 0)
		fprintf(stderr, "helhost: %s=%s is not a number; keeping %llu\n", name, text,
				(unsigned long long)*value);
}

/*
 * Registering a thread needs a few fds at once and each program holds a
 * pidfd (and, launched, a listener): memfds never take the last eighth of
 * the fd table, and never the last 1024 fds of a big one.
 */
static uint64_t memfd_budget(void)
{
	struct rlimit r;
	if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_cur == RLIM_INFINITY)
		return DEFAULT_MEMFDS;
	uint64_t n = r.rlim_cur, reserve = n / 8 > 1024 ? n / 8 : 1024;
	if (reserve > n / 2)
		reserve = n / 2;
	return n - reserve;
}

void hh_limits_init(void)
{
	struct hh_limits *l = &state.limits;
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	if (pages > 0 && page > 0)
		l->memory_bytes = (uint64_t)pages * (uint64_t)page;
	l->memfd_budget = memfd_budget();
	from_env("HELHOST_MAX_MEMORY", &l->memory_bytes);
	from_env("HELHOST_MAX_MEMFDS", &l->memfds);
	from_env("HELHOST_MAX_HANDLES", &l->handles);
	from_env("HELHOST_MAX_PENDING", &l->pending);
}

void hh_limits_set(const struct hh_limits *l)
{
	state.limits = *l;
}

const struct hh_limits *hh_limits(void)
{
	return &state.limits;
}

struct hh_account *hh_account_new(void)
{
	struct hh_account *a = calloc(1, sizeof(*a));
	if (a)
		a->refs = 1;
	return a;
}

struct hh_account *hh_account_ref(struct hh_account *a)
{
	if (a)
		a->refs++;
	return a;
}

/*
 * The last spare of owner (NULL: of anybody), taken out of the list, with
 * its length in *size; -1 if there is none.
 */
static int take_spare(const struct hh_account *owner, uint64_t *size)
{
	for (unsigned i = state.spares; i-- > 0;) {
		if (owner && state.spare[i].owner != owner)
			continue;
		int fd = state.spare[i].fd;
		*size = state.spare[i].size;
		state.spare[i] = state.spare[--state.spares];
		return fd;
	}
	return -1;
}

void hh_account_unref(struct hh_account *a)
{
	if (!a || --a->refs)
		return;
	uint64_t size;
	for (int fd; (fd = take_spare(a, &size)) >= 0;)
		hh_memfd_close(fd);
	free(a);
}

bool hh_account_fits(const struct hh_account *a, uint64_t bytes, uint64_t memfds)
{
	if (!a)
		return true;
	const struct hh_limits *l = &state.limits;
	/* The first test of each pair keeps the subtraction from wrapping (lowered limits). */
	return a->bytes <= l->memory_bytes && bytes <= l->memory_bytes - a->bytes &&
		a->memfds <= l->memfds && memfds <= l->memfds - a->memfds;
}

HelError hh_account_charge(struct hh_account *a, uint64_t bytes, uint64_t memfds)
{
	if (!a)
		return kHelErrNone;
	if (!hh_account_fits(a, bytes, memfds))
		return kHelErrNoMemory;
	a->bytes += bytes;
	a->memfds += memfds;
	return kHelErrNone;
}

void hh_account_release(struct hh_account *a, uint64_t bytes, uint64_t memfds)
{
	if (!a)
		return;
	a->bytes -= bytes;
	a->memfds -= memfds;
}

/*
 * An empty, unsealed memfd counted in the emulator-wide budget.  At the
 * budget's end a spare of any account stands in: spares never keep others
 * from their memfds.
 */
static int open_memfd(const char *name, uint64_t *size)
{
	*size = 0;
	if (state.memfds_open >= state.limits.memfd_budget)
		return take_spare(NULL, size);
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd >= 0)
		state.memfds_open++;
	return fd;
}

int hh_memfd_seal(int fd)
{
	/*
	 * Growing stays allowed (helResizeMemory); shrinking would make the
	 * emulator's accesses to its own mapping fault, and F_SEAL_SEAL keeps a
	 * program from adding F_SEAL_GROW or F_SEAL_WRITE behind our back.
	 */
	return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_SEAL);
}

/* fd (which may be -1), now of length bytes, at size bytes; or -1 and closed. */
static int sized(int fd, uint64_t length, uint64_t size)
{
	if (fd >= 0 && length != size && ftruncate(fd, (off_t)size) < 0) {
		hh_memfd_close(fd);
		return -1;
	}
	return fd;
}

int hh_memfd_create(const char *name, uint64_t size)
{
	if (size > INT64_MAX)
		return -1;
	uint64_t length;
	int fd = open_memfd(name, &length);
	if ((fd = sized(fd, length, size)) >= 0 && hh_memfd_seal(fd) < 0) {
		hh_memfd_close(fd);
		return -1;
	}
	return fd;
}

int hh_memfd_take(struct hh_account *a, uint64_t size)
{
	if (size > INT64_MAX)
		return -1;
	/* A spare of the same size costs nothing; a new memfd its creation and close. */
	uint64_t length = 0;
	int fd = a ? take_spare(a, &length) : -1;
	if (fd < 0)
		fd = open_memfd("hel-memory", &length);
	return sized(fd, length, size);
}

/* Does the memfd hold no data (so it reads as zero and frees nothing when emptied)? */
static bool holds_nothing(int fd)
{
	return lseek(fd, 0, SEEK_DATA) < 0 && errno == ENXIO;
}

void hh_memfd_recycle(struct hh_account *a, int fd, uint64_t size)
{
	if (fd < 0 || !a || state.spares == SPARE_MEMFDS) {
		hh_memfd_close(fd);
		return;
	}
	/* A memfd nobody wrote keeps its length for the next object of that size. */
	if (!holds_nothing(fd)) {
		if (ftruncate(fd, 0) < 0) {
			hh_memfd_close(fd);
			return;
		}
		size = 0;
	}
	state.spare[state.spares++] = (struct spare){ a, fd, size };
}

unsigned hh_memfd_spares(void)
{
	return state.spares;
}

void hh_memfd_close(int fd)
{
	if (fd < 0)
		return;
	close(fd);
	state.memfds_open--;
}
