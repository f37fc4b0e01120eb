#include "memory.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cow.h"
#include "managed.h"
#include "quota.h"
#include "queue.h"

void hh_memory_drop_view(struct hh_memory *mem)
{
	if (mem->view)
		munmap(mem->view, mem->view_len);
	mem->view = NULL;
}

static void memory_destroy(struct hh_object *obj)
{
	struct hh_memory *mem = hh_memory_of(obj);
	hh_memory_drop_view(mem);
	if (mem->memfd >= 0 && mem->account)
		hh_account_release(mem->account, mem->size, 1);
	if (mem->managed)               /* both views of managed memory share the store's memfd */
		hh_managed_detach(mem);
	else if (mem->sealed)
		hh_memfd_close(mem->memfd);
	else                            /* it never left the emulator: the account's next object may have it */
		hh_memfd_recycle(mem->account, mem->memfd, mem->size);
	hh_account_unref(mem->account);
	if (mem->cow_source)
		hh_object_unref(&mem->cow_source->base);
	free(mem);
}

static void memory_attach(struct hh_object *obj, uint32_t aux)
{
	(void)aux;
	hh_memory_of(obj)->handles++;
}

/* With no descriptor left, nobody can answer for a backing object: its pager is gone. */
static void memory_detach(struct hh_object *obj, uint32_t aux)
{
	(void)aux;
	struct hh_memory *mem = hh_memory_of(obj);
	if (--mem->handles == 0 && mem->kind == HH_MEMORY_MANAGED_BACKING)
		hh_managed_pager_gone(mem);
}

static const struct hh_object_ops memory_ops = {
	.type = HH_OBJ_MEMORY,
	.name = "memory",
	.destroy = memory_destroy,
	.attach = memory_attach,
	.detach = memory_detach,
};

static uint64_t round_up_pow2(uint64_t x)
{
	uint64_t p = 1;
	while (p < x)
		p <<= 1;
	return p;
}

HelError hh_memory_allocate(uint64_t size, uint32_t flags, struct hh_memory **out)
{
	return hh_memory_allocate_for(NULL, size, flags, out);
}

HelError hh_memory_allocate_for(struct hh_account *account, uint64_t size, uint32_t flags,
		struct hh_memory **out)
{
	uint64_t granule = HH_PAGE_SIZE;
	/* Continuous memory is one power-of-two block in thor; its length shows it. */
	if (flags & kHelAllocContinuous) {
		if (size > (1ull << 62))
			return kHelErrNoMemory;
		size = round_up_pow2(size);
		granule = size;
	}
	struct hh_memory *mem = calloc(1, sizeof(*mem));
	if (!mem)
		return kHelErrNoMemory;
	/* Charged first: a spare of the account serves only what the account may have. */
	if (hh_account_charge(account, size, 1)) {
		free(mem);
		return kHelErrNoMemory;
	}
	mem->memfd = hh_memfd_take(account, size);
	if (mem->memfd < 0) {
		hh_account_release(account, size, 1);
		free(mem);
		return kHelErrNoMemory;
	}
	hh_memory_init(mem, HH_MEMORY_ALLOCATED, mem->memfd, size);
	mem->sealed = false;            /* hh_memfd_take's memfds are sealed when they first leave */
	mem->granule = granule;
	mem->account = hh_account_ref(account);
	static uint64_t serials;
	mem->serial = ++serials;
	*out = mem;
	return kHelErrNone;
}

void hh_memory_init(struct hh_memory *mem, enum hh_memory_kind kind, int memfd, uint64_t size)
{
	hh_object_init(&mem->base, &memory_ops);
	mem->kind = kind;
	mem->memfd = memfd;
	mem->size = size;
	mem->granule = HH_PAGE_SIZE;
	mem->sealed = true;             /* other kinds' memfds come sealed (hh_memfd_create) */
}

HelError hh_memory_resize(struct hh_memory *mem, uint64_t new_size)
{
	/* thor panics for every kind but allocated and managed (OBJECTS.md §3.3 [emu]). */
	if (mem->kind == HH_MEMORY_MANAGED_BACKING)
		return hh_managed_resize(mem, new_size);
	if (mem->kind != HH_MEMORY_ALLOCATED)
		return kHelErrUnsupportedOperation;
	/* Allocated memory only grows, in whole granules (OBJECTS.md §3.3 [emu]). */
	if (new_size < mem->size || new_size % mem->granule)
		return kHelErrIllegalArgs;
	if (new_size > INT64_MAX || hh_account_charge(mem->account, new_size - mem->size, 0))
		return kHelErrNoMemory;
	if (ftruncate(mem->memfd, (off_t)new_size) < 0) {
		hh_account_release(mem->account, new_size - mem->size, 0);
		return kHelErrNoMemory;
	}
	mem->size = new_size;
	hh_memory_drop_view(mem);         /* remade at the new length when next needed */
	return kHelErrNone;
}

HelError hh_memory_charge(struct hh_memory *mem, struct hh_account *account)
{
	HelError e = hh_account_charge(account, mem->size, 1);
	if (!e)
		mem->account = hh_account_ref(account);
	return e;
}

struct hh_memory_source hh_memory_source(struct hh_object *obj)
{
	if (hh_object_type(obj) == HH_OBJ_QUEUE) {
		struct hh_queue *q = hh_queue_of(obj);
		return (struct hh_memory_source){ q->memfd, q->length };
	}
	struct hh_memory *mem = hh_memory_of(obj);
	/* Whoever asks may hand the fd out: from now on it must be sealed. */
	if (!mem->sealed && mem->memfd >= 0) {
		if (hh_memfd_seal(mem->memfd) < 0)
			return (struct hh_memory_source){ -1, mem->size };
		mem->sealed = true;
	}
	return (struct hh_memory_source){ mem->memfd, mem->size };
}

char *hh_memory_view(struct hh_object *obj)
{
	if (hh_object_type(obj) == HH_OBJ_QUEUE)
		return hh_queue_of(obj)->map;
	struct hh_memory *mem = hh_memory_of(obj);
	if (!mem->view) {
		void *p = mmap(NULL, mem->size, PROT_READ | PROT_WRITE, MAP_SHARED, mem->memfd, 0);
		if (p == MAP_FAILED)
			return NULL;
		mem->view = p;
		mem->view_len = mem->size;
	}
	return mem->view;
}

void hh_memory_wake(struct hh_object *obj, uint64_t offset)
{
	struct hh_memory_source src = hh_memory_source(obj);
	int fd = src.fd;
	uint64_t page = offset & ~(HH_PAGE_SIZE - 1);
	if (offset + sizeof(int) > src.length)
		return;
	/* The futex key needs the page: a COW page is copied first, not filled with zeros. */
	if (hh_cow_touch(obj, page, HH_PAGE_SIZE))
		return;
	/* A shared futex is keyed on the memfd page, so any mapping of it reaches the waiters. */
	char *map = mmap(NULL, HH_PAGE_SIZE, PROT_READ, MAP_SHARED, fd, (off_t)page);
	if (map == MAP_FAILED)
		return;
	syscall(SYS_futex, map + (offset - page), FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	munmap(map, HH_PAGE_SIZE);
}
