/* Decoding of helCopyOnWrite and helForkMemory (OBJECTS.md §3.6, §10). */
#include "calls.h"
#include "cow.h"
#include "quota.h"
#include "memory.h"
#include "universe.h"

static bool page_aligned(uint64_t x)
{
	return !(x % HH_PAGE_SIZE);
}

/*
 * Give the caller a new COW object charged to it: a fork of fork_of, or else
 * one of source[offset, offset + size) (NULL: zeros).  The limit is checked
 * before a fork copies anything.
 */
static HelError give_cow(struct hh_call *c, struct hh_memory *source, uint64_t offset,
		uint64_t size, struct hh_memory *fork_of)
{
	struct hh_account *account = c->universe->account;
	if (!hh_account_fits(account, size, 1))
		return hh_call_refuse(c, kHelErrNoMemory, "%#llx bytes: over the program's limit",
				(unsigned long long)size);
	struct hh_memory *mem;
	HelError e = fork_of ? hh_cow_fork(fork_of, &mem) : hh_cow_create(source, offset, size, &mem);
	if (!e && (e = hh_memory_charge(mem, account)))
		hh_object_unref(&mem->base);
	if (e)
		return hh_call_refuse(c, e, "cannot make a COW object of %#llx bytes",
				(unsigned long long)size);
	return hh_call_give(c, &mem->base);
}

HelError hh_call_CopyOnWrite(struct hh_call *c)
{
	HelHandle handle = (HelHandle)c->arg[0];
	uint64_t offset = c->arg[1], size = c->arg[2];
	struct hh_memory *source = NULL;        /* NULL: kHelZeroMemory */
	uint64_t source_len = HH_ZERO_MEMORY_LENGTH;
	/* The order of the checks is thor's (OBJECTS.md §10): special handles, then the lookup. */
	if (handle < 0) {
		if (handle != kHelZeroMemory)
			return hh_call_refuse(c, kHelErrBadDescriptor,
					"handle %lld: kHelZeroMemory is the only special memory",
					(long long)handle);
	} else {
		struct hh_desc desc;
		HelError e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_MEMORY), &desc);
		if (e)
			return e;
		source = hh_memory_of(desc.obj);
		source_len = source->size;
		/* An indirect object has no bytes of its own to copy ([emu]). */
		if (source->kind == HH_MEMORY_INDIRECT)
			return hh_call_refuse(c, kHelErrUnsupportedOperation, "not for indirect memory");
	}
	/* thor asserts on these when it builds the object; [emu] refuses them. */
	if (!size || !page_aligned(offset) || !page_aligned(size))
		return hh_call_refuse(c, kHelErrIllegalArgs, "offset and size must be page multiples, size > 0");
	/* thor would assert when an out-of-range page is touched; [emu] refuses at creation. */
	if (offset > source_len || size > source_len - offset)
		return hh_call_refuse(c, kHelErrIllegalArgs, "source has %#llx bytes",
				(unsigned long long)source_len);
	return give_cow(c, source, offset, size, NULL);
}

HelError hh_call_ForkMemory(struct hh_call *c)
{
	struct hh_desc desc;
	HelError e = hh_call_resolve(c, 0, HH_TYPE(HH_OBJ_MEMORY), &desc);
	if (e)
		return e;
	struct hh_memory *cow = hh_memory_of(desc.obj);
	if (cow->kind != HH_MEMORY_COPY_ON_WRITE)
		return hh_call_refuse(c, kHelErrUnsupportedOperation, "only copy-on-write memory forks");
	return give_cow(c, NULL, 0, cow->size, cow);
}
