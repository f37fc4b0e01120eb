#include "cow.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

/* All of buf at off of fd; 0, or -1. */
static int write_all(int fd, const char *buf, size_t len, off_t off)
{
	for (size_t done = 0; done < len;) {
		ssize_t w = pwrite(fd, buf + done, len - done, off + (off_t)done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

/* pread/pwrite, for a kernel whose copy_file_range refuses these files. */
static int copy_by_hand(int dst, off_t dst_off, int src, off_t src_off, uint64_t len)
{
	/* The emulator has one thread, so one buffer serves every copy. */
	static char buf[1 << 16];
	while (len) {
		size_t want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		ssize_t n = pread(src, buf, want, src_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || write_all(dst, buf, (size_t)n, dst_off))
			return -1;
		src_off += n;
		dst_off += n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* Copy len bytes between memfds; the kernel moves the pages without a trip through us. */
static int copy_span(int dst, off_t dst_off, int src, off_t src_off, uint64_t len)
{
	while (len) {
		loff_t in = src_off, out = dst_off;
		ssize_t n = copy_file_range(src, &in, dst, &out, (size_t)len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == ENOSYS || errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP))
			return copy_by_hand(dst, dst_off, src, src_off, len);
		/* 0 would be the source's end, which the caller's bounds check rules out. */
		if (n <= 0)
			return -1;
		src_off += n;
		dst_off += n;
		len -= (uint64_t)n;
	}
	return 0;
}

/*
 * Copy the data extents of src[0, end) to the same offsets of dst, which is
 * fresh.  Holes stay holes: a big, mostly empty object costs what it holds
 * rather than its length.
 */
static int copy_data(int dst, int src, uint64_t end)
{
	uint64_t pos = 0;
	while (pos < end) {
		off_t data = lseek(src, (off_t)pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			return 0;               /* nothing but holes from pos on */
		/* Without SEEK_DATA, copied and untouched pages of a COW object look alike. */
		if (data < 0)
			return -1;
		if ((uint64_t)data >= end)
			return 0;
		off_t hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0)
			return -1;
		uint64_t stop = (uint64_t)hole < end ? (uint64_t)hole : end;
		if (copy_span(dst, data, src, data, stop - (uint64_t)data))
			return -1;
		pos = stop;
	}
	return 0;
}

/*
 * Whether page offset of cow was copied (1) or not (0), or -1: copied pages,
 * and only they, are data of its memfd, so without SEEK_DATA nothing tells.
 */
static int copied(const struct hh_memory *cow, uint64_t offset)
{
	off_t data = lseek(cow->memfd, (off_t)offset, SEEK_DATA);
	if (data < 0)
		return errno == ENXIO ? 0 : -1;
	return data == (off_t)offset;
}

/*
 * Copy page offset of cow from where it comes from now: the first object
 * down the chain of sources that holds it (a COW source that never copied
 * it shows its own source there), or zeros.
 */
static int copy_page(struct hh_memory *cow, uint64_t offset)
{
	const struct hh_memory *src = cow->cow_source;
	uint64_t at = cow->cow_offset + offset;
	int held = 0;
	while (src && src->kind == HH_MEMORY_COPY_ON_WRITE && !(held = copied(src, at))) {
		at += src->cow_offset;
		src = src->cow_source;
	}
	if (held < 0)
		return -1;
	if (src && at + HH_PAGE_SIZE <= src->size)
		return copy_span(cow->memfd, (off_t)offset, src->memfd, (off_t)at, HH_PAGE_SIZE);
	/*
	 * Zeros: kHelZeroMemory, or a managed source shrunk below the page since.
	 * Written, not fallocated: SEEK_DATA does not count a fallocated page.
	 */
	static const char zeros[HH_PAGE_SIZE];
	return write_all(cow->memfd, zeros, HH_PAGE_SIZE, (off_t)offset);
}

int hh_cow_touch(struct hh_object *obj, uint64_t offset, uint64_t len)
{
	if (hh_object_type(obj) != HH_OBJ_MEMORY
			|| hh_memory_of(obj)->kind != HH_MEMORY_COPY_ON_WRITE || !len)
		return 0;
	struct hh_memory *cow = hh_memory_of(obj);
	if (offset > cow->size || len > cow->size - offset)
		return -1;
	uint64_t end = offset + len;
	/* Only the holes need copying: skip the runs of copied pages. */
	for (uint64_t page = offset & ~(HH_PAGE_SIZE - 1); page < end;) {
		off_t hole = lseek(cow->memfd, (off_t)page, SEEK_HOLE);
		if (hole < 0)
			return -1;
		if ((uint64_t)hole >= end)
			return 0;
		page = (uint64_t)hole;
		if (copy_page(cow, page))
			return -1;
		page += HH_PAGE_SIZE;
	}
	return 0;
}

HelError hh_cow_create(struct hh_memory *source, uint64_t offset, uint64_t size,
		struct hh_memory **out)
{
	struct hh_memory *mem;
	/* Nothing is copied yet: a page is copied on its first access (hh_cow_touch). */
	HelError e = hh_memory_allocate(size, 0, &mem);
	if (e)
		return e;
	mem->kind = HH_MEMORY_COPY_ON_WRITE;
	mem->cow_source = source;
	mem->cow_offset = offset;
	if (source)
		hh_object_ref(&source->base);
	*out = mem;
	return kHelErrNone;
}

HelError hh_cow_fork(struct hh_memory *cow, struct hh_memory **out)
{
	struct hh_memory *fork;
	HelError e = hh_cow_create(cow->cow_source, cow->cow_offset, cow->size, &fork);
	if (e)
		return e;
	/* The pages cow copied go to the fork as they are now; the others still follow the source. */
	if (copy_data(fork->memfd, cow->memfd, cow->size)) {
		hh_object_unref(&fork->base);
		return kHelErrNoMemory;
	}
	*out = fork;
	return kHelErrNone;
}
