#include "transfer.h"

#include <string.h>
#include <sys/mman.h>

#include "cow.h"
#include "managed.h"
#include "memory.h"
#include "space.h"

#define BOUNCE (64 * 1024)

/*
 * The emulator's own pointer to [addr, addr+len) when it lies in one Hel
 * mapping that allows the access, else NULL (then usermem.h it is).
 */
static char *view(const struct hh_endpoint *e, size_t len, uint32_t prot)
{
	const struct hh_mapping *m = e->space ? hh_space_find(e->space, e->addr) : NULL;
	if (!m || e->addr + len < e->addr || e->addr + len > m->addr + m->len || (m->prot & prot) != prot)
		return NULL;
	/* Frontal pages the pager has not provided yet: usermem.h's detour says so. */
	uint64_t offset = m->offset + (e->addr - m->addr);
	if (!hh_managed_usable(m->source, offset, len, prot & PROT_WRITE))
		return NULL;
	/* A transfer is an access: COW pages are copied first (§3.6). */
	if (hh_cow_touch(m->source, offset, len))
		return NULL;
	char *base = hh_memory_view(m->source);
	return base ? base + offset : NULL;
}

static bool remote_io(const struct hh_usermem *m, void *local, uint64_t remote_addr, size_t len,
		bool write)
{
	return hh_user_copy_partial(m, local, remote_addr, len, write) == len;
}

/*
 * Neither side is Hel memory: through a buffer of ours, the one case of two
 * copies.  Like thor's piecewise flow, the bytes read before a source fault
 * are still written, so a receiver that faults first is the one reported.
 */
static enum hh_transfer_result bounce(const struct hh_endpoint *src, const struct hh_endpoint *dst,
		size_t len)
{
	static char buffer[BOUNCE];
	for (size_t done = 0; done < len;) {
		size_t n = len - done < BOUNCE ? len - done : BOUNCE;
		size_t got = hh_user_copy_partial(src->mem, buffer, src->addr + done, n, false);
		if (!remote_io(dst->mem, buffer, dst->addr + done, got, true))
			return HH_TRANSFER_DEST_FAULT;
		if (got < n)
			return HH_TRANSFER_SOURCE_FAULT;
		done += n;
	}
	return HH_TRANSFER_OK;
}

enum hh_transfer_result hh_transfer(const struct hh_endpoint *src, const struct hh_endpoint *dst,
		size_t len)
{
	if (src->addr + len < src->addr)
		return HH_TRANSFER_SOURCE_FAULT;
	if (dst->addr + len < dst->addr)
		return HH_TRANSFER_DEST_FAULT;
	char *from = view(src, len, PROT_READ), *to = view(dst, len, PROT_WRITE);
	if (from && to) {
		memmove(to, from, len);
		return HH_TRANSFER_OK;
	}
	if (from)
		return remote_io(dst->mem, from, dst->addr, len, true) ? HH_TRANSFER_OK : HH_TRANSFER_DEST_FAULT;
	if (to)
		return remote_io(src->mem, to, src->addr, len, false) ? HH_TRANSFER_OK : HH_TRANSFER_SOURCE_FAULT;
	return bounce(src, dst, len);
}

enum hh_transfer_result hh_transfer_out(const void *src, const struct hh_endpoint *dst, size_t len)
{
	if (dst->addr + len < dst->addr)
		return HH_TRANSFER_DEST_FAULT;
	char *to = view(dst, len, PROT_WRITE);
	if (to) {
		memcpy(to, src, len);
		return HH_TRANSFER_OK;
	}
	return remote_io(dst->mem, (void *)src, dst->addr, len, true) ? HH_TRANSFER_OK : HH_TRANSFER_DEST_FAULT;
}
