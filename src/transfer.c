#include "transfer.h"

#include <sys/uio.h>

#define BOUNCE (64 * 1024)

enum hh_transfer_result hh_transfer(pid_t src_pid, uint64_t src_addr,
		pid_t dst_pid, uint64_t dst_addr, size_t len)
{
	static char bounce[BOUNCE];
	if (src_addr + len < src_addr)
		return HH_TRANSFER_SOURCE_FAULT;
	if (dst_addr + len < dst_addr)
		return HH_TRANSFER_DEST_FAULT;
	for (size_t done = 0; done < len;) {
		size_t n = len - done < BOUNCE ? len - done : BOUNCE;
		struct iovec local = { bounce, n };
		struct iovec remote = { (void *)(uintptr_t)(src_addr + done), n };
		if (process_vm_readv(src_pid, &local, 1, &remote, 1, 0) != (ssize_t)n)
			return HH_TRANSFER_SOURCE_FAULT;
		remote.iov_base = (void *)(uintptr_t)(dst_addr + done);
		if (process_vm_writev(dst_pid, &local, 1, &remote, 1, 0) != (ssize_t)n)
			return HH_TRANSFER_DEST_FAULT;
		done += n;
	}
	return HH_TRANSFER_OK;
}

enum hh_transfer_result hh_transfer_out(const void *src, pid_t dst_pid, uint64_t dst_addr,
		size_t len)
{
	if (dst_addr + len < dst_addr)
		return HH_TRANSFER_DEST_FAULT;
	struct iovec local = { (void *)src, len };
	struct iovec remote = { (void *)(uintptr_t)dst_addr, len };
	if (process_vm_writev(dst_pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return HH_TRANSFER_DEST_FAULT;
	return HH_TRANSFER_OK;
}
