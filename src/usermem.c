#include "usermem.h"

#include <stdbool.h>
#include <sys/uio.h>

static bool range_ok(uint64_t addr, size_t len)
{
	return addr + len >= addr;
}

HelError hh_user_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	if (!len)
		return kHelErrNone;
	if (!range_ok(addr, len))
		return kHelErrFault;
	struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? kHelErrNone : kHelErrFault;
}

HelError hh_user_write(pid_t pid, uint64_t addr, const void *buf, size_t len)
{
	if (!len)
		return kHelErrNone;
	if (!range_ok(addr, len))
		return kHelErrFault;
	struct iovec local = { (void *)buf, len }, remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
	return n == (ssize_t)len ? kHelErrNone : kHelErrFault;
}
