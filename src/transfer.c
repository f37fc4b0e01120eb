#include "transfer.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "memory.h"
#include "space.h"

#define BOUNCE (64 * 1024)

/*
 * The emulator's own pointer to [addr, addr+len) when it lies in one Hel
 * mapping that allows the access, else NULL (then process_vm_* it is).
 */
static char *view(const struct hh_endpoint *e, size_t len, uint32_t prot)
{
	const struct hh_mapping *m = e->space ? hh_space_find(e->space, e->addr) : NULL;
	if (!m || e->addr + len < e->addr || e->addr + len > m->addr + m->len || (m->prot & prot) != prot)
		return NULL;
	char *base = hh_memory_view(m->source);
	return base ? base + m->offset + (e->addr - m->addr) : NULL;
}

/* Bytes transferred before the first fault (process_vm_* stop at it). */
static size_t remote_io_partial(pid_t pid, void *local, uint64_t remote_addr, size_t len, bool write)
{
	struct iovec l = { local, len }, r = { (void *)(uintptr_t)remote_addr, len };
	ssize_t n = write ? process_vm_writev(pid, &l, 1, &r, 1, 0)
			: process_vm_readv(pid, &l, 1, &r, 1, 0);
	return n < 0 ? 0 : (size_t)n;
}

static bool remote_io(pid_t pid, void *local, uint64_t remote_addr, size_t len, bool write)
{
	return remote_io_partial(pid, local, remote_addr, len, write) == len;
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
		size_t got = remote_io_partial(src->pid, buffer, src->addr + done, n, false);
		if (!remote_io(dst->pid, buffer, dst->addr + done, got, true))
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
		return remote_io(dst->pid, from, dst->addr, len, true) ? HH_TRANSFER_OK : HH_TRANSFER_DEST_FAULT;
	if (to)
		return remote_io(src->pid, to, src->addr, len, false) ? HH_TRANSFER_OK : HH_TRANSFER_SOURCE_FAULT;
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
	return remote_io(dst->pid, (void *)src, dst->addr, len, true) ? HH_TRANSFER_OK : HH_TRANSFER_DEST_FAULT;
}
