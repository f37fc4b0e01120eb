#include "cow.h"

#include <errno.h>
#include <sys/types.h>
#include <unistd.h>

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
		if (n <= 0)
			return -1;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = pwrite(dst, buf + done, (size_t)(n - done), dst_off + done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			done += w;
		}
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
 * Copy src[offset, offset + size) to dst[0, size).  dst is fresh and reads as
 * zero, so only the source's data extents are copied: holes stay holes, and a
 * big, mostly empty object costs what it holds rather than its length.
 */
static int copy_data(int dst, int src, uint64_t offset, uint64_t size)
{
	uint64_t pos = offset, end = offset + size;
	while (pos < end) {
		off_t data = lseek(src, (off_t)pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			return 0;               /* nothing but holes from pos on */
		if (data < 0)               /* no SEEK_DATA: copy all that is left */
			return copy_span(dst, (off_t)(pos - offset), src, (off_t)pos, end - pos);
		if ((uint64_t)data >= end)
			return 0;
		off_t hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0)
			return -1;
		uint64_t stop = (uint64_t)hole < end ? (uint64_t)hole : end;
		if (copy_span(dst, (off_t)((uint64_t)data - offset), src, data, stop - (uint64_t)data))
			return -1;
		pos = stop;
	}
	return 0;
}

HelError hh_cow_create(struct hh_memory *source, uint64_t offset, uint64_t size,
		struct hh_memory **out)
{
	struct hh_memory *mem;
	/* A fresh allocated object already reads as zero: all that kHelZeroMemory needs. */
	HelError e = hh_memory_allocate(size, 0, &mem);
	if (e)
		return e;
	mem->kind = HH_MEMORY_COPY_ON_WRITE;
	if (source && copy_data(mem->memfd, source->memfd, offset, size)) {
		hh_object_unref(&mem->base);
		return kHelErrNoMemory;
	}
	*out = mem;
	return kHelErrNone;
}

HelError hh_cow_fork(struct hh_memory *cow, struct hh_memory **out)
{
	/* Both objects see the contents as of now and diverge from here (§3.6). */
	return hh_cow_create(cow, 0, cow->size, out);
}
